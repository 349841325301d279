//! `zerodesk triage replay [--policy FILE] < tickets.jsonl > decisions.jsonl`:
//! redacts each ticket line's text as the service does on write, classifies
//! it with the tenant policy given and writes one decision line per ticket.
//! Offline and pure: never stores a ticket, never calls a directory, never
//! echoes ticket text to stdout or stderr.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::{Map, Value};
use zerodesk_domain::{AccountRef, Category, Decision, RiskFlag, TenantPolicy};
use zerodesk_triage::{TicketText, classify, redact};

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Tenant policy as JSON, e.g. {"auto_resolve": ["password_reset"],
    /// "protected_accounts": ["admin@example.com"]}. Without it nothing is
    /// automated (the default policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// Stops the whole replay.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read policy file {path}")]
    PolicyRead {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("policy file {path} is not a policy: {reason}")]
    PolicyInvalid { path: String, reason: String },
    #[error("cannot read the input")]
    Input(#[source] io::Error),
    #[error("cannot write the output")]
    Output(#[source] io::Error),
}

/// One input line that could not be replayed; the others still are.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    pub line: usize,
    pub problem: LineProblem,
}

/// What is wrong with a line. Never quotes the line: it may hold a password.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error("not valid UTF-8")]
    NotUtf8,
    #[error("not a JSON object ({0})")]
    NotAnObject(String),
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    #[error("field `{0}` must be a string")]
    NotAString(&'static str),
    #[error("field `{field}`: {reason}")]
    Invalid { field: &'static str, reason: String },
}

/// A ticket line as read: `{"id", "requester", "subject", "body"}`; other
/// fields (a label set's answers, say) are ignored. Its text is held only
/// redacted, so a password in it is never classified on.
#[derive(Debug, PartialEq)]
struct TicketLine {
    id: String,
    requester: AccountRef,
    subject: String,
    body: String,
}

#[derive(Serialize)]
struct DecisionLine<'a> {
    id: &'a str,
    category: Category,
    confidence: f32,
    decision: Decision,
    risk_flags: &'a [RiskFlag],
    target: Option<&'a AccountRef>,
    rationale: &'a [String],
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub decided: usize,
    pub bad_lines: usize,
}

const MAX_ID_LEN: usize = 256;

pub fn main(args: &ReplayArgs) -> ExitCode {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    let policy = match args.policy.as_deref().map(load_policy).transpose() {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => {
            report(&mut err, &e);
            return ExitCode::from(2);
        }
    };
    let stdin = io::stdin();
    let stdout = io::stdout();
    match replay(
        &policy,
        stdin.lock(),
        BufWriter::new(stdout.lock()),
        &mut err,
    ) {
        Ok(summary) if summary.bad_lines == 0 => ExitCode::SUCCESS,
        Ok(summary) => {
            let _ = writeln!(
                err,
                "zerodesk triage replay: {} line(s) skipped, {} decided",
                summary.bad_lines, summary.decided
            );
            ExitCode::from(1)
        }
        Err(e) => {
            report(&mut err, &e);
            ExitCode::from(2)
        }
    }
}

fn report(err: &mut impl Write, e: &ReplayError) {
    let mut msg = format!("zerodesk triage replay: {e}");
    if let Some(source) = std::error::Error::source(e) {
        msg.push_str(&format!(": {source}"));
    }
    let _ = writeln!(err, "{msg}");
}

pub fn load_policy(path: &Path) -> Result<TenantPolicy, ReplayError> {
    let shown = path.display().to_string();
    let raw = std::fs::read_to_string(path).map_err(|source| ReplayError::PolicyRead {
        path: shown.clone(),
        source,
    })?;
    let policy: TenantPolicy =
        serde_json::from_str(&raw).map_err(|e| ReplayError::PolicyInvalid {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    policy.validate().map_err(|e| ReplayError::PolicyInvalid {
        path: shown,
        reason: format!("field `{}`: {e}", e.field()),
    })?;
    Ok(policy)
}

/// Replays every line. A bad line is reported on `err` with its number and
/// the field at fault, and the replay goes on with the next one, so one
/// malformed ticket does not hide the decisions for the rest; the caller
/// exits non-zero when any line was bad. Blank lines are skipped.
pub fn replay(
    policy: &TenantPolicy,
    mut input: impl BufRead,
    mut out: impl Write,
    mut err: impl Write,
) -> Result<Summary, ReplayError> {
    let mut summary = Summary::default();
    let mut raw = Vec::new();
    let mut line_no = 0;
    loop {
        raw.clear();
        if input
            .read_until(b'\n', &mut raw)
            .map_err(ReplayError::Input)?
            == 0
        {
            break;
        }
        line_no += 1;
        let parsed = std::str::from_utf8(&raw)
            .map_err(|_| LineProblem::NotUtf8)
            .and_then(|text| {
                if text.trim().is_empty() {
                    Ok(None)
                } else {
                    parse_line(text).map(Some)
                }
            });
        match parsed {
            Ok(None) => {}
            Ok(Some(ticket)) => {
                write_decision(&mut out, &ticket, policy).map_err(ReplayError::Output)?;
                summary.decided += 1;
            }
            Err(problem) => {
                summary.bad_lines += 1;
                let e = LineError {
                    line: line_no,
                    problem,
                };
                writeln!(err, "zerodesk triage replay: {e}").map_err(ReplayError::Output)?;
            }
        }
    }
    out.flush().map_err(ReplayError::Output)?;
    Ok(summary)
}

fn write_decision(out: &mut impl Write, t: &TicketLine, policy: &TenantPolicy) -> io::Result<()> {
    let c = classify(
        &TicketText {
            subject: &t.subject,
            body: &t.body,
        },
        &t.requester,
        policy,
    );
    let line = DecisionLine {
        id: &t.id,
        category: c.category,
        confidence: c.confidence,
        decision: c.decision,
        risk_flags: &c.risk_flags,
        target: c.target.as_ref(),
        rationale: &c.rationale,
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

fn parse_line(text: &str) -> Result<TicketLine, LineProblem> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| LineProblem::NotAnObject(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(LineProblem::NotAnObject("expected an object".to_owned()));
    };
    let id = string_field(&obj, "id")?.ok_or(LineProblem::Missing("id"))?;
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(LineProblem::Invalid {
            field: "id",
            reason: format!("must be 1-{MAX_ID_LEN} bytes"),
        });
    }
    let requester = string_field(&obj, "requester")?.ok_or(LineProblem::Missing("requester"))?;
    let requester = AccountRef::parse(requester).map_err(|e| LineProblem::Invalid {
        field: "requester",
        reason: e.to_string(),
    })?;
    let subject = string_field(&obj, "subject")?.unwrap_or_default();
    let body = string_field(&obj, "body")?.ok_or(LineProblem::Missing("body"))?;
    Ok(TicketLine {
        id: id.to_owned(),
        requester,
        subject: redact(subject.trim()).text,
        body: redact(body.trim()).text,
    })
}

/// `Ok(None)` when absent or null; an error when present but not a string.
fn string_field<'a>(
    obj: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, LineProblem> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(LineProblem::NotAString(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_line_parses_and_extra_fields_are_ignored() {
        let t = parse_line(r#"{"id":"t1","requester":"Ann@Acme.example","subject":"s","body":"b","category":"other"}"#)
            .unwrap();
        assert_eq!(t.requester.as_str(), "ann@acme.example");
        assert_eq!(
            (t.id.as_str(), t.subject.as_str(), t.body.as_str()),
            ("t1", "s", "b")
        );
    }

    #[test]
    fn ticket_text_is_redacted_as_it_is_read() {
        let t = parse_line(
            r#"{"id":"t1","requester":"a@b.example","subject":" my pw is Hunter2! ","body":"my password is now Hunter2!"}"#,
        )
        .unwrap();
        assert_eq!(t.subject, "my pw is [redacted:password]");
        assert_eq!(t.body, "my password is now [redacted:password]");
    }

    #[test]
    fn subject_may_be_absent_but_body_may_not() {
        assert_eq!(
            parse_line(r#"{"id":"t1","requester":"a@b.example","body":"x"}"#)
                .unwrap()
                .subject,
            ""
        );
        assert_eq!(
            parse_line(r#"{"id":"t1","requester":"a@b.example","subject":"x"}"#),
            Err(LineProblem::Missing("body"))
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (r#"{"requester":"a@b.example","body":"x"}"#, "id"),
            (r#"{"id":"","requester":"a@b.example","body":"x"}"#, "id"),
            (r#"{"id":"t","body":"x"}"#, "requester"),
            (
                r#"{"id":"t","requester":"not-an-email","body":"x"}"#,
                "requester",
            ),
            (
                r#"{"id":"t","requester":"a@b.example","subject":5,"body":"x"}"#,
                "subject",
            ),
            (
                r#"{"id":"t","requester":"a@b.example","body":["x"]}"#,
                "body",
            ),
        ];
        for (line, field) in cases {
            let msg = parse_line(line).unwrap_err().to_string();
            assert!(msg.contains(&format!("`{field}`")), "{line}: {msg}");
        }
    }

    #[test]
    fn problems_never_quote_the_line() {
        let msg = parse_line(r#"{"id":"t","requester":"hunter2-secret","body":"x"}"#)
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        let msg = parse_line("password: hunter2").unwrap_err().to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn replay_goes_on_after_a_bad_line_and_counts_it() {
        let input: &[u8] = b"{\"id\":\"a\",\"requester\":\"a@b.example\",\"body\":\"forgot my password\"}\n\nnot json\n\xff\n{\"id\":\"b\",\"requester\":\"a@b.example\",\"body\":\"x\"}\n";
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let s = replay(&TenantPolicy::default(), input, &mut out, &mut err).unwrap();
        assert_eq!(
            s,
            Summary {
                decided: 2,
                bad_lines: 2
            }
        );
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains("line 3: not a JSON object"), "{err}");
        assert!(err.contains("line 4: not valid UTF-8"), "{err}");
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }
}
