//! What can go wrong in a ticket use case, in the workflow's own words.
//! Upstream failures keep their `#[source]` chain for logs; the mapping to
//! HTTP status and stable code lives in the HTTP edge crate, not here.

use zerodesk_store::{IdempotencyError, RateLimitError, StoreError};

use crate::access::ActionRefusal;
use zerodesk_store::GateError;

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("not found")]
    NotFound,
    #[error("the caller's role may not do this")]
    Forbidden,
    #[error("the tenant is not active")]
    TenantInactive,
    #[error("invalid {field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error(transparent)]
    Refused(#[from] ActionRefusal),
    #[error("the ticket changed concurrently")]
    Conflict,
    #[error("the same request is already in progress")]
    InProgress,
    #[error("the idempotency key was used for another request")]
    KeyReused,
    #[error("rate limit reached")]
    RateLimited { retry_after_seconds: u64 },
    #[error("the directory refused or failed the action; the ticket was escalated")]
    Escalated {
        reason: &'static str,
        provider_fault: bool,
    },
    #[error("storage failed")]
    Store(#[source] StoreError),
    #[error("publishing events failed")]
    Events(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("credentials unavailable")]
    Credentials(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for WorkflowError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict | StoreError::AlreadyExists => WorkflowError::Conflict,
            StoreError::BadCursor => WorkflowError::Invalid {
                field: "cursor",
                reason: "is not a valid cursor",
            },
            StoreError::Credentials(e) => WorkflowError::Credentials(e),
            other => WorkflowError::Store(other),
        }
    }
}

impl From<GateError> for WorkflowError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::Unknown | GateError::Inactive => WorkflowError::TenantInactive,
            GateError::Store(s) => s.into(),
        }
    }
}

impl From<IdempotencyError> for WorkflowError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::InProgress => WorkflowError::InProgress,
            IdempotencyError::PayloadMismatch => WorkflowError::KeyReused,
            IdempotencyError::Store(s) => s.into(),
        }
    }
}

impl From<RateLimitError> for WorkflowError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited {
                retry_after_seconds,
            } => WorkflowError::RateLimited {
                retry_after_seconds,
            },
            RateLimitError::Store(s) => s.into(),
        }
    }
}

impl WorkflowError {
    /// Whether running the same use case again later may succeed without
    /// anyone changing anything: storage, the event bus or the tenant's
    /// credentials failed, or the same action is still running elsewhere.
    /// Refusals, escalations and bad input are final.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            WorkflowError::Store(_)
                | WorkflowError::Events(_)
                | WorkflowError::Credentials(_)
                | WorkflowError::InProgress
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dependency_failures_and_a_running_duplicate_are_transient() {
        assert!(WorkflowError::InProgress.is_transient());
        assert!(WorkflowError::Store(StoreError::Unavailable("down".into())).is_transient());
        assert!(WorkflowError::Events("down".into()).is_transient());
        assert!(WorkflowError::Credentials("expired".into()).is_transient());
        assert!(!WorkflowError::NotFound.is_transient());
        assert!(!WorkflowError::Refused(ActionRefusal::NotAutomated).is_transient());
        assert!(
            !WorkflowError::Escalated {
                reason: "directory timed out",
                provider_fault: true
            }
            .is_transient()
        );
        assert!(
            !WorkflowError::RateLimited {
                retry_after_seconds: 60
            }
            .is_transient()
        );
    }

    #[test]
    fn tenant_credentials_that_cannot_be_had_stay_a_credentials_failure() {
        let e: WorkflowError = StoreError::Credentials("denied".into()).into();
        assert!(matches!(e, WorkflowError::Credentials(_)));
    }
}
