//! Pagination: an opaque cursor that holds only the sort key (and index key)
//! of the last item. The partition key is rebuilt from the caller's scope,
//! so a cursor can never move a query into another tenant.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::StoreError;
use crate::item::{Item, s};

pub const MAX_PAGE_SIZE: i32 = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: Option<i32>,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub(crate) fn limit(&self) -> i32 {
        self.limit.unwrap_or(50).clamp(1, MAX_PAGE_SIZE)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Encodes the non-partition parts of a LastEvaluatedKey.
pub(crate) fn encode_cursor(last: &Item, keep: &[&str]) -> Option<String> {
    let mut parts = serde_json::Map::new();
    for name in keep {
        let v = last.get(*name)?.as_s().ok()?;
        parts.insert((*name).to_owned(), serde_json::Value::String(v.clone()));
    }
    Some(URL_SAFE_NO_PAD.encode(serde_json::Value::Object(parts).to_string()))
}

/// Decodes a cursor back into an ExclusiveStartKey, adding the scope-derived keys.
pub(crate) fn decode_cursor(
    cursor: &str,
    keep: &[&str],
    scope_keys: &[(&str, String)],
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::BadCursor)?;
    let parts: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::BadCursor)?;
    if parts.len() != keep.len() {
        return Err(StoreError::BadCursor);
    }
    let mut key = HashMap::new();
    for name in keep {
        let v = parts
            .get(*name)
            .and_then(|v| v.as_str())
            .ok_or(StoreError::BadCursor)?;
        key.insert((*name).to_owned(), s(v));
    }
    for (name, value) in scope_keys {
        key.insert((*name).to_owned(), s(value.clone()));
    }
    Ok(key)
}
