//! The one mapping from the ticket use cases' errors to API errors. A
//! refusal to see a ticket is a 404 like a missing one; dependency failures
//! are 503; nothing of an upstream error's text reaches the response.

use zerodesk_workflow::{ActionRefusal, WorkflowError};

use crate::error::ApiError;

impl From<&WorkflowError> for ApiError {
    fn from(e: &WorkflowError) -> Self {
        match e {
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
            WorkflowError::Store(e) if !e.is_retryable() => ApiError::Internal,
            WorkflowError::Store(_) | WorkflowError::Events(_) | WorkflowError::Credentials(_) => {
                ApiError::DependencyUnavailable
            }
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        ApiError::from(&e)
    }
}

#[cfg(test)]
mod tests {
    use zerodesk_store::StoreError;

    use super::*;

    #[test]
    fn each_workflow_error_has_its_status_and_stable_code() {
        let cases: Vec<(WorkflowError, u16, &str)> = vec![
            (WorkflowError::NotFound, 404, "not_found"),
            (
                WorkflowError::Refused(ActionRefusal::NotVisible),
                404,
                "not_found",
            ),
            (WorkflowError::Forbidden, 403, "forbidden"),
            (WorkflowError::TenantInactive, 403, "tenant_inactive"),
            (
                WorkflowError::Invalid {
                    field: "subject",
                    reason: "must be 1 to 200 characters",
                },
                400,
                "invalid_input",
            ),
            (
                WorkflowError::Refused(ActionRefusal::NotAutomated),
                422,
                "policy_refused",
            ),
            (WorkflowError::Conflict, 409, "conflict"),
            (WorkflowError::InProgress, 409, "conflict"),
            (WorkflowError::KeyReused, 409, "conflict"),
            (
                WorkflowError::RateLimited {
                    retry_after_seconds: 30,
                },
                429,
                "rate_limited",
            ),
            (
                WorkflowError::Escalated {
                    reason: "directory timed out",
                    provider_fault: true,
                },
                503,
                "dependency_unavailable",
            ),
            (
                WorkflowError::Escalated {
                    reason: "protected account",
                    provider_fault: false,
                },
                422,
                "policy_refused",
            ),
            (
                WorkflowError::Store(StoreError::Corrupt("x".into())),
                500,
                "internal_error",
            ),
            (
                WorkflowError::Store(StoreError::Unavailable("down".into())),
                503,
                "dependency_unavailable",
            ),
            (
                WorkflowError::Events("down".into()),
                503,
                "dependency_unavailable",
            ),
            (
                WorkflowError::Credentials("denied".into()),
                503,
                "dependency_unavailable",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(&e);
            assert_eq!((api.status().as_u16(), api.code()), (status, code), "{e}");
        }
    }

    #[test]
    fn an_escalation_names_its_reason_and_no_upstream_text() {
        let api = ApiError::from(WorkflowError::Escalated {
            reason: "protected account",
            provider_fault: false,
        });
        assert_eq!(api.to_string(), "escalated to a human: protected account");
        let hidden = ApiError::from(WorkflowError::Store(StoreError::Corrupt(
            "secret detail".into(),
        )));
        assert!(!hidden.to_string().contains("secret detail"));
    }
}
