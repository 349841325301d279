//! `load_sdk_config` reads the environment as Lambda and the local stack set
//! it. The environment is process-wide, so the check runs in a child process
//! (this test binary, re-run with one ignored test selected).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

use std::process::Command;

const CHILD_MARKER: &str = "ZERODESK_SDK_CONFIG_CHILD";

#[test]
fn load_sdk_config_honours_aws_endpoint_url() {
    let exe = std::env::current_exe().unwrap();
    let output = Command::new(exe)
        .args([
            "--exact",
            "child_reports_the_endpoint_it_loaded",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_MARKER, "1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}");
    assert!(
        stdout.contains("endpoint=http://127.0.0.1:4566 region=eu-west-1"),
        "{stdout}"
    );
}

#[tokio::test]
#[ignore = "run by load_sdk_config_honours_aws_endpoint_url in a child process"]
async fn child_reports_the_endpoint_it_loaded() {
    if std::env::var(CHILD_MARKER).is_err() {
        return;
    }
    let config = zerodesk_aws::load_sdk_config().await;
    println!(
        "endpoint={} region={}",
        config.endpoint_url().unwrap_or("none"),
        config.region().map(|r| r.as_ref()).unwrap_or("none")
    );
}
