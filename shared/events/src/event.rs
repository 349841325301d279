//! `DomainEvent`: the common envelope (event id, tenant, actor, correlation
//! id, time) and one typed payload per detail-type. The EventBridge detail
//! is one flat JSON object: the common fields, then the payload's fields.
//! Nothing here may add a field that holds a secret.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use zerodesk_domain::{
    AccountRef, Category, CorrelationId, Decision, Principal, RiskFlag, SystemTask, TenantId,
    TenantScope, TicketId, TicketState,
};

/// The EventBridge source of every zerodesk event.
pub const EVENT_SOURCE: &str = "zerodesk";

/// `actor.role` of work that runs without a caller (events, schedules).
pub const SYSTEM_ROLE: &str = "system";

/// Field names no event may carry, anywhere in its detail (substrings,
/// lower-cased): a defence against a future field or a `details` key.
const FORBIDDEN_FIELD_PARTS: [&str; 5] =
    ["password", "token", "secret", "credential", "private_key"];

/// A ULID, so ids sort by time; audit-write dedupes on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(ulid::Ulid);

impl EventId {
    pub fn generate() -> Self {
        Self(ulid::Ulid::new())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 26)
            .then(|| ulid::Ulid::from_string(raw).ok())
            .flatten()
            .map(Self)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for EventId {
    type Err = DecodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or(DecodeError::Field("event_id"))
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("event_id must be a ULID"))
    }
}

/// Who caused the event. `role` is a role name, or `system` for work with
/// no caller (then `subject` names the task).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub subject: String,
    pub role: String,
}

impl Actor {
    pub fn of(principal: &Principal) -> Self {
        Self {
            subject: principal.subject.clone(),
            role: principal.role.as_str().to_owned(),
        }
    }

    pub fn system(task: SystemTask) -> Self {
        let subject = match task {
            SystemTask::AuditAppend => "audit_append",
            SystemTask::RetentionPurge => "retention_purge",
            SystemTask::EventDrivenAction => "event_driven_action",
            SystemTask::TenantLifecycle => "tenant_lifecycle",
            SystemTask::OwnerVerification => "owner_verification",
        };
        Self {
            subject: format!("system:{subject}"),
            role: SYSTEM_ROLE.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryAction {
    Reset,
    Unlock,
}

impl DirectoryAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryAction::Reset => "reset",
            DirectoryAction::Unlock => "unlock",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryProvider {
    GoogleWorkspace,
    MicrosoftGraph,
    Okta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    Succeeded,
    Failed,
    /// Not attempted: policy, a protected account, or an account state automation must not touch.
    Refused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleChange {
    Onboarded,
    Offboarded,
    Restored,
    Purged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketCreated {
    pub ticket_id: TicketId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketTriaged {
    pub ticket_id: TicketId,
    pub category: Category,
    pub decision: Decision,
    /// 0.0 to 1.0.
    pub confidence: f32,
    pub rationale: Vec<String>,
    pub risk_flags: Vec<RiskFlag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketStateChanged {
    pub ticket_id: TicketId,
    pub old_state: TicketState,
    pub new_state: TicketState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Written before a directory call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryActionIntent {
    pub ticket_id: TicketId,
    pub action: DirectoryAction,
    pub target: AccountRef,
    pub provider: DirectoryProvider,
}

/// Written after a directory call. `reason` is a short stable phrase or
/// code, never a provider's response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryActionOutcome {
    pub ticket_id: TicketId,
    pub action: DirectoryAction,
    pub outcome: ActionOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A refused request. `route` is the route template (`GET /tickets/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDenied {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketId>,
    pub route: String,
    pub reason: String,
}

/// A platform principal reached this tenant's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformAccess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketId>,
    pub operator: String,
    pub route: String,
}

/// What a tenant admin changed in the tenant's own configuration.
/// A step of owner verification (section 4a of docs/architecture.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStep {
    Requested,
    Sent,
    Succeeded,
    Failed,
    Expired,
}

impl VerificationStep {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStep::Requested => "requested",
            VerificationStep::Sent => "sent",
            VerificationStep::Succeeded => "succeeded",
            VerificationStep::Failed => "failed",
            VerificationStep::Expired => "expired",
        }
    }
}

/// The owner's verification moved on. `channel` is masked; no code, link
/// or secret ever appears here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerVerificationChanged {
    pub ticket_id: TicketId,
    pub action: DirectoryAction,
    pub step: VerificationStep,
    pub method: String,
    pub channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The owner was told what happened, on a channel other than the one used
/// to verify where one exists. `channel` is masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerNotified {
    pub ticket_id: TicketId,
    pub notice: String,
    pub channel: String,
}

/// The owner used "This wasn't me": sessions revoked at the provider, the
/// ticket escalated as a security incident, the security contacts alerted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityIncidentReported {
    pub ticket_id: TicketId,
    pub action: DirectoryAction,
    pub sessions_revoked: bool,
    pub contacts_alerted: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigChange {
    PolicyUpdated,
    ConnectionStored,
    ConnectionDeleted,
    PersonErased,
}

/// A tenant admin changed the tenant's policy, directory connection, or
/// erased a person. `details` are flat facts (provider, counts, a
/// pseudonym); never credentials or personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantConfigChanged {
    pub change: ConfigChange,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantLifecycle {
    pub change: LifecycleChange,
    /// Flat facts (counts, the last chain hash); never content or secrets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// One payload per detail-type; the variant name is the detail-type.
#[derive(Debug, Clone, PartialEq)]
pub enum EventPayload {
    TicketCreated(TicketCreated),
    TicketTriaged(TicketTriaged),
    TicketStateChanged(TicketStateChanged),
    DirectoryActionIntent(DirectoryActionIntent),
    DirectoryActionOutcome(DirectoryActionOutcome),
    AccessDenied(AccessDenied),
    PlatformAccess(PlatformAccess),
    TenantLifecycle(TenantLifecycle),
    TenantConfigChanged(TenantConfigChanged),
    OwnerVerificationChanged(OwnerVerificationChanged),
    OwnerNotified(OwnerNotified),
    SecurityIncidentReported(SecurityIncidentReported),
}

macro_rules! payload_from {
    ($($name:ident),*) => {
        $(impl From<$name> for EventPayload {
            fn from(p: $name) -> Self {
                EventPayload::$name(p)
            }
        })*

        impl EventPayload {
            /// Every detail-type, as docs/conventions.md names them.
            pub const DETAIL_TYPES: [&'static str; 12] = [$(stringify!($name)),*];

            pub fn detail_type(&self) -> &'static str {
                match self {
                    $(EventPayload::$name(_) => stringify!($name),)*
                }
            }

            fn to_value(&self) -> Result<Value, serde_json::Error> {
                match self {
                    $(EventPayload::$name(p) => serde_json::to_value(p),)*
                }
            }

            fn from_value(detail_type: &str, fields: Value) -> Result<Option<Self>, serde_json::Error> {
                match detail_type {
                    $(stringify!($name) => serde_json::from_value(fields).map(|p| Some(EventPayload::$name(p))),)*
                    _ => Ok(None),
                }
            }
        }
    };
}

payload_from!(
    TicketCreated,
    TicketTriaged,
    TicketStateChanged,
    DirectoryActionIntent,
    DirectoryActionOutcome,
    AccessDenied,
    PlatformAccess,
    TenantLifecycle,
    TenantConfigChanged,
    OwnerVerificationChanged,
    OwnerNotified,
    SecurityIncidentReported
);

impl EventPayload {
    pub fn ticket_id(&self) -> Option<TicketId> {
        match self {
            EventPayload::TicketCreated(p) => Some(p.ticket_id),
            EventPayload::TicketTriaged(p) => Some(p.ticket_id),
            EventPayload::TicketStateChanged(p) => Some(p.ticket_id),
            EventPayload::DirectoryActionIntent(p) => Some(p.ticket_id),
            EventPayload::DirectoryActionOutcome(p) => Some(p.ticket_id),
            EventPayload::AccessDenied(p) => p.ticket_id,
            EventPayload::PlatformAccess(p) => p.ticket_id,
            EventPayload::OwnerVerificationChanged(p) => Some(p.ticket_id),
            EventPayload::OwnerNotified(p) => Some(p.ticket_id),
            EventPayload::SecurityIncidentReported(p) => Some(p.ticket_id),
            EventPayload::TenantLifecycle(_) | EventPayload::TenantConfigChanged(_) => None,
        }
    }
}

/// Why an event could not be encoded. Names the event, never its content.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("event {event_id} ({detail_type}) has a field named like a secret")]
    ForbiddenField {
        event_id: EventId,
        detail_type: &'static str,
    },
    #[error("event {event_id} ({detail_type}) cannot be encoded")]
    Json {
        event_id: EventId,
        detail_type: &'static str,
    },
}

/// Why a detail could not be read back. Never quotes the detail (a parser
/// message can), only what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown detail-type")]
    UnknownDetailType,
    #[error("the detail is not a JSON object")]
    NotAnObject,
    #[error("the detail's {0} is missing or invalid")]
    Field(&'static str),
    #[error("the {detail_type} fields are missing or invalid")]
    Payload { detail_type: &'static str },
}

#[derive(Serialize)]
struct Common {
    event_id: EventId,
    tenant_id: TenantId,
    actor: Actor,
    correlation_id: CorrelationId,
    #[serde(with = "rfc3339_millis")]
    time: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    pub event_id: EventId,
    pub tenant_id: TenantId,
    pub actor: Actor,
    pub correlation_id: CorrelationId,
    /// Millisecond precision, UTC; `YYYY-MM-DDTHH:MM:SS.mmmZ` on the wire.
    pub time: DateTime<Utc>,
    pub payload: EventPayload,
}

impl DomainEvent {
    /// A new event of the scope's tenant, with a fresh id and the current time.
    pub fn new(
        scope: &TenantScope,
        actor: Actor,
        correlation_id: CorrelationId,
        payload: impl Into<EventPayload>,
    ) -> Self {
        let now = Utc::now();
        Self {
            event_id: EventId::generate(),
            tenant_id: scope.tenant().clone(),
            actor,
            correlation_id,
            time: DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now),
            payload: payload.into(),
        }
    }

    pub fn detail_type(&self) -> &'static str {
        self.payload.detail_type()
    }

    pub fn ticket_id(&self) -> Option<TicketId> {
        self.payload.ticket_id()
    }

    /// The EventBridge detail: common fields and payload fields in one
    /// object. Refuses any field whose name looks like a secret.
    pub fn to_detail(&self) -> Result<Value, EncodeError> {
        let json_error = || EncodeError::Json {
            event_id: self.event_id,
            detail_type: self.detail_type(),
        };
        let common = Common {
            event_id: self.event_id,
            tenant_id: self.tenant_id.clone(),
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.clone(),
            time: self.time,
        };
        let Value::Object(mut detail) = serde_json::to_value(&common).map_err(|_| json_error())?
        else {
            return Err(json_error());
        };
        let Value::Object(fields) = self.payload.to_value().map_err(|_| json_error())? else {
            return Err(json_error());
        };
        for (key, value) in fields {
            if detail.insert(key, value).is_some() {
                return Err(json_error());
            }
        }
        let detail = Value::Object(detail);
        if has_forbidden_field(&detail) {
            return Err(EncodeError::ForbiddenField {
                event_id: self.event_id,
                detail_type: self.detail_type(),
            });
        }
        Ok(detail)
    }

    pub fn to_detail_json(&self) -> Result<String, EncodeError> {
        self.to_detail().map(|d| d.to_string())
    }

    /// Reads back what a publisher wrote: the event's `detail-type` and its
    /// `detail` as JSON text. Fields this version does not know are ignored.
    pub fn from_eventbridge_detail(
        detail_type: &str,
        detail_json: &str,
    ) -> Result<Self, DecodeError> {
        let detail: Value =
            serde_json::from_str(detail_json).map_err(|_| DecodeError::NotAnObject)?;
        Self::from_detail_value(detail_type, detail)
    }

    /// As `from_eventbridge_detail`, for a detail already parsed (the
    /// `detail` of an `aws_lambda_events` EventBridge event).
    pub fn from_detail_value(detail_type: &str, detail: Value) -> Result<Self, DecodeError> {
        let Value::Object(mut fields) = detail else {
            return Err(DecodeError::NotAnObject);
        };
        let event_id: EventId = take(&mut fields, "event_id")?;
        let tenant_id: TenantId = take(&mut fields, "tenant_id")?;
        let actor: Actor = take(&mut fields, "actor")?;
        let correlation_id: CorrelationId = take(&mut fields, "correlation_id")?;
        let time = take::<String>(&mut fields, "time")
            .and_then(|t| rfc3339_millis::parse(&t).ok_or(DecodeError::Field("time")))?;
        let payload = match EventPayload::from_value(detail_type, Value::Object(fields)) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(DecodeError::UnknownDetailType),
            Err(_) => {
                let detail_type = EventPayload::DETAIL_TYPES
                    .into_iter()
                    .find(|t| *t == detail_type)
                    .ok_or(DecodeError::UnknownDetailType)?;
                return Err(DecodeError::Payload { detail_type });
            }
        };
        Ok(Self {
            event_id,
            tenant_id,
            actor,
            correlation_id,
            time,
            payload,
        })
    }
}

fn take<T: serde::de::DeserializeOwned>(
    fields: &mut Map<String, Value>,
    name: &'static str,
) -> Result<T, DecodeError> {
    let value = fields.remove(name).ok_or(DecodeError::Field(name))?;
    serde_json::from_value(value).map_err(|_| DecodeError::Field(name))
}
fn has_forbidden_field(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| {
            let k = k.to_ascii_lowercase();
            FORBIDDEN_FIELD_PARTS.iter().any(|part| k.contains(part)) || has_forbidden_field(v)
        }),
        Value::Array(items) => items.iter().any(has_forbidden_field),
        _ => false,
    }
}

/// `time` on the wire: RFC 3339, UTC with `Z`, milliseconds.
mod rfc3339_millis {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::Serializer;

    pub fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    pub fn parse(raw: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerodesk_domain::{Role, SystemTask};

    fn scope() -> TenantScope {
        TenantScope::for_system_task(
            TenantId::parse("acme").unwrap(),
            SystemTask::EventDrivenAction,
        )
    }

    fn actor() -> Actor {
        Actor {
            subject: "user-1".into(),
            role: Role::TenantUser.as_str().into(),
        }
    }

    fn event(payload: impl Into<EventPayload>) -> DomainEvent {
        DomainEvent::new(
            &scope(),
            actor(),
            CorrelationId::parse("corr-1").unwrap(),
            payload,
        )
    }

    fn ticket() -> TicketId {
        TicketId::parse("01ARZ3NDEKTSV4RRFFQ69G5FAV").unwrap()
    }

    fn one_of_each() -> Vec<DomainEvent> {
        let target = AccountRef::parse("alice@acme.example").unwrap();
        vec![
            event(TicketCreated {
                ticket_id: ticket(),
            }),
            event(TicketTriaged {
                ticket_id: ticket(),
                category: Category::AccountUnlock,
                decision: Decision::AutoResolve,
                confidence: 0.9,
                rationale: vec!["mentions 'locked out'".into()],
                risk_flags: vec![RiskFlag::Urgency],
            }),
            event(TicketStateChanged {
                ticket_id: ticket(),
                old_state: TicketState::Triaged,
                new_state: TicketState::InProgress,
                reason: Some("auto_resolve".into()),
            }),
            event(DirectoryActionIntent {
                ticket_id: ticket(),
                action: DirectoryAction::Reset,
                target,
                provider: DirectoryProvider::Okta,
            }),
            event(DirectoryActionOutcome {
                ticket_id: ticket(),
                action: DirectoryAction::Reset,
                outcome: ActionOutcome::Succeeded,
                reason: None,
            }),
            event(AccessDenied {
                ticket_id: None,
                route: "GET /tickets/{id}".into(),
                reason: "not_found".into(),
            }),
            event(PlatformAccess {
                ticket_id: Some(ticket()),
                operator: "op-1".into(),
                route: "GET /platform/tenants/{tenant}/tickets".into(),
            }),
            event(TenantLifecycle {
                change: LifecycleChange::Purged,
                details: BTreeMap::from([("tickets_deleted".into(), "12".into())]),
            }),
            event(TenantConfigChanged {
                change: ConfigChange::ConnectionStored,
                details: BTreeMap::from([("provider".into(), "google".into())]),
            }),
            event(OwnerVerificationChanged {
                ticket_id: ticket(),
                action: DirectoryAction::Reset,
                step: VerificationStep::Sent,
                method: "recovery_email".into(),
                channel: "b\u{2022}\u{2022}\u{2022}@mail.example".into(),
                reason: None,
            }),
            event(OwnerNotified {
                ticket_id: ticket(),
                notice: "action_done".into(),
                channel: "b\u{2022}\u{2022}\u{2022}@demo.example".into(),
            }),
            event(SecurityIncidentReported {
                ticket_id: ticket(),
                action: DirectoryAction::Reset,
                sessions_revoked: true,
                contacts_alerted: 1,
            }),
        ]
    }

    #[test]
    fn every_detail_type_round_trips_through_its_detail_json() {
        let events = one_of_each();
        let types: Vec<&str> = events.iter().map(DomainEvent::detail_type).collect();
        assert_eq!(types, EventPayload::DETAIL_TYPES);
        for e in events {
            let json = e.to_detail_json().unwrap();
            let back = DomainEvent::from_eventbridge_detail(e.detail_type(), &json).unwrap();
            assert_eq!(back, e, "{}", e.detail_type());
        }
    }

    #[test]
    fn the_detail_is_flat_with_the_conventions_field_names() {
        let triaged = one_of_each().remove(1);
        let detail = triaged.to_detail().unwrap();
        assert_eq!(detail["event_id"], triaged.event_id.to_string());
        assert_eq!(detail["tenant_id"], "acme");
        assert_eq!(
            detail["actor"],
            serde_json::json!({"subject": "user-1", "role": "tenant_user"})
        );
        assert_eq!(detail["correlation_id"], "corr-1");
        assert_eq!(detail["time"], rfc3339_millis::format(&triaged.time));
        assert!(detail["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(detail["ticket_id"], "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(detail["category"], "account_unlock");
        assert_eq!(detail["decision"], "auto_resolve");
        assert_eq!(
            detail["rationale"],
            serde_json::json!(["mentions 'locked out'"])
        );
        assert_eq!(detail["risk_flags"], serde_json::json!(["urgency"]));
        let changed = one_of_each().remove(2).to_detail().unwrap();
        assert_eq!(
            (changed["old_state"].as_str(), changed["new_state"].as_str()),
            (Some("triaged"), Some("in_progress"))
        );
        let outcome = one_of_each().remove(4).to_detail().unwrap();
        assert_eq!(
            (outcome["action"].as_str(), outcome["outcome"].as_str()),
            (Some("reset"), Some("succeeded"))
        );
        assert!(outcome.get("reason").is_none());
    }

    #[test]
    fn no_event_has_a_password_or_token_field() {
        for e in one_of_each() {
            let detail = e.to_detail().unwrap();
            assert!(!has_forbidden_field(&detail), "{}", e.detail_type());
        }
    }

    #[test]
    fn a_details_key_named_like_a_secret_is_refused() {
        let e = event(TenantLifecycle {
            change: LifecycleChange::Onboarded,
            details: BTreeMap::from([("Api_Token".into(), "x".into())]),
        });
        assert!(matches!(
            e.to_detail(),
            Err(EncodeError::ForbiddenField { .. })
        ));
    }

    #[test]
    fn decoding_refuses_unknown_types_and_missing_or_invalid_fields_without_quoting_them() {
        let e = one_of_each().remove(0);
        let json = e.to_detail_json().unwrap();
        assert_eq!(
            DomainEvent::from_eventbridge_detail("PasswordChanged", &json),
            Err(DecodeError::UnknownDetailType)
        );
        assert_eq!(
            DomainEvent::from_eventbridge_detail("TicketCreated", "[1]"),
            Err(DecodeError::NotAnObject)
        );
        let mut detail = e.to_detail().unwrap();
        detail.as_object_mut().unwrap().remove("correlation_id");
        assert_eq!(
            DomainEvent::from_detail_value("TicketCreated", detail),
            Err(DecodeError::Field("correlation_id"))
        );
        let mut detail = e.to_detail().unwrap();
        detail["ticket_id"] = Value::String("secret-looking-garbage".into());
        let err = DomainEvent::from_detail_value("TicketCreated", detail).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Payload {
                detail_type: "TicketCreated"
            }
        );
        assert!(!err.to_string().contains("garbage"));
        let mut detail = e.to_detail().unwrap();
        detail["tenant_id"] = Value::String("NOT#VALID".into());
        assert!(DomainEvent::from_detail_value("TicketCreated", detail).is_err());
    }

    #[test]
    fn unknown_fields_are_ignored_when_decoding() {
        let e = one_of_each().remove(0);
        let mut detail = e.to_detail().unwrap();
        detail["added_later"] = Value::String("x".into());
        assert_eq!(
            DomainEvent::from_detail_value("TicketCreated", detail).unwrap(),
            e
        );
    }

    #[test]
    fn system_actors_are_named_after_their_task() {
        let a = Actor::system(SystemTask::RetentionPurge);
        assert_eq!(
            (a.subject.as_str(), a.role.as_str()),
            ("system:retention_purge", SYSTEM_ROLE)
        );
    }
}
