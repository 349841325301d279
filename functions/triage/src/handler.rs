//! triage's HTTP translation: route key -> authenticated principal and
//! validated input -> one workflow call -> JSON response.

use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use tracing::Instrument;
use zerodesk_domain::{ClaimNames, TenantId, Ticket, TicketId};
use zerodesk_events::Publisher;
use zerodesk_http::{
    ApiError, CallContext, authenticate, correlation_id, error_response, json_body, json_response,
    path_param, query_param,
};
use zerodesk_store::{MAX_PAGE_SIZE, Page, PageRequest};
use zerodesk_workflow::{NewTicket, Rejection, Services, TicketView, WorkflowError};

pub struct App<P> {
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

pub async fn handle<P: Publisher>(app: &App<P>, req: Request) -> Response<Body> {
    let corr = correlation_id(&req);
    let span = zerodesk_telemetry::request_span!("triage", corr);
    async {
        match route(app, &req).await {
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

fn ticket_id(req: &Request) -> Result<TicketId, ApiError> {
    // A malformed id cannot name any ticket: not found, like any other.
    TicketId::parse(&path_param(req, "id")?).map_err(|_| ApiError::NotFound)
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

fn api(e: WorkflowError) -> ApiError {
    if matches!(
        e,
        WorkflowError::Store(_) | WorkflowError::Events(_) | WorkflowError::Credentials(_)
    ) {
        tracing::error!(error = %e, "dependency failed");
    }
    e.to_api()
}

fn ticket_response(status: StatusCode, t: &Ticket, call: &CallContext) -> Response<Body> {
    json_response(status, &TicketView::from(t), &call.correlation_id)
}

async fn route<P: Publisher>(app: &App<P>, req: &Request) -> Result<Response<Body>, ApiError> {
    let call = authenticate(req, &app.claim_names)?;
    if let Some(t) = call.principal.tenant() {
        tracing::Span::current().record("tenant_id", t.as_str());
    }
    let s = &app.services;
    let p = &call.principal;
    let corr = &call.correlation_id;
    let now = Utc::now();
    match route_key(req).as_str() {
        "POST /tickets" => {
            let input: NewTicket = json_body(req)?;
            let t = s.file_ticket(p, corr, input, now).await.map_err(api)?;
            Ok(ticket_response(StatusCode::CREATED, &t, &call))
        }
        "GET /tickets" => {
            let page = s.list_tickets(p, &page(req)?).await.map_err(api)?;
            Ok(json_response(StatusCode::OK, &TicketPage::from(page), corr))
        }
        "GET /tickets/{id}" => {
            let t = s.get_ticket(p, &ticket_id(req)?).await.map_err(api)?;
            Ok(ticket_response(StatusCode::OK, &t, &call))
        }
        "POST /tickets/{id}/approve" => {
            let t = s
                .approve(p, corr, &ticket_id(req)?, now)
                .await
                .map_err(api)?;
            Ok(ticket_response(StatusCode::OK, &t, &call))
        }
        "POST /tickets/{id}/reject" => {
            let id = ticket_id(req)?;
            let rejection: Rejection = if matches!(req.body(), Body::Empty) {
                Rejection::default()
            } else {
                json_body(req)?
            };
            let t = s.reject(p, corr, &id, rejection, now).await.map_err(api)?;
            Ok(ticket_response(StatusCode::OK, &t, &call))
        }
        "GET /platform/tenants/{tenant}/tickets"
        | "GET /platform/tenants/{tenant}/tickets/{id}" => {
            let tenant =
                TenantId::parse(&path_param(req, "tenant")?).map_err(|_| ApiError::NotFound)?;
            let id = match path_param(req, "id") {
                Ok(_) => Some(ticket_id(req)?),
                Err(_) => None,
            };
            let route = route_key(req);
            let page = s
                .platform_read(p, corr, tenant, &route, id.as_ref(), &page(req)?)
                .await
                .map_err(api)?;
            match (id, page.items.first()) {
                (Some(_), Some(t)) => Ok(ticket_response(StatusCode::OK, t, &call)),
                (Some(_), None) => Err(ApiError::NotFound),
                (None, _) => Ok(json_response(StatusCode::OK, &TicketPage::from(page), corr)),
            }
        }
        _ => Err(ApiError::NotFound),
    }
}
