//! Okta through the Management API, authenticated either with an SSWS API
//! token or as an OAuth service app (client credentials, `private_key_jwt`).
//! Okta makes the temporary password itself; this module only carries it
//! back. Never follows a pagination link off the org's origin, and polls a
//! push only at the transaction URL it builds itself.

use jsonwebtoken::{Algorithm, Header};
use rand::RngCore;
use rand::rngs::OsRng;
use reqwest::RequestBuilder;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, LINK};
use serde::{Deserialize, Serialize};
use url::Url;
use zerodesk_domain::AccountRef;
use zeroize::Zeroizing;

use crate::credentials::{
    DirectoryEndpoints, OktaApiToken, OktaServiceApp, okta_org_url, rsa_signing_key,
};
use crate::error::DirectoryError;
use crate::http::{TokenCache, Transport, empty_body, endpoint, same_origin};
use crate::model::{
    AccountState, Directory, DirectoryUser, OwnerChannels, Provider, PushChallenge, PushResult,
    UnlockOutcome,
};
use crate::password::TemporaryPassword;
use crate::phone::e164;
use crate::secret::Secret;

/// Scopes a service app asks for: manage users, read them and their groups,
/// and read role assignments to recognise administrators. The Factors API
/// needs no other: listing factors and polling a push take
/// `okta.users.read`, sending a push `okta.users.manage`.
pub const OKTA_SCOPES: &str = "okta.users.manage okta.users.read okta.roles.read";

const MAX_GROUP_PAGES: usize = 20;

/// Asks Okta Verify for a number challenge rather than a plain approve/deny
/// push, so an owner cannot approve a push they did not expect by reflex.
const NUMBER_CHALLENGE_BODY: &str = r#"{"useNumberMatchingChallenge":true}"#;
const CLIENT_ASSERTION_LIFETIME_SECS: u64 = 300;

pub struct Okta {
    transport: Transport,
    org: Url,
    auth: OktaAuth,
}

enum OktaAuth {
    ApiToken(Secret),
    ServiceApp {
        client_id: String,
        private_key: Secret,
        key_id: Option<String>,
        tokens: TokenCache,
    },
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

#[derive(Deserialize)]
struct OktaRole {
    #[serde(rename = "type")]
    _role_type: String,
}

#[derive(Deserialize)]
struct OktaGroup {
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
            transport: Transport::new(Provider::Okta, endpoints.timeout)?,
            org: okta_org_url(&credentials.org_url)?,
            auth: OktaAuth::ApiToken(credentials.api_token),
        })
    }

    pub fn with_service_app(
        credentials: OktaServiceApp,
        endpoints: &DirectoryEndpoints,
    ) -> Result<Self, DirectoryError> {
        rsa_signing_key(&credentials.private_key)?;
        Ok(Self {
            transport: Transport::new(Provider::Okta, endpoints.timeout)?,
            org: okta_org_url(&credentials.org_url)?,
            auth: OktaAuth::ServiceApp {
                client_id: credentials.client_id,
                private_key: credentials.private_key,
                key_id: credentials.key_id,
                tokens: TokenCache::new(),
            },
        })
    }

    async fn fetch_token(
        &self,
        client_id: &str,
        private_key: &Secret,
        key_id: Option<&String>,
    ) -> Result<(Secret, std::time::Duration), DirectoryError> {
        let token_url = endpoint(&self.org, &["oauth2", "v1", "token"])?;
        let key = rsa_signing_key(private_key)?;
        let iat = jsonwebtoken::get_current_timestamp();
        let mut jti = [0u8; 16];
        OsRng.fill_bytes(&mut jti);
        let claims = ClientAssertionClaims {
            iss: client_id,
            sub: client_id,
            aud: token_url.as_str(),
            iat,
            exp: iat + CLIENT_ASSERTION_LIFETIME_SECS,
            jti: hex::encode(jti),
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = key_id.cloned();
        let assertion = Zeroizing::new(
            jsonwebtoken::encode(&header, &claims, &key)
                .map_err(|e| DirectoryError::config_because("service app key cannot sign", e))?,
        );
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", OKTA_SCOPES),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let request = self
            .transport
            .client()
            .post(token_url)
            .header(ACCEPT, "application/json")
            .form(&form);
        self.transport.fetch_token(request).await
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
            OktaAuth::ServiceApp {
                client_id,
                private_key,
                key_id,
                tokens,
            } => {
                let token = tokens
                    .get_or_fetch(|| self.fetch_token(client_id, private_key, key_id.as_ref()))
                    .await?;
                let result = self
                    .transport
                    .send(request.bearer_auth(token.expose()))
                    .await;
                if matches!(result, Err(DirectoryError::Auth { .. })) {
                    tokens.clear().await;
                }
                result
            }
        }
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

    fn users_url(&self, segments: &[&str]) -> Result<Url, DirectoryError> {
        let mut all = vec!["api", "v1", "users"];
        all.extend_from_slice(segments);
        endpoint(&self.org, &all)
    }

    async fn get_user(&self, account: &AccountRef) -> Result<OktaUser, DirectoryError> {
        let url = self.users_url(&[account.as_str()])?;
        self.authorized_json(self.transport.client().get(url), "user")
            .await
            .map(|(u, _)| u)
    }

    async fn is_admin(&self, user_id: &str) -> Result<bool, DirectoryError> {
        let url = self.users_url(&[user_id, "roles"])?;
        let (roles, _): (Vec<OktaRole>, _) = self
            .authorized_json(self.transport.client().get(url), "roles")
            .await?;
        Ok(!roles.is_empty())
    }

    async fn groups(&self, user_id: &str) -> Result<Vec<String>, DirectoryError> {
        let mut url = self.users_url(&[user_id, "groups"])?;
        url.set_query(Some("limit=200"));
        let mut names = Vec::new();
        for _ in 0..MAX_GROUP_PAGES {
            let (page, headers): (Vec<OktaGroup>, _) = self
                .authorized_json(self.transport.client().get(url.clone()), "groups")
                .await?;
            names.extend(page.into_iter().map(|g| g.profile.name));
            let Some(next) = next_link(&headers) else {
                return Ok(names);
            };
            url = Url::parse(&next).map_err(|_| self.transport.malformed("groups"))?;
            if !same_origin(&self.org, &url) {
                return Err(self.transport.malformed("groups"));
            }
        }
        Err(self.transport.malformed("groups"))
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
                .header(reqwest::header::CONTENT_TYPE, "application/json"),
        );
        self.authorized(request).await
    }
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
        let groups = self.groups(&user.id).await?;
        Ok(DirectoryUser {
            account: login,
            state: state_of(&user.status),
            provider_id: user.id,
            provider: Provider::Okta,
            is_admin,
            groups,
        })
    }

    async fn reset_password(
        &self,
        account: &AccountRef,
    ) -> Result<TemporaryPassword, DirectoryError> {
        let user = self.get_user(account).await?;
        let response = self
            .post_lifecycle(&user.id, "expire_password", Some("tempPassword=true"))
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
        // Also revoke the OAuth/OIDC tokens Okta issued, as Google's signOut
        // and Graph's revokeSignInSessions do.
        url.set_query(Some("oauthTokens=true"));
        self.authorized(self.transport.client().delete(url))
            .await
            .map(drop)
    }

    async fn owner_channels(&self, account: &AccountRef) -> Result<OwnerChannels, DirectoryError> {
        let user = self.get_user(account).await?;
        let factors = self.factors(&user.id).await?;
        Ok(channels_from(user.profile.email, &factors))
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
