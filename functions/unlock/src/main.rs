//! unlock: wiring only. One entry point serves both the HTTP route and the
//! EventBridge rule; configuration from the environment (fail closed).

#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Error, service_fn};
use zerodesk_aws::{FunctionEnv, TenantClientsCache, load_sdk_config};
use zerodesk_directory::DirectoryEndpoints;
use zerodesk_events::EventBridgePublisher;
use zerodesk_workflow::{DeployedConfig, Services};

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("unlock");
    let env = FunctionEnv::from_env()?;
    let endpoints = DirectoryEndpoints::from_env()?;
    let config = load_sdk_config().await;
    let clients = TenantClientsCache::from_env(&config, "unlock")?;
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
    let app = Arc::new(handler::App {
        services,
        claim_names: env.claim_names,
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
