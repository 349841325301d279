//! `devstack`: the local stack's command line. `up` runs the stack in the
//! foreground until Ctrl-C; `token` and `invoke` talk to a running stack
//! from another terminal through the files it keeps under `.devstack/`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use devstack::binaries::Profile;
use devstack::console::Console;
use devstack::oidc::{ClaimNames, SigningKey, TokenRequest, mint};
use devstack::stack::{Stack, StackOptions};
use devstack::state::{DEFAULT_AUDIENCE, DEFAULT_PORT, StackState, issuer_for, repository_root};

#[derive(Parser)]
#[command(
    name = "devstack",
    about = "zerodesk's local stack: no AWS account needed"
)]
struct Cli {
    /// Where the stack keeps its key and state (default: <repo>/.devstack).
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the functions, start everything, serve the API until Ctrl-C.
    Up {
        /// API port (default: $PORT, else 3000).
        #[arg(long)]
        port: Option<u16>,
        /// Build and run release binaries (slower to build).
        #[arg(long)]
        release: bool,
        /// Run the binaries already built.
        #[arg(long)]
        no_build: bool,
        /// Warm processes per function.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        #[arg(long, default_value = DEFAULT_AUDIENCE)]
        audience: String,
    },
    /// Print a token the running stack accepts.
    Token {
        /// Tenant id (omit for platform roles).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        role: String,
        /// Subject; an e-mail address is also put in the email claim.
        #[arg(long)]
        sub: String,
        /// Lifetime in minutes.
        #[arg(long, default_value_t = 60)]
        minutes: u64,
        /// OAuth scopes (repeatable).
        #[arg(long)]
        scope: Vec<String>,
    },
    /// Print every email and text message the running stack sent
    /// (verification links, codes, notices), oldest first.
    Outbox,
    /// Invoke a function of the running stack now (e.g. retention-purge, or
    /// tickets with `--event events/api-post-ticket.json`): prints its answer,
    /// then its REPORT line on stderr; fails if the function failed or crashed.
    Invoke {
        /// Binary (retention-purge) or logical id (RetentionPurgeFunction).
        function: String,
        /// Event JSON file, `-` for stdin; default: the function's schedule event, else {}.
        #[arg(long)]
        event: Option<PathBuf>,
    },
}

fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

fn fail(text: &str) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "devstack: {text}");
    ExitCode::FAILURE
}

/// An error with its sources, for the terminal.
fn chain(e: &dyn std::error::Error) -> String {
    zerodesk_localaws::error_chain(e)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = repository_root();
    let state_dir = cli.state_dir.unwrap_or_else(|| root.join(".devstack"));
    match cli.command {
        Command::Up {
            port,
            release,
            no_build,
            concurrency,
            audience,
        } => {
            let port = port
                .or_else(|| std::env::var("PORT").ok().and_then(|p| p.parse().ok()))
                .unwrap_or(DEFAULT_PORT);
            let options = StackOptions {
                root,
                state_dir,
                port,
                profile: if release {
                    Profile::Release
                } else {
                    Profile::Debug
                },
                build: !no_build,
                binaries_dir: None,
                audience,
                pool_size: concurrency.max(1),
                console: Console::Stdout,
            };
            up(options).await
        }
        Command::Token {
            tenant,
            role,
            sub,
            minutes,
            scope,
        } => {
            let (issuer, audience, names) = match StackState::load(&state_dir) {
                Ok(s) => (s.issuer.clone(), s.audience.clone(), s.claim_names()),
                Err(_) => {
                    let port = std::env::var("PORT")
                        .ok()
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(DEFAULT_PORT);
                    (
                        issuer_for(port),
                        DEFAULT_AUDIENCE.to_owned(),
                        ClaimNames::default(),
                    )
                }
            };
            let key = match SigningKey::load_or_create(&state_dir) {
                Ok(k) => k,
                Err(e) => return fail(&chain(&e)),
            };
            let request = TokenRequest {
                tenant,
                role,
                subject: sub,
                lifetime: Duration::from_secs(minutes * 60),
                scopes: scope,
            };
            match mint(&key, &issuer, &audience, &names, &request) {
                Ok(token) => {
                    out(&token);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&chain(&e)),
            }
        }
        Command::Invoke { function, event } => invoke(&state_dir, &function, event).await,
        Command::Outbox => outbox(&state_dir).await,
    }
}

async fn up(options: StackOptions) -> ExitCode {
    let started = std::time::Instant::now();
    let stack = tokio::select! {
        s = Stack::start(options) => s,
        _ = shutdown_signal() => return fail("interrupted while starting"),
    };
    let stack = match stack {
        Ok(s) => s,
        Err(e) => return fail(&chain(&e)),
    };
    match devstack::banner::render(&stack.state, &stack.key) {
        Ok(text) => out(&text),
        Err(e) => out(&format!(
            "[devstack] cannot mint the demo tokens: {}",
            chain(&e)
        )),
    }
    out(&format!(
        "[devstack] ready in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    shutdown_signal().await;
    out("[devstack] stopping");
    stack.stop().await;
    out("[devstack] stopped");
    ExitCode::SUCCESS
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn outbox(state_dir: &std::path::Path) -> ExitCode {
    let state = match StackState::load(state_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    match devstack::outbox::read(&state.moto_endpoint).await {
        Ok(messages) => {
            out(&devstack::outbox::as_text(&messages));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!(
            "the emulator at {} does not answer: {}",
            state.moto_endpoint,
            chain(&e)
        )),
    }
}

async fn invoke(state_dir: &std::path::Path, function: &str, event: Option<PathBuf>) -> ExitCode {
    let state = match StackState::load(state_dir) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let body = match event {
        None => Vec::new(),
        Some(p) if p.as_os_str() == "-" => {
            let mut buf = Vec::new();
            if std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).is_err() {
                return fail("cannot read the event from stdin");
            }
            buf
        }
        Some(p) => match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) => return fail(&format!("cannot read {}: {e}", p.display())),
        },
    };
    let response = reqwest::Client::new()
        .post(format!("{}/invoke/{function}", state.admin_url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            return fail(&format!(
                "the stack at {} does not answer: {}",
                state.admin_url,
                chain(&e)
            ));
        }
    };
    let status = response.status();
    let mut value: serde_json::Value = response.json().await.unwrap_or_default();
    // The answer on stdout, the REPORT line on stderr, as `sam local invoke` prints them.
    let report = value
        .as_object_mut()
        .and_then(|o| o.remove("report"))
        .and_then(|r| r.as_str().map(str::to_owned));
    out(&serde_json::to_string_pretty(&value).unwrap_or_default());
    if let Some(report) = report {
        let _ = writeln!(std::io::stderr().lock(), "{report}");
    }
    if status.is_success() && value["ok"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
