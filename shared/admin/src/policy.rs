//! A tenant's policy: read by the tenant's staff, replaced by its admins.
//! A value out of bounds is refused by name; a stored change is recorded in
//! the tenant's trail and takes effect at once in this container's gate.

use zerodesk_domain::{Action, PolicyError, TenantPolicy, TenantScope};
use zerodesk_events::ConfigChange;
use zerodesk_store::TenantStore;

use crate::admin::{Admin, AdminPorts, RequestedBy};
use crate::error::AdminError;

impl<P: AdminPorts> Admin<P> {
    pub async fn get_policy(&self, by: RequestedBy<'_>) -> Result<TenantPolicy, AdminError> {
        let (_, policy) = self.tenant_scope(by, Action::ReadPolicy).await?;
        Ok(policy)
    }

    /// Replaces the policy. A value out of bounds names its field. Protected
    /// accounts and groups are resolved in the tenant's directory to its
    /// immutable ids and stored that way; an entry the directory does not
    /// know is refused by name. With no connection yet they stay
    /// unresolved, and every action escalates until a connection resolves
    /// them.
    pub async fn put_policy(
        &self,
        by: RequestedBy<'_>,
        mut policy: TenantPolicy,
    ) -> Result<TenantPolicy, AdminError> {
        let (scope, _) = self.tenant_write_scope(by, Action::WritePolicy).await?;
        policy
            .validate()
            .map_err(|e: PolicyError| AdminError::Invalid {
                field: e.field(),
                reason: "is out of the allowed bounds",
            })?;
        policy.protected_ids = None;
        if policy.has_protected_entries()
            && let Some(directory) = self.stored_directory(&scope).await?
        {
            policy.protected_ids = Some(self.resolve_protection(&directory, &policy).await?);
        }
        self.store_policy(&scope, &policy).await?;
        let automated: Vec<&str> = policy.auto_resolve.iter().map(|c| c.as_str()).collect();
        let details = [
            ("auto_resolve", automated.join(",")),
            (
                "protected_accounts",
                policy.protected_accounts.len().to_string(),
            ),
            (
                "protected_groups",
                policy.protected_groups.len().to_string(),
            ),
            (
                "ticket_retention_days",
                policy.retention.ticket_days.to_string(),
            ),
            (
                "audit_retention_days",
                policy.retention.audit_days.to_string(),
            ),
        ];
        self.publish_config(by, &scope, ConfigChange::PolicyUpdated, &details)
            .await;
        Ok(policy)
    }

    pub(crate) async fn store_policy(
        &self,
        scope: &TenantScope,
        policy: &TenantPolicy,
    ) -> Result<(), AdminError> {
        let mut tenant = self
            .tenants
            .get(scope)
            .await?
            .ok_or(AdminError::TenantInactive)?;
        tenant.policy = policy.clone();
        self.tenants.replace(scope, &tenant, "active").await?;
        self.gate.evict(scope.tenant());
        Ok(())
    }
}
