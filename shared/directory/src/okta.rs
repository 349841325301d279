//! Okta through the Management API, authenticated either with an SSWS API
//! token or as an OAuth API service app (client credentials,
//! `private_key_jwt`, DPoP-bound tokens where the app requires them, as new
//! service apps do). Okta makes the temporary password itself; this module
//! only carries it back. Never follows a pagination link off the org's
//! origin, and polls a push only at the transaction URL it builds itself.

use std::time::{Duration, Instant};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use rand::rngs::OsRng;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LINK};
use reqwest::{RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};
use url::Url;
use zerodesk_domain::AccountRef;
use zeroize::Zeroizing;

use crate::credentials::{
    DirectoryEndpoints, OktaApiToken, OktaServiceApp, okta_org_url, rsa_signing_key,
};
use crate::error::DirectoryError;
use crate::http::{
    OAuthError, TokenResponse, Transport, empty_body, endpoint, retry_after, same_origin,
};
use crate::model::{
    AccessRevocation, AccountState, ConnectionReport, Directory, DirectoryGroup, DirectoryUser,
    OwnerChannels, Provider, PushChallenge, PushResult, RequirementKind, RequirementStatus,
    UnlockOutcome,
};
use crate::password::TemporaryPassword;
use crate::phone::e164;
use crate::secret::Secret;

/// The scopes a service app asks for, each with what it is for: the
/// `security` of every operation this module calls in Okta's management
/// description. Reads take the `.read` scope and changes the `.manage` one;
/// zerodesk asks for no other.
pub const OKTA_SCOPE_NEEDS: [(&str, &str); 4] = [
    (
        "okta.users.read",
        "read accounts, their groups and factors; poll a push",
    ),
    (
        "okta.users.manage",
        "issue a temporary password, unlock, clear sessions, send a push",
    ),
    ("okta.groups.read", "resolve protected groups by name or id"),
    (
        "okta.roles.read",
        "recognise administrators; check the service app's own admin role",
    ),
];

/// The same scopes, space-separated as sent to the token endpoint.
pub const OKTA_SCOPES: &str = "okta.users.read okta.users.manage okta.groups.read okta.roles.read";

/// What a connection check names when the service app holds no admin role:
/// Okta scopes grant nothing without one.
const ADMIN_ROLE_NEEDED: &str =
    "admin role (Help Desk Administrator or a custom role with user lifecycle permissions)";

const MAX_GROUP_PAGES: usize = 20;

/// Okta answers a group name query (`q`) with at most this many groups and
/// cannot page it.
const GROUP_QUERY_LIMIT: usize = 300;

/// Asks Okta Verify for a number challenge rather than a plain approve/deny
/// push, so an owner cannot approve a push they did not expect by reflex.
const NUMBER_CHALLENGE_BODY: &str = r#"{"useNumberMatchingChallenge":true}"#;
const CLIENT_ASSERTION_LIFETIME_SECS: u64 = 300;

/// Refresh a cached access token this long before Okta says it expires.
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

pub struct Okta {
    transport: Transport,
    org: Url,
    auth: OktaAuth,
}

enum OktaAuth {
    ApiToken(Secret),
    ServiceApp(Box<ServiceApp>),
}

struct ServiceApp {
    client_id: String,
    private_key: Secret,
    key_id: Option<String>,
    dpop: DpopKey,
    /// The token endpoint's latest `DPoP-Nonce`; Okta renews it daily and
    /// accepts an old one for three days.
    nonce: std::sync::Mutex<Option<String>>,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

#[derive(Clone)]
struct AccessToken {
    value: Secret,
    /// `token_type: DPoP`: every API call carries a proof of the key.
    dpop_bound: bool,
}

struct CachedToken {
    token: AccessToken,
    refresh_at: Instant,
}

/// The connector's ephemeral P-256 key for DPoP (RFC 9449). Made when the
/// connector is, never stored, never leaves the process.
struct DpopKey {
    signing: EncodingKey,
    public: Jwk,
}

#[derive(Serialize)]
struct DpopClaims<'a> {
    htm: &'a str,
    htu: &'a str,
    iat: u64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

#[derive(Deserialize)]
struct OktaUser {
    id: String,
    status: String,
    profile: OktaProfile,
}

#[derive(Deserialize)]
struct OktaProfile {
    login: String,
    #[serde(default)]
    email: Option<String>,
}

/// An enrolled factor, as `GET /api/v1/users/{id}/factors` lists it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaFactor {
    id: String,
    factor_type: String,
    #[serde(default)]
    provider: String,
    status: String,
    #[serde(default)]
    profile: Option<FactorProfile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FactorProfile {
    /// SMS factors.
    #[serde(default)]
    phone_number: Option<String>,
    /// Email factors.
    #[serde(default)]
    email: Option<String>,
}

/// A push as issued (201) or polled (200).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushTransaction {
    factor_result: String,
    #[serde(rename = "_links", default)]
    links: Option<PushLinks>,
    #[serde(rename = "_embedded", default)]
    embedded: Option<PushEmbedded>,
}

#[derive(Deserialize)]
struct PushLinks {
    poll: Option<Href>,
}

#[derive(Deserialize)]
struct Href {
    href: String,
}

#[derive(Deserialize)]
struct PushEmbedded {
    challenge: Option<NumberChallenge>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NumberChallenge {
    correct_answer: Option<u16>,
}

/// A role assignment: standard (`HELP_DESK_ADMIN`, ...) or `CUSTOM`,
/// assigned to the user, to a group they are in, or to a client app.
#[derive(Deserialize)]
struct OktaRole {
    #[serde(rename = "type")]
    _role_type: String,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize)]
struct OktaGroup {
    id: String,
    profile: OktaGroupProfile,
}

#[derive(Deserialize)]
struct OktaGroupProfile {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TempPasswordResponse {
    temp_password: Secret,
}

#[derive(Serialize)]
struct ClientAssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

impl Okta {
    pub fn with_api_token(
        credentials: OktaApiToken,
        endpoints: &DirectoryEndpoints,
    ) -> Result<Self, DirectoryError> {
        Ok(Self {
            transport: Transport::new(Provider::Okta, endpoints.timeout, endpoints.egress)?,
            org: okta_org_url(&credentials.org_url, endpoints.egress)?,
            auth: OktaAuth::ApiToken(credentials.api_token),
        })
    }

    pub fn with_service_app(
        credentials: OktaServiceApp,
        endpoints: &DirectoryEndpoints,
    ) -> Result<Self, DirectoryError> {
        rsa_signing_key(&credentials.private_key)?;
        Ok(Self {
            transport: Transport::new(Provider::Okta, endpoints.timeout, endpoints.egress)?,
            org: okta_org_url(&credentials.org_url, endpoints.egress)?,
            auth: OktaAuth::ServiceApp(Box::new(ServiceApp {
                client_id: credentials.client_id,
                private_key: credentials.private_key,
                key_id: credentials.key_id,
                dpop: DpopKey::generate()?,
                nonce: std::sync::Mutex::new(None),
                token: tokio::sync::Mutex::new(None),
            })),
        })
    }

    /// A `private_key_jwt` client assertion for the org endpoint `audience`.
    fn client_assertion(
        &self,
        app: &ServiceApp,
        audience: &Url,
    ) -> Result<Zeroizing<String>, DirectoryError> {
        let key = rsa_signing_key(&app.private_key)?;
        let iat = jsonwebtoken::get_current_timestamp();
        let claims = ClientAssertionClaims {
            iss: &app.client_id,
            sub: &app.client_id,
            aud: audience.as_str(),
            iat,
            exp: iat + CLIENT_ASSERTION_LIFETIME_SECS,
            jti: random_id(),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = app.key_id.clone();
        jsonwebtoken::encode(&header, &claims, &key)
            .map(Zeroizing::new)
            .map_err(|e| DirectoryError::config_because("service app key cannot sign", e))
    }

    /// Asks the org authorization server for a token with `scope`. Every
    /// request carries a DPoP proof: an app that requires DPoP binds the
    /// token to the connector's key (`token_type: DPoP`), one that does not
    /// answers `Bearer`. Okta first answers `use_dpop_nonce` with a
    /// `DPoP-Nonce` header; the request is repeated once with it (and a
    /// fresh assertion, whose `jti` Okta will not take twice).
    async fn request_token(
        &self,
        app: &ServiceApp,
        scope: &str,
    ) -> Result<(AccessToken, Duration), DirectoryError> {
        let token_url = endpoint(&self.org, &["oauth2", "v1", "token"])?;
        let htu = htu_of(&token_url);
        for attempt in 0..2 {
            let nonce = app.current_nonce();
            let proof = app.dpop.proof("POST", &htu, nonce.as_deref(), None)?;
            let assertion = self.client_assertion(app, &token_url)?;
            let form = [
                ("grant_type", "client_credentials"),
                ("scope", scope),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
            ];
            let response = self
                .transport
                .client()
                .post(token_url.clone())
                .header(ACCEPT, "application/json")
                .header("DPoP", proof)
                .form(&form)
                .send()
                .await
                .map_err(|e| self.transport.transport_error(e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self.transport.read_body(response).await?;
            let fresh_nonce = header_text(&headers, "dpop-nonce");
            if let Some(fresh) = &fresh_nonce {
                app.remember_nonce(fresh);
            }
            if status.is_success() {
                return self.issued_token(&body);
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                return Err(DirectoryError::RateLimited {
                    provider: Provider::Okta,
                    retry_after: retry_after(&headers, std::time::SystemTime::now()),
                });
            }
            if status.is_server_error() {
                return Err(self.transport.status_error(status));
            }
            let reason = serde_json::from_slice::<OAuthError>(&body)
                .map(|e| token_error_reason(&e.error))
                .unwrap_or("token_refused");
            if reason == "use_dpop_nonce" && attempt == 0 && fresh_nonce.is_some() {
                continue;
            }
            return Err(DirectoryError::Auth {
                provider: Provider::Okta,
                reason,
            });
        }
        Err(DirectoryError::Auth {
            provider: Provider::Okta,
            reason: "use_dpop_nonce",
        })
    }

    fn issued_token(&self, body: &[u8]) -> Result<(AccessToken, Duration), DirectoryError> {
        let token: TokenResponse =
            serde_json::from_slice(body).map_err(|_| self.transport.malformed("token response"))?;
        let dpop_bound = match token.token_type.as_str() {
            t if t.eq_ignore_ascii_case("DPoP") => true,
            t if t.eq_ignore_ascii_case("Bearer") => false,
            _ => return Err(self.transport.malformed("token response")),
        };
        if token.access_token.is_empty() {
            return Err(self.transport.malformed("token response"));
        }
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(300));
        let token = AccessToken {
            value: token.access_token,
            dpop_bound,
        };
        Ok((token, lifetime))
    }

    /// The cached token for every scope zerodesk uses, fetched when missing
    /// or about to expire.
    async fn access_token(&self, app: &ServiceApp) -> Result<AccessToken, DirectoryError> {
        let mut slot = app.token.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let (token, lifetime) = self.request_token(app, OKTA_SCOPES).await?;
        *slot = Some(CachedToken {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(TOKEN_EXPIRY_MARGIN),
        });
        Ok(token)
    }

    async fn authorized(
        &self,
        request: RequestBuilder,
    ) -> Result<reqwest::Response, DirectoryError> {
        let request = request.header(ACCEPT, "application/json");
        match &self.auth {
            OktaAuth::ApiToken(token) => {
                let value = Zeroizing::new(format!("SSWS {}", token.expose()));
                self.transport
                    .send(request.header(AUTHORIZATION, value.as_str()))
                    .await
            }
            OktaAuth::ServiceApp(app) => {
                let token = self.access_token(app).await?;
                let request = self.with_access_token(app, request, &token)?;
                let result = self.transport.send(request).await;
                if matches!(result, Err(DirectoryError::Auth { .. })) {
                    *app.token.lock().await = None;
                }
                result
            }
        }
    }

    /// `Authorization: Bearer <token>`, or for a DPoP-bound token
    /// `Authorization: DPoP <token>` and a `DPoP` proof of this method and
    /// URL with `ath`, the token's hash. Okta requires no nonce on API calls.
    fn with_access_token(
        &self,
        app: &ServiceApp,
        request: RequestBuilder,
        token: &AccessToken,
    ) -> Result<RequestBuilder, DirectoryError> {
        let (client, built) = request.build_split();
        let mut built = built.map_err(|e| {
            DirectoryError::config_because("request could not be built", e.without_url())
        })?;
        let scheme = if token.dpop_bound { "DPoP" } else { "Bearer" };
        let credential = Zeroizing::new(format!("{scheme} {}", token.value.expose()));
        let mut authorization = HeaderValue::from_str(&credential)
            .map_err(|_| self.transport.malformed("token response"))?;
        authorization.set_sensitive(true);
        if token.dpop_bound {
            let proof = app.dpop.proof(
                built.method().as_str(),
                &htu_of(built.url()),
                None,
                Some(&token.value),
            )?;
            let proof =
                HeaderValue::from_str(&proof).map_err(|_| DirectoryError::config("DPoP proof"))?;
            built.headers_mut().insert("DPoP", proof);
        }
        built.headers_mut().insert(AUTHORIZATION, authorization);
        Ok(RequestBuilder::from_parts(client, built))
    }

    async fn authorized_json<T: serde::de::DeserializeOwned>(
        &self,
        request: RequestBuilder,
        what: &'static str,
    ) -> Result<(T, HeaderMap), DirectoryError> {
        let response = self.authorized(request).await?;
        let headers = response.headers().clone();
        let body = self.transport.read_body(response).await?;
        let value = serde_json::from_slice(&body).map_err(|_| self.transport.malformed(what))?;
        Ok((value, headers))
    }

    fn api_url(&self, segments: &[&str]) -> Result<Url, DirectoryError> {
        let mut all = vec!["api", "v1"];
        all.extend_from_slice(segments);
        endpoint(&self.org, &all)
    }

    fn users_url(&self, segments: &[&str]) -> Result<Url, DirectoryError> {
        let mut all = vec!["users"];
        all.extend_from_slice(segments);
        self.api_url(&all)
    }

    /// The user a ticket names. Okta's `GET /users/{id}` takes an id, a
    /// login or a login shortname (logins compared case-insensitively); an
    /// address that is no login is looked up as a profile email, which
    /// must then name exactly one user.
    async fn get_user(&self, account: &AccountRef) -> Result<OktaUser, DirectoryError> {
        let url = self.users_url(&[account.as_str()])?;
        match self
            .authorized_json(self.transport.client().get(url), "user")
            .await
        {
            Ok((user, _)) => Ok(user),
            Err(DirectoryError::NotFound { .. }) => self.user_by_email(account).await,
            Err(e) => Err(e),
        }
    }

    /// `GET /users?search=profile.email eq "..."`. Search is
    /// case-insensitive for values; an `AccountRef` holds no quote or
    /// backslash, so the expression cannot be broken out of.
    async fn user_by_email(&self, account: &AccountRef) -> Result<OktaUser, DirectoryError> {
        let mut url = self.users_url(&[])?;
        url.query_pairs_mut()
            .append_pair("search", &format!("profile.email eq \"{account}\""))
            .append_pair("limit", "2");
        let (mut found, _): (Vec<OktaUser>, _) = self
            .authorized_json(self.transport.client().get(url), "users")
            .await?;
        match (found.pop(), found.is_empty()) {
            (Some(user), true) => Ok(user),
            (None, _) => Err(DirectoryError::NotFound {
                provider: Provider::Okta,
            }),
            (Some(_), false) => Err(DirectoryError::Unsupported {
                provider: Provider::Okta,
                what: "an address that is the email of more than one Okta user",
            }),
        }
    }

    /// Any role assignment makes an administrator: standard or custom
    /// (resource-set) roles, assigned to the user or to a group they are in
    /// (Okta lists both here, with `assignmentType` USER or GROUP).
    async fn is_admin(&self, user_id: &str) -> Result<bool, DirectoryError> {
        Ok(!self.roles_of(user_id).await?.is_empty())
    }

    async fn roles_of(&self, user_id: &str) -> Result<Vec<OktaRole>, DirectoryError> {
        let url = self.users_url(&[user_id, "roles"])?;
        self.authorized_json(self.transport.client().get(url), "roles")
            .await
            .map(|(roles, _)| roles)
    }

    /// Every group the user is in. Okta documents no paging parameter for
    /// this list; a `rel="next"` link is still followed, on the org only.
    async fn group_ids_of(&self, user_id: &str) -> Result<Vec<String>, DirectoryError> {
        let mut url = self.users_url(&[user_id, "groups"])?;
        let mut ids = Vec::new();
        for _ in 0..MAX_GROUP_PAGES {
            let (page, headers): (Vec<OktaGroup>, _) = self
                .authorized_json(self.transport.client().get(url.clone()), "groups")
                .await?;
            ids.extend(page.into_iter().map(|g| g.id));
            let Some(next) = next_link(&headers) else {
                return Ok(ids);
            };
            url = Url::parse(&next).map_err(|_| self.transport.malformed("groups"))?;
            if !same_origin(&self.org, &url) {
                return Err(self.transport.malformed("groups"));
            }
        }
        Err(self.transport.malformed("groups"))
    }

    async fn group_by_id(&self, id: &str) -> Result<OktaGroup, DirectoryError> {
        let url = self.api_url(&["groups", id])?;
        self.authorized_json(self.transport.client().get(url), "group")
            .await
            .map(|(group, _)| group)
    }

    /// `GET /groups?q=<name>`: Okta's name query, a case-insensitive prefix
    /// match answered in one page of at most 300 groups.
    async fn groups_named(&self, name: &str) -> Result<Vec<OktaGroup>, DirectoryError> {
        let mut url = self.api_url(&["groups"])?;
        url.query_pairs_mut().append_pair("q", name);
        self.authorized_json(self.transport.client().get(url), "groups")
            .await
            .map(|(groups, _)| groups)
    }

    /// `/api/v1/users/{user}/factors/{factor}/{rest...}`. Each id is one
    /// escaped segment; `.` and `..`, which URL normalisation would drop
    /// and so move the request to another resource, name no factor.
    fn factor_url(
        &self,
        user_id: &str,
        factor: &str,
        rest: &[&str],
    ) -> Result<Url, DirectoryError> {
        let mut segments = vec![user_id, "factors", factor];
        segments.extend_from_slice(rest);
        if segments.iter().any(|s| matches!(*s, "" | "." | "..")) {
            return Err(DirectoryError::NotFound {
                provider: Provider::Okta,
            });
        }
        self.users_url(&segments)
    }

    async fn factors(&self, user_id: &str) -> Result<Vec<OktaFactor>, DirectoryError> {
        let url = self.users_url(&[user_id, "factors"])?;
        self.authorized_json(self.transport.client().get(url), "factors")
            .await
            .map(|(f, _)| f)
    }

    /// The transaction id at the end of Okta's poll link, accepted only if
    /// the link is exactly this factor's transaction URL on the org.
    fn transaction_from_poll(
        &self,
        user_id: &str,
        factor: &str,
        poll: &str,
    ) -> Result<String, DirectoryError> {
        let malformed = || self.transport.malformed("push challenge");
        let poll = Url::parse(poll).map_err(|_| malformed())?;
        let id = poll
            .path_segments()
            .and_then(|mut s| s.next_back())
            .ok_or_else(malformed)?
            .to_owned();
        let expected = self
            .factor_url(user_id, factor, &["transactions", &id])
            .map_err(|_| malformed())?;
        if !same_origin(&self.org, &poll) || expected.path() != poll.path() {
            return Err(malformed());
        }
        Ok(id)
    }

    async fn post_lifecycle(
        &self,
        user_id: &str,
        operation: &str,
        query: Option<&str>,
    ) -> Result<reqwest::Response, DirectoryError> {
        let mut url = self.users_url(&[user_id, "lifecycle", operation])?;
        url.set_query(query);
        let request = empty_body(
            self.transport
                .client()
                .post(url)
                .header(CONTENT_TYPE, "application/json"),
        );
        self.authorized(request).await
    }

    /// A token per scope (Okta refuses the whole request with
    /// `invalid_scope` when one scope is not granted, so each is asked
    /// alone), whether the tokens are DPoP-bound, and the service app's own
    /// admin roles. Answers whether the API checks can follow.
    async fn check_service_app(&self, app: &ServiceApp, report: &mut ConnectionReport) -> bool {
        let mut client_known = None;
        let mut dpop_bound = None;
        let mut dpop_refused = false;
        let mut every_scope = true;
        for (scope, needed_for) in OKTA_SCOPE_NEEDS {
            let status = match self.request_token(app, scope).await {
                Ok((token, _)) => {
                    client_known = Some(true);
                    dpop_bound.get_or_insert(token.dpop_bound);
                    RequirementStatus::Granted
                }
                Err(DirectoryError::Auth {
                    reason: "invalid_scope",
                    ..
                }) => {
                    client_known = Some(true);
                    RequirementStatus::Missing
                }
                Err(DirectoryError::Auth {
                    reason: "invalid_dpop_proof" | "use_dpop_nonce",
                    ..
                }) => {
                    client_known = Some(true);
                    dpop_refused = true;
                    RequirementStatus::Unknown
                }
                Err(DirectoryError::Auth { .. }) => {
                    client_known.get_or_insert(false);
                    RequirementStatus::Unknown
                }
                Err(_) => RequirementStatus::Unknown,
            };
            every_scope &= status == RequirementStatus::Granted;
            report.record(RequirementKind::Scope, scope, needed_for, status);
        }
        report.requirements.insert(
            0,
            crate::model::RequirementCheck {
                kind: RequirementKind::Credentials,
                name: format!("API service app {}", app.client_id),
                needed_for: "every call (client credentials with private_key_jwt)",
                status: match client_known {
                    Some(true) => RequirementStatus::Granted,
                    Some(false) => RequirementStatus::Missing,
                    None => RequirementStatus::Unknown,
                },
            },
        );
        let (dpop_name, dpop_status) = match (dpop_refused, dpop_bound) {
            (true, _) => (
                "DPoP (Okta refused zerodesk's DPoP proof: invalid_dpop_proof)",
                RequirementStatus::Missing,
            ),
            (false, Some(true)) => ("DPoP", RequirementStatus::Granted),
            (false, Some(false)) => (
                "DPoP (Require Demonstrating Proof of Possession is off: tokens are bearer tokens)",
                RequirementStatus::Missing,
            ),
            (false, None) => ("DPoP", RequirementStatus::Unknown),
        };
        report.record(
            RequirementKind::Setting,
            dpop_name,
            "binds zerodesk's access tokens to a key only zerodesk holds",
            dpop_status,
        );
        if !every_scope {
            return false;
        }
        let roles = async {
            let url = endpoint(
                &self.org,
                &["oauth2", "v1", "clients", &app.client_id, "roles"],
            )?;
            self.authorized_json::<Vec<OktaRole>>(self.transport.client().get(url), "roles")
                .await
                .map(|(roles, _)| roles)
        };
        let (name, status) = match roles.await {
            Ok(roles) if !roles.is_empty() => {
                let labels: Vec<String> = roles.into_iter().filter_map(|r| r.label).collect();
                (
                    format!("admin role {}", labels.join(", ")),
                    RequirementStatus::Granted,
                )
            }
            Ok(_) | Err(DirectoryError::Provider { status: 403, .. }) => {
                (ADMIN_ROLE_NEEDED.to_owned(), RequirementStatus::Missing)
            }
            Err(_) => (ADMIN_ROLE_NEEDED.to_owned(), RequirementStatus::Unknown),
        };
        let granted = status == RequirementStatus::Granted;
        report.record(
            RequirementKind::AdminRole,
            name,
            "Okta scopes act only within the service app's admin role",
            status,
        );
        granted
    }

    /// The reads every connection needs, tried on `probe`: the user, their
    /// role assignments, and a group query. A 403 means the admin role (or,
    /// for an API token, its creator's role) does not allow the read.
    async fn check_reads(&self, probe: &AccountRef, report: &mut ConnectionReport) {
        let user = self.get_user(probe).await;
        if let OktaAuth::ApiToken(_) = self.auth {
            let status = match &user {
                Err(DirectoryError::Auth { .. }) => RequirementStatus::Missing,
                Err(DirectoryError::Timeout { .. } | DirectoryError::Unavailable { .. }) => {
                    RequirementStatus::Unknown
                }
                _ => RequirementStatus::Granted,
            };
            report.record(
                RequirementKind::Credentials,
                "API token (SSWS)",
                "every call, with the permissions of the admin who created it",
                status,
            );
        }
        let user_status = match &user {
            Ok(_) | Err(DirectoryError::NotFound { .. }) => RequirementStatus::Granted,
            Err(e) => read_status(e),
        };
        report.record(
            RequirementKind::AdminRole,
            format!("view users ({probe})"),
            "look up the account a ticket names",
            user_status,
        );
        let roles_status = match &user {
            Ok(found) => match self.roles_of(&found.id).await {
                Ok(_) => RequirementStatus::Granted,
                Err(e) => read_status(&e),
            },
            Err(_) => RequirementStatus::Unknown,
        };
        report.record(
            RequirementKind::AdminRole,
            "view admin role assignments",
            "recognise administrators, who are never automated",
            roles_status,
        );
        let groups_status = match self.groups_named("Everyone").await {
            Ok(_) => RequirementStatus::Granted,
            Err(e) => read_status(&e),
        };
        report.record(
            RequirementKind::AdminRole,
            "view groups",
            "resolve protected groups",
            groups_status,
        );
    }

    /// `POST /oauth2/v1/revoke` with the token and the app's client
    /// assertion (Okta requires client authentication there).
    async fn revoke_at_okta(&self, app: &ServiceApp, token: &Secret) -> Result<(), DirectoryError> {
        let revoke_url = endpoint(&self.org, &["oauth2", "v1", "revoke"])?;
        let assertion = self.client_assertion(app, &revoke_url)?;
        let form = [
            ("token", token.expose()),
            ("token_type_hint", "access_token"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let request = self
            .transport
            .client()
            .post(revoke_url)
            .header(ACCEPT, "application/json")
            .form(&form);
        self.transport.send(request).await.map(drop)
    }
}

impl ServiceApp {
    fn current_nonce(&self) -> Option<String> {
        self.nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn remember_nonce(&self, nonce: &str) {
        *self
            .nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(nonce.to_owned());
    }
}

impl DpopKey {
    fn generate() -> Result<Self, DirectoryError> {
        let unavailable = || DirectoryError::config("DPoP key could not be made");
        let pair =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| unavailable())?;
        let der = pair.to_pkcs8v1().map_err(|_| unavailable())?;
        let signing = EncodingKey::from_ec_der(der.as_ref());
        let public = Jwk::from_encoding_key(&signing, Algorithm::ES256)
            .map_err(|e| DirectoryError::config_because("DPoP key could not be made", e))?;
        Ok(Self { signing, public })
    }

    /// A DPoP proof (RFC 9449 section 4.2) for one request.
    fn proof(
        &self,
        htm: &str,
        htu: &str,
        nonce: Option<&str>,
        access_token: Option<&Secret>,
    ) -> Result<String, DirectoryError> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".to_owned());
        header.jwk = Some(self.public.clone());
        let claims = DpopClaims {
            htm,
            htu,
            iat: jsonwebtoken::get_current_timestamp(),
            jti: random_id(),
            nonce,
            ath: access_token.map(|t| access_token_hash(t.expose())),
        };
        jsonwebtoken::encode(&header, &claims, &self.signing)
            .map_err(|e| DirectoryError::config_because("DPoP proof could not be signed", e))
    }
}

/// `ath`: base64url SHA-256 of the access token.
fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()))
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A proof's `htu`: the URL without query or fragment. Okta compares it
/// with the request URI after decoding the path, so an encoded login
/// (`bob%2Bit@...`) must appear decoded; `%`, space, `"` and `#` stay
/// escaped (as Okta's own SDKs send it, okta-sdk-java `DPoPInterceptor`).
fn htu_of(url: &Url) -> String {
    let decoded = percent_decode(url.path());
    let mut path = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        match c {
            '%' => path.push_str("%25"),
            ' ' => path.push_str("%20"),
            '"' => path.push_str("%22"),
            '#' => path.push_str("%23"),
            c => path.push(c),
        }
    }
    format!("{}{path}", url.origin().ascii_serialization())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// An OAuth error code from Okta's token endpoint as a fixed string, so no
/// provider-chosen text reaches an error message.
fn token_error_reason(code: &str) -> &'static str {
    match code {
        "invalid_request" => "invalid_request",
        "invalid_client" => "invalid_client",
        "invalid_grant" => "invalid_grant",
        "unauthorized_client" => "unauthorized_client",
        "unsupported_grant_type" => "unsupported_grant_type",
        "invalid_scope" => "invalid_scope",
        "access_denied" => "access_denied",
        "invalid_dpop_proof" => "invalid_dpop_proof",
        "use_dpop_nonce" => "use_dpop_nonce",
        _ => "token_refused",
    }
}

/// A read the connection check tried and Okta refused: 403 is a missing
/// permission; anything else says nothing about permissions.
fn read_status(error: &DirectoryError) -> RequirementStatus {
    match error {
        DirectoryError::Provider { status: 403, .. } => RequirementStatus::Missing,
        _ => RequirementStatus::Unknown,
    }
}

/// Whether an administrator typed a group id (`00g...`) rather than a name.
fn looks_like_group_id(text: &str) -> bool {
    text.starts_with("00g")
        && (15..=24).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The account's channels from its profile and factors: only factors Okta
/// itself provides and that are `ACTIVE` count.
fn channels_from(email: Option<String>, factors: &[OktaFactor]) -> OwnerChannels {
    let active = |factor_type: &str| {
        factors
            .iter()
            .find(|f| f.status == "ACTIVE" && f.provider == "OKTA" && f.factor_type == factor_type)
    };
    let profile = |factor_type: &str| active(factor_type).and_then(|f| f.profile.as_ref());
    OwnerChannels {
        primary_email: email.filter(|e| !e.is_empty()),
        recovery_email: profile("email")
            .and_then(|p| p.email.clone())
            .filter(|e| !e.is_empty()),
        recovery_phone: profile("sms")
            .and_then(|p| p.phone_number.as_deref())
            .and_then(e164),
        push_factor: active("push").map(|f| f.id.clone()),
    }
}

/// Okta's `factorResult` for a push; anything else is not a push result.
fn push_result_of(factor_result: &str) -> Option<PushResult> {
    match factor_result {
        "WAITING" => Some(PushResult::Waiting),
        "SUCCESS" => Some(PushResult::Approved),
        "REJECTED" => Some(PushResult::Rejected),
        "TIMEOUT" => Some(PushResult::TimedOut),
        _ => None,
    }
}

fn state_of(status: &str) -> AccountState {
    match status {
        "ACTIVE" => AccountState::Active,
        "LOCKED_OUT" => AccountState::Locked,
        "SUSPENDED" => AccountState::Suspended { reason: None },
        "PASSWORD_EXPIRED" | "RECOVERY" => AccountState::PasswordExpired,
        // STAGED, PROVISIONED, DEPROVISIONED, and anything Okta adds later.
        _ => AccountState::Inactive,
    }
}

/// The `rel="next"` target of Okta's `Link` headers.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.trim().split_once(';')?;
            let is_next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| target.to_owned())
        })
}

impl Directory for Okta {
    fn provider(&self) -> Provider {
        Provider::Okta
    }

    async fn lookup(&self, account: &AccountRef) -> Result<DirectoryUser, DirectoryError> {
        let user = self.get_user(account).await?;
        let login =
            AccountRef::parse(&user.profile.login).map_err(|_| self.transport.malformed("user"))?;
        let is_admin = self.is_admin(&user.id).await?;
        Ok(DirectoryUser {
            account: login,
            state: state_of(&user.status),
            provider_id: user.id,
            provider: Provider::Okta,
            is_admin,
        })
    }

    /// `expire_password_with_temp_password`: Okta sets a temporary password,
    /// expires it and returns it (`{"tempPassword": ...}`); `revokeSessions`
    /// also ends the sessions opened with the old password. The retired
    /// `expire_password?tempPassword=true` form now only expires it.
    async fn reset_password(
        &self,
        account: &AccountRef,
    ) -> Result<TemporaryPassword, DirectoryError> {
        let user = self.get_user(account).await?;
        let response = self
            .post_lifecycle(
                &user.id,
                "expire_password_with_temp_password",
                Some("revokeSessions=true"),
            )
            .await?;
        let body = self.transport.read_body(response).await?;
        let answer: TempPasswordResponse = serde_json::from_slice(&body)
            .map_err(|_| self.transport.malformed("temporary password"))?;
        if answer.temp_password.is_empty() {
            return Err(self.transport.malformed("temporary password"));
        }
        Ok(TemporaryPassword::from_provider(
            answer.temp_password.expose().to_owned(),
        ))
    }

    async fn unlock(&self, account: &AccountRef) -> Result<UnlockOutcome, DirectoryError> {
        let user = self.get_user(account).await?;
        match state_of(&user.status) {
            AccountState::Locked => {
                self.post_lifecycle(&user.id, "unlock", None).await?;
                Ok(UnlockOutcome::Unlocked)
            }
            AccountState::Active | AccountState::PasswordExpired => Ok(UnlockOutcome::WasNotLocked),
            AccountState::Suspended { .. } | AccountState::Inactive | AccountState::Disabled => {
                Err(DirectoryError::NotUnlockable {
                    provider: Provider::Okta,
                })
            }
        }
    }

    async fn revoke_sessions(&self, account: &AccountRef) -> Result<(), DirectoryError> {
        let user = self.get_user(account).await?;
        let mut url = self.users_url(&[&user.id, "sessions"])?;
        // oauthTokens: also revoke the OAuth/OIDC tokens Okta issued, as
        // Google's signOut and Graph's revokeSignInSessions do.
        // forgetDevices defaults to true (Identity Engine): it would wipe
        // the user's remembered MFA devices, so every sign-in asks for MFA
        // again. Signing out is the point, not resetting trust in devices.
        url.set_query(Some("oauthTokens=true&forgetDevices=false"));
        self.authorized(self.transport.client().delete(url))
            .await
            .map(drop)
    }

    async fn owner_channels(&self, account: &AccountRef) -> Result<OwnerChannels, DirectoryError> {
        let user = self.get_user(account).await?;
        let factors = self.factors(&user.id).await?;
        Ok(channels_from(user.profile.email, &factors))
    }

    /// The user's groups (`GET /users/{id}/groups`) by immutable group id.
    async fn member_of_any(
        &self,
        user: &DirectoryUser,
        group_ids: &[String],
    ) -> Result<bool, DirectoryError> {
        if group_ids.is_empty() {
            return Ok(false);
        }
        let ids = self.group_ids_of(&user.provider_id).await?;
        Ok(ids.iter().any(|id| group_ids.contains(id)))
    }

    /// A group id (`00g...`) is taken as such; a name must match exactly one
    /// group's `profile.name`, compared case-insensitively.
    async fn resolve_group(&self, name: &str) -> Result<DirectoryGroup, DirectoryError> {
        let name = name.trim();
        if looks_like_group_id(name) {
            match self.group_by_id(name).await {
                Ok(group) => {
                    return Ok(DirectoryGroup {
                        id: group.id,
                        name: group.profile.name,
                    });
                }
                Err(DirectoryError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let candidates = self.groups_named(name).await?;
        let full_page = candidates.len() >= GROUP_QUERY_LIMIT;
        let wanted = name.to_lowercase();
        let mut exact = candidates
            .into_iter()
            .filter(|g| g.profile.name.to_lowercase() == wanted);
        match (exact.next(), exact.next()) {
            (Some(group), None) => Ok(DirectoryGroup {
                id: group.id,
                name: group.profile.name,
            }),
            (Some(_), Some(_)) => Err(DirectoryError::Unsupported {
                provider: Provider::Okta,
                what: "a group name several Okta groups share (name the group by its id, 00g...)",
            }),
            (None, _) if full_page => Err(DirectoryError::Unsupported {
                provider: Provider::Okta,
                what: "a group name more than 300 Okta groups start with (name the group by its id, 00g...)",
            }),
            (None, _) => Err(DirectoryError::NotFound {
                provider: Provider::Okta,
            }),
        }
    }

    /// Service app: a token per scope, the DPoP setting, the app's admin
    /// role, then the reads. API token: the token and the reads (its
    /// permissions are those of the admin who created it).
    async fn check_connection(&self, probe: &AccountRef) -> ConnectionReport {
        let mut report = ConnectionReport::new(Provider::Okta);
        let reads_can_follow = match &self.auth {
            OktaAuth::ApiToken(_) => true,
            OktaAuth::ServiceApp(app) => self.check_service_app(app, &mut report).await,
        };
        if reads_can_follow {
            self.check_reads(probe, &mut report).await;
        }
        report
    }

    /// Service app: revokes the cached access token at Okta and forgets it.
    /// API token: revokes the token itself (`DELETE /api-tokens/current`,
    /// which revokes the token that authenticates the call).
    async fn revoke_access(&self) -> AccessRevocation {
        let mut revocation = AccessRevocation::default();
        match &self.auth {
            OktaAuth::ServiceApp(app) => {
                let cached = app.token.lock().await.take();
                if let Some(cached) = cached {
                    match self.revoke_at_okta(app, &cached.token.value).await {
                        Ok(()) => revocation.revoked.push("access token at Okta".to_owned()),
                        Err(_) => revocation.tenant_must_remove.push(
                            "nothing for the access token: Okta did not confirm its revocation, and it expires within the hour".to_owned(),
                        ),
                    }
                }
                revocation.revoked.push("cached access token".to_owned());
                revocation.tenant_must_remove.push(format!(
                    "the API service app {} (Admin Console: Applications > Applications > deactivate, then delete)",
                    app.client_id
                ));
                revocation.tenant_must_remove.push(format!(
                    "the admin role assigned to {} (the app's Admin roles tab, or Security > Administrators)",
                    app.client_id
                ));
            }
            OktaAuth::ApiToken(_) => {
                let revoked = async {
                    let url = self.api_url(&["api-tokens", "current"])?;
                    self.authorized(self.transport.client().delete(url)).await
                };
                match revoked.await {
                    Ok(_) => revocation.revoked.push("API token at Okta".to_owned()),
                    Err(_) => revocation.tenant_must_remove.push(
                        "the API token (Admin Console: Security > API > Tokens > revoke)"
                            .to_owned(),
                    ),
                }
                revocation.tenant_must_remove.push(
                    "the admin roles of the Okta administrator the API token was created as, if that account exists only for zerodesk (Security > Administrators)".to_owned(),
                );
            }
        }
        revocation
    }

    /// Issues a number-challenge push. Okta answers 201 `WAITING` with a
    /// poll link; anything else (an SMS or email factor's `CHALLENGE`) is
    /// not a push and is refused.
    async fn send_push(
        &self,
        account: &AccountRef,
        factor: &str,
    ) -> Result<PushChallenge, DirectoryError> {
        let user = self.get_user(account).await?;
        let url = self.factor_url(&user.id, factor, &["verify"])?;
        // Okta requires a User-Agent to verify a push; the client always sends one.
        let request = self
            .transport
            .client()
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(NUMBER_CHALLENGE_BODY);
        let (issued, _): (PushTransaction, _) =
            self.authorized_json(request, "push challenge").await?;
        let poll = match (issued.factor_result.as_str(), issued.links) {
            ("WAITING", Some(PushLinks { poll: Some(poll) })) => poll.href,
            _ => return Err(self.transport.malformed("push challenge")),
        };
        Ok(PushChallenge {
            transaction: self.transaction_from_poll(&user.id, factor, &poll)?,
            number: issued
                .embedded
                .and_then(|e| e.challenge)
                .and_then(|c| c.correct_answer),
        })
    }

    async fn push_result(
        &self,
        account: &AccountRef,
        factor: &str,
        transaction: &str,
    ) -> Result<PushResult, DirectoryError> {
        let user = self.get_user(account).await?;
        let url = self.factor_url(&user.id, factor, &["transactions", transaction])?;
        let (polled, _): (PushTransaction, _) = self
            .authorized_json(self.transport.client().get(url), "push transaction")
            .await?;
        push_result_of(&polled.factor_result)
            .ok_or_else(|| self.transport.malformed("push transaction"))
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn the_scopes_sent_are_the_scopes_checked() {
        let listed: Vec<&str> = OKTA_SCOPE_NEEDS.iter().map(|(s, _)| *s).collect();
        assert_eq!(listed.join(" "), OKTA_SCOPES);
    }

    #[test]
    fn next_link_is_read_from_okta_link_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            LINK,
            HeaderValue::from_static(
                "<https://acme.okta.com/api/v1/users/1/groups?limit=2>; rel=\"self\"",
            ),
        );
        headers.append(
            LINK,
            HeaderValue::from_static(
                "<https://acme.okta.com/api/v1/users/1/groups?after=x&limit=2>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://acme.okta.com/api/v1/users/1/groups?after=x&limit=2")
        );
        let mut only_self = HeaderMap::new();
        only_self.append(
            LINK,
            HeaderValue::from_static("<https://acme.okta.com/x>; rel=\"self\""),
        );
        assert_eq!(next_link(&only_self), None);
    }

    #[test]
    fn htu_is_the_decoded_path_without_query() {
        let url =
            Url::parse("https://acme.okta.com/api/v1/users/bob%2Bit@acme.example?x=1#f").unwrap();
        assert_eq!(
            htu_of(&url),
            "https://acme.okta.com/api/v1/users/bob+it@acme.example"
        );
        let odd = Url::parse("http://127.0.0.1:8080/a%20b%25c").unwrap();
        assert_eq!(htu_of(&odd), "http://127.0.0.1:8080/a%20b%25c");
    }

    #[test]
    fn ath_is_the_base64url_sha256_of_the_token() {
        // RFC 9449 section 7.1's example token and its `ath`.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn a_dpop_proof_carries_its_public_key_and_claims() {
        let key = DpopKey::generate().unwrap();
        let token = Secret::new("token-value".into());
        let proof = key
            .proof(
                "GET",
                "https://acme.okta.com/api/v1/users/x",
                None,
                Some(&token),
            )
            .unwrap();
        let header = jsonwebtoken::decode_header(&proof).unwrap();
        assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
        assert_eq!(header.alg, Algorithm::ES256);
        let jwk = header.jwk.unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            &proof,
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .unwrap()
        .claims;
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["ath"], access_token_hash("token-value"));
        assert!(claims.get("nonce").is_none());
        assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    }

    #[test]
    fn only_group_shaped_ids_are_taken_for_ids() {
        assert!(looks_like_group_id("00g1emaKYZTWRYYRRTSK"));
        assert!(!looks_like_group_id("IT Admins"));
        assert!(!looks_like_group_id("00g is a name"));
    }

    fn factor(id: &str, factor_type: &str, status: &str, profile: &str) -> OktaFactor {
        OktaFactor {
            id: id.to_owned(),
            factor_type: factor_type.to_owned(),
            provider: "OKTA".to_owned(),
            status: status.to_owned(),
            profile: serde_json::from_str(profile).ok(),
        }
    }

    #[test]
    fn only_active_okta_factors_are_channels() {
        let pending = [
            factor("opf1", "push", "PENDING_ACTIVATION", "{}"),
            factor(
                "mbl1",
                "sms",
                "INACTIVE",
                r#"{"phoneNumber":"+15555550100"}"#,
            ),
            factor(
                "emf1",
                "email",
                "NOT_SETUP",
                r#"{"email":"a@mail.example"}"#,
            ),
        ];
        let none = channels_from(Some("a@b.example".into()), &pending);
        assert_eq!(none.primary_email.as_deref(), Some("a@b.example"));
        assert_eq!(
            (none.recovery_email, none.recovery_phone, none.push_factor),
            (None, None, None)
        );

        let mut active = vec![
            factor("ostf1", "token:software:totp", "ACTIVE", "{}"),
            factor(
                "mbl2",
                "sms",
                "ACTIVE",
                r#"{"phoneNumber":"+1-555-415-1337"}"#,
            ),
            factor("emf2", "email", "ACTIVE", r#"{"email":"a@mail.example"}"#),
            factor("opf2", "push", "ACTIVE", "{}"),
        ];
        active.extend(pending);
        let channels = channels_from(None, &active);
        assert_eq!(channels.recovery_phone.as_deref(), Some("+15554151337"));
        assert_eq!(channels.recovery_email.as_deref(), Some("a@mail.example"));
        assert_eq!(channels.push_factor.as_deref(), Some("opf2"));
    }

    #[test]
    fn a_push_from_another_provider_is_not_okta_verify() {
        let mut other = factor("opf3", "push", "ACTIVE", "{}");
        other.provider = "CUSTOM".to_owned();
        assert_eq!(channels_from(None, &[other]).push_factor, None);
    }

    #[test]
    fn unknown_push_results_are_refused() {
        assert_eq!(push_result_of("SUCCESS"), Some(PushResult::Approved));
        assert_eq!(push_result_of("TIMEOUT"), Some(PushResult::TimedOut));
        assert_eq!(push_result_of("CANCELLED"), None);
        assert_eq!(push_result_of("success"), None);
    }

    #[test]
    fn unknown_okta_statuses_are_never_automatable() {
        assert_eq!(state_of("LOCKED_OUT"), AccountState::Locked);
        assert_eq!(
            state_of("SUSPENDED"),
            AccountState::Suspended { reason: None }
        );
        assert_eq!(state_of("SOMETHING_NEW"), AccountState::Inactive);
    }
}
