//! A fake Okta org: SSWS API tokens and an OAuth service app (client
//! credentials with `private_key_jwt`, RS256 checked against the seeded
//! public key, jti replay refused, per-route scopes), users, roles, groups
//! (paged with `Link`), lifecycle unlock and expire_password, session
//! clearing, and factors: listing, Okta Verify push (with a number
//! challenge) and polling its transaction, answered as a test scripts it.
//! Okta's error shapes throughout. Serves 127.0.0.1 only.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::handle::fake_handle_methods;
use crate::seed::{
    FactorKind, FakeUser, Seed, SeedFactor, SeedState, TEST_ONLY_PRIVATE_KEY_PEM, users_of,
};
use crate::server::{
    Controls, FakeState, Incoming, Running, StartError, apply_fault, bind, json, lock,
    random_token, router, spawn,
};

/// Scopes the fake service app may be granted.
pub const GRANTABLE_SCOPES: [&str; 3] = ["okta.users.manage", "okta.users.read", "okta.roles.read"];

const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Group pages are this small so connectors must follow the `Link` header.
const GROUP_PAGE_SIZE: usize = 2;

pub struct FakeOkta {
    running: Running,
    state: Arc<OktaState>,
}

pub(crate) struct OktaState {
    pub(crate) controls: Controls,
    pub(crate) users: Mutex<Vec<FakeUser>>,
    seed: Seed,
    base_url: String,
    grants: Mutex<HashMap<String, Grant>>,
    seen_jti: Mutex<HashSet<String>>,
    /// Scripted answers by lower-case login; `Approve` when absent.
    push_answers: Mutex<HashMap<String, PushAnswer>>,
    /// Pushes sent, by transaction id.
    pushes: Mutex<HashMap<String, Push>>,
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
}

#[derive(Deserialize)]
struct ClientAssertion {
    iss: String,
    sub: String,
    #[serde(default)]
    jti: Option<String>,
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
            users: Mutex::new(users_of(&seed, |o, u| format!("00u{o:02}testonly{u:06}"))),
            seed,
            base_url: format!("http://{addr}"),
            grants: Mutex::new(HashMap::new()),
            seen_jti: Mutex::new(HashSet::new()),
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
}

enum Route {
    Token,
    Get(String),
    Roles(String),
    Groups(String),
    Unlock(String),
    ExpirePassword(String),
    ClearSessions(String),
    Factors(String),
    Verify(String, String),
    Transaction(String, String, String),
}

impl Route {
    fn parse(request: &Incoming) -> Option<Self> {
        let m = &request.method;
        let owned = |s: &&str| (*s).to_owned();
        match request.segs().as_slice() {
            ["oauth2", "v1", "token"] if m == Method::POST => Some(Route::Token),
            ["api", "v1", "users", id] if m == Method::GET => Some(Route::Get(owned(id))),
            ["api", "v1", "users", id, "roles"] if m == Method::GET => {
                Some(Route::Roles(owned(id)))
            }
            ["api", "v1", "users", id, "groups"] if m == Method::GET => {
                Some(Route::Groups(owned(id)))
            }
            ["api", "v1", "users", id, "lifecycle", "unlock"] if m == Method::POST => {
                Some(Route::Unlock(owned(id)))
            }
            ["api", "v1", "users", id, "lifecycle", "expire_password"] if m == Method::POST => {
                Some(Route::ExpirePassword(owned(id)))
            }
            ["api", "v1", "users", id, "sessions"] if m == Method::DELETE => {
                Some(Route::ClearSessions(owned(id)))
            }
            ["api", "v1", "users", id, "factors"] if m == Method::GET => {
                Some(Route::Factors(owned(id)))
            }
            ["api", "v1", "users", id, "factors", factor, "verify"] if m == Method::POST => {
                Some(Route::Verify(owned(id), owned(factor)))
            }
            [
                "api",
                "v1",
                "users",
                id,
                "factors",
                factor,
                "transactions",
                tx,
            ] if m == Method::GET => Some(Route::Transaction(owned(id), owned(factor), owned(tx))),
            _ => None,
        }
    }

    fn name(route: Option<&Self>) -> &'static str {
        match route {
            Some(Route::Token) => "token",
            Some(Route::Get(_)) => "users.get",
            Some(Route::Roles(_)) => "users.roles",
            Some(Route::Groups(_)) => "users.groups",
            Some(Route::Unlock(_)) => "lifecycle.unlock",
            Some(Route::ExpirePassword(_)) => "lifecycle.expire_password",
            Some(Route::ClearSessions(_)) => "users.sessions.clear",
            Some(Route::Factors(_)) => "factors.list",
            Some(Route::Verify(..)) => "factors.verify",
            Some(Route::Transaction(..)) => "factors.transaction",
            None => "unknown",
        }
    }

    /// The OAuth scope a service app token needs for this route.
    fn scope(&self) -> &'static str {
        match self {
            Route::Token => "",
            Route::Get(_) | Route::Groups(_) | Route::Factors(_) | Route::Transaction(..) => {
                "okta.users.read"
            }
            Route::Roles(_) => "okta.roles.read",
            Route::Unlock(_)
            | Route::ExpirePassword(_)
            | Route::ClearSessions(_)
            | Route::Verify(..) => "okta.users.manage",
        }
    }
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
        429 => (
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        ),
        _ => ("E0000009", "Internal Server Error"),
    };
    api_error(status, code, summary)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(
        status,
        json!({"error": error, "error_description": description}),
    )
}

impl FakeState for OktaState {
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
        if let Route::Token = route {
            return self.token(&request);
        }
        let org = match self.authenticate(&request, route.scope()) {
            Ok(org) => org,
            Err(response) => return response,
        };
        match route {
            Route::Token => status_error(StatusCode::INTERNAL_SERVER_ERROR),
            Route::Get(id) => self.with_user(org, &id, |u| Ok(json(StatusCode::OK, user_json(u)))),
            Route::Roles(id) => {
                self.with_user(org, &id, |u| Ok(json(StatusCode::OK, roles_json(u))))
            }
            Route::Groups(id) => {
                let limit = request
                    .query_param("limit")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(10_000usize);
                let after = request
                    .query_param("after")
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0usize);
                let base = format!("{}{}", self.base_url, request.raw_path);
                self.with_user(org, &id, |u| Ok(groups_page(u, limit, after, &base)))
            }
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
            Route::ExpirePassword(id) => {
                let temp = request.query_param("tempPassword") == Some("true");
                self.with_user(org, &id, |u| {
                    if matches!(u.state, SeedState::SuspendedByAdmin) {
                        return Err(api_error(
                            StatusCode::FORBIDDEN,
                            "E0000038",
                            "This operation is not allowed in the user's current status.",
                        ));
                    }
                    u.state = SeedState::PasswordExpired;
                    u.must_change_password = true;
                    if !temp {
                        return Ok(json(StatusCode::OK, user_json(u)));
                    }
                    let password = okta_temp_password();
                    u.password = Some(password.clone());
                    Ok(json(StatusCode::OK, json!({"tempPassword": password})))
                })
            }
            Route::ClearSessions(id) => self.with_user(org, &id, |u| {
                u.sessions_revoked += 1;
                Ok(StatusCode::NO_CONTENT.into_response())
            }),
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

impl OktaState {
    /// The org the request's SSWS token or access token belongs to, if the
    /// token may use `scope`.
    fn authenticate(&self, request: &Incoming, scope: &str) -> Result<usize, Response> {
        let invalid = || {
            api_error(
                StatusCode::UNAUTHORIZED,
                "E0000011",
                "Invalid token provided",
            )
        };
        let value = request.header(header::AUTHORIZATION).ok_or_else(invalid)?;
        if let Some(token) = value.strip_prefix("SSWS ") {
            return self
                .seed
                .orgs
                .iter()
                .position(|o| o.okta.api_token == token.trim())
                .ok_or_else(invalid);
        }
        let token = request.bearer().ok_or_else(invalid)?;
        let grants = lock(&self.grants);
        let grant = grants
            .get(token)
            .filter(|g| g.expires > Instant::now())
            .ok_or_else(invalid)?;
        let allowed = grant.scopes.contains(scope)
            || (scope == "okta.users.read" && grant.scopes.contains("okta.users.manage"));
        if !allowed {
            let mut response = api_error(
                StatusCode::FORBIDDEN,
                "E0000006",
                "You do not have permission to perform the requested action",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"insufficient_scope\""),
            );
            return Err(response);
        }
        Ok(grant.org)
    }

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
        if field("client_assertion_type")
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The client_assertion_type is invalid.",
            );
        }
        let Some(assertion) = field("client_assertion") else {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed.",
            );
        };
        let org = match self.verify_assertion(assertion) {
            Ok(org) => org,
            Err(response) => return response,
        };
        let scopes: BTreeSet<String> = field("scope")
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if scopes.is_empty()
            || scopes
                .iter()
                .any(|s| !GRANTABLE_SCOPES.contains(&s.as_str()))
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "The authorization server does not allow the requested scope(s).",
            );
        }
        let token = random_token("eyJraWQi-test-only-");
        let scope = scopes.iter().cloned().collect::<Vec<_>>().join(" ");
        lock(&self.grants).insert(
            token.clone(),
            Grant {
                org,
                scopes,
                expires: Instant::now() + TOKEN_LIFETIME,
            },
        );
        json(
            StatusCode::OK,
            json!({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME.as_secs(), "access_token": token, "scope": scope}),
        )
    }

    fn verify_assertion(&self, assertion: &str) -> Result<usize, Response> {
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
        validation.set_audience(&[format!("{}/oauth2/v1/token", self.base_url)]);
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

    fn with_user(
        &self,
        org: usize,
        id: &str,
        act: impl FnOnce(&mut FakeUser) -> Result<Response, Response>,
    ) -> Response {
        let mut users = lock(&self.users);
        let Some(user) = users
            .iter_mut()
            .find(|u| u.org == org && (u.id == id || u.seed.email.eq_ignore_ascii_case(id)))
        else {
            return not_found(id, "User");
        };
        act(user).unwrap_or_else(|e| e)
    }
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

fn user_json(user: &FakeUser) -> Value {
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
            "login": user.seed.email,
            "email": user.seed.email,
        },
        "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
    })
}

fn roles_json(user: &FakeUser) -> Value {
    if !user.seed.admin {
        return json!([]);
    }
    json!([{
        "id": "ra1testonly000000000",
        "label": "Super Organization Administrator",
        "type": "SUPER_ADMIN",
        "status": "ACTIVE",
        "created": "2024-03-01T12:00:00.000Z",
        "lastUpdated": "2024-03-01T12:00:00.000Z",
        "assignmentType": "USER",
    }])
}

fn groups_page(user: &FakeUser, limit: usize, after: usize, base: &str) -> Response {
    let mut groups = vec![
        json!({"id": "00gtestonlyeveryone", "type": "BUILT_IN", "profile": {"name": "Everyone", "description": "All users in your organization"}}),
    ];
    groups.extend(user.seed.groups.iter().enumerate().map(|(i, g)| {
        json!({"id": format!("00gtestonly{:02}{i:04}", user.org), "type": "OKTA_GROUP", "profile": {"name": g, "description": null}})
    }));
    let size = limit.clamp(1, GROUP_PAGE_SIZE);
    let page: Vec<Value> = groups.iter().skip(after).take(size).cloned().collect();
    let mut response = json(StatusCode::OK, Value::Array(page));
    let mut links = vec![format!("<{base}?limit={limit}>; rel=\"self\"")];
    if after + size < groups.len() {
        links.push(format!(
            "<{base}?limit={limit}&after={}>; rel=\"next\"",
            after + size
        ));
    }
    for link in links {
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().append(header::LINK, value);
        }
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
