//! Maps a function's result to the HTTP response as API Gateway does for
//! payload format 2.0: a structured `{statusCode, headers, cookies, body,
//! isBase64Encoded}`, or any other JSON as a 200 `application/json` body.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The function's output cannot be turned into a response (API Gateway: 502).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Lambda proxy response: {0}")]
pub struct Malformed(pub &'static str);

pub fn map(payload: &[u8]) -> Result<HttpResponse, Malformed> {
    let value: Value = serde_json::from_slice(payload).map_err(|_| Malformed("not JSON"))?;
    let structured = value.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(obj) = structured else {
        // Inferred format: the JSON itself is the body (a string unquoted).
        let body = match &value {
            Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        return Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body,
        });
    };
    let status = match &obj["statusCode"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .and_then(|s| u16::try_from(s).ok())
    .filter(|s| (100..=599).contains(s))
    .ok_or(Malformed("statusCode is not an HTTP status"))?;
    let mut headers = Vec::new();
    if let Some(map) = obj.get("headers").and_then(Value::as_object) {
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            headers.push((k.to_ascii_lowercase(), v));
        }
    }
    if let Some(cookies) = obj.get("cookies").and_then(Value::as_array) {
        for c in cookies.iter().filter_map(Value::as_str) {
            headers.push(("set-cookie".to_owned(), c.to_owned()));
        }
    }
    let body = match obj.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            if obj
                .get("isBase64Encoded")
                .and_then(Value::as_bool)
                .unwrap_or(false)
            {
                STANDARD
                    .decode(s)
                    .map_err(|_| Malformed("body is not base64"))?
            } else {
                s.clone().into_bytes()
            }
        }
        Some(other) => other.to_string().into_bytes(),
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structured_response_keeps_status_headers_cookies_and_body() {
        let r = map(
            br#"{"statusCode":201,"headers":{"Content-Type":"application/json","x-n":5},
            "cookies":["a=1"],"body":"{\"id\":\"t\"}"}"#,
        )
        .unwrap();
        assert_eq!(r.status, 201);
        assert!(
            r.headers
                .contains(&("content-type".to_owned(), "application/json".to_owned()))
        );
        assert!(r.headers.contains(&("x-n".to_owned(), "5".to_owned())));
        assert!(
            r.headers
                .contains(&("set-cookie".to_owned(), "a=1".to_owned()))
        );
        assert_eq!(r.body, br#"{"id":"t"}"#);
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let r = map(br#"{"statusCode":200,"body":"AAEC/w==","isBase64Encoded":true}"#).unwrap();
        assert_eq!(r.body, [0, 1, 2, 255]);
    }

    #[test]
    fn json_without_status_code_is_a_200_json_body() {
        let r = map(br#"{"message":"hi"}"#).unwrap();
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, br#"{"message":"hi"}"#.as_slice())
        );
        assert_eq!(map(br#""hello""#).unwrap().body, b"hello");
    }

    #[test]
    fn a_bad_status_or_non_json_is_malformed() {
        assert!(map(br#"{"statusCode":"abc"}"#).is_err());
        assert!(map(br#"{"statusCode":99}"#).is_err());
        assert!(map(b"not json").is_err());
    }
}
