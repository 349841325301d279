//! The fakes refuse what the real providers refuse: wrong scopes, forged or
//! misaddressed assertions, replayed client assertions, malformed updates,
//! missing tokens; and they misbehave exactly as told.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use zerodesk_fakes::{
    FakeGoogle, FakeGraph, FakeOkta, FakePorts, Fakes, Fault, GOOGLE_ALLOWED_SCOPES, PushAnswer,
    TEST_ONLY_PRIVATE_KEY_PEM, demo_seed,
};

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn sign(claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(TEST_ONLY_PRIVATE_KEY_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

fn google_claims(fake: &FakeGoogle, scope: &str) -> Value {
    json!({
        "iss": "zerodesk-demo-example@zerodesk-test-only.iam.gserviceaccount.com",
        "sub": "root@demo.example",
        "scope": scope,
        "aud": fake.token_url(),
        "iat": now(),
        "exp": now() + 3600,
    })
}

async fn google_token_request(fake: &FakeGoogle, assertion: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn google_token(fake: &FakeGoogle) -> String {
    let (status, body) = google_token_request(
        fake,
        &sign(&google_claims(fake, &GOOGLE_ALLOWED_SCOPES.join(" "))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn google_issues_a_token_for_exactly_the_two_user_scopes() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let (status, body) = google_token_request(
        &fake,
        &sign(&google_claims(&fake, &GOOGLE_ALLOWED_SCOPES.join(" "))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], json!("Bearer"));
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
}

#[tokio::test]
async fn google_grants_delegated_scopes_and_refuses_others_as_google_does() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    // Any subset of the delegated scopes is granted.
    let (status, _) = google_token_request(
        &fake,
        &sign(&google_claims(&fake, GOOGLE_ALLOWED_SCOPES[0])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A scope that is not delegated to the client: unauthorized_client.
    let write_groups = format!(
        "{} https://www.googleapis.com/auth/admin.directory.group",
        GOOGLE_ALLOWED_SCOPES.join(" ")
    );
    let (status, body) =
        google_token_request(&fake, &sign(&google_claims(&fake, &write_groups))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], json!("unauthorized_client"));
    // No scope, or one that is not an Admin SDK Directory scope: invalid_scope.
    for scope in ["https://www.googleapis.com/auth/cloud-platform", ""] {
        let (status, body) = google_token_request(&fake, &sign(&google_claims(&fake, scope))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scope}");
        assert_eq!(body["error"], json!("invalid_scope"), "{scope}");
    }
}

#[tokio::test]
async fn google_refuses_a_tampered_or_misaddressed_assertion() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let scope = GOOGLE_ALLOWED_SCOPES.join(" ");

    let good = sign(&google_claims(&fake, &scope));
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut forged_claims = google_claims(&fake, &scope);
    forged_claims["sub"] = json!("alice@demo.example");
    parts[1] = sign(&forged_claims).split('.').nth(1).unwrap().to_owned();
    let (status, body) = google_token_request(&fake, &parts.join(".")).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );

    let mut wrong_aud = google_claims(&fake, &scope);
    wrong_aud["aud"] = json!("https://oauth2.googleapis.com/token");
    let (status, body) = google_token_request(&fake, &sign(&wrong_aud)).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );

    let mut too_long = google_claims(&fake, &scope);
    too_long["exp"] = json!(now() + 7200);
    let (status, body) = google_token_request(&fake, &sign(&too_long)).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
}

#[tokio::test]
async fn google_api_checks_token_and_update_body() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let client = reqwest::Client::new();
    let user_url = format!(
        "{}/admin/directory/v1/users/alice@demo.example",
        fake.base_url()
    );

    let unauthenticated = client.get(&user_url).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let token = google_token(&fake).await;
    let got: Value = client
        .get(&user_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["primaryEmail"], json!("alice@demo.example"));

    for (body, why) in [
        (
            json!({"password": "short", "changePasswordAtNextLogin": true}),
            "plaintext too short",
        ),
        (
            json!({"password": "abc", "hashFunction": "SHA-1"}),
            "not a SHA-1 hex",
        ),
        (
            json!({"password": "Abcdefgh1!", "hashFunction": "ROT13"}),
            "unknown hash",
        ),
        (
            json!({"changePasswordAtNextLogin": true, "isAdmin": true}),
            "field the fake will not touch",
        ),
    ] {
        let response = client
            .put(&user_url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{why}");
    }
    assert_eq!(fake.user("alice@demo.example").unwrap().password, None);

    let no_length = client
        .post(format!("{user_url}/signOut"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(no_length.status(), StatusCode::LENGTH_REQUIRED);
}

#[tokio::test]
async fn google_impersonating_a_non_admin_cannot_read_users() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let mut claims = google_claims(&fake, &GOOGLE_ALLOWED_SCOPES.join(" "));
    claims["sub"] = json!("alice@demo.example");
    let (_, body) = google_token_request(&fake, &sign(&claims)).await;
    let token = body["access_token"].as_str().unwrap();
    let response = reqwest::Client::new()
        .get(format!(
            "{}/admin/directory/v1/users/bob@demo.example",
            fake.base_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn graph_token(fake: &FakeGraph, scope: &str, secret: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/3f2b8c4e-0d1a-4e5f-9a7b-1c2d3e4f5a6b/oauth2/v2.0/token",
            fake.token_base_url()
        ))
        .form(&[
            ("client_id", "client-demo-example"),
            ("client_secret", secret),
            ("scope", scope),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn graph_refuses_wrong_secret_and_scope() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let secret = "test-only-graph-secret-demo-example";
    let (status, body) = graph_token(&fake, "https://graph.microsoft.com/.default", "wrong").await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_client"))
    );
    let (status, body) = graph_token(&fake, "User.ReadWrite.All", secret).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_scope"))
    );
    let (status, _) = graph_token(&fake, "https://graph.microsoft.com/.default", secret).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn graph_refuses_weak_passwords_and_omits_account_enabled_by_default() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let (_, body) = graph_token(
        &fake,
        "https://graph.microsoft.com/.default",
        "test-only-graph-secret-demo-example",
    )
    .await;
    let token = body["access_token"].as_str().unwrap();
    let client = reqwest::Client::new();
    let user_url = format!("{}/v1.0/users/alice@demo.example", fake.api_base_url());

    let weak = client
        .patch(&user_url)
        .bearer_auth(token)
        .json(&json!({"passwordProfile": {"password": "password", "forceChangePasswordNextSignIn": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!("Request_BadRequest"));

    let plain: Value = client
        .get(&user_url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(plain.get("accountEnabled").is_none());
    assert_eq!(plain["userPrincipalName"], json!("alice@demo.example"));
}

async fn okta_token(fake: &FakeOkta, scope: &str, jti: &str) -> (StatusCode, Value) {
    let claims = json!({
        "iss": "0oa-test-only-demo-example", "sub": "0oa-test-only-demo-example",
        "aud": format!("{}/oauth2/v1/token", fake.org_url()),
        "iat": now(), "exp": now() + 300, "jti": jti,
    });
    let response = reqwest::Client::new()
        .post(format!("{}/oauth2/v1/token", fake.org_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &sign(&claims)),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn okta_refuses_a_replayed_assertion_and_unknown_scopes() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    fake.set_dpop_required(false);
    assert_eq!(
        okta_token(&fake, "okta.users.read", "jti-1").await.0,
        StatusCode::OK
    );
    let (status, body) = okta_token(&fake, "okta.users.read", "jti-1").await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_client"))
    );
    let (status, body) = okta_token(&fake, "okta.users.read okta.apps.manage", "jti-2").await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_scope"))
    );
}

#[tokio::test]
async fn okta_read_only_token_cannot_unlock() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    fake.set_dpop_required(false);
    let (_, body) = okta_token(&fake, "okta.users.read", "jti-ro").await;
    let token = body["access_token"].as_str().unwrap();
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/users/bob@demo.example/lifecycle/unlock",
            fake.org_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errorCode"], json!("E0000006"));
    assert_eq!(
        fake.user("bob@demo.example").unwrap().state,
        zerodesk_fakes::SeedState::LockedOut
    );
}

#[tokio::test]
async fn faults_apply_per_route_and_globally_and_calls_are_recorded() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{}{path}", fake.org_url()))
            .header("Authorization", "SSWS 00test-only-okta-token-demo-example")
            .send()
    };

    fake.fail_route("users.roles", Fault::Status(503));
    assert_eq!(
        get("/api/v1/users/alice@demo.example")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let failed = get("/api/v1/users/00u00testonly000000/roles")
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        failed.json::<Value>().await.unwrap()["errorCode"],
        json!("E0000009")
    );

    fake.fail_all(Fault::Garbage);
    let garbage = get("/api/v1/users/alice@demo.example")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&garbage).is_err());

    fake.clear_faults();
    // A path the published description does not have is refused as such.
    assert_eq!(
        get("/api/v1/nothing-here").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(fake.violations().len(), 1);
    let routes: Vec<&str> = fake.calls().iter().map(|c| c.route).collect();
    assert_eq!(
        routes,
        vec![
            "users.get",
            "users.roles",
            "users.get",
            "not_in_published_description"
        ]
    );
}

#[tokio::test]
async fn the_local_stack_gets_all_three_fakes_on_loopback() {
    let fakes = Fakes::start(demo_seed(), FakePorts::default())
        .await
        .unwrap();
    let env = fakes.endpoint_env();
    assert_eq!(env.len(), 5);
    for (name, value) in env {
        if name == "DIRECTORY_ALLOW_LOOPBACK" {
            assert_eq!(value, "true", "the connectors may reach the fakes");
        } else {
            assert!(value.starts_with("http://127.0.0.1:"), "{name}={value}");
        }
    }
    assert!(
        fakes
            .okta
            .api_token_credentials_json("demo.example")
            .is_some()
    );
    assert!(fakes.graph.credentials_json("nowhere.example").is_none());
    for who in ["alice", "bob", "carol", "dave", "root"] {
        assert!(
            fakes.google.user(&format!("{who}@demo.example")).is_some(),
            "{who}"
        );
    }
    assert!(fakes.google.user("root@demo.example").unwrap().seed.admin);
    assert!(
        fakes.okta.user("eve@other.example").is_some()
            && fakes.okta.user("frank@other.example").is_some()
    );
}

#[tokio::test]
async fn google_users_get_carries_recovery_channels_only_when_set() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let token = google_token(&fake).await;
    let get = |who: &str| {
        reqwest::Client::new()
            .get(format!(
                "{}/admin/directory/v1/users/{who}",
                fake.base_url()
            ))
            .bearer_auth(&token)
            .send()
    };
    let alice: Value = get("alice@demo.example")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(alice["recoveryEmail"], json!("alice.personal@mail.example"));
    assert_eq!(alice["recoveryPhone"], json!("+15555550101"));
    let dave: Value = get("dave@demo.example")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(dave.get("recoveryEmail").is_none() && dave.get("recoveryPhone").is_none());
}

#[tokio::test]
async fn graph_lists_authentication_methods_as_graph_formats_them() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let client = reqwest::Client::new();
    let methods = |who: &str, list: &str| {
        format!(
            "{}/v1.0/users/{who}/authentication/{list}",
            fake.api_base_url()
        )
    };

    let anonymous = client
        .get(methods("bob@demo.example", "phoneMethods"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let (_, body) = graph_token(
        &fake,
        "https://graph.microsoft.com/.default",
        "test-only-graph-secret-demo-example",
    )
    .await;
    let token = body["access_token"].as_str().unwrap();
    let bob: Value = client
        .get(methods("bob@demo.example", "phoneMethods"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        bob["value"],
        json!([
            {"id": "b6332ec1-7057-4abe-9331-3d72feddfe41", "phoneNumber": "+1 5555550103",
             "phoneType": "alternateMobile", "smsSignInState": "notSupported"},
            {"id": "3179e48a-750b-4051-897c-87b9720928f7", "phoneNumber": "+1 5555550102",
             "phoneType": "mobile", "smsSignInState": "ready"},
        ])
    );
    let alice: Value = client
        .get(methods("alice@demo.example", "emailMethods"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        alice["value"][0]["emailAddress"],
        json!("alice.personal@mail.example")
    );
    let other_tenant = client
        .get(methods("eve@other.example", "phoneMethods"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(other_tenant.status(), StatusCode::NOT_FOUND);
}

const OKTA_DEMO_TOKEN: &str = "SSWS 00test-only-okta-token-demo-example";

async fn okta_factors(fake: &FakeOkta, who: &str, auth: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/users/{who}/factors", fake.org_url()))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn factor_of(factors: &Value, factor_type: &str) -> Value {
    factors
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["factorType"] == json!(factor_type))
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn okta_lists_factors_with_their_status() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let (status, alice) = okta_factors(&fake, "alice@demo.example", OKTA_DEMO_TOKEN).await;
    assert_eq!(status, StatusCode::OK);
    let sms = factor_of(&alice, "sms");
    assert_eq!(
        (sms["status"].clone(), sms["profile"]["phoneNumber"].clone()),
        (json!("ACTIVE"), json!("+15555550101"))
    );
    assert_eq!(factor_of(&alice, "push")["provider"], json!("OKTA"));

    let (_, carol) = okta_factors(&fake, "carol@demo.example", OKTA_DEMO_TOKEN).await;
    assert_eq!(
        factor_of(&carol, "push")["status"],
        json!("PENDING_ACTIVATION")
    );
    let (status, _) = okta_factors(&fake, "eve@other.example", OKTA_DEMO_TOKEN).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn okta_push_waits_once_then_gives_the_scripted_answer() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    fake.answer_pushes("Alice@Demo.Example", PushAnswer::Deny);
    let (_, factors) = okta_factors(&fake, "alice@demo.example", OKTA_DEMO_TOKEN).await;
    let push_id = factor_of(&factors, "push")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = reqwest::Client::builder()
        .user_agent("zerodesk-test")
        .build()
        .unwrap();
    let verify = format!(
        "{}/api/v1/users/alice@demo.example/factors/{push_id}/verify",
        fake.org_url()
    );

    let plain: Value = client
        .post(&verify)
        .header("Authorization", OKTA_DEMO_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(plain.get("_embedded").is_none(), "no number without asking");

    let issued = client
        .post(&verify)
        .header("Authorization", OKTA_DEMO_TOKEN)
        .json(&json!({"useNumberMatchingChallenge": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), StatusCode::CREATED);
    let issued: Value = issued.json().await.unwrap();
    assert_eq!(issued["factorResult"], json!("WAITING"));
    let number = issued["_embedded"]["challenge"]["correctAnswer"]
        .as_u64()
        .unwrap();
    assert!((10..100).contains(&number));

    let poll = issued["_links"]["poll"]["href"].as_str().unwrap();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let polled: Value = client
            .get(poll)
            .header("Authorization", OKTA_DEMO_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answers.push(polled["factorResult"].clone());
    }
    assert_eq!(
        answers,
        vec![json!("WAITING"), json!("REJECTED"), json!("REJECTED")]
    );
}

#[tokio::test]
async fn okta_push_needs_manage_scope_a_user_agent_and_an_active_factor() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    fake.set_dpop_required(false);
    let (_, alice) = okta_factors(&fake, "alice@demo.example", OKTA_DEMO_TOKEN).await;
    let push_id = factor_of(&alice, "push")["id"].as_str().unwrap().to_owned();
    let verify = |who: &str, factor: &str| {
        format!(
            "{}/api/v1/users/{who}/factors/{factor}/verify",
            fake.org_url()
        )
    };

    let (_, body) = okta_token(&fake, "okta.users.read", "jti-factors").await;
    let read_only = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let (status, _) = okta_factors(&fake, "alice@demo.example", &read_only).await;
    assert_eq!(status, StatusCode::OK, "reading factors needs only read");
    let refused = reqwest::Client::new()
        .post(verify("alice@demo.example", &push_id))
        .header("Authorization", &read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // reqwest sends no User-Agent unless told to.
    let no_agent = reqwest::Client::new()
        .post(verify("alice@demo.example", &push_id))
        .header("Authorization", OKTA_DEMO_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(no_agent.status(), StatusCode::BAD_REQUEST);

    let (_, carol) = okta_factors(&fake, "carol@demo.example", OKTA_DEMO_TOKEN).await;
    let pending = factor_of(&carol, "push")["id"].as_str().unwrap().to_owned();
    let pending_push = reqwest::Client::new()
        .post(verify("carol@demo.example", &pending))
        .header("Authorization", OKTA_DEMO_TOKEN)
        .header("User-Agent", "zerodesk-test")
        .send()
        .await
        .unwrap();
    assert_eq!(pending_push.status(), StatusCode::BAD_REQUEST);
    assert_eq!(fake.calls_to("factors.verify").len(), 3);
}
