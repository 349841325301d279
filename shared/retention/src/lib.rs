//! The retention purge: what expired goes from every table, and a tenant
//! offboarded longer than the grace period goes entirely, leaving a receipt
//! and a tombstone. It reaches tables only through the store's and the audit
//! store's repositories (it knows no key layout), and tenant items only with
//! that tenant's client. It never decides a retention period: items carry
//! their expiry, tenants their status.

mod budget;
mod purge;

pub use budget::{Budget, Deadline};
pub use purge::{DEFAULT_LOOKBACK_DAYS, PurgeError, PurgeReport, Purger};
