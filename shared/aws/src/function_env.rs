//! The environment every function reads once at start-up (docs/conventions.md).
//! Fails closed: a missing or blank variable stops start-up with its name;
//! no value is defaulted (claim names excepted: they default to the standard claims),
//! printed or logged.

use zerodesk_domain::ClaimNames;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is missing or empty")]
pub struct MissingEnv(pub &'static str);

/// Physical table names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub tenants: String,
    pub tickets: String,
    pub audit: String,
    pub idempotency: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionEnv {
    pub stage: String,
    pub event_bus_name: String,
    pub tables: TableNames,
    pub kms_key_id: String,
    pub claim_names: ClaimNames,
}

impl FunctionEnv {
    pub fn from_env() -> Result<Self, MissingEnv> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MissingEnv> {
        let present = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| present(name).ok_or(MissingEnv(name));
        let defaults = ClaimNames::default();
        Ok(FunctionEnv {
            stage: required("STAGE")?,
            event_bus_name: required("EVENT_BUS_NAME")?,
            tables: TableNames {
                tenants: required("TENANTS_TABLE")?,
                tickets: required("TICKETS_TABLE")?,
                audit: required("AUDIT_TABLE")?,
                idempotency: required("IDEMPOTENCY_TABLE")?,
            },
            kms_key_id: required("KMS_KEY_ID")?,
            claim_names: ClaimNames {
                tenant: present("CLAIM_TENANT").unwrap_or(defaults.tenant),
                role: present("CLAIM_ROLE").unwrap_or(defaults.role),
                subject: present("CLAIM_SUBJECT").unwrap_or(defaults.subject),
                email: present("CLAIM_EMAIL").unwrap_or(defaults.email),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_blank_variable_is_named() {
        let full = |name: &str| Some(format!("v-{name}"));
        let env = FunctionEnv::from_lookup(full).unwrap();
        assert_eq!(env.tables.audit, "v-AUDIT_TABLE");
        assert_eq!(env.claim_names.tenant, "v-CLAIM_TENANT");
        let without_audit = |name: &str| (name != "AUDIT_TABLE").then(|| format!("v-{name}"));
        assert_eq!(
            FunctionEnv::from_lookup(without_audit),
            Err(MissingEnv("AUDIT_TABLE"))
        );
        let blank_stage = |name: &str| {
            Some(if name == "STAGE" {
                " ".into()
            } else {
                "x".into()
            })
        };
        assert_eq!(
            FunctionEnv::from_lookup(blank_stage),
            Err(MissingEnv("STAGE"))
        );
    }

    #[test]
    fn claim_names_default_to_designs_names() {
        let no_claims = |name: &str| (!name.starts_with("CLAIM_")).then(|| "x".to_owned());
        assert_eq!(
            FunctionEnv::from_lookup(no_claims).unwrap().claim_names,
            ClaimNames::default()
        );
    }
}
