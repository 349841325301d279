//! The sealed envelope stored in Secrets Manager, and the AES-256-GCM seal
//! and open over it. Pure: the data key comes from the caller (KMS), so this
//! module never sees a client and is tested without one.
//!
//! Format, version 1: one JSON object
//! `{"v":1,"alg":"AES-256-GCM","key_id":<KMS key ARN>,
//!   "encryption_context":{"connection_id":..,"tenant_id":..},
//!   "encrypted_data_key":<base64>,"nonce":<base64, 12 bytes>,
//!   "ciphertext":<base64, ciphertext followed by the 16-byte tag>}`.
//! The associated data is the JSON `{"v":1,"alg":"AES-256-GCM",
//! "encryption_context":{..keys in ascending order..}}`, so the context and
//! the format version are authenticated along with the ciphertext.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zerodesk_domain::{ConnectionId, TenantId};

use crate::error::VaultError;
use crate::secret::SecretBytes;

pub const ENVELOPE_VERSION: u32 = 1;
pub const ENVELOPE_ALGORITHM: &str = "AES-256-GCM";

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TENANT_KEY: &str = "tenant_id";
const CONNECTION_KEY: &str = "connection_id";

/// The KMS encryption context of a tenant's directory credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionContext {
    pub tenant_id: TenantId,
    pub connection_id: ConnectionId,
}

impl EncryptionContext {
    pub fn new(tenant_id: TenantId, connection_id: ConnectionId) -> Self {
        Self {
            tenant_id,
            connection_id,
        }
    }

    /// The context as KMS and the envelope carry it.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (CONNECTION_KEY.to_owned(), self.connection_id.to_string()),
            (TENANT_KEY.to_owned(), self.tenant_id.to_string()),
        ])
    }

    fn aad(&self) -> Result<Vec<u8>, VaultError> {
        // A struct (fixed field order) around a BTreeMap (sorted keys): one
        // byte sequence per context, whatever serde_json features are enabled.
        #[derive(Serialize)]
        struct Aad<'a> {
            v: u32,
            alg: &'a str,
            encryption_context: &'a BTreeMap<String, String>,
        }
        let map = self.to_map();
        serde_json::to_vec(&Aad {
            v: ENVELOPE_VERSION,
            alg: ENVELOPE_ALGORITHM,
            encryption_context: &map,
        })
        .map_err(|_| VaultError::Seal)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Envelope {
    v: u32,
    alg: String,
    key_id: String,
    encryption_context: BTreeMap<String, String>,
    encrypted_data_key: String,
    nonce: String,
    ciphertext: String,
}

impl Envelope {
    /// Seals `plaintext` under `data_key` (the plaintext half of a KMS data
    /// key whose encrypted half is `encrypted_data_key`), with a fresh nonce.
    pub(crate) fn seal(
        data_key: &[u8],
        encrypted_data_key: &[u8],
        key_id: &str,
        context: &EncryptionContext,
        plaintext: &SecretBytes,
    ) -> Result<Envelope, VaultError> {
        if data_key.len() != KEY_LEN {
            return Err(VaultError::NoDataKey);
        }
        let cipher = Aes256Gcm::new_from_slice(data_key).map_err(|_| VaultError::NoDataKey)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = context.aad()?;
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose(),
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Seal)?;
        Ok(Envelope {
            v: ENVELOPE_VERSION,
            alg: ENVELOPE_ALGORITHM.to_owned(),
            key_id: key_id.to_owned(),
            encryption_context: context.to_map(),
            encrypted_data_key: B64.encode(encrypted_data_key),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
        })
    }

    pub(crate) fn to_json(&self) -> Result<String, VaultError> {
        serde_json::to_string(self).map_err(|_| VaultError::Seal)
    }

    /// Parses a stored envelope of a version and algorithm this code knows.
    pub(crate) fn parse(raw: &str) -> Result<Envelope, VaultError> {
        let envelope: Envelope = serde_json::from_str(raw)
            .map_err(|_| VaultError::Malformed("not an envelope of this format"))?;
        if envelope.v != ENVELOPE_VERSION {
            return Err(VaultError::Malformed("unknown envelope version"));
        }
        if envelope.alg != ENVELOPE_ALGORITHM {
            return Err(VaultError::Malformed("unknown algorithm"));
        }
        Ok(envelope)
    }

    /// The context to decrypt under: the caller's tenant (never the stored
    /// one) and the stored connection id. An envelope naming another tenant
    /// is refused here; KMS and the AEAD would refuse it anyway.
    pub(crate) fn context_for(&self, tenant: &TenantId) -> Result<EncryptionContext, VaultError> {
        if self.encryption_context.len() != 2 {
            return Err(VaultError::Malformed("unexpected encryption context keys"));
        }
        let stored_tenant = self
            .encryption_context
            .get(TENANT_KEY)
            .ok_or(VaultError::Malformed("encryption context has no tenant_id"))?;
        if stored_tenant != tenant.as_str() {
            return Err(VaultError::OtherTenant);
        }
        let connection = self
            .encryption_context
            .get(CONNECTION_KEY)
            .ok_or(VaultError::Malformed(
                "encryption context has no connection_id",
            ))
            .and_then(|c| {
                ConnectionId::parse(c).map_err(|_| VaultError::Malformed("invalid connection_id"))
            })?;
        Ok(EncryptionContext::new(tenant.clone(), connection))
    }

    pub(crate) fn encrypted_data_key(&self) -> Result<Vec<u8>, VaultError> {
        B64.decode(&self.encrypted_data_key)
            .map_err(|_| VaultError::Malformed("encrypted_data_key is not base64"))
    }

    /// Opens the ciphertext with the data key KMS returned for `context`.
    pub(crate) fn open(
        &self,
        data_key: &[u8],
        context: &EncryptionContext,
    ) -> Result<SecretBytes, VaultError> {
        let nonce = B64
            .decode(&self.nonce)
            .map_err(|_| VaultError::Malformed("nonce is not base64"))?;
        if nonce.len() != NONCE_LEN {
            return Err(VaultError::Malformed("nonce has the wrong length"));
        }
        let ciphertext = B64
            .decode(&self.ciphertext)
            .map_err(|_| VaultError::Malformed("ciphertext is not base64"))?;
        if data_key.len() != KEY_LEN {
            return Err(VaultError::NoDataKey);
        }
        let cipher = Aes256Gcm::new_from_slice(data_key).map_err(|_| VaultError::NoDataKey)?;
        let aad = context.aad()?;
        cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map(SecretBytes::new)
            .map_err(|_| VaultError::Tampered)
    }

    #[cfg(test)]
    fn set_field(&mut self, field: &str, value: String) {
        match field {
            "ciphertext" => self.ciphertext = value,
            "nonce" => self.nonce = value,
            "alg" => self.alg = value,
            _ => unreachable!(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn ctx(tenant: &str, connection: &str) -> EncryptionContext {
        EncryptionContext::new(
            TenantId::parse(tenant).unwrap(),
            ConnectionId::parse(connection).unwrap(),
        )
    }

    fn sealed(plaintext: &str) -> Envelope {
        let secret = SecretBytes::from(plaintext.to_owned());
        Envelope::seal(
            &KEY,
            b"wrapped-key",
            "arn:aws:kms:us-east-1:1:key/k",
            &ctx("acme", "google"),
            &secret,
        )
        .unwrap()
    }

    #[test]
    fn a_sealed_envelope_opens_under_the_same_context() {
        let env = Envelope::parse(&sealed("client-secret").to_json().unwrap()).unwrap();
        let context = env.context_for(&TenantId::parse("acme").unwrap()).unwrap();
        assert_eq!(context, ctx("acme", "google"));
        assert_eq!(env.open(&KEY, &context).unwrap().expose(), b"client-secret");
        assert_eq!(env.encrypted_data_key().unwrap(), b"wrapped-key");
    }

    #[test]
    fn the_context_is_authenticated_data() {
        let env = sealed("client-secret");
        assert!(matches!(
            env.open(&KEY, &ctx("other", "google")),
            Err(VaultError::Tampered)
        ));
        assert!(matches!(
            env.open(&KEY, &ctx("acme", "graph")),
            Err(VaultError::Tampered)
        ));
        assert!(matches!(
            env.open(&[8; 32], &ctx("acme", "google")),
            Err(VaultError::Tampered)
        ));
    }

    #[test]
    fn an_envelope_of_another_tenant_is_refused_before_decrypting() {
        let env = sealed("client-secret");
        assert!(matches!(
            env.context_for(&TenantId::parse("other").unwrap()),
            Err(VaultError::OtherTenant)
        ));
    }

    #[test]
    fn a_flipped_ciphertext_byte_fails_authentication() {
        let mut env = sealed("client-secret");
        let mut bytes = B64.decode(&env.ciphertext).unwrap();
        bytes[0] ^= 1;
        env.set_field("ciphertext", B64.encode(bytes));
        assert!(matches!(
            env.open(&KEY, &ctx("acme", "google")),
            Err(VaultError::Tampered)
        ));
    }

    #[test]
    fn sealing_twice_gives_different_nonces_and_ciphertexts() {
        let (a, b) = (sealed("same"), sealed("same"));
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn unknown_versions_algorithms_and_fields_are_refused() {
        let good = sealed("x");
        let v2 = good.to_json().unwrap().replace("\"v\":1", "\"v\":2");
        assert!(matches!(
            Envelope::parse(&v2),
            Err(VaultError::Malformed("unknown envelope version"))
        ));
        let mut other_alg = good.clone();
        other_alg.set_field("alg", "AES-128-CBC".into());
        assert!(matches!(
            Envelope::parse(&other_alg.to_json().unwrap()),
            Err(VaultError::Malformed(_))
        ));
        let extra = good
            .to_json()
            .unwrap()
            .replacen('{', "{\"plaintext\":\"x\",", 1);
        assert!(matches!(
            Envelope::parse(&extra),
            Err(VaultError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::parse("hunter2"),
            Err(VaultError::Malformed(_))
        ));
        let mut short_nonce = good;
        short_nonce.set_field("nonce", B64.encode([0u8; 8]));
        assert!(matches!(
            short_nonce.open(&KEY, &ctx("acme", "google")),
            Err(VaultError::Malformed("nonce has the wrong length"))
        ));
    }

    #[test]
    fn the_associated_data_is_canonical() {
        let aad = ctx("acme", "google").aad().unwrap();
        assert_eq!(
            String::from_utf8(aad).unwrap(),
            r#"{"v":1,"alg":"AES-256-GCM","encryption_context":{"connection_id":"google","tenant_id":"acme"}}"#
        );
    }
}
