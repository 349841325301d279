//! Publishing to the local emulator's bus: the harness routes every
//! `zerodesk` event to an SQS queue, whose messages are the EventBridge
//! event JSON with the detail under `detail`.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

mod common;

use std::time::{Duration, Instant};

use serde_json::Value;
use zerodesk_events::{DomainEvent, EventBridgePublisher, Publisher};
use zerodesk_testkit::{LocalAws, unique_tenant};

use common::{RATIONALE, triaged};

/// Receives until every wanted event id has been seen, deleting only the
/// messages it wanted (others stay visible for other tests).
async fn receive_events(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    wanted: &[String],
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut found: Vec<Value> = Vec::new();
    while found.len() < wanted.len() && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap_or("null")).unwrap();
            let id = body["detail"]["event_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if wanted.contains(&id) {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
                if !found.iter().any(|f| f["detail"]["event_id"] == id.as_str()) {
                    found.push(body);
                }
            }
        }
    }
    found
}

#[tokio::test]
async fn a_published_event_arrives_with_all_its_fields() {
    let aws = LocalAws::shared();
    let config = aws.sdk_config().await;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&config),
        &aws.names.event_bus_name,
    );
    let event = triaged(&unique_tenant("delivered"));
    publisher.publish_one(&event).await.unwrap();

    let sqs = aws_sdk_sqs::Client::new(&config);
    let found = receive_events(
        &sqs,
        &aws.names.events_queue_url,
        &[event.event_id.to_string()],
    )
    .await;
    assert_eq!(found.len(), 1, "the event did not arrive");
    let body = &found[0];
    assert_eq!(body["source"], "zerodesk");
    assert_eq!(body["detail-type"], "TicketTriaged");
    let detail = &body["detail"];
    assert_eq!(detail["tenant_id"], event.tenant_id.as_str());
    assert_eq!(detail["actor"]["subject"], "user-7");
    assert_eq!(detail["actor"]["role"], "tenant_user");
    assert_eq!(detail["correlation_id"], event.correlation_id.as_str());
    assert_eq!(detail["ticket_id"], event.ticket_id().unwrap().to_string());
    assert_eq!(detail["category"], "account_unlock");
    assert_eq!(detail["decision"], "auto_resolve");
    assert_eq!(detail["confidence"], 0.875);
    assert_eq!(detail["rationale"][0], RATIONALE);
    assert_eq!(detail["risk_flags"][0], "urgency");

    // What audit-write will do with it.
    let back =
        DomainEvent::from_detail_value(body["detail-type"].as_str().unwrap(), detail.clone())
            .unwrap();
    assert_eq!(back, event);
}

#[tokio::test]
async fn more_than_ten_events_all_arrive() {
    let aws = LocalAws::shared();
    let config = aws.sdk_config().await;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&config),
        &aws.names.event_bus_name,
    );
    let tenant = unique_tenant("batch");
    let events: Vec<DomainEvent> = (0..12).map(|_| triaged(&tenant)).collect();
    publisher.publish(&events).await.unwrap();

    let ids: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    let found = receive_events(
        &aws_sdk_sqs::Client::new(&config),
        &aws.names.events_queue_url,
        &ids,
    )
    .await;
    assert_eq!(found.len(), 12);
}
