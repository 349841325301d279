//! The audit chain against the emulator: conditional appends, dedupe,
//! concurrency, and verification catching edits made directly in DynamoDB.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

mod common;

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use common::*;
use zerodesk_audit::{LinkFault, parse_jsonl, verify};
use zerodesk_ledger::trail::{export_stored, verify_stored};
use zerodesk_ledger::{AuditFilter, AuditPageRequest, ChainWrite};

fn key(tenant: &zerodesk_domain::TenantId, seq: u64) -> [(String, AttributeValue); 2] {
    [
        (
            "pk".to_owned(),
            AttributeValue::S(format!("TENANT#{tenant}")),
        ),
        ("sk".to_owned(), AttributeValue::S(format!("SEQ#{seq:020}"))),
    ]
}

async fn get_item(
    db: &aws_sdk_dynamodb::Client,
    tenant: &zerodesk_domain::TenantId,
    seq: u64,
) -> std::collections::HashMap<String, AttributeValue> {
    db.get_item()
        .table_name(&aws().names.tables.audit)
        .set_key(Some(key(tenant, seq).into_iter().collect()))
        .send()
        .await
        .unwrap()
        .item()
        .cloned()
        .unwrap()
}

async fn put_raw(
    db: &aws_sdk_dynamodb::Client,
    item: std::collections::HashMap<String, AttributeValue>,
) {
    db.put_item()
        .table_name(&aws().names.tables.audit)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

/// Records of the edit test: 17 edits at seqs 2..=34, a swap and a deletion after.
const RECORDS: i64 = 40;

#[tokio::test]
async fn appended_events_verify_and_every_direct_edit_is_reported_at_its_seq() {
    let tenant = tenant_id("chain");
    let writer = writer().await;
    let start = Utc::now() - Duration::hours(2);
    // Enough records for every edit, the swap and the deletion to sit at
    // their own seq; the thousand-record properties are the audit crate's.
    for i in 0..RECORDS {
        let e = event(&tenant, start + Duration::milliseconds(i));
        let w = writer.write(&e).await.unwrap();
        assert!(matches!(w[0], ChainWrite::Appended { seq, .. } if seq == i as u64 + 1));
    }
    let repo = repo().await;
    let chain = chain(&tenant);
    let clean = verify_stored(&repo, &chain, 730, Utc::now()).await.unwrap();
    assert!(clean.report.ok, "{clean:?}");
    assert_eq!(clean.report.records_checked, RECORDS as usize);
    assert_eq!(clean.report.head.as_ref().unwrap().seq, RECORDS as u64);

    let db = dynamodb().await;
    // One field at a time, each on its own record; restored after each check.
    let edits: Vec<(&str, AttributeValue)> = vec![
        ("prev_hash", AttributeValue::S("1".repeat(64))),
        (
            "event_id",
            AttributeValue::S("01ARZ3NDEKTSV4RRFFQ69G5FAV".into()),
        ),
        ("time", AttributeValue::S("2020-01-01T00:00:00Z".into())),
        ("actor_subject", AttributeValue::S("someone-else".into())),
        ("actor_role", AttributeValue::S("tenant_admin".into())),
        ("action", AttributeValue::S("TicketCreated".into())),
        (
            "ticket_id",
            AttributeValue::S("01ARZ3NDEKTSV4RRFFQ69G5FAV".into()),
        ),
        ("old_state", AttributeValue::S("created".into())),
        ("new_state", AttributeValue::S("resolved".into())),
        ("outcome", AttributeValue::S("succeeded".into())),
        (
            "rationale",
            AttributeValue::L(vec![AttributeValue::S("x".into())]),
        ),
        ("reason", AttributeValue::S("because".into())),
        ("correlation_id", AttributeValue::S("forged".into())),
        (
            "details",
            AttributeValue::M([("k".to_owned(), AttributeValue::S("v".into()))].into()),
        ),
        ("hash", AttributeValue::S("0".repeat(64))),
        ("seq", AttributeValue::N("999999".into())),
        ("ticket_id", AttributeValue::S("not-a-ticket".into())),
    ];
    for (i, (field, value)) in edits.into_iter().enumerate() {
        let seq = 2 + 2 * i as u64;
        let original = get_item(&db, &tenant, seq).await;
        let mut edited = original.clone();
        edited.insert(field.to_owned(), value);
        put_raw(&db, edited).await;
        let v = verify_stored(&repo, &chain, 730, Utc::now()).await.unwrap();
        let broken = v
            .report
            .first_broken_link
            .clone()
            .unwrap_or_else(|| panic!("{field}: not detected"));
        assert_eq!(broken.kind, LinkFault::HashMismatch, "{field}");
        assert_eq!(v.first_broken_stored_at, Some(seq), "{field}");
        if field != "seq" {
            assert_eq!(broken.seq, seq, "{field}");
        }
        assert!(!v.report.ok, "{field}");
        put_raw(&db, original).await;
    }
    assert!(
        verify_stored(&repo, &chain, 730, Utc::now())
            .await
            .unwrap()
            .report
            .ok
    );

    // Reordering two records: each stored under the other's sort key.
    let (a, b) = (20, 21);
    let item_a = get_item(&db, &tenant, a).await;
    let item_b = get_item(&db, &tenant, b).await;
    let mut moved_a = item_a.clone();
    moved_a.extend(key(&tenant, b));
    let mut moved_b = item_b.clone();
    moved_b.extend(key(&tenant, a));
    put_raw(&db, moved_a).await;
    put_raw(&db, moved_b).await;
    let v = verify_stored(&repo, &chain, 730, Utc::now()).await.unwrap();
    let broken = v.report.first_broken_link.clone().unwrap();
    assert_eq!(v.first_broken_stored_at, Some(a));
    assert_eq!((broken.seq, broken.kind), (b, LinkFault::PrevHashMismatch));
    put_raw(&db, item_a).await;
    put_raw(&db, item_b).await;

    // Deleting one record: the next one no longer links, and the gap shows.
    db.delete_item()
        .table_name(&aws().names.tables.audit)
        .set_key(Some(key(&tenant, 30).into_iter().collect()))
        .send()
        .await
        .unwrap();
    let v = verify_stored(&repo, &chain, 730, Utc::now()).await.unwrap();
    let broken = v.report.first_broken_link.clone().unwrap();
    assert_eq!((broken.seq, broken.kind), (31, LinkFault::PrevHashMismatch));
    assert_eq!(v.report.gaps.len(), 1);
    assert_eq!(
        (v.report.gaps[0].missing_from, v.report.gaps[0].missing_to),
        (30, 30)
    );
}

#[tokio::test]
async fn an_export_verifies_offline_and_fails_after_a_one_byte_edit() {
    let tenant = tenant_id("export");
    let writer = writer().await;
    let start = Utc::now() - Duration::minutes(5);
    for i in 0..40 {
        writer
            .write(&event(&tenant, start + Duration::seconds(i)))
            .await
            .unwrap();
    }
    let repo = repo().await;
    let export = export_stored(&repo, &chain(&tenant), &AuditFilter::default())
        .await
        .unwrap();
    let records = parse_jsonl(&export[..]).unwrap();
    assert_eq!(records.len(), 40);
    assert!(verify(&records).ok);

    // Flip one byte inside a value on line 20.
    let line_start = export
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(18)
        .map(|(i, _)| i + 1)
        .unwrap();
    let needle = b"\"action\":\"TicketStateChanged\"";
    let offset = export[line_start..]
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut edited = export.clone();
    edited[line_start + offset + 10] = b'X';
    let parsed = parse_jsonl(&edited[..]).unwrap();
    let report = verify(&parsed);
    assert!(!report.ok);
    assert_eq!(report.first_broken_link.unwrap().seq, 20);

    // A whitespace edit does not even parse.
    let mut spaced = export.clone();
    spaced.insert(line_start + 1, b' ');
    assert_eq!(parse_jsonl(&spaced[..]).unwrap_err().line(), 20);
}

#[tokio::test]
async fn fifty_events_delivered_concurrently_some_twice_give_a_gap_free_chain_with_each_once() {
    let tenant = tenant_id("conc");
    let now = Utc::now();
    let events: Vec<_> = (0..50)
        .map(|i| event(&tenant, now + Duration::milliseconds(i)))
        .collect();
    let mut deliveries: Vec<_> = events.clone();
    deliveries.extend(events.iter().step_by(3).cloned());
    // Four warm containers, each with its own client and head cache.
    let mut writers = Vec::new();
    for _ in 0..4 {
        writers.push(std::sync::Arc::new(writer_on(dynamodb().await).await));
    }
    let tasks: Vec<_> = deliveries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let w = writers[i % writers.len()].clone();
            tokio::spawn(async move { w.write(&e).await })
        })
        .collect();
    for t in futures::future::join_all(tasks).await {
        t.unwrap().unwrap();
    }
    let repo = repo().await;
    let v = verify_stored(&repo, &chain(&tenant), 730, Utc::now())
        .await
        .unwrap();
    assert!(v.report.ok, "{v:?}");
    assert_eq!(v.report.records_checked, 50);
    assert!(v.report.gaps.is_empty());
    let all = repo
        .read_all(&chain(&tenant), &AuditFilter::default())
        .await
        .unwrap();
    let ids: HashSet<String> = all
        .iter()
        .map(|s| s.record.as_ref().unwrap().event_id.clone())
        .collect();
    let expected: HashSet<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_redelivered_event_is_reported_as_a_duplicate_of_its_first_seq() {
    let tenant = tenant_id("dup");
    let writer = writer().await;
    let e = event(&tenant, Utc::now());
    writer.write(&event(&tenant, Utc::now())).await.unwrap();
    let first = writer.write(&e).await.unwrap();
    let again = writer.write(&e).await.unwrap();
    assert!(matches!(first[0], ChainWrite::Appended { seq: 2, .. }));
    assert!(matches!(again[0], ChainWrite::Duplicate { seq: 2, .. }));
}

#[tokio::test]
async fn records_hold_pseudonyms_and_pages_filter_by_ticket_and_time() {
    let tenant = tenant_id("page");
    let writer = writer().await;
    let start = Utc::now() - Duration::hours(1);
    let mut sample = None;
    for i in 0..30 {
        let e = event(&tenant, start + Duration::minutes(i));
        if i == 12 {
            sample = Some(e.clone());
        }
        writer.write(&e).await.unwrap();
    }
    let repo = repo().await;
    let all = repo
        .page(
            &chain(&tenant),
            &AuditFilter::default(),
            &AuditPageRequest {
                limit: Some(7),
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.records.len(), 7);
    assert!(
        all.records
            .iter()
            .all(|r| r.actor.subject.starts_with("pseud_"))
    );
    let next = repo
        .page(
            &chain(&tenant),
            &AuditFilter::default(),
            &AuditPageRequest {
                limit: Some(7),
                cursor: all.next_cursor.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(next.records[0].seq, 8);

    let sample = sample.unwrap();
    let by_ticket = repo
        .page(
            &chain(&tenant),
            &AuditFilter {
                ticket_id: sample.ticket_id(),
                ..Default::default()
            },
            &AuditPageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(by_ticket.records.len(), 1);
    assert_eq!(by_ticket.records[0].event_id, sample.event_id.to_string());

    let window = repo
        .page(
            &chain(&tenant),
            &AuditFilter {
                from: Some(start + Duration::minutes(10)),
                to: Some(start + Duration::minutes(14)),
                ..Default::default()
            },
            &AuditPageRequest {
                limit: Some(2),
                cursor: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(window.records.len(), 2);
    assert_eq!(window.records[0].seq, 11);
}
