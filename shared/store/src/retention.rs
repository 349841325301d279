//! What the retention purge keeps in the tenants table: its progress in the
//! platform partition (`PLATFORM` / `PURGE#...`: a cursor day per table and
//! the facts of a tenant purge under way), and the tombstone a purged
//! tenant's record becomes. Never any tenant content.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};
use zerodesk_domain::{Tenant, TenantId, TenantScope};

use crate::error::{StoreError, from_sdk};
use crate::item::{DOC, Item, PK, SK, n, s, to_doc};
use crate::tenants::{RECORD, STATUS, STATUS_SINCE};

const PLATFORM_PK: &str = "PLATFORM";
const CURSOR_DAY: &str = "day";

/// Facts of one tenant's purge, kept across runs until its receipt is out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantPurgeProgress {
    pub event_id: String,
    pub last_seq: u64,
    pub last_hash: String,
    /// Items deleted so far, per table label.
    pub deleted: BTreeMap<String, u64>,
    /// Table labels already emptied of the tenant.
    pub done: BTreeSet<String>,
}

/// The purge's progress, on the function's own client (platform partition).
#[derive(Debug, Clone)]
pub struct PurgeProgress {
    client: Client,
    table: String,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("purge progress: {what}"))
}

impl PurgeProgress {
    /// `table` is the tenants table.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn cursor_key(table: &str) -> String {
        format!("PURGE#{table}")
    }

    fn tenant_key(tenant: &TenantId) -> String {
        format!("PURGE#TENANT#{tenant}")
    }

    async fn get(&self, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(PLATFORM_PK))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(out.item().cloned())
    }

    /// The day a table's expiry sweep continues from, if it ever ran.
    pub async fn cursor_day(&self, table: &str) -> Result<Option<NaiveDate>, StoreError> {
        self.get(&Self::cursor_key(table))
            .await?
            .map(|i| {
                i.get(CURSOR_DAY)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .ok_or_else(|| corrupt("cursor day"))
            })
            .transpose()
    }

    pub async fn save_cursor_day(&self, table: &str, day: NaiveDate) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(PLATFORM_PK))
            .item(SK, s(Self::cursor_key(table)))
            .item(CURSOR_DAY, s(day.format("%Y-%m-%d").to_string()))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    /// The progress of a tenant purge under way, if one is.
    pub async fn tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<TenantPurgeProgress>, StoreError> {
        let Some(item) = self.get(&Self::tenant_key(tenant)).await? else {
            return Ok(None);
        };
        let deleted = match item.get("deleted").and_then(|v| v.as_m().ok()) {
            Some(m) => m
                .iter()
                .map(|(k, v)| {
                    v.as_n()
                        .ok()
                        .and_then(|n| n.parse().ok())
                        .map(|n| (k.clone(), n))
                        .ok_or_else(|| corrupt("deleted counts"))
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?,
            None => BTreeMap::new(),
        };
        let done = match item.get("done").and_then(|v| v.as_l().ok()) {
            Some(l) => l
                .iter()
                .map(|v| v.as_s().ok().cloned().ok_or_else(|| corrupt("done tables")))
                .collect::<Result<BTreeSet<_>, _>>()?,
            None => BTreeSet::new(),
        };
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        Ok(Some(TenantPurgeProgress {
            event_id: text("event_id").ok_or_else(|| corrupt("event id"))?,
            last_seq: item
                .get("last_seq")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| corrupt("last seq"))?,
            last_hash: text("last_hash").unwrap_or_default(),
            deleted,
            done,
        }))
    }

    pub async fn save_tenant(
        &self,
        tenant: &TenantId,
        p: &TenantPurgeProgress,
    ) -> Result<(), StoreError> {
        let deleted: HashMap<String, AttributeValue> =
            p.deleted.iter().map(|(k, v)| (k.clone(), n(v))).collect();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(PLATFORM_PK))
            .item(SK, s(Self::tenant_key(tenant)))
            .item("event_id", s(&p.event_id))
            .item("last_seq", n(p.last_seq))
            .item("last_hash", s(&p.last_hash))
            .item("deleted", AttributeValue::M(deleted))
            .item(
                "done",
                AttributeValue::L(p.done.iter().map(|t| s(t.as_str())).collect()),
            )
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    /// Forgets a finished tenant purge.
    pub async fn forget_tenant(&self, tenant: &TenantId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(PLATFORM_PK))
            .key(SK, s(Self::tenant_key(tenant)))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }
}

/// Reduces the tenant record to a `purged` tombstone by UpdateItem (the
/// purge role may update, never put, a tenant record), and only while it is
/// still `offboarding`: a repeat changes nothing and is not an error.
/// `client` is the tenant's own; `table` the tenants table.
pub async fn write_tombstone(
    client: &Client,
    table: &str,
    scope: &TenantScope,
    tombstone: &Tenant,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if tombstone.id != *scope.tenant() {
        return Err(StoreError::Conflict);
    }
    let result = client
        .update_item()
        .table_name(table)
        .key(PK, s(scope.partition_key()))
        .key(SK, s(RECORD))
        .update_expression("SET #status = :purged, #since = :at, #doc = :doc")
        .condition_expression("#status = :offboarding")
        .expression_attribute_names("#status", STATUS)
        .expression_attribute_names("#since", STATUS_SINCE)
        .expression_attribute_names("#doc", DOC)
        .expression_attribute_values(":purged", s("purged"))
        .expression_attribute_values(":offboarding", s("offboarding"))
        .expression_attribute_values(":at", s(now.to_rfc3339()))
        .expression_attribute_values(":doc", to_doc(tombstone)?)
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) => match from_sdk(e, StoreError::Conflict) {
            StoreError::Conflict => Ok(()),
            other => Err(other),
        },
    }
}
