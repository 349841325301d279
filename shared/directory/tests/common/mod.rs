//! Helpers shared by the connector tests: accounts, endpoints pointed at the
//! in-process fakes, credentials from the fakes' own JSON.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;
use zerodesk_directory::{Connector, DirectoryCredentials, DirectoryEndpoints, connect};
use zerodesk_domain::AccountRef;

pub fn account(raw: &str) -> AccountRef {
    AccountRef::parse(raw).unwrap()
}

/// Endpoints with Google and Graph aimed at the given base URLs.
pub fn endpoints(
    google: Option<(String, String)>,
    graph: Option<String>,
    timeout: Duration,
) -> DirectoryEndpoints {
    DirectoryEndpoints::from_lookup(|name| match name {
        "GOOGLE_TOKEN_URL" => google.as_ref().map(|g| g.0.clone()),
        "GOOGLE_API_BASE_URL" => google.as_ref().map(|g| g.1.clone()),
        "GRAPH_TOKEN_BASE_URL" | "GRAPH_API_BASE_URL" => graph.clone(),
        // The fakes listen on 127.0.0.1.
        "DIRECTORY_ALLOW_LOOPBACK" => Some("true".to_owned()),
        _ => None,
    })
    .unwrap()
    .with_timeout(timeout)
}

pub fn credentials(json: Value) -> DirectoryCredentials {
    serde_json::from_value(json).unwrap()
}

pub fn connector(json: Value, endpoints: &DirectoryEndpoints) -> Connector {
    connect(credentials(json), endpoints).unwrap()
}

pub const SHORT_TIMEOUT: Duration = Duration::from_millis(400);
pub const NORMAL_TIMEOUT: Duration = Duration::from_secs(10);
