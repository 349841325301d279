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

const P: &str = "[redacted:password]";

/// Phrasings that name a password, and the text once it is redacted (`{P}`
/// stands for the password marker).
const PHRASED_SECRETS: &[(&str, &str)] = &[
    // English
    ("my password is now Hunter2!", "my password is now {P}"),
    (
        "password was changed to Hunter2",
        "password was changed to {P}",
    ),
    ("my pw is Hunter2", "my pw is {P}"),
    ("the password I use is Hunter2", "the password I use is {P}"),
    (
        "The password I'm using is Hunter2.",
        "The password I'm using is {P}.",
    ),
    (
        "the password I set is sunshine",
        "the password I set is {P}",
    ),
    (
        "my password was set to sunshine",
        "my password was set to {P}",
    ),
    (
        "my password has been reset to Welcome1",
        "my password has been reset to {P}",
    ),
    (
        "my password is currently hunter2, thanks",
        "my password is currently {P}, thanks",
    ),
    ("my password is still Hunter2", "my password is still {P}"),
    (
        "my new password will be Summer2024",
        "my new password will be {P}",
    ),
    ("my password's Hunter2", "my password's {P}"),
    ("password changed to Hunter2", "password changed to {P}"),
    (
        "please set my password to Welcome123",
        "please set my password to {P}",
    ),
    (
        "the password for the VPN is now x9!k",
        "the password for the VPN is now {P}",
    ),
    ("current password: Hunter2", "current password: {P}"),
    ("pwd = Hunter2", "pwd = {P}"),
    ("passwd -> Hunter2", "passwd -> {P}"),
    ("password => Hunter2", "password => {P}"),
    ("pass: Hunter2", "pass: {P}"),
    ("my passcode is 4821", "my passcode is {P}"),
    ("my PIN is 4821", "my PIN is {P}"),
    ("PIN code: 4821", "PIN code: {P}"),
    (
        "my password is \"correct horse battery staple\" thanks",
        "my password is {P} thanks",
    ),
    ("my password is now 'Hunter2!'", "my password is now {P}"),
    (
        "password was changed to: “blue sky”.",
        "password was changed to: {P}.",
    ),
    (
        "my password was changed from Hunter1 to Hunter2",
        "my password was changed from {P} to {P}",
    ),
    ("pw: old1 -> new2", "pw: {P} -> {P}"),
    // French
    ("mot de passe : Soleil2024", "mot de passe : {P}"),
    ("mot de passe\u{a0}: soleil", "mot de passe\u{a0}: {P}"),
    (
        "mon mot de passe est Soleil2024",
        "mon mot de passe est {P}",
    ),
    ("mon mdp est soleil", "mon mdp est {P}"),
    ("Mot-de-passe = soleil", "Mot-de-passe = {P}"),
    (
        "mon mot de passe est maintenant Soleil2024",
        "mon mot de passe est maintenant {P}",
    ),
    (
        "le mot de passe que j'utilise est soleil",
        "le mot de passe que j'utilise est {P}",
    ),
    (
        "mon mot de passe a été changé en Soleil2024",
        "mon mot de passe a été changé en {P}",
    ),
    (
        "mot de passe réinitialisé à Soleil2024",
        "mot de passe réinitialisé à {P}",
    ),
    (
        "mot de passe actuel = Soleil2024",
        "mot de passe actuel = {P}",
    ),
    // Spanish
    ("mi contraseña es Perro123", "mi contraseña es {P}"),
    ("mi clave es gato", "mi clave es {P}"),
    (
        "mi contraseña ahora es Perro123",
        "mi contraseña ahora es {P}",
    ),
    (
        "la contraseña que uso es perro",
        "la contraseña que uso es {P}",
    ),
    (
        "mi contraseña fue cambiada a Perro123",
        "mi contraseña fue cambiada a {P}",
    ),
    (
        "mi contraseña ha sido restablecida a Perro123",
        "mi contraseña ha sido restablecida a {P}",
    ),
    (
        "mi contraseña actual es perro",
        "mi contraseña actual es {P}",
    ),
    ("clave: Perro123", "clave: {P}"),
    ("mi pin es 4821", "mi pin es {P}"),
    // German
    ("mein Passwort ist Sommer2024", "mein Passwort ist {P}"),
    ("Kennwort: Sommer2024", "Kennwort: {P}"),
    ("mein Kennwort lautet sommer", "mein Kennwort lautet {P}"),
    (
        "mein Passwort ist jetzt Sommer2024",
        "mein Passwort ist jetzt {P}",
    ),
    (
        "das Passwort, das ich benutze, ist sommer",
        "das Passwort, das ich benutze, ist {P}",
    ),
    (
        "mein Passwort wurde auf Sommer2024 zurückgesetzt",
        "mein Passwort wurde auf {P} zurückgesetzt",
    ),
    (
        "mein Passwort wurde geändert auf sommer",
        "mein Passwort wurde geändert auf {P}",
    ),
    (
        "mein Passwort ist immer noch Sommer2024",
        "mein Passwort ist immer noch {P}",
    ),
    (
        "aktuelles Kennwort: „Sommer 2024“",
        "aktuelles Kennwort: {P}",
    ),
    // Italian
    ("la mia password è Gatto99", "la mia password è {P}"),
    ("la mia password è gatto", "la mia password è {P}"),
    ("la mia password e' gatto", "la mia password e' {P}"),
    ("la mia password e Gatto99", "la mia password e {P}"),
    ("parola d'ordine: Gatto99", "parola d'ordine: {P}"),
    ("la parola d’ordine è gatto", "la parola d’ordine è {P}"),
    ("la password che uso è Gatto99", "la password che uso è {P}"),
    ("la mia password ora è Gatto99", "la mia password ora è {P}"),
    (
        "la password è stata cambiata in Gatto99",
        "la password è stata cambiata in {P}",
    ),
    (
        "la password è stata reimpostata a Gatto99",
        "la password è stata reimpostata a {P}",
    ),
];

/// Ordinary sentences about passwords: every word stays.
const PROSE_ABOUT_PASSWORDS: &[&str] = &[
    // English
    "I forgot my password",
    "my password is not working",
    "password is expired",
    "the password reset page is broken",
    "my password is too short?",
    "my password is no longer valid",
    "my password is wrong!",
    "my password is incorrect",
    "my password is invalid",
    "my password is blocked",
    "my password is locked",
    "my password is still not working",
    "my password is now expired",
    "the password I use is not accepted",
    "my password was changed yesterday",
    "my password was changed a week ago",
    "my password was changed in March",
    "please reset my password to unlock my account",
    "I need a password reset to access my email",
    "Password reset: jordan.lee@acme.example",
    "Password reset: please help",
    "my pass is ready",
    "the PIN is blocked",
    "my password manager is 1Password",
    "my password is \"not working\"",
    // French
    "mon mot de passe est incorrect",
    "mot de passe oublié",
    "mon mot de passe ne fonctionne plus",
    "mon mot de passe n'est plus valide",
    "mon mot de passe est expiré",
    // Spanish
    "mi contraseña es incorrecta",
    "mi contraseña está bloqueada",
    "olvidé mi contraseña",
    "la clave es que no funciona",
    "mi contraseña fue cambiada ayer",
    "mi contraseña fue cambiada a las nueve",
    "Olvidé mi contraseña, es urgente.",
    "mi contraseña es urg\u{435}nte",
    // German
    "mein Passwort ist abgelaufen",
    "mein Passwort ist nicht mehr gültig",
    "Passwort vergessen",
    "mein Passwort wurde gesperrt",
    "mein Kennwort ist zu kurz",
    "Passwort wurde in der Nacht geändert",
    // Italian
    "la mia password è scaduta",
    "la mia password non funziona",
    "la password è sbagliata",
    "la password è stata bloccata",
    "ho dimenticato la parola d'ordine",
    "password e nome utente non funzionano",
];

#[test]
fn phrased_passwords_are_redacted_in_every_language() {
    for (text, want) in PHRASED_SECRETS {
        let want = want.replace("{P}", P);
        assert_eq!(r(text), want, "in {text:?}");
        assert_eq!(r(&want), want, "redacting {want:?} again");
    }
}

#[test]
fn prose_about_passwords_keeps_its_words() {
    for text in PROSE_ABOUT_PASSWORDS {
        assert_eq!(r(text), *text);
    }
}

#[test]
fn a_long_quoted_value_is_redacted_whole_and_once() {
    // Other phrases inside the quotes shrink it when redacted; whether it is
    // a quoted value must not depend on its length.
    let inner = "my password is now Hunter2 ".repeat(10);
    let once = r(&format!("mot de passe : \"{inner}\" merci"));
    assert_eq!(once, format!("mot de passe : {P} merci"));
    assert_eq!(r(&once), once);
    let unclosed = r("password: \"purple horse\nbattery\"");
    assert_eq!(unclosed, format!("password: {P} horse\nbattery\""));
    assert_eq!(r(&unclosed), unclosed);
}

#[test]
fn a_token_phrase_is_redacted_as_a_token() {
    let out = redact("my token was changed to abcd1234efgh");
    assert_eq!(out.text, "my token was changed to [redacted:token]");
    assert_eq!(out.redactions, vec![RedactionKind::Token]);
}

#[test]
fn phrase_word_lists_are_folded_and_stop_words_unique() {
    let lists = [
        PASSWORD_LABELS,
        PASSWORD_LABELS_STRICT,
        TOKEN_LABELS,
        COPULAS,
        AUXILIARIES,
        BEEN,
        CHANGE_VERBS,
        INTRODUCERS,
        WEAK_INTRODUCERS,
        FILLERS,
        RELATIVE,
        SUBJECTS,
        FOR_WORDS,
        IMPERATIVES,
        POSSESSIVES,
        STOP_WORDS,
    ];
    for w in lists.iter().flat_map(|l| l.iter()) {
        assert_eq!(fold(w), *w, "{w} is compared with folded words");
    }
    let mut stop = STOP_WORDS.to_vec();
    stop.sort_unstable();
    stop.dedup();
    assert_eq!(stop.len(), STOP_WORDS.len(), "a stop word is listed twice");
}
