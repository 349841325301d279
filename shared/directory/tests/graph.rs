//! Microsoft Graph connector against the fake Graph and token endpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod common;

use std::time::Duration;

use common::{NORMAL_TIMEOUT, SHORT_TIMEOUT, account, connector, endpoints};
use serde_json::json;
use zerodesk_directory::{
    AccountState, Connector, Directory, DirectoryError, OwnerChannels, RequirementKind,
    RequirementStatus, UnlockOutcome, meets_complexity,
};
use zerodesk_fakes::{FakeGraph, Fault, demo_seed};

async fn setup(timeout: Duration) -> (FakeGraph, Connector) {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let c = graph_for(&fake, timeout);
    (fake, c)
}

/// A new connector (so a new token) on an existing fake.
fn graph_for(fake: &FakeGraph, timeout: Duration) -> Connector {
    let ep = endpoints(None, Some(fake.api_base_url()), timeout);
    connector(fake.credentials_json("demo.example").unwrap(), &ep)
}

fn is_admin_call(route: &str) -> bool {
    matches!(
        route,
        "roleAssignments.list" | "roleEligibilitySchedules.list"
    )
}

#[tokio::test]
async fn lookup_reports_enabled_and_disabled_accounts() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;

    let alice = graph.lookup(&account("alice@demo.example")).await.unwrap();
    assert_eq!(alice.state, AccountState::Active);
    assert!(!alice.is_admin);
    assert_eq!(alice.account, account("alice@demo.example"));
    assert_eq!(
        alice.provider_id,
        fake.user("alice@demo.example").unwrap().id
    );

    let dave = graph.lookup(&account("dave@demo.example")).await.unwrap();
    assert_eq!(
        dave.state,
        AccountState::Disabled,
        "an administrator's disabling"
    );
    let gets = fake.calls_to("users.get");
    assert_eq!(
        gets[0].query.as_deref(),
        Some("$select=id,userPrincipalName,accountEnabled,mail")
    );
}

#[tokio::test]
async fn a_smart_locked_account_looks_enabled_because_entra_shows_no_lockout() {
    let (_fake, graph) = setup(NORMAL_TIMEOUT).await;
    let bob = graph.lookup(&account("bob@demo.example")).await.unwrap();
    assert_eq!(bob.state, AccountState::Active);
}

#[tokio::test]
async fn unlock_never_re_enables_a_disabled_account() {
    // Replaces `unlock_enables_a_disabled_account`, which encoded the
    // wrong behaviour: `accountEnabled: false` is an administrator's
    // decision, not a lockout.
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;

    let err = graph
        .unlock(&account("dave@demo.example"))
        .await
        .unwrap_err();

    assert!(matches!(err, DirectoryError::NotUnlockable { .. }), "{err}");
    assert!(fake.calls().iter().all(|c| c.method != "PATCH"));
    assert_eq!(
        fake.user("dave@demo.example").unwrap().state,
        zerodesk_fakes::SeedState::SuspendedByAdmin
    );
}

#[tokio::test]
async fn unlock_of_an_enabled_account_changes_nothing_and_says_the_lockout_is_timed() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    for who in ["alice@demo.example", "bob@demo.example"] {
        assert_eq!(
            graph.unlock(&account(who)).await.unwrap(),
            UnlockOutcome::TimedByProvider,
            "{who}"
        );
    }
    assert!(fake.calls().iter().all(|c| c.method != "PATCH"));
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
    assert_eq!(updates[0].path, format!("/v1.0/users/{}", alice.id));
    assert!(alice.must_change_password);
    assert_eq!(alice.password.as_deref(), Some(temp.expose()));
}

#[tokio::test]
async fn a_reset_without_a_directory_role_is_refused_as_graph_refuses_it() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    fake.remove_app_directory_roles();
    let err = graph
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Provider { status: 403, .. }),
        "{err}"
    );
    assert_eq!(fake.user("alice@demo.example").unwrap().password, None);
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
async fn throttling_is_rate_limited_until_graphs_retry_after() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    fake.throttle(Some(Duration::from_secs(7)));
    let err = graph
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DirectoryError::RateLimited {
                retry_after: Some(d),
                ..
            } if d == Duration::from_secs(7)
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());

    // The PIM call reads its answer itself; it still honours Retry-After.
    fake.throttle(None);
    fake.fail_route("roleEligibilitySchedules.list", Fault::Status(429));
    let err = graph
        .lookup(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DirectoryError::RateLimited {
                retry_after: Some(d),
                ..
            } if d == Duration::from_secs(10)
        ),
        "{err:?}"
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
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    fake.revoke_permission("UserAuthMethod-Phone.Read.All");
    let graph = graph_for(&fake, NORMAL_TIMEOUT);
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

// --- protected groups: immutable ids, never names ---------------------------

#[tokio::test]
async fn protected_groups_match_by_id_when_the_app_cannot_read_group_names() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let finance = graph_for(&fake, NORMAL_TIMEOUT)
        .resolve_group("Finance")
        .await
        .unwrap();
    // At ticket time the app may read users only: Graph then lists the
    // user's groups with `@odata.type` and `id`, and no name.
    fake.revoke_permission("GroupMember.Read.All");
    let graph = graph_for(&fake, NORMAL_TIMEOUT);

    let carol = graph.lookup(&account("carol@demo.example")).await.unwrap();
    let alice = graph.lookup(&account("alice@demo.example")).await.unwrap();
    let protected = [finance.id.clone()];

    assert!(graph.member_of_any(&carol, &protected).await.unwrap());
    assert!(!graph.member_of_any(&alice, &protected).await.unwrap());
    let asked = fake.calls_to("users.memberOf");
    assert!(
        asked.iter().all(|c| c.path.ends_with("/transitiveMemberOf")
            && c.query
                .as_deref()
                .is_some_and(|q| q.starts_with("$select=id&"))),
        "{asked:?}"
    );
}

#[tokio::test]
async fn a_group_on_a_later_membership_page_is_found() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let root = graph.lookup(&account("root@demo.example")).await.unwrap();
    let before = fake.calls_to("users.memberOf").len();

    // root's memberships (two groups and a directory role) take two pages.
    let nowhere = ["00000000-1111-4000-8000-0000000000ff".to_owned()];
    assert!(!graph.member_of_any(&root, &nowhere).await.unwrap());

    let pages = &fake.calls_to("users.memberOf")[before..];
    assert_eq!(pages.len(), 2);
    assert!(pages[1].query.as_deref().unwrap().contains("$skiptoken="));
    assert!(!graph.member_of_any(&root, &[]).await.unwrap());
    assert_eq!(
        fake.calls_to("users.memberOf").len(),
        before + 2,
        "no call for no groups"
    );
}

#[tokio::test]
async fn a_group_named_in_another_case_resolves_to_its_immutable_id() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let finance_id = fake.group_id("demo.example", "Finance").unwrap();

    let by_name = graph.resolve_group("FINANCE").await.unwrap();
    assert_eq!(by_name.id, finance_id);
    assert_eq!(by_name.name, "Finance");
    let by_id = graph.resolve_group(&finance_id).await.unwrap();
    assert_eq!(by_id, by_name);

    let listed = fake.calls_to("groups.list");
    assert_eq!(
        listed[0].query.as_deref(),
        Some("$filter=displayName%20eq%20%27FINANCE%27&$select=id,displayName")
    );
    assert!(matches!(
        graph.resolve_group("Nobody's group").await,
        Err(DirectoryError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_display_name_two_groups_share_is_refused_not_guessed() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let second = fake.add_group("demo.example", "finance").unwrap();

    let err = graph.resolve_group("Finance").await.unwrap_err();

    assert!(matches!(err, DirectoryError::Config { .. }), "{err}");
    assert!(err.to_string().contains("ambiguous group name"), "{err}");
    assert_eq!(graph.resolve_group(&second).await.unwrap().id, second);
}

// --- administrators: any role, active or eligible, however held ------------

#[tokio::test]
async fn root_is_an_admin_by_its_active_role_assignment() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let root = graph.lookup(&account("root@demo.example")).await.unwrap();
    assert!(root.is_admin);
    let asked = &fake.calls_to("roleAssignments.list")[0];
    let root_id = fake.user("root@demo.example").unwrap().id;
    assert_eq!(
        asked.query.as_deref(),
        Some(
            format!(
                "$filter=principalId%20eq%20%27{root_id}%27&$select=id,roleDefinitionId,directoryScopeId"
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn eligible_scoped_and_group_held_roles_each_make_an_admin() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    assert!(fake.make_eligible_admin("alice@demo.example"));
    assert!(fake.assign_scoped_role("bob@demo.example"));
    assert!(fake.assign_role_to_group("demo.example", "Finance"));

    for who in [
        "alice@demo.example",
        "bob@demo.example",
        "carol@demo.example",
    ] {
        let user = graph.lookup(&account(who)).await.unwrap();
        assert!(user.is_admin, "{who}");
    }
    let dave = graph.lookup(&account("dave@demo.example")).await.unwrap();
    assert!(!dave.is_admin);
    assert!(
        fake.calls()
            .iter()
            .filter(|c| is_admin_call(c.route))
            .count()
            >= 6
    );
}

#[tokio::test]
async fn a_tenant_without_pim_still_has_its_admins_and_users_told_apart() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    fake.set_pim_licensed(false);
    assert!(
        !graph
            .lookup(&account("alice@demo.example"))
            .await
            .unwrap()
            .is_admin
    );
    assert!(
        graph
            .lookup(&account("root@demo.example"))
            .await
            .unwrap()
            .is_admin
    );
}

// --- other addresses of the same user ---------------------------------------

#[tokio::test]
async fn an_alias_resolves_to_the_same_user_and_is_acted_on_by_id() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let carol = graph.lookup(&account("carol@demo.example")).await.unwrap();

    let by_alias = graph
        .lookup(&account("C.Finance@demo.example"))
        .await
        .unwrap();

    assert_eq!(by_alias.provider_id, carol.provider_id);
    assert_eq!(by_alias.account, account("carol@demo.example"));
    let searched = fake.calls_to("users.list");
    assert_eq!(searched.len(), 1, "the alias is not a UPN: one search");
    assert_eq!(
        searched[0].query.as_deref(),
        Some(
            "$filter=mail%20eq%20%27c.finance@demo.example%27%20or%20proxyAddresses/any(p:p%20eq%20%27smtp:c.finance@demo.example%27)&$select=id,userPrincipalName,accountEnabled,mail"
        )
    );

    let temp = graph
        .reset_password(&account("c.finance@demo.example"))
        .await
        .unwrap();
    let carol_now = fake.user("carol@demo.example").unwrap();
    assert_eq!(carol_now.password.as_deref(), Some(temp.expose()));
    assert_eq!(
        fake.calls_to("users.update")[0].path,
        format!("/v1.0/users/{}", carol_now.id)
    );
}

#[tokio::test]
async fn an_address_with_a_quote_is_escaped_in_the_search() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let err = graph
        .lookup(&account("o'brien@demo.example"))
        .await
        .unwrap_err();
    assert!(matches!(err, DirectoryError::NotFound { .. }), "{err}");
    let query = fake.calls_to("users.list")[0].query.clone().unwrap();
    assert!(query.contains("%27o%27%27brien@demo.example%27"), "{query}");
}

// --- what the connection needs, checked ------------------------------------

#[tokio::test]
async fn the_connection_check_is_ready_with_the_documented_permissions_and_role() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    let report = graph.check_connection(&account("root@demo.example")).await;
    assert!(report.is_ready(), "{report:?}");
    let permissions: Vec<&str> = report
        .requirements
        .iter()
        .filter(|r| r.kind == RequirementKind::ApplicationPermission)
        .map(|r| r.name.as_str())
        .collect();
    let mut granted = fake.granted_permissions();
    granted.sort();
    let mut checked: Vec<String> = permissions.iter().map(|p| (*p).to_owned()).collect();
    checked.sort();
    assert_eq!(checked, granted, "the fake grants exactly what is checked");
    assert!(report.requirements.iter().any(|r| {
        r.kind == RequirementKind::AdminRole
            && r.name == "Helpdesk Administrator"
            && r.status == RequirementStatus::Granted
    }));
    let asked = &fake.calls_to("roleAssignments.list")[0];
    let app = fake.service_principal_id("demo.example").unwrap();
    assert!(asked.query.as_deref().unwrap().contains(&app));
}

#[tokio::test]
async fn the_connection_check_names_a_missing_application_permission() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    fake.revoke_permission("User-PasswordProfile.ReadWrite.All");
    let graph = graph_for(&fake, NORMAL_TIMEOUT);

    let report = graph.check_connection(&account("root@demo.example")).await;

    assert_eq!(report.missing(), vec!["User-PasswordProfile.ReadWrite.All"]);
    let err = graph
        .reset_password(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Provider { status: 403, .. }),
        "Graph refuses the reset too: {err}"
    );
}

#[tokio::test]
async fn the_connection_check_names_a_missing_directory_role() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    fake.remove_app_directory_roles();

    let report = graph.check_connection(&account("root@demo.example")).await;
    assert_eq!(report.missing(), vec!["Helpdesk Administrator"]);

    fake.assign_app_directory_role("fe930be7-5e62-47db-91af-98c3a49a38b1");
    let report = graph.check_connection(&account("root@demo.example")).await;
    assert!(report.is_ready(), "{report:?}");
    assert!(
        report
            .requirements
            .iter()
            .any(|r| r.name == "User Administrator")
    );
}

#[tokio::test]
async fn a_revoked_permission_is_refused_as_graph_refuses_it() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    fake.revoke_permission("User.RevokeSessions.All");
    let graph = graph_for(&fake, NORMAL_TIMEOUT);
    let err = graph
        .revoke_sessions(&account("alice@demo.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DirectoryError::Provider { status: 403, .. }),
        "{err}"
    );
    assert_eq!(fake.user("alice@demo.example").unwrap().sessions_revoked, 0);
    let report = graph.check_connection(&account("root@demo.example")).await;
    assert_eq!(report.missing(), vec!["User.RevokeSessions.All"]);
}

#[tokio::test]
async fn a_wrong_secret_is_reported_as_missing_credentials() {
    let fake = FakeGraph::start(demo_seed()).await.unwrap();
    let ep = endpoints(None, Some(fake.api_base_url()), NORMAL_TIMEOUT);
    let mut creds = fake.credentials_json("demo.example").unwrap();
    creds["client_secret"] = json!("not-the-secret");
    let report = connector(creds, &ep)
        .check_connection(&account("root@demo.example"))
        .await;
    let credentials = &report.requirements[0];
    assert_eq!(credentials.kind, RequirementKind::Credentials);
    assert_eq!(credentials.status, RequirementStatus::Missing);
    assert!(!report.is_ready());
}

#[tokio::test]
async fn revoking_access_forgets_the_token_and_names_what_the_tenant_removes() {
    let (fake, graph) = setup(NORMAL_TIMEOUT).await;
    graph.lookup(&account("alice@demo.example")).await.unwrap();

    let revocation = graph.revoke_access().await;

    assert_eq!(revocation.revoked, vec!["cached access token"]);
    let remove = revocation.tenant_must_remove.join("\n");
    for needle in [
        "admin consent",
        "client-demo-example",
        "client secret",
        "directory role assignment",
    ] {
        assert!(remove.contains(needle), "{needle}: {remove}");
    }
    graph.lookup(&account("alice@demo.example")).await.unwrap();
    assert_eq!(
        fake.calls_to("token").len(),
        2,
        "a new token after revoking"
    );
}
