//! unlock's translation. HTTP: `POST /tickets/{id}/unlock` -> one workflow
//! call -> JSON. EventBridge: a `TicketTriaged` event with decision
//! auto_resolve and category account_unlock -> the same workflow, re-checked
//! from the stored ticket. Transient failures return an error so EventBridge
//! retries (then dead-letters); refusals are final and only logged.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use tracing::Instrument;
use zerodesk_domain::{Category, ClaimNames, CorrelationId, Decision};
use zerodesk_events::{DirectoryAction, DomainEvent, EventPayload};
use zerodesk_http::{
    CallContext, Failure, is_http_event, json_response, request_from_event, response_to_event,
    serve, ticket_id_param,
};
use zerodesk_workflow::{ActionView, Ports, Services, WorkflowError};

pub struct App<P: Ports> {
    pub services: Services<P>,
    pub claim_names: ClaimNames,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the event is not an API Gateway request or a zerodesk EventBridge event")]
    Unrecognised,
    #[error("the unlock could not run now and should be retried")]
    Retry(#[source] WorkflowError),
}

pub async fn handle<P: Ports>(app: &App<P>, event: Value) -> Result<Value, EventError> {
    if is_http_event(&event) {
        let req = request_from_event(&event).map_err(|_| EventError::Unrecognised)?;
        return Ok(response_to_event(handle_http(app, req).await));
    }
    handle_event(app, &event).await.map(|()| Value::Null)
}

pub async fn handle_http<P: Ports>(app: &App<P>, req: Request) -> Response<Body> {
    serve("unlock", &req, &app.claim_names, |call| {
        unlock_http(app, &req, call)
    })
    .await
}

async fn unlock_http<P: Ports>(
    app: &App<P>,
    req: &Request,
    call: CallContext,
) -> Result<Response<Body>, Failure<WorkflowError>> {
    let id = ticket_id_param(req)?;
    let result = app
        .services
        .run_action(
            &call.principal,
            &call.correlation_id,
            &id,
            DirectoryAction::Unlock,
        )
        .await
        .map_err(Failure::UseCase)?;
    let status = if result.awaiting_owner.is_some() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok(json_response(
        status,
        &ActionView::from(&result),
        &call.correlation_id,
    ))
}

async fn handle_event<P: Ports>(app: &App<P>, event: &Value) -> Result<(), EventError> {
    let detail_type = event
        .get("detail-type")
        .and_then(Value::as_str)
        .ok_or(EventError::Unrecognised)?;
    let detail = event.get("detail").ok_or(EventError::Unrecognised)?;
    let domain = DomainEvent::from_eventbridge_detail(detail_type, &detail.to_string())
        .map_err(|_| EventError::Unrecognised)?;
    let span = zerodesk_telemetry::request_span!("unlock", domain.correlation_id);
    span.record("tenant_id", domain.tenant_id.as_str());
    async {
        let EventPayload::TicketTriaged(triaged) = &domain.payload else {
            tracing::info!(detail_type, "event ignored: not a triage result");
            return Ok(());
        };
        if triaged.decision != Decision::AutoResolve || triaged.category != Category::AccountUnlock
        {
            tracing::info!("event ignored: not an automated unlock");
            return Ok(());
        }
        tracing::Span::current().record("ticket_id", triaged.ticket_id.to_string());
        let corr: &CorrelationId = &domain.correlation_id;
        match app
            .services
            .run_action_from_event(
                domain.tenant_id.clone(),
                corr,
                &triaged.ticket_id,
                DirectoryAction::Unlock,
            )
            .await
        {
            Ok(result) => {
                tracing::info!(
                    state = result.ticket.state.as_str(),
                    replayed = result.replayed,
                    "event-driven unlock: owner asked to verify"
                );
                Ok(())
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "event-driven unlock will be retried");
                Err(EventError::Retry(e))
            }
            Err(e) => {
                tracing::info!(error = %e, "event-driven unlock not done");
                Ok(())
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {

    use serde_json::json;
    use zerodesk_workflow::InMemory;

    use super::*;

    const TRIAGED: &str = include_str!("../../../events/eventbridge-ticket-triaged-unlock.json");
    const HTTP: &str = include_str!("../../../events/api-post-unlock.json");

    /// No tenant is stored: the sample events' tenant is unknown.
    async fn app() -> App<InMemory> {
        App {
            services: Services::in_memory(),
            claim_names: ClaimNames::default(),
        }
    }

    #[test]
    fn the_sample_eventbridge_event_is_an_automated_unlock() {
        let v: Value = serde_json::from_str(TRIAGED).unwrap();
        let e = DomainEvent::from_eventbridge_detail(
            v["detail-type"].as_str().unwrap(),
            &v["detail"].to_string(),
        )
        .unwrap();
        let EventPayload::TicketTriaged(t) = e.payload else {
            panic!("not a triage event")
        };
        assert_eq!(
            (t.decision, t.category),
            (Decision::AutoResolve, Category::AccountUnlock)
        );
    }

    #[tokio::test]
    async fn a_triage_that_did_not_automate_an_unlock_is_ignored() {
        let app = app().await;
        let mut v: Value = serde_json::from_str(TRIAGED).unwrap();
        v["detail"]["decision"] = json!("needs_approval");
        assert!(handle(&app, v).await.unwrap().is_null());
        assert!(app.services.publisher.events().is_empty(), "nothing acted");
    }

    #[tokio::test]
    async fn a_storage_outage_during_an_event_driven_unlock_is_returned_for_retry() {
        let app = app().await;
        app.services.tenants.outage.set(true);
        let v: Value = serde_json::from_str(TRIAGED).unwrap();
        assert!(matches!(
            handle(&app, v).await,
            Err(EventError::Retry(WorkflowError::Store(_)))
        ));
    }

    #[tokio::test]
    async fn a_refused_event_driven_unlock_is_final_and_not_retried() {
        let app = app().await;
        let v: Value = serde_json::from_str(TRIAGED).unwrap();
        // The tenant is unknown: a refusal no retry can change.
        assert!(handle(&app, v).await.unwrap().is_null());
        assert!(app.services.publisher.events().is_empty(), "nothing acted");
    }

    #[tokio::test]
    async fn an_unknown_event_shape_is_an_error_for_the_dead_letter_queue() {
        let app = app().await;
        assert!(matches!(
            handle(&app, json!({"hello": "world"})).await,
            Err(EventError::Unrecognised)
        ));
    }

    #[tokio::test]
    async fn an_http_request_without_authorizer_gets_a_401_payload_document() {
        let app = app().await;
        let mut v: Value = serde_json::from_str(HTTP).unwrap();
        v["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        let out = handle(&app, v).await.unwrap();
        assert_eq!(out["statusCode"], 401);
        let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }

    #[tokio::test]
    async fn an_unlock_for_an_unknown_tenant_is_refused() {
        let app = app().await;
        let out = handle(&app, serde_json::from_str(HTTP).unwrap())
            .await
            .unwrap();
        assert_eq!(out["statusCode"], 403);
    }
}
