//! Starts `moto_server` from the project virtualenv (creating it from the
//! pinned requirements when missing) on a free 127.0.0.1 port. A shell
//! watchdog kills the server as soon as the test process is gone.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::HarnessError;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project virtualenv's `moto_server`, installed from the pin if missing.
pub fn ensure_moto() -> Result<PathBuf, HarnessError> {
    let root = repo_root();
    let server = root.join(".venv/bin/moto_server");
    if server.exists() {
        return Ok(server);
    }
    // mkdir is atomic: the first test binary installs, the others wait.
    let lock = root.join(".venv-installing");
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::create_dir(&lock).is_err() {
        if server.exists() {
            return Ok(server);
        }
        if Instant::now() > deadline {
            return Err(HarnessError::Virtualenv(
                "timed out waiting for another installer".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let result = install(&root);
    let _ = std::fs::remove_dir(&lock);
    result.map(|()| server)
}

fn install(root: &Path) -> Result<(), HarnessError> {
    let run = |cmd: &mut Command| -> Result<(), HarnessError> {
        let status = cmd
            .status()
            .map_err(|e| HarnessError::Virtualenv(e.to_string()))?;
        if status.success() {
            Ok(())
        } else {
            Err(HarnessError::Virtualenv(format!(
                "{cmd:?} exited with {status}"
            )))
        }
    };
    if !root.join(".venv/bin/pip").exists() {
        run(Command::new("python3")
            .args(["-m", "venv", ".venv"])
            .current_dir(root))?;
    }
    run(Command::new(root.join(".venv/bin/pip"))
        .args(["install", "-q", "-r", "infra/moto-requirements.txt"])
        .current_dir(root))
}

fn free_port() -> Result<u16, HarnessError> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| HarnessError::Start(e.to_string()))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| HarnessError::Start(e.to_string()))
}

/// Starts a server and waits until it answers; returns its endpoint URL.
pub async fn start() -> Result<String, HarnessError> {
    let server = ensure_moto()?;
    let port = free_port()?;
    let parent = std::process::id();
    // The watchdog shell owns the server and kills it when the test process exits.
    let script = format!(
        "'{server}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; \
         trap 'kill $child 2>/dev/null' EXIT TERM INT; \
         while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done",
        server = server.display()
    );
    Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| HarnessError::Start(e.to_string()))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(endpoint);
        }
        if Instant::now() > deadline {
            return Err(HarnessError::Start(format!(
                "moto did not listen on port {port} within 60 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
