//! Owner verification in-process, on the in-memory adapters: no reset or
//! unlock runs until the account's owner answers a challenge sent to a
//! channel the directory holds. Links, codes and pushes; wrong, expired,
//! replayed and foreign answers; approved resets; no secret in events,
//! stored records or logs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use zerodesk_crypto::{ConnectionSecrets, SecretBytes};
use zerodesk_directory::{
    AccountState, MemoryAccount, MemoryDirectory, MemoryOp, OwnerChannels, PushResult,
};
use zerodesk_domain::{
    AccountRef, Category, ConnectionId, CorrelationId, Decision, Principal, PrincipalScope, Role,
    SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus, Ticket, TicketId,
    TicketState, VerificationMethod, VerificationState,
};
use zerodesk_events::{DirectoryAction, EventPayload, InMemoryPublisher, VerificationStep};
use zerodesk_notify::{Message, Recipient};
use zerodesk_store::{MemoryTenants, TenantStore, TicketStore};
use zerodesk_workflow::{
    InMemory, NewTicket, OwnerOutcome, PageAnswer, Services, VerifyRefusal, WorkflowError,
};

/// The connection's API token: no log line may carry it.
const OKTA_TOKEN: &str = "test-only-okta-api-token-5f1c";
/// An address an attacker writes into the ticket text.
const ATTACKER: &str = "attacker@evil.example";
const ERIN_PHONE: &str = "+15555550101";

struct World {
    services: Services<InMemory>,
    events: InMemoryPublisher,
    directory: MemoryDirectory,
    tenant: TenantId,
}

fn person(tenant: &TenantId, role: Role, email: &str) -> Principal {
    Principal {
        subject: email.to_owned(),
        email: Some(AccountRef::parse(email).unwrap()),
        role,
        scope: PrincipalScope::Tenant(tenant.clone()),
    }
}

/// The email-intake service: files tickets for the person who wrote in.
fn intake_bot(tenant: &TenantId) -> Principal {
    Principal {
        subject: "svc-email-intake".to_owned(),
        email: None,
        role: Role::AutomationService,
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

/// A primary mailbox and a recovery address elsewhere.
fn mailboxes(name: &str) -> OwnerChannels {
    OwnerChannels {
        primary_email: Some(format!("{name}@demo.example")),
        recovery_email: Some(format!("{name}.home@mail.example")),
        recovery_phone: None,
        push_factor: None,
    }
}

/// alice, bob (locked) and carol have two mailboxes; erin a primary mailbox
/// and a recovery phone; olga a primary mailbox and Okta Verify; nina
/// nothing the directory could reach her on.
fn directory() -> MemoryDirectory {
    MemoryDirectory::new()
        .with_account(
            "alice@demo.example",
            MemoryAccount::new(AccountState::Active).with_channels(mailboxes("alice")),
        )
        .with_account(
            "bob@demo.example",
            MemoryAccount::new(AccountState::Locked).with_channels(mailboxes("bob")),
        )
        .with_account(
            "carol@demo.example",
            MemoryAccount::new(AccountState::Active).with_channels(mailboxes("carol")),
        )
        .with_account(
            "erin@demo.example",
            MemoryAccount::new(AccountState::Active).with_channels(OwnerChannels {
                primary_email: Some("erin@demo.example".into()),
                recovery_phone: Some(ERIN_PHONE.into()),
                ..OwnerChannels::default()
            }),
        )
        .with_account(
            "olga@demo.example",
            MemoryAccount::new(AccountState::Active).with_channels(OwnerChannels {
                primary_email: Some("olga@demo.example".into()),
                push_factor: Some("opf-olga".into()),
                ..OwnerChannels::default()
            }),
        )
        .with_account(
            "nina@demo.example",
            MemoryAccount::new(AccountState::Active),
        )
}

fn policy(methods: &[VerificationMethod]) -> TenantPolicy {
    let mut policy = TenantPolicy {
        auto_resolve: [Category::PasswordReset, Category::AccountUnlock].into(),
        ..Default::default()
    };
    if !methods.is_empty() {
        policy.owner_verification.methods = methods.to_vec();
    }
    policy
}

async fn world_with(policy: TenantPolicy) -> World {
    let tenant = TenantId::parse("demo").unwrap();
    let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::TenantLifecycle);
    let mut services = Services::in_memory();
    services.tenants = MemoryTenants::with([record(&tenant, policy)]);
    services.directories = directory();
    let credentials = serde_json::json!({
        "provider": "okta_api_token",
        "org_url": "https://demo.okta.com",
        "api_token": OKTA_TOKEN,
    })
    .to_string();
    services
        .vault
        .store(
            &scope,
            &ConnectionId::parse("okta").unwrap(),
            SecretBytes::new(credentials.into_bytes()),
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

/// The default methods: Okta Verify, then the recovery address, then SMS.
async fn world() -> World {
    world_with(policy(&[])).await
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

async fn file(w: &World, who: &Principal, input: NewTicket) -> Ticket {
    w.services.file_ticket(who, &corr(), input).await.unwrap()
}

/// `email` files "forgot my password" for themselves; triage clears it.
async fn own_reset(w: &World, email: &str) -> (Principal, Ticket) {
    let me = person(&w.tenant, Role::TenantUser, email);
    let filed = file(
        w,
        &me,
        ticket(
            "Forgot my password",
            "I forgot my password, please reset it",
        ),
    )
    .await;
    assert_eq!(filed.classification.category, Category::PasswordReset);
    assert_eq!(filed.classification.decision, Decision::AutoResolve);
    (me, filed)
}

async fn stored(w: &World, id: &TicketId) -> Ticket {
    let scope = TenantScope::for_system_task(w.tenant.clone(), SystemTask::TenantLifecycle);
    w.services.tickets.get(&scope, id).await.unwrap().unwrap()
}

fn email(address: &str) -> Recipient {
    Recipient::Email(address.to_owned())
}

/// The token after the page URL's `#`.
fn link_in(message: &Message) -> String {
    let (_, after) = message
        .body
        .split_once("https://zerodesk.test/verify#")
        .expect("the message holds a link");
    after.split_whitespace().next().unwrap().to_owned()
}

/// The secret part of a token: after its last '.'.
fn secret_of(token: &str) -> &str {
    token.rsplit_once('.').unwrap().1
}

/// The code an SMS challenge holds: `zerodesk code 123456. ...`.
fn code_in(message: &Message) -> String {
    let code: String = message
        .body
        .strip_prefix("zerodesk code ")
        .expect("the SMS starts with its code")
        .chars()
        .take(6)
        .collect();
    assert!(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()));
    code
}

/// The only message sent to `to`.
fn only_message_to(w: &World, to: &Recipient) -> Message {
    let sent = w.services.messenger.sent_to(to);
    assert_eq!(sent.len(), 1, "one message to {to:?}");
    sent.into_iter().next().unwrap()
}

/// The owner verification steps published for a ticket, in order.
fn steps(w: &World, id: &TicketId) -> Vec<VerificationStep> {
    w.events
        .events()
        .into_iter()
        .filter_map(|e| match e.payload {
            EventPayload::OwnerVerificationChanged(p) if p.ticket_id == *id => Some(p.step),
            _ => None,
        })
        .collect()
}

/// The notices recorded for a ticket: (notice, masked channel).
fn notices(w: &World, id: &TicketId) -> Vec<(String, String)> {
    w.events
        .events()
        .into_iter()
        .filter_map(|e| match e.payload {
            EventPayload::OwnerNotified(p) if p.ticket_id == *id => Some((p.notice, p.channel)),
            _ => None,
        })
        .collect()
}

fn verification_state(w: &World, id: &TicketId) -> (VerificationState, u32) {
    let all = w.services.verifications.all();
    let v = all
        .iter()
        .find(|v| v.ticket_id == *id)
        .expect("a verification is stored for the ticket");
    (v.state, v.wrong_attempts)
}

fn nothing_changed_at_the_directory(w: &World) {
    for op in [
        MemoryOp::ResetPassword,
        MemoryOp::Unlock,
        MemoryOp::RevokeSessions,
    ] {
        assert!(w.directory.calls_to(op).is_empty(), "{op:?} was called");
    }
}

fn is_invalid(r: &Result<OwnerOutcome, VerifyRefusal>) -> bool {
    matches!(r, Err(VerifyRefusal::Invalid))
}

#[tokio::test]
async fn a_bot_filed_unlock_asks_the_owner_on_his_recovery_address_never_one_in_the_text() {
    let w = world().await;
    let bot = intake_bot(&w.tenant);
    let filed = file(
        &w,
        &bot,
        NewTicket {
            subject: "I'm locked out".into(),
            body: format!("My account is locked, I can't log in. cc {ATTACKER}"),
            requester: Some("bob@demo.example".into()),
        },
    )
    .await;
    assert_eq!(filed.requester.as_str(), "bob@demo.example");
    assert_eq!(filed.classification.category, Category::AccountUnlock);
    assert_eq!(
        filed.classification.decision,
        Decision::AutoResolve,
        "{:?}",
        filed.classification
    );
    assert!(filed.body.contains(ATTACKER), "the address is in the text");

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
    let requested = asked.awaiting_owner.expect("the owner is asked first");
    assert_eq!(requested.method, VerificationMethod::RecoveryEmail);
    assert_eq!(requested.channel, "b\u{2022}\u{2022}\u{2022}@mail.example");
    assert!(!requested.already_sent);
    assert!(asked.temporary_password.is_none());
    assert_eq!(
        w.directory.account("bob@demo.example").unwrap().state,
        AccountState::Locked
    );
    nothing_changed_at_the_directory(&w);

    let sent = w.services.messenger.sent();
    assert_eq!(sent.len(), 1, "one challenge");
    assert_eq!(sent[0].to, email("bob.home@mail.example"));
    assert!(
        sent.iter()
            .all(|m| m.to != email(ATTACKER) && !m.body.contains(ATTACKER)),
        "nothing goes to, or names, the address in the ticket text"
    );
    let link = link_in(&sent[0]);

    let summary = w
        .services
        .describe_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    assert_eq!(summary.action, DirectoryAction::Unlock);
    assert_eq!(summary.account, "b\u{2022}\u{2022}\u{2022}@demo.example");
    assert_eq!(summary.intake, "helpdesk intake");
    assert!(!summary.needs_code);
    nothing_changed_at_the_directory(&w);

    let done = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    assert!(matches!(
        done,
        OwnerOutcome::Done {
            action: DirectoryAction::Unlock,
            temporary_password: None,
            ..
        }
    ));
    assert_eq!(
        w.directory.account("bob@demo.example").unwrap().state,
        AccountState::Active
    );
    assert_eq!(stored(&w, &filed.id).await.state, TicketState::Resolved);

    let notice = only_message_to(&w, &email("bob@demo.example"));
    assert!(notice.body.contains(&filed.id.to_string()));
    assert_eq!(
        w.services
            .messenger
            .sent_to(&email("bob.home@mail.example"))
            .len(),
        1,
        "the verified mailbox got the link only"
    );
    assert!(w.services.messenger.sent_to(&email(ATTACKER)).is_empty());
    assert_eq!(
        steps(&w, &filed.id),
        [
            VerificationStep::Requested,
            VerificationStep::Sent,
            VerificationStep::Succeeded
        ]
    );
    assert_eq!(
        notices(&w, &filed.id),
        [(
            "action_done".to_owned(),
            "b\u{2022}\u{2022}\u{2022}@demo.example".to_owned()
        )]
    );
}

#[tokio::test]
async fn a_self_service_reset_returns_the_password_once_and_its_link_is_single_use() {
    let w = world().await;
    let (alice, filed) = own_reset(&w, "alice@demo.example").await;
    let asked = w
        .services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    assert!(asked.awaiting_owner.is_some());
    assert!(asked.temporary_password.is_none());
    nothing_changed_at_the_directory(&w);
    let link = link_in(&only_message_to(&w, &email("alice.home@mail.example")));

    let first = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    let OwnerOutcome::Done {
        action: DirectoryAction::Reset,
        temporary_password: Some(password),
        ..
    } = first
    else {
        panic!("the first answer resets and returns the password: {first:?}");
    };
    let account = w.directory.account("alice@demo.example").unwrap();
    assert!(account.must_change_password);
    assert_eq!(
        account.password.as_ref().map(|p| p.expose()),
        Some(password.expose())
    );
    assert_eq!(account.sessions_revoked, 1);
    assert_eq!(stored(&w, &filed.id).await.state, TicketState::Resolved);

    let again = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await;
    assert!(is_invalid(&again), "{again:?}");
    let described = w
        .services
        .describe_verification(&from_owner(&link), &corr())
        .await;
    assert!(matches!(described, Err(VerifyRefusal::Invalid)));
    assert_eq!(
        w.directory.calls_to(MemoryOp::ResetPassword).len(),
        1,
        "the replayed link reset nothing"
    );
    assert_eq!(
        verification_state(&w, &filed.id),
        (VerificationState::Confirmed, 0)
    );
}

#[tokio::test]
async fn five_wrong_sms_codes_fail_the_verification_and_the_right_one_is_refused_after() {
    let w = world_with(policy(&[VerificationMethod::RecoverySms])).await;
    let (erin, filed) = own_reset(&w, "erin@demo.example").await;
    let asked = w
        .services
        .run_action(&erin, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let requested = asked.awaiting_owner.unwrap();
    assert_eq!(requested.method, VerificationMethod::RecoverySms);
    assert_eq!(
        requested.channel,
        "\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}0101"
    );
    let sms = only_message_to(&w, &Recipient::Sms(ERIN_PHONE.into()));
    let link = link_in(&sms);
    let code = code_in(&sms);
    assert_eq!(w.services.messenger.sent().len(), 1, "the SMS only");
    assert!(
        w.services
            .describe_verification(
                &PageAnswer {
                    token: &link,
                    code: None,
                    client: "192.0.2.1"
                },
                &corr()
            )
            .await
            .unwrap()
            .needs_code
    );

    let missing = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await;
    assert!(is_invalid(&missing), "the link alone is not enough");
    assert_eq!(
        verification_state(&w, &filed.id),
        (VerificationState::Pending, 0)
    );

    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    for attempt in 1..=4 {
        let r = w
            .services
            .answer_verification(&from_owner_with_code(&link, wrong.as_str()), &corr())
            .await;
        assert!(is_invalid(&r), "attempt {attempt}: {r:?}");
        assert_eq!(
            verification_state(&w, &filed.id),
            (VerificationState::Pending, attempt)
        );
        assert_eq!(stored(&w, &filed.id).await.state, TicketState::Triaged);
    }
    let fifth = w
        .services
        .answer_verification(&from_owner_with_code(&link, wrong.as_str()), &corr())
        .await;
    assert!(is_invalid(&fifth), "{fifth:?}");
    assert_eq!(
        verification_state(&w, &filed.id),
        (VerificationState::Failed, 5)
    );
    let escalated = stored(&w, &filed.id).await;
    assert_eq!(escalated.state, TicketState::Escalated);
    assert_eq!(
        escalated.reason.as_deref(),
        Some("owner verification failed")
    );
    nothing_changed_at_the_directory(&w);
    assert!(
        !w.directory
            .account("erin@demo.example")
            .unwrap()
            .must_change_password
    );
    let notice = only_message_to(&w, &email("erin@demo.example"));
    assert!(notice.body.contains("Nothing was changed"));
    assert_eq!(
        notices(&w, &filed.id),
        [(
            "verification_failed".to_owned(),
            "e\u{2022}\u{2022}\u{2022}@demo.example".to_owned()
        )]
    );

    let right = w
        .services
        .answer_verification(&from_owner_with_code(&link, code.as_str()), &corr())
        .await;
    assert!(is_invalid(&right), "{right:?}");
    nothing_changed_at_the_directory(&w);
    assert_eq!(
        verification_state(&w, &filed.id),
        (VerificationState::Failed, 5)
    );
    assert_eq!(
        steps(&w, &filed.id),
        [
            VerificationStep::Requested,
            VerificationStep::Sent,
            VerificationStep::Failed
        ],
        "nothing succeeded, and the failure was recorded once"
    );
    assert_eq!(
        w.services.messenger.sent().len(),
        2,
        "the SMS and one notice"
    );
}

#[tokio::test]
async fn an_expired_link_is_refused_escalates_the_ticket_and_tells_the_owner() {
    let w = world().await;
    let (alice, filed) = own_reset(&w, "alice@demo.example").await;
    w.services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let link = link_in(&only_message_to(&w, &email("alice.home@mail.example")));
    w.services.clock.advance(Duration::minutes(14));
    assert!(
        w.services
            .describe_verification(
                &PageAnswer {
                    token: &link,
                    code: None,
                    client: "192.0.2.1"
                },
                &corr()
            )
            .await
            .is_ok(),
        "still open at 14 minutes"
    );
    w.services
        .clock
        .advance(Duration::minutes(1) + Duration::seconds(1));

    let late = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await;
    assert!(is_invalid(&late), "{late:?}");
    nothing_changed_at_the_directory(&w);
    let escalated = stored(&w, &filed.id).await;
    assert_eq!(escalated.state, TicketState::Escalated);
    assert_eq!(
        escalated.reason.as_deref(),
        Some("owner verification expired")
    );
    assert_eq!(
        verification_state(&w, &filed.id).0,
        VerificationState::Expired
    );
    let notice = only_message_to(&w, &email("alice@demo.example"));
    assert!(notice.body.contains("Nothing was changed"));
    assert_eq!(notices(&w, &filed.id).len(), 1);

    let again = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await;
    assert!(is_invalid(&again));
    assert_eq!(
        steps(&w, &filed.id),
        [
            VerificationStep::Requested,
            VerificationStep::Sent,
            VerificationStep::Expired
        ]
    );
    assert_eq!(notices(&w, &filed.id).len(), 1, "told once");
    let retried = w
        .services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await;
    assert!(
        matches!(retried, Err(WorkflowError::Refused(_))),
        "an escalated ticket asks nobody again: {retried:?}"
    );
    assert_eq!(w.services.messenger.sent().len(), 2);
}

#[tokio::test]
async fn an_unanswered_link_asked_again_after_expiry_escalates_and_tells_the_owner() {
    let w = world().await;
    let (alice, filed) = own_reset(&w, "alice@demo.example").await;
    w.services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    w.services.clock.advance(Duration::minutes(16));
    let again = w
        .services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await;
    assert!(
        matches!(again, Err(WorkflowError::Escalated { .. })),
        "{again:?}"
    );
    nothing_changed_at_the_directory(&w);
    assert_eq!(stored(&w, &filed.id).await.state, TicketState::Escalated);
    assert_eq!(
        verification_state(&w, &filed.id).0,
        VerificationState::Expired
    );
    assert!(steps(&w, &filed.id).contains(&VerificationStep::Expired));
    assert_eq!(notices(&w, &filed.id).len(), 1, "the owner was told");
}

#[tokio::test]
async fn one_client_address_is_limited_on_the_page_and_others_are_not() {
    let w = world().await;
    let (alice, filed) = own_reset(&w, "alice@demo.example").await;
    w.services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let link = link_in(&only_message_to(&w, &email("alice.home@mail.example")));
    let guess = format!("{}x", &link[..link.len() - 1]);
    let from = |client| PageAnswer {
        token: &guess,
        code: None,
        client,
    };
    for _ in 0..zerodesk_workflow::PAGE_ANSWERS_PER_CLIENT_PER_HOUR {
        let r = w
            .services
            .answer_verification(&from("198.51.100.7"), &corr())
            .await;
        assert!(is_invalid(&r), "{r:?}");
    }
    let limited = w
        .services
        .answer_verification(&from("198.51.100.7"), &corr())
        .await;
    assert!(
        matches!(limited, Err(VerifyRefusal::RateLimited { .. })),
        "{limited:?}"
    );
    let owner = PageAnswer {
        token: &link,
        code: None,
        client: "192.0.2.1",
    };
    let done = w.services.answer_verification(&owner, &corr()).await;
    assert!(
        matches!(done, Ok(OwnerOutcome::Done { .. })),
        "another address is not limited: {done:?}"
    );
}

/// A page answer from the owner's browser.
fn from_owner(token: &str) -> PageAnswer<'_> {
    PageAnswer {
        token,
        code: None,
        client: "192.0.2.1",
    }
}

/// A page answer from the owner's browser with the code from the text.
fn from_owner_with_code<'a>(token: &'a str, code: &'a str) -> PageAnswer<'a> {
    PageAnswer {
        token,
        code: Some(code),
        client: "192.0.2.1",
    }
}

/// alice's own reset, confirmed through her link: the ticket and the
/// "This wasn't me" link of the notice to her primary mailbox.
async fn confirmed_reset_and_its_not_me_link(w: &World) -> (Ticket, String) {
    let (alice, filed) = own_reset(w, "alice@demo.example").await;
    w.services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let link = link_in(&only_message_to(w, &email("alice.home@mail.example")));
    w.services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    assert_eq!(stored(w, &filed.id).await.state, TicketState::Resolved);
    let not_me = link_in(&only_message_to(w, &email("alice@demo.example")));
    (filed, not_me)
}

#[tokio::test]
async fn this_wasnt_me_signs_the_owner_out_reopens_the_ticket_and_alerts_security_once() {
    let mut with_contacts = policy(&[]);
    with_contacts.security_contacts = [AccountRef::parse("soc@demo.example").unwrap()].into();
    let w = world_with(with_contacts).await;
    let (filed, not_me) = confirmed_reset_and_its_not_me_link(&w).await;
    let revoked_by_reset = w
        .directory
        .account("alice@demo.example")
        .unwrap()
        .sessions_revoked;
    assert!(not_me.contains(".reset-not-me."), "{not_me}");
    // It is no confirmation link.
    assert!(is_invalid(
        &w.services
            .answer_verification(&from_owner(&not_me), &corr())
            .await
    ));
    let described = w
        .services
        .describe_verification(&from_owner(&not_me), &corr())
        .await
        .unwrap();
    assert!(described.report);

    let reported = w
        .services
        .report_not_me(&from_owner(&not_me), &corr())
        .await
        .unwrap();
    assert!(reported.sessions_revoked);
    assert_eq!(reported.contacts_alerted, 1);
    let alice_now = w.directory.account("alice@demo.example").unwrap();
    assert_eq!(alice_now.sessions_revoked, revoked_by_reset + 1);
    let reopened = stored(&w, &filed.id).await;
    assert_eq!(reopened.state, TicketState::Escalated);
    assert!(reopened.reason.unwrap().starts_with("security incident"));
    let alert = only_message_to(&w, &email("soc@demo.example"));
    assert!(alert.subject.starts_with("Security incident"));
    assert_eq!(w.events.of_type("SecurityIncidentReported").len(), 1);

    // Once only.
    let again = w
        .services
        .report_not_me(&from_owner(&not_me), &corr())
        .await;
    assert!(matches!(again, Err(VerifyRefusal::Invalid)), "{again:?}");
    assert_eq!(w.events.of_type("SecurityIncidentReported").len(), 1);
}

#[tokio::test]
async fn a_this_wasnt_me_link_expires_after_seven_days() {
    let w = world().await;
    let (filed, not_me) = confirmed_reset_and_its_not_me_link(&w).await;
    w.services
        .clock
        .advance(Duration::days(7) + Duration::minutes(1));
    let late = w
        .services
        .report_not_me(&from_owner(&not_me), &corr())
        .await;
    assert!(matches!(late, Err(VerifyRefusal::Invalid)), "{late:?}");
    assert_eq!(stored(&w, &filed.id).await.state, TicketState::Resolved);
}

#[tokio::test]
async fn automation_switched_off_after_the_link_went_out_stops_the_reset_at_once() {
    let w = world().await;
    let (alice, filed) = own_reset(&w, "alice@demo.example").await;
    w.services
        .run_action(&alice, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let link = link_in(&only_message_to(&w, &email("alice.home@mail.example")));
    // The admin turns automation off; this container's gate still caches
    // the old policy, the read before acting does not.
    let scope = TenantScope::for_system_task(w.tenant.clone(), SystemTask::TenantLifecycle);
    let mut tenant = w.services.tenants.get(&scope).await.unwrap().unwrap();
    tenant.policy.auto_resolve.clear();
    w.services
        .tenants
        .replace(&scope, &tenant, "active")
        .await
        .unwrap();
    let answered = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await;
    assert!(
        matches!(answered, Err(VerifyRefusal::Escalated)),
        "{answered:?}"
    );
    nothing_changed_at_the_directory(&w);
    let stopped = stored(&w, &filed.id).await;
    assert_eq!(stopped.state, TicketState::Escalated);
    assert_eq!(
        stopped.reason.as_deref(),
        Some("the tenant no longer automates this category")
    );
}

#[tokio::test]
async fn an_approval_older_than_the_policy_allows_expires() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let filed = file(
        &w,
        &alice,
        ticket(
            "Password reset",
            "Please reset the password for carol@demo.example",
        ),
    )
    .await;
    let bob = person(&w.tenant, Role::TenantManager, "bob@demo.example");
    w.services.approve(&bob, &corr(), &filed.id).await.unwrap();
    w.services.clock.advance(Duration::hours(25));
    let late = w
        .services
        .run_action(&bob, &corr(), &filed.id, DirectoryAction::Reset)
        .await;
    assert!(
        matches!(late, Err(WorkflowError::Escalated { .. })),
        "{late:?}"
    );
    assert!(w.services.messenger.sent().is_empty(), "nobody was asked");
    assert_eq!(
        stored(&w, &filed.id).await.reason.as_deref(),
        Some("the decision expired; file the request again")
    );
}

#[tokio::test]
async fn foreign_tampered_and_other_tenant_links_get_one_and_the_same_refusal() {
    let w = world().await;
    let other = TenantId::parse("other").unwrap();
    w.services
        .tenants
        .create(
            &TenantScope::for_system_task(other.clone(), SystemTask::TenantLifecycle),
            &record(&other, policy(&[])),
        )
        .await
        .unwrap();
    let (alice, mine) = own_reset(&w, "alice@demo.example").await;
    let (carol, theirs) = own_reset(&w, "carol@demo.example").await;
    for (who, id) in [(&alice, &mine.id), (&carol, &theirs.id)] {
        w.services
            .run_action(who, &corr(), id, DirectoryAction::Reset)
            .await
            .unwrap();
    }
    let link = link_in(&only_message_to(&w, &email("alice.home@mail.example")));
    let secret = secret_of(&link).to_owned();
    assert_eq!(secret.len(), 43);

    let another_tickets = format!("demo.{}.reset.{secret}", theirs.id);
    let mut flipped = secret.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!(
        "demo.{}.reset.{}",
        mine.id,
        String::from_utf8(flipped).unwrap()
    );
    let other_tenant = format!("other.{}.reset.{secret}", mine.id);
    let unknown_ticket = format!("demo.{}.reset.{secret}", TicketId::generate());
    let as_unlock = format!("demo.{}.unlock.{secret}", mine.id);
    let garbage = "not-a-token".to_owned();

    let expected = VerifyRefusal::Invalid.to_string();
    assert_eq!(expected, "this link or code is not valid");
    for token in [
        &another_tickets,
        &tampered,
        &other_tenant,
        &unknown_ticket,
        &as_unlock,
        &garbage,
    ] {
        let answered = w
            .services
            .answer_verification(&from_owner(token), &corr())
            .await;
        let Err(refusal) = answered else {
            panic!("{token} was accepted");
        };
        assert!(matches!(refusal, VerifyRefusal::Invalid), "{token}");
        assert_eq!(refusal.to_string(), expected, "{token}");
        let described = w
            .services
            .describe_verification(&from_owner(token), &corr())
            .await;
        let Err(refusal) = described else {
            panic!("{token} was described");
        };
        assert_eq!(refusal.to_string(), expected, "{token}");
    }
    nothing_changed_at_the_directory(&w);
    assert_eq!(
        w.services.messenger.sent().len(),
        2,
        "no refusal sent anything"
    );

    // A wrong link secret is never counted (only wrong codes are): nobody
    // who merely knows a ticket id can fail its owner's verification.
    assert_eq!(
        verification_state(&w, &mine.id).1,
        0,
        "tampered links not counted"
    );
    assert_eq!(
        verification_state(&w, &theirs.id).1,
        0,
        "foreign links not counted"
    );

    let done = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    assert!(matches!(
        done,
        OwnerOutcome::Done {
            temporary_password: Some(_),
            ..
        }
    ));
    assert_eq!(
        w.directory.calls_to(MemoryOp::ResetPassword),
        [AccountRef::parse("alice@demo.example").unwrap()],
        "only the owner's own link acted, on her own account"
    );
}

/// olga asks for a reset; Okta Verify is the only method.
async fn push_reset() -> (World, TicketId, String) {
    let w = world_with(policy(&[VerificationMethod::OktaPush])).await;
    let (olga, filed) = own_reset(&w, "olga@demo.example").await;
    let asked = w
        .services
        .run_action(&olga, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let requested = asked.awaiting_owner.unwrap();
    assert_eq!(requested.method, VerificationMethod::OktaPush);
    assert_eq!(requested.channel, "Okta Verify");
    let link = link_in(&only_message_to(&w, &email("olga@demo.example")));
    assert_eq!(
        w.directory
            .account("olga@demo.example")
            .unwrap()
            .pushes_sent,
        0,
        "the push waits for the owner to open the page"
    );
    let first = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    assert!(
        matches!(first, OwnerOutcome::PushWaiting { number: Some(42) }),
        "{first:?}"
    );
    assert_eq!(
        w.directory
            .account("olga@demo.example")
            .unwrap()
            .pushes_sent,
        1
    );
    (w, filed.id, link)
}

#[tokio::test]
async fn an_approved_okta_push_resets_and_returns_the_password() {
    let (w, id, link) = push_reset().await;
    let polled = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    assert!(matches!(polled, OwnerOutcome::PushWaiting { .. }));
    assert_eq!(
        w.directory
            .account("olga@demo.example")
            .unwrap()
            .pushes_sent,
        1,
        "polling sends no second push"
    );
    nothing_changed_at_the_directory(&w);

    w.directory
        .answer_push("olga@demo.example", PushResult::Approved);
    let done = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    let OwnerOutcome::Done {
        temporary_password: Some(password),
        ..
    } = done
    else {
        panic!("an approved push resets: {done:?}");
    };
    let account = w.directory.account("olga@demo.example").unwrap();
    assert!(account.must_change_password);
    assert_eq!(
        account.password.as_ref().map(|p| p.expose()),
        Some(password.expose())
    );
    assert_eq!(stored(&w, &id).await.state, TicketState::Resolved);
    assert_eq!(
        w.directory
            .account("olga@demo.example")
            .unwrap()
            .pushes_sent,
        1
    );
}

#[tokio::test]
async fn a_denied_or_unanswered_okta_push_escalates_and_changes_nothing() {
    for answer in [PushResult::Rejected, PushResult::TimedOut] {
        let (w, id, link) = push_reset().await;
        w.directory.answer_push("olga@demo.example", answer);
        let r = w
            .services
            .answer_verification(&from_owner(&link), &corr())
            .await;
        assert!(
            matches!(r, Err(VerifyRefusal::Escalated)),
            "{answer:?}: {r:?}"
        );
        assert_eq!(
            stored(&w, &id).await.state,
            TicketState::Escalated,
            "{answer:?}"
        );
        nothing_changed_at_the_directory(&w);
        assert!(
            !w.directory
                .account("olga@demo.example")
                .unwrap()
                .must_change_password
        );
        assert_eq!(verification_state(&w, &id).0, VerificationState::Failed);
        assert_eq!(
            notices(&w, &id),
            [(
                "verification_failed".to_owned(),
                "o\u{2022}\u{2022}\u{2022}@demo.example".to_owned()
            )],
            "{answer:?}"
        );

        w.directory
            .answer_push("olga@demo.example", PushResult::Approved);
        let later = w
            .services
            .answer_verification(&from_owner(&link), &corr())
            .await;
        assert!(is_invalid(&later), "{answer:?}: a closed push stays closed");
        nothing_changed_at_the_directory(&w);
    }
}

#[tokio::test]
async fn an_approved_reset_asks_the_target_and_only_the_target_gets_the_password() {
    let w = world().await;
    let alice = person(&w.tenant, Role::TenantUser, "alice@demo.example");
    let manager = person(&w.tenant, Role::TenantManager, "mgr@demo.example");
    let filed = file(
        &w,
        &alice,
        ticket(
            "Password reset",
            "Please reset the password for carol@demo.example",
        ),
    )
    .await;
    assert_eq!(filed.classification.decision, Decision::NeedsApproval);
    w.services
        .approve(&manager, &corr(), &filed.id)
        .await
        .unwrap();

    let asked = w
        .services
        .run_action(&manager, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    assert!(
        asked.temporary_password.is_none(),
        "the manager sees no password"
    );
    let requested = asked.awaiting_owner.expect("the target is asked");
    assert_eq!(requested.channel, "c\u{2022}\u{2022}\u{2022}@mail.example");
    nothing_changed_at_the_directory(&w);
    let sent = w.services.messenger.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, email("carol.home@mail.example"));
    for bystander in [
        "mgr@demo.example",
        "alice@demo.example",
        "alice.home@mail.example",
    ] {
        assert!(w.services.messenger.sent_to(&email(bystander)).is_empty());
    }

    let link = link_in(&sent[0]);
    let done = w
        .services
        .answer_verification(&from_owner(&link), &corr())
        .await
        .unwrap();
    let OwnerOutcome::Done {
        temporary_password: Some(password),
        ..
    } = done
    else {
        panic!("carol's answer resets: {done:?}");
    };
    let carol = w.directory.account("carol@demo.example").unwrap();
    assert_eq!(
        carol.password.as_ref().map(|p| p.expose()),
        Some(password.expose())
    );
    assert!(carol.must_change_password);
    assert_eq!(stored(&w, &filed.id).await.state, TicketState::Resolved);
    let later = w
        .services
        .run_action(&manager, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    assert!(later.replayed);
    assert!(later.temporary_password.is_none());
    assert_eq!(w.directory.calls_to(MemoryOp::ResetPassword).len(), 1);
}

#[tokio::test]
async fn an_account_with_no_channel_escalates_and_nothing_is_sent() {
    let w = world().await;
    let (nina, filed) = own_reset(&w, "nina@demo.example").await;
    let r = w
        .services
        .run_action(&nina, &corr(), &filed.id, DirectoryAction::Reset)
        .await;
    assert!(
        matches!(
            r,
            Err(WorkflowError::Escalated {
                reason: "no verification method available for the account",
                provider_fault: false
            })
        ),
        "{r:?}"
    );
    assert!(w.services.messenger.sent().is_empty());
    assert!(w.services.verifications.all().is_empty());
    assert!(steps(&w, &filed.id).is_empty());
    assert_eq!(stored(&w, &filed.id).await.state, TicketState::Escalated);
    nothing_changed_at_the_directory(&w);
}

/// Whether `needle` occurs in `haystack` as a whole number, not inside a
/// longer run of digits (timestamps carry long ones).
fn holds_number(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[tokio::test]
async fn no_password_link_secret_or_code_is_published_stored_or_logged() {
    let logs = zerodesk_telemetry::CapturedLogs::default();
    let _guard = logs.install();
    let w = world_with(policy(&[VerificationMethod::RecoverySms])).await;
    let (erin, filed) = own_reset(&w, "erin@demo.example").await;
    w.services
        .run_action(&erin, &corr(), &filed.id, DirectoryAction::Reset)
        .await
        .unwrap();
    let sms = only_message_to(&w, &Recipient::Sms(ERIN_PHONE.into()));
    let link = link_in(&sms);
    let secret = secret_of(&link).to_owned();
    let code = code_in(&sms);
    assert!(sms.body.contains(&secret) && sms.body.contains(&code));
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 7) % 1_000_000);
    assert!(is_invalid(
        &w.services
            .answer_verification(&from_owner_with_code(&link, wrong.as_str()), &corr())
            .await
    ));
    let done = w
        .services
        .answer_verification(&from_owner_with_code(&link, code.as_str()), &corr())
        .await
        .unwrap();
    let OwnerOutcome::Done {
        temporary_password: Some(password),
        ..
    } = done
    else {
        panic!("the right code resets: {done:?}");
    };
    let password = password.expose().to_owned();
    assert_eq!(
        w.directory
            .account("erin@demo.example")
            .unwrap()
            .password
            .map(|p| p.expose().to_owned()),
        Some(password.clone())
    );

    let events = w.events.events();
    assert!(!events.is_empty());
    let details: Vec<String> = events.iter().map(|e| e.to_detail_json().unwrap()).collect();
    let places = [
        ("events", format!("{events:?}")),
        ("event details", details.join("\n")),
        (
            "verifications",
            format!("{:?}", w.services.verifications.all()),
        ),
        ("tickets", format!("{:?}", w.services.tickets.all())),
        ("logs", logs.contents()),
    ];
    assert!(!places[4].1.is_empty(), "the workflow logged something");
    assert!(
        places[2].1.contains("Confirmed"),
        "the verification is stored"
    );
    for (place, text) in &places {
        assert!(!text.contains(&password), "temporary password in {place}");
        assert!(!text.contains(&secret), "link secret in {place}");
        assert!(!holds_number(text, &code), "SMS code in {place}");
        assert!(
            !text.contains(OKTA_TOKEN),
            "directory credential in {place}"
        );
        assert!(
            !text.contains(ERIN_PHONE),
            "unmasked phone number in {place}"
        );
    }
}

#[tokio::test]
async fn a_waived_signed_in_unlock_runs_at_once_but_a_reset_never_does() {
    let mut waiving = policy(&[]);
    waiving.owner_verification.waive_for_signed_in_unlock = true;
    let w = world_with(waiving).await;
    let bob = person(&w.tenant, Role::TenantUser, "bob@demo.example");
    let unlock = file(
        &w,
        &bob,
        ticket("Locked out", "My account is locked, I can't log in"),
    )
    .await;
    assert_eq!(unlock.classification.decision, Decision::AutoResolve);
    let done = w
        .services
        .run_action(&bob, &corr(), &unlock.id, DirectoryAction::Unlock)
        .await
        .unwrap();
    assert!(
        done.awaiting_owner.is_none(),
        "no challenge for the waived unlock"
    );
    assert_eq!(done.ticket.state, TicketState::Resolved);
    assert_eq!(
        w.directory.account("bob@demo.example").unwrap().state,
        AccountState::Active
    );
    assert!(w.services.messenger.sent().is_empty());
    assert!(w.services.verifications.all().is_empty());

    let (alice, reset) = own_reset(&w, "alice@demo.example").await;
    let asked = w
        .services
        .run_action(&alice, &corr(), &reset.id, DirectoryAction::Reset)
        .await
        .unwrap();
    assert!(asked.awaiting_owner.is_some(), "a reset is never waived");
    assert!(asked.temporary_password.is_none());
    assert!(w.directory.calls_to(MemoryOp::ResetPassword).is_empty());
    assert_eq!(
        only_message_to(&w, &email("alice.home@mail.example")).subject,
        "Confirm your helpdesk request"
    );
}

#[tokio::test]
async fn the_waiver_covers_a_signed_in_requester_not_an_intake_bot() {
    let mut waiving = policy(&[]);
    waiving.owner_verification.waive_for_signed_in_unlock = true;
    let w = world_with(waiving).await;
    let filed = file(
        &w,
        &intake_bot(&w.tenant),
        NewTicket {
            subject: "Locked out".into(),
            body: "My account is locked, I can't log in".into(),
            requester: Some("bob@demo.example".into()),
        },
    )
    .await;
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
        "a bot's ticket still asks bob"
    );
    assert_eq!(
        w.directory.account("bob@demo.example").unwrap().state,
        AccountState::Locked
    );
    only_message_to(&w, &email("bob.home@mail.example"));
}

#[tokio::test]
async fn a_bot_filed_ticket_for_a_requester_the_directory_does_not_know_escalates_first() {
    let w = world().await;
    let manager = person(&w.tenant, Role::TenantManager, "mgr@demo.example");
    // The intake names a made-up requester, so that no "own ticket" check
    // of the approval can match anyone.
    let filed = file(
        &w,
        &intake_bot(&w.tenant),
        NewTicket {
            subject: "Password reset".into(),
            body: "Please reset the password for carol@demo.example".into(),
            requester: Some("nobody-real@demo.example".into()),
        },
    )
    .await;
    assert_eq!(filed.classification.decision, Decision::NeedsApproval);
    w.services
        .approve(&manager, &corr(), &filed.id)
        .await
        .unwrap();
    let r = w
        .services
        .run_action(&manager, &corr(), &filed.id, DirectoryAction::Reset)
        .await;
    assert!(
        matches!(
            r,
            Err(WorkflowError::Escalated {
                reason: "requester unknown to the directory",
                provider_fault: false
            })
        ),
        "{r:?}"
    );
    assert!(
        w.services.messenger.sent().is_empty(),
        "nobody was asked to verify"
    );
    nothing_changed_at_the_directory(&w);
}
