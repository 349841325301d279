//! Cold-start benchmark: starts each function binary as Lambda would, with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a loopback listener, and measures the
//! time from spawn to its first `GET /runtime/invocation/next` (the init
//! phase), the process's peak RSS at that moment, and the binary's size.
//! Prints a table and exits non-zero if any budget is exceeded.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FUNCTIONS: [&str; 7] = [
    "tickets",
    "reset",
    "unlock",
    "verify",
    "audit-write",
    "retention-purge",
    "admin",
];
/// 1/30 of the 480 ms a Python/boto3 peer takes to initialise here.
const INIT_BUDGET_MS: f64 = 16.0;
const RSS_BUDGET_KB: u64 = 24 * 1024;
const SIZE_BUDGET_BYTES: u64 = 10 * 1024 * 1024;
const RUNS: usize = 15;

struct Sample {
    init: Duration,
    rss_kb: u64,
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn measure(binary: &PathBuf, name: &str) -> Result<Sample, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("STAGE", "bench")
        .env("EVENT_BUS_NAME", "zerodesk-bench")
        .env("TENANTS_TABLE", "t")
        .env("TICKETS_TABLE", "k")
        .env("AUDIT_TABLE", "a")
        .env("IDEMPOTENCY_TABLE", "i")
        .env("KMS_KEY_ID", "alias/zerodesk-bench")
        .env(
            "VERIFICATION_MAC_KEY_ID",
            "alias/zerodesk-bench-verification",
        )
        .env("NOTICE_SENDER", "helpdesk@zerodesk.example")
        .env(
            "VERIFY_PAGE_URL",
            "https://helpdesk.zerodesk.example/verify",
        )
        .env(
            "TENANT_ACCESS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/zerodesk-bench-tenant-access",
        )
        .env(
            "AUDIT_WRITER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/zerodesk-bench-audit-writer",
        )
        .env(
            "TENANT_AUDIT_WRITER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/zerodesk-bench-audit-writer",
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let result = loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let mut line = String::new();
                let _ = stream.set_nonblocking(false);
                let _ = BufReader::new(&stream).read_line(&mut line);
                let init = started.elapsed();
                if !line.contains("/runtime/invocation/next") {
                    break Err(format!(
                        "{name}: first request was not a poll for work: {}",
                        line.trim()
                    ));
                }
                break Ok(Sample {
                    init,
                    rss_kb: peak_rss_kb(child.id()),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Ok(Some(status)) = child.try_wait() {
                    let mut err = String::new();
                    if let Some(stderr) = child.stderr.take() {
                        for l in BufReader::new(stderr).lines().map_while(Result::ok).take(5) {
                            err.push_str(&l);
                            err.push('\n');
                        }
                    }
                    break Err(format!("{name} exited during init ({status}): {err}"));
                }
                if Instant::now() > deadline {
                    break Err(format!("{name} did not poll the Runtime API within 10 s"));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => break Err(e.to_string()),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(f64::NAN)
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release"));
    println!(
        "{:<16} {:>10} {:>12} {:>12} {:>12}  verdict",
        "function", "size MB", "init p50 ms", "init p90 ms", "peak RSS MB"
    );
    let mut failed = false;
    for name in FUNCTIONS {
        let binary = dir.join(name);
        let size = match std::fs::metadata(&binary) {
            Ok(m) => m.len(),
            Err(_) => {
                println!("{name:<16} missing: build with `cargo build --release -p {name}`");
                failed = true;
                continue;
            }
        };
        let mut inits = Vec::with_capacity(RUNS);
        let mut rss = 0;
        let mut error = None;
        for _ in 0..RUNS {
            match measure(&binary, name) {
                Ok(s) => {
                    inits.push(s.init.as_secs_f64() * 1000.0);
                    rss = rss.max(s.rss_kb);
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = error {
            println!("{name:<16} error: {e}");
            failed = true;
            continue;
        }
        inits.sort_by(f64::total_cmp);
        let p50 = percentile(&inits, 0.5);
        let p90 = percentile(&inits, 0.9);
        let ok = p50 <= INIT_BUDGET_MS && rss <= RSS_BUDGET_KB && size <= SIZE_BUDGET_BYTES;
        failed |= !ok;
        println!(
            "{name:<16} {:>10.2} {:>12.2} {:>12.2} {:>12.1}  {}",
            size as f64 / 1_048_576.0,
            p50,
            p90,
            rss as f64 / 1024.0,
            if ok { "within budget" } else { "OVER BUDGET" }
        );
    }
    println!(
        "budgets: init p50 <= {INIT_BUDGET_MS} ms (1/30 of boto3's 480 ms), peak RSS <= 24 MB, stripped binary <= 10 MB; {RUNS} cold starts each"
    );
    if failed {
        std::process::exit(1);
    }
}
