//! For functions that receive both API Gateway and EventBridge events on one
//! entry point: reading an API Gateway v2 event from JSON and writing the
//! payload-2.0 response that API Gateway expects.

use base64::Engine;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};

/// Whether a raw event is an API Gateway v2 (HTTP API) request.
pub fn is_http_event(event: &Value) -> bool {
    event.get("version").and_then(Value::as_str) == Some("2.0")
        && event.get("requestContext").is_some()
}

pub fn request_from_event(event: &Value) -> Result<Request, serde_json::Error> {
    lambda_http::request::from_str(&event.to_string())
}

/// The payload-2.0 response document for `response`.
pub fn response_to_event(response: Response<Body>) -> Value {
    let (parts, body) = response.into_parts();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            headers.insert(name.as_str().to_owned(), Value::String(v.to_owned()));
        }
    }
    let (body, is_base64) = match body {
        Body::Empty => (String::new(), false),
        Body::Text(t) => (t, false),
        Body::Binary(b) => (base64::engine::general_purpose::STANDARD.encode(b), true),
        _ => (String::new(), false),
    };
    json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_api_event_is_recognised_and_parsed() {
        let v: Value =
            serde_json::from_str(include_str!("../../../events/api-post-ticket.json")).unwrap();
        assert!(is_http_event(&v));
        let req = request_from_event(&v).unwrap();
        assert_eq!(req.method(), "POST");
        assert!(!is_http_event(
            &json!({"detail-type": "TicketTriaged", "detail": {}})
        ));
    }

    #[test]
    fn responses_become_payload_2_documents() {
        let corr = zerodesk_domain::CorrelationId::parse("c").unwrap();
        let r = crate::json_response(
            lambda_http::http::StatusCode::CREATED,
            &json!({"a": 1}),
            &corr,
        );
        let v = response_to_event(r);
        assert_eq!(v["statusCode"], 201);
        assert_eq!(v["headers"]["content-type"], "application/json");
        assert_eq!(v["body"], r#"{"a":1}"#);
        assert_eq!(v["isBase64Encoded"], false);
    }
}
