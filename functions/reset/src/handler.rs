//! reset's HTTP translation: `POST /tickets/{id}/reset` -> one workflow call.
//! The answer is 202 while the account's owner verifies; it never holds a
//! temporary password (that goes to the verified owner on the verification
//! page).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use zerodesk_domain::ClaimNames;
use zerodesk_events::DirectoryAction;
use zerodesk_http::{CallContext, Failure, json_response, serve, ticket_id_param};
use zerodesk_workflow::{ActionView, Ports, Services, WorkflowError};

pub struct App<P: Ports> {
    pub services: Services<P>,
    pub claim_names: ClaimNames,
}

pub async fn handle<P: Ports>(app: &App<P>, req: Request) -> Response<Body> {
    serve("reset", &req, &app.claim_names, |call| {
        reset(app, &req, call)
    })
    .await
}

async fn reset<P: Ports>(
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
            DirectoryAction::Reset,
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

#[cfg(test)]
mod tests {

    use serde_json::{Value, json};
    use zerodesk_workflow::InMemory;

    use super::*;

    const RESET: &str = include_str!("../../../events/api-post-reset.json");

    /// No tenant is stored: the sample event's tenant is unknown.
    async fn app() -> App<InMemory> {
        App {
            services: Services::in_memory(),
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
