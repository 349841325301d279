//! The in-memory adapters keep the DynamoDB adapters' contract: every
//! scenario here runs once against the DynamoDB adapter on the emulator and
//! once against the in-memory one, with the same assertions. Use-case tests
//! that trust the in-memory adapters rest on this file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chrono::{Duration, Utc};
use zerodesk_domain::{
    AccountRef, Category, Classification, ConnectionId, Decision, SystemTask, Tenant, TenantId,
    TenantPolicy, TenantScope, TenantStatus, Ticket, TicketId, TicketState,
};
use zerodesk_store::{
    Claim, ConnectionMetadata, DynamoIdempotency, DynamoRateLimits, DynamoTenants, DynamoTickets,
    IdempotencyError, IdempotencyKey, IdempotencyRecords, MemoryIdempotency, MemoryRateLimits,
    MemoryTenants, MemoryTickets, PageRequest, RateBucket, RateCounters, RateLimitError,
    StoreError, TenantStore, TicketStore,
};
use zerodesk_testkit::{LocalAws, unique_tenant};

async fn dynamodb() -> (aws_sdk_dynamodb::Client, &'static LocalAws) {
    let aws = LocalAws::shared();
    (aws_sdk_dynamodb::Client::new(&aws.sdk_config().await), aws)
}

fn scope(prefix: &str) -> TenantScope {
    TenantScope::for_system_task(
        TenantId::parse(&unique_tenant(prefix)).unwrap(),
        SystemTask::EventDrivenAction,
    )
}

fn ticket(scope: &TenantScope, requester: &str) -> Ticket {
    let now = Utc::now();
    Ticket {
        id: TicketId::generate(),
        tenant_id: scope.tenant().clone(),
        requester: AccountRef::parse(requester).unwrap(),
        filed_by: "sub-1".into(),
        subject: "locked out".into(),
        body: "I am locked out".into(),
        state: TicketState::Triaged,
        classification: Classification {
            category: Category::AccountUnlock,
            confidence: 0.9,
            rationale: vec!["'locked out'".into()],
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

async fn every_page(
    store: &impl TicketStore,
    scope: &TenantScope,
    requester: Option<&AccountRef>,
    limit: i32,
) -> Vec<Ticket> {
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..50 {
        let request = PageRequest {
            limit: Some(limit),
            cursor: cursor.clone(),
        };
        let page = match requester {
            Some(r) => store.list_for_requester(scope, r, &request).await,
            None => store.list(scope, &request).await,
        }
        .unwrap();
        seen.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return seen,
        }
    }
    panic!("pagination does not terminate");
}

async fn tickets_contract(store: impl TicketStore) {
    let a = scope("contract");
    let other = scope("contract-other");
    let first = ticket(&a, "alice@demo.example");
    store.create(&a, &first).await.unwrap();
    assert!(matches!(
        store.create(&a, &first).await,
        Err(StoreError::AlreadyExists)
    ));
    // A ticket is written only through its own tenant's scope.
    assert!(matches!(
        store
            .create(&other, &ticket(&a, "alice@demo.example"))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(store.get(&other, &first.id).await.unwrap().is_none());

    let mut moved = first.clone();
    moved.state = TicketState::InProgress;
    assert!(matches!(
        store
            .replace(&a, &moved, TicketState::AwaitingApproval, 30)
            .await,
        Err(StoreError::Conflict)
    ));
    store
        .replace(&a, &moved, TicketState::Triaged, 30)
        .await
        .unwrap();
    assert_eq!(
        store.get(&a, &first.id).await.unwrap().unwrap().state,
        TicketState::InProgress
    );

    let mut written = HashSet::from([first.id]);
    for i in 0..11 {
        let requester = if i % 2 == 0 {
            "bob@demo.example"
        } else {
            "alice@demo.example"
        };
        let t = ticket(&a, requester);
        written.insert(t.id);
        store.create(&a, &t).await.unwrap();
    }
    store
        .create(&other, &ticket(&other, "alice@demo.example"))
        .await
        .unwrap();
    let all = every_page(&store, &a, None, 5).await;
    let ids: Vec<TicketId> = all.iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), 12, "every ticket exactly once");
    assert_eq!(ids.iter().copied().collect::<HashSet<_>>(), written);
    let mut newest_first = ids.clone();
    newest_first.sort_by(|x, y| y.cmp(x));
    assert_eq!(ids, newest_first, "newest first");

    let alice = AccountRef::parse("alice@demo.example").unwrap();
    let mine = every_page(&store, &a, Some(&alice), 4).await;
    assert_eq!(mine.len(), 6);
    assert!(mine.iter().all(|t| t.requester == alice));

    let forged = PageRequest {
        limit: Some(5),
        cursor: Some("not-a-cursor".into()),
    };
    assert!(matches!(
        store.list(&a, &forged).await,
        Err(StoreError::BadCursor)
    ));

    store.delete(&a, &first.id).await.unwrap();
    store.delete(&a, &first.id).await.unwrap();
    assert!(store.get(&a, &first.id).await.unwrap().is_none());
}

async fn tenants_contract(store: impl TenantStore) {
    let a = scope("contract-tenant");
    let tenant = Tenant {
        id: a.tenant().clone(),
        name: "Contract".into(),
        status: TenantStatus::Active,
        policy: TenantPolicy::default(),
        created_at: Utc::now(),
    };
    assert!(store.get(&a).await.unwrap().is_none());
    store.create(&a, &tenant).await.unwrap();
    assert!(matches!(
        store.create(&a, &tenant).await,
        Err(StoreError::AlreadyExists)
    ));
    let offboarding = Tenant {
        status: TenantStatus::Offboarding { since: Utc::now() },
        ..tenant.clone()
    };
    assert!(matches!(
        store.replace(&a, &offboarding, "offboarding").await,
        Err(StoreError::Conflict)
    ));
    store.replace(&a, &offboarding, "active").await.unwrap();
    assert_eq!(
        store.get(&a).await.unwrap().unwrap().status.as_str(),
        "offboarding"
    );

    assert!(store.get_connection(&a).await.unwrap().is_none());
    let meta = ConnectionMetadata {
        connection_id: ConnectionId::parse("conn-1").unwrap(),
        provider: "google".into(),
        directory: "demo.example".into(),
        connected_at: Utc::now(),
        connected_by: "admin-1".into(),
    };
    store.put_connection(&a, &meta).await.unwrap();
    assert_eq!(store.get_connection(&a).await.unwrap(), Some(meta));
    store.delete_connection(&a).await.unwrap();
    store.delete_connection(&a).await.unwrap();
    assert!(store.get_connection(&a).await.unwrap().is_none());
}

async fn idempotency_contract(records: impl IdempotencyRecords) {
    let a = scope("contract-idem");
    let key = IdempotencyKey::new("reset", "ticket-1");
    let now = Utc::now();
    assert_eq!(
        records.begin(&a, &key, b"one", now).await.unwrap(),
        Claim::Acquired
    );
    assert!(matches!(
        records.begin(&a, &key, b"one", now).await,
        Err(IdempotencyError::InProgress)
    ));
    assert!(matches!(
        records.begin(&a, &key, b"two", now).await,
        Err(IdempotencyError::PayloadMismatch)
    ));
    // Another tenant's key of the same name is its own.
    let b = scope("contract-idem-b");
    assert_eq!(
        records.begin(&b, &key, b"two", now).await.unwrap(),
        Claim::Acquired
    );
    assert!(records.complete(&a, &key, b"two", "{}").await.is_err());
    records
        .complete(&a, &key, b"one", "{\"done\":1}")
        .await
        .unwrap();
    assert_eq!(
        records.begin(&a, &key, b"one", now).await.unwrap(),
        Claim::Completed("{\"done\":1}".into())
    );
    assert!(matches!(
        records.begin(&a, &key, b"two", now).await,
        Err(IdempotencyError::PayloadMismatch)
    ));

    let released = IdempotencyKey::new("unlock", "ticket-2");
    records.begin(&a, &released, b"x", now).await.unwrap();
    records.release(&a, &released, b"x").await.unwrap();
    assert_eq!(
        records.begin(&a, &released, b"x", now).await.unwrap(),
        Claim::Acquired
    );
    // A claim nobody completed is free again once its in-progress time is up.
    let abandoned = IdempotencyKey::new("unlock", "ticket-3");
    records.begin(&a, &abandoned, b"y", now).await.unwrap();
    assert_eq!(
        records
            .begin(&a, &abandoned, b"y", now + Duration::minutes(5))
            .await
            .unwrap(),
        Claim::Acquired
    );
}

async fn rate_counters_contract(counters: impl RateCounters) {
    let a = scope("contract-rate");
    let bucket = RateBucket::Account(AccountRef::parse("bob@demo.example").unwrap());
    let now = Utc::now();
    counters.consume(&a, &bucket, 2, now).await.unwrap();
    counters.consume(&a, &bucket, 2, now).await.unwrap();
    match counters.consume(&a, &bucket, 2, now).await {
        Err(RateLimitError::Limited {
            retry_after_seconds,
        }) => assert!((1..=3600).contains(&retry_after_seconds)),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Other buckets, tenants and the next window count on their own.
    counters
        .consume(&a, &RateBucket::Tenant, 2, now)
        .await
        .unwrap();
    counters
        .consume(&scope("contract-rate-b"), &bucket, 2, now)
        .await
        .unwrap();
    counters
        .consume(&a, &bucket, 2, now + Duration::hours(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn ticket_stores_agree_on_conditions_isolation_and_pages() {
    let (db, aws) = dynamodb().await;
    tickets_contract(DynamoTickets::new(db, &aws.names.tables.tickets)).await;
    tickets_contract(MemoryTickets::new()).await;
}

#[tokio::test]
async fn tenant_stores_agree_on_lifecycle_conditions_and_connections() {
    let (db, aws) = dynamodb().await;
    tenants_contract(DynamoTenants::new(db, &aws.names.tables.tenants)).await;
    tenants_contract(MemoryTenants::new()).await;
}

#[tokio::test]
async fn idempotency_records_agree_on_claims_payloads_and_release() {
    let (db, aws) = dynamodb().await;
    idempotency_contract(DynamoIdempotency::new(db, &aws.names.tables.idempotency)).await;
    idempotency_contract(MemoryIdempotency::new()).await;
}

#[tokio::test]
async fn rate_counters_agree_on_windows_and_refusals() {
    let (db, aws) = dynamodb().await;
    rate_counters_contract(DynamoRateLimits::new(db, &aws.names.tables.tenants)).await;
    rate_counters_contract(MemoryRateLimits::new()).await;
}
