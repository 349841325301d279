//! The admin routes in-process, with requests built from the sample events
//! in `events/`: the use cases over the in-memory adapters (tenants,
//! tickets, audit store, vault) and an in-memory publisher whose events are
//! fed to the in-memory audit store as audit-write would append them. The
//! DynamoDB and vault adapters have their own tests against the emulator.

use serde_json::{Value, json};
use zerodesk_admin::InMemory;
use zerodesk_crypto::MemorySecrets;
use zerodesk_domain::{SystemClock, TenantId};
use zerodesk_events::InMemoryPublisher;
use zerodesk_ledger::MemoryAudit;
use zerodesk_store::{MemoryTenants, MemoryTickets};

use super::*;

const GET_AUDIT: &str = include_str!("../../../../events/api-get-audit.json");
const GET_PLATFORM_AUDIT: &str = include_str!("../../../../events/api-get-platform-audit.json");
const PUT_CONNECTION: &str = include_str!("../../../../events/api-put-connection.json");

type TestApp = App<InMemory>;

struct Harness {
    app: TestApp,
    publisher: InMemoryPublisher,
    audit: MemoryAudit,
    secrets: MemorySecrets,
    directory: zerodesk_directory::MemoryDirectory,
}

async fn harness() -> Harness {
    let publisher = InMemoryPublisher::new();
    let audit = MemoryAudit::new();
    let secrets = MemorySecrets::new();
    let directory = zerodesk_directory::MemoryDirectory::new();
    Harness {
        app: App {
            admin: Admin {
                tenants: MemoryTenants::new(),
                tickets: MemoryTickets::new(),
                audit: audit.clone(),
                vault: secrets.clone(),
                directories: directory.clone(),
                counters: zerodesk_store::MemoryRateLimits::new(),
                publisher: publisher.clone(),
                clock: SystemClock,
                gate: zerodesk_store::TenantGate::default(),
            },
            claim_names: ClaimNames::default(),
        },
        publisher,
        audit,
        secrets,
        directory,
    }
}

/// A request from a sample event, retargeted.
fn request(
    sample: &str,
    route: &str,
    path: &str,
    claims: &[(&str, Option<&str>)],
    body: Option<Value>,
) -> Request {
    let mut v: Value = serde_json::from_str(sample).unwrap();
    let (method, _) = route.split_once(' ').unwrap();
    v["routeKey"] = json!(route);
    v["rawPath"] = json!(path);
    v["rawQueryString"] = json!("");
    v.as_object_mut().unwrap().remove("queryStringParameters");
    v["requestContext"]["routeKey"] = json!(route);
    v["requestContext"]["http"]["method"] = json!(method);
    v["requestContext"]["http"]["path"] = json!(path);
    if route.contains("{tenant}") {
        let tenant = path.split('/').nth(3).unwrap();
        v["pathParameters"] = json!({ "tenant": tenant });
    } else {
        v.as_object_mut().unwrap().remove("pathParameters");
    }
    let claims_obj = &mut v["requestContext"]["authorizer"]["jwt"]["claims"];
    for (k, val) in claims {
        match val {
            Some(val) => claims_obj[*k] = json!(val),
            None => {
                claims_obj.as_object_mut().unwrap().remove(*k);
            }
        }
    }
    match body {
        Some(b) => {
            v["body"] = json!(b.to_string());
            v["headers"]["content-type"] = json!("application/json");
        }
        None => {
            v.as_object_mut().unwrap().remove("body");
        }
    }
    lambda_http::request::from_str(&v.to_string()).unwrap()
}

fn tenant_claims<'a>(tenant: &'a str, role: &'a str) -> Vec<(&'a str, Option<&'a str>)> {
    vec![("tenant_id", Some(tenant)), ("role", Some(role))]
}

fn platform_claims(role: &str) -> Vec<(&str, Option<&str>)> {
    vec![
        ("tenant_id", None),
        ("role", Some(role)),
        ("sub", Some("operator-1")),
    ]
}

fn body_text(r: &Response<Body>) -> String {
    match r.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8(b.clone()).unwrap(),
        Body::Empty => String::new(),
        _ => String::new(),
    }
}

fn body_json(r: &Response<Body>) -> Value {
    serde_json::from_str(&body_text(r)).unwrap()
}

async fn onboard(h: &Harness, prefix: &str) -> String {
    // Each test has its own in-memory tables: a fixed id per test suffices.
    let tenant = format!("{prefix}-tenant");
    let r = handle(
        &h.app,
        request(
            GET_AUDIT,
            "POST /platform/tenants",
            "/platform/tenants",
            &platform_claims("platform_admin"),
            Some(json!({"tenant_id": tenant, "name": "Demo Ltd"})),
        ),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", body_text(&r));
    tenant
}

#[tokio::test]
async fn a_tenant_auditor_reads_policy_but_cannot_change_it() {
    let h = harness().await;
    let tenant = onboard(&h, "pol").await;
    let auditor = tenant_claims(&tenant, "tenant_auditor");
    let get = handle(
        &h.app,
        request(GET_AUDIT, "GET /policy", "/policy", &auditor, None),
    )
    .await;
    assert_eq!(get.status(), 200);
    assert_eq!(body_json(&get)["retention"]["audit_days"], 730);
    let put = handle(
        &h.app,
        request(
            GET_AUDIT,
            "PUT /policy",
            "/policy",
            &auditor,
            Some(json!({"auto_resolve": ["password_reset"]})),
        ),
    )
    .await;
    assert_eq!(put.status(), 403);
    assert_eq!(body_json(&put)["error"]["code"], "forbidden");
    let after = handle(
        &h.app,
        request(GET_AUDIT, "GET /policy", "/policy", &auditor, None),
    )
    .await;
    assert_eq!(body_json(&after)["auto_resolve"], json!([]));
}

#[tokio::test]
async fn a_policy_out_of_bounds_names_its_field_and_a_valid_one_is_stored() {
    let h = harness().await;
    let tenant = onboard(&h, "bounds").await;
    let admin = tenant_claims(&tenant, "tenant_admin");
    let bad = handle(
        &h.app,
        request(
            GET_AUDIT,
            "PUT /policy",
            "/policy",
            &admin,
            Some(json!({"retention": {"ticket_days": 730, "audit_days": 10}})),
        ),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(body_json(&bad)["error"]["field"], "retention.audit_days");
    let good = handle(
        &h.app,
        request(
            GET_AUDIT,
            "PUT /policy",
            "/policy",
            &admin,
            Some(
                json!({"auto_resolve": ["account_unlock"], "protected_groups": ["Domain Admins"]}),
            ),
        ),
    )
    .await;
    assert_eq!(good.status(), 200, "{}", body_text(&good));
    let manager = tenant_claims(&tenant, "tenant_manager");
    let read = handle(
        &h.app,
        request(GET_AUDIT, "GET /policy", "/policy", &manager, None),
    )
    .await;
    assert_eq!(body_json(&read)["auto_resolve"], json!(["account_unlock"]));
}

#[tokio::test]
async fn put_connection_never_echoes_credentials_and_delete_destroys_the_secret() {
    let h = harness().await;
    let tenant = onboard(&h, "conn").await;
    let secret = "refresh-0123456789-SUPER-SECRET-VALUE";
    let logs = zerodesk_telemetry::CapturedLogs::default();
    let guard = logs.install();
    let r = handle(
        &h.app,
        request(
            PUT_CONNECTION,
            "PUT /connection",
            "/connection",
            &admin_with_email(&tenant),
            Some(json!({"provider": "graph", "directory": "demo.example",
                        "credentials": {"provider": "microsoft_graph",
                                        "directory_tenant": "demo.example",
                                        "client_id": "zerodesk",
                                        "client_secret": secret}})),
        ),
    )
    .await;
    drop(guard);
    let text = body_text(&r);
    assert_eq!(r.status(), 200, "{text}");
    assert!(
        !text.contains(secret) && !text.contains("client_secret"),
        "{text}"
    );
    let v = body_json(&r);
    assert_eq!(v["provider"], "graph");
    assert_eq!(v["check"]["requirements"][0]["status"], "granted", "{text}");
    assert!(v["connection_id"].as_str().unwrap().starts_with("conn-"));
    assert!(!logs.contents().contains(secret));
    let recorded = h.publisher.of_type("TenantConfigChanged");
    assert_eq!(
        recorded.len(),
        1,
        "the change is recorded in the tenant's trail"
    );
    assert_eq!(recorded[0].tenant_id.as_str(), tenant);
    assert!(
        !format!("{recorded:?}").contains(secret),
        "the record holds no credential"
    );

    // The vault holds the credentials; that they are sealed at rest is the
    // vault adapter's own test (zerodesk-crypto, against the emulator).
    let tenant_id = TenantId::parse(&tenant).unwrap();
    assert!(
        h.secrets.holds(&tenant_id),
        "the vault holds the credentials"
    );

    let deleted = handle(
        &h.app,
        request(
            GET_AUDIT,
            "DELETE /connection",
            "/connection",
            &tenant_claims(&tenant, "tenant_admin"),
            None,
        ),
    )
    .await;
    assert_eq!(deleted.status(), 200);
    let removal = body_json(&deleted);
    assert!(removal["tenant_must_remove"].is_array(), "{removal}");
    assert!(!h.secrets.holds(&tenant_id), "the secret must be destroyed");
}

fn admin_with_email(tenant: &str) -> Vec<(&str, Option<&str>)> {
    let mut claims = tenant_claims(tenant, "tenant_admin");
    claims.push(("email", Some("root@demo.example")));
    claims.push(("email_verified", Some("true")));
    claims
}

#[tokio::test]
async fn a_connection_missing_a_permission_is_refused_by_the_permissions_name() {
    let h = harness().await;
    let tenant = onboard(&h, "miss").await;
    h.directory.lack("User-PasswordProfile.ReadWrite.All");
    let r = handle(
        &h.app,
        request(
            PUT_CONNECTION,
            "PUT /connection",
            "/connection",
            &admin_with_email(&tenant),
            Some(json!({"provider": "graph", "directory": "demo.example",
                        "credentials": {"provider": "microsoft_graph",
                                        "directory_tenant": "demo.example",
                                        "client_id": "zerodesk",
                                        "client_secret": "test-only"}})),
        ),
    )
    .await;
    let v = body_json(&r);
    assert_eq!(r.status(), 422, "{v}");
    assert_eq!(v["error"]["code"], "connection_incomplete");
    assert_eq!(
        v["error"]["missing"],
        json!(["User-PasswordProfile.ReadWrite.All"])
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing: User-PasswordProfile.ReadWrite.All")
    );
    let tenant_id = TenantId::parse(&tenant).unwrap();
    assert!(!h.secrets.holds(&tenant_id), "nothing is stored");
}

#[tokio::test]
async fn a_platform_operator_read_of_a_tenants_audit_appears_in_that_tenants_trail() {
    let h = harness().await;
    let tenant = onboard(&h, "plat").await;
    let path = format!("/platform/tenants/{tenant}/audit");
    let r = handle(
        &h.app,
        request(
            GET_PLATFORM_AUDIT,
            "GET /platform/tenants/{tenant}/audit",
            &path,
            &platform_claims("platform_operator"),
            None,
        ),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", body_text(&r));
    let accesses = h.publisher.of_type("PlatformAccess");
    assert_eq!(accesses.len(), 1);
    assert_eq!(accesses[0].tenant_id.as_str(), tenant);
    for e in accesses {
        h.audit.write(&e);
    }
    // The tenant's own auditor sees the access in its trail.
    let mine = handle(
        &h.app,
        request(
            GET_AUDIT,
            "GET /audit",
            "/audit",
            &tenant_claims(&tenant, "tenant_auditor"),
            None,
        ),
    )
    .await;
    assert_eq!(mine.status(), 200);
    let records = body_json(&mine)["items"].as_array().unwrap().clone();
    let access = records
        .iter()
        .find(|r| r["action"] == "PlatformAccess")
        .expect("the access is in the tenant's trail");
    assert_eq!(access["actor"]["role"], "platform_operator");
    assert_eq!(
        access["details"]["route"],
        "GET /platform/tenants/{tenant}/audit"
    );
    let verify = handle(
        &h.app,
        request(
            GET_AUDIT,
            "GET /audit/verify",
            "/audit/verify",
            &tenant_claims(&tenant, "tenant_auditor"),
            None,
        ),
    )
    .await;
    assert_eq!(body_json(&verify)["ok"], true);
}

#[tokio::test]
async fn tenant_users_and_platform_admins_cannot_use_the_platform_audit_path() {
    let h = harness().await;
    let tenant = onboard(&h, "path").await;
    let path = format!("/platform/tenants/{tenant}/audit");
    for claims in [
        tenant_claims(&tenant, "tenant_admin"),
        platform_claims("platform_admin"),
    ] {
        let r = handle(
            &h.app,
            request(
                GET_PLATFORM_AUDIT,
                "GET /platform/tenants/{tenant}/audit",
                &path,
                &claims,
                None,
            ),
        )
        .await;
        assert_eq!(r.status(), 403);
    }
    assert!(h.publisher.of_type("PlatformAccess").is_empty());
}

#[tokio::test]
async fn an_offboarded_tenants_users_are_refused_on_every_route_at_once() {
    let h = harness().await;
    let tenant = onboard(&h, "off").await;
    let admin = tenant_claims(&tenant, "tenant_admin");
    let before = handle(
        &h.app,
        request(GET_AUDIT, "GET /audit", "/audit", &admin, None),
    )
    .await;
    assert_eq!(before.status(), 200);
    let off = handle(
        &h.app,
        request(
            GET_AUDIT,
            "POST /platform/tenants/{tenant}/offboard",
            &format!("/platform/tenants/{tenant}/offboard"),
            &platform_claims("platform_admin"),
            None,
        ),
    )
    .await;
    assert_eq!(off.status(), 200, "{}", body_text(&off));
    assert_eq!(body_json(&off)["status"], "offboarding");
    for (route, path, body) in [
        ("GET /audit", "/audit", None),
        ("GET /audit/verify", "/audit/verify", None),
        ("GET /audit/export", "/audit/export", None),
        ("GET /policy", "/policy", None),
        ("PUT /policy", "/policy", Some(json!({}))),
        ("DELETE /connection", "/connection", None),
    ] {
        let r = handle(&h.app, request(GET_AUDIT, route, path, &admin, body)).await;
        assert_eq!(r.status(), 403, "{route}");
        assert_eq!(body_json(&r)["error"]["code"], "tenant_inactive", "{route}");
    }
}

#[tokio::test]
async fn the_export_is_json_lines_that_verify_offline() {
    let h = harness().await;
    let tenant = onboard(&h, "exp").await;
    // Three operator reads: three records in the tenant's trail.
    let path = format!("/platform/tenants/{tenant}/audit/verify");
    for _ in 0..3 {
        let r = handle(
            &h.app,
            request(
                GET_PLATFORM_AUDIT,
                "GET /platform/tenants/{tenant}/audit/verify",
                &path,
                &platform_claims("readonly_auditor"),
                None,
            ),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    for e in h.publisher.of_type("PlatformAccess") {
        h.audit.write(&e);
    }
    let r = handle(
        &h.app,
        request(
            GET_AUDIT,
            "GET /audit/export",
            "/audit/export",
            &tenant_claims(&tenant, "tenant_auditor"),
            None,
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = body_text(&r);
    let records = zerodesk_ledger::audit::parse_jsonl(text.as_bytes()).unwrap();
    assert_eq!(records.len(), 3);
    assert!(zerodesk_ledger::audit::verify(&records).ok);
}

#[tokio::test]
async fn unknown_routes_and_missing_claims_are_refused() {
    let h = harness().await;
    let mut v: Value = serde_json::from_str(GET_AUDIT).unwrap();
    v["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let r = handle(
        &h.app,
        lambda_http::request::from_str(&v.to_string()).unwrap(),
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = handle(
        &h.app,
        request(
            GET_AUDIT,
            "GET /nowhere",
            "/nowhere",
            &tenant_claims("demo", "tenant_admin"),
            None,
        ),
    )
    .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn an_administrator_changing_the_policy_past_the_limit_gets_429_with_retry_after() {
    use zerodesk_admin::ADMIN_WRITES_PER_CALLER_PER_MINUTE;
    let h = harness().await;
    let tenant = onboard(&h, "limits").await;
    let put_policy = || {
        request(
            PUT_CONNECTION,
            "PUT /policy",
            "/policy",
            &tenant_claims(&tenant, "tenant_admin"),
            Some(json!({"auto_resolve": ["password_reset"]})),
        )
    };
    for _ in 0..ADMIN_WRITES_PER_CALLER_PER_MINUTE {
        let r = handle(&h.app, put_policy()).await;
        assert_eq!(r.status(), 200, "{}", body_text(&r));
    }
    let refused = handle(&h.app, put_policy()).await;
    assert_eq!(refused.status(), 429, "{}", body_text(&refused));
    assert_eq!(body_json(&refused)["error"]["code"], "rate_limited");
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    // Reading is not a change and is not held up.
    let read = handle(
        &h.app,
        request(
            GET_AUDIT,
            "GET /policy",
            "/policy",
            &tenant_claims(&tenant, "tenant_admin"),
            None,
        ),
    )
    .await;
    assert_eq!(read.status(), 200);
}
