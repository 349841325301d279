//! `zerodesk`: operator commands. Parses the command line, runs one
//! subcommand, turns its outcome into an exit code. Each subcommand lives in
//! its own module; this file only wires them.

mod audit;
mod triage_replay;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "zerodesk", version, about = "zerodesk operator commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ticket triage tools.
    Triage {
        #[command(subcommand)]
        command: TriageCommand,
    },
    /// Audit trail tools: verify a trail (from a stack or an export file), export it.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TriageCommand {
    /// Classify tickets read as JSON lines on stdin; write one decision per line to stdout.
    Replay(triage_replay::ReplayArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Triage {
            command: TriageCommand::Replay(args),
        } => triage_replay::main(&args),
        Command::Audit { command } => audit::main(&command),
    }
}
