//! The admin use cases in-process, over the in-memory adapters.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

use chrono::Utc;
use zerodesk_admin::{Admin, AdminError, ErasureInput, InMemory, NewTenant, RequestedBy};
use zerodesk_crypto::MemorySecrets;
use zerodesk_domain::{
    AccountRef, Category, Classification, CorrelationId, Decision, Principal, PrincipalScope, Role,
    SystemClock, SystemTask, TenantId, TenantScope, Ticket, TicketId, TicketState,
};
use zerodesk_events::{Actor, DomainEvent, InMemoryPublisher, TicketStateChanged};
use zerodesk_ledger::MemoryAudit;
use zerodesk_store::{MemoryTenants, MemoryTickets, TicketStore};

type TestAdmin = Admin<InMemory>;

struct World {
    admin: TestAdmin,
    tenants: MemoryTenants,
    tickets: MemoryTickets,
    audit: MemoryAudit,
}

fn world() -> World {
    let (tenants, tickets, audit) = (
        MemoryTenants::new(),
        MemoryTickets::new(),
        MemoryAudit::new(),
    );
    World {
        admin: Admin {
            tenants: tenants.clone(),
            tickets: tickets.clone(),
            audit: audit.clone(),
            vault: MemorySecrets::new(),
            directories: zerodesk_directory::MemoryDirectory::new(),
            counters: zerodesk_store::MemoryRateLimits::new(),
            publisher: InMemoryPublisher::new(),
            clock: SystemClock,
            gate: zerodesk_store::TenantGate::default(),
        },
        tenants,
        tickets,
        audit,
    }
}

fn principal(role: Role, tenant: Option<&TenantId>) -> Principal {
    Principal {
        subject: format!("{}-1", role.as_str()),
        email: None,
        role,
        scope: match tenant {
            Some(t) => PrincipalScope::Tenant(t.clone()),
            None => PrincipalScope::Platform,
        },
    }
}

fn ticket(tenant: &TenantId, requester: &str) -> Ticket {
    Ticket {
        id: TicketId::generate(),
        tenant_id: tenant.clone(),
        requester: AccountRef::parse(requester).unwrap(),
        filed_by: requester.to_owned(),
        subject: "Locked out".into(),
        body: "I am locked out, this is Alice from accounts".into(),
        state: TicketState::Triaged,
        classification: Classification {
            category: Category::AccountUnlock,
            confidence: 0.9,
            rationale: vec!["mentions 'locked out'".into()],
            risk_flags: vec![],
            target: None,
            decision: Decision::AutoResolve,
        },
        reason: None,
        approved_by: None,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

async fn onboarded(w: &World) -> TenantId {
    let corr = CorrelationId::generate();
    let platform = principal(Role::PlatformAdmin, None);
    w.admin
        .create_tenant(
            RequestedBy {
                principal: &platform,
                correlation_id: &corr,
            },
            NewTenant {
                tenant_id: "acme".into(),
                name: "Acme".into(),
                policy: None,
            },
        )
        .await
        .unwrap();
    TenantId::parse("acme").unwrap()
}

#[tokio::test]
async fn erasure_redacts_only_the_persons_tickets_with_their_trail_pseudonym() {
    let w = world();
    let tenant = onboarded(&w).await;
    let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::EventDrivenAction);
    for who in [
        "alice@acme.example",
        "bob@acme.example",
        "alice@acme.example",
    ] {
        w.tickets
            .create(&scope, &ticket(&tenant, who))
            .await
            .unwrap();
    }
    // audit-write has made the tenant's salt with a first record.
    w.audit.write(&DomainEvent::new(
        &scope,
        Actor {
            subject: "alice@acme.example".into(),
            role: "tenant_user".into(),
        },
        CorrelationId::generate(),
        TicketStateChanged {
            ticket_id: TicketId::generate(),
            old_state: TicketState::Triaged,
            new_state: TicketState::InProgress,
            reason: None,
        },
    ));
    let corr = CorrelationId::generate();
    let admin = principal(Role::TenantAdmin, Some(&tenant));
    let by = RequestedBy {
        principal: &admin,
        correlation_id: &corr,
    };
    let report = w
        .admin
        .erase(
            by,
            ErasureInput {
                account: "Alice@Acme.example".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.tickets_redacted, 2);
    let pseudonym = report.pseudonym.unwrap();
    let trail = w
        .audit
        .records(&zerodesk_ledger::audit::ChainScope::Tenant(tenant.clone()));
    assert_eq!(
        trail[0].actor.subject, pseudonym,
        "the trail's name for her"
    );
    let dump = format!("{:?}", w.tickets.all());
    assert!(!dump.contains("alice"), "{dump}");
    assert!(dump.contains("bob@acme.example"), "others are untouched");
    let again = w
        .admin
        .erase(
            by,
            ErasureInput {
                account: "alice@acme.example".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(again.tickets_redacted, 0);
}

#[tokio::test]
async fn an_unavailable_tenant_table_is_transient_and_a_refusal_is_not() {
    let w = world();
    let tenant = onboarded(&w).await;
    let corr = CorrelationId::generate();
    let auditor = principal(Role::TenantAuditor, Some(&tenant));
    let by = RequestedBy {
        principal: &auditor,
        correlation_id: &corr,
    };
    let refused = w
        .admin
        .erase(
            by,
            ErasureInput {
                account: "bob@acme.example".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, AdminError::Forbidden));
    assert!(!refused.is_transient());

    w.tenants.outage.set(true);
    let other = TenantId::parse("other").unwrap();
    let reader = principal(Role::TenantAdmin, Some(&other));
    let down = w
        .admin
        .get_policy(RequestedBy {
            principal: &reader,
            correlation_id: &corr,
        })
        .await
        .unwrap_err();
    assert!(matches!(down, AdminError::Unavailable(_)), "{down:?}");
    assert!(down.is_transient());
}

/// The admin's world with a directory: carol (also c.finance) in Finance.
fn world_with_directory() -> World {
    let mut w = world();
    w.admin.directories = zerodesk_directory::MemoryDirectory::new()
        .with_group("grp-finance", "Finance")
        .with_account(
            "carol@acme.example",
            zerodesk_directory::MemoryAccount::new(zerodesk_directory::AccountState::Active)
                .in_groups(&["grp-finance"]),
        )
        .with_alias("c.finance@acme.example", "carol@acme.example");
    w
}

#[tokio::test]
async fn protected_entries_are_stored_as_the_directorys_ids_and_unknown_ones_are_named() {
    use zerodesk_crypto::{ConnectionSecrets, SecretBytes};
    let w = world_with_directory();
    let tenant = onboarded(&w).await;
    let corr = CorrelationId::generate();
    let admin = principal(Role::TenantAdmin, Some(&tenant));
    let by = RequestedBy {
        principal: &admin,
        correlation_id: &corr,
    };
    let mut policy = zerodesk_domain::TenantPolicy::default();
    policy
        .protected_accounts
        .insert(AccountRef::parse("c.finance@acme.example").unwrap());
    policy.protected_groups.insert("FINANCE".to_owned());

    // No connection yet: stored unresolved, so every action escalates.
    let stored = w.admin.put_policy(by, policy.clone()).await.unwrap();
    assert_eq!(stored.protected_ids, None);

    let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::TenantLifecycle);
    w.admin
        .vault
        .store(
            &scope,
            &zerodesk_domain::ConnectionId::parse("conn-1").unwrap(),
            SecretBytes::new(
                br#"{"provider":"okta_api_token","org_url":"https://acme.okta.com","api_token":"t"}"#
                    .to_vec(),
            ),
        )
        .await
        .unwrap();
    let stored = w.admin.put_policy(by, policy.clone()).await.unwrap();
    let ids = stored.protected_ids.expect("resolved");
    assert_eq!(ids.provider, "okta");
    assert_eq!(
        ids.accounts.into_iter().collect::<Vec<_>>(),
        vec!["id:carol@acme.example"],
        "the alias is stored as the account's id"
    );
    assert_eq!(
        ids.groups.into_iter().collect::<Vec<_>>(),
        vec!["grp-finance"],
        "the group named in another case is stored as its id"
    );

    policy.protected_groups.insert("Payroll".to_owned());
    let refused = w.admin.put_policy(by, policy).await.unwrap_err();
    assert!(
        matches!(
            &refused,
            AdminError::Unresolved { field: "protected_groups", entry, .. } if entry == "Payroll"
        ),
        "{refused:?}"
    );
}
