//! `ApiError` and the JSON error body `{"error":{"code","message","correlation_id"}}`.
//! Codes are stable API; messages are fixed text or name a field, never an
//! upstream error's text.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use zerodesk_domain::CorrelationId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("the tenant is not active")]
    TenantInactive,
    #[error("not found")]
    NotFound,
    #[error("the request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("invalid value for '{field}': {reason}")]
    InvalidInput { field: String, reason: String },
    #[error("{0}")]
    PolicyRefused(String),
    #[error("the resource changed; reload and retry")]
    Conflict,
    /// The directory refused what zerodesk needs, by the provider's names.
    #[error("the directory connection is missing: {}", .0.join(", "))]
    ConnectionIncomplete(Vec<String>),
    #[error("too many requests")]
    RateLimited { retry_after_seconds: u64 },
    #[error("a dependency is unavailable; try again later")]
    DependencyUnavailable,
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::TenantInactive => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            ApiError::PolicyRefused(_) | ApiError::ConnectionIncomplete(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::DependencyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::TenantInactive => "tenant_inactive",
            ApiError::NotFound => "not_found",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::InvalidInput { .. } => "invalid_input",
            ApiError::PolicyRefused(_) => "policy_refused",
            ApiError::Conflict => "conflict",
            ApiError::ConnectionIncomplete(_) => "connection_incomplete",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::DependencyUnavailable => "dependency_unavailable",
            ApiError::Internal => "internal_error",
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'static str,
    message: String,
    correlation_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<&'a [String]>,
}

pub fn error_response(err: &ApiError, correlation_id: &CorrelationId) -> Response<Body> {
    let field = match err {
        ApiError::InvalidInput { field, .. } => Some(field.as_str()),
        _ => None,
    };
    let body = ErrorBody {
        error: ErrorDetail {
            code: err.code(),
            message: err.to_string(),
            correlation_id: correlation_id.as_str(),
            field,
            missing: match err {
                ApiError::ConnectionIncomplete(missing) => Some(missing),
                _ => None,
            },
        },
    };
    let mut response = json_response(err.status(), &body, correlation_id);
    if let ApiError::RateLimited {
        retry_after_seconds,
    } = err
        && let Ok(v) = retry_after_seconds.to_string().parse()
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

pub fn json_response<T: Serialize>(
    status: StatusCode,
    body: &T,
    correlation_id: &CorrelationId,
) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"error":{"code":"internal_error","message":"internal error"}}"#.to_owned()
    });
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        lambda_http::http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        lambda_http::http::HeaderValue::from_static("no-store"),
    );
    if let Ok(v) = correlation_id.as_str().parse() {
        headers.insert("x-correlation-id", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(r: &Response<Body>) -> serde_json::Value {
        match r.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => panic!("text body"),
        }
    }

    #[test]
    fn errors_have_the_stable_shape() {
        let corr = CorrelationId::parse("c-1").unwrap();
        let r = error_response(&ApiError::invalid("subject", "required"), &corr);
        assert_eq!(r.status(), 400);
        let v = body_json(&r);
        assert_eq!(v["error"]["code"], "invalid_input");
        assert_eq!(v["error"]["field"], "subject");
        assert_eq!(v["error"]["correlation_id"], "c-1");
        assert!(v["error"]["message"].as_str().unwrap().contains("subject"));
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let corr = CorrelationId::parse("c-2").unwrap();
        let r = error_response(
            &ApiError::RateLimited {
                retry_after_seconds: 42,
            },
            &corr,
        );
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "42");
    }
}
