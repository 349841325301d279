//! Google Workspace through the Admin SDK Directory API, as a service account
//! with domain-wide delegation. Requests exactly the two user scopes and no
//! other; never sends a plaintext password (SHA-1 hex with `hashFunction`).

use jsonwebtoken::{Algorithm, Header};
use reqwest::RequestBuilder;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use url::Url;
use zerodesk_domain::AccountRef;
use zeroize::Zeroizing;

use crate::credentials::{DirectoryEndpoints, GoogleServiceAccount, rsa_signing_key};
use crate::error::DirectoryError;
use crate::http::{TokenCache, Transport, empty_body, endpoint};
use crate::model::{
    AccountState, Directory, DirectoryUser, OwnerChannels, Provider, UnlockOutcome,
};
use crate::password::TemporaryPassword;
use crate::phone::e164;
use crate::secret::Secret;

/// The only scopes this connector ever asks for, space-separated as sent.
pub const GOOGLE_SCOPES: &str = "https://www.googleapis.com/auth/admin.directory.user https://www.googleapis.com/auth/admin.directory.user.security";

/// Suspension reasons that mean "locked out" rather than "suspended by
/// someone": Google's sign-in challenge after suspicious activity. Every
/// other reason (`ADMIN`, `ABUSE`, `UNDER13`, unknown or missing) is left to
/// an administrator.
const LOCKOUT_SUSPENSION_REASONS: &[&str] = &["WEB_LOGIN_REQUIRED"];

/// An assertion may live at most an hour; ask for exactly that.
const ASSERTION_LIFETIME_SECS: u64 = 3600;

pub struct GoogleWorkspace {
    transport: Transport,
    token_url: Url,
    api_base: Url,
    account: GoogleServiceAccount,
    tokens: TokenCache,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoogleUser {
    id: String,
    primary_email: String,
    #[serde(default)]
    is_admin: bool,
    #[serde(default)]
    is_delegated_admin: bool,
    #[serde(default)]
    suspended: bool,
    #[serde(default)]
    suspension_reason: Option<String>,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    change_password_at_next_login: bool,
    #[serde(default)]
    org_unit_path: Option<String>,
    #[serde(default)]
    recovery_email: Option<String>,
    /// E.164 by Google's definition; anything else is dropped.
    #[serde(default)]
    recovery_phone: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PasswordUpdate<'a> {
    password: &'a str,
    hash_function: &'static str,
    change_password_at_next_login: bool,
}

#[derive(Serialize)]
struct SuspensionUpdate {
    suspended: bool,
}

impl GoogleWorkspace {
    pub fn new(
        account: GoogleServiceAccount,
        endpoints: &DirectoryEndpoints,
    ) -> Result<Self, DirectoryError> {
        rsa_signing_key(&account.private_key)?;
        Ok(Self {
            transport: Transport::new(Provider::GoogleWorkspace, endpoints.timeout)?,
            token_url: endpoints.google_token_url.clone(),
            api_base: endpoints.google_api_base.clone(),
            account,
            tokens: TokenCache::new(),
        })
    }

    async fn fetch_token(&self) -> Result<(Secret, std::time::Duration), DirectoryError> {
        let key = rsa_signing_key(&self.account.private_key)?;
        let iat = jsonwebtoken::get_current_timestamp();
        let claims = AssertionClaims {
            iss: &self.account.client_email,
            sub: self.account.admin_subject.as_str(),
            scope: GOOGLE_SCOPES,
            aud: self.token_url.as_str(),
            iat,
            exp: iat + ASSERTION_LIFETIME_SECS,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.account.private_key_id.clone();
        let assertion =
            Zeroizing::new(jsonwebtoken::encode(&header, &claims, &key).map_err(|e| {
                DirectoryError::config_because("service account key cannot sign", e)
            })?);
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ];
        let request = self
            .transport
            .client()
            .post(self.token_url.clone())
            .form(&form);
        self.transport.fetch_token(request).await
    }

    async fn authorized(
        &self,
        request: RequestBuilder,
    ) -> Result<reqwest::Response, DirectoryError> {
        let token = self.tokens.get_or_fetch(|| self.fetch_token()).await?;
        let result = self
            .transport
            .send(request.bearer_auth(token.expose()))
            .await;
        if matches!(result, Err(DirectoryError::Auth { .. })) {
            self.tokens.clear().await;
        }
        result
    }

    fn user_url(&self, account: &AccountRef, action: Option<&str>) -> Result<Url, DirectoryError> {
        let mut segments = vec!["admin", "directory", "v1", "users", account.as_str()];
        segments.extend(action);
        endpoint(&self.api_base, &segments)
    }

    async fn get_user(&self, account: &AccountRef) -> Result<GoogleUser, DirectoryError> {
        let request = self.transport.client().get(self.user_url(account, None)?);
        let response = self.authorized(request).await?;
        let body = self.transport.read_body(response).await?;
        serde_json::from_slice(&body).map_err(|_| self.transport.malformed("user"))
    }

    async fn update_user(
        &self,
        account: &AccountRef,
        body: &impl Serialize,
    ) -> Result<GoogleUser, DirectoryError> {
        let body = Zeroizing::new(
            serde_json::to_vec(body).map_err(|_| DirectoryError::config("update body"))?,
        );
        let request = self
            .transport
            .client()
            .put(self.user_url(account, None)?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        let response = self.authorized(request).await?;
        // users.update answers with the updated resource; anything else means
        // we cannot tell whether the change was applied.
        let body = self.transport.read_body(response).await?;
        serde_json::from_slice(&body).map_err(|_| self.transport.malformed("updated user"))
    }
}

fn state_of(user: &GoogleUser) -> AccountState {
    if user.archived {
        AccountState::Inactive
    } else if user.suspended {
        match user.suspension_reason.as_deref() {
            Some(r) if LOCKOUT_SUSPENSION_REASONS.contains(&r) => AccountState::Locked,
            reason => AccountState::Suspended {
                reason: reason.map(str::to_owned),
            },
        }
    } else if user.change_password_at_next_login {
        AccountState::PasswordExpired
    } else {
        AccountState::Active
    }
}

/// `/a/b` -> `["/a/b", "/a", "/"]`, so protecting an OU protects its children.
fn org_unit_and_parents(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = path.trim_end_matches('/');
    while !current.is_empty() {
        out.push(current.to_owned());
        current = current.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
    out.push("/".to_owned());
    out
}

/// Hex SHA-1 of the password, as the Directory API's `hashFunction: SHA-1` expects.
fn sha1_hex(password: &TemporaryPassword) -> Zeroizing<String> {
    let digest = Sha1::digest(password.expose().as_bytes());
    Zeroizing::new(hex::encode(digest))
}

impl Directory for GoogleWorkspace {
    fn provider(&self) -> Provider {
        Provider::GoogleWorkspace
    }

    async fn lookup(&self, account: &AccountRef) -> Result<DirectoryUser, DirectoryError> {
        let user = self.get_user(account).await?;
        let primary =
            AccountRef::parse(&user.primary_email).map_err(|_| self.transport.malformed("user"))?;
        Ok(DirectoryUser {
            account: primary,
            provider_id: user.id.clone(),
            provider: Provider::GoogleWorkspace,
            is_admin: user.is_admin || user.is_delegated_admin,
            groups: user
                .org_unit_path
                .as_deref()
                .map(org_unit_and_parents)
                .unwrap_or_default(),
            state: state_of(&user),
        })
    }

    async fn reset_password(
        &self,
        account: &AccountRef,
    ) -> Result<TemporaryPassword, DirectoryError> {
        let password = TemporaryPassword::generate();
        let hashed = sha1_hex(&password);
        let body = PasswordUpdate {
            password: &hashed,
            hash_function: "SHA-1",
            change_password_at_next_login: true,
        };
        let updated = self.update_user(account, &body).await?;
        if !updated.change_password_at_next_login {
            return Err(self.transport.malformed("forced change not confirmed"));
        }
        Ok(password)
    }

    async fn unlock(&self, account: &AccountRef) -> Result<UnlockOutcome, DirectoryError> {
        let user = self.get_user(account).await?;
        match state_of(&user) {
            AccountState::Locked => {
                let updated = self
                    .update_user(account, &SuspensionUpdate { suspended: false })
                    .await?;
                if updated.suspended {
                    return Err(self.transport.malformed("unsuspension not confirmed"));
                }
                Ok(UnlockOutcome::Unlocked)
            }
            AccountState::Suspended { .. } | AccountState::Inactive => {
                Err(DirectoryError::NotUnlockable {
                    provider: Provider::GoogleWorkspace,
                })
            }
            AccountState::Active | AccountState::PasswordExpired | AccountState::Disabled => {
                Ok(UnlockOutcome::WasNotLocked)
            }
        }
    }

    async fn revoke_sessions(&self, account: &AccountRef) -> Result<(), DirectoryError> {
        let request = empty_body(
            self.transport
                .client()
                .post(self.user_url(account, Some("signOut"))?),
        );
        self.authorized(request).await.map(drop)
    }

    /// users.get already carries `recoveryEmail` and `recoveryPhone`; the
    /// `admin.directory.user` scope reads them. Google has no push factor.
    async fn owner_channels(&self, account: &AccountRef) -> Result<OwnerChannels, DirectoryError> {
        let user = self.get_user(account).await?;
        Ok(OwnerChannels {
            primary_email: Some(user.primary_email),
            recovery_email: user.recovery_email.filter(|e| !e.is_empty()),
            recovery_phone: user.recovery_phone.as_deref().and_then(e164),
            push_factor: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_unit_paths_include_every_parent() {
        assert_eq!(
            org_unit_and_parents("/Finance/Payroll"),
            vec!["/Finance/Payroll", "/Finance", "/"]
        );
        assert_eq!(org_unit_and_parents("/"), vec!["/"]);
    }

    #[test]
    fn only_sign_in_challenge_suspensions_count_as_locked() {
        let user = |reason: Option<&str>| GoogleUser {
            id: "1".into(),
            primary_email: "a@b.example".into(),
            is_admin: false,
            is_delegated_admin: false,
            suspended: true,
            suspension_reason: reason.map(str::to_owned),
            archived: false,
            change_password_at_next_login: false,
            org_unit_path: None,
            recovery_email: None,
            recovery_phone: None,
        };
        assert_eq!(
            state_of(&user(Some("WEB_LOGIN_REQUIRED"))),
            AccountState::Locked
        );
        assert_eq!(
            state_of(&user(Some("ADMIN"))),
            AccountState::Suspended {
                reason: Some("ADMIN".into())
            }
        );
        assert_eq!(
            state_of(&user(None)),
            AccountState::Suspended { reason: None }
        );
    }

    #[test]
    fn sha1_hex_is_lower_case_forty_hex_digits() {
        let p = TemporaryPassword::generate();
        let h = sha1_hex(&p);
        assert_eq!(h.len(), 40);
        assert!(
            h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}
