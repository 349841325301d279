//! The local stack's fixed names: its stage, and the emulator's region,
//! account and credentials (owned by `zerodesk-localaws`, repeated nowhere).

pub use zerodesk_localaws::{ACCOUNT_ID, DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, LocalValues, REGION};

/// The stage of every local resource name (`zerodesk-local-...`).
pub const STAGE: &str = "local";
