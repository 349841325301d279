//! What the ticket use cases run on: the table names, the per-tenant SDK
//! clients (tenant-scoped credentials), the tenant gate and the publisher.
//! Built once per container in `main`; repositories are built per request
//! from the tenant's own clients, which costs no I/O.

use std::sync::Arc;

use zerodesk_aws::{TenantClients, TenantClientsCache};
use zerodesk_crypto::CredentialVault;
use zerodesk_directory::DirectoryEndpoints;
use zerodesk_domain::{Principal, TenantPolicy, TenantScope};
use zerodesk_events::Publisher;
use zerodesk_store::{IdempotencyConfig, IdempotencyStore, RateLimiter, TenantRepo, TicketRepo};

use crate::error::WorkflowError;
use zerodesk_store::TenantGate;

#[derive(Debug, Clone)]
pub struct Tables {
    pub tenants: String,
    pub tickets: String,
    pub idempotency: String,
}

impl From<&zerodesk_aws::TableNames> for Tables {
    fn from(t: &zerodesk_aws::TableNames) -> Self {
        Tables {
            tenants: t.tenants.clone(),
            tickets: t.tickets.clone(),
            idempotency: t.idempotency.clone(),
        }
    }
}

/// Settings of the functions that act on directories.
#[derive(Debug, Clone)]
pub struct DirectorySettings {
    pub stage: String,
    pub kms_key_id: String,
    pub endpoints: DirectoryEndpoints,
}

pub struct Services<P> {
    pub tables: Tables,
    pub clients: TenantClientsCache,
    pub gate: TenantGate,
    pub publisher: P,
    pub directory: Option<DirectorySettings>,
}

/// The repositories of one tenant, signed with that tenant's credentials.
pub(crate) struct TenantStores {
    pub clients: Arc<TenantClients>,
    pub tickets: TicketRepo,
    pub tenants: TenantRepo,
}

impl<P: Publisher> Services<P> {
    pub fn new(tables: Tables, clients: TenantClientsCache, publisher: P) -> Self {
        Self {
            tables,
            clients,
            gate: TenantGate::default(),
            publisher,
            directory: None,
        }
    }

    pub fn with_directory(mut self, settings: DirectorySettings) -> Self {
        self.directory = Some(settings);
        self
    }

    pub(crate) async fn stores(&self, scope: &TenantScope) -> Result<TenantStores, WorkflowError> {
        let clients = self
            .clients
            .for_scope(scope)
            .await
            .map_err(|e| WorkflowError::Credentials(Box::new(e)))?;
        Ok(TenantStores {
            tickets: TicketRepo::new(clients.dynamodb.clone(), &self.tables.tickets),
            tenants: TenantRepo::new(clients.dynamodb.clone(), &self.tables.tenants),
            clients,
        })
    }

    /// The scope of a tenant principal and its active tenant's policy.
    pub(crate) async fn admit(
        &self,
        principal: &Principal,
    ) -> Result<(TenantScope, TenantStores, TenantPolicy), WorkflowError> {
        let scope = TenantScope::for_principal(principal).ok_or(WorkflowError::Forbidden)?;
        self.admit_scope(scope).await
    }

    pub(crate) async fn admit_scope(
        &self,
        scope: TenantScope,
    ) -> Result<(TenantScope, TenantStores, TenantPolicy), WorkflowError> {
        let stores = self.stores(&scope).await?;
        let policy = self.gate.admit(&stores.tenants, &scope).await?;
        Ok((scope, stores, policy))
    }

    pub(crate) fn idempotency(&self, stores: &TenantStores) -> IdempotencyStore {
        IdempotencyStore::new(
            stores.clients.dynamodb.clone(),
            &self.tables.idempotency,
            IdempotencyConfig::default(),
        )
    }

    pub(crate) fn rate_limiter(&self, stores: &TenantStores) -> RateLimiter {
        RateLimiter::new(stores.clients.dynamodb.clone(), &self.tables.tenants)
    }

    pub(crate) fn vault(
        &self,
        stores: &TenantStores,
        settings: &DirectorySettings,
    ) -> CredentialVault {
        CredentialVault::new(
            stores.clients.kms.clone(),
            stores.clients.secrets.clone(),
            &settings.kms_key_id,
            &settings.stage,
        )
    }
}
