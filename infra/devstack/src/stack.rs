//! `devstack up`: builds the functions, starts the fakes and moto,
//! provisions from the template, runs every function behind the emulated
//! HTTP API, delivers events and schedules, writes each function's
//! environment for `sam local invoke` and `cargo lambda watch`
//! (`invoke_env`), and on stop tears all of it down and waits until every
//! child has exited.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use zerodesk_template::{Template, TemplateError};

use crate::admin::AdminFunction;
use crate::binaries::{self, Profile};
use crate::console::Console;
use crate::gateway::{self, GatewaySetup};
use crate::invoke_env::{self, FunctionEnvironment};
use crate::local::{ACCOUNT_ID, DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, REGION, STAGE};
use crate::oidc::{KeyError, SigningKey};
use crate::runtime::{Function, FunctionSpec};
use crate::schedule::{ExpressionError, Schedule, Scheduled};
use crate::state::{StackState, issuer_for};
use zerodesk_localaws::{Moto, MotoError, ProvisionError};

#[derive(Debug, Clone)]
pub struct StackOptions {
    /// The repository: template.yaml, docs/openapi.json, .venv, infra/moto-requirements.txt.
    pub root: PathBuf,
    /// `.devstack/`: signing key, stack.json, moto.log.
    pub state_dir: PathBuf,
    pub port: u16,
    pub profile: Profile,
    /// Run `cargo build` for the functions first.
    pub build: bool,
    /// Where the function binaries are; default cargo's `target/<profile>`.
    pub binaries_dir: Option<PathBuf>,
    pub audience: String,
    /// Warm processes per function.
    pub pool_size: usize,
    pub console: Console,
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("template.yaml")]
    Template(#[from] TemplateError),
    #[error("function {0} has no Metadata.BuildProperties.Binary")]
    NoBinary(String),
    #[error(transparent)]
    Build(#[from] binaries::BuildError),
    #[error("binary {0} is missing (build it, or run without --no-build)")]
    MissingBinary(PathBuf),
    #[error("signing key")]
    Key(#[from] KeyError),
    #[error("127.0.0.1:{0} is taken; set PORT to use another port")]
    PortTaken(u16, #[source] std::io::Error),
    #[error("cannot listen on loopback")]
    Listen(#[source] std::io::Error),
    #[error("fake directories: {0}")]
    Fakes(String),
    #[error(transparent)]
    Moto(#[from] MotoError),
    #[error("provisioning")]
    Provision(#[from] ProvisionError),
    #[error("gateway")]
    Gateway(#[from] gateway::BuildError),
    #[error(transparent)]
    Schedule(#[from] ExpressionError),
    #[error("seeding")]
    Seed(#[from] crate::seed::SeedError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// A running stack. Dropping it without `stop` still kills the children
/// (kill-on-drop), but `stop` also waits for them.
pub struct Stack {
    pub state: StackState,
    pub key: Arc<SigningKey>,
    pub fakes: Option<zerodesk_fakes::Fakes>,
    state_dir: PathBuf,
    shutdown: watch::Sender<bool>,
    functions: Vec<Function>,
    moto: Option<Moto>,
    tasks: Vec<JoinHandle<()>>,
}

impl Stack {
    pub async fn start(opts: StackOptions) -> Result<Stack, StackError> {
        let (shutdown, _) = watch::channel(false);
        let mut stack = Stack {
            state: StackState {
                pid: std::process::id(),
                api_url: issuer_for(opts.port),
                admin_url: String::new(),
                issuer: issuer_for(opts.port),
                audience: opts.audience.clone(),
                moto_endpoint: String::new(),
                claim_tenant: "tenant_id".to_owned(),
                claim_role: "role".to_owned(),
                claim_subject: "sub".to_owned(),
                claim_email: "email".to_owned(),
                ports: Vec::new(),
            },
            key: Arc::new(SigningKey::load_or_create(&opts.state_dir)?),
            fakes: None,
            state_dir: opts.state_dir.clone(),
            shutdown,
            functions: Vec::new(),
            moto: None,
            tasks: Vec::new(),
        };
        match stack.bring_up(&opts).await {
            Ok(()) => Ok(stack),
            Err(e) => {
                stack.stop().await;
                Err(e)
            }
        }
    }

    async fn bring_up(&mut self, opts: &StackOptions) -> Result<(), StackError> {
        let console = &opts.console;
        let template = Template::load(&opts.root.join("template.yaml"))?;
        let defs = template.functions()?;
        let mut packages = Vec::new();
        for f in &defs {
            packages.push(
                f.binary
                    .clone()
                    .ok_or_else(|| StackError::NoBinary(f.logical_id.clone()))?,
            );
        }
        if opts.build {
            console.line(&format!(
                "[devstack] building {} ({})",
                packages.join(", "),
                opts.profile.dir_name()
            ));
            binaries::build(&opts.root, &packages, opts.profile).await?;
        }
        let bin_dir = match &opts.binaries_dir {
            Some(d) => d.clone(),
            None => binaries::output_dir(&opts.root, opts.profile).await?,
        };
        for p in &packages {
            if !bin_dir.join(p).exists() {
                return Err(StackError::MissingBinary(bin_dir.join(p)));
            }
        }

        // Claim the API port first: nothing else is worth starting without it.
        let api = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|e| StackError::PortTaken(opts.port, e))?;
        let api_port = api.local_addr().map_err(StackError::Listen)?.port();
        self.state.api_url = issuer_for(api_port);
        self.state.issuer = issuer_for(api_port);
        self.state.ports.push(api_port);

        let fakes = zerodesk_fakes::Fakes::start(
            zerodesk_fakes::demo_seed(),
            zerodesk_fakes::FakePorts::default(),
        )
        .await
        .map_err(|e| StackError::Fakes(e.to_string()))?;
        self.state
            .ports
            .extend([fakes.google.port(), fakes.graph.port(), fakes.okta.port()]);
        let directory_env = fakes.endpoint_env();
        self.fakes = Some(fakes);

        let server = zerodesk_localaws::moto::ensure_installed(&opts.root, &|what| {
            console.line(&format!("[devstack] {what}"));
        })
        .await?;
        std::fs::create_dir_all(&opts.state_dir).map_err(StackError::Listen)?;
        let moto =
            zerodesk_localaws::moto::start(&server, Some(&opts.state_dir.join("moto.log"))).await?;
        self.state.moto_endpoint = moto.endpoint.clone();
        self.state.ports.push(moto.port);
        let endpoint = moto.endpoint.clone();
        self.moto = Some(moto);
        let config = zerodesk_localaws::sdk_config(&endpoint).await;

        let mut parameters = zerodesk_localaws::template_parameters(&template, STAGE);
        parameters.insert("JwtIssuer".to_owned(), self.state.issuer.clone());
        parameters.insert("JwtAudience".to_owned(), opts.audience.clone());
        let provisioned = zerodesk_localaws::provision(&template, &config, &parameters).await?;
        console.line(&format!(
            "[devstack] provisioned {} tables, {} rules on {endpoint}",
            provisioned.tables.len(),
            provisioned.rule_queues.len()
        ));

        let mut invokers = HashMap::new();
        let mut admin_functions = Vec::new();
        let mut environments = Vec::new();
        let schedules = template.schedules()?;
        for def in &defs {
            // The template declares the endpoint (a condition) only so that
            // `sam local invoke` may set it; the stack sets its own below.
            let mut declared = def.environment.clone();
            declared.remove("AWS_ENDPOINT_URL");
            let mut env = zerodesk_localaws::resolve_environment(
                &def.logical_id,
                &declared,
                &provisioned.values,
            )?;
            for (k, v) in &directory_env {
                env.insert((*k).to_owned(), v.clone());
            }
            env.insert("AWS_ENDPOINT_URL".to_owned(), endpoint.clone());
            // Owner links open this stack's own verification page.
            env.insert(
                "VERIFY_PAGE_URL".to_owned(),
                format!("{}/verify", self.state.api_url),
            );
            env.insert("AWS_ACCESS_KEY_ID".to_owned(), DUMMY_ACCESS_KEY.to_owned());
            env.insert(
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                DUMMY_SECRET_KEY.to_owned(),
            );
            env.insert("AWS_SESSION_TOKEN".to_owned(), DUMMY_SECRET_KEY.to_owned());
            for (var, field) in [
                ("CLAIM_TENANT", &mut self.state.claim_tenant),
                ("CLAIM_ROLE", &mut self.state.claim_role),
                ("CLAIM_SUBJECT", &mut self.state.claim_subject),
                ("CLAIM_EMAIL", &mut self.state.claim_email),
            ] {
                if let Some(v) = env.get(var) {
                    *field = v.clone();
                }
            }
            let binary = def.binary.clone().unwrap_or_default();
            // The runtime adds the region when it spawns; a tool of its own needs it written.
            let mut written = env.clone();
            for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
                written.insert(var.to_owned(), REGION.to_owned());
            }
            environments.push(FunctionEnvironment {
                logical_id: def.logical_id.clone(),
                binary: binary.clone(),
                env: written,
            });
            let name = provisioned
                .values
                .reference_of(&def.logical_id)
                .unwrap_or_else(|| def.logical_id.clone());
            let function = Function::start(
                FunctionSpec {
                    name,
                    label: binary.clone(),
                    binary: bin_dir.join(&binary),
                    env,
                    memory_mb: def.memory_mb,
                    timeout: Duration::from_secs(u64::from(def.timeout_secs)),
                    pool_size: opts.pool_size,
                    region: REGION.to_owned(),
                    account_id: ACCOUNT_ID.to_owned(),
                    working_dir: opts.root.clone(),
                },
                console.clone(),
            );
            invokers.insert(def.logical_id.clone(), function.invoker());
            admin_functions.push(AdminFunction {
                logical_id: def.logical_id.clone(),
                binary,
                invoker: function.invoker(),
                schedule: schedules
                    .iter()
                    .find(|s| s.function == def.logical_id)
                    .cloned(),
            });
            self.functions.push(function);
        }

        if let Some(fakes) = &self.fakes {
            crate::seed::seed(&config, &provisioned, fakes, console).await?;
        }

        let openapi = std::fs::read(opts.root.join("docs/openapi.json")).ok();
        let gw = gateway::build(GatewaySetup {
            template: &template,
            resolver: &provisioned.values,
            issuer: self.state.issuer.clone(),
            jwks: self.key.jwks(),
            invokers: invokers.clone(),
            openapi,
            console: console.clone(),
            account_id: ACCOUNT_ID.to_owned(),
        })?;
        let mut stop = self.shutdown.subscribe();
        let gateway_console = console.clone();
        self.tasks.push(tokio::spawn(async move {
            if let Err(e) =
                gateway::serve(
                    api,
                    Arc::new(gw),
                    async move { crate::stopped(&mut stop).await },
                )
                .await
            {
                gateway_console.line(&format!("[api] stopped: {e}"));
            }
        }));

        let sqs = aws_sdk_sqs::Client::new(&config);
        for queue in provisioned.rule_queues.clone() {
            if let Some(invoker) = invokers.get(&queue.function) {
                self.tasks.push(tokio::spawn(crate::bridge::drain(
                    queue,
                    invoker.clone(),
                    sqs.clone(),
                    console.clone(),
                    self.shutdown.subscribe(),
                )));
            }
        }

        let mut scheduled = Vec::new();
        for def in schedules.into_iter().filter(|s| s.enabled) {
            if def.timezone.as_deref().is_some_and(|tz| tz != "UTC") {
                console.line(&format!(
                    "[schedule] {}.{}: timezone {:?} is evaluated as UTC locally",
                    def.function, def.event, def.timezone
                ));
            }
            let schedule = Schedule::parse(&def.expression)?;
            if let Some(invoker) = invokers.get(&def.function) {
                scheduled.push(Scheduled {
                    label: def.function.clone(),
                    schedule,
                    invoker: invoker.clone(),
                    def,
                });
            }
        }
        self.tasks.push(tokio::spawn(crate::schedule::run(
            scheduled,
            REGION.to_owned(),
            ACCOUNT_ID.to_owned(),
            console.clone(),
            self.shutdown.subscribe(),
        )));

        let admin = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(StackError::Listen)?;
        let admin_port = admin.local_addr().map_err(StackError::Listen)?.port();
        self.state.admin_url = format!("http://127.0.0.1:{admin_port}");
        self.state.ports.push(admin_port);
        let mut stop = self.shutdown.subscribe();
        let admin_router = crate::admin::router(admin_functions, self.state.moto_endpoint.clone());
        self.tasks.push(tokio::spawn(async move {
            let _ = axum::serve(admin, admin_router)
                .with_graceful_shutdown(async move { crate::stopped(&mut stop).await })
                .await;
        }));
        self.state.save(&opts.state_dir)?;
        invoke_env::write(&opts.state_dir, &environments)?;
        Ok(())
    }

    /// Stops serving, kills every child process and waits for each.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        for f in self.functions.drain(..) {
            f.stop().await;
        }
        if let Some(moto) = self.moto.take() {
            moto.stop().await;
        }
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        if let Some(fakes) = self.fakes.take() {
            let ports = [fakes.google.port(), fakes.graph.port(), fakes.okta.port()];
            // Dropping aborts the fakes' server tasks; their listeners close
            // once the runtime has run the abort, which this waits for.
            drop(fakes);
            wait_closed(&ports, Duration::from_secs(3)).await;
        }
        if StackState::load(&self.state_dir).is_ok_and(|s| s.pid == self.state.pid) {
            invoke_env::remove(&self.state_dir);
        }
        StackState::remove_if_mine(&self.state_dir);
    }

    /// Pids of every child process (moto, function processes), for checks.
    pub fn moto_pid(&self) -> Option<u32> {
        self.moto.as_ref().and_then(Moto::pid)
    }
}

/// Waits until nothing accepts connections on `ports` (or the time is up).
async fn wait_closed(ports: &[u16], limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        let mut open = false;
        for port in ports {
            open |= tokio::net::TcpStream::connect(("127.0.0.1", *port))
                .await
                .is_ok();
        }
        if !open {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
