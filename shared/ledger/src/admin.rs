//! The admin use cases: a tenant's audit trail (read, verify, export) for its
//! auditors and admins and, through the audited platform path, for platform
//! operators and readonly auditors; tenant policy; the directory connection;
//! and the tenant lifecycle (onboard, offboard, restore) for platform admins.
//! Every tenant request passes the tenant gate first. Credentials go into
//! the vault and never come back out of any function here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zerodesk_audit::ChainScope;
use zerodesk_crypto::SecretBytes;
use zerodesk_domain::{
    AccountRef, Action, ConnectionId, CorrelationId, PolicyError, Principal, SystemTask, Tenant,
    TenantId, TenantPolicy, TenantScope, TenantStatus, TicketId, is_allowed,
};
use zerodesk_events::{
    Actor as EventActor, ConfigChange, DomainEvent, LifecycleChange, PlatformAccess, Publisher,
    TenantConfigChanged, TenantLifecycle,
};
use zerodesk_store::{ConnectionMetadata, StoreError, TenantRepo, TicketRepo};

use crate::audit_repo::{AuditFilter, AuditPage, AuditPageRequest, AuditRepo};
use crate::db::TenantDb;
use crate::erasure::{ErasureReport, erase_person};
use crate::error::{BoxError, LedgerError};
use crate::purge::PurgeTables;
use crate::salts::SaltStore;
use crate::trail::{TrailVerification, export_stored, verify_stored};
use zerodesk_crypto::{ConnectionSecrets, SecretsError};
use zerodesk_store::{GateError, TenantGate};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("the tenant is not active")]
    TenantInactive,
    #[error("invalid value for '{field}': {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("a dependency is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl AdminError {
    fn invalid(field: &'static str, reason: &'static str) -> Self {
        AdminError::Invalid { field, reason }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::AlreadyExists => AdminError::Conflict("the tenant already exists"),
            StoreError::Conflict => AdminError::Conflict("the resource changed; reload and retry"),
            StoreError::BadCursor => AdminError::invalid("cursor", "is not a valid cursor"),
            StoreError::Corrupt(_) => AdminError::Internal("a stored item is corrupt"),
            e => AdminError::Unavailable(Box::new(e)),
        }
    }
}

impl From<LedgerError> for AdminError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::BadCursor => AdminError::invalid("cursor", "is not a valid cursor"),
            LedgerError::Unreadable { .. } | LedgerError::Corrupt(_) => {
                AdminError::Internal("the audit trail has an unreadable record; run verify")
            }
            e => AdminError::Unavailable(Box::new(e)),
        }
    }
}

impl From<SecretsError> for AdminError {
    fn from(e: SecretsError) -> Self {
        AdminError::Unavailable(Box::new(e))
    }
}

impl From<GateError> for AdminError {
    fn from(e: GateError) -> Self {
        match e {
            GateError::Unknown | GateError::Inactive => AdminError::TenantInactive,
            GateError::Store(e) => AdminError::Unavailable(Box::new(e)),
        }
    }
}

/// Who is asking, for one request.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub principal: &'a Principal,
    pub correlation_id: &'a CorrelationId,
}

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

/// Body of `PUT /connection`. `credentials` is whatever the provider needs
/// (a service-account key object, a client secret, an API token); it is
/// sealed as given and never read back by this API.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionInput {
    pub provider: String,
    pub directory: String,
    pub credentials: serde_json::Value,
}

impl std::fmt::Debug for ConnectionInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInput")
            .field("provider", &self.provider)
            .field("directory", &self.directory)
            .field("credentials", &"[redacted]")
            .finish()
    }
}

pub const PROVIDERS: [&str; 3] = ["google", "graph", "okta"];

/// Body of `POST /platform/tenants`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub tenant_id: String,
    pub name: String,
    #[serde(default)]
    pub policy: Option<TenantPolicy>,
}

/// Body of `POST /erasure`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    pub account: String,
}

/// A tenant as platform routes show it: no policy details, no connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantView {
    pub tenant_id: TenantId,
    pub name: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        let status_since = match &t.status {
            TenantStatus::Active => None,
            TenantStatus::Offboarding { since } => Some(*since),
            TenantStatus::Purged { at } => Some(*at),
        };
        Self {
            tenant_id: t.id.clone(),
            name: t.name.clone(),
            status: t.status.as_str(),
            status_since,
            created_at: t.created_at,
        }
    }
}

/// Clock for lifecycle decisions; tests move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl<F: Fn() -> DateTime<Utc> + Send + Sync> Clock for F {
    fn now(&self) -> DateTime<Utc> {
        self()
    }
}

/// The admin use cases. Every read or write of a tenant's items goes through
/// that tenant's client (`db`), never a client of another tenant.
pub struct Admin<P, V, C, D> {
    pub tables: PurgeTables,
    pub db: D,
    pub salts: SaltStore,
    pub publisher: P,
    pub vault: V,
    pub gate: TenantGate,
    pub clock: C,
}

/// The repositories of one tenant, on that tenant's client.
pub struct Repos {
    pub client: aws_sdk_dynamodb::Client,
    pub audit: AuditRepo,
    pub tenants: TenantRepo,
    pub tickets: TicketRepo,
}

impl<P, V, C, D> Admin<P, V, C, D>
where
    P: Publisher,
    V: ConnectionSecrets,
    C: Clock,
    D: TenantDb,
{
    pub fn new(tables: PurgeTables, db: D, publisher: P, vault: V, clock: C) -> Self {
        Self {
            salts: SaltStore::new(tables.audit.clone()),
            tables,
            db,
            publisher,
            vault,
            gate: TenantGate::default(),
            clock,
        }
    }

    // ---- access ----------------------------------------------------------

    /// The repositories of the scope's tenant.
    pub async fn repos(&self, scope: &TenantScope) -> Result<Repos, AdminError> {
        let client = self.db.client(scope).await?;
        Ok(Repos {
            audit: AuditRepo::new(client.clone(), &self.tables.audit),
            tenants: TenantRepo::new(client.clone(), &self.tables.tenants),
            tickets: TicketRepo::new(client.clone(), &self.tables.tickets),
            client,
        })
    }

    /// The scope of a tenant principal allowed `action`, past the gate.
    async fn tenant_scope(
        &self,
        caller: Caller<'_>,
        action: Action,
    ) -> Result<(TenantScope, TenantPolicy, Repos), AdminError> {
        let scope = TenantScope::for_principal(caller.principal).ok_or(AdminError::Forbidden)?;
        let repos = self.repos(&scope).await?;
        // An offboarding tenant's users are refused on every route, whatever
        // their role, before anything else is looked at.
        let policy = self.gate.admit(&repos.tenants, &scope).await?;
        if !is_allowed(caller.principal.role, action) {
            return Err(AdminError::Forbidden);
        }
        Ok((scope, policy, repos))
    }

    /// The scope for reading a tenant's audit trail: the caller's own tenant,
    /// or the named tenant through the platform path. For the latter, the
    /// access record to publish before anything is read (no record, no read).
    async fn audit_scope(
        &self,
        caller: Caller<'_>,
        platform: Option<PlatformTarget<'_>>,
    ) -> Result<(TenantScope, u32, Repos, Option<DomainEvent>), AdminError> {
        let Some(target) = platform else {
            let (scope, policy, repos) = self.tenant_scope(caller, Action::ReadAudit).await?;
            return Ok((scope, policy.retention.audit_days, repos, None));
        };
        if !caller.principal.role.is_platform() {
            return Err(AdminError::Forbidden);
        }
        let tenant = TenantId::parse(target.tenant).map_err(|_| AdminError::NotFound)?;
        let scope =
            TenantScope::for_platform_access(caller.principal, tenant, Action::PlatformReadTenant)
                .ok_or(AdminError::Forbidden)?;
        let repos = self.repos(&scope).await?;
        let record = repos
            .tenants
            .get(&scope)
            .await?
            .ok_or(AdminError::NotFound)?;
        if matches!(record.status, TenantStatus::Purged { .. }) {
            return Err(AdminError::NotFound);
        }
        let event = DomainEvent::new(
            &scope,
            EventActor::of(caller.principal),
            caller.correlation_id.clone(),
            PlatformAccess {
                ticket_id: None,
                operator: caller.principal.subject.clone(),
                route: target.route.to_owned(),
            },
        );
        Ok((
            scope,
            record.policy.retention.audit_days,
            repos,
            Some(event),
        ))
    }

    async fn record_access(&self, access: Option<DomainEvent>) -> Result<(), AdminError> {
        match access {
            Some(event) => self
                .publisher
                .publish_one(&event)
                .await
                .map_err(|e| AdminError::Unavailable(Box::new(e))),
            None => Ok(()),
        }
    }

    /// Refuses early (before a body is read) a tenant request that the gate
    /// or the role would refuse anyway.
    pub async fn check(&self, caller: Caller<'_>, action: Action) -> Result<(), AdminError> {
        self.tenant_scope(caller, action).await.map(|_| ())
    }

    // ---- audit -----------------------------------------------------------

    pub async fn audit_page(
        &self,
        caller: Caller<'_>,
        platform: Option<PlatformTarget<'_>>,
        query: &AuditQuery,
    ) -> Result<AuditPage, AdminError> {
        let (scope, _, repos, access) = self.audit_scope(caller, platform).await?;
        let (mut filter, page) = self.audit_filter(query, true)?;
        self.record_access(access).await?;
        let chain = ChainScope::Tenant(scope.tenant().clone());
        if let Some(actor) = filter.actor_subject.take() {
            // Without a salt no record holds a pseudonym yet.
            let salt = self.salts.existing(&repos.client, &chain).await?;
            filter.actor_subject = Some(match salt {
                Some(salt) => salt.protect(&actor),
                None => actor,
            });
        }
        Ok(repos.audit.page(&chain, &filter, &page).await?)
    }

    pub async fn audit_verify(
        &self,
        caller: Caller<'_>,
        platform: Option<PlatformTarget<'_>>,
    ) -> Result<TrailVerification, AdminError> {
        let (scope, retention, repos, access) = self.audit_scope(caller, platform).await?;
        self.record_access(access).await?;
        let chain = ChainScope::Tenant(scope.tenant().clone());
        Ok(verify_stored(&repos.audit, &chain, retention, self.clock.now()).await?)
    }

    /// JSON Lines of the whole trail, or of records within `from`..=`to`.
    pub async fn audit_export(
        &self,
        caller: Caller<'_>,
        platform: Option<PlatformTarget<'_>>,
        query: &AuditQuery,
    ) -> Result<Vec<u8>, AdminError> {
        let (scope, _, repos, access) = self.audit_scope(caller, platform).await?;
        let (filter, _) = self.audit_filter(query, false)?;
        self.record_access(access).await?;
        let chain = ChainScope::Tenant(scope.tenant().clone());
        Ok(export_stored(&repos.audit, &chain, &filter).await?)
    }

    fn audit_filter(
        &self,
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
                    .filter(|l| (1..=crate::audit_repo::MAX_AUDIT_PAGE).contains(l))
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

    // ---- policy ----------------------------------------------------------

    pub async fn get_policy(&self, caller: Caller<'_>) -> Result<TenantPolicy, AdminError> {
        let (_, policy, _) = self.tenant_scope(caller, Action::ReadPolicy).await?;
        Ok(policy)
    }

    /// Replaces the policy. A value out of bounds names its field.
    pub async fn put_policy(
        &self,
        caller: Caller<'_>,
        policy: TenantPolicy,
    ) -> Result<TenantPolicy, AdminError> {
        let (scope, _, repos) = self.tenant_scope(caller, Action::WritePolicy).await?;
        policy
            .validate()
            .map_err(|e: PolicyError| AdminError::Invalid {
                field: e.field(),
                reason: "is out of the allowed bounds",
            })?;
        let mut tenant = repos
            .tenants
            .get(&scope)
            .await?
            .ok_or(AdminError::TenantInactive)?;
        tenant.policy = policy.clone();
        repos.tenants.replace(&scope, &tenant, "active").await?;
        self.gate.evict(scope.tenant());
        let automated: Vec<&str> = policy.auto_resolve.iter().map(|c| c.as_str()).collect();
        let details = [
            ("auto_resolve", automated.join(",")),
            (
                "protected_accounts",
                policy.protected_accounts.len().to_string(),
            ),
            (
                "protected_groups",
                policy.protected_groups.len().to_string(),
            ),
            (
                "ticket_retention_days",
                policy.retention.ticket_days.to_string(),
            ),
            (
                "audit_retention_days",
                policy.retention.audit_days.to_string(),
            ),
        ];
        self.publish_config(caller, &scope, ConfigChange::PolicyUpdated, &details)
            .await;
        Ok(policy)
    }

    // ---- connection ------------------------------------------------------

    /// Seals and stores the credentials, then records the metadata. The
    /// answer is the metadata only.
    pub async fn put_connection(
        &self,
        caller: Caller<'_>,
        input: ConnectionInput,
    ) -> Result<ConnectionMetadata, AdminError> {
        let (scope, _, repos) = self.tenant_scope(caller, Action::ManageConnection).await?;
        let ConnectionInput {
            provider,
            directory,
            credentials,
        } = input;
        if !PROVIDERS.contains(&provider.as_str()) {
            return Err(AdminError::invalid(
                "provider",
                "must be google, graph or okta",
            ));
        }
        let directory = directory.trim().to_owned();
        if directory.is_empty()
            || directory.len() > 253
            || !directory.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(AdminError::invalid(
                "directory",
                "must be 1-253 printable characters (a domain, Entra tenant or Okta org)",
            ));
        }
        let secret = match credentials {
            serde_json::Value::String(s) if !s.is_empty() => SecretBytes::from(s),
            serde_json::Value::Object(o) if !o.is_empty() => {
                let bytes = serde_json::to_vec(&o)
                    .map_err(|_| AdminError::invalid("credentials", "is not valid JSON"))?;
                SecretBytes::new(bytes)
            }
            _ => {
                return Err(AdminError::invalid(
                    "credentials",
                    "must be a non-empty string or object",
                ));
            }
        };
        let connection_id = ConnectionId::parse(&format!(
            "conn-{}",
            ulid::Ulid::new().to_string().to_ascii_lowercase()
        ))
        .map_err(|_| AdminError::Internal("connection id"))?;
        self.vault.store(&scope, &connection_id, secret).await?;
        let meta = ConnectionMetadata {
            connection_id,
            provider,
            directory,
            connected_at: self.clock.now(),
            connected_by: caller.principal.subject.clone(),
        };
        repos.tenants.put_connection(&scope, &meta).await?;
        let details = [
            ("provider", meta.provider.clone()),
            ("connection_id", meta.connection_id.to_string()),
        ];
        self.publish_config(caller, &scope, ConfigChange::ConnectionStored, &details)
            .await;
        Ok(meta)
    }

    /// Destroys the secret (no recovery window) and forgets the connection.
    /// The directory crate offers no revocation of the connection's own
    /// grant, so revocation at the provider is left to the tenant's console.
    pub async fn delete_connection(&self, caller: Caller<'_>) -> Result<(), AdminError> {
        let (scope, _, repos) = self.tenant_scope(caller, Action::ManageConnection).await?;
        let had_meta = repos.tenants.get_connection(&scope).await?.is_some();
        // The secret goes even without metadata: a half-made connection must
        // not leave credentials behind.
        self.vault.destroy(&scope).await?;
        repos.tenants.delete_connection(&scope).await?;
        self.publish_config(caller, &scope, ConfigChange::ConnectionDeleted, &[])
            .await;
        if had_meta {
            Ok(())
        } else {
            Err(AdminError::NotFound)
        }
    }

    // ---- erasure -----------------------------------------------------------

    /// Redacts one person's personal data in the tenant's tickets (tenant
    /// admins). Audit records already hold only a pseudonym for them.
    pub async fn erase(
        &self,
        caller: Caller<'_>,
        input: ErasureInput,
    ) -> Result<ErasureReport, AdminError> {
        let (scope, policy, repos) = self.tenant_scope(caller, Action::WritePolicy).await?;
        let account = AccountRef::parse(&input.account)
            .map_err(|_| AdminError::invalid("account", "must be an email address"))?;
        let salt = self
            .salts
            .existing(&repos.client, &ChainScope::Tenant(scope.tenant().clone()))
            .await?;
        let report = erase_person(
            &repos.tickets,
            &scope,
            &account,
            salt.as_ref(),
            policy.retention.ticket_days,
            self.clock.now(),
        )
        .await?;
        let mut details = vec![("tickets_redacted", report.tickets_redacted.to_string())];
        if let Some(p) = &report.pseudonym {
            details.push(("pseudonym", p.clone()));
        }
        self.publish_config(caller, &scope, ConfigChange::PersonErased, &details)
            .await;
        Ok(report)
    }

    // ---- platform tenant lifecycle -----------------------------------------

    fn platform_admin(&self, caller: Caller<'_>, action: Action) -> Result<(), AdminError> {
        if caller.principal.role.is_platform() && is_allowed(caller.principal.role, action) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    fn lifecycle_scope(raw: &str) -> Result<TenantScope, AdminError> {
        let tenant = TenantId::parse(raw).map_err(|_| AdminError::NotFound)?;
        Ok(TenantScope::for_system_task(
            tenant,
            SystemTask::TenantLifecycle,
        ))
    }

    /// Records a configuration change in the tenant's trail. The change is
    /// already made; a publishing failure is logged (and shows as a missing
    /// record), not turned into an error the caller would retry.
    async fn publish_config(
        &self,
        caller: Caller<'_>,
        scope: &TenantScope,
        change: ConfigChange,
        details: &[(&str, String)],
    ) {
        let event = DomainEvent::new(
            scope,
            EventActor::of(caller.principal),
            caller.correlation_id.clone(),
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

    async fn publish_lifecycle(
        &self,
        caller: Caller<'_>,
        scope: &TenantScope,
        change: LifecycleChange,
    ) -> Result<(), AdminError> {
        let event = DomainEvent::new(
            scope,
            EventActor::of(caller.principal),
            caller.correlation_id.clone(),
            TenantLifecycle {
                change,
                details: Default::default(),
            },
        );
        self.publisher
            .publish_one(&event)
            .await
            .map_err(|e| AdminError::Unavailable(Box::new(e)))
    }

    pub async fn create_tenant(
        &self,
        caller: Caller<'_>,
        input: NewTenant,
    ) -> Result<TenantView, AdminError> {
        self.platform_admin(caller, Action::OnboardTenant)?;
        let tenant_id = TenantId::parse(&input.tenant_id).map_err(|_| {
            AdminError::invalid("tenant_id", "must be 3-40 characters of a-z, 0-9 and '-'")
        })?;
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AdminError::invalid("name", "must be 1-200 characters"));
        }
        let policy = input.policy.unwrap_or_default();
        policy.validate().map_err(|e| AdminError::Invalid {
            field: e.field(),
            reason: "is out of the allowed bounds",
        })?;
        let scope = TenantScope::for_system_task(tenant_id.clone(), SystemTask::TenantLifecycle);
        let repos = self.repos(&scope).await?;
        let tenant = Tenant {
            id: tenant_id,
            name,
            status: TenantStatus::Active,
            policy,
            created_at: self.clock.now(),
        };
        repos.tenants.create(&scope, &tenant).await?;
        self.publish_lifecycle(caller, &scope, LifecycleChange::Onboarded)
            .await?;
        Ok(TenantView::from(&tenant))
    }

    /// Day 0 of offboarding: every tenant request is refused from now on,
    /// the directory secret is destroyed. Repeating it finishes what a
    /// failed attempt left (the secret), and changes nothing else.
    pub async fn offboard_tenant(
        &self,
        caller: Caller<'_>,
        tenant: &str,
    ) -> Result<TenantView, AdminError> {
        self.platform_admin(caller, Action::OffboardTenant)?;
        let scope = Self::lifecycle_scope(tenant)?;
        let repos = self.repos(&scope).await?;
        let mut record = repos
            .tenants
            .get(&scope)
            .await?
            .ok_or(AdminError::NotFound)?;
        match record.status {
            TenantStatus::Active => {
                record.status = TenantStatus::Offboarding {
                    since: self.clock.now(),
                };
                repos.tenants.replace(&scope, &record, "active").await?;
                self.gate.evict(scope.tenant());
            }
            TenantStatus::Offboarding { .. } => {}
            TenantStatus::Purged { .. } => return Err(AdminError::NotFound),
        }
        self.vault.destroy(&scope).await?;
        repos.tenants.delete_connection(&scope).await?;
        self.publish_lifecycle(caller, &scope, LifecycleChange::Offboarded)
            .await?;
        Ok(TenantView::from(&record))
    }

    /// Within the grace period, an offboarding tenant becomes active again
    /// with its data intact (its directory connection must be made anew).
    pub async fn restore_tenant(
        &self,
        caller: Caller<'_>,
        tenant: &str,
    ) -> Result<TenantView, AdminError> {
        self.platform_admin(caller, Action::RestoreTenant)?;
        let scope = Self::lifecycle_scope(tenant)?;
        let repos = self.repos(&scope).await?;
        let mut record = repos
            .tenants
            .get(&scope)
            .await?
            .ok_or(AdminError::NotFound)?;
        match record.status {
            TenantStatus::Offboarding { .. } if record.status.can_restore(self.clock.now()) => {}
            TenantStatus::Offboarding { .. } => {
                return Err(AdminError::Conflict("the restore period is over"));
            }
            TenantStatus::Active => return Err(AdminError::Conflict("the tenant is active")),
            TenantStatus::Purged { .. } => return Err(AdminError::NotFound),
        }
        record.status = TenantStatus::Active;
        repos
            .tenants
            .replace(&scope, &record, "offboarding")
            .await?;
        self.gate.evict(scope.tenant());
        self.publish_lifecycle(caller, &scope, LifecycleChange::Restored)
            .await?;
        Ok(TenantView::from(&record))
    }
}
