//! Filing, reading, listing, approving and rejecting tickets. Filing costs
//! one conditional write and one PutEvents (plus the cached tenant check);
//! if the events cannot be published the ticket is removed again, so
//! nothing exists that the audit trail does not know of.

use serde::Deserialize;
use zerodesk_domain::Clock;
use zerodesk_domain::{
    AccountRef, Action, CorrelationId, Decision, Principal, TenantId, TenantScope, Ticket,
    TicketId, TicketState, is_allowed,
};
use zerodesk_events::{
    Actor, DomainEvent, PlatformAccess, Publisher, TicketCreated, TicketStateChanged, TicketTriaged,
};
use zerodesk_store::{Page, PageRequest, TenantStore, TicketStore};
use zerodesk_triage::{TicketText, classify, redact};

use crate::access::can_read;
use crate::context::{Ports, Services};
use crate::error::WorkflowError;
use crate::write_limits::{count_write, filing_limits};

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 10_000;

/// The body of `POST /tickets`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub subject: String,
    pub body: String,
    /// Only for automation services filing on behalf of a named person.
    #[serde(default)]
    pub requester: Option<String>,
}

/// The body of `POST /tickets/{id}/reject`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    #[serde(default)]
    pub reason: Option<String>,
}

fn requester_of(principal: &Principal, input: &NewTicket) -> Result<AccountRef, WorkflowError> {
    if is_allowed(principal.role, Action::FileTicketOnBehalf) {
        let raw = input.requester.as_deref().ok_or(WorkflowError::Invalid {
            field: "requester",
            reason: "required for intake on behalf of a person",
        })?;
        return AccountRef::parse(raw).map_err(|_| WorkflowError::Invalid {
            field: "requester",
            reason: "must be an email address",
        });
    }
    if !is_allowed(principal.role, Action::FileTicket) {
        return Err(WorkflowError::Forbidden);
    }
    if input.requester.is_some() {
        return Err(WorkflowError::Invalid {
            field: "requester",
            reason: "only automation services file for others",
        });
    }
    principal.email.clone().ok_or(WorkflowError::Invalid {
        field: "requester",
        reason: "the token carries no email claim",
    })
}

fn check_text(input: &NewTicket) -> Result<(), WorkflowError> {
    let subject_len = input.subject.trim().chars().count();
    if subject_len == 0 || subject_len > MAX_SUBJECT_CHARS {
        return Err(WorkflowError::Invalid {
            field: "subject",
            reason: "must be 1 to 200 characters",
        });
    }
    let body_len = input.body.trim().chars().count();
    if body_len == 0 || body_len > MAX_BODY_CHARS {
        return Err(WorkflowError::Invalid {
            field: "body",
            reason: "must be 1 to 10000 characters",
        });
    }
    Ok(())
}

/// The state a freshly triaged ticket rests in.
fn resting_state(decision: Decision) -> TicketState {
    match decision {
        Decision::AutoResolve => TicketState::Triaged,
        Decision::NeedsApproval => TicketState::AwaitingApproval,
        Decision::Escalate => TicketState::Escalated,
    }
}

fn event(
    scope: &TenantScope,
    principal: &Principal,
    corr: &CorrelationId,
    p: impl Into<zerodesk_events::EventPayload>,
) -> DomainEvent {
    DomainEvent::new(scope, Actor::of(principal), corr.clone(), p)
}

const REJECTED: &str = "rejected by a manager";
const REJECTED_WITH_A_NOTE: &str = "rejected by a manager, with a note kept on the ticket";

impl<P: Ports> Services<P> {
    /// `POST /tickets`: redact, classify, decide, store, publish.
    pub async fn file_ticket(
        &self,
        principal: &Principal,
        correlation_id: &CorrelationId,
        input: NewTicket,
    ) -> Result<Ticket, WorkflowError> {
        let now = self.clock.now();
        let requester = requester_of(principal, &input)?;
        check_text(&input)?;
        let (scope, policy) = self.admit(principal).await?;
        let subject = redact(input.subject.trim()).text;
        let body = redact(input.body.trim()).text;
        let classification = classify(
            &TicketText {
                subject: &subject,
                body: &body,
            },
            &requester,
            &policy,
        );
        let state = resting_state(classification.decision);
        let reason = (state == TicketState::Escalated)
            .then(|| "triage escalated the ticket to a human".to_owned());
        let ticket = Ticket {
            id: TicketId::generate(),
            tenant_id: scope.tenant().clone(),
            requester,
            filed_by: principal.subject.clone(),
            subject,
            body,
            state,
            classification,
            reason,
            approved_by: None,
            created_at: now,
            updated_at: now,
        };
        self.tickets
            .create_counted(&scope, &ticket, &filing_limits(principal), now)
            .await?;
        let mut events = vec![
            event(
                &scope,
                principal,
                correlation_id,
                TicketCreated {
                    ticket_id: ticket.id,
                },
            ),
            event(
                &scope,
                principal,
                correlation_id,
                TicketTriaged {
                    ticket_id: ticket.id,
                    category: ticket.classification.category,
                    decision: ticket.classification.decision,
                    confidence: ticket.classification.confidence,
                    rationale: ticket.classification.rationale.clone(),
                    risk_flags: ticket.classification.risk_flags.clone(),
                },
            ),
        ];
        if state != TicketState::Triaged {
            events.push(event(
                &scope,
                principal,
                correlation_id,
                TicketStateChanged {
                    ticket_id: ticket.id,
                    old_state: TicketState::Triaged,
                    new_state: state,
                    reason: ticket.reason.clone(),
                },
            ));
        }
        if let Err(e) = self.publisher.publish(&events).await {
            tracing::error!(error = %e, "events not published; removing the ticket");
            if let Err(undo) = self.tickets.delete(&scope, &ticket.id).await {
                tracing::error!(error = %undo, "could not remove the unpublished ticket");
            }
            return Err(WorkflowError::Events(Box::new(e)));
        }
        tracing::info!(ticket_id = %ticket.id, state = state.as_str(), "ticket filed");
        Ok(ticket)
    }

    /// `GET /tickets/{id}`: a ticket the caller may see, else not found.
    pub async fn get_ticket(
        &self,
        principal: &Principal,
        id: &TicketId,
    ) -> Result<Ticket, WorkflowError> {
        let (scope, _) = self.admit(principal).await?;
        let ticket = self
            .tickets
            .get(&scope, id)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        if can_read(principal, &ticket) {
            Ok(ticket)
        } else {
            Err(WorkflowError::NotFound)
        }
    }

    /// `GET /tickets`: the tenant's tickets for managers, admins and
    /// auditors; one's own for users.
    pub async fn list_tickets(
        &self,
        principal: &Principal,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, WorkflowError> {
        let (scope, _) = self.admit(principal).await?;
        if is_allowed(principal.role, Action::ReadTenantTickets) {
            return Ok(self.tickets.list(&scope, page).await?);
        }
        if !is_allowed(principal.role, Action::ReadOwnTickets) {
            return Err(WorkflowError::Forbidden);
        }
        let me = principal.email.as_ref().ok_or(WorkflowError::Forbidden)?;
        Ok(self.tickets.list_for_requester(&scope, me, page).await?)
    }

    /// `POST /tickets/{id}/approve`. The approver then executes the action
    /// and receives any temporary password. Nobody approves their own request.
    pub async fn approve(
        &self,
        principal: &Principal,
        correlation_id: &CorrelationId,
        id: &TicketId,
    ) -> Result<Ticket, WorkflowError> {
        self.decide_approval(principal, correlation_id, id, TicketState::InProgress, None)
            .await
    }

    /// `POST /tickets/{id}/reject`.
    pub async fn reject(
        &self,
        principal: &Principal,
        correlation_id: &CorrelationId,
        id: &TicketId,
        rejection: Rejection,
    ) -> Result<Ticket, WorkflowError> {
        let reason = match rejection.reason {
            Some(r) if r.chars().count() > 500 => {
                return Err(WorkflowError::Invalid {
                    field: "reason",
                    reason: "must be at most 500 characters",
                });
            }
            Some(r) => Some(redact(r.trim()).text),
            None => None,
        };
        self.decide_approval(principal, correlation_id, id, TicketState::Rejected, reason)
            .await
    }

    async fn decide_approval(
        &self,
        principal: &Principal,
        correlation_id: &CorrelationId,
        id: &TicketId,
        to: TicketState,
        reason: Option<String>,
    ) -> Result<Ticket, WorkflowError> {
        let (scope, policy) = self.admit(principal).await?;
        count_write(&self.counters, &scope, principal, self.clock.now()).await?;
        let mut ticket = self
            .tickets
            .get(&scope, id)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        if !can_read(principal, &ticket) {
            return Err(WorkflowError::NotFound);
        }
        if !is_allowed(principal.role, Action::DecideApproval) {
            return Err(WorkflowError::Forbidden);
        }
        // Four eyes need two people: the approver is named by a verified
        // email, and is neither the requester, nor who filed it, nor the
        // account the action is for.
        let Some(approver) = principal.email.as_ref() else {
            return Err(WorkflowError::Forbidden);
        };
        let own_request = *approver == ticket.requester
            || principal.subject == ticket.filed_by
            || ticket.classification.target.as_ref() == Some(approver);
        if own_request {
            return Err(WorkflowError::Invalid {
                field: "id",
                reason: "a ticket one filed or is the subject of needs another approver",
            });
        }
        let from = ticket.state;
        if from != TicketState::AwaitingApproval {
            return Err(WorkflowError::Invalid {
                field: "id",
                reason: "the ticket is not awaiting approval",
            });
        }
        ticket.state = from.transition(to).map_err(|_| WorkflowError::Conflict)?;
        ticket.updated_at = self.clock.now();
        // A manager's note is free text that may name people: it stays on
        // the ticket, which erasure can reach, and the append-only trail
        // records only that there was one.
        let recorded_reason = if to == TicketState::InProgress {
            ticket.approved_by = Some(principal.subject.clone());
            None
        } else {
            let recorded = match &reason {
                Some(_) => REJECTED_WITH_A_NOTE,
                None => REJECTED,
            };
            ticket.reason = Some(reason.unwrap_or_else(|| REJECTED.to_owned()));
            Some(recorded.to_owned())
        };
        self.tickets
            .replace(&scope, &ticket, from, policy.retention.ticket_days)
            .await?;
        let changed = event(
            &scope,
            principal,
            correlation_id,
            TicketStateChanged {
                ticket_id: ticket.id,
                old_state: from,
                new_state: to,
                reason: recorded_reason,
            },
        );
        if let Err(e) = self.publisher.publish_one(&changed).await {
            // The decision stands; the gap shows in verification as a state change with no event.
            tracing::error!(error = %e, "state change not published");
        }
        Ok(ticket)
    }

    /// `GET /platform/tenants/{tenant}/tickets[/{id}]`: a platform
    /// operator's or auditor's read, recorded in the tenant's own trail first.
    pub async fn platform_read(
        &self,
        principal: &Principal,
        correlation_id: &CorrelationId,
        tenant: TenantId,
        route: &str,
        id: Option<&TicketId>,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, WorkflowError> {
        let scope = TenantScope::for_platform_access(principal, tenant, Action::PlatformReadTenant)
            .ok_or(WorkflowError::Forbidden)?;
        // Unknown tenants are not found; offboarding ones stay readable by the platform.
        self.tenants
            .get(&scope)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        let access = event(
            &scope,
            principal,
            correlation_id,
            PlatformAccess {
                ticket_id: id.copied(),
                operator: principal.subject.clone(),
                route: route.to_owned(),
            },
        );
        self.publisher
            .publish_one(&access)
            .await
            .map_err(|e| WorkflowError::Events(Box::new(e)))?;
        match id {
            Some(id) => {
                let ticket = self
                    .tickets
                    .get(&scope, id)
                    .await?
                    .ok_or(WorkflowError::NotFound)?;
                Ok(Page {
                    items: vec![ticket],
                    next_cursor: None,
                })
            }
            None => Ok(self.tickets.list(&scope, page).await?),
        }
    }
}
