//! Reading and writing the attributes the repositories share: string and
//! number attributes, the JSON document column, and the TTL pair
//! (`expires_at`, `expiry_day`) that the purge's `by_expiry` index uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::error::StoreError;

pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";
pub(crate) const DOC: &str = "doc";
pub(crate) const EXPIRES_AT: &str = "expires_at";
pub(crate) const EXPIRY_DAY: &str = "expiry_day";

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::Corrupt(format!("missing string attribute {name}")))
}

pub(crate) fn doc<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, DOC)?)
        .map_err(|e| StoreError::Corrupt(format!("document: {e}")))
}

pub(crate) fn to_doc<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(s)
        .map_err(|e| StoreError::Corrupt(format!("document: {e}")))
}

/// The TTL attribute and its day bucket for the purge's expiry index.
pub(crate) fn expiry(at: DateTime<Utc>) -> [(&'static str, AttributeValue); 2] {
    [
        (EXPIRES_AT, n(at.timestamp())),
        (EXPIRY_DAY, s(at.format("%Y-%m-%d").to_string())),
    ]
}
