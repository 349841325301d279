//! Repositories against the local AWS emulator: conditional writes, tenant
//! isolation through `TenantScope`, pagination, idempotency and rate limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chrono::{Duration, Utc};
use zerodesk_domain::{
    AccountRef, Category, Classification, Decision, SystemTask, TenantId, TenantScope, Ticket,
    TicketId, TicketState,
};
use zerodesk_store::{
    Claim, IdempotencyConfig, IdempotencyError, IdempotencyKey, IdempotencyStore, PageRequest,
    RateBucket, RateLimitError, RateLimiter, StoreError, TicketRepo,
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

#[tokio::test]
async fn creating_the_same_ticket_twice_fails_the_second_time() {
    let (db, aws) = dynamodb().await;
    let repo = TicketRepo::new(db, &aws.names.tables.tickets);
    let a = scope("dup");
    let t = ticket(&a, "alice@demo.example");
    repo.create(&a, &t).await.unwrap();
    assert!(matches!(
        repo.create(&a, &t).await,
        Err(StoreError::AlreadyExists)
    ));
    assert_eq!(repo.get(&a, &t.id).await.unwrap().unwrap(), t);
}

#[tokio::test]
async fn another_tenants_scope_cannot_read_list_update_or_delete_a_ticket() {
    let (db, aws) = dynamodb().await;
    let repo = TicketRepo::new(db, &aws.names.tables.tickets);
    let a = scope("iso-a");
    let b = scope("iso-b");
    let t = ticket(&a, "alice@demo.example");
    repo.create(&a, &t).await.unwrap();

    assert_eq!(repo.get(&b, &t.id).await.unwrap(), None, "read");
    assert!(
        repo.list(&b, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "list"
    );
    let requester = AccountRef::parse("alice@demo.example").unwrap();
    assert!(
        repo.list_for_requester(&b, &requester, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "list by requester"
    );
    // Update through B: the ticket names tenant A, so B's scope refuses it,
    // and a copy re-labelled as B's finds no item to replace.
    assert!(
        repo.replace(&b, &t, TicketState::Triaged, 30)
            .await
            .is_err(),
        "update as A's ticket"
    );
    let mut relabelled = t.clone();
    relabelled.tenant_id = b.tenant().clone();
    relabelled.state = TicketState::InProgress;
    assert!(matches!(
        repo.replace(&b, &relabelled, TicketState::Triaged, 30)
            .await,
        Err(StoreError::Conflict)
    ));
    repo.delete(&b, &t.id).await.unwrap();
    let still_there = repo.get(&a, &t.id).await.unwrap().unwrap();
    assert_eq!(
        still_there, t,
        "A's ticket is untouched after B's update and delete"
    );
}

#[tokio::test]
async fn pagination_returns_every_ticket_exactly_once() {
    let (db, aws) = dynamodb().await;
    let repo = TicketRepo::new(db, &aws.names.tables.tickets);
    let a = scope("page");
    let other = scope("page-other");
    let mut written = HashSet::new();
    for i in 0..23 {
        let requester = if i % 2 == 0 {
            "alice@demo.example"
        } else {
            "bob@demo.example"
        };
        let t = ticket(&a, requester);
        written.insert(t.id);
        repo.create(&a, &t).await.unwrap();
    }
    repo.create(&other, &ticket(&other, "alice@demo.example"))
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = repo
            .list(
                &a,
                &PageRequest {
                    limit: Some(5),
                    cursor: cursor.clone(),
                },
            )
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|t| t.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 20, "pagination does not terminate");
    }
    assert_eq!(seen.len(), 23, "no duplicates");
    assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), written);
    let mut sorted = seen.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(seen, sorted, "newest first");

    let alice = AccountRef::parse("alice@demo.example").unwrap();
    let mut mine = Vec::new();
    let mut cursor = None;
    loop {
        let page = repo
            .list_for_requester(
                &a,
                &alice,
                &PageRequest {
                    limit: Some(4),
                    cursor: cursor.clone(),
                },
            )
            .await
            .unwrap();
        mine.extend(page.items.iter().map(|t| t.requester.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(mine.len(), 12);
    assert!(mine.iter().all(|r| *r == alice));
}

#[tokio::test]
async fn a_forged_cursor_is_refused() {
    let (db, aws) = dynamodb().await;
    let repo = TicketRepo::new(db, &aws.names.tables.tickets);
    let a = scope("cursor");
    let r = repo
        .list(
            &a,
            &PageRequest {
                limit: Some(5),
                cursor: Some("not base64 json!".into()),
            },
        )
        .await;
    assert!(matches!(r, Err(StoreError::BadCursor)));
}

#[tokio::test]
async fn replace_requires_the_expected_state() {
    let (db, aws) = dynamodb().await;
    let repo = TicketRepo::new(db, &aws.names.tables.tickets);
    let a = scope("state");
    let mut t = ticket(&a, "alice@demo.example");
    repo.create(&a, &t).await.unwrap();
    t.state = TicketState::InProgress;
    repo.replace(&a, &t, TicketState::Triaged, 30)
        .await
        .unwrap();
    t.state = TicketState::Escalated;
    assert!(matches!(
        repo.replace(&a, &t, TicketState::Triaged, 30).await,
        Err(StoreError::Conflict)
    ));
    repo.replace(&a, &t, TicketState::InProgress, 30)
        .await
        .unwrap();
    assert_eq!(
        repo.get(&a, &t.id).await.unwrap().unwrap().state,
        TicketState::Escalated
    );
}

#[tokio::test]
async fn concurrent_first_calls_with_one_key_run_the_work_once() {
    let (db, aws) = dynamodb().await;
    let store = IdempotencyStore::new(
        db,
        &aws.names.tables.idempotency,
        IdempotencyConfig::default(),
    );
    let a = scope("idem");
    let key = IdempotencyKey::new("reset", TicketId::generate().to_string());
    let now = Utc::now();
    let attempts = (0..10).map(|_| store.begin(&a, &key, b"payload", now));
    let results = futures::future::join_all(attempts).await;
    let acquired = results
        .iter()
        .filter(|r| matches!(r, Ok(Claim::Acquired)))
        .count();
    let in_progress = results
        .iter()
        .filter(|r| matches!(r, Err(IdempotencyError::InProgress)))
        .count();
    assert_eq!((acquired, in_progress), (1, 9));

    store
        .complete(&a, &key, b"payload", r#"{"state":"resolved"}"#)
        .await
        .unwrap();
    match store.begin(&a, &key, b"payload", now).await.unwrap() {
        Claim::Completed(response) => assert_eq!(response, r#"{"state":"resolved"}"#),
        Claim::Acquired => panic!("a completed key was claimed again"),
    }
}

#[tokio::test]
async fn a_retry_with_another_payload_is_refused_in_progress_and_completed() {
    let (db, aws) = dynamodb().await;
    let store = IdempotencyStore::new(
        db,
        &aws.names.tables.idempotency,
        IdempotencyConfig::default(),
    );
    let a = scope("idem-payload");
    let key = IdempotencyKey::new("reset", "t1");
    let now = Utc::now();
    assert_eq!(
        store.begin(&a, &key, b"one", now).await.unwrap(),
        Claim::Acquired
    );
    assert!(matches!(
        store.begin(&a, &key, b"two", now).await,
        Err(IdempotencyError::PayloadMismatch)
    ));
    store.complete(&a, &key, b"one", "{}").await.unwrap();
    assert!(matches!(
        store.begin(&a, &key, b"two", now).await,
        Err(IdempotencyError::PayloadMismatch)
    ));
}

#[tokio::test]
async fn an_abandoned_claim_expires_and_a_released_one_is_free() {
    let (db, aws) = dynamodb().await;
    let config = IdempotencyConfig {
        in_progress_ttl: Duration::seconds(5),
        ..Default::default()
    };
    let store = IdempotencyStore::new(db, &aws.names.tables.idempotency, config);
    let a = scope("idem-expiry");
    let key = IdempotencyKey::new("unlock", "t2");
    let now = Utc::now();
    assert_eq!(
        store.begin(&a, &key, b"p", now).await.unwrap(),
        Claim::Acquired
    );
    assert!(matches!(
        store
            .begin(&a, &key, b"p", now + Duration::seconds(1))
            .await,
        Err(IdempotencyError::InProgress)
    ));
    assert_eq!(
        store
            .begin(&a, &key, b"p", now + Duration::seconds(10))
            .await
            .unwrap(),
        Claim::Acquired
    );
    store.release(&a, &key, b"p").await.unwrap();
    assert_eq!(
        store.begin(&a, &key, b"p", now).await.unwrap(),
        Claim::Acquired
    );
    // The same key in another tenant is a different record.
    let b = scope("idem-expiry-b");
    assert_eq!(
        store.begin(&b, &key, b"other", now).await.unwrap(),
        Claim::Acquired
    );
}

#[tokio::test]
async fn the_rate_limit_refuses_past_the_limit_with_retry_after() {
    let (db, aws) = dynamodb().await;
    let limiter = RateLimiter::new(db, &aws.names.tables.tenants);
    let a = scope("rate");
    let bucket = RateBucket::Account(AccountRef::parse("alice@demo.example").unwrap());
    let now = Utc::now();
    limiter.consume(&a, &bucket, 2, now).await.unwrap();
    limiter.consume(&a, &bucket, 2, now).await.unwrap();
    match limiter.consume(&a, &bucket, 2, now).await {
        Err(RateLimitError::Limited {
            retry_after_seconds,
        }) => assert!((1..=3600).contains(&retry_after_seconds)),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Other buckets and other tenants are counted apart.
    limiter
        .consume(&a, &RateBucket::Tenant, 2, now)
        .await
        .unwrap();
    limiter
        .consume(&scope("rate-b"), &bucket, 2, now)
        .await
        .unwrap();
    // The next window starts afresh.
    limiter
        .consume(&a, &bucket, 2, now + Duration::hours(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_filing_past_its_limit_writes_neither_the_ticket_nor_a_count() {
    let (db, aws) = dynamodb().await;
    let repo = TicketRepo::new(db, &aws.names.tables.tickets);
    let a = scope("filing-limit");
    let now = Utc::now();
    let limits = [
        (
            RateBucket::Caller {
                routes: "filing",
                subject: "alice-sub".into(),
            },
            2,
        ),
        (RateBucket::TenantWrites { routes: "filing" }, 3),
    ];
    for _ in 0..2 {
        let t = ticket(&a, "alice@demo.example");
        repo.create_counted(&a, &t, &limits, now).await.unwrap();
    }
    let refused = ticket(&a, "alice@demo.example");
    match repo.create_counted(&a, &refused, &limits, now).await {
        Err(RateLimitError::Limited {
            retry_after_seconds,
        }) => assert!((1..=60).contains(&retry_after_seconds)),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        repo.get(&a, &refused.id).await.unwrap().is_none(),
        "nothing partial is stored"
    );
    // The refused filing moved no counter: the tenant still has one left,
    // which another caller gets; then the tenant's limit refuses too.
    let bob = [
        (
            RateBucket::Caller {
                routes: "filing",
                subject: "bob-sub".into(),
            },
            2,
        ),
        (RateBucket::TenantWrites { routes: "filing" }, 3),
    ];
    repo.create_counted(&a, &ticket(&a, "bob@demo.example"), &bob, now)
        .await
        .unwrap();
    assert!(matches!(
        repo.create_counted(&a, &ticket(&a, "bob@demo.example"), &bob, now)
            .await,
        Err(RateLimitError::Limited { .. })
    ));
    // An id already taken is told apart from a limit, and counts nothing.
    let again = ticket(&a, "carol@demo.example");
    let fresh = [(
        RateBucket::Caller {
            routes: "filing",
            subject: "carol-sub".into(),
        },
        5,
    )];
    repo.create_counted(&a, &again, &fresh, now).await.unwrap();
    assert!(matches!(
        repo.create_counted(&a, &again, &fresh, now).await,
        Err(RateLimitError::Store(StoreError::AlreadyExists))
    ));
    // The next minute starts afresh.
    repo.create_counted(
        &a,
        &ticket(&a, "alice@demo.example"),
        &limits,
        now + Duration::minutes(1),
    )
    .await
    .unwrap();
}
