//! DynamoDB repositories for tenants, tickets, idempotency records and rate
//! limits. Every tenant-data call takes a `TenantScope` and builds its keys
//! from it; nothing here reads tenant data without one, and nothing Scans.

mod error;
mod item;
mod page;

pub mod gate;
pub mod idempotency;
pub mod rate_limit;
pub mod tenants;
pub mod tickets;

pub use error::StoreError;
pub use gate::{GATE_TTL, GateError, TenantGate, TenantStatusSource};
pub use idempotency::{
    Claim, IdempotencyConfig, IdempotencyError, IdempotencyKey, IdempotencyStore,
};
pub use page::{MAX_PAGE_SIZE, Page, PageRequest};
pub use rate_limit::{RateBucket, RateLimitError, RateLimiter};
pub use tenants::{ConnectionMetadata, TenantRepo};
pub use tickets::TicketRepo;
