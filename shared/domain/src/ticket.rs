//! Tickets and their state machine. Every transition goes through
//! `TicketState::transition`, which refuses any move the state diagram
//! (docs/architecture.md section 4) does not draw; stored tickets only ever change state through it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::classification::Classification;
use crate::ids::{AccountRef, TenantId, TicketId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Created,
    Triaged,
    AwaitingApproval,
    InProgress,
    Resolved,
    Escalated,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a ticket cannot go from {from:?} to {to:?}")]
pub struct IllegalTransition {
    pub from: TicketState,
    pub to: TicketState,
}

impl TicketState {
    pub const ALL: [TicketState; 7] = [
        TicketState::Created,
        TicketState::Triaged,
        TicketState::AwaitingApproval,
        TicketState::InProgress,
        TicketState::Resolved,
        TicketState::Escalated,
        TicketState::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Created => "created",
            TicketState::Triaged => "triaged",
            TicketState::AwaitingApproval => "awaiting_approval",
            TicketState::InProgress => "in_progress",
            TicketState::Resolved => "resolved",
            TicketState::Escalated => "escalated",
            TicketState::Rejected => "rejected",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TicketState::Resolved | TicketState::Escalated | TicketState::Rejected
        )
    }

    pub fn can_become(self, to: TicketState) -> bool {
        use TicketState::*;
        matches!(
            (self, to),
            (Created, Triaged)
                | (Created, Escalated)
                | (Triaged, AwaitingApproval)
                | (Triaged, InProgress)
                | (Triaged, Escalated)
                | (AwaitingApproval, InProgress)
                | (AwaitingApproval, Rejected)
                | (AwaitingApproval, Escalated)
                | (InProgress, Resolved)
                | (InProgress, Escalated)
                // The owner reported "This wasn't me": a security incident.
                | (Resolved, Escalated)
        )
    }

    pub fn transition(self, to: TicketState) -> Result<TicketState, IllegalTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

/// A stored ticket. `subject` and `body` are already redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub tenant_id: TenantId,
    /// The person the ticket is for (the filer, or the named requester for intake).
    pub requester: AccountRef,
    /// The principal subject that filed it.
    pub filed_by: String,
    pub subject: String,
    pub body: String,
    pub state: TicketState,
    pub classification: Classification,
    /// Why the ticket ended where it is, for escalations, rejections and failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Ticket {
    /// Whether the ticket is about the requester's own account.
    pub fn is_self_service(&self) -> bool {
        self.classification
            .target
            .as_ref()
            .is_none_or(|t| *t == self.requester)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketState::*;

    #[test]
    fn the_drawn_transitions_are_the_only_legal_ones() {
        let legal = [
            (Created, Triaged),
            (Created, Escalated),
            (Triaged, AwaitingApproval),
            (Triaged, InProgress),
            (Triaged, Escalated),
            (AwaitingApproval, InProgress),
            (AwaitingApproval, Rejected),
            (AwaitingApproval, Escalated),
            (InProgress, Resolved),
            (InProgress, Escalated),
            (Resolved, Escalated),
        ];
        for from in TicketState::ALL {
            for to in TicketState::ALL {
                let expected = legal.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn terminal_states_go_nowhere_but_a_reported_resolution_reopens_as_escalated() {
        for s in [Resolved, Escalated, Rejected] {
            assert!(s.is_terminal());
            let reopened = |to: &TicketState| s == Resolved && *to == Escalated;
            assert!(
                TicketState::ALL
                    .iter()
                    .all(|to| reopened(to) || !s.can_become(*to))
            );
        }
    }
}
