//! The `devstack` command line from a second terminal: `token` prints a
//! token the stack's authorizer accepts, and `invoke` without a running
//! stack says so instead of hanging.

// Test helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use devstack::gateway::authorizer::JwtAuthorizer;
use devstack::oidc::SigningKey;

#[test]
fn token_prints_a_token_for_the_tenant_role_and_subject() {
    let dir = devstack::testing::temp_dir("cli-token");
    let out = Command::new(env!("CARGO_BIN_EXE_devstack"))
        .args([
            "--state-dir",
            dir.to_str().unwrap(),
            "token",
            "--tenant",
            "demo",
            "--role",
            "tenant_auditor",
        ])
        .args(["--sub", "dave@demo.example", "--minutes", "5"])
        .env("PORT", "3999")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let key = SigningKey::load_or_create(&dir).unwrap();
    let authz = JwtAuthorizer::new(
        "http://127.0.0.1:3999",
        vec!["zerodesk-local".to_owned()],
        "$request.header.Authorization",
        &key.jwks(),
    );
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", token.parse().unwrap());
    let now = chrono::Utc::now().timestamp() as u64;
    let claims = authz.authorize(&headers, None, &[], now).unwrap().claims;
    assert_eq!(claims["tenant_id"], "demo");
    assert_eq!(claims["role"], "tenant_auditor");
    assert_eq!(claims["sub"], "dave@demo.example");
    assert_eq!(claims["email"], "dave@demo.example");
    let lifetime: u64 =
        claims["exp"].parse::<u64>().unwrap() - claims["iat"].parse::<u64>().unwrap();
    assert_eq!(lifetime, 300);
}

#[test]
fn invoke_without_a_running_stack_fails_with_a_message() {
    let dir = devstack::testing::temp_dir("cli-invoke");
    let out = Command::new(env!("CARGO_BIN_EXE_devstack"))
        .args([
            "--state-dir",
            dir.to_str().unwrap(),
            "invoke",
            "retention-purge",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no running stack"));
}
