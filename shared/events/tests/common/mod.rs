//! Events the publisher tests send.

use zerodesk_domain::{
    Category, CorrelationId, Decision, RiskFlag, SystemTask, TenantId, TenantScope, TicketId,
};
use zerodesk_events::{Actor, DomainEvent, TicketTriaged};

pub const RATIONALE: &str = "mentions 'locked out' and names the requester's own account";

pub fn triaged(tenant: &str) -> DomainEvent {
    let scope = TenantScope::for_system_task(
        TenantId::parse(tenant).unwrap(),
        SystemTask::EventDrivenAction,
    );
    DomainEvent::new(
        &scope,
        Actor {
            subject: "user-7".into(),
            role: "tenant_user".into(),
        },
        CorrelationId::generate(),
        TicketTriaged {
            ticket_id: TicketId::generate(),
            category: Category::AccountUnlock,
            decision: Decision::AutoResolve,
            confidence: 0.875,
            rationale: vec![RATIONALE.into()],
            risk_flags: vec![RiskFlag::Urgency],
        },
    )
}
