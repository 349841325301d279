//! The retention purge. Two sweeps, both resumable and bounded by a budget
//! (the invocation's deadline less a margin):
//!
//! 1. Expired items: per table, the expiry index is read one day bucket at a
//!    time, from a stored cursor day up to today, for items whose expiry has
//!    passed, which are deleted by key. The cost grows with what expired
//!    (plus one query per day bucket), never with the table. DynamoDB TTL
//!    does the same eventually; this makes it prompt.
//! 2. Tenants offboarded more than the grace period ago: every item of the
//!    tenant in every table, the directory secret, then a purge receipt
//!    (counts, the last chain seq and hash, no content) published for the
//!    platform trail, and finally the tenant record reduced to a `purged`
//!    tombstone with no content.
//!
//! Progress (cursor days, a tenant purge's receipt facts) is kept by the
//! store's `PurgeProgress`, so a run that stops early continues where it
//! stopped, and a repeated run changes nothing more.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use zerodesk_aws::TableNames;
use zerodesk_crypto::{ConnectionSecrets, SecretsError};
use zerodesk_domain::{
    CorrelationId, SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus,
    tenant::OFFBOARDING_GRACE_DAYS,
};
use zerodesk_events::{
    Actor as EventActor, DomainEvent, EventId, EventPayload, LifecycleChange, PublishError,
    Publisher, TenantLifecycle,
};
use zerodesk_ledger::audit::ChainScope;
use zerodesk_ledger::{AuditRepo, LedgerError};
use zerodesk_store::{
    ItemKey, PurgeProgress, StoreError, TableKeys, TenantDb, TenantPurgeProgress, TenantRepo,
    write_tombstone,
};

use crate::budget::Budget;

/// Where a table's sweep starts when it has never run.
pub const DEFAULT_LOOKBACK_DAYS: i64 = 30;
/// Offboarded tenants purged per run at most (the rest wait for the next).
const TENANTS_PER_RUN: i32 = 25;

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("the purge could not read the audit trail")]
    Ledger(#[from] LedgerError),
    #[error("the purge could not read or write a table")]
    Store(#[from] StoreError),
    #[error("destroying a tenant's directory secret failed")]
    Secrets(#[from] SecretsError),
    #[error("publishing the purge receipt failed")]
    Publish(#[source] PublishError),
    #[error("a batch delete kept leaving unprocessed items")]
    Unprocessed,
    #[error("a stored purge receipt is corrupt")]
    Corrupt,
}

impl PurgeError {
    /// Whether a later run may succeed where this one failed (the schedule
    /// retries either way; a non-transient failure needs a person).
    pub fn is_transient(&self) -> bool {
        match self {
            PurgeError::Ledger(e) => e.is_transient(),
            PurgeError::Store(e) => e.is_retryable(),
            PurgeError::Secrets(e) => e.is_transient(),
            PurgeError::Publish(e) => e.is_transient(),
            // DynamoDB returns unprocessed items when it throttles.
            PurgeError::Unprocessed => true,
            PurgeError::Corrupt => false,
        }
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

/// The purge. `client` is the function's own: it queries the KEYS_ONLY
/// indexes and keeps the purge's progress in the platform partition; every
/// tenant item is read and deleted with that tenant's client from `db`.
pub struct Purger<V, P, D> {
    client: Client,
    tables: TableNames,
    tenants: TenantRepo,
    progress: PurgeProgress,
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
    pub fn new(client: Client, tables: TableNames, db: D, vault: V, publisher: P) -> Self {
        Self {
            tenants: TenantRepo::new(client.clone(), &tables.tenants),
            progress: PurgeProgress::new(client.clone(), &tables.tenants),
            client,
            tables,
            db,
            vault,
            publisher,
            lookback_days: DEFAULT_LOOKBACK_DAYS,
        }
    }

    pub fn with_lookback_days(mut self, days: i64) -> Self {
        self.lookback_days = days.max(0);
        self
    }

    /// Tenants table last: it holds the purge's own progress.
    fn all_tables(&self) -> [&str; 4] {
        [
            &self.tables.tickets,
            &self.tables.idempotency,
            &self.tables.audit,
            &self.tables.tenants,
        ]
    }

    /// A table's keys on the function's own client.
    fn keys(&self, table: &str) -> TableKeys {
        let keys = TableKeys::new(self.client.clone(), table);
        if table == self.tables.audit {
            keys.one_delete_per_request()
        } else {
            keys
        }
    }

    fn scope(tenant: &TenantId) -> TenantScope {
        TenantScope::for_system_task(tenant.clone(), SystemTask::RetentionPurge)
    }

    /// One run at `now`: expired items, then offboarded tenants.
    pub async fn run(
        &self,
        now: DateTime<Utc>,
        budget: &impl Budget,
    ) -> Result<PurgeReport, PurgeError> {
        let mut report = PurgeReport::default();
        for table in self.all_tables() {
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

    async fn sweep_expired(
        &self,
        table: &str,
        now: DateTime<Utc>,
        budget: &impl Budget,
    ) -> Result<(u64, Step), PurgeError> {
        let own = self.keys(table);
        let today = now.date_naive();
        let start = match self.progress.cursor_day(table).await? {
            Some(day) => day,
            None => today - Duration::days(self.lookback_days),
        };
        let mut day = start.min(today);
        let mut deleted = 0;
        loop {
            let mut cursor = None;
            loop {
                if budget.exhausted() {
                    self.progress.save_cursor_day(table, day).await?;
                    return Ok((deleted, Step::OutOfBudget));
                }
                let page = own.expired_on(day, now, cursor.take()).await?;
                // Grouped by partition: each tenant's keys with its own client.
                let mut by_tenant: BTreeMap<Option<TenantId>, Vec<ItemKey>> = BTreeMap::new();
                for key in page.keys {
                    by_tenant.entry(key.tenant()).or_default().push(key);
                }
                for (tenant, keys) in by_tenant {
                    let on = match tenant {
                        Some(t) => own.with_client(self.db.client(&Self::scope(&t)).await?),
                        None => own.clone(),
                    };
                    deleted += delete(&on, &keys).await?;
                }
                match page.next {
                    Some(c) => cursor = Some(c),
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
            self.progress.save_cursor_day(table, today).await?;
        }
        Ok((deleted, Step::Done))
    }

    // ---- offboarded tenants -----------------------------------------------

    async fn purge_tenant(
        &self,
        tenant: &TenantId,
        now: DateTime<Utc>,
        budget: &impl Budget,
    ) -> Result<Step, PurgeError> {
        let scope = Self::scope(tenant);
        let client = self.db.client(&scope).await?;
        let tenants = TenantRepo::new(client.clone(), &self.tables.tenants);
        // The index is eventually consistent: confirm on the record itself.
        let Some(record) = tenants.get(&scope).await? else {
            return Ok(Step::Done);
        };
        if !record.status.purge_due(now) {
            return Ok(Step::Done);
        }
        let mut progress = match self.progress.tenant(tenant).await? {
            Some(p) => p,
            None => {
                // The receipt's facts are taken before anything is deleted.
                let audit = AuditRepo::new(client.clone(), &self.tables.audit);
                let head = audit.head(&ChainScope::Tenant(tenant.clone())).await?;
                let p = TenantPurgeProgress {
                    event_id: EventId::generate().to_string(),
                    last_seq: head.as_ref().map_or(0, |h| h.seq),
                    last_hash: head.map(|h| h.hash).unwrap_or_default(),
                    deleted: BTreeMap::new(),
                    done: BTreeSet::new(),
                };
                self.progress.save_tenant(tenant, &p).await?;
                p
            }
        };
        for table in self.all_tables() {
            let label = table_label(&self.tables, table);
            if progress.done.contains(&label) {
                continue;
            }
            let keys = self.keys(table).with_client(client.clone());
            loop {
                if budget.exhausted() {
                    self.progress.save_tenant(tenant, &progress).await?;
                    return Ok(Step::OutOfBudget);
                }
                let page = keys.tenant_keys(&scope).await?;
                if page.is_empty() {
                    progress.done.insert(label.clone());
                    break;
                }
                let count = delete(&keys, &page).await?;
                *progress.deleted.entry(label.clone()).or_default() += count;
            }
        }
        if budget.exhausted() {
            self.progress.save_tenant(tenant, &progress).await?;
            return Ok(Step::OutOfBudget);
        }
        self.vault.destroy(&scope).await?;
        self.publisher
            .publish_one(&receipt(&scope, &progress, now)?)
            .await
            .map_err(PurgeError::Publish)?;
        let tombstone = Tenant {
            id: tenant.clone(),
            name: String::new(),
            status: TenantStatus::Purged { at: now },
            policy: TenantPolicy::default(),
            created_at: record.created_at,
        };
        write_tombstone(&client, &self.tables.tenants, &scope, &tombstone, now).await?;
        self.progress.forget_tenant(tenant).await?;
        tracing::info!(tenant_id = %tenant, "tenant purged");
        Ok(Step::Done)
    }
}

/// Deletes keys; what DynamoDB still leaves unprocessed after its retries
/// fails the run (the next run finds those keys again).
async fn delete(table: &TableKeys, keys: &[ItemKey]) -> Result<u64, PurgeError> {
    let deleted = table.delete(keys).await?;
    if deleted.left.is_empty() {
        Ok(deleted.count)
    } else {
        Err(PurgeError::Unprocessed)
    }
}

fn table_label(tables: &TableNames, table: &str) -> String {
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
    p: &TenantPurgeProgress,
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
