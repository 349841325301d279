//! Keys of any table, for the retention purge: the items that expired on one
//! day (the `by_expiry` index), the items of one tenant (a Query by
//! partition, never a Scan), and deletes by key. Nothing here reads an
//! item's content or decides what may go: the purge decides.

use std::time::Duration as StdDuration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use chrono::{DateTime, NaiveDate, Utc};
use zerodesk_domain::{TenantId, TenantScope};

use crate::error::{StoreError, from_sdk};
use crate::item::{EXPIRES_AT, EXPIRY_DAY, Item, PK, SK, n, s};
use crate::tenants::RECORD;

const BY_EXPIRY: &str = "by_expiry";
const TENANT_PREFIX: &str = "TENANT#";
/// Keys one query returns at most.
pub const KEYS_PER_QUERY: i32 = 100;
/// Keys one BatchWriteItem deletes at most (the DynamoDB limit).
const BATCH: usize = 25;
const MAX_BATCH_ATTEMPTS: u32 = 8;

/// The primary key of one stored item, opaque to the purge.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ItemKey {
    pk: String,
    sk: String,
}

impl ItemKey {
    /// The tenant whose partition holds the item; `None` for a platform
    /// partition, whose items the function's own client reaches.
    pub fn tenant(&self) -> Option<TenantId> {
        self.pk
            .strip_prefix(TENANT_PREFIX)
            .and_then(|t| TenantId::parse(t).ok())
    }

    fn from_item(item: &Item) -> Option<Self> {
        Some(Self {
            pk: item.get(PK)?.as_s().ok()?.clone(),
            sk: item.get(SK)?.as_s().ok()?.clone(),
        })
    }

    fn to_item(&self) -> Item {
        Item::from([
            (PK.to_owned(), s(self.pk.clone())),
            (SK.to_owned(), s(self.sk.clone())),
        ])
    }
}

/// Where a day's expiry query continues.
#[derive(Debug, Clone)]
pub struct ExpiryCursor(Item);

/// One page of expired keys.
#[derive(Debug, Clone)]
pub struct ExpiredKeys {
    pub keys: Vec<ItemKey>,
    pub next: Option<ExpiryCursor>,
}

/// What a delete did: `left` holds keys DynamoDB kept returning as
/// unprocessed after every retry (the rest were not tried).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    pub count: u64,
    pub left: Vec<ItemKey>,
}

/// One table's keys, on one client.
#[derive(Debug, Clone)]
pub struct TableKeys {
    client: Client,
    table: String,
    batch_deletes: bool,
}

impl TableKeys {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            batch_deletes: true,
        }
    }

    /// Deletes one item per request: for the audit table, where the template
    /// denies BatchWriteItem to every role, so no batch can ever put a record.
    pub fn one_delete_per_request(mut self) -> Self {
        self.batch_deletes = false;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The same table on another client (the tenant-scoped one of a partition).
    pub fn with_client(&self, client: Client) -> Self {
        Self {
            client,
            ..self.clone()
        }
    }

    /// One page of the keys in `day`'s expiry bucket with `expires_at <= now`.
    /// The cost follows what expired, never the table's size.
    pub async fn expired_on(
        &self,
        day: NaiveDate,
        now: DateTime<Utc>,
        start: Option<ExpiryCursor>,
    ) -> Result<ExpiredKeys, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_EXPIRY)
            .key_condition_expression("#day = :day AND #exp <= :now")
            .expression_attribute_names("#day", EXPIRY_DAY)
            .expression_attribute_names("#exp", EXPIRES_AT)
            .expression_attribute_values(":day", s(day.format("%Y-%m-%d").to_string()))
            .expression_attribute_values(":now", n(now.timestamp()))
            .limit(KEYS_PER_QUERY)
            .set_exclusive_start_key(start.map(|c| c.0))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(ExpiredKeys {
            keys: out.items().iter().filter_map(ItemKey::from_item).collect(),
            next: out.last_evaluated_key().cloned().map(ExpiryCursor),
        })
    }

    /// Up to `KEYS_PER_QUERY` keys of the tenant's partition, read
    /// consistently, never the tenant record itself (it becomes the
    /// tombstone). Empty when nothing else of the tenant is left.
    pub async fn tenant_keys(&self, scope: &TenantScope) -> Result<Vec<ItemKey>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(scope.partition_key()))
            .projection_expression("pk, sk")
            .limit(KEYS_PER_QUERY)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(out
            .items()
            .iter()
            .filter_map(ItemKey::from_item)
            .filter(|k| k.sk != RECORD)
            .collect())
    }

    /// Deletes keys, in batches of 25 retrying unprocessed items with
    /// backoff, or one per request. Deleting a missing item is not an error.
    pub async fn delete(&self, keys: &[ItemKey]) -> Result<Deleted, StoreError> {
        if !self.batch_deletes {
            for key in keys {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key.to_item()))
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, StoreError::Conflict))?;
            }
            return Ok(Deleted {
                count: keys.len() as u64,
                left: Vec::new(),
            });
        }
        let mut count = 0u64;
        for (i, chunk) in keys.chunks(BATCH).enumerate() {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .filter_map(|k| {
                    DeleteRequest::builder()
                        .set_key(Some(k.to_item()))
                        .build()
                        .ok()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect();
            let mut attempt = 0;
            while !requests.is_empty() {
                if attempt >= MAX_BATCH_ATTEMPTS {
                    let mut left: Vec<ItemKey> = requests
                        .iter()
                        .filter_map(|r| r.delete_request())
                        .filter_map(|d| ItemKey::from_item(d.key()))
                        .collect();
                    left.extend(keys[(i + 1) * BATCH..].iter().cloned());
                    return Ok(Deleted { count, left });
                }
                if attempt > 0 {
                    tokio::time::sleep(StdDuration::from_millis(20 << attempt.min(6))).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests.clone())
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, StoreError::Conflict))?;
                let left = out
                    .unprocessed_items()
                    .and_then(|u| u.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                count += (requests.len() - left.len()) as u64;
                requests = left;
                attempt += 1;
            }
        }
        Ok(Deleted {
            count,
            left: Vec::new(),
        })
    }
}
