//! Which DynamoDB client touches a tenant's items. In AWS that is a client
//! signed with the tenant's own credentials (STS AssumeRole with the
//! `tenant_id` session tag), whose role may only reach `TENANT#<that id>`
//! keys; the function's own role reaches only the platform partitions and
//! the KEYS_ONLY indexes. Locally and in tests one client may serve all.

use std::future::Future;
use std::sync::Arc;

use zerodesk_aws::TenantClientsCache;
use zerodesk_domain::TenantScope;

use crate::error::LedgerError;

pub trait TenantDb: Send + Sync {
    /// The client for the scope's tenant.
    fn client(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<aws_sdk_dynamodb::Client, LedgerError>> + Send;
}

/// One client for every tenant: the local stack and tests, where the
/// emulator enforces no IAM anyway.
impl TenantDb for aws_sdk_dynamodb::Client {
    async fn client(&self, _scope: &TenantScope) -> Result<aws_sdk_dynamodb::Client, LedgerError> {
        Ok(self.clone())
    }
}

/// Tenant-scoped clients, cached per tenant in the warm container.
impl TenantDb for Arc<TenantClientsCache> {
    async fn client(&self, scope: &TenantScope) -> Result<aws_sdk_dynamodb::Client, LedgerError> {
        let clients = self.for_scope(scope).await.map_err(|e| {
            if e.is_transient() {
                LedgerError::Unavailable(Box::new(e))
            } else {
                LedgerError::Credentials(Box::new(e))
            }
        })?;
        Ok(clients.dynamodb.clone())
    }
}
