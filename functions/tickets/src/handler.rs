//! tickets' HTTP translation: route key -> authenticated principal and
//! validated input -> one workflow call -> JSON response.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use zerodesk_domain::{ClaimNames, TenantId, Ticket};
use zerodesk_http::{
    ApiError, CallContext, Failure, json_body, json_response, path_param, query_param, route_key,
    serve, ticket_id_param,
};
use zerodesk_store::{MAX_PAGE_SIZE, Page, PageRequest};
use zerodesk_workflow::{NewTicket, Ports, Rejection, Services, TicketView, WorkflowError};

pub struct App<P: Ports> {
    pub services: Services<P>,
    pub claim_names: ClaimNames,
}

#[derive(Serialize)]
struct TicketPage {
    items: Vec<TicketView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

impl From<Page<Ticket>> for TicketPage {
    fn from(p: Page<Ticket>) -> Self {
        TicketPage {
            items: p.items.iter().map(TicketView::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

pub async fn handle<P: Ports>(app: &App<P>, req: Request) -> Response<Body> {
    serve("tickets", &req, &app.claim_names, |call| {
        route(app, &req, call)
    })
    .await
}

fn page(req: &Request) -> Result<PageRequest, ApiError> {
    let limit = match query_param(req, "limit") {
        None => None,
        Some(raw) => Some(
            raw.parse::<i32>()
                .ok()
                .filter(|l| (1..=MAX_PAGE_SIZE).contains(l))
                .ok_or_else(|| {
                    ApiError::invalid("limit", "must be a whole number from 1 to 100")
                })?,
        ),
    };
    let cursor = query_param(req, "cursor");
    if cursor.as_ref().is_some_and(|c| c.len() > 1024) {
        return Err(ApiError::invalid("cursor", "is not a valid cursor"));
    }
    Ok(PageRequest { limit, cursor })
}

fn ticket_response(status: StatusCode, t: &Ticket, call: &CallContext) -> Response<Body> {
    json_response(status, &TicketView::from(t), &call.correlation_id)
}

async fn route<P: Ports>(
    app: &App<P>,
    req: &Request,
    call: CallContext,
) -> Result<Response<Body>, Failure<WorkflowError>> {
    let s = &app.services;
    let p = &call.principal;
    let corr = &call.correlation_id;
    let api = Failure::UseCase;
    match route_key(req).as_str() {
        "POST /tickets" => {
            let input: NewTicket = json_body(req)?;
            let t = s.file_ticket(p, corr, input).await.map_err(api)?;
            Ok(ticket_response(StatusCode::CREATED, &t, &call))
        }
        "GET /tickets" => {
            let page = s.list_tickets(p, &page(req)?).await.map_err(api)?;
            Ok(json_response(StatusCode::OK, &TicketPage::from(page), corr))
        }
        "GET /tickets/{id}" => {
            let t = s.get_ticket(p, &ticket_id_param(req)?).await.map_err(api)?;
            Ok(ticket_response(StatusCode::OK, &t, &call))
        }
        "POST /tickets/{id}/approve" => {
            let t = s
                .approve(p, corr, &ticket_id_param(req)?)
                .await
                .map_err(api)?;
            Ok(ticket_response(StatusCode::OK, &t, &call))
        }
        "POST /tickets/{id}/reject" => {
            let id = ticket_id_param(req)?;
            let rejection: Rejection = if matches!(req.body(), Body::Empty) {
                Rejection::default()
            } else {
                json_body(req)?
            };
            let t = s.reject(p, corr, &id, rejection).await.map_err(api)?;
            Ok(ticket_response(StatusCode::OK, &t, &call))
        }
        "GET /platform/tenants/{tenant}/tickets"
        | "GET /platform/tenants/{tenant}/tickets/{id}" => {
            let tenant =
                TenantId::parse(&path_param(req, "tenant")?).map_err(|_| ApiError::NotFound)?;
            let id = match path_param(req, "id") {
                Ok(_) => Some(ticket_id_param(req)?),
                Err(_) => None,
            };
            let route = route_key(req);
            let page = s
                .platform_read(p, corr, tenant, &route, id.as_ref(), &page(req)?)
                .await
                .map_err(api)?;
            match (id, page.items.first()) {
                (Some(_), Some(t)) => Ok(ticket_response(StatusCode::OK, t, &call)),
                (Some(_), None) => Err(ApiError::NotFound.into()),
                (None, _) => Ok(json_response(StatusCode::OK, &TicketPage::from(page), corr)),
            }
        }
        _ => Err(ApiError::NotFound.into()),
    }
}

#[cfg(test)]
mod tests {

    use chrono::Utc;
    use serde_json::{Value, json};
    use zerodesk_domain::{Category, Tenant, TenantPolicy, TenantStatus};
    use zerodesk_store::MemoryTenants;
    use zerodesk_workflow::InMemory;

    use super::*;

    const POST_TICKET: &str = include_str!("../../../events/api-post-ticket.json");

    /// The sample event's tenant, `demo`, is active and automates resets.
    async fn app() -> App<InMemory> {
        let tenant = Tenant {
            id: TenantId::parse("demo").unwrap(),
            name: "Demo".into(),
            status: TenantStatus::Active,
            policy: TenantPolicy {
                auto_resolve: [Category::PasswordReset].into(),
                ..Default::default()
            },
            created_at: Utc::now(),
        };
        let mut services = Services::in_memory();
        services.tenants = MemoryTenants::with([tenant]);
        App {
            services,
            claim_names: ClaimNames::default(),
        }
    }

    fn event(edit: impl FnOnce(&mut Value)) -> Request {
        let mut v: Value = serde_json::from_str(POST_TICKET).unwrap();
        edit(&mut v);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn body(r: &Response<Body>) -> Value {
        match r.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => Value::Null,
        }
    }

    #[tokio::test]
    async fn the_sample_event_files_a_ticket_that_reads_back() {
        let app = app().await;
        let created = handle(&app, event(|_| {})).await;
        assert_eq!(created.status(), 201);
        let ticket = body(&created);
        assert_eq!(ticket["state"], "triaged");
        assert_eq!(ticket["category"], "password_reset");
        assert_eq!(ticket["decision"], "auto_resolve");
        let id = ticket["id"].as_str().unwrap().to_owned();
        let read = handle(
            &app,
            event(|v| {
                v["routeKey"] = json!("GET /tickets/{id}");
                v["requestContext"]["routeKey"] = json!("GET /tickets/{id}");
                v["requestContext"]["http"]["method"] = json!("GET");
                v["rawPath"] = json!(format!("/tickets/{id}"));
                v["pathParameters"] = json!({ "id": id });
                v["body"] = Value::Null;
            }),
        )
        .await;
        assert_eq!(read.status(), 200);
        assert_eq!(body(&read)["id"], ticket["id"]);
        assert_eq!(app.services.publisher.of_type("TicketCreated").len(), 1);
    }

    #[tokio::test]
    async fn no_authorizer_context_is_401_and_nothing_is_stored() {
        let app = app().await;
        let r = handle(
            &app,
            event(|v| {
                v["requestContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorizer");
            }),
        )
        .await;
        assert_eq!(r.status(), 401);
        assert_eq!(body(&r)["error"]["code"], "unauthorized");
        assert!(app.services.publisher.events().is_empty());
    }

    #[tokio::test]
    async fn a_tenant_id_in_the_body_is_refused_naming_the_field() {
        let app = app().await;
        let r = handle(
            &app,
            event(|v| {
                v["body"] = json!(r#"{"subject":"s","body":"b","tenant_id":"other"}"#);
            }),
        )
        .await;
        assert_eq!(r.status(), 400);
        assert_eq!(body(&r)["error"]["field"], "tenant_id");
        assert!(
            app.services.publisher.events().is_empty(),
            "nothing partial is stored or published"
        );
    }

    #[tokio::test]
    async fn oversized_and_non_json_bodies_are_refused() {
        let app = app().await;
        let big = handle(
            &app,
            event(|v| {
                v["body"] = json!(format!(
                    r#"{{"subject":"s","body":"{}"}}"#,
                    "x".repeat(70_000)
                ));
            }),
        )
        .await;
        assert_eq!(big.status(), 413);
        let text = handle(
            &app,
            event(|v| v["headers"]["content-type"] = json!("text/plain")),
        )
        .await;
        assert_eq!(text.status(), 415);
        assert_eq!(body(&text)["error"]["code"], "unsupported_media_type");
    }

    #[tokio::test]
    async fn an_unknown_tenant_is_refused_and_a_malformed_id_is_not_found() {
        let app = app().await;
        let unknown = handle(
            &app,
            event(|v| {
                v["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"] =
                    json!("nobody-here");
            }),
        )
        .await;
        assert_eq!(unknown.status(), 403);
        assert_eq!(body(&unknown)["error"]["code"], "tenant_inactive");
        let bad_id = handle(
            &app,
            event(|v| {
                v["routeKey"] = json!("GET /tickets/{id}");
                v["requestContext"]["routeKey"] = json!("GET /tickets/{id}");
                v["pathParameters"] = json!({ "id": "../../etc" });
            }),
        )
        .await;
        assert_eq!(bad_id.status(), 404);
    }
}
