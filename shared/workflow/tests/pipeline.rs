//! The ticket pipeline in-process, on the in-memory adapters and directory:
//! triage decisions, self-service and approved resets, unlocks, protected
//! accounts, provider faults, concurrency, and no secret in logs. The same
//! paths through DynamoDB, KMS and the HTTPS connectors against the fakes are
//! in the testkit's `workflow_adapters` tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use zerodesk_crypto::{ConnectionSecrets, SecretBytes};
use zerodesk_directory::{
    AccountState, MemoryAccount, MemoryDirectory, MemoryFault, MemoryOp, OwnerChannels,
};
use zerodesk_domain::{
    AccountRef, Category, ConnectionId, CorrelationId, Decision, Principal, PrincipalScope,
    ProtectedIds, Role, SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus,
    TicketId, TicketState,
};
use zerodesk_events::{DirectoryAction, InMemoryPublisher};
use zerodesk_store::TicketStore;
use zerodesk_store::{MemoryTenants, TenantStore};
use zerodesk_workflow::{
    ActionResult, InMemory, NewTicket, OwnerOutcome, PageAnswer, Services, VerifyRefusal,
    WorkflowError,
};

/// A PEM-shaped key (the in-memory directory never parses it) that no log line may carry.
const TEST_PRIVATE_KEY: &str =
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";

struct World {
    services: Services<InMemory>,
    events: InMemoryPublisher,
    directory: MemoryDirectory,
    tenant: TenantId,
}

/// Which provider the tenant's connection names.
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

fn record(id: &TenantId, policy: TenantPolicy) -> Tenant {
    Tenant {
        id: id.clone(),
        name: "Demo".into(),
        status: TenantStatus::Active,
        policy,
        created_at: Utc::now(),
    }
}

/// The channels the directory holds for `name`: a primary mailbox and a
/// recovery address elsewhere.
fn channels(name: &str) -> OwnerChannels {
    OwnerChannels {
        primary_email: Some(format!("{name}@demo.example")),
        recovery_email: Some(format!("{name}.home@mail.example")),
        recovery_phone: None,
        push_factor: None,
    }
}

/// The demo directory of the fakes' seed. Entra's smart lockout is timed
/// and invisible, so on Graph locked-out bob shows as active; erin is
/// disabled by an administrator; carol is also c.finance, and she and
/// fiona are in the Finance group (id `grp-finance`).
fn demo_directory(connected: Connected) -> MemoryDirectory {
    let bob = match connected {
        Connected::Google => AccountState::Locked,
        Connected::Graph => AccountState::Active,
    };
    MemoryDirectory::new()
        .with_group("grp-finance", "Finance")
        .with_alias("c.finance@demo.example", "carol@demo.example")
        .with_account(
            "erin@demo.example",
            MemoryAccount::new(AccountState::Disabled).with_channels(channels("erin")),
        )
        .with_account(
            "fiona@demo.example",
            MemoryAccount::new(AccountState::Active)
                .in_groups(&["grp-finance"])
                .with_channels(channels("fiona")),
        )
        .with_account(
            "alice@demo.example",
            MemoryAccount::new(AccountState::Active).with_channels(channels("alice")),
        )
        .with_account(
            "bob@demo.example",
            MemoryAccount::new(bob).with_channels(channels("bob")),
        )
        .with_account(
            "carol@demo.example",
            MemoryAccount::new(AccountState::Active)
                .in_groups(&["grp-finance", "grp-staff"])
                .with_channels(channels("carol")),
        )
        .with_account(
            "dave@demo.example",
            MemoryAccount::new(AccountState::Suspended {
                reason: Some("ADMIN".into()),
            })
            .with_channels(channels("dave")),
        )
        .with_account(
            "root@demo.example",
            MemoryAccount::new(AccountState::Active)
                .admin()
                .in_groups(&["IT Admins", "Staff"])
                .with_channels(channels("root")),
        )
}

fn credentials(connected: Connected) -> String {
    match connected {
        Connected::Google => serde_json::json!({
            "provider": "google_workspace",
            "client_email": "zerodesk@demo-project.iam.gserviceaccount.com",
            "private_key": TEST_PRIVATE_KEY,
            "admin_subject": "root@demo.example",
        }),
        Connected::Graph => serde_json::json!({
            "provider": "microsoft_graph",
            "directory_tenant": "demo.example",
            "client_id": "zerodesk",
            "client_secret": "test-only-client-secret",
        }),
    }
    .to_string()
}

async fn world_with(policy: TenantPolicy) -> World {
    world_connected(policy, Connected::Google).await
}

async fn world_connected(policy: TenantPolicy, connected: Connected) -> World {
    let tenant = TenantId::parse("demo").unwrap();
    let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::TenantLifecycle);
    let mut services = Services::in_memory();
    services.tenants = MemoryTenants::with([record(&tenant, policy)]);
    services.directories = demo_directory(connected);
    services
        .vault
        .store(
            &scope,
            &ConnectionId::parse("google").unwrap(),
            SecretBytes::new(credentials(connected).into_bytes()),
        )
        .await
        .unwrap();
    World {
        events: services.publisher.clone(),
        directory: services.directories.clone(),
        services,
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
    world_with(automating_policy()).await
}

fn corr() -> CorrelationId {
    CorrelationId::generate()
}

/// The link token in the newest message the outbox holds.
fn latest_link(w: &World) -> String {
    let sent = w.services.messenger.sent();
    let body = &sent
        .iter()
        .rev()
        .find(|m| m.body.contains('#'))
        .expect("a link was sent")
        .body;
    let after = body.split_once('#').unwrap().1;
    after.split_whitespace().next().unwrap().to_owned()
}

/// The owner answers the newest link; the result as the action's caller
/// would have seen it before verification existed.
async fn confirm_as_owner(w: &World, id: &TicketId) -> Result<ActionResult, WorkflowError> {
    let answered = w
        .services
        .answer_verification(
            &PageAnswer {
                token: &latest_link(w),
                code: None,
                client: "192.0.2.1",
            },
            &corr(),
        )
        .await;
    let scope = TenantScope::for_system_task(w.tenant.clone(), SystemTask::TenantLifecycle);
    let ticket = w.services.tickets.get(&scope, id).await.unwrap().unwrap();
    match answered {
        Ok(OwnerOutcome::Done {
            temporary_password, ..
        }) => Ok(ActionResult {
            ticket,
            temporary_password,
            replayed: false,
            awaiting_owner: None,
        }),
        Ok(OwnerOutcome::PushWaiting { .. }) => panic!("no push in these tests"),
        Err(VerifyRefusal::Escalated) => Err(WorkflowError::Escalated {
            reason: Box::leak(ticket.reason.unwrap_or_default().into_boxed_str()),
            provider_fault: true,
        }),
        Err(other) => panic!("the owner's answer was refused: {other:?}"),
    }
}

/// The whole path: the caller asks, the owner confirms through the link.
async fn act(
    w: &World,
    who: &Principal,
    id: &TicketId,
    action: DirectoryAction,
) -> Result<ActionResult, WorkflowError> {
    let asked = w.services.run_action(who, &corr(), id, action).await?;
    if asked.awaiting_owner.is_none() {
        return Ok(asked);
    }
    confirm_as_owner(w, id).await
}

fn ticket(subject: &str, body: &str) -> NewTicket {
    NewTicket {
        subject: subject.into(),
        body: body.into(),
        requester: None,
    }
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
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.category, Category::PasswordReset);
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    assert_eq!(filed.state, TicketState::Triaged);

    let done = act(&w, &alice, &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let password = done
        .temporary_password
        .as_ref()
        .expect("the first call returns the password")
        .expose()
        .to_owned();
    assert_eq!(done.ticket.state, TicketState::Resolved);
    let user = w.directory.account("alice@demo.example").unwrap();
    assert!(
        user.must_change_password,
        "the directory saw a forced change at next login"
    );
    assert_eq!(
        user.password.as_ref().map(|p| p.expose()),
        Some(password.as_str())
    );
    assert_eq!(user.sessions_revoked, 1);
    assert_eq!(w.events.of_type("DirectoryActionIntent").len(), 1);
    let outcomes = w.events.of_type("DirectoryActionOutcome");
    assert_eq!(outcomes.len(), 1);

    let again = act(&w, &alice, &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    assert!(again.replayed);
    assert!(
        again.temporary_password.is_none(),
        "a retry never returns a password"
    );
    assert_eq!(
        w.directory.calls_to(MemoryOp::ResetPassword).len(),
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
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.decision, Decision::NeedsApproval);
    assert_eq!(filed.state, TicketState::AwaitingApproval);

    let early = act(&w, &bob, &filed.id, DirectoryAction::Reset).await;
    assert!(early.is_err(), "nothing runs before approval");
    let by_user = w.services.approve(&alice, &corr(), &filed.id).await;
    assert!(
        matches!(by_user, Err(WorkflowError::Forbidden)),
        "a tenant_user cannot approve"
    );

    let approved = w.services.approve(&bob, &corr(), &filed.id).await.unwrap();
    assert_eq!(approved.state, TicketState::InProgress);
    let requester_call = act(&w, &alice, &filed.id, DirectoryAction::Reset).await;
    assert!(
        matches!(requester_call, Err(WorkflowError::Refused(_))),
        "the requester gets no password"
    );
    assert!(w.directory.calls_to(MemoryOp::ResetPassword).is_empty());

    let done = act(&w, &bob, &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let password = done
        .temporary_password
        .expect("the approver receives the password");
    let carol = w.directory.account("carol@demo.example").unwrap();
    assert!(carol.must_change_password);
    assert_eq!(
        carol.password.as_ref().map(|p| p.expose()),
        Some(password.expose())
    );
    assert_eq!(done.ticket.state, TicketState::Resolved);
}

#[tokio::test]
async fn protected_and_mfa_tickets_escalate_without_any_provider_call() {
    let mut policy = automating_policy();
    policy
        .protected_accounts
        .insert(AccountRef::parse("carol@demo.example").unwrap());
    let w = world_with(policy).await;
    let carol = person(&w.tenant, Role::TenantUser, "carol@demo.example");
    let protected = w
        .services
        .file_ticket(
            &carol,
            &corr(),
            ticket("Forgot password", "I forgot my password"),
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
        )
        .await
        .unwrap();
    assert_eq!(mfa.classification.decision, Decision::Escalate);
    for t in [&protected, &mfa] {
        assert!(
            act(&w, &carol, &t.id, DirectoryAction::Reset)
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
        )
        .await
        .unwrap();
    assert_eq!(admin.classification.decision, Decision::AutoResolve);
    let refused = act(&w, &root, &admin.id, DirectoryAction::Reset).await;
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
        w.directory.calls_to(MemoryOp::ResetPassword).is_empty(),
        "no reset reached the provider"
    );
}

#[tokio::test]
async fn each_provider_fault_escalates_the_ticket_and_returns_no_password() {
    let mut policy = automating_policy();
    policy.rate_limits.per_account_per_hour = 20;
    let w = world_with(policy).await;
    let faults = [
        MemoryFault::Unavailable,
        MemoryFault::Status(403),
        MemoryFault::Timeout,
        MemoryFault::Malformed,
    ];
    for fault in faults {
        let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
        let filed = w
            .services
            .file_ticket(
                &alice,
                &corr(),
                ticket("Forgot my password", "I forgot my password"),
            )
            .await
            .unwrap();
        w.directory.clear_faults();
        w.directory.fail(MemoryOp::ResetPassword, fault);
        let r = act(&w, &alice, &filed.id, DirectoryAction::Reset).await;
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
    w.directory.clear_faults();
    // The directory being unreachable during lookup escalates too.
    w.directory.fail_all(MemoryFault::Unavailable);
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
        )
        .await
        .unwrap();
    let r = act(&w, &alice, &filed.id, DirectoryAction::Reset).await;
    assert!(matches!(
        r,
        Err(WorkflowError::Escalated {
            provider_fault: true,
            ..
        })
    ));
    let failed = w.events.of_type("DirectoryActionOutcome").len();
    assert_eq!(
        failed, 4,
        "every attempted action recorded an outcome; the unreachable lookup stopped before any intent"
    );
}

#[tokio::test]
async fn twenty_concurrent_requests_send_one_challenge_and_twenty_answers_make_one_reset() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
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
                .run_action(alice, &c, &id, DirectoryAction::Reset)
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(a) if a.awaiting_owner.is_some()))
    );
    assert_eq!(
        w.services.messenger.sent().len(),
        1,
        "one challenge was sent"
    );
    let link = latest_link(&w);
    let answers = (0..20).map(|_| {
        let c = corr();
        let services = &w.services;
        let link = link.clone();
        async move {
            services
                .answer_verification(
                    &PageAnswer {
                        token: &link,
                        code: None,
                        client: "192.0.2.1",
                    },
                    &c,
                )
                .await
        }
    });
    let answered = futures::future::join_all(answers).await;
    let passwords = answered
        .iter()
        .filter(|r| {
            matches!(
                r,
                Ok(OwnerOutcome::Done {
                    temporary_password: Some(_),
                    ..
                })
            )
        })
        .count();
    assert_eq!(passwords, 1, "exactly one answer receives a password");
    assert_eq!(w.directory.calls_to(MemoryOp::ResetPassword).len(), 1);
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
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.category, Category::AccountUnlock);
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    let asked = w
        .services
        .run_action_from_event(
            w.tenant.clone(),
            &corr(),
            &filed.id,
            DirectoryAction::Unlock,
        )
        .await
        .unwrap();
    assert!(
        asked.awaiting_owner.is_some(),
        "the event only asks the owner"
    );
    assert_eq!(
        w.directory.account("bob@demo.example").unwrap().state,
        AccountState::Locked,
        "nothing changes before the owner answers"
    );
    let done = confirm_as_owner(&w, &filed.id).await.unwrap();
    assert_eq!(done.ticket.state, TicketState::Resolved);
    assert!(done.temporary_password.is_none());
    assert_eq!(
        w.directory.account("bob@demo.example").unwrap().state,
        AccountState::Active
    );
    // The HTTP call afterwards is a replay, not a second unlock.
    let again = act(&w, &bob, &filed.id, DirectoryAction::Unlock)
        .await
        .unwrap();
    assert!(again.replayed);
}

#[tokio::test]
async fn another_tenants_manager_gets_not_found_for_a_ticket() {
    let w = world().await;
    // Both tenants are active in the same store, as they are in one table.
    let other = TenantId::parse("other").unwrap();
    w.services
        .tenants
        .create(
            &TenantScope::for_system_task(other.clone(), SystemTask::TenantLifecycle),
            &record(&other, automating_policy()),
        )
        .await
        .unwrap();
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
        )
        .await
        .unwrap();
    let eve = person(&other, Role::TenantManager, "eve@other.example");
    assert!(matches!(
        w.services.get_ticket(&eve, &filed.id).await,
        Err(WorkflowError::NotFound)
    ));
    assert!(matches!(
        act(&w, &eve, &filed.id, DirectoryAction::Reset).await,
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
    let _guard = logs.install();
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
        )
        .await
        .unwrap();
    let done = act(&w, &alice, &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let password = done.temporary_password.unwrap().expose().to_owned();
    w.directory
        .fail(MemoryOp::ResetPassword, MemoryFault::Unavailable);
    let second = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
        )
        .await
        .unwrap();
    let _ = act(&w, &alice, &second.id, DirectoryAction::Reset).await;
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
async fn on_entra_id_an_unlock_revokes_sessions_explains_the_timed_lockout_and_escalates() {
    let w = world_connected(automating_policy(), Connected::Graph).await;
    let (r, stored) = self_service(&w, "bob@demo.example", DirectoryAction::Unlock).await;
    let timed = "lockout is timed by the directory and ends by itself; sessions revoked";
    assert!(
        matches!(r, Err(WorkflowError::Escalated { reason, .. }) if reason == timed),
        "{r:?}"
    );
    assert_eq!(stored.state, TicketState::Escalated);
    assert_eq!(stored.reason.as_deref(), Some(timed));
    let bob = w.directory.account("bob@demo.example").unwrap();
    assert_eq!(bob.sessions_revoked, 1);
    assert_eq!(bob.state, AccountState::Active, "nothing else was changed");

    // An account an administrator disabled is never re-enabled, approved or not.
    let (r, stored) = self_service(&w, "erin@demo.example", DirectoryAction::Unlock).await;
    assert!(
        matches!(
            r,
            Err(WorkflowError::Escalated {
                reason: "account is disabled by an administrator",
                provider_fault: false
            })
        ),
        "{r:?}"
    );
    assert_eq!(stored.state, TicketState::Escalated);
    assert!(
        w.directory.calls_to(MemoryOp::Unlock).len() == 1,
        "only bob's unlock reached the directory"
    );
    assert_eq!(
        w.directory.account("erin@demo.example").unwrap().state,
        AccountState::Disabled
    );

    // A reset on Entra forces the change at next sign-in.
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let reset = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
        )
        .await
        .unwrap();
    let done = act(&w, &alice, &reset.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let password = done.temporary_password.expect("password returned once");
    let user = w.directory.account("alice@demo.example").unwrap();
    assert!(user.must_change_password);
    assert_eq!(
        user.password.as_ref().map(|p| p.expose()),
        Some(password.expose())
    );
}

/// Files a self-service ticket for `email` and runs its action, returning
/// the result and the stored ticket.
async fn self_service(
    w: &World,
    email: &str,
    action: DirectoryAction,
) -> (
    Result<zerodesk_workflow::ActionResult, WorkflowError>,
    zerodesk_domain::Ticket,
) {
    let me = person(&w.tenant, Role::TenantUser, email);
    let (subject, body) = match action {
        DirectoryAction::Reset => ("Forgot my password", "I forgot my password"),
        DirectoryAction::Unlock => ("Locked out", "My account is locked, I can't log in"),
    };
    let filed = w
        .services
        .file_ticket(&me, &corr(), ticket(subject, body))
        .await
        .unwrap();
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    let r = act(w, &me, &filed.id, action).await;
    let stored = w.services.get_ticket(&me, &filed.id).await.unwrap();
    (r, stored)
}

#[tokio::test]
async fn an_administrators_suspension_is_escalated_not_unlocked() {
    let w = world().await;
    let (r, stored) = self_service(&w, "dave@demo.example", DirectoryAction::Unlock).await;
    assert!(matches!(
        r,
        Err(WorkflowError::Escalated {
            reason: "account state is not a lockout",
            provider_fault: false
        })
    ));
    assert_eq!(stored.state, TicketState::Escalated);
    assert!(matches!(
        w.directory.account("dave@demo.example").unwrap().state,
        AccountState::Suspended { .. }
    ));
}

#[tokio::test]
async fn an_administrators_suspension_is_never_reset_and_the_ticket_says_why() {
    let w = world().await;
    let (r, stored) = self_service(&w, "dave@demo.example", DirectoryAction::Reset).await;
    assert!(
        matches!(
            r,
            Err(WorkflowError::Escalated {
                reason: "account is suspended by an administrator",
                provider_fault: false
            })
        ),
        "{r:?}"
    );
    assert_eq!(stored.state, TicketState::Escalated);
    assert_eq!(
        stored.reason.as_deref(),
        Some("account is suspended by an administrator")
    );
    assert!(w.directory.calls_to(MemoryOp::ResetPassword).is_empty());
    assert!(
        w.services.messenger.sent().is_empty(),
        "the owner is not asked to verify for nothing"
    );
}

#[tokio::test]
async fn the_target_and_an_approver_without_an_email_cannot_approve() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket(
                "Password reset",
                "Please reset the password for carol@demo.example",
            ),
        )
        .await
        .unwrap();
    assert_eq!(filed.state, TicketState::AwaitingApproval);
    let carol = person(&w.tenant, Role::TenantManager, "carol@demo.example");
    let by_target = w.services.approve(&carol, &corr(), &filed.id).await;
    assert!(
        matches!(by_target, Err(WorkflowError::Invalid { field: "id", .. })),
        "{by_target:?}"
    );
    let mut no_email = person(&w.tenant, Role::TenantManager, "bob@demo.example");
    no_email.email = None;
    let unnamed = w.services.approve(&no_email, &corr(), &filed.id).await;
    assert!(
        matches!(unnamed, Err(WorkflowError::Forbidden)),
        "{unnamed:?}"
    );
    let bob = person(&w.tenant, Role::TenantManager, "bob@demo.example");
    let approved = w.services.approve(&bob, &corr(), &filed.id).await.unwrap();
    assert_eq!(approved.state, TicketState::InProgress);
}

#[tokio::test]
async fn a_tenant_without_a_directory_connection_escalates_without_a_provider_call() {
    let w = world().await;
    w.services
        .vault
        .destroy(&TenantScope::for_system_task(
            w.tenant.clone(),
            SystemTask::TenantLifecycle,
        ))
        .await
        .unwrap();
    let (r, stored) = self_service(&w, "alice@demo.example", DirectoryAction::Reset).await;
    assert!(matches!(
        r,
        Err(WorkflowError::Escalated {
            reason: "no directory connection",
            provider_fault: false
        })
    ));
    assert_eq!(stored.state, TicketState::Escalated);
    assert!(w.directory.calls().is_empty(), "no provider call");
}

#[tokio::test]
async fn an_unavailable_vault_escalates_as_a_dependency_fault() {
    let w = world().await;
    w.services.vault.set_outage(true);
    let (r, stored) = self_service(&w, "alice@demo.example", DirectoryAction::Reset).await;
    assert!(matches!(
        r,
        Err(WorkflowError::Escalated {
            reason: "credentials unavailable",
            provider_fault: true
        })
    ));
    assert_eq!(stored.state, TicketState::Escalated);
    assert!(w.directory.calls().is_empty(), "no provider call");
}

#[tokio::test]
async fn a_rate_limited_reset_gives_its_claim_back_and_touches_nothing() {
    let mut policy = automating_policy();
    policy.rate_limits.per_account_per_hour = 1;
    let w = world_with(policy).await;
    let (first, _) = self_service(&w, "alice@demo.example", DirectoryAction::Reset).await;
    assert!(first.is_ok());
    let (second, stored) = self_service(&w, "alice@demo.example", DirectoryAction::Reset).await;
    assert!(matches!(second, Err(WorkflowError::RateLimited { .. })));
    assert_eq!(
        stored.state,
        TicketState::Triaged,
        "the ticket was not taken"
    );
    assert_eq!(w.directory.calls_to(MemoryOp::ResetPassword).len(), 1);
    assert_eq!(
        w.services.idempotency.count(&w.tenant),
        1,
        "only the first run's record is kept"
    );
}

#[tokio::test]
async fn no_directory_call_runs_when_the_intent_cannot_be_published() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Forgot my password", "I forgot my password"),
        )
        .await
        .unwrap();
    w.events.set_failing(true);
    let r = act(&w, &alice, &filed.id, DirectoryAction::Reset).await;
    assert!(matches!(
        r,
        Err(WorkflowError::Escalated {
            reason: "audit unavailable",
            provider_fault: true
        })
    ));
    let changing = [
        MemoryOp::ResetPassword,
        MemoryOp::Unlock,
        MemoryOp::RevokeSessions,
    ];
    assert!(
        changing
            .iter()
            .all(|op| w.directory.calls_to(*op).is_empty()),
        "no provider call changed anything"
    );
    assert!(
        w.services.messenger.sent().is_empty(),
        "no challenge goes out that the trail cannot record"
    );
    let stored = w.services.get_ticket(&alice, &filed.id).await.unwrap();
    assert_eq!(stored.state, TicketState::Escalated);
}

/// What `PUT /policy` stores after resolving carol and "finance" in the
/// demo directory.
fn protecting_carol_and_finance(provider: &str) -> TenantPolicy {
    let mut policy = automating_policy();
    policy
        .protected_accounts
        .insert(AccountRef::parse("carol@demo.example").unwrap());
    policy.protected_groups.insert("finance".to_owned());
    let mut ids = ProtectedIds::none(provider);
    ids.accounts.insert("id:carol@demo.example".to_owned());
    ids.groups.insert("grp-finance".to_owned());
    policy.protected_ids = Some(ids);
    policy
}

#[tokio::test]
async fn an_alias_of_a_protected_account_and_a_protected_groups_member_escalate() {
    let w = world_with(protecting_carol_and_finance("google_workspace")).await;
    for (who, action) in [
        ("c.finance@demo.example", DirectoryAction::Reset),
        ("fiona@demo.example", DirectoryAction::Reset),
    ] {
        let (r, stored) = self_service(&w, who, action).await;
        assert!(
            matches!(
                r,
                Err(WorkflowError::Escalated {
                    reason: "protected account",
                    provider_fault: false
                })
            ),
            "{who}: {r:?}"
        );
        assert_eq!(stored.state, TicketState::Escalated, "{who}");
    }
    assert!(w.directory.calls_to(MemoryOp::ResetPassword).is_empty());
    assert_eq!(
        w.directory.calls_to(MemoryOp::MemberOfAny).len(),
        1,
        "the alias was caught by name before any group was asked"
    );

    let (r, _) = self_service(&w, "alice@demo.example", DirectoryAction::Reset).await;
    assert!(r.is_ok(), "an unprotected account still runs: {r:?}");
}

#[tokio::test]
async fn protection_resolved_in_another_directory_escalates_everyone() {
    let w = world_with(protecting_carol_and_finance("microsoft_graph")).await;
    let (r, stored) = self_service(&w, "alice@demo.example", DirectoryAction::Reset).await;
    assert!(
        matches!(
            r,
            Err(WorkflowError::Escalated {
                reason: "protected accounts not resolved in this directory",
                provider_fault: false
            })
        ),
        "{r:?}"
    );
    assert_eq!(stored.state, TicketState::Escalated);
    assert!(w.directory.calls_to(MemoryOp::ResetPassword).is_empty());
}

#[tokio::test]
async fn a_person_filing_past_the_limit_is_refused_with_retry_after_and_nothing_is_stored() {
    use zerodesk_workflow::write_limits::FILINGS_PER_PERSON_PER_MINUTE;
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    for _ in 0..FILINGS_PER_PERSON_PER_MINUTE {
        w.services
            .file_ticket(&alice, &corr(), ticket("Printer", "The printer is jammed"))
            .await
            .unwrap();
    }
    let stored_before = w.services.tickets.all().len();
    let refused = w
        .services
        .file_ticket(&alice, &corr(), ticket("Printer", "The printer is jammed"))
        .await;
    assert!(
        matches!(
            refused,
            Err(WorkflowError::RateLimited { retry_after_seconds }) if (1..=60).contains(&retry_after_seconds)
        ),
        "{refused:?}"
    );
    assert_eq!(
        w.services.tickets.all().len(),
        stored_before,
        "nothing stored"
    );
    // Another person of the same tenant is not held up by alice.
    let bob = person(&w.tenant, Role::TenantUser, "bob@demo.example");
    w.services
        .file_ticket(&bob, &corr(), ticket("Printer", "The printer is jammed"))
        .await
        .unwrap();
}

#[tokio::test]
async fn requests_for_made_up_ticket_ids_are_counted_and_refused_before_any_read() {
    use zerodesk_workflow::write_limits::WRITES_PER_CALLER_PER_MINUTE;
    let w = world().await;
    let mallory = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    for _ in 0..WRITES_PER_CALLER_PER_MINUTE {
        let r = w
            .services
            .run_action(
                &mallory,
                &corr(),
                &TicketId::generate(),
                DirectoryAction::Reset,
            )
            .await;
        assert!(matches!(r, Err(WorkflowError::NotFound)), "{r:?}");
    }
    let r = w
        .services
        .run_action(
            &mallory,
            &corr(),
            &TicketId::generate(),
            DirectoryAction::Reset,
        )
        .await;
    assert!(matches!(r, Err(WorkflowError::RateLimited { .. })), "{r:?}");
    // Others of the tenant still get through.
    let bob = person(&w.tenant, Role::TenantUser, "bob@demo.example");
    let r = w
        .services
        .run_action(&bob, &corr(), &TicketId::generate(), DirectoryAction::Reset)
        .await;
    assert!(matches!(r, Err(WorkflowError::NotFound)), "{r:?}");
}

#[tokio::test]
async fn a_managers_rejection_note_stays_on_the_ticket_and_never_reaches_the_trail() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let manager = person(&w.tenant, Role::TenantManager, "mgr@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket(
                "Password reset",
                "Please reset the password for carol@demo.example",
            ),
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.decision, Decision::NeedsApproval);
    let note = "Carol Jones is on leave, ask her line manager Dan Smith";
    let rejected = w
        .services
        .reject(
            &manager,
            &corr(),
            &filed.id,
            zerodesk_workflow::Rejection {
                reason: Some(note.into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(rejected.reason.as_deref(), Some(note), "kept on the ticket");
    let published = format!("{:?}", w.events.events());
    assert!(!published.contains("Carol Jones") && !published.contains("Dan Smith"));
    assert!(
        published.contains("rejected by a manager, with a note kept on the ticket"),
        "{published}"
    );
}
