//! The local OIDC issuer: a persistent RSA key, its JWKS and discovery
//! document, and token minting for a tenant, role and subject.

pub mod keys;
pub mod mint;

pub use keys::{KeyError, SigningKey};
pub use mint::{ClaimNames, MintError, TokenRequest, mint};

/// The discovery document API Gateway would fetch from `<issuer>/.well-known/openid-configuration`.
pub fn discovery(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
    })
}
