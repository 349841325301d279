//! `DirectoryError`: what can go wrong talking to a directory, classified so
//! callers can tell "retry later" from "escalate". Display never carries a
//! response body, a token, a password or a provider's free text.

use crate::model::Provider;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{provider} has no such account")]
    NotFound { provider: Provider },

    /// The provider refused our credentials or token. `reason` is an RFC 6749
    /// error code (or a fixed word), never the provider's description.
    #[error("{provider} refused the connector's credentials ({reason})")]
    Auth {
        provider: Provider,
        reason: &'static str,
    },

    #[error("{provider} refused the request with status {status}")]
    Provider { provider: Provider, status: u16 },

    /// The provider is throttling; `retry_after` is when it said to try
    /// again, where it said.
    #[error("{provider} is rate limiting the connector")]
    RateLimited {
        provider: Provider,
        retry_after: Option<std::time::Duration>,
    },

    #[error("{provider} is unavailable")]
    Unavailable {
        provider: Provider,
        status: Option<u16>,
        #[source]
        source: Option<reqwest::Error>,
    },

    #[error("{provider} did not answer in time")]
    Timeout { provider: Provider },

    /// The answer did not have the documented shape. The parser's message is
    /// dropped on purpose: it can quote the offending value.
    #[error("{provider} returned a malformed {what}")]
    Malformed {
        provider: Provider,
        what: &'static str,
    },

    /// The account is suspended or disabled for a reason an unlock must not
    /// clear (for example an administrator's suspension).
    #[error("{provider} account is not in a state an unlock may clear")]
    NotUnlockable { provider: Provider },

    /// The provider has no such operation (a push on Google or Graph).
    #[error("{provider} does not support {what}")]
    Unsupported {
        provider: Provider,
        what: &'static str,
    },

    /// The connection's credentials or endpoints cannot be used at all.
    #[error("directory connection is misconfigured: {what}")]
    Config {
        what: &'static str,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl DirectoryError {
    /// Whether the same call may succeed later without anyone changing
    /// anything (the provider was down, slow, or throttling).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DirectoryError::Unavailable { .. }
                | DirectoryError::Timeout { .. }
                | DirectoryError::RateLimited { .. }
        )
    }

    /// A stable, machine-readable name for events and audit records.
    pub fn code(&self) -> &'static str {
        match self {
            DirectoryError::NotFound { .. } => "not_found",
            DirectoryError::Auth { .. } => "auth",
            DirectoryError::Provider { .. } => "provider_refused",
            DirectoryError::RateLimited { .. } => "rate_limited",
            DirectoryError::Unavailable { .. } => "unavailable",
            DirectoryError::Timeout { .. } => "timeout",
            DirectoryError::Malformed { .. } => "malformed",
            DirectoryError::Unsupported { .. } => "unsupported",
            DirectoryError::NotUnlockable { .. } => "not_unlockable",
            DirectoryError::Config { .. } => "config",
        }
    }

    pub(crate) fn config(what: &'static str) -> Self {
        DirectoryError::Config { what, source: None }
    }

    pub(crate) fn config_because(
        what: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DirectoryError::Config {
            what,
            source: Some(Box::new(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_failures_are_retryable() {
        let p = Provider::Okta;
        assert!(DirectoryError::Timeout { provider: p }.is_retryable());
        assert!(
            DirectoryError::RateLimited {
                provider: p,
                retry_after: None
            }
            .is_retryable()
        );
        assert!(
            DirectoryError::Unavailable {
                provider: p,
                status: Some(503),
                source: None
            }
            .is_retryable()
        );
        assert!(!DirectoryError::NotFound { provider: p }.is_retryable());
        assert!(
            !DirectoryError::Auth {
                provider: p,
                reason: "invalid_client"
            }
            .is_retryable()
        );
        assert!(
            !DirectoryError::Provider {
                provider: p,
                status: 400
            }
            .is_retryable()
        );
        assert!(
            !DirectoryError::Malformed {
                provider: p,
                what: "user"
            }
            .is_retryable()
        );
        assert!(!DirectoryError::NotUnlockable { provider: p }.is_retryable());
    }

    #[test]
    fn display_names_the_provider_and_status_only() {
        let e = DirectoryError::Provider {
            provider: Provider::MicrosoftGraph,
            status: 400,
        };
        assert_eq!(
            e.to_string(),
            "Microsoft Graph refused the request with status 400"
        );
    }
}
