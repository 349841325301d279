//! Whose account the ticket is about: the requester, another address named
//! in the text, or another person named only by role ("my colleague Bob").
//! Also sorts every address in the text into what it is there for. Never
//! guesses an address that the text does not contain.

use zerodesk_domain::AccountRef;

use crate::evidence::Evidence;
use crate::lexicon::Term;
use crate::matcher::{Occ, longest_phrase};
use crate::normalize::TokKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmailRole {
    /// The requester's own address.
    Requester,
    /// A consumer mailbox (gmail and the like): never a tenant account.
    Outside,
    /// Where someone wants something sent ("send it to x@...").
    Delivery,
    /// A shared mailbox or list being asked about, not a person.
    Resource,
    /// Another person's account.
    Candidate,
}

pub(crate) struct Emails {
    pub roles: Vec<(AccountRef, EmailRole, usize)>,
}

pub(crate) struct TargetFinding {
    pub target: Option<AccountRef>,
    pub other_person: bool,
    pub privileged: bool,
    pub why: String,
}

/// Consumer mail providers, by registrable name; a domain whose first label
/// or whole name is here is personal.
const CONSUMER_DOMAINS: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "ymail",
    "hotmail",
    "outlook.com",
    "live",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol",
    "gmx",
    "web.de",
    "t-online.de",
    "libero.it",
    "virgilio.it",
    "tiscali.it",
    "proton.me",
    "protonmail",
    "pm.me",
    "yandex",
    "mail.ru",
    "qq.com",
    "163.com",
    "orange.fr",
    "free.fr",
    "wanadoo.fr",
    "btinternet.com",
    "comcast.net",
    "hey.com",
    "zoho.com",
    "mail.com",
    "fastmail",
    "tutanota",
    "tuta.io",
    "telefonica.net",
    "alice.it",
];

pub(crate) fn is_consumer_domain(domain: &str) -> bool {
    let first = domain.split('.').next().unwrap_or_default();
    CONSUMER_DOMAINS.iter().any(|d| *d == domain || *d == first)
}

pub(crate) fn classify_emails(ev: &Evidence<'_>, requester: &AccountRef) -> Emails {
    let mut roles = Vec::new();
    for (pos, tok) in ev.tokens.toks.iter().enumerate() {
        let TokKind::Email(idx) = tok.kind else {
            continue;
        };
        let Some(account) = ev.tokens.emails.get(idx) else {
            continue;
        };
        let role = if account == requester {
            EmailRole::Requester
        } else if is_consumer_domain(account.domain()) {
            EmailRole::Outside
        } else if live_between(ev, Term::Send, pos, 6, 0).any(|s| before(ev, s, pos, 6)) {
            EmailRole::Delivery
        } else if live_between(ev, Term::ResourceCue, pos, 3, 3)
            .any(|r| before(ev, r, pos, 3) || (after(ev, r, pos, 2) && names_a_resource(r)))
        {
            EmailRole::Resource
        } else {
            EmailRole::Candidate
        };
        roles.push((account.clone(), role, pos));
    }
    Emails { roles }
}

/// Live occurrences of `term` starting from `before` tokens (plus a phrase)
/// ahead of `pos` to `after` tokens past it.
fn live_between<'e>(
    ev: &'e Evidence<'_>,
    term: Term,
    pos: usize,
    before: usize,
    after: usize,
) -> impl Iterator<Item = &'e Occ> {
    let from = pos.saturating_sub(before + longest_phrase());
    ev.starting_in(term, from, pos + after)
        .filter(|(_, neg)| !neg)
        .map(|(o, _)| o)
}

/// After an address only a noun makes it a resource ("x@y shared mailbox");
/// "access to" after it is what that person is to get.
fn names_a_resource(cue: &Occ) -> bool {
    !matches!(cue.phrase(), "access to" | "cc" | "copy")
}

fn sentence_of(ev: &Evidence<'_>, pos: usize) -> Option<u32> {
    ev.tokens.toks.get(pos).map(|t| t.sentence)
}

/// `o` ends at most `window` tokens before `pos`, in its sentence.
fn before(ev: &Evidence<'_>, o: &Occ, pos: usize, window: usize) -> bool {
    o.end <= pos && pos - o.end <= window && sentence_of(ev, o.start) == sentence_of(ev, pos)
}

/// `o` starts at most `window` tokens after `pos`, in its sentence.
fn after(ev: &Evidence<'_>, o: &Occ, pos: usize, window: usize) -> bool {
    o.start > pos && o.start - pos - 1 <= window && sentence_of(ev, o.start) == sentence_of(ev, pos)
}

pub(crate) fn find_target(
    ev: &Evidence<'_>,
    emails: &Emails,
    requester: &AccountRef,
) -> TargetFinding {
    let privileged = ev.live(Term::Privileged).next();
    // "my admin password": the requester's own privileged account.
    let own_privileged = privileged.is_some_and(|p| ev.live(Term::MyOwn).any(|m| m.end == p.start));
    let privileged = privileged.map(Occ::phrase);
    if let Some((account, _, _)) = emails
        .roles
        .iter()
        .find(|(_, role, _)| *role == EmailRole::Candidate)
    {
        return TargetFinding {
            target: Some(account.clone()),
            other_person: true,
            privileged: privileged.is_some(),
            why: "target: another account named in the text".to_owned(),
        };
    }
    let relation = ev
        .live(Term::Rel)
        .find(|r| {
            ev.starting_in(Term::Approval, r.end, r.end + 2)
                .next()
                .is_none()
        })
        .map(Occ::phrase);
    let cue = relation
        .or_else(|| ev.live(Term::Behalf).next().map(Occ::phrase))
        .or_else(|| ev.live(Term::ThirdPerson).next().map(Occ::phrase))
        .or(privileged.filter(|_| !own_privileged));
    match cue {
        Some(phrase) => TargetFinding {
            target: None,
            other_person: true,
            privileged: privileged.is_some(),
            why: format!("target: another person, named without an address (\"{phrase}\")"),
        },
        None => TargetFinding {
            target: Some(requester.clone()),
            other_person: false,
            privileged: privileged.is_some(),
            why: "target: the requester".to_owned(),
        },
    }
}
