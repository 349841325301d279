//! In-memory adapters of the store's ports, for use-case and handler tests
//! that run in-process. They keep the DynamoDB adapters' contract (conditions,
//! ordering, tenant checks); `unavailable` makes every call fail as a table
//! outage would. Never used by a deployed function.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use zerodesk_domain::{
    AccountRef, Category, OwnerVerification, Tenant, TenantId, TenantScope, Ticket, TicketId,
    TicketState,
};

use crate::idempotency::payload_hash;
use crate::ports::{IdempotencyRecords, RateCounters, TenantStore, TicketStore, VerificationStore};
use crate::{
    Claim, ConnectionMetadata, IdempotencyConfig, IdempotencyError, IdempotencyKey, Page,
    PageRequest, RateBucket, RateLimitError, StoreError, VerificationRevision,
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A switch shared by clones of an adapter: while on, every call fails
/// with `StoreError::Unavailable`.
#[derive(Debug, Clone, Default)]
pub struct Outage(Arc<AtomicBool>);

impl Outage {
    pub fn set(&self, down: bool) {
        self.0.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.0.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(
                "the in-memory table is switched off".into(),
            ))
        } else {
            Ok(())
        }
    }
}

fn page_of<T: Clone>(
    newest_first: Vec<(String, T)>,
    page: &PageRequest,
) -> Result<Page<T>, StoreError> {
    let start = match page.cursor.as_deref() {
        Some(c) => {
            if !newest_first.iter().any(|(k, _)| k == c) {
                return Err(StoreError::BadCursor);
            }
            newest_first
                .iter()
                .position(|(k, _)| k == c)
                .map_or(0, |i| i + 1)
        }
        None => 0,
    };
    let limit = usize::try_from(page.limit()).unwrap_or(1);
    let rest = &newest_first[start.min(newest_first.len())..];
    let items: Vec<T> = rest.iter().take(limit).map(|(_, t)| t.clone()).collect();
    let next_cursor = (rest.len() > limit).then(|| rest[limit - 1].0.clone());
    Ok(Page { items, next_cursor })
}

/// Tickets, keyed by tenant and id.
#[derive(Debug, Clone, Default)]
pub struct MemoryTickets {
    items: Arc<Mutex<BTreeMap<(TenantId, String), Ticket>>>,
    /// The filing counters, as the DynamoDB adapter keeps them beside the tickets.
    counters: MemoryRateLimits,
    pub outage: Outage,
}

impl MemoryTickets {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored ticket of every tenant, for assertions.
    pub fn all(&self) -> Vec<Ticket> {
        lock(&self.items).values().cloned().collect()
    }

    fn check_tenant(scope: &TenantScope, ticket: &Ticket) -> Result<(), StoreError> {
        if ticket.tenant_id == *scope.tenant() {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    fn newest_first(
        &self,
        scope: &TenantScope,
        keep: impl Fn(&Ticket) -> bool,
    ) -> Vec<(String, Ticket)> {
        let items = lock(&self.items);
        let mut found: Vec<(String, Ticket)> = items
            .iter()
            .filter(|((tenant, _), t)| tenant == scope.tenant() && keep(t))
            .map(|((_, id), t)| (id.clone(), t.clone()))
            .collect();
        found.reverse();
        found
    }
}

impl TicketStore for MemoryTickets {
    async fn create(&self, scope: &TenantScope, ticket: &Ticket) -> Result<(), StoreError> {
        self.outage.check()?;
        Self::check_tenant(scope, ticket)?;
        let mut items = lock(&self.items);
        let key = (scope.tenant().clone(), ticket.id.to_string());
        if items.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        items.insert(key, ticket.clone());
        Ok(())
    }

    /// Checks every limit before anything is counted or written, as the
    /// transaction does.
    async fn create_counted(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        limits: &[(RateBucket, u32)],
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        self.outage.check()?;
        Self::check_tenant(scope, ticket)?;
        let mut items = lock(&self.items);
        let key = (scope.tenant().clone(), ticket.id.to_string());
        if items.contains_key(&key) {
            return Err(StoreError::AlreadyExists.into());
        }
        self.counters.consume_all(scope, limits, now)?;
        items.insert(key, ticket.clone());
        Ok(())
    }

    async fn get(&self, scope: &TenantScope, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.items)
            .get(&(scope.tenant().clone(), id.to_string()))
            .cloned())
    }

    async fn replace(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        expected: TicketState,
        _retention_days: u32,
    ) -> Result<(), StoreError> {
        self.outage.check()?;
        Self::check_tenant(scope, ticket)?;
        let mut items = lock(&self.items);
        match items.get_mut(&(scope.tenant().clone(), ticket.id.to_string())) {
            Some(stored) if stored.state == expected => {
                *stored = ticket.clone();
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn list(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, StoreError> {
        self.outage.check()?;
        page_of(self.newest_first(scope, |_| true), page)
    }

    async fn list_for_requester(
        &self,
        scope: &TenantScope,
        requester: &AccountRef,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, StoreError> {
        self.outage.check()?;
        page_of(
            self.newest_first(scope, |t| t.requester == *requester),
            page,
        )
    }

    async fn delete(&self, scope: &TenantScope, id: &TicketId) -> Result<(), StoreError> {
        self.outage.check()?;
        lock(&self.items).remove(&(scope.tenant().clone(), id.to_string()));
        Ok(())
    }
}

/// Tenant records and connection metadata.
#[derive(Debug, Clone, Default)]
pub struct MemoryTenants {
    records: Arc<Mutex<BTreeMap<TenantId, Tenant>>>,
    connections: Arc<Mutex<BTreeMap<TenantId, ConnectionMetadata>>>,
    pub outage: Outage,
}

impl MemoryTenants {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding these tenants already.
    pub fn with(tenants: impl IntoIterator<Item = Tenant>) -> Self {
        let store = Self::default();
        lock(&store.records).extend(tenants.into_iter().map(|t| (t.id.clone(), t)));
        store
    }

    /// Every stored tenant, for the purge's work list and assertions.
    pub fn all(&self) -> Vec<Tenant> {
        lock(&self.records).values().cloned().collect()
    }
}

impl TenantStore for MemoryTenants {
    async fn create(&self, scope: &TenantScope, tenant: &Tenant) -> Result<(), StoreError> {
        self.outage.check()?;
        if tenant.id != *scope.tenant() {
            return Err(StoreError::Conflict);
        }
        let mut records = lock(&self.records);
        if records.contains_key(&tenant.id) {
            return Err(StoreError::AlreadyExists);
        }
        records.insert(tenant.id.clone(), tenant.clone());
        Ok(())
    }

    async fn get(&self, scope: &TenantScope) -> Result<Option<Tenant>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.records).get(scope.tenant()).cloned())
    }

    async fn replace(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        expected_status: &str,
    ) -> Result<(), StoreError> {
        self.outage.check()?;
        if tenant.id != *scope.tenant() {
            return Err(StoreError::Conflict);
        }
        match lock(&self.records).get_mut(scope.tenant()) {
            Some(stored) if stored.status.as_str() == expected_status => {
                *stored = tenant.clone();
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn put_connection(
        &self,
        scope: &TenantScope,
        meta: &ConnectionMetadata,
    ) -> Result<(), StoreError> {
        self.outage.check()?;
        lock(&self.connections).insert(scope.tenant().clone(), meta.clone());
        Ok(())
    }

    async fn get_connection(
        &self,
        scope: &TenantScope,
    ) -> Result<Option<ConnectionMetadata>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.connections).get(scope.tenant()).cloned())
    }

    async fn delete_connection(&self, scope: &TenantScope) -> Result<(), StoreError> {
        self.outage.check()?;
        lock(&self.connections).remove(scope.tenant());
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct IdempotencyRecord {
    completed: Option<String>,
    payload_hash: String,
    in_progress_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// Idempotency records with the DynamoDB adapter's conditions.
#[derive(Debug, Clone, Default)]
pub struct MemoryIdempotency {
    records: Arc<Mutex<BTreeMap<(TenantId, String), IdempotencyRecord>>>,
    config: IdempotencyConfig,
    pub outage: Outage,
}

impl MemoryIdempotency {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records the tenant holds, for assertions.
    pub fn count(&self, tenant: &TenantId) -> usize {
        lock(&self.records)
            .keys()
            .filter(|(t, _)| t == tenant)
            .count()
    }
}

impl IdempotencyRecords for MemoryIdempotency {
    async fn begin(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Claim, IdempotencyError> {
        self.outage.check()?;
        let hash = payload_hash(payload);
        let mut records = lock(&self.records);
        let id = (scope.tenant().clone(), key.sort_key());
        let claimable = match records.get(&id) {
            None => true,
            Some(r) => r.expires_at < now || (r.completed.is_none() && r.in_progress_until < now),
        };
        if claimable {
            records.insert(
                id,
                IdempotencyRecord {
                    completed: None,
                    payload_hash: hash,
                    in_progress_until: now + self.config.in_progress_ttl,
                    expires_at: now + self.config.record_ttl,
                },
            );
            return Ok(Claim::Acquired);
        }
        let existing = records.get(&id).ok_or(IdempotencyError::InProgress)?;
        if existing.payload_hash != hash {
            return Err(IdempotencyError::PayloadMismatch);
        }
        match &existing.completed {
            Some(response) => Ok(Claim::Completed(response.clone())),
            None => Err(IdempotencyError::InProgress),
        }
    }

    async fn complete(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        response: &str,
    ) -> Result<(), IdempotencyError> {
        self.outage.check()?;
        let hash = payload_hash(payload);
        match lock(&self.records).get_mut(&(scope.tenant().clone(), key.sort_key())) {
            Some(r) if r.completed.is_none() && r.payload_hash == hash => {
                r.completed = Some(response.to_owned());
                Ok(())
            }
            _ => Err(StoreError::Conflict.into()),
        }
    }

    async fn release(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
    ) -> Result<(), IdempotencyError> {
        self.outage.check()?;
        let hash = payload_hash(payload);
        let mut records = lock(&self.records);
        let id = (scope.tenant().clone(), key.sort_key());
        match records.get(&id) {
            Some(r) if r.completed.is_none() && r.payload_hash == hash => {
                records.remove(&id);
                Ok(())
            }
            _ => Err(StoreError::Conflict.into()),
        }
    }
}

/// (tenant, bucket, window start) -> actions counted in that window.
type WindowCounts = BTreeMap<(TenantId, String, i64), u32>;

/// Fixed-window counters, as the DynamoDB adapter keeps them.
#[derive(Debug, Clone, Default)]
pub struct MemoryRateLimits {
    counts: Arc<Mutex<WindowCounts>>,
    pub outage: Outage,
}

impl MemoryRateLimits {
    pub fn new() -> Self {
        Self::default()
    }
}

impl MemoryRateLimits {
    /// Counts one against every bucket if all are under their limits, and
    /// against none otherwise.
    fn consume_all(
        &self,
        scope: &TenantScope,
        limits: &[(RateBucket, u32)],
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        let mut counts = lock(&self.counts);
        let keys: Vec<_> = limits
            .iter()
            .map(|(bucket, limit)| {
                let (start, left) = bucket.window(now);
                ((scope.tenant().clone(), bucket.name(), start), *limit, left)
            })
            .collect();
        for (key, limit, left) in &keys {
            if counts.get(key).copied().unwrap_or(0) >= *limit {
                return Err(RateLimitError::Limited {
                    retry_after_seconds: *left,
                });
            }
        }
        for (key, _, _) in keys {
            *counts.entry(key).or_insert(0) += 1;
        }
        Ok(())
    }
}

impl RateCounters for MemoryRateLimits {
    async fn consume(
        &self,
        scope: &TenantScope,
        bucket: &RateBucket,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        self.outage.check()?;
        self.consume_all(scope, &[(bucket.clone(), limit)], now)
    }
}

type VerificationKey = (TenantId, TicketId, Category);

/// Owner verifications in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryVerifications {
    items: Arc<Mutex<BTreeMap<VerificationKey, OwnerVerification>>>,
    pub outage: Outage,
}

impl MemoryVerifications {
    fn key(scope: &TenantScope, ticket: &TicketId, category: Category) -> VerificationKey {
        (scope.tenant().clone(), *ticket, category)
    }

    /// Every stored verification, for tests that scan stored state.
    pub fn all(&self) -> Vec<OwnerVerification> {
        lock(&self.items).values().cloned().collect()
    }
}

impl VerificationStore for MemoryVerifications {
    async fn create(&self, scope: &TenantScope, v: &OwnerVerification) -> Result<(), StoreError> {
        self.outage.check()?;
        if v.tenant_id != *scope.tenant() {
            return Err(StoreError::Conflict);
        }
        let mut items = lock(&self.items);
        let key = Self::key(scope, &v.ticket_id, v.category);
        if items.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        items.insert(key, v.clone());
        Ok(())
    }

    async fn get(
        &self,
        scope: &TenantScope,
        ticket: &TicketId,
        category: Category,
    ) -> Result<Option<OwnerVerification>, StoreError> {
        self.outage.check()?;
        Ok(lock(&self.items)
            .get(&Self::key(scope, ticket, category))
            .cloned())
    }

    async fn replace(
        &self,
        scope: &TenantScope,
        v: &OwnerVerification,
        expected: VerificationRevision,
    ) -> Result<(), StoreError> {
        self.outage.check()?;
        if v.tenant_id != *scope.tenant() {
            return Err(StoreError::Conflict);
        }
        let mut items = lock(&self.items);
        match items.get_mut(&Self::key(scope, &v.ticket_id, v.category)) {
            Some(stored) if VerificationRevision::of(stored) == expected => {
                *stored = v.clone();
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }
}
