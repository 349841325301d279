//! Google Workspace connector against the fake Admin SDK.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::time::Duration;

use common::{SHORT_TIMEOUT, account, connector, endpoints};
use serde_json::json;
use sha1::{Digest, Sha1};
use zerodesk_directory::{
    AccountState, Connector, Directory, DirectoryError, OwnerChannels, UnlockOutcome,
    meets_complexity,
};
use zerodesk_fakes::{FakeGoogle, Fault, SeedState, demo_seed};

async fn setup(timeout: Duration) -> (FakeGoogle, Connector) {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let ep = endpoints(Some((fake.token_url(), fake.api_base_url())), None, timeout);
    let c = connector(fake.credentials_json("demo.example").unwrap(), &ep);
    (fake, c)
}

#[tokio::test]
async fn lookup_reports_state_and_admin() {
    let (_fake, google) = setup(common::NORMAL_TIMEOUT).await;

    let alice = google.lookup(&account("alice@demo.example")).await.unwrap();
    assert_eq!(alice.state, AccountState::Active);
    assert!(!alice.is_admin);

    let root = google.lookup(&account("root@demo.example")).await.unwrap();
    assert!(root.is_admin);

    assert_eq!(
        google
            .lookup(&account("bob@demo.example"))
            .await
            .unwrap()
            .state,
        AccountState::Locked
    );
    assert_eq!(
        google
            .lookup(&account("dave@demo.example"))
            .await
            .unwrap()
            .state,
        AccountState::Suspended {
            reason: Some("ADMIN".into())
        }
    );
}

#[tokio::test]
async fn reset_sends_a_sha1_hash_and_forces_a_change_at_next_login() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;

    let temp = google
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap();

    assert!(meets_complexity(temp.expose()));
    let updates = fake.calls_to("users.update");
    assert_eq!(updates.len(), 1);
    let body = &updates[0].body;
    assert_eq!(updates[0].method, "PUT");
    assert_eq!(body["changePasswordAtNextLogin"], json!(true));
    assert_eq!(body["hashFunction"], json!("SHA-1"));
    let expected = hex::encode(Sha1::digest(temp.expose().as_bytes()));
    assert_eq!(body["password"], json!(expected));
    for call in fake.calls() {
        assert!(
            !call.body.to_string().contains(temp.expose()),
            "plaintext crossed the wire in {}",
            call.route
        );
    }
    let alice = fake.user("alice@demo.example").unwrap();
    assert!(alice.must_change_password);
    assert_eq!(alice.password.as_deref(), Some(expected.as_str()));
}

#[tokio::test]
async fn one_connector_fetches_one_token_for_several_calls() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    google.lookup(&account("alice@demo.example")).await.unwrap();
    google
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap();
    google
        .revoke_sessions(&account("alice@demo.example"))
        .await
        .unwrap();
    assert_eq!(fake.calls_to("token").len(), 1);
    assert_eq!(
        fake.calls_to("token")[0].body["assertion"],
        json!("[redacted]")
    );
}

#[tokio::test]
async fn unlock_unsuspends_a_locked_out_account() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;

    let outcome = google.unlock(&account("bob@demo.example")).await.unwrap();

    assert_eq!(outcome, UnlockOutcome::Unlocked);
    let updates = fake.calls_to("users.update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].body, json!({"suspended": false}));
    assert_eq!(
        fake.user("bob@demo.example").unwrap().state,
        SeedState::Active
    );
}

#[tokio::test]
async fn unlock_refuses_an_admin_suspension_and_changes_nothing() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;

    let err = google
        .unlock(&account("dave@demo.example"))
        .await
        .unwrap_err();

    assert!(matches!(err, DirectoryError::NotUnlockable { .. }), "{err}");
    assert!(fake.calls_to("users.update").is_empty());
    assert_eq!(
        fake.user("dave@demo.example").unwrap().state,
        SeedState::SuspendedByAdmin
    );
}

#[tokio::test]
async fn unlock_of_an_active_account_changes_nothing() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    assert_eq!(
        google.unlock(&account("alice@demo.example")).await.unwrap(),
        UnlockOutcome::WasNotLocked
    );
    assert!(fake.calls_to("users.update").is_empty());
}

#[tokio::test]
async fn revoke_sessions_signs_the_user_out() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    google
        .revoke_sessions(&account("alice@demo.example"))
        .await
        .unwrap();
    let calls = fake.calls_to("users.signOut");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].path,
        "/admin/directory/v1/users/alice@demo.example/signOut"
    );
    assert_eq!(fake.user("alice@demo.example").unwrap().sessions_revoked, 1);
}

#[tokio::test]
async fn unknown_account_is_not_found() {
    let (_fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let err = google
        .lookup(&account("nobody@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn another_customers_account_is_refused_and_untouched() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let err = google
        .reset_password(&account("eve@other.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Provider { status: 403, .. }),
        "{err}"
    );
    assert_eq!(fake.user("eve@other.example").unwrap().password, None);
}

#[tokio::test]
async fn a_key_google_does_not_know_is_an_auth_error() {
    let fake = FakeGoogle::start(demo_seed()).await.unwrap();
    let ep = endpoints(
        Some((fake.token_url(), fake.api_base_url())),
        None,
        common::NORMAL_TIMEOUT,
    );
    let mut creds = fake.credentials_json("demo.example").unwrap();
    creds["client_email"] = json!("stranger@elsewhere.iam.gserviceaccount.com");
    let err = connector(creds, &ep)
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
async fn server_errors_are_unavailable_and_retryable() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    fake.fail_route("users.get", Fault::Status(500));
    let err = google
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
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
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_hanging_provider_times_out() {
    let (fake, google) = setup(SHORT_TIMEOUT).await;
    fake.fail_route("users.get", Fault::Hang(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    let err = google
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "timeout was not applied"
    );
}

#[tokio::test]
async fn garbage_is_malformed_and_not_retryable() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    fake.fail_route("users.get", Fault::Garbage);
    let err = google
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Malformed { .. }), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_token_the_api_rejects_is_an_auth_error() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    fake.fail_route("users.get", Fault::Status(401));
    let err = google
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Auth { .. }), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_token_endpoint_refusal_is_an_auth_error() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    fake.fail_route("token", Fault::Status(401));
    let err = google
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Auth { .. }), "{err}");
    assert!(fake.calls_to("users.get").is_empty());
}

#[tokio::test]
async fn after_a_rejected_token_the_next_call_fetches_a_new_one() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    fake.fail_route("users.get", Fault::Status(401));
    assert!(google.lookup(&account("alice@demo.example")).await.is_err());
    fake.clear_faults();
    google.lookup(&account("alice@demo.example")).await.unwrap();
    assert_eq!(fake.calls_to("token").len(), 2);
}

#[tokio::test]
async fn googles_quota_403_is_rate_limited_and_retryable_not_a_refusal() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    fake.set_over_quota(true);
    let err = google
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::RateLimited { .. }), "{err}");
    assert!(err.is_retryable());

    fake.set_over_quota(false);
    fake.fail_all(Fault::Status(403));
    let refused = google
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, DirectoryError::Provider { status: 403, .. }),
        "{refused}"
    );
}

#[tokio::test]
async fn an_alias_and_any_case_resolve_to_the_same_immutable_id() {
    let (_fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let carol = google.lookup(&account("carol@demo.example")).await.unwrap();
    for other_name in ["C.Finance@demo.example", "CAROL@DEMO.EXAMPLE"] {
        let same = google.lookup(&account(other_name)).await.unwrap();
        assert_eq!(same.provider_id, carol.provider_id, "{other_name}");
        assert_eq!(same.account.as_str(), "carol@demo.example");
    }
}

#[tokio::test]
async fn a_plus_in_an_address_is_sent_encoded_so_google_does_not_read_a_space() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let err = google
        .lookup(&account("carol+payroll@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
    let sent = &fake.calls_to("users.get")[0].path;
    assert!(
        sent.ends_with("/users/carol%2Bpayroll@demo.example"),
        "{sent}"
    );
}

#[tokio::test]
async fn protected_groups_are_resolved_to_ids_and_membership_is_asked_by_id() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let finance = google.resolve_group("FINANCE@demo.example").await.unwrap();
    assert_eq!(
        finance.id,
        fake.group_id("demo.example", "Finance").unwrap()
    );
    assert_eq!(finance.name, "finance@demo.example");

    let carol = google
        .lookup(&account("c.finance@demo.example"))
        .await
        .unwrap();
    let alice = google.lookup(&account("alice@demo.example")).await.unwrap();
    let protected = [finance.id.clone()];
    assert!(google.member_of_any(&carol, &protected).await.unwrap());
    assert!(!google.member_of_any(&alice, &protected).await.unwrap());
    let asked = fake.calls_to("members.hasMember");
    assert!(
        asked
            .iter()
            .all(|c| c.path.contains(&finance.id) && !c.path.contains("finance@")),
        "{asked:?}"
    );
    assert!(matches!(
        google.resolve_group("nobody@demo.example").await,
        Err(DirectoryError::NotFound { .. })
    ));
}

#[tokio::test]
async fn the_connection_check_names_a_scope_that_is_not_delegated() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let ready = google.check_connection(&account("root@demo.example")).await;
    assert!(ready.is_ready(), "{ready:?}");

    fake.withdraw_scope("https://www.googleapis.com/auth/admin.directory.user.security");
    let report = google.check_connection(&account("root@demo.example")).await;
    assert!(!report.is_ready());
    assert_eq!(
        report.missing(),
        vec!["https://www.googleapis.com/auth/admin.directory.user.security"]
    );
}

#[tokio::test]
async fn revoking_access_drops_the_token_and_names_the_delegation_to_remove() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    google.lookup(&account("alice@demo.example")).await.unwrap();
    let revocation = google.revoke_access().await;
    assert_eq!(revocation.revoked, vec!["cached access token"]);
    assert!(
        revocation.tenant_must_remove[0].contains("zerodesk-demo-example@"),
        "{revocation:?}"
    );
    google.lookup(&account("alice@demo.example")).await.unwrap();
    assert_eq!(fake.calls_to("token").len(), 2);
}

#[tokio::test]
async fn owner_channels_are_the_recovery_email_and_phone_from_users_get() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;

    let alice = google
        .owner_channels(&account("alice@demo.example"))
        .await
        .unwrap();

    assert_eq!(
        alice,
        OwnerChannels {
            primary_email: Some("alice@demo.example".into()),
            recovery_email: Some("alice.personal@mail.example".into()),
            recovery_phone: Some("+15555550101".into()),
            push_factor: None,
        }
    );
    let gets = fake.calls_to("users.get");
    assert_eq!(gets.len(), 1);
    assert_eq!(gets[0].path, "/admin/directory/v1/users/alice@demo.example");
}

#[tokio::test]
async fn an_account_without_recovery_channels_has_only_its_mailbox() {
    let (_fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let dave = google
        .owner_channels(&account("dave@demo.example"))
        .await
        .unwrap();
    assert_eq!(
        dave,
        OwnerChannels {
            primary_email: Some("dave@demo.example".into()),
            ..OwnerChannels::default()
        }
    );
}

#[tokio::test]
async fn google_has_no_push_and_says_so_without_calling_out() {
    let (fake, google) = setup(common::NORMAL_TIMEOUT).await;
    let alice = account("alice@demo.example");
    let err = google.send_push(&alice, "any").await.unwrap_err();
    assert!(matches!(err, DirectoryError::Unsupported { .. }), "{err}");
    let err = google.push_result(&alice, "any", "tx").await.unwrap_err();
    assert!(matches!(err, DirectoryError::Unsupported { .. }), "{err}");
    assert!(fake.calls().is_empty());
}
