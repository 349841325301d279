//! The retention purge. Two sweeps, both resumable and bounded by a budget
//! (the invocation's deadline less a margin):
//!
//! 1. Expired items: per table, the `by_expiry` index is queried one
//!    `expiry_day` bucket at a time, from a stored cursor day up to today,
//!    for items with `expires_at <= now`, which are deleted in batches of 25.
//!    The cost grows with what expired (plus one query per day bucket), never
//!    with the table. DynamoDB TTL does the same eventually; this makes it
//!    prompt.
//! 2. Tenants offboarded more than the grace period ago: every item of the
//!    tenant in every table (Query by partition, batch delete), the directory
//!    secret, then a purge receipt (counts, the last chain seq and hash, no
//!    content) published for the platform trail, and finally the tenant
//!    record reduced to a `purged` tombstone with no content.
//!
//! Progress (cursor days, a tenant purge's receipt facts) is kept in the
//! tenants table under `PLATFORM` / `PURGE#...`, so a run that stops early
//! continues where it stopped, and a repeated run changes nothing more.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration as StdDuration, SystemTime};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use zerodesk_audit::ChainScope;
use zerodesk_domain::{
    CorrelationId, SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus,
    tenant::OFFBOARDING_GRACE_DAYS,
};
use zerodesk_events::{
    Actor as EventActor, DomainEvent, EventId, EventPayload, LifecycleChange, Publisher,
    TenantLifecycle,
};
use zerodesk_store::TenantRepo;

use crate::audit_repo::AuditRepo;
use crate::db::TenantDb;
use crate::error::{BoxError, LedgerError, from_sdk};
use crate::item::{EXPIRES_AT, EXPIRY_DAY, Item, PK, SK, get_n, get_s, n, s};
use zerodesk_crypto::{ConnectionSecrets, SecretsError};

const BY_EXPIRY: &str = "by_expiry";
const PLATFORM_PK: &str = "PLATFORM";
const TENANT_RECORD_SK: &str = "TENANT";
const CURSOR_DAY: &str = "day";
const BATCH: usize = 25;
const QUERY_PAGE: i32 = 100;
const MAX_BATCH_ATTEMPTS: u32 = 8;
/// Where a table's sweep starts when it has never run.
pub const DEFAULT_LOOKBACK_DAYS: i64 = 30;
/// Offboarded tenants purged per run at most (the rest wait for the next).
const TENANTS_PER_RUN: i32 = 25;

/// When to stop: checked before every request.
pub trait Budget {
    fn exhausted(&self) -> bool;
}

impl<F: Fn() -> bool> Budget for F {
    fn exhausted(&self) -> bool {
        self()
    }
}

/// The invocation's deadline less a margin for saving progress.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    stop_at: SystemTime,
}

impl Deadline {
    pub fn new(deadline: SystemTime, margin: StdDuration) -> Self {
        Self {
            stop_at: deadline
                .checked_sub(margin)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        }
    }
}

impl Budget for Deadline {
    fn exhausted(&self) -> bool {
        SystemTime::now() >= self.stop_at
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("the purge could not read or write a table")]
    Ledger(#[from] LedgerError),
    #[error("the purge could not read the tenants")]
    Store(#[from] zerodesk_store::StoreError),
    #[error("destroying a tenant's directory secret failed")]
    Secrets(#[from] SecretsError),
    #[error("publishing the purge receipt failed")]
    Publish(#[source] BoxError),
    #[error("a batch delete kept leaving unprocessed items")]
    Unprocessed,
    #[error("a stored purge cursor is corrupt")]
    Corrupt,
}

/// Physical table names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeTables {
    pub tenants: String,
    pub tickets: String,
    pub audit: String,
    pub idempotency: String,
}

impl From<&zerodesk_aws::TableNames> for PurgeTables {
    fn from(t: &zerodesk_aws::TableNames) -> Self {
        PurgeTables {
            tenants: t.tenants.clone(),
            tickets: t.tickets.clone(),
            audit: t.audit.clone(),
            idempotency: t.idempotency.clone(),
        }
    }
}

impl PurgeTables {
    /// Tenants table last: it holds the purge's own progress.
    fn all(&self) -> [&str; 4] {
        [&self.tickets, &self.idempotency, &self.audit, &self.tenants]
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Expired items deleted, per table.
    pub expired_deleted: BTreeMap<String, u64>,
    /// Tenants whose purge finished in this run.
    pub tenants_purged: Vec<TenantId>,
    /// False when the budget ran out; the next run continues.
    pub complete: bool,
}

/// Facts of one tenant's purge, kept across runs until the receipt is out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TenantProgress {
    event_id: String,
    last_seq: u64,
    last_hash: String,
    deleted: BTreeMap<String, u64>,
    /// Tables already emptied of the tenant: a resumed run skips them, so
    /// every run moves forward however short its budget.
    done: BTreeSet<String>,
}

/// The purge. `client` is the function's own: it queries the KEYS_ONLY
/// indexes and keeps the purge's progress in the platform partition; every
/// tenant item is read and deleted with that tenant's client from `db`.
pub struct Purger<V, P, D> {
    client: Client,
    tables: PurgeTables,
    tenants: TenantRepo,
    db: D,
    vault: V,
    publisher: P,
    lookback_days: i64,
}

enum Step {
    Done,
    OutOfBudget,
}

impl<V: ConnectionSecrets, P: Publisher, D: TenantDb> Purger<V, P, D> {
    pub fn new(client: Client, tables: PurgeTables, db: D, vault: V, publisher: P) -> Self {
        Self {
            tenants: TenantRepo::new(client.clone(), tables.tenants.clone()),
            client,
            tables,
            db,
            vault,
            publisher,
            lookback_days: DEFAULT_LOOKBACK_DAYS,
        }
    }

    /// The client for the items under `pk`: the tenant's own for a tenant
    /// partition, the function's for the platform partitions.
    async fn client_for(&self, pk: &str) -> Result<Client, PurgeError> {
        match pk
            .strip_prefix("TENANT#")
            .and_then(|t| TenantId::parse(t).ok())
        {
            Some(tenant) => {
                let scope = TenantScope::for_system_task(tenant, SystemTask::RetentionPurge);
                Ok(self.db.client(&scope).await?)
            }
            None => Ok(self.client.clone()),
        }
    }

    pub fn with_lookback_days(mut self, days: i64) -> Self {
        self.lookback_days = days.max(0);
        self
    }

    /// One run at `now`: expired items, then offboarded tenants.
    pub async fn run(
        &self,
        now: DateTime<Utc>,
        budget: &impl Budget,
    ) -> Result<PurgeReport, PurgeError> {
        let mut report = PurgeReport::default();
        for table in self.tables.all() {
            let (deleted, step) = self.sweep_expired(table, now, budget).await?;
            report.expired_deleted.insert(table.to_owned(), deleted);
            if let Step::OutOfBudget = step {
                return Ok(report);
            }
        }
        let due = self
            .tenants
            .ids_with_status_before(
                "offboarding",
                now - Duration::days(OFFBOARDING_GRACE_DAYS),
                TENANTS_PER_RUN,
            )
            .await?;
        for tenant in due {
            match self.purge_tenant(&tenant, now, budget).await? {
                Step::Done => report.tenants_purged.push(tenant),
                Step::OutOfBudget => return Ok(report),
            }
        }
        report.complete = true;
        Ok(report)
    }

    // ---- expired items -----------------------------------------------------

    fn cursor_key(table: &str) -> String {
        format!("PURGE#{table}")
    }

    async fn load_cursor(&self, table: &str) -> Result<Option<NaiveDate>, PurgeError> {
        let item = self.get_progress_item(&Self::cursor_key(table)).await?;
        item.map(|i| {
            get_s(&i, CURSOR_DAY)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or(PurgeError::Corrupt)
        })
        .transpose()
    }

    async fn save_cursor(&self, table: &str, day: NaiveDate) -> Result<(), PurgeError> {
        self.client
            .put_item()
            .table_name(&self.tables.tenants)
            .item(PK, s(PLATFORM_PK))
            .item(SK, s(Self::cursor_key(table)))
            .item(CURSOR_DAY, s(day.format("%Y-%m-%d").to_string()))
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }

    async fn sweep_expired(
        &self,
        table: &str,
        now: DateTime<Utc>,
        budget: &impl Budget,
    ) -> Result<(u64, Step), PurgeError> {
        let today = now.date_naive();
        let start = match self.load_cursor(table).await? {
            Some(day) => day,
            None => today - Duration::days(self.lookback_days),
        };
        let mut day = start.min(today);
        let mut deleted = 0;
        loop {
            let mut exclusive_start: Option<Item> = None;
            loop {
                if budget.exhausted() {
                    self.save_cursor(table, day).await?;
                    return Ok((deleted, Step::OutOfBudget));
                }
                let out = self
                    .client
                    .query()
                    .table_name(table)
                    .index_name(BY_EXPIRY)
                    .key_condition_expression("#day = :day AND #exp <= :now")
                    .expression_attribute_names("#day", EXPIRY_DAY)
                    .expression_attribute_names("#exp", EXPIRES_AT)
                    .expression_attribute_values(":day", s(day.format("%Y-%m-%d").to_string()))
                    .expression_attribute_values(":now", n(now.timestamp()))
                    .limit(QUERY_PAGE)
                    .set_exclusive_start_key(exclusive_start.take())
                    .send()
                    .await
                    .map_err(from_sdk)?;
                // Grouped by partition: each tenant's keys with its own client.
                let mut by_pk: BTreeMap<String, Vec<Item>> = BTreeMap::new();
                for key in out.items().iter().filter_map(primary_key) {
                    let pk = get_s(&key, PK).unwrap_or_default().to_owned();
                    by_pk.entry(pk).or_default().push(key);
                }
                for (pk, keys) in by_pk {
                    let client = self.client_for(&pk).await?;
                    deleted += self.delete_keys(&client, table, keys).await?;
                }
                match out.last_evaluated_key() {
                    Some(k) => exclusive_start = Some(k.clone()),
                    None => break,
                }
            }
            if day >= today {
                break;
            }
            day += Duration::days(1);
        }
        // Today's bucket is never finished: later items expire today too.
        if start != today {
            self.save_cursor(table, today).await?;
        }
        Ok((deleted, Step::Done))
    }

    /// Deletes keys in batches of 25, retrying unprocessed items. The budget
    /// is not checked inside a batch: a batch is small and idempotent. Audit
    /// items are deleted one by one: the template denies BatchWriteItem on
    /// the audit table to every role, so no batch can ever put one.
    async fn delete_keys(
        &self,
        client: &Client,
        table: &str,
        keys: Vec<Item>,
    ) -> Result<u64, PurgeError> {
        if table == self.tables.audit {
            for key in &keys {
                client
                    .delete_item()
                    .table_name(table)
                    .set_key(Some(key.clone()))
                    .send()
                    .await
                    .map_err(from_sdk)?;
            }
            return Ok(keys.len() as u64);
        }
        let mut deleted = 0u64;
        for chunk in keys.chunks(BATCH) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .filter_map(|k| {
                    DeleteRequest::builder()
                        .set_key(Some(k.clone()))
                        .build()
                        .ok()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect();
            let mut attempt = 0;
            while !requests.is_empty() {
                if attempt >= MAX_BATCH_ATTEMPTS {
                    return Err(PurgeError::Unprocessed);
                }
                if attempt > 0 {
                    tokio::time::sleep(StdDuration::from_millis(20 << attempt.min(6))).await;
                }
                let out = client
                    .batch_write_item()
                    .request_items(table, requests.clone())
                    .send()
                    .await
                    .map_err(from_sdk)?;
                let left = out
                    .unprocessed_items()
                    .and_then(|u| u.get(table))
                    .cloned()
                    .unwrap_or_default();
                deleted += (requests.len() - left.len()) as u64;
                requests = left;
                attempt += 1;
            }
        }
        Ok(deleted)
    }

    // ---- offboarded tenants -----------------------------------------------

    fn progress_key(tenant: &TenantId) -> String {
        format!("PURGE#TENANT#{tenant}")
    }

    async fn get_progress_item(&self, sk: &str) -> Result<Option<Item>, PurgeError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.tenants)
            .key(PK, s(PLATFORM_PK))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(out.item().cloned())
    }

    async fn load_progress(&self, tenant: &TenantId) -> Result<Option<TenantProgress>, PurgeError> {
        let Some(item) = self.get_progress_item(&Self::progress_key(tenant)).await? else {
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
                        .ok_or(PurgeError::Corrupt)
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?,
            None => BTreeMap::new(),
        };
        let done = match item.get("done").and_then(|v| v.as_l().ok()) {
            Some(l) => l
                .iter()
                .map(|v| v.as_s().ok().cloned().ok_or(PurgeError::Corrupt))
                .collect::<Result<BTreeSet<_>, _>>()?,
            None => BTreeSet::new(),
        };
        Ok(Some(TenantProgress {
            done,
            event_id: get_s(&item, "event_id")
                .ok_or(PurgeError::Corrupt)?
                .to_owned(),
            last_seq: get_n(&item, "last_seq").ok_or(PurgeError::Corrupt)?,
            last_hash: get_s(&item, "last_hash").unwrap_or_default().to_owned(),
            deleted,
        }))
    }

    async fn save_progress(&self, tenant: &TenantId, p: &TenantProgress) -> Result<(), PurgeError> {
        let deleted: HashMap<String, AttributeValue> =
            p.deleted.iter().map(|(k, v)| (k.clone(), n(v))).collect();
        self.client
            .put_item()
            .table_name(&self.tables.tenants)
            .item(PK, s(PLATFORM_PK))
            .item(SK, s(Self::progress_key(tenant)))
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
            .map_err(from_sdk)?;
        Ok(())
    }

    async fn purge_tenant(
        &self,
        tenant: &TenantId,
        now: DateTime<Utc>,
        budget: &impl Budget,
    ) -> Result<Step, PurgeError> {
        let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::RetentionPurge);
        let client = self.db.client(&scope).await?;
        let tenants = TenantRepo::new(client.clone(), &self.tables.tenants);
        // The index is eventually consistent: confirm on the record itself.
        let Some(record) = tenants.get(&scope).await? else {
            return Ok(Step::Done);
        };
        if !record.status.purge_due(now) {
            return Ok(Step::Done);
        }
        let mut progress = match self.load_progress(tenant).await? {
            Some(p) => p,
            None => {
                // The receipt's facts are taken before anything is deleted.
                let audit = AuditRepo::new(client.clone(), &self.tables.audit);
                let head = audit.head(&ChainScope::Tenant(tenant.clone())).await?;
                let p = TenantProgress {
                    event_id: EventId::generate().to_string(),
                    last_seq: head.as_ref().map_or(0, |h| h.seq),
                    last_hash: head.map(|h| h.hash).unwrap_or_default(),
                    deleted: BTreeMap::new(),
                    done: BTreeSet::new(),
                };
                self.save_progress(tenant, &p).await?;
                p
            }
        };
        for table in self.tables.all() {
            let label = table_label(&self.tables, table);
            if progress.done.contains(&label) {
                continue;
            }
            loop {
                if budget.exhausted() {
                    self.save_progress(tenant, &progress).await?;
                    return Ok(Step::OutOfBudget);
                }
                let out = client
                    .query()
                    .table_name(table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(scope.partition_key()))
                    .projection_expression("pk, sk")
                    .limit(QUERY_PAGE)
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(from_sdk)?;
                let keys: Vec<Item> = out
                    .items()
                    .iter()
                    .filter(|i| {
                        !(table == self.tables.tenants && get_s(i, SK) == Some(TENANT_RECORD_SK))
                    })
                    .filter_map(primary_key)
                    .collect();
                if keys.is_empty() {
                    progress.done.insert(label.clone());
                    break;
                }
                let count = self.delete_keys(&client, table, keys).await?;
                *progress.deleted.entry(label.clone()).or_default() += count;
            }
        }
        if budget.exhausted() {
            self.save_progress(tenant, &progress).await?;
            return Ok(Step::OutOfBudget);
        }
        self.vault.destroy(&scope).await?;
        self.publisher
            .publish_one(&receipt(&scope, &progress, now)?)
            .await
            .map_err(|e| PurgeError::Publish(Box::new(e)))?;
        let tombstone = Tenant {
            id: tenant.clone(),
            name: String::new(),
            status: TenantStatus::Purged { at: now },
            policy: TenantPolicy::default(),
            created_at: record.created_at,
        };
        self.write_tombstone(&client, &scope, &tombstone, now)
            .await?;
        self.client
            .delete_item()
            .table_name(&self.tables.tenants)
            .key(PK, s(PLATFORM_PK))
            .key(SK, s(Self::progress_key(tenant)))
            .send()
            .await
            .map_err(from_sdk)?;
        tracing::info!(tenant_id = %tenant, "tenant purged");
        Ok(Step::Done)
    }
}

impl<V: ConnectionSecrets, P: Publisher, D: TenantDb> Purger<V, P, D> {
    /// The tenant record becomes a `purged` tombstone with no content, by
    /// UpdateItem (the purge role may update, never put, a tenant record),
    /// and only while it is still `offboarding`: a repeat changes nothing.
    async fn write_tombstone(
        &self,
        client: &Client,
        scope: &TenantScope,
        tombstone: &Tenant,
        now: DateTime<Utc>,
    ) -> Result<(), PurgeError> {
        let doc = serde_json::to_string(tombstone).map_err(|_| PurgeError::Corrupt)?;
        let result = client
            .update_item()
            .table_name(&self.tables.tenants)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(TENANT_RECORD_SK))
            .update_expression("SET #status = :purged, status_since = :at, doc = :doc")
            .condition_expression("#status = :offboarding")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":purged", s("purged"))
            .expression_attribute_values(":offboarding", s("offboarding"))
            .expression_attribute_values(":at", s(now.to_rfc3339()))
            .expression_attribute_values(":doc", s(doc))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(from_sdk(e).into()),
        }
    }
}

fn table_label(tables: &PurgeTables, table: &str) -> String {
    let label = if table == tables.tickets {
        "tickets"
    } else if table == tables.audit {
        "audit"
    } else if table == tables.idempotency {
        "idempotency"
    } else {
        "tenants"
    };
    format!("{label}_items_deleted")
}

/// The purge receipt: counts and the last chain link, no content. Its event
/// id was fixed when the purge began, so a repeated publish is written once.
fn receipt(
    scope: &TenantScope,
    p: &TenantProgress,
    now: DateTime<Utc>,
) -> Result<DomainEvent, PurgeError> {
    let mut details: BTreeMap<String, String> = p
        .deleted
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    details.insert("last_chain_seq".to_owned(), p.last_seq.to_string());
    details.insert("last_chain_hash".to_owned(), p.last_hash.clone());
    details.insert(
        "directory_connection_destroyed".to_owned(),
        "true".to_owned(),
    );
    let event_id = EventId::parse(&p.event_id).ok_or(PurgeError::Corrupt)?;
    Ok(DomainEvent {
        event_id,
        tenant_id: scope.tenant().clone(),
        actor: EventActor::system(SystemTask::RetentionPurge),
        correlation_id: CorrelationId::parse(&format!("purge-{}", p.event_id))
            .map_err(|_| PurgeError::Corrupt)?,
        time: DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now),
        payload: EventPayload::TenantLifecycle(TenantLifecycle {
            change: LifecycleChange::Purged,
            details,
        }),
    })
}

fn primary_key(item: &Item) -> Option<Item> {
    Some(Item::from([
        (PK.to_owned(), item.get(PK)?.clone()),
        (SK.to_owned(), item.get(SK)?.clone()),
    ]))
}
