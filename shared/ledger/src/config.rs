//! The environment of the ledger's functions (docs/conventions.md), read
//! once at start-up. A missing variable stops start-up with its name; no
//! value is ever defaulted, printed or logged.

use zerodesk_domain::ClaimNames;

use crate::purge::PurgeTables;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is missing or empty")]
pub struct MissingEnv(pub &'static str);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEnv {
    pub stage: String,
    pub event_bus_name: String,
    pub tables: PurgeTables,
    pub kms_key_id: String,
    pub claim_names: ClaimNames,
}

impl LedgerEnv {
    pub fn from_env() -> Result<Self, MissingEnv> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MissingEnv> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(MissingEnv(name))
        };
        let defaults = ClaimNames::default();
        let optional = |name: &str, default: String| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or(default)
        };
        Ok(LedgerEnv {
            stage: required("STAGE")?,
            event_bus_name: required("EVENT_BUS_NAME")?,
            tables: PurgeTables {
                tenants: required("TENANTS_TABLE")?,
                tickets: required("TICKETS_TABLE")?,
                audit: required("AUDIT_TABLE")?,
                idempotency: required("IDEMPOTENCY_TABLE")?,
            },
            kms_key_id: required("KMS_KEY_ID")?,
            claim_names: ClaimNames {
                tenant: optional("CLAIM_TENANT", defaults.tenant),
                role: optional("CLAIM_ROLE", defaults.role),
                subject: optional("CLAIM_SUBJECT", defaults.subject),
                email: optional("CLAIM_EMAIL", defaults.email),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named_and_nothing_is_defaulted() {
        let full = |name: &str| Some(format!("v-{name}"));
        let env = LedgerEnv::from_lookup(full).unwrap();
        assert_eq!(env.tables.audit, "v-AUDIT_TABLE");
        assert_eq!(env.claim_names.tenant, "v-CLAIM_TENANT");
        let without_audit = |name: &str| (name != "AUDIT_TABLE").then(|| format!("v-{name}"));
        assert_eq!(
            LedgerEnv::from_lookup(without_audit),
            Err(MissingEnv("AUDIT_TABLE"))
        );
        let blank = |name: &str| {
            Some(if name == "STAGE" {
                " ".into()
            } else {
                "x".into()
            })
        };
        assert_eq!(LedgerEnv::from_lookup(blank), Err(MissingEnv("STAGE")));
    }
}
