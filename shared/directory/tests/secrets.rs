//! Credentials, errors and passwords never show a secret when printed, and
//! credential JSON is checked before anything is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use zerodesk_directory::{
    DirectoryCredentials, DirectoryEndpoints, DirectoryError, Provider, TemporaryPassword, connect,
};
use zerodesk_fakes::TEST_ONLY_PRIVATE_KEY_PEM;

fn parse(json: serde_json::Value) -> Result<DirectoryCredentials, serde_json::Error> {
    serde_json::from_value(json)
}

#[test]
fn debug_of_every_credential_kind_shows_no_secret() {
    let key_body = TEST_ONLY_PRIVATE_KEY_PEM.lines().nth(1).unwrap();
    let all = [
        serde_json::json!({"provider": "google_workspace", "client_email": "sa@p.iam.gserviceaccount.com",
            "private_key": TEST_ONLY_PRIVATE_KEY_PEM, "admin_subject": "root@demo.example"}),
        serde_json::json!({"provider": "microsoft_graph", "directory_tenant": "contoso.example",
            "client_id": "abc", "client_secret": "graph-secret-value"}),
        serde_json::json!({"provider": "okta_api_token", "org_url": "https://acme.okta.com", "api_token": "00ssws-secret-value"}),
        serde_json::json!({"provider": "okta_service_app", "org_url": "https://acme.okta.com", "client_id": "0oa1",
            "private_key": TEST_ONLY_PRIVATE_KEY_PEM}),
    ];
    for json in all {
        let creds = parse(json).unwrap();
        let debug = format!("{creds:?}");
        for secret in [
            key_body,
            "graph-secret-value",
            "00ssws-secret-value",
            "PRIVATE KEY",
        ] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("[redacted]"));
    }
}

#[test]
fn temporary_password_debug_and_display_are_redacted() {
    let p = TemporaryPassword::generate();
    assert_eq!(format!("{p:?} {p}"), "[redacted] [redacted]");
}

#[test]
fn unknown_credential_fields_and_providers_are_refused() {
    assert!(
        parse(
            serde_json::json!({"provider": "okta_api_token", "org_url": "https://acme.okta.com",
        "api_token": "x", "extra": 1})
        )
        .is_err()
    );
    assert!(parse(serde_json::json!({"provider": "ldap", "host": "x"})).is_err());
}

#[test]
fn okta_org_urls_that_could_reach_internal_addresses_are_refused() {
    let endpoints = DirectoryEndpoints::from_lookup(|_| None).unwrap();
    for url in [
        "http://acme.okta.com",
        "https://169.254.169.254",
        "http://169.254.169.254",
        "https://localhost",
        "https://acme.okta.com/api/v1",
        "https://user:pw@acme.okta.com",
        "ftp://acme.okta.com",
        // Deployed, not even the loopback form the local fakes use.
        "http://127.0.0.1:8080",
        "https://127.0.0.1:8080",
        "https://[::1]",
    ] {
        let creds = parse(
            serde_json::json!({"provider": "okta_api_token", "org_url": url, "api_token": "t"}),
        )
        .unwrap();
        assert!(
            matches!(
                connect(creds, &endpoints),
                Err(DirectoryError::Config { .. })
            ),
            "{url} must be refused"
        );
    }
    for url in ["https://acme.okta.com", "https://acme.okta.com/"] {
        let creds = parse(
            serde_json::json!({"provider": "okta_api_token", "org_url": url, "api_token": "t"}),
        )
        .unwrap();
        assert!(connect(creds, &endpoints).is_ok(), "{url} must be accepted");
    }
    // Only where the operator allows loopback egress (the local stack).
    let local = DirectoryEndpoints::from_lookup(|n| {
        (n == "DIRECTORY_ALLOW_LOOPBACK").then(|| "true".to_owned())
    })
    .unwrap();
    let fake = parse(serde_json::json!({"provider": "okta_api_token",
        "org_url": "http://127.0.0.1:8080", "api_token": "t"}))
    .unwrap();
    assert!(connect(fake, &local).is_ok());
}

#[test]
fn a_graph_directory_tenant_cannot_change_the_token_path() {
    let creds = parse(
        serde_json::json!({"provider": "microsoft_graph", "directory_tenant": "../common",
        "client_id": "a", "client_secret": "b"}),
    )
    .unwrap();
    assert!(matches!(
        creds.validate(),
        Err(DirectoryError::Config { .. })
    ));
}

#[test]
fn a_private_key_that_is_not_pem_is_a_config_error() {
    let creds = parse(serde_json::json!({"provider": "google_workspace", "client_email": "sa@p.iam.gserviceaccount.com",
        "private_key": "not a key", "admin_subject": "root@demo.example"}))
    .unwrap();
    assert_eq!(creds.provider(), Provider::GoogleWorkspace);
    let err = creds.validate().unwrap_err();
    assert_eq!(err.code(), "config");
    assert!(!err.to_string().contains("not a key"));
}

#[test]
fn endpoints_default_to_the_real_providers_and_refuse_bad_urls() {
    let ep = DirectoryEndpoints::from_lookup(|_| None).unwrap();
    assert_eq!(
        ep.google_token_url.as_str(),
        "https://oauth2.googleapis.com/token"
    );
    assert_eq!(ep.google_api_base.as_str(), "https://admin.googleapis.com/");
    assert_eq!(
        ep.graph_token_base.as_str(),
        "https://login.microsoftonline.com/"
    );
    assert_eq!(ep.graph_api_base.as_str(), "https://graph.microsoft.com/");
    assert_eq!(ep.timeout, Duration::from_secs(10));

    let err = DirectoryEndpoints::from_lookup(|n| {
        (n == "GRAPH_API_BASE_URL").then(|| "not a url".to_owned())
    })
    .unwrap_err();
    assert_eq!(err.name, "GRAPH_API_BASE_URL");
    let err = DirectoryEndpoints::from_lookup(|n| {
        (n == "GOOGLE_TOKEN_URL").then(|| "file:///etc/passwd".to_owned())
    })
    .unwrap_err();
    assert_eq!(err.name, "GOOGLE_TOKEN_URL");
}
