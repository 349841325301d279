//! Verification: recompute every hash and link of records in the order given
//! (as read by sort key or from an export) and report what is wrong. It never
//! sorts or repairs its input: reordering is one of the things it must detect.

use std::borrow::Borrow;
use std::collections::HashMap;

use serde::Serialize;
use zerodesk_domain::TicketId;

use crate::record::{
    AuditRecord, ChainHead, ChainScope, GENESIS_PREV_HASH, INTENT_ACTION, OUTCOME_ACTION,
};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Retention removed the oldest records: the first record given may have
    /// seq > 1 and any prev_hash, and no gap is reported before it.
    pub allow_truncated_start: bool,
    /// Every record must belong to this chain; by default, to the first
    /// record's chain.
    pub expected_chain: Option<ChainScope>,
}

/// Why a record does not link. Checked in this order; the first that applies
/// is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkFault {
    /// `hash` is not SHA-256 of the record's canonical encoding: content altered.
    HashMismatch,
    /// An intact record of another tenant's (or the platform's) chain.
    ChainMismatch,
    /// `seq` is not greater than the previous record's (repeated or moved back),
    /// or is 0.
    SeqOutOfOrder,
    /// `prev_hash` is not the previous record's `hash` (or, at seq 1, the
    /// genesis hash): a record was deleted, inserted or moved.
    PrevHashMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    /// 0-based position in the input (line number - 1 for an export).
    pub index: usize,
    /// The seq the offending record carries.
    pub seq: u64,
    pub kind: LinkFault,
}

/// Sequence numbers absent from the input: `missing_from..=missing_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub after_seq: u64,
    pub missing_from: u64,
    pub missing_to: u64,
}

/// A `DirectoryActionIntent` with no later `DirectoryActionOutcome` for the
/// same ticket and directory action kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenIntent {
    pub ticket_id: Option<TicketId>,
    /// The intent's `details["directory_action"]`, if it had one.
    pub action: Option<String>,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// No broken link and no gap. Open intents do not clear it: they are an
    /// operational finding (a call in flight or a crash), not tampering.
    pub ok: bool,
    pub records_checked: usize,
    /// The seq of the first record given.
    pub starts_at_seq: Option<u64>,
    /// The last record given; compare with an independently kept head to
    /// detect removal of the newest records, which no chain can show itself.
    pub head: Option<ChainHead>,
    pub first_broken_link: Option<BrokenLink>,
    pub gaps: Vec<Gap>,
    pub intents_without_outcome: Vec<OpenIntent>,
}

/// `verify_with` with default options: a whole chain, starting at seq 1.
pub fn verify<I>(records: I) -> VerifyReport
where
    I: IntoIterator,
    I::Item: Borrow<AuditRecord>,
{
    verify_with(records, &VerifyOptions::default())
}

pub fn verify_with<I>(records: I, options: &VerifyOptions) -> VerifyReport
where
    I: IntoIterator,
    I::Item: Borrow<AuditRecord>,
{
    let mut chain = options.expected_chain.clone();
    let mut prev: Option<ChainHead> = None;
    let mut first_broken_link = None;
    let mut seqs = Vec::new();
    let mut intents = Intents::default();
    let mut starts_at_seq = None;
    let mut count = 0usize;

    for (index, item) in records.into_iter().enumerate() {
        let record = item.borrow();
        count += 1;
        let expected_chain = chain.get_or_insert_with(|| record.chain.clone());
        starts_at_seq.get_or_insert(record.seq);
        if first_broken_link.is_none() {
            let fault = link_fault(record, expected_chain, prev.as_ref(), options);
            first_broken_link = fault.map(|kind| BrokenLink {
                index,
                seq: record.seq,
                kind,
            });
        }
        seqs.push(record.seq);
        intents.observe(index, record);
        prev = Some(record.head());
    }

    let gaps = gaps(seqs, options.allow_truncated_start);
    VerifyReport {
        ok: first_broken_link.is_none() && gaps.is_empty(),
        records_checked: count,
        starts_at_seq,
        head: prev,
        first_broken_link,
        gaps,
        intents_without_outcome: intents.open(),
    }
}

fn link_fault(
    record: &AuditRecord,
    chain: &ChainScope,
    prev: Option<&ChainHead>,
    options: &VerifyOptions,
) -> Option<LinkFault> {
    if record.compute_hash() != record.hash {
        return Some(LinkFault::HashMismatch);
    }
    if record.chain != *chain {
        return Some(LinkFault::ChainMismatch);
    }
    match prev {
        _ if record.seq == 0 => Some(LinkFault::SeqOutOfOrder),
        Some(p) if record.seq <= p.seq => Some(LinkFault::SeqOutOfOrder),
        Some(p) if record.prev_hash != p.hash => Some(LinkFault::PrevHashMismatch),
        Some(_) => None,
        None if record.seq == 1 && record.prev_hash != GENESIS_PREV_HASH => {
            Some(LinkFault::PrevHashMismatch)
        }
        // The predecessors are missing; acceptable only after retention.
        None if record.seq > 1 && !options.allow_truncated_start => {
            Some(LinkFault::PrevHashMismatch)
        }
        None => None,
    }
}

/// Holes in the seqs present. Counting starts at 1, or at the lowest seq
/// present when the start may be truncated.
fn gaps(mut seqs: Vec<u64>, allow_truncated_start: bool) -> Vec<Gap> {
    seqs.sort_unstable();
    seqs.dedup();
    let mut last = match (allow_truncated_start, seqs.first()) {
        (true, Some(&lowest)) => lowest,
        _ => 0,
    };
    let mut gaps = Vec::new();
    for seq in seqs {
        if seq > last.saturating_add(1) {
            gaps.push(Gap {
                after_seq: last,
                missing_from: last + 1,
                missing_to: seq - 1,
            });
        }
        last = last.max(seq);
    }
    gaps
}

/// What pairs an intent with its outcome: the ticket and the action kind.
type IntentKey = (Option<TicketId>, Option<String>);

/// Intents still waiting for an outcome, with their (index, seq).
#[derive(Default)]
struct Intents {
    open: HashMap<IntentKey, Vec<(usize, u64)>>,
}

impl Intents {
    fn observe(&mut self, index: usize, record: &AuditRecord) {
        let key = || {
            (
                record.ticket_id,
                record.directory_action().map(str::to_owned),
            )
        };
        if record.action == INTENT_ACTION {
            self.open
                .entry(key())
                .or_default()
                .push((index, record.seq));
        } else if record.action == OUTCOME_ACTION {
            self.open.remove(&key());
        }
    }

    fn open(self) -> Vec<OpenIntent> {
        let mut open: Vec<(usize, OpenIntent)> = self
            .open
            .into_iter()
            .flat_map(|((ticket_id, action), seen)| {
                seen.into_iter().map(move |(index, seq)| {
                    (
                        index,
                        OpenIntent {
                            ticket_id,
                            action: action.clone(),
                            seq,
                        },
                    )
                })
            })
            .collect();
        open.sort_by_key(|(index, _)| *index);
        open.into_iter().map(|(_, intent)| intent).collect()
    }
}

#[cfg(test)]
mod tests;
