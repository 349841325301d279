//! The ticket workflow on its deployed adapters: DynamoDB over tenant-scoped
//! clients (the real idempotency and ticket tables on the emulator), the
//! KMS/Secrets Manager vault and the HTTPS directory connectors against the
//! fake Google and Graph servers. The same paths in-process, on the in-memory
//! adapters, are the workflow crate's `pipeline` tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![recursion_limit = "256"]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sha1::Digest;
use zerodesk_aws::TenantClientsCache;
use zerodesk_crypto::{ConnectionSecrets, KmsMac, SecretBytes, TenantVault};
use zerodesk_directory::{DirectoryEndpoints, HttpsDirectories};
use zerodesk_domain::{
    AccountRef, Category, ConnectionId, CorrelationId, Decision, Principal, PrincipalScope, Role,
    SystemClock, SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus, TicketId,
    TicketState,
};
use zerodesk_events::{DirectoryAction, InMemoryPublisher};
use zerodesk_fakes::{FakeGoogle, FakeGraph, FakeOkta, Fault, PushAnswer, demo_seed};
use zerodesk_notify::MemoryOutbox;
use zerodesk_store::{
    DynamoIdempotency, DynamoRateLimits, DynamoTenants, DynamoTickets, DynamoVerifications,
    TenantGate, TenantRepo, TicketStore,
};
use zerodesk_testkit::{LocalAws, unique_tenant};
use zerodesk_workflow::{
    ActionResult, NewTicket, OwnerOutcome, PageAnswer, Ports, Services, VerifyRefusal,
    WorkflowError,
};

/// The deployed adapters (verifications in DynamoDB, keyed hashes by a KMS
/// HMAC key), with the events and messages kept in memory for assertions.
struct OnTheEmulator;

impl Ports for OnTheEmulator {
    type Tickets = DynamoTickets<Arc<TenantClientsCache>>;
    type Tenants = DynamoTenants<Arc<TenantClientsCache>>;
    type Idempotency = DynamoIdempotency<Arc<TenantClientsCache>>;
    type Counters = DynamoRateLimits<Arc<TenantClientsCache>>;
    type Vault = TenantVault;
    type Directories = HttpsDirectories;
    type Publisher = InMemoryPublisher;
    type Clock = SystemClock;
    type Verifications = DynamoVerifications<Arc<TenantClientsCache>>;
    type Mac = KmsMac;
    type Messenger = MemoryOutbox;
}

/// A KMS HMAC key on the emulator, as the template declares one.
async fn hmac_key(config: &aws_config::SdkConfig) -> KmsMac {
    let kms = aws_sdk_kms::Client::new(config);
    let key = kms
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap();
    KmsMac::new(kms, key.key_metadata().unwrap().key_id())
}

struct World {
    services: Services<OnTheEmulator>,
    events: InMemoryPublisher,
    google: FakeGoogle,
    graph: FakeGraph,
    okta: FakeOkta,
    tenant: TenantId,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Connected {
    Google,
    Graph,
    Okta,
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
    let okta = FakeOkta::start(demo_seed()).await.unwrap();
    let credentials = match connected {
        Connected::Google => google.credentials_json("demo.example"),
        Connected::Graph => graph.credentials_json("demo.example"),
        Connected::Okta => okta.api_token_credentials_json("demo.example"),
    }
    .unwrap()
    .to_string();
    let clients = Arc::new(TenantClientsCache::assuming(
        &config,
        &aws.names.tenant_access_role_arn,
        "workflow-test",
    ));
    let vault = TenantVault::new(
        Arc::clone(&clients),
        &aws.names.kms_key_id,
        &aws.names.stage,
    );
    vault
        .store(
            &scope,
            &ConnectionId::parse("google").unwrap(),
            SecretBytes::new(credentials.into_bytes()),
        )
        .await
        .unwrap();

    let endpoints = DirectoryEndpoints::from_lookup(|name| match name {
        "GOOGLE_TOKEN_URL" => Some(google.token_url()),
        "GOOGLE_API_BASE_URL" => Some(google.api_base_url()),
        "GRAPH_TOKEN_BASE_URL" => Some(graph.token_base_url()),
        "GRAPH_API_BASE_URL" => Some(graph.api_base_url()),
        "DIRECTORY_ALLOW_LOOPBACK" => Some("true".to_owned()),
        _ => None,
    })
    .unwrap()
    .with_timeout(timeout);
    let events = InMemoryPublisher::new();
    let names = aws.names.table_names();
    let services = Services::<OnTheEmulator> {
        verifications: DynamoVerifications::new(Arc::clone(&clients), names.tickets.clone()),
        mac: hmac_key(&config).await,
        messenger: MemoryOutbox::default(),
        verify_page: "https://zerodesk.test/verify".to_owned(),
        tickets: DynamoTickets::new(Arc::clone(&clients), names.tickets),
        tenants: DynamoTenants::new(Arc::clone(&clients), names.tenants.clone()),
        idempotency: DynamoIdempotency::new(Arc::clone(&clients), names.idempotency),
        counters: DynamoRateLimits::new(Arc::clone(&clients), names.tenants),
        vault,
        directories: HttpsDirectories::new(endpoints),
        publisher: events.clone(),
        clock: SystemClock,
        gate: TenantGate::default(),
    };
    World {
        services,
        events,
        google,
        graph,
        okta,
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

/// The caller asks, then the owner answers the link; the result as the
/// caller saw it before verification existed.
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
            reason: "escalated after the owner confirmed",
            provider_fault: true,
        }),
        Err(other) => panic!("the owner's answer was refused: {other:?}"),
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

    let again = act(&w, &alice, &filed.id, DirectoryAction::Reset)
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
            )
            .await
            .unwrap();
        w.google.clear_faults();
        w.google.fail_route("users.update", fault);
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
async fn twenty_concurrent_answers_to_one_link_make_one_provider_reset() {
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
    // Concurrent askers either see the challenge or hit the per-account
    // limit (or lose the race for it): an owner cannot be flooded.
    for r in &results {
        assert!(
            matches!(r, Ok(a) if a.awaiting_owner.is_some())
                || matches!(
                    r,
                    Err(WorkflowError::RateLimited { .. } | WorkflowError::Conflict)
                ),
            "{r:?}"
        );
    }
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Ok(a) if a.awaiting_owner.is_some()))
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
    assert_eq!(w.google.calls_to("users.update").len(), 1);
}

#[tokio::test]
async fn on_entra_id_an_unlock_never_re_enables_and_explains_the_timed_lockout() {
    let w = world_connected(
        automating_policy(),
        Duration::from_secs(5),
        Connected::Graph,
    )
    .await;
    // Entra's smart lockout is timed and invisible: a locked-out account
    // shows as enabled. After the owner verifies (alice, by her recovery
    // address), her sessions are revoked and the ticket escalates with the
    // reason; nothing is patched.
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = w
        .services
        .file_ticket(
            &alice,
            &corr(),
            ticket("Locked out", "My account is locked, I can't log in"),
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    let r = act(&w, &alice, &filed.id, DirectoryAction::Unlock).await;
    assert!(matches!(r, Err(WorkflowError::Escalated { .. })), "{r:?}");
    let stored = w.services.get_ticket(&alice, &filed.id).await.unwrap();
    assert_eq!(stored.state, TicketState::Escalated);
    assert_eq!(
        stored.reason.as_deref(),
        Some("lockout is timed by the directory and ends by itself; sessions revoked")
    );
    assert_eq!(
        w.graph.user("alice@demo.example").unwrap().sessions_revoked,
        1
    );

    // dave was disabled by an administrator: refused before anyone is asked.
    let dave = person(&w.tenant, Role::TenantUser, "dave@demo.example");
    let filed = w
        .services
        .file_ticket(
            &dave,
            &corr(),
            ticket("Locked out", "My account is locked, I can't log in"),
        )
        .await
        .unwrap();
    let r = w
        .services
        .run_action(&dave, &corr(), &filed.id, DirectoryAction::Unlock)
        .await;
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
    assert!(
        w.graph.calls().iter().all(|c| c.method != "PATCH"),
        "no account was re-enabled"
    );

    // A reset on Entra forces the change at next sign-in.
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
    let user = w.graph.user("alice@demo.example").unwrap();
    assert!(user.must_change_password);
    assert_eq!(user.password.as_deref(), Some(password.expose()));
}

/// The locked-out user with no token, end to end on the deployed adapters
/// and the fake Google directory: the email intake bot files, the link goes
/// to the recovery address the directory holds, the owner confirms, the
/// fake sees a forced change and revoked sessions, the notice carries
/// "This wasn't me", and using it signs the owner out again and reopens
/// the ticket as a security incident.
#[tokio::test]
async fn a_bot_filed_reset_reaches_the_owner_only_and_this_wasnt_me_reopens_it() {
    let w = world().await;
    let bot = Principal {
        subject: "svc-email-intake".to_owned(),
        email: None,
        role: Role::AutomationService,
        scope: PrincipalScope::Tenant(w.tenant.clone()),
    };
    let filed = w
        .services
        .file_ticket(
            &bot,
            &corr(),
            NewTicket {
                subject: "Forgot my password".into(),
                body: "I forgot my password, please reset it".into(),
                requester: Some("alice@demo.example".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    let asked = w
        .services
        .run_action_from_event(w.tenant.clone(), &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    assert!(asked.awaiting_owner.is_some());
    assert!(
        w.google.calls_to("users.update").is_empty(),
        "nothing acted yet"
    );
    let sent = w.services.messenger.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].to,
        zerodesk_notify::Recipient::Email("alice.personal@mail.example".into()),
        "the recovery address the fake directory holds"
    );
    let link = latest_link(&w);
    let owner = |token| PageAnswer {
        token,
        code: None,
        client: "192.0.2.1",
    };
    let done = w
        .services
        .answer_verification(&owner(&link), &corr())
        .await
        .unwrap();
    let OwnerOutcome::Done {
        temporary_password: Some(password),
        ..
    } = done
    else {
        panic!("no password for the owner")
    };
    let user = w.google.user("alice@demo.example").unwrap();
    assert!(user.must_change_password);
    assert_eq!(
        user.password.as_deref(),
        Some(sha1_hex(password.expose()).as_str())
    );
    assert_eq!(user.sessions_revoked, 1);

    let notice = w.services.messenger.sent().last().cloned().unwrap();
    assert_eq!(
        notice.to,
        zerodesk_notify::Recipient::Email("alice@demo.example".into()),
        "the notice goes to the other mailbox"
    );
    let not_me = latest_link(&w);
    let reported = w
        .services
        .report_not_me(&owner(&not_me), &corr())
        .await
        .unwrap();
    assert!(reported.sessions_revoked);
    assert_eq!(
        w.google
            .user("alice@demo.example")
            .unwrap()
            .sessions_revoked,
        2
    );
    let scope = TenantScope::for_system_task(w.tenant.clone(), SystemTask::TenantLifecycle);
    let ticket = w
        .services
        .tickets
        .get(&scope, &filed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.state, TicketState::Escalated);
    assert_eq!(w.events.of_type("SecurityIncidentReported").len(), 1);
    let published = format!("{:?}", w.events.events());
    assert!(!published.contains(password.expose()));
}

/// The owner answers the link and the Okta Verify push the page sends,
/// polling as the page does.
async fn answer_with_push(w: &World, link: &str) -> Result<OwnerOutcome, VerifyRefusal> {
    let page = PageAnswer {
        token: link,
        code: None,
        client: "192.0.2.1",
    };
    for _ in 0..10 {
        match w.services.answer_verification(&page, &corr()).await {
            Ok(OwnerOutcome::PushWaiting { number }) => {
                assert!(number.is_some(), "a number challenge");
            }
            other => return other,
        }
    }
    panic!("the push was never answered")
}

#[tokio::test]
async fn okta_verify_push_approved_resets_and_denied_or_timed_out_changes_nothing() {
    let mut policy = automating_policy();
    policy.owner_verification.methods = vec![zerodesk_domain::VerificationMethod::OktaPush];
    policy.rate_limits.per_account_per_hour = 10;
    let w = world_connected(policy, Duration::from_secs(5), Connected::Okta).await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let file = || async {
        w.services
            .file_ticket(
                &alice,
                &corr(),
                ticket("Forgot my password", "I forgot my password"),
            )
            .await
            .unwrap()
    };

    for answer in [PushAnswer::Deny, PushAnswer::TimeOut] {
        w.okta.answer_pushes("alice@demo.example", answer);
        let filed = file().await;
        let asked = w
            .services
            .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
            .await
            .unwrap();
        assert_eq!(asked.awaiting_owner.unwrap().channel, "Okta Verify");
        let refused = answer_with_push(&w, &latest_link(&w)).await;
        assert!(
            matches!(refused, Err(VerifyRefusal::Escalated)),
            "{answer:?}: {refused:?}"
        );
        let stored = w.services.get_ticket(&alice, &filed.id).await.unwrap();
        assert_eq!(stored.state, TicketState::Escalated, "{answer:?}");
        assert!(
            w.okta
                .calls_to("lifecycle.expire_password_with_temp_password")
                .is_empty(),
            "{answer:?}: nothing changed at the directory"
        );
    }

    w.okta
        .answer_pushes("alice@demo.example", PushAnswer::Approve);
    let filed = file().await;
    w.services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let done = answer_with_push(&w, &latest_link(&w)).await.unwrap();
    assert!(matches!(
        done,
        OwnerOutcome::Done {
            temporary_password: Some(_),
            ..
        }
    ));
    assert!(
        w.okta
            .user("alice@demo.example")
            .unwrap()
            .must_change_password
    );
}

/// Resolves `policy`'s protected entries through the fake Google as
/// `PUT /policy` does, and stores the policy with their ids.
async fn protect_through_the_directory(w: &World, mut policy: TenantPolicy) {
    use zerodesk_directory::{Directory, DirectoryConnector};
    use zerodesk_store::TenantStore;
    let google = w
        .services
        .directories
        .connect(
            serde_json::from_value(w.google.credentials_json("demo.example").unwrap()).unwrap(),
        )
        .unwrap();
    let mut ids = zerodesk_domain::ProtectedIds::none(google.provider().as_str());
    for account in &policy.protected_accounts {
        ids.accounts
            .insert(google.lookup(account).await.unwrap().provider_id);
    }
    for group in &policy.protected_groups {
        ids.groups
            .insert(google.resolve_group(group).await.unwrap().id);
    }
    policy.protected_ids = Some(ids);
    let scope = TenantScope::for_system_task(w.tenant.clone(), SystemTask::TenantLifecycle);
    let mut record = w.services.tenants.get(&scope).await.unwrap().unwrap();
    record.policy = policy;
    w.services
        .tenants
        .replace(&scope, &record, "active")
        .await
        .unwrap();
}

#[tokio::test]
async fn through_google_an_alias_of_a_protected_account_and_a_group_named_in_another_case_escalate()
{
    for protect in ["account", "group"] {
        let w = world().await;
        let mut policy = automating_policy();
        if protect == "account" {
            policy
                .protected_accounts
                .insert(AccountRef::parse("carol@demo.example").unwrap());
        } else {
            policy
                .protected_groups
                .insert("FINANCE@Demo.Example".into());
        }
        protect_through_the_directory(&w, policy).await;

        // carol asks under her alias; the directory resolves it to her.
        let alias = person(&w.tenant, Role::TenantUser, "c.finance@demo.example");
        let filed = w
            .services
            .file_ticket(
                &alias,
                &corr(),
                ticket("Forgot my password", "I forgot my password"),
            )
            .await
            .unwrap();
        assert_eq!(
            filed.classification.decision,
            Decision::AutoResolve,
            "{protect}"
        );
        let r = w
            .services
            .run_action(&alias, &corr(), &filed.id, DirectoryAction::Reset)
            .await;
        assert!(
            matches!(
                r,
                Err(WorkflowError::Escalated {
                    reason: "protected account",
                    provider_fault: false
                })
            ),
            "{protect}: {r:?}"
        );
        assert!(w.services.messenger.sent().is_empty(), "{protect}");
        assert!(w.google.calls_to("users.update").is_empty(), "{protect}");
        if protect == "group" {
            let asked = w.google.calls_to("members.hasMember");
            assert_eq!(asked.len(), 1);
            let group_id = w.google.group_id("demo.example", "Finance").unwrap();
            assert!(asked[0].path.contains(&group_id), "{:?}", asked[0]);
        }
    }
}
