//! admin's HTTP translation: route key -> authenticated principal and
//! validated input -> one call into the ledger's admin use cases -> JSON
//! (or JSON Lines) response. No tenant id is ever taken from a tenant
//! route's path, query or body; platform routes name it in the path.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use tracing::Instrument;
use zerodesk_domain::{Action, ClaimNames, CorrelationId, TenantPolicy};
use zerodesk_events::Publisher;
use zerodesk_http::{
    ApiError, authenticate, correlation_id, error_response, json_body, json_response, path_param,
    query_param,
};
use zerodesk_ledger::admin::{ConnectionInput, ErasureInput, NewTenant};
use zerodesk_ledger::audit::AuditRecord;
use zerodesk_ledger::{
    Admin, AdminError, AuditQuery, Caller, Clock, ConnectionSecrets, PlatformTarget, TenantDb,
};

pub struct App<P, V, C, D> {
    pub admin: Admin<P, V, C, D>,
    pub claim_names: ClaimNames,
}

#[derive(Serialize)]
struct AuditPageBody<'a> {
    items: &'a [AuditRecord],
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<&'a str>,
}

pub async fn handle<P, V, C, D>(app: &App<P, V, C, D>, req: Request) -> Response<Body>
where
    P: Publisher,
    V: ConnectionSecrets,
    C: Clock,
    D: TenantDb,
{
    let corr = correlation_id(&req);
    let span = zerodesk_telemetry::request_span!("admin", corr);
    async {
        match route(app, &req, &corr).await {
            Ok(response) => response,
            Err(err) => {
                if err.status().is_server_error() {
                    tracing::error!(code = err.code(), "request failed");
                }
                error_response(&err, &corr)
            }
        }
    }
    .instrument(span)
    .await
}

fn route_key(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

fn to_api(err: AdminError) -> ApiError {
    match err {
        AdminError::Forbidden => ApiError::Forbidden,
        AdminError::NotFound => ApiError::NotFound,
        AdminError::TenantInactive => ApiError::TenantInactive,
        AdminError::Invalid { field, reason } => ApiError::invalid(field, reason),
        AdminError::Conflict(_) => ApiError::Conflict,
        AdminError::Unavailable(source) => {
            tracing::error!(error = %source, "dependency unavailable");
            ApiError::DependencyUnavailable
        }
        AdminError::Internal(what) => {
            tracing::error!(what, "internal error");
            ApiError::Internal
        }
    }
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

async fn route<P, V, C, D>(
    app: &App<P, V, C, D>,
    req: &Request,
    corr: &CorrelationId,
) -> Result<Response<Body>, ApiError>
where
    P: Publisher,
    V: ConnectionSecrets,
    C: Clock,
    D: TenantDb,
{
    let ctx = authenticate(req, &app.claim_names)?;
    let caller = Caller {
        principal: &ctx.principal,
        correlation_id: corr,
    };
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
                .audit_page(caller, target, &audit_query(req))
                .await
                .map_err(to_api)?;
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
            let report = admin.audit_verify(caller, target).await.map_err(to_api)?;
            Ok(ok(&report))
        }
        "GET /audit/export" | "GET /platform/tenants/{tenant}/audit/export" => {
            let tenant = platform_tenant(&key, req)?;
            let target = tenant.as_deref().map(|t| PlatformTarget {
                tenant: t,
                route: &key,
            });
            let bytes = admin
                .audit_export(caller, target, &audit_query(req))
                .await
                .map_err(to_api)?;
            Ok(jsonl_response(bytes, corr))
        }
        "GET /policy" => Ok(ok(&admin.get_policy(caller).await.map_err(to_api)?)),
        "PUT /policy" => {
            // The gate and the role are checked before the body is read.
            admin
                .check(caller, Action::WritePolicy)
                .await
                .map_err(to_api)?;
            let policy: TenantPolicy = json_body(req)?;
            Ok(ok(&admin
                .put_policy(caller, policy)
                .await
                .map_err(to_api)?))
        }
        "PUT /connection" => {
            admin
                .check(caller, Action::ManageConnection)
                .await
                .map_err(to_api)?;
            let input: ConnectionInput = json_body(req)?;
            let meta = admin.put_connection(caller, input).await.map_err(to_api)?;
            Ok(ok(&meta))
        }
        "DELETE /connection" => {
            admin.delete_connection(caller).await.map_err(to_api)?;
            let mut r = Response::new(Body::Empty);
            *r.status_mut() = StatusCode::NO_CONTENT;
            Ok(r)
        }
        "POST /erasure" => {
            admin
                .check(caller, Action::WritePolicy)
                .await
                .map_err(to_api)?;
            let input: ErasureInput = json_body(req)?;
            Ok(ok(&admin.erase(caller, input).await.map_err(to_api)?))
        }
        "POST /platform/tenants" => {
            let input: NewTenant = json_body(req)?;
            let view = admin.create_tenant(caller, input).await.map_err(to_api)?;
            Ok(json_response(StatusCode::CREATED, &view, corr))
        }
        "POST /platform/tenants/{tenant}/offboard" => {
            let tenant = tenant_param()?;
            Ok(ok(&admin
                .offboard_tenant(caller, &tenant)
                .await
                .map_err(to_api)?))
        }
        "POST /platform/tenants/{tenant}/restore" => {
            let tenant = tenant_param()?;
            Ok(ok(&admin
                .restore_tenant(caller, &tenant)
                .await
                .map_err(to_api)?))
        }
        _ => Err(ApiError::NotFound),
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
