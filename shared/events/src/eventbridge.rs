//! `EventBridgePublisher`: PutEvents in batches of at most ten entries (and
//! 256 KiB), resending only the entries EventBridge reports as failed, a
//! bounded number of times with a short backoff. It never logs or returns
//! event content.

use std::time::Duration;

use aws_sdk_eventbridge::error::SdkError;
use aws_sdk_eventbridge::operation::put_events::PutEventsError;
use aws_sdk_eventbridge::primitives::DateTime as SmithyDateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::event::{DomainEvent, EVENT_SOURCE};
use crate::publisher::{PublishError, Publisher};

/// EventBridge's limit on entries per PutEvents call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// EventBridge's limit on the size of one PutEvents call (and one entry).
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// What EventBridge counts for an entry's `Time`.
const TIME_BYTES: usize = 14;

const DEFAULT_MAX_ATTEMPTS: u32 = 3;
const DEFAULT_BACKOFF: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
    max_attempts: u32,
    backoff: Duration,
}

struct Prepared {
    entry: PutEventsRequestEntry,
    size: usize,
}

impl EventBridgePublisher {
    /// `bus_name` is `EVENT_BUS_NAME`.
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        Self {
            client,
            bus_name: bus_name.into(),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff: DEFAULT_BACKOFF,
        }
    }

    /// Attempts per batch (at least one) and the first backoff, doubled after each failed attempt.
    pub fn with_retry(mut self, max_attempts: u32, backoff: Duration) -> Self {
        self.max_attempts = max_attempts.max(1);
        self.backoff = backoff;
        self
    }

    fn prepare(&self, event: &DomainEvent) -> Result<Prepared, PublishError> {
        let detail = event.to_detail_json()?;
        let detail_type = event.detail_type();
        let size = EVENT_SOURCE.len() + detail_type.len() + detail.len() + TIME_BYTES;
        if size > MAX_BATCH_BYTES {
            return Err(PublishError::TooLarge {
                event_id: event.event_id.to_string(),
            });
        }
        let entry = PutEventsRequestEntry::builder()
            .source(EVENT_SOURCE)
            .detail_type(detail_type)
            .detail(detail)
            .event_bus_name(&self.bus_name)
            .time(SmithyDateTime::from_millis(event.time.timestamp_millis()))
            .build();
        Ok(Prepared { entry, size })
    }

    /// Sends one batch; returns the entries still failed after the last attempt and their codes.
    async fn send_batch(
        &self,
        batch: Vec<PutEventsRequestEntry>,
    ) -> Result<(usize, Vec<String>), SdkError<PutEventsError>> {
        let mut pending = batch;
        let mut codes: Vec<String> = Vec::new();
        for attempt in 1..=self.max_attempts {
            let output = self
                .client
                .put_events()
                .set_entries(Some(pending.clone()))
                .send()
                .await?;
            if output.failed_entry_count() == 0 {
                return Ok((0, Vec::new()));
            }
            let results = output.entries();
            codes.clear();
            if results.len() == pending.len() {
                let mut still_failed = Vec::new();
                for (entry, result) in pending.into_iter().zip(results) {
                    if let Some(code) = result.error_code() {
                        still_failed.push(entry);
                        if !codes.iter().any(|c| c == code) {
                            codes.push(code.to_owned());
                        }
                    }
                }
                pending = still_failed;
            } else {
                // Results must align with entries; if they do not, resend them
                // all (consumers dedupe on event_id).
                codes.push("unaligned_response".to_owned());
            }
            if pending.is_empty() {
                return Ok((0, Vec::new()));
            }
            tracing::warn!(failed = pending.len(), attempt, codes = ?codes, "PutEvents reported failed entries");
            if attempt < self.max_attempts {
                tokio::time::sleep(self.backoff.saturating_mul(1 << (attempt - 1).min(16))).await;
            }
        }
        Ok((pending.len(), codes))
    }
}

impl Publisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        // Encode everything first: an event that cannot go out stops the
        // call before anything is sent.
        let prepared = events
            .iter()
            .map(|e| self.prepare(e))
            .collect::<Result<Vec<_>, _>>()?;
        let total = prepared.len();
        let mut batches: Vec<Vec<PutEventsRequestEntry>> = Vec::new();
        let mut batch_bytes = 0;
        for p in prepared {
            let fits = batches.last().is_some_and(|b| {
                b.len() < MAX_BATCH_ENTRIES && batch_bytes + p.size <= MAX_BATCH_BYTES
            });
            if !fits {
                batches.push(Vec::with_capacity(MAX_BATCH_ENTRIES));
                batch_bytes = 0;
            }
            batch_bytes += p.size;
            if let Some(b) = batches.last_mut() {
                b.push(p.entry);
            }
        }

        let mut failed = 0;
        let mut codes: Vec<String> = Vec::new();
        let mut sent = 0;
        for batch in batches {
            let size = batch.len();
            match self.send_batch(batch).await {
                Ok((n, batch_codes)) => {
                    failed += n;
                    for c in batch_codes {
                        if !codes.contains(&c) {
                            codes.push(c);
                        }
                    }
                }
                Err(e) => {
                    let transient = matches!(
                        e,
                        SdkError::TimeoutError(_)
                            | SdkError::DispatchFailure(_)
                            | SdkError::ResponseError(_)
                    ) || e.raw_response().is_some_and(|r| {
                        r.status().is_server_error() || r.status().as_u16() == 429
                    });
                    return Err(PublishError::Request {
                        unpublished: total - sent + failed,
                        total,
                        transient,
                        source: Box::new(e),
                    });
                }
            }
            sent += size;
        }
        if failed > 0 {
            return Err(PublishError::PartialFailure {
                failed,
                total,
                attempts: self.max_attempts,
                codes,
            });
        }
        Ok(())
    }
}
