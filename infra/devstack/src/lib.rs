//! The local stack: everything `devstack up` runs, as a library so that the
//! end-to-end tests can drive the same pieces the binary does.

pub mod console;
pub mod gateway;
pub mod oidc;
pub mod runtime;
pub mod schedule;
#[doc(hidden)]
pub mod testing;

/// Resolves once a stop flag turns true (or its sender is gone).
pub(crate) async fn stopped(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}
pub mod admin;
pub mod banner;
pub mod binaries;
pub mod bridge;
pub mod invoke_env;
pub mod local;
pub mod outbox;
pub mod seed;
pub mod stack;
pub mod state;
