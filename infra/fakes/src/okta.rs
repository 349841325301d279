//! A fake Okta org: SSWS API tokens (revocable through the API) and an OAuth
//! API service app (client credentials with `private_key_jwt`, RS256 checked
//! against the seeded public key, jti replay refused, DPoP required unless
//! switched off, exact per-operation scopes, an admin role without which no
//! scope grants anything, token revocation), users found by id, login or
//! login shortname (paths decoded as Okta decodes them), groups with
//! immutable ids, role assignments, lifecycle operations, session clearing,
//! factors (Okta Verify push with a number challenge, answered as a test
//! scripts it), and rate limits with Okta's headers. Okta's error shapes
//! throughout. Serves 127.0.0.1 only.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::handle::fake_handle_methods;
use crate::seed::{
    FactorKind, FakeUser, Seed, SeedFactor, SeedState, SeedUser, TEST_ONLY_PRIVATE_KEY_PEM,
    users_of,
};
use crate::server::{
    Controls, FakeState, Incoming, Running, StartError, apply_fault, bind, json, lock,
    percent_decode, random_token, router, spawn,
};

/// The Okta scopes the fake knows; a service app is granted all of them
/// unless a test says otherwise.
pub const GRANTABLE_SCOPES: [&str; 4] = [
    "okta.users.read",
    "okta.users.manage",
    "okta.groups.read",
    "okta.roles.read",
];

const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// How old a DPoP proof may be, and how far ahead of the fake's clock.
const PROOF_MAX_AGE_SECS: u64 = 300;
const PROOF_MAX_SKEW_SECS: u64 = 60;
/// Okta answers a group name query (`q`) with at most this many groups.
const GROUP_QUERY_LIMIT: usize = 300;
/// The per-minute limit `X-Rate-Limit-Limit` reports when a fault, not a
/// configured limit, answers 429.
const DEFAULT_RATE_LIMIT: u32 = 600;

pub struct FakeOkta {
    running: Running,
    state: Arc<OktaState>,
}

pub(crate) struct OktaState {
    pub(crate) controls: Controls,
    pub(crate) users: Mutex<Vec<FakeUser>>,
    seed: Seed,
    base_url: String,
    /// The API service app of each org, by org index.
    apps: Mutex<Vec<ServiceApp>>,
    grants: Mutex<HashMap<String, Grant>>,
    issued_token_types: Mutex<Vec<&'static str>>,
    seen_jti: Mutex<HashSet<String>>,
    seen_proof_jti: Mutex<HashSet<String>>,
    dpop_nonces: Mutex<HashSet<String>>,
    revoked_api_tokens: Mutex<HashSet<String>>,
    /// Users whose remembered factors a session clearing forgot.
    devices_forgotten: Mutex<HashSet<String>>,
    /// Admin roles assigned to groups: (org, group name, role type).
    group_roles: Mutex<Vec<(usize, String, String)>>,
    rate: Mutex<Option<RateWindow>>,
    /// Scripted answers by lower-case login; `Approve` when absent.
    push_answers: Mutex<HashMap<String, PushAnswer>>,
    /// Pushes sent, by transaction id.
    pushes: Mutex<HashMap<String, Push>>,
}

/// An org's API service app as its admin configured it.
#[derive(Clone)]
struct ServiceApp {
    granted: BTreeSet<String>,
    /// Admin role assignments: (type, label).
    roles: Vec<(String, String)>,
    /// "Require Demonstrating Proof of Possession (DPoP) header in token
    /// requests", on by default for new API service apps.
    dpop_required: bool,
}

impl Default for ServiceApp {
    fn default() -> Self {
        Self {
            granted: GRANTABLE_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            roles: vec![("HELP_DESK_ADMIN".into(), "Help Desk Administrator".into())],
            dpop_required: true,
        }
    }
}

/// One minute of Okta's per-endpoint rate limit, for every API route.
struct RateWindow {
    limit: u32,
    used: u32,
    reset: u64,
}

/// How a user answers an Okta Verify push. Every poll of a push answers
/// `WAITING` first; later polls give this answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PushAnswer {
    /// `SUCCESS`: the default.
    #[default]
    Approve,
    /// `REJECTED`: the user tapped "No, it's not me".
    Deny,
    /// `TIMEOUT`: nobody answered before the push expired.
    TimeOut,
}

struct Push {
    user_id: String,
    factor_id: String,
    answer: PushAnswer,
    /// The number shown in a number challenge.
    correct_answer: Option<u8>,
    polls: u32,
}

struct Grant {
    org: usize,
    scopes: BTreeSet<String>,
    expires: Instant,
    /// The JWK thumbprint a DPoP-bound token is bound to (`cnf.jkt`).
    jkt: Option<String>,
}

/// Who a request authenticated as.
struct Caller {
    org: usize,
    api_token: Option<String>,
}

#[derive(Deserialize)]
struct ClientAssertion {
    iss: String,
    sub: String,
    #[serde(default)]
    jti: Option<String>,
}

#[derive(Deserialize)]
struct DpopClaims {
    htm: String,
    htu: String,
    iat: u64,
    #[serde(default)]
    jti: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    ath: Option<String>,
}

/// Why a DPoP proof was not accepted.
enum ProofRefusal {
    /// Valid, but without a nonce the server issued: `use_dpop_nonce`.
    UseNonce,
    /// `invalid_dpop_proof`, with Okta's description.
    Invalid(&'static str),
}

impl FakeOkta {
    pub async fn start(seed: Seed) -> Result<Self, StartError> {
        Self::start_on(seed, 0).await
    }

    /// Serves every seeded org on 127.0.0.1:`port`; the org is the one the
    /// API token or access token belongs to.
    pub async fn start_on(seed: Seed, port: u16) -> Result<Self, StartError> {
        let (listener, addr) = bind("Okta", port).await?;
        let state = Arc::new(OktaState {
            controls: Controls::default(),
            users: Mutex::new(users_of(&seed, user_id)),
            apps: Mutex::new(vec![ServiceApp::default(); seed.orgs.len()]),
            seed,
            base_url: format!("http://{addr}"),
            grants: Mutex::new(HashMap::new()),
            issued_token_types: Mutex::new(Vec::new()),
            seen_jti: Mutex::new(HashSet::new()),
            seen_proof_jti: Mutex::new(HashSet::new()),
            dpop_nonces: Mutex::new(HashSet::new()),
            revoked_api_tokens: Mutex::new(HashSet::new()),
            devices_forgotten: Mutex::new(HashSet::new()),
            group_roles: Mutex::new(Vec::new()),
            rate: Mutex::new(None),
            push_answers: Mutex::new(HashMap::new()),
            pushes: Mutex::new(HashMap::new()),
        });
        let running = spawn("Okta", listener, addr, router(Arc::clone(&state)));
        Ok(Self { running, state })
    }

    fake_handle_methods!();

    /// How `login`'s owner answers every push sent from now on.
    pub fn answer_pushes(&self, login: &str, answer: PushAnswer) {
        lock(&self.state.push_answers).insert(login.to_ascii_lowercase(), answer);
    }

    /// The org URL a connection names (every org shares it in the fake).
    pub fn org_url(&self) -> String {
        self.base_url()
    }

    /// Credentials using the SSWS API token.
    pub fn api_token_credentials_json(&self, domain: &str) -> Option<Value> {
        let org = self.state.seed.org(domain)?;
        Some(
            json!({"provider": "okta_api_token", "org_url": self.org_url(), "api_token": org.okta.api_token}),
        )
    }

    /// Credentials using the OAuth service app and the TEST-ONLY key.
    pub fn service_app_credentials_json(&self, domain: &str) -> Option<Value> {
        let org = self.state.seed.org(domain)?;
        Some(json!({
            "provider": "okta_service_app",
            "org_url": self.org_url(),
            "client_id": org.okta.client_id,
            "private_key": TEST_ONLY_PRIVATE_KEY_PEM,
        }))
    }

    /// Turns "Require DPoP" on or off for every org's service app (on by
    /// default, as for a new API service app).
    pub fn set_dpop_required(&self, required: bool) {
        for app in lock(&self.state.apps).iter_mut() {
            app.dpop_required = required;
        }
    }

    /// Grants `domain`'s service app exactly these Okta API scopes.
    pub fn grant_scopes(&self, domain: &str, scopes: &[&str]) {
        self.with_app(domain, |app| {
            app.granted = scopes.iter().map(|s| (*s).to_owned()).collect();
        });
    }

    /// Removes every admin role from `domain`'s service app.
    pub fn remove_admin_roles(&self, domain: &str) {
        self.with_app(domain, |app| app.roles.clear());
    }

    /// Adds a user to `domain`, with an id like the seeded ones; answers it.
    pub fn add_user(&self, domain: &str, user: SeedUser) -> Option<String> {
        let org = self.state.org_index(domain)?;
        let mut users = lock(&self.state.users);
        let index = users.iter().filter(|u| u.org == org).count();
        let id = user_id(org, index);
        users.push(FakeUser {
            id: id.clone(),
            org,
            state: user.state,
            must_change_password: user.state == SeedState::PasswordExpired,
            seed: user,
            password: None,
            hash_function: None,
            sessions_revoked: 0,
        });
        Some(id)
    }

    /// Assigns the standard admin role `role_type` to the group `group` of
    /// `domain`: every member then lists it (`assignmentType: GROUP`).
    pub fn assign_role_to_group(&self, domain: &str, group: &str, role_type: &str) {
        if let Some(org) = self.state.org_index(domain) {
            lock(&self.state.group_roles).push((org, group.to_owned(), role_type.to_owned()));
        }
    }

    /// The immutable id Okta gives the group `name` of `domain`.
    pub fn group_id(&self, domain: &str, name: &str) -> Option<String> {
        let org = self.state.org_index(domain)?;
        self.state
            .org_groups(org)
            .into_iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id)
    }

    /// Limits every API route to `per_minute` requests a minute; beyond it
    /// Okta answers 429 with its `X-Rate-Limit-*` headers.
    pub fn limit_rate(&self, per_minute: u32) {
        *lock(&self.state.rate) = Some(RateWindow {
            limit: per_minute,
            used: 0,
            reset: epoch_now() + 60,
        });
    }

    /// Whether a session clearing also forgot `login`'s remembered factors
    /// (`forgetDevices`, true unless the request says false).
    pub fn remembered_factors_forgotten(&self, login: &str) -> bool {
        self.user(login)
            .is_some_and(|u| lock(&self.state.devices_forgotten).contains(&u.id))
    }

    /// The `token_type` of every access token issued, oldest first.
    pub fn issued_token_types(&self) -> Vec<&'static str> {
        lock(&self.state.issued_token_types).clone()
    }

    /// Access tokens still accepted (not revoked, not expired).
    pub fn live_access_tokens(&self) -> usize {
        let now = Instant::now();
        lock(&self.state.grants)
            .values()
            .filter(|g| g.expires > now)
            .count()
    }

    fn with_app(&self, domain: &str, change: impl FnOnce(&mut ServiceApp)) {
        if let Some(org) = self.state.org_index(domain)
            && let Some(app) = lock(&self.state.apps).get_mut(org)
        {
            change(app);
        }
    }
}

/// User ids look like Okta's, stable per seed: `00u`, the org, the index.
fn user_id(org: usize, index: usize) -> String {
    format!("00u{org:02}testonly{index:06}")
}

/// Group ids look like Okta's: `00g`, the org, the group's first-seen index
/// (0 is the built-in `Everyone`).
fn group_id(org: usize, index: usize) -> String {
    format!("00g{org:02}testonly{index:06}")
}

enum Route {
    Token,
    Revoke,
    Get(String),
    ListUsers,
    Roles(String),
    Groups(String),
    Group(String),
    ListGroups,
    ClientRoles(String),
    Unlock(String),
    ExpirePassword(String),
    ExpirePasswordWithTemp(String),
    ClearSessions(String),
    RevokeApiToken,
    Factors(String),
    Verify(String, String),
    Transaction(String, String, String),
}

impl Route {
    fn parse(request: &Incoming) -> Option<Self> {
        let m = &request.method;
        // A user key is decoded as Okta decodes it: a raw `+` is a space,
        // so a login with `+` must be sent as `%2B` (Okta: "URL encode"
        // a login used as the id).
        let user = |i: usize| user_key(request, i);
        let owned = |s: &&str| (*s).to_owned();
        match request.segs().as_slice() {
            ["oauth2", "v1", "token"] if m == Method::POST => Some(Route::Token),
            ["oauth2", "v1", "revoke"] if m == Method::POST => Some(Route::Revoke),
            ["oauth2", "v1", "clients", client, "roles"] if m == Method::GET => {
                Some(Route::ClientRoles(owned(client)))
            }
            ["api", "v1", "users"] if m == Method::GET => Some(Route::ListUsers),
            ["api", "v1", "users", _] if m == Method::GET => Some(Route::Get(user(3))),
            ["api", "v1", "users", _, "roles"] if m == Method::GET => Some(Route::Roles(user(3))),
            ["api", "v1", "users", _, "groups"] if m == Method::GET => Some(Route::Groups(user(3))),
            ["api", "v1", "groups"] if m == Method::GET => Some(Route::ListGroups),
            ["api", "v1", "groups", id] if m == Method::GET => Some(Route::Group(owned(id))),
            ["api", "v1", "users", _, "lifecycle", "unlock"] if m == Method::POST => {
                Some(Route::Unlock(user(3)))
            }
            ["api", "v1", "users", _, "lifecycle", "expire_password"] if m == Method::POST => {
                Some(Route::ExpirePassword(user(3)))
            }
            [
                "api",
                "v1",
                "users",
                _,
                "lifecycle",
                "expire_password_with_temp_password",
            ] if m == Method::POST => Some(Route::ExpirePasswordWithTemp(user(3))),
            ["api", "v1", "users", _, "sessions"] if m == Method::DELETE => {
                Some(Route::ClearSessions(user(3)))
            }
            ["api", "v1", "api-tokens", "current"] if m == Method::DELETE => {
                Some(Route::RevokeApiToken)
            }
            ["api", "v1", "users", _, "factors"] if m == Method::GET => {
                Some(Route::Factors(user(3)))
            }
            ["api", "v1", "users", _, "factors", factor, "verify"] if m == Method::POST => {
                Some(Route::Verify(user(3), owned(factor)))
            }
            [
                "api",
                "v1",
                "users",
                _,
                "factors",
                factor,
                "transactions",
                tx,
            ] if m == Method::GET => Some(Route::Transaction(user(3), owned(factor), owned(tx))),
            _ => None,
        }
    }

    fn name(route: Option<&Self>) -> &'static str {
        match route {
            Some(Route::Token) => "token",
            Some(Route::Revoke) => "oauth.revoke",
            Some(Route::Get(_)) => "users.get",
            Some(Route::ListUsers) => "users.list",
            Some(Route::Roles(_)) => "users.roles",
            Some(Route::Groups(_)) => "users.groups",
            Some(Route::Group(_)) => "groups.get",
            Some(Route::ListGroups) => "groups.list",
            Some(Route::ClientRoles(_)) => "clients.roles",
            Some(Route::Unlock(_)) => "lifecycle.unlock",
            Some(Route::ExpirePassword(_)) => "lifecycle.expire_password",
            Some(Route::ExpirePasswordWithTemp(_)) => {
                "lifecycle.expire_password_with_temp_password"
            }
            Some(Route::ClearSessions(_)) => "users.sessions.clear",
            Some(Route::RevokeApiToken) => "api_tokens.revoke_current",
            Some(Route::Factors(_)) => "factors.list",
            Some(Route::Verify(..)) => "factors.verify",
            Some(Route::Transaction(..)) => "factors.transaction",
            None => "unknown",
        }
    }

    /// The OAuth scope the description names for this operation; `None`
    /// for the one an access token cannot call (API tokens only).
    fn scope(&self) -> Option<&'static str> {
        match self {
            Route::Token | Route::Revoke | Route::RevokeApiToken => None,
            Route::Get(_)
            | Route::ListUsers
            | Route::Groups(_)
            | Route::Factors(_)
            | Route::Transaction(..) => Some("okta.users.read"),
            Route::Roles(_) | Route::ClientRoles(_) => Some("okta.roles.read"),
            Route::Group(_) | Route::ListGroups => Some("okta.groups.read"),
            Route::Unlock(_)
            | Route::ExpirePassword(_)
            | Route::ExpirePasswordWithTemp(_)
            | Route::ClearSessions(_)
            | Route::Verify(..) => Some("okta.users.manage"),
        }
    }
}

/// Path segment `index` decoded as Okta decodes a user key.
fn user_key(request: &Incoming, index: usize) -> String {
    request
        .raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .nth(index)
        .map(|raw| percent_decode(&raw.replace('+', " ")))
        .unwrap_or_default()
}

fn api_error(status: StatusCode, code: &str, summary: &str) -> Response {
    json(
        status,
        json!({"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oaetestonly0000000000", "errorCauses": []}),
    )
}

fn status_error(status: StatusCode) -> Response {
    let (code, summary) = match status.as_u16() {
        400 => ("E0000001", "Api validation failed"),
        401 => ("E0000011", "Invalid token provided"),
        403 => (
            "E0000006",
            "You do not have permission to perform the requested action",
        ),
        404 => ("E0000007", "Not found: Resource not found"),
        429 => {
            return rate_limited(DEFAULT_RATE_LIMIT, epoch_now() + 60);
        }
        _ => ("E0000009", "Internal Server Error"),
    };
    api_error(status, code, summary)
}

/// Okta's 429: E0000047 and when the window resets, in epoch seconds.
fn rate_limited(limit: u32, reset: u64) -> Response {
    let mut response = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "E0000047",
        "API call exceeded rate limit due to too many requests.",
    );
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-rate-limit-limit", limit.to_string()),
        ("x-rate-limit-remaining", "0".to_owned()),
        ("x-rate-limit-reset", reset.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// A resource request whose DPoP proof or token binding Okta refused: the
/// error travels in `WWW-Authenticate`, as Okta sends it.
fn dpop_refusal(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = oauth_error(status, error, description);
    let challenge = format!(
        "DPoP algs=\"RS256 RS384 RS512 ES256 ES384 ES512\", error=\"{error}\", error_description=\"{description}\""
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl FakeState for OktaState {
    const DESCRIBED: crate::conformance::Described = crate::conformance::Described::Okta;

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
        let Some(route) = route else {
            return api_error(
                StatusCode::NOT_FOUND,
                "E0000022",
                "The endpoint does not support the provided HTTP method",
            );
        };
        match route {
            Route::Token => return self.token(&request),
            Route::Revoke => return self.revoke(&request),
            _ => {}
        }
        if let Some(limited) = self.over_rate_limit() {
            return limited;
        }
        let caller = match self.authenticate(&request, &route) {
            Ok(caller) => caller,
            Err(response) => return response,
        };
        let org = caller.org;
        match route {
            Route::Token | Route::Revoke => status_error(StatusCode::INTERNAL_SERVER_ERROR),
            Route::Get(id) => self.with_user(org, &id, |u| Ok(json(StatusCode::OK, user_json(u)))),
            Route::ListUsers => self.list_users(&request, org),
            Route::Roles(id) => {
                let group_roles = lock(&self.group_roles).clone();
                self.with_user(org, &id, |u| {
                    Ok(json(StatusCode::OK, roles_json(u, &group_roles)))
                })
            }
            Route::Groups(id) => {
                let groups = self.org_groups(org);
                let link = format!("{}{}", self.base_url, request.raw_path);
                self.with_user(org, &id, |u| Ok(user_groups(u, &groups, &link)))
            }
            Route::Group(id) => match self.org_groups(org).into_iter().find(|(g, _)| *g == id) {
                Some((id, name)) => json(StatusCode::OK, group_json(&id, &name)),
                None => not_found(&id, "UserGroup"),
            },
            Route::ListGroups => self.list_groups(&request, org),
            Route::ClientRoles(client) => self.client_roles(org, &client),
            Route::Unlock(id) => self.with_user(org, &id, |u| {
                if u.state != SeedState::LockedOut {
                    return Err(api_error(
                        StatusCode::FORBIDDEN,
                        "E0000032",
                        "Unlock is not allowed for this user.",
                    ));
                }
                u.state = SeedState::Active;
                Ok(json(StatusCode::OK, json!({})))
            }),
            // The current description has no `tempPassword` parameter:
            // whatever the query says, this only expires the password and
            // answers the user.
            Route::ExpirePassword(id) => self.with_user(org, &id, |u| {
                expire_password(u)?;
                Ok(json(StatusCode::OK, user_json(u)))
            }),
            Route::ExpirePasswordWithTemp(id) => {
                let revoke_sessions = request.query_param("revokeSessions") == Some("true");
                self.with_user(org, &id, |u| {
                    expire_password(u)?;
                    let password = okta_temp_password();
                    u.password = Some(password.clone());
                    if revoke_sessions {
                        u.sessions_revoked += 1;
                    }
                    Ok(json(StatusCode::OK, json!({"tempPassword": password})))
                })
            }
            Route::ClearSessions(id) => {
                // Identity Engine default: forgetDevices is true unless sent false.
                let forget_devices = request.query_param("forgetDevices") != Some("false");
                self.with_user(org, &id, |u| {
                    u.sessions_revoked += 1;
                    if forget_devices {
                        lock(&self.devices_forgotten).insert(u.id.clone());
                    }
                    Ok(StatusCode::NO_CONTENT.into_response())
                })
            }
            Route::RevokeApiToken => match caller.api_token {
                Some(token) => {
                    lock(&self.revoked_api_tokens).insert(token);
                    StatusCode::NO_CONTENT.into_response()
                }
                None => status_error(StatusCode::FORBIDDEN),
            },
            Route::Factors(id) => {
                self.with_user(org, &id, |u| Ok(json(StatusCode::OK, factors_json(u))))
            }
            Route::Verify(id, factor) => self.verify(&request, org, &id, &factor),
            Route::Transaction(id, factor, tx) => self.with_user(org, &id, |u| {
                let mut pushes = lock(&self.pushes);
                let Some(push) = pushes
                    .get_mut(&tx)
                    .filter(|p| p.user_id == u.id && p.factor_id == factor)
                else {
                    return Err(not_found(&tx, "Transaction"));
                };
                push.polls += 1;
                Ok(json(StatusCode::OK, self.transaction_json(&tx, push)))
            }),
        }
    }
}

fn expire_password(user: &mut FakeUser) -> Result<(), Response> {
    if matches!(user.state, SeedState::SuspendedByAdmin) {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "E0000038",
            "This operation is not allowed in the user's current status.",
        ));
    }
    user.state = SeedState::PasswordExpired;
    user.must_change_password = true;
    Ok(())
}

impl OktaState {
    fn org_index(&self, domain: &str) -> Option<usize> {
        self.seed.orgs.iter().position(|o| o.domain == domain)
    }

    /// The org's groups, `Everyone` first, then every group name its users
    /// are in, in first-seen order: (id, name).
    fn org_groups(&self, org: usize) -> Vec<(String, String)> {
        let mut names: Vec<String> = vec!["Everyone".to_owned()];
        for user in lock(&self.users).iter().filter(|u| u.org == org) {
            for group in &user.seed.groups {
                if !names.contains(group) {
                    names.push(group.clone());
                }
            }
        }
        names
            .into_iter()
            .enumerate()
            .map(|(i, name)| (group_id(org, i), name))
            .collect()
    }

    /// Counts one API request against the configured per-minute limit.
    fn over_rate_limit(&self) -> Option<Response> {
        let mut rate = lock(&self.rate);
        let window = rate.as_mut()?;
        let now = epoch_now();
        if now >= window.reset {
            window.used = 0;
            window.reset = now + 60;
        }
        if window.used >= window.limit {
            return Some(rate_limited(window.limit, window.reset));
        }
        window.used += 1;
        None
    }

    /// The org the request's SSWS token or access token belongs to, if the
    /// token may call `route`: an access token needs the operation's scope,
    /// a DPoP proof when it is DPoP-bound, and an admin role on its app.
    fn authenticate(&self, request: &Incoming, route: &Route) -> Result<Caller, Response> {
        let invalid = || status_error(StatusCode::UNAUTHORIZED);
        let value = request.header(header::AUTHORIZATION).ok_or_else(invalid)?;
        let (scheme, token) = value.split_once(' ').ok_or_else(invalid)?;
        let token = token.trim();
        if scheme == "SSWS" {
            if lock(&self.revoked_api_tokens).contains(token) {
                return Err(invalid());
            }
            let org = self
                .seed
                .orgs
                .iter()
                .position(|o| o.okta.api_token == token)
                .ok_or_else(invalid)?;
            return Ok(Caller {
                org,
                api_token: Some(token.to_owned()),
            });
        }
        let (org, scopes, jkt) = {
            let grants = lock(&self.grants);
            let grant = grants
                .get(token)
                .filter(|g| g.expires > Instant::now())
                .ok_or_else(invalid)?;
            (grant.org, grant.scopes.clone(), grant.jkt.clone())
        };
        match (jkt, scheme) {
            (Some(jkt), s) if s.eq_ignore_ascii_case("DPoP") => {
                let Some(proof) = request.header(HeaderName::from_static("dpop")) else {
                    return Err(dpop_refusal(
                        StatusCode::BAD_REQUEST,
                        "invalid_dpop_proof",
                        "The DPoP proof JWT header is missing.",
                    ));
                };
                let htu = format!("{}{}", self.base_url, okta_htu_path(&request.raw_path));
                let ath = access_token_hash(token);
                match self.verify_proof(proof, request.method.as_str(), &htu, Some(&ath), false) {
                    Ok(proof_jkt) if proof_jkt == jkt => {}
                    Ok(_) => {
                        return Err(dpop_refusal(
                            StatusCode::BAD_REQUEST,
                            "invalid_dpop_proof",
                            "The DPoP proof JWT key does not match the access token.",
                        ));
                    }
                    Err(ProofRefusal::Invalid(why)) => {
                        return Err(dpop_refusal(
                            StatusCode::BAD_REQUEST,
                            "invalid_dpop_proof",
                            why,
                        ));
                    }
                    Err(ProofRefusal::UseNonce) => return Err(invalid()),
                }
            }
            (None, s) if s.eq_ignore_ascii_case("Bearer") => {}
            _ => {
                return Err(dpop_refusal(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "The access token is not valid with this authorization scheme.",
                ));
            }
        }
        let Some(scope) = route.scope() else {
            return Err(status_error(StatusCode::FORBIDDEN));
        };
        if !scopes.contains(scope) {
            let mut response = status_error(StatusCode::FORBIDDEN);
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
            );
            return Err(response);
        }
        // Scopes only narrow what the app's admin role allows; without a
        // role every management call is refused.
        if lock(&self.apps).get(org).is_none_or(|a| a.roles.is_empty()) {
            return Err(status_error(StatusCode::FORBIDDEN));
        }
        Ok(Caller {
            org,
            api_token: None,
        })
    }

    /// `POST /oauth2/v1/token`, client credentials: client authentication,
    /// then DPoP if the app requires it (a proof, then a nonce the server
    /// issued), then the scopes the app was granted.
    fn token(&self, request: &Incoming) -> Response {
        if !request.content_type_is("application/x-www-form-urlencoded") {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request must be form encoded.",
            );
        }
        let form = request.form();
        let field = |k: &str| form.get(k).map(String::as_str);
        if field("grant_type") != Some("client_credentials") {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            );
        }
        let token_url = format!("{}/oauth2/v1/token", self.base_url);
        let org = match self.authenticate_client(&form, &token_url) {
            Ok(org) => org,
            Err(response) => return response,
        };
        let Some(app) = lock(&self.apps).get(org).cloned() else {
            return status_error(StatusCode::INTERNAL_SERVER_ERROR);
        };
        // With DPoP off a proof is not asked for and not bound.
        let jkt = if app.dpop_required {
            let Some(proof) = request.header(HeaderName::from_static("dpop")) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_dpop_proof",
                    "The DPoP proof JWT header is missing.",
                );
            };
            match self.verify_proof(proof, "POST", &token_url, None, true) {
                Ok(jkt) => Some(jkt),
                Err(ProofRefusal::UseNonce) => return self.use_dpop_nonce(),
                Err(ProofRefusal::Invalid(why)) => {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", why);
                }
            }
        } else {
            None
        };
        let scopes: BTreeSet<String> = field("scope")
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if scopes.is_empty() || scopes.iter().any(|s| !app.granted.contains(s)) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "One or more scopes are not configured for the authorization server resource.",
            );
        }
        let token = random_token("eyJraWQi-test-only-");
        let scope = scopes.iter().cloned().collect::<Vec<_>>().join(" ");
        let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
        lock(&self.issued_token_types).push(token_type);
        lock(&self.grants).insert(
            token.clone(),
            Grant {
                org,
                scopes,
                expires: Instant::now() + TOKEN_LIFETIME,
                jkt,
            },
        );
        json(
            StatusCode::OK,
            json!({"token_type": token_type, "expires_in": TOKEN_LIFETIME.as_secs(), "access_token": token, "scope": scope}),
        )
    }

    fn use_dpop_nonce(&self) -> Response {
        let nonce = random_token("");
        lock(&self.dpop_nonces).insert(nonce.clone());
        let mut response = oauth_error(
            StatusCode::BAD_REQUEST,
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof.",
        );
        if let Ok(value) = HeaderValue::from_str(&nonce) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("dpop-nonce"), value);
        }
        response
    }

    /// `POST /oauth2/v1/revoke`: the client authenticates as at the token
    /// endpoint (audience: this endpoint) and may revoke only its own
    /// tokens. An unknown token is still a success, as Okta answers.
    fn revoke(&self, request: &Incoming) -> Response {
        if !request.content_type_is("application/x-www-form-urlencoded") {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request must be form encoded.",
            );
        }
        let form = request.form();
        let revoke_url = format!("{}/oauth2/v1/revoke", self.base_url);
        let org = match self.authenticate_client(&form, &revoke_url) {
            Ok(org) => org,
            Err(response) => return response,
        };
        let Some(token) = form.get("token") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The token parameter is required.",
            );
        };
        let mut grants = lock(&self.grants);
        if grants.get(token).is_some_and(|g| g.org == org) {
            grants.remove(token);
        }
        StatusCode::OK.into_response()
    }

    fn authenticate_client(
        &self,
        form: &HashMap<String, String>,
        audience: &str,
    ) -> Result<usize, Response> {
        let refused = |d: &str| oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", d);
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return Err(refused("The client_assertion_type is invalid."));
        }
        let Some(assertion) = form.get("client_assertion") else {
            return Err(refused("Client authentication failed."));
        };
        self.verify_assertion(assertion, audience)
    }

    fn verify_assertion(&self, assertion: &str, audience: &str) -> Result<usize, Response> {
        let refused = |d: &str| oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", d);
        let unverified: ClientAssertion =
            jsonwebtoken::dangerous::insecure_decode_claims(assertion)
                .map_err(|_| refused("The client_assertion token is malformed."))?;
        let Some(org) = self
            .seed
            .orgs
            .iter()
            .position(|o| o.okta.client_id == unverified.iss)
        else {
            return Err(refused("The client_assertion token has an invalid issuer."));
        };
        let key = self
            .seed
            .orgs
            .get(org)
            .map(|o| DecodingKey::from_rsa_pem(o.okta.public_key_pem.as_bytes()));
        let Some(Ok(key)) = key else {
            return Err(oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "key",
            ));
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[unverified.iss.as_str()]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<ClientAssertion>(assertion, &key, &validation)
            .map_err(|_| refused("The client_assertion signature is invalid."))?
            .claims;
        if claims.sub != claims.iss {
            return Err(refused(
                "The client_assertion sub must match the client_id.",
            ));
        }
        let Some(jti) = claims.jti else {
            return Err(refused("The client_assertion token must contain a jti."));
        };
        if !lock(&self.seen_jti).insert(jti) {
            return Err(refused("The client_assertion token has already been used."));
        }
        Ok(org)
    }

    /// Checks a DPoP proof (RFC 9449 section 4.3) for a request to `htu`
    /// with `htm`; answers the thumbprint of its key (`jkt`).
    fn verify_proof(
        &self,
        proof: &str,
        htm: &str,
        htu: &str,
        ath: Option<&str>,
        nonce_required: bool,
    ) -> Result<String, ProofRefusal> {
        let unparsable = ProofRefusal::Invalid("DPoP proof JWT cannot be parsed.");
        let raw_header: Value = proof
            .split('.')
            .next()
            .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or(unparsable)?;
        if raw_header["typ"] != json!("dpop+jwt") {
            return Err(ProofRefusal::Invalid(
                "The DPoP proof JWT 'typ' header is invalid.",
            ));
        }
        let private = ["d", "p", "q", "dp", "dq", "qi", "k"];
        match raw_header["jwk"].as_object() {
            Some(jwk) if !private.iter().any(|k| jwk.contains_key(*k)) => {}
            _ => {
                return Err(ProofRefusal::Invalid(
                    "The DPoP proof JWT 'jwk' header is invalid.",
                ));
            }
        }
        let header = jsonwebtoken::decode_header(proof)
            .map_err(|_| ProofRefusal::Invalid("DPoP proof JWT cannot be parsed."))?;
        let asymmetric = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::ES256,
            Algorithm::ES384,
        ];
        if !asymmetric.contains(&header.alg) {
            return Err(ProofRefusal::Invalid(
                "The DPoP proof JWT 'alg' header is invalid.",
            ));
        }
        let jwk = header.jwk.ok_or(ProofRefusal::Invalid(
            "The DPoP proof JWT 'jwk' header is invalid.",
        ))?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|_| ProofRefusal::Invalid("The DPoP proof JWT 'jwk' header is invalid."))?;
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<DpopClaims>(proof, &key, &validation)
            .map_err(|_| ProofRefusal::Invalid("The DPoP proof JWT signature is invalid."))?
            .claims;
        if claims.htm != htm {
            return Err(ProofRefusal::Invalid(
                "'htm' claim in the DPoP proof JWT is invalid.",
            ));
        }
        if claims.htu != htu {
            return Err(ProofRefusal::Invalid(
                "'htu' claim in the DPoP proof JWT is invalid.",
            ));
        }
        let now = epoch_now();
        if claims.iat + PROOF_MAX_AGE_SECS < now || claims.iat > now + PROOF_MAX_SKEW_SECS {
            return Err(ProofRefusal::Invalid(
                "'iat' claim in the DPoP proof JWT is invalid.",
            ));
        }
        if ath.is_some() && claims.ath.as_deref() != ath {
            return Err(ProofRefusal::Invalid(
                "'ath' claim in the DPoP proof JWT is invalid.",
            ));
        }
        if claims.jti.is_empty() || !lock(&self.seen_proof_jti).insert(claims.jti) {
            return Err(ProofRefusal::Invalid(
                "'jti' claim in the DPoP proof JWT is invalid or was already used.",
            ));
        }
        if nonce_required
            && !claims
                .nonce
                .is_some_and(|n| lock(&self.dpop_nonces).contains(&n))
        {
            return Err(ProofRefusal::UseNonce);
        }
        jwk.thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| ProofRefusal::Invalid("The DPoP proof JWT 'jwk' header is invalid."))
    }

    /// `GET /users?search=...`: the org's users matching an `eq` on
    /// `profile.email` or `profile.login`, values compared
    /// case-insensitively as Okta's search compares them.
    fn list_users(&self, request: &Incoming, org: usize) -> Response {
        let Some(search) = request.query_param("search") else {
            return validation_failed("the fake answers only a search");
        };
        let limit = request
            .query_param("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(200usize);
        let (field, value) = if let Some(value) = eq_search(search, "profile.email") {
            ("email", value)
        } else if let Some(value) = eq_search(search, "profile.login") {
            ("login", value)
        } else {
            return api_error(
                StatusCode::BAD_REQUEST,
                "E0000031",
                "Invalid search criteria.",
            );
        };
        let users = lock(&self.users);
        let found: Vec<Value> = users
            .iter()
            .filter(|u| u.org == org)
            .filter(|u| {
                let (login, email) = login_and_email(u);
                let held = if field == "email" { email } else { login };
                held.eq_ignore_ascii_case(&value)
            })
            .take(limit.max(1))
            .map(user_json)
            .collect();
        json(StatusCode::OK, Value::Array(found))
    }

    /// `GET /groups`: with `q`, groups whose name starts with it (case
    /// insensitive, at most 300, no paging); with `search`, an `eq` on
    /// `profile.name`; otherwise every group.
    fn list_groups(&self, request: &Incoming, org: usize) -> Response {
        let groups = self.org_groups(org);
        let limit = request.query_param("limit").and_then(|l| l.parse().ok());
        let matching: Vec<Value> = if let Some(q) = request.query_param("q") {
            let q = q.to_lowercase();
            groups
                .iter()
                .filter(|(_, name)| name.to_lowercase().starts_with(&q))
                .take(limit.unwrap_or(GROUP_QUERY_LIMIT))
                .map(|(id, name)| group_json(id, name))
                .collect()
        } else if let Some(search) = request.query_param("search") {
            let Some(wanted) = eq_search(search, "profile.name") else {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "E0000031",
                    "Invalid search criteria.",
                );
            };
            groups
                .iter()
                .filter(|(_, name)| name.eq_ignore_ascii_case(&wanted))
                .map(|(id, name)| group_json(id, name))
                .collect()
        } else {
            groups
                .iter()
                .take(limit.unwrap_or(10_000))
                .map(|(id, name)| group_json(id, name))
                .collect()
        };
        json(StatusCode::OK, Value::Array(matching))
    }

    /// `GET /oauth2/v1/clients/{clientId}/roles`: the org's own service app.
    fn client_roles(&self, org: usize, client: &str) -> Response {
        let is_own = self
            .seed
            .orgs
            .get(org)
            .is_some_and(|o| o.okta.client_id == client);
        if !is_own {
            return not_found(client, "Client");
        }
        let roles = lock(&self.apps)
            .get(org)
            .map(|a| a.roles.clone())
            .unwrap_or_default();
        let roles: Vec<Value> = roles
            .iter()
            .enumerate()
            .map(|(i, (role_type, label))| {
                json!({
                    "id": format!("irbtestonly{org:02}{i:06}"),
                    "label": label,
                    "type": role_type,
                    "status": "ACTIVE",
                    "created": "2024-03-01T12:00:00.000Z",
                    "lastUpdated": "2024-03-01T12:00:00.000Z",
                    "assignmentType": "CLIENT",
                })
            })
            .collect();
        json(StatusCode::OK, Value::Array(roles))
    }

    /// Issues a challenge as `POST .../factors/{id}/verify` without a
    /// passcode does: a push (201, `WAITING`, a poll link and, when asked
    /// for, a number challenge) or, for SMS and email, a code (200 `CHALLENGE`).
    fn verify(&self, request: &Incoming, org: usize, id: &str, factor_id: &str) -> Response {
        let number_challenge = match number_challenge_requested(request) {
            Ok(asked) => asked,
            Err(response) => return response,
        };
        let has_user_agent = request.header(header::USER_AGENT).is_some();
        self.with_user(org, id, |u| {
            let Some(factor) = find_factor(u, factor_id) else {
                return Err(not_found(factor_id, "UserFactor"));
            };
            if !factor.active {
                return Err(validation_failed("factor is not active"));
            }
            match &factor.kind {
                FactorKind::Push if !has_user_agent => Err(validation_failed(
                    "User-Agent is required to verify a push factor",
                )),
                FactorKind::Push => Ok(self.send_push(u, factor_id, number_challenge)),
                FactorKind::Sms { phone } => Ok(json(
                    StatusCode::OK,
                    json!({"factorResult": "CHALLENGE", "profile": {"phoneNumber": phone}}),
                )),
                FactorKind::Email { address } => Ok(json(
                    StatusCode::OK,
                    json!({"factorResult": "CHALLENGE", "profile": {"email": address}}),
                )),
            }
        })
    }

    fn send_push(&self, user: &FakeUser, factor_id: &str, number_challenge: bool) -> Response {
        let answer = lock(&self.push_answers)
            .get(&user.seed.email.to_ascii_lowercase())
            .copied()
            .unwrap_or_default();
        let push = Push {
            user_id: user.id.clone(),
            factor_id: factor_id.to_owned(),
            answer,
            correct_answer: number_challenge.then(|| rand::rngs::OsRng.gen_range(10..100)),
            polls: 0,
        };
        let tx = random_token("v2mst.");
        let body = self.waiting_json(&tx, &push);
        lock(&self.pushes).insert(tx, push);
        json(StatusCode::CREATED, body)
    }

    /// A poll's answer: `WAITING` the first time, then the scripted answer.
    fn transaction_json(&self, tx: &str, push: &Push) -> Value {
        if push.polls <= 1 {
            return self.waiting_json(tx, push);
        }
        let result = match push.answer {
            PushAnswer::Approve => return json!({"factorResult": "SUCCESS"}),
            PushAnswer::Deny => "REJECTED",
            PushAnswer::TimeOut => "TIMEOUT",
        };
        let factor = format!(
            "{}/api/v1/users/{}/factors/{}",
            self.base_url, push.user_id, push.factor_id
        );
        json!({"factorResult": result, "_links": {
            "verify": {"href": format!("{factor}/verify"), "hints": {"allow": ["POST"]}},
            "factor": {"href": factor, "hints": {"allow": ["GET", "DELETE"]}}}})
    }

    fn waiting_json(&self, tx: &str, push: &Push) -> Value {
        let poll = format!(
            "{}/api/v1/users/{}/factors/{}/transactions/{tx}",
            self.base_url, push.user_id, push.factor_id
        );
        let mut body = json!({
            "expiresAt": "2026-01-05T09:05:00.000Z",
            "factorResult": "WAITING",
            "_links": {
                "poll": {"href": poll, "hints": {"allow": ["GET"]}},
                "cancel": {"href": poll, "hints": {"allow": ["DELETE"]}},
            },
        });
        if let (Some(n), Some(obj)) = (push.correct_answer, body.as_object_mut()) {
            obj.insert(
                "_embedded".to_owned(),
                json!({"challenge": {"correctAnswer": n}}),
            );
        }
        body
    }

    /// Acts on the user `key` names in `org`, as `GET /users/{id}` finds
    /// one: its id, its login (case-insensitive), or its login shortname
    /// (the part before `@`) when no other user of the org shares it. The
    /// profile email is not a key.
    fn with_user(
        &self,
        org: usize,
        key: &str,
        act: impl FnOnce(&mut FakeUser) -> Result<Response, Response>,
    ) -> Response {
        let mut users = lock(&self.users);
        let by_id_or_login = users
            .iter()
            .position(|u| u.org == org && (u.id == key || u.seed.email.eq_ignore_ascii_case(key)));
        let position = by_id_or_login.or_else(|| {
            if key.contains('@') {
                return None;
            }
            let named: Vec<usize> = users
                .iter()
                .enumerate()
                .filter(|(_, u)| {
                    u.org == org
                        && u.seed
                            .email
                            .split('@')
                            .next()
                            .is_some_and(|short| short.eq_ignore_ascii_case(key))
                })
                .map(|(i, _)| i)
                .collect();
            (named.len() == 1).then(|| named.first().copied()).flatten()
        });
        let Some(user) = position.and_then(|i| users.get_mut(i)) else {
            return not_found(key, "User");
        };
        act(user).unwrap_or_else(|e| e)
    }
}

/// The value of `<property> eq "<value>"`, the one search form the fake
/// understands (operator case-insensitive, as Okta's).
fn eq_search(expression: &str, property: &str) -> Option<String> {
    let rest = expression.trim().strip_prefix(property)?;
    let rest = rest.trim_start();
    let (operator, value) = rest.split_once(char::is_whitespace)?;
    if !operator.eq_ignore_ascii_case("eq") {
        return None;
    }
    let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
    (!value.contains('"')).then(|| value.to_owned())
}

/// A proof's expected `htu` path: the request path percent-decoded, with
/// `%`, space, `"` and `#` kept escaped, as Okta compares it.
fn okta_htu_path(raw_path: &str) -> String {
    percent_decode(raw_path)
        .chars()
        .map(|c| match c {
            '%' => "%25".to_owned(),
            ' ' => "%20".to_owned(),
            '"' => "%22".to_owned(),
            '#' => "%23".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// `ath`: base64url SHA-256 of the access token.
fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()))
}

fn validation_failed(why: &str) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "E0000001",
        &format!("Api validation failed: {why}"),
    )
}

/// A verify request without a body asks for a plain push; a JSON body may
/// ask for a number challenge with `useNumberMatchingChallenge: true`.
fn number_challenge_requested(request: &Incoming) -> Result<bool, Response> {
    if request.body.is_empty() {
        return Ok(false);
    }
    let body = request
        .json_object()
        .filter(|_| request.content_type_is("application/json"));
    match body.as_ref().map(|b| b.get("useNumberMatchingChallenge")) {
        Some(None) => Ok(false),
        Some(Some(Value::Bool(asked))) => Ok(*asked),
        _ => Err(api_error(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
        )),
    }
}

fn not_found(id: &str, what: &str) -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "E0000007",
        &format!("Not found: Resource not found: {id} ({what})"),
    )
}

/// Factor ids are derived from the user id, so they stay stable per seed:
/// `opf` (push), `mbl` (SMS), `emf` (email), then the enrollment's index.
fn factor_id(user: &FakeUser, index: usize, factor: &SeedFactor) -> String {
    let prefix = match factor.kind {
        FactorKind::Push => "opf",
        FactorKind::Sms { .. } => "mbl",
        FactorKind::Email { .. } => "emf",
    };
    format!("{prefix}{}{index:02}", user.id.trim_start_matches("00u"))
}

fn find_factor<'a>(user: &'a FakeUser, id: &str) -> Option<&'a SeedFactor> {
    user.seed
        .factors
        .iter()
        .enumerate()
        .find(|(i, f)| factor_id(user, *i, f) == id)
        .map(|(_, f)| f)
}

fn factors_json(user: &FakeUser) -> Value {
    let factors = user.seed.factors.iter().enumerate().map(|(i, factor)| {
        let (factor_type, profile) = match &factor.kind {
            FactorKind::Push => (
                "push",
                json!({"credentialId": user.seed.email, "deviceType": "SmartPhone_IPhone",
                       "name": "Test-only iPhone", "platform": "IOS", "version": "17.0"}),
            ),
            FactorKind::Sms { phone } => ("sms", json!({"phoneNumber": phone})),
            FactorKind::Email { address } => ("email", json!({"email": address})),
        };
        json!({
            "id": factor_id(user, i, factor),
            "factorType": factor_type,
            "provider": "OKTA",
            "vendorName": "OKTA",
            "status": if factor.active { "ACTIVE" } else { "PENDING_ACTIVATION" },
            "created": "2025-03-01T12:00:00.000Z",
            "lastUpdated": "2025-03-01T12:00:00.000Z",
            "profile": profile,
        })
    });
    Value::Array(factors.collect())
}

fn okta_status(state: SeedState) -> &'static str {
    match state {
        SeedState::Active => "ACTIVE",
        SeedState::LockedOut => "LOCKED_OUT",
        SeedState::SuspendedByAdmin => "SUSPENDED",
        SeedState::PasswordExpired => "PASSWORD_EXPIRED",
    }
}

/// The login is the seeded address; the profile email is the first alias
/// when the user has one (an email that differs from the login).
fn login_and_email(user: &FakeUser) -> (&str, &str) {
    let login = user.seed.email.as_str();
    let email = user.seed.aliases.first().map_or(login, String::as_str);
    (login, email)
}

fn user_json(user: &FakeUser) -> Value {
    let (login, email) = login_and_email(user);
    json!({
        "id": user.id,
        "status": okta_status(user.state),
        "created": "2024-03-01T12:00:00.000Z",
        "activated": "2024-03-01T12:00:00.000Z",
        "statusChanged": "2025-12-01T08:00:00.000Z",
        "lastLogin": "2026-01-05T09:00:00.000Z",
        "lastUpdated": "2025-12-01T08:00:00.000Z",
        "passwordChanged": "2025-06-01T08:00:00.000Z",
        "type": {"id": "otytestonly0000000000"},
        "profile": {
            "firstName": user.seed.given_name,
            "lastName": user.seed.family_name,
            "mobilePhone": null,
            "secondEmail": null,
            "login": login,
            "email": email,
        },
        "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
    })
}

/// Role assignments: Super Administrator for a seeded admin, and every role
/// assigned to a group the user is in, listed with `assignmentType: GROUP`.
fn roles_json(user: &FakeUser, group_roles: &[(usize, String, String)]) -> Value {
    let mut roles = Vec::new();
    if user.seed.admin {
        roles.push(json!({
            "id": "ra1testonly000000000",
            "label": "Super Organization Administrator",
            "type": "SUPER_ADMIN",
            "status": "ACTIVE",
            "created": "2024-03-01T12:00:00.000Z",
            "lastUpdated": "2024-03-01T12:00:00.000Z",
            "assignmentType": "USER",
        }));
    }
    for (i, (_, _, role_type)) in group_roles
        .iter()
        .enumerate()
        .filter(|(_, (org, group, _))| *org == user.org && user.seed.groups.contains(group))
    {
        roles.push(json!({
            "id": format!("grastestonly{i:08}"),
            "label": role_type,
            "type": role_type,
            "status": "ACTIVE",
            "created": "2024-03-01T12:00:00.000Z",
            "lastUpdated": "2024-03-01T12:00:00.000Z",
            "assignmentType": "GROUP",
        }));
    }
    Value::Array(roles)
}

fn group_json(id: &str, name: &str) -> Value {
    let (group_type, description) = if name == "Everyone" {
        ("BUILT_IN", json!("All users in your organization"))
    } else {
        ("OKTA_GROUP", Value::Null)
    };
    json!({
        "id": id,
        "created": "2024-03-01T12:00:00.000Z",
        "lastUpdated": "2024-03-01T12:00:00.000Z",
        "lastMembershipUpdated": "2025-12-01T08:00:00.000Z",
        "objectClass": ["okta:user_group"],
        "type": group_type,
        "profile": {"name": name, "description": description},
    })
}

/// `GET /users/{id}/groups`: every group the user is in, `Everyone` first,
/// in one answer (the description has no paging parameter for it).
fn user_groups(user: &FakeUser, groups: &[(String, String)], link: &str) -> Response {
    let page: Vec<Value> = groups
        .iter()
        .filter(|(_, name)| name == "Everyone" || user.seed.groups.contains(name))
        .map(|(id, name)| group_json(id, name))
        .collect();
    let mut response = json(StatusCode::OK, Value::Array(page));
    if let Ok(value) = HeaderValue::from_str(&format!("<{link}>; rel=\"self\"")) {
        response.headers_mut().append(header::LINK, value);
    }
    response
}

/// Okta's temporary passwords are short alphanumerics.
fn okta_temp_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..10)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_eq_search_on_the_named_property_is_understood() {
        assert_eq!(
            eq_search("profile.email eq \"A@b.example\"", "profile.email").as_deref(),
            Some("A@b.example")
        );
        assert_eq!(
            eq_search("profile.name EQ \"IT Admins\"", "profile.name").as_deref(),
            Some("IT Admins")
        );
        assert_eq!(eq_search("profile.email sw \"a\"", "profile.email"), None);
        assert_eq!(eq_search("profile.login eq \"a\"", "profile.email"), None);
    }

    #[test]
    fn htu_paths_are_compared_decoded() {
        assert_eq!(
            okta_htu_path("/api/v1/users/bob%2Bit@demo.example"),
            "/api/v1/users/bob+it@demo.example"
        );
        assert_eq!(okta_htu_path("/a%20b%25"), "/a%20b%25");
    }
}
