//! reset's HTTP translation: `POST /tickets/{id}/reset` -> one workflow call.
//! The temporary password appears in exactly one place: the body of the
//! response to the call that set it.

use chrono::Utc;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::Instrument;
use zerodesk_domain::ClaimNames;
use zerodesk_events::{DirectoryAction, Publisher};
use zerodesk_http::{
    ApiError, authenticate, correlation_id, error_response, json_response, ticket_id_param,
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
    let id = ticket_id_param(req)?;
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

#[cfg(test)]
mod tests {

    use serde_json::{Value, json};
    use zerodesk_aws::TenantClientsCache;
    use zerodesk_events::InMemoryPublisher;
    use zerodesk_testkit::LocalAws;
    use zerodesk_workflow::Tables;

    use super::*;

    const RESET: &str = include_str!("../../../events/api-post-reset.json");

    async fn app() -> App<InMemoryPublisher> {
        let aws = LocalAws::shared();
        let config = aws.sdk_config().await;
        let clients =
            TenantClientsCache::assuming(&config, &aws.names.tenant_access_role_arn, "reset");
        App {
            services: Services::new(
                Tables::from(&aws.names.table_names()),
                clients,
                InMemoryPublisher::new(),
            ),
            claim_names: ClaimNames::default(),
        }
    }

    fn request(edit: impl FnOnce(&mut Value)) -> Request {
        let mut v: Value = serde_json::from_str(RESET).unwrap();
        edit(&mut v);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn code(r: &Response<Body>) -> String {
        match r.body() {
            Body::Text(t) => serde_json::from_str::<Value>(t).unwrap()["error"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            _ => String::new(),
        }
    }

    #[tokio::test]
    async fn refusals_carry_their_stable_codes_and_no_password() {
        let app = app().await;
        let no_auth = handle(
            &app,
            request(|v| {
                v["requestContext"]
                    .as_object_mut()
                    .unwrap()
                    .remove("authorizer");
            }),
        )
        .await;
        assert_eq!(
            (no_auth.status().as_u16(), code(&no_auth).as_str()),
            (401, "unauthorized")
        );
        let bad_id = handle(
            &app,
            request(|v| v["pathParameters"] = json!({"id": "not-a-ticket"})),
        )
        .await;
        assert_eq!(
            (bad_id.status().as_u16(), code(&bad_id).as_str()),
            (404, "not_found")
        );
        let unknown_tenant = handle(&app, request(|_| {})).await;
        assert_eq!(
            (
                unknown_tenant.status().as_u16(),
                code(&unknown_tenant).as_str()
            ),
            (403, "tenant_inactive")
        );
        for r in [&no_auth, &bad_id, &unknown_tenant] {
            if let Body::Text(t) = r.body() {
                assert!(!t.contains("temporary_password"));
            }
        }
    }
}
