//! Identifier newtypes. Each is parsed once at the edge; a value of one of
//! these types is always valid, so nothing downstream re-checks it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused. Never echoes the offending input, which
/// may be attacker-chosen text destined for a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error(
        "tenant id must be 3-40 characters of a-z, 0-9 and '-', starting with a letter or digit"
    )]
    TenantId,
    #[error("ticket id must be a ULID")]
    TicketId,
    #[error("account must be an email address")]
    Account,
    #[error("connection id must be 1-64 characters of a-z, 0-9, '-' and '_'")]
    ConnectionId,
    #[error("correlation id must be 1-128 printable ASCII characters")]
    CorrelationId,
}

macro_rules! string_newtype_impls {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A customer organisation. Lower-case so that `TENANT#<id>` keys and the
/// IAM session tag compare byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TenantId(String);

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok_len = (3..=40).contains(&raw.len());
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ok_start = raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok_len && ok_chars && ok_start {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::TenantId)
        }
    }
}
string_newtype_impls!(TenantId);

/// A directory connection of a tenant (part of the KMS encryption context).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(String);

impl ConnectionId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::ConnectionId)
        }
    }
}
string_newtype_impls!(ConnectionId);

/// Ties every log line, event and audit record of one request together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(String);

impl CorrelationId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let ok = (1..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::CorrelationId)
        }
    }

    /// A fresh id for work that did not arrive with one.
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }
}
string_newtype_impls!(CorrelationId);

/// A directory account, email-shaped, stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountRef(String);

impl AccountRef {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let lower = raw.trim().to_ascii_lowercase();
        let Some((local, domain)) = lower.split_once('@') else {
            return Err(IdError::Account);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._%+-'".contains(&b))
            && !local.starts_with('.')
            && !local.ends_with('.');
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
        if local_ok && domain_ok {
            Ok(Self(lower))
        } else {
            Err(IdError::Account)
        }
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }
}
string_newtype_impls!(AccountRef);

/// A ticket, identified by a ULID so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketId(ulid::Ulid);

impl TicketId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new())
    }

    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.len() != 26 {
            return Err(IdError::TicketId);
        }
        ulid::Ulid::from_string(raw)
            .map(Self)
            .map_err(|_| IdError::TicketId)
    }

    pub fn as_ulid(&self) -> ulid::Ulid {
        self.0
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for TicketId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for TicketId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for TicketId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_accept_only_the_safe_alphabet() {
        assert!(TenantId::parse("demo").is_ok());
        assert!(TenantId::parse("acme-2").is_ok());
        for bad in [
            "",
            "ab",
            "Demo",
            "a#b",
            "TENANT#x",
            "-abc",
            "a b c",
            "a/bc",
            &"x".repeat(41),
        ] {
            assert_eq!(TenantId::parse(bad), Err(IdError::TenantId), "{bad}");
        }
    }

    #[test]
    fn accounts_are_lower_cased_emails() {
        let a = AccountRef::parse(" Alice@Demo.Example ").unwrap();
        assert_eq!(a.as_str(), "alice@demo.example");
        assert_eq!(a.domain(), "demo.example");
        for bad in [
            "alice",
            "@demo.example",
            "alice@",
            "alice@demo",
            "a b@demo.example",
            "alice@-demo.example",
        ] {
            assert!(AccountRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ticket_ids_round_trip_and_refuse_garbage() {
        let id = TicketId::generate();
        assert_eq!(TicketId::parse(&id.to_string()).unwrap(), id);
        assert!(TicketId::parse("not-a-ulid").is_err());
        assert!(TicketId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAVX").is_err());
    }

    #[test]
    fn deserializing_an_invalid_id_fails() {
        assert!(serde_json::from_str::<TenantId>("\"BAD#\"").is_err());
        assert!(serde_json::from_str::<TenantId>("\"demo\"").is_ok());
    }
}
