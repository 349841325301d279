//! The local AWS harness every crate's tests use: one emulator per test
//! binary, started and provisioned from `template.yaml` by
//! `zerodesk-localaws`, plus a queue that sees every published event. It never
//! reuses a server it did not start, and the server dies with the test process.

mod provision;

use std::sync::OnceLock;

use aws_config::SdkConfig;

pub use provision::ResourceNames;
pub use zerodesk_localaws::create_table;

/// The region and stage every local resource lives in.
pub const REGION: &str = zerodesk_localaws::REGION;
pub const STAGE: &str = "test";

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("cannot prepare the project virtualenv: {0}")]
    Virtualenv(String),
    #[error("cannot start moto: {0}")]
    Start(String),
    #[error("cannot provision local resources: {0}")]
    Provision(String),
}

/// A running local AWS with everything provisioned. Holds only plain data,
/// so each test builds its SDK clients on its own runtime.
#[derive(Debug, Clone)]
pub struct LocalAws {
    pub endpoint: String,
    pub names: ResourceNames,
}

static LOCAL_AWS: OnceLock<Result<LocalAws, String>> = OnceLock::new();

impl LocalAws {
    /// The server of this test binary, started and provisioned on first use.
    ///
    /// # Panics
    /// When the server cannot be started: a test cannot run without it.
    pub fn shared() -> &'static LocalAws {
        let started = LOCAL_AWS.get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::channel();
            // The server's parent-death signal follows the thread that starts
            // it, so that thread owns the server and lives as long as the tests.
            let owner = std::thread::Builder::new()
                .name("local-aws".to_owned())
                .spawn(move || {
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            let _ = sender.send(Err(e.to_string()));
                            return;
                        }
                    };
                    rt.block_on(async {
                        match start_and_provision().await {
                            Ok((moto, aws)) => {
                                let _ = sender.send(Ok(aws));
                                std::future::pending::<()>().await;
                                drop(moto);
                            }
                            Err(e) => {
                                let _ = sender.send(Err(e.to_string()));
                            }
                        }
                    });
                });
            match owner {
                Ok(_) => receiver
                    .recv()
                    .unwrap_or_else(|_| Err("the harness thread panicked".to_owned())),
                Err(e) => Err(e.to_string()),
            }
        });
        match started {
            Ok(aws) => aws,
            Err(why) => panic!("local AWS unavailable: {why}"),
        }
    }

    /// A fresh SDK configuration pointing at this server.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint).await
    }
}

async fn start_and_provision() -> Result<(zerodesk_localaws::Moto, LocalAws), HarnessError> {
    let root = zerodesk_localaws::repository_root();
    let server = zerodesk_localaws::moto::ensure_installed(&root, &|_| {})
        .await
        .map_err(|e| HarnessError::Virtualenv(e.to_string()))?;
    let moto = zerodesk_localaws::moto::start(&server, None)
        .await
        .map_err(|e| HarnessError::Start(e.to_string()))?;
    let endpoint = moto.endpoint.clone();
    let config = sdk_config_for(&endpoint).await;
    let names = provision::provision(&config).await?;
    Ok((moto, LocalAws { endpoint, names }))
}

/// SDK configuration for a local endpoint with fixed test credentials.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    zerodesk_localaws::sdk_config(endpoint).await
}

/// A tenant id no other test in this binary uses.
pub fn unique_tenant(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{n}-{nanos:x}")
}
