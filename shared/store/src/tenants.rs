//! The tenants repository: the tenant record (status, policy) and the
//! directory connection's metadata, never the secret. Lifecycle changes are
//! conditional on the status they expect, so two admins cannot race.

use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zerodesk_domain::{ConnectionId, Tenant, TenantScope};

use crate::error::{StoreError, from_sdk};
use crate::item::{DOC, Item, PK, SK, doc, get_s, s, to_doc};

pub(crate) const RECORD: &str = "TENANT";
const CONNECTION: &str = "CONNECTION";
pub(crate) const STATUS: &str = "status";
pub(crate) const STATUS_SINCE: &str = "status_since";
const BY_STATUS: &str = "by_status";

/// Which directory a tenant is connected to; the credentials live encrypted
/// in Secrets Manager, never here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionMetadata {
    pub connection_id: ConnectionId,
    /// `google`, `graph` or `okta`.
    pub provider: String,
    /// The directory domain, Entra tenant or Okta org the connection reaches.
    pub directory: String,
    pub connected_at: DateTime<Utc>,
    pub connected_by: String,
}

#[derive(Debug, Clone)]
pub struct TenantRepo {
    client: Client,
    table: String,
}

impl TenantRepo {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn record_item(scope: &TenantScope, tenant: &Tenant) -> Result<Item, StoreError> {
        if tenant.id != *scope.tenant() {
            return Err(StoreError::Conflict);
        }
        let since = match &tenant.status {
            zerodesk_domain::TenantStatus::Offboarding { since } => since.to_rfc3339(),
            zerodesk_domain::TenantStatus::Purged { at } => at.to_rfc3339(),
            zerodesk_domain::TenantStatus::Active => tenant.created_at.to_rfc3339(),
        };
        Ok(Item::from([
            (PK.to_owned(), s(scope.partition_key())),
            (SK.to_owned(), s(RECORD)),
            (STATUS.to_owned(), s(tenant.status.as_str())),
            (STATUS_SINCE.to_owned(), s(since)),
            (DOC.to_owned(), to_doc(tenant)?),
        ]))
    }

    /// Onboards a tenant; an existing tenant id is `AlreadyExists`.
    pub async fn create(&self, scope: &TenantScope, tenant: &Tenant) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::record_item(scope, tenant)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::AlreadyExists))?;
        Ok(())
    }

    pub async fn get(&self, scope: &TenantScope) -> Result<Option<Tenant>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(RECORD))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        out.item().map(doc).transpose()
    }

    /// Replaces the record if its stored status is still `expected_status`.
    pub async fn replace(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        expected_status: &str,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::record_item(scope, tenant)?))
            .condition_expression("attribute_exists(pk) AND #status = :expected")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":expected", s(expected_status))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    pub async fn put_connection(
        &self,
        scope: &TenantScope,
        meta: &ConnectionMetadata,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(scope.partition_key()))
            .item(SK, s(CONNECTION))
            .item(DOC, to_doc(meta)?)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    pub async fn get_connection(
        &self,
        scope: &TenantScope,
    ) -> Result<Option<ConnectionMetadata>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(CONNECTION))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        out.item().map(doc).transpose()
    }

    pub async fn delete_connection(&self, scope: &TenantScope) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(CONNECTION))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }

    /// Tenant ids in one lifecycle status whose status began before `before`
    /// (the purge's work list), through the `by_status` index. Platform-level:
    /// returns ids only, no tenant data.
    pub async fn ids_with_status_before(
        &self,
        status: &str,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<zerodesk_domain::TenantId>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_STATUS)
            .key_condition_expression("#status = :status AND status_since < :before")
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":before", s(before.to_rfc3339()))
            .limit(limit)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        out.items()
            .iter()
            .map(|item| {
                let pk = get_s(item, PK)?;
                pk.strip_prefix("TENANT#")
                    .and_then(|id| zerodesk_domain::TenantId::parse(id).ok())
                    .ok_or_else(|| StoreError::Corrupt("tenant key".into()))
            })
            .collect()
    }
}
