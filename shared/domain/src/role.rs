//! The eight roles (docs/architecture.md section 3). A role string that is not one of these
//! is refused, never mapped to a default.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    TenantUser,
    TenantManager,
    TenantAdmin,
    TenantAuditor,
    AutomationService,
    PlatformOperator,
    PlatformAdmin,
    ReadonlyAuditor,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::TenantUser,
        Role::TenantManager,
        Role::TenantAdmin,
        Role::TenantAuditor,
        Role::AutomationService,
        Role::PlatformOperator,
        Role::PlatformAdmin,
        Role::ReadonlyAuditor,
    ];

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::TenantUser => "tenant_user",
            Role::TenantManager => "tenant_manager",
            Role::TenantAdmin => "tenant_admin",
            Role::TenantAuditor => "tenant_auditor",
            Role::AutomationService => "automation_service",
            Role::PlatformOperator => "platform_operator",
            Role::PlatformAdmin => "platform_admin",
            Role::ReadonlyAuditor => "readonly_auditor",
        }
    }

    /// Platform roles are not bound to a tenant by their token; they reach a
    /// tenant only through `/platform/tenants/{tenant}/...`, audited.
    pub fn is_platform(self) -> bool {
        matches!(
            self,
            Role::PlatformOperator | Role::PlatformAdmin | Role::ReadonlyAuditor
        )
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(Role::parse("TENANT_USER"), None);
    }
}
