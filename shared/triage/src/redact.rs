//! Redaction on write: anything in ticket text that looks like a password,
//! a token or API key, a card number or a private key is replaced by a marker
//! before the text is stored. Must not mangle emails or normal prose, must
//! be idempotent, must never return the secret it found in any form, and
//! must stay linear in the length of the text whatever the text is.
//!
//! A password is found by the phrase that names it, in English, French,
//! Spanish, German and Italian: a label ("password", "pw", "PIN", "mot de
//! passe", "mdp", "contraseña", "clave", "Kennwort", "parola d'ordine"), then
//! a separator (`:`, `=`, `->`), a verb ("is", "est", "ist", "è", "lautet"),
//! or a change with its introducer ("was changed to", "has been reset to",
//! "wurde auf ... zurückgesetzt", "a été changé en"), with fillers ("now",
//! "currently", "still", "jetzt"), a relative clause ("I use", "que
//! j'utilise", "das ich benutze") or a "for the VPN" clause allowed between.
//! The value is the next word, or the whole text in quotes.
//!
//! Telling a secret from a word: the value is redacted unless it is one of
//! `STOP_WORDS`, the words that follow such a phrase in ordinary prose ("my
//! password is not working", "ist abgelaufen", "è scaduta", "too short").
//! A word not on that list is taken for the secret, since a password can be
//! a plain word ("my password is sunshine") and a missed secret costs more
//! than a lost word. Where the phrase itself is also ordinary prose ("changed
//! a week ago", "in March", "from home", "reset my password to unlock it",
//! a bare "e", which is also Italian "and"), the value is redacted only when
//! it looks like a secret: a digit, a symbol or a capital inside the word.
//! A change verb with no introducer ("my password was changed yesterday")
//! names no value; nor does "Password reset: <who>", a subject line.

use serde::{Deserialize, Serialize};

use crate::canonical::canonical;
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
    spans.sort_by_key(|s| (s.start, s.end));
    let mut ends = WordEnds::default();
    for s in &mut spans {
        s.end = ends.word_end(text, s.end);
    }
    spans.retain(|s| s.start < s.end);
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

/// Where the word at a position ends, short of closing punctuation. The
/// last run of non-whitespace read is remembered: many spans may end inside
/// one long run ("password:password:..."), and each must not read it again.
#[derive(Default)]
struct WordEnds {
    /// Positions `from..=end` lie in one run without whitespace; its last
    /// character that is not closing punctuation ends at `kept`.
    run: Option<(usize, usize, usize)>,
}

impl WordEnds {
    fn word_end(&mut self, text: &str, at: usize) -> usize {
        let (_, _, kept) = match self.run {
            Some(run @ (from, end, _)) if from <= at && at <= end => run,
            _ => {
                let rest = text.get(at..).unwrap_or_default();
                let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let word = rest.get(..len).unwrap_or_default();
                let kept = word.trim_end_matches([
                    '.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '>',
                ]);
                let run = (at, at + len, at + kept.len());
                self.run = Some(run);
                run
            }
        };
        kept.max(at)
    }
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
        // A prefix repeated inside one run ("sk_live_sk_live_...") shares
        // the run's end: read it once.
        let mut run_end = 0;
        for (i, _) in text.match_indices(prefix) {
            if !starts_clean(i) {
                continue;
            }
            let mut end = (i + prefix.len()).max(run_end);
            while end < bytes.len() && is_token_char(bytes[end]) {
                end += 1;
            }
            run_end = end;
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

/// Labels whose value is a password after a separator, a verb or a longer
/// phrase ("my password is X", "Passwort: X", "mot de passe : X").
const PASSWORD_LABELS: &[&str] = &[
    "password",
    "passwort",
    "kennwort",
    "contrasena",
    "clave",
    "passwd",
    "pwd",
    "pw",
    "mdp",
    "mot-de-passe",
    "passcode",
    "passphrase",
    "pin",
    "pincode",
    "pin-code",
    "senha",
];
/// Labels written as several words, with only spaces or an apostrophe
/// between them.
const PASSWORD_LABEL_PHRASES: &[&[&str]] = &[&["mot", "de", "passe"], &["parola", "d", "ordine"]];
/// "pass" is also an ordinary word ("my pass is ready"): only `pass: X`,
/// `pass=X` or `pass -> X`.
const PASSWORD_LABELS_STRICT: &[&str] = &["pass"];
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

/// "is", "ist", "es", "est", "è": what follows is the value.
const COPULAS: &[&str] = &[
    "is", "s", "was", "be", "es", "era", "fue", "sera", "est", "etait", "ist", "war", "lautet",
    "lautete", "heisst", "wird", "e", "fu", "sara", "foi",
];
/// Auxiliaries that may come before a copula or a change ("has been",
/// "a été", "ha sido", "hat", "se cambió").
const AUXILIARIES: &[&str] = &[
    "has", "have", "had", "will", "would", "should", "must", "got", "ha", "han", "habia", "se",
    "a", "hat", "hatte", "avait",
];
/// Participles of "to be", allowed anywhere in the phrase ("è stata cambiata").
const BEEN: &[&str] = &["been", "sido", "ete", "stata", "stato", "worden"];
/// Verbs of changing a password. After one, the value needs an introducer
/// ("changed to X", "geändert auf X"): "my password was changed yesterday"
/// names no password.
const CHANGE_VERBS: &[&str] = &[
    "changed",
    "change",
    "set",
    "reset",
    "updated",
    "modified",
    "replaced",
    "switched",
    "rotated",
    "cambiada",
    "cambiado",
    "cambio",
    "cambie",
    "restablecida",
    "restablecido",
    "reseteada",
    "reseteado",
    "actualizada",
    "actualizado",
    "modificada",
    "modificado",
    "establecida",
    "establecido",
    "puesta",
    "changee",
    "modifie",
    "modifiee",
    "reinitialise",
    "reinitialisee",
    "defini",
    "definie",
    "mis",
    "mise",
    "remplace",
    "remplacee",
    "geandert",
    "gesetzt",
    "zuruckgesetzt",
    "aktualisiert",
    "umgestellt",
    "ersetzt",
    "wurde",
    "cambiata",
    "cambiato",
    "reimpostata",
    "reimpostato",
    "resettata",
    "resettato",
    "modificata",
    "modificato",
    "aggiornata",
    "aggiornato",
    "impostata",
    "impostato",
    "sostituita",
    "sostituito",
    "messa",
];
/// What opens the value after a change verb ("to X", "auf X", "en X").
const INTRODUCERS: &[&str] = &[
    "to", "as", "into", "with", "en", "pour", "por", "auf", "zu", "con",
];
/// Introducers that are also common words in another sense ("a week ago",
/// "in March", "from home"): the value must look like a secret.
const WEAK_INTRODUCERS: &[&str] = &["a", "in", "from"];
/// Words that may sit anywhere between the label and the value ("is now X",
/// "actuel : X", "ist immer noch X", "PIN code: X").
const FILLERS: &[&str] = &[
    "now",
    "currently",
    "still",
    "actually",
    "just",
    "temporarily",
    "back",
    "again",
    "current",
    "temporary",
    "code",
    "ahora",
    "actualmente",
    "todavia",
    "aun",
    "actual",
    "temporal",
    "codigo",
    "maintenant",
    "actuellement",
    "toujours",
    "encore",
    "desormais",
    "actuel",
    "actuelle",
    "provisoire",
    "jetzt",
    "aktuell",
    "aktuelles",
    "derzeit",
    "momentan",
    "noch",
    "immer",
    "nun",
    "ora",
    "adesso",
    "attualmente",
    "ancora",
    "attuale",
    "codice",
];
/// A relative clause between label and verb: "the password I use is X",
/// "le mot de passe que j'utilise est X", "das Passwort, das ich benutze, ist X".
const RELATIVE: &[&str] = &[
    "i",
    "im",
    "m",
    "am",
    "ve",
    "we",
    "you",
    "that",
    "which",
    "use",
    "using",
    "used",
    "usually",
    "normally",
    "chose",
    "picked",
    "created",
    "que",
    "uso",
    "usaba",
    "utilizo",
    "estoy",
    "usando",
    "j",
    "utilise",
    "utilisais",
    "ich",
    "das",
    "welches",
    "benutze",
    "verwende",
    "nutze",
    "che",
    "utilizzo",
    "sto",
];
/// Subjects of a relative clause: after one, a change verb is part of the
/// clause ("the password I set is X").
const SUBJECTS: &[&str] = &["i", "we", "you", "j", "ich", "que", "che"];
/// "the password for the VPN: X", "Passwort für das VPN ist X".
const FOR_WORDS: &[&str] = &[
    "for", "to", "of", "on", "para", "de", "del", "fur", "von", "vom", "zu", "pour", "du", "des",
    "per", "di", "della",
];
/// "please set my password to X": an imperative before the label.
const IMPERATIVES: &[&str] = &["set", "change", "reset", "update"];
const POSSESSIVES: &[&str] = &["my", "the", "our", "his", "her", "their", "your", "its"];

/// Words that follow a password phrase in ordinary prose ("my password is
/// not working", "Passwort ist abgelaufen"): the one word after the phrase
/// is kept when it is one of these, and redacted otherwise.
const STOP_WORDS: &[&str] = &[
    // English
    "not",
    "no",
    "never",
    "nothing",
    "wrong",
    "expired",
    "expiring",
    "incorrect",
    "invalid",
    "locked",
    "blocked",
    "disabled",
    "suspended",
    "too",
    "being",
    "getting",
    "showing",
    "failing",
    "failed",
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
    "strong",
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
    "stolen",
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
    "default",
    "temporary",
    "something",
    "anything",
    "pending",
    "done",
    "please",
    "urgent",
    "urgently",
    "immediately",
    "help",
    "and",
    "or",
    "but",
    "for",
    "to",
    "in",
    "on",
    "of",
    "at",
    "from",
    "by",
    "with",
    "like",
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
    "forgot",
    "expire",
    "expires",
    "unlock",
    "access",
    "log",
    "login",
    "sign",
    "get",
    "use",
    "very",
    "really",
    "probably",
    "definitely",
    "still",
    // Spanish
    "incorrecta",
    "incorrecto",
    "caducada",
    "caducado",
    "vencida",
    "expirada",
    "bloqueada",
    "bloqueado",
    "la",
    "el",
    "un",
    "una",
    "mi",
    "su",
    "muy",
    "demasiado",
    "nueva",
    "vieja",
    "correcta",
    "erronea",
    "invalida",
    "olvidada",
    "distinta",
    "diferente",
    "igual",
    "misma",
    "valida",
    "corta",
    "debil",
    "temporal",
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
    "ya",
    // French
    "pas",
    "plus",
    "incorrecte",
    "expiree",
    "bloque",
    "bloquee",
    "perdu",
    "oublie",
    "faux",
    "fausse",
    "invalide",
    "trop",
    "tres",
    "le",
    "les",
    "une",
    "mon",
    "ma",
    "du",
    "des",
    "et",
    "ou",
    "qui",
    "nouveau",
    "nouvelle",
    "ancien",
    "ancienne",
    "correcte",
    "bon",
    "bonne",
    "mauvais",
    "valide",
    "vide",
    "court",
    "requis",
    "obligatoire",
    "meme",
    "differente",
    "temporaire",
    "aide",
    "svp",
    "deja",
    // German
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
    "meine",
    "neu",
    "neues",
    "alt",
    "altes",
    "richtig",
    "ungultig",
    "gultig",
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
    "kurz",
    "schwach",
    "gleich",
    "anders",
    "unbekannt",
    "schon",
    "mehr",
    "seit",
    "im",
    "am",
    // Italian
    "non",
    "sbagliata",
    "sbagliato",
    "scaduta",
    "scaduto",
    "bloccata",
    "bloccato",
    "il",
    "lo",
    "gli",
    "mia",
    "mio",
    "troppo",
    "nuova",
    "vecchia",
    "corretta",
    "errata",
    "dimenticata",
    "stessa",
    "diversa",
    "debole",
    "temporanea",
    "e",
    "per",
    "di",
    "che",
    "da",
    "cambiata",
    "aiuto",
    "gia",
    "piu",
];

/// Value checks read at most this many bytes: no stop word is longer, and a
/// value this long is a secret whatever it says.
const VALUE_CHECK_LEN: usize = 64;
/// A phrase reaches its value within this many steps (words, separators).
const PHRASE_STEPS: usize = 12;

/// How sure a phrase is that a secret follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Certainty {
    /// The phrase is also ordinary prose ("changed in March", "è" typed as
    /// "e", which is also "and"): only a value that looks like a secret goes.
    Hint,
    /// The value goes unless it is a stop word.
    Phrase,
}

/// Where a phrase has got to after its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// "password", "password I use for the VPN".
    Label,
    /// "password is", "password is now".
    Copula,
    /// "password was changed", "Passwort wurde"; waits for "to", "auf".
    Change,
}

#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_word_char(c), start) {
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

/// A word as the classifier reads it: look-alike letters and hidden
/// characters resolved, then folded. "urg\u{435}nte" (a Cyrillic e) is
/// the stop word "urgente", and must stay for the classifier to see.
fn fold_word(raw: &str) -> String {
    fold(&canonical(raw).text)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}')
}

fn skip_spaces(text: &str, mut at: usize) -> usize {
    while let Some(c) = text.get(at..).and_then(|t| t.chars().next()) {
        if !is_space(c) {
            break;
        }
        at += c.len_utf8();
    }
    at
}

/// The word starting at `at`: where it ends, folded, and as written.
fn word_at(text: &str, at: usize) -> Option<(usize, String, &str)> {
    let rest = text.get(at..)?;
    let len = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
    let raw = rest.get(..len).filter(|w| !w.is_empty())?;
    Some((at + len, fold_word(raw), raw))
}

const ARROWS: [&str; 4] = ["->", "=>", "\u{2192}", "\u{21d2}"];

fn separator_at(text: &str, at: usize) -> Option<usize> {
    let rest = text.get(at..)?;
    // Arrows first: "=>" is not "=" followed by a value ">".
    ARROWS
        .iter()
        .chain(&[":", "=", "\u{ff1a}"])
        .find(|s| rest.starts_with(**s))
        .map(|s| s.len())
}

fn labelled_values(text: &str, spans: &mut Vec<Span>) {
    let ws = words(text);
    let folded: Vec<String> = ws
        .iter()
        .map(|w| fold_word(text.get(w.start..w.end).unwrap_or_default()))
        .collect();
    let quotes = Quotes::index(text);
    for (i, (w, label)) in ws.iter().zip(&folded).enumerate() {
        let label = label.as_str();
        let (kind, strict, end) = if PASSWORD_LABELS.contains(&label) {
            (RedactionKind::Password, false, w.end)
        } else if PASSWORD_LABELS_STRICT.contains(&label) {
            (RedactionKind::Password, true, w.end)
        } else if TOKEN_LABELS.contains(&label) {
            (RedactionKind::Token, false, w.end)
        } else if label == "bearer" {
            bearer_value(text, &quotes, w.end, spans);
            continue;
        } else if let Some(end) = label_phrase_end(text, &ws, &folded, i) {
            (RedactionKind::Password, false, end)
        } else {
            continue;
        };
        let ordered = !strict && after_imperative(&folded, i);
        let Some(found) = phrase_value(text, end, strict, ordered) else {
            continue;
        };
        let Some((start, end)) = secret_value(text, &quotes, found.at, found.certainty) else {
            continue;
        };
        spans.push(Span { start, end, kind });
        // "changed from X to Y", "X -> Y": the second value too.
        if let Some((start, end)) = next_value(text, &quotes, end, &found) {
            spans.push(Span { start, end, kind });
        }
    }
}

fn bearer_value(text: &str, quotes: &Quotes, after: usize, spans: &mut Vec<Span>) {
    let at = skip_spaces(text, after);
    if at == after {
        return;
    }
    if let Some((start, end)) = secret_value(text, quotes, at, Certainty::Phrase)
        && end - start >= 16
    {
        spans.push(Span {
            start,
            end,
            kind: RedactionKind::Token,
        });
    }
}

/// Where a label of several words ("mot de passe") starting at word `i` ends.
fn label_phrase_end(text: &str, ws: &[Word], folded: &[String], i: usize) -> Option<usize> {
    PASSWORD_LABEL_PHRASES.iter().find_map(|phrase| {
        let parts = ws.get(i..i + phrase.len())?;
        let same = folded.get(i..i + phrase.len())? == *phrase;
        let joined = parts.windows(2).all(|p| {
            text.get(p[0].end..p[1].start)
                .is_some_and(|gap| gap.chars().all(|c| is_space(c) || is_apostrophe(c)))
        });
        (same && joined).then(|| parts.last().map(|w| w.end))?
    })
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

/// "set my password", "change password": the label's word `i` comes right
/// after an imperative, with at most a possessive between.
fn after_imperative(folded: &[String], i: usize) -> bool {
    let word = |back: usize| {
        i.checked_sub(back)
            .and_then(|j| folded.get(j))
            .map(String::as_str)
    };
    let imperative = |w: Option<&str>| w.is_some_and(|w| IMPERATIVES.contains(&w));
    imperative(word(1))
        || (word(1).is_some_and(|w| POSSESSIVES.contains(&w)) && imperative(word(2)))
}

/// Where a phrase's value starts, and how sure the phrase is.
#[derive(Debug, Clone, Copy)]
struct Found {
    at: usize,
    certainty: Certainty,
    /// Opened by "from": "from X to Y" names two secrets.
    from: bool,
}

impl Found {
    fn at(at: usize, certainty: Certainty) -> Option<Found> {
        Some(Found {
            at,
            certainty,
            from: false,
        })
    }
}

/// Reads the phrase after a label and returns where its value starts:
/// `: X`, `= X`, `-> X`; `is X`, `is now X`; `was changed to X`, `has been
/// reset to X`; `I use is X`; `for the VPN: X`. `None` when the words after
/// the label are not such a phrase ("password reset page", "forgot").
fn phrase_value(text: &str, label_end: usize, strict: bool, ordered: bool) -> Option<Found> {
    let mut at = skip_spaces(text, label_end);
    if let Some(len) = separator_at(text, at) {
        return Found::at(skip_spaces(text, at + len), Certainty::Phrase);
    }
    if strict {
        return None;
    }
    let mut step = Step::Label;
    let mut certainty = Certainty::Phrase;
    // Words of a "for the VPN" clause still allowed.
    let mut free = 0;
    // A copula or auxiliary came first: "was changed to X", not "password
    // reset to unlock my account".
    let mut settled = false;
    let mut subject = false;
    // Inside "das Passwort, das ich benutze, ist": commas belong to it.
    let mut clause = false;
    for n in 0..PHRASE_STEPS {
        at = skip_spaces(text, at);
        if let Some(len) = separator_at(text, at) {
            // "Password reset: jordan.lee@acme.example" names a person.
            if step == Step::Change {
                return None;
            }
            return Found::at(skip_spaces(text, at + len), certainty);
        }
        let next = text.get(at..).and_then(|t| t.chars().next())?;
        if step == Step::Label
            && (is_apostrophe(next) || next == ',' && (clause || opens_clause(text, at + 1)))
        {
            at += next.len_utf8();
            continue;
        }
        let Some((end, word, raw)) = word_at(text, at) else {
            // "is \"correct horse\"", "is !Hunter": a value need not start
            // with a letter.
            return (step == Step::Copula).then_some(Found::at(at, certainty))?;
        };
        let w = word.as_str();
        match step {
            Step::Label if n == 0 && ordered && w == "to" => {
                return Found::at(skip_spaces(text, end), Certainty::Hint);
            }
            Step::Label => {
                if COPULAS.contains(&w) {
                    step = Step::Copula;
                    settled = true;
                    let (sure, verb_end) = copula(raw, text, end);
                    certainty = certainty.min(sure);
                    at = verb_end;
                    continue;
                } else if free > 0 {
                    free -= 1;
                } else if CHANGE_VERBS.contains(&w) && !subject {
                    step = Step::Change;
                    settled |= w == "wurde";
                } else if FOR_WORDS.contains(&w) {
                    free = 3;
                } else if AUXILIARIES.contains(&w) || BEEN.contains(&w) {
                    settled = true;
                } else if RELATIVE.contains(&w) || CHANGE_VERBS.contains(&w) {
                    subject |= SUBJECTS.contains(&w);
                    clause = true;
                } else if !FILLERS.contains(&w) {
                    return None;
                }
            }
            Step::Copula => {
                if CHANGE_VERBS.contains(&w) {
                    step = Step::Change;
                } else if !(FILLERS.contains(&w) || BEEN.contains(&w)) {
                    return Found::at(at, certainty);
                }
            }
            Step::Change => {
                let strong = INTRODUCERS.contains(&w) || raw == "à" || raw == "À";
                if strong || WEAK_INTRODUCERS.contains(&w) {
                    let sure = if strong && settled {
                        Certainty::Phrase
                    } else {
                        Certainty::Hint
                    };
                    let mut value = skip_spaces(text, end);
                    if let Some(len) = separator_at(text, value) {
                        value = skip_spaces(text, value + len);
                    }
                    return Some(Found {
                        at: value,
                        certainty: certainty.min(sure),
                        from: w == "from",
                    });
                }
                if !(CHANGE_VERBS.contains(&w) || FILLERS.contains(&w) || BEEN.contains(&w)) {
                    return None;
                }
            }
        }
        at = end;
    }
    None
}

/// A comma after a label starts a relative clause ("Passwort, das ich
/// benutze"), not a new sentence ("contraseña, es urgente").
fn opens_clause(text: &str, after_comma: usize) -> bool {
    word_at(text, skip_spaces(text, after_comma))
        .is_some_and(|(_, w, _)| RELATIVE.contains(&w.as_str()))
}

/// "è", "é" and "e'" are verbs; a bare "e" is also Italian for "and".
/// Returns how sure the copula is and where it ends.
fn copula(raw: &str, text: &str, end: usize) -> (Certainty, usize) {
    if !raw.eq_ignore_ascii_case("e") {
        return (Certainty::Phrase, end);
    }
    match text.get(end..).and_then(|t| t.chars().next()) {
        Some(c) if is_apostrophe(c) => (Certainty::Phrase, end + c.len_utf8()),
        _ => (Certainty::Hint, end),
    }
}

/// After a value: `-> Y`, or `to Y` when the value came after "from".
fn next_value(text: &str, quotes: &Quotes, after: usize, found: &Found) -> Option<(usize, usize)> {
    let at = skip_spaces(text, after);
    let rest = text.get(at..)?;
    let value = if let Some(arrow) = ARROWS.iter().find(|a| rest.starts_with(*a)) {
        at + arrow.len()
    } else {
        match word_at(text, at) {
            Some((end, word, _)) if found.from && word == "to" => end,
            _ => return None,
        }
    };
    secret_value(text, quotes, skip_spaces(text, value), found.certainty)
}

/// The secret starting at `at`: a quoted phrase, or the run of
/// non-whitespace with trailing sentence punctuation left in place. Stop
/// words and markers are not secrets; after a mere hint, neither is a
/// plain word.
fn secret_value(
    text: &str,
    quotes: &Quotes,
    at: usize,
    certainty: Certainty,
) -> Option<(usize, usize)> {
    let mut start = at;
    // What an earlier pass already replaced stays; whatever is glued after
    // it ("[redacted:password]hunter2") is still a value.
    while let Some(len) = text.get(start..).and_then(marker_prefix) {
        start += len;
    }
    // A quote glued after a marker is what was left of the value's closing
    // punctuation, not the start of a quoted value.
    if let Some((inner, end)) = quotes.quoted(text, start).filter(|_| start == at) {
        let all_stop = inner
            .split_whitespace()
            .all(|w| STOP_WORDS.contains(&fold_word(bare(w)).as_str()));
        return (!all_stop).then_some((start, end));
    }
    // Read a bounded prefix only: many labels may share one long run
    // ("password:password:..."), and `merge` extends the span to the run's end.
    let rest = text.get(start..)?;
    let window = prefix(rest, VALUE_CHECK_LEN + 1);
    let len = window.find(char::is_whitespace).unwrap_or(window.len());
    if len > VALUE_CHECK_LEN {
        return Some((start, start + prefix(rest, VALUE_CHECK_LEN).len()));
    }
    let raw = rest.get(..len)?;
    let trimmed = raw.trim_end_matches(['.', ',', ';', ')', ':']);
    if trimmed.is_empty() || !trimmed.chars().any(char::is_alphanumeric) {
        return None;
    }
    let word = bare(trimmed);
    if STOP_WORDS.contains(&fold_word(word).as_str()) {
        return None;
    }
    if certainty == Certainty::Hint && !looks_secret(word) {
        return None;
    }
    Some((start, start + trimmed.len()))
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut len = max.min(s.len());
    while !s.is_char_boundary(len) {
        len -= 1;
    }
    s.get(..len).unwrap_or_default()
}

fn bare(word: &str) -> &str {
    word.trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | '!' | '?') || is_apostrophe(c))
}

/// A digit, a symbol or a capital inside the word: "Hunter2", "x!k",
/// "pAssw". A word of letters alone (with at most an initial capital) could
/// be prose.
fn looks_secret(word: &str) -> bool {
    word.chars().enumerate().any(|(i, c)| {
        c.is_ascii_digit() || !(c.is_alphabetic() || c == '-') || (i > 0 && c.is_uppercase())
    })
}

/// Where each closing quote and line break is, so that finding where a
/// quoted value closes reads no text again, however many labels open quotes
/// on one long line. A quote closes on its line or not at all: redaction
/// never adds or removes a line break before a closing quote, so whether a
/// value is quoted does not change when the text is redacted again.
struct Quotes {
    /// Positions of each closing character, in order.
    closers: Vec<(char, Vec<usize>)>,
    line_breaks: Vec<usize>,
}

const CLOSING_QUOTES: [char; 7] = ['"', '\'', '`', '\u{201d}', '\u{201c}', '\u{2019}', '\u{bb}'];

impl Quotes {
    fn index(text: &str) -> Quotes {
        let mut closers: Vec<(char, Vec<usize>)> =
            CLOSING_QUOTES.iter().map(|c| (*c, Vec::new())).collect();
        let mut line_breaks = Vec::new();
        for (i, c) in text.char_indices() {
            if c == '\n' {
                line_breaks.push(i);
            } else if let Some((_, at)) = closers.iter_mut().find(|(q, _)| *q == c) {
                at.push(i);
            }
        }
        Quotes {
            closers,
            line_breaks,
        }
    }

    /// The first of `chars` at or after `from`.
    fn next(&self, chars: &[char], from: usize) -> Option<(usize, char)> {
        self.closers
            .iter()
            .filter(|(c, _)| chars.contains(c))
            .filter_map(|(c, at)| at.get(at.partition_point(|i| *i < from)).map(|i| (*i, *c)))
            .min()
    }

    /// A value in quotes (`"correct horse battery staple"`) at `at`: the text
    /// inside and where the closing quote ends.
    fn quoted<'t>(&self, text: &'t str, at: usize) -> Option<(&'t str, usize)> {
        let open = text.get(at..)?.chars().next()?;
        let closers: &[char] = match open {
            '"' => &['"'],
            '\'' => &['\''],
            '`' => &['`'],
            '\u{201c}' => &['\u{201d}', '"'],
            '\u{201e}' => &['\u{201c}', '\u{201d}'],
            '\u{2018}' => &['\u{2019}', '\''],
            '\u{ab}' => &['\u{bb}'],
            _ => return None,
        };
        let from = at + open.len_utf8();
        let (close, c) = self.next(closers, from)?;
        let line_end = self
            .line_breaks
            .get(self.line_breaks.partition_point(|i| *i < from))
            .copied()
            .unwrap_or(text.len());
        let inner = text.get(from..close).filter(|_| close < line_end)?;
        (!inner.trim().is_empty()).then_some((inner, close + c.len_utf8()))
    }
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
mod tests;
