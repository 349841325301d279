//! reset's HTTP translation: `POST /tickets/{id}/reset` -> one workflow call.
//! The temporary password appears in exactly one place: the body of the
//! response to the call that set it.

use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::Instrument;
use zerodesk_domain::{ClaimNames, TicketId};
use zerodesk_events::{DirectoryAction, Publisher};
use zerodesk_http::{
    ApiError, authenticate, correlation_id, error_response, json_response, path_param,
};
use zerodesk_workflow::{Services, TicketView};

pub struct App<P> {
    pub services: Services<P>,
    pub claim_names: ClaimNames,
}

#[derive(Serialize)]
struct ResetResponse<'a> {
    ticket: TicketView,
    /// Set only on the call that reset the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<&'a str>,
    /// The reset had already run; no new password was set or returned.
    already_done: bool,
}

pub async fn handle<P: Publisher>(app: &App<P>, req: Request) -> Response<Body> {
    let corr = correlation_id(&req);
    let span = zerodesk_telemetry::request_span!("reset", corr);
    async {
        match reset(app, &req).await {
            Ok(response) => response,
            Err(err) => error_response(&err, &corr),
        }
    }
    .instrument(span)
    .await
}

async fn reset<P: Publisher>(app: &App<P>, req: &Request) -> Result<Response<Body>, ApiError> {
    let call = authenticate(req, &app.claim_names)?;
    if let Some(t) = call.principal.tenant() {
        tracing::Span::current().record("tenant_id", t.as_str());
    }
    let id = TicketId::parse(&path_param(req, "id")?).map_err(|_| ApiError::NotFound)?;
    tracing::Span::current().record("ticket_id", id.to_string());
    let result = app
        .services
        .run_action(
            &call.principal,
            &call.correlation_id,
            &id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "reset not done");
            e.to_api()
        })?;
    let body = ResetResponse {
        ticket: TicketView::from(&result.ticket),
        temporary_password: result.temporary_password.as_ref().map(|p| p.expose()),
        already_done: result.replayed,
    };
    Ok(json_response(StatusCode::OK, &body, &call.correlation_id))
}
