//! `TenantScope`: the capability every tenant-data call takes. It can be
//! built only from a tenant principal, from an audited platform access, or
//! by a named system task; partition keys are derived from it and nowhere else.

use crate::ids::TenantId;
use crate::permissions::{Action, is_allowed};
use crate::principal::{Principal, PrincipalScope};

/// Work that runs without a caller (events, schedules, onboarding). Named so
/// that every such entry point is visible in code review and in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTask {
    /// audit-write appending an event to the tenant's own chain.
    AuditAppend,
    /// retention-purge deleting expired or offboarded data.
    RetentionPurge,
    /// An action triggered by a domain event (unlock after auto_resolve triage).
    EventDrivenAction,
    /// A platform_admin creating, offboarding or restoring a tenant.
    TenantLifecycle,
    /// The verification page acting for an account's owner who proved a
    /// directory-held channel (no JWT: the owner may be locked out).
    OwnerVerification,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeOrigin {
    Principal,
    PlatformAccess { operator: String },
    System(SystemTask),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    tenant: TenantId,
    origin: ScopeOrigin,
}

impl TenantScope {
    /// The scope of a tenant principal's own tenant; `None` for platform roles.
    pub fn for_principal(principal: &Principal) -> Option<TenantScope> {
        match &principal.scope {
            PrincipalScope::Tenant(t) => Some(TenantScope {
                tenant: t.clone(),
                origin: ScopeOrigin::Principal,
            }),
            PrincipalScope::Platform => None,
        }
    }

    /// A platform principal reaching one tenant through `/platform/tenants/{tenant}`.
    /// The caller must record the access in that tenant's trail.
    pub fn for_platform_access(
        principal: &Principal,
        tenant: TenantId,
        action: Action,
    ) -> Option<TenantScope> {
        let platform_action = matches!(
            action,
            Action::PlatformReadTenant | Action::PlatformActOnTenant
        );
        (principal.role.is_platform() && platform_action && is_allowed(principal.role, action))
            .then(|| TenantScope {
                tenant,
                origin: ScopeOrigin::PlatformAccess {
                    operator: principal.subject.clone(),
                },
            })
    }

    pub fn for_system_task(tenant: TenantId, task: SystemTask) -> TenantScope {
        TenantScope {
            tenant,
            origin: ScopeOrigin::System(task),
        }
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn origin(&self) -> &ScopeOrigin {
        &self.origin
    }

    /// `TENANT#<id>`: the leading key of every item of this tenant.
    pub fn partition_key(&self) -> String {
        format!("TENANT#{}", self.tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    fn principal(role: Role, tenant: Option<&str>) -> Principal {
        Principal {
            subject: "s".into(),
            email: None,
            role,
            scope: match tenant {
                Some(t) => PrincipalScope::Tenant(TenantId::parse(t).unwrap()),
                None => PrincipalScope::Platform,
            },
        }
    }

    #[test]
    fn a_tenant_principal_scopes_to_its_own_tenant() {
        let s = TenantScope::for_principal(&principal(Role::TenantUser, Some("demo"))).unwrap();
        assert_eq!(s.partition_key(), "TENANT#demo");
        assert!(TenantScope::for_principal(&principal(Role::PlatformOperator, None)).is_none());
    }

    #[test]
    fn only_platform_roles_get_platform_access() {
        let t = TenantId::parse("demo").unwrap();
        let op = principal(Role::PlatformOperator, None);
        assert!(
            TenantScope::for_platform_access(&op, t.clone(), Action::PlatformReadTenant).is_some()
        );
        let admin = principal(Role::PlatformAdmin, None);
        assert!(
            TenantScope::for_platform_access(&admin, t.clone(), Action::PlatformReadTenant)
                .is_none()
        );
        let user = principal(Role::TenantAdmin, Some("other"));
        assert!(
            TenantScope::for_platform_access(&user, t.clone(), Action::PlatformReadTenant)
                .is_none()
        );
        let auditor = principal(Role::ReadonlyAuditor, None);
        assert!(
            TenantScope::for_platform_access(&auditor, t.clone(), Action::PlatformActOnTenant)
                .is_none()
        );
        assert!(TenantScope::for_platform_access(&op, t, Action::ReadAudit).is_none());
    }
}
