//! Text normalisation for matching: the canonical form of `canonical`, then
//! lower-case, accents stripped, words split, sentence and clause boundaries
//! kept, email addresses lifted out whole. Owns the only tokenizer; it never
//! keeps or returns the raw ticket text.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use zerodesk_domain::AccountRef;

use crate::canonical::{Script, canonical};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    Word,
    Number,
    /// An email address, index into `Tokens::emails`.
    Email(usize),
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub text: String,
    pub kind: TokKind,
    pub sentence: u32,
    pub clause: u32,
    pub in_subject: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Tokens {
    pub toks: Vec<Token>,
    pub emails: Vec<AccountRef>,
    /// The two scripts of the first word that mixes them, subject first.
    pub mixed_scripts: Option<(Script, Script)>,
}

/// What `redact` leaves in place of a secret.
const MARKERS: [&str; 4] = [
    "[redacted:password]",
    "[redacted:token]",
    "[redacted:card]",
    "[redacted:key]",
];

/// Words after which a negation no longer reaches ("I don't need a reset,
/// just unlock it"): they open a new clause.
const CLAUSE_WORDS: &[&str] = &[
    "but", "just", "only", "pero", "sino", "aber", "nur", "ma", "solo",
];

/// Lower-case, accents stripped, compatibility forms folded (`ß` -> `ss`,
/// full-width -> ASCII). Used for single words of the lexicon and the text.
pub(crate) fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        push_folded(&mut out, c);
    }
    out
}

fn push_folded(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if c == 'ß' || c == 'ẞ' {
        out.push_str("ss");
        return;
    }
    for d in std::iter::once(c).nfkd().filter(|d| !is_combining_mark(*d)) {
        out.extend(d.to_lowercase());
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02bc}' | '`' | '\u{00b4}')
}

/// Subject then body, as one stream; the subject is its own sentence. Both
/// are read in their canonical form (look-alikes and hidden characters
/// undone); the caller's text is not changed.
pub(crate) fn tokenize(subject: &str, body: &str) -> Tokens {
    let subject = canonical(subject);
    let body = canonical(body);
    let mut t = Tokenizer::default();
    t.run(&subject.text, true);
    t.sentence += 1;
    t.clause += 1;
    t.run(&body.text, false);
    t.out.mixed_scripts = subject.mixed_scripts.or(body.mixed_scripts);
    t.out
}

#[derive(Default)]
struct Tokenizer {
    out: Tokens,
    sentence: u32,
    clause: u32,
}

impl Tokenizer {
    fn run(&mut self, text: &str, in_subject: bool) {
        let emails = find_emails(text);
        let mut next_email = emails.iter().peekable();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut word = String::new();
        let mut i = 0;
        while i < chars.len() {
            let (at, c) = chars[i];
            if let Some((start, end, account)) = next_email.peek().copied()
                && at == *start
            {
                self.flush(&mut word, in_subject);
                self.out.emails.push(account.clone());
                let idx = self.out.emails.len() - 1;
                self.push(account.as_str().to_owned(), TokKind::Email(idx), in_subject);
                next_email.next();
                while i < chars.len() && chars[i].0 < *end {
                    i += 1;
                }
                continue;
            }
            if c == '[' {
                // Text classified after redaction: a marker is not a word
                // ("[redacted:password]" says nothing about passwords).
                if let Some(len) = MARKERS
                    .iter()
                    .find(|m| text.get(at..).is_some_and(|t| t.starts_with(**m)))
                    .map(|m| m.len())
                {
                    self.flush(&mut word, in_subject);
                    while i < chars.len() && chars[i].0 < at + len {
                        i += 1;
                    }
                    continue;
                }
            }
            let next = chars.get(i + 1).map(|(_, c)| *c);
            if c.is_alphanumeric() {
                push_folded(&mut word, c);
            } else if is_apostrophe(c) && word.ends_with('n') && is_contraction_t(&chars, i) {
                // "don't" -> "dont": English negative contractions stay one word;
                // every other apostrophe ("l'account", "manager's") splits.
            } else {
                self.flush(&mut word, in_subject);
                match c {
                    '.' | '!' | '?' | ';' | '\n' | '\u{3002}' => {
                        let inside_word = c == '.' && next.is_some_and(char::is_alphanumeric);
                        if !inside_word {
                            self.sentence += 1;
                            self.clause += 1;
                        }
                    }
                    ',' | ':' | '(' | ')' | '[' | ']' | '"' | '\u{201c}' | '\u{201d}'
                    | '\u{2014}' | '\u{2013}' => {
                        self.clause += 1;
                    }
                    // " - " between words is a dash, not a hyphen
                    '-' if i > 0 && chars[i - 1].1 == ' ' && next == Some(' ') => self.clause += 1,
                    _ => {}
                }
            }
            i += 1;
        }
        self.flush(&mut word, in_subject);
    }

    fn flush(&mut self, word: &mut String, in_subject: bool) {
        if word.is_empty() {
            return;
        }
        let text = std::mem::take(word);
        if CLAUSE_WORDS.contains(&text.as_str()) {
            self.clause += 1;
        }
        let kind = if text.bytes().all(|b| b.is_ascii_digit()) {
            TokKind::Number
        } else {
            TokKind::Word
        };
        self.push(text, kind, in_subject);
    }

    fn push(&mut self, text: String, kind: TokKind, in_subject: bool) {
        self.out.toks.push(Token {
            text,
            kind,
            sentence: self.sentence,
            clause: self.clause,
            in_subject,
        });
    }
}

/// `n't` followed by a non-letter.
fn is_contraction_t(chars: &[(usize, char)], apostrophe: usize) -> bool {
    let t = chars.get(apostrophe + 1).map(|(_, c)| *c);
    let after = chars.get(apostrophe + 2).map(|(_, c)| *c);
    matches!(t, Some('t' | 'T')) && !after.is_some_and(char::is_alphanumeric)
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._%+-'".contains(&b)
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

/// Byte spans of email addresses that parse as an `AccountRef`, in order.
pub(crate) fn find_emails(text: &str) -> Vec<(usize, usize, AccountRef)> {
    let bytes = text.as_bytes();
    let mut found: Vec<(usize, usize, AccountRef)> = Vec::new();
    for (at, _) in text.match_indices('@') {
        if found.last().is_some_and(|(_, end, _)| at < *end) {
            continue;
        }
        let mut start = at;
        while start > 0 && is_local_char(bytes[start - 1]) {
            start -= 1;
        }
        while start < at && matches!(bytes[start], b'.' | b'\'' | b'-') {
            start += 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain_char(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        if start == at || end == at + 1 {
            continue;
        }
        if found
            .last()
            .is_some_and(|(_, prev_end, _)| start < *prev_end)
        {
            continue;
        }
        if let Some(raw) = text.get(start..end)
            && let Ok(account) = AccountRef::parse(raw)
        {
            found.push((start, end, account));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(subject: &str, body: &str) -> Vec<String> {
        tokenize(subject, body)
            .toks
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn folding_strips_accents_and_case() {
        assert_eq!(fold("Olvidé mi CONTRASEÑA"), "olvide mi contrasena");
        assert_eq!(fold("Zurücksetzen"), "zurucksetzen");
        assert_eq!(fold("Weiß"), "weiss");
        assert_eq!(fold("ＡＳＡＰ"), "asap");
    }

    #[test]
    fn negative_contractions_join_and_other_apostrophes_split() {
        assert_eq!(
            words("", "I don't know, can’t log in"),
            ["i", "dont", "know", "cant", "log", "in"]
        );
        assert_eq!(
            words("", "sbloccate l'account"),
            ["sbloccate", "l", "account"]
        );
        assert_eq!(
            words("", "my manager's password"),
            ["my", "manager", "s", "password"]
        );
    }

    #[test]
    fn emails_become_single_tokens() {
        let t = tokenize("Reset for bob.lee@acme.example", "send to X@Gmail.com.");
        assert_eq!(t.emails.len(), 2);
        assert_eq!(t.emails[0].as_str(), "bob.lee@acme.example");
        assert_eq!(t.emails[1].as_str(), "x@gmail.com");
        assert_eq!(
            t.toks
                .iter()
                .filter(|k| matches!(k.kind, TokKind::Email(_)))
                .count(),
            2
        );
    }

    #[test]
    fn sentences_and_clauses_are_counted() {
        let t = tokenize("Subject", "one, two. three");
        let s: Vec<(u32, u32)> = t.toks.iter().map(|k| (k.sentence, k.clause)).collect();
        assert_eq!(s[0].0, 0);
        assert!(
            s[1].0 == s[2].0 && s[1].1 < s[2].1,
            "comma splits clauses only"
        );
        assert!(s[3].0 > s[2].0, "full stop splits sentences");
        assert!(t.toks[0].in_subject && !t.toks[1].in_subject);
    }

    #[test]
    fn redaction_markers_are_not_words() {
        assert_eq!(
            words("", "my pw is [redacted:password] ok"),
            ["my", "pw", "is", "ok"]
        );
        assert_eq!(words("", "[redacted:other]"), ["redacted", "other"]);
    }

    #[test]
    fn dots_inside_versions_do_not_end_sentences() {
        let t = tokenize("", "Python 3.12 please");
        assert!(t.toks.iter().all(|k| k.sentence == t.toks[0].sentence));
    }
}
