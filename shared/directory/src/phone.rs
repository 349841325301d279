//! Phone numbers as the owner-verification channel needs them: E.164 only.
//! Providers format numbers for people (`+1 2065555555`, `+1-555-415-1337`);
//! anything that is not a plain international number after dropping that
//! punctuation (an extension, letters, no country code) is not a channel.

/// `raw` in E.164 (`+15555550101`), or None if it is not a number we may text.
pub(crate) fn e164(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let digits = compact.strip_prefix('+')?;
    let valid = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    valid.then_some(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_formats_become_e164() {
        assert_eq!(e164("+1 2065555555").as_deref(), Some("+12065555555"));
        assert_eq!(e164("+1-555-415-1337").as_deref(), Some("+15554151337"));
        assert_eq!(e164("+16505551234").as_deref(), Some("+16505551234"));
    }

    #[test]
    fn extensions_local_numbers_and_junk_are_not_channels() {
        for raw in [
            "+1 5555551234x123",
            "2065555555",
            "+0 123456",
            "+1",
            "+1234567890123456",
            "",
            "+1 206 CALL NOW",
        ] {
            assert_eq!(e164(raw), None, "{raw}");
        }
    }
}
