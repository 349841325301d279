//! A tenant record and its lifecycle: active, offboarding (restorable for 30
//! days), purged.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::policy::TenantPolicy;

/// Days between offboarding and the purge, during which a restore is possible.
pub const OFFBOARDING_GRACE_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TenantStatus {
    Active,
    Offboarding { since: DateTime<Utc> },
    Purged { at: DateTime<Utc> },
}

impl TenantStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Offboarding { .. } => "offboarding",
            TenantStatus::Purged { .. } => "purged",
        }
    }

    pub fn is_active(&self) -> bool {
        matches!(self, TenantStatus::Active)
    }

    /// Whether an offboarded tenant's data is due for the purge at `now`.
    pub fn purge_due(&self, now: DateTime<Utc>) -> bool {
        match self {
            TenantStatus::Offboarding { since } => {
                now - *since > Duration::days(OFFBOARDING_GRACE_DAYS)
            }
            _ => false,
        }
    }

    /// Restore is allowed only within the grace period.
    pub fn can_restore(&self, now: DateTime<Utc>) -> bool {
        match self {
            TenantStatus::Offboarding { since } => {
                now - *since <= Duration::days(OFFBOARDING_GRACE_DAYS)
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    #[serde(flatten)]
    pub status: TenantStatus,
    pub policy: TenantPolicy,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restore_window_is_thirty_days() {
        let since = Utc::now();
        let s = TenantStatus::Offboarding { since };
        assert!(s.can_restore(since + Duration::days(29)));
        assert!(!s.purge_due(since + Duration::days(29)));
        assert!(!s.can_restore(since + Duration::days(31)));
        assert!(s.purge_due(since + Duration::days(31)));
        assert!(!TenantStatus::Active.purge_due(since + Duration::days(400)));
    }
}
