//! A cheap guess at the ticket's language from its function words, used only
//! to switch on the few lexicon patterns that mean something else in another
//! language. Never decides anything on its own.

use crate::normalize::Token;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Es,
    De,
    It,
}

impl Lang {
    pub(crate) fn parse(tag: &str) -> Option<Lang> {
        match tag {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            "de" => Some(Lang::De),
            "it" => Some(Lang::It),
            _ => None,
        }
    }
}

const EN: &[&str] = &[
    "the", "and", "my", "i", "is", "to", "please", "it", "you", "can", "for", "of", "on", "with",
    "have", "me", "this", "im", "cant", "dont", "need", "an", "am", "are", "get",
];
const ES: &[&str] = &[
    "el",
    "los",
    "las",
    "de",
    "que",
    "y",
    "mi",
    "por",
    "para",
    "es",
    "con",
    "una",
    "un",
    "me",
    "se",
    "del",
    "al",
    "pueden",
    "favor",
    "esta",
    "contrasena",
    "cuenta",
    "necesito",
    "puedo",
    "la",
    "ha",
];
const DE: &[&str] = &[
    "der", "die", "das", "und", "ich", "mein", "meine", "ist", "nicht", "bitte", "ein", "eine",
    "mit", "auf", "zu", "es", "hat", "habe", "kann", "fur", "den", "dem", "ihr", "konto",
    "passwort",
];
const IT: &[&str] = &[
    "il", "di", "che", "e", "mio", "mia", "non", "per", "un", "una", "con", "della", "sono", "ho",
    "potete", "ad", "alla", "lo", "gli", "riesco", "favore", "grazie", "bloccato", "la", "ha",
    "mi", "sono",
];

/// Enough words to tell the four languages apart.
const SAMPLE: usize = 200;

/// The language whose function words appear most among the first words;
/// English on a tie.
/// Words shared by the languages ("password", "la") count for each.
pub(crate) fn guess(tokens: &[Token]) -> Lang {
    let mut counts = [0usize; 4];
    for t in tokens.iter().take(SAMPLE) {
        let w = t.text.as_str();
        for (i, list) in [EN, ES, DE, IT].iter().enumerate() {
            if list.contains(&w) {
                counts[i] += 1;
            }
        }
    }
    let langs = [Lang::En, Lang::Es, Lang::De, Lang::It];
    let mut best = 0;
    for i in 1..4 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    langs[best]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::tokenize;

    #[test]
    fn function_words_pick_the_language() {
        let cases = [
            ("I forgot my password, please reset it", Lang::En),
            ("Me he quedado bloqueado fuera de mi cuenta", Lang::Es),
            ("Ich habe mein Passwort vergessen", Lang::De),
            ("Ho dimenticato la password, potete resettarla?", Lang::It),
        ];
        for (text, lang) in cases {
            assert_eq!(guess(&tokenize("", text).toks), lang, "{text}");
        }
    }
}
