//! The audit repository: appends to a chain with conditional writes and reads
//! chains back in seq order. An append writes the record (`SEQ#<seq>`) and the
//! event's dedupe marker (`EVENT#<event id>`) in one transaction, both only if
//! absent, so a lost race is retried from the new head and a redelivered
//! event is written once. Nothing here updates or deletes an audit item.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::Rng;
use zerodesk_audit::{AuditDraft, AuditRecord, ChainHead, ChainScope, next_record};
use zerodesk_domain::TicketId;

use crate::error::{LedgerError, from_sdk};
use crate::item::{
    ACTOR_SUBJECT, HASH, Item, PK, SEQ, SEQ_PREFIX, SK, TICKET_ID, TIME_MS, event_key, get_n,
    get_s, marker_item, n, record_from_item, record_item, s, seq_from_key, seq_key,
};

/// Attempts before an append gives up and lets EventBridge redeliver.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 60;
/// Largest page `page` returns.
pub const MAX_AUDIT_PAGE: usize = 200;
pub(crate) const DEFAULT_AUDIT_PAGE: usize = 50;
/// Queries one `page` call may make while filters discard items.
const MAX_QUERIES_PER_PAGE: usize = 10;
const READ_ALL_PAGE: usize = 500;

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// The event is now this record of the chain.
    New(Box<AuditRecord>),
    /// The event was appended before (at `seq`); nothing was written.
    Duplicate { seq: u64 },
}

/// Filters of `GET /audit`. All optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub ticket_id: Option<TicketId>,
    /// The actor subject as stored (a pseudonym for account-shaped subjects).
    pub actor_subject: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPageRequest {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// Oldest first (ascending seq).
    pub records: Vec<AuditRecord>,
    pub next_cursor: Option<String>,
}

/// One stored item of a chain: the seq of its sort key (its position) and
/// the record, or `None` when the item does not parse (which verification
/// reports as altered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub key_seq: u64,
    pub record: Option<AuditRecord>,
}

#[derive(Debug, Clone)]
pub struct AuditRepo {
    client: Client,
    table: String,
    max_attempts: u32,
    /// The last head this container wrote or read, per chain. Only a hint:
    /// the conditional write decides, and a taken seq sends us to the table.
    heads: Arc<Mutex<HashMap<ChainScope, ChainHead>>>,
}

fn valid_event_id(id: &str) -> bool {
    (1..=256).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

impl AuditRepo {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            heads: Arc::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The same repository (table, head cache) over another client: the
    /// tenant-scoped one of the chain's tenant.
    pub fn with_client(&self, client: Client) -> Self {
        Self {
            client,
            ..self.clone()
        }
    }

    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The newest record's seq and hash, read consistently.
    pub async fn head(&self, chain: &ChainScope) -> Result<Option<ChainHead>, LedgerError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(chain.key()))
            .expression_attribute_values(":prefix", s(SEQ_PREFIX))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        let Some(item) = out.items().first() else {
            return Ok(None);
        };
        let seq = get_s(item, SK)
            .and_then(seq_from_key)
            .ok_or(LedgerError::Corrupt("audit sort key"))?;
        // A head whose hash is unreadable still links: verification reports it.
        let hash = get_s(item, HASH).unwrap_or_default().to_owned();
        Ok(Some(ChainHead { seq, hash }))
    }

    /// Appends `draft` to its chain unless its event id is already there.
    /// Concurrent appenders race on the next seq; the loser rebuilds from the
    /// new head, up to the attempt limit (then `Contention`, retryable).
    pub async fn append(
        &self,
        draft: AuditDraft,
        expires_at: DateTime<Utc>,
    ) -> Result<Appended, LedgerError> {
        if !valid_event_id(&draft.event_id) {
            return Err(LedgerError::InvalidEventId);
        }
        for attempt in 0..self.max_attempts {
            let cached = self.cached_head(&draft.chain);
            let head = match cached.clone() {
                Some(h) => Some(h),
                None => self.head(&draft.chain).await?,
            };
            let record = next_record(head.as_ref(), draft.clone());
            match self.try_write(&record, expires_at).await? {
                Written::Yes => {
                    self.remember_head(&draft.chain, Some(record.head()));
                    return Ok(Appended::New(Box::new(record)));
                }
                // Another writer took this seq: rebuild from the table's head.
                Written::SeqTaken => {
                    self.remember_head(&draft.chain, None);
                    if cached.is_some() {
                        continue;
                    }
                }
                Written::DuplicateEvent | Written::Unknown => {
                    self.remember_head(&draft.chain, None);
                    if let Some(seq) = self.marker_seq(&draft.chain, &draft.event_id).await? {
                        return Ok(Appended::Duplicate { seq });
                    }
                }
            }
            backoff(attempt).await;
        }
        Err(LedgerError::Contention {
            attempts: self.max_attempts,
        })
    }

    fn cached_head(&self, chain: &ChainScope) -> Option<ChainHead> {
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(chain)
            .cloned()
    }

    fn remember_head(&self, chain: &ChainScope, head: Option<ChainHead>) {
        let mut heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        match head {
            Some(h) => heads.insert(chain.clone(), h),
            None => heads.remove(chain),
        };
    }

    async fn try_write(
        &self,
        record: &AuditRecord,
        expires_at: DateTime<Utc>,
    ) -> Result<Written, LedgerError> {
        let put = |item: Item| -> Result<TransactWriteItem, LedgerError> {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|_| LedgerError::Corrupt("transaction put"))?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put(record_item(record, expires_at))?)
            .transact_items(put(marker_item(
                &record.chain,
                &record.event_id,
                record.seq,
                expires_at,
            ))?)
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(Written::Yes),
            Err(err) => err,
        };
        match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
                let failed = |i: usize| {
                    e.cancellation_reasons()
                        .get(i)
                        .and_then(|r| r.code())
                        .is_some_and(|c| c == "ConditionalCheckFailed")
                };
                Ok(if failed(1) {
                    Written::DuplicateEvent
                } else if failed(0) {
                    Written::SeqTaken
                } else {
                    // Reasons missing, or a transaction conflict: look and retry.
                    Written::Unknown
                })
            }
            Some(TransactWriteItemsError::TransactionInProgressException(_)) => {
                Ok(Written::Unknown)
            }
            _ => Err(from_sdk(err)),
        }
    }

    /// The seq an event was appended at, if it was.
    pub async fn marker_seq(
        &self,
        chain: &ChainScope,
        event_id: &str,
    ) -> Result<Option<u64>, LedgerError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(chain.key()))
            .key(SK, s(event_key(event_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        match out.item() {
            None => Ok(None),
            Some(item) => get_n(item, SEQ)
                .map(Some)
                .ok_or(LedgerError::Corrupt("event marker")),
        }
    }

    /// One page of a chain, oldest first, filtered. The cursor holds only a
    /// seq; the chain comes from the caller, so a cursor cannot cross chains.
    pub async fn page(
        &self,
        chain: &ChainScope,
        filter: &AuditFilter,
        page: &AuditPageRequest,
    ) -> Result<AuditPage, LedgerError> {
        let limit = page
            .limit
            .unwrap_or(DEFAULT_AUDIT_PAGE)
            .clamp(1, MAX_AUDIT_PAGE);
        let mut after = match &page.cursor {
            Some(c) => Some(decode_cursor(c)?),
            None => None,
        };
        let mut records = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let want = limit - records.len();
            let (items, next) = self.query_records(chain, filter, after, want).await?;
            for item in &items {
                let seq = get_s(item, SK).and_then(seq_from_key).unwrap_or(0);
                records.push(record_from_item(item).ok_or(LedgerError::Unreadable { seq })?);
            }
            match next {
                None => {
                    return Ok(AuditPage {
                        records,
                        next_cursor: None,
                    });
                }
                Some(seq) => after = Some(seq),
            }
            if records.len() >= limit {
                break;
            }
        }
        Ok(AuditPage {
            records,
            next_cursor: after.map(encode_cursor),
        })
    }

    /// Every record of a chain (within the filter), in seq order, read
    /// consistently; items that do not parse are returned as their seq.
    pub async fn read_all(
        &self,
        chain: &ChainScope,
        filter: &AuditFilter,
    ) -> Result<Vec<StoredRecord>, LedgerError> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let (items, next) = self
                .query_records(chain, filter, after, READ_ALL_PAGE)
                .await?;
            for item in &items {
                let seq = get_s(item, SK).and_then(seq_from_key).unwrap_or(0);
                out.push(StoredRecord {
                    key_seq: seq,
                    record: record_from_item(item),
                });
            }
            match next {
                None => return Ok(out),
                Some(seq) => after = Some(seq),
            }
        }
    }

    /// Items after `after` (exclusive), at most `limit` evaluated, and the
    /// seq to continue after when DynamoDB has more (past items the filter
    /// discarded too, so a page of filtered-out items still moves forward).
    async fn query_records(
        &self,
        chain: &ChainScope,
        filter: &AuditFilter,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Item>, Option<u64>), LedgerError> {
        let low = match after {
            Some(seq) => seq_key(seq.saturating_add(1)),
            None => seq_key(0),
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :low AND :high")
            .expression_attribute_values(":pk", s(chain.key()))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(seq_key(u64::MAX)))
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(500));
        let mut conditions = Vec::new();
        if let Some(from) = filter.from {
            conditions.push("#time_ms >= :from");
            request = request.expression_attribute_values(":from", n(from.timestamp_millis()));
        }
        if let Some(to) = filter.to {
            conditions.push("#time_ms <= :to");
            request = request.expression_attribute_values(":to", n(to.timestamp_millis()));
        }
        if filter.from.is_some() || filter.to.is_some() {
            request = request.expression_attribute_names("#time_ms", TIME_MS);
        }
        if let Some(ticket) = &filter.ticket_id {
            conditions.push("#ticket = :ticket");
            request = request
                .expression_attribute_names("#ticket", TICKET_ID)
                .expression_attribute_values(":ticket", s(ticket.to_string()));
        }
        if let Some(actor) = &filter.actor_subject {
            conditions.push("#actor = :actor");
            request = request
                .expression_attribute_names("#actor", ACTOR_SUBJECT)
                .expression_attribute_values(":actor", s(actor));
        }
        if !conditions.is_empty() {
            request = request.filter_expression(conditions.join(" AND "));
        }
        let out = request.send().await.map_err(from_sdk)?;
        let next = match out.last_evaluated_key() {
            None => None,
            Some(last) => Some(
                last.get(SK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|sk| seq_from_key(sk))
                    .ok_or(LedgerError::Corrupt("audit sort key"))?,
            ),
        };
        Ok((out.items().to_vec(), next))
    }
}

enum Written {
    Yes,
    DuplicateEvent,
    SeqTaken,
    Unknown,
}

/// Jittered exponential backoff: 2 ms doubling to at most ~250 ms.
async fn backoff(attempt: u32) {
    let cap = 2u64 << attempt.min(7);
    let ms = rand::thread_rng().gen_range(1..=cap);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

pub(crate) fn encode_cursor(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(seq.to_string())
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<u64, LedgerError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| LedgerError::BadCursor)?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(LedgerError::BadCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        assert!(matches!(decode_cursor("!!"), Err(LedgerError::BadCursor)));
        assert!(matches!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("x")),
            Err(LedgerError::BadCursor)
        ));
    }

    #[test]
    fn event_ids_must_be_printable_and_bounded() {
        assert!(valid_event_id("01J0ABC"));
        assert!(!valid_event_id(""));
        assert!(!valid_event_id("a b"));
        assert!(!valid_event_id(&"x".repeat(257)));
    }
}
