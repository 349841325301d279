//! The zerodesk audit trail: records, their canonical encoding, the hash chain,
//! verification, the JSON Lines export and pseudonyms. Pure logic: no AWS
//! types, no I/O beyond a caller's reader or writer, no clock, no randomness.
//!
//! # The chain, for an auditor
//!
//! This section is the whole specification; it is enough to verify an export
//! without this code.
//!
//! **Chains.** Each tenant has one chain (`"chain":"TENANT#<tenant id>"`) and
//! the platform has one (`"chain":"PLATFORM"`). Records of a chain carry
//! `seq` 1, 2, 3, ... with no holes. Record 1 has `prev_hash` equal to 64 ASCII
//! zeros; record n > 1 has `prev_hash` equal to the `hash` of record n - 1.
//!
//! **Canonical encoding** (format version 1). A record is encoded as one JSON
//! object, UTF-8, with no whitespace outside strings, members in exactly this
//! order (`?` marks a member that is left out when absent, or when an empty
//! list or map):
//!
//! ```text
//! v               number, always 1
//! chain           string
//! seq             number (decimal integer, no sign, no leading zeros)
//! prev_hash       string
//! event_id        string
//! time            string, RFC 3339 in UTC with "Z", 0, 3, 6 or 9 fractional
//!                 digits (the fewest that hold the value exactly)
//! actor           object {"subject": string, "role": string}, in that order
//! action          string
//! ticket_id?      string (a ULID, upper case)
//! old_state?      string
//! new_state?      string
//! outcome?        string
//! rationale?      array of strings, non-empty, in recorded order
//! reason?         string
//! correlation_id  string
//! details?        object of string values, non-empty, keys in ascending
//!                 byte order of their UTF-8 encoding
//! ```
//!
//! Strings are escaped minimally: `"` as `\"`, `\` as `\\`, U+0008 `\b`,
//! U+000C `\f`, U+000A `\n`, U+000D `\r`, U+0009 `\t`, other characters below
//! U+0020 as `\u00xx` with lower-case hex; every other character, including
//! `/`, U+007F and all non-ASCII, is written as its raw UTF-8 bytes. There
//! are no floats, nulls or booleans anywhere.
//!
//! **Hash.** `hash` = lower-case hex of SHA-256 over the canonical encoding.
//!
//! **Export.** A JSON Lines file, one record per line in chain order, each
//! line terminated by `\n` (including the last). A line is the canonical
//! encoding with one more member appended last: the canonical encoding with
//! its final `}` replaced by `,"hash":"<hash>"}`. Hence, for a well-formed
//! line, the hashed bytes are the line with its last 75 bytes
//! (`,"hash":"` + 64 hex digits + `"}`) replaced by `}`:
//!
//! ```text
//! head -n1 export.jsonl | sed 's/,"hash":"[0-9a-f]\{64\}"}$/}/' | tr -d '\n' | sha256sum
//! ```
//!
//! **Verifying an export.** Read lines in file order. A line is valid only
//! if it is byte-identical to the canonical line of the record it parses to
//! (so even a whitespace edit is refused). For each record, in this order:
//! the recomputed hash must equal `hash` (else the content was altered); the
//! chain must be the expected one; `seq` must exceed the previous record's
//! (else records were reordered or repeated); `prev_hash` must equal the
//! previous record's `hash`, or the 64 zeros at seq 1 (else a record was
//! deleted, inserted or moved). The first record may start above seq 1 with
//! any `prev_hash` only when older records were removed by retention. Seqs
//! missing between the lowest (or 1) and the highest are gaps.
//!
//! **Intents and outcomes.** Before a directory call a record with action
//! `DirectoryActionIntent` is written, after it one with
//! `DirectoryActionOutcome`; both name the ticket in `ticket_id` and the kind
//! of call (`reset`, `unlock`, ...) in `details.directory_action`. An intent
//! with no later outcome for the same ticket and kind is reported.
//!
//! **What the chain does not prove.** Removing the newest records leaves a
//! shorter valid chain, and whoever can rewrite every record from some point
//! on can recompute every hash. Both are caught only by comparing the last
//! `(seq, hash)` with a copy kept elsewhere (an earlier export, a purge
//! receipt). Records are never rewritten, so personal data must enter them
//! already replaced by a `pseudonym`.

mod canonical;
mod chain;
mod export;
mod pseudonym;
mod record;
mod verify;

#[cfg(test)]
mod testkit;

pub use canonical::FORMAT_VERSION;
pub use chain::next_record;
pub use export::{ExportError, LineError, parse_jsonl, to_jsonl_line, write_jsonl};
pub use pseudonym::{MIN_SALT_LEN, PSEUDONYM_PREFIX, PseudonymError, pseudonym};
pub use record::{
    Actor, AuditDraft, AuditRecord, ChainHead, ChainScope, ChainScopeError,
    DIRECTORY_ACTION_DETAIL, GENESIS_PREV_HASH, INTENT_ACTION, OUTCOME_ACTION,
};
pub use verify::{
    BrokenLink, Gap, LinkFault, OpenIntent, VerifyOptions, VerifyReport, verify, verify_with,
};
