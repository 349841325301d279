//! Microsoft Graph connector against the fake Graph and token endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::time::Duration;

use common::{NORMAL_TIMEOUT, SHORT_TIMEOUT, account, connector, endpoints};
use serde_json::json;
use zerodesk_directory::{
    AccountState, Connector, Directory, DirectoryError, OwnerChannels, UnlockOutcome,
    meets_complexity,
};
use zerodesk_fakes::{FakeGraph, Fault, SeedState, demo_seed};

async fn setup(timeout: Duration) -> (FakeGraph, Connector) {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let ep = endpoints(None, Some(fake.api_base_url()), timeout);
    let c = connector(fake.credentials_json("demo.example").unwrap(), &ep);
    (fake, c)
}

#[tokio::test]
async fn lookup_reports_state_and_groups() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;

    let carol = graph.lookup(&account("carol@demo.example")).await.unwrap();
    assert_eq!(carol.state, AccountState::Active);
    assert!(!carol.is_admin);
    assert_eq!(carol.groups, vec!["Finance", "Staff"]);
    assert!(carol.is_protected(&["Finance".to_owned()]));

    assert_eq!(
        graph
            .lookup(&account("bob@demo.example"))
            .await
            .unwrap()
            .state,
        AccountState::Disabled
    );
    let gets = fake.calls_to("users.get");
    assert_eq!(
        gets[0].query.as_deref(),
        Some("$select=id,userPrincipalName,accountEnabled,mail")
    );
}

#[tokio::test]
async fn admin_role_on_a_later_membership_page_is_found() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;

    let root = graph.lookup(&account("root@demo.example")).await.unwrap();

    assert!(root.is_admin, "the directory role is on page two");
    assert_eq!(root.groups, vec!["IT Admins", "Staff"]);
    assert_eq!(fake.calls_to("users.memberOf").len(), 2);
}

#[tokio::test]
async fn reset_sets_a_generated_password_with_forced_change() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;

    let temp = graph
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap();

    assert!(meets_complexity(temp.expose()));
    let updates = fake.calls_to("users.update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].method, "PATCH");
    assert_eq!(
        updates[0].body,
        json!({"passwordProfile": {"forceChangePasswordNextSignIn": true, "password": temp.expose()}})
    );
    let alice = fake.user("alice@demo.example").unwrap();
    assert!(alice.must_change_password);
    assert_eq!(alice.password.as_deref(), Some(temp.expose()));
}

#[tokio::test]
async fn unlock_enables_a_disabled_account() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;

    assert_eq!(
        graph.unlock(&account("bob@demo.example")).await.unwrap(),
        UnlockOutcome::Unlocked
    );

    let updates = fake.calls_to("users.update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].body, json!({"accountEnabled": true}));
    assert_eq!(
        fake.user("bob@demo.example").unwrap().state,
        SeedState::Active
    );
}

#[tokio::test]
async fn unlock_of_an_enabled_account_changes_nothing() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    assert_eq!(
        graph.unlock(&account("alice@demo.example")).await.unwrap(),
        UnlockOutcome::WasNotLocked
    );
    assert!(fake.calls_to("users.update").is_empty());
}

#[tokio::test]
async fn revoke_sessions_posts_revoke_sign_in_sessions() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    graph
        .revoke_sessions(&account("alice@demo.example"))
        .await
        .unwrap();
    let calls = fake.calls_to("users.revokeSignInSessions");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, "POST");
    assert_eq!(fake.user("alice@demo.example").unwrap().sessions_revoked, 1);
}

#[tokio::test]
async fn unknown_and_other_tenant_accounts_are_not_found() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    for who in ["nobody@demo.example", "eve@other.example"] {
        let err = graph.lookup(&account(who)).await.unwrap_err();
        assert!(
            matches!(err, DirectoryError::NotFound { .. }),
            "{who}: {err}"
        );
    }
    assert!(
        graph
            .reset_password(&account("eve@other.example"))
            .await
            .is_err()
    );
    assert_eq!(fake.user("eve@other.example").unwrap().password, None);
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_auth_error() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let ep = endpoints(None, Some(fake.api_base_url()), NORMAL_TIMEOUT);
    let mut creds = fake.credentials_json("demo.example").unwrap();
    creds["client_secret"] = json!("not-the-secret");
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
    assert!(!err.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn token_request_uses_the_directory_tenant_and_default_scope() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    graph.lookup(&account("alice@demo.example")).await.unwrap();
    let token = &fake.calls_to("token")[0];
    assert_eq!(
        token.path,
        "/3f2b8c4e-0d1a-4e5f-9a7b-1c2d3e4f5a6b/oauth2/v2.0/token"
    );
    assert_eq!(
        token.body["scope"],
        json!("https://graph.microsoft.com/.default")
    );
    assert_eq!(token.body["grant_type"], json!("client_credentials"));
    assert_eq!(token.body["client_secret"], json!("[redacted]"));
}

#[tokio::test]
async fn faults_map_to_the_matching_errors() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let alice = account("alice@demo.example");

    fake.fail_route("users.update", Fault::Status(503));
    let err = graph.reset_password(&alice).await.unwrap_err();
    assert!(
        matches!(
            err,
            DirectoryError::Unavailable {
                status: Some(503),
                ..
            }
        ),
        "{err}"
    );

    fake.clear_faults();
    fake.fail_route("users.memberOf", Fault::Garbage);
    let err = graph.lookup(&alice).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Malformed { .. }), "{err}");

    fake.clear_faults();
    fake.fail_route("users.revokeSignInSessions", Fault::Status(401));
    let err = graph.revoke_sessions(&alice).await.unwrap_err();
    assert!(matches!(err, DirectoryError::Auth { .. }), "{err}");

    fake.clear_faults();
    fake.fail_route("users.get", Fault::Status(400));
    let err = graph.lookup(&alice).await.unwrap_err();
    assert!(
        matches!(err, DirectoryError::Provider { status: 400, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_hanging_graph_times_out() {
    let (fake, graph) = setup(SHORT_TIMEOUT).await;
    fake.fail_all(Fault::Hang(Duration::from_secs(5)));
    let err = graph
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn owner_channels_come_from_the_mailbox_and_authentication_methods() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;

    let alice = graph
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
    let user_id = fake.user("alice@demo.example").unwrap().id;
    let emails = fake.calls_to("users.authentication.emailMethods");
    let phones = fake.calls_to("users.authentication.phoneMethods");
    assert_eq!((emails.len(), phones.len()), (1, 1));
    assert_eq!(
        phones[0].path,
        format!("/v1.0/users/{user_id}/authentication/phoneMethods")
    );
    assert_eq!(phones[0].method, "GET");
}

#[tokio::test]
async fn an_office_phone_is_never_an_sms_channel() {
    let (_fake, graph) = setup(NORMAL_TIMEOUT).await;
    let carol = graph
        .owner_channels(&account("carol@demo.example"))
        .await
        .unwrap();
    assert_eq!(carol.recovery_phone, None, "carol has only an office phone");
    assert_eq!(
        carol.recovery_email.as_deref(),
        Some("carol.home@mail.example")
    );
}

#[tokio::test]
async fn the_mobile_phone_wins_over_an_alternate_mobile_listed_first() {
    let (_fake, graph) = setup(NORMAL_TIMEOUT).await;
    let bob = graph
        .owner_channels(&account("bob@demo.example"))
        .await
        .unwrap();
    assert_eq!(bob.recovery_phone.as_deref(), Some("+15555550102"));
    assert_eq!(bob.recovery_email, None);
}

#[tokio::test]
async fn a_missing_authentication_method_permission_is_a_refusal() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    fake.fail_route("users.authentication.phoneMethods", Fault::Status(403));
    let err = graph
        .owner_channels(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Provider { status: 403, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn graph_has_no_push() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let alice = account("alice@demo.example");
    let err = graph.send_push(&alice, "any").await.unwrap_err();
    assert!(matches!(err, DirectoryError::Unsupported { .. }), "{err}");
    let err = graph.push_result(&alice, "any", "tx").await.unwrap_err();
    assert!(matches!(err, DirectoryError::Unsupported { .. }), "{err}");
    assert!(fake.calls().is_empty());
}
