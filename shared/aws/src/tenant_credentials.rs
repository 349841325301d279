//! Tenant-scoped credentials: STS AssumeRole on the tenant access role with
//! the session tag `tenant_id=<id>`, cached per tenant in the warm container
//! until a margin before expiry. The tag is what the role's policy keys on,
//! so these credentials must never be handed to code working for another
//! tenant, and they are never logged.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_sdk_sts::types::Tag;
use zerodesk_domain::{Clock, SystemClock, TenantId, TenantScope};

/// The session tag the tenant access role's policy conditions on.
pub const TENANT_SESSION_TAG: &str = "tenant_id";

/// Credentials are replaced this long before they expire, so a request that
/// starts with them finishes before they do.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The longest RoleSessionName STS accepts.
const MAX_SESSION_NAME: usize = 64;

/// Shown as the credentials' provider in SDK diagnostics.
const PROVIDER_NAME: &str = "zerodesk-tenant-access";

#[derive(Debug, thiserror::Error)]
pub enum TenantCredentialsError {
    #[error("assuming the tenant access role for tenant {tenant} failed")]
    AssumeRole {
        tenant: TenantId,
        transient: bool,
        #[source]
        source: Box<SdkError<AssumeRoleError>>,
    },
    #[error("STS returned no credentials for tenant {tenant}")]
    NoCredentials { tenant: TenantId },
    #[error("STS returned an unusable expiry for tenant {tenant}")]
    BadExpiry { tenant: TenantId },
    #[error("cannot build the tenant session tag")]
    SessionTag(#[source] aws_sdk_sts::error::BuildError),
}

impl TenantCredentialsError {
    /// Whether retrying later may succeed (throttling, timeouts, STS down),
    /// as opposed to a configuration or permission problem.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TenantCredentialsError::AssumeRole {
                transient: true,
                ..
            }
        )
    }
}

struct Cached {
    credentials: Credentials,
    refresh_at: SystemTime,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// Per-tenant credentials for one function. Share it (`Arc`) across the
/// container; one AssumeRole per tenant per credential lifetime.
pub struct TenantCredentials {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    function: String,
    refresh_margin: Duration,
    /// Tests move it forward to reach expiry.
    clock: Arc<dyn Clock>,
    // One async slot per tenant: concurrent first requests of a tenant make
    // one AssumeRole, and tenants never wait on each other.
    slots: Mutex<HashMap<TenantId, Slot>>,
}

impl fmt::Debug for TenantCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantCredentials")
            .field("role_arn", &self.role_arn)
            .field("function", &self.function)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

impl TenantCredentials {
    /// `sts` runs on the function's own role; `function` names the caller in
    /// the session name (CloudTrail shows `zerodesk-<tenant>-<function>`).
    pub fn new(
        sts: aws_sdk_sts::Client,
        role_arn: impl Into<String>,
        function: impl Into<String>,
    ) -> Self {
        Self {
            sts,
            role_arn: role_arn.into(),
            function: function.into(),
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            clock: Arc::new(SystemClock),
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The tenant's credentials: cached ones while they are more than the
    /// refresh margin from expiry, otherwise fresh ones from STS.
    pub async fn credentials(
        &self,
        scope: &TenantScope,
    ) -> Result<Credentials, TenantCredentialsError> {
        self.credentials_for(scope.tenant()).await
    }

    /// A credentials provider bound to one tenant, for SDK clients. Each call
    /// the SDK makes goes through the per-tenant cache above.
    pub fn provider(self: &Arc<Self>, scope: &TenantScope) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(TenantCredentialsProvider {
            source: Arc::clone(self),
            tenant: scope.tenant().clone(),
        })
    }

    /// Drops what is cached for a tenant (after offboarding, for example).
    pub fn evict(&self, tenant: &TenantId) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }

    async fn credentials_for(
        &self,
        tenant: &TenantId,
    ) -> Result<Credentials, TenantCredentialsError> {
        let slot = {
            // The map only holds slots; a panic elsewhere cannot leave it inconsistent.
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(slots.entry(tenant.clone()).or_default())
        };
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref()
            && SystemTime::from(self.clock.now()) < c.refresh_at
        {
            return Ok(c.credentials.clone());
        }
        let credentials = self.assume_role(tenant).await?;
        let expiry = credentials
            .expiry()
            .ok_or_else(|| TenantCredentialsError::BadExpiry {
                tenant: tenant.clone(),
            })?;
        let refresh_at = expiry
            .checked_sub(self.refresh_margin)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        *cached = Some(Cached {
            credentials: credentials.clone(),
            refresh_at,
        });
        tracing::debug!(tenant_id = %tenant, "assumed the tenant access role");
        Ok(credentials)
    }

    async fn assume_role(&self, tenant: &TenantId) -> Result<Credentials, TenantCredentialsError> {
        let tag = Tag::builder()
            .key(TENANT_SESSION_TAG)
            .value(tenant.as_str())
            .build()
            .map_err(TenantCredentialsError::SessionTag)?;
        let output = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(role_session_name(tenant, &self.function))
            .tags(tag)
            .send()
            .await
            .map_err(|e| TenantCredentialsError::AssumeRole {
                tenant: tenant.clone(),
                transient: is_transient(&e),
                source: Box::new(e),
            })?;
        let issued = output
            .credentials()
            .ok_or_else(|| TenantCredentialsError::NoCredentials {
                tenant: tenant.clone(),
            })?;
        let expiry = SystemTime::try_from(*issued.expiration()).map_err(|_| {
            TenantCredentialsError::BadExpiry {
                tenant: tenant.clone(),
            }
        })?;
        Ok(Credentials::new(
            issued.access_key_id(),
            issued.secret_access_key(),
            Some(issued.session_token().to_owned()),
            Some(expiry),
            PROVIDER_NAME,
        ))
    }
}

/// `zerodesk-<tenant>-<function>`, cut to STS's 64 characters, with any
/// character STS refuses replaced by `-`.
pub fn role_session_name(tenant: &TenantId, function: &str) -> String {
    format!("zerodesk-{tenant}-{function}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(MAX_SESSION_NAME)
        .collect()
}

fn is_transient(e: &SdkError<AssumeRoleError>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            matches!(
                e.code(),
                Some(
                    "Throttling"
                        | "ThrottlingException"
                        | "RequestLimitExceeded"
                        | "InternalFailure"
                )
            )
        }
        _ => false,
    }
}

#[derive(Debug)]
struct TenantCredentialsProvider {
    source: Arc<TenantCredentials>,
    tenant: TenantId,
}

impl ProvideCredentials for TenantCredentialsProvider {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.source
                .credentials_for(&self.tenant)
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_name_tenant_and_function_within_sts_limits() {
        let t = TenantId::parse("acme-2").unwrap();
        assert_eq!(role_session_name(&t, "reset"), "zerodesk-acme-2-reset");
        let long = TenantId::parse(&"a".repeat(40)).unwrap();
        let name = role_session_name(&long, "retention-purge-function");
        assert_eq!(name.len(), 64);
        assert!(name.starts_with(&format!("zerodesk-{}-", "a".repeat(40))));
        assert_eq!(
            role_session_name(&t, "fn name/1"),
            "zerodesk-acme-2-fn-name-1"
        );
    }
}
