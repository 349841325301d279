//! The store's ports: what the use cases may ask of tenant data. Every call
//! takes the `TenantScope` whose keys it may touch. The DynamoDB adapters
//! (`dynamodb`) and the in-memory ones (`memory`) implement them side by side.

use std::future::Future;

use chrono::{DateTime, Utc};
use zerodesk_domain::{
    AccountRef, Category, OwnerVerification, Tenant, TenantScope, Ticket, TicketId, TicketState,
};

use crate::{
    Claim, ConnectionMetadata, IdempotencyError, IdempotencyKey, Page, PageRequest, RateBucket,
    RateLimitError, StoreError, VerificationRevision,
};

/// A tenant's tickets.
pub trait TicketStore: Send + Sync {
    /// Stores a new ticket; an id already taken is `AlreadyExists`.
    fn create(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a new ticket counted against `limits`, atomically: nothing is
    /// written when a limit is reached (`Limited`) or the id is taken.
    fn create_counted(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        limits: &[(RateBucket, u32)],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), RateLimitError>> + Send;

    /// One ticket, read strongly consistent.
    fn get(
        &self,
        scope: &TenantScope,
        id: &TicketId,
    ) -> impl Future<Output = Result<Option<Ticket>, StoreError>> + Send;

    /// Replaces a ticket whose stored state is still `expected` (else `Conflict`);
    /// terminal tickets expire `retention_days` after their last change.
    fn replace(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        expected: TicketState,
        retention_days: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every ticket of the tenant, newest first.
    fn list(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<Ticket>, StoreError>> + Send;

    /// The tickets of one requester, newest first.
    fn list_for_requester(
        &self,
        scope: &TenantScope,
        requester: &AccountRef,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<Ticket>, StoreError>> + Send;

    /// Deletes one ticket; deleting a missing ticket is not an error.
    fn delete(
        &self,
        scope: &TenantScope,
        id: &TicketId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The tenant record (status, policy) and the directory connection's metadata.
pub trait TenantStore: Send + Sync {
    /// Onboards a tenant; an existing tenant id is `AlreadyExists`.
    fn create(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The tenant record, read strongly consistent.
    fn get(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Option<Tenant>, StoreError>> + Send;

    /// Replaces the record if its stored status is still `expected_status` (else `Conflict`).
    fn replace(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        expected_status: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn put_connection(
        &self,
        scope: &TenantScope,
        meta: &ConnectionMetadata,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_connection(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Option<ConnectionMetadata>, StoreError>> + Send;

    /// Deleting a missing connection is not an error.
    fn delete_connection(
        &self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Idempotency records: claim a key, complete it with a response to replay,
/// or release it after a failure. The payload hash is checked on every path.
pub trait IdempotencyRecords: Send + Sync {
    fn begin(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Claim, IdempotencyError>> + Send;

    /// `response` is stored and replayed: it must hold no secret.
    fn complete(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        response: &str,
    ) -> impl Future<Output = Result<(), IdempotencyError>> + Send;

    fn release(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
    ) -> impl Future<Output = Result<(), IdempotencyError>> + Send;
}

/// Fixed-window (one hour) counters for automated actions.
pub trait RateCounters: Send + Sync {
    /// Counts one action against `bucket` if fewer than `limit` ran this window.
    fn consume(
        &self,
        scope: &TenantScope,
        bucket: &RateBucket,
        limit: u32,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), RateLimitError>> + Send;
}

/// Owner verifications, one per (ticket, action).
pub trait VerificationStore: Send + Sync {
    /// Stores a new verification; one already open for the ticket's action
    /// is `AlreadyExists`.
    fn create(
        &self,
        scope: &TenantScope,
        verification: &OwnerVerification,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// One verification, read strongly consistent.
    fn get(
        &self,
        scope: &TenantScope,
        ticket: &TicketId,
        category: Category,
    ) -> impl Future<Output = Result<Option<OwnerVerification>, StoreError>> + Send;

    /// Replaces a verification still at `expected` (else `Conflict`).
    fn replace(
        &self,
        scope: &TenantScope,
        verification: &OwnerVerification,
        expected: VerificationRevision,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
