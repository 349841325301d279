//! EventBridge delivery: each rule of the template targets an SQS queue in
//! the emulator; this drains every queue into its function, as Lambda's
//! asynchronous invocation would (three attempts, then the event is dropped
//! with a console line). The body moto delivers is the EventBridge event.

use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use tokio::sync::watch;

use crate::console::Console;
use crate::runtime::Invoker;
use zerodesk_localaws::RuleQueue;

/// Lambda's asynchronous invocation: the first attempt and two retries.
const MAX_ATTEMPTS: u32 = 3;

/// Drains one rule's queue into its function until shutdown.
pub async fn drain(
    queue: RuleQueue,
    invoker: Invoker,
    sqs: aws_sdk_sqs::Client,
    console: Console,
    mut shutdown: watch::Receiver<bool>,
) {
    let route = format!("{} -> {}", queue.rule_name, queue.function);
    let mut failing = false;
    loop {
        let receive = sqs
            .receive_message()
            .queue_url(&queue.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send();
        let received = tokio::select! {
            r = receive => r,
            _ = crate::stopped(&mut shutdown) => return,
        };
        let messages = match received {
            Ok(out) => {
                failing = false;
                out.messages.unwrap_or_default()
            }
            Err(e) => {
                if !failing {
                    console.line(&format!(
                        "[events] {route}: cannot read the queue: {}",
                        zerodesk_localaws::error_chain(&e)
                    ));
                }
                failing = true;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = crate::stopped(&mut shutdown) => return,
                }
            }
        };
        for m in messages {
            let (Some(body), Some(receipt)) = (m.body(), m.receipt_handle()) else {
                continue;
            };
            let attempt: u32 = m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let detail_type = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["detail-type"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "event".to_owned());
            let outcome = tokio::select! {
                r = invoker.invoke(body.as_bytes().to_vec()) => r,
                _ = crate::stopped(&mut shutdown) => return,
            };
            let delete = match outcome {
                Ok(_) => {
                    console.line(&format!("[events] {detail_type} delivered: {route}"));
                    true
                }
                Err(e) if attempt >= MAX_ATTEMPTS => {
                    console.line(&format!(
                        "[events] {detail_type} dropped after {attempt} attempts: {route}: {e}"
                    ));
                    true
                }
                Err(e) => {
                    console.line(&format!(
                        "[events] {detail_type} attempt {attempt} failed, will retry: {route}: {e}"
                    ));
                    let _ = sqs
                        .change_message_visibility()
                        .queue_url(&queue.queue_url)
                        .receipt_handle(receipt)
                        .visibility_timeout(2_i32.pow(attempt))
                        .send()
                        .await;
                    false
                }
            };
            if delete {
                let _ = sqs
                    .delete_message()
                    .queue_url(&queue.queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await;
            }
        }
    }
}
