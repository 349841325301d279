//! Temporary passwords: generated from the OS CSPRNG (or received from a
//! provider that generates its own), zeroed on drop, printed as `[redacted]`.
//! Never stored, never logged; `expose()` is for building the one request or
//! response that carries it.

use std::fmt;

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of generated passwords: above every provider's minimum (Google 8,
/// Entra 8, Okta's default policy 8) and below every maximum (Google 100).
pub const GENERATED_LENGTH: usize = 20;

// No look-alikes (0/O/o, 1/l/I), no quotes, backslash, space, `<>&` or `|`:
// the password is read aloud, pasted into chat, and shown in HTML.
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#$%*+-=?@^_";

#[derive(Zeroize, ZeroizeOnDrop)]
pub struct TemporaryPassword(String);

impl TemporaryPassword {
    /// A fresh password with at least one upper-case letter, lower-case
    /// letter, digit and symbol, from `OsRng`.
    pub fn generate() -> Self {
        let mut rng = OsRng;
        let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
        let mut chars: Vec<u8> = Vec::with_capacity(GENERATED_LENGTH);
        for class in [UPPER, LOWER, DIGITS, SYMBOLS] {
            chars.extend(class.choose(&mut rng));
        }
        while chars.len() < GENERATED_LENGTH {
            chars.extend(all.choose(&mut rng));
        }
        chars.shuffle(&mut rng);
        // Every byte comes from the ASCII tables above.
        let password = chars.iter().map(|&b| char::from(b)).collect();
        chars.zeroize();
        Self(password)
    }

    /// A password the provider generated and returned (Okta's
    /// `expire_password_with_temp_password`).
    pub(crate) fn from_provider(value: String) -> Self {
        Self(value)
    }

    /// The password itself, for the one request or response that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TemporaryPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for TemporaryPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Whether `candidate` satisfies the rules generated passwords promise.
pub fn meets_complexity(candidate: &str) -> bool {
    let bytes = candidate.as_bytes();
    let allowed = |b: &u8| {
        UPPER.contains(b) || LOWER.contains(b) || DIGITS.contains(b) || SYMBOLS.contains(b)
    };
    bytes.len() >= 16
        && bytes.iter().all(allowed)
        && bytes.iter().any(|b| UPPER.contains(b))
        && bytes.iter().any(|b| LOWER.contains(b))
        && bytes.iter().any(|b| DIGITS.contains(b))
        && bytes.iter().any(|b| SYMBOLS.contains(b))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_thousand_generated_passwords_meet_the_rules_and_are_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let p = TemporaryPassword::generate();
            assert_eq!(p.expose().len(), GENERATED_LENGTH);
            assert!(
                meets_complexity(p.expose()),
                "generated password broke the rules"
            );
            assert!(
                seen.insert(p.expose().to_owned()),
                "duplicate password generated"
            );
        }
        assert_eq!(seen.len(), 1000);
    }

    #[test]
    fn complexity_check_refuses_weak_or_ambiguous_passwords() {
        assert!(meets_complexity("Ab3!Ab3!Ab3!Ab3!"));
        assert!(!meets_complexity("Ab3!"), "too short");
        assert!(!meets_complexity("abcdefghijkmnpq3!"), "no upper case");
        assert!(!meets_complexity("ABCDEFGHJKLMNPQ3!"), "no lower case");
        assert!(!meets_complexity("AbcdefghijkmnpQ!!"), "no digit");
        assert!(!meets_complexity("Abcdefghijkmnp234"), "no symbol");
        assert!(!meets_complexity("Ab3!Ab3!Ab3!Ab3!O"), "ambiguous O");
        assert!(!meets_complexity("Ab3!Ab3!Ab3!Ab3!l"), "ambiguous l");
        assert!(!meets_complexity("Ab3!Ab3!Ab3!Ab3! "), "space");
    }

    #[test]
    fn debug_and_display_print_redacted() {
        let p = TemporaryPassword::generate();
        assert_eq!(format!("{p:?}"), "[redacted]");
        assert_eq!(format!("{p}"), "[redacted]");
        assert!(!format!("{p:?}").contains(p.expose()));
    }
}
