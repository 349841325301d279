//! The classifier: ticket text in, category, confidence, rationale, risk
//! flags and target out, then the decision. Deterministic and explainable:
//! no model, no I/O, the same input always gives the same answer.

use zerodesk_domain::{AccountRef, Category, Classification, RiskFlag, TenantPolicy};

use crate::decide::{Verdict, decide};
use crate::evidence::Evidence;
use crate::lexicon::Term;
use crate::normalize::tokenize;
use crate::risk::{flag_name, social_engineering};
use crate::target::{classify_emails, find_target};
use crate::{lang, score};

/// The text of a ticket as filed.
#[derive(Debug, Clone, Copy)]
pub struct TicketText<'a> {
    pub subject: &'a str,
    pub body: &'a str,
}

/// What the text says, before any decision. `decide` turns it into one.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub category: Category,
    /// 0.0 to 1.0.
    pub confidence: f32,
    /// The rules and signals that decided it. Built only from our own
    /// lexicon, never from ticket text, so it is safe to store and log.
    pub rationale: Vec<String>,
    /// Sorted, no duplicates.
    pub risk_flags: Vec<RiskFlag>,
    pub target: Option<AccountRef>,
}

impl Assessment {
    /// The domain classification, with the decision's reason as the last
    /// line of the rationale.
    pub fn into_classification(self, verdict: Verdict) -> Classification {
        let mut rationale = self.rationale;
        rationale.push(format!(
            "decision {}: {}",
            verdict.decision.as_str(),
            verdict.reason
        ));
        Classification {
            category: self.category,
            confidence: self.confidence,
            rationale,
            risk_flags: self.risk_flags,
            target: self.target,
            decision: verdict.decision,
        }
    }
}

/// Categories where the target account matters: another person's account
/// is flagged, a protected one too.
fn about_an_account(c: Category) -> bool {
    matches!(
        c,
        Category::PasswordReset
            | Category::AccountUnlock
            | Category::MfaReset
            | Category::AccessRequest
    )
}

/// Terms whose negation makes the ticket a negated request.
const NEGATABLE_REQUESTS: [Term; 7] = [
    Term::ResetV,
    Term::UnlockV,
    Term::Locked,
    Term::Expired,
    Term::Pw,
    Term::Mfa,
    Term::MfaApp,
];

/// Read the ticket. `policy` is used only to flag protected accounts.
pub fn assess(input: &TicketText<'_>, requester: &AccountRef, policy: &TenantPolicy) -> Assessment {
    let tokens = tokenize(input.subject, input.body);
    let lang = lang::guess(&tokens.toks);
    let ev = Evidence::gather(&tokens, lang);
    let scored = score::score(&ev);
    let mut rationale: Vec<String> = Vec::new();
    let mut fired = scored.fired.clone();
    // The winning category's rules first, each group strongest first.
    fired.sort_by(|a, b| {
        (a.category != scored.category)
            .cmp(&(b.category != scored.category))
            .then(a.category.cmp(&b.category))
            .then(b.points.total_cmp(&a.points))
    });
    rationale.extend(fired.iter().map(score::Fired::explain));
    if fired.is_empty() {
        rationale.push("no category rule matched".to_owned());
    }

    let mut flags: Vec<RiskFlag> = Vec::new();
    let emails = classify_emails(&ev, requester);
    let found = find_target(&ev, &emails, requester);
    let account_centric = about_an_account(scored.category);
    let target = if account_centric {
        found.target.clone()
    } else {
        Some(requester.clone())
    };
    let other_person = account_centric && found.other_person;

    for f in social_engineering(&ev, &emails, other_person) {
        flags.push(f.flag);
        rationale.push(f.why);
    }
    if account_centric {
        note_target(&found, &target, policy, &mut flags, &mut rationale);
    }
    if scored.multiple_issues {
        flags.push(RiskFlag::MultipleIssues);
        rationale.push("risk multiple_issues: more than one family of issues".to_owned());
    }
    if let Some(why) = negated_request(&ev) {
        flags.push(RiskFlag::NegatedRequest);
        rationale.push(why);
    }
    flags.sort();
    flags.dedup();
    Assessment {
        category: scored.category,
        confidence: scored.confidence,
        rationale,
        risk_flags: flags,
        target,
    }
}

/// "do not reset", "I don't need a new password", "I did not request this".
fn negated_request(ev: &Evidence<'_>) -> Option<String> {
    let negated = ev.negated().find(|o| {
        NEGATABLE_REQUESTS.contains(&o.term) || (o.term == Term::ChangeV && ev.has(Term::Pw))
    });
    if let Some(o) = negated {
        return Some(format!(
            "risk negated_request: \"{}\" is negated",
            o.phrase()
        ));
    }
    let about_an_action = NEGATABLE_REQUESTS
        .iter()
        .chain(&[Term::Code])
        .any(|t| ev.all(*t).next().is_some());
    (ev.has(Term::DidntRequest) && about_an_action)
        .then(|| "risk negated_request: \"did not request\"".to_owned())
}

fn note_target(
    found: &crate::target::TargetFinding,
    target: &Option<AccountRef>,
    policy: &TenantPolicy,
    flags: &mut Vec<RiskFlag>,
    rationale: &mut Vec<String>,
) {
    rationale.push(found.why.clone());
    if found.other_person {
        flags.push(RiskFlag::OtherPersonsAccount);
    }
    let protected = target.as_ref().is_some_and(|t| policy.is_protected(t));
    if protected || found.privileged {
        flags.push(RiskFlag::ProtectedAccount);
        let why = if protected {
            "the target is on the tenant's protected list"
        } else {
            "a privileged account"
        };
        rationale.push(format!(
            "risk {}: {why}",
            flag_name(RiskFlag::ProtectedAccount)
        ));
    }
}

/// Read the ticket and decide what happens to it.
pub fn classify(
    input: &TicketText<'_>,
    requester: &AccountRef,
    policy: &TenantPolicy,
) -> Classification {
    let assessment = assess(input, requester, policy);
    let verdict = decide(&assessment, requester, policy);
    assessment.into_classification(verdict)
}
