//! The permission matrix (role x action) as data. Handlers ask `is_allowed`
//! and nothing else; a role gains an action only by an edit to `GRANTS`.

use serde::{Deserialize, Serialize};

use crate::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// File a ticket for oneself.
    FileTicket,
    /// File a ticket on behalf of a named requester of the same tenant (chat/email intake).
    FileTicketOnBehalf,
    /// Read one's own tickets.
    ReadOwnTickets,
    /// Read every ticket of the tenant.
    ReadTenantTickets,
    /// Approve or reject a pending action.
    DecideApproval,
    /// Reset or unlock one's own account, when triage allowed it.
    SelfServiceAction,
    /// Execute a directory action another principal's ticket needs (after approval).
    ExecuteApprovedAction,
    ReadPolicy,
    WritePolicy,
    ManageConnection,
    ReadAudit,
    /// Act on one named tenant through `/platform/tenants/{tenant}/...` (audited).
    PlatformActOnTenant,
    /// Read one named tenant's tickets and audit through the platform path (audited).
    PlatformReadTenant,
    OnboardTenant,
    OffboardTenant,
    RestoreTenant,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::FileTicket,
        Action::FileTicketOnBehalf,
        Action::ReadOwnTickets,
        Action::ReadTenantTickets,
        Action::DecideApproval,
        Action::SelfServiceAction,
        Action::ExecuteApprovedAction,
        Action::ReadPolicy,
        Action::WritePolicy,
        Action::ManageConnection,
        Action::ReadAudit,
        Action::PlatformActOnTenant,
        Action::PlatformReadTenant,
        Action::OnboardTenant,
        Action::OffboardTenant,
        Action::RestoreTenant,
    ];
}

use Action as A;

const MANAGER: &[Action] = &[
    A::FileTicket,
    A::ReadOwnTickets,
    A::ReadTenantTickets,
    A::DecideApproval,
    A::SelfServiceAction,
    A::ExecuteApprovedAction,
    A::ReadPolicy,
];

const ADMIN: &[Action] = &[
    A::FileTicket,
    A::ReadOwnTickets,
    A::ReadTenantTickets,
    A::DecideApproval,
    A::SelfServiceAction,
    A::ExecuteApprovedAction,
    A::ReadPolicy,
    A::WritePolicy,
    A::ManageConnection,
    A::ReadAudit,
];

/// The whole matrix, and its only source; the exhaustive test in
/// this module restates it cell by cell.
const GRANTS: &[(Role, &[Action])] = &[
    (
        Role::TenantUser,
        &[A::FileTicket, A::ReadOwnTickets, A::SelfServiceAction],
    ),
    (Role::TenantManager, MANAGER),
    (Role::TenantAdmin, ADMIN),
    (
        Role::TenantAuditor,
        &[A::ReadTenantTickets, A::ReadPolicy, A::ReadAudit],
    ),
    (Role::AutomationService, &[A::FileTicketOnBehalf]),
    (
        Role::PlatformOperator,
        &[A::PlatformActOnTenant, A::PlatformReadTenant],
    ),
    (
        Role::PlatformAdmin,
        &[A::OnboardTenant, A::OffboardTenant, A::RestoreTenant],
    ),
    (Role::ReadonlyAuditor, &[A::PlatformReadTenant]),
];

pub fn is_allowed(role: Role, action: Action) -> bool {
    GRANTS
        .iter()
        .find(|(r, _)| *r == role)
        .is_some_and(|(_, actions)| actions.contains(&action))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix restated as a table, one row per action, one column per
    /// role in `Role::ALL` order: user, manager, admin, auditor, automation,
    /// operator, platform admin, readonly auditor.
    const EXPECTED: &[(Action, [u8; 8])] = &[
        (A::FileTicket, [1, 1, 1, 0, 0, 0, 0, 0]),
        (A::FileTicketOnBehalf, [0, 0, 0, 0, 1, 0, 0, 0]),
        (A::ReadOwnTickets, [1, 1, 1, 0, 0, 0, 0, 0]),
        (A::ReadTenantTickets, [0, 1, 1, 1, 0, 0, 0, 0]),
        (A::DecideApproval, [0, 1, 1, 0, 0, 0, 0, 0]),
        (A::SelfServiceAction, [1, 1, 1, 0, 0, 0, 0, 0]),
        (A::ExecuteApprovedAction, [0, 1, 1, 0, 0, 0, 0, 0]),
        (A::ReadPolicy, [0, 1, 1, 1, 0, 0, 0, 0]),
        (A::WritePolicy, [0, 0, 1, 0, 0, 0, 0, 0]),
        (A::ManageConnection, [0, 0, 1, 0, 0, 0, 0, 0]),
        (A::ReadAudit, [0, 0, 1, 1, 0, 0, 0, 0]),
        (A::PlatformActOnTenant, [0, 0, 0, 0, 0, 1, 0, 0]),
        (A::PlatformReadTenant, [0, 0, 0, 0, 0, 1, 0, 1]),
        (A::OnboardTenant, [0, 0, 0, 0, 0, 0, 1, 0]),
        (A::OffboardTenant, [0, 0, 0, 0, 0, 0, 1, 0]),
        (A::RestoreTenant, [0, 0, 0, 0, 0, 0, 1, 0]),
    ];

    #[test]
    fn every_cell_of_the_matrix_is_as_designed() {
        assert_eq!(EXPECTED.len(), Action::ALL.len(), "every action has a row");
        for action in Action::ALL {
            let (_, row) = EXPECTED.iter().find(|(a, _)| *a == action).unwrap();
            for (i, role) in Role::ALL.into_iter().enumerate() {
                assert_eq!(is_allowed(role, action), row[i] == 1, "{role} x {action:?}");
            }
        }
    }

    #[test]
    fn only_platform_roles_hold_platform_actions() {
        for role in Role::ALL.into_iter().filter(|r| !r.is_platform()) {
            for a in [
                A::PlatformActOnTenant,
                A::PlatformReadTenant,
                A::OnboardTenant,
                A::OffboardTenant,
            ] {
                assert!(!is_allowed(role, a));
            }
        }
    }
}
