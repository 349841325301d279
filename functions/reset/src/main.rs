//! reset: wiring only. One entry point serves both the HTTP route and the
//! EventBridge rule; configuration from the environment (fail closed), SDK
//! clients built once and reused across warm invocations.

// The deployed adapters' nested futures are deeper than the default limit.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Error, service_fn};
use zerodesk_workflow::Services;

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("reset");
    let (services, claim_names) = Services::from_env("reset").await?;
    let app = Arc::new(handler::App {
        services,
        claim_names,
        action: zerodesk_events::DirectoryAction::Reset,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let app = Arc::clone(&app);
        async move {
            handler::handle(&app, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
