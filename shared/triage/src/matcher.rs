//! Finds lexicon terms in a token stream: exact words, prefixes, one-typo
//! matches and multi-word phrases inside one sentence. Knows nothing about
//! categories, flags or decisions; never looks at the raw text.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::lang::Lang;
use crate::lexicon::{LEXICON, NOT_A_MATCH, Term};
use crate::normalize::{TokKind, Token};

/// One place a term was found: tokens `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Occ {
    pub term: Term,
    pub start: usize,
    pub end: usize,
    pattern: usize,
    pub fuzzy: bool,
}

impl Occ {
    /// The lexicon phrase that matched, without pattern markers. Ours, not the
    /// ticket's, so it is safe to show in a rationale.
    pub(crate) fn phrase(&self) -> &'static str {
        COMPILED
            .patterns
            .get(self.pattern)
            .map_or("", |p| p.display.as_str())
    }
}

#[derive(Debug)]
enum WordPat {
    Exact(&'static str),
    Prefix(&'static str),
    Fuzzy(&'static str),
    Number,
}

#[derive(Debug)]
struct Pattern {
    term: Term,
    words: Vec<WordPat>,
    /// The language in which this pattern means something else.
    not_in: Option<Lang>,
    display: String,
}

struct Compiled {
    patterns: Vec<Pattern>,
    longest: usize,
    /// Patterns whose first word is exact, by that word.
    by_first_word: HashMap<&'static str, Vec<usize>>,
    /// Patterns whose first word is a prefix, by its first two characters.
    by_prefix_start: HashMap<String, Vec<usize>>,
    /// Patterns whose first word tolerates a typo, by its length in characters.
    by_fuzzy_len: HashMap<usize, Vec<usize>>,
    /// Patterns starting with a number or a one-character prefix: tried everywhere.
    always: Vec<usize>,
}

fn first_two(word: &str) -> Option<String> {
    let two: String = word.chars().take(2).collect();
    (two.chars().count() == 2).then_some(two)
}

static COMPILED: LazyLock<Compiled> = LazyLock::new(compile);

fn compile() -> Compiled {
    let mut patterns = Vec::new();
    let mut by_first_word: HashMap<&'static str, Vec<usize>> = HashMap::new();
    let mut by_prefix_start: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_fuzzy_len: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut always = Vec::new();
    for (term, texts) in LEXICON {
        for text in *texts {
            let (body, not_in) = match text.rsplit_once('!') {
                Some((body, tag)) => (body, Lang::parse(tag)),
                None => (*text, None),
            };
            let words: Vec<WordPat> = body
                .split(' ')
                .map(|w| {
                    if w == "#" {
                        WordPat::Number
                    } else if let Some(p) = w.strip_suffix('*') {
                        WordPat::Prefix(p)
                    } else if let Some(f) = w.strip_suffix('~') {
                        WordPat::Fuzzy(f)
                    } else {
                        WordPat::Exact(w)
                    }
                })
                .collect();
            let display = body.replace('~', "").replace('*', "\u{2026}");
            let idx = patterns.len();
            match words.first() {
                Some(WordPat::Exact(w)) => by_first_word.entry(*w).or_default().push(idx),
                Some(WordPat::Prefix(p)) => match first_two(p) {
                    Some(two) => by_prefix_start.entry(two).or_default().push(idx),
                    None => always.push(idx),
                },
                Some(WordPat::Fuzzy(f)) => {
                    by_fuzzy_len.entry(f.chars().count()).or_default().push(idx)
                }
                Some(WordPat::Number) => always.push(idx),
                None => continue,
            }
            patterns.push(Pattern {
                term: *term,
                words,
                not_in,
                display,
            });
        }
    }
    let longest = patterns.iter().map(|p| p.words.len()).max().unwrap_or(1);
    Compiled {
        patterns,
        longest,
        by_first_word,
        by_prefix_start,
        by_fuzzy_len,
        always,
    }
}

/// The most tokens any lexicon phrase spans.
pub(crate) fn longest_phrase() -> usize {
    COMPILED.longest
}

/// Every term occurrence, ordered by position then term; for one term at one
/// position only the longest phrase is kept.
pub(crate) fn find(tokens: &[Token], lang: Lang) -> Vec<Occ> {
    let c = &*COMPILED;
    let mut found: Vec<Occ> = Vec::new();
    for (i, tok) in tokens.iter().enumerate() {
        if matches!(tok.kind, TokKind::Email(_)) {
            continue;
        }
        let exact = c.by_first_word.get(tok.text.as_str());
        let prefixed = first_two(&tok.text).and_then(|two| c.by_prefix_start.get(&two));
        let len = tok.text.chars().count();
        let fuzzy = (len.saturating_sub(1)..=len + 1).filter_map(|l| c.by_fuzzy_len.get(&l));
        let candidates = exact
            .into_iter()
            .chain(prefixed)
            .chain(fuzzy)
            .flatten()
            .chain(&c.always);
        for &p in candidates {
            let Some(pattern) = c.patterns.get(p) else {
                continue;
            };
            if pattern.not_in == Some(lang) {
                continue;
            }
            if let Some(fuzzy) = match_at(pattern, tokens, i) {
                found.push(Occ {
                    term: pattern.term,
                    start: i,
                    end: i + pattern.words.len(),
                    pattern: p,
                    fuzzy,
                });
            }
        }
    }
    // Longest phrase first for each (term, start), then keep the first.
    found.sort_by(|a, b| {
        (a.term, a.start, b.end, a.pattern).cmp(&(b.term, b.start, a.end, b.pattern))
    });
    found.dedup_by(|later, first| later.term == first.term && later.start == first.start);
    found.sort_by_key(|a| (a.start, a.term, a.end));
    found
}

/// `Some(fuzzy)` when the pattern matches at `i`.
fn match_at(p: &Pattern, tokens: &[Token], i: usize) -> Option<bool> {
    let first = tokens.get(i)?;
    let mut fuzzy = false;
    for (k, wp) in p.words.iter().enumerate() {
        let tok = tokens.get(i + k)?;
        if tok.clause != first.clause {
            return None;
        }
        fuzzy |= word_matches(wp, tok)?;
    }
    Some(fuzzy)
}

fn word_matches(wp: &WordPat, tok: &Token) -> Option<bool> {
    let text = tok.text.as_str();
    match (wp, tok.kind) {
        (_, TokKind::Email(_)) => None,
        (WordPat::Number, kind) => (kind == TokKind::Number).then_some(false),
        (WordPat::Exact(w), _) => (text == *w).then_some(false),
        (WordPat::Prefix(p), _) => {
            (text.starts_with(p) && !NOT_A_MATCH.contains(&text)).then_some(false)
        }
        (WordPat::Fuzzy(w), _) => {
            if text == *w {
                Some(false)
            } else if text.len() >= 5
                && w.len() >= 5
                && text.len().abs_diff(w.len()) <= 2
                && !NOT_A_MATCH.contains(&text)
                && within_one_edit(text, w)
            {
                Some(true)
            } else {
                None
            }
        }
    }
}

/// Optimal-string-alignment distance <= 1: one insertion, deletion,
/// substitution or swap of neighbours.
fn within_one_edit(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return one_edit(a.as_bytes(), b.as_bytes());
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    one_edit(&a, &b)
}

fn one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if prefix == la && prefix == lb {
        return true;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    if la == lb {
        // substitution, or a swap of the first two differing characters
        ra[1..] == rb[1..]
            || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
    } else if la > lb {
        ra[1..] == *rb
    } else {
        *ra == rb[1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::tokenize;

    fn terms(text: &str) -> Vec<(Term, &'static str, bool)> {
        let t = tokenize("", text);
        find(&t.toks, crate::lang::guess(&t.toks))
            .iter()
            .map(|o| (o.term, o.phrase(), o.fuzzy))
            .collect()
    }

    #[test]
    fn one_edit_distance_covers_typos_and_swaps() {
        assert!(within_one_edit("pasword", "password"));
        assert!(within_one_edit("passwrod", "password"));
        assert!(within_one_edit("unlcok", "unlock"));
        assert!(within_one_edit("passwordd", "password"));
        assert!(!within_one_edit("passport", "password"));
        assert!(!within_one_edit("lock", "unlock"));
    }

    #[test]
    fn typos_match_and_are_marked_fuzzy() {
        let found = terms("forgott my pasword");
        assert!(found.contains(&(Term::Pw, "password", true)));
        assert!(found.contains(&(Term::Forgot, "forgot", true)));
    }

    #[test]
    fn near_words_that_are_real_words_do_not_match() {
        assert!(
            !terms("I looked at it")
                .iter()
                .any(|(t, _, _)| *t == Term::Locked)
        );
        assert!(
            !terms("mandatory training")
                .iter()
                .any(|(t, _, _)| *t == Term::Send)
        );
    }

    #[test]
    fn longest_phrase_wins_for_a_term_at_one_position() {
        let found = terms("I'm locked out");
        let locked: Vec<_> = found
            .iter()
            .filter(|(t, _, _)| *t == Term::Locked)
            .collect();
        assert_eq!(locked.len(), 1);
        assert_eq!(locked[0].1, "locked out");
    }

    #[test]
    fn language_tagged_patterns_are_off_only_in_that_language() {
        assert!(
            terms("he forgot his password")
                .iter()
                .any(|(t, p, _)| *t == Term::ThirdPerson && *p == "he")
        );
        assert!(
            !terms("me he quedado bloqueado fuera de mi cuenta")
                .iter()
                .any(|(t, _, _)| *t == Term::ThirdPerson)
        );
    }

    #[test]
    fn phrases_do_not_cross_sentences_or_clauses() {
        assert!(
            !terms("I am locked. Out of ideas")
                .iter()
                .any(|(_, p, _)| *p == "locked out")
        );
        assert!(
            !terms("Locked account - admin")
                .iter()
                .any(|(t, _, _)| *t == Term::Privileged)
        );
    }
}
