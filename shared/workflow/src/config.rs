//! The environment every ticket function reads at start-up (docs/conventions.md).
//! Fails closed: a missing variable stops the function with its name, and
//! values are never printed (some are ARNs a log does not need).

use zerodesk_domain::ClaimNames;

use crate::context::Tables;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is missing or empty")]
pub struct MissingEnv(pub &'static str);

#[derive(Debug, Clone)]
pub struct FunctionEnv {
    pub stage: String,
    pub event_bus_name: String,
    pub tables: Tables,
    pub kms_key_id: String,
    pub claim_names: ClaimNames,
}

impl FunctionEnv {
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
        Ok(FunctionEnv {
            stage: required("STAGE")?,
            event_bus_name: required("EVENT_BUS_NAME")?,
            tables: Tables {
                tenants: required("TENANTS_TABLE")?,
                tickets: required("TICKETS_TABLE")?,
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
    use std::collections::HashMap;

    fn full() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("STAGE", "dev"),
            ("EVENT_BUS_NAME", "bus"),
            ("TENANTS_TABLE", "t"),
            ("TICKETS_TABLE", "k"),
            ("IDEMPOTENCY_TABLE", "i"),
            ("KMS_KEY_ID", "key"),
        ])
    }

    #[test]
    fn a_missing_variable_is_named() {
        let mut env = full();
        env.remove("TICKETS_TABLE");
        let err = FunctionEnv::from_lookup(|k| env.get(k).map(|v| (*v).to_owned())).unwrap_err();
        assert_eq!(err, MissingEnv("TICKETS_TABLE"));
    }

    #[test]
    fn claim_names_default_and_override() {
        let mut env = full();
        let e = FunctionEnv::from_lookup(|k| env.get(k).map(|v| (*v).to_owned())).unwrap();
        assert_eq!(e.claim_names, ClaimNames::default());
        env.insert("CLAIM_ROLE", "cognito:groups");
        let e = FunctionEnv::from_lookup(|k| env.get(k).map(|v| (*v).to_owned())).unwrap();
        assert_eq!(e.claim_names.role, "cognito:groups");
    }
}
