//! Fixed-window rate limits as atomic counters (`RATE#...` items that
//! expire by TTL): automated actions per target account and per tenant (an
//! hour), page answers per client address (an hour), and write requests per
//! caller and per tenant (a minute). A refused consume tells how long until
//! the window ends.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::Update;
use chrono::{DateTime, Duration, Utc};
use zerodesk_domain::{AccountRef, TenantScope};

use crate::error::{StoreError, from_sdk};
use crate::item::{EXPIRES_AT, EXPIRY_DAY, Item, PK, SK, n, s};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateBucket {
    /// Automated actions on one directory account.
    Account(AccountRef),
    /// Automated actions across the tenant.
    Tenant,
    /// Answers to the verification page from one client address.
    PageClient(String),
    /// Write requests of one caller (a token's subject) to one group of
    /// routes (`filing`, `actions`, `admin`), each group counted apart.
    Caller {
        routes: &'static str,
        subject: String,
    },
    /// Write requests across the tenant to one group of routes.
    TenantWrites { routes: &'static str },
}

impl RateBucket {
    pub(crate) fn name(&self) -> String {
        match self {
            RateBucket::Account(a) => format!("account#{a}"),
            RateBucket::Tenant => "tenant".to_owned(),
            RateBucket::PageClient(address) => format!("page-client#{address}"),
            RateBucket::Caller { routes, subject } => format!("caller#{routes}#{subject}"),
            RateBucket::TenantWrites { routes } => format!("tenant-writes#{routes}"),
        }
    }

    /// How long one counting window lasts.
    pub fn window_seconds(&self) -> i64 {
        match self {
            RateBucket::Caller { .. } | RateBucket::TenantWrites { .. } => 60,
            RateBucket::Account(_) | RateBucket::Tenant | RateBucket::PageClient(_) => 3600,
        }
    }

    /// The start of the window `now` falls in, and the seconds until it ends.
    pub(crate) fn window(&self, now: DateTime<Utc>) -> (i64, u64) {
        let length = self.window_seconds();
        let start = now.timestamp() - now.timestamp().rem_euclid(length);
        let left = u64::try_from((start + length - now.timestamp()).max(1)).unwrap_or(1);
        (start, left)
    }
}

/// One counter increment, conditional on the limit: what `consume` sends
/// alone and a transaction sends beside other writes.
pub(crate) struct CounterIncrement {
    pub key: Item,
    pub retry_after_seconds: u64,
    values: Item,
}

const COUNT_UPDATE: &str = "ADD #count :one SET #expires = :expires, #day = :day";
const UNDER_LIMIT: &str = "attribute_not_exists(#count) OR #count < :limit";

impl CounterIncrement {
    pub(crate) fn new(
        scope: &TenantScope,
        bucket: &RateBucket,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Self {
        let (window_start, retry_after_seconds) = bucket.window(now);
        let window_end = window_start + bucket.window_seconds();
        let expires = DateTime::from_timestamp(window_end, 0).unwrap_or(now) + Duration::hours(1);
        Self {
            key: Item::from([
                (PK.to_owned(), s(scope.partition_key())),
                (
                    SK.to_owned(),
                    s(format!("RATE#{}#{window_start}", bucket.name())),
                ),
            ]),
            retry_after_seconds,
            values: Item::from([
                (":one".to_owned(), n(1)),
                (":limit".to_owned(), n(limit)),
                (":expires".to_owned(), n(expires.timestamp())),
                (":day".to_owned(), s(expires.format("%Y-%m-%d").to_string())),
            ]),
        }
    }

    fn names() -> std::collections::HashMap<String, String> {
        [
            ("#count", "count"),
            ("#expires", EXPIRES_AT),
            ("#day", EXPIRY_DAY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The increment as one item of a `TransactWriteItems`.
    pub(crate) fn transact_update(self, table: &str) -> Result<Update, StoreError> {
        Update::builder()
            .table_name(table)
            .set_key(Some(self.key))
            .update_expression(COUNT_UPDATE)
            .condition_expression(UNDER_LIMIT)
            .set_expression_attribute_names(Some(Self::names()))
            .set_expression_attribute_values(Some(self.values))
            .build()
            .map_err(|e| StoreError::Corrupt(format!("counter update: {e}")))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("rate limit reached; retry after {retry_after_seconds} s")]
    Limited { retry_after_seconds: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct RateLimiter {
    client: Client,
    table: String,
}

impl RateLimiter {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Counts one action against `bucket` if fewer than `limit` ran in its
    /// window.
    pub async fn consume(
        &self,
        scope: &TenantScope,
        bucket: &RateBucket,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        let increment = CounterIncrement::new(scope, bucket, limit, now);
        let retry_after_seconds = increment.retry_after_seconds;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(increment.key))
            .update_expression(COUNT_UPDATE)
            .condition_expression(UNDER_LIMIT)
            .set_expression_attribute_names(Some(CounterIncrement::names()))
            .set_expression_attribute_values(Some(increment.values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match from_sdk(e, StoreError::Conflict) {
                StoreError::Conflict => Err(RateLimitError::Limited {
                    retry_after_seconds,
                }),
                other => Err(other.into()),
            },
        }
    }
}
