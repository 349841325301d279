//! Extending a chain: the next record from the current head and a draft.
//! Pure; the store's conditional write (seq must not exist) is what makes an
//! append exclusive, and a writer that loses the race rebuilds from the new head.

use crate::record::{AuditDraft, AuditRecord, ChainHead, GENESIS_PREV_HASH};

/// The record that follows `head` (or starts the chain at seq 1), hashed.
pub fn next_record(head: Option<&ChainHead>, draft: AuditDraft) -> AuditRecord {
    let (seq, prev_hash) = match head {
        // u64 never runs out in practice; saturating keeps this total, and a
        // repeated seq would be refused by the conditional write.
        Some(h) => (h.seq.saturating_add(1), h.hash.clone()),
        None => (1, GENESIS_PREV_HASH.to_owned()),
    };
    let AuditDraft {
        chain,
        event_id,
        time,
        actor,
        action,
        ticket_id,
        old_state,
        new_state,
        outcome,
        rationale,
        reason,
        correlation_id,
        details,
    } = draft;
    let mut record = AuditRecord {
        chain,
        seq,
        prev_hash,
        event_id,
        time,
        actor,
        action,
        ticket_id,
        old_state,
        new_state,
        outcome,
        rationale,
        reason,
        correlation_id,
        details,
        hash: String::new(),
    };
    record.hash = record.compute_hash();
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::draft;

    #[test]
    fn the_first_record_starts_at_one_after_the_genesis_hash() {
        let r = next_record(None, draft(0));
        assert_eq!(r.seq, 1);
        assert_eq!(r.prev_hash, GENESIS_PREV_HASH);
        assert_eq!(r.hash, r.compute_hash());
        assert_eq!(r.hash.len(), 64);
    }

    #[test]
    fn the_next_record_links_to_the_head() {
        let first = next_record(None, draft(0));
        let second = next_record(Some(&first.head()), draft(1));
        assert_eq!(second.seq, 2);
        assert_eq!(second.prev_hash, first.hash);
        assert_ne!(second.hash, first.hash);
    }

    #[test]
    fn the_same_draft_on_the_same_head_hashes_the_same() {
        let a = next_record(None, draft(7));
        let b = next_record(None, draft(7));
        assert_eq!(a, b);
    }
}
