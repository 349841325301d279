//! The HTTP API JWT authorizer, as API Gateway applies it: RS256 signature
//! by `kid` from the JWKS, then `iss`, `aud` (or `client_id`), `exp`, `nbf`,
//! `iat` and route scopes. It decides; it never calls a function.

use std::collections::{BTreeMap, HashMap};

use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// Claims as API Gateway hands them to the function: every value a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub claims: BTreeMap<String, String>,
    pub scopes: Option<Vec<String>>,
}

/// Why a request was refused. The reason goes to the `www-authenticate`
/// header only, as API Gateway does; it never contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    Unauthorized(&'static str),
    Forbidden,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum IdentitySource {
    Header(String),
    Query(String),
}

struct Jwk {
    alg: Option<String>,
    key: DecodingKey,
}

pub struct JwtAuthorizer {
    issuer: String,
    audiences: Vec<String>,
    source: IdentitySource,
    keys: HashMap<String, Jwk>,
}

impl std::fmt::Debug for JwtAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthorizer")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl JwtAuthorizer {
    /// `jwks` is the issuer's JWKS document; keys that are not RSA are ignored.
    pub fn new(
        issuer: &str,
        audiences: Vec<String>,
        identity_source: &str,
        jwks: &serde_json::Value,
    ) -> Self {
        let source = match identity_source.strip_prefix("$request.querystring.") {
            Some(name) => IdentitySource::Query(name.to_owned()),
            None => IdentitySource::Header(
                identity_source
                    .strip_prefix("$request.header.")
                    .unwrap_or("Authorization")
                    .to_ascii_lowercase(),
            ),
        };
        let mut keys = HashMap::new();
        for k in jwks["keys"].as_array().into_iter().flatten() {
            let (Some("RSA"), Some(kid), Some(n), Some(e)) = (
                k["kty"].as_str(),
                k["kid"].as_str(),
                k["n"].as_str(),
                k["e"].as_str(),
            ) else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_rsa_components(n, e) {
                keys.insert(
                    kid.to_owned(),
                    Jwk {
                        alg: k["alg"].as_str().map(str::to_owned),
                        key,
                    },
                );
            }
        }
        JwtAuthorizer {
            issuer: issuer.to_owned(),
            audiences,
            source,
            keys,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Checks the request's token; `now` is seconds since the epoch.
    pub fn authorize(
        &self,
        headers: &HeaderMap,
        query: Option<&str>,
        route_scopes: &[String],
        now: u64,
    ) -> Result<VerifiedToken, Denied> {
        let raw = match &self.source {
            IdentitySource::Header(name) => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            IdentitySource::Query(name) => query.and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            }),
        };
        let raw = raw.ok_or(Denied::Unauthorized("no token"))?;
        let token = strip_bearer(raw.trim());
        if token.is_empty() {
            return Err(Denied::Unauthorized("no token"));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Denied::Unauthorized("malformed token"))?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
        ) {
            return Err(Denied::Unauthorized("signing algorithm is not accepted"));
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or(Denied::Unauthorized("token has no kid"))?;
        let jwk = self
            .keys
            .get(kid)
            .ok_or(Denied::Unauthorized("kid is not in the JWKS"))?;
        if jwk
            .alg
            .as_deref()
            .is_some_and(|alg| alg != format!("{:?}", header.alg))
        {
            return Err(Denied::Unauthorized(
                "signing algorithm does not match the key",
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &jwk.key,
            &validation,
        )
        .map_err(|_| Denied::Unauthorized("signature is invalid"))?;
        let claims = data.claims;
        if claims.get("iss").and_then(|v| v.as_str()) != Some(self.issuer.as_str()) {
            return Err(Denied::Unauthorized("issuer is not accepted"));
        }
        if !self.audience_accepted(&claims) {
            return Err(Denied::Unauthorized("audience is not accepted"));
        }
        let time = |name: &str| {
            claims.get(name).map(|v| {
                v.as_f64()
                    .ok_or(Denied::Unauthorized("malformed time claim"))
            })
        };
        let exp = time("exp").ok_or(Denied::Unauthorized("token has no exp"))??;
        if exp <= now as f64 {
            return Err(Denied::Unauthorized("the token has expired"));
        }
        for name in ["nbf", "iat"] {
            if let Some(t) = time(name)
                && t? > now as f64
            {
                return Err(Denied::Unauthorized("the token is not valid yet"));
            }
        }
        let scopes = token_scopes(&claims);
        if !route_scopes.is_empty() {
            let granted = scopes.as_deref().unwrap_or_default();
            if !route_scopes.iter().any(|s| granted.contains(s)) {
                return Err(Denied::Forbidden);
            }
        }
        let claims = claims
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), claim_string(v)?)))
            .collect();
        Ok(VerifiedToken { claims, scopes })
    }

    fn audience_accepted(&self, claims: &serde_json::Map<String, serde_json::Value>) -> bool {
        let accepted = |v: &serde_json::Value| {
            v.as_str()
                .is_some_and(|a| self.audiences.iter().any(|x| x == a))
        };
        match claims.get("aud") {
            Some(serde_json::Value::Array(items)) => items.iter().any(accepted),
            Some(single) => accepted(single),
            // API Gateway falls back to client_id only when aud is absent.
            None => claims.get("client_id").is_some_and(accepted),
        }
    }
}

fn strip_bearer(value: &str) -> &str {
    let (first, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if first.eq_ignore_ascii_case("bearer") {
        rest.trim()
    } else {
        value
    }
}

fn token_scopes(claims: &serde_json::Map<String, serde_json::Value>) -> Option<Vec<String>> {
    let value = claims.get("scope").or_else(|| claims.get("scp"))?;
    match value {
        serde_json::Value::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

/// A claim as API Gateway writes it into the event: strings as they are,
/// numbers and booleans as text, arrays as `[a b]`, objects as `map[k:v]`.
pub fn claim_string(value: &serde_json::Value) -> Option<String> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Array(items) => {
            format!(
                "[{}]",
                items
                    .iter()
                    .filter_map(claim_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
        serde_json::Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .filter_map(|(k, v)| Some(format!("{k}:{}", claim_string(v)?)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::SigningKey;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const ISS: &str = "http://127.0.0.1:3000";
    const AUD: &str = "zerodesk-local";
    const NOW: u64 = 1_800_000_000;

    fn setup() -> (SigningKey, JwtAuthorizer) {
        let key = SigningKey::load_or_create(&crate::testing::temp_dir("authz")).unwrap();
        let authz = JwtAuthorizer::new(
            ISS,
            vec![AUD.to_owned()],
            "$request.header.Authorization",
            &key.jwks(),
        );
        (key, authz)
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({"iss": ISS, "aud": AUD, "sub": "alice@demo.example", "tenant_id": "demo",
            "role": "tenant_user", "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 600, "groups": ["a", "b"]})
    }

    fn check(authz: &JwtAuthorizer, token: &str) -> Result<VerifiedToken, Denied> {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        authz.authorize(&headers, None, &[], NOW)
    }

    fn with(mut c: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
        c[key] = value;
        c
    }

    #[test]
    fn a_valid_token_yields_string_claims() {
        let (key, authz) = setup();
        let verified = check(&authz, &key.sign_with_kid(key.kid(), &claims()).unwrap()).unwrap();
        assert_eq!(verified.claims["tenant_id"], "demo");
        assert_eq!(verified.claims["exp"], (NOW + 600).to_string());
        assert_eq!(verified.claims["groups"], "[a b]");
        assert_eq!(verified.scopes, None);
    }

    #[test]
    fn wrong_issuer_audience_expiry_and_not_before_are_refused() {
        let (key, authz) = setup();
        let refused = |c: serde_json::Value| {
            check(&authz, &key.sign_with_kid(key.kid(), &c).unwrap()).unwrap_err()
        };
        assert_eq!(
            refused(with(claims(), "iss", "http://evil".into())),
            Denied::Unauthorized("issuer is not accepted")
        );
        assert_eq!(
            refused(with(claims(), "aud", "other".into())),
            Denied::Unauthorized("audience is not accepted")
        );
        assert_eq!(
            refused(with(claims(), "exp", (NOW - 1).into())),
            Denied::Unauthorized("the token has expired")
        );
        assert_eq!(
            refused(with(claims(), "nbf", (NOW + 60).into())),
            Denied::Unauthorized("the token is not valid yet")
        );
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(refused(no_exp), Denied::Unauthorized("token has no exp"));
    }

    #[test]
    fn an_audience_array_or_client_id_is_accepted() {
        let (key, authz) = setup();
        let array = with(claims(), "aud", serde_json::json!(["x", AUD]));
        assert!(check(&authz, &key.sign_with_kid(key.kid(), &array).unwrap()).is_ok());
        let mut client = claims();
        client.as_object_mut().unwrap().remove("aud");
        client["client_id"] = AUD.into();
        assert!(check(&authz, &key.sign_with_kid(key.kid(), &client).unwrap()).is_ok());
    }

    #[test]
    fn forged_tokens_are_refused() {
        let (key, authz) = setup();
        let other = SigningKey::load_or_create(&crate::testing::temp_dir("authz-other")).unwrap();
        let forged = other.sign_with_kid(key.kid(), &claims()).unwrap();
        assert_eq!(
            check(&authz, &forged).unwrap_err(),
            Denied::Unauthorized("signature is invalid")
        );
        let unknown_kid = key.sign_with_kid("unknown", &claims()).unwrap();
        assert_eq!(
            check(&authz, &unknown_kid).unwrap_err(),
            Denied::Unauthorized("kid is not in the JWKS")
        );
        let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let none = format!(
            "{}.{}.",
            b64(serde_json::json!({"alg": "none", "kid": key.kid()})),
            b64(claims())
        );
        assert!(matches!(
            check(&authz, &none).unwrap_err(),
            Denied::Unauthorized(_)
        ));
        let mut hs = jsonwebtoken::Header::new(Algorithm::HS256);
        hs.kid = Some(key.kid().to_owned());
        let secret = jsonwebtoken::EncodingKey::from_secret(key.modulus_b64().as_bytes());
        let hs256 = jsonwebtoken::encode(&hs, &claims(), &secret).unwrap();
        assert_eq!(
            check(&authz, &hs256).unwrap_err(),
            Denied::Unauthorized("signing algorithm is not accepted")
        );
        assert_eq!(
            check(&authz, "").unwrap_err(),
            Denied::Unauthorized("no token")
        );
        assert_eq!(
            authz
                .authorize(&HeaderMap::new(), None, &[], NOW)
                .unwrap_err(),
            Denied::Unauthorized("no token")
        );
    }

    #[test]
    fn route_scopes_need_one_granted_scope() {
        let (key, authz) = setup();
        let token = key
            .sign_with_kid(
                key.kid(),
                &with(claims(), "scope", "tickets/read tickets/write".into()),
            )
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("authorization", token.parse().unwrap());
        let ok = authz
            .authorize(&headers, None, &["tickets/write".to_owned()], NOW)
            .unwrap();
        assert_eq!(ok.scopes.unwrap(), ["tickets/read", "tickets/write"]);
        let denied = authz.authorize(&headers, None, &["admin".to_owned()], NOW);
        assert_eq!(denied.unwrap_err(), Denied::Forbidden);
    }

    #[test]
    fn array_claims_become_space_separated_in_brackets_and_numbers_become_text() {
        assert_eq!(
            claim_string(&serde_json::json!(["a", "b"])).as_deref(),
            Some("[a b]")
        );
        assert_eq!(
            claim_string(&serde_json::json!(1700000000)).as_deref(),
            Some("1700000000")
        );
        assert_eq!(
            claim_string(&serde_json::json!(true)).as_deref(),
            Some("true")
        );
        assert_eq!(
            claim_string(&serde_json::json!({"k": "v"})).as_deref(),
            Some("map[k:v]")
        );
        assert_eq!(claim_string(&serde_json::Value::Null), None);
    }

    #[test]
    fn the_bearer_prefix_is_optional_and_case_insensitive() {
        assert_eq!(strip_bearer("Bearer abc"), "abc");
        assert_eq!(strip_bearer("bearer abc"), "abc");
        assert_eq!(strip_bearer("abc"), "abc");
        assert_eq!(strip_bearer("Bearer"), "");
    }
}
