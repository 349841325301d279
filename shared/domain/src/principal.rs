//! Who is calling, built only from the claims the JWT authorizer verified.
//! Anything missing, malformed or unknown is refused; nothing is defaulted.

use std::collections::HashMap;

use crate::ids::{AccountRef, TenantId};
use crate::role::Role;

/// Claim names are configuration: identity providers name custom claims differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub tenant: String,
    pub role: String,
    pub subject: String,
    pub email: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            tenant: "tenant_id".into(),
            role: "role".into(),
            subject: "sub".into(),
            email: "email".into(),
        }
    }
}

/// Why a claims map was refused. Each case is distinct so logs and tests can
/// tell them apart; none carries the claim values themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    #[error("no verified claims")]
    NoClaims,
    #[error("the tenant claim is missing")]
    MissingTenant,
    #[error("the tenant claim is malformed")]
    MalformedTenant,
    #[error("the role claim is missing")]
    MissingRole,
    #[error("the role claim names no known role")]
    UnknownRole,
    #[error("the role claim names more than one role")]
    AmbiguousRole,
    #[error("the subject claim is missing")]
    MissingSubject,
    #[error("the email claim is malformed")]
    MalformedEmail,
    #[error("a platform role must not carry a tenant claim")]
    PlatformRoleWithTenant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalScope {
    /// Bound to one tenant by the verified token.
    Tenant(TenantId),
    /// A platform role: reaches tenants only through audited platform routes.
    Platform,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub email: Option<AccountRef>,
    pub role: Role,
    pub scope: PrincipalScope,
}

impl Principal {
    /// Builds a principal from verified JWT claims. API Gateway passes every
    /// claim as a string; array claims arrive as `"[a b]"`.
    pub fn from_claims(
        claims: &HashMap<String, String>,
        names: &ClaimNames,
    ) -> Result<Principal, ClaimsError> {
        if claims.is_empty() {
            return Err(ClaimsError::NoClaims);
        }
        let role = parse_role(claims.get(&names.role))?;
        let subject = claims
            .get(&names.subject)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or(ClaimsError::MissingSubject)?
            .to_owned();
        let email = match claims.get(&names.email) {
            None => None,
            Some(raw) => Some(AccountRef::parse(raw).map_err(|_| ClaimsError::MalformedEmail)?),
        };
        let tenant_claim = claims
            .get(&names.tenant)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty());
        let scope = if role.is_platform() {
            if tenant_claim.is_some() {
                return Err(ClaimsError::PlatformRoleWithTenant);
            }
            PrincipalScope::Platform
        } else {
            let raw = tenant_claim.ok_or(ClaimsError::MissingTenant)?;
            PrincipalScope::Tenant(TenantId::parse(raw).map_err(|_| ClaimsError::MalformedTenant)?)
        };
        Ok(Principal {
            subject,
            email,
            role,
            scope,
        })
    }

    /// The tenant this principal is bound to, if it is a tenant principal.
    pub fn tenant(&self) -> Option<&TenantId> {
        match &self.scope {
            PrincipalScope::Tenant(t) => Some(t),
            PrincipalScope::Platform => None,
        }
    }
}

/// `"tenant_user"` or `"[tenant_user]"`; exactly one known role must remain.
fn parse_role(raw: Option<&String>) -> Result<Role, ClaimsError> {
    let raw = raw
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .ok_or(ClaimsError::MissingRole)?;
    let values = split_array_claim(raw);
    if values.is_empty() {
        return Err(ClaimsError::MissingRole);
    }
    let mut roles: Vec<Role> = Vec::with_capacity(values.len());
    for v in values {
        let role = Role::parse(v).ok_or(ClaimsError::UnknownRole)?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    match roles.as_slice() {
        [one] => Ok(*one),
        _ => Err(ClaimsError::AmbiguousRole),
    }
}

/// API Gateway's string form of an array claim is `[a b c]`.
pub fn split_array_claim(raw: &str) -> Vec<&str> {
    match raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) => inner
            .split([' ', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        None => vec![raw],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<Principal, ClaimsError> {
        Principal::from_claims(&claims(pairs), &ClaimNames::default())
    }

    #[test]
    fn a_tenant_user_is_built_from_its_claims() {
        let p = parse(&[
            ("tenant_id", "demo"),
            ("role", "tenant_user"),
            ("sub", "user-1"),
            ("email", "Alice@demo.example"),
        ])
        .unwrap();
        assert_eq!(p.role, Role::TenantUser);
        assert_eq!(p.tenant().unwrap().as_str(), "demo");
        assert_eq!(p.email.unwrap().as_str(), "alice@demo.example");
    }

    #[test]
    fn each_refusal_has_its_own_error() {
        assert_eq!(parse(&[]), Err(ClaimsError::NoClaims));
        assert_eq!(
            parse(&[("role", "tenant_user"), ("sub", "s")]),
            Err(ClaimsError::MissingTenant)
        );
        assert_eq!(
            parse(&[
                ("tenant_id", "de#mo"),
                ("role", "tenant_user"),
                ("sub", "s")
            ]),
            Err(ClaimsError::MalformedTenant)
        );
        assert_eq!(
            parse(&[("tenant_id", "demo"), ("role", "superuser"), ("sub", "s")]),
            Err(ClaimsError::UnknownRole)
        );
        assert_eq!(
            parse(&[("tenant_id", "demo"), ("sub", "s")]),
            Err(ClaimsError::MissingRole)
        );
        assert_eq!(
            parse(&[("tenant_id", "demo"), ("role", "tenant_user")]),
            Err(ClaimsError::MissingSubject)
        );
        assert_eq!(
            parse(&[
                ("tenant_id", "demo"),
                ("role", "tenant_user"),
                ("sub", "s"),
                ("email", "nope")
            ]),
            Err(ClaimsError::MalformedEmail)
        );
        assert_eq!(
            parse(&[
                ("tenant_id", "demo"),
                ("role", "[tenant_user tenant_admin]"),
                ("sub", "s")
            ]),
            Err(ClaimsError::AmbiguousRole)
        );
        assert_eq!(
            parse(&[
                ("tenant_id", "demo"),
                ("role", "platform_admin"),
                ("sub", "s")
            ]),
            Err(ClaimsError::PlatformRoleWithTenant)
        );
    }

    #[test]
    fn array_claims_with_one_role_are_accepted() {
        let p = parse(&[
            ("tenant_id", "demo"),
            ("role", "[tenant_manager]"),
            ("sub", "s"),
        ])
        .unwrap();
        assert_eq!(p.role, Role::TenantManager);
        let p = parse(&[
            ("tenant_id", "demo"),
            ("role", "[tenant_manager tenant_manager]"),
            ("sub", "s"),
        ])
        .unwrap();
        assert_eq!(p.role, Role::TenantManager);
    }

    #[test]
    fn claim_names_are_configurable() {
        let names = ClaimNames {
            tenant: "custom:tenant".into(),
            role: "cognito:groups".into(),
            subject: "sub".into(),
            email: "email".into(),
        };
        let c = claims(&[
            ("custom:tenant", "acme"),
            ("cognito:groups", "[tenant_admin]"),
            ("sub", "x"),
        ]);
        let p = Principal::from_claims(&c, &names).unwrap();
        assert_eq!(p.role, Role::TenantAdmin);
        // the default names are not consulted
        let c = claims(&[
            ("tenant_id", "acme"),
            ("role", "tenant_admin"),
            ("sub", "x"),
        ]);
        assert_eq!(
            Principal::from_claims(&c, &names),
            Err(ClaimsError::MissingRole)
        );
    }

    #[test]
    fn platform_roles_have_platform_scope() {
        let p = parse(&[("role", "platform_operator"), ("sub", "op")]).unwrap();
        assert_eq!(p.scope, PrincipalScope::Platform);
        assert!(p.tenant().is_none());
    }
}
