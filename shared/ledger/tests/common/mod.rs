//! Shared helpers of the ledger's emulator tests.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use aws_sdk_dynamodb::config::{Intercept, RuntimeComponents};
use chrono::{DateTime, Utc};
use zerodesk_audit::ChainScope;
use zerodesk_domain::{CorrelationId, TenantId, TicketId, TicketState};
use zerodesk_events::{Actor, DomainEvent, EventId, EventPayload, TicketStateChanged};
use zerodesk_ledger::{AuditRepo, AuditWriter};
use zerodesk_testkit::{LocalAws, unique_tenant};

pub fn aws() -> &'static LocalAws {
    LocalAws::shared()
}

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// Counts every DynamoDB request a client sends.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(pub Arc<AtomicUsize>);

impl RequestCounter {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

pub async fn counting_dynamodb() -> (aws_sdk_dynamodb::Client, RequestCounter) {
    let counter = RequestCounter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config().await)
        .interceptor(counter.clone())
        .build();
    (aws_sdk_dynamodb::Client::from_conf(config), counter)
}

pub fn tenant_id(prefix: &str) -> TenantId {
    TenantId::parse(&unique_tenant(prefix)).unwrap()
}

pub fn chain(tenant: &TenantId) -> ChainScope {
    ChainScope::Tenant(tenant.clone())
}

pub type Writer = AuditWriter<aws_sdk_dynamodb::Client>;

pub async fn writer() -> Writer {
    writer_on(dynamodb().await).await
}

pub async fn repo() -> AuditRepo {
    AuditRepo::new(dynamodb().await, &aws().names.tables.audit)
}

/// A state-change event of `tenant`, at `time`.
pub fn event(tenant: &TenantId, time: DateTime<Utc>) -> DomainEvent {
    DomainEvent {
        event_id: EventId::generate(),
        tenant_id: tenant.clone(),
        actor: Actor {
            subject: "manager@demo.example".into(),
            role: "tenant_manager".into(),
        },
        correlation_id: CorrelationId::generate(),
        time,
        payload: EventPayload::TicketStateChanged(TicketStateChanged {
            ticket_id: TicketId::generate(),
            old_state: TicketState::Triaged,
            new_state: TicketState::InProgress,
            reason: Some("approved".into()),
        }),
    }
}

/// The endpoint every DynamoDB client of these tests uses: a proxy in front
/// of the emulator that forwards one request at a time. Real DynamoDB is
/// linearizable per item; moto is not: its TransactWriteItems deep-copies
/// each table it touches and, when the transaction is cancelled, restores
/// the whole table from that copy, erasing whatever other requests wrote
/// meanwhile (in any partition). Serializing requests gives the emulator
/// DynamoDB's semantics while the clients stay fully concurrent. One proxy
/// per test binary, on its own runtime, like the emulator itself.
pub fn linearizable_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        let upstream = aws().endpoint.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                let http = reqwest::Client::new();
                let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
                    let (lock, http, upstream) = (lock.clone(), http.clone(), upstream.clone());
                    async move { forward(req, &lock, &http, &upstream).await }
                });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(format!("http://{}", listener.local_addr().unwrap()))
                    .unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        rx.recv().unwrap()
    })
}

async fn forward(
    req: axum::extract::Request,
    lock: &tokio::sync::Mutex<()>,
    http: &reqwest::Client,
    upstream: &str,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = http.request(parts.method.clone(), format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let (status, headers, bytes) = {
        let _one_at_a_time = lock.lock().await;
        let response = request.body(body).send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap())
    };
    let mut out = axum::response::Response::builder().status(status);
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            out = out.header(name, value);
        }
    }
    out.body(axum::body::Body::from(bytes)).unwrap()
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    zerodesk_testkit::sdk_config_for(linearizable_endpoint()).await
}

pub async fn writer_on(db: aws_sdk_dynamodb::Client) -> Writer {
    let names = &aws().names;
    AuditWriter::new(db.clone(), &names.tables.audit, &names.tables.tenants, db)
}
