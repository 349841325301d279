//! Reading a request: who is calling (verified claims only), the correlation
//! id, path and query parameters, and a JSON body within limits.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;
use zerodesk_domain::{ClaimNames, CorrelationId, Principal, TicketId};

use crate::error::ApiError;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The route the API matched, as the template names it (`POST /tickets/{id}/reset`);
/// empty when the request did not come through an HTTP API route.
pub fn route_key(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub principal: Principal,
    pub correlation_id: CorrelationId,
}

/// The caller's `x-correlation-id` when well formed, else API Gateway's request id.
pub fn correlation_id(req: &Request) -> CorrelationId {
    let header = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| CorrelationId::parse(v).ok());
    header
        .or_else(|| match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .request_id
                .as_deref()
                .and_then(|id| CorrelationId::parse(id).ok()),
            _ => None,
        })
        .unwrap_or_else(CorrelationId::generate)
}

/// The principal from the JWT authorizer's verified claims. A request
/// without an authorizer context is refused, never served.
pub fn authenticate(req: &Request, names: &ClaimNames) -> Result<CallContext, ApiError> {
    let correlation_id = correlation_id(req);
    let claims = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| &jwt.claims),
        _ => None,
    };
    let Some(claims) = claims else {
        tracing::warn!(reason = "no authorizer context", "request refused");
        return Err(ApiError::Unauthorized);
    };
    match Principal::from_claims(claims, names) {
        Ok(principal) => {
            // Every later line of this request carries the tenant.
            if let Some(tenant) = principal.tenant() {
                tracing::Span::current().record("tenant_id", tenant.as_str());
            }
            Ok(CallContext {
                principal,
                correlation_id,
            })
        }
        Err(why) => {
            tracing::warn!(reason = %why, "request refused");
            Err(ApiError::Unauthorized)
        }
    }
}

/// A path parameter; a missing one means the route does not exist.
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or(ApiError::NotFound)
}

/// The `{id}` path parameter as a ticket id, recorded on the request span.
/// A malformed id cannot name any ticket: not found, like any other.
pub fn ticket_id_param(req: &Request) -> Result<TicketId, ApiError> {
    let id = TicketId::parse(&path_param(req, "id")?).map_err(|_| ApiError::NotFound)?;
    tracing::Span::current().record("ticket_id", id.to_string());
    Ok(id)
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// Parses a JSON body: 413 past 64 KiB, 415 unless `application/json`, 400
/// naming the field that does not fit `T`.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let content_type = req
        .headers()
        .get(lambda_http::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid("body", "a JSON object is required"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." {
            field_from_message(&inner.to_string())
        } else {
            path
        };
        ApiError::invalid(field, reason_of(&inner))
    })?;
    de.end()
        .map_err(|_| ApiError::invalid("body", "trailing characters after the JSON value"))?;
    Ok(value)
}

/// serde reports missing and unknown fields at the parent; take the name from the message.
fn field_from_message(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|f| {
            f.len() <= 64
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
        .map_or_else(|| "body".to_owned(), str::to_owned)
}

/// A fixed description of what was wrong, never the offending value.
fn reason_of(err: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    let message = err.to_string();
    match err.classify() {
        Category::Syntax | Category::Eof => "the body is not valid JSON",
        Category::Data if message.starts_with("missing field") => "required",
        Category::Data if message.starts_with("unknown field") => "not an accepted field",
        Category::Data if message.starts_with("invalid type") => "has the wrong type",
        Category::Data => "is not a valid value",
        Category::Io => "the body could not be read",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const EVENT: &str = include_str!("../../../events/api-post-ticket.json");

    fn request(body: &str, content_type: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(EVENT).unwrap();
        v["body"] = serde_json::Value::String(body.to_owned());
        v["headers"]["content-type"] = serde_json::Value::String(content_type.to_owned());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NewTicket {
        #[allow(dead_code)]
        subject: String,
        #[allow(dead_code)]
        body: String,
    }

    #[test]
    fn the_sample_event_authenticates_as_its_claims() {
        let req = lambda_http::request::from_str(EVENT).unwrap();
        let ctx = authenticate(&req, &ClaimNames::default()).unwrap();
        assert_eq!(ctx.principal.tenant().unwrap().as_str(), "demo");
        assert_eq!(ctx.principal.role, zerodesk_domain::Role::TenantUser);
    }

    #[test]
    fn a_request_without_authorizer_context_is_unauthorized() {
        let mut v: serde_json::Value = serde_json::from_str(EVENT).unwrap();
        v["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        let req = lambda_http::request::from_str(&v.to_string()).unwrap();
        assert_eq!(
            authenticate(&req, &ClaimNames::default()).unwrap_err(),
            ApiError::Unauthorized
        );
    }

    #[test]
    fn bodies_are_limited_typed_and_field_named() {
        let ok = request(
            r#"{"subject":"s","body":"b"}"#,
            "application/json; charset=utf-8",
        );
        assert!(json_body::<NewTicket>(&ok).is_ok());
        let big = request(
            &format!(
                r#"{{"subject":"{}","body":""}}"#,
                "x".repeat(MAX_BODY_BYTES)
            ),
            "application/json",
        );
        assert_eq!(
            json_body::<NewTicket>(&big).unwrap_err(),
            ApiError::PayloadTooLarge
        );
        let text = request("subject=s", "text/plain");
        assert_eq!(
            json_body::<NewTicket>(&text).unwrap_err(),
            ApiError::UnsupportedMediaType
        );
        let missing = request(r#"{"subject":"s"}"#, "application/json");
        assert_eq!(
            json_body::<NewTicket>(&missing).unwrap_err(),
            ApiError::invalid("body", "required")
        );
        let wrong = request(r#"{"subject":5,"body":"b"}"#, "application/json");
        assert_eq!(
            json_body::<NewTicket>(&wrong).unwrap_err(),
            ApiError::invalid("subject", "has the wrong type")
        );
        let extra = request(
            r#"{"subject":"s","body":"b","tenant_id":"other"}"#,
            "application/json",
        );
        assert_eq!(
            json_body::<NewTicket>(&extra).unwrap_err(),
            ApiError::invalid("tenant_id", "not an accepted field")
        );
    }
}
