//! reset: wiring only. The shared directory-action function for password
//! resets: the HTTP route and the EventBridge rule for auto_resolve triage.

// The deployed adapters' nested futures are deeper than the default limit.
#![recursion_limit = "256"]

use zerodesk_events::DirectoryAction;

#[cfg(test)]
mod handler;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    zerodesk_http::run_action_function("reset", DirectoryAction::Reset).await
}
