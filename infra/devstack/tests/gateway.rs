//! The emulated HTTP API in front of the echo lambda: routes and the JWT
//! authorizer come from a template; refused tokens never reach the
//! function (counted both by the stack and by the lambda itself).

// Test helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use devstack::console::Console;
use devstack::gateway::{GatewaySetup, build, serve};
use devstack::local::LocalValues;
use devstack::oidc::{ClaimNames, SigningKey, TokenRequest, mint};
use devstack::runtime::Function;
use serde_json::{Value, json};
use zerodesk_template::Template;

const TEMPLATE: &str = r#"
Parameters:
  JwtIssuer: {Type: String}
  JwtAudience: {Type: String}
Resources:
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          JwtAuthorizer:
            JwtConfiguration:
              issuer: !Ref JwtIssuer
              audience: [!Ref JwtAudience]
        DefaultAuthorizer: JwtAuthorizer
  EchoFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: echo}}
    Properties:
      Events:
        Reset: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: POST, Path: "/tickets/{id}/reset"}}
        Crash: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /crash}}
        Error: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /error}}
        Binary: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /binary}}
        Plain: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /plain}}
        Open: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /open, Auth: {Authorizer: NONE}}}
        Scoped:
          Type: HttpApi
          Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /scoped, Auth: {AuthorizationScopes: [tickets/write]}}
"#;

const AUDIENCE: &str = "zerodesk-local";

struct Stack {
    url: String,
    issuer: String,
    key: SigningKey,
    function: Option<Function>,
    count_file: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Stack {
    async fn start(label: &str) -> Stack {
        let dir = devstack::testing::temp_dir(label);
        let key = SigningKey::load_or_create(&dir).unwrap();
        let count_file = dir.join("invocations.log");
        let env = BTreeMap::from([(
            "ECHO_COUNT_FILE".to_owned(),
            count_file.display().to_string(),
        )]);
        let function = Function::start(common::echo_spec(label, env), Console::capture());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let issuer = format!("http://127.0.0.1:{port}");
        let template = Template::parse(TEMPLATE).unwrap();
        let params = BTreeMap::from([
            ("JwtIssuer".to_owned(), issuer.clone()),
            ("JwtAudience".to_owned(), AUDIENCE.to_owned()),
        ]);
        let gateway = build(GatewaySetup {
            template: &template,
            resolver: &LocalValues::with_parameters(&params),
            issuer: issuer.clone(),
            jwks: key.jwks(),
            invokers: HashMap::from([("EchoFunction".to_owned(), function.invoker())]),
            openapi: Some(br#"{"openapi":"3.1.0"}"#.to_vec()),
            console: Console::capture(),
            account_id: "123456789012".to_owned(),
        })
        .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            serve(listener, Arc::new(gateway), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Stack {
            url: issuer.clone(),
            issuer,
            key,
            function: Some(function),
            count_file,
            stop: Some(stop),
            server,
        }
    }

    fn claims(&self) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": self.issuer, "aud": AUDIENCE, "sub": "alice@demo.example", "email": "alice@demo.example",
            "tenant_id": "demo", "role": "tenant_user", "iat": now, "nbf": now, "exp": now + 600})
    }

    fn token(&self, claims: &Value) -> String {
        self.key.sign_with_kid(self.key.kid(), claims).unwrap()
    }

    fn invocations(&self) -> u64 {
        self.function.as_ref().unwrap().invocations()
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = (&mut self.server).await;
        self.function.take().unwrap().stop().await;
    }
}

async fn post(url: &str, token: Option<&str>) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"note":"x"}"#);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

#[tokio::test]
async fn a_valid_token_reaches_the_function_with_string_claims_route_key_and_path_parameters() {
    let stack = Stack::start("gw-valid").await;
    let mut claims = stack.claims();
    claims["groups"] = json!(["it", "ops"]);
    let (status, body, headers) = post(
        &format!("{}/tickets/01JTICKET/reset?x=1", stack.url),
        Some(&stack.token(&claims)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-echo"], "1");
    assert!(headers.contains_key("apigw-requestid"));
    let event = &body["event"];
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "POST /tickets/{id}/reset");
    assert_eq!(event["rawPath"], "/tickets/01JTICKET/reset");
    assert_eq!(event["rawQueryString"], "x=1");
    assert_eq!(event["pathParameters"]["id"], "01JTICKET");
    assert_eq!(event["body"], r#"{"note":"x"}"#);
    assert_eq!(event["requestContext"]["http"]["method"], "POST");
    assert_eq!(
        event["requestContext"]["requestId"],
        headers["apigw-requestid"].to_str().unwrap()
    );
    let jwt_claims = &event["requestContext"]["authorizer"]["jwt"]["claims"];
    assert_eq!(jwt_claims["tenant_id"], "demo");
    assert_eq!(jwt_claims["role"], "tenant_user");
    assert_eq!(jwt_claims["groups"], "[it ops]");
    assert!(
        jwt_claims["exp"].is_string(),
        "numeric claims arrive as strings"
    );
    assert_eq!(event["headers"]["content-type"], "application/json");
    assert_eq!(stack.invocations(), 1);
    stack.stop().await;
}

#[tokio::test]
async fn refused_tokens_get_401_and_the_function_is_never_invoked() {
    let stack = Stack::start("gw-refused").await;
    let claims = stack.claims();
    let with = |key: &str, value: Value| {
        let mut c = claims.clone();
        c[key] = value;
        stack.token(&c)
    };
    let other_key =
        SigningKey::load_or_create(&devstack::testing::temp_dir("gw-other-key")).unwrap();
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let mut hs256_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs256_header.kid = Some(stack.key.kid().to_owned());
    let hs256 = jsonwebtoken::encode(
        &hs256_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(stack.key.modulus_b64().as_bytes()),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let cases: Vec<(&str, Option<String>)> = vec![
        (
            "bad signature",
            Some(other_key.sign_with_kid(stack.key.kid(), &claims).unwrap()),
        ),
        ("wrong audience", Some(with("aud", "someone-else".into()))),
        (
            "wrong issuer",
            Some(with("iss", "http://127.0.0.1:1".into())),
        ),
        ("expired", Some(with("exp", (now - 60).into()))),
        ("not yet valid", Some(with("nbf", (now + 600).into()))),
        (
            "alg none",
            Some(format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT", "kid": stack.key.kid()})),
                b64(&claims)
            )),
        ),
        ("HS256", Some(hs256)),
        (
            "unknown kid",
            Some(stack.key.sign_with_kid("not-a-known-kid", &claims).unwrap()),
        ),
        ("garbage", Some("not.a.jwt".to_owned())),
        ("no token", None),
    ];
    for (case, token) in &cases {
        let (status, body, headers) = post(
            &format!("{}/tickets/01J/reset", stack.url),
            token.as_deref(),
        )
        .await;
        assert_eq!(status, 401, "{case}");
        assert_eq!(body, json!({"message": "Unauthorized"}), "{case}");
        assert!(headers.contains_key("www-authenticate"), "{case}");
    }
    assert_eq!(
        stack.invocations(),
        0,
        "the stack handed no event to the function"
    );
    assert_eq!(
        common::counted(&stack.count_file),
        0,
        "the function saw no invocation"
    );
    // The same route with a good token does invoke it: the counters can move.
    let (status, _, _) = post(
        &format!("{}/tickets/01J/reset", stack.url),
        Some(&stack.token(&claims)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (stack.invocations(), common::counted(&stack.count_file)),
        (1, 1)
    );
    stack.stop().await;
}

#[tokio::test]
async fn an_unknown_route_or_method_is_404_not_found() {
    let stack = Stack::start("gw-404").await;
    let token = stack.token(&stack.claims());
    let (status, body, _) = post(&format!("{}/nope", stack.url), Some(&token)).await;
    assert_eq!((status, body), (404, json!({"message": "Not Found"})));
    let (status, _, _) = post(&format!("{}/crash", stack.url), Some(&token)).await;
    assert_eq!(status, 404, "POST is not a method of /crash");
    assert_eq!(stack.invocations(), 0);
    stack.stop().await;
}

#[tokio::test]
async fn a_crash_is_502_and_the_restarted_function_serves_the_next_request() {
    let stack = Stack::start("gw-crash").await;
    let token = stack.token(&stack.claims());
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{}{path}", stack.url))
            .bearer_auth(&token)
            .send()
    };
    let crashed = get("/crash").await.unwrap();
    assert_eq!(crashed.status().as_u16(), 502);
    assert_eq!(
        crashed.json::<Value>().await.unwrap(),
        json!({"message": "Internal Server Error"})
    );
    let failed = get("/error").await.unwrap();
    assert_eq!(
        failed.status().as_u16(),
        502,
        "a function error is a 502 too"
    );
    let ok = client
        .post(format!("{}/tickets/1/reset", stack.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(stack.function.as_ref().unwrap().process_starts(), 2);
    stack.stop().await;
}

#[tokio::test]
async fn responses_are_mapped_as_payload_format_2() {
    let stack = Stack::start("gw-mapping").await;
    let token = stack.token(&stack.claims());
    let client = reqwest::Client::new();
    let binary = client
        .get(format!("{}/binary", stack.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(binary.headers()["content-type"], "application/octet-stream");
    assert_eq!(binary.bytes().await.unwrap().as_ref(), [0u8, 1, 2, 255]);
    let plain = client
        .get(format!("{}/plain", stack.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 200);
    assert_eq!(plain.headers()["content-type"], "application/json");
    assert_eq!(plain.json::<Value>().await.unwrap(), json!({"plain": true}));
    let cookies = client
        .post(format!("{}/tickets/1/reset", stack.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let set: Vec<&str> = cookies
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(set, ["a=1; Path=/", "b=2"]);
    stack.stop().await;
}

#[tokio::test]
async fn open_routes_scopes_jwks_and_openapi() {
    let stack = Stack::start("gw-open").await;
    let client = reqwest::Client::new();
    let open = client
        .get(format!("{}/open", stack.url))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status().as_u16(), 200);
    let event: Value = serde_json::from_str(
        open.json::<Value>().await.unwrap()["event"]
            .to_string()
            .as_str(),
    )
    .unwrap();
    assert!(event["requestContext"].get("authorizer").is_none());
    let unscoped = client
        .get(format!("{}/scoped", stack.url))
        .bearer_auth(stack.token(&stack.claims()))
        .send()
        .await
        .unwrap();
    assert_eq!(unscoped.status().as_u16(), 403);
    let mut claims = stack.claims();
    claims["scope"] = "tickets/read tickets/write".into();
    let scoped = client
        .get(format!("{}/scoped", stack.url))
        .bearer_auth(stack.token(&claims))
        .send()
        .await
        .unwrap();
    assert_eq!(scoped.status().as_u16(), 200);
    let jwks: Value = client
        .get(format!("{}/.well-known/jwks.json", stack.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], stack.key.kid());
    let discovery: Value = client
        .get(format!("{}/.well-known/openid-configuration", stack.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], stack.issuer);
    let openapi = client
        .get(format!("{}/openapi.json", stack.url))
        .send()
        .await
        .unwrap();
    assert_eq!(openapi.status().as_u16(), 200);
    stack.stop().await;
}

#[tokio::test]
async fn minted_tokens_are_accepted() {
    let stack = Stack::start("gw-mint").await;
    let request = TokenRequest {
        tenant: Some("demo".to_owned()),
        role: "tenant_auditor".to_owned(),
        subject: "dave@demo.example".to_owned(),
        lifetime: std::time::Duration::from_secs(60),
        scopes: vec![],
    };
    let token = mint(
        &stack.key,
        &stack.issuer,
        AUDIENCE,
        &ClaimNames::default(),
        &request,
    )
    .unwrap();
    let (status, body, _) = post(&format!("{}/tickets/1/reset", stack.url), Some(&token)).await;
    assert_eq!(status, 200);
    let claims = &body["event"]["requestContext"]["authorizer"]["jwt"]["claims"];
    assert_eq!(claims["email"], "dave@demo.example");
    assert_eq!(claims["role"], "tenant_auditor");
    stack.stop().await;
}
