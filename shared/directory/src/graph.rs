//! Microsoft Entra ID through Microsoft Graph v1.0, as an app registration
//! with the client-credentials grant and the application permissions of
//! `GRAPH_PERMISSION_NEEDS`, nothing more. Never writes `accountEnabled`:
//! Entra's smart lockout is timed and invisible to Graph, and a disabled
//! account is an administrator's decision. Never follows a pagination link
//! off the Graph origin.

use std::ops::ControlFlow;

use reqwest::{RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};
use url::Url;
use zerodesk_domain::AccountRef;
use zeroize::Zeroizing;

use crate::credentials::{DirectoryEndpoints, GraphClientSecret, validate_directory_tenant};
use crate::error::DirectoryError;
use crate::http::{TokenCache, Transport, empty_body, endpoint, same_origin};
use crate::model::{
    AccessRevocation, AccountState, ConnectionReport, Directory, DirectoryGroup, DirectoryUser,
    OwnerChannels, Provider, RequirementKind, RequirementStatus, UnlockOutcome,
};
use crate::password::TemporaryPassword;
use crate::phone::e164;
use crate::secret::Secret;

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// An application permission zerodesk needs, the least privileged one for
/// its use, and the higher privileged ones that also cover it (a tenant
/// that granted one of those is not missing anything, only granting more).
pub struct PermissionNeed {
    pub name: &'static str,
    pub needed_for: &'static str,
    pub also_covered_by: &'static [&'static str],
}

/// Every application permission zerodesk asks for. Never
/// `User.EnableDisableAccount.All`, `User.ReadWrite.All` or
/// `Directory.ReadWrite.All`.
pub const GRAPH_PERMISSION_NEEDS: [PermissionNeed; 7] = [
    PermissionNeed {
        name: "User.Read.All",
        needed_for: "read accounts, find one by another address, list its memberships",
        also_covered_by: &[
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    },
    PermissionNeed {
        name: "User-PasswordProfile.ReadWrite.All",
        needed_for: "set a temporary password",
        also_covered_by: &["Directory.ReadWrite.All"],
    },
    PermissionNeed {
        name: "User.RevokeSessions.All",
        needed_for: "sign the account out everywhere",
        also_covered_by: &["Directory.ReadWrite.All"],
    },
    PermissionNeed {
        name: "UserAuthMethod-Email.Read.All",
        needed_for: "read the recovery email address",
        also_covered_by: &[
            "UserAuthMethod-Email.ReadWrite.All",
            "UserAuthenticationMethod.Read.All",
            "UserAuthenticationMethod.ReadWrite.All",
        ],
    },
    PermissionNeed {
        name: "UserAuthMethod-Phone.Read.All",
        needed_for: "read the recovery mobile phone",
        also_covered_by: &[
            "UserAuthMethod-Phone.ReadWrite.All",
            "UserAuthenticationMethod.Read.All",
            "UserAuthenticationMethod.ReadWrite.All",
        ],
    },
    PermissionNeed {
        name: "RoleManagement.Read.Directory",
        needed_for: "tell administrators (active, PIM-eligible, scoped, custom) and check zerodesk's own role",
        also_covered_by: &[
            "RoleManagement.Read.All",
            "RoleManagement.ReadWrite.Directory",
        ],
    },
    PermissionNeed {
        name: "GroupMember.Read.All",
        needed_for: "resolve protected groups by name",
        also_covered_by: &[
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
    },
];

/// Built-in directory roles (by template id, which is a built-in role's
/// `roleDefinitionId`) that let an app reset a non-administrator's password.
const PASSWORD_RESET_ROLES: [(&str, &str); 6] = [
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
    ),
    (
        "966707d0-3269-4727-9be2-8c3a10f19b9d",
        "Password Administrator",
    ),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    (
        "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        "Authentication Administrator",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
    ),
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
    ),
];

/// The least privileged role that resets non-administrators' passwords and
/// invalidates their refresh tokens.
const RECOMMENDED_ROLE: &str = "Helpdesk Administrator";

/// Membership pages followed at most; an account in more groups than this is
/// treated as malformed rather than judged on a partial list.
const MAX_MEMBERSHIP_PAGES: usize = 20;

/// Values per `principalId in (...)` clause.
const IN_FILTER_LIMIT: usize = 15;

const USER_FIELDS: &str = "id,userPrincipalName,accountEnabled,mail";

/// What Graph answers for PIM in a tenant without Entra ID P2 or
/// Governance: there can be no eligible assignment there.
const NO_PIM_LICENCE: &str = "AadPremiumLicenseRequired";

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

/// A Graph collection read whole: users matching an address, a user's
/// authentication methods (at most one email and three phones), role
/// assignments of one principal.
#[derive(Deserialize)]
struct List<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
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

/// A membership as Graph lists it to an app that may not read groups:
/// `@odata.type` and `id` only, which is all this needs.
#[derive(Deserialize)]
struct DirectoryObject {
    #[serde(rename = "@odata.type", default)]
    odata_type: String,
    #[serde(default)]
    id: String,
}

impl DirectoryObject {
    fn is_group(&self) -> bool {
        self.odata_type == "#microsoft.graph.group"
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphGroup {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleAssignment {
    role_definition_id: String,
    #[serde(default)]
    directory_scope_id: Option<String>,
}

#[derive(Deserialize)]
struct Listed {
    #[serde(rename = "id")]
    _id: String,
}

/// The claims of Graph's app-only access token this connector reads, for
/// the connection report only: `roles` lists the application permissions
/// granted, `oid` is the app's service principal.
#[derive(Deserialize)]
struct AppTokenClaims {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    oid: Option<String>,
}

#[derive(Deserialize)]
struct GraphErrorBody {
    error: GraphErrorCode,
}

#[derive(Deserialize)]
struct GraphErrorCode {
    #[serde(default)]
    code: String,
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
            transport: Transport::new(
                Provider::MicrosoftGraph,
                endpoints.timeout,
                endpoints.egress,
            )?,
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

    /// As `authorized`, but a 400 comes back as Graph's error code rather
    /// than an error, for the one call where a 400 can mean "nothing here".
    async fn authorized_or_bad_request(
        &self,
        request: RequestBuilder,
    ) -> Result<Result<reqwest::Response, String>, DirectoryError> {
        let token = self.tokens.get_or_fetch(|| self.fetch_token()).await?;
        let response = request
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| self.transport.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(Ok(response));
        }
        if status == StatusCode::BAD_REQUEST {
            let body = self.transport.read_body(response).await?;
            let code = serde_json::from_slice::<GraphErrorBody>(&body)
                .map(|b| b.error.code)
                .unwrap_or_default();
            return Ok(Err(code));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(DirectoryError::RateLimited {
                provider: Provider::MicrosoftGraph,
                retry_after: retry_after_seconds(response.headers()),
            });
        }
        if status == StatusCode::UNAUTHORIZED {
            self.tokens.clear().await;
        }
        Err(self.transport.status_error(status))
    }

    async fn authorized_json<T: serde::de::DeserializeOwned>(
        &self,
        request: RequestBuilder,
        what: &'static str,
    ) -> Result<T, DirectoryError> {
        let response = self.authorized(request).await?;
        self.parse(response, what).await
    }

    async fn parse<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
        what: &'static str,
    ) -> Result<T, DirectoryError> {
        let body = self.transport.read_body(response).await?;
        serde_json::from_slice(&body).map_err(|_| self.transport.malformed(what))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: Url,
        what: &'static str,
    ) -> Result<T, DirectoryError> {
        self.authorized_json(self.transport.client().get(url), what)
            .await
    }

    fn api_url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, DirectoryError> {
        let mut all = vec!["v1.0"];
        all.extend_from_slice(segments);
        let mut url = endpoint(&self.api_base, &all)?;
        if !query.is_empty() {
            url.set_query(Some(&odata_query(query)));
        }
        Ok(url)
    }

    fn user_url(&self, user: &str, rest: &[&str]) -> Result<Url, DirectoryError> {
        let mut segments = vec!["users", user];
        segments.extend_from_slice(rest);
        self.api_url(&segments, &[])
    }

    /// The user the directory holds under `account`: its user principal
    /// name (all `/users/{key}` takes besides the id), else the one user
    /// whose mail or SMTP proxy address it is. Graph compares both
    /// case-insensitively.
    async fn find_user(&self, account: &AccountRef) -> Result<GraphUser, DirectoryError> {
        let url = self.api_url(&["users", account.as_str()], &[("$select", USER_FIELDS)])?;
        match self.get_json(url, "user").await {
            Err(DirectoryError::NotFound { .. }) => self.find_user_by_address(account).await,
            found => found,
        }
    }

    /// `mail` and `proxyAddresses` both take `eq` without advanced query
    /// parameters, so no `ConsistencyLevel: eventual` (whose index may lag).
    async fn find_user_by_address(
        &self,
        account: &AccountRef,
    ) -> Result<GraphUser, DirectoryError> {
        let address = account.as_str();
        let filter = format!(
            "mail eq {} or proxyAddresses/any(p:p eq {})",
            odata_string(address),
            odata_string(&format!("smtp:{address}"))
        );
        let url = self.api_url(
            &["users"],
            &[("$filter", &filter), ("$select", USER_FIELDS)],
        )?;
        let mut found: List<GraphUser> = self.get_json(url, "users").await?;
        match (found.value.pop(), found.value.is_empty()) {
            (None, _) => Err(DirectoryError::NotFound {
                provider: Provider::MicrosoftGraph,
            }),
            (Some(user), true) if found.next_link.is_none() => Ok(user),
            _ => Err(DirectoryError::config(
                "the address is held by more than one Entra user",
            )),
        }
    }

    async fn patch_user(&self, user_id: &str, body: &impl Serialize) -> Result<(), DirectoryError> {
        let body = Zeroizing::new(
            serde_json::to_vec(body).map_err(|_| DirectoryError::config("update body"))?,
        );
        let request = self
            .transport
            .client()
            .patch(self.user_url(user_id, &[])?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        self.authorized(request).await.map(drop)
    }

    /// One of the user's authentication method lists (`emailMethods`,
    /// `phoneMethods`): UserAuthMethod-Email / -Phone .Read.All.
    async fn auth_methods<T: serde::de::DeserializeOwned>(
        &self,
        user_id: &str,
        list: &'static str,
    ) -> Result<Vec<T>, DirectoryError> {
        let url = self.user_url(user_id, &["authentication", list])?;
        let page: List<T> = self.get_json(url, list).await?;
        Ok(page.value)
    }

    /// Visits the user's memberships, nested groups included, until `visit`
    /// breaks. `transitiveMemberOf` without a type cast: the cast needs
    /// `ConsistencyLevel: eventual`, whose index may miss a recent change.
    /// User.Read.All lists groups with their `id`, all this compares.
    async fn each_membership(
        &self,
        user_id: &str,
        mut visit: impl FnMut(&DirectoryObject) -> ControlFlow<()>,
    ) -> Result<(), DirectoryError> {
        let mut url = self.api_url(
            &["users", user_id, "transitiveMemberOf"],
            &[("$select", "id"), ("$top", "999")],
        )?;
        for _ in 0..MAX_MEMBERSHIP_PAGES {
            let page: List<DirectoryObject> = self.get_json(url, "memberships").await?;
            for object in &page.value {
                if visit(object).is_break() {
                    return Ok(());
                }
            }
            let Some(next) = page.next_link else {
                return Ok(());
            };
            url = Url::parse(&next).map_err(|_| self.transport.malformed("memberships"))?;
            if !same_origin(&self.api_base, &url) {
                return Err(self.transport.malformed("memberships"));
            }
        }
        Err(self.transport.malformed("memberships"))
    }

    /// Active directory role assignments matching `filter`, any scope,
    /// built-in or custom.
    async fn role_assignments(&self, filter: &str) -> Result<Vec<RoleAssignment>, DirectoryError> {
        let url = self.api_url(
            &["roleManagement", "directory", "roleAssignments"],
            &[
                ("$filter", filter),
                ("$select", "id,roleDefinitionId,directoryScopeId"),
            ],
        )?;
        let list: List<RoleAssignment> = self.get_json(url, "role assignments").await?;
        Ok(list.value)
    }

    /// Whether PIM makes the user eligible for any directory role. A tenant
    /// without the licence PIM needs has no eligible assignments.
    async fn eligible_for_a_role(&self, user_id: &str) -> Result<bool, DirectoryError> {
        let url = self.api_url(
            &["roleManagement", "directory", "roleEligibilitySchedules"],
            &[
                (
                    "$filter",
                    &format!("principalId eq {}", odata_string(user_id)),
                ),
                ("$select", "id"),
            ],
        )?;
        let request = self.transport.client().get(url);
        match self.authorized_or_bad_request(request).await? {
            Ok(response) => {
                let list: List<Listed> = self.parse(response, "role eligibility").await?;
                Ok(!list.value.is_empty())
            }
            Err(code) if code == NO_PIM_LICENCE => Ok(false),
            Err(_) => Err(DirectoryError::Provider {
                provider: Provider::MicrosoftGraph,
                status: 400,
            }),
        }
    }

    /// Any directory role, active or PIM-eligible, directory-wide or scoped
    /// to an administrative unit, built-in or custom, held directly or
    /// through a role-assignable group (which cannot be nested, so the
    /// groups the user is in are the ones to ask about).
    async fn holds_admin_role(&self, user_id: &str) -> Result<bool, DirectoryError> {
        let direct = format!("principalId eq {}", odata_string(user_id));
        if !self.role_assignments(&direct).await?.is_empty() {
            return Ok(true);
        }
        if self.eligible_for_a_role(user_id).await? {
            return Ok(true);
        }
        let mut groups = Vec::new();
        self.each_membership(user_id, |object| {
            if object.is_group() {
                groups.push(object.id.clone());
            }
            ControlFlow::Continue(())
        })
        .await?;
        for chunk in groups.chunks(IN_FILTER_LIMIT) {
            let listed: Vec<String> = chunk.iter().map(|g| odata_string(g)).collect();
            let filter = format!("principalId in ({})", listed.join(","));
            if !self.role_assignments(&filter).await?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn group_by_id(&self, id: &str) -> Result<DirectoryGroup, DirectoryError> {
        let url = self.api_url(&["groups", id], &[("$select", "id,displayName")])?;
        let group: GraphGroup = self.get_json(url, "group").await?;
        Ok(DirectoryGroup {
            name: group.display_name.unwrap_or_else(|| group.id.clone()),
            id: group.id,
        })
    }

    /// The directory role that lets zerodesk's app reset passwords, if it
    /// holds one; `Err` when its role assignments cannot be read.
    async fn password_reset_role(
        &self,
        app_object_id: &str,
    ) -> Result<Option<String>, DirectoryError> {
        let filter = format!("principalId eq {}", odata_string(app_object_id));
        let assignments = self.role_assignments(&filter).await?;
        Ok(assignments.iter().find_map(|a| {
            let (_, name) = PASSWORD_RESET_ROLES
                .iter()
                .find(|(id, _)| a.role_definition_id.eq_ignore_ascii_case(id))?;
            Some(match a.directory_scope_id.as_deref() {
                None | Some("/") => (*name).to_owned(),
                Some(scope) => format!("{name} (scoped to {scope})"),
            })
        }))
    }
}

/// A query string with OData's `$` names as they are and every value
/// percent-encoded (a space as `%20`: Graph does not read `+` as one).
fn odata_query(pairs: &[(&str, &str)]) -> String {
    let encode = |value: &str| {
        let mut out = String::with_capacity(value.len());
        for byte in value.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~$,():/@".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An OData string literal: quoted, a quote inside doubled.
fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Whether `value` is written as an Entra object id (a GUID).
fn is_object_id(value: &str) -> bool {
    value.len() == 36
        && value.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Graph's `Retry-After`, whole seconds, at most an hour.
fn retry_after_seconds(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(std::time::Duration::from_secs(seconds.min(3600)))
}

/// The mobile phone's number in E.164; never an office or alternate
/// mobile phone, which cannot receive SMS.
fn sms_phone(methods: &[PhoneMethod]) -> Option<String> {
    methods
        .iter()
        .filter(|m| m.phone_type == SMS_PHONE_TYPE)
        .find_map(|m| m.phone_number.as_deref().and_then(e164))
}

impl AppTokenClaims {
    /// Reads the access token's payload WITHOUT verifying it: it only says
    /// what to report, and Graph enforces the same permissions on every
    /// call regardless.
    fn read(token: &Secret) -> Option<Self> {
        jsonwebtoken::dangerous::insecure_decode_claims(token.expose()).ok()
    }

    fn grants(&self, need: &PermissionNeed) -> bool {
        std::iter::once(need.name)
            .chain(need.also_covered_by.iter().copied())
            .any(|p| self.roles.iter().any(|r| r == p))
    }
}

impl Directory for MicrosoftGraph {
    fn provider(&self) -> Provider {
        Provider::MicrosoftGraph
    }

    async fn lookup(&self, account: &AccountRef) -> Result<DirectoryUser, DirectoryError> {
        let user = self.find_user(account).await?;
        let upn = AccountRef::parse(&user.user_principal_name)
            .map_err(|_| self.transport.malformed("user"))?;
        let state = match user.account_enabled {
            Some(true) => AccountState::Active,
            Some(false) => AccountState::Disabled,
            None => return Err(self.transport.malformed("user")),
        };
        let is_admin = self.holds_admin_role(&user.id).await?;
        Ok(DirectoryUser {
            account: upn,
            provider_id: user.id,
            provider: Provider::MicrosoftGraph,
            is_admin,
            state,
        })
    }

    async fn reset_password(
        &self,
        account: &AccountRef,
    ) -> Result<TemporaryPassword, DirectoryError> {
        let user = self.find_user(account).await?;
        let password = TemporaryPassword::generate();
        let body = PasswordReset {
            password_profile: PasswordProfile {
                force_change_password_next_sign_in: true,
                password: password.expose(),
            },
        };
        self.patch_user(&user.id, &body).await?;
        Ok(password)
    }

    /// Entra's smart lockout ends by itself and Graph neither shows nor
    /// clears it; `accountEnabled: false` is an administrator's disabling,
    /// which an unlock never undoes. So nothing is ever changed here.
    async fn unlock(&self, account: &AccountRef) -> Result<UnlockOutcome, DirectoryError> {
        let user = self.find_user(account).await?;
        match user.account_enabled {
            Some(true) => Ok(UnlockOutcome::TimedByProvider),
            Some(false) => Err(DirectoryError::NotUnlockable {
                provider: Provider::MicrosoftGraph,
            }),
            None => Err(self.transport.malformed("user")),
        }
    }

    async fn revoke_sessions(&self, account: &AccountRef) -> Result<(), DirectoryError> {
        let user = self.find_user(account).await?;
        let request = empty_body(
            self.transport
                .client()
                .post(self.user_url(&user.id, &["revokeSignInSessions"])?),
        );
        self.authorized(request).await.map(drop)
    }

    async fn owner_channels(&self, account: &AccountRef) -> Result<OwnerChannels, DirectoryError> {
        let user = self.find_user(account).await?;
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

    /// Compares group object ids, never names: an app that may only read
    /// users sees its groups without their names.
    async fn member_of_any(
        &self,
        user: &DirectoryUser,
        group_ids: &[String],
    ) -> Result<bool, DirectoryError> {
        if group_ids.is_empty() {
            return Ok(false);
        }
        let mut member = false;
        self.each_membership(&user.provider_id, |object| {
            if object.is_group() && group_ids.iter().any(|g| g.eq_ignore_ascii_case(&object.id)) {
                member = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })
        .await?;
        Ok(member)
    }

    /// A group object id is taken as it is; otherwise the one group with
    /// that display name, which Graph compares case-insensitively. Display
    /// names need not be unique: two matches are refused, not guessed at.
    async fn resolve_group(&self, name: &str) -> Result<DirectoryGroup, DirectoryError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DirectoryError::NotFound {
                provider: Provider::MicrosoftGraph,
            });
        }
        if is_object_id(name) {
            match self.group_by_id(name).await {
                Err(DirectoryError::NotFound { .. }) => {}
                found => return found,
            }
        }
        let filter = format!("displayName eq {}", odata_string(name));
        let url = self.api_url(
            &["groups"],
            &[("$filter", &filter), ("$select", "id,displayName")],
        )?;
        let mut found: List<GraphGroup> = self.get_json(url, "groups").await?;
        match (found.value.pop(), found.value.is_empty()) {
            (None, _) => Err(DirectoryError::NotFound {
                provider: Provider::MicrosoftGraph,
            }),
            (Some(group), true) if found.next_link.is_none() => Ok(DirectoryGroup {
                name: group.display_name.unwrap_or_else(|| name.to_owned()),
                id: group.id,
            }),
            _ => Err(DirectoryError::config(
                "ambiguous group name: more than one Entra group has it; give the group's object id",
            )),
        }
    }

    /// A fresh token (so today's consent shows), its `roles` claim against
    /// each permission needed, the app's own directory role, then a read of
    /// `probe`.
    async fn check_connection(&self, probe: &AccountRef) -> ConnectionReport {
        let mut report = ConnectionReport::new(Provider::MicrosoftGraph);
        self.tokens.clear().await;
        let token = self.tokens.get_or_fetch(|| self.fetch_token()).await;
        report.record(
            RequirementKind::Credentials,
            format!(
                "client secret of app registration {} in tenant {}",
                self.credentials.client_id, self.credentials.directory_tenant
            ),
            "every call",
            match &token {
                Ok(_) => RequirementStatus::Granted,
                Err(DirectoryError::Auth { .. }) => RequirementStatus::Missing,
                Err(_) => RequirementStatus::Unknown,
            },
        );
        let claims = token.as_ref().ok().and_then(AppTokenClaims::read);
        for need in &GRAPH_PERMISSION_NEEDS {
            let status = match &claims {
                Some(c) if c.grants(need) => RequirementStatus::Granted,
                Some(_) => RequirementStatus::Missing,
                None => RequirementStatus::Unknown,
            };
            report.record(
                RequirementKind::ApplicationPermission,
                need.name,
                need.needed_for,
                status,
            );
        }
        let app = claims.as_ref().and_then(|c| c.oid.as_deref());
        let (role, status) = match app {
            Some(app) => match self.password_reset_role(app).await {
                Ok(Some(role)) => (role, RequirementStatus::Granted),
                Ok(None) => (RECOMMENDED_ROLE.to_owned(), RequirementStatus::Missing),
                Err(_) => (RECOMMENDED_ROLE.to_owned(), RequirementStatus::Unknown),
            },
            None => (RECOMMENDED_ROLE.to_owned(), RequirementStatus::Unknown),
        };
        report.record(
            RequirementKind::AdminRole,
            role,
            "reset non-administrators' passwords (a directory role on the app's service principal)",
            status,
        );
        if token.is_ok() {
            let status = match self.find_user(probe).await {
                Ok(_) | Err(DirectoryError::NotFound { .. }) => RequirementStatus::Granted,
                Err(DirectoryError::Provider { status: 403, .. } | DirectoryError::Auth { .. }) => {
                    RequirementStatus::Missing
                }
                Err(_) => RequirementStatus::Unknown,
            };
            report.record(
                RequirementKind::Credentials,
                format!(
                    "app registration {} reading {probe}",
                    self.credentials.client_id
                ),
                "read the account a ticket names",
                status,
            );
        }
        report
    }

    /// Graph has no revocation for client-credentials tokens: zerodesk
    /// forgets its cached one (it lapses within the hour); the consent, the
    /// secret and the role are the tenant's to remove.
    async fn revoke_access(&self) -> AccessRevocation {
        self.tokens.clear().await;
        let app = &self.credentials.client_id;
        AccessRevocation {
            revoked: vec!["cached access token".to_owned()],
            tenant_must_remove: vec![
                format!(
                    "the admin consent for app registration {app}, or its enterprise application (service principal) altogether (Entra admin center: Enterprise applications)"
                ),
                format!(
                    "the client secret of app registration {app} (App registrations > Certificates & secrets)"
                ),
                format!(
                    "the directory role assignment ({RECOMMENDED_ROLE} or the role you gave) of the service principal of {app} (Roles & admins)"
                ),
            ],
        }
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

    #[test]
    fn odata_values_are_quoted_and_encoded() {
        assert_eq!(odata_string("o'brien@x.example"), "'o''brien@x.example'");
        assert_eq!(
            odata_query(&[
                ("$filter", "mail eq 'a+b&c@x.example'"),
                ("$select", "id,mail"),
            ]),
            "$filter=mail%20eq%20%27a%2Bb%26c@x.example%27&$select=id,mail"
        );
    }

    #[test]
    fn object_ids_are_told_from_names() {
        assert!(is_object_id("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"));
        assert!(!is_object_id("Finance"));
        assert!(!is_object_id("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g"));
    }

    #[test]
    fn a_covering_permission_counts_as_granted() {
        let claims = AppTokenClaims {
            roles: vec!["UserAuthenticationMethod.Read.All".to_owned()],
            oid: None,
        };
        let email = &GRAPH_PERMISSION_NEEDS[3];
        assert_eq!(email.name, "UserAuthMethod-Email.Read.All");
        assert!(claims.grants(email));
        assert!(!claims.grants(&GRAPH_PERMISSION_NEEDS[0]));
    }

    #[test]
    fn zerodesk_never_asks_to_enable_accounts_or_write_the_directory() {
        for need in &GRAPH_PERMISSION_NEEDS {
            assert!(
                !matches!(
                    need.name,
                    "User.EnableDisableAccount.All"
                        | "User.ReadWrite.All"
                        | "Directory.ReadWrite.All"
                ),
                "{}",
                need.name
            );
        }
    }
}
