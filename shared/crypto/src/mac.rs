//! Keyed hashes of verification secrets (link secrets and numeric codes).
//! In AWS the key is a KMS HMAC key (`GenerateMac`, HMAC_SHA_256): it never
//! leaves KMS, so a copy of the table is no help in guessing a 6-digit code.
//! Comparison is constant time.

use std::future::Future;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, thiserror::Error)]
pub enum MacError {
    #[error("the keyed hash could not be computed: {0}")]
    Unavailable(String),
}

/// Computes keyed hashes over a message.
pub trait MacKey: Send + Sync {
    fn mac(&self, message: &[u8]) -> impl Future<Output = Result<Vec<u8>, MacError>> + Send;
}

/// Constant-time equality of two hashes (hex or raw).
pub fn hashes_match(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The KMS HMAC key named by `key_id`, through the function's own role.
#[derive(Debug, Clone)]
pub struct KmsMac {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsMac {
    pub fn new(client: aws_sdk_kms::Client, key_id: impl Into<String>) -> Self {
        Self {
            client,
            key_id: key_id.into(),
        }
    }
}

impl MacKey for KmsMac {
    async fn mac(&self, message: &[u8]) -> Result<Vec<u8>, MacError> {
        let out = self
            .client
            .generate_mac()
            .key_id(&self.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(message))
            .send()
            .await
            .map_err(|e| {
                MacError::Unavailable(aws_sdk_kms::error::DisplayErrorContext(e).to_string())
            })?;
        out.mac()
            .map(|b| b.as_ref().to_vec())
            .ok_or_else(|| MacError::Unavailable("KMS returned no MAC".to_owned()))
    }
}

/// HMAC-SHA256 under a key held in memory, for tests that run in-process.
#[derive(Clone)]
pub struct MemoryMac {
    key: [u8; 32],
}

impl MemoryMac {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }
}

impl std::fmt::Debug for MemoryMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MemoryMac([redacted])")
    }
}

impl MacKey for MemoryMac {
    async fn mac(&self, message: &[u8]) -> Result<Vec<u8>, MacError> {
        let mut h = Hmac::<Sha256>::new_from_slice(&self.key)
            .map_err(|_| MacError::Unavailable("bad key length".to_owned()))?;
        h.update(message);
        Ok(h.finalize().into_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn equal_messages_match_and_others_do_not() {
        let key = MemoryMac::new([7; 32]);
        let a = key.mac(b"one").await.unwrap();
        assert!(hashes_match(&a, &key.mac(b"one").await.unwrap()));
        assert!(!hashes_match(&a, &key.mac(b"two").await.unwrap()));
        assert!(!hashes_match(&a, &a[..31]));
        let other = MemoryMac::new([8; 32]);
        assert!(!hashes_match(&a, &other.mac(b"one").await.unwrap()));
    }
}
