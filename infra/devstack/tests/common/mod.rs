//! Shared by the devstack integration tests: the echo lambda (built by
//! `cargo test` as an example of this package) as a function spec.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use devstack::runtime::FunctionSpec;

/// `target/<profile>/examples/echo`, next to this test binary's `deps/`.
pub fn echo_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let echo = profile_dir.join("examples/echo");
    assert!(
        echo.exists(),
        "{} is missing: run through `cargo test -p devstack`",
        echo.display()
    );
    echo
}

pub fn echo_spec(name: &str, env: BTreeMap<String, String>) -> FunctionSpec {
    FunctionSpec {
        name: format!("zerodesk-test-{name}"),
        label: name.to_owned(),
        binary: echo_binary(),
        env,
        memory_mb: 128,
        timeout: Duration::from_secs(3),
        pool_size: 1,
        region: "us-east-1".to_owned(),
        account_id: "123456789012".to_owned(),
        working_dir: std::env::temp_dir(),
    }
}

/// Lines in the echo lambda's invocation log (one per invocation it saw).
pub fn counted(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

pub fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}
