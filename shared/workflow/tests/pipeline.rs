//! The ticket pipeline against the AWS emulator and the fake Google
//! directory: triage decisions, self-service and approved resets, unlocks,
//! protected accounts, provider faults, concurrency, and no secret in logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::Utc;
use sha1::Digest;
use zerodesk_aws::TenantClientsCache;
use zerodesk_crypto::{CredentialVault, SecretBytes};
use zerodesk_directory::DirectoryEndpoints;
use zerodesk_domain::{
    AccountRef, Category, ConnectionId, CorrelationId, Decision, Principal, PrincipalScope, Role,
    SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus, TicketState,
};
use zerodesk_events::{DirectoryAction, InMemoryPublisher};
use zerodesk_fakes::{FakeGoogle, FakeGraph, Fault, demo_seed};
use zerodesk_store::TenantRepo;
use zerodesk_testkit::{LocalAws, unique_tenant};
use zerodesk_workflow::{DirectorySettings, NewTicket, Services, Tables, WorkflowError};

struct World {
    services: Services<InMemoryPublisher>,
    events: InMemoryPublisher,
    google: FakeGoogle,
    graph: FakeGraph,
    tenant: TenantId,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Connected {
    Google,
    Graph,
}

fn person(tenant: &TenantId, role: Role, email: &str) -> Principal {
    Principal {
        subject: email.to_owned(),
        email: Some(AccountRef::parse(email).unwrap()),
        role,
        scope: PrincipalScope::Tenant(tenant.clone()),
    }
}

async fn world_with(policy: TenantPolicy, timeout: Duration) -> World {
    world_connected(policy, timeout, Connected::Google).await
}

async fn world_connected(policy: TenantPolicy, timeout: Duration, connected: Connected) -> World {
    let aws = LocalAws::shared();
    let config = aws.sdk_config().await;
    let tenant = TenantId::parse(&unique_tenant("wf")).unwrap();
    let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::TenantLifecycle);
    let record = Tenant {
        id: tenant.clone(),
        name: "Demo".into(),
        status: TenantStatus::Active,
        policy,
        created_at: Utc::now(),
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    TenantRepo::new(dynamodb, &aws.names.tables.tenants)
        .create(&scope, &record)
        .await
        .unwrap();

    let google = FakeGoogle::start(demo_seed()).await.unwrap();
    let graph = FakeGraph::start(demo_seed()).await.unwrap();
    let credentials = match connected {
        Connected::Google => google.credentials_json("demo.example"),
        Connected::Graph => graph.credentials_json("demo.example"),
    }
    .unwrap()
    .to_string();
    let vault = CredentialVault::new(
        aws_sdk_kms::Client::new(&config),
        aws_sdk_secretsmanager::Client::new(&config),
        &aws.names.kms_key_id,
        &aws.names.stage,
    );
    vault
        .store(
            &scope,
            &ConnectionId::parse("google").unwrap(),
            &SecretBytes::new(credentials.into_bytes()),
        )
        .await
        .unwrap();

    let clients =
        TenantClientsCache::assuming(&config, &aws.names.tenant_access_role_arn, "workflow-test");
    let endpoints = DirectoryEndpoints::from_lookup(|name| match name {
        "GOOGLE_TOKEN_URL" => Some(google.token_url()),
        "GOOGLE_API_BASE_URL" => Some(google.api_base_url()),
        "GRAPH_TOKEN_BASE_URL" => Some(graph.token_base_url()),
        "GRAPH_API_BASE_URL" => Some(graph.api_base_url()),
        _ => None,
    })
    .unwrap()
    .with_timeout(timeout);
    let events = InMemoryPublisher::new();
    let tables = Tables::from(&aws.names.table_names());
    let services =
        Services::new(tables, clients, events.clone()).with_directory(DirectorySettings {
            stage: aws.names.stage.clone(),
            kms_key_id: aws.names.kms_key_id.clone(),
            endpoints,
        });
    World {
        services,
        events,
        google,
        graph,
        tenant,
    }
}

fn automating_policy() -> TenantPolicy {
    TenantPolicy {
        auto_resolve: [Category::PasswordReset, Category::AccountUnlock].into(),
        ..Default::default()
    }
}

async fn world() -> World {
    world_with(automating_policy(), Duration::from_secs(5)).await
}

fn corr() -> CorrelationId {
    CorrelationId::generate()
}

fn ticket(subject: &str, body: &str) -> NewTicket {
    NewTicket {
        subject: subject.into(),
        body: body.into(),
        requester: None,
    }
}

fn sha1_hex(s: &str) -> String {
    hex::encode(sha1::Sha1::digest(s.as_bytes()))
}

#[tokio::test]
async fn a_self_service_reset_runs_once_end_to_end() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket(
                "Forgot my password",
                "I forgot my password, please reset it",
            ),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.category, Category::PasswordReset);
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    assert_eq!(filed.state, TicketState::Triaged);

    let done = w
        .services
        .run_action(
            &alice,
            &corr(),
            &filed.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await
        .unwrap();
    let password = done
        .temporary_password
        .as_ref()
        .expect("the first call returns the password")
        .expose()
        .to_owned();
    assert_eq!(done.ticket.state, TicketState::Resolved);
    let user = w.google.user("alice@demo.example").unwrap();
    assert!(
        user.must_change_password,
        "the fake saw a forced change at next login"
    );
    assert_eq!(user.password.as_deref(), Some(sha1_hex(&password).as_str()));
    assert_eq!(user.sessions_revoked, 1);
    assert_eq!(w.events.of_type("DirectoryActionIntent").len(), 1);
    let outcomes = w.events.of_type("DirectoryActionOutcome");
    assert_eq!(outcomes.len(), 1);

    let again = w
        .services
        .run_action(
            &alice,
            &corr(),
            &filed.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(again.replayed);
    assert!(
        again.temporary_password.is_none(),
        "a retry never returns a password"
    );
    assert_eq!(
        w.google.calls_to("users.update").len(),
        1,
        "a retry never resets twice"
    );
    let stored = w.services.get_ticket(&alice, &filed.id).await.unwrap();
    assert_eq!(stored.state, TicketState::Resolved);
    let published = format!("{:?}", w.events.events());
    assert!(
        !published.contains(&password),
        "no event carries the password"
    );
}

#[tokio::test]
async fn a_reset_for_someone_else_runs_only_after_approval_and_only_for_the_approver() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let bob = person(&w.tenant, Role::TenantManager, "bob@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket(
                "Password reset",
                "Please reset the password for carol@demo.example",
            ),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.decision, Decision::NeedsApproval);
    assert_eq!(filed.state, TicketState::AwaitingApproval);

    let early = w
        .services
        .run_action(&bob, &corr(), &filed.id, DirectoryAction::Reset, Utc::now())
        .await;
    assert!(early.is_err(), "nothing runs before approval");
    let by_user = w
        .services
        .approve(&alice, &corr(), &filed.id, Utc::now())
        .await;
    assert!(
        matches!(by_user, Err(WorkflowError::Forbidden)),
        "a tenant_user cannot approve"
    );

    let approved = w
        .services
        .approve(&bob, &corr(), &filed.id, Utc::now())
        .await
        .unwrap();
    assert_eq!(approved.state, TicketState::InProgress);
    let requester_call = w
        .services
        .run_action(
            &alice,
            &corr(),
            &filed.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await;
    assert!(
        matches!(requester_call, Err(WorkflowError::Refused(_))),
        "the requester gets no password"
    );
    assert!(w.google.calls_to("users.update").is_empty());

    let done = w
        .services
        .run_action(&bob, &corr(), &filed.id, DirectoryAction::Reset, Utc::now())
        .await
        .unwrap();
    let password = done
        .temporary_password
        .expect("the approver receives the password");
    let carol = w.google.user("carol@demo.example").unwrap();
    assert!(carol.must_change_password);
    assert_eq!(
        carol.password.as_deref(),
        Some(sha1_hex(password.expose()).as_str())
    );
    assert_eq!(done.ticket.state, TicketState::Resolved);
}

#[tokio::test]
async fn protected_and_mfa_tickets_escalate_without_any_provider_call() {
    let mut policy = automating_policy();
    policy
        .protected_accounts
        .insert(AccountRef::parse("carol@demo.example").unwrap());
    let w = world_with(policy, Duration::from_secs(5)).await;
    let carol = person(&w.tenant, Role::TenantUser, "carol@demo.example");
    let protected = w
        .services
        .file_ticket(
            &carol,
            &corr(),
            ticket("Forgot password", "I forgot my password"),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(protected.classification.decision, Decision::Escalate);
    assert_eq!(protected.state, TicketState::Escalated);

    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let mfa = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket(
                "New phone",
                "I got a new phone, please reset my MFA authenticator",
            ),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(mfa.classification.decision, Decision::Escalate);
    for t in [&protected, &mfa] {
        assert!(
            w.services
                .run_action(&carol, &corr(), &t.id, DirectoryAction::Reset, Utc::now())
                .await
                .is_err()
        );
    }
    // A directory admin the policy does not list is caught by the lookup.
    let root = person(&w.tenant, Role::TenantUser, "root@demo.example");
    let admin = w
        .services
        .file_ticket(
            &root,
            &corr(),
            ticket("Forgot password", "I forgot my password"),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(admin.classification.decision, Decision::AutoResolve);
    let refused = w
        .services
        .run_action(
            &root,
            &corr(),
            &admin.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await;
    assert!(matches!(
        refused,
        Err(WorkflowError::Escalated {
            provider_fault: false,
            ..
        })
    ));
    assert_eq!(
        w.services.get_ticket(&root, &admin.id).await.unwrap().state,
        TicketState::Escalated
    );
    assert!(
        w.google.calls_to("users.update").is_empty(),
        "no reset reached the provider"
    );
}

#[tokio::test]
async fn each_provider_fault_escalates_the_ticket_and_returns_no_password() {
    let mut policy = automating_policy();
    policy.rate_limits.per_account_per_hour = 20;
    let w = world_with(policy, Duration::from_millis(700)).await;
    let faults = [
        Fault::Status(500),
        Fault::Status(403),
        Fault::Hang(Duration::from_secs(3)),
        Fault::Garbage,
    ];
    for fault in faults {
        let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
        let filed = w
            .services
            .file_ticket(
                &alice,
                &corr(),
                ticket("Forgot my password", "I forgot my password"),
                Utc::now(),
            )
            .await
            .unwrap();
        w.google.clear_faults();
        w.google.fail_route("users.update", fault);
        let r = w
            .services
            .run_action(
                &alice,
                &corr(),
                &filed.id,
                DirectoryAction::Reset,
                Utc::now(),
            )
            .await;
        assert!(
            matches!(r, Err(WorkflowError::Escalated { .. })),
            "{fault:?}: {r:?}"
        );
        let stored = w.services.get_ticket(&alice, &filed.id).await.unwrap();
        assert_eq!(stored.state, TicketState::Escalated, "{fault:?}");
        assert!(
            stored.reason.is_some(),
            "the reason travels with the ticket"
        );
    }
    w.google.clear_faults();
    // The directory being unreachable during lookup escalates too.
    w.google.fail_all(Fault::Status(503));
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
            Utc::now(),
        )
        .await
        .unwrap();
    let r = w
        .services
        .run_action(
            &alice,
            &corr(),
            &filed.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await;
    assert!(matches!(
        r,
        Err(WorkflowError::Escalated {
            provider_fault: true,
            ..
        })
    ));
    let failed = w.events.of_type("DirectoryActionOutcome").len();
    assert_eq!(failed, 5, "every attempt recorded an outcome");
}

#[tokio::test]
async fn twenty_concurrent_identical_resets_make_one_provider_reset() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
            Utc::now(),
        )
        .await
        .unwrap();
    let calls = (0..20).map(|_| {
        let c = corr();
        let services = &w.services;
        let alice = &alice;
        let id = filed.id;
        async move {
            services
                .run_action(alice, &c, &id, DirectoryAction::Reset, Utc::now())
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    let passwords = results
        .iter()
        .filter(|r| matches!(r, Ok(a) if a.temporary_password.is_some()))
        .count();
    assert_eq!(passwords, 1, "exactly one caller receives a password");
    assert_eq!(w.google.calls_to("users.update").len(), 1);
}

#[tokio::test]
async fn an_unlock_of_ones_own_locked_account_resolves_it() {
    let w = world().await;
    let bob = person(&w.tenant, Role::TenantUser, "bob@demo.example");
    let filed = w
        .services
        .file_ticket(
            &bob,
            &corr(),
            ticket("Locked out", "My account is locked, I can't log in"),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.category, Category::AccountUnlock);
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    let done = w
        .services
        .run_action_from_event(w.tenant.clone(), &corr(), &filed.id, Utc::now())
        .await
        .unwrap();
    assert_eq!(done.ticket.state, TicketState::Resolved);
    assert!(done.temporary_password.is_none());
    assert_eq!(
        w.google.user("bob@demo.example").unwrap().state,
        zerodesk_fakes::SeedState::Active
    );
    // The HTTP call afterwards is a replay, not a second unlock.
    let again = w
        .services
        .run_action(
            &bob,
            &corr(),
            &filed.id,
            DirectoryAction::Unlock,
            Utc::now(),
        )
        .await
        .unwrap();
    assert!(again.replayed);
}

#[tokio::test]
async fn another_tenants_manager_gets_not_found_for_a_ticket() {
    let w = world().await;
    let other = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
            Utc::now(),
        )
        .await
        .unwrap();
    let eve = person(&other.tenant, Role::TenantManager, "eve@other.example");
    assert!(matches!(
        w.services.get_ticket(&eve, &filed.id).await,
        Err(WorkflowError::NotFound)
    ));
    assert!(matches!(
        w.services
            .run_action(&eve, &corr(), &filed.id, DirectoryAction::Reset, Utc::now())
            .await,
        Err(WorkflowError::NotFound)
    ));
    let bob = person(&w.tenant, Role::TenantUser, "bob@demo.example");
    assert!(
        matches!(
            w.services.get_ticket(&bob, &filed.id).await,
            Err(WorkflowError::NotFound)
        ),
        "another user's ticket"
    );
}

#[tokio::test]
async fn no_log_line_carries_the_temporary_password_or_credentials() {
    let logs = zerodesk_telemetry::CapturedLogs::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket(
                "Forgot my password",
                "I forgot my password. My old password is hunter2!",
            ),
            Utc::now(),
        )
        .await
        .unwrap();
    let done = w
        .services
        .run_action(
            &alice,
            &corr(),
            &filed.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await
        .unwrap();
    let password = done.temporary_password.unwrap().expose().to_owned();
    w.google.fail_route("users.update", Fault::Status(500));
    let second = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
            Utc::now(),
        )
        .await
        .unwrap();
    let _ = w
        .services
        .run_action(
            &alice,
            &corr(),
            &second.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await;
    let captured = logs.contents();
    assert!(!captured.is_empty(), "the workflow logged something");
    assert!(!captured.contains(&password), "temporary password in logs");
    assert!(!captured.contains("PRIVATE KEY"), "credential in logs");
    assert!(
        !captured.contains("hunter2"),
        "a password from the ticket text in logs"
    );
    assert!(
        !filed.body.contains("hunter2"),
        "ticket text is redacted on write"
    );
}

#[tokio::test]
async fn on_entra_id_a_disabled_account_is_never_re_enabled_by_automation() {
    let w = world_connected(
        automating_policy(),
        Duration::from_secs(5),
        Connected::Graph,
    )
    .await;
    // Entra cannot tell a lockout from an administrator's disable: bob is
    // "locked out" in the seed, which Graph shows as accountEnabled=false.
    let bob = person(&w.tenant, Role::TenantUser, "bob@demo.example");
    let filed = w
        .services
        .file_ticket(
            &bob,
            &corr(),
            ticket("Locked out", "My account is locked, I can't log in"),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    let r = w
        .services
        .run_action_from_event(w.tenant.clone(), &corr(), &filed.id, Utc::now())
        .await;
    assert!(
        matches!(
            r,
            Err(WorkflowError::Escalated {
                provider_fault: false,
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(
        w.services.get_ticket(&bob, &filed.id).await.unwrap().state,
        TicketState::Escalated
    );
    assert!(
        w.graph.calls().iter().all(|c| c.method != "PATCH"),
        "no account was re-enabled"
    );

    // A reset on Entra forces the change at next sign-in.
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let reset = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
            Utc::now(),
        )
        .await
        .unwrap();
    let done = w
        .services
        .run_action(
            &alice,
            &corr(),
            &reset.id,
            DirectoryAction::Reset,
            Utc::now(),
        )
        .await
        .unwrap();
    let password = done.temporary_password.expect("password returned once");
    let user = w.graph.user("alice@demo.example").unwrap();
    assert!(user.must_change_password);
    assert_eq!(user.password.as_deref(), Some(password.expose()));
}
