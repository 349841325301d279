//! The canonical encoding of a record and its hash (format described in the
//! crate docs). Hand-written so the hashed bytes depend on no library's
//! formatting choices; it must never change for format version 1.

use chrono::SecondsFormat;
use sha2::{Digest, Sha256};

use crate::record::AuditRecord;

/// The encoding version, written as the first member `"v"`.
pub const FORMAT_VERSION: u64 = 1;

impl AuditRecord {
    /// The bytes that are hashed: the record without `hash`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        encode(self, false).into_bytes()
    }

    /// `SHA-256(canonical_bytes)`, lowercase hex. Compare with `hash`.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }
}

/// The canonical form of a timestamp: RFC 3339, UTC as `Z`, and 0, 3, 6 or 9
/// fractional digits (the fewest that hold the value exactly).
pub(crate) fn format_time(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The record as one JSON object, members in the fixed order; with
/// `include_hash` the export line (hash as the last member).
pub(crate) fn encode(record: &AuditRecord, include_hash: bool) -> String {
    let mut o = Object::new();
    o.u64("v", FORMAT_VERSION);
    o.str("chain", &record.chain.key());
    o.u64("seq", record.seq);
    o.str("prev_hash", &record.prev_hash);
    o.str("event_id", &record.event_id);
    o.str("time", &format_time(&record.time));
    let mut actor = Object::new();
    actor.str("subject", &record.actor.subject);
    actor.str("role", &record.actor.role);
    o.raw("actor", &actor.finish());
    o.str("action", &record.action);
    if let Some(ticket) = &record.ticket_id {
        o.str("ticket_id", &ticket.to_string());
    }
    o.opt_str("old_state", record.old_state.as_deref());
    o.opt_str("new_state", record.new_state.as_deref());
    o.opt_str("outcome", record.outcome.as_deref());
    if !record.rationale.is_empty() {
        let mut list = String::from("[");
        for (i, item) in record.rationale.iter().enumerate() {
            if i > 0 {
                list.push(',');
            }
            push_json_string(&mut list, item);
        }
        list.push(']');
        o.raw("rationale", &list);
    }
    o.opt_str("reason", record.reason.as_deref());
    o.str("correlation_id", record.correlation_id.as_str());
    if !record.details.is_empty() {
        // BTreeMap<String, _> iterates in byte order of the UTF-8 keys.
        let mut details = Object::new();
        for (k, v) in &record.details {
            details.str(k, v);
        }
        o.raw("details", &details.finish());
    }
    if include_hash {
        o.str("hash", &record.hash);
    }
    o.finish()
}

/// A JSON object being written member by member, without whitespace.
struct Object {
    out: String,
    empty: bool,
}

impl Object {
    fn new() -> Self {
        Self {
            out: String::from("{"),
            empty: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        push_json_string(&mut self.out, key);
        self.out.push(':');
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        push_json_string(&mut self.out, value);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    fn u64(&mut self, key: &str, value: u64) {
        self.key(key);
        self.out.push_str(&value.to_string());
    }

    fn raw(&mut self, key: &str, json: &str) {
        self.key(key);
        self.out.push_str(json);
    }

    fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// A JSON string with the minimal escapes: `"` `\` and the C0 controls
/// (`\b \f \n \r \t`, others `\u00xx` lowercase); everything else, including
/// U+007F and all non-ASCII, as raw UTF-8.
fn push_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> String {
        let mut out = String::new();
        push_json_string(&mut out, s);
        out
    }

    #[test]
    fn strings_use_only_the_minimal_escapes() {
        assert_eq!(json("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json("\u{08}\u{0C}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(json("\u{0}\u{1f}"), r#""\u0000\u001f""#);
        assert_eq!(json("/\u{7f}é€😀"), "\"/\u{7f}é€😀\"");
    }

    #[test]
    fn escaped_strings_parse_back_to_the_original() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        for s in [
            "",
            "plain",
            "quote\" back\\slash",
            &all_controls,
            "ünï€😀\u{7f}",
        ] {
            let back: String = serde_json::from_str(&json(s)).unwrap();
            assert_eq!(back, s);
        }
    }

    /// Pins format version 1. If this fails, the encoding changed and every
    /// stored chain would stop verifying: restore the encoding, do not edit
    /// the literals. The hash was computed independently (Python hashlib).
    #[test]
    fn the_encoding_and_hash_of_a_fixed_record_never_change() {
        use chrono::TimeZone;
        use std::collections::BTreeMap;
        use zerodesk_domain::{CorrelationId, TenantId, TicketId};

        use crate::record::{Actor, ChainScope};

        let record = AuditRecord {
            chain: ChainScope::Tenant(TenantId::parse("demo").unwrap()),
            seq: 42,
            prev_hash: "ab".repeat(32),
            event_id: "evt-1".into(),
            time: chrono::Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap()
                + chrono::Duration::milliseconds(120),
            actor: Actor::new("user-1", "tenant_manager"),
            action: "DirectoryActionOutcome".into(),
            ticket_id: Some(TicketId::parse("01JNQ4Z5ZZ8K2V3W4X5Y6Z7A8B").unwrap()),
            old_state: Some("in_progress".into()),
            new_state: Some("resolved".into()),
            outcome: Some("succeeded".into()),
            rationale: vec!["self_service".into(), "quote\"tab\t".into()],
            reason: Some("é".into()),
            correlation_id: CorrelationId::parse("corr-1").unwrap(),
            details: BTreeMap::from([
                ("directory_action".into(), "reset".into()),
                ("b".into(), "2".into()),
            ]),
            hash: String::new(),
        };
        let expected = concat!(
            r#"{"v":1,"chain":"TENANT#demo","seq":42,"#,
            r#""prev_hash":"abababababababababababababababababababababababababababababababab","#,
            r#""event_id":"evt-1","time":"2025-03-04T05:06:07.120Z","#,
            r#""actor":{"subject":"user-1","role":"tenant_manager"},"#,
            r#""action":"DirectoryActionOutcome","ticket_id":"01JNQ4Z5ZZ8K2V3W4X5Y6Z7A8B","#,
            r#""old_state":"in_progress","new_state":"resolved","outcome":"succeeded","#,
            r#""rationale":["self_service","quote\"tab\t"],"reason":"é","#,
            r#""correlation_id":"corr-1","details":{"b":"2","directory_action":"reset"}}"#,
        );
        assert_eq!(
            String::from_utf8(record.canonical_bytes()).unwrap(),
            expected
        );
        assert_eq!(
            record.compute_hash(),
            "52d60926933d4e6dd08e8eff926c0be5d3a0d382e7bbee0232465f1f143ee3f4"
        );
    }

    #[test]
    fn times_keep_exactly_the_precision_they_have() {
        use chrono::TimeZone;
        let t = chrono::Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap();
        assert_eq!(format_time(&t), "2025-03-04T05:06:07Z");
        let ms = t + chrono::Duration::milliseconds(120);
        assert_eq!(format_time(&ms), "2025-03-04T05:06:07.120Z");
        let ns = t + chrono::Duration::nanoseconds(1);
        assert_eq!(format_time(&ns), "2025-03-04T05:06:07.000000001Z");
    }
}
