//! Property tests: the classifier is total and deterministic on any text,
//! and redaction is idempotent, linear, never leaves a card number behind and
//! never leaves a password after a phrase that names one.
// A test crate: its helpers may panic like its tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use proptest::prelude::*;
use zerodesk_domain::{AccountRef, Category, TenantPolicy};
use zerodesk_triage::{RedactionKind, TicketText, classify, redact};

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
        Just("my password is now".to_owned()),
        Just("was changed to".to_owned()),
        Just("mot de passe :".to_owned()),
        Just("parola d'ordine è".to_owned()),
        Just("das ich benutze, ist".to_owned()),
        Just("pw ->".to_owned()),
        Just("from".to_owned()),
        Just("\"".to_owned()),
        Just("[redacted:password]".to_owned()),
        Just("Hunter2!".to_owned()),
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

/// Phrases that announce a password, one per language and form.
const PHRASES: &[&str] = &[
    "my password is now",
    "password was changed to",
    "my pw is",
    "the password I use is",
    "my password has been reset to",
    "pwd =",
    "PIN:",
    "mot de passe :",
    "mon mdp est",
    "mi contraseña es",
    "mi clave ahora es",
    "mein Passwort ist",
    "Kennwort lautet",
    "la mia password è",
    "parola d'ordine:",
];

/// Text around a phrase: words, punctuation, no digits (so the secret
/// cannot appear in it by chance).
fn prose() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("hi,"),
            Just("please help."),
            Just("thanks"),
            Just("(urgent)"),
            Just("\n"),
            Just("gracias"),
            Just("danke!"),
        ],
        0..4,
    )
    .prop_map(|ws| ws.join(" "))
}

/// Text built to make a scan go back over what it has read: one long run
/// full of labels, separators, markers, quotes or token prefixes.
fn adversarial(n: usize) -> Vec<String> {
    [
        "password:",
        "pw=",
        "password,",
        "password is ",
        "password is now ",
        "mot de passe : ",
        "password is \"",
        "password: \u{201c} ",
        "pw '' ",
        "password is [redacted:password]",
        "[redacted:password]",
        "sk_live_",
        "-----BEGIN PRIVATE KEY-----",
        "password ",
        "e",
        ".",
        "4",
    ]
    .iter()
    .map(|unit| unit.repeat(n / unit.len()))
    .chain([
        format!("password: {}", "x".repeat(n)),
        format!("password{}", " ".repeat(n)),
    ])
    .collect()
}

#[test]
fn redaction_stays_linear_on_adversarial_text() {
    // 200 KB each; a scan that is quadratic here takes minutes, not the
    // few milliseconds a linear one does, so the bound is generous.
    for text in adversarial(200_000) {
        let started = std::time::Instant::now();
        let once = redact(&text);
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(5),
            "{took:?} on {:?}...",
            &text[..24]
        );
        assert_eq!(
            redact(&once.text).text,
            once.text,
            "idempotent on {:?}...",
            &text[..24]
        );
    }
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
    fn a_secret_after_a_phrase_never_survives(
        before in prose(),
        phrase in prop::sample::select(PHRASES),
        secret in "[A-Za-z!#%*]{0,6}[0-9][A-Za-z0-9!#%*]{2,12}",
        quote in prop::sample::select(&["", "\"", "'"][..]),
        after in prose(),
    ) {
        let text = format!("{before} {phrase} {quote}{secret}{quote} {after}");
        let out = redact(&text);
        prop_assert!(!out.text.contains(&secret), "{:?} -> {:?}", text, out.text);
        prop_assert!(out.redactions.contains(&RedactionKind::Password), "{:?}", text);
    }

    #[test]
    fn redaction_is_idempotent(text in ticketish()) {
        let once = redact(&text);
        let twice = redact(&once.text);
        prop_assert_eq!(&twice.text, &once.text);
        prop_assert!(twice.redactions.is_empty());
    }
}
