//! The JSON Lines export and the serde form of a record. An imported line must
//! be byte-identical to the canonical line of the record it parses to, so no
//! edit to a file, not even to whitespace, survives import unnoticed.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use zerodesk_domain::{CorrelationId, TicketId};

use crate::canonical::{FORMAT_VERSION, encode, format_time};
use crate::record::{Actor, AuditRecord, ChainScope};

/// The export line of a record, without the trailing newline.
pub fn to_jsonl_line(record: &AuditRecord) -> String {
    encode(record, true)
}

/// Writes records as an export: one line each, every line ending in `\n`.
pub fn write_jsonl<W, I>(mut out: W, records: I) -> io::Result<()>
where
    W: Write,
    I: IntoIterator,
    I::Item: Borrow<AuditRecord>,
{
    for record in records {
        out.write_all(to_jsonl_line(record.borrow()).as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading line {line} of the export failed")]
    Read {
        line: usize,
        #[source]
        source: io::Error,
    },
    #[error("line {line} of the export is not a valid audit record")]
    Line {
        line: usize,
        #[source]
        source: LineError,
    },
}

impl ExportError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> usize {
        match self {
            ExportError::Read { line, .. } | ExportError::Line { line, .. } => *line,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("the line does not end with a newline")]
    MissingNewline,
    #[error("the line is empty")]
    Empty,
    #[error("the line is not UTF-8")]
    NotUtf8,
    #[error("the line is not a record of format version {FORMAT_VERSION}")]
    Malformed(#[source] serde_json::Error),
    #[error("the line is not in canonical form")]
    NotCanonical,
}

/// Reads an export. Records are returned in file order, unverified: pass
/// them to `verify`. Any line that is not exactly the canonical line of a
/// record is an error naming its 1-based line number.
pub fn parse_jsonl<R: BufRead>(mut reader: R) -> Result<Vec<AuditRecord>, ExportError> {
    let mut records = Vec::new();
    let mut buf = Vec::new();
    for line in 1.. {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| ExportError::Read { line, source })?;
        if read == 0 {
            break;
        }
        let record = parse_line(&buf).map_err(|source| ExportError::Line { line, source })?;
        records.push(record);
    }
    Ok(records)
}

/// One line including its `\n`.
fn parse_line(raw: &[u8]) -> Result<AuditRecord, LineError> {
    let body = raw.strip_suffix(b"\n").ok_or(LineError::MissingNewline)?;
    if body.is_empty() {
        return Err(LineError::Empty);
    }
    let text = std::str::from_utf8(body).map_err(|_| LineError::NotUtf8)?;
    let record: AuditRecord = serde_json::from_str(text).map_err(LineError::Malformed)?;
    if to_jsonl_line(&record) != text {
        return Err(LineError::NotCanonical);
    }
    Ok(record)
}

/// A record as serde sees it: the export line's members. Serializing with
/// serde_json yields the export line; deserializing does not check canonical
/// form (only `parse_jsonl` does).
#[derive(Serialize)]
struct WireRef<'a> {
    v: u64,
    chain: &'a ChainScope,
    seq: u64,
    prev_hash: &'a str,
    event_id: &'a str,
    time: String,
    actor: &'a Actor,
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_id: Option<&'a TicketId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    rationale: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    correlation_id: &'a CorrelationId,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    details: &'a BTreeMap<String, String>,
    hash: &'a str,
}

impl Serialize for AuditRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WireRef {
            v: FORMAT_VERSION,
            chain: &self.chain,
            seq: self.seq,
            prev_hash: &self.prev_hash,
            event_id: &self.event_id,
            time: format_time(&self.time),
            actor: &self.actor,
            action: &self.action,
            ticket_id: self.ticket_id.as_ref(),
            old_state: self.old_state.as_deref(),
            new_state: self.new_state.as_deref(),
            outcome: self.outcome.as_deref(),
            rationale: &self.rationale,
            reason: self.reason.as_deref(),
            correlation_id: &self.correlation_id,
            details: &self.details,
            hash: &self.hash,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u64,
    chain: ChainScope,
    seq: u64,
    prev_hash: String,
    event_id: String,
    time: String,
    actor: Actor,
    action: String,
    #[serde(default)]
    ticket_id: Option<TicketId>,
    #[serde(default)]
    old_state: Option<String>,
    #[serde(default)]
    new_state: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    rationale: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
    correlation_id: CorrelationId,
    #[serde(default)]
    details: BTreeMap<String, String>,
    hash: String,
}

impl<'de> Deserialize<'de> for AuditRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let w = Wire::deserialize(d)?;
        if w.v != FORMAT_VERSION {
            return Err(D::Error::custom("unsupported audit record format version"));
        }
        let time = DateTime::parse_from_rfc3339(&w.time)
            .map_err(|_| D::Error::custom("time is not an RFC 3339 timestamp"))?
            .with_timezone(&Utc);
        Ok(AuditRecord {
            chain: w.chain,
            seq: w.seq,
            prev_hash: w.prev_hash,
            event_id: w.event_id,
            time,
            actor: w.actor,
            action: w.action,
            ticket_id: w.ticket_id,
            old_state: w.old_state,
            new_state: w.new_state,
            outcome: w.outcome,
            rationale: w.rationale,
            reason: w.reason,
            correlation_id: w.correlation_id,
            details: w.details,
            hash: w.hash,
        })
    }
}

#[cfg(test)]
mod tests;
