//! The reset function as it runs: the shared directory-action function
//! (`zerodesk_http::ActionFunction`) for `DirectoryAction::Reset`, driven with
//! this function's sample events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use zerodesk_domain::ClaimNames;
use zerodesk_events::DirectoryAction;
use zerodesk_workflow::{InMemory, Services};

use zerodesk_http::ActionFunction as App;

const RESET: &str = include_str!("../../../events/api-post-reset.json");

/// No tenant is stored: the sample event's tenant is unknown.
async fn app() -> App<InMemory> {
    App {
        services: Services::in_memory(),
        claim_names: ClaimNames::default(),
        action: DirectoryAction::Reset,
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
    let no_auth = app
        .handle_http(request(|v| {
            v["requestContext"]
                .as_object_mut()
                .unwrap()
                .remove("authorizer");
        }))
        .await;
    assert_eq!(
        (no_auth.status().as_u16(), code(&no_auth).as_str()),
        (401, "unauthorized")
    );
    let bad_id = app
        .handle_http(request(|v| {
            v["pathParameters"] = json!({"id": "not-a-ticket"})
        }))
        .await;
    assert_eq!(
        (bad_id.status().as_u16(), code(&bad_id).as_str()),
        (404, "not_found")
    );
    let unknown_tenant = app.handle_http(request(|_| {})).await;
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
