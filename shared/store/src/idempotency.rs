//! Idempotency records, as in the Powertools design: a conditional put claims
//! a key (`in_progress`), the caller completes it with a response to replay,
//! or releases it on failure. The payload hash is checked on every path, the
//! conditional-failure path included, so a key cannot be reused for other work.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use zerodesk_domain::TenantScope;

use crate::error::{StoreError, from_sdk};
use crate::item::{Item, PK, SK, expiry, get_s, n, s};

const STATUS: &str = "status";
const PAYLOAD_HASH: &str = "payload_hash";
const IN_PROGRESS_EXPIRY: &str = "in_progress_expiry";
const RESPONSE: &str = "response";
const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

#[derive(Debug, Clone, Copy)]
pub struct IdempotencyConfig {
    /// How long a completed record answers retries (default 24 hours).
    pub record_ttl: Duration,
    /// How long a claim blocks others before it counts as abandoned.
    pub in_progress_ttl: Duration,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        Self {
            record_ttl: Duration::hours(24),
            in_progress_ttl: Duration::seconds(60),
        }
    }
}

/// What the key protects: an action name and the caller's key (e.g. `reset`, ticket id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub action: String,
    pub key: String,
}

impl IdempotencyKey {
    pub fn new(action: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            key: key.into(),
        }
    }

    pub(crate) fn sort_key(&self) -> String {
        format!("{}#{}", self.action, self.key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the key and must `complete` or `release` it.
    Acquired,
    /// The work already completed; this is the response it stored.
    Completed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("the same request is already in progress")]
    InProgress,
    #[error("the idempotency key was used with a different payload")]
    PayloadMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn payload_hash(payload: &[u8]) -> String {
    hex::encode(Sha256::digest(payload))
}

#[derive(Debug, Clone)]
pub struct IdempotencyStore {
    client: Client,
    table: String,
    config: IdempotencyConfig,
}

impl IdempotencyStore {
    pub fn new(client: Client, table: impl Into<String>, config: IdempotencyConfig) -> Self {
        Self {
            client,
            table: table.into(),
            config,
        }
    }

    /// Claims `key` for `payload`, or tells why the caller may not run the work.
    pub async fn begin(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Claim, IdempotencyError> {
        let hash = payload_hash(payload);
        let mut item = Item::from([
            (PK.to_owned(), s(scope.partition_key())),
            (SK.to_owned(), s(key.sort_key())),
            (STATUS.to_owned(), s(IN_PROGRESS)),
            (PAYLOAD_HASH.to_owned(), s(hash.clone())),
            (
                IN_PROGRESS_EXPIRY.to_owned(),
                n((now + self.config.in_progress_ttl).timestamp_millis()),
            ),
        ]);
        item.extend(expiry(now + self.config.record_ttl).map(|(k, v)| (k.to_owned(), v)));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now OR (#status = :in_progress AND in_progress_expiry < :now_ms)",
            )
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":now_ms", n(now.timestamp_millis()))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing = match put {
            Ok(_) => return Ok(Claim::Acquired),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(e)) => match e.item() {
                    Some(old) => old.clone(),
                    None => self
                        .read(scope, key)
                        .await?
                        .ok_or(IdempotencyError::InProgress)?,
                },
                _ => return Err(from_sdk(err, StoreError::Conflict).into()),
            },
        };
        if get_s(&existing, PAYLOAD_HASH)? != hash {
            return Err(IdempotencyError::PayloadMismatch);
        }
        match get_s(&existing, STATUS)? {
            COMPLETED => Ok(Claim::Completed(get_s(&existing, RESPONSE)?.to_owned())),
            _ => Err(IdempotencyError::InProgress),
        }
    }

    /// Records the response that later retries with the same key receive.
    /// `response` must not contain secrets: it is stored and replayed.
    pub async fn complete(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        response: &str,
    ) -> Result<(), IdempotencyError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(key.sort_key()))
            .update_expression(
                "SET #status = :completed, #response = :response REMOVE in_progress_expiry",
            )
            .condition_expression("#status = :in_progress AND payload_hash = :hash")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_names("#response", RESPONSE)
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":response", s(response))
            .expression_attribute_values(":hash", s(payload_hash(payload)))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    /// Gives up a claim after a failure so that a retry can run the work.
    pub async fn release(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
    ) -> Result<(), IdempotencyError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(key.sort_key()))
            .condition_expression("#status = :in_progress AND payload_hash = :hash")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":hash", s(payload_hash(payload)))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    async fn read(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(key.sort_key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(out.item().cloned())
    }
}
