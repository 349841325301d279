//! The Lambda Runtime API one process talks to (`/2018-06-01/runtime/...`):
//! next invocation, response, error, init error. It hands a process one
//! invocation at a time and records what the REPORT line needs.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::sandbox::{InFlight, Sandbox};
use super::{InvokeError, Report};

/// Lambda's synchronous response payload limit.
pub(crate) const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

pub(crate) fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::disable())
        .with_state(sandbox)
}

async fn next(State(sb): State<Arc<Sandbox>>) -> Response {
    sb.mark_polled();
    let mut dead = sb.dead_rx();
    let mut shutdown = sb.shared.shutdown.clone();
    let invocation = tokio::select! {
        inv = async { sb.shared.queue.lock().await.recv().await } => inv,
        _ = crate::stopped(&mut dead) => None,
        _ = crate::stopped(&mut shutdown) => None,
    };
    let Some(inv) = invocation else {
        return (StatusCode::GONE, "sandbox is stopping").into_response();
    };
    let spec = &sb.shared.spec;
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| (d + spec.timeout).as_millis())
        .unwrap_or(0);
    let request_id = inv.request_id.clone();
    let payload = {
        let mut slot = sb.inflight.lock().await;
        if sb.is_dead() {
            // The process died while this poll was answered: give the work back.
            let _ = sb.shared.queue_tx.try_send(inv);
            return (StatusCode::GONE, "sandbox is stopping").into_response();
        }
        if let Some(previous) = slot.take() {
            // A runtime that polls again without answering has dropped that invocation.
            let _ = previous.reply.send(Err(InvokeError::Function {
                error_type: "Runtime.InvalidState".to_owned(),
                message: "the runtime asked for the next invocation without answering".to_owned(),
            }));
        }
        *slot = Some(InFlight {
            request_id: inv.request_id,
            started: Instant::now(),
            reply: inv.reply,
            timed_out: false,
        });
        inv.payload
    };
    sb.shared.delivered.fetch_add(1, Ordering::SeqCst);
    sb.watch_timeout(request_id.clone());
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &request_id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header("lambda-runtime-invoked-function-arn", spec.arn())
        .header("lambda-runtime-trace-id", trace_id())
        .body(Body::from(payload))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn response(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>, body: Body) -> Response {
    let outcome = match axum::body::to_bytes(body, MAX_RESPONSE_BYTES).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(_) => Err(InvokeError::ResponseTooLarge),
    };
    let too_large = outcome.is_err();
    if !finish(&sb, &id, outcome, None).await {
        return invalid_request_id();
    }
    if too_large {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({
            "errorMessage": "response payload too large", "errorType": "RequestEntityTooLarge"})),
        )
            .into_response();
    }
    accepted()
}

async fn error(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = axum::body::to_bytes(body, MAX_RESPONSE_BYTES)
        .await
        .unwrap_or_default();
    let (error_type, message) = describe_error(&headers, &bytes);
    sb.shared.console.line(&format!(
        "[{}] ERROR Invoke Error {error_type}: {message}",
        sb.shared.spec.label
    ));
    let failed = Err(InvokeError::Function {
        error_type,
        message,
    });
    if !finish(&sb, &id, failed, Some("error")).await {
        return invalid_request_id();
    }
    accepted()
}

async fn init_error(State(sb): State<Arc<Sandbox>>, headers: HeaderMap, body: Body) -> Response {
    let bytes = axum::body::to_bytes(body, MAX_RESPONSE_BYTES)
        .await
        .unwrap_or_default();
    let (error_type, message) = describe_error(&headers, &bytes);
    sb.shared.console.line(&format!(
        "[{}] INIT_ERROR {error_type}: {message}",
        sb.shared.spec.label
    ));
    accepted()
}

/// Completes the in-flight invocation `id`; false when it is not the one in flight.
async fn finish(
    sb: &Sandbox,
    id: &str,
    outcome: Result<Vec<u8>, InvokeError>,
    status: Option<&str>,
) -> bool {
    let taken = {
        let mut slot = sb.inflight.lock().await;
        match slot.as_ref() {
            Some(f) if f.request_id == id => slot.take(),
            _ => None,
        }
    };
    let Some(inflight) = taken else { return false };
    let report = Report {
        function: sb.shared.spec.label.clone(),
        request_id: inflight.request_id,
        duration: inflight.started.elapsed(),
        memory_size_mb: sb.shared.spec.memory_mb,
        max_memory_used_mb: sb.max_memory_used_mb(),
        init_duration: sb.take_init_duration(),
        status: status.map(str::to_owned),
    };
    sb.shared.console.line(&report.line());
    let _ = sb.shared.reports.send(report);
    let _ = inflight.reply.send(outcome);
    true
}

fn describe_error(headers: &HeaderMap, body: &[u8]) -> (String, String) {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error_type = parsed["errorType"]
        .as_str()
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|v| v.to_str().ok())
        })
        .unwrap_or("Unhandled")
        .to_owned();
    let message = parsed["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect();
    (error_type, message)
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({"status": "OK"})),
    )
        .into_response()
}

fn invalid_request_id() -> Response {
    let body =
        serde_json::json!({"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn trace_id() -> String {
    use rand::RngCore;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut r = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut r);
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &hex[..24],
        &hex[24..40]
    )
}
