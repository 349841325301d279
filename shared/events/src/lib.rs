//! Domain events and their publication on EventBridge (source `zerodesk`,
//! detail-types and field names as docs/conventions.md pins them). An event
//! says what happened, to which tenant and ticket, by whom; it must never
//! carry a password, token, secret or credential, and publishers refuse one
//! whose field names say otherwise.

mod event;
mod eventbridge;
mod publisher;

pub use event::{
    AccessDenied, ActionOutcome, Actor, ConfigChange, DecodeError, DirectoryAction,
    DirectoryActionIntent, DirectoryActionOutcome, DirectoryProvider, DomainEvent, EVENT_SOURCE,
    EncodeError, EventId, EventPayload, LifecycleChange, OwnerNotified, OwnerVerificationChanged,
    PlatformAccess, SYSTEM_ROLE, SecurityIncidentReported, TenantConfigChanged, TenantLifecycle,
    TicketCreated, TicketStateChanged, TicketTriaged, VerificationStep,
};
pub use eventbridge::{EventBridgePublisher, MAX_BATCH_ENTRIES};
pub use publisher::{InMemoryPublisher, PublishError, Publisher};
