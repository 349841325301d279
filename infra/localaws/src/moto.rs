//! The emulator: moto pinned by `infra/moto-requirements.txt`, installed
//! into the project's `.venv` when missing or stale, started on a free
//! 127.0.0.1 port, and gone when its parent is: killed on stop or drop, and
//! by a parent-death signal (or a watchdog) when the parent dies first.
//! Never reuses a server it did not start.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

pub const REQUIREMENTS: &str = "infra/moto-requirements.txt";
/// One lock directory for every installer (test binaries, the local stack):
/// `mkdir` is atomic, so only one of them installs at a time.
const INSTALL_LOCK: &str = ".venv-installing";

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("cannot read the moto pin {0}")]
    Pin(PathBuf),
    #[error("cannot prepare .venv: {0}")]
    Install(String),
    #[error("cannot start moto_server: {0}")]
    Start(String),
}

/// A running moto server that this process started; dropping it kills it.
#[derive(Debug)]
pub struct Moto {
    pub endpoint: String,
    pub port: u16,
    child: Child,
}

impl Moto {
    /// Kills the server and waits until it has exited.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// The pinned version, e.g. `5.2.5` from `moto[server]==5.2.5`.
pub fn pinned_version(root: &Path) -> Result<String, MotoError> {
    let path = root.join(REQUIREMENTS);
    let text = std::fs::read_to_string(&path).map_err(|_| MotoError::Pin(path.clone()))?;
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("moto"))
        .find_map(|l| l.split_once("==").map(|(_, v)| v.trim().to_owned()))
        .ok_or(MotoError::Pin(path))
}

/// Makes sure `.venv` has the pinned moto, installing it if not;
/// `on_install` hears about an install before it starts (it takes a while).
pub async fn ensure_installed(
    root: &Path,
    on_install: &(dyn Fn(&str) + Sync),
) -> Result<PathBuf, MotoError> {
    let pin = pinned_version(root)?;
    let python = root.join(".venv/bin/python");
    let server = root.join(".venv/bin/moto_server");
    let pinned_present =
        || async { server.exists() && installed_version(&python).await.as_deref() == Some(&*pin) };
    if pinned_present().await {
        return Ok(server);
    }
    let lock = root.join(INSTALL_LOCK);
    let deadline = Instant::now() + Duration::from_secs(900);
    while std::fs::create_dir(&lock).is_err() {
        if Instant::now() > deadline {
            return Err(MotoError::Install(format!(
                "another install holds {}",
                lock.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Whoever held the lock before may have installed the pin already.
    if pinned_present().await {
        let _ = std::fs::remove_dir(&lock);
        return Ok(server);
    }
    on_install(&format!(
        "installing moto {pin} into .venv (first run only)"
    ));
    let result = install(root).await;
    let _ = std::fs::remove_dir(&lock);
    result?;
    match installed_version(&python).await {
        Some(v) if v == pin => Ok(server),
        other => Err(MotoError::Install(format!(
            "expected moto {pin} after install, found {other:?}"
        ))),
    }
}

async fn installed_version(python: &Path) -> Option<String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('moto'))",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .await
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

async fn install(root: &Path) -> Result<(), MotoError> {
    async fn run(cmd: &mut Command) -> Result<(), MotoError> {
        let status = cmd
            .stdin(Stdio::null())
            .status()
            .await
            .map_err(|e| MotoError::Install(e.to_string()))?;
        if status.success() {
            Ok(())
        } else {
            Err(MotoError::Install(format!("{cmd:?} exited with {status}")))
        }
    }
    if !root.join(".venv/bin/pip").exists() {
        run(Command::new("python3")
            .args(["-m", "venv", ".venv"])
            .current_dir(root))
        .await?;
    }
    run(Command::new(root.join(".venv/bin/pip"))
        .args(["install", "-q", "-r", REQUIREMENTS])
        .current_dir(root))
    .await
}

/// Starts moto on a free loopback port and waits until it answers. Its
/// output goes to `log_file`, or nowhere.
///
/// The parent-death signal is tied to the thread that starts the server:
/// start it from a thread that lives as long as the server should.
pub async fn start(server: &Path, log_file: Option<&Path>) -> Result<Moto, MotoError> {
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port().map_err(|e| MotoError::Start(e.to_string()))?;
        let (stdout, stderr) = match log_file {
            Some(path) => {
                let log =
                    std::fs::File::create(path).map_err(|e| MotoError::Start(e.to_string()))?;
                let log_err = log
                    .try_clone()
                    .map_err(|e| MotoError::Start(e.to_string()))?;
                (Stdio::from(log), Stdio::from(log_err))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let death_signal = setpriv();
        let mut cmd = match death_signal {
            Some(setpriv) => {
                let mut c = Command::new(setpriv);
                c.args(["--pdeathsig", "TERM", "--"]).arg(server);
                c
            }
            None => Command::new(server),
        };
        let mut child = cmd
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| MotoError::Start(e.to_string()))?;
        if let (None, Some(pid)) = (death_signal, child.id()) {
            watch_parent(pid)?;
        }
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                last = match log_file {
                    Some(path) => format!("moto exited with {status} (see {})", path.display()),
                    None => format!("moto exited with {status}"),
                };
                break;
            }
            if ready(&endpoint).await {
                return Ok(Moto {
                    endpoint,
                    port,
                    child,
                });
            }
            if Instant::now() > deadline {
                let _ = child.kill().await;
                return Err(MotoError::Start(format!(
                    "no answer on port {port} within 60 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Err(MotoError::Start(last))
}

/// Without `setpriv`, a small shell watches this process and kills the
/// server once this process is gone (even when it was killed outright).
fn watch_parent(server_pid: u32) -> Result<(), MotoError> {
    let parent = std::process::id();
    let script = format!(
        "while kill -0 {parent} 2>/dev/null && kill -0 {server_pid} 2>/dev/null; do sleep 0.5; done; \
         kill {server_pid} 2>/dev/null"
    );
    std::process::Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| MotoError::Start(format!("cannot start the watchdog: {e}")))
}

/// util-linux `setpriv`, used to give the server a parent-death signal so
/// that it never outlives a parent that was killed without a chance to clean up.
pub fn setpriv() -> Option<&'static str> {
    ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

async fn ready(endpoint: &str) -> bool {
    let client = reqwest::Client::new();
    matches!(
        client.get(format!("{endpoint}/moto-api/")).timeout(Duration::from_secs(2)).send().await,
        Ok(r) if r.status().is_success()
    )
}

pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
