//! The text as the rules should read it: Unicode NFKC, invisible format
//! characters (zero-width, bidi controls) removed, a right-to-left override
//! read as it is displayed, and look-alike letters of other scripts read as
//! the Latin letter they imitate. Also notes a word that mixes scripts.
//! Its output is only matched against: never stored, logged or shown.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The scripts whose letters are confused with one another in practice.
/// Letters of any other script are not compared (Han next to Latin in one
/// word is ordinary Japanese or Chinese writing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Script {
    Latin,
    Greek,
    Cyrillic,
    Armenian,
}

impl Script {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Greek => "Greek",
            Script::Cyrillic => "Cyrillic",
            Script::Armenian => "Armenian",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Canonical<'a> {
    pub text: Cow<'a, str>,
    /// The two scripts of the first word that mixes them.
    pub mixed_scripts: Option<(Script, Script)>,
}

/// Right-to-left override, and the characters that end it.
const RLO: char = '\u{202E}';
const ENDS_OVERRIDE: [char; 3] = ['\u{202C}', '\u{2069}', '\n'];

pub(crate) fn canonical(raw: &str) -> Canonical<'_> {
    if raw.is_ascii() {
        return Canonical {
            text: Cow::Borrowed(raw),
            mixed_scripts: None,
        };
    }
    let displayed = as_displayed(raw);
    let mut text = String::with_capacity(displayed.len());
    let mut mixed_scripts = None;
    for (is_word, run) in runs(&displayed) {
        if is_word {
            mixed_scripts = mixed_scripts.or_else(|| mixed_in(run));
            push_word(&mut text, run);
        } else {
            text.extend(run.nfkc());
        }
    }
    Canonical {
        text: Cow::Owned(dots_between_labels(&text)),
        mixed_scripts,
    }
}

/// Zero-width characters, the soft hyphen and every bidi control: they
/// change nothing a reader sees but split or disguise words for a matcher.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Invisible characters dropped, and the text after a right-to-left override
/// reversed up to its end, because a reader sees it reversed ("\u{202E}tnegru"
/// shows "urgent"). One level: a nested override changes nothing.
fn as_displayed(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut overridden: Option<Vec<char>> = None;
    for c in raw.chars() {
        if c == RLO && overridden.is_none() {
            overridden = Some(Vec::new());
            continue;
        }
        if ENDS_OVERRIDE.contains(&c)
            && let Some(span) = overridden.take()
        {
            out.extend(span.iter().rev());
            if c == '\n' {
                out.push(c);
            }
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        match overridden.as_mut() {
            Some(span) => span.push(c),
            None => out.push(c),
        }
    }
    if let Some(span) = overridden {
        out.extend(span.iter().rev());
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The text cut into alternating runs of word and non-word characters.
fn runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let is_word = is_word_char(first);
        let end = rest
            .char_indices()
            .find(|(_, c)| is_word_char(*c) != is_word)
            .map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some((is_word, run))
    })
}

/// NFKC, with look-alikes read as Latin when every letter of the word can be
/// read as Latin. A word with a letter that has no Latin look-alike is left in
/// its own script, so real Cyrillic or Greek text is not turned into nonsense.
fn push_word(out: &mut String, word: &str) {
    let compat: String = word.nfkd().collect();
    let readable_as_latin = compat.chars().all(|c| {
        !c.is_alphabetic() || script_of(c) == Some(Script::Latin) || latin_lookalike(c).is_some()
    });
    if readable_as_latin {
        out.extend(
            compat
                .chars()
                .map(|c| latin_lookalike(c).unwrap_or(c))
                .nfc(),
        );
    } else {
        out.extend(compat.nfc());
    }
}

/// The scripts of the first two letters in `word` that differ in script.
fn mixed_in(word: &str) -> Option<(Script, Script)> {
    let mut scripts = word.chars().filter_map(script_of);
    let first = scripts.next()?;
    let other = scripts.find(|s| *s != first)?;
    Some((first.min(other), first.max(other)))
}

/// By Unicode block. Full-width Latin is Latin (its Script property says so);
/// mathematical letters and the micro sign are Common, so they belong to none.
fn script_of(c: char) -> Option<Script> {
    match c {
        'A'..='Z'
        | 'a'..='z'
        | '\u{00C0}'..='\u{00D6}'
        | '\u{00D8}'..='\u{00F6}'
        | '\u{00F8}'..='\u{024F}'
        | '\u{1E00}'..='\u{1EFF}'
        | '\u{FF21}'..='\u{FF3A}'
        | '\u{FF41}'..='\u{FF5A}' => Some(Script::Latin),
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(Script::Greek),
        '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{A640}'..='\u{A69F}' => {
            Some(Script::Cyrillic)
        }
        '\u{0531}'..='\u{058F}' => Some(Script::Armenian),
        _ => None,
    }
}

/// The Latin letter a Cyrillic, Greek or Armenian letter is confused with.
/// Taken from Unicode's confusables.txt (Unicode Technical Standard #39,
/// "Unicode Security Mechanisms", https://www.unicode.org/Public/security/latest/confusables.txt):
/// the letters of those scripts whose skeleton equals the skeleton of one
/// Latin letter, given here as that letter in lower case. The skeleton maps
/// `I` and `l` alike and `m` to "rn"; the rules match case-folded words, so a
/// capital iota reads as `i` and a Cyrillic `м` as `m` here. Only the letters
/// that disguise cue words and addresses; not the whole file.
fn latin_lookalike(c: char) -> Option<char> {
    let latin = match c {
        // CYRILLIC а, А; GREEK α, Α; LATIN ALPHA ɑ
        '\u{0430}' | '\u{0410}' | '\u{03B1}' | '\u{0391}' | '\u{0251}' => 'a',
        // CYRILLIC В; GREEK Β
        '\u{0412}' | '\u{0392}' => 'b',
        // CYRILLIC с, С; GREEK LUNATE SIGMA ϲ, Ϲ
        '\u{0441}' | '\u{0421}' | '\u{03F2}' | '\u{03F9}' => 'c',
        // CYRILLIC KOMI DE ԁ
        '\u{0501}' => 'd',
        // CYRILLIC е, Е, ҽ; GREEK Ε
        '\u{0435}' | '\u{0415}' | '\u{04BD}' | '\u{0395}' => 'e',
        // LATIN SCRIPT G ɡ; ARMENIAN ց
        '\u{0261}' | '\u{0581}' => 'g',
        // CYRILLIC һ, Н; GREEK Η; ARMENIAN հ
        '\u{04BB}' | '\u{041D}' | '\u{0397}' | '\u{0570}' => 'h',
        // CYRILLIC і, І, ӏ, Ӏ; GREEK ι, Ι; LATIN DOTLESS ı
        '\u{0456}' | '\u{0406}' | '\u{04CF}' | '\u{04C0}' | '\u{03B9}' | '\u{0399}'
        | '\u{0131}' => 'i',
        // CYRILLIC ј, Ј; GREEK ϳ
        '\u{0458}' | '\u{0408}' | '\u{03F3}' => 'j',
        // CYRILLIC к, К; GREEK κ, Κ
        '\u{043A}' | '\u{041A}' | '\u{03BA}' | '\u{039A}' => 'k',
        // CYRILLIC м, М; GREEK Μ
        '\u{043C}' | '\u{041C}' | '\u{039C}' => 'm',
        // GREEK Ν; ARMENIAN ո
        '\u{039D}' | '\u{0578}' => 'n',
        // CYRILLIC о, О; GREEK ο, Ο, σ; ARMENIAN օ, Օ
        '\u{043E}' | '\u{041E}' | '\u{03BF}' | '\u{039F}' | '\u{03C3}' | '\u{0585}'
        | '\u{0555}' => 'o',
        // CYRILLIC р, Р; GREEK ρ, Ρ
        '\u{0440}' | '\u{0420}' | '\u{03C1}' | '\u{03A1}' => 'p',
        // CYRILLIC ԛ; ARMENIAN զ
        '\u{051B}' | '\u{0566}' => 'q',
        // CYRILLIC г
        '\u{0433}' => 'r',
        // CYRILLIC ѕ, Ѕ
        '\u{0455}' | '\u{0405}' => 's',
        // CYRILLIC т, Т; GREEK τ, Τ
        '\u{0442}' | '\u{0422}' | '\u{03C4}' | '\u{03A4}' => 't',
        // GREEK υ; ARMENIAN ս
        '\u{03C5}' | '\u{057D}' => 'u',
        // CYRILLIC ѵ, Ѵ; GREEK ν
        '\u{0475}' | '\u{0474}' | '\u{03BD}' => 'v',
        // CYRILLIC ԝ, Ԝ, ѡ
        '\u{051D}' | '\u{051C}' | '\u{0461}' => 'w',
        // CYRILLIC х, Х; GREEK Χ
        '\u{0445}' | '\u{0425}' | '\u{03A7}' => 'x',
        // CYRILLIC у, ү, Ү; GREEK γ, Υ
        '\u{0443}' | '\u{04AF}' | '\u{04AE}' | '\u{03B3}' | '\u{03A5}' => 'y',
        // GREEK Ζ
        '\u{0396}' => 'z',
        _ => return None,
    };
    Some(latin)
}

/// An ideographic full stop between two ASCII letters or digits is a dot in
/// an address: IDNA (RFC 3490, section 3.1) reads U+3002 as a label
/// separator, and NFKC has already turned U+FF61 into it.
fn dots_between_labels(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let ascii_alnum = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(char::is_ascii_alphanumeric)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let between = ascii_alnum(i.checked_sub(1)) && ascii_alnum(Some(i + 1));
            if *c == '\u{3002}' && between { '.' } else { *c }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &str) -> String {
        canonical(raw).text.into_owned()
    }

    #[test]
    fn ascii_text_is_borrowed_unchanged() {
        let c = canonical("Reset my password, URGENT.");
        assert!(matches!(
            c.text,
            Cow::Borrowed("Reset my password, URGENT.")
        ));
        assert_eq!(c.mixed_scripts, None);
    }

    #[test]
    fn full_width_forms_become_ascii() {
        assert_eq!(
            text("\u{FF55}\u{FF52}\u{FF47}\u{FF45}\u{FF4E}\u{FF54}"),
            "urgent"
        );
        assert_eq!(
            text(
                "\u{FF42}\u{FF4F}\u{FF42}\u{FF20}\u{FF44}\u{FF45}\u{FF4D}\u{FF4F}\u{FF0E}\u{FF45}\u{FF58}"
            ),
            "bob@demo.ex"
        );
    }

    #[test]
    fn zero_width_characters_inside_words_are_removed() {
        for zw in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
        ] {
            assert_eq!(text(&format!("ur{zw}gent")), "urgent", "{:04X}", zw as u32);
        }
    }

    #[test]
    fn bidi_controls_are_removed() {
        for bidi in [
            '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{2066}',
            '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(
                text(&format!("ur{bidi}gent")),
                "urgent",
                "{:04X}",
                bidi as u32
            );
        }
    }

    #[test]
    fn right_to_left_override_is_read_as_displayed() {
        assert_eq!(text("reset \u{202E}tnegru\u{202C} now"), "reset urgent now");
        assert_eq!(text("reset \u{202E}tnegru"), "reset urgent");
        assert_eq!(text("\u{202E}ab\nnext"), "ba\nnext");
    }

    #[test]
    fn cyrillic_and_greek_look_alikes_read_as_latin() {
        assert_eq!(text("urg\u{0435}nt"), "urgent");
        assert_eq!(text("\u{0430}dmin@acme.example"), "admin@acme.example");
        assert_eq!(text("C\u{0395}O"), "CeO");
        assert_eq!(text("unl\u{03BF}ck"), "unlock");
        // Every letter a look-alike: a whole-script spoof of "coop".
        assert_eq!(text("\u{0441}\u{043E}\u{043E}\u{0440}"), "coop");
    }

    #[test]
    fn real_cyrillic_words_are_left_alone() {
        let name = "\u{0414}\u{043C}\u{0438}\u{0442}\u{0440}\u{0438}\u{0439}";
        assert_eq!(text(name), name);
        assert_eq!(canonical(name).mixed_scripts, None);
    }

    #[test]
    fn accents_survive_and_compose() {
        assert_eq!(
            text("contrasen\u{0303}a olvid\u{00E9}"),
            "contraseña olvidé"
        );
    }

    #[test]
    fn a_word_mixing_scripts_is_noted() {
        assert_eq!(
            canonical("please urg\u{0435}nt").mixed_scripts,
            Some((Script::Latin, Script::Cyrillic))
        );
        assert_eq!(
            canonical("unl\u{03BF}ck").mixed_scripts,
            Some((Script::Latin, Script::Greek))
        );
        assert_eq!(
            canonical("\u{0585}kay").mixed_scripts,
            Some((Script::Latin, Script::Armenian))
        );
    }

    #[test]
    fn scripts_in_separate_words_or_common_signs_are_not_mixing() {
        assert_eq!(
            canonical("Thanks, \u{0414}\u{043C}\u{0438}\u{0442}\u{0440}\u{0438}\u{0439}")
                .mixed_scripts,
            None
        );
        assert_eq!(canonical("500\u{00B5}s latency").mixed_scripts, None);
        assert_eq!(
            canonical("caf\u{00E9} \u{FF55}rgent Windows\u{7248}").mixed_scripts,
            None
        );
    }

    #[test]
    fn ideographic_full_stop_inside_an_address_is_a_dot() {
        assert_eq!(text("eve@evil\u{3002}example"), "eve@evil.example");
        assert_eq!(text("eve@evil\u{FF61}example"), "eve@evil.example");
        assert_eq!(text("done\u{3002} next"), "done\u{3002} next");
    }
}
