//! How the admin use cases' errors answer over HTTP: one status and stable
//! code per kind of failure. What was unavailable or broken is logged here,
//! never put in the response.

use zerodesk_admin::AdminError;

use crate::ApiError;

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Forbidden => ApiError::Forbidden,
            AdminError::NotFound => ApiError::NotFound,
            AdminError::TenantInactive => ApiError::TenantInactive,
            AdminError::Invalid { field, reason } => ApiError::invalid(field, reason),
            AdminError::Conflict(_) => ApiError::Conflict,
            AdminError::RateLimited {
                retry_after_seconds,
            } => ApiError::RateLimited {
                retry_after_seconds,
            },
            AdminError::ConnectionIncomplete { missing } => ApiError::ConnectionIncomplete(missing),
            AdminError::Unresolved {
                field,
                entry,
                reason,
            } => ApiError::invalid(field, format!("{entry} {reason}")),
            AdminError::Unavailable(source) => {
                tracing::error!(error = %source, "dependency unavailable");
                ApiError::DependencyUnavailable
            }
            AdminError::Internal(what) => {
                tracing::error!(what, "internal error");
                ApiError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_errors_keep_their_status_and_code() {
        let cases = [
            (AdminError::Forbidden, 403, "forbidden"),
            (AdminError::NotFound, 404, "not_found"),
            (AdminError::TenantInactive, 403, "tenant_inactive"),
            (
                AdminError::Invalid {
                    field: "limit",
                    reason: "must be a number",
                },
                400,
                "invalid_input",
            ),
            (
                AdminError::Conflict("the tenant is active"),
                409,
                "conflict",
            ),
            (
                AdminError::Unavailable("table down".into()),
                503,
                "dependency_unavailable",
            ),
            (AdminError::Internal("connection id"), 500, "internal_error"),
        ];
        for (err, status, code) in cases {
            let api = ApiError::from(err);
            assert_eq!((api.status().as_u16(), api.code()), (status, code));
        }
    }

    #[test]
    fn an_unavailable_dependency_never_shows_its_own_text() {
        let api = ApiError::from(AdminError::Unavailable("secret table name x".into()));
        assert!(!api.to_string().contains("secret table name"));
    }
}
