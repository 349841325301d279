//! The tenant lifecycle for platform admins: onboard, offboard (day 0: every
//! tenant request refused, the directory secret destroyed) and restore
//! within the grace period. The purge after it is the retention crate's.
//! Status changes are conditional on the status they expect.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zerodesk_crypto::ConnectionSecrets;
use zerodesk_domain::{
    Action, SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus,
};
use zerodesk_events::LifecycleChange;
use zerodesk_store::TenantStore;

use crate::admin::{Admin, AdminPorts, RequestedBy};
use crate::error::AdminError;

/// Body of `POST /platform/tenants`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub tenant_id: String,
    pub name: String,
    #[serde(default)]
    pub policy: Option<TenantPolicy>,
}

/// A tenant as platform routes show it: no policy details, no connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantView {
    pub tenant_id: TenantId,
    pub name: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        let status_since = match &t.status {
            TenantStatus::Active => None,
            TenantStatus::Offboarding { since } => Some(*since),
            TenantStatus::Purged { at } => Some(*at),
        };
        Self {
            tenant_id: t.id.clone(),
            name: t.name.clone(),
            status: t.status.as_str(),
            status_since,
            created_at: t.created_at,
        }
    }
}

impl<P: AdminPorts> Admin<P> {
    pub async fn create_tenant(
        &self,
        by: RequestedBy<'_>,
        input: NewTenant,
    ) -> Result<TenantView, AdminError> {
        self.platform_admin(by, Action::OnboardTenant)?;
        let tenant_id = TenantId::parse(&input.tenant_id).map_err(|_| {
            AdminError::invalid("tenant_id", "must be 3-40 characters of a-z, 0-9 and '-'")
        })?;
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AdminError::invalid("name", "must be 1-200 characters"));
        }
        let policy = input.policy.unwrap_or_default();
        policy.validate().map_err(|e| AdminError::Invalid {
            field: e.field(),
            reason: "is out of the allowed bounds",
        })?;
        let scope = TenantScope::for_system_task(tenant_id.clone(), SystemTask::TenantLifecycle);
        let tenant = Tenant {
            id: tenant_id,
            name,
            status: TenantStatus::Active,
            policy,
            created_at: self.now(),
        };
        self.tenants.create(&scope, &tenant).await?;
        self.publish_lifecycle(by, &scope, LifecycleChange::Onboarded)
            .await?;
        Ok(TenantView::from(&tenant))
    }

    /// Day 0 of offboarding: every tenant request is refused from now on,
    /// the directory secret is destroyed. Repeating it finishes what a
    /// failed attempt left (the secret), and changes nothing else.
    pub async fn offboard_tenant(
        &self,
        by: RequestedBy<'_>,
        tenant: &str,
    ) -> Result<TenantView, AdminError> {
        self.platform_admin(by, Action::OffboardTenant)?;
        let scope = Self::lifecycle_scope(tenant)?;
        let mut record = self
            .tenants
            .get(&scope)
            .await?
            .ok_or(AdminError::NotFound)?;
        match record.status {
            TenantStatus::Active => {
                record.status = TenantStatus::Offboarding { since: self.now() };
                self.tenants.replace(&scope, &record, "active").await?;
                self.gate.evict(scope.tenant());
            }
            TenantStatus::Offboarding { .. } => {}
            TenantStatus::Purged { .. } => return Err(AdminError::NotFound),
        }
        let removal = self.revoke_stored_access(&scope).await;
        self.vault.destroy(&scope).await?;
        self.tenants.delete_connection(&scope).await?;
        self.publish_lifecycle(by, &scope, LifecycleChange::Offboarded)
            .await?;
        if !removal.revoked.is_empty() || !removal.tenant_must_remove.is_empty() {
            self.publish_config(
                by,
                &scope,
                zerodesk_events::ConfigChange::ConnectionDeleted,
                &crate::connection::removal_details(&removal),
            )
            .await;
        }
        Ok(TenantView::from(&record))
    }

    /// Within the grace period, an offboarding tenant becomes active again
    /// with its data intact (its directory connection must be made anew).
    pub async fn restore_tenant(
        &self,
        by: RequestedBy<'_>,
        tenant: &str,
    ) -> Result<TenantView, AdminError> {
        self.platform_admin(by, Action::RestoreTenant)?;
        let scope = Self::lifecycle_scope(tenant)?;
        let mut record = self
            .tenants
            .get(&scope)
            .await?
            .ok_or(AdminError::NotFound)?;
        match record.status {
            TenantStatus::Offboarding { .. } if record.status.can_restore(self.now()) => {}
            TenantStatus::Offboarding { .. } => {
                return Err(AdminError::Conflict("the restore period is over"));
            }
            TenantStatus::Active => return Err(AdminError::Conflict("the tenant is active")),
            TenantStatus::Purged { .. } => return Err(AdminError::NotFound),
        }
        record.status = TenantStatus::Active;
        self.tenants.replace(&scope, &record, "offboarding").await?;
        self.gate.evict(scope.tenant());
        self.publish_lifecycle(by, &scope, LifecycleChange::Restored)
            .await?;
        Ok(TenantView::from(&record))
    }
}
