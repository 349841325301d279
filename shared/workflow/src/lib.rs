//! Ticket use cases: file and triage a ticket, read and list tickets,
//! approve or reject pending actions, and run a directory action (reset or
//! unlock) safely. Handlers call one function here; nothing here knows Lambda.

pub mod access;
pub mod actions;
pub mod context;
pub mod error;
pub mod tickets;
pub mod view;

pub use access::{ActionGrant, ActionRefusal};
pub use actions::ActionResult;
pub use context::{DirectorySettings, Services, Tables};
pub use error::WorkflowError;
pub use tickets::{NewTicket, Rejection};
pub use view::TicketView;
