//! Every ticket route x every role x own / other tenant, through the real
//! handler and the in-memory adapters. Each cell states the status the
//! caller gets; 404 wherever existence must not leak.

use chrono::Utc;
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use zerodesk_domain::{Category, ClaimNames, Role, Tenant, TenantId, TenantPolicy, TenantStatus};
use zerodesk_store::MemoryTenants;
use zerodesk_workflow::{InMemory, Services};

use crate::handler::{App, handle};

const BASE: &str = include_str!("../../../events/api-post-ticket.json");

struct Setup {
    app: App<InMemory>,
    own: String,
    other: String,
}

async fn setup() -> Setup {
    let mut tenants = Vec::new();
    let mut ids = Vec::new();
    for prefix in ["mx-own", "mx-other"] {
        let id = TenantId::parse(prefix).unwrap();
        tenants.push(Tenant {
            id: id.clone(),
            name: prefix.into(),
            status: TenantStatus::Active,
            policy: TenantPolicy {
                auto_resolve: [Category::PasswordReset].into(),
                ..Default::default()
            },
            created_at: Utc::now(),
        });
        ids.push(id.to_string());
    }
    let mut services = Services::in_memory();
    services.tenants = MemoryTenants::with(tenants);
    let app = App {
        services,
        claim_names: ClaimNames::default(),
    };
    let other = ids.pop().unwrap();
    let own = ids.pop().unwrap();
    Setup { app, own, other }
}

fn email_of(role: Role) -> String {
    match role {
        Role::TenantUser => "alice@demo.example".into(),
        r => format!("{}@demo.example", r.as_str().replace('_', "-")),
    }
}

fn request(
    route: &str,
    path_params: Value,
    body: Option<Value>,
    role: Role,
    tenant: Option<&str>,
) -> Request {
    let mut v: Value = serde_json::from_str(BASE).unwrap();
    v["routeKey"] = json!(route);
    v["requestContext"]["routeKey"] = json!(route);
    v["requestContext"]["http"]["method"] = json!(route.split(' ').next().unwrap());
    v["pathParameters"] = path_params;
    v["body"] = body.map_or(Value::Null, |b| json!(b.to_string()));
    let claims = &mut v["requestContext"]["authorizer"]["jwt"]["claims"];
    claims["role"] = json!(role.as_str());
    claims["sub"] = json!(email_of(role));
    claims["email"] = json!(email_of(role));
    match tenant {
        Some(t) => claims["tenant_id"] = json!(t),
        None => {
            claims.as_object_mut().unwrap().remove("tenant_id");
        }
    }
    lambda_http::request::from_str(&v.to_string()).unwrap()
}

async fn status(
    s: &Setup,
    route: &str,
    params: Value,
    body: Option<Value>,
    role: Role,
    tenant: Option<&str>,
) -> u16 {
    handle(&s.app, request(route, params, body, role, tenant))
        .await
        .status()
        .as_u16()
}

/// A ticket alice files in the own tenant: a reset for carol, awaiting approval.
async fn pending_ticket(s: &Setup) -> String {
    let body = json!({"subject": "Password reset", "body": "Please reset the password for carol@demo.example"});
    let r = handle(
        &s.app,
        request(
            "POST /tickets",
            json!({}),
            Some(body),
            Role::TenantUser,
            Some(&s.own),
        ),
    )
    .await;
    assert_eq!(r.status(), 201);
    let Body::Text(t) = r.body() else {
        panic!("no body")
    };
    let v: Value = serde_json::from_str(t).unwrap();
    assert_eq!(v["state"], "awaiting_approval");
    v["id"].as_str().unwrap().to_owned()
}

fn tenant_for(role: Role, tenant: &str) -> Option<&str> {
    (!role.is_platform()).then_some(tenant)
}

#[tokio::test]
async fn every_ticket_route_answers_every_role_as_designed() {
    let s = setup().await;
    // role order: user, manager, admin, auditor, automation, operator, platform admin, readonly auditor
    let file = [201, 201, 201, 403, 201, 403, 403, 403];
    let list = [200, 200, 200, 200, 403, 403, 403, 403];
    let read = [200, 200, 200, 200, 404, 403, 403, 403];
    let decide = [403, 200, 200, 403, 404, 403, 403, 403];
    for (i, role) in Role::ALL.into_iter().enumerate() {
        let mut body = json!({"subject": "Printer", "body": "The printer on floor 2 is jammed"});
        if role == Role::AutomationService {
            body["requester"] = json!("alice@demo.example");
        }
        let t = tenant_for(role, &s.own);
        assert_eq!(
            status(&s, "POST /tickets", json!({}), Some(body), role, t).await,
            file[i],
            "POST /tickets as {role}"
        );
        assert_eq!(
            status(&s, "GET /tickets", json!({}), None, role, t).await,
            list[i],
            "GET /tickets as {role}"
        );
        let id = pending_ticket(&s).await;
        let params = json!({ "id": id });
        assert_eq!(
            status(&s, "GET /tickets/{id}", params.clone(), None, role, t).await,
            read[i],
            "GET one as {role}"
        );
        assert_eq!(
            status(
                &s,
                "POST /tickets/{id}/approve",
                params.clone(),
                None,
                role,
                t
            )
            .await,
            decide[i],
            "approve as {role}"
        );
        let id = pending_ticket(&s).await;
        assert_eq!(
            status(
                &s,
                "POST /tickets/{id}/reject",
                json!({ "id": id }),
                None,
                role,
                t
            )
            .await,
            decide[i],
            "reject as {role}"
        );
    }
}

#[tokio::test]
async fn another_tenants_roles_get_404_for_every_ticket_route() {
    let s = setup().await;
    let id = pending_ticket(&s).await;
    for role in Role::ALL.into_iter().filter(|r| !r.is_platform()) {
        let t = Some(s.other.as_str());
        for route in [
            "GET /tickets/{id}",
            "POST /tickets/{id}/approve",
            "POST /tickets/{id}/reject",
        ] {
            assert_eq!(
                status(&s, route, json!({ "id": id }), None, role, t).await,
                404,
                "{route} as other tenant's {role}"
            );
        }
    }
    // The ticket is untouched by all of that.
    assert_eq!(
        status(
            &s,
            "GET /tickets/{id}",
            json!({ "id": id }),
            None,
            Role::TenantManager,
            Some(&s.own)
        )
        .await,
        200
    );
}

#[tokio::test]
async fn only_platform_operators_and_auditors_read_through_the_platform_path() {
    let s = setup().await;
    let id = pending_ticket(&s).await;
    let expected = [403, 403, 403, 403, 403, 200, 403, 200];
    for (i, role) in Role::ALL.into_iter().enumerate() {
        let t = tenant_for(role, &s.own);
        let list = status(
            &s,
            "GET /platform/tenants/{tenant}/tickets",
            json!({ "tenant": s.own }),
            None,
            role,
            t,
        )
        .await;
        assert_eq!(list, expected[i], "platform list as {role}");
        let one = status(
            &s,
            "GET /platform/tenants/{tenant}/tickets/{id}",
            json!({ "tenant": s.own, "id": id }),
            None,
            role,
            t,
        )
        .await;
        assert_eq!(one, expected[i], "platform read as {role}");
    }
    let unknown = status(
        &s,
        "GET /platform/tenants/{tenant}/tickets",
        json!({ "tenant": "no-such-tenant" }),
        None,
        Role::PlatformOperator,
        None,
    )
    .await;
    assert_eq!(unknown, 404);
    let accesses = s.app.services.publisher.of_type("PlatformAccess");
    assert_eq!(
        accesses.len(),
        4,
        "each platform read is recorded in the tenant's trail"
    );
    assert!(accesses.iter().all(|e| e.tenant_id.as_str() == s.own));
}
