//! How many writes one caller and one tenant may make, counted in the
//! application so that no tenant and no user can use up the API for the
//! others. The gateway's stage throttles are the outer wall, shared by every
//! tenant; these are the inner ones, per tenant and per principal, each a
//! one-minute window answered with 429 and `Retry-After`.
//!
//! Why these numbers:
//! - A person files a ticket, or asks for a reset, well under once every
//!   few seconds; 20 filings and 30 other writes a minute leave a human
//!   untouched and stop a script.
//! - An intake bot files for a whole tenant (every mail to the helpdesk):
//!   300 a minute (5 a second) is above a large helpdesk's peak.
//! - A tenant: 600 filings and 300 other writes a minute (10 and 5 a
//!   second). The gateway's default stage limit is 50 requests a second, so
//!   one tenant at its limit leaves most of the wall to the others.
//!
//! Filing counts in the same DynamoDB transaction as the ticket itself, so
//! filing stays one write; the other writes count before the ticket is even
//! read, so a flood of made-up ticket ids is refused like any other.

use chrono::{DateTime, Utc};
use zerodesk_domain::{Principal, Role, TenantScope};
use zerodesk_store::{RateBucket, RateCounters};

use crate::error::WorkflowError;

pub const FILINGS_PER_PERSON_PER_MINUTE: u32 = 20;
pub const FILINGS_PER_INTAKE_BOT_PER_MINUTE: u32 = 300;
pub const FILINGS_PER_TENANT_PER_MINUTE: u32 = 600;
pub const WRITES_PER_CALLER_PER_MINUTE: u32 = 30;
pub const WRITES_PER_TENANT_PER_MINUTE: u32 = 300;

/// The limits a filing by `principal` counts against.
pub(crate) fn filing_limits(principal: &Principal) -> [(RateBucket, u32); 2] {
    let per_caller = if principal.role == Role::AutomationService {
        FILINGS_PER_INTAKE_BOT_PER_MINUTE
    } else {
        FILINGS_PER_PERSON_PER_MINUTE
    };
    [
        (
            RateBucket::Caller {
                routes: "filing",
                subject: principal.subject.clone(),
            },
            per_caller,
        ),
        (
            RateBucket::TenantWrites { routes: "filing" },
            FILINGS_PER_TENANT_PER_MINUTE,
        ),
    ]
}

/// Counts one write (a reset or unlock request, an approval, a rejection)
/// of `principal` against its own and its tenant's limit.
pub(crate) async fn count_write(
    counters: &impl RateCounters,
    scope: &TenantScope,
    principal: &Principal,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let caller = RateBucket::Caller {
        routes: "actions",
        subject: principal.subject.clone(),
    };
    counters
        .consume(scope, &caller, WRITES_PER_CALLER_PER_MINUTE, now)
        .await?;
    counters
        .consume(
            scope,
            &RateBucket::TenantWrites { routes: "actions" },
            WRITES_PER_TENANT_PER_MINUTE,
            now,
        )
        .await?;
    Ok(())
}
