//! The credential vault against the local emulator's KMS and Secrets Manager.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

use zerodesk_crypto::{CredentialVault, SecretBytes, VaultError};
use zerodesk_domain::{ConnectionId, SystemTask, TenantId, TenantScope};
use zerodesk_testkit::{LocalAws, unique_tenant};

const CREDENTIALS: &str = r#"{"provider":"okta_api_token","org_url":"https://acme.okta.com","api_token":"00aBcDeF-very-secret-token"}"#;

struct Fixture {
    vault: CredentialVault,
    kms: aws_sdk_kms::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

async fn fixture() -> Fixture {
    let aws = LocalAws::shared();
    let config = aws.sdk_config().await;
    let kms = aws_sdk_kms::Client::new(&config);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let vault = CredentialVault::new(
        kms.clone(),
        secrets.clone(),
        aws.names.kms_key_id.clone(),
        aws.names.stage.clone(),
    );
    Fixture {
        vault,
        kms,
        secrets,
    }
}

fn scope(tenant: &str) -> TenantScope {
    TenantScope::for_system_task(
        TenantId::parse(tenant).unwrap(),
        SystemTask::EventDrivenAction,
    )
}

fn connection(id: &str) -> ConnectionId {
    ConnectionId::parse(id).unwrap()
}

async fn stored_string(f: &Fixture, name: &str) -> String {
    let out = f
        .secrets
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    out.secret_string().unwrap().to_owned()
}

#[tokio::test]
async fn stored_credentials_load_back_for_the_same_tenant() {
    let f = fixture().await;
    let s = scope(&unique_tenant("round"));
    let stored = f
        .vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(
        stored.name,
        format!("zerodesk/test/tenants/{}/directory", s.tenant())
    );
    let (conn, plaintext) = f.vault.load(&s).await.unwrap();
    assert_eq!(conn, connection("okta"));
    assert_eq!(plaintext.expose(), CREDENTIALS.as_bytes());
}

#[tokio::test]
async fn the_stored_secret_is_an_envelope_without_the_plaintext() {
    let f = fixture().await;
    let s = scope(&unique_tenant("sealed"));
    let stored = f
        .vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    let raw = stored_string(&f, &stored.name).await;
    assert!(!raw.contains("very-secret-token"));
    assert!(!raw.contains("api_token"));
    let envelope: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(envelope["v"], 1);
    assert_eq!(envelope["alg"], "AES-256-GCM");
    assert_eq!(
        envelope["encryption_context"]["tenant_id"],
        s.tenant().as_str()
    );
    assert_eq!(envelope["encryption_context"]["connection_id"], "okta");
    for field in ["key_id", "encrypted_data_key", "nonce", "ciphertext"] {
        assert!(
            envelope[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}"
        );
    }
}

#[tokio::test]
async fn encrypting_the_same_credentials_twice_gives_different_envelopes() {
    let f = fixture().await;
    let s = scope(&unique_tenant("twice"));
    let first = f
        .vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    let first_raw = stored_string(&f, &first.name).await;
    let second = f
        .vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    let second_raw = stored_string(&f, &second.name).await;
    assert_ne!(
        first.version_id, second.version_id,
        "store puts a new version"
    );
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&first_raw).unwrap(),
        serde_json::from_str(&second_raw).unwrap(),
    );
    assert_ne!(a["ciphertext"], b["ciphertext"]);
    assert_ne!(a["nonce"], b["nonce"]);
    assert_ne!(a["encrypted_data_key"], b["encrypted_data_key"]);
    assert_eq!(
        f.vault.load(&s).await.unwrap().1.expose(),
        CREDENTIALS.as_bytes()
    );
}

#[tokio::test]
async fn another_tenants_envelope_copied_into_a_secret_does_not_load() {
    let f = fixture().await;
    let (a, b) = (
        scope(&unique_tenant("victim")),
        scope(&unique_tenant("thief")),
    );
    let stored_a = f
        .vault
        .store(
            &a,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    let stolen = stored_string(&f, &stored_a.name).await;
    f.vault
        .store(
            &b,
            &connection("okta"),
            &SecretBytes::from("b's own".to_owned()),
        )
        .await
        .unwrap();
    f.secrets
        .put_secret_value()
        .secret_id(f.vault.secret_name(&b))
        .secret_string(&stolen)
        .send()
        .await
        .unwrap();

    let err = f.vault.load(&b).await.unwrap_err();
    assert!(matches!(err, VaultError::OtherTenant), "{err}");
}

#[tokio::test]
async fn kms_refuses_an_envelope_relabelled_with_another_tenant() {
    // The stored context is rewritten to name tenant B, so the local check
    // passes; KMS still refuses because the data key is bound to tenant A.
    let f = fixture().await;
    let (a, b) = (
        scope(&unique_tenant("victim")),
        scope(&unique_tenant("thief")),
    );
    let stored_a = f
        .vault
        .store(
            &a,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    let relabelled = stored_string(&f, &stored_a.name)
        .await
        .replace(a.tenant().as_str(), b.tenant().as_str());
    f.vault
        .store(
            &b,
            &connection("okta"),
            &SecretBytes::from("b's own".to_owned()),
        )
        .await
        .unwrap();
    f.secrets
        .put_secret_value()
        .secret_id(f.vault.secret_name(&b))
        .secret_string(&relabelled)
        .send()
        .await
        .unwrap();

    let err = f.vault.load(&b).await.unwrap_err();
    assert!(matches!(err, VaultError::KeyRefused(_)), "{err}");
}

#[tokio::test]
async fn kms_binds_the_data_key_to_the_tenant_context() {
    // Directly: a data key generated under tenant A's context does not
    // decrypt under tenant B's. The vault relies on the emulator (and KMS)
    // enforcing this.
    let f = fixture().await;
    let aws = LocalAws::shared();
    let key = f
        .kms
        .generate_data_key()
        .key_id(&aws.names.kms_key_id)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .encryption_context("tenant_id", "tenant-a")
        .encryption_context("connection_id", "okta")
        .send()
        .await
        .unwrap();
    let wrapped = key.ciphertext_blob().unwrap().clone();
    let refused = f
        .kms
        .decrypt()
        .ciphertext_blob(wrapped.clone())
        .encryption_context("tenant_id", "tenant-b")
        .encryption_context("connection_id", "okta")
        .send()
        .await;
    assert!(refused.is_err());
    let allowed = f
        .kms
        .decrypt()
        .ciphertext_blob(wrapped)
        .encryption_context("tenant_id", "tenant-a")
        .encryption_context("connection_id", "okta")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.plaintext(), key.plaintext());
}

#[tokio::test]
async fn a_tampered_ciphertext_does_not_load() {
    let f = fixture().await;
    let s = scope(&unique_tenant("tamper"));
    let stored = f
        .vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    let mut envelope: serde_json::Value =
        serde_json::from_str(&stored_string(&f, &stored.name).await).unwrap();
    let other = f
        .vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from("other".to_owned()),
        )
        .await
        .unwrap();
    let other_envelope: serde_json::Value =
        serde_json::from_str(&stored_string(&f, &other.name).await).unwrap();
    // Same tenant and key, but the ciphertext of another envelope.
    envelope["ciphertext"] = other_envelope["ciphertext"].clone();
    f.secrets
        .put_secret_value()
        .secret_id(&stored.name)
        .secret_string(envelope.to_string())
        .send()
        .await
        .unwrap();
    let err = f.vault.load(&s).await.unwrap_err();
    assert!(matches!(err, VaultError::Tampered), "{err}");
}

#[tokio::test]
async fn loading_a_tenant_without_credentials_is_not_found() {
    let f = fixture().await;
    let err = f
        .vault
        .load(&scope(&unique_tenant("none")))
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::NotFound), "{err}");
}

#[tokio::test]
async fn delete_removes_the_secret_without_recovery() {
    let f = fixture().await;
    let s = scope(&unique_tenant("gone"));
    let stored = f
        .vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    f.vault.delete(&s).await.unwrap();

    let described = f
        .secrets
        .describe_secret()
        .secret_id(&stored.name)
        .send()
        .await;
    let err = described.unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    assert!(matches!(f.vault.load(&s).await, Err(VaultError::NotFound)));
    f.vault.delete(&s).await.unwrap(); // deleting again is not an error

    // The name is free at once: no recovery window holds it.
    f.vault
        .store(
            &s,
            &connection("graph"),
            &SecretBytes::from("new".to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(f.vault.load(&s).await.unwrap().0, connection("graph"));
}

#[tokio::test]
async fn errors_and_debug_output_never_contain_the_plaintext() {
    let f = fixture().await;
    let s = scope(&unique_tenant("quiet"));
    f.vault
        .store(
            &s,
            &connection("okta"),
            &SecretBytes::from(CREDENTIALS.to_owned()),
        )
        .await
        .unwrap();
    let (_, plaintext) = f.vault.load(&s).await.unwrap();
    let shown = format!("{plaintext:?} {plaintext} {:?}", f.vault);
    assert!(!shown.contains("very-secret-token"), "{shown}");
    assert!(shown.starts_with("[redacted] [redacted]"));
}
