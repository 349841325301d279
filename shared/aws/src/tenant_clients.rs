//! The SDK clients that touch tenant data, built per tenant on first use and
//! kept for the life of the container. Every client here signs with the
//! tenant's own credentials; none runs on the function's role.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use zerodesk_domain::{TenantId, TenantScope};

use crate::config::{ConfigError, tenant_access_role_arn_from_env};
use crate::tenant_credentials::{TenantCredentials, TenantCredentialsError};

/// Clients for one tenant's data.
#[derive(Clone)]
pub struct TenantClients {
    tenant: TenantId,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
}

impl TenantClients {
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
}

impl fmt::Debug for TenantClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantClients")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Builds and caches `TenantClients` per tenant. Construction does no I/O.
pub struct TenantClientsCache {
    base: SdkConfig,
    credentials: Arc<TenantCredentials>,
    clients: Mutex<HashMap<TenantId, Arc<TenantClients>>>,
}

impl fmt::Debug for TenantClientsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantClientsCache")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl TenantClientsCache {
    /// `base` is the function's configuration (region, endpoint, timeouts);
    /// its credentials are replaced by the tenant's in every client built here.
    pub fn new(base: SdkConfig, credentials: Arc<TenantCredentials>) -> Self {
        Self {
            base,
            credentials,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The usual wiring of a function's `main`: STS on the function's own
    /// role, the role to assume from `TENANT_ACCESS_ROLE_ARN` (required).
    pub fn from_env(base: &SdkConfig, function: &str) -> Result<Self, ConfigError> {
        Ok(Self::assuming(
            base,
            tenant_access_role_arn_from_env()?,
            function,
        ))
    }

    /// Tenant clients that assume `role_arn` through STS on `base`'s own
    /// credentials (tests and tools that do not read the environment).
    pub fn assuming(base: &SdkConfig, role_arn: impl Into<String>, function: &str) -> Self {
        let sts = aws_sdk_sts::Client::new(base);
        Self::new(
            base.clone(),
            Arc::new(TenantCredentials::new(sts, role_arn, function)),
        )
    }

    pub fn credentials(&self) -> &Arc<TenantCredentials> {
        &self.credentials
    }

    /// The clients of the scope's tenant. Credentials are obtained now, so a
    /// role that cannot be assumed fails here rather than inside a later call.
    pub async fn for_scope(
        &self,
        scope: &TenantScope,
    ) -> Result<Arc<TenantClients>, TenantCredentialsError> {
        self.credentials.credentials(scope).await?;
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = clients
            .entry(scope.tenant().clone())
            .or_insert_with(|| Arc::new(self.build(scope)));
        Ok(Arc::clone(entry))
    }

    /// Forgets a tenant's clients and credentials.
    pub fn evict(&self, tenant: &TenantId) {
        self.clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
        self.credentials.evict(tenant);
    }

    fn build(&self, scope: &TenantScope) -> TenantClients {
        let config = self
            .base
            .to_builder()
            .credentials_provider(self.credentials.provider(scope))
            // The per-tenant cache in TenantCredentials is the only cache, so
            // its refresh margin is what decides when credentials are replaced.
            .identity_cache(IdentityCache::no_cache())
            .build();
        TenantClients {
            tenant: scope.tenant().clone(),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            secrets: aws_sdk_secretsmanager::Client::new(&config),
        }
    }
}

/// Tenant-scoped DynamoDB clients for the store's adapters: a credential
/// failure that may pass is `Unavailable` (503), any other `Credentials`.
impl zerodesk_store::TenantDb for TenantClientsCache {
    async fn client(
        &self,
        scope: &TenantScope,
    ) -> Result<aws_sdk_dynamodb::Client, zerodesk_store::StoreError> {
        let clients = self.for_scope(scope).await.map_err(|e| {
            if e.is_transient() {
                zerodesk_store::StoreError::Unavailable(Box::new(e))
            } else {
                zerodesk_store::StoreError::Credentials(Box::new(e))
            }
        })?;
        Ok(clients.dynamodb.clone())
    }
}
