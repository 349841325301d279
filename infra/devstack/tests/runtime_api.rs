//! The Lambda Runtime API and process manager, proven with the echo lambda
//! (a real `lambda_runtime` binary): events in, responses out, one REPORT
//! line per invocation, crashes answered and the process restarted.

// Test helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use devstack::console::Console;
use devstack::runtime::{Function, InvokeError};
use serde_json::{Value, json};

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn echo_gets_the_event_and_lambdas_environment_and_each_invocation_prints_a_report() {
    let console = Console::capture();
    let env = BTreeMap::from([("TABLE".to_owned(), "zerodesk-local-t".to_owned())]);
    let f = Function::start(common::echo_spec("echo-basic", env), console.clone());
    let invoker = f.invoker();
    let first = parse(
        &invoker
            .invoke(json!({"hello": "world"}).to_string().into_bytes())
            .await
            .unwrap(),
    );
    assert_eq!(first["event"], json!({"hello": "world"}));
    assert_eq!(
        first["function_arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:zerodesk-test-echo-basic"
    );
    assert_eq!(
        first["env"]["AWS_LAMBDA_FUNCTION_NAME"],
        "zerodesk-test-echo-basic"
    );
    assert_eq!(first["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(first["env"]["TABLE"], "zerodesk-local-t");
    assert!(
        first["env"]["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(
        first["env"].get("HOME").is_none(),
        "the stack's own environment must not leak in"
    );
    let second = parse(&invoker.invoke(b"{}".to_vec()).await.unwrap());
    assert_eq!(first["pid"], second["pid"], "the process is kept warm");

    let reports: Vec<String> = console
        .lines()
        .into_iter()
        .filter(|l| l.contains("REPORT RequestId:"))
        .collect();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].contains(first["request_id"].as_str().unwrap()));
    assert!(
        reports[0].contains("Init Duration:") && reports[0].contains("Max Memory Used: "),
        "{}",
        reports[0]
    );
    assert!(!reports[0].contains("Max Memory Used: ? MB"));
    assert!(
        !reports[1].contains("Init Duration:"),
        "only a process's first invocation has an init duration"
    );
    assert_eq!(f.invocations(), 2);
    f.stop().await;
}

#[tokio::test]
async fn a_crash_fails_the_invocation_in_flight_and_a_new_process_takes_the_next() {
    let console = Console::capture();
    let f = Function::start(
        common::echo_spec("echo-crash", BTreeMap::new()),
        console.clone(),
    );
    let invoker = f.invoker();
    let before = parse(&invoker.invoke(b"{}".to_vec()).await.unwrap());
    let crashed = invoker
        .invoke(json!({"command": "/crash"}).to_string().into_bytes())
        .await;
    assert_eq!(crashed, Err(InvokeError::Crashed));
    let after = parse(&invoker.invoke(b"{}".to_vec()).await.unwrap());
    assert_ne!(before["pid"], after["pid"]);
    assert_eq!(f.process_starts(), 2);
    assert!(!common::pid_alive(before["pid"].as_u64().unwrap() as u32));
    let lines = console.lines();
    assert!(
        lines.iter().any(|l| l.contains("process exited")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Status: error\tError Type: Runtime.ExitError")),
        "{lines:?}"
    );
    f.stop().await;
}

#[tokio::test]
async fn a_function_error_is_returned_as_such_and_the_process_stays() {
    let f = Function::start(
        common::echo_spec("echo-error", BTreeMap::new()),
        Console::capture(),
    );
    let invoker = f.invoker();
    let failed = invoker
        .invoke(json!({"command": "/error"}).to_string().into_bytes())
        .await;
    assert!(
        matches!(failed, Err(InvokeError::Function { .. })),
        "{failed:?}"
    );
    assert!(invoker.invoke(b"{}".to_vec()).await.is_ok());
    assert_eq!(f.process_starts(), 1);
    f.stop().await;
}

#[tokio::test]
async fn one_process_takes_one_invocation_at_a_time() {
    let f = Function::start(
        common::echo_spec("echo-queue", BTreeMap::new()),
        Console::capture(),
    );
    let invoker = f.invoker();
    // Warm up so init time does not count.
    invoker.invoke(b"{}".to_vec()).await.unwrap();
    let started = Instant::now();
    let sleep = || {
        let i = invoker.clone();
        async move {
            i.invoke(json!({"command": "/sleep/300"}).to_string().into_bytes())
                .await
        }
    };
    let (a, b, c) = tokio::join!(sleep(), sleep(), sleep());
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "ran concurrently: {:?}",
        started.elapsed()
    );
    let pids: Vec<Value> = [a, b, c]
        .into_iter()
        .map(|r| parse(&r.unwrap())["pid"].clone())
        .collect();
    assert!(pids.iter().all(|p| *p == pids[0]));
    f.stop().await;
}

#[tokio::test]
async fn a_timed_out_invocation_kills_the_process_and_reports_a_timeout() {
    let console = Console::capture();
    let mut spec = common::echo_spec("echo-timeout", BTreeMap::new());
    spec.timeout = Duration::from_secs(1);
    let f = Function::start(spec, console.clone());
    let invoker = f.invoker();
    let slow = invoker
        .invoke(json!({"command": "/sleep/5000"}).to_string().into_bytes())
        .await;
    assert_eq!(slow, Err(InvokeError::TimedOut(Duration::from_secs(1))));
    assert!(invoker.invoke(b"{}".to_vec()).await.is_ok());
    assert_eq!(f.process_starts(), 2);
    assert!(
        console
            .lines()
            .iter()
            .any(|l| l.contains("Task timed out after 1.00 seconds"))
    );
    f.stop().await;
}

#[tokio::test]
async fn stop_kills_every_process_of_the_pool() {
    let mut spec = common::echo_spec("echo-stop", BTreeMap::new());
    spec.pool_size = 2;
    let f = Function::start(spec, Console::capture());
    let invoker = f.invoker();
    let slow = || {
        let i = invoker.clone();
        async move {
            parse(
                &i.invoke(json!({"command": "/sleep/200"}).to_string().into_bytes())
                    .await
                    .unwrap(),
            )
        }
    };
    let (a, b) = tokio::join!(slow(), slow());
    let pids = [
        a["pid"].as_u64().unwrap() as u32,
        b["pid"].as_u64().unwrap() as u32,
    ];
    assert_ne!(
        pids[0], pids[1],
        "a pool of two serves two invocations at once"
    );
    f.stop().await;
    assert!(pids.iter().all(|p| !common::pid_alive(*p)));
    assert_eq!(
        invoker.invoke(b"{}".to_vec()).await,
        Err(InvokeError::Unavailable)
    );
}
