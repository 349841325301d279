//! Reading a tenant's audit trail: a page, the verification, the export. For
//! the tenant's own auditors and admins, or for platform operators and
//! readonly auditors through the platform path, whose every read is first
//! recorded in that tenant's trail (no record, no read). The audit store
//! reads and verifies; this module decides who may and parses the query.

use chrono::{DateTime, Utc};
use zerodesk_domain::{Action, TenantId, TenantScope, TenantStatus, TicketId};
use zerodesk_events::{Actor as EventActor, DomainEvent, PlatformAccess};
use zerodesk_ledger::audit::ChainScope;
use zerodesk_ledger::audit_repo::MAX_AUDIT_PAGE;
use zerodesk_ledger::{
    AuditFilter, AuditPage, AuditPageRequest, AuditStore, TrailVerification, export_records,
    verify_records,
};
use zerodesk_store::TenantStore;

use crate::admin::{Admin, AdminPorts, RequestedBy};
use crate::error::AdminError;

/// A platform route's tenant and the route template, for the access record.
#[derive(Debug, Clone, Copy)]
pub struct PlatformTarget<'a> {
    pub tenant: &'a str,
    pub route: &'a str,
}

/// Raw query parameters of `GET /audit` and `GET /audit/export`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub ticket: Option<String>,
    pub actor: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn parse_time(field: &'static str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, AdminError> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| AdminError::invalid(field, "must be an RFC 3339 timestamp"))
    })
    .transpose()
}

fn audit_filter(
    q: &AuditQuery,
    paged: bool,
) -> Result<(AuditFilter, AuditPageRequest), AdminError> {
    let from = parse_time("from", q.from.as_deref())?;
    let to = parse_time("to", q.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(AdminError::invalid("from", "must not be after 'to'"));
    }
    if !paged {
        for (field, v) in [
            ("ticket", &q.ticket),
            ("actor", &q.actor),
            ("cursor", &q.cursor),
            ("limit", &q.limit),
        ] {
            if v.is_some() {
                return Err(AdminError::invalid(field, "is not accepted by the export"));
            }
        }
    }
    let ticket_id = q
        .ticket
        .as_deref()
        .map(|t| {
            TicketId::parse(t).map_err(|_| AdminError::invalid("ticket", "must be a ticket id"))
        })
        .transpose()?;
    let actor_subject = q
        .actor
        .as_deref()
        .map(|a| {
            let a = a.trim();
            if a.is_empty() || a.len() > 256 {
                Err(AdminError::invalid("actor", "must be 1-256 characters"))
            } else {
                Ok(a.to_owned())
            }
        })
        .transpose()?;
    let limit = q
        .limit
        .as_deref()
        .map(|l| {
            l.parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_AUDIT_PAGE).contains(l))
                .ok_or(AdminError::invalid(
                    "limit",
                    "must be a number from 1 to 200",
                ))
        })
        .transpose()?;
    Ok((
        AuditFilter {
            from,
            to,
            ticket_id,
            actor_subject,
        },
        AuditPageRequest {
            limit,
            cursor: q.cursor.clone(),
        },
    ))
}

impl<P: AdminPorts> Admin<P> {
    /// The scope for reading a tenant's audit trail: the caller's own tenant,
    /// or the named tenant through the platform path. For the latter, the
    /// access record to publish before anything is read (no record, no read).
    async fn audit_scope(
        &self,
        by: RequestedBy<'_>,
        platform: Option<PlatformTarget<'_>>,
    ) -> Result<(TenantScope, u32, Option<DomainEvent>), AdminError> {
        let Some(target) = platform else {
            let (scope, policy) = self.tenant_scope(by, Action::ReadAudit).await?;
            return Ok((scope, policy.retention.audit_days, None));
        };
        if !by.principal.role.is_platform() {
            return Err(AdminError::Forbidden);
        }
        let tenant = TenantId::parse(target.tenant).map_err(|_| AdminError::NotFound)?;
        let scope =
            TenantScope::for_platform_access(by.principal, tenant, Action::PlatformReadTenant)
                .ok_or(AdminError::Forbidden)?;
        let record = self
            .tenants
            .get(&scope)
            .await?
            .ok_or(AdminError::NotFound)?;
        if matches!(record.status, TenantStatus::Purged { .. }) {
            return Err(AdminError::NotFound);
        }
        let event = DomainEvent::new(
            &scope,
            EventActor::of(by.principal),
            by.correlation_id.clone(),
            PlatformAccess {
                ticket_id: None,
                operator: by.principal.subject.clone(),
                route: target.route.to_owned(),
            },
        );
        Ok((scope, record.policy.retention.audit_days, Some(event)))
    }

    async fn record_access(&self, access: Option<DomainEvent>) -> Result<(), AdminError> {
        match access {
            Some(event) => self.publish(&event).await,
            None => Ok(()),
        }
    }

    pub async fn audit_page(
        &self,
        by: RequestedBy<'_>,
        platform: Option<PlatformTarget<'_>>,
        query: &AuditQuery,
    ) -> Result<AuditPage, AdminError> {
        let (scope, _, access) = self.audit_scope(by, platform).await?;
        let (mut filter, page) = audit_filter(query, true)?;
        self.record_access(access).await?;
        if let Some(actor) = filter.actor_subject.take() {
            // Without a salt no record holds a pseudonym yet.
            filter.actor_subject = Some(match self.audit.salt(&scope).await? {
                Some(salt) => salt.protect(&actor),
                None => actor,
            });
        }
        Ok(self.audit.page(&scope, &filter, &page).await?)
    }

    pub async fn audit_verify(
        &self,
        by: RequestedBy<'_>,
        platform: Option<PlatformTarget<'_>>,
    ) -> Result<TrailVerification, AdminError> {
        let (scope, retention, access) = self.audit_scope(by, platform).await?;
        self.record_access(access).await?;
        let stored = self.audit.read_all(&scope, &AuditFilter::default()).await?;
        let chain = ChainScope::Tenant(scope.tenant().clone());
        Ok(verify_records(&chain, stored, retention, self.now()))
    }

    /// JSON Lines of the whole trail, or of records within `from`..=`to`.
    pub async fn audit_export(
        &self,
        by: RequestedBy<'_>,
        platform: Option<PlatformTarget<'_>>,
        query: &AuditQuery,
    ) -> Result<Vec<u8>, AdminError> {
        let (scope, _, access) = self.audit_scope(by, platform).await?;
        let (filter, _) = audit_filter(query, false)?;
        self.record_access(access).await?;
        let stored = self.audit.read_all(&scope, &filter).await?;
        Ok(export_records(stored)?)
    }
}
