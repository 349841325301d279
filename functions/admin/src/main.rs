//! admin: wiring only. Configuration from the environment (fail closed),
//! SDK clients built once and reused across warm invocations; the tenant
//! gate's cache lives as long as the container.

// The audit store's page loops nest deep futures; the
// layout query of the handler future needs more than the default depth.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_http::Error;
use zerodesk_admin::{Admin, Deployed};
use zerodesk_aws::{FunctionEnv, TenantClientsCache, load_sdk_config};
use zerodesk_crypto::TenantVault;
use zerodesk_directory::{DirectoryEndpoints, HttpsDirectories};
use zerodesk_domain::SystemClock;
use zerodesk_events::EventBridgePublisher;
use zerodesk_http::run_api;
use zerodesk_ledger::DynamoAudit;
use zerodesk_store::{DynamoRateLimits, DynamoTenants, DynamoTickets};

mod handler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    zerodesk_telemetry::init("admin");
    let env = FunctionEnv::from_env()?;
    let config = load_sdk_config().await;
    let clients = Arc::new(TenantClientsCache::from_env(&config, "admin")?);
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&config),
        &env.event_bus_name,
    );
    let app = handler::App {
        // Every tenant item through the tenant data role, one session per tenant.
        admin: Admin::<Deployed> {
            tenants: DynamoTenants::new(Arc::clone(&clients), &env.tables.tenants),
            tickets: DynamoTickets::new(Arc::clone(&clients), &env.tables.tickets),
            audit: DynamoAudit::new(Arc::clone(&clients), &env.tables.audit),
            vault: TenantVault::new(Arc::clone(&clients), &env.kms_key_id, &env.stage),
            directories: HttpsDirectories::new(DirectoryEndpoints::from_env()?),
            counters: DynamoRateLimits::new(Arc::clone(&clients), env.tables.tenants.clone()),
            publisher,
            clock: SystemClock,
            gate: zerodesk_store::TenantGate::default(),
        },
        claim_names: env.claim_names,
    };
    run_api(
        app,
        |app, req| async move { handler::handle(&app, req).await },
    )
    .await
}
