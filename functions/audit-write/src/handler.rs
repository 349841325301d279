//! audit-write's translation: an EventBridge event -> a `DomainEvent` -> one
//! call to the ledger's writer. Any failure is returned as an error, so
//! EventBridge retries the delivery and finally sends it to the dead-letter
//! queue; nothing is acknowledged that was not written.

use std::future::Future;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Serialize;
use tracing::Instrument;
use zerodesk_events::{DecodeError, DomainEvent, EVENT_SOURCE};
use zerodesk_ledger::{AuditWriter, ChainWrite, WriteError};
use zerodesk_store::TenantDb;

pub type Event = EventBridgeEvent<serde_json::Value>;

/// Appends a domain event to its chains.
pub trait AuditSink: Send + Sync {
    fn write(
        &self,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<Vec<ChainWrite>, WriteError>> + Send;
}

impl<D: TenantDb> AuditSink for AuditWriter<D> {
    fn write(
        &self,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<Vec<ChainWrite>, WriteError>> + Send {
        AuditWriter::write(self, event)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("the event's source is not {EVENT_SOURCE}")]
    ForeignSource,
    #[error("the event cannot be read as a domain event")]
    Decode(#[from] DecodeError),
    #[error("the event could not be written to the audit trail")]
    Write(#[from] WriteError),
}

/// What Lambda records for a failed invocation: a stable type and the
/// error's fixed text, never event content.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::ForeignSource => "ForeignSource",
            HandlerError::Decode(_) => "UndecodableEvent",
            HandlerError::Write(w) if w.is_transient() => "AppendRetryable",
            HandlerError::Write(_) => "AppendFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// What the invocation reports (for logs and `cargo lambda invoke`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Written {
    pub appended: usize,
    pub duplicates: usize,
    pub skipped: usize,
}

pub async fn handle<S: AuditSink>(sink: &S, event: Event) -> Result<Written, HandlerError> {
    let span = tracing::info_span!(
        "event",
        function = "audit-write",
        detail_type = %event.detail_type,
        correlation_id = tracing::field::Empty,
        tenant_id = tracing::field::Empty,
    );
    async move {
        if event.source != EVENT_SOURCE {
            tracing::error!("refused an event of another source");
            return Err(HandlerError::ForeignSource);
        }
        let domain = DomainEvent::from_detail_value(&event.detail_type, event.detail)
            .inspect_err(|e| tracing::error!(reason = %e, "undecodable event"))?;
        let span = tracing::Span::current();
        span.record("correlation_id", domain.correlation_id.as_str());
        span.record("tenant_id", domain.tenant_id.as_str());
        let writes = sink.write(&domain).await.inspect_err(|e| {
            tracing::error!(retryable = e.is_transient(), error = %e, "audit append failed");
        })?;
        let mut out = Written {
            appended: 0,
            duplicates: 0,
            skipped: 0,
        };
        for w in &writes {
            match w {
                ChainWrite::Appended { .. } => out.appended += 1,
                ChainWrite::Duplicate { .. } => out.duplicates += 1,
                ChainWrite::SkippedPurgedTenant { .. } => out.skipped += 1,
            }
        }
        Ok(out)
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use zerodesk_ledger::LedgerError;
    use zerodesk_ledger::audit::ChainScope;

    use super::*;

    const STATE_CHANGED: &str =
        include_str!("../../../events/eventbridge-ticket-state-changed.json");
    const PURGE_RECEIPT: &str = include_str!("../../../events/eventbridge-tenant-purged.json");

    #[derive(Default)]
    struct Fake {
        seen: Mutex<Vec<DomainEvent>>,
        fail: bool,
    }

    impl AuditSink for Fake {
        async fn write(&self, event: &DomainEvent) -> Result<Vec<ChainWrite>, WriteError> {
            if self.fail {
                return Err(WriteError::Ledger(LedgerError::Contention { attempts: 3 }));
            }
            self.seen.lock().unwrap().push(event.clone());
            Ok(vec![ChainWrite::Appended {
                chain: ChainScope::Tenant(event.tenant_id.clone()),
                seq: 1,
            }])
        }
    }

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    #[tokio::test]
    async fn a_sample_event_is_decoded_and_written_once() {
        let fake = Fake::default();
        let out = handle(&fake, event(STATE_CHANGED)).await.unwrap();
        assert_eq!(out.appended, 1);
        let seen = fake.seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].tenant_id.as_str(), "demo");
        assert_eq!(seen[0].detail_type(), "TicketStateChanged");
        assert_eq!(seen[0].correlation_id.as_str(), "sample-correlation-1");
    }

    #[tokio::test]
    async fn the_purge_receipt_sample_decodes() {
        let fake = Fake::default();
        handle(&fake, event(PURGE_RECEIPT)).await.unwrap();
        assert_eq!(
            fake.seen.lock().unwrap()[0].detail_type(),
            "TenantLifecycle"
        );
    }

    #[tokio::test]
    async fn a_failed_append_is_an_error_so_eventbridge_retries() {
        let fake = Fake {
            fail: true,
            ..Default::default()
        };
        let err = handle(&fake, event(STATE_CHANGED)).await.unwrap_err();
        assert!(matches!(err, HandlerError::Write(ref e) if e.is_transient()));
    }

    #[tokio::test]
    async fn foreign_or_malformed_events_are_refused_not_acknowledged() {
        let fake = Fake::default();
        let mut foreign = event(STATE_CHANGED);
        foreign.source = "aws.events".into();
        assert!(matches!(
            handle(&fake, foreign).await,
            Err(HandlerError::ForeignSource)
        ));
        let mut broken = event(STATE_CHANGED);
        broken.detail["tenant_id"] = serde_json::json!("NOT#A#TENANT");
        assert!(matches!(
            handle(&fake, broken).await,
            Err(HandlerError::Decode(_))
        ));
        assert!(fake.seen.lock().unwrap().is_empty());
    }
}
