//! audit-write's use case: a domain event becomes a record of the tenant's
//! chain (and, for tenant lifecycle changes, of the platform chain). Accounts
//! enter records only as pseudonyms; opaque subjects stay as they are. An
//! event redelivered is written once per chain; a failure is returned so
//! EventBridge retries and finally dead-letters.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use zerodesk_audit::{Actor, AuditDraft, ChainScope};
use zerodesk_domain::{SystemTask, TenantScope, TenantStatus};
use zerodesk_events::{DomainEvent, EventPayload, LifecycleChange};
use zerodesk_store::{TenantDb, TenantRepo};

use aws_sdk_dynamodb::Client;

use crate::audit_repo::{Appended, AuditRepo};
use crate::error::LedgerError;
use crate::salts::{Salt, SaltStore};

/// Days an audit record of a tenant without a policy is kept.
pub const DEFAULT_AUDIT_DAYS: u32 = 730;
/// Days a platform-trail record (lifecycle changes, purge receipts) is kept:
/// the longest retention a tenant may choose, since a receipt must outlive
/// any data it speaks for.
pub const PLATFORM_AUDIT_DAYS: u32 = 3650;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("appending to the audit chain failed")]
    Ledger(#[from] LedgerError),
    #[error("reading the tenant's retention failed")]
    Tenant(#[source] zerodesk_store::StoreError),
    #[error("the tenant's credentials could not be had")]
    TenantClient(#[source] zerodesk_store::StoreError),
}

impl WriteError {
    /// Whether EventBridge should retry; a non-transient failure goes to the DLQ.
    pub fn is_transient(&self) -> bool {
        match self {
            WriteError::Ledger(e) => e.is_transient(),
            WriteError::Tenant(e) | WriteError::TenantClient(e) => e.is_retryable(),
        }
    }
}

/// What happened on one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainWrite {
    Appended {
        chain: ChainScope,
        seq: u64,
    },
    Duplicate {
        chain: ChainScope,
        seq: u64,
    },
    /// The tenant is purged: nothing of it may be written again.
    SkippedPurgedTenant {
        chain: ChainScope,
    },
}

/// Appends events. The platform trail is written with the function's own
/// client; a tenant's chain, its salt and its retention are reached with
/// that tenant's client only.
#[derive(Debug)]
pub struct AuditWriter<D> {
    platform: AuditRepo,
    tenants_table: String,
    tenant_db: D,
    salts: SaltStore,
}

impl<D: TenantDb> AuditWriter<D> {
    pub fn new(
        own: Client,
        audit_table: impl Into<String>,
        tenants_table: impl Into<String>,
        tenant_db: D,
    ) -> Self {
        let audit_table = audit_table.into();
        Self {
            platform: AuditRepo::new(own, audit_table.clone()),
            tenants_table: tenants_table.into(),
            tenant_db,
            salts: SaltStore::new(audit_table),
        }
    }

    pub async fn write(&self, event: &DomainEvent) -> Result<Vec<ChainWrite>, WriteError> {
        let mut results = Vec::new();
        for chain in chains_of(event) {
            results.push(self.write_to(event, chain).await?);
        }
        Ok(results)
    }

    async fn write_to(
        &self,
        event: &DomainEvent,
        chain: ChainScope,
    ) -> Result<ChainWrite, WriteError> {
        let (repo, days) = match &chain {
            ChainScope::Platform => (self.platform.clone(), PLATFORM_AUDIT_DAYS),
            ChainScope::Tenant(tenant) => {
                let scope = TenantScope::for_system_task(tenant.clone(), SystemTask::AuditAppend);
                let client = self
                    .tenant_db
                    .client(&scope)
                    .await
                    .map_err(WriteError::TenantClient)?;
                let tenants = TenantRepo::new(client.clone(), &self.tenants_table);
                let days = match tenants.get(&scope).await.map_err(WriteError::Tenant)? {
                    Some(t) if matches!(t.status, TenantStatus::Purged { .. }) => {
                        tracing::warn!(
                            tenant_id = %tenant,
                            event_id = %event.event_id,
                            "event for a purged tenant not written"
                        );
                        return Ok(ChainWrite::SkippedPurgedTenant { chain });
                    }
                    Some(t) => t.policy.retention.audit_days,
                    None => DEFAULT_AUDIT_DAYS,
                };
                (self.platform.with_client(client), days)
            }
        };
        let salt = self.salts.salt(repo.client(), &chain).await?;
        let draft = draft_of(event, chain.clone(), &salt);
        let expires_at = expiry(event.time, days);
        match repo.append(draft, expires_at).await? {
            Appended::New(record) => {
                tracing::info!(chain = %chain, seq = record.seq, event_id = %event.event_id, "appended");
                Ok(ChainWrite::Appended {
                    chain,
                    seq: record.seq,
                })
            }
            Appended::Duplicate { seq } => {
                tracing::info!(chain = %chain, seq, event_id = %event.event_id, "duplicate event");
                Ok(ChainWrite::Duplicate { chain, seq })
            }
        }
    }
}

fn expiry(time: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    time + Duration::days(i64::from(days))
}

/// The chains an event belongs to. A tenant's lifecycle is the platform's
/// business and the tenant's; a purge receipt only the platform's (the
/// tenant's chain is gone).
pub fn chains_of(event: &DomainEvent) -> Vec<ChainScope> {
    let tenant = ChainScope::Tenant(event.tenant_id.clone());
    match &event.payload {
        EventPayload::TenantLifecycle(l) if l.change == LifecycleChange::Purged => {
            vec![ChainScope::Platform]
        }
        EventPayload::TenantLifecycle(_) => vec![ChainScope::Platform, tenant],
        _ => vec![tenant],
    }
}

/// The serde name of an enum value (`"account_unlock"`).
fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The record draft of an event on one chain. Accounts are pseudonymized
/// with the chain's salt; nothing else of the event is transformed.
pub fn draft_of(event: &DomainEvent, chain: ChainScope, salt: &Salt) -> AuditDraft {
    let mut draft = AuditDraft::new(
        chain,
        event.event_id.to_string(),
        event.time,
        Actor::new(salt.protect(&event.actor.subject), &event.actor.role),
        event.detail_type(),
        event.correlation_id.clone(),
    );
    draft.ticket_id = event.ticket_id();
    let mut details = BTreeMap::new();
    match &event.payload {
        EventPayload::TicketCreated(_) => {
            draft.new_state = Some("created".to_owned());
        }
        EventPayload::TicketTriaged(p) => {
            draft.rationale = p.rationale.clone();
            details.insert("category".to_owned(), name(&p.category));
            details.insert("decision".to_owned(), name(&p.decision));
            details.insert("confidence".to_owned(), format!("{:.2}", p.confidence));
            if !p.risk_flags.is_empty() {
                let flags: Vec<String> = p.risk_flags.iter().map(name).collect();
                details.insert("risk_flags".to_owned(), flags.join(","));
            }
        }
        EventPayload::TicketStateChanged(p) => {
            draft.old_state = Some(p.old_state.as_str().to_owned());
            draft.new_state = Some(p.new_state.as_str().to_owned());
            draft.reason = p.reason.clone();
        }
        EventPayload::DirectoryActionIntent(p) => {
            details.insert("target".to_owned(), salt.pseudonym(&p.target));
            details.insert("provider".to_owned(), name(&p.provider));
            draft = draft.with_directory_action(p.action.as_str());
        }
        EventPayload::DirectoryActionOutcome(p) => {
            draft.outcome = Some(name(&p.outcome));
            draft.reason = p.reason.clone();
            draft = draft.with_directory_action(p.action.as_str());
        }
        EventPayload::AccessDenied(p) => {
            draft.outcome = Some("denied".to_owned());
            draft.reason = Some(p.reason.clone());
            details.insert("route".to_owned(), p.route.clone());
        }
        EventPayload::PlatformAccess(p) => {
            details.insert("operator".to_owned(), salt.protect(&p.operator));
            details.insert("route".to_owned(), p.route.clone());
        }
        EventPayload::TenantLifecycle(p) => {
            draft.outcome = Some(name(&p.change));
            details.extend(p.details.clone());
            details.insert("tenant_id".to_owned(), event.tenant_id.to_string());
        }
        EventPayload::TenantConfigChanged(p) => {
            draft.outcome = Some(name(&p.change));
            details.extend(p.details.clone());
        }
        EventPayload::OwnerVerificationChanged(p) => {
            draft.outcome = Some(p.step.as_str().to_owned());
            draft.reason = p.reason.clone();
            details.insert("method".to_owned(), p.method.clone());
            details.insert("channel".to_owned(), p.channel.clone());
            draft = draft.with_directory_action(p.action.as_str());
        }
        EventPayload::SecurityIncidentReported(p) => {
            draft.outcome = Some("security_incident".to_owned());
            details.insert(
                "sessions_revoked".to_owned(),
                p.sessions_revoked.to_string(),
            );
            details.insert(
                "contacts_alerted".to_owned(),
                p.contacts_alerted.to_string(),
            );
            draft = draft.with_directory_action(p.action.as_str());
        }
        EventPayload::OwnerNotified(p) => {
            draft.outcome = Some("notified".to_owned());
            details.insert("notice".to_owned(), p.notice.clone());
            details.insert("channel".to_owned(), p.channel.clone());
        }
    }
    draft.details.extend(details);
    draft
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerodesk_domain::{AccountRef, CorrelationId, TenantId, TicketId};
    use zerodesk_events::{
        Actor as EventActor, DirectoryAction, DirectoryActionIntent, DirectoryProvider,
        TenantLifecycle, TicketStateChanged,
    };

    fn scope() -> TenantScope {
        TenantScope::for_system_task(TenantId::parse("demo").unwrap(), SystemTask::AuditAppend)
    }

    fn event(payload: impl Into<EventPayload>) -> DomainEvent {
        DomainEvent::new(
            &scope(),
            EventActor {
                subject: "alice@demo.example".into(),
                role: "tenant_user".into(),
            },
            CorrelationId::parse("corr-1").unwrap(),
            payload,
        )
    }

    #[test]
    fn a_state_change_carries_actor_states_ticket_and_correlation() {
        let salt = Salt::from_bytes(&[1u8; 32]);
        let ticket = TicketId::generate();
        let e = event(TicketStateChanged {
            ticket_id: ticket,
            old_state: zerodesk_domain::TicketState::Triaged,
            new_state: zerodesk_domain::TicketState::InProgress,
            reason: Some("auto_resolve".into()),
        });
        let d = draft_of(&e, ChainScope::Tenant(e.tenant_id.clone()), &salt);
        assert_eq!(d.action, "TicketStateChanged");
        assert_eq!(d.ticket_id, Some(ticket));
        assert_eq!(d.old_state.as_deref(), Some("triaged"));
        assert_eq!(d.new_state.as_deref(), Some("in_progress"));
        assert_eq!(d.reason.as_deref(), Some("auto_resolve"));
        assert_eq!(d.correlation_id.as_str(), "corr-1");
        assert_eq!(d.event_id, e.event_id.to_string());
        assert_eq!(d.actor.role, "tenant_user");
    }

    #[test]
    fn accounts_enter_the_record_only_as_pseudonyms() {
        let salt = Salt::from_bytes(&[1u8; 32]);
        let target = AccountRef::parse("bob@demo.example").unwrap();
        let e = event(DirectoryActionIntent {
            ticket_id: TicketId::generate(),
            action: DirectoryAction::Reset,
            target: target.clone(),
            provider: DirectoryProvider::Okta,
        });
        let d = draft_of(&e, ChainScope::Tenant(e.tenant_id.clone()), &salt);
        let encoded = format!("{d:?}");
        assert!(!encoded.contains("alice@"), "{encoded}");
        assert!(!encoded.contains("bob@"), "{encoded}");
        assert_eq!(d.details["target"], salt.pseudonym(&target));
        assert_eq!(d.details["directory_action"], "reset");
        assert!(d.actor.subject.starts_with("pseud_"));
    }

    #[test]
    fn lifecycle_changes_go_to_the_platform_and_purges_only_there() {
        let offboarded = event(TenantLifecycle {
            change: LifecycleChange::Offboarded,
            details: BTreeMap::new(),
        });
        assert_eq!(chains_of(&offboarded).len(), 2);
        assert_eq!(chains_of(&offboarded)[0], ChainScope::Platform);
        let purged = event(TenantLifecycle {
            change: LifecycleChange::Purged,
            details: BTreeMap::new(),
        });
        assert_eq!(chains_of(&purged), vec![ChainScope::Platform]);
    }
}
