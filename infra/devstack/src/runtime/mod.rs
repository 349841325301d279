//! Runs function binaries as Lambda does: each process polls a Runtime API
//! served here, is kept warm, handles one invocation at a time, and is
//! restarted when it exits. Callers only see `Function::invoke`.

mod api;
pub mod report;
mod sandbox;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::console::Console;
pub use report::Report;

/// How many invocations may wait for a free process before callers are refused.
const QUEUE_DEPTH: usize = 256;

/// Everything needed to run one function locally.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// `AWS_LAMBDA_FUNCTION_NAME`, e.g. `zerodesk-local-tickets`.
    pub name: String,
    /// Short label for console lines, e.g. the binary name.
    pub label: String,
    pub binary: PathBuf,
    /// The function's own environment (template values resolved for local).
    pub env: BTreeMap<String, String>,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// Processes kept warm; each handles one invocation at a time.
    pub pool_size: usize,
    pub region: String,
    pub account_id: String,
    pub working_dir: PathBuf,
}

impl FunctionSpec {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account_id, self.name
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The function reported an error through `/error`.
    #[error("function error {error_type}")]
    Function { error_type: String, message: String },
    /// The process exited during the invocation.
    #[error("the process exited during the invocation")]
    Crashed,
    #[error("the invocation timed out after {0:?}")]
    TimedOut(Duration),
    /// The process exited before it asked for work.
    #[error("the function failed to initialise")]
    InitFailed,
    #[error("the response exceeds Lambda's payload limit")]
    ResponseTooLarge,
    /// The function is stopped or its queue is full.
    #[error("the function cannot take invocations")]
    Unavailable,
}

pub(crate) type Reply = oneshot::Sender<Result<Vec<u8>, InvokeError>>;

pub(crate) struct Invocation {
    pub request_id: String,
    pub payload: Vec<u8>,
    pub reply: Reply,
}

/// State shared by a function's processes.
pub(crate) struct Shared {
    pub spec: FunctionSpec,
    pub queue_tx: mpsc::Sender<Invocation>,
    pub queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    pub console: Console,
    pub reports: broadcast::Sender<Report>,
    pub delivered: AtomicU64,
    pub starts: AtomicU64,
    pub shutdown: watch::Receiver<bool>,
}

/// A running function: a pool of warm processes behind one queue.
pub struct Function {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    supervisors: Vec<tokio::task::JoinHandle<()>>,
}

impl Function {
    /// Starts the pool; processes initialise in the background.
    pub fn start(spec: FunctionSpec, console: Console) -> Function {
        let (queue_tx, queue_rx) = mpsc::channel(QUEUE_DEPTH);
        let (stop, shutdown) = watch::channel(false);
        let (reports, _) = broadcast::channel(256);
        let pool = spec.pool_size.max(1);
        let shared = Arc::new(Shared {
            spec,
            queue_tx,
            queue: tokio::sync::Mutex::new(queue_rx),
            console,
            reports,
            delivered: AtomicU64::new(0),
            starts: AtomicU64::new(0),
            shutdown,
        });
        let supervisors = (0..pool)
            .map(|slot| tokio::spawn(sandbox::supervise(shared.clone(), slot)))
            .collect();
        Function {
            shared,
            stop,
            supervisors,
        }
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.shared.spec
    }

    /// A handle that can invoke the function from other tasks.
    pub fn invoker(&self) -> Invoker {
        Invoker {
            shared: self.shared.clone(),
        }
    }

    /// Invocations handed to a process so far.
    pub fn invocations(&self) -> u64 {
        self.shared.delivered.load(Ordering::SeqCst)
    }

    /// Processes started so far (restarts included).
    pub fn process_starts(&self) -> u64 {
        self.shared.starts.load(Ordering::SeqCst)
    }

    pub fn reports(&self) -> broadcast::Receiver<Report> {
        self.shared.reports.subscribe()
    }

    /// Kills every process of the function and waits until each has exited.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for s in self.supervisors {
            let _ = s.await;
        }
    }
}

/// Cheap, cloneable invocation handle.
#[derive(Clone)]
pub struct Invoker {
    shared: Arc<Shared>,
}

impl Invoker {
    pub fn function_name(&self) -> &str {
        &self.shared.spec.name
    }

    /// REPORT lines of the function's invocations from now on; subscribe
    /// before invoking to see the invocation's own.
    pub fn reports(&self) -> broadcast::Receiver<Report> {
        self.shared.reports.subscribe()
    }

    /// Invokes synchronously (RequestResponse) and waits for the outcome.
    pub async fn invoke(&self, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        self.invoke_with_id(new_request_id(), payload).await
    }

    pub async fn invoke_with_id(
        &self,
        request_id: String,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, InvokeError> {
        if *self.shared.shutdown.borrow() {
            return Err(InvokeError::Unavailable);
        }
        let (reply, outcome) = oneshot::channel();
        self.shared
            .queue_tx
            .try_send(Invocation {
                request_id,
                payload,
                reply,
            })
            .map_err(|_| InvokeError::Unavailable)?;
        outcome.await.unwrap_or(Err(InvokeError::Unavailable))
    }
}

/// A Lambda-style request id (UUID v4 text).
pub fn new_request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// util-linux `setpriv`, used to give children a parent-death signal so that
/// nothing outlives a stack that was killed without a chance to clean up.
pub use zerodesk_localaws::moto::setpriv;
