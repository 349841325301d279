//! Social-engineering signals: urgency, authority pressure, a new phone or
//! number, an outside channel, sending the password elsewhere, skipping
//! verification, turning MFA off, a word spelt in mixed scripts. Each comes with the lexicon phrase that
//! raised it. Flags only; what they mean for the decision lives in `decide`.

use zerodesk_domain::RiskFlag;

use crate::evidence::{Evidence, gap};
use crate::lexicon::Term;
use crate::matcher::{Occ, longest_phrase};
use crate::normalize::TokKind;
use crate::target::{EmailRole, Emails};

pub(crate) struct Flagged {
    pub flag: RiskFlag,
    pub why: String,
}

fn flagged(flag: RiskFlag, phrase: &str) -> Flagged {
    Flagged {
        flag,
        why: format!("risk {}: \"{phrase}\"", flag_name(flag)),
    }
}

pub(crate) fn flag_name(flag: RiskFlag) -> &'static str {
    match flag {
        RiskFlag::Urgency => "urgency",
        RiskFlag::AuthorityPressure => "authority_pressure",
        RiskFlag::NewPhoneOrNumber => "new_phone_or_number",
        RiskFlag::OutsideChannel => "outside_channel",
        RiskFlag::SendPasswordElsewhere => "send_password_elsewhere",
        RiskFlag::SkipVerification => "skip_verification",
        RiskFlag::DisableMfa => "disable_mfa",
        RiskFlag::OtherPersonsAccount => "other_persons_account",
        RiskFlag::ProtectedAccount => "protected_account",
        RiskFlag::MultipleIssues => "multiple_issues",
        RiskFlag::NegatedRequest => "negated_request",
        RiskFlag::MixedScript => "mixed_script",
    }
}

pub(crate) fn social_engineering(
    ev: &Evidence<'_>,
    emails: &Emails,
    other_person: bool,
) -> Vec<Flagged> {
    let mut out = Vec::new();
    if let Some(u) = ev.live(Term::Urgent).find(|u| !denied(ev, u)) {
        out.push(flagged(RiskFlag::Urgency, u.phrase()));
    }
    if let Some(a) = ev.live(Term::Authority).next() {
        out.push(flagged(RiskFlag::AuthorityPressure, a.phrase()));
    }
    if let Some((a, b)) = ev
        .near(Term::NewAdj, Term::Phone, 2)
        .or_else(|| ev.near(Term::PhoneChange, Term::Phone, 3))
    {
        out.push(flagged(
            RiskFlag::NewPhoneOrNumber,
            &format!("{} {}", a.phrase(), b.phrase()),
        ));
    }
    if let Some(why) = outside_channel(ev, emails) {
        out.push(flagged(RiskFlag::OutsideChannel, why));
    }
    if let Some(why) = send_elsewhere(ev, emails, other_person) {
        out.push(flagged(RiskFlag::SendPasswordElsewhere, why));
    }
    if let Some((a, b)) = ev.near(Term::SkipWord, Term::Verify, 4) {
        out.push(flagged(
            RiskFlag::SkipVerification,
            &format!("{} {}", a.phrase(), b.phrase()),
        ));
    }
    if let Some((a, b)) = ev.tokens.mixed_scripts {
        out.push(Flagged {
            flag: RiskFlag::MixedScript,
            why: format!(
                "risk mixed_script: a word mixes {} and {} letters",
                a.name(),
                b.name()
            ),
        });
    }
    let disable = ev
        .near(Term::Disable, Term::Mfa, 4)
        .or_else(|| ev.near(Term::Disable, Term::MfaApp, 4))
        .or_else(|| ev.followed_by(Term::RemoveVerb, Term::Mfa, 3));
    if let Some((a, b)) = disable {
        out.push(flagged(
            RiskFlag::DisableMfa,
            &format!("{} {}", a.phrase(), b.phrase()),
        ));
    }
    out
}

/// "not urgent", "no rush", "nicht dringend": urgency that is denied. A
/// denial that is itself denied ("not not urgent", "I wouldn't say it isn't
/// urgent") leaves the urgency standing.
fn denied(ev: &Evidence<'_>, u: &Occ) -> bool {
    let closest = ev.just_before(Term::NotWord, u, 2).max_by_key(|n| n.start);
    closest.is_some_and(|n| ev.just_before(Term::NotWord, n, 4).next().is_none())
}

fn outside_channel(ev: &Evidence<'_>, emails: &Emails) -> Option<&'static str> {
    if let Some(c) = ev.live(Term::Channel).next() {
        return Some(c.phrase());
    }
    if emails
        .roles
        .iter()
        .any(|(_, role, _)| *role == EmailRole::Outside)
    {
        return Some("a personal email address");
    }
    if let Some((_, f)) = ev.near(Term::Send, Term::Family, 8) {
        return Some(f.phrase());
    }
    ev.near(Term::Send, Term::Sms, 4).map(|(_, s)| s.phrase())
}

/// Something is to be sent, and its destination is a person, an address, a
/// number or a channel rather than the requester through the normal flow.
fn send_elsewhere(ev: &Evidence<'_>, emails: &Emails, other_person: bool) -> Option<&'static str> {
    if emails
        .roles
        .iter()
        .any(|(_, role, _)| *role == EmailRole::Delivery)
    {
        return Some("send to an address in the text");
    }
    let mut destinations = vec![
        Term::Channel,
        Term::Sms,
        Term::Family,
        Term::Rel,
        Term::ThirdPerson,
    ];
    if other_person {
        destinations.push(Term::MeDest);
    }
    for send in ev.live(Term::Send) {
        for dest in &destinations {
            let from = send.start.saturating_sub(6 + longest_phrase());
            let near = ev
                .starting_in(*dest, from, send.end + 8)
                .find(|(d, neg)| !neg && close_to(ev, send, d));
            if let Some((d, _)) = near {
                return Some(d.phrase());
            }
        }
        if number_after(ev, send.end, 8) {
            return Some("send to a phone number");
        }
        if emails
            .roles
            .iter()
            .any(|(_, role, pos)| *role == EmailRole::Outside && near_pos(send, *pos, 8))
        {
            return Some("send to a personal address");
        }
    }
    // "per WhatsApp an 0170 1234567": a channel and a number, no verb.
    ev.live(Term::Channel)
        .find(|c| number_after(ev, c.end, 4))
        .map(|_| "a channel and a phone number")
}

/// Within 6 tokens before or 8 after the verb, in its sentence.
fn close_to(ev: &Evidence<'_>, send: &Occ, dest: &Occ) -> bool {
    let within = if dest.start >= send.start {
        gap(send, dest) <= 8
    } else {
        gap(dest, send) <= 6
    };
    within && ev.same_sentence(send, dest)
}

fn near_pos(o: &Occ, pos: usize, window: usize) -> bool {
    pos >= o.end && pos - o.end <= window
}

/// A run of digits long enough to be part of a phone number.
fn number_after(ev: &Evidence<'_>, from: usize, window: usize) -> bool {
    let toks = &ev.tokens.toks;
    let sentence = toks.get(from.saturating_sub(1)).map(|t| t.sentence);
    toks.iter()
        .enumerate()
        .skip(from)
        .take(window + 1)
        .any(|(_, t)| {
            t.kind == TokKind::Number && t.text.len() >= 3 && Some(t.sentence) == sentence
        })
}
