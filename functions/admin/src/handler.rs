//! admin's HTTP translation: route key -> authenticated principal and
//! validated input -> one call into the admin use cases -> JSON
//! (or JSON Lines) response. No tenant id is ever taken from a tenant
//! route's path, query or body; platform routes name it in the path.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use zerodesk_admin::{
    Admin, AdminError, AdminPorts, AuditQuery, ConnectionInput, ErasureInput, NewTenant,
    PlatformTarget, RequestedBy,
};
use zerodesk_domain::{Action, ClaimNames, CorrelationId, TenantPolicy};
use zerodesk_http::{
    ApiError, CallContext, Failure, json_body, json_response, path_param, query_param, route_key,
    serve,
};
use zerodesk_ledger::audit::AuditRecord;

pub struct App<P: AdminPorts> {
    pub admin: Admin<P>,
    pub claim_names: ClaimNames,
}

#[derive(Serialize)]
struct AuditPageBody<'a> {
    items: &'a [AuditRecord],
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<&'a str>,
}

pub async fn handle<P: AdminPorts>(app: &App<P>, req: Request) -> Response<Body> {
    serve("admin", &req, &app.claim_names, |call| {
        route(app, &req, call)
    })
    .await
}

fn audit_query(req: &Request) -> AuditQuery {
    AuditQuery {
        from: query_param(req, "from"),
        to: query_param(req, "to"),
        ticket: query_param(req, "ticket"),
        actor: query_param(req, "actor"),
        limit: query_param(req, "limit"),
        cursor: query_param(req, "cursor"),
    }
}

fn jsonl_response(bytes: Vec<u8>, corr: &CorrelationId) -> Response<Body> {
    let mut response = Response::new(Body::Binary(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = corr.as_str().parse() {
        headers.insert("x-correlation-id", v);
    }
    response
}

async fn route<P: AdminPorts>(
    app: &App<P>,
    req: &Request,
    call: CallContext,
) -> Result<Response<Body>, Failure<AdminError>> {
    let corr = &call.correlation_id;
    let by = RequestedBy {
        principal: &call.principal,
        correlation_id: corr,
    };
    let uc = Failure::UseCase;
    let admin = &app.admin;
    let key = route_key(req);
    let ok = |body: &dyn erased::Json| body.respond(StatusCode::OK, corr);
    let tenant_param = || path_param(req, "tenant");
    match key.as_str() {
        "GET /audit" | "GET /platform/tenants/{tenant}/audit" => {
            let tenant = platform_tenant(&key, req)?;
            let target = tenant.as_deref().map(|t| PlatformTarget {
                tenant: t,
                route: &key,
            });
            let page = admin
                .audit_page(by, target, &audit_query(req))
                .await
                .map_err(uc)?;
            Ok(ok(&AuditPageBody {
                items: &page.records,
                next_cursor: page.next_cursor.as_deref(),
            }))
        }
        "GET /audit/verify" | "GET /platform/tenants/{tenant}/audit/verify" => {
            let tenant = platform_tenant(&key, req)?;
            let target = tenant.as_deref().map(|t| PlatformTarget {
                tenant: t,
                route: &key,
            });
            let report = admin.audit_verify(by, target).await.map_err(uc)?;
            Ok(ok(&report))
        }
        "GET /audit/export" | "GET /platform/tenants/{tenant}/audit/export" => {
            let tenant = platform_tenant(&key, req)?;
            let target = tenant.as_deref().map(|t| PlatformTarget {
                tenant: t,
                route: &key,
            });
            let bytes = admin
                .audit_export(by, target, &audit_query(req))
                .await
                .map_err(uc)?;
            Ok(jsonl_response(bytes, corr))
        }
        "GET /policy" => Ok(ok(&admin.get_policy(by).await.map_err(uc)?)),
        "PUT /policy" => {
            // The gate and the role are checked before the body is read.
            admin.check(by, Action::WritePolicy).await.map_err(uc)?;
            let policy: TenantPolicy = json_body(req)?;
            Ok(ok(&admin.put_policy(by, policy).await.map_err(uc)?))
        }
        "PUT /connection" => {
            admin
                .check(by, Action::ManageConnection)
                .await
                .map_err(uc)?;
            let input: ConnectionInput = json_body(req)?;
            let view = admin.put_connection(by, input).await.map_err(uc)?;
            Ok(ok(&view))
        }
        "POST /connection/check" => Ok(ok(&admin.check_connection(by).await.map_err(uc)?)),
        "DELETE /connection" => Ok(ok(&admin.delete_connection(by).await.map_err(uc)?)),
        "POST /erasure" => {
            admin.check(by, Action::WritePolicy).await.map_err(uc)?;
            let input: ErasureInput = json_body(req)?;
            Ok(ok(&admin.erase(by, input).await.map_err(uc)?))
        }
        "POST /platform/tenants" => {
            let input: NewTenant = json_body(req)?;
            let view = admin.create_tenant(by, input).await.map_err(uc)?;
            Ok(json_response(StatusCode::CREATED, &view, corr))
        }
        "POST /platform/tenants/{tenant}/offboard" => {
            let tenant = tenant_param()?;
            Ok(ok(&admin.offboard_tenant(by, &tenant).await.map_err(uc)?))
        }
        "POST /platform/tenants/{tenant}/restore" => {
            let tenant = tenant_param()?;
            Ok(ok(&admin.restore_tenant(by, &tenant).await.map_err(uc)?))
        }
        _ => Err(ApiError::NotFound.into()),
    }
}

fn platform_tenant(key: &str, req: &Request) -> Result<Option<String>, ApiError> {
    if key.contains("/platform/tenants/{tenant}") {
        path_param(req, "tenant").map(Some)
    } else {
        Ok(None)
    }
}

/// Serialize through a trait object so one closure answers every route.
mod erased {
    use lambda_http::http::StatusCode;
    use lambda_http::{Body, Response};
    use serde::Serialize;
    use zerodesk_domain::CorrelationId;

    pub trait Json {
        fn respond(&self, status: StatusCode, corr: &CorrelationId) -> Response<Body>;
    }

    impl<T: Serialize> Json for T {
        fn respond(&self, status: StatusCode, corr: &CorrelationId) -> Response<Body> {
            zerodesk_http::json_response(status, self, corr)
        }
    }
}

#[cfg(test)]
mod tests;
