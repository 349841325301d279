//! The JSON shape of a ticket in API responses. Built from the stored
//! ticket; carries no secret (the stored text is already redacted).

use chrono::{DateTime, Utc};
use serde::Serialize;
use zerodesk_domain::{Category, Decision, RiskFlag, Ticket, VerificationMethod};

use crate::actions::ActionResult;

#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub id: String,
    pub state: &'static str,
    pub category: Category,
    pub decision: Decision,
    pub confidence: f32,
    pub risk_flags: Vec<RiskFlag>,
    pub rationale: Vec<String>,
    pub requester: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub subject: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Ticket> for TicketView {
    fn from(t: &Ticket) -> Self {
        TicketView {
            id: t.id.to_string(),
            state: t.state.as_str(),
            category: t.classification.category,
            decision: t.classification.decision,
            confidence: t.classification.confidence,
            risk_flags: t.classification.risk_flags.clone(),
            rationale: t.classification.rationale.clone(),
            requester: t.requester.to_string(),
            target: t.classification.target.as_ref().map(ToString::to_string),
            subject: t.subject.clone(),
            body: t.body.clone(),
            reason: t.reason.clone(),
            approved_by: t.approved_by.clone(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// The answer to `POST /tickets/{id}/reset` and `/unlock`. It never holds a
/// temporary password: that is shown to the verified owner on the
/// verification page alone.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    pub ticket: TicketView,
    /// The action had already run; nothing changed.
    pub already_done: bool,
    /// Nothing ran yet: the owner was sent a challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerificationView {
    pub status: &'static str,
    pub method: VerificationMethod,
    /// Masked.
    pub channel: String,
    pub expires_at: DateTime<Utc>,
}

impl From<&ActionResult> for ActionView {
    fn from(r: &ActionResult) -> Self {
        ActionView {
            ticket: TicketView::from(&r.ticket),
            already_done: r.replayed,
            verification: r.awaiting_owner.as_ref().map(|v| VerificationView {
                status: if v.already_sent {
                    "already_sent"
                } else {
                    "sent"
                },
                method: v.method,
                channel: v.channel.clone(),
                expires_at: v.expires_at,
            }),
        }
    }
}
