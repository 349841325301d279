//! The audit record, its draft and the chain it belongs to. Plain data: the
//! hash is computed in `canonical`, the chain is extended in `chain`; nothing
//! here trusts a stored hash or talks to a store.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zerodesk_domain::{CorrelationId, Principal, Role, TenantId, TicketId};

/// `prev_hash` of the first record of every chain (seq 1): 64 zeros.
pub const GENESIS_PREV_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// `action` of the record written before a directory call.
pub const INTENT_ACTION: &str = "DirectoryActionIntent";
/// `action` of the record written after a directory call.
pub const OUTCOME_ACTION: &str = "DirectoryActionOutcome";
/// Key in `details` naming the directory action kind ("reset", "unlock", ...)
/// of an intent or outcome record; intents and outcomes pair on it.
pub const DIRECTORY_ACTION_DETAIL: &str = "directory_action";

/// Whose trail a record belongs to. Each scope is one independent chain,
/// written as the audit table's partition key: `TENANT#<id>` or `PLATFORM`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChainScope {
    Tenant(TenantId),
    Platform,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an audit chain is `TENANT#<tenant id>` or `PLATFORM`")]
pub struct ChainScopeError;

impl ChainScope {
    const TENANT_PREFIX: &'static str = "TENANT#";
    const PLATFORM: &'static str = "PLATFORM";

    pub fn parse(raw: &str) -> Result<Self, ChainScopeError> {
        if raw == Self::PLATFORM {
            return Ok(ChainScope::Platform);
        }
        let id = raw
            .strip_prefix(Self::TENANT_PREFIX)
            .ok_or(ChainScopeError)?;
        TenantId::parse(id)
            .map(ChainScope::Tenant)
            .map_err(|_| ChainScopeError)
    }

    /// The key as written in records and used as the table partition key.
    pub fn key(&self) -> String {
        match self {
            ChainScope::Tenant(id) => format!("{}{}", Self::TENANT_PREFIX, id),
            ChainScope::Platform => Self::PLATFORM.to_owned(),
        }
    }
}

impl fmt::Display for ChainScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl FromStr for ChainScope {
    type Err = ChainScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for ChainScope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for ChainScope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Who caused the event. `role` is kept as the string the event carried, so a
/// record written years ago still parses if roles are renamed, and scheduled
/// work can name a non-human role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub subject: String,
    pub role: String,
}

impl Actor {
    pub fn new(subject: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            role: role.into(),
        }
    }

    pub fn with_role(subject: impl Into<String>, role: Role) -> Self {
        Self::new(subject, role.as_str())
    }

    pub fn of(principal: &Principal) -> Self {
        Self::with_role(principal.subject.clone(), principal.role)
    }
}

/// Everything an appender supplies; `next_record` adds seq, prev_hash, hash.
/// Empty `rationale` and `details` are the same as absent: they are not
/// encoded, so there is exactly one encoding of "none".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub chain: ChainScope,
    /// The EventBridge / domain event id; audit-write dedupes on it.
    pub event_id: String,
    pub time: DateTime<Utc>,
    pub actor: Actor,
    /// The event detail-type (see docs/conventions.md) or a verb.
    pub action: String,
    pub ticket_id: Option<TicketId>,
    pub old_state: Option<String>,
    pub new_state: Option<String>,
    pub outcome: Option<String>,
    pub rationale: Vec<String>,
    pub reason: Option<String>,
    pub correlation_id: CorrelationId,
    /// Extra flat facts (a purge receipt's counts, the directory action kind).
    pub details: BTreeMap<String, String>,
}

impl AuditDraft {
    /// A draft with the required fields; the optional ones start empty.
    pub fn new(
        chain: ChainScope,
        event_id: impl Into<String>,
        time: DateTime<Utc>,
        actor: Actor,
        action: impl Into<String>,
        correlation_id: CorrelationId,
    ) -> Self {
        Self {
            chain,
            event_id: event_id.into(),
            time,
            actor,
            action: action.into(),
            ticket_id: None,
            old_state: None,
            new_state: None,
            outcome: None,
            rationale: Vec::new(),
            reason: None,
            correlation_id,
            details: BTreeMap::new(),
        }
    }

    /// Names the directory action kind an intent or outcome is about.
    pub fn with_directory_action(mut self, kind: impl Into<String>) -> Self {
        self.details
            .insert(DIRECTORY_ACTION_DETAIL.to_owned(), kind.into());
        self
    }
}

/// One link of a chain. Fields are public because a record read back from a
/// store or an export is untrusted data: only `verify` says whether it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub chain: ChainScope,
    pub seq: u64,
    pub prev_hash: String,
    pub event_id: String,
    pub time: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub ticket_id: Option<TicketId>,
    pub old_state: Option<String>,
    pub new_state: Option<String>,
    pub outcome: Option<String>,
    pub rationale: Vec<String>,
    pub reason: Option<String>,
    pub correlation_id: CorrelationId,
    pub details: BTreeMap<String, String>,
    pub hash: String,
}

impl AuditRecord {
    /// The head a chain has once this record is appended.
    pub fn head(&self) -> ChainHead {
        ChainHead {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }

    /// The directory action kind of an intent or outcome record.
    pub fn directory_action(&self) -> Option<&str> {
        self.details
            .get(DIRECTORY_ACTION_DETAIL)
            .map(String::as_str)
    }
}

/// The newest record of a chain, enough to append the next one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_scopes_round_trip_through_their_keys() {
        let demo = ChainScope::Tenant(TenantId::parse("demo").unwrap());
        assert_eq!(demo.key(), "TENANT#demo");
        assert_eq!(ChainScope::parse("TENANT#demo"), Ok(demo));
        assert_eq!(ChainScope::Platform.key(), "PLATFORM");
        assert_eq!(ChainScope::parse("PLATFORM"), Ok(ChainScope::Platform));
    }

    #[test]
    fn malformed_chain_keys_are_refused() {
        for bad in [
            "",
            "platform",
            "TENANT#",
            "TENANT#BAD",
            "tenant#demo",
            "demo",
            "TENANT#demo#x",
        ] {
            assert_eq!(ChainScope::parse(bad), Err(ChainScopeError), "{bad}");
        }
    }

    #[test]
    fn an_actor_of_a_principal_carries_its_subject_and_role_name() {
        let p = Principal {
            subject: "sub-1".into(),
            email: None,
            role: Role::TenantAuditor,
            scope: zerodesk_domain::PrincipalScope::Platform,
        };
        assert_eq!(Actor::of(&p), Actor::new("sub-1", "tenant_auditor"));
    }
}
