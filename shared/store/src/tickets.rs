//! The tickets repository. Keys: `pk = TENANT#<id>`, `sk = TICKET#<ulid>`;
//! the `by_requester` index serves a user's own tickets. Writes are
//! conditional: create never clobbers, updates name the state they expect.

use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, Utc};
use zerodesk_domain::{AccountRef, TenantScope, Ticket, TicketId, TicketState};

use crate::error::{StoreError, from_sdk};
use crate::item::{DOC, Item, PK, SK, doc, expiry, s, to_doc};
use crate::page::{Page, PageRequest, decode_cursor, encode_cursor};
use crate::rate_limit::{CounterIncrement, RateBucket, RateLimitError};

const BY_REQUESTER: &str = "by_requester";
const REQUESTER_KEY: &str = "requester_key";
const STATE: &str = "state";

#[derive(Debug, Clone)]
pub struct TicketRepo {
    client: Client,
    table: String,
}

fn sort_key(id: &TicketId) -> String {
    format!("TICKET#{id}")
}

fn requester_key(scope: &TenantScope, requester: &AccountRef) -> String {
    format!("{}#{}", scope.partition_key(), requester)
}

impl TicketRepo {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn item(
        scope: &TenantScope,
        ticket: &Ticket,
        retention_days: Option<u32>,
    ) -> Result<Item, StoreError> {
        if ticket.tenant_id != *scope.tenant() {
            // A ticket of another tenant can never be written through this scope.
            return Err(StoreError::Conflict);
        }
        let mut item = Item::from([
            (PK.to_owned(), s(scope.partition_key())),
            (SK.to_owned(), s(sort_key(&ticket.id))),
            (
                REQUESTER_KEY.to_owned(),
                s(requester_key(scope, &ticket.requester)),
            ),
            (STATE.to_owned(), s(ticket.state.as_str())),
            (DOC.to_owned(), to_doc(ticket)?),
        ]);
        if let (true, Some(days)) = (ticket.state.is_terminal(), retention_days) {
            let at: DateTime<Utc> = ticket.updated_at + Duration::days(i64::from(days));
            item.extend(expiry(at).map(|(k, v)| (k.to_owned(), v)));
        }
        Ok(item)
    }

    /// Stores a new ticket; fails with `AlreadyExists` if the id is taken.
    pub async fn create(&self, scope: &TenantScope, ticket: &Ticket) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(scope, ticket, None)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::AlreadyExists))?;
        Ok(())
    }

    /// Stores a new ticket and counts it against `limits` in one
    /// `TransactWriteItems`: the ticket is written only if every counter is
    /// under its limit, and a counter moves only if the ticket is written.
    /// The counters live in the tickets table beside the tenant's tickets.
    pub async fn create_counted(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        limits: &[(RateBucket, u32)],
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::item(scope, ticket, None)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Corrupt(format!("ticket put: {e}")))?;
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build());
        let mut waits = Vec::with_capacity(limits.len());
        for (bucket, limit) in limits {
            let increment = CounterIncrement::new(scope, bucket, *limit, now);
            waits.push(increment.retry_after_seconds);
            request = request.transact_items(
                TransactWriteItem::builder()
                    .update(increment.transact_update(&self.table)?)
                    .build(),
            );
        }
        let Err(err) = request.send().await else {
            return Ok(());
        };
        // Which condition failed: the ticket's (index 0) or a counter's.
        let failed: Vec<usize> = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
                .cancellation_reasons()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        };
        match failed.first() {
            Some(0) => Err(StoreError::AlreadyExists.into()),
            Some(i) => Err(RateLimitError::Limited {
                retry_after_seconds: waits.get(i - 1).copied().unwrap_or(60),
            }),
            None => Err(from_sdk(err, StoreError::Conflict).into()),
        }
    }

    pub async fn get(
        &self,
        scope: &TenantScope,
        id: &TicketId,
    ) -> Result<Option<Ticket>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(sort_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        out.item().map(doc).transpose()
    }

    /// Replaces a ticket whose stored state is still `expected`; a concurrent
    /// change makes this fail with `Conflict`. Terminal tickets get their TTL.
    pub async fn replace(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        expected: TicketState,
        retention_days: u32,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(scope, ticket, Some(retention_days))?))
            .condition_expression("attribute_exists(pk) AND #state = :expected")
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":expected", s(expected.as_str()))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    /// Every ticket of the tenant, newest first.
    pub async fn list(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, StoreError> {
        let start = page
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, &[SK], &[(PK, scope.partition_key())]))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(scope.partition_key()))
            .expression_attribute_values(":prefix", s("TICKET#"))
            .scan_index_forward(false)
            .limit(page.limit())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(Page {
            items: out.items().iter().map(doc).collect::<Result<_, _>>()?,
            next_cursor: out
                .last_evaluated_key()
                .and_then(|k| encode_cursor(k, &[SK])),
        })
    }

    /// The tickets one requester filed or that were filed for them, newest first.
    pub async fn list_for_requester(
        &self,
        scope: &TenantScope,
        requester: &AccountRef,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, StoreError> {
        let index_key = requester_key(scope, requester);
        let start = page
            .cursor
            .as_deref()
            .map(|c| {
                decode_cursor(
                    c,
                    &[SK],
                    &[
                        (PK, scope.partition_key()),
                        (REQUESTER_KEY, index_key.clone()),
                    ],
                )
            })
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_REQUESTER)
            .key_condition_expression("requester_key = :rk")
            .expression_attribute_values(":rk", s(index_key.clone()))
            .scan_index_forward(false)
            .limit(page.limit())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        let items: Vec<Ticket> = out.items().iter().map(doc).collect::<Result<_, _>>()?;
        // Defence in depth: the index key embeds the tenant, but check anyway.
        if items.iter().any(|t| t.tenant_id != *scope.tenant()) {
            return Err(StoreError::Corrupt(
                "index returned another tenant's ticket".into(),
            ));
        }
        Ok(Page {
            items,
            next_cursor: out
                .last_evaluated_key()
                .and_then(|k| encode_cursor(k, &[SK])),
        })
    }

    /// Deletes one ticket (retention, erasure). Deleting a missing ticket is not an error.
    pub async fn delete(&self, scope: &TenantScope, id: &TicketId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(sort_key(id)))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }
}

/// The ticket id in a stored sort key, for callers that walk keys only (the purge).
pub fn ticket_id_from_sort_key(sk: &str) -> Option<TicketId> {
    sk.strip_prefix("TICKET#")
        .and_then(|id| TicketId::parse(id).ok())
}
