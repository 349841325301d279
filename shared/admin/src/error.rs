//! What an admin use case tells its caller went wrong, in its own words.
//! The mapping to an HTTP status and stable code is `zerodesk-http`'s; the
//! failures of the ports underneath are kept as sources, never as text.

use zerodesk_crypto::SecretsError;
use zerodesk_ledger::LedgerError;
use zerodesk_store::{GateError, StoreError};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("the tenant is not active")]
    TenantInactive,
    #[error("invalid value for '{field}': {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("too many changes; retry after {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    /// The directory refused what zerodesk needs; `missing` are the
    /// provider's own names for it.
    #[error("the directory connection is missing: {}", missing.join(", "))]
    ConnectionIncomplete { missing: Vec<String> },
    /// The directory could not resolve a protected account or group.
    #[error("invalid value in '{field}': {entry} {reason}")]
    Unresolved {
        field: &'static str,
        entry: String,
        reason: &'static str,
    },
    #[error("a dependency is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl AdminError {
    pub(crate) fn invalid(field: &'static str, reason: &'static str) -> Self {
        AdminError::Invalid { field, reason }
    }

    /// Whether the same request may succeed later unchanged.
    pub fn is_transient(&self) -> bool {
        matches!(self, AdminError::Unavailable(_))
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists => AdminError::Conflict("the tenant already exists"),
            StoreError::Conflict => AdminError::Conflict("the resource changed; reload and retry"),
            StoreError::BadCursor => AdminError::invalid("cursor", "is not a valid cursor"),
            StoreError::Corrupt(_) => AdminError::Internal("a stored item is corrupt"),
            e => AdminError::Unavailable(Box::new(e)),
        }
    }
}

impl From<LedgerError> for AdminError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::BadCursor => AdminError::invalid("cursor", "is not a valid cursor"),
            LedgerError::Unreadable { .. } | LedgerError::Corrupt(_) => {
                AdminError::Internal("the audit trail has an unreadable record; run verify")
            }
            e => AdminError::Unavailable(Box::new(e)),
        }
    }
}

impl From<SecretsError> for AdminError {
    fn from(e: SecretsError) -> Self {
        AdminError::Unavailable(Box::new(e))
    }
}

impl From<GateError> for AdminError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::Unknown | GateError::Inactive => AdminError::TenantInactive,
            GateError::Store(e) => AdminError::Unavailable(Box::new(e)),
        }
    }
}
