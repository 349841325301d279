//! The directory-credential port the use cases need (store, load, destroy a
//! tenant's sealed credentials), its adapter over `CredentialVault` with
//! tenant-scoped AWS clients, so in AWS the tenant role's policy backs each
//! call, and an in-memory adapter for tests. Plaintext only in `SecretBytes`.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::{CredentialVault, SecretBytes, VaultError};
use zerodesk_aws::{TenantClientsCache, TenantCredentialsError};
use zerodesk_domain::{ConnectionId, TenantId, TenantScope};

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

    /// The connection and its decrypted credentials, for the call that uses
    /// them; `SecretsError::Vault(VaultError::NotFound)` when there is none.
    fn load(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<(ConnectionId, SecretBytes), SecretsError>> + Send;

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

    async fn load(&self, scope: &TenantScope) -> Result<(ConnectionId, SecretBytes), SecretsError> {
        Ok(self.vault(scope).await?.load(scope).await?)
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

    fn load(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<(ConnectionId, SecretBytes), SecretsError>> + Send {
        (**self).load(scope)
    }

    fn destroy(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<(), SecretsError>> + Send {
        (**self).destroy(scope)
    }
}

/// tenant -> its connection and credentials.
type CredentialsByTenant = BTreeMap<TenantId, (ConnectionId, Vec<u8>)>;

/// Credentials kept in memory, per tenant, unsealed: for tests only, never
/// in a deployed function. `set_outage` makes every call fail as an
/// unavailable KMS would.
#[derive(Debug, Clone, Default)]
pub struct MemorySecrets {
    secrets: Arc<Mutex<CredentialsByTenant>>,
    outage: Arc<AtomicBool>,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_outage(&self, down: bool) {
        self.outage.store(down, Ordering::SeqCst);
    }

    /// Whether the tenant has credentials stored.
    pub fn holds(&self, tenant: &TenantId) -> bool {
        self.lock().contains_key(tenant)
    }

    fn lock(&self) -> MutexGuard<'_, CredentialsByTenant> {
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn check(&self) -> Result<(), SecretsError> {
        if self.outage.load(Ordering::SeqCst) {
            Err(VaultError::Aws {
                operation: "in-memory vault",
                transient: true,
                source: "switched off".into(),
            }
            .into())
        } else {
            Ok(())
        }
    }
}

impl ConnectionSecrets for MemorySecrets {
    async fn store(
        &self,
        scope: &TenantScope,
        connection: &ConnectionId,
        credentials: SecretBytes,
    ) -> Result<(), SecretsError> {
        self.check()?;
        self.lock().insert(
            scope.tenant().clone(),
            (connection.clone(), credentials.expose().to_vec()),
        );
        Ok(())
    }

    async fn load(&self, scope: &TenantScope) -> Result<(ConnectionId, SecretBytes), SecretsError> {
        self.check()?;
        let (connection, bytes) = self
            .lock()
            .get(scope.tenant())
            .cloned()
            .ok_or(VaultError::NotFound)?;
        Ok((connection, SecretBytes::new(bytes)))
    }

    async fn destroy(&self, scope: &TenantScope) -> Result<(), SecretsError> {
        self.check()?;
        self.lock().remove(scope.tenant());
        Ok(())
    }
}
