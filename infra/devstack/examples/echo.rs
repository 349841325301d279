//! A tiny Lambda for testing the local stack's Runtime API and gateway: it
//! echoes the event back, and misbehaves on request (crash, error, sleep,
//! binary body) so the stack's handling of each can be observed.

use std::io::Write;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    count_invocation(&context.request_id);
    let path = payload["rawPath"].as_str().map(str::to_owned);
    let command = path
        .clone()
        .or_else(|| payload["command"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if command == "/crash" {
        // The stack must see the process exit, answer 502 and restart it.
        std::process::exit(3);
    }
    if command == "/error" {
        return Err("echo was asked to fail".into());
    }
    if let Some(ms) = command
        .strip_prefix("/sleep/")
        .and_then(|ms| ms.parse().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let env: serde_json::Map<String, Value> = std::env::vars()
        .filter(|(k, _)| !k.starts_with("AWS_SECRET") && !k.starts_with("AWS_SESSION"))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let echoed = json!({
        "event": payload,
        "request_id": context.request_id,
        "function_arn": context.invoked_function_arn,
        "deadline_ms": context.deadline,
        "pid": std::process::id(),
        "env": env,
    });
    match (path.is_some(), command.as_str()) {
        (false, _) => Ok(echoed),
        (true, "/plain") => Ok(json!({"plain": true})),
        (true, "/binary") => Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/octet-stream"},
            "body": "AAEC/w==",
            "isBase64Encoded": true,
        })),
        (true, _) => Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json", "x-echo": "1"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": echoed.to_string(),
        })),
    }
}

/// One line per invocation in `ECHO_COUNT_FILE`, so tests can count
/// invocations from the function's side.
fn count_invocation(request_id: &str) {
    if let Ok(path) = std::env::var("ECHO_COUNT_FILE")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(file, "{request_id}");
    }
}
