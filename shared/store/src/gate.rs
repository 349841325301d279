//! The tenant gate: an API request of a tenant principal proceeds only while
//! the tenant record exists and is `active`. Answers are cached per tenant for
//! a short time in the warm container (one read per tenant per `GATE_TTL`);
//! a lifecycle change made in this container evicts its entry at once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{StoreError, TenantRepo};
use zerodesk_domain::{TenantId, TenantPolicy, TenantScope, TenantStatus};

/// How long a tenant's status is trusted without a re-read.
pub const GATE_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// No tenant record: never onboarded, or purged and gone.
    #[error("the tenant does not exist")]
    Unknown,
    /// Offboarding or purged: every tenant route is refused.
    #[error("the tenant is not active")]
    Inactive,
    #[error("the tenant record cannot be read")]
    Store(#[source] StoreError),
}

/// What the gate needs to know about a tenant: its status and policy.
pub trait TenantStatusSource: Send + Sync {
    fn status(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Option<(TenantStatus, TenantPolicy)>, StoreError>> + Send;
}

impl TenantStatusSource for TenantRepo {
    async fn status(
        &self,
        scope: &TenantScope,
    ) -> Result<Option<(TenantStatus, TenantPolicy)>, StoreError> {
        Ok(self.get(scope).await?.map(|t| (t.status, t.policy)))
    }
}

impl<D: crate::TenantDb> TenantStatusSource for crate::DynamoTenants<D> {
    async fn status(
        &self,
        scope: &TenantScope,
    ) -> Result<Option<(TenantStatus, TenantPolicy)>, StoreError> {
        Ok(crate::TenantStore::get(self, scope)
            .await?
            .map(|t| (t.status, t.policy)))
    }
}

impl TenantStatusSource for crate::MemoryTenants {
    async fn status(
        &self,
        scope: &TenantScope,
    ) -> Result<Option<(TenantStatus, TenantPolicy)>, StoreError> {
        Ok(crate::TenantStore::get(self, scope)
            .await?
            .map(|t| (t.status, t.policy)))
    }
}

#[derive(Debug, Clone)]
struct Entry {
    status: Option<TenantStatus>,
    policy: TenantPolicy,
    read_at: Instant,
}

#[derive(Debug)]
pub struct TenantGate {
    ttl: Duration,
    entries: Mutex<HashMap<TenantId, Entry>>,
}

impl Default for TenantGate {
    fn default() -> Self {
        Self::new(GATE_TTL)
    }
}

impl TenantGate {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The active tenant's policy, or why the request must be refused.
    pub async fn admit<S: TenantStatusSource>(
        &self,
        source: &S,
        scope: &TenantScope,
    ) -> Result<TenantPolicy, GateError> {
        let cached = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(scope.tenant())
            .filter(|e| e.read_at.elapsed() < self.ttl)
            .cloned();
        let entry = match cached {
            Some(e) => e,
            None => {
                let read = source.status(scope).await.map_err(GateError::Store)?;
                let entry = match read {
                    Some((status, policy)) => Entry {
                        status: Some(status),
                        policy,
                        read_at: Instant::now(),
                    },
                    None => Entry {
                        status: None,
                        policy: TenantPolicy::default(),
                        read_at: Instant::now(),
                    },
                };
                self.entries
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(scope.tenant().clone(), entry.clone());
                entry
            }
        };
        match entry.status {
            None => Err(GateError::Unknown),
            Some(TenantStatus::Active) => Ok(entry.policy),
            Some(_) => Err(GateError::Inactive),
        }
    }

    /// Forgets a tenant, so the next request re-reads its record.
    pub fn evict(&self, tenant: &TenantId) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use zerodesk_domain::SystemTask;

    struct Fake {
        status: Mutex<Option<TenantStatus>>,
        reads: AtomicUsize,
    }

    impl TenantStatusSource for Fake {
        async fn status(
            &self,
            _scope: &TenantScope,
        ) -> Result<Option<(TenantStatus, TenantPolicy)>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self
                .status
                .lock()
                .unwrap()
                .clone()
                .map(|s| (s, TenantPolicy::default())))
        }
    }

    fn scope() -> TenantScope {
        TenantScope::for_system_task(TenantId::parse("demo").unwrap(), SystemTask::AuditAppend)
    }

    #[tokio::test]
    async fn an_active_tenant_is_admitted_and_read_once_within_the_ttl() {
        let fake = Fake {
            status: Mutex::new(Some(TenantStatus::Active)),
            reads: AtomicUsize::new(0),
        };
        let gate = TenantGate::default();
        gate.admit(&fake, &scope()).await.unwrap();
        gate.admit(&fake, &scope()).await.unwrap();
        assert_eq!(fake.reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_offboarding_tenant_is_refused_after_eviction_at_once() {
        let fake = Fake {
            status: Mutex::new(Some(TenantStatus::Active)),
            reads: AtomicUsize::new(0),
        };
        let gate = TenantGate::default();
        gate.admit(&fake, &scope()).await.unwrap();
        *fake.status.lock().unwrap() = Some(TenantStatus::Offboarding {
            since: chrono::Utc::now(),
        });
        // Cached: still admitted within the TTL in another container...
        assert!(gate.admit(&fake, &scope()).await.is_ok());
        // ...but refused at once where the change was made.
        gate.evict(scope().tenant());
        assert!(matches!(
            gate.admit(&fake, &scope()).await,
            Err(GateError::Inactive)
        ));
    }

    #[tokio::test]
    async fn an_expired_entry_is_re_read_and_an_unknown_tenant_refused() {
        let fake = Fake {
            status: Mutex::new(None),
            reads: AtomicUsize::new(0),
        };
        let gate = TenantGate::new(Duration::ZERO);
        assert!(matches!(
            gate.admit(&fake, &scope()).await,
            Err(GateError::Unknown)
        ));
        assert!(gate.admit(&fake, &scope()).await.is_err());
        assert_eq!(fake.reads.load(Ordering::SeqCst), 2);
    }
}
