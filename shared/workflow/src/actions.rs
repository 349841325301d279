//! Running a directory action (password reset or unlock) for a ticket.
//! Order matters and is the safety argument: authorise, claim the
//! idempotency key (so a retry never acts twice), count against the rate
//! limits, move the ticket to in_progress, publish the intent, look the
//! target up and refuse protected accounts, act, publish the outcome,
//! resolve or escalate. A temporary password is returned to the caller of
//! the call that set it and is stored, logged and published nowhere.

use chrono::{DateTime, Utc};
use zerodesk_directory::{
    AccountState, Directory, DirectoryCredentials, DirectoryError, Provider, TemporaryPassword,
    connect,
};
use zerodesk_domain::{
    AccountRef, Category, CorrelationId, Principal, SystemTask, TenantId, TenantPolicy,
    TenantScope, Ticket, TicketId, TicketState,
};
use zerodesk_events::{
    ActionOutcome, Actor, DirectoryAction, DirectoryActionIntent, DirectoryActionOutcome,
    DirectoryProvider, DomainEvent, EventPayload, Publisher, TicketStateChanged,
};
use zerodesk_store::{Claim, IdempotencyKey, RateBucket};

use crate::access::{ActionGrant, ActionRefusal, grant};
use crate::context::{DirectorySettings, Services, TenantStores};
use crate::error::WorkflowError;
use crate::view::TicketView;

/// What a successful (or replayed) action returns.
#[derive(Debug)]
pub struct ActionResult {
    pub ticket: Ticket,
    /// Present only on the call that set it.
    pub temporary_password: Option<TemporaryPassword>,
    /// The action had already run; this call changed nothing.
    pub replayed: bool,
}

/// Who asked for the action.
pub enum Caller<'a> {
    Principal(&'a Principal),
    /// The unlock rule on `TicketTriaged` (auto_resolve, account_unlock).
    Event,
}

impl Caller<'_> {
    fn actor(&self) -> Actor {
        match self {
            Caller::Principal(p) => Actor::of(p),
            Caller::Event => Actor::system(SystemTask::EventDrivenAction),
        }
    }
}

fn category_of(action: DirectoryAction) -> Category {
    match action {
        DirectoryAction::Reset => Category::PasswordReset,
        DirectoryAction::Unlock => Category::AccountUnlock,
    }
}

fn provider_of(p: Provider) -> DirectoryProvider {
    match p {
        Provider::GoogleWorkspace => DirectoryProvider::GoogleWorkspace,
        Provider::MicrosoftGraph => DirectoryProvider::MicrosoftGraph,
        Provider::Okta => DirectoryProvider::Okta,
    }
}

/// One run's fixed facts, so each step reads as one line.
struct Run<'a, P> {
    services: &'a Services<P>,
    scope: TenantScope,
    stores: TenantStores,
    policy: TenantPolicy,
    actor: Actor,
    correlation_id: CorrelationId,
    action: DirectoryAction,
    now: DateTime<Utc>,
}

impl<P: Publisher> Run<'_, P> {
    fn event(&self, payload: impl Into<EventPayload>) -> DomainEvent {
        DomainEvent::new(
            &self.scope,
            self.actor.clone(),
            self.correlation_id.clone(),
            payload,
        )
    }

    async fn publish(&self, payload: impl Into<EventPayload>) -> Result<(), WorkflowError> {
        self.services
            .publisher
            .publish_one(&self.event(payload))
            .await
            .map_err(|e| WorkflowError::Events(Box::new(e)))
    }

    /// Moves the stored ticket on and publishes the change; a lost race is `Conflict`.
    async fn move_to(
        &self,
        ticket: &mut Ticket,
        to: TicketState,
        reason: Option<String>,
    ) -> Result<(), WorkflowError> {
        let from = ticket.state;
        ticket.state = from.transition(to).map_err(|_| WorkflowError::Conflict)?;
        ticket.updated_at = self.now;
        if reason.is_some() {
            ticket.reason = reason.clone();
        }
        self.stores
            .tickets
            .replace(&self.scope, ticket, from, self.policy.retention.ticket_days)
            .await?;
        let changed = TicketStateChanged {
            ticket_id: ticket.id,
            old_state: from,
            new_state: to,
            reason,
        };
        if let Err(e) = self.publish(changed).await {
            tracing::error!(error = %e, "state change not published");
        }
        Ok(())
    }

    async fn outcome(&self, ticket: &Ticket, outcome: ActionOutcome, reason: Option<&str>) {
        let payload = DirectoryActionOutcome {
            ticket_id: ticket.id,
            action: self.action,
            outcome,
            reason: reason.map(str::to_owned),
        };
        if let Err(e) = self.publish(payload).await {
            // verify reports the intent without an outcome: the gap is visible, not hidden.
            tracing::error!(error = %e, "directory action outcome not published");
        }
    }

    /// Escalates after a refusal or failure; the caller gets `Escalated`.
    async fn escalate(
        &self,
        ticket: &mut Ticket,
        outcome: ActionOutcome,
        reason: &'static str,
        provider_fault: bool,
    ) -> WorkflowError {
        self.outcome(ticket, outcome, Some(reason)).await;
        if let Err(e) = self
            .move_to(ticket, TicketState::Escalated, Some(reason.to_owned()))
            .await
        {
            tracing::error!(error = %e, "could not escalate the ticket");
        }
        WorkflowError::Escalated {
            reason,
            provider_fault,
        }
    }
}

impl<P: Publisher> Services<P> {
    /// `POST /tickets/{id}/reset` and `POST /tickets/{id}/unlock`.
    pub async fn run_action(
        &self,
        principal: &Principal,
        correlation_id: &CorrelationId,
        id: &TicketId,
        action: DirectoryAction,
        now: DateTime<Utc>,
    ) -> Result<ActionResult, WorkflowError> {
        let (scope, stores, policy) = self.admit(principal).await?;
        let ticket = stores
            .tickets
            .get(&scope, id)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        let granted = match grant(principal, &ticket) {
            Ok(g) => g,
            Err(refusal) => {
                return self
                    .refusal_or_replay(&scope, &stores, ticket, refusal, action)
                    .await;
            }
        };
        let run = Run {
            services: self,
            scope,
            stores,
            policy,
            actor: Caller::Principal(principal).actor(),
            correlation_id: correlation_id.clone(),
            action,
            now,
        };
        self.execute(run, ticket, granted).await
    }

    /// The unlock that an `auto_resolve` triage of an `account_unlock`
    /// ticket triggers through EventBridge. The ticket is re-read and every
    /// rule re-checked: the event only says where to look.
    pub async fn run_action_from_event(
        &self,
        tenant: TenantId,
        correlation_id: &CorrelationId,
        id: &TicketId,
        now: DateTime<Utc>,
    ) -> Result<ActionResult, WorkflowError> {
        let scope = TenantScope::for_system_task(tenant, SystemTask::EventDrivenAction);
        let (scope, stores, policy) = self.admit_scope(scope).await?;
        let ticket = stores
            .tickets
            .get(&scope, id)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        let automated = ticket.state == TicketState::Triaged
            && ticket.classification.decision == zerodesk_domain::Decision::AutoResolve
            && ticket.is_self_service()
            && policy.automates(Category::AccountUnlock);
        if !automated {
            return self
                .refusal_or_replay(
                    &scope,
                    &stores,
                    ticket,
                    ActionRefusal::NotAutomated,
                    DirectoryAction::Unlock,
                )
                .await;
        }
        let run = Run {
            services: self,
            scope,
            stores,
            policy,
            actor: Caller::Event.actor(),
            correlation_id: correlation_id.clone(),
            action: DirectoryAction::Unlock,
            now,
        };
        self.execute(run, ticket, ActionGrant::SelfService).await
    }

    /// A refused call on a ticket whose action already ran answers like a replay.
    async fn refusal_or_replay(
        &self,
        scope: &TenantScope,
        stores: &TenantStores,
        ticket: Ticket,
        refusal: ActionRefusal,
        action: DirectoryAction,
    ) -> Result<ActionResult, WorkflowError> {
        if refusal != ActionRefusal::NotVisible && ticket.state == TicketState::Resolved {
            let key = IdempotencyKey::new(action.as_str(), ticket.id.to_string());
            let done = self
                .idempotency(stores)
                .begin(scope, &key, ticket.id.to_string().as_bytes(), Utc::now())
                .await;
            if let Ok(Claim::Completed(_)) = done {
                return Ok(ActionResult {
                    ticket,
                    temporary_password: None,
                    replayed: true,
                });
            }
            if let Ok(Claim::Acquired) = done {
                let _ = self
                    .idempotency(stores)
                    .release(scope, &key, ticket.id.to_string().as_bytes())
                    .await;
            }
        }
        Err(refusal.into())
    }

    async fn execute(
        &self,
        run: Run<'_, P>,
        mut ticket: Ticket,
        granted: ActionGrant,
    ) -> Result<ActionResult, WorkflowError> {
        if ticket.classification.category != category_of(run.action) {
            return Err(ActionRefusal::WrongCategory.into());
        }
        let settings = self.directory.as_ref().ok_or(WorkflowError::NoConnection)?;
        let target: AccountRef = ticket
            .classification
            .target
            .clone()
            .unwrap_or_else(|| ticket.requester.clone());

        // 1. One run per (ticket, action), however many calls arrive.
        let idempotency = self.idempotency(&run.stores);
        let key = IdempotencyKey::new(run.action.as_str(), ticket.id.to_string());
        let payload = ticket.id.to_string();
        match idempotency
            .begin(&run.scope, &key, payload.as_bytes(), run.now)
            .await?
        {
            Claim::Completed(_) => {
                let current = run
                    .stores
                    .tickets
                    .get(&run.scope, &ticket.id)
                    .await?
                    .ok_or(WorkflowError::NotFound)?;
                return Ok(ActionResult {
                    ticket: current,
                    temporary_password: None,
                    replayed: true,
                });
            }
            Claim::Acquired => {}
        }
        let release = || async {
            if let Err(e) = idempotency
                .release(&run.scope, &key, payload.as_bytes())
                .await
            {
                tracing::warn!(error = %e, "idempotency claim not released; it expires on its own");
            }
        };

        // 2. Rate limits apply to automation, not to a manager's approved action.
        if granted == ActionGrant::SelfService {
            let limiter = self.rate_limiter(&run.stores);
            let limits = &run.policy.rate_limits;
            let account = limiter
                .consume(
                    &run.scope,
                    &RateBucket::Account(target.clone()),
                    limits.per_account_per_hour,
                    run.now,
                )
                .await;
            let tenant = match account {
                Ok(()) => {
                    limiter
                        .consume(
                            &run.scope,
                            &RateBucket::Tenant,
                            limits.per_tenant_per_hour,
                            run.now,
                        )
                        .await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = tenant {
                release().await;
                return Err(e.into());
            }
        }

        // 3. The ticket is ours to work on.
        if ticket.state == TicketState::Triaged
            && let Err(e) = run
                .move_to(&mut ticket, TicketState::InProgress, None)
                .await
        {
            release().await;
            return Err(e);
        }

        let result = self
            .act(&run, settings, &mut ticket, &target, granted)
            .await;
        let response = serde_json::json!({ "ticket": TicketView::from(&ticket) }).to_string();
        if let Err(e) = idempotency
            .complete(&run.scope, &key, payload.as_bytes(), &response)
            .await
        {
            tracing::error!(error = %e, "idempotency record not completed");
        }
        result.map(|temporary_password| ActionResult {
            ticket,
            temporary_password,
            replayed: false,
        })
    }

    /// Steps 4-7: credentials, intent, lookup, the provider call, the outcome.
    async fn act(
        &self,
        run: &Run<'_, P>,
        settings: &DirectorySettings,
        ticket: &mut Ticket,
        target: &AccountRef,
        granted: ActionGrant,
    ) -> Result<Option<TemporaryPassword>, WorkflowError> {
        let credentials = match self.vault(&run.stores, settings).load(&run.scope).await {
            Ok((_connection, secret)) => secret,
            Err(zerodesk_crypto::VaultError::NotFound) => {
                return Err(run
                    .escalate(
                        ticket,
                        ActionOutcome::Refused,
                        "no directory connection",
                        false,
                    )
                    .await);
            }
            Err(e) => {
                tracing::error!(error = %e, "directory credentials unavailable");
                return Err(run
                    .escalate(
                        ticket,
                        ActionOutcome::Failed,
                        "credentials unavailable",
                        true,
                    )
                    .await);
            }
        };
        let directory = match serde_json::from_slice::<DirectoryCredentials>(credentials.expose())
            .ok()
            .and_then(|c| connect(c, &settings.endpoints).ok())
        {
            Some(d) => d,
            None => {
                return Err(run
                    .escalate(
                        ticket,
                        ActionOutcome::Failed,
                        "directory credentials invalid",
                        false,
                    )
                    .await);
            }
        };
        drop(credentials);

        let intent = DirectoryActionIntent {
            ticket_id: ticket.id,
            action: run.action,
            target: target.clone(),
            provider: provider_of(directory.provider()),
        };
        if let Err(e) = run.publish(intent).await {
            tracing::error!(error = %e, "intent not published; not acting");
            if let Err(e) = run
                .move_to(
                    ticket,
                    TicketState::Escalated,
                    Some("audit unavailable".into()),
                )
                .await
            {
                tracing::error!(error = %e, "could not escalate the ticket");
            }
            return Err(WorkflowError::Escalated {
                reason: "audit unavailable",
                provider_fault: true,
            });
        }

        let user = match directory.lookup(target).await {
            Ok(u) => u,
            Err(DirectoryError::NotFound { .. }) => {
                return Err(run
                    .escalate(
                        ticket,
                        ActionOutcome::Refused,
                        "account not found in the directory",
                        false,
                    )
                    .await);
            }
            Err(e) => return Err(self.provider_fault(run, ticket, &e).await),
        };
        if run.policy.is_protected(target) || user.is_protected(&run.policy.protected_groups) {
            return Err(run
                .escalate(ticket, ActionOutcome::Refused, "protected account", false)
                .await);
        }

        // A disabled account is not a lockout. Where the directory cannot tell
        // them apart (Entra ID: unlock means `accountEnabled: true`),
        // re-enabling is a person's decision, never automation's.
        let automated = granted == ActionGrant::SelfService;
        if automated
            && run.action == DirectoryAction::Unlock
            && user.state == AccountState::Disabled
        {
            return Err(run
                .escalate(
                    ticket,
                    ActionOutcome::Refused,
                    "account is disabled, not locked out",
                    false,
                )
                .await);
        }

        let password = match run.action {
            DirectoryAction::Reset => match directory.reset_password(target).await {
                Ok(p) => Some(p),
                Err(e) => return Err(self.provider_fault(run, ticket, &e).await),
            },
            DirectoryAction::Unlock => match directory.unlock(target).await {
                Ok(_) => None,
                Err(DirectoryError::NotUnlockable { .. }) => {
                    return Err(run
                        .escalate(
                            ticket,
                            ActionOutcome::Refused,
                            "account state is not a lockout",
                            false,
                        )
                        .await);
                }
                Err(e) => return Err(self.provider_fault(run, ticket, &e).await),
            },
        };
        let mut note = None;
        if run.action == DirectoryAction::Reset
            && let Err(e) = directory.revoke_sessions(target).await
        {
            tracing::warn!(error = %e, "sessions not revoked after reset");
            note = Some("password reset; sessions not revoked");
        }
        run.outcome(ticket, ActionOutcome::Succeeded, note).await;
        if let Err(e) = run
            .move_to(ticket, TicketState::Resolved, note.map(str::to_owned))
            .await
        {
            // The directory changed: the caller must still get the password.
            tracing::error!(error = %e, "ticket not marked resolved after a successful action");
        }
        Ok(password)
    }

    async fn provider_fault(
        &self,
        run: &Run<'_, P>,
        ticket: &mut Ticket,
        e: &DirectoryError,
    ) -> WorkflowError {
        tracing::warn!(error = %e, code = e.code(), "directory call failed");
        let reason = match e {
            DirectoryError::Timeout { .. } => "directory timed out",
            DirectoryError::Malformed { .. } => "directory answered malformed data",
            DirectoryError::Auth { .. } => "directory refused the credentials",
            _ if e.is_retryable() => "directory unavailable",
            _ => "directory refused the request",
        };
        run.escalate(ticket, ActionOutcome::Failed, reason, true)
            .await
    }
}
