//! The verification page's translation. `GET /verify` (and its script and
//! stylesheet) is static; `POST /verify` takes the link's token (from the
//! URL fragment, which no proxy or access log sees) and, to confirm, the
//! code. Every unknown, expired, replayed, foreign or wrong link or code
//! gets the same 404; the temporary password appears in exactly one place:
//! the answer to the confirming request.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{Deserialize, Serialize};
use tracing::Instrument;
use zerodesk_domain::{CorrelationId, VerificationMethod};
use zerodesk_events::DirectoryAction;
use zerodesk_http::{
    ApiError, correlation_id, error_response, json_body, json_response, route_key,
};
use zerodesk_workflow::{
    OwnerOutcome, PageAnswer, Ports, Services, VerificationSummary, VerifyRefusal,
};

use crate::page::{APP_CSS, APP_JS, INDEX_HTML, asset, harden};

pub struct App<P: Ports> {
    pub services: Services<P>,
}

/// What the page posts. No `Debug`: it holds the token and the code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    step: Step,
    token: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Step {
    /// What is asked, before the owner decides.
    Describe,
    /// The owner confirms (or polls a push).
    Confirm,
    /// "This wasn't me", from a notice's link.
    Report,
}

#[derive(Serialize)]
struct Asked<'a> {
    status: &'static str,
    action: DirectoryAction,
    account: &'a str,
    asked_at: chrono::DateTime<chrono::Utc>,
    intake: &'a str,
    method: VerificationMethod,
    needs_code: bool,
    report: bool,
}

impl<'a> From<&'a VerificationSummary> for Asked<'a> {
    fn from(s: &'a VerificationSummary) -> Self {
        Asked {
            status: "pending",
            action: s.action,
            account: &s.account,
            asked_at: s.asked_at,
            intake: &s.intake,
            method: s.method,
            needs_code: s.needs_code,
            report: s.report,
        }
    }
}

#[derive(Serialize)]
struct Done<'a> {
    status: &'static str,
    action: DirectoryAction,
    account: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    temporary_password: Option<&'a str>,
    /// Always true for a reset: the directory forces a change.
    #[serde(skip_serializing_if = "Option::is_none")]
    must_change_at_next_sign_in: Option<bool>,
}

#[derive(Serialize)]
struct Status {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<u16>,
    message: &'static str,
}

const TOKEN_MAX: usize = 256;
const CODE_MAX: usize = 12;

pub async fn handle<P: Ports>(app: &App<P>, req: Request) -> Response<Body> {
    let corr = correlation_id(&req);
    let span = zerodesk_telemetry::request_span!("verify", corr);
    async {
        let response = match route_key(&req).as_str() {
            "GET /verify" => asset(INDEX_HTML, "text/html; charset=utf-8"),
            "GET /verify/app.js" => asset(APP_JS, "text/javascript; charset=utf-8"),
            "GET /verify/app.css" => asset(APP_CSS, "text/css; charset=utf-8"),
            "POST /verify" => answer(app, &req, &corr).await,
            _ => error_response(&ApiError::NotFound, &corr),
        };
        tracing::info!(
            status = response.status().as_u16(),
            "verification page answered"
        );
        harden(response)
    }
    .instrument(span)
    .await
}

async fn answer<P: Ports>(app: &App<P>, req: &Request, corr: &CorrelationId) -> Response<Body> {
    let answer: Answer = match json_body(req).and_then(checked) {
        Ok(a) => a,
        Err(e) => return error_response(&e, corr),
    };
    let services = &app.services;
    let client = client_address(req);
    let page = PageAnswer {
        token: &answer.token,
        code: answer.code.as_deref(),
        client: &client,
    };
    match answer.step {
        Step::Describe => match services.describe_verification(&page, corr).await {
            Ok(summary) => json_response(StatusCode::OK, &Asked::from(&summary), corr),
            Err(refusal) => refused(&refusal, corr),
        },
        Step::Confirm => match services.answer_verification(&page, corr).await {
            Ok(outcome) => confirmed(outcome, corr),
            Err(refusal) => refused(&refusal, corr),
        },
        Step::Report => match services.report_not_me(&page, corr).await {
            Ok(_) => json_response(
                StatusCode::OK,
                &Status {
                    status: "reported",
                    number: None,
                    message: "Thank you. You were signed out everywhere and your security team was alerted.",
                },
                corr,
            ),
            Err(refusal) => refused(&refusal, corr),
        },
    }
}

/// The client address API Gateway saw (`requestContext.http.sourceIp`).
fn client_address(req: &Request) -> String {
    match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
            ctx.http.source_ip.clone().unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// Bounds on what the page may send; the field is named on refusal.
fn checked(answer: Answer) -> Result<Answer, ApiError> {
    if answer.token.is_empty() || answer.token.len() > TOKEN_MAX {
        return Err(ApiError::invalid(
            "token",
            "must be the token from the link",
        ));
    }
    if let Some(code) = &answer.code {
        let digits = code.trim();
        if digits.len() > CODE_MAX || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(ApiError::invalid(
                "code",
                "must be the digits from the message",
            ));
        }
    }
    Ok(answer)
}

fn confirmed(outcome: OwnerOutcome, corr: &CorrelationId) -> Response<Body> {
    match outcome {
        OwnerOutcome::Done {
            action,
            account,
            temporary_password,
        } => {
            let body = Done {
                status: "done",
                action,
                account: &account,
                temporary_password: temporary_password.as_ref().map(|p| p.expose()),
                must_change_at_next_sign_in: temporary_password.as_ref().map(|_| true),
            };
            json_response(StatusCode::OK, &body, corr)
        }
        OwnerOutcome::PushWaiting { number } => json_response(
            StatusCode::ACCEPTED,
            &Status {
                status: "push_sent",
                number,
                message: "Approve the request in Okta Verify on your phone.",
            },
            corr,
        ),
    }
}

fn refused(refusal: &VerifyRefusal, corr: &CorrelationId) -> Response<Body> {
    match refusal {
        VerifyRefusal::Invalid => {
            tracing::info!("verification refused");
            json_response(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"error": {
                    "code": "link_not_valid",
                    "message": "This link or code is not valid, or it has expired. Ask the helpdesk for a new one."
                }}),
                corr,
            )
        }
        VerifyRefusal::Escalated => json_response(
            StatusCode::OK,
            &Status {
                status: "escalated",
                number: None,
                message: "Nothing was changed automatically; your request was passed to the helpdesk.",
            },
            corr,
        ),
        VerifyRefusal::RateLimited {
            retry_after_seconds,
        } => error_response(
            &ApiError::RateLimited {
                retry_after_seconds: *retry_after_seconds,
            },
            corr,
        ),
        VerifyRefusal::Unavailable(e) => {
            tracing::error!(error = %e, "verification unavailable");
            error_response(&ApiError::DependencyUnavailable, corr)
        }
    }
}
