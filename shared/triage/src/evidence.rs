//! What the matcher found, cleaned up: occurrences hidden inside a longer
//! phrase that means something else are dropped, negated ones are marked, and
//! the rules get "is there X near Y" queries. No scoring, no decisions here.

use std::collections::HashMap;

use crate::lang::Lang;
use crate::lexicon::Term;
use crate::matcher::{self, Occ};
use crate::normalize::Tokens;

/// (hidden term, hiding terms): an occurrence of the first term lying inside
/// one of the second does not count ("password manager" names no manager).
const HIDDEN_INSIDE: &[(Term, &[Term])] = &[
    (Term::KnowPw, &[Term::Forgot]),
    (Term::Rel, &[Term::OtherCue]),
    (Term::NewAdj, &[Term::Rel]),
    (Term::Verify, &[Term::Code, Term::Mfa, Term::MfaApp]),
    (Term::HwNoun, &[Term::SwIssue]),
    (Term::SwNoun, &[Term::MfaApp]),
    (Term::Access, &[Term::LoginFail]),
    (
        Term::NegReq,
        &[Term::Forgot, Term::KnowPw, Term::Bad, Term::Urgent],
    ),
    (
        Term::NegImp,
        &[
            Term::Forgot,
            Term::KnowPw,
            Term::Bad,
            Term::Urgent,
            Term::NegReq,
        ],
    ),
    (
        Term::NegAdj,
        &[
            Term::Forgot,
            Term::KnowPw,
            Term::Bad,
            Term::Urgent,
            Term::NegReq,
            Term::HwBroken,
        ],
    ),
];

/// A negation cue, how many tokens may separate it from what it negates, and
/// what it can negate.
const NEGATIONS: &[(Term, usize, &[Term])] = &[
    (
        Term::NegReq,
        4,
        &[
            Term::ResetV,
            Term::UnlockV,
            Term::ChangeV,
            Term::NewAdj,
            Term::Pw,
            Term::Mfa,
            Term::MfaApp,
        ],
    ),
    (
        Term::NegImp,
        3,
        &[Term::ResetV, Term::UnlockV, Term::ChangeV],
    ),
    (
        Term::NegAdj,
        0,
        &[
            Term::ResetV,
            Term::UnlockV,
            Term::ChangeV,
            Term::Locked,
            Term::Expired,
        ],
    ),
];

pub(crate) struct Evidence<'a> {
    pub tokens: &'a Tokens,
    /// Ordered by start token.
    occs: Vec<Occ>,
    negated: Vec<bool>,
    /// Indexes into `occs` for each term, in start order.
    by_term: HashMap<Term, Vec<usize>>,
}

impl<'a> Evidence<'a> {
    pub(crate) fn gather(tokens: &'a Tokens, lang: Lang) -> Self {
        let found = matcher::find(&tokens.toks, lang);
        let occs: Vec<Occ> = found
            .iter()
            .filter(|o| !is_hidden(o, &found))
            .cloned()
            .collect();
        let mut by_term: HashMap<Term, Vec<usize>> = HashMap::new();
        for (i, o) in occs.iter().enumerate() {
            by_term.entry(o.term).or_default().push(i);
        }
        let mut ev = Evidence {
            tokens,
            negated: vec![false; occs.len()],
            occs,
            by_term,
        };
        ev.negated = (0..ev.occs.len()).map(|i| ev.negated_by_cue(i)).collect();
        ev
    }

    fn indexes(&self, term: Term) -> &[usize] {
        self.by_term
            .get(&term)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Occurrences of `term`, negated ones included.
    pub(crate) fn all(&self, term: Term) -> impl Iterator<Item = &Occ> {
        self.indexes(term).iter().filter_map(|i| self.occs.get(*i))
    }

    /// Occurrences of `term` that no cue negates.
    pub(crate) fn live(&self, term: Term) -> impl Iterator<Item = &Occ> {
        self.indexes(term)
            .iter()
            .filter(|i| !self.is_negated(**i))
            .filter_map(|i| self.occs.get(*i))
    }

    fn is_negated(&self, i: usize) -> bool {
        self.negated.get(i).copied().unwrap_or(false)
    }

    /// Occurrences of `term` starting at a token in `from..=to`, negated ones
    /// included; found by binary search, so long tickets stay linear.
    pub(crate) fn starting_in(
        &self,
        term: Term,
        from: usize,
        to: usize,
    ) -> impl Iterator<Item = (&Occ, bool)> {
        let idx = self.indexes(term);
        let first = idx.partition_point(|i| self.occs.get(*i).is_some_and(|o| o.start < from));
        idx[first..].iter().map_while(move |i| {
            self.occs
                .get(*i)
                .filter(|o| o.start <= to)
                .map(|o| (o, self.is_negated(*i)))
        })
    }

    pub(crate) fn negated(&self) -> impl Iterator<Item = &Occ> {
        self.occs
            .iter()
            .zip(&self.negated)
            .filter(|(_, neg)| **neg)
            .map(|(o, _)| o)
    }

    pub(crate) fn has(&self, term: Term) -> bool {
        self.live(term).next().is_some()
    }

    /// A live `a` and a live `b` in one sentence with at most `window` tokens
    /// between them, in either order.
    pub(crate) fn near(&self, a: Term, b: Term, window: usize) -> Option<(&Occ, &Occ)> {
        self.live(a)
            .find_map(|x| self.partner(x, b, window, true).map(|y| (x, y)))
    }

    /// Like `near`, but negated occurrences count too.
    pub(crate) fn near_any(&self, a: Term, b: Term, window: usize) -> Option<(&Occ, &Occ)> {
        self.all(a)
            .find_map(|x| self.partner(x, b, window, false).map(|y| (x, y)))
    }

    /// An occurrence of `b` within `window` tokens of `x`, in its sentence.
    pub(crate) fn partner(&self, x: &Occ, b: Term, window: usize, live_only: bool) -> Option<&Occ> {
        let from = x.start.saturating_sub(window + matcher::longest_phrase());
        self.starting_in(b, from, x.end + window)
            .find(|(y, neg)| {
                !(live_only && *neg) && gap(x, y) <= window && self.same_sentence(x, y)
            })
            .map(|(y, _)| y)
    }

    /// `b` starts at most `window` tokens after `a` ends, same sentence.
    pub(crate) fn followed_by(&self, a: Term, b: Term, window: usize) -> Option<(&Occ, &Occ)> {
        self.live(a).find_map(|x| {
            self.starting_in(b, x.end, x.end + window)
                .find(|(y, neg)| !*neg && self.same_sentence(x, y))
                .map(|(y, _)| (x, y))
        })
    }

    pub(crate) fn same_sentence(&self, a: &Occ, b: &Occ) -> bool {
        let s = |o: &Occ| self.tokens.toks.get(o.start).map(|t| t.sentence);
        s(a) == s(b)
    }

    pub(crate) fn same_clause(&self, a: &Occ, b: &Occ) -> bool {
        let c = |o: &Occ| self.tokens.toks.get(o.start).map(|t| t.clause);
        c(a) == c(b)
    }

    pub(crate) fn in_subject(&self, o: &Occ) -> bool {
        self.tokens.toks.get(o.start).is_some_and(|t| t.in_subject)
    }

    /// Occurrences of `term` ending at most `window` tokens before `o`
    /// starts, in its clause.
    pub(crate) fn just_before(
        &self,
        term: Term,
        o: &Occ,
        window: usize,
    ) -> impl Iterator<Item = &Occ> {
        let from = o.start.saturating_sub(window + matcher::longest_phrase());
        self.starting_in(term, from, o.start)
            .map(|(c, _)| c)
            .filter(move |c| {
                c.end <= o.start && o.start - c.end <= window && self.same_clause(c, o)
            })
    }

    fn negated_by_cue(&self, i: usize) -> bool {
        let Some(target) = self.occs.get(i) else {
            return false;
        };
        NEGATIONS.iter().any(|(cue, window, negates)| {
            negates.contains(&target.term)
                && self
                    .just_before(*cue, target, *window)
                    .any(|c| !self.is_inability(c))
        })
    }

    /// "can't", "kann es nicht", "non riesco a": not being able is not a
    /// refusal, so the cue negates nothing.
    fn is_inability(&self, cue: &Occ) -> bool {
        self.just_before(Term::Ability, cue, 2).next().is_some()
    }
}

/// Tokens strictly between two occurrences; 0 when they touch or overlap.
pub(crate) fn gap(a: &Occ, b: &Occ) -> usize {
    if a.end <= b.start {
        b.start - a.end
    } else {
        a.start.saturating_sub(b.end)
    }
}

/// `all` is ordered by start: only occurrences starting up to one phrase
/// length earlier can contain `o`.
fn is_hidden(o: &Occ, all: &[Occ]) -> bool {
    let Some((_, hiders)) = HIDDEN_INSIDE.iter().find(|(hidden, _)| o.term == *hidden) else {
        return false;
    };
    let first = all.partition_point(|h| h.start + matcher::longest_phrase() < o.start);
    all[first..]
        .iter()
        .take_while(|h| h.start <= o.start)
        .any(|h| hiders.contains(&h.term) && o.end <= h.end && h != o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::guess;
    use crate::normalize::tokenize;

    fn negated_terms(text: &str) -> Vec<Term> {
        let t = tokenize("", text);
        let ev = Evidence::gather(&t, guess(&t.toks));
        ev.negated().map(|o| o.term).collect()
    }

    #[test]
    fn request_negations_mark_the_action() {
        assert!(negated_terms("Please do not reset my password").contains(&Term::ResetV));
        assert!(
            negated_terms("I don't need a reset, just unlock my account").contains(&Term::ResetV)
        );
        assert!(
            !negated_terms("I don't need a reset, just unlock my account").contains(&Term::UnlockV)
        );
        assert!(negated_terms("Bitte das Passwort nicht zurücksetzen").contains(&Term::ResetV));
        assert!(negated_terms("No restablezcan mi contraseña").contains(&Term::ResetV));
        assert!(negated_terms("Non resettate la password").contains(&Term::ResetV));
    }

    #[test]
    fn inability_and_memory_are_not_negations() {
        assert!(negated_terms("I can not reset my password").is_empty());
        assert!(
            negated_terms("Mein Kennwort ist abgelaufen und ich kann es nicht ändern").is_empty()
        );
        assert!(negated_terms("i dont remember my password, reset it").is_empty());
        assert!(negated_terms("I don't know my password anymore pls reset").is_empty());
    }

    #[test]
    fn hidden_occurrences_do_not_count() {
        let t = tokenize("", "Which password manager should I use?");
        let ev = Evidence::gather(&t, guess(&t.toks));
        assert!(!ev.has(Term::Rel));
        assert!(ev.has(Term::OtherCue));
    }
}
