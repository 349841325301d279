//! The two sets of adapters the use cases run on: `Deployed` (DynamoDB over
//! tenant-scoped clients, the KMS/Secrets Manager vault, the HTTPS directory
//! connectors, EventBridge, the wall clock) and `InMemory` for in-process tests.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use zerodesk_aws::{
    ConfigError, FunctionEnv, MissingEnv, TableNames, TenantClientsCache, load_sdk_config,
};
use zerodesk_crypto::{KmsMac, MemoryMac, MemorySecrets, TenantVault};
use zerodesk_directory::{DirectoryEndpoints, EndpointsError, HttpsDirectories, MemoryDirectory};
use zerodesk_domain::{ClaimNames, Clock, SystemClock};
use zerodesk_events::{EventBridgePublisher, InMemoryPublisher};
use zerodesk_notify::{MemoryOutbox, SesSns};
use zerodesk_store::{
    DynamoIdempotency, DynamoRateLimits, DynamoTenants, DynamoTickets, DynamoVerifications,
    MemoryIdempotency, MemoryRateLimits, MemoryTenants, MemoryTickets, MemoryVerifications,
    TenantGate,
};

use crate::context::{Ports, Services};

/// The adapters of a deployed function. Every tenant-data call is signed
/// with the tenant's own credentials from the shared cache.
pub struct Deployed;

impl Ports for Deployed {
    type Tickets = DynamoTickets<Arc<TenantClientsCache>>;
    type Tenants = DynamoTenants<Arc<TenantClientsCache>>;
    type Idempotency = DynamoIdempotency<Arc<TenantClientsCache>>;
    type Counters = DynamoRateLimits<Arc<TenantClientsCache>>;
    type Vault = TenantVault;
    type Directories = HttpsDirectories;
    type Publisher = EventBridgePublisher;
    type Clock = SystemClock;
    type Verifications = DynamoVerifications<Arc<TenantClientsCache>>;
    type Mac = KmsMac;
    type Messenger = SesSns;
}

/// Where the deployed adapters find their resources.
pub struct DeployedConfig {
    pub tables: TableNames,
    pub stage: String,
    pub kms_key_id: String,
    pub endpoints: DirectoryEndpoints,
    pub verification: VerificationConfig,
}

/// What owner verification needs: the KMS HMAC key, the SES sender, and
/// the page's public URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationConfig {
    pub mac_key_id: String,
    pub sender: String,
    pub page_url: String,
}

impl VerificationConfig {
    pub fn from_env() -> Result<Self, MissingEnv> {
        let required = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or(MissingEnv(name))
        };
        Ok(Self {
            mac_key_id: required("VERIFICATION_MAC_KEY_ID")?,
            sender: required("NOTICE_SENDER")?,
            page_url: required("VERIFY_PAGE_URL")?,
        })
    }
}

/// Why a function could not wire its deployed services: a missing or invalid
/// environment variable (the function stops at start-up, never defaults).
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Env(#[from] MissingEnv),
    #[error(transparent)]
    Endpoints(#[from] EndpointsError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Services<Deployed> {
    /// The deployed services of `function` from its environment, and the
    /// claim names its requests are read with. Builds clients only: no
    /// network call happens before a request needs one.
    pub async fn from_env(function: &'static str) -> Result<(Self, ClaimNames), WiringError> {
        let env = FunctionEnv::from_env()?;
        let endpoints = DirectoryEndpoints::from_env()?;
        let config = load_sdk_config().await;
        let clients = TenantClientsCache::from_env(&config, function)?;
        let publisher = EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(&config),
            &env.event_bus_name,
        );
        let verification = VerificationConfig::from_env()?;
        let messenger = SesSns::new(
            aws_sdk_sesv2::Client::new(&config),
            aws_sdk_sns::Client::new(&config),
            &verification.sender,
        );
        let mac = KmsMac::new(aws_sdk_kms::Client::new(&config), &verification.mac_key_id);
        let services = Self::deployed(
            DeployedConfig {
                tables: env.tables,
                stage: env.stage,
                kms_key_id: env.kms_key_id,
                endpoints,
                verification,
            },
            clients,
            publisher,
            (mac, messenger),
        );
        Ok((services, env.claim_names))
    }

    pub fn deployed(
        config: DeployedConfig,
        clients: TenantClientsCache,
        publisher: EventBridgePublisher,
        (mac, messenger): (KmsMac, SesSns),
    ) -> Self {
        let clients = Arc::new(clients);
        Services {
            verifications: DynamoVerifications::new(
                Arc::clone(&clients),
                config.tables.tickets.clone(),
            ),
            mac,
            messenger,
            verify_page: config.verification.page_url,
            tickets: DynamoTickets::new(Arc::clone(&clients), config.tables.tickets),
            tenants: DynamoTenants::new(Arc::clone(&clients), config.tables.tenants.clone()),
            idempotency: DynamoIdempotency::new(Arc::clone(&clients), config.tables.idempotency),
            // The rate-limit counters live in the tenants table.
            counters: DynamoRateLimits::new(Arc::clone(&clients), config.tables.tenants),
            vault: TenantVault::new(clients, config.kms_key_id, config.stage),
            directories: HttpsDirectories::new(config.endpoints),
            publisher,
            clock: SystemClock,
            gate: TenantGate::default(),
        }
    }
}

/// A clock tests set and move; clones share the instant.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// In-memory adapters: the tests of the use cases and handlers run
/// in-process. Clones of each adapter share state, so a test keeps a handle.
pub struct InMemory;

impl Ports for InMemory {
    type Tickets = MemoryTickets;
    type Tenants = MemoryTenants;
    type Idempotency = MemoryIdempotency;
    type Counters = MemoryRateLimits;
    type Vault = MemorySecrets;
    type Directories = MemoryDirectory;
    type Publisher = InMemoryPublisher;
    type Clock = ManualClock;
    type Verifications = MemoryVerifications;
    type Mac = MemoryMac;
    type Messenger = MemoryOutbox;
}

impl Services<InMemory> {
    /// Empty stores, vault and directory; the clock starts at the wall clock's now.
    pub fn in_memory() -> Self {
        Services {
            tickets: MemoryTickets::new(),
            tenants: MemoryTenants::new(),
            idempotency: MemoryIdempotency::new(),
            counters: MemoryRateLimits::new(),
            vault: MemorySecrets::new(),
            directories: MemoryDirectory::new(),
            publisher: InMemoryPublisher::new(),
            clock: ManualClock::at(Utc::now()),
            gate: TenantGate::default(),
            verifications: MemoryVerifications::default(),
            mac: MemoryMac::new(rand::random()),
            messenger: MemoryOutbox::default(),
            verify_page: "https://zerodesk.test/verify".to_owned(),
        }
    }
}
