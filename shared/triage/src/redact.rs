//! Redaction on write: anything in ticket text that looks like a password,
//! a token or API key, a card number or a private key is replaced by a marker
//! before the text is stored. Must not mangle emails or normal prose, must
//! be idempotent, and must never return the secret it found in any form.

use serde::{Deserialize, Serialize};

use crate::normalize::fold;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionKind {
    Password,
    Token,
    Card,
    Key,
}

impl RedactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RedactionKind::Password => "password",
            RedactionKind::Token => "token",
            RedactionKind::Card => "card",
            RedactionKind::Key => "key",
        }
    }

    pub fn marker(self) -> &'static str {
        match self {
            RedactionKind::Password => "[redacted:password]",
            RedactionKind::Token => "[redacted:token]",
            RedactionKind::Card => "[redacted:card]",
            RedactionKind::Key => "[redacted:key]",
        }
    }

    /// When spans overlap, the merged span takes the strongest kind.
    fn rank(self) -> u8 {
        match self {
            RedactionKind::Key => 3,
            RedactionKind::Token => 2,
            RedactionKind::Password => 1,
            RedactionKind::Card => 0,
        }
    }
}

/// Text with its secrets replaced, and what was replaced, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    pub text: String,
    pub redactions: Vec<RedactionKind>,
}

const KINDS: [RedactionKind; 4] = [
    RedactionKind::Password,
    RedactionKind::Token,
    RedactionKind::Card,
    RedactionKind::Key,
];

/// The length of the marker `s` starts with, if any. Only whole markers
/// count: "[redacted:hunter2]" is not one.
fn marker_prefix(s: &str) -> Option<usize> {
    KINDS
        .iter()
        .map(|k| k.marker())
        .find(|m| s.starts_with(m))
        .map(str::len)
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    kind: RedactionKind,
}

pub fn redact(text: &str) -> Redacted {
    let mut spans = Vec::new();
    private_keys(text, &mut spans);
    prefixed_tokens(text, &mut spans);
    jwts_and_long_secrets(text, &mut spans);
    labelled_values(text, &mut spans);
    cards(text, &mut spans);
    let spans = merge(text, spans);
    let mut out = String::with_capacity(text.len());
    let mut redactions = Vec::with_capacity(spans.len());
    let mut at = 0;
    for s in spans {
        out.push_str(text.get(at..s.start).unwrap_or_default());
        out.push_str(s.kind.marker());
        redactions.push(s.kind);
        at = s.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    Redacted {
        text: out,
        redactions,
    }
}

/// Overlapping spans become one, with the strongest kind. Each span then
/// runs on to the end of the word it ends in (short of closing punctuation),
/// so no fragment of a secret stays glued to a marker, and redacting the
/// result again finds nothing new.
fn merge(text: &str, mut spans: Vec<Span>) -> Vec<Span> {
    for s in &mut spans {
        s.end = word_end(text, s.end);
    }
    spans.retain(|s| s.start < s.end);
    spans.sort_by_key(|s| (s.start, s.end));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.start < last.end => {
                last.end = last.end.max(s.end);
                if s.kind.rank() > last.kind.rank() {
                    last.kind = s.kind;
                }
            }
            _ => merged.push(s),
        }
    }
    merged
}

fn word_end(text: &str, from: usize) -> usize {
    let rest = text.get(from..).unwrap_or_default();
    let run = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let word = rest.get(..run).unwrap_or_default();
    let kept = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '>']);
    from + kept.len()
}

/// `-----BEGIN ... PRIVATE KEY-----` through the matching END line; with no
/// END line, everything to the end of the text.
fn private_keys(text: &str, spans: &mut Vec<Span>) {
    let mut from = 0;
    while let Some(rel) = text.get(from..).and_then(|t| t.find("-----BEGIN ")) {
        let start = from + rel;
        let header_end = text
            .get(start + 11..)
            .and_then(|t| t.find("-----"))
            .map(|i| start + 11 + i + 5);
        let Some(header_end) = header_end else { return };
        let header = text.get(start..header_end).unwrap_or_default();
        if !header.contains("PRIVATE KEY") {
            from = header_end;
            continue;
        }
        let end = text
            .get(header_end..)
            .and_then(|t| t.find("-----END "))
            .and_then(|i| {
                let footer = header_end + i + 9;
                text.get(footer..)
                    .and_then(|t| t.find("-----"))
                    .map(|j| footer + j + 5)
            })
            .unwrap_or(text.len());
        spans.push(Span {
            start,
            end,
            kind: RedactionKind::Key,
        });
        from = end;
    }
}

/// Provider token prefixes: what follows them is a secret by construction.
const TOKEN_PREFIXES: &[&str] = &[
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "whsec_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xapp-",
    "npm_",
    "pypi-",
    "shpat_",
    "AIza",
];

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn prefixed_tokens(text: &str, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let starts_clean = |i: usize| i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
    for prefix in TOKEN_PREFIXES {
        for (i, _) in text.match_indices(prefix) {
            if !starts_clean(i) {
                continue;
            }
            let mut end = i + prefix.len();
            while end < bytes.len() && is_token_char(bytes[end]) {
                end += 1;
            }
            if end - i - prefix.len() >= 10 {
                spans.push(Span {
                    start: i,
                    end,
                    kind: RedactionKind::Token,
                });
            }
        }
    }
    // AWS access key ids: AKIA/ASIA and 16 upper-case letters or digits.
    for prefix in ["AKIA", "ASIA"] {
        for (i, _) in text.match_indices(prefix) {
            let end = i + 20;
            let body_ok = bytes.get(i + 4..end).is_some_and(|b| {
                b.iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            });
            let ends_clean = bytes.get(end).is_none_or(|c| !c.is_ascii_alphanumeric());
            if starts_clean(i) && body_ok && ends_clean {
                spans.push(Span {
                    start: i,
                    end,
                    kind: RedactionKind::Token,
                });
            }
        }
    }
}

fn is_secret_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-')
}

/// JWT-shaped runs (`eyJ...` in three dot-separated parts) and long random
/// looking runs of base64 or hex.
fn jwts_and_long_secrets(text: &str, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !(is_secret_char(bytes[i]) || bytes[i] == b'.') {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (is_secret_char(bytes[i]) || bytes[i] == b'.') {
            i += 1;
        }
        let mut end = i;
        while end > start && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let run = text.get(start..end).unwrap_or_default();
        if is_jwt(run) {
            spans.push(Span {
                start,
                end,
                kind: RedactionKind::Token,
            });
            continue;
        }
        // Inside the run, dot-separated pieces may each be a secret.
        let mut piece_start = start;
        for piece in run.split('.') {
            if looks_random(piece) {
                spans.push(Span {
                    start: piece_start,
                    end: piece_start + piece.len(),
                    kind: RedactionKind::Token,
                });
            }
            piece_start += piece.len() + 1;
        }
    }
}

fn is_jwt(run: &str) -> bool {
    let parts: Vec<&str> = run.split('.').collect();
    parts.len() >= 3
        && run.starts_with("eyJ")
        && parts[..3].iter().all(|p| {
            p.len() >= 4
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

fn looks_random(s: &str) -> bool {
    if s.len() < 32 || is_uuid(s) {
        return false;
    }
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    let has_letter = s.bytes().any(|b| b.is_ascii_alphabetic());
    if !(has_digit && has_letter) {
        return false;
    }
    if s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    word_share(s) < 0.5
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Share of characters that sit in word-like chunks: an optional capital and
/// at least three lower-case letters ("Shared", "documents"), or a whole
/// word of four or more capitals ("PAYROLL"). Prose and paths score high;
/// random strings low.
fn word_share(s: &str) -> f32 {
    let b = s.as_bytes();
    let mut in_words = 0usize;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + 1;
        if b[start].is_ascii_uppercase() && j < b.len() && b[j].is_ascii_uppercase() {
            while j < b.len() && b[j].is_ascii_uppercase() {
                j += 1;
            }
            let bounded = (start == 0 || !b[start - 1].is_ascii_alphabetic())
                && b.get(j).is_none_or(|c| !c.is_ascii_alphabetic());
            if j - start >= 4 && bounded {
                in_words += j - start;
            }
        } else {
            while j < b.len() && b[j].is_ascii_lowercase() {
                j += 1;
            }
            if j - start >= 4 {
                in_words += j - start;
            }
        }
        i = j;
    }
    in_words as f32 / b.len() as f32
}

/// Labels whose value is a password when followed by `:`, `=` or a verb
/// ("my password is X", "Passwort: X", "contraseña: X").
const PASSWORD_LABELS: &[&str] = &[
    "password",
    "passwort",
    "kennwort",
    "contrasena",
    "passwd",
    "pwd",
    "passcode",
    "passphrase",
    "senha",
];
/// Shorter or ambiguous labels: only with `:` or `=` ("pw=X", "PIN: 1234").
const PASSWORD_LABELS_STRICT: &[&str] = &["pw", "pass", "clave", "pin"];
/// Token labels, same rules as passwords.
const TOKEN_LABELS: &[&str] = &[
    "token",
    "api_key",
    "apikey",
    "api-key",
    "x-api-key",
    "secret",
    "client_secret",
    "access_token",
    "auth_token",
    "refresh_token",
    "secret_key",
    "access_key",
];
const VERBS: &[&str] = &[
    "is", "was", "es", "era", "ist", "war", "lautet", "e", "sera", "will",
];
/// "the password for the VPN: X"
const FOR_WORDS: &[&str] = &["for", "para", "fur", "per", "de", "del", "di", "von", "zu"];

/// Words that follow "password is" in ordinary prose; never redacted.
const PROSE: &[&str] = &[
    "not",
    "no",
    "wrong",
    "expired",
    "expiring",
    "incorrect",
    "invalid",
    "locked",
    "blocked",
    "too",
    "still",
    "being",
    "the",
    "my",
    "a",
    "an",
    "about",
    "going",
    "now",
    "correct",
    "right",
    "working",
    "broken",
    "same",
    "different",
    "old",
    "new",
    "weak",
    "short",
    "long",
    "also",
    "already",
    "required",
    "set",
    "saved",
    "stored",
    "rejected",
    "changed",
    "reset",
    "compromised",
    "leaked",
    "known",
    "unknown",
    "forgotten",
    "lost",
    "missing",
    "empty",
    "blank",
    "fine",
    "ok",
    "okay",
    "gone",
    "due",
    "valid",
    "please",
    "urgent",
    "help",
    "and",
    "or",
    "but",
    "for",
    "to",
    "in",
    "on",
    "of",
    "that",
    "this",
    "it",
    "which",
    "what",
    "case",
    "needed",
    "asap",
    "change",
    "expiry",
    "policy",
    "requirements",
    "length",
    "field",
    "prompt",
    "isnt",
    "wasnt",
    "doesnt",
    "dont",
    "cant",
    "never",
    "always",
    "accepted",
    "request",
    "issue",
    "problem",
    "question",
    "hint",
    "be",
    "have",
    "has",
    "will",
    "should",
    "must",
    "incorrecta",
    "incorrecto",
    "caducada",
    "caducado",
    "expirada",
    "bloqueada",
    "la",
    "el",
    "mi",
    "muy",
    "demasiado",
    "nueva",
    "vieja",
    "correcta",
    "erronea",
    "invalida",
    "olvidada",
    "distinta",
    "igual",
    "valida",
    "que",
    "de",
    "y",
    "o",
    "por",
    "para",
    "cambiada",
    "restablecida",
    "urgente",
    "ayuda",
    "nicht",
    "falsch",
    "abgelaufen",
    "gesperrt",
    "zu",
    "noch",
    "die",
    "der",
    "das",
    "mein",
    "neu",
    "neues",
    "alt",
    "altes",
    "richtig",
    "ungultig",
    "vergessen",
    "korrekt",
    "und",
    "oder",
    "fur",
    "bitte",
    "dringend",
    "geandert",
    "zuruckgesetzt",
    "leer",
    "kein",
    "keine",
    "ein",
    "eine",
    "non",
    "sbagliata",
    "scaduta",
    "scaduto",
    "bloccata",
    "il",
    "mia",
    "mio",
    "troppo",
    "nuova",
    "vecchia",
    "corretta",
    "errata",
    "valida",
    "dimenticata",
    "e",
    "per",
    "di",
    "cambiata",
    "aiuto",
    "reset",
    "forgot",
    "expire",
    "expires",
];

#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let part = c.is_alphanumeric() || c == '_' || c == '-';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(Word { start: s, end: i });
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Word {
            start: s,
            end: text.len(),
        });
    }
    out
}

fn skip_spaces(text: &str, mut at: usize) -> usize {
    while let Some(c) = text.get(at..).and_then(|t| t.chars().next()) {
        if c == ' ' || c == '\t' {
            at += c.len_utf8();
        } else {
            break;
        }
    }
    at
}

/// The non-whitespace run starting at `at`.
fn run_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let rest = text.get(at..)?;
    let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    (len > 0).then_some((at, at + len))
}

fn word_at(text: &str, at: usize) -> Option<(usize, usize, String)> {
    let (s, e) = run_at(text, at)?;
    let raw = text.get(s..e)?;
    let len = raw
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(raw.len());
    (len > 0).then(|| (s, s + len, fold(raw.get(..len).unwrap_or_default())))
}

fn labelled_values(text: &str, spans: &mut Vec<Span>) {
    for w in words(text) {
        let label = fold(text.get(w.start..w.end).unwrap_or_default());
        let (kind, strict) = if PASSWORD_LABELS.contains(&label.as_str()) {
            (RedactionKind::Password, false)
        } else if PASSWORD_LABELS_STRICT.contains(&label.as_str()) {
            (RedactionKind::Password, true)
        } else if TOKEN_LABELS.contains(&label.as_str()) || label == "bearer" {
            (RedactionKind::Token, false)
        } else {
            continue;
        };
        let value_at = if label == "bearer" {
            Some(skip_spaces(text, w.end)).filter(|at| *at > w.end)
        } else {
            value_start(text, w.end, strict)
        };
        let Some(at) = value_at else { continue };
        if let Some((start, end)) = run_at(text, at).and_then(|(s, e)| secret_value(text, s, e)) {
            if label == "bearer" && end - start < 16 {
                continue;
            }
            spans.push(Span { start, end, kind });
        }
    }
}

/// After a label: `: X`, `= X`, `is X`, `for the VPN: X`. Returns where X starts.
fn value_start(text: &str, after_label: usize, strict: bool) -> Option<usize> {
    let mut at = skip_spaces(text, after_label);
    if let Some(sep) = separator_at(text, at) {
        return Some(skip_spaces(text, at + sep));
    }
    if strict {
        return None;
    }
    let (_, end, word) = word_at(text, at)?;
    if FOR_WORDS.contains(&word.as_str()) {
        // up to three words ("for the VPN"), then a separator or a verb
        at = skip_spaces(text, end);
        for _ in 0..3 {
            let (start, end) = run_at(text, at)?;
            let run = text.get(start..end)?;
            if run.ends_with([':', '=']) && run.len() > 1 {
                return Some(skip_spaces(text, end));
            }
            at = skip_spaces(text, end);
            if let Some(sep) = separator_at(text, at) {
                return Some(skip_spaces(text, at + sep));
            }
            if let Some((_, verb_end, next)) = word_at(text, at)
                && VERBS.contains(&next.as_str())
            {
                return Some(skip_spaces(text, verb_end));
            }
        }
        return None;
    }
    if VERBS.contains(&word.as_str()) {
        let at = skip_spaces(text, end);
        return Some(match separator_at(text, at) {
            Some(sep) => skip_spaces(text, at + sep),
            None => at,
        });
    }
    None
}

fn separator_at(text: &str, at: usize) -> Option<usize> {
    match text.get(at..)?.chars().next()? {
        c @ (':' | '=' | '\u{ff1a}') => Some(c.len_utf8()),
        _ => None,
    }
}

/// The part of a run that is the secret: trailing sentence punctuation is
/// left in place; prose words and markers are not secrets.
fn secret_value(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let mut start = start;
    // What an earlier pass already replaced stays; whatever is glued after
    // it ("[redacted:password]hunter2") is still a value.
    while let Some(len) = text.get(start..end).and_then(marker_prefix) {
        start += len;
    }
    let raw = text.get(start..end)?;
    let trimmed = raw.trim_end_matches(['.', ',', ';', ')', ':']);
    if trimmed.is_empty() || !trimmed.chars().any(char::is_alphanumeric) {
        return None;
    }
    let bare = fold(trimmed.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | '!' | '?')));
    if PROSE.contains(&bare.as_str()) {
        return None;
    }
    Some((start, start + trimmed.len()))
}

/// Runs of digits joined by single spaces or dashes: the whole run goes when
/// it is 13-19 digits that pass the Luhn check, or when any 16 digits in a
/// row inside a longer run do (a card number glued to other digits).
fn cards(text: &str, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = Vec::new();
        let mut end = i;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() {
                digits.push(bytes[i] - b'0');
                i += 1;
                end = i;
            } else if matches!(bytes[i], b' ' | b'-')
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                i += 1;
            } else {
                break;
            }
        }
        if is_card_run(&digits) {
            spans.push(Span {
                start,
                end,
                kind: RedactionKind::Card,
            });
        }
        i = end.max(i);
    }
}

fn is_card_run(digits: &[u8]) -> bool {
    ((13..=19).contains(&digits.len()) && luhn_valid(digits)) || digits.windows(16).any(luhn_valid)
}

pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        redact(text).text
    }

    #[test]
    fn passwords_after_labels_and_verbs_are_redacted() {
        assert_eq!(r("password: hunter2"), "password: [redacted:password]");
        assert_eq!(
            r("my password is Summer2024! thanks"),
            "my password is [redacted:password] thanks"
        );
        assert_eq!(r("pw=abc123"), "pw=[redacted:password]");
        assert_eq!(r("Contraseña: Perro123"), "Contraseña: [redacted:password]");
        assert_eq!(
            r("Mein Passwort ist Sommer2024."),
            "Mein Passwort ist [redacted:password]."
        );
        assert_eq!(
            r("la mia password è Gatto!99"),
            "la mia password è [redacted:password]"
        );
        assert_eq!(
            r("the password for the VPN: x9!k"),
            "the password for the VPN: [redacted:password]"
        );
    }

    #[test]
    fn prose_about_passwords_is_left_alone() {
        for text in [
            "my password is expired",
            "my password is not working",
            "Password reset: please help",
            "mi contraseña es incorrecta",
            "Passwort vergessen",
            "la password è scaduta",
            "my pass is ready",
        ] {
            assert_eq!(r(text), text);
        }
    }

    #[test]
    fn tokens_are_redacted() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(r(&format!("token {jwt}.")), "token [redacted:token].");
        assert_eq!(
            r("key sk_live_4eC39HqLyjWDarjtT1zdp7dc ok"),
            "key [redacted:token] ok"
        );
        assert_eq!(r("AKIAIOSFODNN7EXAMPLE"), "[redacted:token]");
        assert_eq!(
            r("Authorization: Bearer abcdefghijklmnop1234"),
            "Authorization: Bearer [redacted:token]"
        );
        assert_eq!(
            r("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "secret [redacted:token]"
        );
        assert_eq!(
            r("sha 3f786850e387550fdab836ed7e6dc881de23001b"),
            "sha [redacted:token]"
        );
        assert_eq!(r("api_key=12345"), "api_key=[redacted:token]");
    }

    #[test]
    fn cards_that_pass_luhn_are_redacted_with_separators() {
        for card in [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111111111111111",
            "378282246310005",
        ] {
            let out = redact(&format!("card {card} exp 12/29"));
            assert_eq!(out.text, "card [redacted:card] exp 12/29");
            assert_eq!(out.redactions, vec![RedactionKind::Card]);
        }
    }

    #[test]
    fn numbers_that_fail_luhn_stay() {
        assert_eq!(r("order 4111 1111 1111 1112"), "order 4111 1111 1111 1112");
        assert_eq!(r("call +44 20 7946 0000"), "call +44 20 7946 0000");
    }

    #[test]
    fn private_key_blocks_are_redacted_whole() {
        let text = "here:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nthanks";
        assert_eq!(r(text), "here:\n[redacted:key]\nthanks");
        assert_eq!(
            r("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn"),
            "[redacted:key]"
        );
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assert_eq!(r(cert), cert);
    }

    #[test]
    fn emails_urls_and_prose_are_not_mangled() {
        for text in [
            "Please reset the password for jordan.lee@acme.example, thanks!",
            "see https://acme.sharepoint.com/sites/Finance/Shared%20Documents/Reports",
            "Error 0x80070005 in Outlook 16.0.17126.20132",
            "request id 123e4567-e89b-12d3-a456-426614174000",
            "Donaudampfschifffahrtsgesellschaftskapitanskajuteschlussel",
        ] {
            assert_eq!(r(text), text);
        }
    }

    #[test]
    fn redaction_is_idempotent_on_examples() {
        let text =
            "password: hunter2, card 4111 1111 1111 1111, token sk_live_4eC39HqLyjWDarjtT1zdp7dc";
        let once = redact(text);
        assert_eq!(once.redactions.len(), 3);
        assert_eq!(redact(&once.text).text, once.text);
        assert!(redact(&once.text).redactions.is_empty());
    }

    #[test]
    fn glued_text_after_a_marker_is_still_a_value() {
        assert_eq!(
            r("password: [redacted:password]hunter2"),
            "password: [redacted:password][redacted:password]"
        );
    }

    #[test]
    fn a_card_inside_a_password_value_is_redacted_once_with_its_word() {
        let once = r("contraseña: 4111 1111 1111 1111 0--0.");
        assert_eq!(once, "contraseña: [redacted:password].");
        assert_eq!(r(&once), once);
    }

    #[test]
    fn text_that_only_looks_like_a_marker_is_still_redacted() {
        assert_eq!(
            r("password: [redacted:hunter2]"),
            "password: [redacted:password]"
        );
    }

    #[test]
    fn luhn_check_matches_known_numbers() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn_valid(&digits("4111111111111111")));
        assert!(luhn_valid(&digits("79927398713")));
        assert!(!luhn_valid(&digits("79927398710")));
    }
}
