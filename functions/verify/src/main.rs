//! verify: wiring only. The owner verification page and its JSON endpoint,
//! the one part of the API without a JWT. Configuration from the
//! environment (fail closed); clients built once per container.

// The deployed adapters' nested futures are deeper than the default limit.
#![recursion_limit = "256"]

use lambda_http::Error;
use zerodesk_http::run_api;
use zerodesk_workflow::Services;

mod handler;
mod page;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("verify");
    let (services, _claim_names) = Services::from_env("verify").await?;
    let app = handler::App { services };
    run_api(
        app,
        |app, req| async move { handler::handle(&app, req).await },
    )
    .await
}
