//! The retention purge (and the admin's lifecycle and erasure around it)
//! against the emulator, each test on tables of its own
//! so a moved clock touches nothing else: exactly what expired goes, the
//! cost follows the expired items, an interrupted run finishes next time, and
//! offboarding is reversible until day 30 and total after it.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use zerodesk_admin::{Admin, AdminPorts, ConnectionInput, ErasureInput, NewTenant, RequestedBy};
use zerodesk_aws::TableNames;
use zerodesk_aws::TenantClientsCache;
use zerodesk_crypto::SecretBytes;
use zerodesk_crypto::{ConnectionSecrets, SecretsError, TenantVault};
use zerodesk_domain::{
    AccountRef, Category, Classification, CorrelationId, Decision, Principal, PrincipalScope, Role,
    SystemTask, TenantId, TenantScope, Ticket, TicketId, TicketState,
};
use zerodesk_events::InMemoryPublisher;
use zerodesk_ledger::audit::ChainScope;
use zerodesk_ledger::trail::verify_stored;
use zerodesk_ledger::{AuditFilter, AuditRepo, AuditWriter, DynamoAudit};
use zerodesk_retention::Purger;
use zerodesk_store::{DynamoTenants, DynamoTickets, TenantGate, TenantRepo, TicketRepo};

/// A vault for runs with no offboarded tenant: never asked for anything.
struct NoSecrets;

impl ConnectionSecrets for NoSecrets {
    async fn store(
        &self,
        _: &TenantScope,
        _: &zerodesk_domain::ConnectionId,
        _: SecretBytes,
    ) -> Result<(), SecretsError> {
        panic!("not expected")
    }
    async fn load(
        &self,
        _: &TenantScope,
    ) -> Result<(zerodesk_domain::ConnectionId, SecretBytes), SecretsError> {
        panic!("not expected")
    }
    async fn destroy(&self, _: &TenantScope) -> Result<(), SecretsError> {
        panic!("not expected")
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 10, 12, 0, 0).unwrap()
}

fn item(pk: &str, sk: &str, expires: Option<DateTime<Utc>>) -> WriteRequest {
    let mut item = std::collections::HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ]);
    if let Some(at) = expires {
        item.insert(
            "expires_at".into(),
            AttributeValue::N(at.timestamp().to_string()),
        );
        item.insert(
            "expiry_day".into(),
            AttributeValue::S(at.format("%Y-%m-%d").to_string()),
        );
    }
    WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
        .build()
}

async fn put_all(table: &str, items: Vec<WriteRequest>) {
    let db = dynamodb().await;
    for chunk in items.chunks(25) {
        let out = db
            .batch_write_item()
            .request_items(table, chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    }
}

fn keys(items: &[(String, String)]) -> BTreeSet<(String, String)> {
    items.iter().cloned().collect()
}

#[tokio::test]
async fn the_purge_deletes_exactly_what_expired_in_every_table_and_tenant() {
    let tables = fresh_tables("exact").await;
    let now = now();
    let expired = [
        ("TENANT#aaa", "A1", now - Duration::days(3)),
        ("TENANT#aaa", "A2", now - Duration::hours(1)),
        ("TENANT#bbb", "B1", now - Duration::days(10)),
        ("TENANT#bbb", "B2", now - Duration::seconds(1)),
    ];
    let kept = [
        ("TENANT#aaa", "A3", Some(now + Duration::hours(1))),
        ("TENANT#aaa", "A4", Some(now + Duration::days(400))),
        ("TENANT#aaa", "A5", None),
        ("TENANT#bbb", "B3", Some(now + Duration::days(1))),
        ("TENANT#bbb", "B4", None),
    ];
    for table in [
        &tables.tickets,
        &tables.idempotency,
        &tables.audit,
        &tables.tenants,
    ] {
        let mut items: Vec<WriteRequest> = expired
            .iter()
            .map(|(pk, sk, at)| item(pk, sk, Some(*at)))
            .collect();
        items.extend(kept.iter().map(|(pk, sk, at)| item(pk, sk, *at)));
        put_all(table, items).await;
    }
    let db = dynamodb().await;
    let purger = Purger::new(
        db.clone(),
        tables.clone(),
        db,
        NoSecrets,
        InMemoryPublisher::new(),
    );
    let report = purger.run(now, &|| false).await.unwrap();
    assert!(report.complete);
    let expected: Vec<(String, String)> = kept
        .iter()
        .map(|(pk, sk, _)| (pk.to_string(), sk.to_string()))
        .collect();
    for table in [&tables.tickets, &tables.idempotency, &tables.audit] {
        assert_eq!(all_keys(table).await, keys(&expected), "{table}");
        assert_eq!(report.expired_deleted[table.as_str()], 4, "{table}");
    }
    // The tenants table also holds the purge's own cursors, nothing else new.
    let tenants: BTreeSet<_> = all_keys(&tables.tenants)
        .await
        .into_iter()
        .filter(|(pk, _)| pk != "PLATFORM")
        .collect();
    assert_eq!(tenants, keys(&expected));
    // A second run finds nothing more.
    let again = purger.run(now, &|| false).await.unwrap();
    assert_eq!(again.expired_deleted.values().sum::<u64>(), 0);
}

async fn requests_for(expired: usize, filler: usize) -> usize {
    let tables = fresh_tables("cost").await;
    let now = now();
    let mut items: Vec<WriteRequest> = (0..expired)
        .map(|i| {
            item(
                "TENANT#aaa",
                &format!("E{i:05}"),
                Some(now - Duration::days(1)),
            )
        })
        .collect();
    items.extend((0..filler).map(|i| {
        let at = (i % 2 == 0).then(|| now + Duration::days(1 + (i % 300) as i64));
        item("TENANT#bbb", &format!("F{i:05}"), at)
    }));
    put_all(&tables.tickets, items).await;
    let (db, counter) = counting_dynamodb().await;
    let purger = Purger::new(
        db.clone(),
        tables.clone(),
        db,
        NoSecrets,
        InMemoryPublisher::new(),
    );
    let report = purger.run(now, &|| false).await.unwrap();
    assert_eq!(
        report.expired_deleted[tables.tickets.as_str()],
        expired as u64
    );
    assert_eq!(all_keys(&tables.tickets).await.len(), filler);
    counter.get()
}

#[tokio::test]
async fn the_purge_costs_requests_per_expired_item_not_per_stored_item() {
    let small = requests_for(20, 0).await;
    let big_table = requests_for(20, 600).await;
    let more_expired = requests_for(120, 0).await;
    assert_eq!(big_table, small, "600 unexpired items cost nothing");
    // 100 more expired items: one more query page and four more batches.
    assert!(more_expired > small);
    assert!(more_expired - small <= 6, "{small} -> {more_expired}");
}

#[tokio::test]
async fn an_interrupted_purge_finishes_on_the_next_run_with_the_same_end_state() {
    let tables = fresh_tables("resume").await;
    let now = now();
    let mut tickets: Vec<WriteRequest> = (0..150)
        .map(|i| {
            item(
                "TENANT#aaa",
                &format!("E{i:05}"),
                Some(now - Duration::days(i % 5)),
            )
        })
        .collect();
    tickets.extend((0..30).map(|i| {
        item(
            "TENANT#aaa",
            &format!("K{i:05}"),
            Some(now + Duration::days(i + 1)),
        )
    }));
    put_all(&tables.tickets, tickets).await;
    let idem: Vec<WriteRequest> = (0..40)
        .map(|i| {
            item(
                "TENANT#bbb",
                &format!("I{i:05}"),
                Some(now - Duration::hours(i)),
            )
        })
        .collect();
    put_all(&tables.idempotency, idem).await;

    let (db, counter) = counting_dynamodb().await;
    let purger = Purger::new(
        db.clone(),
        tables.clone(),
        db,
        NoSecrets,
        InMemoryPublisher::new(),
    );
    let stop_after = 36;
    let first = purger
        .run(now, &|| counter.get() >= stop_after)
        .await
        .unwrap();
    assert!(!first.complete);
    let left_after_first = all_keys(&tables.tickets).await.len();
    assert!(
        left_after_first > 30 && left_after_first < 180,
        "{left_after_first}"
    );
    assert_eq!(
        all_keys(&tables.idempotency).await.len(),
        40,
        "not reached yet"
    );

    let second = purger.run(now, &|| false).await.unwrap();
    assert!(second.complete);
    let expected: BTreeSet<(String, String)> = (0..30)
        .map(|i| ("TENANT#aaa".to_owned(), format!("K{i:05}")))
        .collect();
    assert_eq!(all_keys(&tables.tickets).await, expected);
    assert!(all_keys(&tables.idempotency).await.is_empty());
    let total: u64 = [&first, &second]
        .iter()
        .map(|r| r.expired_deleted[tables.tickets.as_str()])
        .sum();
    assert_eq!(total, 150, "each expired item deleted once");
}

// ---- offboarding -------------------------------------------------------

type BoxClock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

type Clients = Arc<TenantClientsCache>;

/// The deployed stores on the emulator, with a recording publisher and a
/// clock the tests move across retention boundaries.
struct PurgeTestPorts;

impl AdminPorts for PurgeTestPorts {
    type Tenants = DynamoTenants<Clients>;
    type Tickets = DynamoTickets<Clients>;
    type Audit = DynamoAudit<Clients>;
    type Vault = TenantVault;
    type Directories = zerodesk_directory::MemoryDirectory;
    type Counters = zerodesk_store::MemoryRateLimits;
    type Publisher = InMemoryPublisher;
    type Clock = BoxClock;
}

struct Stack {
    db: aws_sdk_dynamodb::Client,
    tables: TableNames,
    admin: Admin<PurgeTestPorts>,
    clients: Arc<TenantClientsCache>,
    writer: Writer,
    publisher: InMemoryPublisher,
    vault: TenantVault,
    offset_days: Arc<AtomicI64>,
    secrets: aws_sdk_secretsmanager::Client,
    base: DateTime<Utc>,
}

impl Stack {
    fn now(&self) -> DateTime<Utc> {
        self.base + Duration::days(self.offset_days.load(Ordering::SeqCst))
    }

    /// Feeds every published event to audit-write's writer, as EventBridge would.
    async fn deliver(&self) {
        for e in self.publisher.events() {
            self.writer.write(&e).await.unwrap();
        }
    }

    /// The purge as deployed: tenant items through tenant-scoped clients.
    fn purger(&self) -> Purger<TenantVault, InMemoryPublisher, Arc<TenantClientsCache>> {
        Purger::new(
            self.db.clone(),
            self.tables.clone(),
            Arc::clone(&self.clients),
            self.vault.clone(),
            self.publisher.clone(),
        )
    }

    fn audit(&self) -> AuditRepo {
        AuditRepo::new(self.db.clone(), &self.tables.audit)
    }

    fn tenants(&self) -> TenantRepo {
        TenantRepo::new(self.db.clone(), &self.tables.tenants)
    }

    fn tickets(&self) -> TicketRepo {
        TicketRepo::new(self.db.clone(), &self.tables.tickets)
    }
}

async fn stack(prefix: &str) -> Stack {
    let tables = fresh_tables(prefix).await;
    let config = sdk_config().await;
    let db = aws_sdk_dynamodb::Client::new(&config);
    let clients = Arc::new(TenantClientsCache::assuming(
        &config,
        &aws().names.tenant_access_role_arn,
        "purge-test",
    ));
    let stage = tables
        .tenants
        .trim_end_matches("-tenants")
        .trim_start_matches("zerodesk-")
        .to_owned();
    let vault = TenantVault::new(Arc::clone(&clients), &aws().names.kms_key_id, &stage);
    let publisher = InMemoryPublisher::new();
    let offset_days = Arc::new(AtomicI64::new(0));
    let base = Utc::now();
    let clock_offset = offset_days.clone();
    let clock: BoxClock =
        Box::new(move || base + Duration::days(clock_offset.load(Ordering::SeqCst)));
    Stack {
        admin: {
            let mut admin = Admin {
                tenants: DynamoTenants::new(Arc::clone(&clients), &tables.tenants),
                tickets: DynamoTickets::new(Arc::clone(&clients), &tables.tickets),
                audit: DynamoAudit::new(Arc::clone(&clients), &tables.audit),
                vault: vault.clone(),
                directories: zerodesk_directory::MemoryDirectory::new(),
                counters: zerodesk_store::MemoryRateLimits::new(),
                publisher: publisher.clone(),
                clock,
                gate: zerodesk_store::TenantGate::default(),
            };
            admin.gate = TenantGate::new(std::time::Duration::ZERO);
            admin
        },
        clients,
        writer: AuditWriter::new(db.clone(), &tables.audit, &tables.tenants, db.clone()),
        db,
        tables,
        publisher,
        vault,
        offset_days,
        secrets: aws_sdk_secretsmanager::Client::new(&config),
        base,
    }
}

fn principal(role: Role, tenant: Option<&TenantId>) -> Principal {
    Principal {
        subject: format!("{}-1", role.as_str()),
        email: None,
        role,
        scope: match tenant {
            Some(t) => PrincipalScope::Tenant(t.clone()),
            None => PrincipalScope::Platform,
        },
    }
}

fn ticket(tenant: &TenantId, requester: &str, now: DateTime<Utc>) -> Ticket {
    Ticket {
        id: TicketId::generate(),
        tenant_id: tenant.clone(),
        requester: AccountRef::parse(requester).unwrap(),
        filed_by: requester.to_owned(),
        subject: "Locked out".into(),
        body: "I am locked out, this is Alice from accounts".into(),
        state: TicketState::Triaged,
        classification: Classification {
            category: Category::AccountUnlock,
            confidence: 0.9,
            rationale: vec!["mentions 'locked out'".into()],
            risk_flags: vec![],
            target: None,
            decision: Decision::AutoResolve,
        },
        reason: None,
        approved_by: None,
        created_at: now,
        updated_at: now,
    }
}

/// A tenant with tickets, a connection (secret), audit records, a salt.
async fn populated_tenant(s: &Stack, prefix: &str) -> TenantId {
    let tenant = tenant_id(prefix);
    let corr = CorrelationId::generate();
    let platform = principal(Role::PlatformAdmin, None);
    s.admin
        .create_tenant(
            RequestedBy {
                principal: &platform,
                correlation_id: &corr,
            },
            NewTenant {
                tenant_id: tenant.to_string(),
                name: "Acme".into(),
                policy: None,
            },
        )
        .await
        .unwrap();
    let admin = Principal {
        email: Some(zerodesk_domain::AccountRef::parse("root@acme.example").unwrap()),
        ..principal(Role::TenantAdmin, Some(&tenant))
    };
    s.admin
        .put_connection(
            RequestedBy {
                principal: &admin,
                correlation_id: &corr,
            },
            ConnectionInput {
                provider: "okta".into(),
                directory: "acme.okta.example".into(),
                credentials: serde_json::json!({
                    "provider": "okta_api_token",
                    "org_url": "https://acme.okta.example",
                    "api_token": "okta-api-key-SECRET",
                }),
            },
        )
        .await
        .unwrap();
    let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::EventDrivenAction);
    for who in [
        "alice@acme.example",
        "bob@acme.example",
        "alice@acme.example",
    ] {
        s.tickets()
            .create(&scope, &ticket(&tenant, who, s.now()))
            .await
            .unwrap();
    }
    for i in 0..5 {
        s.writer
            .write(&event(&tenant, s.now() + Duration::milliseconds(i)))
            .await
            .unwrap();
    }
    tenant
}

async fn items_of(s: &Stack, tenant: &TenantId) -> BTreeMap<String, usize> {
    let pk = format!("TENANT#{tenant}");
    let mut out = BTreeMap::new();
    for table in [
        &s.tables.tickets,
        &s.tables.idempotency,
        &s.tables.audit,
        &s.tables.tenants,
    ] {
        let n = all_keys(table)
            .await
            .iter()
            .filter(|(p, _)| *p == pk)
            .count();
        out.insert(table.clone(), n);
    }
    out
}

async fn secret_exists(s: &Stack, tenant: &TenantId) -> bool {
    let stage = s
        .tables
        .tenants
        .trim_end_matches("-tenants")
        .trim_start_matches("zerodesk-");
    s.secrets
        .describe_secret()
        .secret_id(format!("zerodesk/{stage}/tenants/{tenant}/directory"))
        .send()
        .await
        .is_ok()
}

#[tokio::test]
async fn offboarding_then_restoring_on_day_29_keeps_the_data() {
    let s = stack("restore").await;
    let tenant = populated_tenant(&s, "keep").await;
    let before = items_of(&s, &tenant).await;
    let corr = CorrelationId::generate();
    let platform = principal(Role::PlatformAdmin, None);
    let caller = RequestedBy {
        principal: &platform,
        correlation_id: &corr,
    };
    s.admin
        .offboard_tenant(caller, tenant.as_str())
        .await
        .unwrap();
    assert!(
        !secret_exists(&s, &tenant).await,
        "day 0 destroys the secret"
    );

    s.offset_days.store(29, Ordering::SeqCst);
    let report = s.purger().run(s.now(), &|| false).await.unwrap();
    assert!(report.complete && report.tenants_purged.is_empty());
    let view = s
        .admin
        .restore_tenant(caller, tenant.as_str())
        .await
        .unwrap();
    assert_eq!(view.status, "active");

    let after = items_of(&s, &tenant).await;
    assert_eq!(after[&s.tables.tickets], before[&s.tables.tickets]);
    assert_eq!(after[&s.tables.tickets], 3);
    s.deliver().await;
    let v = verify_stored(
        &s.audit(),
        &ChainScope::Tenant(tenant.clone()),
        730,
        s.now(),
    )
    .await
    .unwrap();
    assert!(v.report.ok, "{v:?}");
    let auditor = principal(Role::TenantAuditor, Some(&tenant));
    let page = s
        .admin
        .audit_page(
            RequestedBy {
                principal: &auditor,
                correlation_id: &corr,
            },
            None,
            &Default::default(),
        )
        .await
        .unwrap();
    assert!(page.records.len() >= 5);
}

#[tokio::test]
async fn offboarding_then_day_31_leaves_nothing_of_the_tenant_and_a_receipt() {
    let s = stack("purge").await;
    let gone = populated_tenant(&s, "gone").await;
    let other = populated_tenant(&s, "other").await;
    let head = s
        .audit()
        .head(&ChainScope::Tenant(gone.clone()))
        .await
        .unwrap()
        .unwrap();
    let corr = CorrelationId::generate();
    let platform = principal(Role::PlatformAdmin, None);
    s.admin
        .offboard_tenant(
            RequestedBy {
                principal: &platform,
                correlation_id: &corr,
            },
            gone.as_str(),
        )
        .await
        .unwrap();
    s.deliver().await;
    let other_before = items_of(&s, &other).await;
    let gone_head = s
        .audit()
        .head(&ChainScope::Tenant(gone.clone()))
        .await
        .unwrap()
        .unwrap();
    assert!(
        gone_head.seq > head.seq,
        "offboarding is in the tenant's trail too"
    );

    s.offset_days.store(31, Ordering::SeqCst);
    let report = s.purger().run(s.now(), &|| false).await.unwrap();
    assert!(report.complete);
    assert_eq!(report.tenants_purged, vec![gone.clone()]);

    let left = items_of(&s, &gone).await;
    for table in [&s.tables.tickets, &s.tables.idempotency, &s.tables.audit] {
        assert_eq!(left[table], 0, "{table}");
    }
    // Only the tombstone: status purged, no name, no policy of theirs.
    let tenants_left: Vec<_> = all_keys(&s.tables.tenants)
        .await
        .into_iter()
        .filter(|(pk, _)| *pk == format!("TENANT#{gone}"))
        .collect();
    assert_eq!(
        tenants_left,
        vec![(format!("TENANT#{gone}"), "TENANT".to_owned())]
    );
    let scope = TenantScope::for_system_task(gone.clone(), SystemTask::RetentionPurge);
    let tombstone = s.tenants().get(&scope).await.unwrap().unwrap();
    assert_eq!(tombstone.status.as_str(), "purged");
    assert!(tombstone.name.is_empty());
    assert!(!secret_exists(&s, &gone).await);
    assert!(secret_exists(&s, &other).await);

    // The other tenant lost nothing but what expired (idempotency: none made).
    let other_after = items_of(&s, &other).await;
    assert_eq!(
        other_after[&s.tables.tickets],
        other_before[&s.tables.tickets]
    );
    assert_eq!(other_after[&s.tables.audit], other_before[&s.tables.audit]);

    // The receipt: in the platform trail, with counts and the last link.
    let receipts = s.publisher.of_type("TenantLifecycle");
    let receipt = receipts
        .iter()
        .find(|e| e.tenant_id == gone && format!("{:?}", e.payload).contains("Purged"))
        .unwrap();
    s.writer.write(receipt).await.unwrap();
    let platform_trail = s
        .audit()
        .read_all(&ChainScope::Platform, &AuditFilter::default())
        .await
        .unwrap();
    let record = platform_trail
        .iter()
        .filter_map(|r| r.record.as_ref())
        .find(|r| r.outcome.as_deref() == Some("purged"))
        .unwrap();
    assert_eq!(record.details["tenant_id"], gone.as_str());
    assert_eq!(record.details["last_chain_hash"], gone_head.hash);
    assert_eq!(record.details["last_chain_seq"], gone_head.seq.to_string());
    assert_eq!(record.details["tickets_items_deleted"], "3");
    assert!(!format!("{record:?}").contains("alice"));

    // Late events for the purged tenant are not written; the purge is idempotent.
    let late = s.writer.write(&event(&gone, s.now())).await.unwrap();
    assert!(matches!(
        late[0],
        zerodesk_ledger::ChainWrite::SkippedPurgedTenant { .. }
    ));
    let again = s.purger().run(s.now(), &|| false).await.unwrap();
    assert!(again.complete && again.tenants_purged.is_empty());
    assert_eq!(items_of(&s, &gone).await[&s.tables.audit], 0);
}

#[tokio::test]
async fn erasure_redacts_the_persons_tickets_and_the_trail_keeps_only_a_pseudonym() {
    let s = stack("erase").await;
    let tenant = populated_tenant(&s, "erase").await;
    let corr = CorrelationId::generate();
    let admin = principal(Role::TenantAdmin, Some(&tenant));
    let report = s
        .admin
        .erase(
            RequestedBy {
                principal: &admin,
                correlation_id: &corr,
            },
            ErasureInput {
                account: "Alice@Acme.example".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.tickets_redacted, 2);
    // No audit-write salt yet in this tenant? It has one: events were written.
    assert!(report.pseudonym.as_deref().unwrap().starts_with("pseud_"));
    let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::EventDrivenAction);
    let tickets = s
        .tickets()
        .list(&scope, &Default::default())
        .await
        .unwrap()
        .items;
    let dump = format!("{tickets:?}");
    assert!(!dump.contains("alice"), "{dump}");
    assert!(dump.contains("bob@acme.example"), "others are untouched");
    assert_eq!(
        tickets.iter().filter(|t| t.subject == "[erased]").count(),
        2
    );
    // Erasing again changes nothing more.
    let again = s
        .admin
        .erase(
            RequestedBy {
                principal: &admin,
                correlation_id: &corr,
            },
            ErasureInput {
                account: "alice@acme.example".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(again.tickets_redacted, 0);
    // The trail never held the account, only the pseudonym.
    let trail = s
        .audit()
        .read_all(&ChainScope::Tenant(tenant.clone()), &AuditFilter::default())
        .await
        .unwrap();
    let dump = format!("{trail:?}");
    assert!(
        !dump.contains("@acme.example") && !dump.contains("@demo.example"),
        "{dump}"
    );
    // A tenant auditor may not erase.
    let auditor = principal(Role::TenantAuditor, Some(&tenant));
    let refused = s
        .admin
        .erase(
            RequestedBy {
                principal: &auditor,
                correlation_id: &corr,
            },
            ErasureInput {
                account: "bob@acme.example".into(),
            },
        )
        .await;
    assert!(matches!(
        refused,
        Err(zerodesk_admin::AdminError::Forbidden)
    ));
}

#[tokio::test]
async fn a_tenant_purge_cut_into_many_short_runs_ends_as_one_run_would_with_one_receipt() {
    let s = stack("cut").await;
    let gone = populated_tenant(&s, "cut").await;
    let corr = CorrelationId::generate();
    let platform = principal(Role::PlatformAdmin, None);
    s.admin
        .offboard_tenant(
            RequestedBy {
                principal: &platform,
                correlation_id: &corr,
            },
            gone.as_str(),
        )
        .await
        .unwrap();
    s.deliver().await;
    let head = s
        .audit()
        .head(&ChainScope::Tenant(gone.clone()))
        .await
        .unwrap()
        .unwrap();
    s.offset_days.store(31, Ordering::SeqCst);
    let receipts_before = s.publisher.of_type("TenantLifecycle").len();

    // Each run may make only six requests' worth of checks.
    let purger = s.purger();
    let mut runs = 0;
    let mut incomplete = 0;
    loop {
        runs += 1;
        assert!(runs < 60, "the purge must make progress on every run");
        let checks = std::sync::atomic::AtomicUsize::new(0);
        let report = purger
            .run(s.now(), &|| checks.fetch_add(1, Ordering::SeqCst) >= 6)
            .await
            .unwrap();
        if report.complete {
            break;
        }
        incomplete += 1;
    }
    assert!(
        incomplete >= 2,
        "the purge was really cut ({incomplete} short runs)"
    );

    let left = items_of(&s, &gone).await;
    for table in [&s.tables.tickets, &s.tables.idempotency, &s.tables.audit] {
        assert_eq!(left[table], 0, "{table}");
    }
    assert_eq!(left[&s.tables.tenants], 1, "only the tombstone");
    assert!(!secret_exists(&s, &gone).await);
    let receipts: Vec<_> = s.publisher.of_type("TenantLifecycle")[receipts_before..]
        .iter()
        .filter(|e| e.tenant_id == gone)
        .cloned()
        .collect();
    assert_eq!(receipts.len(), 1, "one receipt, however many runs");
    let detail = receipts[0].to_detail().unwrap();
    assert_eq!(detail["details"]["tickets_items_deleted"], "3");
    assert_eq!(detail["details"]["last_chain_hash"], head.hash.as_str());
}
