//! The two sets of adapters the admin use cases run on: `Deployed` (DynamoDB
//! and the vault over tenant-scoped clients, EventBridge, the wall clock) and
//! `InMemory` for in-process tests.

use std::sync::Arc;

use zerodesk_aws::TenantClientsCache;
use zerodesk_crypto::{MemorySecrets, TenantVault};
use zerodesk_directory::{HttpsDirectories, MemoryDirectory};
use zerodesk_domain::SystemClock;
use zerodesk_events::{EventBridgePublisher, InMemoryPublisher};
use zerodesk_ledger::{DynamoAudit, MemoryAudit};
use zerodesk_store::{
    DynamoRateLimits, DynamoTenants, DynamoTickets, MemoryRateLimits, MemoryTenants, MemoryTickets,
};

use crate::admin::AdminPorts;

/// The adapters of the deployed admin function: every tenant item through
/// the tenant's own credentials from the shared cache.
pub struct Deployed;

impl AdminPorts for Deployed {
    type Tenants = DynamoTenants<Arc<TenantClientsCache>>;
    type Tickets = DynamoTickets<Arc<TenantClientsCache>>;
    type Audit = DynamoAudit<Arc<TenantClientsCache>>;
    type Vault = TenantVault;
    type Directories = HttpsDirectories;
    type Counters = DynamoRateLimits<Arc<TenantClientsCache>>;
    type Publisher = EventBridgePublisher;
    type Clock = SystemClock;
}

/// In-memory adapters, for handler and use-case tests that run in-process.
pub struct InMemory;

impl AdminPorts for InMemory {
    type Tenants = MemoryTenants;
    type Tickets = MemoryTickets;
    type Audit = MemoryAudit;
    type Vault = MemorySecrets;
    type Directories = MemoryDirectory;
    type Counters = MemoryRateLimits;
    type Publisher = InMemoryPublisher;
    type Clock = SystemClock;
}
