//! Store errors: what callers must tell apart (not found, already exists, a
//! lost race, throttling, the table being unavailable), never the SDK's
//! message text in a response.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the item already exists")]
    AlreadyExists,
    #[error("the item changed since it was read")]
    Conflict,
    #[error("the table is throttling requests")]
    Throttled(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the table is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a stored item is not in the expected shape: {0}")]
    Corrupt(String),
    #[error("the pagination cursor is not valid")]
    BadCursor,
    /// The tenant-scoped credentials could not be obtained and retrying will not help.
    #[error("tenant-scoped credentials are unavailable")]
    Credentials(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Throttled(_) | StoreError::Unavailable(_))
    }
}

const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

/// Maps an SDK failure; a conditional-check failure becomes `on_condition`.
pub(crate) fn from_sdk<E, R>(err: SdkError<E, R>, on_condition: StoreError) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    match code.as_deref() {
        Some("ConditionalCheckFailedException") => on_condition,
        Some("TransactionCanceledException") if is_condition_cancel(&err) => on_condition,
        Some(c) if THROTTLING.contains(&c) => StoreError::Throttled(Box::new(err)),
        _ => StoreError::Unavailable(Box::new(err)),
    }
}

fn is_condition_cancel<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.message()
        .is_some_and(|m| m.contains("ConditionalCheckFailed"))
}
