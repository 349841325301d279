//! The classifier against the hand-labelled ticket set in data/: accuracy
//! bars measured on it (see ACCURACY.md) and the safety property that no
//! ticket a human says needs a person is ever automated.
// A test crate: its helpers may panic like its tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::labelled::{self, Outcome};
use zerodesk_domain::Category;
use zerodesk_triage::{TicketText, classify, redact};

fn outcomes() -> Vec<Outcome> {
    labelled::run(&labelled::load().unwrap()).unwrap()
}

#[test]
fn labelled_set_is_large_and_varied() {
    let tickets = labelled::load().unwrap();
    assert!(tickets.len() >= 300, "{} tickets", tickets.len());
    for c in Category::ALL {
        assert!(
            tickets.iter().filter(|t| t.category == c).count() >= 20,
            "{c:?}"
        );
    }
    for lang in ["en", "es", "de", "it"] {
        assert!(
            tickets.iter().filter(|t| t.lang == lang).count() >= 60,
            "{lang}"
        );
    }
    assert!(tickets.iter().filter(|t| t.split == "holdout").count() >= 100);
    let mut ids: Vec<&str> = tickets.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), tickets.len(), "ids are unique");
}

#[test]
fn no_ticket_a_human_would_review_is_automated() {
    let unsafe_ones: Vec<String> = outcomes()
        .iter()
        .filter(|o| o.unsafe_automation())
        .map(|o| format!("{} ({:?})", o.ticket.id, o.ticket.decision))
        .collect();
    assert!(
        unsafe_ones.is_empty(),
        "automated against the label: {unsafe_ones:?}"
    );
}

#[test]
fn category_accuracy_meets_the_measured_bar() {
    let all = outcomes();
    for split in ["train", "holdout", "fresh"] {
        let sel: Vec<&Outcome> = all.iter().filter(|o| o.ticket.split == split).collect();
        let acc = labelled::share(&sel, Outcome::category_ok);
        assert!(acc >= 0.95, "{split}: category accuracy {acc:.3}");
    }
    let every: Vec<&Outcome> = all.iter().collect();
    assert!(labelled::share(&every, Outcome::category_ok) >= 0.97);
}

/// Look-alike letters, hidden characters, full-width text and paraphrased
/// pressure (the `adversarial` split) end where a person would send them.
#[test]
fn disguised_tickets_are_decided_as_labelled() {
    let all = outcomes();
    let disguised: Vec<&Outcome> = all
        .iter()
        .filter(|o| o.ticket.split == "adversarial")
        .collect();
    assert!(disguised.len() >= 30, "{} tickets", disguised.len());
    let wrong: Vec<&str> = disguised
        .iter()
        .filter(|o| !o.decision_ok())
        .map(|o| o.ticket.id.as_str())
        .collect();
    assert!(wrong.is_empty(), "decided against the label: {wrong:?}");
    let flags = labelled::share(&disguised, Outcome::flags_ok);
    assert!(flags >= 0.9, "adversarial risk flags {flags:.3}");
}

#[test]
fn decisions_flags_and_targets_meet_the_measured_bar() {
    let all = outcomes();
    let every: Vec<&Outcome> = all.iter().collect();
    assert!(labelled::share(&every, Outcome::decision_ok) >= 0.97);
    assert!(labelled::share(&every, Outcome::flags_ok) >= 0.95);
    assert!(labelled::share(&every, Outcome::target_ok) >= 0.97);
}

#[test]
fn every_category_is_recognised_in_every_language_it_appears_in() {
    let all = outcomes();
    for c in Category::ALL {
        for lang in ["en", "es", "de", "it"] {
            let sel: Vec<&Outcome> = all
                .iter()
                .filter(|o| o.ticket.category == c && o.ticket.lang == lang)
                .collect();
            if sel.is_empty() {
                continue;
            }
            let acc = labelled::share(&sel, Outcome::category_ok);
            assert!(acc >= 0.8, "{c:?}/{lang}: {acc:.3}");
        }
    }
}

/// `cargo test -p zerodesk-triage --test labelled_set -- --nocapture` prints
/// the tables of ACCURACY.md.
#[test]
fn accuracy_table_covers_every_category() {
    let md = labelled::markdown(&outcomes());
    println!("{md}");
    for c in Category::ALL {
        assert!(md.contains(&format!("| {} |", c.as_str())), "{c:?}");
    }
}

/// The service redacts a ticket before classifying it: redaction must take
/// no word the classifier reads from any labelled ticket (a006 once lost
/// "urgente", written with a Cyrillic e, and with it its escalation).
#[test]
fn redacting_first_changes_no_outcome() {
    let policy = labelled::policy().unwrap();
    for o in outcomes() {
        let subject = redact(&o.ticket.subject).text;
        let body = redact(&o.ticket.body).text;
        let got = classify(
            &TicketText {
                subject: &subject,
                body: &body,
            },
            &o.ticket.requester,
            &policy,
        );
        assert_eq!(
            (got.category, got.decision, &got.risk_flags, &got.target),
            (
                o.got.category,
                o.got.decision,
                &o.got.risk_flags,
                &o.got.target
            ),
            "{}",
            o.ticket.id
        );
    }
}
