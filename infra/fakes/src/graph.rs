//! A fake Microsoft Graph and Entra token endpoint, answering an app-only
//! caller as Graph does. The client-credentials grant issues a JWT whose
//! `roles` are the application permissions consented (what zerodesk needs,
//! unless a test revokes one) and whose `oid` is the app's service
//! principal; every API call checks its permission (403
//! `Authorization_RequestDenied`), a password reset also the service
//! principal's directory role. Users by id or UPN only (another address is a
//! `$filter` on `mail` / `proxyAddresses`), memberships with limited
//! information (`@odata.type` and `id`) unless a group permission is
//! granted, groups by id or `displayName`, role assignments and PIM
//! eligibility. Smart lockout is invisible: `accountEnabled` only says
//! whether an administrator disabled the account. Throttling is 429 with
//! `Retry-After`. Serves 127.0.0.1 only.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::handle::fake_handle_methods;
use crate::seed::{
    FakeUser, PhoneKind, Seed, SeedPhone, SeedState, TEST_ONLY_PRIVATE_KEY_PEM, users_of,
};
use crate::server::{
    Controls, FakeState, Incoming, Running, StartError, apply_fault, bind, json, lock,
    random_token, router, spawn,
};

pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The application permissions every org's app holds unless a test revokes
/// one: exactly the ones zerodesk asks for.
const DEFAULT_PERMISSIONS: [&str; 7] = [
    "User.Read.All",
    "User-PasswordProfile.ReadWrite.All",
    "User.RevokeSessions.All",
    "UserAuthMethod-Email.Read.All",
    "UserAuthMethod-Phone.Read.All",
    "RoleManagement.Read.Directory",
    "GroupMember.Read.All",
];

/// What each operation accepts, least privileged first, as the Graph v1.0
/// reference pages list the application permissions.
const READ_USERS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// `User.ReadWrite.All` does not cover `passwordProfile`.
const RESET_PASSWORDS: &[&str] = &[
    "User-PasswordProfile.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const ENABLE_ACCOUNTS: &[&str] = &[
    "User.EnableDisableAccount.All",
    "User.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const REVOKE_SESSIONS: &[&str] = &["User.RevokeSessions.All", "Directory.ReadWrite.All"];
const READ_EMAIL_METHODS: &[&str] = &[
    "UserAuthMethod-Email.Read.All",
    "UserAuthMethod-Email.ReadWrite.All",
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
];
const READ_PHONE_METHODS: &[&str] = &[
    "UserAuthMethod-Phone.Read.All",
    "UserAuthMethod-Phone.ReadWrite.All",
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
];
const READ_GROUPS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const READ_ROLES: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const READ_ELIGIBILITY: &[&str] = &[
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.ReadWrite.Directory",
];

/// Built-in role template ids (a built-in role's `roleDefinitionId`).
const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
const PASSWORD_ADMINISTRATOR: &str = "966707d0-3269-4727-9be2-8c3a10f19b9d";
const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const AUTHENTICATION_ADMINISTRATOR: &str = "c4e39bd9-1100-46d3-8c65-fb160da0071f";
const PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: &str = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
/// A tenant's own custom role, as `assign_scoped_role` grants it.
const CUSTOM_ROLE: &str = "b7e1c0de-5a1e-4c0a-9d2e-3f4a5b6c7d8e";

/// Roles that may reset a non-administrator's password; an administrator's
/// only the last two may.
const RESETS_USERS: &[&str] = &[
    HELPDESK_ADMINISTRATOR,
    PASSWORD_ADMINISTRATOR,
    USER_ADMINISTRATOR,
    AUTHENTICATION_ADMINISTRATOR,
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    GLOBAL_ADMINISTRATOR,
];
const RESETS_ADMINS: &[&str] = &[
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    GLOBAL_ADMINISTRATOR,
];

const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
/// Membership pages are this small so connectors must follow nextLink,
/// whatever `$top` asks for (Graph may always return fewer).
const MEMBERSHIP_PAGE_SIZE: usize = 2;
/// `Retry-After` on a 429 injected as a fault.
const FAULT_RETRY_AFTER_SECS: u64 = 10;

const USER_PROPERTIES: &[&str] = &[
    "id",
    "userPrincipalName",
    "accountEnabled",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "proxyAddresses",
];
/// Graph's default user properties, which do not include `accountEnabled`.
const USER_DEFAULT: &[&str] = &[
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
];
const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "mailEnabled",
    "securityEnabled",
    "isAssignableToRole",
];
const MEMBER_OBJECT_PROPERTIES: &[&str] = &["id", "displayName", "roleTemplateId"];
const ASSIGNMENT_PROPERTIES: &[&str] =
    &["id", "principalId", "roleDefinitionId", "directoryScopeId"];
const ELIGIBILITY_PROPERTIES: &[&str] = &[
    "id",
    "principalId",
    "roleDefinitionId",
    "directoryScopeId",
    "appScopeId",
    "status",
    "memberType",
];

pub struct FakeGraph {
    running: Running,
    state: Arc<GraphState>,
}

pub(crate) struct GraphState {
    pub(crate) controls: Controls,
    pub(crate) users: Mutex<Vec<FakeUser>>,
    seed: Seed,
    base_url: String,
    grants: Mutex<HashMap<String, Grant>>,
    tenant: Mutex<Tenant>,
}

/// An access token the fake issued: whose it is and the roles it carries,
/// fixed when issued as in Entra (a later consent change needs a new token).
struct Grant {
    org: usize,
    roles: BTreeSet<String>,
    expires: Instant,
}

/// What an administrator configures in each org's Entra tenant.
struct Tenant {
    /// Application permissions consented for every org's zerodesk app.
    permissions: BTreeSet<String>,
    groups: Vec<FakeGroup>,
    roles: Vec<RoleGrant>,
    /// Entra ID P2 or Governance, without which PIM answers 400.
    pim_licensed: bool,
    /// Every API call answers 429 with this `Retry-After` while set.
    throttled: Option<u64>,
}

struct FakeGroup {
    org: usize,
    id: String,
    name: String,
    /// A seed group has the seed's users as members; an added one none.
    seeded: bool,
}

/// A directory role assignment (active) or PIM eligibility.
struct RoleGrant {
    id: String,
    org: usize,
    principal: String,
    role: String,
    scope: String,
    eligible: bool,
}

fn user_id(org: usize, user: usize) -> String {
    format!("{org:08x}-0000-4000-8000-{user:012x}")
}

fn group_id(org: usize, position: usize) -> String {
    format!("{org:08x}-1111-4000-8000-{position:012x}")
}

/// The object id of the org's zerodesk app's service principal.
fn service_principal_id(org: usize) -> String {
    format!("{org:08x}-5e5e-4000-8000-0000000a9915")
}

fn directory_role_object_id(org: usize, role: &str) -> String {
    format!("{org:08x}-d1d1-{}", role.get(9..).unwrap_or(role))
}

fn role_name(role: &str) -> &'static str {
    match role {
        GLOBAL_ADMINISTRATOR => "Global Administrator",
        HELPDESK_ADMINISTRATOR => "Helpdesk Administrator",
        PASSWORD_ADMINISTRATOR => "Password Administrator",
        USER_ADMINISTRATOR => "User Administrator",
        AUTHENTICATION_ADMINISTRATOR => "Authentication Administrator",
        PRIVILEGED_AUTHENTICATION_ADMINISTRATOR => "Privileged Authentication Administrator",
        _ => "Custom role",
    }
}

impl Tenant {
    fn new(seed: &Seed) -> Self {
        let mut groups = Vec::new();
        let mut roles = Vec::new();
        for (o, org) in seed.orgs.iter().enumerate() {
            for (position, name) in org.group_names().into_iter().enumerate() {
                groups.push(FakeGroup {
                    org: o,
                    id: group_id(o, position),
                    name: name.to_owned(),
                    seeded: true,
                });
            }
            roles.push(RoleGrant::new(
                o,
                service_principal_id(o),
                HELPDESK_ADMINISTRATOR,
                "/",
                false,
            ));
            for (u, user) in org.users.iter().enumerate() {
                if user.admin {
                    roles.push(RoleGrant::new(
                        o,
                        user_id(o, u),
                        GLOBAL_ADMINISTRATOR,
                        "/",
                        false,
                    ));
                }
            }
        }
        Self {
            permissions: DEFAULT_PERMISSIONS
                .iter()
                .map(|p| (*p).to_owned())
                .collect(),
            groups,
            roles,
            pim_licensed: true,
            throttled: None,
        }
    }

    /// The ids of the groups `user` is in (the seed has no nesting, so
    /// direct and transitive are the same).
    fn groups_of(&self, user: &FakeUser) -> Vec<&FakeGroup> {
        self.groups
            .iter()
            .filter(|g| g.org == user.org && g.seeded && user.seed.groups.contains(&g.name))
            .collect()
    }

    fn holds_any_role(&self, org: usize, principal: &str) -> bool {
        self.roles
            .iter()
            .any(|r| r.org == org && r.principal.eq_ignore_ascii_case(principal))
    }

    /// Whether the org's app may reset `target`'s password: a directory-wide
    /// active role that covers it.
    fn app_may_reset(&self, org: usize, target_is_admin: bool) -> bool {
        let wanted = if target_is_admin {
            RESETS_ADMINS
        } else {
            RESETS_USERS
        };
        let app = service_principal_id(org);
        self.roles.iter().any(|r| {
            r.org == org
                && r.principal == app
                && !r.eligible
                && r.scope == "/"
                && wanted.contains(&r.role.as_str())
        })
    }
}

impl RoleGrant {
    fn new(org: usize, principal: String, role: &str, scope: &str, eligible: bool) -> Self {
        Self {
            id: random_token(if eligible { "elig-" } else { "asgn-" }),
            org,
            principal,
            role: role.to_owned(),
            scope: scope.to_owned(),
            eligible,
        }
    }
}

impl FakeGraph {
    pub async fn start(seed: Seed) -> Result<Self, StartError> {
        Self::start_on(seed, 0).await
    }

    /// Serves both the token endpoint and the Graph API on 127.0.0.1:`port`.
    pub async fn start_on(seed: Seed, port: u16) -> Result<Self, StartError> {
        let (listener, addr) = bind("Microsoft Graph", port).await?;
        let state = Arc::new(GraphState {
            controls: Controls::default(),
            users: Mutex::new(users_of(&seed, user_id)),
            tenant: Mutex::new(Tenant::new(&seed)),
            seed,
            base_url: format!("http://{addr}"),
            grants: Mutex::new(HashMap::new()),
        });
        let running = spawn(
            "Microsoft Graph",
            listener,
            addr,
            router(Arc::clone(&state)),
        );
        Ok(Self { running, state })
    }

    fake_handle_methods!();

    /// The value for `GRAPH_TOKEN_BASE_URL`.
    pub fn token_base_url(&self) -> String {
        self.base_url()
    }

    /// The value for `GRAPH_API_BASE_URL`.
    pub fn api_base_url(&self) -> String {
        self.base_url()
    }

    pub fn credentials_json(&self, domain: &str) -> Option<Value> {
        let org = self.state.seed.org(domain)?;
        Some(json!({
            "provider": "microsoft_graph",
            "directory_tenant": org.graph.directory_tenant,
            "client_id": org.graph.client_id,
            "client_secret": org.graph.client_secret,
        }))
    }

    /// The application permissions every org's app now holds.
    pub fn granted_permissions(&self) -> Vec<String> {
        lock(&self.state.tenant)
            .permissions
            .iter()
            .cloned()
            .collect()
    }

    /// Withdraws the admin consent for one application permission of every
    /// org's app. Tokens issued from now on no longer carry it.
    pub fn revoke_permission(&self, permission: &str) {
        lock(&self.state.tenant).permissions.remove(permission);
    }

    /// Consents one more application permission for every org's app.
    pub fn grant_permission(&self, permission: &str) {
        lock(&self.state.tenant)
            .permissions
            .insert(permission.to_owned());
    }

    /// Removes every directory role of every org's app (by default it is a
    /// Helpdesk Administrator).
    pub fn remove_app_directory_roles(&self) {
        let mut tenant = lock(&self.state.tenant);
        tenant
            .roles
            .retain(|r| r.principal != service_principal_id(r.org));
    }

    /// Gives every org's app the built-in role with this template id,
    /// directory-wide.
    pub fn assign_app_directory_role(&self, role_template_id: &str) {
        let mut tenant = lock(&self.state.tenant);
        for org in 0..self.state.seed.orgs.len() {
            tenant.roles.push(RoleGrant::new(
                org,
                service_principal_id(org),
                role_template_id,
                "/",
                false,
            ));
        }
    }

    /// The object id of `domain`'s zerodesk service principal (the access
    /// token's `oid`).
    pub fn service_principal_id(&self, domain: &str) -> Option<String> {
        let index = self.org_index(domain)?;
        Some(service_principal_id(index))
    }

    /// Makes the user eligible (PIM), and only eligible, for User
    /// Administrator: nothing shows in their memberships or active
    /// assignments.
    pub fn make_eligible_admin(&self, email: &str) -> bool {
        self.grant_role(email, USER_ADMINISTRATOR, "/", true)
    }

    /// Assigns the user a custom role scoped to an administrative unit:
    /// an administrator nonetheless, though no directory role object shows.
    pub fn assign_scoped_role(&self, email: &str) -> bool {
        self.grant_role(
            email,
            CUSTOM_ROLE,
            "/administrativeUnits/6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
            false,
        )
    }

    /// Assigns Helpdesk Administrator to the (role-assignable) group `name`
    /// of `domain`: its members hold the role through it.
    pub fn assign_role_to_group(&self, domain: &str, name: &str) -> bool {
        let Some(id) = self.group_id(domain, name) else {
            return false;
        };
        let Some(org) = self.org_index(domain) else {
            return false;
        };
        lock(&self.state.tenant).roles.push(RoleGrant::new(
            org,
            id,
            HELPDESK_ADMINISTRATOR,
            "/",
            false,
        ));
        true
    }

    /// Without an Entra ID P2 or Governance licence, PIM's APIs answer 400
    /// `AadPremiumLicenseRequired`.
    pub fn set_pim_licensed(&self, licensed: bool) {
        lock(&self.state.tenant).pim_licensed = licensed;
    }

    /// While `Some`, every API call is throttled: 429 with `Retry-After` in
    /// whole seconds, as Graph answers.
    pub fn throttle(&self, retry_after: Option<Duration>) {
        lock(&self.state.tenant).throttled = retry_after.map(|d| d.as_secs());
    }

    /// The object id of the seed group `name` of `domain`.
    pub fn group_id(&self, domain: &str, name: &str) -> Option<String> {
        let org = self.org_index(domain)?;
        lock(&self.state.tenant)
            .groups
            .iter()
            .find(|g| g.org == org && g.seeded && g.name == name)
            .map(|g| g.id.clone())
    }

    /// Adds an empty group to `domain` (display names need not be unique in
    /// Entra) and returns its id.
    pub fn add_group(&self, domain: &str, name: &str) -> Option<String> {
        let org = self.org_index(domain)?;
        let mut tenant = lock(&self.state.tenant);
        let id = group_id(org, 0x100 + tenant.groups.len());
        tenant.groups.push(FakeGroup {
            org,
            id: id.clone(),
            name: name.to_owned(),
            seeded: false,
        });
        Some(id)
    }

    fn org_index(&self, domain: &str) -> Option<usize> {
        self.state.seed.orgs.iter().position(|o| o.domain == domain)
    }

    fn grant_role(&self, email: &str, role: &str, scope: &str, eligible: bool) -> bool {
        let Some(user) = self.user(email) else {
            return false;
        };
        lock(&self.state.tenant)
            .roles
            .push(RoleGrant::new(user.org, user.id, role, scope, eligible));
        true
    }
}

enum Route {
    Token(String),
    Api(Api),
}

/// The Graph API operations the fake serves.
enum Api {
    GetUser(String),
    ListUsers,
    Memberships(String),
    Update(String),
    Revoke(String),
    EmailMethods(String),
    PhoneMethods(String),
    GetGroup(String),
    ListGroups,
    RoleAssignments,
    RoleEligibility,
}

impl Route {
    fn parse(request: &Incoming) -> Option<Self> {
        let m = &request.method;
        let get = m == Method::GET;
        let owned = |s: &&str| (*s).to_owned();
        let api = match request.segs().as_slice() {
            [tenant, "oauth2", "v2.0", "token"] if m == Method::POST => {
                return Some(Route::Token(owned(tenant)));
            }
            ["v1.0", "users"] if get => Api::ListUsers,
            ["v1.0", "users", id] if get => Api::GetUser(owned(id)),
            ["v1.0", "users", id] if m == Method::PATCH => Api::Update(owned(id)),
            ["v1.0", "users", id, "transitiveMemberOf" | "memberOf"] if get => {
                Api::Memberships(owned(id))
            }
            ["v1.0", "users", id, action] if m == Method::POST && is_revoke(action) => {
                Api::Revoke(owned(id))
            }
            ["v1.0", "users", id, "authentication", "emailMethods"] if get => {
                Api::EmailMethods(owned(id))
            }
            ["v1.0", "users", id, "authentication", "phoneMethods"] if get => {
                Api::PhoneMethods(owned(id))
            }
            ["v1.0", "groups"] if get => Api::ListGroups,
            ["v1.0", "groups", id] if get => Api::GetGroup(owned(id)),
            ["v1.0", "roleManagement", "directory", "roleAssignments"] if get => {
                Api::RoleAssignments
            }
            [
                "v1.0",
                "roleManagement",
                "directory",
                "roleEligibilitySchedules",
            ] if get => Api::RoleEligibility,
            _ => return None,
        };
        Some(Route::Api(api))
    }

    fn name(route: Option<&Self>) -> &'static str {
        match route {
            None => "unknown",
            Some(Route::Token(_)) => "token",
            Some(Route::Api(api)) => match api {
                Api::GetUser(_) => "users.get",
                Api::ListUsers => "users.list",
                Api::Memberships(_) => "users.memberOf",
                Api::Update(_) => "users.update",
                Api::Revoke(_) => "users.revokeSignInSessions",
                Api::EmailMethods(_) => "users.authentication.emailMethods",
                Api::PhoneMethods(_) => "users.authentication.phoneMethods",
                Api::GetGroup(_) => "groups.get",
                Api::ListGroups => "groups.list",
                Api::RoleAssignments => "roleAssignments.list",
                Api::RoleEligibility => "roleEligibilitySchedules.list",
            },
        }
    }
}

/// A bound action may be called with or without its namespace.
fn is_revoke(action: &str) -> bool {
    matches!(
        action,
        "revokeSignInSessions" | "microsoft.graph.revokeSignInSessions"
    )
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    json(
        status,
        json!({"error": {"code": code, "message": message, "innerError": {
            "date": "2026-01-05T09:00:00", "request-id": "00000000-0000-0000-0000-000000000000",
            "client-request-id": "00000000-0000-0000-0000-000000000000"}}}),
    )
}

fn status_error(status: StatusCode) -> Response {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return throttled(FAULT_RETRY_AFTER_SECS);
    }
    let code = match status.as_u16() {
        400 => "Request_BadRequest",
        401 => "InvalidAuthenticationToken",
        403 => "Authorization_RequestDenied",
        404 => "Request_ResourceNotFound",
        503 => "serviceNotAvailable",
        _ => "generalException",
    };
    api_error(status, code, status.canonical_reason().unwrap_or("error"))
}

/// Graph's throttling answer: 429, `Retry-After` in seconds.
fn throttled(retry_after_secs: u64) -> Response {
    let mut response = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Too many requests.",
    );
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn insufficient_privileges() -> Response {
    api_error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

fn not_found(id: &str) -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn token_error(status: StatusCode, error: &str, aadsts: u32, description: &str) -> Response {
    json(
        status,
        json!({"error": error, "error_description": format!("AADSTS{aadsts}: {description}"),
               "error_codes": [aadsts], "timestamp": "2026-01-05 09:00:00Z",
               "trace_id": "00000000-0000-0000-0000-000000000000",
               "correlation_id": "00000000-0000-0000-0000-000000000000"}),
    )
}

impl FakeState for GraphState {
    const DESCRIBED: crate::conformance::Described = crate::conformance::Described::Graph;

    fn controls(&self) -> &Controls {
        &self.controls
    }

    async fn handle(self: Arc<Self>, request: Incoming) -> Response {
        let route = Route::parse(&request);
        let name = Route::name(route.as_ref());
        self.controls.record(name, &request);
        if let Some(response) = apply_fault(self.controls.fault_for(name), status_error).await {
            return response;
        }
        let api = match route {
            None => {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "Resource not found for the segment.",
                );
            }
            Some(Route::Token(tenant)) => return self.token(&request, &tenant),
            Some(Route::Api(api)) => api,
        };
        if let Some(seconds) = lock(&self.tenant).throttled {
            return throttled(seconds);
        }
        let caller = match self.caller(&request) {
            Ok(caller) => caller,
            Err(response) => return response,
        };
        let outcome = match api {
            Api::GetUser(key) => self.get_user(&request, &caller, &key),
            Api::ListUsers => self.list_users(&request, &caller),
            Api::Memberships(key) => self.memberships(&request, &caller, &key),
            Api::Update(key) => self.update(&request, &caller, &key),
            Api::Revoke(key) => self.revoke(&caller, &key),
            Api::EmailMethods(key) => caller.require(READ_EMAIL_METHODS).and_then(|()| {
                self.with_user(&caller, &key, |u, _| Ok((StatusCode::OK, email_methods(u))))
            }),
            Api::PhoneMethods(key) => caller.require(READ_PHONE_METHODS).and_then(|()| {
                self.with_user(&caller, &key, |u, _| Ok((StatusCode::OK, phone_methods(u))))
            }),
            Api::GetGroup(id) => self.get_group(&request, &caller, &id),
            Api::ListGroups => self.list_groups(&request, &caller),
            Api::RoleAssignments => self.role_assignments(&request, &caller),
            Api::RoleEligibility => self.role_eligibility(&request, &caller),
        };
        match outcome {
            Ok((StatusCode::NO_CONTENT, _)) => StatusCode::NO_CONTENT.into_response(),
            Ok((status, body)) => json(status, body),
            Err(response) => response,
        }
    }
}

type Outcome = Result<(StatusCode, Value), Response>;

/// Who is calling: the org whose app the token was issued to and the
/// application permissions it carries.
struct Caller {
    org: usize,
    roles: BTreeSet<String>,
}

impl Caller {
    fn holds_any(&self, permissions: &[&str]) -> bool {
        permissions.iter().any(|p| self.roles.contains(*p))
    }

    fn require(&self, permissions: &[&str]) -> Result<(), Response> {
        if self.holds_any(permissions) {
            Ok(())
        } else {
            Err(insufficient_privileges())
        }
    }
}

/// The claims of an app-only Graph access token (v1.0 format).
#[derive(Serialize)]
struct AppToken<'a> {
    aud: &'static str,
    iss: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    appid: &'a str,
    appidacr: &'static str,
    idp: String,
    idtyp: &'static str,
    oid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<&'a str>,
    sub: String,
    tid: &'a str,
    uti: String,
    ver: &'static str,
}

impl GraphState {
    fn token(&self, request: &Incoming, tenant: &str) -> Response {
        let Some((org_index, org)) = self.seed.orgs.iter().enumerate().find(|(_, o)| {
            o.graph.directory_tenant.eq_ignore_ascii_case(tenant)
                || o.domain.eq_ignore_ascii_case(tenant)
        }) else {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                "Tenant not found.",
            );
        };
        if !request.content_type_is("application/x-www-form-urlencoded") {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
        let form = request.form();
        let field = |k: &str| form.get(k).map(String::as_str);
        if field("grant_type") != Some("client_credentials") {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            );
        }
        if field("client_id") != Some(org.graph.client_id.as_str()) {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                "Application not found in the directory.",
            );
        }
        if field("client_secret") != Some(org.graph.client_secret.as_str()) {
            return token_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided.",
            );
        }
        if field("scope") != Some(GRAPH_DEFAULT_SCOPE) {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.",
            );
        }
        let roles = lock(&self.tenant).permissions.clone();
        let now = jsonwebtoken::get_current_timestamp();
        let tid = org.graph.directory_tenant.as_str();
        let app = service_principal_id(org_index);
        let claims = AppToken {
            aud: "https://graph.microsoft.com",
            iss: format!("https://sts.windows.net/{tid}/"),
            iat: now,
            nbf: now,
            exp: now + TOKEN_LIFETIME.as_secs(),
            appid: &org.graph.client_id,
            appidacr: "1",
            idp: format!("https://sts.windows.net/{tid}/"),
            idtyp: "app",
            oid: app.clone(),
            roles: roles.iter().map(String::as_str).collect(),
            sub: app,
            tid,
            uti: random_token(""),
            ver: "1.0",
        };
        let signed = EncodingKey::from_rsa_pem(TEST_ONLY_PRIVATE_KEY_PEM.as_bytes())
            .and_then(|key| jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key));
        let Ok(token) = signed else {
            return token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "temporarily_unavailable",
                50000,
                "There was an error issuing a token.",
            );
        };
        lock(&self.grants).insert(
            token.clone(),
            Grant {
                org: org_index,
                roles,
                expires: Instant::now() + TOKEN_LIFETIME,
            },
        );
        json(
            StatusCode::OK,
            json!({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME.as_secs(), "ext_expires_in": TOKEN_LIFETIME.as_secs(), "access_token": token}),
        )
    }

    fn caller(&self, request: &Incoming) -> Result<Caller, Response> {
        let grants = lock(&self.grants);
        request
            .bearer()
            .and_then(|t| grants.get(t))
            .filter(|g| g.expires > Instant::now())
            .map(|g| Caller {
                org: g.org,
                roles: g.roles.clone(),
            })
            .ok_or_else(|| {
                api_error(
                    StatusCode::UNAUTHORIZED,
                    "InvalidAuthenticationToken",
                    "Access token validation failure.",
                )
            })
    }

    /// Acts on the user named by its id or user principal name, and only
    /// those: Graph takes no other address in the path.
    fn with_user(
        &self,
        caller: &Caller,
        key: &str,
        act: impl FnOnce(&mut FakeUser, &Tenant) -> Outcome,
    ) -> Outcome {
        let tenant = lock(&self.tenant);
        let mut users = lock(&self.users);
        let Some(user) = users.iter_mut().find(|u| {
            u.org == caller.org
                && (u.seed.email.eq_ignore_ascii_case(key) || u.id.eq_ignore_ascii_case(key))
        }) else {
            return Err(not_found(key));
        };
        act(user, &tenant)
    }

    fn get_user(&self, request: &Incoming, caller: &Caller, key: &str) -> Outcome {
        caller.require(READ_USERS)?;
        let select = Selection::parse(request, USER_PROPERTIES, "microsoft.graph.user")?;
        self.with_user(caller, key, |u, _| {
            let mut out = select.render(&user_json(u), USER_DEFAULT);
            out.insert(
                "@odata.context".to_owned(),
                json!("https://graph.microsoft.com/v1.0/$metadata#users/$entity"),
            );
            Ok((StatusCode::OK, Value::Object(out)))
        })
    }

    /// `GET /users` with `$filter` on `id`, `userPrincipalName`, `mail`
    /// (`eq`, `in`) and `proxyAddresses/any(p:p eq '...')`, all of which
    /// Graph supports without advanced query parameters; values compare
    /// case-insensitively.
    fn list_users(&self, request: &Incoming, caller: &Caller) -> Outcome {
        caller.require(READ_USERS)?;
        let select = Selection::parse(request, USER_PROPERTIES, "microsoft.graph.user")?;
        let filter = Filter::parse(
            request,
            "User",
            &["id", "userPrincipalName", "mail"],
            &["id", "userPrincipalName", "mail"],
            &["proxyAddresses"],
        )?;
        let users = lock(&self.users);
        let value: Vec<Value> = users
            .iter()
            .filter(|u| u.org == caller.org)
            .filter(|u| {
                filter.matches(|property| match property {
                    "id" => vec![u.id.clone()],
                    "userPrincipalName" | "mail" => vec![u.seed.email.clone()],
                    _ => proxy_addresses(u),
                })
            })
            .map(|u| Value::Object(select.render(&user_json(u), USER_DEFAULT)))
            .collect();
        Ok((
            StatusCode::OK,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": value}),
        ))
    }

    /// The user's groups and directory roles. Without a permission that
    /// reads groups (or roles), such objects carry only `@odata.type` and
    /// `id`, as Graph's limited information for inaccessible members.
    fn memberships(&self, request: &Incoming, caller: &Caller, key: &str) -> Outcome {
        caller.require(READ_USERS)?;
        let select = Selection::parse(
            request,
            MEMBER_OBJECT_PROPERTIES,
            "microsoft.graph.directoryObject",
        )?;
        let skip: usize = request
            .query_param("$skiptoken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let next_link = next_link(&self.base_url, request, skip + MEMBERSHIP_PAGE_SIZE);
        let read_groups = caller.holds_any(READ_GROUPS);
        let read_roles = caller.holds_any(READ_ROLES);
        self.with_user(caller, key, |user, tenant| {
            let mut objects: Vec<Value> = tenant
                .groups_of(user)
                .into_iter()
                .map(|g| {
                    let full = json!({"id": g.id, "displayName": g.name});
                    member_object("#microsoft.graph.group", &full, read_groups, &select)
                })
                .collect();
            objects.extend(
                tenant
                    .roles
                    .iter()
                    .filter(|r| {
                        r.org == user.org && r.principal == user.id && !r.eligible && r.scope == "/"
                    })
                    .map(|r| {
                        let full = json!({
                            "id": directory_role_object_id(r.org, &r.role),
                            "displayName": role_name(&r.role),
                            "roleTemplateId": r.role,
                        });
                        member_object("#microsoft.graph.directoryRole", &full, read_roles, &select)
                    }),
            );
            let page: Vec<Value> = objects
                .iter()
                .skip(skip)
                .take(MEMBERSHIP_PAGE_SIZE)
                .cloned()
                .collect();
            let mut out = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": page});
            if skip + MEMBERSHIP_PAGE_SIZE < objects.len()
                && let Some(obj) = out.as_object_mut()
            {
                obj.insert("@odata.nextLink".to_owned(), Value::String(next_link));
            }
            Ok((StatusCode::OK, out))
        })
    }

    fn update(&self, request: &Incoming, caller: &Caller, key: &str) -> Outcome {
        if !request.content_type_is("application/json") {
            return Err(api_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BadRequest",
                "A supported MIME type could not be found that matches the content type of the response.",
            ));
        }
        let Some(body) = request.json_object() else {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Unable to read JSON request payload.",
            ));
        };
        let change = UserPatch::parse(&body).map_err(|message| {
            api_error(StatusCode::BAD_REQUEST, "Request_BadRequest", &message)
        })?;
        if change.password.is_some() {
            caller.require(RESET_PASSWORDS)?;
        }
        if change.account_enabled.is_some() {
            caller.require(ENABLE_ACCOUNTS)?;
        }
        self.with_user(caller, key, |user, tenant| {
            if change.password.is_some()
                && !tenant.app_may_reset(user.org, tenant.holds_any_role(user.org, &user.id))
            {
                return Err(insufficient_privileges());
            }
            change.apply(user);
            Ok((StatusCode::NO_CONTENT, Value::Null))
        })
    }

    fn revoke(&self, caller: &Caller, key: &str) -> Outcome {
        caller.require(REVOKE_SESSIONS)?;
        self.with_user(caller, key, |u, _| {
            u.sessions_revoked += 1;
            Ok((
                StatusCode::OK,
                json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true}),
            ))
        })
    }

    fn get_group(&self, request: &Incoming, caller: &Caller, id: &str) -> Outcome {
        caller.require(READ_GROUPS)?;
        let select = Selection::parse(request, GROUP_PROPERTIES, "microsoft.graph.group")?;
        let tenant = lock(&self.tenant);
        let group = tenant
            .groups
            .iter()
            .find(|g| g.org == caller.org && g.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| not_found(id))?;
        let mut out = select.render(&group_json(group), GROUP_PROPERTIES);
        out.insert(
            "@odata.context".to_owned(),
            json!("https://graph.microsoft.com/v1.0/$metadata#groups/$entity"),
        );
        Ok((StatusCode::OK, Value::Object(out)))
    }

    /// `GET /groups` with `$filter` on `id` or `displayName` (`eq`, `in`),
    /// compared case-insensitively as Graph compares them.
    fn list_groups(&self, request: &Incoming, caller: &Caller) -> Outcome {
        caller.require(READ_GROUPS)?;
        let select = Selection::parse(request, GROUP_PROPERTIES, "microsoft.graph.group")?;
        let filter = Filter::parse(
            request,
            "Group",
            &["id", "displayName"],
            &["id", "displayName"],
            &[],
        )?;
        let tenant = lock(&self.tenant);
        let value: Vec<Value> = tenant
            .groups
            .iter()
            .filter(|g| g.org == caller.org)
            .filter(|g| {
                filter.matches(|property| match property {
                    "id" => vec![g.id.clone()],
                    _ => vec![g.name.clone()],
                })
            })
            .map(|g| Value::Object(select.render(&group_json(g), GROUP_PROPERTIES)))
            .collect();
        Ok((
            StatusCode::OK,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups", "value": value}),
        ))
    }

    /// Active role assignments, any scope, built-in or custom, to users,
    /// role-assignable groups and service principals.
    fn role_assignments(&self, request: &Incoming, caller: &Caller) -> Outcome {
        caller.require(READ_ROLES)?;
        let select = Selection::parse(
            request,
            ASSIGNMENT_PROPERTIES,
            "microsoft.graph.unifiedRoleAssignment",
        )?;
        let filter = Filter::parse(
            request,
            "UnifiedRoleAssignment",
            &["principalId", "roleDefinitionId", "directoryScopeId"],
            &["principalId", "roleDefinitionId", "directoryScopeId"],
            &[],
        )?;
        let tenant = lock(&self.tenant);
        let value: Vec<Value> = tenant
            .roles
            .iter()
            .filter(|r| r.org == caller.org && !r.eligible)
            .filter(|r| filter.matches(|property| vec![role_property(r, property)]))
            .map(|r| {
                let full = json!({
                    "id": r.id, "principalId": r.principal, "roleDefinitionId": r.role,
                    "directoryScopeId": r.scope,
                });
                Value::Object(select.render(&full, ASSIGNMENT_PROPERTIES))
            })
            .collect();
        Ok((
            StatusCode::OK,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments", "value": value}),
        ))
    }

    /// PIM eligibility schedules; `principalId` takes only `eq`. A tenant
    /// without the licence PIM needs gets Graph's 400.
    fn role_eligibility(&self, request: &Incoming, caller: &Caller) -> Outcome {
        caller.require(READ_ELIGIBILITY)?;
        let select = Selection::parse(
            request,
            ELIGIBILITY_PROPERTIES,
            "microsoft.graph.unifiedRoleEligibilitySchedule",
        )?;
        let filter = Filter::parse(
            request,
            "UnifiedRoleEligibilitySchedule",
            &["principalId", "roleDefinitionId", "directoryScopeId"],
            &[],
            &[],
        )?;
        let tenant = lock(&self.tenant);
        if !tenant.pim_licensed {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                "AadPremiumLicenseRequired",
                "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
            ));
        }
        let value: Vec<Value> = tenant
            .roles
            .iter()
            .filter(|r| r.org == caller.org && r.eligible)
            .filter(|r| filter.matches(|property| vec![role_property(r, property)]))
            .map(|r| {
                let full = json!({
                    "id": r.id, "principalId": r.principal, "roleDefinitionId": r.role,
                    "directoryScopeId": r.scope, "appScopeId": null, "status": "Provisioned",
                    "memberType": "Direct",
                });
                Value::Object(select.render(&full, ELIGIBILITY_PROPERTIES))
            })
            .collect();
        Ok((
            StatusCode::OK,
            json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleEligibilitySchedules", "value": value}),
        ))
    }
}

fn role_property(role: &RoleGrant, property: &str) -> String {
    match property {
        "principalId" => role.principal.clone(),
        "roleDefinitionId" => role.role.clone(),
        _ => role.scope.clone(),
    }
}

/// The next page's link: the same request with a new `$skiptoken`, on
/// the fake's own origin.
fn next_link(base: &str, request: &Incoming, skip: usize) -> String {
    let kept: Vec<&str> = request
        .raw_query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| {
            !p.is_empty() && !p.starts_with("$skiptoken=") && !p.starts_with("%24skiptoken=")
        })
        .collect();
    let mut query = kept.join("&");
    if !query.is_empty() {
        query.push('&');
    }
    format!("{base}{}?{query}$skiptoken={skip}", request.raw_path)
}

fn member_object(odata_type: &str, full: &Value, readable: bool, select: &Selection) -> Value {
    let mut out = if readable {
        select.render(full, MEMBER_OBJECT_PROPERTIES)
    } else {
        let mut limited = Map::new();
        limited.insert(
            "id".to_owned(),
            full.get("id").cloned().unwrap_or(Value::Null),
        );
        limited
    };
    out.insert("@odata.type".to_owned(), json!(odata_type));
    Value::Object(out)
}

fn proxy_addresses(user: &FakeUser) -> Vec<String> {
    std::iter::once(format!("SMTP:{}", user.seed.email))
        .chain(user.seed.aliases.iter().map(|a| format!("smtp:{a}")))
        .collect()
}

/// Every property the fake knows of a user. Smart lockout does not show:
/// a locked-out account is enabled; only an administrator's disabling
/// makes `accountEnabled` false.
fn user_json(user: &FakeUser) -> Value {
    json!({
        "id": user.id,
        "userPrincipalName": user.seed.email,
        "accountEnabled": user.state != SeedState::SuspendedByAdmin,
        "displayName": format!("{} {}", user.seed.given_name, user.seed.family_name),
        "givenName": user.seed.given_name,
        "surname": user.seed.family_name,
        "mail": user.seed.email,
        "proxyAddresses": proxy_addresses(user),
    })
}

fn group_json(group: &FakeGroup) -> Value {
    json!({
        "id": group.id, "displayName": group.name, "mailEnabled": false,
        "securityEnabled": true, "isAssignableToRole": false,
    })
}

/// `$select`, checked against the properties the fake knows of the type.
struct Selection(Option<Vec<String>>);

impl Selection {
    fn parse(request: &Incoming, known: &[&str], type_name: &str) -> Result<Self, Response> {
        let Some(raw) = request.query_param("$select") else {
            return Ok(Selection(None));
        };
        let fields: Vec<String> = raw.split(',').map(|f| f.trim().to_owned()).collect();
        if let Some(bad) = fields.iter().find(|f| !known.contains(&f.as_str())) {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Could not find a property named '{bad}' on type '{type_name}'."),
            ));
        }
        Ok(Selection(Some(fields)))
    }

    /// The selected properties of `all`, or without `$select` the type's
    /// `default` set.
    fn render(&self, all: &Value, default: &[&str]) -> Map<String, Value> {
        let wanted: Vec<&str> = match &self.0 {
            Some(fields) => fields.iter().map(String::as_str).collect(),
            None => default.to_vec(),
        };
        let mut out = Map::new();
        for f in wanted {
            if let Some(v) = all.get(f) {
                out.insert(f.to_owned(), v.clone());
            }
        }
        out
    }
}

/// One comparison of an OData `$filter`, as far as the fake understands
/// them.
enum Comparison {
    /// `property eq 'v'`, or with `list` `property in ('a', 'b')`.
    Property {
        name: String,
        values: Vec<String>,
        list: bool,
    },
    /// `collection/any(x:x eq 'v')`.
    Any { collection: String, value: String },
}

/// A `$filter`: comparisons joined by `or` (none: everything matches).
struct Filter(Vec<Comparison>);

impl Filter {
    /// Parses `$filter`, allowing `eq` on `eq`, `in` on `in` and `any` on
    /// `any` properties; anything else is the 400 Graph gives.
    fn parse(
        request: &Incoming,
        resource: &str,
        eq: &[&str],
        in_list: &[&str],
        any: &[&str],
    ) -> Result<Self, Response> {
        let Some(raw) = request.query_param("$filter") else {
            return Ok(Filter(Vec::new()));
        };
        let invalid = |what: &str| {
            api_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Invalid filter clause: {what}"),
            )
        };
        let unsupported = |property: &str| {
            api_error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                &format!(
                    "Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'."
                ),
            )
        };
        let mut comparisons = Vec::new();
        for clause in split_or(raw).map_err(|w| invalid(&w))? {
            let comparison = parse_comparison(&clause).map_err(|w| invalid(&w))?;
            let allowed = match &comparison {
                Comparison::Property {
                    name, list: true, ..
                } => in_list.contains(&name.as_str()),
                Comparison::Property { name, .. } => eq.contains(&name.as_str()),
                Comparison::Any { collection, .. } => any.contains(&collection.as_str()),
            };
            if !allowed {
                let name = match &comparison {
                    Comparison::Property { name, .. } => name,
                    Comparison::Any { collection, .. } => collection,
                };
                return Err(unsupported(name));
            }
            comparisons.push(comparison);
        }
        Ok(Filter(comparisons))
    }

    /// Whether an object matches; `values` gives a property's values
    /// (several for a collection). Strings compare case-insensitively.
    fn matches(&self, values: impl Fn(&str) -> Vec<String>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        self.0.iter().any(|c| match c {
            Comparison::Property {
                name,
                values: wanted,
                ..
            } => values(name)
                .iter()
                .any(|have| wanted.iter().any(|w| w.eq_ignore_ascii_case(have))),
            Comparison::Any { collection, value } => values(collection)
                .iter()
                .any(|have| have.eq_ignore_ascii_case(value)),
        })
    }
}

/// Splits a filter at each top-level ` or ` (outside string literals and
/// parentheses).
fn split_or(raw: &str) -> Result<Vec<String>, String> {
    let mut clauses = Vec::new();
    let mut current = String::new();
    let mut in_literal = false;
    let mut depth = 0usize;
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            in_literal = !in_literal;
        } else if !in_literal && c == '(' {
            depth += 1;
        } else if !in_literal && c == ')' {
            depth = depth.checked_sub(1).ok_or("unbalanced parentheses")?;
        } else if !in_literal && depth == 0 && chars[i..].starts_with(&[' ', 'o', 'r', ' ']) {
            clauses.push(std::mem::take(&mut current).trim().to_owned());
            i += 4;
            continue;
        }
        current.push(c);
        i += 1;
    }
    if in_literal || depth != 0 {
        return Err("unterminated literal or parenthesis".to_owned());
    }
    clauses.push(current.trim().to_owned());
    if clauses.iter().any(String::is_empty) {
        return Err("empty clause".to_owned());
    }
    Ok(clauses)
}

fn parse_comparison(clause: &str) -> Result<Comparison, String> {
    if let Some((collection, rest)) = clause.split_once("/any(") {
        let inner = rest.strip_suffix(')').ok_or("unclosed any")?;
        let (variable, condition) = inner.split_once(':').ok_or("any without a variable")?;
        let literal = condition
            .trim()
            .strip_prefix(variable.trim())
            .and_then(|c| c.trim_start().strip_prefix("eq "))
            .ok_or("any supports only eq on its variable")?;
        return Ok(Comparison::Any {
            collection: collection.trim().to_owned(),
            value: parse_literal(literal.trim())?,
        });
    }
    let mut parts = clause.splitn(3, ' ');
    let (Some(name), Some(op), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("cannot read '{clause}'"));
    };
    let (values, list) = match op {
        "eq" => (vec![parse_literal(rest.trim())?], false),
        "in" => {
            let list = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or("in needs a parenthesised list")?;
            let values = split_list(list)
                .iter()
                .map(|item| parse_literal(item.trim()))
                .collect::<Result<_, _>>()?;
            (values, true)
        }
        other => return Err(format!("operator '{other}' is not supported by this fake")),
    };
    Ok(Comparison::Property {
        name: name.to_owned(),
        values,
        list,
    })
}

/// Splits `'a','b'` at commas outside literals.
fn split_list(list: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut in_literal = false;
    for c in list.chars() {
        match c {
            '\'' => {
                in_literal = !in_literal;
                current.push(c);
            }
            ',' if !in_literal => items.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    items.push(current);
    items
}

/// An OData string literal: `'...'` with `''` for a quote.
fn parse_literal(raw: &str) -> Result<String, String> {
    let inner = raw
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .ok_or_else(|| format!("'{raw}' is not a string literal"))?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return Err("a quote inside a literal must be doubled".to_owned());
        }
        out.push(c);
    }
    Ok(out)
}

/// Graph holds at most one email method, always under this id.
const EMAIL_METHOD_ID: &str = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f";

fn email_methods(user: &FakeUser) -> Value {
    let value: Vec<Value> = user
        .seed
        .recovery_email
        .iter()
        .map(|address| json!({"id": EMAIL_METHOD_ID, "emailAddress": address}))
        .collect();
    json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#users('{}')/authentication/emailMethods", user.id),
        "value": value,
    })
}

fn phone_methods(user: &FakeUser) -> Value {
    let value: Vec<Value> = user.seed.phones.iter().map(phone_method).collect();
    json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#users('{}')/authentication/phoneMethods", user.id),
        "value": value,
    })
}

/// One phone method as Graph lists it: a fixed id per type, the number as
/// `+{country code} {number}`, SMS sign-in only ever ready on a mobile.
fn phone_method(phone: &SeedPhone) -> Value {
    let (id, phone_type, sms) = match phone.kind {
        PhoneKind::Mobile => ("3179e48a-750b-4051-897c-87b9720928f7", "mobile", "ready"),
        PhoneKind::AlternateMobile => (
            "b6332ec1-7057-4abe-9331-3d72feddfe41",
            "alternateMobile",
            "notSupported",
        ),
        PhoneKind::Office => (
            "e37fc753-ff3b-4958-9484-eaa9425c82bc",
            "office",
            "notSupported",
        ),
    };
    json!({"id": id, "phoneNumber": graph_phone_number(&phone.number), "phoneType": phone_type, "smsSignInState": sms})
}

/// `+15555550101` as Graph writes it, `+1 5555550101`. The fake knows only
/// one-digit (NANP) and two-digit country codes.
fn graph_phone_number(e164: &str) -> String {
    let code_len = if e164.starts_with("+1") { 2 } else { 3 };
    match (e164.get(..code_len), e164.get(code_len..)) {
        (Some(code), Some(rest)) => format!("{code} {rest}"),
        _ => e164.to_owned(),
    }
}

/// The subset of a PATCH /users body the fake understands.
struct UserPatch {
    password: Option<(String, bool)>,
    account_enabled: Option<bool>,
}

impl UserPatch {
    fn parse(body: &Map<String, Value>) -> Result<Self, String> {
        if let Some(bad) = body
            .keys()
            .find(|k| !matches!(k.as_str(), "passwordProfile" | "accountEnabled"))
        {
            return Err(format!("Invalid property '{bad}'."));
        }
        let account_enabled = match body.get("accountEnabled") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err("Invalid value for property 'accountEnabled'.".to_owned()),
        };
        let password = match body.get("passwordProfile") {
            None => None,
            Some(Value::Object(profile)) => {
                if let Some(bad) = profile.keys().find(|k| {
                    !matches!(
                        k.as_str(),
                        "password"
                            | "forceChangePasswordNextSignIn"
                            | "forceChangePasswordNextSignInWithMfa"
                    )
                }) {
                    return Err(format!("Invalid property '{bad}'."));
                }
                let Some(Value::String(password)) = profile.get("password") else {
                    return Err("Invalid value specified for property 'passwordProfile' of resource 'User'.".to_owned());
                };
                if !entra_complexity(password) {
                    return Err("The specified password does not comply with password complexity requirements. Please provide a different password.".to_owned());
                }
                let force = match profile.get("forceChangePasswordNextSignIn") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(
                            "Invalid value for property 'forceChangePasswordNextSignIn'."
                                .to_owned(),
                        );
                    }
                };
                Some((password.clone(), force))
            }
            Some(_) => {
                return Err(
                    "Invalid value specified for property 'passwordProfile' of resource 'User'."
                        .to_owned(),
                );
            }
        };
        Ok(Self {
            password,
            account_enabled,
        })
    }

    /// Enabling an account does not end a smart lockout: a locked-out
    /// account was enabled all along.
    fn apply(self, user: &mut FakeUser) {
        if let Some((password, force)) = self.password {
            user.password = Some(password);
            user.must_change_password = force;
        }
        match self.account_enabled {
            Some(true) if user.state == SeedState::SuspendedByAdmin => {
                user.state = SeedState::Active;
            }
            Some(false) => user.state = SeedState::SuspendedByAdmin,
            _ => {}
        }
    }
}

/// Entra's rule: 8 to 256 characters, three of upper, lower, digit, symbol.
fn entra_complexity(password: &str) -> bool {
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c.is_ascii_punctuation()),
    ];
    (8..=256).contains(&password.chars().count()) && classes.iter().filter(|c| **c).count() >= 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::demo_seed;
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Uri};

    /// The handler itself, without a socket or the description check.
    fn state() -> Arc<GraphState> {
        let seed = demo_seed();
        Arc::new(GraphState {
            controls: Controls::default(),
            users: Mutex::new(users_of(&seed, user_id)),
            tenant: Mutex::new(Tenant::new(&seed)),
            seed,
            base_url: "http://127.0.0.1:9".to_owned(),
            grants: Mutex::new(HashMap::new()),
        })
    }

    async fn call(
        state: &Arc<GraphState>,
        method: Method,
        path_and_query: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, Value) {
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            );
        }
        if !body.is_empty() {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        let uri: Uri = path_and_query.parse().unwrap();
        let request = Incoming::new(method, &uri, headers, Bytes::from(body.to_owned()));
        let response = Arc::clone(state).handle(request).await;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn token(state: &Arc<GraphState>) -> String {
        let form = "client_id=client-demo-example&client_secret=test-only-graph-secret-demo-example&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials";
        let (status, body) = call(
            state,
            Method::POST,
            "/3f2b8c4e-0d1a-4e5f-9a7b-1c2d3e4f5a6b/oauth2/v2.0/token",
            None,
            form,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        body["access_token"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn an_alias_is_no_user_key_but_a_mail_or_proxy_address_filter_finds_it() {
        let state = state();
        let token = token(&state).await;
        let (status, _) = call(
            &state,
            Method::GET,
            "/v1.0/users/c.finance@demo.example",
            Some(&token),
            "",
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, body) = call(
            &state,
            Method::GET,
            "/v1.0/users?$filter=mail%20eq%20%27C.Finance@demo.example%27%20or%20proxyAddresses/any(p:p%20eq%20%27smtp:c.finance@DEMO.example%27)&$select=id,userPrincipalName",
            Some(&token),
            "",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["value"],
            json!([{"id": user_id(0, 2), "userPrincipalName": "carol@demo.example"}])
        );

        let (_, none) = call(
            &state,
            Method::GET,
            "/v1.0/users?$filter=mail%20eq%20%27o%27%27brien@demo.example%27",
            Some(&token),
            "",
        )
        .await;
        assert_eq!(none["value"], json!([]));
        let (status, _) = call(
            &state,
            Method::GET,
            "/v1.0/users?$filter=endsWith(mail,%27@demo.example%27)",
            Some(&token),
            "",
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "needs advanced query parameters"
        );
    }

    #[tokio::test]
    async fn memberships_carry_only_type_and_id_without_a_group_permission() {
        let state = state();
        lock(&state.tenant)
            .permissions
            .remove("GroupMember.Read.All");
        let token = token(&state).await;
        let (_, body) = call(
            &state,
            Method::GET,
            &format!("/v1.0/users/{}/transitiveMemberOf", user_id(0, 2)),
            Some(&token),
            "",
        )
        .await;
        assert_eq!(
            body["value"],
            json!([
                {"@odata.type": "#microsoft.graph.group", "id": group_id(0, 0)},
                {"@odata.type": "#microsoft.graph.group", "id": group_id(0, 1)},
            ])
        );
    }

    #[tokio::test]
    async fn the_access_token_names_the_granted_permissions_and_the_app() {
        let state = state();
        lock(&state.tenant)
            .permissions
            .remove("User.RevokeSessions.All");
        let token = token(&state).await;
        #[derive(serde::Deserialize)]
        struct Claims {
            roles: Vec<String>,
            oid: String,
            idtyp: String,
        }
        let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(&token).unwrap();
        assert_eq!(claims.oid, service_principal_id(0));
        assert_eq!(claims.idtyp, "app");
        assert!(claims.roles.contains(&"User.Read.All".to_owned()));
        assert!(!claims.roles.contains(&"User.RevokeSessions.All".to_owned()));
        let (status, body) = call(
            &state,
            Method::POST,
            &format!("/v1.0/users/{}/revokeSignInSessions", user_id(0, 0)),
            Some(&token),
            "",
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], json!("Authorization_RequestDenied"));
    }

    #[test]
    fn filters_split_on_or_outside_literals_and_unescape_quotes() {
        let clauses =
            split_or("mail eq 'o''brien or x@demo.example' or proxyAddresses/any(p:p eq 'smtp:a')")
                .unwrap();
        assert_eq!(clauses.len(), 2);
        match parse_comparison(&clauses[0]).unwrap() {
            Comparison::Property { name, values, .. } => {
                assert_eq!(name, "mail");
                assert_eq!(values, vec!["o'brien or x@demo.example"]);
            }
            Comparison::Any { .. } => panic!("not an any"),
        }
        match parse_comparison(&clauses[1]).unwrap() {
            Comparison::Any { collection, value } => {
                assert_eq!(
                    (collection.as_str(), value.as_str()),
                    ("proxyAddresses", "smtp:a")
                );
            }
            Comparison::Property { .. } => panic!("an any"),
        }
        match parse_comparison("principalId in ('a', 'b')").unwrap() {
            Comparison::Property { values, .. } => assert_eq!(values, vec!["a", "b"]),
            Comparison::Any { .. } => panic!("not an any"),
        }
        assert!(parse_literal("'it's'").is_err());
        assert!(split_or("mail eq 'open").is_err());
    }
}
