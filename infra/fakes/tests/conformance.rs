//! Each fake refuses, before handling it, a request the provider's published
//! API description does not allow: 400 `not_in_published_description`, the
//! violation recorded. What the description allows reaches the fake as before.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use zerodesk_fakes::{
    FakeGoogle, FakeGraph, FakeOkta, Fault, NOT_IN_DESCRIPTION, SeedState, demo_seed,
};

/// Status and JSON body (`null` when the body is not JSON).
async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn refusal(detail: &str) -> (StatusCode, Value) {
    (
        StatusCode::BAD_REQUEST,
        json!({"error": NOT_IN_DESCRIPTION, "detail": detail}),
    )
}

fn okta_api_token(fake: &FakeOkta) -> String {
    let credentials = fake.api_token_credentials_json("demo.example").unwrap();
    format!("SSWS {}", credentials["api_token"].as_str().unwrap())
}

#[tokio::test]
async fn okta_refuses_the_retired_temp_password_form_of_expire_password() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let url = format!(
        "{}/api/v1/users/alice@demo.example/lifecycle/expire_password?tempPassword=true",
        fake.org_url()
    );
    let before = fake.user("alice@demo.example").unwrap().state;

    let answer = send(
        reqwest::Client::new()
            .post(url)
            .header("Authorization", okta_api_token(&fake)),
    )
    .await;

    let detail = "okta: POST /api/v1/users/{id}/lifecycle/expire_password: query parameter `tempPassword` is not declared";
    assert_eq!(answer, refusal(detail));
    let violations: Vec<String> = fake.violations().iter().map(ToString::to_string).collect();
    assert_eq!(violations, vec![detail.to_owned()]);
    assert_eq!(fake.calls_to(NOT_IN_DESCRIPTION).len(), 1);
    assert!(fake.calls_to("lifecycle.expire_password").is_empty());
    assert_eq!(fake.user("alice@demo.example").unwrap().state, before);
}

#[tokio::test]
async fn okta_passes_a_described_request_on_to_the_fake() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let url = format!("{}/api/v1/users/alice@demo.example", fake.org_url());

    let (status, body) = send(reqwest::Client::new().get(&url)).await;
    assert_eq!(
        (status, body["errorCode"].clone()),
        (StatusCode::UNAUTHORIZED, json!("E0000011"))
    );

    let (status, body) = send(
        reqwest::Client::new()
            .get(&url)
            .header("Authorization", okta_api_token(&fake)),
    )
    .await;
    assert_eq!(
        (status, body["profile"]["login"].clone()),
        (StatusCode::OK, json!("alice@demo.example"))
    );
    assert!(fake.violations().is_empty());
    assert_ne!(
        fake.user("alice@demo.example").unwrap().state,
        SeedState::PasswordExpired
    );
}

#[tokio::test]
async fn google_refuses_a_users_update_with_a_field_the_user_schema_lacks() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let url = format!(
        "{}/admin/directory/v1/users/alice@demo.example",
        fake.api_base_url()
    );

    let answer = send(
        reqwest::Client::new()
            .put(&url)
            .json(&json!({"password": "Abcdefgh1!", "forcePasswordChange": true})),
    )
    .await;

    let detail = "google: PUT /admin/directory/v1/users/{userKey}: body field `forcePasswordChange` is not in the request schema";
    assert_eq!(answer, refusal(detail));
    assert_eq!(fake.violations().len(), 1);
    assert_eq!(fake.user("alice@demo.example").unwrap().password, None);

    let (status, _) = send(reqwest::Client::new().get(&url)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(fake.violations().len(), 1);
}

#[tokio::test]
async fn graph_refuses_a_query_parameter_the_operation_does_not_declare() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let url = format!("{}/v1.0/users/alice@demo.example", fake.api_base_url());

    let answer = send(
        reqwest::Client::new()
            .get(&url)
            .query(&[("$select", "id,mail"), ("$includeDisabled", "true")]),
    )
    .await;

    let detail =
        "graph: GET /v1.0/users/{user-id}: query parameter `$includeDisabled` is not declared";
    assert_eq!(answer, refusal(detail));

    let (status, body) = send(
        reqwest::Client::new()
            .get(&url)
            .query(&[("$select", "id,userPrincipalName,accountEnabled,mail")]),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (
            StatusCode::UNAUTHORIZED,
            json!("InvalidAuthenticationToken")
        )
    );
    assert_eq!(fake.violations().len(), 1);
}

#[tokio::test]
async fn faults_still_apply_to_described_requests_only() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    fake.fail_all(Fault::Status(503));
    let user = format!("{}/v1.0/users/alice@demo.example", fake.api_base_url());

    let (described, _) = send(reqwest::Client::new().get(&user)).await;
    let (undescribed, body) = send(
        reqwest::Client::new()
            .get(format!("{user}/licenseDetails"))
            .query(&[("$top", "1")]),
    )
    .await;

    assert_eq!(described, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        (undescribed, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!(NOT_IN_DESCRIPTION))
    );
}
