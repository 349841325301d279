//! What triage says about a ticket: category, confidence, rationale, risk
//! flags, target account, and the automation decision.

use serde::{Deserialize, Serialize};

use crate::ids::AccountRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    PasswordReset,
    AccountUnlock,
    MfaReset,
    AccessRequest,
    Hardware,
    Software,
    Other,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::PasswordReset,
        Category::AccountUnlock,
        Category::MfaReset,
        Category::AccessRequest,
        Category::Hardware,
        Category::Software,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::PasswordReset => "password_reset",
            Category::AccountUnlock => "account_unlock",
            Category::MfaReset => "mfa_reset",
            Category::AccessRequest => "access_request",
            Category::Hardware => "hardware",
            Category::Software => "software",
            Category::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// The only categories automation may ever act on (docs/architecture.md section 4).
    pub fn is_automatable(self) -> bool {
        matches!(self, Category::PasswordReset | Category::AccountUnlock)
    }
}

/// Social-engineering and safety signals. Any one of them rules out automation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFlag {
    Urgency,
    AuthorityPressure,
    NewPhoneOrNumber,
    OutsideChannel,
    SendPasswordElsewhere,
    SkipVerification,
    DisableMfa,
    OtherPersonsAccount,
    ProtectedAccount,
    MultipleIssues,
    NegatedRequest,
    /// A word mixes letters of two scripts (Latin and Cyrillic, say): a
    /// look-alike spelling meant to slip past the text rules.
    MixedScript,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    AutoResolve,
    NeedsApproval,
    Escalate,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::AutoResolve => "auto_resolve",
            Decision::NeedsApproval => "needs_approval",
            Decision::Escalate => "escalate",
        }
    }
}

/// The classifier's full answer, stored with the ticket so the reasoning
/// travels with it to whoever handles it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub category: Category,
    /// 0.0 to 1.0.
    pub confidence: f32,
    /// The features that decided it, human-readable.
    pub rationale: Vec<String>,
    pub risk_flags: Vec<RiskFlag>,
    /// The account the ticket is about; the requester unless text names another.
    pub target: Option<AccountRef>,
    pub decision: Decision,
}
