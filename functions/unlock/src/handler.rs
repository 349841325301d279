//! The unlock function as it runs: the shared directory-action function
//! (`zerodesk_http::ActionFunction`) for `DirectoryAction::Unlock`, driven with
//! this function's sample events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use zerodesk_domain::{Category, ClaimNames, Decision};
use zerodesk_events::{DirectoryAction, DomainEvent, EventPayload};
use zerodesk_workflow::{InMemory, Services, WorkflowError};

use zerodesk_http::{ActionFunction as App, EventError};

const TRIAGED: &str = include_str!("../../../events/eventbridge-ticket-triaged-unlock.json");
const HTTP: &str = include_str!("../../../events/api-post-unlock.json");

/// No tenant is stored: the sample events' tenant is unknown.
async fn app() -> App<InMemory> {
    App {
        services: Services::in_memory(),
        claim_names: ClaimNames::default(),
        action: DirectoryAction::Unlock,
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
    assert!(app.handle(v).await.unwrap().is_null());
    assert!(app.services.publisher.events().is_empty(), "nothing acted");
}

#[tokio::test]
async fn a_storage_outage_during_an_event_driven_unlock_is_returned_for_retry() {
    let app = app().await;
    app.services.tenants.outage.set(true);
    let v: Value = serde_json::from_str(TRIAGED).unwrap();
    assert!(matches!(
        app.handle(v).await,
        Err(EventError::Retry(WorkflowError::Store(_)))
    ));
}

#[tokio::test]
async fn a_refused_event_driven_unlock_is_final_and_not_retried() {
    let app = app().await;
    let v: Value = serde_json::from_str(TRIAGED).unwrap();
    // The tenant is unknown: a refusal no retry can change.
    assert!(app.handle(v).await.unwrap().is_null());
    assert!(app.services.publisher.events().is_empty(), "nothing acted");
}

#[tokio::test]
async fn an_unknown_event_shape_is_an_error_for_the_dead_letter_queue() {
    let app = app().await;
    assert!(matches!(
        app.handle(json!({"hello": "world"})).await,
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
    let out = app.handle(v).await.unwrap();
    assert_eq!(out["statusCode"], 401);
    let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn an_unlock_for_an_unknown_tenant_is_refused() {
    let app = app().await;
    let out = app
        .handle(serde_json::from_str(HTTP).unwrap())
        .await
        .unwrap();
    assert_eq!(out["statusCode"], 403);
}
