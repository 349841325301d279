//! A fake Microsoft Graph and Entra token endpoint: client-credentials grant
//! per directory tenant, users GET with `$select`, transitiveMemberOf /
//! memberOf (paged, with absolute `@odata.nextLink`), PATCH passwordProfile
//! and accountEnabled, revokeSignInSessions, and the email and phone
//! authentication methods. Serves 127.0.0.1 only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::handle::fake_handle_methods;
use crate::seed::{FakeUser, PhoneKind, Seed, SeedPhone, SeedState, users_of};
use crate::server::{
    Controls, FakeState, Incoming, Running, StartError, apply_fault, bind, json, lock,
    random_token, router, spawn,
};

pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);
/// Membership pages are this small so connectors must follow nextLink.
const MEMBERSHIP_PAGE_SIZE: usize = 2;
const SELECTABLE: &[&str] = &[
    "id",
    "userPrincipalName",
    "accountEnabled",
    "displayName",
    "givenName",
    "surname",
    "mail",
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
    grants: Mutex<HashMap<String, (usize, Instant)>>,
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
            users: Mutex::new(users_of(&seed, |o, u| {
                format!("{o:08x}-0000-4000-8000-{u:012x}")
            })),
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
}

enum Route {
    Token(String),
    Get(String),
    Memberships(String),
    Update(String),
    Revoke(String),
    EmailMethods(String),
    PhoneMethods(String),
}

impl Route {
    fn parse(request: &Incoming) -> Option<Self> {
        let m = &request.method;
        let owned = |s: &&str| (*s).to_owned();
        match request.segs().as_slice() {
            [tenant, "oauth2", "v2.0", "token"] if m == Method::POST => {
                Some(Route::Token(owned(tenant)))
            }
            ["v1.0", "users", id] if m == Method::GET => Some(Route::Get(owned(id))),
            ["v1.0", "users", id] if m == Method::PATCH => Some(Route::Update(owned(id))),
            ["v1.0", "users", id, "transitiveMemberOf" | "memberOf"] if m == Method::GET => {
                Some(Route::Memberships(owned(id)))
            }
            ["v1.0", "users", id, "revokeSignInSessions"] if m == Method::POST => {
                Some(Route::Revoke(owned(id)))
            }
            ["v1.0", "users", id, "authentication", "emailMethods"] if m == Method::GET => {
                Some(Route::EmailMethods(owned(id)))
            }
            ["v1.0", "users", id, "authentication", "phoneMethods"] if m == Method::GET => {
                Some(Route::PhoneMethods(owned(id)))
            }
            _ => None,
        }
    }

    fn name(route: Option<&Self>) -> &'static str {
        match route {
            Some(Route::Token(_)) => "token",
            Some(Route::Get(_)) => "users.get",
            Some(Route::Memberships(_)) => "users.memberOf",
            Some(Route::Update(_)) => "users.update",
            Some(Route::Revoke(_)) => "users.revokeSignInSessions",
            Some(Route::EmailMethods(_)) => "users.authentication.emailMethods",
            Some(Route::PhoneMethods(_)) => "users.authentication.phoneMethods",
            None => "unknown",
        }
    }
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
    let code = match status.as_u16() {
        400 => "Request_BadRequest",
        401 => "InvalidAuthenticationToken",
        403 => "Authorization_RequestDenied",
        404 => "Request_ResourceNotFound",
        429 => "TooManyRequests",
        503 => "serviceNotAvailable",
        _ => "generalException",
    };
    api_error(status, code, status.canonical_reason().unwrap_or("error"))
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
    async fn handle(self: Arc<Self>, request: Incoming) -> Response {
        let route = Route::parse(&request);
        let name = Route::name(route.as_ref());
        self.controls.record(name, &request);
        if let Some(response) = apply_fault(self.controls.fault_for(name), status_error).await {
            return response;
        }
        match route {
            None => api_error(StatusCode::BAD_REQUEST, "BadRequest", "Resource not found for the segment."),
            Some(Route::Token(tenant)) => self.token(&request, &tenant),
            Some(Route::Get(id)) => match Selection::parse(&request) {
                Ok(select) => self.with_user(&request, &id, |u| Ok((StatusCode::OK, select.render(u)))),
                Err(response) => response,
            },
            Some(Route::Memberships(id)) => {
                let skip = request.query_param("$skiptoken").and_then(|s| s.parse().ok()).unwrap_or(0);
                let path = request.raw_path.clone();
                let base = self.base_url.clone();
                self.with_user(&request, &id, |u| Ok((StatusCode::OK, memberships_page(u, skip, &base, &path))))
            }
            Some(Route::Update(id)) => self.update(&request, &id),
            Some(Route::Revoke(id)) => self.with_user(&request, &id, |u| {
                u.sessions_revoked += 1;
                Ok((
                    StatusCode::OK,
                    json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true}),
                ))
            }),
            Some(Route::EmailMethods(id)) => {
                self.with_user(&request, &id, |u| Ok((StatusCode::OK, email_methods(u))))
            }
            Some(Route::PhoneMethods(id)) => {
                self.with_user(&request, &id, |u| Ok((StatusCode::OK, phone_methods(u))))
            }
        }
    }
}

type Outcome = Result<(StatusCode, Value), Response>;

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
        let token = random_token("eyJ0-test-only-");
        lock(&self.grants).insert(token.clone(), (org_index, Instant::now() + TOKEN_LIFETIME));
        json(
            StatusCode::OK,
            json!({"token_type": "Bearer", "expires_in": TOKEN_LIFETIME.as_secs(), "ext_expires_in": TOKEN_LIFETIME.as_secs(), "access_token": token}),
        )
    }

    fn with_user(
        &self,
        request: &Incoming,
        id: &str,
        act: impl FnOnce(&mut FakeUser) -> Outcome,
    ) -> Response {
        let org = {
            let grants = lock(&self.grants);
            request
                .bearer()
                .and_then(|t| grants.get(t))
                .filter(|(_, exp)| *exp > Instant::now())
                .map(|(o, _)| *o)
        };
        let Some(org) = org else {
            return api_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token validation failure.",
            );
        };
        let mut users = lock(&self.users);
        let Some(user) = users.iter_mut().find(|u| {
            u.org == org && (u.seed.email.eq_ignore_ascii_case(id) || u.id.eq_ignore_ascii_case(id))
        }) else {
            return api_error(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                &format!(
                    "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
                ),
            );
        };
        match act(user) {
            Ok((StatusCode::NO_CONTENT, _)) => StatusCode::NO_CONTENT.into_response(),
            Ok((status, body)) => json(status, body),
            Err(response) => response,
        }
    }

    fn update(&self, request: &Incoming, id: &str) -> Response {
        if !request.content_type_is("application/json") {
            return api_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BadRequest",
                "A supported MIME type could not be found that matches the content type of the response.",
            );
        }
        let Some(body) = request.json_object() else {
            return api_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Unable to read JSON request payload.",
            );
        };
        let change = match UserPatch::parse(&body) {
            Ok(c) => c,
            Err(message) => {
                return api_error(StatusCode::BAD_REQUEST, "Request_BadRequest", &message);
            }
        };
        self.with_user(request, id, |user| {
            change.apply(user);
            Ok((StatusCode::NO_CONTENT, Value::Null))
        })
    }
}

/// `$select`, checked against the properties the fake knows.
struct Selection(Option<Vec<String>>);

impl Selection {
    fn parse(request: &Incoming) -> Result<Self, Response> {
        let Some(raw) = request.query_param("$select") else {
            return Ok(Selection(None));
        };
        let fields: Vec<String> = raw.split(',').map(|f| f.trim().to_owned()).collect();
        if let Some(bad) = fields.iter().find(|f| !SELECTABLE.contains(&f.as_str())) {
            return Err(api_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("Could not find a property named '{bad}' on type 'microsoft.graph.user'."),
            ));
        }
        Ok(Selection(Some(fields)))
    }

    /// Without `$select`, Graph's default property set, which (as in the
    /// real service) does not include `accountEnabled`.
    fn render(&self, user: &FakeUser) -> Value {
        let all = json!({
            "id": user.id,
            "userPrincipalName": user.seed.email,
            "accountEnabled": matches!(user.state, SeedState::Active | SeedState::PasswordExpired),
            "displayName": format!("{} {}", user.seed.given_name, user.seed.family_name),
            "givenName": user.seed.given_name,
            "surname": user.seed.family_name,
            "mail": user.seed.email,
        });
        let default = [
            "id",
            "userPrincipalName",
            "displayName",
            "givenName",
            "surname",
            "mail",
        ];
        let wanted: Vec<&str> = match &self.0 {
            Some(fields) => fields.iter().map(String::as_str).collect(),
            None => default.to_vec(),
        };
        let mut out = Map::new();
        out.insert(
            "@odata.context".to_owned(),
            json!("https://graph.microsoft.com/v1.0/$metadata#users/$entity"),
        );
        for f in wanted {
            if let Some(v) = all.get(f) {
                out.insert(f.to_owned(), v.clone());
            }
        }
        Value::Object(out)
    }
}

fn memberships_page(user: &FakeUser, skip: usize, base: &str, path: &str) -> Value {
    let mut objects: Vec<Value> = user
        .seed
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| json!({"@odata.type": "#microsoft.graph.group", "id": format!("{:08x}-1111-4000-8000-{i:012x}", user.org), "displayName": g}))
        .collect();
    if user.seed.admin {
        objects.push(json!({"@odata.type": "#microsoft.graph.directoryRole", "id": "62e90394-69f5-4237-9190-012177145e10", "displayName": "Global Administrator"}));
    }
    let page: Vec<Value> = objects
        .iter()
        .skip(skip)
        .take(MEMBERSHIP_PAGE_SIZE)
        .cloned()
        .collect();
    let mut out = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", "value": page});
    let next = skip + MEMBERSHIP_PAGE_SIZE;
    if next < objects.len()
        && let Some(obj) = out.as_object_mut()
    {
        obj.insert(
            "@odata.nextLink".to_owned(),
            Value::String(format!(
                "{base}{path}?$select=id,displayName&$skiptoken={next}"
            )),
        );
    }
    out
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

    fn apply(self, user: &mut FakeUser) {
        if let Some((password, force)) = self.password {
            user.password = Some(password);
            user.must_change_password = force;
        }
        match self.account_enabled {
            Some(true) => user.state = SeedState::Active,
            Some(false) => user.state = SeedState::SuspendedByAdmin,
            None => {}
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
