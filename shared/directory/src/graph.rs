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
use crate::model::{
    AccountState, Directory, DirectoryUser, OwnerChannels, Provider, UnlockOutcome,
};
use crate::password::TemporaryPassword;
use crate::phone::e164;
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
    #[serde(default)]
    mail: Option<String>,
}

/// A Graph collection without paging: a user has at most one email
/// method and three phone methods.
#[derive(Deserialize)]
struct MethodList<T> {
    value: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailMethod {
    email_address: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneMethod {
    #[serde(default)]
    phone_number: Option<String>,
    phone_type: String,
}

/// The only phone type that takes SMS: Graph documents `alternateMobile`
/// and `office` as voice-only.
const SMS_PHONE_TYPE: &str = "mobile";

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

    fn user_url(&self, user: &str, rest: &[&str]) -> Result<Url, DirectoryError> {
        let mut segments = vec!["v1.0", "users", user];
        segments.extend_from_slice(rest);
        endpoint(&self.api_base, &segments)
    }

    async fn get_user(&self, account: &AccountRef) -> Result<GraphUser, DirectoryError> {
        let mut url = self.user_url(account.as_str(), &[])?;
        url.set_query(Some("$select=id,userPrincipalName,accountEnabled,mail"));
        self.authorized_json(self.transport.client().get(url), "user")
            .await
    }

    /// Group names and whether any directory role is held, through nested
    /// groups too (a role can be granted to a role-assignable group).
    async fn memberships(&self, user_id: &str) -> Result<(Vec<String>, bool), DirectoryError> {
        let mut url = self.user_url(user_id, &["transitiveMemberOf"])?;
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
            .patch(self.user_url(account.as_str(), &[])?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        self.authorized(request).await.map(drop)
    }

    /// One of the user's authentication method lists (`emailMethods`,
    /// `phoneMethods`); reading them needs UserAuthenticationMethod.Read.All
    /// (or the narrower UserAuthMethod-Email / -Phone .Read.All).
    async fn auth_methods<T: serde::de::DeserializeOwned>(
        &self,
        user_id: &str,
        list: &'static str,
    ) -> Result<Vec<T>, DirectoryError> {
        let url = self.user_url(user_id, &["authentication", list])?;
        let page: MethodList<T> = self
            .authorized_json(self.transport.client().get(url), list)
            .await?;
        Ok(page.value)
    }
}

/// The mobile phone's number in E.164; never an office or alternate
/// mobile phone, which cannot receive SMS.
fn sms_phone(methods: &[PhoneMethod]) -> Option<String> {
    methods
        .iter()
        .filter(|m| m.phone_type == SMS_PHONE_TYPE)
        .find_map(|m| m.phone_number.as_deref().and_then(e164))
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
                .post(self.user_url(account.as_str(), &["revokeSignInSessions"])?),
        );
        self.authorized(request).await.map(drop)
    }

    async fn owner_channels(&self, account: &AccountRef) -> Result<OwnerChannels, DirectoryError> {
        let user = self.get_user(account).await?;
        let emails: Vec<EmailMethod> = self.auth_methods(&user.id, "emailMethods").await?;
        let phones: Vec<PhoneMethod> = self.auth_methods(&user.id, "phoneMethods").await?;
        Ok(OwnerChannels {
            primary_email: user
                .mail
                .filter(|m| !m.is_empty())
                .or(Some(user.user_principal_name)),
            recovery_email: emails
                .into_iter()
                .map(|e| e.email_address)
                .find(|e| !e.is_empty()),
            recovery_phone: sms_phone(&phones),
            push_factor: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(phone_type: &str, number: &str) -> PhoneMethod {
        PhoneMethod {
            phone_number: Some(number.to_owned()),
            phone_type: phone_type.to_owned(),
        }
    }

    #[test]
    fn only_the_mobile_phone_is_used_for_sms() {
        let voice_only = [
            phone("office", "+1 2065555557"),
            phone("alternateMobile", "+1 2065555556"),
        ];
        assert_eq!(sms_phone(&voice_only), None);
        let with_mobile = [
            phone("office", "+1 2065555557"),
            phone("mobile", "+1 2065555555"),
        ];
        assert_eq!(sms_phone(&with_mobile).as_deref(), Some("+12065555555"));
    }
}
