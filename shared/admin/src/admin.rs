//! The `Admin` use-case object: its ports, the tenant gate, and what every
//! use case shares (who may act on which tenant, recording a change in the
//! trail). Every tenant request passes the gate first; credentials go into
//! the vault and never come back out of any use case.

use chrono::{DateTime, Utc};
use zerodesk_crypto::ConnectionSecrets;
use zerodesk_directory::DirectoryConnector;
use zerodesk_domain::{
    Action, Clock, CorrelationId, Principal, SystemTask, TenantId, TenantPolicy, TenantScope,
    is_allowed,
};
use zerodesk_events::{
    Actor as EventActor, ConfigChange, DomainEvent, LifecycleChange, Publisher,
    TenantConfigChanged, TenantLifecycle,
};
use zerodesk_ledger::AuditStore;
use zerodesk_store::{
    RateBucket, RateCounters, RateLimitError, TenantGate, TenantStatusSource, TenantStore,
    TicketStore,
};

use crate::error::AdminError;

/// An administrator stores a policy or a connection a few times a day, and
/// erasures come one person at a time: 10 changes a minute per caller and
/// 30 per tenant refuse only a script, and keep one tenant's admins from
/// crowding the gateway's shared limit.
pub const ADMIN_WRITES_PER_CALLER_PER_MINUTE: u32 = 10;
pub const ADMIN_WRITES_PER_TENANT_PER_MINUTE: u32 = 30;

/// The authenticated principal behind one admin request, and the request's
/// correlation id for what it publishes.
#[derive(Debug, Clone, Copy)]
pub struct RequestedBy<'a> {
    pub principal: &'a Principal,
    pub correlation_id: &'a CorrelationId,
}

/// The ports the admin use cases run on, one associated type each; a bundle
/// names the adapters (DynamoDB and KMS deployed, in-memory in tests).
pub trait AdminPorts {
    type Tenants: TenantStore + TenantStatusSource;
    type Tickets: TicketStore;
    type Audit: AuditStore;
    type Vault: ConnectionSecrets;
    /// Reaches the tenant's directory: checking a connection, resolving
    /// protected accounts and groups, revoking zerodesk's access.
    type Directories: DirectoryConnector;
    /// Write limits per caller and per tenant.
    type Counters: RateCounters;
    type Publisher: Publisher;
    type Clock: Clock;
}

/// The admin use cases over their ports. Every port call names the scope of
/// the one tenant it concerns; the adapters reach that tenant's items only.
/// Built as a struct literal, the gate usually `TenantGate::default()`.
pub struct Admin<P: AdminPorts> {
    pub tenants: P::Tenants,
    pub tickets: P::Tickets,
    pub audit: P::Audit,
    pub vault: P::Vault,
    pub directories: P::Directories,
    pub counters: P::Counters,
    pub publisher: P::Publisher,
    pub clock: P::Clock,
    pub gate: TenantGate,
}

impl<P: AdminPorts> Admin<P> {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The scope of a tenant principal allowed `action`, past the gate, and
    /// the tenant's policy.
    pub(crate) async fn tenant_scope(
        &self,
        by: RequestedBy<'_>,
        action: Action,
    ) -> Result<(TenantScope, TenantPolicy), AdminError> {
        let scope = TenantScope::for_principal(by.principal).ok_or(AdminError::Forbidden)?;
        // An offboarding tenant's users are refused on every route, whatever
        // their role, before anything else is looked at.
        let policy = self.gate.admit(&self.tenants, &scope).await?;
        if !is_allowed(by.principal.role, action) {
            return Err(AdminError::Forbidden);
        }
        Ok((scope, policy))
    }

    /// `tenant_scope` for a change, counted against the caller's and the
    /// tenant's write limits (one-minute windows; 429 past them).
    pub(crate) async fn tenant_write_scope(
        &self,
        by: RequestedBy<'_>,
        action: Action,
    ) -> Result<(TenantScope, TenantPolicy), AdminError> {
        let (scope, policy) = self.tenant_scope(by, action).await?;
        let now = self.now();
        let caller = RateBucket::Caller {
            routes: "admin",
            subject: by.principal.subject.clone(),
        };
        for (bucket, limit) in [
            (caller, ADMIN_WRITES_PER_CALLER_PER_MINUTE),
            (
                RateBucket::TenantWrites { routes: "admin" },
                ADMIN_WRITES_PER_TENANT_PER_MINUTE,
            ),
        ] {
            self.counters
                .consume(&scope, &bucket, limit, now)
                .await
                .map_err(|e| match e {
                    RateLimitError::Limited {
                        retry_after_seconds,
                    } => AdminError::RateLimited {
                        retry_after_seconds,
                    },
                    RateLimitError::Store(s) => s.into(),
                })?;
        }
        Ok((scope, policy))
    }

    /// Refuses early (before a body is read) a tenant request that the gate
    /// or the role would refuse anyway.
    pub async fn check(&self, by: RequestedBy<'_>, action: Action) -> Result<(), AdminError> {
        self.tenant_scope(by, action).await.map(|_| ())
    }

    pub(crate) fn platform_admin(
        &self,
        by: RequestedBy<'_>,
        action: Action,
    ) -> Result<(), AdminError> {
        if by.principal.role.is_platform() && is_allowed(by.principal.role, action) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    /// The scope a platform admin acts in on the named tenant.
    pub(crate) fn lifecycle_scope(raw: &str) -> Result<TenantScope, AdminError> {
        let tenant = TenantId::parse(raw).map_err(|_| AdminError::NotFound)?;
        Ok(TenantScope::for_system_task(
            tenant,
            SystemTask::TenantLifecycle,
        ))
    }

    /// Records a configuration change in the tenant's trail. The change is
    /// already made; a publishing failure is logged (and shows as a missing
    /// record), not turned into an error the caller would retry.
    pub(crate) async fn publish_config(
        &self,
        by: RequestedBy<'_>,
        scope: &TenantScope,
        change: ConfigChange,
        details: &[(&str, String)],
    ) {
        let event = DomainEvent::new(
            scope,
            EventActor::of(by.principal),
            by.correlation_id.clone(),
            TenantConfigChanged {
                change,
                details: details
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            },
        );
        if let Err(e) = self.publisher.publish_one(&event).await {
            tracing::error!(error = %e, "configuration change not recorded in the audit trail");
        }
    }

    pub(crate) async fn publish_lifecycle(
        &self,
        by: RequestedBy<'_>,
        scope: &TenantScope,
        change: LifecycleChange,
    ) -> Result<(), AdminError> {
        let event = DomainEvent::new(
            scope,
            EventActor::of(by.principal),
            by.correlation_id.clone(),
            TenantLifecycle {
                change,
                details: Default::default(),
            },
        );
        self.publish(&event).await
    }

    pub(crate) async fn publish(&self, event: &DomainEvent) -> Result<(), AdminError> {
        self.publisher
            .publish_one(event)
            .await
            .map_err(|e| AdminError::Unavailable(Box::new(e)))
    }
}
