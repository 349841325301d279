//! Fixed-window rate limits for automated actions, per target account and
//! per tenant, as atomic counters in the tenants table (`RATE#...` items
//! that expire by TTL). A refused consume tells how long until the window ends.

use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, Utc};
use zerodesk_domain::{AccountRef, TenantScope};

use crate::error::{StoreError, from_sdk};
use crate::item::{EXPIRES_AT, EXPIRY_DAY, PK, SK, n, s};

const WINDOW_SECONDS: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateBucket {
    /// Automated actions on one directory account.
    Account(AccountRef),
    /// Automated actions across the tenant.
    Tenant,
    /// Answers to the verification page from one client address.
    PageClient(String),
}

impl RateBucket {
    pub(crate) fn name(&self) -> String {
        match self {
            RateBucket::Account(a) => format!("account#{a}"),
            RateBucket::Tenant => "tenant".to_owned(),
            RateBucket::PageClient(address) => format!("page-client#{address}"),
        }
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

    /// Counts one action against `bucket` if fewer than `limit` ran this hour.
    pub async fn consume(
        &self,
        scope: &TenantScope,
        bucket: &RateBucket,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        let window_start = now.timestamp() - now.timestamp().rem_euclid(WINDOW_SECONDS);
        let window_end = window_start + WINDOW_SECONDS;
        let expires = DateTime::from_timestamp(window_end, 0).unwrap_or(now) + Duration::hours(1);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(format!("RATE#{}#{window_start}", bucket.name())))
            .update_expression("ADD #count :one SET #expires = :expires, #day = :day")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#day", EXPIRY_DAY)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":expires", n(expires.timestamp()))
            .expression_attribute_values(":day", s(expires.format("%Y-%m-%d").to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match from_sdk(e, StoreError::Conflict) {
                StoreError::Conflict => Err(RateLimitError::Limited {
                    retry_after_seconds: u64::try_from((window_end - now.timestamp()).max(1))
                        .unwrap_or(1),
                }),
                other => Err(other.into()),
            },
        }
    }
}
