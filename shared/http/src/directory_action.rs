//! The two directory-action functions (reset, unlock) have one shape: the
//! HTTP route `POST /tickets/{id}/<action>` and the EventBridge rule for an
//! `auto_resolve` triage of their category. Both only ask the account's
//! owner to verify (202); nothing here ever sees a temporary password.
//! Transient failures of an event return an error so EventBridge retries
//! (then dead-letters); refusals are final and only logged.

use std::sync::Arc;

use lambda_http::http::StatusCode;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Body, Request, Response, service_fn};
use serde_json::Value;
use tracing::Instrument;
use zerodesk_domain::{Category, ClaimNames, Decision};
use zerodesk_events::{DirectoryAction, DomainEvent, EventPayload};
use zerodesk_workflow::{ActionView, Ports, Services, WorkflowError};

/// The whole `main` of a directory-action function: wiring from the
/// environment (fail closed), clients built once and reused across warm
/// invocations, one entry point for the route and the rule.
pub async fn run_action_function(
    function: &'static str,
    action: DirectoryAction,
) -> Result<(), lambda_http::Error> {
    zerodesk_telemetry::init(function);
    let (services, claim_names) = Services::from_env(function).await?;
    let app = Arc::new(ActionFunction {
        services,
        claim_names,
        action,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = Arc::clone(&app);
        async move {
            app.handle(event.payload)
                .await
                .map_err(lambda_http::Error::from)
        }
    }))
    .await
}

use crate::apigw::{is_http_event, request_from_event, response_to_event};
use crate::error::json_response;
use crate::request::{CallContext, ticket_id_param};
use crate::serve::{Failure, serve};

/// One directory-action function: its services and which action it runs.
pub struct ActionFunction<P: Ports> {
    pub services: Services<P>,
    pub claim_names: ClaimNames,
    pub action: DirectoryAction,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the event is not an API Gateway request or a zerodesk EventBridge event")]
    Unrecognised,
    #[error("the action could not start now and should be retried")]
    Retry(#[source] WorkflowError),
}

impl<P: Ports> ActionFunction<P> {
    fn name(&self) -> &'static str {
        self.action.as_str()
    }

    fn category(&self) -> Category {
        match self.action {
            DirectoryAction::Reset => Category::PasswordReset,
            DirectoryAction::Unlock => Category::AccountUnlock,
        }
    }

    /// Either an API Gateway request or an EventBridge event.
    pub async fn handle(&self, event: Value) -> Result<Value, EventError> {
        if is_http_event(&event) {
            let req = request_from_event(&event).map_err(|_| EventError::Unrecognised)?;
            return Ok(response_to_event(self.handle_http(req).await));
        }
        self.handle_event(&event).await.map(|()| Value::Null)
    }

    pub async fn handle_http(&self, req: Request) -> Response<Body> {
        serve(self.name(), &req, &self.claim_names, |call| {
            self.http(&req, call)
        })
        .await
    }

    async fn http(
        &self,
        req: &Request,
        call: CallContext,
    ) -> Result<Response<Body>, Failure<WorkflowError>> {
        let id = ticket_id_param(req)?;
        let result = self
            .services
            .run_action(&call.principal, &call.correlation_id, &id, self.action)
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

    async fn handle_event(&self, event: &Value) -> Result<(), EventError> {
        let detail_type = event
            .get("detail-type")
            .and_then(Value::as_str)
            .ok_or(EventError::Unrecognised)?;
        let detail = event.get("detail").ok_or(EventError::Unrecognised)?;
        let domain = DomainEvent::from_eventbridge_detail(detail_type, &detail.to_string())
            .map_err(|_| EventError::Unrecognised)?;
        let span = zerodesk_telemetry::request_span!(self.name(), domain.correlation_id);
        span.record("tenant_id", domain.tenant_id.as_str());
        async {
            let EventPayload::TicketTriaged(triaged) = &domain.payload else {
                tracing::info!(detail_type, "event ignored: not a triage result");
                return Ok(());
            };
            if triaged.decision != Decision::AutoResolve || triaged.category != self.category() {
                tracing::info!("event ignored: not an automated {}", self.name());
                return Ok(());
            }
            tracing::Span::current().record("ticket_id", triaged.ticket_id.to_string());
            match self
                .services
                .run_action_from_event(
                    domain.tenant_id.clone(),
                    &domain.correlation_id,
                    &triaged.ticket_id,
                    self.action,
                )
                .await
            {
                Ok(result) => {
                    tracing::info!(
                        state = result.ticket.state.as_str(),
                        replayed = result.replayed,
                        "event-driven action: owner asked to verify"
                    );
                    Ok(())
                }
                Err(e) if e.is_transient() => {
                    tracing::warn!(error = %e, "event-driven action will be retried");
                    Err(EventError::Retry(e))
                }
                Err(e) => {
                    tracing::info!(error = %e, "event-driven action not started");
                    Ok(())
                }
            }
        }
        .instrument(span)
        .await
    }
}
