//! The labelled ticket set and how the classifier does on it; shared by the
//! accuracy test and the `accuracy` example that writes ACCURACY.md.

use serde::Deserialize;
use zerodesk_domain::{AccountRef, Category, Classification, Decision, RiskFlag, TenantPolicy};
use zerodesk_triage::{TicketText, classify};

pub const SET: &str = include_str!("../../data/labelled_tickets.jsonl");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labelled {
    pub id: String,
    pub lang: String,
    pub requester: AccountRef,
    pub subject: String,
    pub body: String,
    pub category: Category,
    pub decision: Decision,
    pub risk_flags: Vec<RiskFlag>,
    pub target: Option<AccountRef>,
    pub split: String,
}

pub fn load() -> Result<Vec<Labelled>, String> {
    SET.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("labelled_tickets.jsonl line {}: {e}", i + 1))
        })
        .collect()
}

/// The fixed policy of the evaluation: resets and unlocks automated, one
/// protected account.
pub fn policy() -> Result<TenantPolicy, String> {
    serde_json::from_str(
        r#"{"auto_resolve":["password_reset","account_unlock"],"protected_accounts":["admin@acme.example"]}"#,
    )
    .map_err(|e| e.to_string())
}

pub struct Outcome {
    pub ticket: Labelled,
    pub got: Classification,
}

impl Outcome {
    pub fn category_ok(&self) -> bool {
        self.got.category == self.ticket.category
    }
    pub fn decision_ok(&self) -> bool {
        self.got.decision == self.ticket.decision
    }
    pub fn flags_ok(&self) -> bool {
        let mut want = self.ticket.risk_flags.clone();
        want.sort();
        self.got.risk_flags == want
    }
    pub fn target_ok(&self) -> bool {
        self.got.target == self.ticket.target
    }
    /// Automated although a human label says a person must look: the one
    /// mistake that must never happen.
    pub fn unsafe_automation(&self) -> bool {
        self.got.decision == Decision::AutoResolve && self.ticket.decision != Decision::AutoResolve
    }
}

pub fn run(tickets: &[Labelled]) -> Result<Vec<Outcome>, String> {
    let policy = policy()?;
    Ok(tickets
        .iter()
        .map(|t| Outcome {
            got: classify(
                &TicketText {
                    subject: &t.subject,
                    body: &t.body,
                },
                &t.requester,
                &policy,
            ),
            ticket: t.clone(),
        })
        .collect())
}

pub fn share(outcomes: &[&Outcome], ok: impl Fn(&Outcome) -> bool) -> f64 {
    if outcomes.is_empty() {
        return 0.0;
    }
    outcomes.iter().filter(|o| ok(o)).count() as f64 / outcomes.len() as f64
}

/// The markdown tables of ACCURACY.md: overall, per category, per language.
pub fn markdown(outcomes: &[Outcome]) -> String {
    let mut md = String::new();
    md.push_str("| split | tickets | category | decision | risk flags (exact set) | target | unsafe automations |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for name in ["train", "holdout", "fresh", "adversarial", "all"] {
        let sel: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| name == "all" || o.ticket.split == name)
            .collect();
        md.push_str(&format!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} |\n",
            sel.len(),
            share(&sel, Outcome::category_ok),
            share(&sel, Outcome::decision_ok),
            share(&sel, Outcome::flags_ok),
            share(&sel, Outcome::target_ok),
            sel.iter().filter(|o| o.unsafe_automation()).count(),
        ));
    }
    md.push_str("\n| category | tickets | train acc. | holdout acc. | fresh acc. | all acc. | precision (all) |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for c in Category::ALL {
        let of = |split: Option<&str>| -> Vec<&Outcome> {
            outcomes
                .iter()
                .filter(|o| o.ticket.category == c && split.is_none_or(|s| o.ticket.split == s))
                .collect()
        };
        let predicted: Vec<&Outcome> = outcomes.iter().filter(|o| o.got.category == c).collect();
        md.push_str(&format!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |\n",
            c.as_str(),
            of(None).len(),
            share(&of(Some("train")), Outcome::category_ok),
            share(&of(Some("holdout")), Outcome::category_ok),
            share(&of(Some("fresh")), Outcome::category_ok),
            share(&of(None), Outcome::category_ok),
            share(&predicted, Outcome::category_ok),
        ));
    }
    md.push_str("\n| language | tickets | category acc. (all) | decision acc. (all) | fresh category acc. |\n");
    md.push_str("|---|---:|---:|---:|---:|\n");
    for lang in ["en", "es", "de", "it"] {
        let sel: Vec<&Outcome> = outcomes.iter().filter(|o| o.ticket.lang == lang).collect();
        let hold: Vec<&Outcome> = sel
            .iter()
            .copied()
            .filter(|o| o.ticket.split == "fresh")
            .collect();
        md.push_str(&format!(
            "| {lang} | {} | {:.3} | {:.3} | {:.3} |\n",
            sel.len(),
            share(&sel, Outcome::category_ok),
            share(&sel, Outcome::decision_ok),
            share(&hold, Outcome::category_ok),
        ));
    }
    md
}
