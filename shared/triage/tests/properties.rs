//! Property tests: the classifier is total and deterministic on any text,
//! and redaction is idempotent and never leaves a card number behind.
// A test crate: its helpers may panic like its tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use proptest::prelude::*;
use zerodesk_domain::{AccountRef, Category, TenantPolicy};
use zerodesk_triage::{TicketText, classify, redact};

fn policy() -> TenantPolicy {
    TenantPolicy {
        auto_resolve: [Category::PasswordReset, Category::AccountUnlock].into(),
        ..Default::default()
    }
}

fn requester() -> AccountRef {
    AccountRef::parse("ann@acme.example").unwrap()
}

/// Ticket-ish text: lexicon words, digits, separators and arbitrary unicode mixed.
fn ticketish() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("password".to_owned()),
        Just("reset".to_owned()),
        Just("don't".to_owned()),
        Just("locked".to_owned()),
        Just("CEO".to_owned()),
        Just("bob@acme.example".to_owned()),
        Just("contraseña:".to_owned()),
        Just("4111 1111 1111 1111".to_owned()),
        Just("-----BEGIN PRIVATE KEY-----".to_owned()),
        Just("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcd".to_owned()),
        "[0-9 -]{1,24}",
        "[a-zA-Z0-9+/=_-]{1,48}",
        any::<String>(),
    ];
    prop::collection::vec(word, 0..24).prop_map(|ws| ws.join(" "))
}

/// Digits after removing single spaces and dashes between digits, per run.
fn luhn_valid_sixteen(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut runs: Vec<Vec<u8>> = vec![Vec::new()];
    for (i, b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            runs.last_mut().unwrap().push(b - b'0');
        } else if matches!(b, b' ' | b'-')
            && i > 0
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
        } else {
            runs.push(Vec::new());
        }
    }
    runs.iter()
        .flat_map(|r| r.windows(16))
        .find(|w| luhn(w))
        .map(|w| w.iter().map(|d| (b'0' + d) as char).collect())
}

fn luhn(d: &[u8]) -> bool {
    let s: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, x)| {
            let x = u32::from(*x);
            if i % 2 == 1 {
                if x * 2 > 9 { x * 2 - 9 } else { x * 2 }
            } else {
                x
            }
        })
        .sum();
    s.is_multiple_of(10)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn classify_never_panics_and_stays_in_range(subject in any::<String>(), body in ticketish()) {
        let c = classify(&TicketText { subject: &subject, body: &body }, &requester(), &policy());
        prop_assert!((0.0..=1.0).contains(&c.confidence));
        prop_assert!(!c.rationale.is_empty());
        let mut sorted = c.risk_flags.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(sorted, c.risk_flags);
    }

    #[test]
    fn classify_is_deterministic(subject in ticketish(), body in ticketish()) {
        let input = TicketText { subject: &subject, body: &body };
        let a = classify(&input, &requester(), &policy());
        let b = classify(&input, &requester(), &policy());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn redact_never_leaves_a_luhn_valid_sixteen_digit_run(text in ticketish()) {
        let out = redact(&text).text;
        prop_assert_eq!(luhn_valid_sixteen(&out), None, "in {:?}", out);
    }

    #[test]
    fn redact_never_leaves_a_generated_card(prefix in any::<String>(), digits in "[0-9]{15}", sep in "[ -]?", suffix in any::<String>()) {
        // complete 15 digits to a Luhn-valid 16-digit number, then group it
        let mut d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        let check = (0..10u8).find(|c| { let mut t = d.clone(); t.push(*c); luhn(&t) }).unwrap();
        d.push(check);
        let card: Vec<String> = d.chunks(4).map(|c| c.iter().map(|x| (b'0' + x) as char).collect()).collect();
        let text = format!("{prefix} {} {suffix}", card.join(&sep));
        let out = redact(&text).text;
        prop_assert_eq!(luhn_valid_sixteen(&out), None, "in {:?}", out);
    }

    #[test]
    fn redaction_is_idempotent(text in ticketish()) {
        let once = redact(&text);
        let twice = redact(&once.text);
        prop_assert_eq!(&twice.text, &once.text);
        prop_assert!(twice.redactions.is_empty());
    }
}
