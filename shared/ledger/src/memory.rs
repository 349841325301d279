//! The audit store in memory, for use-case and handler tests that run
//! in-process. It keeps the DynamoDB adapter's contract (seq order, filters,
//! cursors that hold only a seq, salts made only by the writer) and takes
//! events the way audit-write does. Never used by a deployed function.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rand::RngCore;
use zerodesk_audit::{AuditRecord, ChainHead, ChainScope, next_record};
use zerodesk_domain::TenantScope;
use zerodesk_events::DomainEvent;

use crate::audit_repo::{
    AuditFilter, AuditPage, AuditPageRequest, DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE, StoredRecord,
    decode_cursor, encode_cursor,
};
use crate::error::LedgerError;
use crate::salts::Salt;
use crate::store::AuditStore;
use crate::writer::{ChainWrite, chains_of, draft_of};

#[derive(Debug, Default)]
struct Chains {
    records: BTreeMap<ChainScope, Vec<AuditRecord>>,
    salts: BTreeMap<ChainScope, Salt>,
}

/// Chains and their salts; clones share them.
#[derive(Debug, Clone, Default)]
pub struct MemoryAudit {
    chains: Arc<Mutex<Chains>>,
}

fn matches(filter: &AuditFilter, r: &AuditRecord) -> bool {
    filter.from.is_none_or(|from| r.time >= from)
        && filter.to.is_none_or(|to| r.time <= to)
        && filter
            .ticket_id
            .as_ref()
            .is_none_or(|t| r.ticket_id.as_ref() == Some(t))
        && filter
            .actor_subject
            .as_ref()
            .is_none_or(|a| r.actor.subject == *a)
}

impl MemoryAudit {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Chains> {
        self.chains.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends an event to its chains as audit-write does (accounts as
    /// pseudonyms under the chain's salt, made on first use; an event id
    /// already in a chain is a duplicate, written once).
    pub fn write(&self, event: &DomainEvent) -> Vec<ChainWrite> {
        let mut chains = self.lock();
        let mut out = Vec::new();
        for chain in chains_of(event) {
            let salt = chains
                .salts
                .entry(chain.clone())
                .or_insert_with(|| {
                    let mut bytes = [0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut bytes);
                    Salt::from_bytes(&bytes)
                })
                .clone();
            let records = chains.records.entry(chain.clone()).or_default();
            let id = event.event_id.to_string();
            if let Some(seen) = records.iter().find(|r| r.event_id == id) {
                out.push(ChainWrite::Duplicate {
                    seq: seen.seq,
                    chain,
                });
                continue;
            }
            let record = next_record(
                records.last().map(AuditRecord::head).as_ref(),
                draft_of(event, chain.clone(), &salt),
            );
            let seq = record.seq;
            records.push(record);
            out.push(ChainWrite::Appended { chain, seq });
        }
        out
    }

    /// Every record of a chain, for assertions.
    pub fn records(&self, chain: &ChainScope) -> Vec<AuditRecord> {
        self.lock().records.get(chain).cloned().unwrap_or_default()
    }

    fn tenant_records(&self, scope: &TenantScope) -> Vec<AuditRecord> {
        self.records(&ChainScope::Tenant(scope.tenant().clone()))
    }
}

impl AuditStore for MemoryAudit {
    async fn head(&self, scope: &TenantScope) -> Result<Option<ChainHead>, LedgerError> {
        Ok(self.tenant_records(scope).last().map(AuditRecord::head))
    }

    async fn page(
        &self,
        scope: &TenantScope,
        filter: &AuditFilter,
        page: &AuditPageRequest,
    ) -> Result<AuditPage, LedgerError> {
        let limit = page
            .limit
            .unwrap_or(DEFAULT_AUDIT_PAGE)
            .clamp(1, MAX_AUDIT_PAGE);
        let after = page.cursor.as_deref().map(decode_cursor).transpose()?;
        let mut rest = self
            .tenant_records(scope)
            .into_iter()
            .filter(|r| after.is_none_or(|a| r.seq > a) && matches(filter, r));
        let records: Vec<AuditRecord> = rest.by_ref().take(limit).collect();
        let next_cursor = match (rest.next(), records.last()) {
            (Some(_), Some(last)) => Some(encode_cursor(last.seq)),
            _ => None,
        };
        Ok(AuditPage {
            records,
            next_cursor,
        })
    }

    async fn read_all(
        &self,
        scope: &TenantScope,
        filter: &AuditFilter,
    ) -> Result<Vec<StoredRecord>, LedgerError> {
        Ok(self
            .tenant_records(scope)
            .into_iter()
            .filter(|r| matches(filter, r))
            .map(|r| StoredRecord {
                key_seq: r.seq,
                record: Some(r),
            })
            .collect())
    }

    async fn salt(&self, scope: &TenantScope) -> Result<Option<Salt>, LedgerError> {
        Ok(self
            .lock()
            .salts
            .get(&ChainScope::Tenant(scope.tenant().clone()))
            .cloned())
    }
}
