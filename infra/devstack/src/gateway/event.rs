//! Builds the API Gateway payload format 2.0 event a function receives:
//! lower-case headers, cookies split out, query parameters joined by
//! commas, the verified JWT claims, and the body base64-encoded unless text.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use serde_json::{Map, Value, json};

use super::authorizer::VerifiedToken;

/// What the gateway knows about one request, before any function sees it.
#[derive(Debug, Clone)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    pub protocol: &'a str,
}

/// Context API Gateway adds: ids, stage and time.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub account_id: &'a str,
    pub api_id: &'a str,
    pub domain_name: &'a str,
    pub request_id: &'a str,
    pub route_key: &'a str,
    pub time: chrono::DateTime<chrono::Utc>,
}

pub fn build(
    req: &RequestParts<'_>,
    ctx: &Context<'_>,
    path_parameters: &BTreeMap<String, String>,
    token: Option<&VerifiedToken>,
) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = Vec::new();
    for (name, value) in req.headers {
        let Ok(value) = value.to_str() else { continue };
        if name == http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
    }
    headers
        .entry("x-forwarded-for".to_owned())
        .or_insert_with(|| req.source_ip.clone());
    headers
        .entry("x-forwarded-proto".to_owned())
        .or_insert_with(|| "http".to_owned());
    if let Some(port) = ctx.domain_name.rsplit_once(':').map(|(_, p)| p) {
        headers
            .entry("x-forwarded-port".to_owned())
            .or_insert_with(|| port.to_owned());
    }
    let id_hex: String = ctx
        .request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(24)
        .collect();
    let trace = format!("Root=1-{:08x}-{id_hex}", ctx.time.timestamp());
    headers.entry("x-amzn-trace-id".to_owned()).or_insert(trace);

    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(req.raw_query.as_bytes()) {
        query
            .entry(k.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&v);
            })
            .or_insert_with(|| v.into_owned());
    }

    let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
    let mut request_context = json!({
        "accountId": ctx.account_id,
        "apiId": ctx.api_id,
        "domainName": ctx.domain_name,
        "domainPrefix": ctx.domain_name.split(['.', ':']).next().unwrap_or(ctx.domain_name),
        "http": {
            "method": req.method,
            "path": req.raw_path,
            "protocol": req.protocol,
            "sourceIp": req.source_ip,
            "userAgent": user_agent,
        },
        "requestId": ctx.request_id,
        "routeKey": ctx.route_key,
        "stage": "$default",
        "time": ctx.time.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": ctx.time.timestamp_millis(),
    });
    if let Some(token) = token {
        request_context["authorizer"] = json!({
            "jwt": { "claims": token.claims, "scopes": token.scopes }
        });
    }

    let mut event = Map::new();
    event.insert("version".to_owned(), "2.0".into());
    event.insert("routeKey".to_owned(), ctx.route_key.into());
    event.insert("rawPath".to_owned(), req.raw_path.into());
    event.insert("rawQueryString".to_owned(), req.raw_query.into());
    if !cookies.is_empty() {
        event.insert("cookies".to_owned(), json!(cookies));
    }
    event.insert("headers".to_owned(), json!(headers));
    if !query.is_empty() {
        event.insert("queryStringParameters".to_owned(), json!(query));
    }
    event.insert("requestContext".to_owned(), request_context);
    if !path_parameters.is_empty() {
        event.insert("pathParameters".to_owned(), json!(path_parameters));
    }
    let textual = is_text(
        req.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    match (req.body.is_empty(), textual, std::str::from_utf8(req.body)) {
        (true, _, _) => {
            event.insert("isBase64Encoded".to_owned(), false.into());
        }
        (false, true, Ok(text)) => {
            event.insert("body".to_owned(), text.into());
            event.insert("isBase64Encoded".to_owned(), false.into());
        }
        _ => {
            event.insert("body".to_owned(), STANDARD.encode(req.body).into());
            event.insert("isBase64Encoded".to_owned(), true.into());
        }
    }
    Value::Object(event)
}

/// Content types API Gateway passes as text; anything else is base64.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime.starts_with("text/")
        || mime.ends_with("/json")
        || mime.ends_with("+json")
        || mime.ends_with("/xml")
        || mime.ends_with("+xml")
        || mime == "application/javascript"
        || mime == "application/x-www-form-urlencoded"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(time: chrono::DateTime<chrono::Utc>) -> Context<'static> {
        Context {
            account_id: "123456789012",
            api_id: "local",
            domain_name: "127.0.0.1:3000",
            request_id: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
            route_key: "POST /tickets/{id}/reset",
            time,
        }
    }

    #[test]
    fn the_event_has_the_v2_shape_with_claims_cookies_and_joined_values() {
        let mut headers = HeaderMap::new();
        headers.insert("Content-Type", "application/json".parse().unwrap());
        headers.append("X-Multi", "a".parse().unwrap());
        headers.append("X-Multi", "b".parse().unwrap());
        headers.insert("Cookie", "s=1; t=2".parse().unwrap());
        let req = RequestParts {
            method: "POST",
            raw_path: "/tickets/01J/reset",
            raw_query: "a=1&a=2&b=x%20y",
            headers: &headers,
            body: br#"{"k":1}"#,
            source_ip: "127.0.0.1".to_owned(),
            protocol: "HTTP/1.1",
        };
        let token = VerifiedToken {
            claims: BTreeMap::from([("tenant_id".to_owned(), "demo".to_owned())]),
            scopes: None,
        };
        let params = BTreeMap::from([("id".to_owned(), "01J".to_owned())]);
        let e = build(&req, &ctx(chrono::Utc::now()), &params, Some(&token));
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "POST /tickets/{id}/reset");
        assert_eq!(e["headers"]["x-multi"], "a,b");
        assert_eq!(e["headers"]["content-type"], "application/json");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["cookies"], json!(["s=1", "t=2"]));
        assert_eq!(e["queryStringParameters"], json!({"a": "1,2", "b": "x y"}));
        assert_eq!(e["pathParameters"]["id"], "01J");
        assert_eq!(
            e["requestContext"]["authorizer"]["jwt"]["claims"]["tenant_id"],
            "demo"
        );
        assert_eq!(e["requestContext"]["http"]["method"], "POST");
        assert_eq!(e["body"], r#"{"k":1}"#);
        assert_eq!(e["isBase64Encoded"], false);
        // The shape lambda_http deserialises, with the claims where it looks.
        let typed: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
            serde_json::from_value(e).unwrap();
        let jwt = typed.request_context.authorizer.unwrap().jwt.unwrap();
        assert_eq!(jwt.claims["tenant_id"], "demo");
        assert_eq!(typed.path_parameters["id"], "01J");
    }

    #[test]
    fn binary_bodies_are_base64_and_open_routes_have_no_authorizer() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/octet-stream".parse().unwrap());
        let req = RequestParts {
            method: "PUT",
            raw_path: "/x",
            raw_query: "",
            headers: &headers,
            body: &[0, 1, 2, 255],
            source_ip: "127.0.0.1".to_owned(),
            protocol: "HTTP/1.1",
        };
        let e = build(&req, &ctx(chrono::Utc::now()), &BTreeMap::new(), None);
        assert_eq!(e["body"], "AAEC/w==");
        assert_eq!(e["isBase64Encoded"], true);
        assert!(e["requestContext"].get("authorizer").is_none());
        assert!(e.get("queryStringParameters").is_none());
        assert!(e.get("pathParameters").is_none());
    }
}
