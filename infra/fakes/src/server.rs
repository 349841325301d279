//! What every fake shares: binding on 127.0.0.1, the request as the fakes
//! see it, the check against the provider's published description, the call
//! recorder, and fault injection (status, hang, garbage). Never binds any
//! other address; never logs what it receives.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

use crate::conformance::{self, Described, Violation};

#[derive(Debug, thiserror::Error)]
#[error("could not start the fake {which} on 127.0.0.1")]
pub struct StartError {
    pub which: &'static str,
    #[source]
    source: std::io::Error,
}

/// One request a fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// The fake's name for the operation (`users.get`, `token`, ...), or
    /// `unknown` for a path it does not serve.
    pub route: &'static str,
    pub method: String,
    /// The path as sent, still percent-encoded.
    pub path: String,
    pub query: Option<String>,
    /// JSON bodies as received; form bodies as an object of their fields,
    /// with `client_secret`, `assertion` and `client_assertion` replaced by
    /// `[redacted]`; `null` for an empty body.
    pub body: Value,
}

/// How a fake misbehaves when told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and the provider's error shape.
    Status(u16),
    /// Say nothing for this long (longer than the client's timeout), then 504.
    Hang(Duration),
    /// Answer 200 with a body that is not JSON.
    Garbage,
}

/// The route name recorded for a request the description does not allow.
pub const NOT_IN_DESCRIPTION: &str = "not_in_published_description";

/// Recorded calls, violations of the description and configured faults,
/// shared by a fake's handler and its test-side handle.
#[derive(Default)]
pub(crate) struct Controls {
    calls: Mutex<Vec<RecordedCall>>,
    violations: Mutex<Vec<Violation>>,
    faults: Mutex<Faults>,
}

#[derive(Default)]
struct Faults {
    everything: Option<Fault>,
    routes: HashMap<String, Fault>,
}

/// Locks a mutex, recovering the data if a panicking test poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Controls {
    pub(crate) fn record(&self, route: &'static str, request: &Incoming) {
        let call = RecordedCall {
            route,
            method: request.method.to_string(),
            path: request.raw_path.clone(),
            query: request.raw_query.clone(),
            body: request.body_for_record(),
        };
        lock(&self.calls).push(call);
    }

    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.calls).clone()
    }

    pub(crate) fn violations(&self) -> Vec<Violation> {
        lock(&self.violations).clone()
    }

    /// Records a request the description does not allow and answers it 400
    /// without handling it.
    fn refuse(&self, request: &Incoming, violation: Violation) -> Response {
        self.record(NOT_IN_DESCRIPTION, request);
        let detail = violation.to_string();
        lock(&self.violations).push(violation);
        json(
            StatusCode::BAD_REQUEST,
            json!({"error": NOT_IN_DESCRIPTION, "detail": detail}),
        )
    }

    pub(crate) fn fault_for(&self, route: &str) -> Option<Fault> {
        let faults = lock(&self.faults);
        faults.routes.get(route).copied().or(faults.everything)
    }

    pub(crate) fn fail_route(&self, route: &str, fault: Fault) {
        lock(&self.faults).routes.insert(route.to_owned(), fault);
    }

    pub(crate) fn fail_all(&self, fault: Fault) {
        lock(&self.faults).everything = Some(fault);
    }

    pub(crate) fn clear_faults(&self) {
        *lock(&self.faults) = Faults::default();
    }
}

/// The parts of a request the fakes look at, with the path decoded.
pub(crate) struct Incoming {
    pub method: Method,
    pub raw_path: String,
    pub segments: Vec<String>,
    pub raw_query: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Incoming {
    pub(crate) fn new(method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> Self {
        let raw_path = uri.path().to_owned();
        let segments = raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let raw_query = uri.query().map(str::to_owned);
        let query = raw_query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self {
            method,
            raw_path,
            segments,
            raw_query,
            query,
            headers,
            body,
        }
    }

    pub(crate) fn segs(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn content_type_is(&self, expected: &str) -> bool {
        self.header(header::CONTENT_TYPE)
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
    }

    /// The bearer token, if the request carries `Authorization: Bearer ...`.
    pub(crate) fn bearer(&self) -> Option<&str> {
        let value = self.header(header::AUTHORIZATION)?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }

    pub(crate) fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    /// The operation of the published description this request is, or why
    /// it is none. Granted scopes are not known here, so not checked.
    fn conforms(&self, described: Described) -> Result<&'static str, Violation> {
        let request = conformance::Request {
            method: &self.method,
            raw_path: &self.raw_path,
            query: &self.query,
            content_type: self.header(header::CONTENT_TYPE),
            body: &self.body,
            granted: None,
        };
        conformance::check(described, &request)
    }

    pub(crate) fn json_object(&self) -> Option<Map<String, Value>> {
        match serde_json::from_slice(&self.body) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    fn body_for_record(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        if self.content_type_is("application/x-www-form-urlencoded") {
            let fields = self
                .form()
                .into_iter()
                .map(|(k, v)| {
                    let v = if matches!(
                        k.as_str(),
                        "client_secret" | "assertion" | "client_assertion"
                    ) {
                        "[redacted]".to_owned()
                    } else {
                        v
                    };
                    (k, Value::String(v))
                })
                .collect();
            return Value::Object(fields);
        }
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String("[not json]".to_owned()))
    }
}

pub(crate) fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Applies a configured fault, if any; `error` renders a status in the
/// provider's error shape.
pub(crate) async fn apply_fault(
    fault: Option<Fault>,
    error: impl Fn(StatusCode) -> Response,
) -> Option<Response> {
    match fault? {
        Fault::Status(code) => Some(error(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )),
        Fault::Hang(duration) => {
            tokio::time::sleep(duration).await;
            Some(error(StatusCode::GATEWAY_TIMEOUT))
        }
        Fault::Garbage => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                "<html>{\"not\": json",
            )
                .into_response(),
        ),
    }
}

pub(crate) fn json(status: StatusCode, value: Value) -> Response {
    (status, axum::Json(value)).into_response()
}

/// A server task on 127.0.0.1; aborted when dropped.
pub(crate) struct Running {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds 127.0.0.1:`port` (0 for any free port).
pub(crate) async fn bind(
    which: &'static str,
    port: u16,
) -> Result<(tokio::net::TcpListener, SocketAddr), StartError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|source| StartError { which, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError { which, source })?;
    Ok((listener, addr))
}

/// Serves `app` on a bound listener until the returned `Running` is dropped.
pub(crate) fn spawn(
    which: &'static str,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    app: Router,
) -> Running {
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(fake = which, error = %e, "fake directory server stopped");
        }
    });
    Running { addr, task }
}

/// Random opaque tokens for the fakes' token endpoints.
pub(crate) fn random_token(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// Shared bookkeeping of every fake: its controls plus the handler wiring.
pub(crate) trait FakeState: Send + Sync + 'static {
    /// The provider whose published description every request must fit.
    const DESCRIBED: Described;

    fn controls(&self) -> &Controls;

    fn handle(self: Arc<Self>, request: Incoming) -> impl Future<Output = Response> + Send;
}

/// Every fake's single entry: a request the provider's description does
/// not allow is refused before the fake handles it (or applies a fault).
pub(crate) fn router<S: FakeState>(state: Arc<S>) -> Router {
    Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = Arc::clone(&state);
            async move {
                let request = Incoming::new(method, &uri, headers, body);
                match request.conforms(S::DESCRIBED) {
                    Ok(_) => state.handle(request).await,
                    Err(violation) => state.controls().refuse(&request, violation),
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plus_and_decodes_escapes() {
        assert_eq!(
            percent_decode("alice%2Btag@demo.example"),
            "alice+tag@demo.example"
        );
        assert_eq!(percent_decode("a+b%20c"), "a+b c");
        assert_eq!(percent_decode("bad%zz"), "bad%zz");
    }
}
