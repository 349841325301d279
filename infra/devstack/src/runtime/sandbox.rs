//! One process of a function and its supervisor: spawn with Lambda's
//! environment, pump its output to the console, enforce the timeout, and on
//! exit fail the in-flight invocation and start a fresh process.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, Notify, watch};

use super::{InvokeError, Reply, Report, Shared, api};

pub(crate) struct InFlight {
    pub request_id: String,
    pub started: Instant,
    pub reply: Reply,
    pub timed_out: bool,
}

/// The state of one process instance, shared with its Runtime API server.
pub(crate) struct Sandbox {
    pub shared: Arc<Shared>,
    pub inflight: Mutex<Option<InFlight>>,
    spawned_at: Instant,
    init_duration: std::sync::Mutex<Option<Duration>>,
    polled: AtomicBool,
    pid: AtomicU32,
    dead: watch::Sender<bool>,
    kill: Notify,
}

impl Sandbox {
    pub fn mark_polled(&self) {
        if !self.polled.swap(true, Ordering::SeqCst)
            && let Ok(mut init) = self.init_duration.lock()
        {
            *init = Some(self.spawned_at.elapsed());
        }
    }

    /// The init duration, once: only the process's first REPORT carries it.
    pub fn take_init_duration(&self) -> Option<Duration> {
        self.init_duration.lock().ok().and_then(|mut d| d.take())
    }

    pub fn dead_rx(&self) -> watch::Receiver<bool> {
        self.dead.subscribe()
    }

    pub fn is_dead(&self) -> bool {
        *self.dead.borrow()
    }

    pub fn max_memory_used_mb(&self) -> Option<u64> {
        super::report::max_memory_used_mb(self.pid.load(Ordering::SeqCst))
    }

    /// Kills the process if `request_id` is still running when the timeout ends.
    pub fn watch_timeout(self: &Arc<Self>, request_id: String) {
        let sb = self.clone();
        let timeout = self.shared.spec.timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let mut slot = sb.inflight.lock().await;
            if let Some(f) = slot.as_mut()
                && f.request_id == request_id
            {
                f.timed_out = true;
                sb.kill.notify_one();
            }
        });
    }
}

enum Ended {
    Stopped,
    Exited { served: bool },
}

/// Keeps one process of the function alive until shutdown.
pub(crate) async fn supervise(shared: Arc<Shared>, slot: usize) {
    let mut shutdown = shared.shutdown.clone();
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match run_once(&shared, slot).await {
            Ended::Stopped => return,
            Ended::Exited { served: true } => failures = 0,
            Ended::Exited { served: false } => failures = failures.saturating_add(1),
        }
        if failures > 0 {
            let backoff = Duration::from_millis(100u64.saturating_mul(1 << failures.min(6)))
                .min(Duration::from_secs(5));
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = crate::stopped(&mut shutdown) => return,
            }
        }
    }
}

async fn run_once(shared: &Arc<Shared>, slot: usize) -> Ended {
    let label = &shared.spec.label;
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0)).await {
        Ok(l) => l,
        Err(e) => {
            shared
                .console
                .line(&format!("[{label}] cannot bind the Runtime API: {e}"));
            return Ended::Exited { served: false };
        }
    };
    let runtime_api = match listener.local_addr() {
        Ok(addr) => addr.to_string(),
        Err(_) => return Ended::Exited { served: false },
    };
    let (dead, _) = watch::channel(false);
    let sb = Arc::new(Sandbox {
        shared: shared.clone(),
        inflight: Mutex::new(None),
        spawned_at: Instant::now(),
        init_duration: std::sync::Mutex::new(None),
        polled: AtomicBool::new(false),
        pid: AtomicU32::new(0),
        dead,
        kill: Notify::new(),
    });
    let mut server_dead = sb.dead_rx();
    let server = tokio::spawn(
        axum::serve(listener, api::router(sb.clone()))
            .with_graceful_shutdown(async move {
                let _ = crate::stopped(&mut server_dead).await;
            })
            .into_future(),
    );
    let mut child = match spawn(shared, &runtime_api, slot) {
        Ok(child) => child,
        Err(e) => {
            shared.console.line(&format!(
                "[{label}] cannot start {}: {e}",
                shared.spec.binary.display()
            ));
            let _ = sb.dead.send(true);
            let _ = server.await;
            return Ended::Exited { served: false };
        }
    };
    shared.starts.fetch_add(1, Ordering::SeqCst);
    sb.pid.store(child.id().unwrap_or(0), Ordering::SeqCst);
    let mut shutdown = shared.shutdown.clone();
    let stopping = tokio::select! {
        status = child.wait() => {
            let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
            shared.console.line(&format!("[{label}] process exited ({status}); starting a new one"));
            false
        }
        _ = sb.kill.notified() => {
            let _ = child.kill().await;
            false
        }
        _ = crate::stopped(&mut shutdown) => {
            let _ = child.kill().await;
            true
        }
    };
    // Mark dead and take the in-flight invocation under the same lock the
    // Runtime API uses to hand one out, so none is lost in between.
    let inflight = {
        let mut slot = sb.inflight.lock().await;
        let _ = sb.dead.send(true);
        slot.take()
    };
    let served = sb.polled.load(Ordering::SeqCst);
    if let Some(f) = inflight {
        let (error, status) = if stopping {
            (InvokeError::Unavailable, "error")
        } else if f.timed_out {
            let t = shared.spec.timeout;
            shared.console.line(&format!(
                "[{label}] {} Task timed out after {:.2} seconds",
                f.request_id,
                t.as_secs_f64()
            ));
            (InvokeError::TimedOut(t), "timeout")
        } else {
            (InvokeError::Crashed, "error\tError Type: Runtime.ExitError")
        };
        let report = Report {
            function: label.clone(),
            request_id: f.request_id,
            duration: f.started.elapsed(),
            memory_size_mb: shared.spec.memory_mb,
            max_memory_used_mb: None,
            init_duration: sb.take_init_duration(),
            status: Some(status.to_owned()),
        };
        shared.console.line(&report.line());
        let _ = shared.reports.send(report);
        let _ = f.reply.send(Err(error));
    } else if !served && !stopping {
        // Lambda fails the invocation that waited for this init.
        if let Ok(mut queue) = shared.queue.try_lock()
            && let Ok(waiting) = queue.try_recv()
        {
            let _ = waiting.reply.send(Err(InvokeError::InitFailed));
        }
    }
    let _ = server.await;
    if stopping {
        Ended::Stopped
    } else {
        Ended::Exited { served }
    }
}

fn spawn(shared: &Shared, runtime_api: &str, slot: usize) -> std::io::Result<Child> {
    let spec = &shared.spec;
    // With setpriv the process dies with the stack even if the stack is killed.
    let mut cmd = match super::setpriv() {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(&spec.binary);
            c
        }
        None => Command::new(&spec.binary),
    };
    let stream = format!(
        "{}/[$LATEST]{:032x}",
        chrono::Utc::now().format("%Y/%m/%d"),
        rand::random::<u128>()
    );
    cmd.env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned()),
        )
        .env("LANG", "C.UTF-8")
        .env("TZ", ":UTC")
        .env("_HANDLER", "bootstrap")
        .env("LAMBDA_TASK_ROOT", &spec.working_dir)
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            spec.memory_mb.to_string(),
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", stream)
        .env("AWS_REGION", &spec.region)
        .env("AWS_DEFAULT_REGION", &spec.region);
    for passthrough in ["RUST_LOG", "RUST_BACKTRACE"] {
        if let Ok(v) = std::env::var(passthrough) {
            cmd.env(passthrough, v);
        }
    }
    cmd.envs(&spec.env)
        .current_dir(&spec.working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a Ctrl-C in the terminal reaches the stack,
        // which stops the functions in order, not the functions directly.
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let label = if spec.pool_size > 1 {
        format!("{}#{slot}", spec.label)
    } else {
        spec.label.clone()
    };
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pump(out, label.clone(), shared.console.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(err, label, shared.console.clone()));
    }
    Ok(child)
}

/// Function output goes to the console line by line, as CloudWatch shows it.
async fn pump(stream: impl AsyncRead + Unpin, label: String, console: crate::console::Console) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        console.line(&format!("[{label}] {line}"));
    }
}
