//! zerodesk triage: the deterministic classifier, the automation decision of
//! docs/architecture.md section 4, and redaction of secrets in ticket text before storage.
//! Pure functions: no I/O, no clock, no randomness, no model.

mod canonical;
mod classify;
mod decide;
mod evidence;
mod lang;
mod lexicon;
mod matcher;
mod normalize;
mod redact;
mod risk;
mod score;
mod target;

pub use classify::{Assessment, TicketText, assess, classify};
pub use decide::{DecisionReason, MIN_CONFIDENCE, Verdict, decide};
pub use redact::{Redacted, RedactionKind, redact};
