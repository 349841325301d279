//! Google Workspace through the Admin SDK Directory API, as a service account
//! with domain-wide delegation. Requests exactly the three scopes below and
//! no other; never sends a plaintext password (SHA-1 hex with
//! `hashFunction`).

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
    AccessRevocation, AccountState, ConnectionReport, Directory, DirectoryGroup, DirectoryUser,
    OwnerChannels, Provider, RequirementKind, RequirementStatus, UnlockOutcome,
};
use crate::password::TemporaryPassword;
use crate::phone::e164;
use crate::secret::Secret;

/// The scopes this connector asks for, each with what it is for. Users need
/// the read-write scope (a reset is `users.update`; the read-only one is
/// `admin.directory.user.readonly`); groups are only read.
pub const GOOGLE_SCOPE_NEEDS: [(&str, &str); 3] = [
    (
        "https://www.googleapis.com/auth/admin.directory.user",
        "read accounts, set a temporary password, clear a sign-in challenge suspension",
    ),
    (
        "https://www.googleapis.com/auth/admin.directory.user.security",
        "sign the account out everywhere",
    ),
    (
        "https://www.googleapis.com/auth/admin.directory.group.readonly",
        "resolve protected groups and check membership",
    ),
];

/// The same scopes, space-separated as sent in the assertion.
pub const GOOGLE_SCOPES: &str = "https://www.googleapis.com/auth/admin.directory.user https://www.googleapis.com/auth/admin.directory.user.security https://www.googleapis.com/auth/admin.directory.group.readonly";

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

#[derive(Deserialize)]
struct GoogleGroup {
    id: String,
    email: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Membership {
    is_member: bool,
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
            transport: Transport::new(
                Provider::GoogleWorkspace,
                endpoints.timeout,
                endpoints.egress,
            )?,
            token_url: endpoints.google_token_url.clone(),
            api_base: endpoints.google_api_base.clone(),
            account,
            tokens: TokenCache::new(),
        })
    }

    async fn fetch_token(&self) -> Result<(Secret, std::time::Duration), DirectoryError> {
        self.fetch_token_for(GOOGLE_SCOPES).await
    }

    async fn fetch_token_for(
        &self,
        scope: &str,
    ) -> Result<(Secret, std::time::Duration), DirectoryError> {
        let key = rsa_signing_key(&self.account.private_key)?;
        let iat = jsonwebtoken::get_current_timestamp();
        let claims = AssertionClaims {
            iss: &self.account.client_email,
            sub: self.account.admin_subject.as_str(),
            scope,
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

    fn directory_url(&self, segments: &[&str]) -> Result<Url, DirectoryError> {
        let mut all = vec!["admin", "directory", "v1"];
        all.extend_from_slice(segments);
        endpoint(&self.api_base, &all)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        what: &'static str,
    ) -> Result<T, DirectoryError> {
        let response = self.authorized(self.transport.client().get(url)).await?;
        let body = self.transport.read_body(response).await?;
        serde_json::from_slice(&body).map_err(|_| self.transport.malformed(what))
    }

    fn user_url(&self, account: &AccountRef, action: Option<&str>) -> Result<Url, DirectoryError> {
        let mut segments = vec!["admin", "directory", "v1", "users", account.as_str()];
        segments.extend(action);
        endpoint(&self.api_base, &segments)
    }

    async fn get_user(&self, account: &AccountRef) -> Result<GoogleUser, DirectoryError> {
        self.get_json(self.user_url(account, None)?, "user").await
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

    /// `members.hasMember` per group, which follows nested groups within
    /// the domain. The member is named by the user's immutable id.
    async fn member_of_any(
        &self,
        user: &DirectoryUser,
        group_ids: &[String],
    ) -> Result<bool, DirectoryError> {
        for group in group_ids {
            let url = self.directory_url(&["groups", group, "hasMember", &user.provider_id])?;
            let membership: Membership = self.get_json(url, "membership").await?;
            if membership.is_member {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A Google group is named by its address; Google compares addresses
    /// case-insensitively.
    async fn resolve_group(&self, name: &str) -> Result<DirectoryGroup, DirectoryError> {
        let group: GoogleGroup = self
            .get_json(self.directory_url(&["groups", name])?, "group")
            .await?;
        Ok(DirectoryGroup {
            id: group.id,
            name: group.email,
        })
    }

    /// A token per scope (Google refuses the whole assertion when one scope
    /// is not delegated, so each is asked alone), then a user read as the
    /// delegated administrator.
    async fn check_connection(&self, probe: &AccountRef) -> ConnectionReport {
        let mut report = ConnectionReport::new(Provider::GoogleWorkspace);
        let mut credentials_work = false;
        for (scope, needed_for) in GOOGLE_SCOPE_NEEDS {
            let status = match self.fetch_token_for(scope).await {
                Ok(_) => {
                    credentials_work = true;
                    RequirementStatus::Granted
                }
                Err(DirectoryError::Auth {
                    reason: "unauthorized_client" | "access_denied" | "invalid_scope",
                    ..
                }) => {
                    credentials_work = true;
                    RequirementStatus::Missing
                }
                Err(_) => RequirementStatus::Unknown,
            };
            report.record(RequirementKind::Scope, scope, needed_for, status);
        }
        report.requirements.insert(
            0,
            crate::model::RequirementCheck {
                kind: RequirementKind::Credentials,
                name: format!(
                    "service account {} acting as {}",
                    self.account.client_email, self.account.admin_subject
                ),
                needed_for: "every call",
                status: if credentials_work {
                    RequirementStatus::Granted
                } else {
                    RequirementStatus::Missing
                },
            },
        );
        if report.missing().is_empty() && credentials_work {
            let status = match self.get_user(probe).await {
                Ok(_) | Err(DirectoryError::NotFound { .. }) => RequirementStatus::Granted,
                Err(DirectoryError::Provider { status: 403, .. }) => RequirementStatus::Missing,
                Err(_) => RequirementStatus::Unknown,
            };
            report.record(
                RequirementKind::AdminRole,
                format!(
                    "an admin role with the Users privileges for {}",
                    self.account.admin_subject
                ),
                "read and update accounts as the delegated administrator",
                status,
            );
        }
        report
    }

    /// Google lets a service account drop nothing but its own cached token;
    /// the delegation and the key live in the tenant's consoles.
    async fn revoke_access(&self) -> AccessRevocation {
        self.tokens.clear().await;
        AccessRevocation {
            revoked: vec!["cached access token".to_owned()],
            tenant_must_remove: vec![
                format!(
                    "the domain-wide delegation entry of service account {} (Admin console: Security > Access and data control > API controls > Domain-wide delegation)",
                    self.account.client_email
                ),
                format!(
                    "the service account key{} in Google Cloud (IAM > Service accounts > Keys)",
                    self.account
                        .private_key_id
                        .as_deref()
                        .map(|id| format!(" {id}"))
                        .unwrap_or_default()
                ),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scopes_sent_are_the_scopes_checked() {
        let listed: Vec<&str> = GOOGLE_SCOPE_NEEDS.iter().map(|(s, _)| *s).collect();
        assert_eq!(listed.join(" "), GOOGLE_SCOPES);
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
