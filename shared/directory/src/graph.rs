//! Microsoft Entra ID through Microsoft Graph v1.0, as an app registration
//! with the client-credentials grant. Unlock means `accountEnabled: true`
//! (Entra's smart lockout has no admin-clearable flag); never follows a
//! pagination link off the Graph origin.

use reqwest::RequestBuilder;
use serde::{Deserialize, Serialize};
use url::Url;
use zerodesk_domain::AccountRef;
use zeroize::Zeroizing;

use crate::credentials::{DirectoryEndpoints, GraphClientSecret, validate_directory_tenant};
use crate::error::DirectoryError;
use crate::http::{TokenCache, Transport, empty_body, endpoint, same_origin};
use crate::model::{AccountState, Directory, DirectoryUser, Provider, UnlockOutcome};
use crate::password::TemporaryPassword;
use crate::secret::Secret;

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Membership pages followed at most; an account in more groups than this is
/// treated as malformed rather than judged on a partial list.
const MAX_MEMBERSHIP_PAGES: usize = 20;

pub struct MicrosoftGraph {
    transport: Transport,
    token_url: Url,
    api_base: Url,
    credentials: GraphClientSecret,
    tokens: TokenCache,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUser {
    id: String,
    user_principal_name: String,
    account_enabled: Option<bool>,
}

#[derive(Deserialize)]
struct MembershipPage {
    value: Vec<DirectoryObject>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryObject {
    #[serde(rename = "@odata.type", default)]
    odata_type: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PasswordReset<'a> {
    password_profile: PasswordProfile<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PasswordProfile<'a> {
    force_change_password_next_sign_in: bool,
    password: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnableAccount {
    account_enabled: bool,
}

impl MicrosoftGraph {
    pub fn new(
        credentials: GraphClientSecret,
        endpoints: &DirectoryEndpoints,
    ) -> Result<Self, DirectoryError> {
        validate_directory_tenant(&credentials.directory_tenant)?;
        let token_url = endpoint(
            &endpoints.graph_token_base,
            &[&credentials.directory_tenant, "oauth2", "v2.0", "token"],
        )?;
        Ok(Self {
            transport: Transport::new(Provider::MicrosoftGraph, endpoints.timeout)?,
            token_url,
            api_base: endpoints.graph_api_base.clone(),
            credentials,
            tokens: TokenCache::new(),
        })
    }

    async fn fetch_token(&self) -> Result<(Secret, std::time::Duration), DirectoryError> {
        let form = [
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.expose()),
            ("scope", GRAPH_SCOPE),
            ("grant_type", "client_credentials"),
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

    async fn authorized_json<T: serde::de::DeserializeOwned>(
        &self,
        request: RequestBuilder,
        what: &'static str,
    ) -> Result<T, DirectoryError> {
        let response = self.authorized(request).await?;
        let body = self.transport.read_body(response).await?;
        serde_json::from_slice(&body).map_err(|_| self.transport.malformed(what))
    }

    fn user_url(&self, user: &str, action: Option<&str>) -> Result<Url, DirectoryError> {
        let mut segments = vec!["v1.0", "users", user];
        segments.extend(action);
        endpoint(&self.api_base, &segments)
    }

    async fn get_user(&self, account: &AccountRef) -> Result<GraphUser, DirectoryError> {
        let mut url = self.user_url(account.as_str(), None)?;
        url.set_query(Some("$select=id,userPrincipalName,accountEnabled"));
        self.authorized_json(self.transport.client().get(url), "user")
            .await
    }

    /// Group names and whether any directory role is held, through nested
    /// groups too (a role can be granted to a role-assignable group).
    async fn memberships(&self, user_id: &str) -> Result<(Vec<String>, bool), DirectoryError> {
        let mut url = self.user_url(user_id, Some("transitiveMemberOf"))?;
        url.set_query(Some("$select=id,displayName"));
        let mut groups = Vec::new();
        let mut is_admin = false;
        for _ in 0..MAX_MEMBERSHIP_PAGES {
            let page: MembershipPage = self
                .authorized_json(self.transport.client().get(url.clone()), "memberships")
                .await?;
            for object in page.value {
                match object.odata_type.as_str() {
                    "#microsoft.graph.directoryRole" => is_admin = true,
                    "#microsoft.graph.group" => groups.extend(object.display_name),
                    _ => {}
                }
            }
            let Some(next) = page.next_link else {
                return Ok((groups, is_admin));
            };
            url = Url::parse(&next).map_err(|_| self.transport.malformed("memberships"))?;
            if !same_origin(&self.api_base, &url) {
                return Err(self.transport.malformed("memberships"));
            }
        }
        Err(self.transport.malformed("memberships"))
    }

    async fn patch_user(
        &self,
        account: &AccountRef,
        body: &impl Serialize,
    ) -> Result<(), DirectoryError> {
        let body = Zeroizing::new(
            serde_json::to_vec(body).map_err(|_| DirectoryError::config("update body"))?,
        );
        let request = self
            .transport
            .client()
            .patch(self.user_url(account.as_str(), None)?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        self.authorized(request).await.map(drop)
    }
}

impl Directory for MicrosoftGraph {
    fn provider(&self) -> Provider {
        Provider::MicrosoftGraph
    }

    async fn lookup(&self, account: &AccountRef) -> Result<DirectoryUser, DirectoryError> {
        let user = self.get_user(account).await?;
        let upn = AccountRef::parse(&user.user_principal_name)
            .map_err(|_| self.transport.malformed("user"))?;
        let (groups, is_admin) = self.memberships(&user.id).await?;
        let state = match user.account_enabled {
            Some(true) => AccountState::Active,
            Some(false) => AccountState::Disabled,
            None => return Err(self.transport.malformed("user")),
        };
        Ok(DirectoryUser {
            account: upn,
            provider_id: user.id,
            provider: Provider::MicrosoftGraph,
            is_admin,
            groups,
            state,
        })
    }

    async fn reset_password(
        &self,
        account: &AccountRef,
    ) -> Result<TemporaryPassword, DirectoryError> {
        let password = TemporaryPassword::generate();
        let body = PasswordReset {
            password_profile: PasswordProfile {
                force_change_password_next_sign_in: true,
                password: password.expose(),
            },
        };
        self.patch_user(account, &body).await?;
        Ok(password)
    }

    async fn unlock(&self, account: &AccountRef) -> Result<UnlockOutcome, DirectoryError> {
        let user = self.get_user(account).await?;
        if user.account_enabled == Some(true) {
            return Ok(UnlockOutcome::WasNotLocked);
        }
        self.patch_user(
            account,
            &EnableAccount {
                account_enabled: true,
            },
        )
        .await?;
        Ok(UnlockOutcome::Unlocked)
    }

    async fn revoke_sessions(&self, account: &AccountRef) -> Result<(), DirectoryError> {
        let request = empty_body(
            self.transport
                .client()
                .post(self.user_url(account.as_str(), Some("revokeSignInSessions"))?),
        );
        self.authorized(request).await.map(drop)
    }
    async fn owner_channels(
        &self,
        _account: &AccountRef,
    ) -> Result<crate::model::OwnerChannels, DirectoryError> {
        Ok(crate::model::OwnerChannels::default())
    }

    async fn send_push(
        &self,
        _account: &AccountRef,
        _factor: &str,
    ) -> Result<crate::model::PushChallenge, DirectoryError> {
        Err(DirectoryError::Unsupported {
            provider: self.provider(),
            what: "push verification",
        })
    }

    async fn push_result(
        &self,
        _account: &AccountRef,
        _factor: &str,
        _transaction: &str,
    ) -> Result<crate::model::PushResult, DirectoryError> {
        Err(DirectoryError::Unsupported {
            provider: self.provider(),
            what: "push verification",
        })
    }
}
