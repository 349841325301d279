//! Mints RS256 tokens as the local issuer, with the claim names the
//! functions read (defaults `tenant_id`, `role`, `sub`, `email`). Tokens are
//! for the local stack only: the issuer is a loopback URL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Header};

use crate::oidc::keys::SigningKey;

/// The claim names of docs/conventions.md (`CLAIM_*` variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub tenant: String,
    pub role: String,
    pub subject: String,
    pub email: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        ClaimNames {
            tenant: "tenant_id".to_owned(),
            role: "role".to_owned(),
            subject: "sub".to_owned(),
            email: "email".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// `None` for platform roles, which belong to no tenant.
    pub tenant: Option<String>,
    pub role: String,
    pub subject: String,
    pub lifetime: Duration,
    pub scopes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot sign the token")]
pub struct MintError(#[source] jsonwebtoken::errors::Error);

/// A signed token for `issuer` and `audience`.
pub fn mint(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    names: &ClaimNames,
    request: &TokenRequest,
) -> Result<String, MintError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut claims = serde_json::Map::new();
    claims.insert("iss".to_owned(), issuer.into());
    claims.insert("aud".to_owned(), audience.into());
    claims.insert("iat".to_owned(), now.into());
    claims.insert("nbf".to_owned(), now.into());
    claims.insert("exp".to_owned(), (now + request.lifetime.as_secs()).into());
    claims.insert("jti".to_owned(), ulid_like().into());
    claims.insert(names.subject.clone(), request.subject.clone().into());
    claims.insert(names.role.clone(), request.role.clone().into());
    if let Some(tenant) = &request.tenant {
        claims.insert(names.tenant.clone(), tenant.clone().into());
    }
    if request.subject.contains('@') {
        claims.insert(names.email.clone(), request.subject.clone().into());
    }
    if !request.scopes.is_empty() {
        claims.insert("scope".to_owned(), request.scopes.join(" ").into());
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, &claims, key.encoding_key()).map_err(MintError)
}

fn ulid_like() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
