//! The local issuer's RSA signing key: generated once, kept under the state
//! directory (owner-only), published as a JWKS. Only this module touches the
//! private key; nothing prints or logs it.

use std::io::Write;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

const KEY_FILE: &str = "oidc-signing-key.pem";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} does not hold an RSA private key (delete it to make a new one)")]
    Invalid { path: PathBuf },
    #[error("RSA key generation failed")]
    Generate,
}

/// The issuer's key pair, with its public half in JWK form.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    n: String,
    e: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("private", &"[redacted]")
            .finish()
    }
}

impl SigningKey {
    /// Loads the key from `dir`, generating and saving one when absent.
    pub fn load_or_create(dir: &Path) -> Result<SigningKey, KeyError> {
        let path = dir.join(KEY_FILE);
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read(&path) {
            Ok(pem) => SigningKey::from_pkcs8_pem(&pem).ok_or(KeyError::Invalid { path }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(io)?;
                let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
                let der = pair.as_der().map_err(|_| KeyError::Generate)?;
                let pem = pkcs8_pem(der.as_ref());
                write_private(&path, pem.as_bytes()).map_err(io)?;
                SigningKey::from_pkcs8_pem(pem.as_bytes()).ok_or(KeyError::Invalid { path })
            }
            Err(e) => Err(io(e)),
        }
    }

    fn from_pkcs8_pem(pem: &[u8]) -> Option<SigningKey> {
        let text = std::str::from_utf8(pem).ok()?;
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(body.trim()).ok()?;
        let pair = KeyPair::from_pkcs8(&der).ok()?;
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let encoding = EncodingKey::from_rsa_pem(pem).ok()?;
        Some(SigningKey {
            kid: thumbprint(&n, &e),
            encoding,
            n,
            e,
        })
    }

    /// RFC 7638 thumbprint of the public key: stable across restarts.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The public key as the JWKS document's one entry.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e})
    }

    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.jwk()] })
    }

    /// Signs arbitrary claims under `kid`. The stack signs only under its own
    /// kid; another kid is how tests forge tokens the verifier must refuse.
    pub fn sign_with_kid(
        &self,
        kid: &str,
        claims: &serde_json::Value,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }

    /// The public modulus (base64url), e.g. as the secret of a forged HS256 token.
    pub fn modulus_b64(&self) -> &str {
        &self.n
    }

    pub fn decoding_key(&self) -> Option<DecodingKey> {
        DecodingKey::from_rsa_components(&self.n, &self.e).ok()
    }
}

fn thumbprint(n: &str, e: &str) -> String {
    // Members in lexicographic order, no whitespace (RFC 7638 section 3).
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn pkcs8_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_saved_owner_only_and_reloads_with_the_same_kid() {
        let dir = crate::testing::temp_dir("keys");
        let first = SigningKey::load_or_create(&dir).unwrap();
        let second = SigningKey::load_or_create(&dir).unwrap();
        assert_eq!(first.kid(), second.kid());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key file must not be readable by others");
        assert_eq!(first.jwks()["keys"][0]["kid"], first.kid());
        assert!(!format!("{first:?}").contains(&first.n));
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_silent_new_key() {
        let dir = crate::testing::temp_dir("corrupt");
        std::fs::write(dir.join(KEY_FILE), b"not a key").unwrap();
        assert!(matches!(
            SigningKey::load_or_create(&dir),
            Err(KeyError::Invalid { .. })
        ));
    }
}
