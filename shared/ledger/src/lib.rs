//! The audit store: appending domain events to a tenant's hash chain (only
//! audit-write calls that), reading, verifying and exporting chains, and the
//! per-chain pseudonym salts. It never decides who may read a trail (the
//! admin use cases do) and never deletes a record (the retention purge does,
//! by key, when retention or offboarding says so). "now" is a parameter
//! wherever time decides an outcome.

mod error;
mod item;

/// The audit crate, re-exported for callers that name records and chains.
pub use zerodesk_audit as audit;

pub mod audit_repo;
pub mod memory;
pub mod salts;
pub mod store;
pub mod trail;
pub mod writer;

pub use audit_repo::{Appended, AuditFilter, AuditPage, AuditPageRequest, AuditRepo, StoredRecord};
pub use error::LedgerError;
pub use memory::MemoryAudit;
pub use salts::{Salt, SaltStore};
pub use store::{AuditStore, DynamoAudit};
pub use trail::{TrailVerification, export_records, export_stored, verify_records, verify_stored};
pub use writer::{AuditWriter, ChainWrite, WriteError};
