//! The audit store port: what the admin and the purge may ask of a tenant's
//! audit trail (its head, pages, every record, its pseudonym salt), always
//! the chain of the scope's tenant. Reads only: appending is audit-write's,
//! through `AuditWriter`. The DynamoDB adapter is here; the in-memory one is
//! in `memory`.

use std::future::Future;
use std::sync::Arc;

use zerodesk_audit::{ChainHead, ChainScope};
use zerodesk_domain::TenantScope;
use zerodesk_store::TenantDb;

use crate::audit_repo::{AuditFilter, AuditPage, AuditPageRequest, AuditRepo, StoredRecord};
use crate::error::LedgerError;
use crate::salts::{Salt, SaltStore};

/// A tenant's audit trail, read through that tenant's scope.
pub trait AuditStore: Send + Sync {
    /// The newest record's seq and hash, read consistently.
    fn head(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Option<ChainHead>, LedgerError>> + Send;

    /// One page of the trail, oldest first, filtered.
    fn page(
        &self,
        scope: &TenantScope,
        filter: &AuditFilter,
        page: &AuditPageRequest,
    ) -> impl Future<Output = Result<AuditPage, LedgerError>> + Send;

    /// Every stored item of the trail (within the filter), in seq order;
    /// an item that does not parse comes back as its seq alone.
    fn read_all(
        &self,
        scope: &TenantScope,
        filter: &AuditFilter,
    ) -> impl Future<Output = Result<Vec<StoredRecord>, LedgerError>> + Send;

    /// The trail's pseudonym salt, if audit-write has made it (readers never
    /// make one: without it no record holds a pseudonym yet).
    fn salt(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Option<Salt>, LedgerError>> + Send;
}

fn chain_of(scope: &TenantScope) -> ChainScope {
    ChainScope::Tenant(scope.tenant().clone())
}

/// The audit table, every call on the scope's tenant-scoped client.
#[derive(Debug, Clone)]
pub struct DynamoAudit<D> {
    db: D,
    table: String,
    salts: Arc<SaltStore>,
}

impl<D: TenantDb> DynamoAudit<D> {
    pub fn new(db: D, table: impl Into<String>) -> Self {
        let table = table.into();
        Self {
            db,
            salts: Arc::new(SaltStore::new(table.clone())),
            table,
        }
    }

    async fn repo(&self, scope: &TenantScope) -> Result<AuditRepo, LedgerError> {
        Ok(AuditRepo::new(self.db.client(scope).await?, &self.table))
    }
}

impl<D: TenantDb> AuditStore for DynamoAudit<D> {
    async fn head(&self, scope: &TenantScope) -> Result<Option<ChainHead>, LedgerError> {
        self.repo(scope).await?.head(&chain_of(scope)).await
    }

    async fn page(
        &self,
        scope: &TenantScope,
        filter: &AuditFilter,
        page: &AuditPageRequest,
    ) -> Result<AuditPage, LedgerError> {
        self.repo(scope)
            .await?
            .page(&chain_of(scope), filter, page)
            .await
    }

    async fn read_all(
        &self,
        scope: &TenantScope,
        filter: &AuditFilter,
    ) -> Result<Vec<StoredRecord>, LedgerError> {
        self.repo(scope)
            .await?
            .read_all(&chain_of(scope), filter)
            .await
    }

    async fn salt(&self, scope: &TenantScope) -> Result<Option<Salt>, LedgerError> {
        let client = self.db.client(scope).await?;
        self.salts.existing(&client, &chain_of(scope)).await
    }
}
