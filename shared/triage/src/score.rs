//! The category rules: each pairs lexicon terms with a weight towards one
//! category. Scores are sums of the rules that fired, so every point can be
//! explained. Picks the primary category and spots tickets with several
//! issues; never looks at risk, targets or policy.

use zerodesk_domain::Category;

use crate::evidence::Evidence;
use crate::lexicon::Term;
use crate::matcher::Occ;

/// Weight kept by a rule that only fires through negated words ("do not
/// reset"): they still say what the ticket is about, not what it asks for.
const NEGATED_SHARE: f32 = 0.3;
/// Extra weight when the subject line carries the rule: subjects name the main issue.
const SUBJECT_BONUS: f32 = 0.5;
/// Below this total nothing is convincing and the ticket is `other`. Low
/// enough that a lone negated request ("don't unlock my account yet") still
/// names its topic.
const MIN_SCORE: f32 = 0.5;
/// How much a rival from the same family (reset against unlock) weighs in
/// the margin: either fixes the account, so it is less of a doubt.
const SAME_FAMILY_RIVAL: f32 = 0.5;
/// A second family of issues counts when it reaches this score with a strong rule.
const ISSUE_SCORE: f32 = 2.5;
/// After "also", "außerdem", "inoltre", a family mentioned later counts from
/// this score, strong rule or not.
const ISSUE_SCORE_AFTER_ALSO: f32 = 1.5;

struct Rule {
    category: Category,
    weight: f32,
    /// A strong rule states an issue by itself; a weak one only hints at a topic.
    strong: bool,
    term: Term,
    near: Option<(Term, usize)>,
}

const fn one(category: Category, weight: f32, strong: bool, term: Term) -> Rule {
    Rule {
        category,
        weight,
        strong,
        term,
        near: None,
    }
}

const fn two(category: Category, weight: f32, term: Term, other: Term, window: usize) -> Rule {
    Rule {
        category,
        weight,
        strong: true,
        term,
        near: Some((other, window)),
    }
}

use Category::{
    AccessRequest as Acc, AccountUnlock as Unl, Hardware as Hw, MfaReset as Mfa, Other as Oth,
    PasswordReset as Pwr, Software as Sw,
};

const RULES: &[Rule] = &[
    two(Pwr, 3.5, Term::Forgot, Term::Pw, 6),
    two(Pwr, 3.0, Term::ResetV, Term::Pw, 6),
    two(Pwr, 3.0, Term::Expired, Term::Pw, 5),
    two(Pwr, 2.0, Term::ChangeV, Term::Pw, 5),
    two(Pwr, 2.0, Term::NewAdj, Term::Pw, 3),
    two(Pwr, 2.0, Term::Bad, Term::Pw, 5),
    one(Pwr, 1.0, false, Term::Pw),
    one(Pwr, 1.5, false, Term::Forgot),
    one(Pwr, 1.0, false, Term::ResetV),
    one(Pwr, 1.0, false, Term::Expired),
    one(Unl, 3.0, true, Term::UnlockV),
    one(Unl, 2.5, true, Term::Locked),
    two(Unl, 1.0, Term::Locked, Term::Account, 4),
    one(Unl, 1.5, false, Term::KnowPw),
    one(Unl, 1.5, false, Term::TooMany),
    one(Mfa, 3.0, true, Term::Mfa),
    one(Mfa, 3.0, true, Term::MfaApp),
    one(Mfa, 2.5, true, Term::Code),
    two(Mfa, 1.0, Term::Mfa, Term::ResetV, 4),
    one(Acc, 2.0, false, Term::Access),
    two(Acc, 1.5, Term::AccessVerb, Term::Access, 4),
    one(Acc, 2.5, true, Term::GroupAdd),
    one(Acc, 1.0, false, Term::Resource),
    one(Hw, 1.5, false, Term::HwNoun),
    two(Hw, 2.0, Term::HwBroken, Term::HwNoun, 5),
    two(Hw, 1.5, Term::HwWant, Term::HwNoun, 3),
    one(Sw, 1.5, false, Term::SwNoun),
    one(Sw, 2.0, true, Term::SwIssue),
    two(Sw, 1.0, Term::SwIssue, Term::SwNoun, 5),
    two(Oth, 4.0, Term::Wifi, Term::Pw, 4),
    one(Oth, 1.5, false, Term::Wifi),
    one(Oth, 2.5, false, Term::OtherCue),
    one(Oth, 1.0, false, Term::Thanks),
    one(Oth, 2.0, false, Term::Question),
];

/// A rule that fired, with what it contributed.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    pub category: Category,
    pub points: f32,
    pub strong: bool,
    pub negated: bool,
    pub in_subject: bool,
    pub fuzzy: bool,
    pub phrases: (&'static str, Option<&'static str>),
    /// Only a lockout, with no explicit unlock or password rule behind it.
    pub lock_state_only: bool,
    /// First token of the evidence, to order issues by mention.
    pub position: usize,
}

impl Fired {
    pub(crate) fn explain(&self) -> String {
        let what = match self.phrases {
            (a, Some(b)) => format!("\"{a}\" near \"{b}\""),
            (a, None) => format!("\"{a}\""),
        };
        let mut notes = Vec::new();
        if self.negated {
            notes.push("negated");
        }
        if self.in_subject {
            notes.push("in subject");
        }
        if self.fuzzy {
            notes.push("typo tolerated");
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        format!(
            "{} +{:.1}: {what}{notes}",
            self.category.as_str(),
            self.points
        )
    }
}

pub(crate) struct Scored {
    pub category: Category,
    pub confidence: f32,
    pub fired: Vec<Fired>,
    pub multiple_issues: bool,
}

pub(crate) fn score(ev: &Evidence<'_>) -> Scored {
    let fired: Vec<Fired> = RULES.iter().filter_map(|r| fire(r, ev)).collect();
    let mut totals = [0.0f32; 7];
    for f in &fired {
        totals[slot(f.category)] += f.points;
    }
    let also_at = ev.live(Term::Also).map(|o| o.start).min();
    let multiple_issues = several_issues(&fired, also_at);
    let best = if multiple_issues {
        first_mentioned(&fired, &totals)
    } else {
        None
    };
    let best = best.unwrap_or_else(|| highest(&totals));
    let top = totals[slot(best)];
    let rival = Category::ALL
        .iter()
        .filter(|c| **c != best)
        .map(|c| {
            let t = totals[slot(*c)];
            if family(*c).is_some() && family(*c) == family(best) {
                t * SAME_FAMILY_RIVAL
            } else {
                t
            }
        })
        .fold(0.0f32, f32::max);
    let (category, confidence) = if top < MIN_SCORE {
        (Category::Other, 0.2)
    } else {
        (best, confidence(top, rival))
    };
    Scored {
        category,
        confidence,
        fired,
        multiple_issues,
    }
}

/// Highest total; on a tie the category listed first in `Category::ALL`.
fn highest(totals: &[f32; 7]) -> Category {
    Category::ALL
        .iter()
        .copied()
        .fold((Category::Other, f32::MIN), |best, c| {
            let t = totals[slot(c)];
            if t > best.1 { (c, t) } else { best }
        })
        .0
}

/// With several issues the primary one is the one mentioned first, as a
/// person reading the ticket would take it; within its family, the higher score.
fn first_mentioned(fired: &[Fired], totals: &[f32; 7]) -> Option<Category> {
    let first = fired
        .iter()
        .filter(|f| f.strong && family(f.category).is_some())
        .min_by_key(|f| (f.position, slot(f.category)))?;
    let fam = family(first.category);
    Category::ALL
        .iter()
        .copied()
        .filter(|c| family(*c) == fam)
        .fold(None, |best: Option<(Category, f32)>, c| {
            let t = totals[slot(c)];
            match best {
                Some((_, bt)) if bt >= t => best,
                _ => Some((c, t)),
            }
        })
        .map(|(c, _)| c)
}

/// Saturating in the evidence (more rules, more sure) and scaled by the
/// margin over the runner-up (a close second means doubt).
fn confidence(top: f32, rival: f32) -> f32 {
    let strength = top / (top + 1.5);
    let margin = ((top - rival) / top).clamp(0.0, 1.0);
    let c = strength * (0.5 + 0.5 * margin);
    (c * 1000.0).round() / 1000.0
}

fn slot(c: Category) -> usize {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(6)
}

fn fire(rule: &Rule, ev: &Evidence<'_>) -> Option<Fired> {
    let (live, negated) = match rule.near {
        None => (
            ev.live(rule.term).next().map(|o| (o, None)),
            ev.all(rule.term).next().map(|o| (o, None)),
        ),
        Some((other, window)) => (
            ev.near(rule.term, other, window).map(|(a, b)| (a, Some(b))),
            ev.near_any(rule.term, other, window)
                .map(|(a, b)| (a, Some(b))),
        ),
    };
    let (hit, is_negated) = match (live, negated) {
        (Some(h), _) => (h, false),
        (None, Some(h)) => (h, true),
        (None, None) => return None,
    };
    let in_subject = !is_negated && subject_carries(rule, ev);
    let mut points = rule.weight;
    if is_negated {
        points *= NEGATED_SHARE;
    } else if in_subject {
        points += SUBJECT_BONUS;
    }
    let (a, b) = hit;
    Some(Fired {
        category: rule.category,
        points,
        strong: rule.strong && !is_negated,
        negated: is_negated,
        in_subject,
        fuzzy: a.fuzzy || b.is_some_and(|o| o.fuzzy),
        phrases: (a.phrase(), b.map(Occ::phrase)),
        lock_state_only: rule.term == Term::Locked,
        position: b.map_or(a.start, |b| a.start.min(b.start)),
    })
}

fn subject_carries(rule: &Rule, ev: &Evidence<'_>) -> bool {
    match rule.near {
        None => ev.live(rule.term).any(|o| ev.in_subject(o)),
        Some((other, window)) => ev.live(rule.term).filter(|o| ev.in_subject(o)).any(|o| {
            ev.live(other)
                .any(|p| ev.in_subject(p) && crate::evidence::gap(o, p) <= window)
        }),
    }
}

/// Families of issues a human would handle separately. A password reset and
/// an unlock are one family: one fixes the other.
fn family(c: Category) -> Option<usize> {
    match c {
        Category::PasswordReset | Category::AccountUnlock => Some(0),
        Category::MfaReset => Some(1),
        Category::AccessRequest => Some(2),
        Category::Hardware => Some(3),
        Category::Software => Some(4),
        Category::Other => None,
    }
}

fn several_issues(fired: &[Fired], also_at: Option<usize>) -> bool {
    let mut score = [0.0f32; 5];
    let mut after_also = [0.0f32; 5];
    let mut strong = [false; 5];
    let mut account_beyond_lockout = false;
    for f in fired.iter().filter(|f| !f.negated) {
        let Some(fam) = family(f.category) else {
            continue;
        };
        score[fam] += f.points;
        strong[fam] |= f.strong;
        if also_at.is_some_and(|at| f.position > at) {
            after_also[fam] += f.points;
        }
        if fam == 0 && f.strong && !f.lock_state_only {
            account_beyond_lockout = true;
        }
    }
    let mut issues: Vec<usize> = (0..5)
        .filter(|i| {
            (strong[*i] && score[*i] >= ISSUE_SCORE) || after_also[*i] >= ISSUE_SCORE_AFTER_ALSO
        })
        .collect();
    // Being locked out because the second factor fails is one MFA issue.
    if issues.contains(&1) && !account_beyond_lockout {
        issues.retain(|i| *i != 0);
    }
    issues.len() >= 2
}
