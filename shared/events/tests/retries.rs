//! Batching and partial-failure retries, with the real SDK client over a
//! fake HTTP connector that records each PutEvents request body and answers
//! with scripted per-entry failures (the emulator never fails entries).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail loudly too

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use zerodesk_events::{DomainEvent, EventBridgePublisher, PublishError, Publisher};

use common::{RATIONALE, triaged};

/// Per call, the indices of entries to report as failed; calls beyond the
/// script succeed.
#[derive(Debug, Clone, Default)]
struct FakeEventBridge {
    requests: Arc<Mutex<Vec<Value>>>,
    script: Arc<Mutex<VecDeque<Vec<usize>>>>,
}

impl FakeEventBridge {
    fn failing(script: &[&[usize]]) -> Self {
        let fake = Self::default();
        fake.script
            .lock()
            .unwrap()
            .extend(script.iter().map(|s| s.to_vec()));
        fake
    }

    fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    fn publisher(&self) -> EventBridgePublisher {
        let connector = self.clone();
        let config = aws_sdk_eventbridge::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .http_client(http_client_fn(move |_, _| {
                SharedHttpConnector::new(connector.clone())
            }))
            .build();
        EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::from_conf(config),
            "zerodesk-test",
        )
        .with_retry(3, Duration::from_millis(1))
    }
}

impl HttpConnector for FakeEventBridge {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or_default())
            .unwrap_or(Value::Null);
        let n = body["Entries"].as_array().map_or(0, Vec::len);
        self.requests.lock().unwrap().push(body);
        let fail = self.script.lock().unwrap().pop_front().unwrap_or_default();
        let entries: Vec<Value> = (0..n)
            .map(|i| {
                if fail.contains(&i) {
                    json!({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
                } else {
                    json!({"EventId": format!("eb-{i}")})
                }
            })
            .collect();
        let failed = fail.iter().filter(|i| **i < n).count();
        let reply = json!({"FailedEntryCount": failed, "Entries": entries}).to_string();
        let mut response =
            HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from(reply));
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.1");
        HttpConnectorFuture::ready(Ok(response))
    }
}

fn sent_event_ids(request: &Value) -> Vec<String> {
    request["Entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let detail = e["Detail"].as_str().unwrap();
            let event =
                DomainEvent::from_eventbridge_detail(e["DetailType"].as_str().unwrap(), detail)
                    .unwrap();
            event.event_id.to_string()
        })
        .collect()
}

#[tokio::test]
async fn only_the_failed_entry_is_resent_and_then_publishing_succeeds() {
    let fake = FakeEventBridge::failing(&[&[1]]);
    let events: Vec<DomainEvent> = (0..3).map(|_| triaged("acme")).collect();
    fake.publisher().publish(&events).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let ids: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(sent_event_ids(&requests[0]), ids);
    assert_eq!(sent_event_ids(&requests[1]), vec![ids[1].clone()]);
    let resent = &requests[1]["Entries"][0];
    assert_eq!(resent["Source"], "zerodesk");
    assert_eq!(resent["DetailType"], "TicketTriaged");
    assert_eq!(resent["EventBusName"], "zerodesk-test");
}

#[tokio::test]
async fn entries_still_failing_after_the_last_attempt_are_reported_by_count_without_content() {
    let fake = FakeEventBridge::failing(&[&[0, 2], &[1], &[0]]);
    let events: Vec<DomainEvent> = (0..3).map(|_| triaged("acme")).collect();
    let err = fake.publisher().publish(&events).await.unwrap_err();

    assert!(
        matches!(&err, PublishError::PartialFailure { failed: 1, total: 3, attempts: 3, codes } if codes == &["InternalFailure"]),
        "{err:?}"
    );
    assert!(err.is_transient());
    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let ids: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(
        sent_event_ids(&requests[1]),
        vec![ids[0].clone(), ids[2].clone()]
    );
    assert_eq!(sent_event_ids(&requests[2]), vec![ids[2].clone()]);
    let shown = format!("{err} {err:?}");
    assert_eq!(
        err.to_string(),
        "1 of 3 events were not accepted after 3 attempts (error codes: InternalFailure)"
    );
    for e in &events {
        assert!(!shown.contains(&e.event_id.to_string()));
        assert!(!shown.contains(e.correlation_id.as_str()));
    }
    assert!(!shown.contains(RATIONALE));
}

#[tokio::test]
async fn events_are_sent_in_batches_of_at_most_ten() {
    let fake = FakeEventBridge::default();
    let events: Vec<DomainEvent> = (0..23).map(|_| triaged("acme")).collect();
    fake.publisher().publish(&events).await.unwrap();
    let sizes: Vec<usize> = fake
        .requests()
        .iter()
        .map(|r| r["Entries"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [10, 10, 3]);
    let sent: Vec<String> = fake.requests().iter().flat_map(sent_event_ids).collect();
    let ids: Vec<String> = events.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(sent, ids);
}

#[tokio::test]
async fn an_event_with_a_secret_named_field_is_refused_before_anything_is_sent() {
    use zerodesk_domain::{CorrelationId, SystemTask, TenantId, TenantScope};
    use zerodesk_events::{Actor, LifecycleChange, TenantLifecycle};
    let fake = FakeEventBridge::default();
    let scope = TenantScope::for_system_task(
        TenantId::parse("acme").unwrap(),
        SystemTask::TenantLifecycle,
    );
    let bad = DomainEvent::new(
        &scope,
        Actor::system(SystemTask::TenantLifecycle),
        CorrelationId::generate(),
        TenantLifecycle {
            change: LifecycleChange::Onboarded,
            details: [("okta_api_token".to_owned(), "00abc".to_owned())].into(),
        },
    );
    let err = fake
        .publisher()
        .publish(&[triaged("acme"), bad])
        .await
        .unwrap_err();
    assert!(matches!(err, PublishError::Encode(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("00abc"));
    assert!(fake.requests().is_empty());
}
