//! Erasure of one person (tenant admins): their personal data in the
//! tenant's tickets is replaced (text by `[erased]`, their account by an
//! address derived from their pseudonym, which matches no one). Audit
//! records are left alone: they never held the account, only the same
//! pseudonym.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zerodesk_domain::{AccountRef, Action, TenantScope, Ticket};
use zerodesk_events::ConfigChange;
use zerodesk_ledger::{AuditStore, Salt};
use zerodesk_store::{PageRequest, StoreError, TicketStore};

use crate::admin::{Admin, AdminPorts, RequestedBy};
use crate::error::AdminError;

pub const ERASED_TEXT: &str = "[erased]";
const MAX_CONFLICT_RETRIES: usize = 3;

/// Body of `POST /erasure`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// What the audit trail calls this person (none until audit-write has
    /// made the tenant's salt, when no record names anyone yet).
    pub pseudonym: Option<String>,
    pub tickets_redacted: usize,
    pub erased_at: DateTime<Utc>,
}

/// The account that stands in for an erased one: valid, unroutable
/// (`.invalid` is reserved), and the same for the same person.
pub fn erased_account(salt: &Salt, account: &AccountRef) -> Option<AccountRef> {
    let p = salt.pseudonym(account);
    let hex = p.strip_prefix(zerodesk_ledger::audit::PSEUDONYM_PREFIX)?;
    AccountRef::parse(&format!("erased-{hex}@erased.invalid")).ok()
}

fn concerns(ticket: &Ticket, account: &AccountRef) -> bool {
    ticket.requester == *account
        || ticket.classification.target.as_ref() == Some(account)
        || ticket.filed_by.eq_ignore_ascii_case(account.as_str())
        || ticket
            .approved_by
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(account.as_str()))
}

/// The ticket with the person's data replaced. Ticket text is erased whole:
/// it was written by or about them and may name them anywhere.
pub fn redact(ticket: &Ticket, account: &AccountRef, salt: &Salt, stand_in: &AccountRef) -> Ticket {
    let mut t = ticket.clone();
    let pseudonym = salt.pseudonym(account);
    if t.requester == *account {
        t.requester = stand_in.clone();
    }
    if t.classification.target.as_ref() == Some(account) {
        t.classification.target = Some(stand_in.clone());
    }
    if t.filed_by.eq_ignore_ascii_case(account.as_str()) {
        t.filed_by = pseudonym.clone();
    }
    if t.approved_by
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case(account.as_str()))
    {
        t.approved_by = Some(pseudonym);
    }
    t.subject = ERASED_TEXT.to_owned();
    t.body = ERASED_TEXT.to_owned();
    if !t.classification.rationale.is_empty() {
        t.classification.rationale = vec![ERASED_TEXT.to_owned()];
    }
    t
}

/// Without the tenant's salt (no audit record yet), a one-off random salt
/// makes the stand-in: it then only has to match nothing.
fn salt_or_random(salt: Option<&Salt>) -> Salt {
    match salt {
        Some(s) => s.clone(),
        None => {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            Salt::from_bytes(&bytes)
        }
    }
}

/// Walks the tenant's tickets (a Query by partition, never a Scan) and
/// redacts each that concerns `account`. Running it again changes nothing.
pub async fn erase_person(
    tickets: &impl TicketStore,
    scope: &TenantScope,
    account: &AccountRef,
    tenant_salt: Option<&Salt>,
    ticket_retention_days: u32,
    now: DateTime<Utc>,
) -> Result<ErasureReport, StoreError> {
    let salt = &salt_or_random(tenant_salt);
    let stand_in = erased_account(salt, account)
        .ok_or_else(|| StoreError::Corrupt("pseudonym shape".into()))?;
    let mut redacted = 0;
    let mut page = PageRequest {
        limit: Some(100),
        cursor: None,
    };
    loop {
        let batch = tickets.list(scope, &page).await?;
        for ticket in batch.items.iter().filter(|t| concerns(t, account)) {
            let mut current = ticket.clone();
            for attempt in 0.. {
                let updated = redact(&current, account, salt, &stand_in);
                match tickets
                    .replace(scope, &updated, current.state, ticket_retention_days)
                    .await
                {
                    Ok(()) => break,
                    Err(StoreError::Conflict) if attempt < MAX_CONFLICT_RETRIES => {
                        match tickets.get(scope, &current.id).await? {
                            Some(t) => current = t,
                            None => break,
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            redacted += 1;
        }
        match batch.next_cursor {
            Some(c) => page.cursor = Some(c),
            None => break,
        }
    }
    Ok(ErasureReport {
        pseudonym: tenant_salt.map(|s| s.pseudonym(account)),
        tickets_redacted: redacted,
        erased_at: now,
    })
}

impl<P: AdminPorts> Admin<P> {
    /// Redacts one person's personal data in the tenant's tickets (tenant
    /// admins). Audit records already hold only a pseudonym for them.
    pub async fn erase(
        &self,
        by: RequestedBy<'_>,
        input: ErasureInput,
    ) -> Result<ErasureReport, AdminError> {
        let (scope, policy) = self.tenant_write_scope(by, Action::WritePolicy).await?;
        let account = AccountRef::parse(&input.account)
            .map_err(|_| AdminError::invalid("account", "must be an email address"))?;
        let salt = self.audit.salt(&scope).await?;
        let report = erase_person(
            &self.tickets,
            &scope,
            &account,
            salt.as_ref(),
            policy.retention.ticket_days,
            self.now(),
        )
        .await?;
        let mut details = vec![("tickets_redacted", report.tickets_redacted.to_string())];
        if let Some(p) = &report.pseudonym {
            details.push(("pseudonym", p.clone()));
        }
        self.publish_config(by, &scope, ConfigChange::PersonErased, &details)
            .await;
        Ok(report)
    }
}
