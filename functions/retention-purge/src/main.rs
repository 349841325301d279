//! retention-purge: wiring only. Runs on the EventBridge schedule;
//! configuration from the environment (fail closed), clients built once.

// The purge's page loops nest deep futures; the
// layout query of the handler future needs more than the default depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use zerodesk_aws::{FunctionEnv, TenantClientsCache, load_sdk_config};
use zerodesk_crypto::TenantVault;
use zerodesk_events::EventBridgePublisher;
use zerodesk_retention::Purger;

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("retention-purge");
    let env = FunctionEnv::from_env()?;
    let config = load_sdk_config().await;
    let clients = Arc::new(TenantClientsCache::from_env(&config, "retention-purge")?);
    // Indexes and the purge's progress with the function's own role; every
    // tenant item through the tenant purge role, one session per tenant.
    let purger = Arc::new(Purger::new(
        aws_sdk_dynamodb::Client::new(&config),
        env.tables.clone(),
        Arc::clone(&clients),
        TenantVault::new(clients, &env.kms_key_id, &env.stage),
        EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(&config),
            &env.event_bus_name,
        ),
    ));
    run(service_fn(move |event: LambdaEvent<handler::Event>| {
        let purger = Arc::clone(&purger);
        async move {
            let deadline = event.context.deadline();
            handler::handle(purger.as_ref(), event.payload, deadline, chrono::Utc::now()).await
        }
    }))
    .await
}
