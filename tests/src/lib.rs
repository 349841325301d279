//! The local AWS harness every crate's tests use: a pinned moto server from
//! the project virtualenv on a free loopback port, started once per test
//! binary and provisioned from `template.yaml`. It never reuses a server it
//! did not start, and the server dies with the test process.

#![allow(clippy::print_stderr)]

mod moto;
mod provision;

use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

pub use provision::ResourceNames;

/// The region and stage every local resource lives in.
pub const REGION: &str = "us-east-1";
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
    #[allow(clippy::expect_used)]
    pub fn shared() -> &'static LocalAws {
        let started = LOCAL_AWS.get_or_init(|| {
            // Provision on a runtime of its own: the callers' runtimes are per test.
            std::thread::spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(async {
                    let endpoint = moto::start().await.map_err(|e| e.to_string())?;
                    let config = sdk_config_for(&endpoint).await;
                    let names = provision::provision(&config)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(LocalAws { endpoint, names })
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the harness thread panicked".to_owned()))
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

/// SDK configuration for a local endpoint with fixed test credentials.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "zerodesk-testkit",
        ))
        .load()
        .await
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
