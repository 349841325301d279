//! The stack's own loopback endpoint for a second terminal: invoke a
//! function now, with a given event or its schedule's (`devstack invoke
//! retention-purge`), answered with the function's response and its REPORT
//! line; and the outbox of every message the stack sent (`/outbox`). It is
//! not part of the HTTP API, has no route in the template, and listens on
//! 127.0.0.1 only.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use zerodesk_template::ScheduleDef;

use crate::local::{ACCOUNT_ID, REGION};
use crate::runtime::{Invoker, Report};

/// A function as the admin endpoint knows it.
#[derive(Clone)]
pub struct AdminFunction {
    pub logical_id: String,
    pub binary: String,
    pub invoker: Invoker,
    /// The schedule whose event `invoke` sends when given no event.
    pub schedule: Option<ScheduleDef>,
}

struct Admin {
    functions: Vec<AdminFunction>,
    moto_endpoint: String,
}

pub fn router(functions: Vec<AdminFunction>, moto_endpoint: String) -> Router {
    Router::new()
        .route("/invoke/{function}", post(invoke))
        .route("/outbox", get(outbox))
        .with_state(Arc::new(Admin {
            functions,
            moto_endpoint,
        }))
}

async fn outbox(State(admin): State<Arc<Admin>>) -> Response {
    match crate::outbox::read(&admin.moto_endpoint).await {
        Ok(messages) => Html(crate::outbox::as_html(&messages)).into_response(),
        Err(_) => (StatusCode::BAD_GATEWAY, "the emulator did not answer").into_response(),
    }
}

async fn invoke(
    State(admin): State<Arc<Admin>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let functions = &admin.functions;
    let Some(f) = functions
        .iter()
        .find(|f| f.binary == name || f.logical_id == name)
    else {
        let known: Vec<&str> = functions.iter().map(|f| f.binary.as_str()).collect();
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": format!("no function {name}"), "functions": known})),
        )
            .into_response();
    };
    let event: Value = if body.is_empty() {
        match &f.schedule {
            Some(s) => crate::schedule::event_for(s, REGION, ACCOUNT_ID, chrono::Utc::now()),
            None => json!({}),
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": "the event is not JSON"})),
                )
                    .into_response();
            }
        }
    };
    let request_id = crate::runtime::new_request_id();
    let mut reports = f.invoker.reports();
    let outcome = f
        .invoker
        .invoke_with_id(request_id.clone(), event.to_string().into_bytes())
        .await;
    let report = report_of(&mut reports, &request_id);
    match outcome {
        Ok(out) => {
            let payload = serde_json::from_slice::<Value>(&out)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out).into_owned()));
            axum::Json(json!({
                "function": f.logical_id,
                "ok": true,
                "payload": payload,
                "report": report,
            }))
            .into_response()
        }
        Err(e) => axum::Json(json!({
            "function": f.logical_id,
            "ok": false,
            "error": e.to_string(),
            "report": report,
        }))
        .into_response(),
    }
}

/// The REPORT line of `request_id`: the runtime sends it before the
/// outcome, so it is already waiting when the invocation has ended.
fn report_of(reports: &mut broadcast::Receiver<Report>, request_id: &str) -> Option<String> {
    loop {
        match reports.try_recv() {
            Ok(r) if r.request_id == request_id => return Some(r.line()),
            Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
            Err(_) => return None,
        }
    }
}
