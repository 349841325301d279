//! `zerodesk audit verify` and `zerodesk audit export`: a compliance
//! reviewer's view of a tenant's trail. Verification always recomputes the
//! chain here, from an export file or from the export a stack serves; the
//! stack's own verdict is shown beside it, never trusted instead of it.
//! This module talks HTTP to the API or reads a file, nothing else; the
//! bearer token is never printed.

use std::fs;
use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use zerodesk_audit::{ChainHead, VerifyOptions, VerifyReport, parse_jsonl, verify_with};

/// Verification ran and the trail is intact.
const EXIT_OK: u8 = 0;
/// Verification ran and found a broken link, a gap or a head mismatch.
const EXIT_BROKEN: u8 = 1;
/// The trail could not be read (usage, file, network, HTTP status).
const EXIT_ERROR: u8 = 2;

const URL_ENV: &str = "ZERODESK_API_URL";
const TOKEN_ENV: &str = "ZERODESK_TOKEN";

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify a trail: offline from an export file (--file), or from a stack.
    Verify(VerifyArgs),
    /// Export a tenant's trail from a stack as JSON Lines.
    Export(ExportArgs),
}

/// Which stack, as whom, and (for platform roles) which tenant.
#[derive(Debug, Clone, Args)]
pub struct StackArgs {
    /// API base URL, e.g. http://127.0.0.1:3000 (default: $ZERODESK_API_URL).
    #[arg(long)]
    pub url: Option<String>,
    /// Bearer token (default: $ZERODESK_TOKEN; prefer the variable, a flag
    /// shows in the process list).
    #[arg(long)]
    pub token: Option<String>,
    /// Reach this tenant through /platform/tenants/{tenant}/ (platform
    /// roles; the access is recorded in that tenant's trail).
    #[arg(long)]
    pub tenant: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// An export file (JSON Lines) to verify offline; no stack is contacted.
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub stack: StackArgs,
    /// Accept a trail whose oldest records were removed by retention.
    #[arg(long)]
    pub allow_truncated_start: bool,
    /// The last link as kept elsewhere (`<seq>:<hash>`, e.g. from a purge
    /// receipt or an earlier export): catches removal of the newest records.
    #[arg(long)]
    pub expect_head: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// Only records at or after this RFC 3339 time.
    #[arg(long)]
    pub from: Option<String>,
    /// Only records at or before this RFC 3339 time.
    #[arg(long)]
    pub to: Option<String>,
    /// Write here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("give --file, or a stack with --url (or ${URL_ENV}) and --token (or ${TOKEN_ENV})")]
    NoSource,
    #[error("--expect-head must be <seq>:<64 hex digits>")]
    BadHead,
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Export(#[from] zerodesk_audit::ExportError),
    #[error("the request to the stack failed: {0}")]
    Http(String),
    #[error("the stack answered {status}: {body}")]
    Status { status: u16, body: String },
}

pub fn main(command: &AuditCommand) -> ExitCode {
    let outcome = match command {
        AuditCommand::Verify(args) => verify_command(args),
        AuditCommand::Export(args) => export_command(args).map(|()| EXIT_OK),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("zerodesk audit: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// A stack to talk to, resolved from flags and environment.
struct Stack {
    base: String,
    token: String,
    tenant: Option<String>,
}

impl Stack {
    fn resolve(args: &StackArgs) -> Option<Stack> {
        let pick = |flag: &Option<String>, env: &str| {
            flag.clone()
                .or_else(|| std::env::var(env).ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Some(Stack {
            base: pick(&args.url, URL_ENV)?.trim_end_matches('/').to_owned(),
            token: pick(&args.token, TOKEN_ENV)?,
            tenant: args.tenant.clone(),
        })
    }

    /// `/audit/<leaf>` or `/platform/tenants/<tenant>/audit/<leaf>`.
    fn url(&self, leaf: &str) -> String {
        let prefix = match &self.tenant {
            Some(t) => format!("{}/platform/tenants/{t}/audit", self.base),
            None => format!("{}/audit", self.base),
        };
        if leaf.is_empty() {
            prefix
        } else {
            format!("{prefix}/{leaf}")
        }
    }

    fn get(&self, url: &str, query: &[(&str, String)]) -> Result<Vec<u8>, CliError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::Io(e.to_string()))?;
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .get(url)
                .query(query)
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| CliError::Http(e.without_url().to_string()))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| CliError::Http(e.without_url().to_string()))?;
            if !status.is_success() {
                return Err(CliError::Status {
                    status: status.as_u16(),
                    body: String::from_utf8_lossy(&body).chars().take(500).collect(),
                });
            }
            Ok(body.to_vec())
        })
    }
}

fn parse_head(raw: &str) -> Result<ChainHead, CliError> {
    let (seq, hash) = raw.split_once(':').ok_or(CliError::BadHead)?;
    let seq = seq.parse().map_err(|_| CliError::BadHead)?;
    let ok = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if !ok {
        return Err(CliError::BadHead);
    }
    Ok(ChainHead {
        seq,
        hash: hash.to_owned(),
    })
}

/// The outcome of verifying an export's bytes.
#[derive(Debug, serde::Serialize)]
pub struct Verdict {
    pub ok: bool,
    #[serde(flatten)]
    pub report: VerifyReport,
    /// `Some(false)` when `--expect-head` was given and does not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_matches: Option<bool>,
    /// What the stack itself said, when verifying against a stack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_report: Option<serde_json::Value>,
}

/// Recomputes an export: every line canonical, every hash and link.
pub fn verify_export(
    bytes: &[u8],
    allow_truncated_start: bool,
    expect_head: Option<&ChainHead>,
) -> Result<Verdict, CliError> {
    let records = parse_jsonl(BufReader::new(bytes))?;
    let report = verify_with(
        &records,
        &VerifyOptions {
            allow_truncated_start,
            expected_chain: None,
        },
    );
    let head_matches = expect_head.map(|h| report.head.as_ref() == Some(h));
    Ok(Verdict {
        ok: report.ok && head_matches != Some(false),
        report,
        head_matches,
        stack_report: None,
    })
}

fn verify_command(args: &VerifyArgs) -> Result<u8, CliError> {
    let expect = args.expect_head.as_deref().map(parse_head).transpose()?;
    let mut verdict = match &args.file {
        Some(path) => {
            let bytes = fs::read(path)
                .map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))?;
            verify_export(&bytes, args.allow_truncated_start, expect.as_ref())?
        }
        None => {
            let stack = Stack::resolve(&args.stack).ok_or(CliError::NoSource)?;
            let export = stack.get(&stack.url("export"), &[])?;
            let mut verdict = verify_export(&export, args.allow_truncated_start, expect.as_ref())?;
            let server = stack.get(&stack.url("verify"), &[])?;
            verdict.stack_report = serde_json::from_slice(&server).ok();
            verdict
        }
    };
    if let Some(server) = &verdict.stack_report
        && server.get("ok") != Some(&serde_json::Value::Bool(true))
    {
        verdict.ok = false;
    }
    print_verdict(&verdict, args.json)?;
    Ok(if verdict.ok { EXIT_OK } else { EXIT_BROKEN })
}

fn print_verdict(v: &Verdict, json: bool) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| CliError::Io(e.to_string());
    if json {
        let text = serde_json::to_string_pretty(v).map_err(|e| CliError::Io(e.to_string()))?;
        return writeln!(out, "{text}").map_err(io);
    }
    let r = &v.report;
    writeln!(out, "records checked: {}", r.records_checked).map_err(io)?;
    if let Some(h) = &r.head {
        writeln!(out, "head: seq {} hash {}", h.seq, h.hash).map_err(io)?;
    }
    if let Some(b) = &r.first_broken_link {
        writeln!(
            out,
            "first broken link: seq {} (record {} of the input): {:?}",
            b.seq,
            b.index + 1,
            b.kind
        )
        .map_err(io)?;
    }
    for g in &r.gaps {
        writeln!(
            out,
            "gap: seq {}..={} missing",
            g.missing_from, g.missing_to
        )
        .map_err(io)?;
    }
    for i in &r.intents_without_outcome {
        writeln!(out, "intent without outcome: seq {}", i.seq).map_err(io)?;
    }
    if v.head_matches == Some(false) {
        writeln!(out, "head does not match --expect-head").map_err(io)?;
    }
    if let Some(server) = &v.stack_report {
        writeln!(
            out,
            "stack says ok: {}",
            server.get("ok").unwrap_or(&serde_json::Value::Null)
        )
        .map_err(io)?;
    }
    writeln!(out, "{}", if v.ok { "OK" } else { "BROKEN" }).map_err(io)
}

fn export_command(args: &ExportArgs) -> Result<(), CliError> {
    let stack = Stack::resolve(&args.stack).ok_or(CliError::NoSource)?;
    let mut query = Vec::new();
    if let Some(from) = &args.from {
        query.push(("from", from.clone()));
    }
    if let Some(to) = &args.to {
        query.push(("to", to.clone()));
    }
    let bytes = stack.get(&stack.url("export"), &query)?;
    // What is written must be a trail: refuse to save anything else.
    parse_jsonl(BufReader::new(&bytes[..]))?;
    match &args.output {
        Some(path) => fs::write(path, &bytes)
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display()))),
        None => std::io::stdout()
            .lock()
            .write_all(&bytes)
            .map_err(|e| CliError::Io(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real export line set: three records of one chain, made by the audit crate.
    fn export() -> Vec<u8> {
        use chrono::TimeZone;
        use zerodesk_audit::{Actor, AuditDraft, ChainScope, next_record, write_jsonl};
        use zerodesk_domain::{CorrelationId, TenantId};
        let chain = ChainScope::Tenant(TenantId::parse("demo").unwrap());
        let mut records = Vec::new();
        for i in 0..3 {
            let draft = AuditDraft::new(
                chain.clone(),
                format!("ev-{i}"),
                chrono::Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, i).unwrap(),
                Actor::new("pseud_0123", "tenant_manager"),
                "TicketStateChanged",
                CorrelationId::parse("corr-1").unwrap(),
            );
            let head = records.last().map(zerodesk_audit::AuditRecord::head);
            records.push(next_record(head.as_ref(), draft));
        }
        let mut out = Vec::new();
        write_jsonl(&mut out, &records).unwrap();
        out
    }

    #[test]
    fn an_intact_export_verifies_and_a_one_byte_edit_fails() {
        let bytes = export();
        let v = verify_export(&bytes, false, None).unwrap();
        assert!(v.ok);
        assert_eq!(v.report.records_checked, 3);
        let pos = bytes.windows(4).position(|w| w == b"ev-1").unwrap();
        let mut edited = bytes.clone();
        edited[pos + 3] = b'7';
        let v = verify_export(&edited, false, None).unwrap();
        assert!(!v.ok);
        assert_eq!(v.report.first_broken_link.unwrap().seq, 2);
    }

    #[test]
    fn a_removed_newest_record_is_caught_only_against_a_kept_head() {
        let bytes = export();
        let full = verify_export(&bytes, false, None).unwrap();
        let head = full.report.head.clone().unwrap();
        let last_line = bytes[..bytes.len() - 1]
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap();
        let shortened = &bytes[..=last_line];
        assert!(verify_export(shortened, false, None).unwrap().ok);
        let v = verify_export(shortened, false, Some(&head)).unwrap();
        assert!(!v.ok);
        assert_eq!(v.head_matches, Some(false));
    }

    #[test]
    fn heads_and_stack_urls_are_parsed_and_built() {
        assert!(parse_head(&format!("3:{}", "a".repeat(64))).is_ok());
        assert!(parse_head("3:abc").is_err());
        assert!(parse_head(&format!("x:{}", "a".repeat(64))).is_err());
        let own = Stack {
            base: "http://127.0.0.1:3000".into(),
            token: "t".into(),
            tenant: None,
        };
        assert_eq!(own.url("export"), "http://127.0.0.1:3000/audit/export");
        let platform = Stack {
            tenant: Some("demo".into()),
            ..own
        };
        assert_eq!(
            platform.url("verify"),
            "http://127.0.0.1:3000/platform/tenants/demo/audit/verify"
        );
    }

    #[test]
    fn a_garbled_file_is_an_error_naming_its_line() {
        let mut bytes = export();
        bytes.extend_from_slice(b"not json\n");
        match verify_export(&bytes, false, None) {
            Err(CliError::Export(e)) => assert_eq!(e.line(), 4),
            other => panic!("{other:?}"),
        }
    }
}
