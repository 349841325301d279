//! Test-only builders: deterministic drafts and chains, and proptest
//! strategies for arbitrary drafts. Never compiled into the library.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use zerodesk_domain::{CorrelationId, Role, TenantId, TicketId};

use crate::chain::next_record;
use crate::record::{Actor, AuditDraft, AuditRecord, ChainScope, INTENT_ACTION, OUTCOME_ACTION};

pub fn demo_chain() -> ChainScope {
    ChainScope::Tenant(TenantId::parse("demo").unwrap())
}

pub fn ticket(n: u64) -> TicketId {
    TicketId::parse(&format!("01J{n:023}")).unwrap()
}

pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()
}

/// A draft that differs from `draft(j)` for every `j != i`.
pub fn draft(i: u64) -> AuditDraft {
    let mut d = AuditDraft::new(
        demo_chain(),
        format!("evt-{i}"),
        base_time() + chrono::Duration::seconds(i as i64),
        Actor::with_role("user-1", Role::TenantUser),
        "TicketStateChanged",
        CorrelationId::parse(&format!("corr-{i}")).unwrap(),
    );
    d.ticket_id = Some(ticket(i));
    d.old_state = Some("triaged".into());
    d.new_state = Some("in_progress".into());
    d
}

pub fn intent(ticket_no: u64, kind: &str) -> AuditDraft {
    let mut d = draft(ticket_no).with_directory_action(kind);
    d.action = INTENT_ACTION.into();
    d.event_id = format!("intent-{ticket_no}-{kind}");
    d
}

pub fn outcome(ticket_no: u64, kind: &str) -> AuditDraft {
    let mut d = draft(ticket_no).with_directory_action(kind);
    d.action = OUTCOME_ACTION.into();
    d.outcome = Some("succeeded".into());
    d.event_id = format!("outcome-{ticket_no}-{kind}");
    d
}

/// Appends drafts in order to a new chain.
pub fn build(drafts: impl IntoIterator<Item = AuditDraft>) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    for d in drafts {
        let head = out.last().map(AuditRecord::head);
        out.push(next_record(head.as_ref(), d));
    }
    out
}

pub fn chain(n: u64) -> Vec<AuditRecord> {
    build((0..n).map(draft))
}

/// A record with every optional member present and awkward characters.
pub fn rich_draft() -> AuditDraft {
    let mut d = draft(1);
    d.outcome = Some("escalated".into());
    d.rationale = vec![
        "keyword:\"unlock\"".into(),
        "tab\there".into(),
        "ünï€😀".into(),
    ];
    d.reason = Some("provider said\n503 \\ retry".into());
    d.details = BTreeMap::from([
        ("directory_action".into(), "reset".into()),
        ("count/tickets".into(), "12".into()),
        ("ctl".into(), "\u{1}\u{7f}".into()),
    ]);
    d
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>())
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    // Years 1970-9999; sub-second parts of every precision the format keeps.
    let nanos = prop_oneof![
        Just(0u32),
        (0u32..1000).prop_map(|ms| ms * 1_000_000),
        (0u32..1_000_000).prop_map(|us| us * 1_000),
        0u32..1_000_000_000,
    ];
    (0i64..253_402_300_800, nanos)
        .prop_map(|(secs, nanos)| Utc.timestamp_opt(secs, nanos).single().unwrap())
}

fn chain_scope() -> impl Strategy<Value = ChainScope> {
    prop_oneof![
        Just(ChainScope::Platform),
        "[a-z0-9][a-z0-9-]{2,12}".prop_map(|t| ChainScope::Tenant(TenantId::parse(&t).unwrap())),
    ]
}

fn ticket_id() -> impl Strategy<Value = TicketId> {
    "[0-7][0-9A-HJKMNP-TV-Z]{25}".prop_map(|s| TicketId::parse(&s).unwrap())
}

/// Arbitrary drafts, with arbitrary Unicode (controls included) in every
/// free-text field.
pub fn any_draft() -> impl Strategy<Value = AuditDraft> {
    let head = (
        chain_scope(),
        any::<String>(),
        time(),
        (
            any::<String>(),
            proptest::sample::select(Role::ALL.to_vec()),
        ),
        prop_oneof![
            Just(INTENT_ACTION.to_owned()),
            Just(OUTCOME_ACTION.to_owned()),
            any::<String>()
        ],
        "[!-~]{1,40}",
    );
    let tail = (
        proptest::option::of(ticket_id()),
        opt_text(),
        opt_text(),
        opt_text(),
        proptest::collection::vec(any::<String>(), 0..4),
        opt_text(),
        proptest::collection::btree_map(any::<String>(), any::<String>(), 0..4),
    );
    (head, tail).prop_map(
        |(
            (chain, event_id, time, (subject, role), action, corr),
            (ticket_id, old_state, new_state, outcome, rationale, reason, details),
        )| AuditDraft {
            chain,
            event_id,
            time,
            actor: Actor::with_role(subject, role),
            action,
            ticket_id,
            old_state,
            new_state,
            outcome,
            rationale,
            reason,
            correlation_id: CorrelationId::parse(&corr).unwrap(),
            details,
        },
    )
}

/// Arbitrary drafts of one chain, so they can be appended together.
pub fn any_drafts(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<AuditDraft>> {
    (chain_scope(), proptest::collection::vec(any_draft(), len)).prop_map(|(chain, mut drafts)| {
        for d in &mut drafts {
            d.chain = chain.clone();
        }
        drafts
    })
}

/// Number of distinct field edits `mutate` knows.
pub const MUTATIONS: usize = 16;

/// Changes one field of a record (picked by `which`) to a different value.
pub fn mutate(r: &mut AuditRecord, which: usize) {
    fn other(s: &Option<String>) -> Option<String> {
        match s {
            Some(v) => Some(format!("{v}x")),
            None => Some(String::new()),
        }
    }
    match which % MUTATIONS {
        0 => {
            r.chain = match &r.chain {
                ChainScope::Platform => demo_chain(),
                ChainScope::Tenant(_) => ChainScope::Platform,
            }
        }
        1 => r.seq = r.seq.wrapping_add(1_000_000),
        2 => r.prev_hash = flip_hex(&r.prev_hash),
        3 => r.event_id.push('x'),
        4 => r.time += chrono::Duration::nanoseconds(1),
        5 => r.actor.subject.push('x'),
        6 => r.actor.role.push('x'),
        7 => r.action.push('x'),
        8 => {
            r.ticket_id = match r.ticket_id {
                Some(t) if t == ticket(1) => Some(ticket(2)),
                _ => Some(ticket(1)),
            }
        }
        9 => r.old_state = other(&r.old_state),
        10 => r.new_state = other(&r.new_state),
        11 => r.outcome = other(&r.outcome),
        12 => r.rationale.push("extra".into()),
        13 => r.reason = other(&r.reason),
        14 => {
            let c = format!("{}x", r.correlation_id);
            let c = if c.len() > 128 { "short".to_owned() } else { c };
            let c = if c == r.correlation_id.as_str() {
                "other".to_owned()
            } else {
                c
            };
            r.correlation_id = CorrelationId::parse(&c).unwrap();
        }
        _ => {
            let len = r.details.len();
            r.details.insert(format!("added-{len}"), "1".into());
        }
    }
}

/// The same hex string with its first digit changed.
pub fn flip_hex(h: &str) -> String {
    let mut chars: Vec<char> = h.chars().collect();
    if let Some(c) = chars.first_mut() {
        *c = if *c == '0' { '1' } else { '0' };
    } else {
        chars.push('0');
    }
    chars.into_iter().collect()
}
