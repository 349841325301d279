//! Helpers of the purge's emulator tests.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::{Intercept, RuntimeComponents};
use chrono::{DateTime, Utc};
use zerodesk_domain::{CorrelationId, TenantId, TicketId, TicketState};
use zerodesk_events::{Actor, DomainEvent, EventId, EventPayload, TicketStateChanged};
use zerodesk_ledger::AuditWriter;
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

pub type Writer = AuditWriter<aws_sdk_dynamodb::Client>;

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

/// The purge's tests write only to tables of their own, and a moto
/// transaction restores only the tables it touches: they need no
/// serialising proxy (the audit table's own tests do, on shared tables).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws().sdk_config().await
}

pub async fn writer_on(db: aws_sdk_dynamodb::Client) -> Writer {
    let names = &aws().names;
    AuditWriter::new(db.clone(), &names.tables.audit, &names.tables.tenants, db)
}

/// Four fresh tables made from the template's definitions, so a purge that
/// runs with a moved clock touches nothing of any other test.
pub async fn fresh_tables(prefix: &str) -> zerodesk_aws::TableNames {
    use zerodesk_template::Template;
    let stage = unique_tenant(prefix);
    let template = Template::load(&Template::repository_template_path()).unwrap();
    let db = dynamodb().await;
    let mut names = std::collections::BTreeMap::new();
    for def in template.tables().unwrap() {
        let name = def.physical_name(&stage);
        zerodesk_testkit::create_table(&db, &def, &name)
            .await
            .unwrap();
        names.insert(def.logical_id.clone(), name);
    }
    zerodesk_aws::TableNames {
        tenants: names["TenantsTable"].clone(),
        tickets: names["TicketsTable"].clone(),
        audit: names["AuditTable"].clone(),
        idempotency: names["IdempotencyTable"].clone(),
    }
}

/// Every (pk, sk) of a table, by Scan: tests may look at the whole table.
pub async fn all_keys(table: &str) -> std::collections::BTreeSet<(String, String)> {
    let db = dynamodb().await;
    let mut out = std::collections::BTreeSet::new();
    let mut start = None;
    loop {
        let page = db
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let get = |k: &str| item.get(k).unwrap().as_s().unwrap().clone();
            out.insert((get("pk"), get("sk")));
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}
