//! Ledger errors: what callers must tell apart (a duplicate is not an error,
//! contention and throttling are retryable, a corrupt item is not), never the
//! SDK's message text in a response.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the event id must be 1-256 printable ASCII characters")]
    InvalidEventId,
    #[error("the chain stayed contended after {attempts} attempts")]
    Contention { attempts: u32 },
    #[error("the table is throttling requests")]
    Throttled(#[source] BoxError),
    #[error("the table is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("the stored audit item at seq {seq} is unreadable")]
    Unreadable { seq: u64 },
    #[error("a stored item is not in the expected shape: {0}")]
    Corrupt(&'static str),
    #[error("the pagination cursor is not valid")]
    BadCursor,
    #[error("tenant-scoped credentials were refused")]
    Credentials(#[source] BoxError),
}

impl LedgerError {
    /// Whether trying again later may succeed: EventBridge should redeliver.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            LedgerError::Contention { .. }
                | LedgerError::Throttled(_)
                | LedgerError::Unavailable(_)
        )
    }
}

/// The tenant-scoped client could not be had: a credential refusal stays
/// one, anything else is the table being out of reach.
impl From<zerodesk_store::StoreError> for LedgerError {
    fn from(e: zerodesk_store::StoreError) -> Self {
        use zerodesk_store::StoreError;
        match e {
            StoreError::Credentials(source) => LedgerError::Credentials(source),
            StoreError::Throttled(source) => LedgerError::Throttled(source),
            StoreError::BadCursor => LedgerError::BadCursor,
            e => LedgerError::Unavailable(Box::new(e)),
        }
    }
}

const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

pub(crate) fn from_sdk<E, R>(err: SdkError<E, R>) -> LedgerError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some(c) if THROTTLING.contains(&c) => LedgerError::Throttled(Box::new(err)),
        _ => LedgerError::Unavailable(Box::new(err)),
    }
}
