//! Who may see and act on which ticket. Pure rules over the principal and
//! the ticket; "not visible" is reported as not found by callers, so a
//! ticket's existence never leaks across users or tenants.

use zerodesk_domain::{Action, Decision, Principal, Ticket, TicketState, is_allowed};

/// Whether `principal` may see `ticket` (the caller has already scoped the
/// read to the principal's tenant).
pub fn can_read(principal: &Principal, ticket: &Ticket) -> bool {
    if principal.tenant() != Some(&ticket.tenant_id) {
        return false;
    }
    if is_allowed(principal.role, Action::ReadTenantTickets) {
        return true;
    }
    is_allowed(principal.role, Action::ReadOwnTickets)
        && principal.email.as_ref() == Some(&ticket.requester)
}

/// How a directory action on a ticket is authorised, decided before any call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionGrant {
    /// The requester acting on their own account after triage chose auto_resolve.
    SelfService,
    /// The manager who approved the ticket executing it.
    Approved,
}

/// Why an action may not run. Callers map `NotVisible` to 404.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionRefusal {
    #[error("not found")]
    NotVisible,
    #[error("this ticket was not cleared for automation")]
    NotAutomated,
    #[error("this ticket awaits a manager's approval")]
    AwaitingApproval,
    #[error("the manager who approved this ticket executes it and receives any temporary password")]
    ApproverExecutes,
    #[error("the ticket is already {0}")]
    Closed(&'static str),
    #[error("the ticket is not of the right category for this action")]
    WrongCategory,
}

/// Decides whether `principal` may run the ticket's directory action now.
pub fn grant(principal: &Principal, ticket: &Ticket) -> Result<ActionGrant, ActionRefusal> {
    if !can_read(principal, ticket) {
        return Err(ActionRefusal::NotVisible);
    }
    let is_requester = principal.email.as_ref() == Some(&ticket.requester);
    match ticket.state {
        TicketState::Triaged => {
            let self_service = ticket.classification.decision == Decision::AutoResolve
                && ticket.is_self_service()
                && is_requester
                && is_allowed(principal.role, Action::SelfServiceAction);
            if self_service {
                Ok(ActionGrant::SelfService)
            } else {
                Err(ActionRefusal::NotAutomated)
            }
        }
        TicketState::AwaitingApproval => Err(ActionRefusal::AwaitingApproval),
        TicketState::InProgress if ticket.approved_by.is_some() => {
            let approver = ticket.approved_by.as_deref() == Some(principal.subject.as_str());
            if approver && is_allowed(principal.role, Action::ExecuteApprovedAction) {
                Ok(ActionGrant::Approved)
            } else {
                Err(ActionRefusal::ApproverExecutes)
            }
        }
        TicketState::InProgress | TicketState::Created => Err(ActionRefusal::NotAutomated),
        closed => Err(ActionRefusal::Closed(closed.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use zerodesk_domain::{
        AccountRef, Category, Classification, PrincipalScope, Role, TenantId, TicketId,
    };

    fn principal(role: Role, tenant: &str, email: &str) -> Principal {
        Principal {
            subject: email.into(),
            email: Some(AccountRef::parse(email).unwrap()),
            role,
            scope: PrincipalScope::Tenant(TenantId::parse(tenant).unwrap()),
        }
    }

    fn ticket(state: TicketState, decision: Decision, target: Option<&str>) -> Ticket {
        Ticket {
            id: TicketId::generate(),
            tenant_id: TenantId::parse("demo").unwrap(),
            requester: AccountRef::parse("alice@demo.example").unwrap(),
            filed_by: "alice@demo.example".into(),
            subject: "s".into(),
            body: "b".into(),
            state,
            classification: Classification {
                category: Category::PasswordReset,
                confidence: 0.9,
                rationale: vec![],
                risk_flags: vec![],
                target: target.map(|t| AccountRef::parse(t).unwrap()),
                decision,
            },
            reason: None,
            approved_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn users_see_their_own_tickets_and_managers_all_of_their_tenant() {
        let t = ticket(TicketState::Triaged, Decision::AutoResolve, None);
        assert!(can_read(
            &principal(Role::TenantUser, "demo", "alice@demo.example"),
            &t
        ));
        assert!(!can_read(
            &principal(Role::TenantUser, "demo", "bob@demo.example"),
            &t
        ));
        assert!(can_read(
            &principal(Role::TenantManager, "demo", "bob@demo.example"),
            &t
        ));
        assert!(can_read(
            &principal(Role::TenantAuditor, "demo", "carol@demo.example"),
            &t
        ));
        assert!(!can_read(
            &principal(Role::TenantManager, "other", "eve@other.example"),
            &t
        ));
        assert!(!can_read(
            &principal(Role::AutomationService, "demo", "bot@demo.example"),
            &t
        ));
    }

    #[test]
    fn self_service_needs_auto_resolve_and_the_requester() {
        let alice = principal(Role::TenantUser, "demo", "alice@demo.example");
        let t = ticket(
            TicketState::Triaged,
            Decision::AutoResolve,
            Some("alice@demo.example"),
        );
        assert_eq!(grant(&alice, &t), Ok(ActionGrant::SelfService));
        let for_bob = ticket(
            TicketState::Triaged,
            Decision::AutoResolve,
            Some("bob@demo.example"),
        );
        assert_eq!(grant(&alice, &for_bob), Err(ActionRefusal::NotAutomated));
        let escalated = ticket(TicketState::Triaged, Decision::Escalate, None);
        assert_eq!(grant(&alice, &escalated), Err(ActionRefusal::NotAutomated));
        let manager = principal(Role::TenantManager, "demo", "bob@demo.example");
        assert_eq!(
            grant(&manager, &t),
            Err(ActionRefusal::NotAutomated),
            "not the requester"
        );
    }

    #[test]
    fn only_the_approver_executes_an_approved_ticket() {
        let mut t = ticket(
            TicketState::InProgress,
            Decision::NeedsApproval,
            Some("carol@demo.example"),
        );
        t.approved_by = Some("bob@demo.example".into());
        let bob = principal(Role::TenantManager, "demo", "bob@demo.example");
        assert_eq!(grant(&bob, &t), Ok(ActionGrant::Approved));
        let alice = principal(Role::TenantUser, "demo", "alice@demo.example");
        assert_eq!(grant(&alice, &t), Err(ActionRefusal::ApproverExecutes));
        let dave = principal(Role::TenantManager, "demo", "dave@demo.example");
        assert_eq!(grant(&dave, &t), Err(ActionRefusal::ApproverExecutes));
    }

    #[test]
    fn closed_and_pending_tickets_refuse_actions() {
        let alice = principal(Role::TenantUser, "demo", "alice@demo.example");
        let pending = ticket(TicketState::AwaitingApproval, Decision::NeedsApproval, None);
        assert_eq!(
            grant(&alice, &pending),
            Err(ActionRefusal::AwaitingApproval)
        );
        let done = ticket(TicketState::Resolved, Decision::AutoResolve, None);
        assert_eq!(grant(&alice, &done), Err(ActionRefusal::Closed("resolved")));
        let other = principal(Role::TenantUser, "other", "alice@demo.example");
        assert_eq!(grant(&other, &done), Err(ActionRefusal::NotVisible));
    }
}
