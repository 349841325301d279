//! A tenant's automation policy: which categories run unattended, which
//! accounts and groups are never touched, retention and rate limits, each
//! within the bounds the platform allows.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::classification::Category;
use crate::ids::AccountRef;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("only password_reset and account_unlock can be automated")]
    NotAutomatable { field: &'static str },
    #[error("value out of the allowed range {min}..={max}")]
    OutOfRange {
        field: &'static str,
        min: u32,
        max: u32,
    },
    #[error("too many entries (at most {max})")]
    TooMany { field: &'static str, max: usize },
    #[error("group names must be 1-256 characters")]
    BadGroup { field: &'static str },
}

impl PolicyError {
    /// The JSON field the error is about, for the 400 response.
    pub fn field(&self) -> &'static str {
        match self {
            PolicyError::NotAutomatable { field }
            | PolicyError::OutOfRange { field, .. }
            | PolicyError::TooMany { field, .. }
            | PolicyError::BadGroup { field } => field,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days a closed ticket is kept (default 730, 30..=3650).
    pub ticket_days: u32,
    /// Days an audit record is kept (default 730, 365..=3650).
    pub audit_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            ticket_days: 730,
            audit_days: 730,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Automated actions per target account per hour (1..=20, default 3).
    pub per_account_per_hour: u32,
    /// Automated actions per tenant per hour (1..=10000, default 100).
    pub per_tenant_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_account_per_hour: 3,
            per_tenant_per_hour: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPolicy {
    /// Categories that run without a human when every other rule allows.
    /// Empty by default: automation is something a tenant turns on.
    #[serde(default)]
    pub auto_resolve: BTreeSet<Category>,
    #[serde(default)]
    pub protected_accounts: BTreeSet<AccountRef>,
    /// Directory groups whose members are never automated.
    #[serde(default)]
    pub protected_groups: BTreeSet<String>,
    #[serde(default)]
    pub retention: RetentionPolicy,
    #[serde(default)]
    pub rate_limits: RateLimits,
}

impl TenantPolicy {
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.auto_resolve.iter().any(|c| !c.is_automatable()) {
            return Err(PolicyError::NotAutomatable {
                field: "auto_resolve",
            });
        }
        if self.protected_accounts.len() > 1000 {
            return Err(PolicyError::TooMany {
                field: "protected_accounts",
                max: 1000,
            });
        }
        if self.protected_groups.len() > 100 {
            return Err(PolicyError::TooMany {
                field: "protected_groups",
                max: 100,
            });
        }
        if self
            .protected_groups
            .iter()
            .any(|g| g.is_empty() || g.len() > 256)
        {
            return Err(PolicyError::BadGroup {
                field: "protected_groups",
            });
        }
        range(
            "retention.ticket_days",
            self.retention.ticket_days,
            30,
            3650,
        )?;
        range("retention.audit_days", self.retention.audit_days, 365, 3650)?;
        range(
            "rate_limits.per_account_per_hour",
            self.rate_limits.per_account_per_hour,
            1,
            20,
        )?;
        range(
            "rate_limits.per_tenant_per_hour",
            self.rate_limits.per_tenant_per_hour,
            1,
            10_000,
        )?;
        Ok(())
    }

    pub fn automates(&self, category: Category) -> bool {
        category.is_automatable() && self.auto_resolve.contains(&category)
    }

    pub fn is_protected(&self, account: &AccountRef) -> bool {
        self.protected_accounts.contains(account)
    }
}

fn range(field: &'static str, value: u32, min: u32, max: u32) -> Result<(), PolicyError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(PolicyError::OutOfRange { field, min, max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid_and_automates_nothing() {
        let p = TenantPolicy::default();
        assert!(p.validate().is_ok());
        assert!(!p.automates(Category::PasswordReset));
    }

    #[test]
    fn mfa_can_never_be_automated() {
        let p = TenantPolicy {
            auto_resolve: [Category::MfaReset].into(),
            ..Default::default()
        };
        assert_eq!(p.validate().unwrap_err().field(), "auto_resolve");
        assert!(!p.automates(Category::MfaReset));
    }

    #[test]
    fn retention_outside_bounds_names_the_field() {
        let mut p = TenantPolicy::default();
        p.retention.audit_days = 30;
        assert_eq!(p.validate().unwrap_err().field(), "retention.audit_days");
    }

    #[test]
    fn unknown_policy_fields_are_refused() {
        assert!(serde_json::from_str::<TenantPolicy>(r#"{"auto_resolve":[],"bogus":1}"#).is_err());
        let p: TenantPolicy = serde_json::from_str(
            r#"{"auto_resolve":["password_reset"],"protected_accounts":["Root@X.example"]}"#,
        )
        .unwrap();
        assert!(p.automates(Category::PasswordReset));
        assert!(p.is_protected(&AccountRef::parse("root@x.example").unwrap()));
    }
}
