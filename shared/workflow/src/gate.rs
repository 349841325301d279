//! The tenant gate: every tenant request first checks that the tenant exists
//! and is active. The answer is cached briefly in the warm container, so the
//! check costs one read per tenant per `TTL`, and an offboarding takes effect
//! within that window in every container.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zerodesk_domain::{TenantId, TenantPolicy, TenantScope, TenantStatus};
use zerodesk_store::{StoreError, TenantRepo};

/// How long a tenant's status and policy are trusted without a re-read.
pub const TTL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("the tenant does not exist")]
    Unknown,
    #[error("the tenant is not active")]
    Inactive,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
struct Entry {
    status: TenantStatus,
    policy: TenantPolicy,
    read_at: Instant,
}

#[derive(Debug, Default)]
pub struct TenantGate {
    entries: Mutex<HashMap<TenantId, Entry>>,
}

impl TenantGate {
    /// The active tenant's policy, or why the request may not proceed.
    pub async fn admit(
        &self,
        repo: &TenantRepo,
        scope: &TenantScope,
    ) -> Result<TenantPolicy, GateError> {
        let cached = self.entries.lock().ok().and_then(|e| {
            e.get(scope.tenant())
                .filter(|e| e.read_at.elapsed() < TTL)
                .cloned()
        });
        let entry = match cached {
            Some(e) => e,
            None => {
                let tenant = repo.get(scope).await?.ok_or(GateError::Unknown)?;
                let entry = Entry {
                    status: tenant.status,
                    policy: tenant.policy,
                    read_at: Instant::now(),
                };
                if let Ok(mut e) = self.entries.lock() {
                    e.insert(scope.tenant().clone(), entry.clone());
                }
                entry
            }
        };
        if entry.status.is_active() {
            Ok(entry.policy)
        } else {
            Err(GateError::Inactive)
        }
    }
}
