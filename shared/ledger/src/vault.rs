//! The directory-credential port the admin and purge use cases need, and its
//! adapter over the crypto crate's `CredentialVault` with tenant-scoped AWS
//! clients (zerodesk-aws), so in AWS the tenant role's policy backs each call.

use std::future::Future;
use std::sync::Arc;

use zerodesk_aws::{TenantClientsCache, TenantCredentialsError};
use zerodesk_crypto::{CredentialVault, SecretBytes, VaultError};
use zerodesk_domain::{ConnectionId, TenantScope};

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the credential vault failed")]
    Vault(#[from] VaultError),
    #[error("tenant-scoped credentials are unavailable")]
    Credentials(#[from] TenantCredentialsError),
}

impl SecretsError {
    pub fn is_transient(&self) -> bool {
        match self {
            SecretsError::Vault(e) => e.is_transient(),
            SecretsError::Credentials(e) => e.is_transient(),
        }
    }
}

/// Stores and destroys a tenant's sealed directory credentials.
pub trait ConnectionSecrets: Send + Sync {
    fn store(
        &self,
        scope: &TenantScope,
        connection: &ConnectionId,
        credentials: SecretBytes,
    ) -> impl Future<Output = Result<(), SecretsError>> + Send;

    /// Deletes without recovery; deleting nothing succeeds.
    fn destroy(&self, scope: &TenantScope)
    -> impl Future<Output = Result<(), SecretsError>> + Send;
}

/// `CredentialVault` on the tenant's own clients.
#[derive(Debug, Clone)]
pub struct TenantVault {
    clients: Arc<TenantClientsCache>,
    key_id: String,
    stage: String,
}

impl TenantVault {
    pub fn new(
        clients: Arc<TenantClientsCache>,
        key_id: impl Into<String>,
        stage: impl Into<String>,
    ) -> Self {
        Self {
            clients,
            key_id: key_id.into(),
            stage: stage.into(),
        }
    }

    async fn vault(&self, scope: &TenantScope) -> Result<CredentialVault, SecretsError> {
        let clients = self.clients.for_scope(scope).await?;
        Ok(CredentialVault::new(
            clients.kms.clone(),
            clients.secrets.clone(),
            &self.key_id,
            &self.stage,
        ))
    }
}

impl ConnectionSecrets for TenantVault {
    async fn store(
        &self,
        scope: &TenantScope,
        connection: &ConnectionId,
        credentials: SecretBytes,
    ) -> Result<(), SecretsError> {
        self.vault(scope)
            .await?
            .store(scope, connection, &credentials)
            .await?;
        Ok(())
    }

    async fn destroy(&self, scope: &TenantScope) -> Result<(), SecretsError> {
        Ok(self.vault(scope).await?.delete(scope).await?)
    }
}

impl<T: ConnectionSecrets> ConnectionSecrets for Arc<T> {
    fn store(
        &self,
        scope: &TenantScope,
        connection: &ConnectionId,
        credentials: SecretBytes,
    ) -> impl Future<Output = Result<(), SecretsError>> + Send {
        (**self).store(scope, connection, credentials)
    }

    fn destroy(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<(), SecretsError>> + Send {
        (**self).destroy(scope)
    }
}
