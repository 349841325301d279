//! audit-write: wiring only. The EventBridge target of every zerodesk event;
//! configuration from the environment (fail closed), one DynamoDB client
//! and one writer (with its head and salt caches) per warm container.

// The writer's retry loop nests deep futures; clippy's layout query needs room.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use zerodesk_aws::{FunctionEnv, TenantClientsCache, load_sdk_config};
use zerodesk_ledger::AuditWriter;

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("audit-write");
    let env = FunctionEnv::from_env()?;
    let config = load_sdk_config().await;
    // Tenant chains through the tenant audit-writer role, one session per
    // tenant; the platform trail with the function's own role.
    let tenant_clients = Arc::new(TenantClientsCache::from_env(&config, "audit-write")?);
    let writer = Arc::new(AuditWriter::new(
        aws_sdk_dynamodb::Client::new(&config),
        &env.tables.audit,
        &env.tables.tenants,
        tenant_clients,
    ));
    run(service_fn(move |event: LambdaEvent<handler::Event>| {
        let writer = Arc::clone(&writer);
        async move { handler::handle(writer.as_ref(), event.payload).await }
    }))
    .await
}
