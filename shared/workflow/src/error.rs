//! Workflow errors and their one mapping to API errors. Upstream failures
//! keep their `#[source]` chain for logs; responses get only the stable code.

use zerodesk_http::ApiError;
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
    #[error("the tenant has no directory connection; the ticket was escalated")]
    NoConnection,
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
    pub fn to_api(&self) -> ApiError {
        match self {
            WorkflowError::NotFound | WorkflowError::Refused(ActionRefusal::NotVisible) => {
                ApiError::NotFound
            }
            WorkflowError::Forbidden => ApiError::Forbidden,
            WorkflowError::TenantInactive => ApiError::TenantInactive,
            WorkflowError::Invalid { field, reason } => ApiError::invalid(*field, *reason),
            WorkflowError::Refused(r) => ApiError::PolicyRefused(r.to_string()),
            WorkflowError::Conflict => ApiError::Conflict,
            WorkflowError::InProgress => ApiError::Conflict,
            WorkflowError::KeyReused => ApiError::Conflict,
            WorkflowError::RateLimited {
                retry_after_seconds,
            } => ApiError::RateLimited {
                retry_after_seconds: *retry_after_seconds,
            },
            WorkflowError::Escalated {
                provider_fault: true,
                ..
            } => ApiError::DependencyUnavailable,
            WorkflowError::Escalated { reason, .. } => {
                ApiError::PolicyRefused(format!("escalated to a human: {reason}"))
            }
            WorkflowError::NoConnection => ApiError::PolicyRefused(
                "escalated to a human: the tenant has no directory connection".into(),
            ),
            WorkflowError::Store(e) if !e.is_retryable() => ApiError::Internal,
            WorkflowError::Store(_) | WorkflowError::Events(_) | WorkflowError::Credentials(_) => {
                ApiError::DependencyUnavailable
            }
        }
    }
}
