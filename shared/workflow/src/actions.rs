//! Running a directory action (password reset or unlock) for a ticket.
//! Order matters and is the safety argument: authorise, claim the
//! idempotency key (so a retry never acts twice), count against the rate
//! limits, move the ticket to in_progress, load the credentials, publish the
//! intent, look the target up and refuse protected accounts, act, publish
//! the outcome, resolve or escalate. `Run::execute` reads as that list.
//! A temporary password is returned to the caller of the call that set it
//! and is stored, logged and published nowhere.

use zerodesk_crypto::{ConnectionSecrets, SecretsError, VaultError};
use zerodesk_directory::{
    AccountState, Directory, DirectoryConnector, DirectoryCredentials, DirectoryError,
    DirectoryUser, Provider, TemporaryPassword, UnlockOutcome,
};
use zerodesk_domain::{
    AccountRef, Category, Clock, CorrelationId, Decision, Principal, SystemTask, TenantId,
    TenantPolicy, TenantScope, TenantStatus, Ticket, TicketId, TicketState,
};
use zerodesk_events::{
    ActionOutcome, Actor, DirectoryAction, DirectoryActionIntent, DirectoryActionOutcome,
    DirectoryProvider, DomainEvent, EventPayload, Publisher, TicketStateChanged,
};
use zerodesk_store::{
    Claim, IdempotencyKey, IdempotencyRecords, RateBucket, RateCounters, TenantStatusSource,
    TicketStore,
};

use crate::access::{ActionGrant, ActionRefusal, grant};
use crate::context::{Ports, Services};
use crate::error::WorkflowError;
use crate::verification::VerificationRequested;
use crate::view::TicketView;
use crate::write_limits::count_write;

/// What a successful (or replayed) action returns.
#[derive(Debug)]
pub struct ActionResult {
    pub ticket: Ticket,
    /// Present only on the call that set it, which is always the owner's
    /// confirmation on the verification page.
    pub temporary_password: Option<TemporaryPassword>,
    /// The action had already run; this call changed nothing.
    pub replayed: bool,
    /// Nothing ran yet: the account's owner was sent a challenge.
    pub awaiting_owner: Option<VerificationRequested>,
}

impl ActionResult {
    fn replayed(ticket: Ticket) -> Self {
        ActionResult {
            ticket,
            temporary_password: None,
            replayed: true,
            awaiting_owner: None,
        }
    }

    fn awaiting(ticket: Ticket, requested: VerificationRequested) -> Self {
        ActionResult {
            ticket,
            temporary_password: None,
            replayed: false,
            awaiting_owner: Some(requested),
        }
    }
}

/// Who set the action off: a person through the API, or the unlock rule
/// on `TicketTriaged` (auto_resolve, account_unlock).
pub enum Initiator<'a> {
    Principal(&'a Principal),
    Event,
}

impl Initiator<'_> {
    fn actor(&self) -> Actor {
        match self {
            Initiator::Principal(p) => Actor::of(p),
            Initiator::Event => Actor::system(SystemTask::EventDrivenAction),
        }
    }
}

pub(crate) fn category_of(action: DirectoryAction) -> Category {
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

const DECISION_EXPIRED: &str = "the decision expired; file the request again";
const AUTOMATION_OFF: &str = "the tenant no longer automates this category";

fn idempotency_key(action: DirectoryAction, ticket: &TicketId) -> IdempotencyKey {
    IdempotencyKey::new(action.as_str(), ticket.to_string())
}

/// Why an action stopped once the ticket was taken: the ticket escalates.
pub(crate) struct Escalation {
    /// The outcome to publish; `None` when the intent itself was never published.
    outcome: Option<ActionOutcome>,
    pub(crate) reason: &'static str,
    pub(crate) provider_fault: bool,
}

impl Escalation {
    pub(crate) fn refused(reason: &'static str) -> Self {
        Escalation {
            outcome: Some(ActionOutcome::Refused),
            reason,
            provider_fault: false,
        }
    }

    fn failed(reason: &'static str, provider_fault: bool) -> Self {
        Escalation {
            outcome: Some(ActionOutcome::Failed),
            reason,
            provider_fault,
        }
    }

    pub(crate) fn provider_fault(e: &DirectoryError) -> Self {
        tracing::warn!(error = %e, code = e.code(), "directory call failed");
        let reason = match e {
            DirectoryError::Timeout { .. } => "directory timed out",
            DirectoryError::Malformed { .. } => "directory answered malformed data",
            DirectoryError::Auth { .. } => "directory refused the credentials",
            _ if e.is_retryable() => "directory unavailable",
            _ => "directory refused the request",
        };
        Escalation::failed(reason, true)
    }
}

/// What the directory did: the password (reset only) and a note for the outcome.
struct Acted {
    password: Option<TemporaryPassword>,
    note: Option<&'static str>,
}

/// The claimed idempotency key of one run.
struct ClaimedKey<'a, I> {
    records: &'a I,
    scope: &'a TenantScope,
    key: IdempotencyKey,
    payload: String,
}

impl<I: IdempotencyRecords> ClaimedKey<'_, I> {
    /// Gives the key back after a failure before anything was done.
    async fn release(&self) {
        if let Err(e) = self
            .records
            .release(self.scope, &self.key, self.payload.as_bytes())
            .await
        {
            tracing::warn!(error = %e, "idempotency claim not released; it expires on its own");
        }
    }

    /// Stores the answer a retry replays; it holds no password.
    async fn complete(&self, ticket: &Ticket) {
        let response = serde_json::json!({ "ticket": TicketView::from(ticket) }).to_string();
        if let Err(e) = self
            .records
            .complete(self.scope, &self.key, self.payload.as_bytes(), &response)
            .await
        {
            tracing::error!(error = %e, "idempotency record not completed");
        }
    }
}

/// Whether this call runs the action or an earlier one already did.
enum Claimed<'a, I> {
    Now(ClaimedKey<'a, I>),
    AlreadyDone(Box<Ticket>),
}

/// One run's fixed facts, so each step reads as one line.
pub(crate) struct Run<'a, P: Ports> {
    pub(crate) services: &'a Services<P>,
    pub(crate) scope: TenantScope,
    pub(crate) policy: TenantPolicy,
    pub(crate) actor: Actor,
    pub(crate) correlation_id: CorrelationId,
    pub(crate) action: DirectoryAction,
}

impl<P: Ports> Services<P> {
    /// `POST /tickets/{id}/reset` and `POST /tickets/{id}/unlock`.
    pub async fn run_action(
        &self,
        principal: &Principal,
        correlation_id: &CorrelationId,
        id: &TicketId,
        action: DirectoryAction,
    ) -> Result<ActionResult, WorkflowError> {
        let (scope, policy) = self.admit(principal).await?;
        count_write(&self.counters, &scope, principal, self.clock.now()).await?;
        let ticket = self.ticket(&scope, id).await?;
        let granted = match grant(principal, &ticket) {
            Ok(g) => g,
            Err(refusal) => {
                return self
                    .refusal_or_replay(&scope, ticket, refusal, action)
                    .await;
            }
        };
        let run = Run {
            services: self,
            scope,
            policy,
            actor: Initiator::Principal(principal).actor(),
            correlation_id: correlation_id.clone(),
            action,
        };
        let waived = action == DirectoryAction::Unlock
            && granted == ActionGrant::SelfService
            && run.policy.owner_verification.waive_for_signed_in_unlock;
        if waived {
            return run.execute(ticket, granted).await;
        }
        run.start_verification(ticket, granted).await
    }

    /// What an `auto_resolve` triage of a reset or unlock ticket triggers
    /// through EventBridge: the owner is sent a challenge; nothing acts
    /// until they answer it. The ticket is re-read and every rule
    /// re-checked: the event only says where to look.
    pub async fn run_action_from_event(
        &self,
        tenant: TenantId,
        correlation_id: &CorrelationId,
        id: &TicketId,
        action: DirectoryAction,
    ) -> Result<ActionResult, WorkflowError> {
        let scope = TenantScope::for_system_task(tenant, SystemTask::EventDrivenAction);
        let (scope, policy) = self.admit_scope(scope).await?;
        let ticket = self.ticket(&scope, id).await?;
        let category = category_of(action);
        let automated = ticket.state == TicketState::Triaged
            && ticket.classification.category == category
            && ticket.classification.decision == Decision::AutoResolve
            && ticket.is_self_service()
            && policy.automates(category);
        if !automated {
            return self
                .refusal_or_replay(&scope, ticket, ActionRefusal::NotAutomated, action)
                .await;
        }
        let run = Run {
            services: self,
            scope,
            policy,
            actor: Initiator::Event.actor(),
            correlation_id: correlation_id.clone(),
            action,
        };
        run.start_verification(ticket, ActionGrant::SelfService)
            .await
    }

    async fn ticket(&self, scope: &TenantScope, id: &TicketId) -> Result<Ticket, WorkflowError> {
        self.tickets
            .get(scope, id)
            .await?
            .ok_or(WorkflowError::NotFound)
    }

    /// A refused call on a ticket whose action already ran answers like a replay.
    async fn refusal_or_replay(
        &self,
        scope: &TenantScope,
        ticket: Ticket,
        refusal: ActionRefusal,
        action: DirectoryAction,
    ) -> Result<ActionResult, WorkflowError> {
        if refusal != ActionRefusal::NotVisible && ticket.state == TicketState::Resolved {
            let key = idempotency_key(action, &ticket.id);
            let payload = ticket.id.to_string();
            let done = self
                .idempotency
                .begin(scope, &key, payload.as_bytes(), self.clock.now())
                .await;
            if let Ok(Claim::Completed(_)) = done {
                return Ok(ActionResult::replayed(ticket));
            }
            if let Ok(Claim::Acquired) = done {
                let _ = self
                    .idempotency
                    .release(scope, &key, payload.as_bytes())
                    .await;
            }
        }
        Err(refusal.into())
    }
}

impl<P: Ports> Run<'_, P> {
    /// Sends the owner a challenge (or says one is open); counts against the
    /// rate limits first, so nobody can flood an owner with challenges.
    async fn start_verification(
        &self,
        mut ticket: Ticket,
        granted: ActionGrant,
    ) -> Result<ActionResult, WorkflowError> {
        self.authorise(&ticket)?;
        let target = ticket
            .classification
            .target
            .clone()
            .unwrap_or_else(|| ticket.requester.clone());
        if let Some(open) = self.open_verification_of(&ticket).await? {
            return Ok(ActionResult::awaiting(ticket, open));
        }
        if self.decision_expired(&ticket, &self.policy) {
            return Err(self.escalate(&mut ticket, DECISION_EXPIRED, false).await);
        }
        self.count_against_rate_limits(granted, &target).await?;
        let requested = self
            .request_verification(&mut ticket, granted, &target)
            .await?;
        Ok(ActionResult::awaiting(ticket, requested))
    }

    /// The action for an owner who has just verified; the rate limits were
    /// counted when the verification was requested.
    pub(crate) async fn execute_verified(
        &self,
        ticket: Ticket,
        granted: ActionGrant,
    ) -> Result<ActionResult, WorkflowError> {
        self.execute_counted(ticket, granted, false).await
    }

    async fn execute(
        &self,
        ticket: Ticket,
        granted: ActionGrant,
    ) -> Result<ActionResult, WorkflowError> {
        self.execute_counted(ticket, granted, true).await
    }

    /// The safety sequence, top to bottom. Until the ticket is taken a
    /// failure gives the claim back; after it, every stop escalates the
    /// ticket, and the claim is completed so a retry replays instead of acting.
    async fn execute_counted(
        &self,
        mut ticket: Ticket,
        granted: ActionGrant,
        count: bool,
    ) -> Result<ActionResult, WorkflowError> {
        self.authorise(&ticket)?;
        let policy = self.still_allowed(&mut ticket, granted).await?;
        let claim = match self.claim_once(&ticket).await? {
            Claimed::Now(claim) => claim,
            Claimed::AlreadyDone(current) => return Ok(ActionResult::replayed(*current)),
        };
        let target = ticket
            .classification
            .target
            .clone()
            .unwrap_or_else(|| ticket.requester.clone());
        let taken = async {
            if count {
                self.count_against_rate_limits(granted, &target).await?;
            }
            self.take_the_ticket(&mut ticket).await
        }
        .await;
        if let Err(e) = taken {
            claim.release().await;
            return Err(e);
        }
        let acted = async {
            let directory = self.load_credentials().await?;
            self.publish_intent(&ticket, &target, &directory).await?;
            self.refuse_protected_accounts(&ticket.requester, &target, &directory, &policy)
                .await?;
            self.act_on_the_directory(&target, &directory).await
        }
        .await;
        self.publish_outcome(&ticket, &acted).await;
        let result = self.resolve_or_escalate(&mut ticket, acted).await;
        claim.complete(&ticket).await;
        result.map(|temporary_password| ActionResult {
            ticket,
            temporary_password,
            replayed: false,
            awaiting_owner: None,
        })
    }

    /// Right before acting: the tenant read strongly consistent (not the
    /// gate's cache), still active, still automating the category for
    /// self-service, and the decision not expired. The fresh policy is the
    /// one the protected-account check uses.
    async fn still_allowed(
        &self,
        ticket: &mut Ticket,
        granted: ActionGrant,
    ) -> Result<TenantPolicy, WorkflowError> {
        let fresh = self.services.tenants.status(&self.scope).await?;
        let Some((TenantStatus::Active, policy)) = fresh else {
            return Err(WorkflowError::TenantInactive);
        };
        if granted == ActionGrant::SelfService && !policy.automates(category_of(self.action)) {
            return Err(self.escalate(ticket, AUTOMATION_OFF, false).await);
        }
        if self.decision_expired(ticket, &policy) {
            return Err(self.escalate(ticket, DECISION_EXPIRED, false).await);
        }
        Ok(policy)
    }

    /// An auto_resolve decision or an approval older than the policy allows.
    fn decision_expired(&self, ticket: &Ticket, policy: &TenantPolicy) -> bool {
        let age = self.services.clock.now() - ticket.updated_at;
        age > chrono::Duration::hours(i64::from(policy.decision_expiry_hours))
    }

    /// The caller's grant was decided from the ticket; the action must also
    /// be the one the ticket asks for.
    fn authorise(&self, ticket: &Ticket) -> Result<(), WorkflowError> {
        if ticket.classification.category == category_of(self.action) {
            Ok(())
        } else {
            Err(ActionRefusal::WrongCategory.into())
        }
    }

    /// One run per (ticket, action), however many calls arrive. A run that
    /// already finished answers with the current ticket.
    async fn claim_once(
        &self,
        ticket: &Ticket,
    ) -> Result<Claimed<'_, P::Idempotency>, WorkflowError> {
        let claim = ClaimedKey {
            records: &self.services.idempotency,
            scope: &self.scope,
            key: idempotency_key(self.action, &ticket.id),
            payload: ticket.id.to_string(),
        };
        let now = self.services.clock.now();
        match self
            .services
            .idempotency
            .begin(&self.scope, &claim.key, claim.payload.as_bytes(), now)
            .await?
        {
            Claim::Acquired => Ok(Claimed::Now(claim)),
            Claim::Completed(_) => Ok(Claimed::AlreadyDone(Box::new(
                self.services.ticket(&self.scope, &ticket.id).await?,
            ))),
        }
    }

    /// Rate limits apply to automation, not to a manager's approved action.
    async fn count_against_rate_limits(
        &self,
        granted: ActionGrant,
        target: &AccountRef,
    ) -> Result<(), WorkflowError> {
        if granted != ActionGrant::SelfService {
            return Ok(());
        }
        let counters = &self.services.counters;
        let limits = &self.policy.rate_limits;
        let now = self.services.clock.now();
        let account = RateBucket::Account(target.clone());
        counters
            .consume(&self.scope, &account, limits.per_account_per_hour, now)
            .await?;
        counters
            .consume(
                &self.scope,
                &RateBucket::Tenant,
                limits.per_tenant_per_hour,
                now,
            )
            .await?;
        Ok(())
    }

    /// The ticket is ours to work on (an approved one is in progress already).
    async fn take_the_ticket(&self, ticket: &mut Ticket) -> Result<(), WorkflowError> {
        if ticket.state == TicketState::Triaged {
            self.move_to(ticket, TicketState::InProgress, None).await?;
        }
        Ok(())
    }

    /// The tenant's decrypted credentials, only for building the connection.
    pub(crate) async fn load_credentials(
        &self,
    ) -> Result<<P::Directories as DirectoryConnector>::Connected, Escalation> {
        let secret = match self.services.vault.load(&self.scope).await {
            Ok((_connection, secret)) => secret,
            Err(SecretsError::Vault(VaultError::NotFound)) => {
                return Err(Escalation::refused("no directory connection"));
            }
            Err(e) => {
                tracing::error!(error = %e, "directory credentials unavailable");
                return Err(Escalation::failed("credentials unavailable", true));
            }
        };
        serde_json::from_slice::<DirectoryCredentials>(secret.expose())
            .ok()
            .and_then(|c| self.services.directories.connect(c).ok())
            .ok_or_else(|| Escalation::failed("directory credentials invalid", false))
    }

    /// Nothing acts unless the audit trail knows it is about to.
    async fn publish_intent(
        &self,
        ticket: &Ticket,
        target: &AccountRef,
        directory: &impl Directory,
    ) -> Result<(), Escalation> {
        let intent = DirectoryActionIntent {
            ticket_id: ticket.id,
            action: self.action,
            target: target.clone(),
            provider: provider_of(directory.provider()),
        };
        self.publish(intent).await.map_err(|e| {
            tracing::error!(error = %e, "intent not published; not acting");
            Escalation {
                outcome: None,
                reason: "audit unavailable",
                provider_fault: true,
            }
        })
    }

    /// Looks the requester and the target up; a requester the directory
    /// does not know (a name an intake bot made up, so that no "own
    /// ticket" check can match anyone) escalates first. Admins, protected
    /// groups and accounts, and accounts an administrator disabled or
    /// suspended are a person's decision.
    pub(crate) async fn refuse_protected_accounts(
        &self,
        requester: &AccountRef,
        target: &AccountRef,
        directory: &impl Directory,
        policy: &TenantPolicy,
    ) -> Result<(), Escalation> {
        if requester != target {
            match directory.lookup(requester).await {
                Ok(_) => {}
                Err(DirectoryError::NotFound { .. }) => {
                    return Err(Escalation::refused("requester unknown to the directory"));
                }
                Err(e) => return Err(Escalation::provider_fault(&e)),
            }
        }
        let user = match directory.lookup(target).await {
            Ok(u) => u,
            Err(DirectoryError::NotFound { .. }) => {
                return Err(Escalation::refused("account not found in the directory"));
            }
            Err(e) => return Err(Escalation::provider_fault(&e)),
        };
        if is_protected(&user, target, directory, policy).await? {
            return Err(Escalation::refused("protected account"));
        }
        // An account an administrator disabled is not a lockout, and zerodesk
        // never re-enables it: not for an unlock, approved or not, nor gives
        // it a new password.
        if user.state == AccountState::Disabled {
            return Err(Escalation::refused(
                "account is disabled by an administrator",
            ));
        }
        // An administrator's suspension is never cleared by an unlock, and
        // a suspended account is never given a new password: zerodesk does
        // not act on it, approved or not, and says so before the owner is
        // asked to verify for nothing.
        if matches!(user.state, AccountState::Suspended { .. }) {
            return Err(Escalation::refused(match self.action {
                DirectoryAction::Unlock => "account state is not a lockout",
                DirectoryAction::Reset => "account is suspended by an administrator",
            }));
        }
        Ok(())
    }

    /// The provider call; after a reset, the account's sessions are revoked.
    async fn act_on_the_directory(
        &self,
        target: &AccountRef,
        directory: &impl Directory,
    ) -> Result<Acted, Escalation> {
        let password = match self.action {
            DirectoryAction::Reset => match directory.reset_password(target).await {
                Ok(p) => Some(p),
                Err(e) => return Err(Escalation::provider_fault(&e)),
            },
            DirectoryAction::Unlock => match directory.unlock(target).await {
                Ok(UnlockOutcome::TimedByProvider) => {
                    // Entra ID: nothing to clear. Do what the provider
                    // allows, say why, and leave the rest to a person.
                    let reason = match directory.revoke_sessions(target).await {
                        Ok(()) => {
                            "lockout is timed by the directory and ends by itself; sessions revoked"
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "sessions not revoked");
                            "lockout is timed by the directory and ends by itself"
                        }
                    };
                    return Err(Escalation::refused(reason));
                }
                Ok(UnlockOutcome::Unlocked | UnlockOutcome::WasNotLocked) => None,
                Err(DirectoryError::NotUnlockable { .. }) => {
                    return Err(Escalation::refused("account state is not a lockout"));
                }
                Err(e) => return Err(Escalation::provider_fault(&e)),
            },
        };
        let mut note = None;
        if self.action == DirectoryAction::Reset
            && let Err(e) = directory.revoke_sessions(target).await
        {
            tracing::warn!(error = %e, "sessions not revoked after reset");
            note = Some("password reset; sessions not revoked");
        }
        Ok(Acted { password, note })
    }

    /// Every published intent gets its outcome; a lost outcome is logged and
    /// shows in verification as an intent without one, never hidden.
    async fn publish_outcome(&self, ticket: &Ticket, acted: &Result<Acted, Escalation>) {
        let (outcome, reason) = match acted {
            Ok(done) => (ActionOutcome::Succeeded, done.note),
            Err(Escalation {
                outcome: Some(outcome),
                reason,
                ..
            }) => (*outcome, Some(*reason)),
            Err(Escalation { outcome: None, .. }) => return,
        };
        let payload = DirectoryActionOutcome {
            ticket_id: ticket.id,
            action: self.action,
            outcome,
            reason: reason.map(str::to_owned),
        };
        if let Err(e) = self.publish(payload).await {
            tracing::error!(error = %e, "directory action outcome not published");
        }
    }

    /// Resolved after success, escalated with the reason otherwise; the
    /// caller of a stopped action gets `Escalated`.
    async fn resolve_or_escalate(
        &self,
        ticket: &mut Ticket,
        acted: Result<Acted, Escalation>,
    ) -> Result<Option<TemporaryPassword>, WorkflowError> {
        match acted {
            Ok(Acted { password, note }) => {
                if let Err(e) = self
                    .move_to(ticket, TicketState::Resolved, note.map(str::to_owned))
                    .await
                {
                    // The directory changed: the caller must still get the password.
                    tracing::error!(error = %e, "ticket not marked resolved after a successful action");
                }
                Ok(password)
            }
            Err(stop) => {
                if let Err(e) = self
                    .move_to(ticket, TicketState::Escalated, Some(stop.reason.to_owned()))
                    .await
                {
                    tracing::error!(error = %e, "could not escalate the ticket");
                }
                Err(WorkflowError::Escalated {
                    reason: stop.reason,
                    provider_fault: stop.provider_fault,
                })
            }
        }
    }

    fn event(&self, payload: impl Into<EventPayload>) -> DomainEvent {
        DomainEvent::new(
            &self.scope,
            self.actor.clone(),
            self.correlation_id.clone(),
            payload,
        )
    }

    pub(crate) async fn publish(
        &self,
        payload: impl Into<EventPayload>,
    ) -> Result<(), WorkflowError> {
        self.services
            .publisher
            .publish_one(&self.event(payload))
            .await
            .map_err(|e| WorkflowError::Events(Box::new(e)))
    }

    /// Moves the stored ticket on and publishes the change; a lost race is `Conflict`.
    pub(crate) async fn move_to(
        &self,
        ticket: &mut Ticket,
        to: TicketState,
        reason: Option<String>,
    ) -> Result<(), WorkflowError> {
        let from = ticket.state;
        ticket.state = from.transition(to).map_err(|_| WorkflowError::Conflict)?;
        ticket.updated_at = self.services.clock.now();
        if reason.is_some() {
            ticket.reason = reason.clone();
        }
        self.services
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
}

/// Whether the account the directory resolved is protected: an
/// administrator; a protected account by immutable id, or by the primary
/// name the directory answered with (so an alias or another case of a
/// protected name is caught); or a member of a protected group, asked of
/// the directory by group id. Protection that was never resolved in this
/// directory protects everyone.
async fn is_protected(
    user: &DirectoryUser,
    target: &AccountRef,
    directory: &impl Directory,
    policy: &TenantPolicy,
) -> Result<bool, Escalation> {
    if user.is_admin
        || policy.protected_accounts.contains(target)
        || policy.protected_accounts.contains(&user.account)
    {
        return Ok(true);
    }
    let Some(ids) = policy.protected_ids_for(user.provider.as_str()) else {
        tracing::warn!("protected accounts are not resolved in this directory");
        return Err(Escalation::refused(
            "protected accounts not resolved in this directory",
        ));
    };
    if ids.accounts.contains(&user.provider_id) {
        return Ok(true);
    }
    if ids.groups.is_empty() {
        return Ok(false);
    }
    let groups: Vec<String> = ids.groups.into_iter().collect();
    directory
        .member_of_any(user, &groups)
        .await
        .map_err(|e| Escalation::provider_fault(&e))
}
