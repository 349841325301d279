//! Per-chain pseudonym salts. Audit records are never rewritten, so a
//! person's account enters them only as `pseudonym(salt, account)`. The salt
//! is 32 random bytes that audit-write makes on first use, kept beside the
//! chain in the audit table (`<chain key>` / `SALT`, outside the `SEQ#`
//! range), where audit-write's tenant role may put it and the admin's may
//! read it; it goes with the tenant at the purge.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use rand::RngCore;
use zerodesk_audit::{ChainScope, pseudonym};
use zerodesk_domain::AccountRef;

use crate::error::{LedgerError, from_sdk};
use crate::item::{PK, SK, get_s, s};

const SALT_SK: &str = "SALT";
const SALT: &str = "salt";
const SALT_BYTES: usize = 32;

/// A chain's salt, ready to pseudonymize accounts.
#[derive(Clone)]
pub struct Salt(Arc<[u8]>);

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salt([redacted])")
    }
}

impl Salt {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Arc::from(bytes))
    }

    /// The pseudonym of an account.
    pub fn pseudonym(&self, account: &AccountRef) -> String {
        // The salt is always SALT_BYTES long, above the audit crate's minimum.
        pseudonym(&self.0, account.as_str()).unwrap_or_default()
    }

    /// `value` itself, or its pseudonym when it is shaped like an account.
    /// Subjects are opaque ids for most identity providers, but some put the
    /// email address there, and it must not enter the chain as such.
    pub fn protect(&self, value: &str) -> String {
        match AccountRef::parse(value) {
            Ok(account) => self.pseudonym(&account),
            Err(_) => value.to_owned(),
        }
    }
}

#[derive(Debug)]
pub struct SaltStore {
    table: String,
    cache: Mutex<HashMap<String, Salt>>,
}

impl SaltStore {
    /// `table` is the audit table.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, key: &str) -> Option<Salt> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn remember(&self, key: String, salt: &Salt) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, salt.clone());
    }

    /// The chain's salt, made on first use (audit-write). Salts never change,
    /// so they are cached for the life of the container.
    pub async fn salt(&self, client: &Client, chain: &ChainScope) -> Result<Salt, LedgerError> {
        let key = chain.key();
        if let Some(salt) = self.cached(&key) {
            return Ok(salt);
        }
        let salt = match self.read(client, &key).await? {
            Some(salt) => salt,
            None => self.create(client, &key).await?,
        };
        self.remember(key, &salt);
        Ok(salt)
    }

    /// The chain's salt if audit-write has made it (readers never make one:
    /// without it, no record holds a pseudonym yet).
    pub async fn existing(
        &self,
        client: &Client,
        chain: &ChainScope,
    ) -> Result<Option<Salt>, LedgerError> {
        let key = chain.key();
        if let Some(salt) = self.cached(&key) {
            return Ok(Some(salt));
        }
        let salt = self.read(client, &key).await?;
        if let Some(s) = &salt {
            self.remember(key, s);
        }
        Ok(salt)
    }

    async fn read(&self, client: &Client, key: &str) -> Result<Option<Salt>, LedgerError> {
        let out = client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(key))
            .key(SK, s(SALT_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let bytes = get_s(item, SALT)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() == SALT_BYTES)
            .ok_or(LedgerError::Corrupt("pseudonym salt"))?;
        Ok(Some(Salt::from_bytes(&bytes)))
    }

    async fn create(&self, client: &Client, key: &str) -> Result<Salt, LedgerError> {
        let mut bytes = [0u8; SALT_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let put = client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(key))
            .item(SK, s(SALT_SK))
            .item(SALT, s(hex::encode(bytes)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Salt::from_bytes(&bytes)),
            // Another writer made it first: theirs is the salt.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                self.read(client, key)
                    .await?
                    .ok_or(LedgerError::Corrupt("pseudonym salt"))
            }
            Err(e) => Err(from_sdk(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_replaced_and_opaque_subjects_kept() {
        let salt = Salt::from_bytes(&[7u8; 32]);
        let p = salt.protect("Alice@Demo.Example");
        assert!(p.starts_with("pseud_"), "{p}");
        assert_eq!(p, salt.protect("alice@demo.example"));
        assert_eq!(salt.protect("00u1abcd"), "00u1abcd");
        assert_eq!(format!("{salt:?}"), "Salt([redacted])");
    }
}
