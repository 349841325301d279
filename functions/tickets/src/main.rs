//! tickets: wiring only. Configuration from the environment (fail closed),
//! SDK clients built once and reused across warm invocations.

// The deployed adapters' nested futures are deeper than the default limit.
#![recursion_limit = "256"]

use lambda_http::Error;
use zerodesk_http::run_api;
use zerodesk_workflow::Services;

mod handler;
#[cfg(test)]
mod route_matrix;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("tickets");
    let (services, claim_names) = Services::from_env("tickets").await?;
    let app = handler::App {
        services,
        claim_names,
    };
    run_api(
        app,
        |app, req| async move { handler::handle(&app, req).await },
    )
    .await
}
