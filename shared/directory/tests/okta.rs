//! Okta connector against the fake Okta org, with an API token and as an
//! OAuth service app.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::time::Duration;

use common::{NORMAL_TIMEOUT, SHORT_TIMEOUT, account, connector, endpoints};
use serde_json::{Value, json};
use zerodesk_directory::{
    AccountState, Connector, Directory, DirectoryError, OwnerChannels, PushResult, RequirementKind,
    RequirementStatus, UnlockOutcome,
};
use zerodesk_fakes::{FakeOkta, Fault, PushAnswer, SeedState, SeedUser, demo_seed};

async fn with_api_token(timeout: Duration) -> (FakeOkta, Connector) {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let c = connector(
        fake.api_token_credentials_json("demo.example").unwrap(),
        &endpoints(None, None, timeout),
    );
    (fake, c)
}

const OKTA_DEMO_TOKEN: &str = "SSWS 00test-only-okta-token-demo-example";

async fn as_service_app() -> (FakeOkta, Connector) {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let c = connector(
        fake.service_app_credentials_json("demo.example").unwrap(),
        &endpoints(None, None, NORMAL_TIMEOUT),
    );
    (fake, c)
}

#[tokio::test]
async fn lookup_reports_status_and_roles() {
    let (_fake, okta) = with_api_token(NORMAL_TIMEOUT).await;

    let root = okta.lookup(&account("root@demo.example")).await.unwrap();
    assert!(root.is_admin);
    assert!(root.provider_id.starts_with("00u"), "{}", root.provider_id);

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
async fn reset_uses_the_current_temp_password_operation_and_ends_old_sessions() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;

    let temp = okta
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap();

    assert!(fake.calls_to("lifecycle.expire_password").is_empty());
    let calls = fake.calls_to("lifecycle.expire_password_with_temp_password");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].query.as_deref(), Some("revokeSessions=true"));
    let alice = fake.user("alice@demo.example").unwrap();
    assert_eq!(alice.password.as_deref(), Some(temp.expose()));
    assert_eq!(alice.state, SeedState::PasswordExpired);
    assert_eq!(alice.sessions_revoked, 1);
    assert_eq!(format!("{temp:?}"), "[redacted]");
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn the_retired_temp_password_form_only_expires_the_password() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let expire = |query: &'static str| {
        reqwest::Client::new()
            .post(format!(
                "{}/api/v1/users/alice@demo.example/lifecycle/expire_password{query}",
                fake.org_url()
            ))
            .header("Authorization", OKTA_DEMO_TOKEN)
            .header("Accept", "application/json")
            .send()
    };

    let retired = expire("?tempPassword=true").await.unwrap();
    assert_eq!(retired.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(fake.violations().len(), 1, "tempPassword is not described");

    let current = expire("").await.unwrap();
    assert_eq!(current.status(), reqwest::StatusCode::OK);
    let user: Value = current.json().await.unwrap();
    assert_eq!(user["status"], json!("PASSWORD_EXPIRED"));
    assert!(user.get("tempPassword").is_none(), "{user}");
    assert_eq!(fake.user("alice@demo.example").unwrap().password, None);
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
async fn revoke_sessions_clears_sessions_and_oauth_tokens_but_keeps_remembered_devices() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    okta.revoke_sessions(&account("alice@demo.example"))
        .await
        .unwrap();
    let calls = fake.calls_to("users.sessions.clear");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "DELETE");
    assert_eq!(
        calls[0].query.as_deref(),
        Some("oauthTokens=true&forgetDevices=false")
    );
    assert_eq!(fake.user("alice@demo.example").unwrap().sessions_revoked, 1);
    assert!(!fake.remembered_factors_forgotten("alice@demo.example"));
}

#[tokio::test]
async fn okta_forgets_remembered_devices_unless_told_not_to() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let alice = fake.user("alice@demo.example").unwrap().id;
    let cleared = reqwest::Client::new()
        .delete(format!("{}/api/v1/users/{alice}/sessions", fake.org_url()))
        .header("Authorization", OKTA_DEMO_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), reqwest::StatusCode::NO_CONTENT);
    assert!(fake.remembered_factors_forgotten("alice@demo.example"));
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
async fn service_app_gets_one_dpop_bound_token_and_uses_it_for_every_call() {
    let (fake, okta) = as_service_app().await;

    okta.lookup(&account("root@demo.example")).await.unwrap();
    let temp = okta
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap();
    okta.unlock(&account("bob@demo.example")).await.unwrap();

    // The first answer is Okta's `use_dpop_nonce` challenge; the second,
    // with the nonce, issues the token.
    let tokens = fake.calls_to("token");
    assert_eq!(tokens.len(), 2);
    for token in &tokens {
        assert_eq!(
            token.body["scope"],
            json!("okta.users.read okta.users.manage okta.groups.read okta.roles.read")
        );
        assert_eq!(token.body["client_assertion"], json!("[redacted]"));
    }
    assert_eq!(fake.issued_token_types(), vec!["DPoP"]);
    assert_eq!(
        fake.user("alice@demo.example").unwrap().password.as_deref(),
        Some(temp.expose())
    );
    assert_eq!(
        fake.user("bob@demo.example").unwrap().state,
        SeedState::Active
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn with_dpop_off_the_service_app_uses_a_bearer_token() {
    let (fake, okta) = as_service_app().await;
    fake.set_dpop_required(false);

    okta.unlock(&account("bob@demo.example")).await.unwrap();

    assert_eq!(fake.calls_to("token").len(), 1);
    assert_eq!(fake.issued_token_types(), vec!["Bearer"]);
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

    fake.fail_route(
        "lifecycle.expire_password_with_temp_password",
        Fault::Status(500),
    );
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
    fake.fail_route(
        "lifecycle.expire_password_with_temp_password",
        Fault::Garbage,
    );
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
    assert_eq!(fake.issued_token_types(), vec!["DPoP"]);
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
            .ends_with("/transactions/tx%3FfactorResult%3DSUCCESS%23x"),
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

#[tokio::test]
async fn a_rate_limited_okta_says_when_to_retry() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    fake.limit_rate(2);

    okta.lookup(&account("alice@demo.example")).await.unwrap();
    let err = okta
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();

    let DirectoryError::RateLimited {
        retry_after: Some(wait),
        ..
    } = err
    else {
        panic!("{err:?}");
    };
    assert!(wait <= Duration::from_secs(60), "{wait:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_plus_in_a_login_is_sent_encoded_and_finds_the_user() {
    let (fake, okta) = as_service_app().await;
    let id = fake
        .add_user(
            "demo.example",
            SeedUser::new("bob+it@demo.example", SeedState::Active),
        )
        .unwrap();

    // Through DPoP too: the proof's `htu` must match the decoded path.
    let found = okta.lookup(&account("bob+it@demo.example")).await.unwrap();

    assert_eq!(found.provider_id, id);
    assert_eq!(found.account.as_str(), "bob+it@demo.example");
    let gets = fake.calls_to("users.get");
    assert!(
        gets[0].path.ends_with("/users/bob%2Bit@demo.example"),
        "{}",
        gets[0].path
    );
    let raw_plus = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/users/bob+it@demo.example",
            fake.org_url()
        ))
        .header("Authorization", OKTA_DEMO_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw_plus.status(),
        reqwest::StatusCode::NOT_FOUND,
        "Okta reads a raw + as a space"
    );
}

#[tokio::test]
async fn another_case_the_profile_email_or_a_shortname_find_the_same_user() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let carol = fake.user("carol@demo.example").unwrap().id;

    let by_login = okta.lookup(&account("Carol@Demo.Example")).await.unwrap();
    let by_email = okta
        .lookup(&account("c.finance@demo.example"))
        .await
        .unwrap();

    for found in [&by_login, &by_email] {
        assert_eq!(found.provider_id, carol);
        assert_eq!(found.account.as_str(), "carol@demo.example");
    }
    let searched = fake.calls_to("users.list");
    assert_eq!(searched.len(), 1, "only the email needed a search");
    let shortname: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/users/CAROL", fake.org_url()))
        .header("Authorization", OKTA_DEMO_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shortname["id"], json!(carol));
}

#[tokio::test]
async fn protected_groups_are_resolved_to_ids_and_matched_by_id() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let it_admins = fake.group_id("demo.example", "IT Admins").unwrap();

    let resolved = okta.resolve_group("it admins").await.unwrap();
    assert_eq!(resolved.id, it_admins);
    assert_eq!(resolved.name, "IT Admins");
    assert_eq!(okta.resolve_group(&it_admins).await.unwrap(), resolved);

    let root = okta.lookup(&account("root@demo.example")).await.unwrap();
    let alice = okta.lookup(&account("alice@demo.example")).await.unwrap();
    assert!(
        okta.member_of_any(&root, std::slice::from_ref(&it_admins))
            .await
            .unwrap()
    );
    assert!(!okta.member_of_any(&alice, &[it_admins]).await.unwrap());
    assert!(
        !okta
            .member_of_any(&root, &["IT Admins".to_owned()])
            .await
            .unwrap(),
        "a name is not an id"
    );
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn an_unknown_group_is_not_found_and_a_shared_name_is_refused() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let err = okta.resolve_group("Nobody's Group").await.unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");

    fake.add_user(
        "demo.example",
        SeedUser::new("zed@demo.example", SeedState::Active).in_groups(&["STAFF"]),
    );
    let err = okta.resolve_group("staff").await.unwrap_err();
    assert!(
        matches!(err, DirectoryError::Unsupported { .. }),
        "two groups are named staff: {err}"
    );
}

#[tokio::test]
async fn an_admin_role_assigned_to_a_group_makes_its_members_admins() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    assert!(
        !okta
            .lookup(&account("carol@demo.example"))
            .await
            .unwrap()
            .is_admin
    );
    fake.assign_role_to_group("demo.example", "Finance", "HELP_DESK_ADMIN");
    assert!(
        okta.lookup(&account("carol@demo.example"))
            .await
            .unwrap()
            .is_admin
    );
}

fn status_of(report: &zerodesk_directory::ConnectionReport, name: &str) -> RequirementStatus {
    report
        .requirements
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} not in {report:?}"))
        .status
}

#[tokio::test]
async fn a_ready_service_app_passes_the_connection_check() {
    let (fake, okta) = as_service_app().await;

    let report = okta.check_connection(&account("root@demo.example")).await;

    assert!(report.is_ready(), "{report:?}");
    let kinds: Vec<RequirementKind> = report.requirements.iter().map(|r| r.kind).collect();
    assert!(kinds.contains(&RequirementKind::Credentials));
    assert!(kinds.contains(&RequirementKind::Setting));
    assert_eq!(
        status_of(&report, "admin role Help Desk Administrator"),
        RequirementStatus::Granted
    );
    assert_eq!(status_of(&report, "DPoP"), RequirementStatus::Granted);
    // One nonce challenge, then one request per scope, then the full token.
    assert_eq!(fake.calls_to("token").len(), 6);
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn the_connection_check_names_each_missing_piece() {
    let probe = account("root@demo.example");

    let (fake, okta) = as_service_app().await;
    fake.grant_scopes(
        "demo.example",
        &["okta.users.read", "okta.users.manage", "okta.roles.read"],
    );
    let report = okta.check_connection(&probe).await;
    assert_eq!(report.missing(), vec!["okta.groups.read"], "{report:?}");

    let (fake, okta) = as_service_app().await;
    fake.remove_admin_roles("demo.example");
    let report = okta.check_connection(&probe).await;
    assert_eq!(
        report.missing(),
        vec![
            "admin role (Help Desk Administrator or a custom role with user lifecycle permissions)"
        ],
        "{report:?}"
    );

    let (fake, okta) = as_service_app().await;
    fake.set_dpop_required(false);
    let report = okta.check_connection(&probe).await;
    assert_eq!(
        report.missing(),
        vec!["DPoP (Require Demonstrating Proof of Possession is off: tokens are bearer tokens)"],
        "{report:?}"
    );

    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let mut creds = fake.service_app_credentials_json("demo.example").unwrap();
    creds["client_id"] = json!("0oa-someone-else");
    let report = connector(creds, &endpoints(None, None, NORMAL_TIMEOUT))
        .check_connection(&probe)
        .await;
    assert_eq!(
        report.missing(),
        vec!["API service app 0oa-someone-else"],
        "{report:?}"
    );
}

#[tokio::test]
async fn the_connection_check_with_an_api_token_reports_the_token_and_the_reads() {
    let (_fake, okta) = with_api_token(NORMAL_TIMEOUT).await;
    let report = okta.check_connection(&account("root@demo.example")).await;
    assert!(report.is_ready(), "{report:?}");
    for name in [
        "API token (SSWS)",
        "view users (root@demo.example)",
        "view admin role assignments",
        "view groups",
    ] {
        assert_eq!(status_of(&report, name), RequirementStatus::Granted);
    }

    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let mut creds = fake.api_token_credentials_json("demo.example").unwrap();
    creds["api_token"] = json!("00wrong-token");
    let report = connector(creds, &endpoints(None, None, NORMAL_TIMEOUT))
        .check_connection(&account("root@demo.example"))
        .await;
    assert_eq!(report.missing(), vec!["API token (SSWS)"], "{report:?}");
}

#[tokio::test]
async fn revoking_access_revokes_the_token_at_okta_and_names_the_app_to_remove() {
    let (fake, okta) = as_service_app().await;
    okta.lookup(&account("alice@demo.example")).await.unwrap();
    assert_eq!(fake.live_access_tokens(), 1);

    let revocation = okta.revoke_access().await;

    assert_eq!(
        revocation.revoked,
        vec!["access token at Okta", "cached access token"]
    );
    assert_eq!(fake.live_access_tokens(), 0, "Okta refuses it from now on");
    assert_eq!(fake.calls_to("oauth.revoke").len(), 1);
    assert!(
        revocation.tenant_must_remove[0].contains("0oa-test-only-demo-example"),
        "{revocation:?}"
    );
    assert!(revocation.tenant_must_remove[1].contains("admin role"));
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
}

#[tokio::test]
async fn revoking_access_with_an_api_token_revokes_the_token_itself() {
    let (fake, okta) = with_api_token(NORMAL_TIMEOUT).await;

    let revocation = okta.revoke_access().await;

    assert_eq!(revocation.revoked, vec!["API token at Okta"]);
    assert_eq!(fake.calls_to("api_tokens.revoke_current").len(), 1);
    let err = okta
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Auth { .. }), "{err}");
}

/// A client that speaks DPoP to the fake by hand, to see what it refuses.
mod dpop_by_hand {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    use base64::Engine as _;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::{Value, json};

    pub struct Client {
        key: EncodingKey,
        jwk: Jwk,
        pub org: String,
        jti: std::sync::atomic::AtomicU32,
    }

    impl Client {
        pub fn new(org: String) -> Self {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
            let key = EncodingKey::from_ec_der(pair.to_pkcs8v1().unwrap().as_ref());
            let jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
            Self {
                key,
                jwk,
                org,
                jti: 0.into(),
            }
        }

        fn next_jti(&self) -> String {
            let n = self.jti.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            format!("by-hand-{n}")
        }

        pub fn proof(&self, htm: &str, path: &str, extra: Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.typ = Some("dpop+jwt".into());
            header.jwk = Some(self.jwk.clone());
            let mut claims = json!({
                "htm": htm, "htu": format!("{}{path}", self.org),
                "iat": jsonwebtoken::get_current_timestamp(), "jti": self.next_jti(),
            });
            for (k, v) in extra.as_object().unwrap() {
                claims[k] = v.clone();
            }
            jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
        }

        pub fn assertion(&self) -> String {
            let now = jsonwebtoken::get_current_timestamp();
            let claims = json!({
                "iss": "0oa-test-only-demo-example", "sub": "0oa-test-only-demo-example",
                "aud": format!("{}/oauth2/v1/token", self.org),
                "iat": now, "exp": now + 300, "jti": self.next_jti(),
            });
            let key =
                EncodingKey::from_rsa_pem(zerodesk_fakes::TEST_ONLY_PRIVATE_KEY_PEM.as_bytes())
                    .unwrap();
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
        }

        pub async fn token(&self, proof: Option<String>) -> reqwest::Response {
            let mut request = reqwest::Client::new()
                .post(format!("{}/oauth2/v1/token", self.org))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("scope", "okta.users.read"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &self.assertion()),
                ]);
            if let Some(proof) = proof {
                request = request.header("DPoP", proof);
            }
            request.send().await.unwrap()
        }

        pub async fn get(&self, path: &str, authorization: &str, proof: Option<String>) -> u16 {
            let mut request = reqwest::Client::new()
                .get(format!("{}{path}", self.org))
                .header("Authorization", authorization);
            if let Some(proof) = proof {
                request = request.header("DPoP", proof);
            }
            request.send().await.unwrap().status().as_u16()
        }
    }

    pub fn ath(token: &str) -> String {
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash)
    }
}

#[tokio::test]
async fn the_fake_checks_dpop_proofs_as_okta_does() {
    let fake = FakeOkta::start(demo_seed()).await.unwrap();
    let client = dpop_by_hand::Client::new(fake.org_url());
    let token_path = "/oauth2/v1/token";

    let missing = client.token(None).await;
    assert_eq!(missing.status().as_u16(), 400);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], json!("invalid_dpop_proof"));

    let challenged = client
        .token(Some(client.proof("POST", token_path, json!({}))))
        .await;
    assert_eq!(challenged.status().as_u16(), 400);
    let nonce = challenged.headers()["dpop-nonce"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = challenged.json().await.unwrap();
    assert_eq!(body["error"], json!("use_dpop_nonce"));

    let wrong_htu = client
        .token(Some(client.proof(
            "POST",
            "/oauth2/v1/other",
            json!({"nonce": nonce}),
        )))
        .await;
    assert_eq!(wrong_htu.status().as_u16(), 400);

    let issued: Value = client
        .token(Some(client.proof(
            "POST",
            token_path,
            json!({"nonce": nonce}),
        )))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(issued["token_type"], json!("DPoP"));
    let token = issued["access_token"].as_str().unwrap();

    let alice = fake.user("alice@demo.example").unwrap().id;
    let path = format!("/api/v1/users/{alice}");
    let good = || client.proof("GET", &path, json!({"ath": dpop_by_hand::ath(token)}));
    let dpop = format!("DPoP {token}");
    assert_eq!(
        client.get(&path, &format!("Bearer {token}"), None).await,
        401
    );
    assert_eq!(client.get(&path, &dpop, None).await, 400, "no proof");
    let wrong_ath = client.proof("GET", &path, json!({"ath": dpop_by_hand::ath("other")}));
    assert_eq!(client.get(&path, &dpop, Some(wrong_ath)).await, 400);
    let wrong_method = client.proof("POST", &path, json!({"ath": dpop_by_hand::ath(token)}));
    assert_eq!(client.get(&path, &dpop, Some(wrong_method)).await, 400);
    let stale = client.proof(
        "GET",
        &path,
        json!({"ath": dpop_by_hand::ath(token), "iat": 1_000_000}),
    );
    assert_eq!(client.get(&path, &dpop, Some(stale)).await, 400);
    let proof = good();
    assert_eq!(client.get(&path, &dpop, Some(proof.clone())).await, 200);
    assert_eq!(client.get(&path, &dpop, Some(proof)).await, 400, "replayed");
    let other_key = dpop_by_hand::Client::new(fake.org_url());
    let stolen = other_key.proof("GET", &path, json!({"ath": dpop_by_hand::ath(token)}));
    assert_eq!(
        client.get(&path, &dpop, Some(stolen)).await,
        400,
        "another key"
    );
}
