//! Ticket use cases: file and triage a ticket, read and list tickets,
//! approve or reject pending actions, and run a directory action (reset or
//! unlock) safely. Handlers call one function here; nothing here knows Lambda.

pub mod access;
pub mod actions;
pub mod bundles;
pub mod context;
pub mod error;
pub mod not_me;
pub mod tickets;
pub mod verification;
pub mod view;
pub mod write_limits;

pub use access::{ActionGrant, ActionRefusal};
pub use actions::{ActionResult, Initiator};
pub use bundles::{
    Deployed, DeployedConfig, InMemory, ManualClock, VerificationConfig, WiringError,
};
pub use context::{Ports, Services};
pub use error::WorkflowError;
pub use not_me::NotMeReported;
pub use tickets::{NewTicket, Rejection};
pub use verification::{
    OwnerOutcome, PAGE_ANSWERS_PER_CLIENT_PER_HOUR, PageAnswer, VerificationRequested,
    VerificationSummary, VerifyRefusal,
};
pub use view::{ActionView, TicketView, VerificationView};
