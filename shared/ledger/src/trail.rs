//! Verifying and exporting a stored chain. Verification reads every record
//! in sort-key order and hands them, unsorted and unrepaired, to the audit
//! crate; an item that does not even parse stands in as a record whose hash
//! cannot match, so it is reported at its seq like any other alteration.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use zerodesk_audit::{
    Actor, AuditRecord, ChainScope, VerifyOptions, VerifyReport, verify_with, write_jsonl,
};
use zerodesk_domain::CorrelationId;

use crate::audit_repo::{AuditFilter, AuditRepo, StoredRecord};
use crate::error::LedgerError;

/// A chain whose oldest present record is this close to its own expiry may
/// start above seq 1: its predecessors were old enough for retention.
pub const TRUNCATION_SLACK_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrailVerification {
    #[serde(flatten)]
    pub report: VerifyReport,
    /// The chain starts above seq 1 because retention removed older records.
    pub truncated_by_retention: bool,
    /// Seqs of stored items that are not readable records at all.
    pub unreadable_seqs: Vec<u64>,
    /// The sort-key seq (`SEQ#<n>`) of the item at the first broken link:
    /// where it is stored, whatever seq its (possibly altered) content claims.
    pub first_broken_stored_at: Option<u64>,
}

/// Whether a chain starting at `first` may be missing its predecessors:
/// only when `first` itself is near the end of its retention.
pub fn truncation_allowed(
    first: Option<&AuditRecord>,
    retention_days: u32,
    now: DateTime<Utc>,
) -> bool {
    first.is_some_and(|r| {
        r.seq > 1
            && r.time + Duration::days(i64::from(retention_days))
                <= now + Duration::days(TRUNCATION_SLACK_DAYS)
    })
}

/// Recomputes a stored chain: first broken link, gaps, intents without outcome.
pub async fn verify_stored(
    repo: &AuditRepo,
    chain: &ChainScope,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<TrailVerification, LedgerError> {
    let stored = repo.read_all(chain, &AuditFilter::default()).await?;
    Ok(verify_records(chain, stored, retention_days, now))
}

/// `verify_stored` over records already read.
pub fn verify_records(
    chain: &ChainScope,
    stored: Vec<StoredRecord>,
    retention_days: u32,
    now: DateTime<Utc>,
) -> TrailVerification {
    let mut unreadable_seqs = Vec::new();
    let positions: Vec<u64> = stored.iter().map(|s| s.key_seq).collect();
    let records: Vec<AuditRecord> = stored
        .into_iter()
        .map(|s| {
            s.record.unwrap_or_else(|| {
                unreadable_seqs.push(s.key_seq);
                unreadable(chain, s.key_seq)
            })
        })
        .collect();
    let truncated = truncation_allowed(records.first(), retention_days, now);
    let options = VerifyOptions {
        allow_truncated_start: truncated,
        expected_chain: Some(chain.clone()),
    };
    let report = verify_with(&records, &options);
    let first_broken_stored_at = report
        .first_broken_link
        .as_ref()
        .and_then(|b| positions.get(b.index).copied());
    TrailVerification {
        report,
        truncated_by_retention: truncated,
        unreadable_seqs,
        first_broken_stored_at,
    }
}

/// A stand-in for an item that does not parse: its empty hash never matches.
fn unreadable(chain: &ChainScope, seq: u64) -> AuditRecord {
    AuditRecord {
        chain: chain.clone(),
        seq,
        prev_hash: String::new(),
        event_id: String::new(),
        time: DateTime::<Utc>::UNIX_EPOCH,
        actor: Actor::new("", ""),
        action: String::new(),
        ticket_id: None,
        old_state: None,
        new_state: None,
        outcome: None,
        rationale: Vec::new(),
        reason: None,
        correlation_id: CorrelationId::parse("unreadable")
            .unwrap_or_else(|_| CorrelationId::generate()),
        details: Default::default(),
        hash: String::new(),
    }
}

/// The chain (or the part within `filter`) as a JSON Lines export. An
/// unreadable item fails the export: an export is evidence and must be whole.
pub async fn export_stored(
    repo: &AuditRepo,
    chain: &ChainScope,
    filter: &AuditFilter,
) -> Result<Vec<u8>, LedgerError> {
    export_records(repo.read_all(chain, filter).await?)
}

/// `export_stored` over items already read.
pub fn export_records(stored: Vec<StoredRecord>) -> Result<Vec<u8>, LedgerError> {
    let records = stored
        .into_iter()
        .map(|s| s.record.ok_or(LedgerError::Unreadable { seq: s.key_seq }))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    write_jsonl(&mut out, &records).map_err(|_| LedgerError::Corrupt("export"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerodesk_audit::{AuditDraft, LinkFault, next_record};
    use zerodesk_domain::TenantId;

    fn chain() -> ChainScope {
        ChainScope::Tenant(TenantId::parse("demo").unwrap())
    }

    fn records(n: usize, time: DateTime<Utc>) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let draft = AuditDraft::new(
                chain(),
                format!("ev-{i}"),
                time,
                Actor::new("s", "tenant_user"),
                "TicketCreated",
                CorrelationId::parse("c").unwrap(),
            );
            let next = next_record(out.last().map(|r| r.head()).as_ref(), draft);
            out.push(next);
        }
        out
    }

    fn stored(records: Vec<AuditRecord>) -> Vec<StoredRecord> {
        records
            .into_iter()
            .map(|r| StoredRecord {
                key_seq: r.seq,
                record: Some(r),
            })
            .collect()
    }

    #[test]
    fn an_unreadable_item_is_reported_as_altered_at_its_seq() {
        let now = Utc::now();
        let mut stored = stored(records(5, now));
        stored[2].record = None;
        let v = verify_records(&chain(), stored, 730, now);
        let broken = v.report.first_broken_link.unwrap();
        assert_eq!((broken.seq, broken.kind), (3, LinkFault::HashMismatch));
        assert_eq!(v.unreadable_seqs, vec![3]);
    }

    #[test]
    fn a_missing_start_is_accepted_only_near_the_end_of_retention() {
        let now = Utc::now();
        let old = records(5, now - Duration::days(729));
        let v = verify_records(&chain(), stored(old[2..].to_vec()), 730, now);
        assert!(v.report.ok && v.truncated_by_retention);
        let recent = records(5, now - Duration::days(10));
        let v = verify_records(&chain(), stored(recent[2..].to_vec()), 730, now);
        assert!(!v.report.ok);
        assert_eq!(v.report.first_broken_link.unwrap().seq, 3);
    }
}
