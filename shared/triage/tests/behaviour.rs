//! The classifier's behaviour on the cases the issue names, one test each.
// A test crate: its helpers may panic like its tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use zerodesk_domain::{AccountRef, Category, Classification, Decision, RiskFlag, TenantPolicy};
use zerodesk_triage::{MIN_CONFIDENCE, TicketText, assess, classify, decide};

fn acct(s: &str) -> AccountRef {
    AccountRef::parse(s).unwrap()
}

fn policy() -> TenantPolicy {
    TenantPolicy {
        auto_resolve: [Category::PasswordReset, Category::AccountUnlock].into(),
        protected_accounts: [acct("admin@acme.example")].into(),
        ..Default::default()
    }
}

fn run(subject: &str, body: &str) -> Classification {
    classify(
        &TicketText { subject, body },
        &acct("ann@acme.example"),
        &policy(),
    )
}

#[test]
fn plain_self_service_reset_is_automated_and_explained() {
    let c = run(
        "Forgot my password",
        "Hi, I forgot my password, can you reset it please?",
    );
    assert_eq!(c.category, Category::PasswordReset);
    assert_eq!(c.decision, Decision::AutoResolve);
    assert_eq!(c.target, Some(acct("ann@acme.example")));
    assert!(c.confidence >= MIN_CONFIDENCE && c.confidence <= 1.0);
    assert!(
        c.rationale
            .iter()
            .any(|r| r.contains("\"forgot\" near \"password\"")),
        "{:?}",
        c.rationale
    );
    assert!(
        c.rationale
            .last()
            .unwrap()
            .starts_with("decision auto_resolve")
    );
}

#[test]
fn messy_wording_still_classifies() {
    for (body, cat) in [
        ("HELP FORGOT PASSWORD CANT GET IN", Category::PasswordReset),
        ("i forgott my pasword pls resett", Category::PasswordReset),
        ("acount lockd pls unlcok", Category::AccountUnlock),
        ("ACCOUNT LOCKED", Category::AccountUnlock),
    ] {
        assert_eq!(run("", body).category, cat, "{body}");
    }
}

#[test]
fn resets_and_unlocks_are_recognised_in_four_languages() {
    for (body, cat) in [
        ("olvidé mi contraseña", Category::PasswordReset),
        ("Passwort vergessen", Category::PasswordReset),
        ("ho dimenticato la password", Category::PasswordReset),
        ("cuenta bloqueada", Category::AccountUnlock),
        ("Konto gesperrt", Category::AccountUnlock),
        ("account bloccato", Category::AccountUnlock),
    ] {
        let c = run("", body);
        assert_eq!(c.category, cat, "{body}");
        assert_eq!(
            c.decision,
            Decision::AutoResolve,
            "{body}: {:?}",
            c.rationale
        );
    }
}

#[test]
fn negated_requests_escalate() {
    for body in [
        "Please do not reset my password, I only want to know when it expires.",
        "I don't need a reset, just unlock my account.",
        "No restablezcan mi contraseña, solo desbloqueen la cuenta.",
        "Bitte das Passwort nicht zurücksetzen.",
        "Non resettate la password.",
    ] {
        let c = run("", body);
        assert!(c.risk_flags.contains(&RiskFlag::NegatedRequest), "{body}");
        assert_eq!(c.decision, Decision::Escalate, "{body}");
    }
}

#[test]
fn several_issues_are_flagged_never_automated_and_the_first_is_primary() {
    let c = run(
        "",
        "I forgot my password and also my second monitor stopped working.",
    );
    assert!(c.risk_flags.contains(&RiskFlag::MultipleIssues));
    assert_eq!(c.category, Category::PasswordReset);
    assert_eq!(c.decision, Decision::Escalate);
    let c = run(
        "",
        "My laptop screen is cracked. Also I need a password reset.",
    );
    assert_eq!(c.category, Category::Hardware);
}

#[test]
fn named_address_of_someone_else_becomes_the_target_and_needs_approval() {
    let c = run(
        "",
        "Please reset the password for bob.lee@acme.example, he forgot it.",
    );
    assert_eq!(c.target, Some(acct("bob.lee@acme.example")));
    assert!(c.risk_flags.contains(&RiskFlag::OtherPersonsAccount));
    assert_eq!(c.decision, Decision::NeedsApproval);
}

#[test]
fn someone_else_named_only_by_role_has_no_target_and_escalates() {
    for body in [
        "My colleague Bob forgot his password, can you reset it?",
        "I'm asking for my manager, she is locked out.",
        "Mi compañero Juan olvidó su contraseña.",
        "Il mio collega ha dimenticato la password.",
    ] {
        let c = run("", body);
        assert_eq!(c.target, None, "{body}");
        assert!(
            c.risk_flags.contains(&RiskFlag::OtherPersonsAccount),
            "{body}"
        );
        assert_eq!(c.decision, Decision::Escalate, "{body}");
    }
}

#[test]
fn a_managers_approval_is_not_someone_elses_account() {
    let c = run(
        "",
        "I forgot my password. My manager approved it, please reset.",
    );
    assert_eq!(c.target, Some(acct("ann@acme.example")));
    assert_eq!(c.decision, Decision::AutoResolve);
}

#[test]
fn social_engineering_signals_are_flagged_and_escalate() {
    let cases = [
        ("Reset my password ASAP please", RiskFlag::Urgency),
        (
            "The CEO asked me to reset his password",
            RiskFlag::AuthorityPressure,
        ),
        (
            "I'm the director, reset my password",
            RiskFlag::AuthorityPressure,
        ),
        (
            "Got a new phone, reset my password",
            RiskFlag::NewPhoneOrNumber,
        ),
        (
            "I changed my number, please reset my password",
            RiskFlag::NewPhoneOrNumber,
        ),
        (
            "Reset my password and send it to my gmail",
            RiskFlag::OutsideChannel,
        ),
        (
            "Reset my password and text me at 555 0100",
            RiskFlag::OutsideChannel,
        ),
        (
            "Reset my password and send it to my personal email",
            RiskFlag::SendPasswordElsewhere,
        ),
        (
            "Reset my password, skip verification please",
            RiskFlag::SkipVerification,
        ),
        (
            "Reset my password, no time to verify",
            RiskFlag::SkipVerification,
        ),
        ("Unlock my account and disable 2FA", RiskFlag::DisableMfa),
        ("Olvidé mi contraseña, es urgente", RiskFlag::Urgency),
        ("Passwort vergessen, bitte sofort", RiskFlag::Urgency),
        (
            "Passwort vergessen, neues Handy",
            RiskFlag::NewPhoneOrNumber,
        ),
        (
            "Ho dimenticato la password, mandatela su WhatsApp",
            RiskFlag::OutsideChannel,
        ),
        (
            "Resettate la password senza verifica",
            RiskFlag::SkipVerification,
        ),
    ];
    for (body, flag) in cases {
        let c = run("", body);
        assert!(c.risk_flags.contains(&flag), "{body}: {:?}", c.risk_flags);
        assert_eq!(c.decision, Decision::Escalate, "{body}");
    }
}

#[test]
fn denied_urgency_is_not_urgency() {
    for body in [
        "Account locked, not urgent.",
        "No rush, but my account is locked.",
        "Konto gesperrt, nicht dringend.",
    ] {
        let c = run("", body);
        assert!(!c.risk_flags.contains(&RiskFlag::Urgency), "{body}");
        assert_eq!(
            c.decision,
            Decision::AutoResolve,
            "{body}: {:?}",
            c.rationale
        );
    }
}

#[test]
fn urgency_denied_twice_is_urgency() {
    for body in [
        "Account locked, and it is not not urgent.",
        "I wouldn't say it isn't urgent. My account is locked.",
    ] {
        let c = run("", body);
        assert!(c.risk_flags.contains(&RiskFlag::Urgency), "{body}");
        assert_eq!(c.decision, Decision::Escalate, "{body}");
    }
}

#[test]
fn pressure_in_other_words_is_flagged() {
    let c = run(
        "Password",
        "I'm boarding a flight in twenty minutes, our chief exec needs me. Please reset my password.",
    );
    assert!(
        c.risk_flags.contains(&RiskFlag::Urgency),
        "{:?}",
        c.rationale
    );
    assert!(
        c.risk_flags.contains(&RiskFlag::AuthorityPressure),
        "{:?}",
        c.rationale
    );
    for body in [
        "Locked out and my flight leaves in a few minutes, unlock my account",
        "Please reset my password before the meeting",
        "Passwort vergessen, Boarding in zehn Minuten",
        "Ho dimenticato la password, tra dieci minuti devo imbarcarmi",
    ] {
        let c = run("", body);
        assert!(c.risk_flags.contains(&RiskFlag::Urgency), "{body}");
    }
}

#[test]
fn disguised_cue_words_are_read_as_written_to_be_seen() {
    for body in [
        "Reset my password, urg\u{0435}nt",
        "Reset my password, ur\u{200B}gent",
        "Reset my password, ur\u{200F}gent",
        "Reset my password \u{202E}tnegru\u{202C}",
        "Reset my password, \u{FF55}\u{FF52}\u{FF47}\u{FF45}\u{FF4E}\u{FF54}",
    ] {
        let c = run("", body);
        assert!(c.risk_flags.contains(&RiskFlag::Urgency), "{body:?}");
        assert_eq!(c.decision, Decision::Escalate, "{body:?}");
    }
}

#[test]
fn a_word_in_mixed_scripts_is_flagged_and_escalates() {
    let c = run(
        "P\u{0430}ssword reset",
        "I forgot my password, please reset it.",
    );
    assert_eq!(c.category, Category::PasswordReset);
    assert!(c.risk_flags.contains(&RiskFlag::MixedScript));
    assert_eq!(c.decision, Decision::Escalate);
    assert!(
        c.rationale
            .iter()
            .any(|r| r == "risk mixed_script: a word mixes Latin and Cyrillic letters"),
        "{:?}",
        c.rationale
    );
    let own_script = run(
        "",
        "Forgot my password, please reset it. \u{0414}\u{043C}\u{0438}\u{0442}\u{0440}\u{0438}\u{0439}",
    );
    assert!(!own_script.risk_flags.contains(&RiskFlag::MixedScript));
    assert_eq!(own_script.decision, Decision::AutoResolve);
}

#[test]
fn full_width_and_look_alike_addresses_are_addresses() {
    let eve = "\u{FF45}\u{FF56}\u{FF45}\u{FF20}\u{FF45}\u{FF56}\u{FF49}\u{FF4C}\u{FF0E}\u{FF45}\u{FF58}\u{FF41}\u{FF4D}\u{FF50}\u{FF4C}\u{FF45}";
    let sent = run("", &format!("Reset my password and send it to {eve}"));
    assert!(sent.risk_flags.contains(&RiskFlag::SendPasswordElsewhere));
    assert_eq!(sent.decision, Decision::Escalate);
    let other = run("", &format!("Please reset the password for {eve}"));
    assert_eq!(other.target, Some(acct("eve@evil.example")));
    assert_eq!(other.decision, Decision::NeedsApproval);
    let admin = run(
        "",
        "Please reset the password for \u{0430}dmin@acme.example",
    );
    assert_eq!(admin.target, Some(acct("admin@acme.example")));
    assert!(admin.risk_flags.contains(&RiskFlag::ProtectedAccount));
    assert!(admin.risk_flags.contains(&RiskFlag::MixedScript));
}

#[test]
fn mfa_resets_always_escalate() {
    let c = run("MFA", "I got a new phone, please reset my authenticator.");
    assert_eq!(c.category, Category::MfaReset);
    assert_eq!(c.decision, Decision::Escalate);
}

#[test]
fn protected_accounts_escalate_whoever_asks() {
    let c = classify(
        &TicketText {
            subject: "",
            body: "I forgot my password, please reset it.",
        },
        &acct("admin@acme.example"),
        &policy(),
    );
    assert!(c.risk_flags.contains(&RiskFlag::ProtectedAccount));
    assert_eq!(c.decision, Decision::Escalate);
    let c = run("", "Please unlock admin@acme.example, it is locked.");
    assert!(c.risk_flags.contains(&RiskFlag::ProtectedAccount));
    assert_eq!(c.decision, Decision::Escalate);
}

#[test]
fn category_not_enabled_by_the_tenant_needs_approval() {
    let only_resets = TenantPolicy {
        auto_resolve: [Category::PasswordReset].into(),
        ..policy()
    };
    let c = classify(
        &TicketText {
            subject: "",
            body: "My account is locked, please unlock it.",
        },
        &acct("ann@acme.example"),
        &only_resets,
    );
    assert_eq!(c.category, Category::AccountUnlock);
    assert_eq!(c.decision, Decision::NeedsApproval);
}

#[test]
fn a_protected_group_found_later_turns_the_decision_into_escalate() {
    let requester = acct("ann@acme.example");
    let mut a = assess(
        &TicketText {
            subject: "",
            body: "Forgot my password, reset please",
        },
        &requester,
        &policy(),
    );
    assert_eq!(
        decide(&a, &requester, &policy()).decision,
        Decision::AutoResolve
    );
    a.risk_flags.push(RiskFlag::ProtectedAccount);
    assert_eq!(
        decide(&a, &requester, &policy()).decision,
        Decision::Escalate
    );
}

#[test]
fn non_account_categories_are_recognised_and_escalate() {
    for (body, cat) in [
        (
            "Please give me access to the Finance shared drive",
            Category::AccessRequest,
        ),
        ("My laptop screen is cracked", Category::Hardware),
        (
            "Outlook crashes when I open attachments",
            Category::Software,
        ),
        ("What is the guest wifi password?", Category::Other),
        ("Where do I get a parking permit?", Category::Other),
    ] {
        let c = run("", body);
        assert_eq!(c.category, cat, "{body}");
        assert_eq!(c.decision, Decision::Escalate, "{body}");
    }
}

#[test]
fn rationale_never_quotes_the_ticket() {
    let secret = "Zq8!vR2#";
    let c = run(
        "",
        &format!("my password is {secret} and it expired, reset please, ask bob.lee@acme.example"),
    );
    assert!(
        c.rationale
            .iter()
            .all(|r| !r.contains(secret) && !r.contains("bob.lee")),
        "{:?}",
        c.rationale
    );
}

#[test]
fn empty_ticket_is_other_with_low_confidence() {
    let c = run("", "");
    assert_eq!(c.category, Category::Other);
    assert!(c.confidence < MIN_CONFIDENCE);
    assert_eq!(c.decision, Decision::Escalate);
}
