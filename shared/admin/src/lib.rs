//! The tenant administration use cases, one module per resource: a tenant's
//! audit trail (read, verify, export) for its auditors and, through the
//! audited platform path, for platform operators; tenant policy; the
//! directory connection; the tenant lifecycle (onboard, offboard, restore);
//! and erasure of one person. Dependencies are port traits (tenant and
//! ticket stores, audit store, credential vault, publisher, clock); nothing
//! here names a table, a key layout or an AWS type.

mod admin;
mod audit_trail;
mod bundles;
mod connection;
mod directory_access;
mod erasure;
mod error;
mod lifecycle;
mod policy;

pub use admin::{
    ADMIN_WRITES_PER_CALLER_PER_MINUTE, ADMIN_WRITES_PER_TENANT_PER_MINUTE, Admin, AdminPorts,
    RequestedBy,
};
pub use audit_trail::{AuditQuery, PlatformTarget};
pub use bundles::{Deployed, InMemory};
pub use connection::{ConnectionInput, ConnectionView, PROVIDERS};
pub use erasure::{ERASED_TEXT, ErasureInput, ErasureReport, erase_person, erased_account, redact};
pub use error::AdminError;
pub use lifecycle::{NewTenant, TenantView};
