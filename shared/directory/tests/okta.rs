//! Okta connector against the fake Okta org, with an API token and as an
//! OAuth service app.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::time::Duration;

use common::{NORMAL_TIMEOUT, SHORT_TIMEOUT, account, connector, endpoints};
use serde_json::json;
use zerodesk_directory::{
    AccountState, Connector, Directory, DirectoryError, OwnerChannels, PushResult, UnlockOutcome,
};
use zerodesk_fakes::{FakeOkta, Fault, PushAnswer, SeedState, demo_seed};

async fn with_api_token(timeout: Duration) -> (FakeOkta, Connector) {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let c = connector(
        fake.api_token_credentials_json("demo.example").unwrap(),
        &endpoints(None, None, timeout),
    );
    (fake, c)
}

async fn as_service_app() -> (FakeOkta, Connector) {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let c = connector(
        fake.service_app_credentials_json("demo.example").unwrap(),
        &endpoints(None, None, NORMAL_TIMEOUT),
    );
    (fake, c)
}

#[tokio::test]
async fn lookup_reports_status_roles_and_every_group_page() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;

    let root = okta.lookup(&account("root@demo.example")).await.unwrap();
    assert!(root.is_admin);
    assert_eq!(root.groups, vec!["Everyone", "IT Admins", "Staff"]);
    assert_eq!(
        fake.calls_to("users.groups").len(),
        2,
        "groups span two pages"
    );

    let alice = okta.lookup(&account("alice@demo.example")).await.unwrap();
    assert!(!alice.is_admin);
    assert_eq!(alice.state, AccountState::Active);
    assert_eq!(
        okta.lookup(&account("bob@demo.example"))
            .await
            .unwrap()
            .state,
        AccountState::Locked
    );
    assert_eq!(
        okta.lookup(&account("dave@demo.example"))
            .await
            .unwrap()
            .state,
        AccountState::Suspended { reason: None }
    );
}

#[tokio::test]
async fn reset_returns_the_temporary_password_okta_issued() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;

    let temp = okta
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap();

    let calls = fake.calls_to("lifecycle.expire_password");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].query.as_deref(), Some("tempPassword=true"));
    let alice = fake.user("alice@demo.example").unwrap();
    assert_eq!(alice.password.as_deref(), Some(temp.expose()));
    assert_eq!(alice.state, SeedState::PasswordExpired);
    assert_eq!(format!("{temp:?}"), "[redacted]");
}

#[tokio::test]
async fn unlock_unlocks_a_locked_out_user() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    assert_eq!(
        okta.unlock(&account("bob@demo.example")).await.unwrap(),
        UnlockOutcome::Unlocked
    );
    assert_eq!(fake.calls_to("lifecycle.unlock").len(), 1);
    assert_eq!(
        fake.user("bob@demo.example").unwrap().state,
        SeedState::Active
    );
}

#[tokio::test]
async fn unlock_refuses_a_suspended_user_and_leaves_an_active_one_alone() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let err = okta
        .unlock(&account("dave@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::NotUnlockable { .. }), "{err}");
    assert_eq!(
        okta.unlock(&account("alice@demo.example")).await.unwrap(),
        UnlockOutcome::WasNotLocked
    );
    assert!(fake.calls_to("lifecycle.unlock").is_empty());
}

#[tokio::test]
async fn revoke_sessions_clears_sessions_and_oauth_tokens() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    okta.revoke_sessions(&account("alice@demo.example"))
        .await
        .unwrap();
    let calls = fake.calls_to("users.sessions.clear");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "DELETE");
    assert_eq!(calls[0].query.as_deref(), Some("oauthTokens=true"));
    assert_eq!(fake.user("alice@demo.example").unwrap().sessions_revoked, 1);
}

#[tokio::test]
async fn unknown_and_other_org_accounts_are_not_found() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    for who in ["nobody@demo.example", "frank@other.example"] {
        let err = okta.unlock(&account(who)).await.unwrap_err();
        assert!(
            matches!(err, DirectoryError::NotFound { .. }),
            "{who}: {err}"
        );
    }
    assert_eq!(
        fake.user("frank@other.example").unwrap().state,
        SeedState::LockedOut
    );
}

#[tokio::test]
async fn a_wrong_api_token_is_an_auth_error() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let mut creds = fake.api_token_credentials_json("demo.example").unwrap();
    creds["api_token"] = json!("00wrong-token");
    let err = connector(creds, &endpoints(None, None, NORMAL_TIMEOUT))
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Auth { .. }), "{err}");
}

#[tokio::test]
async fn service_app_gets_one_token_and_uses_it_for_every_call() {
    let (fake, okta) = as_service_app().await;

    okta.lookup(&account("root@demo.example")).await.unwrap();
    let temp = okta
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap();
    okta.unlock(&account("bob@demo.example")).await.unwrap();

    let tokens = fake.calls_to("token");
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        tokens[0].body["scope"],
        json!("okta.users.manage okta.users.read okta.roles.read")
    );
    assert_eq!(tokens[0].body["client_assertion"], json!("[redacted]"));
    assert_eq!(
        fake.user("alice@demo.example").unwrap().password.as_deref(),
        Some(temp.expose())
    );
    assert_eq!(
        fake.user("bob@demo.example").unwrap().state,
        SeedState::Active
    );
}

#[tokio::test]
async fn service_app_with_an_unknown_client_is_an_auth_error() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let mut creds = fake.service_app_credentials_json("demo.example").unwrap();
    creds["client_id"] = json!("0oa-someone-else");
    let err = connector(creds, &endpoints(None, None, NORMAL_TIMEOUT))
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DirectoryError::Auth {
                reason: "invalid_client",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn faults_map_to_the_matching_errors() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let alice = account("alice@demo.example");

    fake.fail_route("lifecycle.expire_password", Fault::Status(500));
    let err = okta.reset_password(&alice).await.unwrap_err();
    assert!(
        matches!(
            err,
            DirectoryError::Unavailable {
                status: Some(500),
                ..
            }
        ),
        "{err}"
    );

    fake.clear_faults();
    fake.fail_route("lifecycle.expire_password", Fault::Garbage);
    let err = okta.reset_password(&alice).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Malformed { .. }), "{err}");

    fake.clear_faults();
    fake.fail_route("users.roles", Fault::Status(429));
    let err = okta.lookup(&alice).await.unwrap_err();
    assert!(matches!(err, DirectoryError::RateLimited { .. }), "{err}");

    fake.clear_faults();
    fake.fail_route("users.get", Fault::Status(401));
    let err = okta.lookup(&alice).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Auth { .. }), "{err}");
}

#[tokio::test]
async fn a_hanging_okta_times_out() {
    let (fake, okta) = with_api_token(SHORT_TIMEOUT).await;
    fake.fail_route("users.sessions.clear", Fault::Hang(Duration::from_secs(5)));
    let err = okta
        .revoke_sessions(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn owner_channels_are_the_profile_email_and_active_factors() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;

    let alice = okta
        .owner_channels(&account("alice@demo.example"))
        .await
        .unwrap();

    let push = alice.push_factor.clone().expect("alice has Okta Verify");
    assert!(push.starts_with("opf"), "{push}");
    assert_eq!(
        alice,
        OwnerChannels {
            primary_email: Some("alice@demo.example".into()),
            recovery_email: Some("alice.personal@mail.example".into()),
            recovery_phone: Some("+15555550101".into()),
            push_factor: Some(push),
        }
    );
    let lists = fake.calls_to("factors.list");
    assert_eq!(lists.len(), 1);
    let user_id = fake.user("alice@demo.example").unwrap().id;
    assert_eq!(lists[0].path, format!("/api/v1/users/{user_id}/factors"));
}

#[tokio::test]
async fn factors_pending_activation_are_ignored() {
    let (_fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let carol = okta
        .owner_channels(&account("carol@demo.example"))
        .await
        .unwrap();
    assert_eq!(carol.push_factor, None, "carol's push is still pending");
    assert_eq!(carol.recovery_phone, None, "carol's SMS is still pending");
    assert_eq!(
        carol.recovery_email.as_deref(),
        Some("carol.home@mail.example")
    );
}

async fn push_factor_of(okta: &Connector, who: &str) -> String {
    okta.owner_channels(&account(who))
        .await
        .unwrap()
        .push_factor
        .unwrap()
}

/// Sends a push to alice as `answer` scripts her, and polls it twice.
async fn push_answered(answer: Option<PushAnswer>) -> (FakeOkta, [PushResult; 2]) {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    if let Some(answer) = answer {
        fake.answer_pushes("alice@demo.example", answer);
    }
    let alice = account("alice@demo.example");
    let factor = push_factor_of(&okta, "alice@demo.example").await;

    let challenge = okta.send_push(&alice, &factor).await.unwrap();

    assert!(
        challenge.number.is_some_and(|n| (10..100).contains(&n)),
        "{challenge:?}"
    );
    let first = okta
        .push_result(&alice, &factor, &challenge.transaction)
        .await
        .unwrap();
    let second = okta
        .push_result(&alice, &factor, &challenge.transaction)
        .await
        .unwrap();
    (fake, [first, second])
}

#[tokio::test]
async fn an_approved_push_waits_then_is_approved() {
    let (fake, results) = push_answered(None).await;
    assert_eq!(results, [PushResult::Waiting, PushResult::Approved]);

    let verify = fake.calls_to("factors.verify");
    assert_eq!(verify.len(), 1);
    assert_eq!(verify[0].method, "POST");
    assert_eq!(verify[0].body, json!({"useNumberMatchingChallenge": true}));
    assert_eq!(fake.calls_to("factors.transaction").len(), 2);
}

#[tokio::test]
async fn a_denied_push_is_rejected() {
    let (_fake, results) = push_answered(Some(PushAnswer::Deny)).await;
    assert_eq!(results, [PushResult::Waiting, PushResult::Rejected]);
}

#[tokio::test]
async fn an_unanswered_push_times_out() {
    let (_fake, results) = push_answered(Some(PushAnswer::TimeOut)).await;
    assert_eq!(results, [PushResult::Waiting, PushResult::TimedOut]);
}

#[tokio::test]
async fn a_service_app_can_push_with_its_scopes() {
    let (fake, okta) = as_service_app().await;
    let alice = account("alice@demo.example");
    let factor = push_factor_of(&okta, "alice@demo.example").await;
    let challenge = okta.send_push(&alice, &factor).await.unwrap();
    okta.push_result(&alice, &factor, &challenge.transaction)
        .await
        .unwrap();
    assert_eq!(fake.calls_to("token").len(), 1);
}

#[tokio::test]
async fn a_push_to_an_sms_factor_is_not_taken_for_a_push() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let alice = fake.user("alice@demo.example").unwrap();
    let sms_factor = format!("mbl{}01", alice.id.trim_start_matches("00u"));

    let err = okta
        .send_push(&account("alice@demo.example"), &sms_factor)
        .await
        .unwrap_err();

    assert!(matches!(err, DirectoryError::Malformed { .. }), "{err}");
    assert_eq!(fake.calls_to("factors.verify").len(), 1);
}

#[tokio::test]
async fn another_users_factor_or_transaction_is_not_found() {
    let (_fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let bobs_factor = push_factor_of(&okta, "bob@demo.example").await;
    let alice = account("alice@demo.example");

    let err = okta.send_push(&alice, &bobs_factor).await.unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");

    let bob = account("bob@demo.example");
    let bobs_push = okta.send_push(&bob, &bobs_factor).await.unwrap();
    let alices_factor = push_factor_of(&okta, "alice@demo.example").await;
    let err = okta
        .push_result(&alice, &alices_factor, &bobs_push.transaction)
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn factor_and_transaction_ids_are_escaped_as_one_path_segment() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let alice = account("alice@demo.example");

    let err = okta.send_push(&alice, "opf/../../roles").await.unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
    let verify = fake.calls_to("factors.verify");
    assert_eq!(
        verify.len(),
        1,
        "still the verify route: {:?}",
        fake.calls()
    );
    assert!(
        verify[0]
            .path
            .ends_with("/factors/opf%2F..%2F..%2Froles/verify"),
        "{}",
        verify[0].path
    );

    let factor = push_factor_of(&okta, "alice@demo.example").await;
    let err = okta
        .push_result(&alice, &factor, "tx?factorResult=SUCCESS#x")
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
    let polls = fake.calls_to("factors.transaction");
    assert_eq!(polls.len(), 1);
    assert!(
        polls[0]
            .path
            .ends_with("/transactions/tx%3FfactorResult=SUCCESS%23x"),
        "{}",
        polls[0].path
    );
    assert_eq!(polls[0].query, None);
}

#[tokio::test]
async fn dot_segment_ids_are_refused_before_any_push_is_sent() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let alice = account("alice@demo.example");
    for factor in ["..", ".", ""] {
        let err = okta.send_push(&alice, factor).await.unwrap_err();
        assert!(
            matches!(err, DirectoryError::NotFound { .. }),
            "{factor:?}: {err}"
        );
    }
    let factor = push_factor_of(&okta, "alice@demo.example").await;
    let err = okta.push_result(&alice, &factor, "..").await.unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
    assert!(fake.calls_to("factors.verify").is_empty());
    assert!(fake.calls_to("factors.transaction").is_empty());
    assert!(fake.calls_to("unknown").is_empty());
}

#[tokio::test]
async fn garbage_from_the_poll_is_malformed() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let alice = account("alice@demo.example");
    let factor = push_factor_of(&okta, "alice@demo.example").await;
    let challenge = okta.send_push(&alice, &factor).await.unwrap();
    fake.fail_route("factors.transaction", Fault::Garbage);
    let err = okta
        .push_result(&alice, &factor, &challenge.transaction)
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Malformed { .. }), "{err}");
}
