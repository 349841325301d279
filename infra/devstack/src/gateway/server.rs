//! The HTTP API on loopback: well-known issuer documents and the OpenAPI
//! document, then every other request through route matching, the JWT
//! authorizer and one function invocation. A refused request never reaches
//! a function.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::authorizer::{Denied, JwtAuthorizer};
use super::routes::RouteTable;
use super::{event, response};
use crate::console::Console;
use crate::runtime::{InvokeError, Invoker, new_request_id};

/// API Gateway's request payload limit.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

pub struct Gateway {
    pub api_id: String,
    pub account_id: String,
    pub routes: RouteTable,
    /// JWT authorizers by name, as the template names them.
    pub authorizers: HashMap<String, JwtAuthorizer>,
    /// Function logical id -> invoker.
    pub invokers: HashMap<String, Invoker>,
    pub issuer: String,
    pub jwks: serde_json::Value,
    pub openapi: Option<Vec<u8>>,
    pub console: Console,
}

pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/openapi.json", get(openapi))
        .fallback(handle)
        .with_state(gateway)
}

/// Serves until `shutdown` resolves; the listener is closed on return.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(gateway).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn jwks(State(gw): State<Arc<Gateway>>) -> Response {
    axum::Json(gw.jwks.clone()).into_response()
}

async fn discovery(State(gw): State<Arc<Gateway>>) -> Response {
    axum::Json(crate::oidc::discovery(&gw.issuer)).into_response()
}

async fn openapi(State(gw): State<Arc<Gateway>>) -> Response {
    match &gw.openapi {
        Some(doc) => ([("content-type", "application/json")], doc.clone()).into_response(),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "message": text }))).into_response()
}

async fn handle(State(gw): State<Arc<Gateway>>, req: Request) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let method = req.method().as_str().to_owned();
    let raw_path = req.uri().path().to_owned();
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let (status, function, mut response) = dispatch(&gw, source_ip, req, &request_id).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", v);
    }
    gw.console.line(&format!(
        "[api] {method} {raw_path} -> {} {} {}ms {request_id}",
        status.as_u16(),
        function.unwrap_or("-"),
        started.elapsed().as_millis()
    ));
    response
}

async fn dispatch<'g>(
    gw: &'g Gateway,
    source_ip: Option<String>,
    req: Request,
    request_id: &str,
) -> (StatusCode, Option<&'g str>, Response) {
    let method = req.method().as_str().to_owned();
    let raw_path = req.uri().path().to_owned();
    let raw_query = req.uri().query().unwrap_or_default().to_owned();
    let Some((route, params)) = gw.routes.find(&method, &raw_path) else {
        return (
            StatusCode::NOT_FOUND,
            None,
            message(StatusCode::NOT_FOUND, "Not Found"),
        );
    };
    let function = Some(route.function.as_str());
    let token = match &route.authorizer {
        None => None,
        Some(name) => {
            let Some(authorizer) = gw.authorizers.get(name) else {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    function,
                    message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
                );
            };
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            match authorizer.authorize(req.headers(), Some(&raw_query), &route.scopes, now) {
                Ok(token) => Some(token),
                Err(Denied::Unauthorized(reason)) => {
                    let mut r = message(StatusCode::UNAUTHORIZED, "Unauthorized");
                    let challenge = format!(
                        "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{reason}\""
                    );
                    if let Ok(v) = HeaderValue::from_str(&challenge) {
                        r.headers_mut().insert("www-authenticate", v);
                    }
                    return (StatusCode::UNAUTHORIZED, function, r);
                }
                Err(Denied::Forbidden) => {
                    return (
                        StatusCode::FORBIDDEN,
                        function,
                        message(StatusCode::FORBIDDEN, "Forbidden"),
                    );
                }
            }
        }
    };
    let Some(invoker) = gw.invokers.get(&route.function) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            function,
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        );
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            function,
            message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
        );
    };
    let domain = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let protocol = format!("{:?}", parts.version);
    let request = event::RequestParts {
        method: &method,
        raw_path: &raw_path,
        raw_query: &raw_query,
        headers: &parts.headers,
        body: &body,
        source_ip: source_ip.unwrap_or_else(|| "127.0.0.1".to_owned()),
        protocol: &protocol,
    };
    let context = event::Context {
        account_id: &gw.account_id,
        api_id: &gw.api_id,
        domain_name: &domain,
        request_id,
        route_key: &route.key,
        time: chrono::Utc::now(),
    };
    let event = event::build(&request, &context, &params, token.as_ref());
    let payload = event.to_string().into_bytes();
    let outcome = match tokio::time::timeout(route.timeout, invoker.invoke(payload)).await {
        Ok(outcome) => outcome,
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                function,
                message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
            );
        }
    };
    let output = match outcome {
        Ok(output) => output,
        Err(InvokeError::Unavailable) => {
            let s = StatusCode::INTERNAL_SERVER_ERROR;
            return (s, function, message(s, "Internal Server Error"));
        }
        Err(_) => {
            return (
                StatusCode::BAD_GATEWAY,
                function,
                message(StatusCode::BAD_GATEWAY, "Internal Server Error"),
            );
        }
    };
    match response::map(&output) {
        Ok(mapped) => {
            let status = StatusCode::from_u16(mapped.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut builder = Response::builder().status(status);
            for (k, v) in &mapped.headers {
                builder = builder.header(k, v);
            }
            match builder.body(Body::from(mapped.body)) {
                Ok(r) => (status, function, r),
                Err(_) => (
                    StatusCode::BAD_GATEWAY,
                    function,
                    message(StatusCode::BAD_GATEWAY, "Internal Server Error"),
                ),
            }
        }
        Err(_) => (
            StatusCode::BAD_GATEWAY,
            function,
            message(StatusCode::BAD_GATEWAY, "Internal Server Error"),
        ),
    }
}
