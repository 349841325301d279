//! What the ticket use cases run on: one port per dependency (tickets,
//! tenants and their gate, idempotency, rate counters, the credential vault,
//! the directory, the publisher, the clock), bundled by `Ports`. The use
//! cases never build an adapter; `bundles` holds the deployed and in-memory sets.

use zerodesk_crypto::{ConnectionSecrets, MacKey};
use zerodesk_directory::DirectoryConnector;
use zerodesk_domain::{Clock, Principal, TenantPolicy, TenantScope};
use zerodesk_events::Publisher;
use zerodesk_notify::Messenger;
use zerodesk_store::{
    IdempotencyRecords, RateCounters, TenantGate, TenantStatusSource, TenantStore, TicketStore,
    VerificationStore,
};

use crate::error::WorkflowError;

/// One adapter type per port.
pub trait Ports: Send + Sync + 'static {
    type Tickets: TicketStore;
    type Tenants: TenantStore + TenantStatusSource;
    type Idempotency: IdempotencyRecords;
    type Counters: RateCounters;
    type Vault: ConnectionSecrets;
    type Directories: DirectoryConnector;
    type Publisher: Publisher;
    type Clock: Clock;
    type Verifications: VerificationStore;
    type Mac: MacKey;
    type Messenger: Messenger;
}

/// The ticket use cases over one set of adapters. Built once per container
/// in `main`; the tenant gate caches tenant status across warm invocations.
pub struct Services<P: Ports> {
    pub tickets: P::Tickets,
    pub tenants: P::Tenants,
    pub idempotency: P::Idempotency,
    pub counters: P::Counters,
    pub vault: P::Vault,
    pub directories: P::Directories,
    pub publisher: P::Publisher,
    pub clock: P::Clock,
    pub gate: TenantGate,
    pub verifications: P::Verifications,
    /// Keyed hashes of verification secrets.
    pub mac: P::Mac,
    /// Verification links and codes, and notices, to account owners.
    pub messenger: P::Messenger,
    /// The public URL of the verification page; links add `#<token>`.
    pub verify_page: String,
}

impl<P: Ports> Services<P> {
    /// The scope of a tenant principal and its active tenant's policy.
    pub(crate) async fn admit(
        &self,
        principal: &Principal,
    ) -> Result<(TenantScope, TenantPolicy), WorkflowError> {
        let scope = TenantScope::for_principal(principal).ok_or(WorkflowError::Forbidden)?;
        self.admit_scope(scope).await
    }

    pub(crate) async fn admit_scope(
        &self,
        scope: TenantScope,
    ) -> Result<(TenantScope, TenantPolicy), WorkflowError> {
        let policy = self.gate.admit(&self.tenants, &scope).await?;
        Ok((scope, policy))
    }
}
