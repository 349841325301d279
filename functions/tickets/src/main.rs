//! triage: wiring only. Configuration from the environment (fail closed),
//! SDK clients built once and reused across warm invocations.

use std::sync::Arc;

use lambda_http::{Error, run, service_fn};
use zerodesk_aws::{FunctionEnv, TenantClientsCache, load_sdk_config};
use zerodesk_events::EventBridgePublisher;
use zerodesk_workflow::{Services, Tables};

mod handler;
#[cfg(test)]
mod route_matrix;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("triage");
    let env = FunctionEnv::from_env()?;
    let config = load_sdk_config().await;
    let clients = TenantClientsCache::from_env(&config, "triage")?;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&config),
        &env.event_bus_name,
    );
    let app = Arc::new(handler::App {
        services: Services::new(Tables::from(&env.tables), clients, publisher),
        claim_names: env.claim_names,
    });
    run(service_fn(move |req| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Error>(handler::handle(&app, req).await) }
    }))
    .await
}
