//! The `Publisher` port handlers depend on, its error, and an in-memory
//! fake for handler tests. Errors name counts and codes, never event content.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_eventbridge::error::SdkError;
use aws_sdk_eventbridge::operation::put_events::PutEventsError;

use crate::event::{DomainEvent, EncodeError};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("event {event_id} is larger than an EventBridge entry may be")]
    TooLarge { event_id: String },
    #[error("PutEvents failed; {unpublished} of {total} events were not published")]
    Request {
        unpublished: usize,
        total: usize,
        transient: bool,
        #[source]
        source: Box<SdkError<PutEventsError>>,
    },
    #[error("{failed} of {total} events were not accepted after {attempts} attempts (error codes: {})", codes.join(", "))]
    PartialFailure {
        failed: usize,
        total: usize,
        attempts: u32,
        codes: Vec<String>,
    },
    #[error("the in-memory publisher was told to fail")]
    Injected,
}

impl PublishError {
    /// Whether publishing again later may succeed. Publishing is at least
    /// once: a retry may repeat events that did go out, and consumers
    /// dedupe on `event_id`.
    pub fn is_transient(&self) -> bool {
        match self {
            PublishError::Request { transient, .. } => *transient,
            PublishError::PartialFailure { .. } | PublishError::Injected => true,
            PublishError::Encode(_) | PublishError::TooLarge { .. } => false,
        }
    }
}

/// Publishes domain events. Implementations refuse an event that fails
/// `DomainEvent::to_detail` (for example a field named like a secret).
pub trait Publisher: Send + Sync {
    fn publish(
        &self,
        events: &[DomainEvent],
    ) -> impl Future<Output = Result<(), PublishError>> + Send;

    fn publish_one(
        &self,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<(), PublishError>> + Send {
        self.publish(std::slice::from_ref(event))
    }
}

impl<P: Publisher> Publisher for Arc<P> {
    fn publish(
        &self,
        events: &[DomainEvent],
    ) -> impl Future<Output = Result<(), PublishError>> + Send {
        (**self).publish(events)
    }
}

/// Records what was published, for tests of code that publishes. Clones
/// share the record.
#[derive(Debug, Clone, Default)]
pub struct InMemoryPublisher {
    events: Arc<Mutex<Vec<DomainEvent>>>,
    failing: Arc<AtomicBool>,
}

impl InMemoryPublisher {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything published so far, in order.
    pub fn events(&self) -> Vec<DomainEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The published events of one detail-type.
    pub fn of_type(&self, detail_type: &str) -> Vec<DomainEvent> {
        self.events()
            .into_iter()
            .filter(|e| e.detail_type() == detail_type)
            .collect()
    }

    /// While set, `publish` records nothing and fails with `PublishError::Injected`.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl Publisher for InMemoryPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PublishError::Injected);
        }
        for e in events {
            e.to_detail()?;
        }
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(events);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use zerodesk_domain::{CorrelationId, SystemTask, TenantId, TenantScope};

    use super::*;
    use crate::event::{Actor, LifecycleChange, TenantLifecycle};

    fn lifecycle(details: &[(&str, &str)]) -> DomainEvent {
        let scope = TenantScope::for_system_task(
            TenantId::parse("acme").unwrap(),
            SystemTask::TenantLifecycle,
        );
        DomainEvent::new(
            &scope,
            Actor::system(SystemTask::TenantLifecycle),
            CorrelationId::generate(),
            TenantLifecycle {
                change: LifecycleChange::Onboarded,
                details: details
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>(),
            },
        )
    }

    #[tokio::test]
    async fn the_fake_records_published_events_in_order() {
        let p = InMemoryPublisher::new();
        let (a, b) = (lifecycle(&[]), lifecycle(&[("plan", "pro")]));
        p.publish_one(&a).await.unwrap();
        Arc::new(p.clone())
            .publish(std::slice::from_ref(&b))
            .await
            .unwrap();
        assert_eq!(p.events(), vec![a, b]);
        assert_eq!(p.of_type("TenantLifecycle").len(), 2);
        assert!(p.of_type("TicketCreated").is_empty());
    }

    #[tokio::test]
    async fn the_fake_refuses_what_the_real_publisher_refuses_and_can_be_made_to_fail() {
        let p = InMemoryPublisher::new();
        let err = p
            .publish_one(&lifecycle(&[("client_secret", "x")]))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            PublishError::Encode(EncodeError::ForbiddenField { .. })
        ));
        p.set_failing(true);
        assert!(matches!(
            p.publish_one(&lifecycle(&[])).await,
            Err(PublishError::Injected)
        ));
        assert!(p.events().is_empty());
    }
}
