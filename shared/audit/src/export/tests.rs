use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::*;
use crate::chain::next_record;
use crate::testkit::{any_drafts, build, draft, intent, outcome, rich_draft};
use crate::verify::verify;

fn export(records: &[AuditRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    write_jsonl(&mut out, records).unwrap();
    out
}

fn small_export() -> (Vec<AuditRecord>, Vec<u8>) {
    let records = build([rich_draft(), intent(2, "reset"), outcome(2, "reset")]);
    let bytes = export(&records);
    (records, bytes)
}

/// Whether bytes fail to import or import to a chain that fails to verify.
fn rejected(bytes: &[u8]) -> bool {
    match parse_jsonl(bytes) {
        Err(_) => true,
        Ok(records) => !verify(&records).ok,
    }
}

fn line_error(bytes: &[u8]) -> (usize, LineError) {
    match parse_jsonl(bytes) {
        Err(ExportError::Line { line, source }) => (line, source),
        other => panic!("expected a line error, got {other:?}"),
    }
}

#[test]
fn an_export_round_trips_and_verifies_offline() {
    let (records, bytes) = small_export();
    let back = parse_jsonl(bytes.as_slice()).unwrap();
    assert_eq!(back, records);
    assert!(verify(&back).ok);
}

#[test]
fn every_export_line_ends_with_a_newline() {
    let (records, bytes) = small_export();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().count(), records.len());
    assert_eq!(
        text.lines().next(),
        Some(to_jsonl_line(&records[0]).as_str())
    );
}

#[test]
fn the_hash_is_sha256_of_the_line_without_its_hash_member() {
    // The auditor's recipe from the crate docs, on the raw line text.
    let (records, bytes) = small_export();
    for (line, record) in String::from_utf8(bytes).unwrap().lines().zip(&records) {
        let (body, suffix) = line.split_at(line.len() - 75);
        assert_eq!(suffix, format!(",\"hash\":\"{}\"}}", record.hash));
        let hashed = format!("{body}}}");
        assert_eq!(hex::encode(Sha256::digest(hashed.as_bytes())), record.hash);
    }
}

#[test]
fn serde_json_serializes_a_record_as_its_export_line() {
    let (records, _) = small_export();
    for r in &records {
        assert_eq!(serde_json::to_string(r).unwrap(), to_jsonl_line(r));
    }
}

#[test]
fn any_one_byte_edit_of_an_export_is_caught() {
    let (_, bytes) = small_export();
    assert!(!rejected(&bytes), "the untouched export must pass");
    let replacements = |b: u8| {
        [
            b ^ 0x01,
            b ^ 0x20,
            b ^ 0x80,
            b' ',
            b'0',
            b'a',
            b'"',
            b'\\',
            b'\n',
            b'}',
        ]
        .into_iter()
        .filter(move |r| *r != b)
    };
    let mut edits = 0usize;
    for pos in 0..bytes.len() {
        for r in replacements(bytes[pos]) {
            let mut edited = bytes.clone();
            edited[pos] = r;
            assert!(
                rejected(&edited),
                "replacing byte {pos} with {r:#04x} went unnoticed"
            );
            edits += 1;
        }
        let mut deleted = bytes.clone();
        deleted.remove(pos);
        assert!(rejected(&deleted), "deleting byte {pos} went unnoticed");
        for ins in [b' ', b'\n', b'0'] {
            let mut inserted = bytes.clone();
            inserted.insert(pos, ins);
            assert!(
                rejected(&inserted),
                "inserting {ins:#04x} at {pos} went unnoticed"
            );
        }
        edits += 4;
    }
    for ins in [b' ', b'\n', b'0'] {
        let mut appended = bytes.clone();
        appended.push(ins);
        assert!(rejected(&appended), "appending {ins:#04x} went unnoticed");
    }
    assert!(
        edits > 10 * bytes.len(),
        "the sample covered every position"
    );
}

#[test]
fn whitespace_between_tokens_is_not_canonical() {
    let (records, _) = small_export();
    let line = to_jsonl_line(&records[0]).replacen(":", ": ", 1);
    let (line_no, err) = line_error(format!("{line}\n").as_bytes());
    assert_eq!(line_no, 1);
    assert!(matches!(err, LineError::NotCanonical), "{err:?}");
}

#[test]
fn other_spellings_of_the_same_values_are_not_canonical() {
    let (records, _) = small_export();
    let good = to_jsonl_line(&records[1]);
    let variants = [
        good.replacen("Z\"", "+00:00\"", 1),
        {
            let without_v = good.replacen("\"v\":1,", "", 1);
            format!("{},\"v\":1}}", &without_v[..without_v.len() - 1])
        },
        good.replacen(
            "\"chain\":\"TENANT#demo\",\"seq\":2",
            "\"seq\":2,\"chain\":\"TENANT#demo\"",
            1,
        ),
        good.replacen("\"action\":\"D", "\"action\":\"\\u0044", 1),
        good.replacen(
            "\"correlation_id\"",
            "\"rationale\":[],\"correlation_id\"",
            1,
        ),
        good.replacen(
            "\"correlation_id\"",
            "\"reason\":null,\"correlation_id\"",
            1,
        ),
    ];
    for v in variants {
        assert_ne!(v, good);
        let bytes = format!("{}\n{v}\n", to_jsonl_line(&records[0]));
        let (line_no, err) = line_error(bytes.as_bytes());
        assert_eq!(line_no, 2, "{v}");
        assert!(matches!(err, LineError::NotCanonical), "{v}: {err:?}");
    }
}

#[test]
fn malformed_lines_are_refused_with_their_line_number() {
    let (records, bytes) = small_export();
    let first = to_jsonl_line(&records[0]);
    let second = to_jsonl_line(&records[1]);
    type Case = (Vec<u8>, usize, fn(&LineError) -> bool);
    let cases: [Case; 6] = [
        (bytes[..bytes.len() - 1].to_vec(), 3, |e| {
            matches!(e, LineError::MissingNewline)
        }),
        ([bytes.as_slice(), b"\n"].concat(), 4, |e| {
            matches!(e, LineError::Empty)
        }),
        (
            format!("{first}\n{}\n", second.replacen("\"v\":1", "\"v\":2", 1)).into_bytes(),
            2,
            |e| matches!(e, LineError::Malformed(_)),
        ),
        (
            format!(
                "{}\n",
                first.replacen("\"v\":1,", "\"v\":1,\"extra\":\"x\",", 1)
            )
            .into_bytes(),
            1,
            |e| matches!(e, LineError::Malformed(_)),
        ),
        (
            format!(
                "{first}\n{}\n",
                second.replacen("TENANT#demo", "TENANT#Demo", 1)
            )
            .into_bytes(),
            2,
            |e| matches!(e, LineError::Malformed(_)),
        ),
        ([first.as_bytes(), b"\n\xff\n"].concat(), 2, |e| {
            matches!(e, LineError::NotUtf8)
        }),
    ];
    for (i, (input, want_line, want)) in cases.iter().enumerate() {
        let (line, err) = line_error(input);
        assert_eq!(line, *want_line, "case {i}");
        assert!(want(&err), "case {i}: {err:?}");
    }
}

#[test]
fn an_empty_export_is_an_empty_chain() {
    assert_eq!(parse_jsonl(&b""[..]).unwrap(), Vec::new());
}

#[test]
fn a_reordered_export_parses_but_does_not_verify() {
    let records = build((0..5).map(draft));
    let mut lines: Vec<String> = records.iter().map(to_jsonl_line).collect();
    lines.swap(1, 3);
    let bytes = format!("{}\n", lines.join("\n"));
    let back = parse_jsonl(bytes.as_bytes()).unwrap();
    assert!(!verify(&back).ok);
}

#[test]
fn a_record_deserialized_from_json_keeps_every_field() {
    let r = next_record(None, rich_draft());
    let json = serde_json::to_string(&r).unwrap();
    let back: AuditRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_chain_round_trips_through_an_export(drafts in any_drafts(1..20)) {
        let records = build(drafts);
        let bytes = export(&records);
        let back = parse_jsonl(bytes.as_slice()).unwrap();
        prop_assert!(verify(&back).ok);
        prop_assert_eq!(&back, &records);
        for r in &records {
            prop_assert_eq!(serde_json::to_string(r).unwrap(), to_jsonl_line(r));
        }
    }

    #[test]
    fn a_random_byte_edit_of_any_export_is_caught(
        drafts in any_drafts(1..6),
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let bytes = export(&build(drafts));
        let mut edited = bytes.clone();
        let i = pos.index(edited.len());
        edited[i] ^= xor;
        prop_assert!(rejected(&edited));
    }
}
