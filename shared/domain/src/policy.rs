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
    #[error("list one to four distinct verification methods")]
    BadMethods { field: &'static str },
}

impl PolicyError {
    /// The JSON field the error is about, for the 400 response.
    pub fn field(&self) -> &'static str {
        match self {
            PolicyError::NotAutomatable { field }
            | PolicyError::OutOfRange { field, .. }
            | PolicyError::TooMany { field, .. }
            | PolicyError::BadGroup { field }
            | PolicyError::BadMethods { field } => field,
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

/// How an account's owner proves they are asking: through a channel the
/// directory already holds, never one the ticket or the intake supplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// Okta Verify push to an enrolled factor.
    OktaPush,
    /// A single-use link to the directory's recovery address.
    RecoveryEmail,
    /// A single-use link and a numeric code to the directory's recovery phone.
    RecoverySms,
    /// A tenant_manager records that they verified the person.
    ManagerAttests,
}

impl VerificationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationMethod::OktaPush => "okta_push",
            VerificationMethod::RecoveryEmail => "recovery_email",
            VerificationMethod::RecoverySms => "recovery_sms",
            VerificationMethod::ManagerAttests => "manager_attests",
        }
    }
}

/// Owner verification: which methods, in order of preference, and how long
/// a verification stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerVerificationPolicy {
    /// Tried in order; the first the account has a channel for is used.
    pub methods: Vec<VerificationMethod>,
    /// Minutes a verification stays open (default 15, 5..=60).
    pub expires_minutes: u32,
    /// A signed-in requester's own unlock skips verification. Never a reset:
    /// a login alone is not proof for a credential reset.
    #[serde(default)]
    pub waive_for_signed_in_unlock: bool,
}

impl Default for OwnerVerificationPolicy {
    fn default() -> Self {
        Self {
            methods: vec![
                VerificationMethod::OktaPush,
                VerificationMethod::RecoveryEmail,
                VerificationMethod::RecoverySms,
            ],
            expires_minutes: 15,
            waive_for_signed_in_unlock: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPolicy {
    /// Categories that run without a human when every other rule allows.
    /// Empty by default: automation is something a tenant turns on.
    #[serde(default)]
    pub auto_resolve: BTreeSet<Category>,
    /// Accounts never automated, as the tenant's administrator named them.
    #[serde(default)]
    pub protected_accounts: BTreeSet<AccountRef>,
    /// Directory groups whose members are never automated, by name (on
    /// Google, the group's address).
    #[serde(default)]
    pub protected_groups: BTreeSet<String>,
    /// The two lists above as the directory resolved them to immutable ids
    /// when the policy or the connection was last stored. Written by the
    /// service only; whatever a client sends here is replaced.
    #[serde(default)]
    pub protected_ids: Option<ProtectedIds>,
    #[serde(default)]
    pub retention: RetentionPolicy,
    #[serde(default)]
    pub rate_limits: RateLimits,
    #[serde(default)]
    pub owner_verification: OwnerVerificationPolicy,
    /// Who is alerted when an account's owner reports "This wasn't me".
    #[serde(default)]
    pub security_contacts: BTreeSet<AccountRef>,
    /// Hours an auto_resolve decision or a manager's approval stays
    /// actionable (default 24, 1..=168); after that it escalates.
    #[serde(default = "default_decision_expiry_hours")]
    pub decision_expiry_hours: u32,
}

fn default_decision_expiry_hours() -> u32 {
    24
}

impl Default for TenantPolicy {
    fn default() -> Self {
        Self {
            auto_resolve: BTreeSet::new(),
            protected_accounts: BTreeSet::new(),
            protected_groups: BTreeSet::new(),
            protected_ids: None,
            retention: RetentionPolicy::default(),
            rate_limits: RateLimits::default(),
            owner_verification: OwnerVerificationPolicy::default(),
            security_contacts: BTreeSet::new(),
            decision_expiry_hours: default_decision_expiry_hours(),
        }
    }
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
        if self.security_contacts.len() > 20 {
            return Err(PolicyError::TooMany {
                field: "security_contacts",
                max: 20,
            });
        }
        let methods = &self.owner_verification.methods;
        let distinct: BTreeSet<_> = methods.iter().collect();
        if methods.is_empty() || methods.len() > 4 || distinct.len() != methods.len() {
            return Err(PolicyError::BadMethods {
                field: "owner_verification.methods",
            });
        }
        range("decision_expiry_hours", self.decision_expiry_hours, 1, 168)?;
        range(
            "owner_verification.expires_minutes",
            self.owner_verification.expires_minutes,
            5,
            60,
        )?;
        Ok(())
    }

    pub fn automates(&self, category: Category) -> bool {
        category.is_automatable() && self.auto_resolve.contains(&category)
    }

    /// Whether `account`, as written, is one of the protected names. A cue
    /// for triage only: the decision before acting compares the account the
    /// directory resolved (see `protected_ids`).
    pub fn is_protected(&self, account: &AccountRef) -> bool {
        self.protected_accounts.contains(account)
    }

    /// Whether the policy protects anything beyond administrators.
    pub fn has_protected_entries(&self) -> bool {
        !self.protected_accounts.is_empty() || !self.protected_groups.is_empty()
    }

    /// The resolved ids, if they were resolved against `provider`'s
    /// directory. `None` while there is something to protect and it is not
    /// (yet, or no longer) resolved there: callers must fail closed.
    pub fn protected_ids_for(&self, provider: &str) -> Option<ProtectedIds> {
        match &self.protected_ids {
            Some(ids) if ids.provider == provider => Some(ids.clone()),
            _ if !self.has_protected_entries() => Some(ProtectedIds::none(provider)),
            _ => None,
        }
    }
}

/// Protected accounts and groups as the tenant's directory identifies them:
/// ids that an alias, a rename or a change of case does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedIds {
    /// The directory they were resolved in (`google_workspace`,
    /// `microsoft_graph`, `okta`).
    pub provider: String,
    pub accounts: BTreeSet<String>,
    pub groups: BTreeSet<String>,
}

impl ProtectedIds {
    pub fn none(provider: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            accounts: BTreeSet::new(),
            groups: BTreeSet::new(),
        }
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
    fn verification_methods_must_be_listed_once_each() {
        let mut p = TenantPolicy::default();
        p.owner_verification.methods = vec![];
        assert_eq!(
            p.validate().unwrap_err().field(),
            "owner_verification.methods"
        );
        p.owner_verification.methods = vec![
            VerificationMethod::RecoveryEmail,
            VerificationMethod::RecoveryEmail,
        ];
        assert_eq!(
            p.validate().unwrap_err().field(),
            "owner_verification.methods"
        );
        p.owner_verification.methods = vec![VerificationMethod::ManagerAttests];
        assert!(p.validate().is_ok());
        p.owner_verification.expires_minutes = 240;
        assert_eq!(
            p.validate().unwrap_err().field(),
            "owner_verification.expires_minutes"
        );
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

    #[test]
    fn protection_not_resolved_in_this_directory_fails_closed() {
        let mut p = TenantPolicy::default();
        assert_eq!(
            p.protected_ids_for("okta"),
            Some(ProtectedIds::none("okta")),
            "nothing to protect needs no resolution"
        );
        p.protected_groups.insert("Finance".to_owned());
        assert_eq!(p.protected_ids_for("okta"), None);
        let mut ids = ProtectedIds::none("microsoft_graph");
        ids.groups.insert("g-1".to_owned());
        p.protected_ids = Some(ids.clone());
        assert_eq!(p.protected_ids_for("microsoft_graph"), Some(ids));
        assert_eq!(p.protected_ids_for("okta"), None, "resolved elsewhere");
    }
}
