//! DynamoDB repositories for tenants, tickets, idempotency records and rate
//! limits. Every tenant-data call takes a `TenantScope` and builds its keys
//! from it; nothing here reads tenant data without one, and nothing Scans.

mod error;
mod item;
mod page;

pub mod dynamodb;
pub mod expiry;
pub mod gate;
pub mod idempotency;
pub mod memory;
pub mod ports;
pub mod rate_limit;
pub mod retention;
pub mod tenant_db;
pub mod tenants;
pub mod tickets;
pub mod verifications;

pub use error::StoreError;
pub use expiry::{Deleted, ExpiredKeys, ExpiryCursor, ItemKey, TableKeys};
pub use gate::{GATE_TTL, GateError, TenantGate, TenantStatusSource};
pub use idempotency::{
    Claim, IdempotencyConfig, IdempotencyError, IdempotencyKey, IdempotencyStore,
};
pub use page::{MAX_PAGE_SIZE, Page, PageRequest};
pub use rate_limit::{RateBucket, RateLimitError, RateLimiter};
pub use retention::{PurgeProgress, TenantPurgeProgress, write_tombstone};
pub use tenants::{ConnectionMetadata, TenantRepo};
pub use tickets::TicketRepo;

pub use dynamodb::{
    DynamoIdempotency, DynamoRateLimits, DynamoTenants, DynamoTickets, DynamoVerifications,
};
pub use memory::{
    MemoryIdempotency, MemoryRateLimits, MemoryTenants, MemoryTickets, MemoryVerifications, Outage,
};
pub use ports::{IdempotencyRecords, RateCounters, TenantStore, TicketStore, VerificationStore};
pub use tenant_db::TenantDb;
pub use verifications::{VERIFICATION_KEPT_DAYS, VerificationRepo, VerificationRevision};
