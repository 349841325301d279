//! The DynamoDB form of an audit record: one attribute per record field (so
//! every field can be read, filtered and, by an attacker, altered on its own),
//! plus the TTL pair and `time_ms` for range filters. Neither of those is
//! hashed: they steer retention and queries, never what a record says.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use zerodesk_audit::{Actor, AuditRecord, ChainScope};
use zerodesk_domain::{CorrelationId, TicketId};

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";
pub(crate) const EXPIRES_AT: &str = "expires_at";
pub(crate) const EXPIRY_DAY: &str = "expiry_day";

pub(crate) const SEQ_PREFIX: &str = "SEQ#";
pub(crate) const EVENT_PREFIX: &str = "EVENT#";

pub(crate) const SEQ: &str = "seq";
const PREV_HASH: &str = "prev_hash";
const EVENT_ID: &str = "event_id";
const TIME: &str = "time";
pub(crate) const TIME_MS: &str = "time_ms";
pub(crate) const ACTOR_SUBJECT: &str = "actor_subject";
const ACTOR_ROLE: &str = "actor_role";
const ACTION: &str = "action";
pub(crate) const TICKET_ID: &str = "ticket_id";
const OLD_STATE: &str = "old_state";
const NEW_STATE: &str = "new_state";
const OUTCOME: &str = "outcome";
const RATIONALE: &str = "rationale";
const REASON: &str = "reason";
const CORRELATION_ID: &str = "correlation_id";
const DETAILS: &str = "details";
pub(crate) const HASH: &str = "hash";

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// `SEQ#` and 20 digits: every u64 fits, and sort keys sort numerically.
pub(crate) fn seq_key(seq: u64) -> String {
    format!("{SEQ_PREFIX}{seq:020}")
}

pub(crate) fn event_key(event_id: &str) -> String {
    format!("{EVENT_PREFIX}{event_id}")
}

pub(crate) fn seq_from_key(sk: &str) -> Option<u64> {
    sk.strip_prefix(SEQ_PREFIX)?.parse().ok()
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

pub(crate) fn expiry(at: DateTime<Utc>) -> [(String, AttributeValue); 2] {
    [
        (EXPIRES_AT.to_owned(), n(at.timestamp())),
        (EXPIRY_DAY.to_owned(), s(at.format("%Y-%m-%d").to_string())),
    ]
}

pub(crate) fn record_item(record: &AuditRecord, expires_at: DateTime<Utc>) -> Item {
    let mut item = Item::from([
        (PK.to_owned(), s(record.chain.key())),
        (SK.to_owned(), s(seq_key(record.seq))),
        (SEQ.to_owned(), n(record.seq)),
        (PREV_HASH.to_owned(), s(&record.prev_hash)),
        (EVENT_ID.to_owned(), s(&record.event_id)),
        (
            TIME.to_owned(),
            s(record.time.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        ),
        (TIME_MS.to_owned(), n(record.time.timestamp_millis())),
        (ACTOR_SUBJECT.to_owned(), s(&record.actor.subject)),
        (ACTOR_ROLE.to_owned(), s(&record.actor.role)),
        (ACTION.to_owned(), s(&record.action)),
        (CORRELATION_ID.to_owned(), s(record.correlation_id.as_str())),
        (HASH.to_owned(), s(&record.hash)),
    ]);
    let optional = [
        (TICKET_ID, record.ticket_id.map(|t| t.to_string())),
        (OLD_STATE, record.old_state.clone()),
        (NEW_STATE, record.new_state.clone()),
        (OUTCOME, record.outcome.clone()),
        (REASON, record.reason.clone()),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            item.insert(name.to_owned(), s(v));
        }
    }
    if !record.rationale.is_empty() {
        item.insert(
            RATIONALE.to_owned(),
            AttributeValue::L(record.rationale.iter().map(s).collect()),
        );
    }
    if !record.details.is_empty() {
        item.insert(
            DETAILS.to_owned(),
            AttributeValue::M(
                record
                    .details
                    .iter()
                    .map(|(k, v)| (k.clone(), s(v)))
                    .collect(),
            ),
        );
    }
    item.extend(expiry(expires_at));
    item
}

pub(crate) fn marker_item(
    chain: &ChainScope,
    event_id: &str,
    seq: u64,
    expires_at: DateTime<Utc>,
) -> Item {
    let mut item = Item::from([
        (PK.to_owned(), s(chain.key())),
        (SK.to_owned(), s(event_key(event_id))),
        (SEQ.to_owned(), n(seq)),
    ]);
    item.extend(expiry(expires_at));
    item
}

/// Reads a record back. Any attribute missing or malformed makes the whole
/// item unreadable (`None`): a record is evidence, it is never half-parsed.
pub(crate) fn record_from_item(item: &Item) -> Option<AuditRecord> {
    let opt = |name: &str| -> Option<Option<String>> {
        match item.get(name) {
            None => Some(None),
            Some(v) => v.as_s().ok().map(|s| Some(s.clone())),
        }
    };
    let ticket_id = match opt(TICKET_ID)? {
        None => None,
        Some(raw) => Some(TicketId::parse(&raw).ok()?),
    };
    let rationale = match item.get(RATIONALE) {
        None => Vec::new(),
        Some(v) => v
            .as_l()
            .ok()?
            .iter()
            .map(|e| e.as_s().ok().cloned())
            .collect::<Option<Vec<String>>>()?,
    };
    let details = match item.get(DETAILS) {
        None => BTreeMap::new(),
        Some(v) => v
            .as_m()
            .ok()?
            .iter()
            .map(|(k, e)| e.as_s().ok().map(|s| (k.clone(), s.clone())))
            .collect::<Option<BTreeMap<String, String>>>()?,
    };
    let time = DateTime::parse_from_rfc3339(get_s(item, TIME)?)
        .ok()?
        .with_timezone(&Utc);
    Some(AuditRecord {
        chain: ChainScope::parse(get_s(item, PK)?).ok()?,
        seq: get_n(item, SEQ)?,
        prev_hash: get_s(item, PREV_HASH)?.to_owned(),
        event_id: get_s(item, EVENT_ID)?.to_owned(),
        time,
        actor: Actor::new(get_s(item, ACTOR_SUBJECT)?, get_s(item, ACTOR_ROLE)?),
        action: get_s(item, ACTION)?.to_owned(),
        ticket_id,
        old_state: opt(OLD_STATE)?,
        new_state: opt(NEW_STATE)?,
        outcome: opt(OUTCOME)?,
        rationale,
        reason: opt(REASON)?,
        correlation_id: CorrelationId::parse(get_s(item, CORRELATION_ID)?).ok()?,
        details,
        hash: get_s(item, HASH)?.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerodesk_audit::{AuditDraft, next_record};
    use zerodesk_domain::TenantId;

    fn record() -> AuditRecord {
        let mut draft = AuditDraft::new(
            ChainScope::Tenant(TenantId::parse("demo").unwrap()),
            "ev-1",
            DateTime::parse_from_rfc3339("2026-11-22T06:00:00.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            Actor::new("pseud_ab", "tenant_user"),
            "TicketStateChanged",
            CorrelationId::parse("corr-1").unwrap(),
        );
        draft.ticket_id = Some(TicketId::generate());
        draft.old_state = Some("created".into());
        draft.new_state = Some("triaged".into());
        draft.rationale = vec!["'locked out'".into(), "self".into()];
        draft.details.insert("k".into(), "v".into());
        next_record(None, draft)
    }

    #[test]
    fn a_record_round_trips_through_its_item_and_still_verifies() {
        let r = record();
        let item = record_item(&r, r.time);
        let back = record_from_item(&item).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.compute_hash(), r.hash);
        assert_eq!(get_s(&item, SK).unwrap(), "SEQ#00000000000000000001");
    }

    #[test]
    fn a_malformed_attribute_makes_the_item_unreadable() {
        let r = record();
        let mut item = record_item(&r, r.time);
        item.insert(TICKET_ID.into(), s("not-a-ulid"));
        assert!(record_from_item(&item).is_none());
        let mut item = record_item(&r, r.time);
        item.remove(HASH);
        assert!(record_from_item(&item).is_none());
    }

    #[test]
    fn sequence_keys_sort_numerically() {
        assert!(seq_key(9) < seq_key(10));
        assert!(seq_key(99) < seq_key(100));
        assert_eq!(seq_from_key(&seq_key(u64::MAX)), Some(u64::MAX));
    }
}
