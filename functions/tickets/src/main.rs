//! tickets: wiring only. Configuration from the environment (fail closed),
//! SDK clients built once and reused across warm invocations.

// The deployed adapters' nested futures are deeper than the default limit.
#![recursion_limit = "256"]

use lambda_http::Error;
use zerodesk_aws::{FunctionEnv, TenantClientsCache, load_sdk_config};
use zerodesk_directory::DirectoryEndpoints;
use zerodesk_events::EventBridgePublisher;
use zerodesk_http::run_api;
use zerodesk_workflow::{DeployedConfig, Services};

mod handler;
#[cfg(test)]
mod route_matrix;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("tickets");
    let env = FunctionEnv::from_env()?;
    // tickets runs no directory action; unset variables mean the real endpoints.
    let endpoints = DirectoryEndpoints::from_env()?;
    let config = load_sdk_config().await;
    let clients = TenantClientsCache::from_env(&config, "tickets")?;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&config),
        &env.event_bus_name,
    );
    let services = Services::deployed(
        DeployedConfig {
            tables: env.tables,
            stage: env.stage,
            kms_key_id: env.kms_key_id,
            endpoints,
        },
        clients,
        publisher,
    );
    let app = handler::App {
        services,
        claim_names: env.claim_names,
    };
    run_api(
        app,
        |app, req| async move { handler::handle(&app, req).await },
    )
    .await
}
