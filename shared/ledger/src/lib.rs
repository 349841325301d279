//! The audit ledger over DynamoDB and the use cases around it: appending
//! domain events to a tenant's hash chain (only audit-write calls that),
//! reading, verifying and exporting chains, the admin use cases, the tenant
//! gate every API function checks, erasure, and the retention purge. No
//! Lambda types; "now" is a parameter wherever time decides an outcome.

mod error;
mod item;

/// The audit crate, re-exported for callers that name records and chains.
pub use zerodesk_audit as audit;

pub mod admin;
pub mod audit_repo;
pub mod db;
pub mod erasure;
pub mod purge;
pub mod salts;
pub mod trail;
pub mod writer;

pub use admin::{Admin, AdminError, AuditQuery, Caller, Clock, PlatformTarget, SystemClock};
pub use audit_repo::{Appended, AuditFilter, AuditPage, AuditPageRequest, AuditRepo, StoredRecord};
pub use db::TenantDb;
pub use error::LedgerError;
pub use purge::{Budget, Deadline, PurgeError, PurgeReport, PurgeTables, Purger};
pub use salts::{Salt, SaltStore};
pub use trail::{TrailVerification, export_stored, verify_stored};
pub use writer::{AuditWriter, ChainWrite, WriteError};
pub use zerodesk_crypto::{ConnectionSecrets, SecretsError, TenantVault};
pub use zerodesk_store::{GATE_TTL, GateError, TenantGate, TenantStatusSource};
