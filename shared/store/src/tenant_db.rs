//! Which DynamoDB client touches a tenant's items. In AWS it is a client
//! signed with the tenant's own credentials (STS AssumeRole with the
//! `tenant_id` session tag), whose role reaches only `TENANT#<that id>` keys;
//! locally and in tests one client may serve every tenant.

use std::future::Future;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use zerodesk_domain::TenantScope;

use crate::StoreError;

pub trait TenantDb: Send + Sync {
    /// The client for the scope's tenant.
    fn client(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Client, StoreError>> + Send;
}

/// One client for every tenant: the local stack and tests, where the
/// emulator enforces no IAM anyway.
impl TenantDb for Client {
    async fn client(&self, _scope: &TenantScope) -> Result<Client, StoreError> {
        Ok(self.clone())
    }
}

impl<T: TenantDb> TenantDb for Arc<T> {
    fn client(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Client, StoreError>> + Send {
        self.as_ref().client(scope)
    }
}
