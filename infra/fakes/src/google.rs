//! A fake Google Workspace: the OAuth token endpoint for service accounts
//! (JWT bearer grant, RS256 checked against the seeded public key, any
//! subset of the scopes delegated to the client), users.get (by address,
//! alias or id; with the recovery email and phone) / users.update /
//! users.signOut, groups.get and members.hasMember, each checking its
//! scope, with Google's error shapes: quota is a 403 whose reason says so,
//! and `+` in a path is a space. Serves 127.0.0.1 only.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::handle::fake_handle_methods;
use crate::seed::{FakeUser, Seed, SeedState, TEST_ONLY_PRIVATE_KEY_PEM, users_of};
use crate::server::{
    Controls, FakeState, Incoming, Running, StartError, apply_fault, bind, json, lock,
    random_token, router, spawn,
};

/// The scopes delegated to each org's client unless a test withdraws one.
pub const ALLOWED_SCOPES: [&str; 3] = [USER_SCOPE, USER_SECURITY_SCOPE, GROUP_READONLY_SCOPE];

const USER_SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user";
const USER_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
const USER_SECURITY_SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user.security";
const GROUP_SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.group";
const GROUP_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.group.readonly";

/// Every Admin SDK Directory scope the fake knows of; anything else in an
/// assertion is `invalid_scope`.
const KNOWN_SCOPES: [&str; 5] = [
    USER_SCOPE,
    USER_READONLY_SCOPE,
    USER_SECURITY_SCOPE,
    GROUP_SCOPE,
    GROUP_READONLY_SCOPE,
];

const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

pub struct FakeGoogle {
    running: Running,
    state: Arc<GoogleState>,
}

pub(crate) struct GoogleState {
    pub(crate) controls: Controls,
    pub(crate) users: Mutex<Vec<FakeUser>>,
    seed: Seed,
    token_url: String,
    grants: Mutex<HashMap<String, Grant>>,
    delegated: Mutex<BTreeSet<&'static str>>,
    over_quota: std::sync::atomic::AtomicBool,
}

struct Grant {
    org: usize,
    subject: String,
    scopes: BTreeSet<String>,
    expires: Instant,
}

#[derive(Deserialize)]
struct Assertion {
    iss: String,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    scope: String,
    iat: u64,
    exp: u64,
}

impl FakeGoogle {
    pub async fn start(seed: Seed) -> Result<Self, StartError> {
        Self::start_on(seed, 0).await
    }

    /// Serves on 127.0.0.1:`port` (0 picks a free port).
    pub async fn start_on(seed: Seed, port: u16) -> Result<Self, StartError> {
        let (listener, addr) = bind("Google Workspace", port).await?;
        let state = Arc::new(GoogleState {
            controls: Controls::default(),
            users: Mutex::new(users_of(&seed, |o, u| format!("1{o:02}{u:017}"))),
            token_url: format!("http://{addr}/token"),
            seed,
            grants: Mutex::new(HashMap::new()),
            delegated: Mutex::new(ALLOWED_SCOPES.into_iter().collect()),
            over_quota: std::sync::atomic::AtomicBool::new(false),
        });
        let running = spawn(
            "Google Workspace",
            listener,
            addr,
            router(Arc::clone(&state)),
        );
        Ok(Self { running, state })
    }

    fake_handle_methods!();

    /// The value for `GOOGLE_TOKEN_URL`.
    pub fn token_url(&self) -> String {
        self.state.token_url.clone()
    }

    /// The value for `GOOGLE_API_BASE_URL`.
    pub fn api_base_url(&self) -> String {
        self.base_url()
    }

    /// Removes `scope` from the domain-wide delegation of every org's
    /// client, as an administrator would in the Admin console.
    pub fn withdraw_scope(&self, scope: &str) {
        lock(&self.state.delegated).retain(|s| *s != scope);
    }

    /// Makes every API call answer as Google does over quota: 403
    /// `userRateLimitExceeded` (the token endpoint still answers).
    pub fn set_over_quota(&self, over: bool) {
        self.state
            .over_quota
            .store(over, std::sync::atomic::Ordering::SeqCst);
    }

    /// The immutable id Google gives the group `name` of `domain`.
    pub fn group_id(&self, domain: &str, name: &str) -> Option<String> {
        let (index, org) = self
            .state
            .seed
            .orgs
            .iter()
            .enumerate()
            .find(|(_, o)| o.domain == domain)?;
        let position = org.group_names().iter().position(|g| *g == name)?;
        Some(group_id(index, position))
    }

    /// The connection credentials (the JSON zerodesk stores) for `domain`,
    /// with the TEST-ONLY private key.
    pub fn credentials_json(&self, domain: &str) -> Option<Value> {
        let org = self.state.seed.org(domain)?;
        Some(json!({
            "provider": "google_workspace",
            "client_email": org.google.client_email,
            "private_key": TEST_ONLY_PRIVATE_KEY_PEM,
            "admin_subject": org.google.admin_subject,
        }))
    }
}

enum Route {
    Token,
    Get(String),
    Update(String),
    SignOut(String),
    GetGroup(String),
    HasMember { group: String, member: String },
}

/// Google's path decoding: `+` is a space, as in a form; only `%2B` is a
/// plus sign.
fn google_key(raw_path: &str, index: usize) -> Option<String> {
    let raw = raw_path.split('/').filter(|s| !s.is_empty()).nth(index)?;
    let bytes = raw.replace('+', "%20");
    url::form_urlencoded::parse(
        format!("k={}", bytes.replace('&', "%26").replace('=', "%3D")).as_bytes(),
    )
    .next()
    .map(|(_, v)| v.into_owned())
}

impl Route {
    fn parse(request: &Incoming) -> Option<Self> {
        let m = &request.method;
        let key = |index| google_key(&request.raw_path, index);
        match request.segs().as_slice() {
            ["token"] if m == Method::POST => Some(Route::Token),
            ["admin", "directory", "v1", "users", _] if m == Method::GET => {
                Some(Route::Get(key(4)?))
            }
            ["admin", "directory", "v1", "users", _] if m == Method::PUT || m == Method::PATCH => {
                Some(Route::Update(key(4)?))
            }
            ["admin", "directory", "v1", "users", _, "signOut"] if m == Method::POST => {
                Some(Route::SignOut(key(4)?))
            }
            ["admin", "directory", "v1", "groups", _] if m == Method::GET => {
                Some(Route::GetGroup(key(4)?))
            }
            ["admin", "directory", "v1", "groups", _, "hasMember", _] if m == Method::GET => {
                Some(Route::HasMember {
                    group: key(4)?,
                    member: key(6)?,
                })
            }
            _ => None,
        }
    }

    fn name(route: Option<&Self>) -> &'static str {
        match route {
            Some(Route::Token) => "token",
            Some(Route::Get(_)) => "users.get",
            Some(Route::Update(_)) => "users.update",
            Some(Route::SignOut(_)) => "users.signOut",
            Some(Route::GetGroup(_)) => "groups.get",
            Some(Route::HasMember { .. }) => "members.hasMember",
            None => "unknown",
        }
    }
}

/// Google's JSON error envelope for API calls.
fn api_error(status: StatusCode, message: &str) -> Response {
    let reason = match status.as_u16() {
        400 => "invalid",
        401 => "authError",
        403 => "forbidden",
        // Google signals quota with 403 and this reason; 429 is rare.
        404 => "notFound",
        411 => "lengthRequired",
        429 => "rateLimitExceeded",
        _ => "backendError",
    };
    json(
        status,
        json!({"error": {"code": status.as_u16(), "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}}),
    )
}

fn status_error(status: StatusCode) -> Response {
    api_error(status, status.canonical_reason().unwrap_or("error"))
}

/// The OAuth token endpoint's error shape.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

impl FakeState for GoogleState {
    const DESCRIBED: crate::conformance::Described = crate::conformance::Described::Google;

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
        if !matches!(route, None | Some(Route::Token))
            && self.over_quota.load(std::sync::atomic::Ordering::SeqCst)
        {
            return quota_error();
        }
        match route {
            None => api_error(StatusCode::NOT_FOUND, "Not Found"),
            Some(Route::Token) => self.token(&request),
            Some(Route::Get(key)) => self.with_user(&request, &key, READ_USER, |user| {
                (StatusCode::OK, user_json(user))
            }),
            Some(Route::Update(key)) => self.update(&request, &key),
            Some(Route::SignOut(key)) => {
                if request.header(header::CONTENT_LENGTH).is_none() {
                    return api_error(StatusCode::LENGTH_REQUIRED, "Length Required");
                }
                self.with_user(&request, &key, &[USER_SECURITY_SCOPE], |user| {
                    user.sessions_revoked += 1;
                    (StatusCode::NO_CONTENT, Value::Null)
                })
            }
            Some(Route::GetGroup(key)) => self.group(&request, &key, None),
            Some(Route::HasMember { group, member }) => self.group(&request, &group, Some(&member)),
        }
    }
}

/// What users.get accepts; users.update needs the read-write scope.
const READ_USER: &[&str] = &[USER_SCOPE, USER_READONLY_SCOPE];
const WRITE_USER: &[&str] = &[USER_SCOPE];
const READ_GROUP: &[&str] = &[GROUP_SCOPE, GROUP_READONLY_SCOPE];

fn quota_error() -> Response {
    let message =
        "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'";
    json(
        StatusCode::FORBIDDEN,
        json!({"error": {"code": 403, "message": message, "errors": [{"message": message, "domain": "usageLimits", "reason": "userRateLimitExceeded"}]}}),
    )
}

fn insufficient_scopes() -> Response {
    let message = "Request had insufficient authentication scopes.";
    json(
        StatusCode::FORBIDDEN,
        json!({"error": {"code": 403, "message": message, "errors": [{"message": message, "domain": "global", "reason": "insufficientPermissions"}], "status": "PERMISSION_DENIED"}}),
    )
}

/// Group ids look like Google's: 15 characters starting with `0`.
fn group_id(org: usize, position: usize) -> String {
    format!("0{org:02}grp{position:09}x")
}

fn group_email(name: &str, domain: &str) -> String {
    let local: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{local}@{domain}")
}

impl GoogleState {
    fn token(&self, request: &Incoming) -> Response {
        if !request.content_type_is("application/x-www-form-urlencoded") {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "Bad Request");
        }
        let form = request.form();
        if form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Invalid grant_type",
            );
        }
        let Some(assertion) = form.get("assertion") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: assertion",
            );
        };
        match self.verify_assertion(assertion) {
            Ok((org, subject, scopes)) => {
                let token = random_token("ya29.test-only-");
                lock(&self.grants).insert(
                    token.clone(),
                    Grant {
                        org,
                        subject,
                        scopes,
                        expires: Instant::now() + TOKEN_LIFETIME,
                    },
                );
                json(
                    StatusCode::OK,
                    json!({"access_token": token, "expires_in": TOKEN_LIFETIME.as_secs(), "token_type": "Bearer"}),
                )
            }
            Err(response) => response,
        }
    }

    /// Checks the assertion as Google does: RS256 over the service account's
    /// key, `aud` the token URL, a lifetime of at most an hour, a subject in
    /// the domain, and only known scopes, each delegated to the client.
    fn verify_assertion(
        &self,
        assertion: &str,
    ) -> Result<(usize, String, BTreeSet<String>), Response> {
        let invalid_grant = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", d);
        let header =
            jsonwebtoken::decode_header(assertion).map_err(|_| invalid_grant("Invalid JWT"))?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid_grant("Invalid JWT: unsupported algorithm"));
        }
        let unverified: Assertion = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
            .map_err(|_| invalid_grant("Invalid JWT"))?;
        let Some((org_index, org)) = self
            .seed
            .orgs
            .iter()
            .enumerate()
            .find(|(_, o)| o.google.client_email == unverified.iss)
        else {
            return Err(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The OAuth client was not found.",
            ));
        };
        let key =
            DecodingKey::from_rsa_pem(org.google.public_key_pem.as_bytes()).map_err(|_| {
                oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_failure", "key")
            })?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[self.token_url.as_str()]);
        validation.set_issuer(&[org.google.client_email.as_str()]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Assertion>(assertion, &key, &validation)
            .map_err(|_| invalid_grant("Invalid JWT Signature."))?
            .claims;
        if claims.exp <= claims.iat || claims.exp - claims.iat > 3600 {
            return Err(invalid_grant(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
            ));
        }
        let requested: BTreeSet<&str> = claims.scope.split_whitespace().collect();
        if requested.is_empty() || !requested.iter().all(|s| KNOWN_SCOPES.contains(s)) {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "Invalid OAuth scope or ID token audience provided.",
            ));
        }
        let delegated = lock(&self.delegated);
        if !requested.iter().all(|s| delegated.contains(s)) {
            return Err(oauth_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
            ));
        }
        drop(delegated);
        let subject = claims.sub.unwrap_or_default();
        let in_org = lock(&self.users)
            .iter()
            .any(|u| u.org == org_index && u.seed.email.eq_ignore_ascii_case(&subject));
        if !in_org {
            return Err(invalid_grant("Invalid email or User ID"));
        }
        let scopes = requested.into_iter().map(str::to_owned).collect();
        Ok((org_index, subject, scopes))
    }

    /// The token's org and subject, if the bearer token is live and carries
    /// one of `scopes`; else Google's answer.
    fn authorize(&self, request: &Incoming, scopes: &[&str]) -> Result<(usize, String), Response> {
        let grants = lock(&self.grants);
        let Some(grant) = request
            .bearer()
            .and_then(|t| grants.get(t))
            .filter(|g| g.expires > Instant::now())
        else {
            return Err(api_error(StatusCode::UNAUTHORIZED, "Invalid Credentials"));
        };
        if !scopes.iter().any(|s| grant.scopes.contains(*s)) {
            return Err(insufficient_scopes());
        }
        Ok((grant.org, grant.subject.clone()))
    }

    /// groups.get (`member` None) or members.hasMember. Groups are found by
    /// address (case-insensitive) or id, in the token's domain only;
    /// membership is direct (the seed has no nested groups).
    fn group(&self, request: &Incoming, key: &str, member: Option<&str>) -> Response {
        let (org_index, _) = match self.authorize(request, READ_GROUP) {
            Ok(g) => g,
            Err(response) => return response,
        };
        let org = &self.seed.orgs[org_index];
        let found = org.group_names().into_iter().enumerate().find(|(i, name)| {
            group_email(name, &org.domain).eq_ignore_ascii_case(key)
                || group_id(org_index, *i) == key
        });
        let Some((position, name)) = found else {
            return api_error(StatusCode::NOT_FOUND, "Resource Not Found: groupKey");
        };
        let Some(member) = member else {
            return json(
                StatusCode::OK,
                json!({
                    "kind": "admin#directory#group",
                    "id": group_id(org_index, position),
                    "etag": format!("\"etag-{}\"", group_id(org_index, position)),
                    "email": group_email(name, &org.domain),
                    "name": name,
                    "directMembersCount": org.users.iter().filter(|u| u.groups.iter().any(|g| g == name)).count().to_string(),
                    "description": "",
                    "adminCreated": true,
                }),
            );
        };
        let users = lock(&self.users);
        let Some(user) = users
            .iter()
            .find(|u| u.org == org_index && (u.seed.is_named(member) || u.id == member))
        else {
            return api_error(StatusCode::NOT_FOUND, "Resource Not Found: memberKey");
        };
        let is_member = user.seed.groups.iter().any(|g| g == name);
        json(StatusCode::OK, json!({"isMember": is_member}))
    }

    /// Authenticates the bearer token, checks the impersonated admin, finds
    /// `key` (email or id) in the token's domain and applies `act` to it.
    fn with_user(
        &self,
        request: &Incoming,
        key: &str,
        scopes: &[&str],
        act: impl FnOnce(&mut FakeUser) -> (StatusCode, Value),
    ) -> Response {
        let (org, subject) = match self.authorize(request, scopes) {
            Ok(g) => g,
            Err(response) => return response,
        };
        let mut users = lock(&self.users);
        let acting_admin = users
            .iter()
            .any(|u| u.org == org && u.seed.admin && u.seed.email.eq_ignore_ascii_case(&subject));
        if !acting_admin {
            return api_error(
                StatusCode::FORBIDDEN,
                "Not Authorized to access this resource/api",
            );
        }
        let Some(user) = users
            .iter_mut()
            .find(|u| u.seed.is_named(key) || u.id == key)
        else {
            return api_error(StatusCode::NOT_FOUND, "Resource Not Found: userKey");
        };
        if user.org != org {
            return api_error(
                StatusCode::FORBIDDEN,
                "Not Authorized to access this resource/api",
            );
        }
        match act(user) {
            (StatusCode::NO_CONTENT, _) => StatusCode::NO_CONTENT.into_response(),
            (status, body) if status.is_success() => json(status, body),
            (status, body) => api_error(status, body.as_str().unwrap_or("Invalid Input")),
        }
    }

    fn update(&self, request: &Incoming, key: &str) -> Response {
        if !request.content_type_is("application/json") {
            return api_error(StatusCode::BAD_REQUEST, "Invalid JSON payload received.");
        }
        let Some(body) = request.json_object() else {
            return api_error(StatusCode::BAD_REQUEST, "Invalid JSON payload received.");
        };
        let change = match UserChange::parse(&body) {
            Ok(c) => c,
            Err(message) => return api_error(StatusCode::BAD_REQUEST, &message),
        };
        self.with_user(request, key, WRITE_USER, |user| {
            change.apply(user);
            (StatusCode::OK, user_json(user))
        })
    }
}

/// The subset of a users.update body the fake understands, validated as
/// Google validates it.
struct UserChange {
    password: Option<(String, Option<String>)>,
    change_at_next_login: Option<bool>,
    suspended: Option<bool>,
}

impl UserChange {
    fn parse(body: &serde_json::Map<String, Value>) -> Result<Self, String> {
        if let Some(unknown) = body.keys().find(|k| {
            !matches!(
                k.as_str(),
                "password" | "hashFunction" | "changePasswordAtNextLogin" | "suspended"
            )
        }) {
            return Err(format!(
                "Invalid JSON payload received. Unknown name \"{unknown}\" at 'resource'"
            ));
        }
        let hash_function = match body.get("hashFunction") {
            None => None,
            Some(Value::String(h)) if matches!(h.as_str(), "SHA-1" | "MD5" | "crypt") => {
                Some(h.clone())
            }
            Some(_) => return Err("Invalid Input: hashFunction".to_owned()),
        };
        let password = match body.get("password") {
            None if hash_function.is_some() => return Err("Invalid Input: password".to_owned()),
            None => None,
            Some(Value::String(p)) => {
                let hex_len = |n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit());
                let ok = match hash_function.as_deref() {
                    Some("SHA-1") => hex_len(40),
                    Some("MD5") => hex_len(32),
                    Some(_) => !p.is_empty(),
                    None => (8..=100).contains(&p.chars().count()),
                };
                if !ok {
                    return Err("Invalid Password".to_owned());
                }
                Some((p.clone(), hash_function))
            }
            Some(_) => return Err("Invalid Input: password".to_owned()),
        };
        let flag = |name: &str| match body.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("Invalid value at '{name}'")),
        };
        Ok(Self {
            password,
            change_at_next_login: flag("changePasswordAtNextLogin")?,
            suspended: flag("suspended")?,
        })
    }

    fn apply(self, user: &mut FakeUser) {
        if let Some((password, hash_function)) = self.password {
            user.password = Some(password);
            user.hash_function = hash_function;
        }
        if let Some(change) = self.change_at_next_login {
            user.must_change_password = change;
        }
        match self.suspended {
            Some(false) => user.state = SeedState::Active,
            Some(true) => user.state = SeedState::SuspendedByAdmin,
            None => {}
        }
    }
}

fn user_json(user: &FakeUser) -> Value {
    let (suspended, reason) = match user.state {
        SeedState::LockedOut => (true, Some("WEB_LOGIN_REQUIRED")),
        SeedState::SuspendedByAdmin => (true, Some("ADMIN")),
        SeedState::Active | SeedState::PasswordExpired => (false, None),
    };
    let mut value = json!({
        "kind": "admin#directory#user",
        "id": user.id,
        "etag": format!("\"etag-{}\"", user.id),
        "primaryEmail": user.seed.email,
        "name": {
            "givenName": user.seed.given_name,
            "familyName": user.seed.family_name,
            "fullName": format!("{} {}", user.seed.given_name, user.seed.family_name),
        },
        "isAdmin": user.seed.admin,
        "isDelegatedAdmin": false,
        "lastLoginTime": "2026-01-05T09:00:00.000Z",
        "creationTime": "2024-03-01T12:00:00.000Z",
        "agreedToTerms": true,
        "suspended": suspended,
        "archived": false,
        "changePasswordAtNextLogin": user.must_change_password,
        "ipWhitelisted": false,
        "emails": std::iter::once(json!({"address": user.seed.email, "primary": true}))
            .chain(user.seed.aliases.iter().map(|a| json!({"address": a})))
            .collect::<Vec<_>>(),
        "customerId": "C0testonly",
        "orgUnitPath": user.seed.org_unit,
        "isMailboxSetup": true,
        "isEnrolledIn2Sv": false,
        "isEnforcedIn2Sv": false,
        "includeInGlobalAddressList": true,
    });
    // Google leaves unset optional fields out rather than sending null.
    let optional = [
        ("suspensionReason", reason),
        ("recoveryEmail", user.seed.recovery_email.as_deref()),
        ("recoveryPhone", user.seed.mobile_phone()),
    ];
    if let Some(obj) = value.as_object_mut() {
        if !user.seed.aliases.is_empty() {
            obj.insert("aliases".to_owned(), json!(user.seed.aliases));
        }
        for (field, present) in optional {
            if let Some(v) = present {
                obj.insert(field.to_owned(), Value::String(v.to_owned()));
            }
        }
    }
    value
}
