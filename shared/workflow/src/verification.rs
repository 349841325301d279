//! Owner verification (docs/architecture.md section 4a): no reset or unlock
//! runs until the account's owner proves a channel the directory already
//! holds. `Run::request_verification` picks the tenant's first method the
//! account has a channel for, stores a keyed hash of a fresh secret and
//! sends the link (and, for SMS, a code). `Services::answer_verification`
//! is the page's side: it checks the link and code in constant time,
//! counts wrong answers, runs the action for the verified owner and returns
//! the temporary password to them alone, then tells the owner on another
//! channel. Every unknown, expired, replayed or wrong link gets the same
//! answer.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::Rng as _;
use rand::rngs::OsRng;
use zerodesk_crypto::{MacKey, hashes_match};
use zerodesk_directory::{Directory, OwnerChannels, PushResult, TemporaryPassword};
use zerodesk_domain::{
    AccountRef, Clock, CorrelationId, NOT_ME_LINK_DAYS, NotMeLink, OwnerVerification, PushInFlight,
    SystemTask, TenantId, TenantScope, Ticket, TicketId, TicketState, VerificationMethod,
    VerificationState, VerifiedGrant, mask_email, mask_phone,
};
use zerodesk_events::{
    Actor, DirectoryAction, OwnerNotified, OwnerVerificationChanged, VerificationStep,
};
use zerodesk_notify::{Message, Messenger, Recipient};
use zerodesk_store::{
    RateBucket, RateCounters, RateLimitError, StoreError, TicketStore, VerificationRevision,
    VerificationStore,
};

use crate::access::ActionGrant;
use crate::actions::{Run, category_of};
use crate::context::{Ports, Services};
use crate::error::WorkflowError;

/// Answers the page takes from one client address per tenant and hour.
pub const PAGE_ANSWERS_PER_CLIENT_PER_HOUR: u32 = 30;

const LINK: &str = "link";
pub(crate) const NOT_ME: &str = "not-me";
const CODE: &str = "code";

/// What the caller of a reset or unlock is told while the owner verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRequested {
    pub method: VerificationMethod,
    /// Masked: `r•••@mail.example`, `•••••0101`, `Okta Verify`.
    pub channel: String,
    pub expires_at: DateTime<Utc>,
    /// An open verification already existed; nothing new was sent.
    pub already_sent: bool,
}

/// What the page shows before the owner confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationSummary {
    pub action: DirectoryAction,
    pub account: String,
    pub asked_at: DateTime<Utc>,
    pub intake: String,
    pub method: VerificationMethod,
    pub needs_code: bool,
    /// A "This wasn't me" link: the page offers the report, not a confirmation.
    pub report: bool,
}

/// The page's answer to a confirmation.
#[derive(Debug)]
pub enum OwnerOutcome {
    /// The action ran. The password (reset only) is for this response alone.
    Done {
        action: DirectoryAction,
        account: String,
        temporary_password: Option<TemporaryPassword>,
    },
    /// A push is on its way or not yet answered; ask again.
    PushWaiting { number: Option<u16> },
}

/// Why the page refuses. `Invalid` is the one answer for an unknown,
/// expired, replayed, foreign or wrong link or code.
#[derive(Debug, thiserror::Error)]
pub enum VerifyRefusal {
    #[error("this link or code is not valid")]
    Invalid,
    #[error("the request was passed to the helpdesk")]
    Escalated,
    #[error("too many answers from this address; try again later")]
    RateLimited { retry_after_seconds: u64 },
    #[error("try again later")]
    Unavailable(#[source] WorkflowError),
}

/// What the page sends: the link's token, the code (SMS), and the client
/// address API Gateway saw, for the per-address limit. No `Debug`.
pub struct PageAnswer<'a> {
    pub token: &'a str,
    pub code: Option<&'a str>,
    pub client: &'a str,
}

/// The link's token: `<tenant>.<ticket>.<action>.<secret>`. The secret is
/// 256 random bits; only its keyed hash is stored.
pub(crate) struct LinkToken {
    pub(crate) tenant: TenantId,
    pub(crate) ticket: TicketId,
    pub(crate) action: DirectoryAction,
    pub(crate) purpose: LinkPurpose,
    pub(crate) secret: String,
}

/// What a link is for: confirming the action, or reporting it was not the
/// owner who asked (the link in the notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkPurpose {
    Confirm,
    NotMe,
}

const NOT_ME_SUFFIX: &str = "-not-me";

impl LinkToken {
    pub(crate) fn issue(
        tenant: &TenantId,
        ticket: &TicketId,
        action: DirectoryAction,
        purpose: LinkPurpose,
    ) -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill(&mut bytes);
        Self {
            tenant: tenant.clone(),
            ticket: *ticket,
            action,
            purpose,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().rsplitn(4, '.');
        let secret = parts.next()?;
        let named = parts.next()?;
        let (action, purpose) = match named.strip_suffix(NOT_ME_SUFFIX) {
            Some(action) => (action, LinkPurpose::NotMe),
            None => (named, LinkPurpose::Confirm),
        };
        let action = match action {
            "reset" => DirectoryAction::Reset,
            "unlock" => DirectoryAction::Unlock,
            _ => return None,
        };
        let ticket = TicketId::parse(parts.next()?).ok()?;
        let tenant = TenantId::parse(parts.next()?).ok()?;
        (secret.len() == 43).then(|| Self {
            tenant,
            ticket,
            action,
            purpose,
            secret: secret.to_owned(),
        })
    }

    pub(crate) fn expose(&self) -> String {
        let suffix = match self.purpose {
            LinkPurpose::Confirm => "",
            LinkPurpose::NotMe => NOT_ME_SUFFIX,
        };
        format!(
            "{}.{}.{}{suffix}.{}",
            self.tenant,
            self.ticket,
            self.action.as_str(),
            self.secret
        )
    }
}

fn six_digit_code() -> String {
    format!("{:06}", OsRng.gen_range(0..1_000_000u32))
}

fn describe(action: DirectoryAction) -> &'static str {
    match action {
        DirectoryAction::Reset => "reset the password of",
        DirectoryAction::Unlock => "unlock",
    }
}

/// The channel a method would use for this account, if the directory holds one.
fn channel_for(
    method: VerificationMethod,
    channels: &OwnerChannels,
) -> Option<(String, Recipient)> {
    match method {
        VerificationMethod::OktaPush => {
            // The link that opens the page (where the push is answered) goes
            // to a directory-held mailbox; the push proves the owner.
            let mailbox = channels
                .recovery_email
                .as_ref()
                .or(channels.primary_email.as_ref())?;
            channels.push_factor.as_ref()?;
            Some(("Okta Verify".to_owned(), Recipient::Email(mailbox.clone())))
        }
        VerificationMethod::RecoveryEmail => channels
            .recovery_email
            .as_ref()
            .map(|a| (mask_email(a), Recipient::Email(a.clone()))),
        VerificationMethod::RecoverySms => channels
            .recovery_phone
            .as_ref()
            .map(|p| (mask_phone(p), Recipient::Sms(p.clone()))),
        // Recorded by a manager through the API, never chosen automatically.
        VerificationMethod::ManagerAttests => None,
    }
}

/// Every channel the owner is told on afterwards: the directory's mailboxes
/// other than the one used to verify, or that one when there is no other.
fn notice_recipients(channels: &OwnerChannels, verified_by: &Recipient) -> Vec<Recipient> {
    let mut all: Vec<Recipient> = [&channels.primary_email, &channels.recovery_email]
        .into_iter()
        .flatten()
        .map(|a| Recipient::Email(a.clone()))
        .collect();
    all.dedup();
    let others: Vec<Recipient> = all.iter().filter(|r| *r != verified_by).cloned().collect();
    if others.is_empty() { all } else { others }
}

fn masked(recipient: &Recipient) -> String {
    match recipient {
        Recipient::Email(a) => mask_email(a),
        Recipient::Sms(p) => mask_phone(p),
    }
}

impl<P: Ports> Run<'_, P> {
    /// The verification already open for the ticket's action, as the caller sees it.
    pub(crate) async fn open_verification_of(
        &self,
        ticket: &Ticket,
    ) -> Result<Option<VerificationRequested>, WorkflowError> {
        let category = category_of(self.action);
        let found = self
            .services
            .verifications
            .get(&self.scope, &ticket.id, category)
            .await?;
        Ok(found
            .filter(|v| v.is_open(self.services.clock.now()))
            .map(|v| VerificationRequested {
                method: v.method,
                channel: v.channel,
                expires_at: v.expires_at,
                already_sent: true,
            }))
    }

    /// Sends the owner a challenge instead of acting. Asking again while one
    /// is open sends nothing new.
    pub(crate) async fn request_verification(
        &self,
        ticket: &mut Ticket,
        granted: ActionGrant,
        target: &AccountRef,
    ) -> Result<VerificationRequested, WorkflowError> {
        let category = category_of(self.action);
        let verifications = &self.services.verifications;
        if let Some(mut existing) = verifications.get(&self.scope, &ticket.id, category).await? {
            if existing.is_open(self.services.clock.now()) {
                return Ok(VerificationRequested {
                    method: existing.method,
                    channel: existing.channel,
                    expires_at: existing.expires_at,
                    already_sent: true,
                });
            }
            if existing.state == VerificationState::Pending {
                // Expired without an answer: closed, escalated, the owner told.
                self.close_verification(
                    &mut existing,
                    VerificationState::Expired,
                    "verification expired",
                )
                .await;
                self.escalate_ticket_of(&existing, "owner verification expired")
                    .await;
            }
            return Err(WorkflowError::Escalated {
                reason: "owner verification is closed",
                provider_fault: false,
            });
        }
        let found = async {
            let directory = self.load_credentials().await?;
            self.refuse_protected_accounts(&ticket.requester, target, &directory, &self.policy)
                .await?;
            let channels = directory
                .owner_channels(target)
                .await
                .map_err(|e| crate::actions::Escalation::provider_fault(&e))?;
            self.policy
                .owner_verification
                .methods
                .iter()
                .find_map(|m| channel_for(*m, &channels).map(|c| (*m, c, channels.clone())))
                .ok_or_else(|| {
                    crate::actions::Escalation::refused(
                        "no verification method available for the account",
                    )
                })
        }
        .await;
        let (method, (channel, recipient), channels) = match found {
            Ok(found) => found,
            Err(stop) => {
                return Err(self
                    .escalate(ticket, stop.reason, stop.provider_fault)
                    .await);
            }
        };
        let now = self.services.clock.now();
        let link = LinkToken::issue(
            &self.scope.tenant().clone(),
            &ticket.id,
            self.action,
            LinkPurpose::Confirm,
        );
        let code = (method == VerificationMethod::RecoverySms).then(six_digit_code);
        let mut record = OwnerVerification {
            tenant_id: self.scope.tenant().clone(),
            ticket_id: ticket.id,
            category,
            account: target.clone(),
            method,
            channel: channel.clone(),
            push_factor: channels
                .push_factor
                .clone()
                .filter(|_| method == VerificationMethod::OktaPush),
            secret_mac: String::new(),
            code_mac: None,
            grant: match granted {
                ActionGrant::SelfService => VerifiedGrant::SelfService,
                ActionGrant::Approved => VerifiedGrant::Approved,
            },
            intake: intake_of(ticket),
            state: VerificationState::Pending,
            wrong_attempts: 0,
            push: None,
            not_me: None,
            created_at: now,
            expires_at: now
                + Duration::minutes(i64::from(self.policy.owner_verification.expires_minutes)),
        };
        record.secret_mac = self.keyed_hash(&record, LINK, &link.secret).await?;
        if let Some(code) = &code {
            record.code_mac = Some(self.keyed_hash(&record, CODE, code).await?);
        }
        match verifications.create(&self.scope, &record).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists) => {
                // Another call opened one first: answer as it would.
                return Box::pin(self.request_verification(ticket, granted, target)).await;
            }
            Err(e) => return Err(e.into()),
        }
        if let Err(e) = self
            .publish(self.step(&record, VerificationStep::Requested, None))
            .await
        {
            tracing::error!(error = %e, "verification request not published; nothing sent");
            self.close_verification(&mut record, VerificationState::Failed, "audit unavailable")
                .await;
            return Err(self.escalate(ticket, "audit unavailable", true).await);
        }
        let message = self.challenge_message(&record, &link, code.as_deref(), recipient);
        if let Err(e) = self.services.messenger.send(&message).await {
            tracing::error!(error = %e, "verification message not sent");
            self.close_verification(
                &mut record,
                VerificationState::Failed,
                "verification could not be sent",
            )
            .await;
            return Err(self
                .escalate(ticket, "verification could not be sent", true)
                .await);
        }
        self.publish_step(&record, VerificationStep::Sent, None)
            .await;
        Ok(VerificationRequested {
            method,
            channel,
            expires_at: record.expires_at,
            already_sent: false,
        })
    }

    pub(crate) async fn keyed_hash(
        &self,
        record: &OwnerVerification,
        purpose: &str,
        secret: &str,
    ) -> Result<String, WorkflowError> {
        self.services
            .mac
            .mac(&record.mac_message(purpose, secret))
            .await
            .map(hex::encode)
            .map_err(|e| WorkflowError::Credentials(Box::new(e)))
    }

    fn challenge_message(
        &self,
        record: &OwnerVerification,
        link: &LinkToken,
        code: Option<&str>,
        to: Recipient,
    ) -> Message {
        let url = format!("{}#{}", self.services.verify_page, link.expose());
        let what = describe(self.action);
        let asked = format!(
            "Someone asked the helpdesk to {what} {} at {} through {}.",
            mask_email(record.account.as_str()),
            record.created_at.format("%H:%M UTC"),
            record.intake
        );
        let body = match (&to, code) {
            (Recipient::Sms(_), Some(code)) => {
                format!("zerodesk code {code}. {asked} Confirm: {url}")
            }
            _ => format!(
                "{asked}\n\nIf it was you, open this link within {} minutes to confirm:\n\n{url}\n\n\
                 If it was not you, do nothing: nothing changes without you.",
                self.policy.owner_verification.expires_minutes
            ),
        };
        Message {
            to,
            subject: "Confirm your helpdesk request".to_owned(),
            body,
        }
    }

    fn step(
        &self,
        record: &OwnerVerification,
        step: VerificationStep,
        reason: Option<&str>,
    ) -> OwnerVerificationChanged {
        OwnerVerificationChanged {
            ticket_id: record.ticket_id,
            action: self.action,
            step,
            method: record.method.as_str().to_owned(),
            channel: record.channel.clone(),
            reason: reason.map(str::to_owned),
        }
    }

    async fn publish_step(
        &self,
        record: &OwnerVerification,
        step: VerificationStep,
        reason: Option<&str>,
    ) {
        if let Err(e) = self.publish(self.step(record, step, reason)).await {
            tracing::error!(error = %e, "verification step not published");
        }
    }

    /// Closes an open verification (failed or expired) and records it.
    async fn close_verification(
        &self,
        record: &mut OwnerVerification,
        to: VerificationState,
        reason: &str,
    ) {
        let expected = VerificationRevision {
            state: VerificationState::Pending,
            wrong_attempts: record.wrong_attempts,
        };
        record.state = to;
        if let Err(e) = self
            .services
            .verifications
            .replace(&self.scope, record, expected)
            .await
        {
            tracing::warn!(error = %e, "verification not closed");
        }
        let step = if to == VerificationState::Expired {
            VerificationStep::Expired
        } else {
            VerificationStep::Failed
        };
        self.publish_step(record, step, Some(reason)).await;
    }

    /// Moves the ticket to escalated with `reason`; the caller's error.
    pub(crate) async fn escalate(
        &self,
        ticket: &mut Ticket,
        reason: &'static str,
        provider_fault: bool,
    ) -> WorkflowError {
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

    /// Tells the owner, on every directory mailbox but the one used to
    /// verify, what happened; each notice is recorded.
    async fn notify_owner(
        &self,
        record: &OwnerVerification,
        channels: &OwnerChannels,
        notice: &'static str,
        text: &str,
    ) {
        let verified_by = channel_for(record.method, channels)
            .map(|(_, r)| r)
            .unwrap_or(Recipient::Email(String::new()));
        let recipients = notice_recipients(channels, &verified_by);
        if recipients.is_empty() {
            return;
        }
        let not_me = match self.issue_not_me_link(record).await {
            Some(url) => format!(
                "If this wasn't you, open this link (it works once, for {NOT_ME_LINK_DAYS} days): \
                 we sign you out everywhere and alert your security team.\n\n{url}"
            ),
            None => "If this wasn't you, contact your IT security team now.".to_owned(),
        };
        for to in recipients {
            let message = Message {
                to: to.clone(),
                subject: "What happened to your account".to_owned(),
                body: format!(
                    "{text}\n\nTicket {} came in through {} at {}.\n\n{not_me}",
                    record.ticket_id,
                    record.intake,
                    record.created_at.format("%Y-%m-%d %H:%M UTC")
                ),
            };
            if let Err(e) = self.services.messenger.send(&message).await {
                tracing::error!(error = %e, "owner notice not sent");
                continue;
            }
            let notified = OwnerNotified {
                ticket_id: record.ticket_id,
                notice: notice.to_owned(),
                channel: masked(&to),
            };
            if let Err(e) = self.publish(notified).await {
                tracing::error!(error = %e, "owner notice not recorded");
            }
        }
    }

    /// A fresh "This wasn't me" link for the notices of `record`, its keyed
    /// hash stored on the verification; `None` when it cannot be stored.
    async fn issue_not_me_link(&self, record: &OwnerVerification) -> Option<String> {
        let verifications = &self.services.verifications;
        let mut stored = verifications
            .get(&self.scope, &record.ticket_id, record.category)
            .await
            .ok()??;
        let link = LinkToken::issue(
            &stored.tenant_id,
            &stored.ticket_id,
            self.action,
            LinkPurpose::NotMe,
        );
        let expected = VerificationRevision::of(&stored);
        stored.not_me = Some(NotMeLink {
            secret_mac: self.keyed_hash(&stored, NOT_ME, &link.secret).await.ok()?,
            expires_at: self.services.clock.now() + Duration::days(NOT_ME_LINK_DAYS),
            used: false,
        });
        match verifications.replace(&self.scope, &stored, expected).await {
            Ok(()) => Some(format!("{}#{}", self.services.verify_page, link.expose())),
            Err(e) => {
                tracing::warn!(error = %e, "'this wasn't me' link not stored; notice sent without it");
                None
            }
        }
    }

    /// The owner's channels for a notice; none when the directory cannot say.
    pub(crate) async fn channels_for_notice(&self, account: &AccountRef) -> OwnerChannels {
        match self.load_credentials().await {
            Ok(directory) => directory.owner_channels(account).await.unwrap_or_default(),
            Err(_) => OwnerChannels::default(),
        }
    }
}

/// How the ticket came in, in words for the owner.
fn intake_of(ticket: &Ticket) -> String {
    if ticket.filed_by == ticket.requester.as_str() {
        "the self-service portal".to_owned()
    } else {
        "helpdesk intake".to_owned()
    }
}

impl<P: Ports> Services<P> {
    pub(crate) fn owner_run(
        &self,
        tenant: &TenantId,
        action: DirectoryAction,
        correlation_id: &CorrelationId,
        policy: zerodesk_domain::TenantPolicy,
    ) -> Run<'_, P> {
        Run {
            services: self,
            scope: TenantScope::for_system_task(tenant.clone(), SystemTask::OwnerVerification),
            policy,
            actor: Actor::system(SystemTask::OwnerVerification),
            correlation_id: correlation_id.clone(),
            action,
        }
    }

    /// The link of a page answer, if it is one for `purpose`, the run that
    /// acts for its tenant (active, or the link is `Invalid`) with this
    /// answer counted against the client's limit, and the verification it
    /// names, unchecked.
    pub(crate) async fn page_run(
        &self,
        page: &PageAnswer<'_>,
        purpose: LinkPurpose,
        correlation_id: &CorrelationId,
    ) -> Result<(LinkToken, Run<'_, P>, OwnerVerification), VerifyRefusal> {
        let link = LinkToken::parse(page.token)
            .filter(|l| l.purpose == purpose)
            .ok_or(VerifyRefusal::Invalid)?;
        let scope =
            TenantScope::for_system_task(link.tenant.clone(), SystemTask::OwnerVerification);
        let (_, policy) = match self.admit_scope(scope).await {
            Ok(admitted) => admitted,
            Err(WorkflowError::TenantInactive) => return Err(VerifyRefusal::Invalid),
            Err(e) => return Err(VerifyRefusal::Unavailable(e)),
        };
        let run = self.owner_run(&link.tenant, link.action, correlation_id, policy);
        run.count_page_answer(page.client).await?;
        let record = self
            .verifications
            .get(&run.scope, &link.ticket, category_of(link.action))
            .await
            .map_err(|e| VerifyRefusal::Unavailable(e.into()))?
            .ok_or(VerifyRefusal::Invalid)?;
        Ok((link, run, record))
    }

    /// The open verification a token names, after checking its secret.
    async fn open_verification(
        &self,
        page: &PageAnswer<'_>,
        correlation_id: &CorrelationId,
    ) -> Result<(Run<'_, P>, OwnerVerification), VerifyRefusal> {
        let (link, run, mut record) = self
            .page_run(page, LinkPurpose::Confirm, correlation_id)
            .await?;
        if record.state != VerificationState::Pending {
            return Err(VerifyRefusal::Invalid);
        }
        if !record.is_open(self.clock.now()) {
            run.close_verification(
                &mut record,
                VerificationState::Expired,
                "verification expired",
            )
            .await;
            run.escalate_ticket_of(&record, "owner verification expired")
                .await;
            return Err(VerifyRefusal::Invalid);
        }
        let expected = run
            .keyed_hash(&record, LINK, &link.secret)
            .await
            .map_err(VerifyRefusal::Unavailable)?;
        if !hashes_match(expected.as_bytes(), record.secret_mac.as_bytes()) {
            // Not counted: 256 random bits are not guessed, and counting
            // would let anyone who knows a ticket id fail its owner's
            // verification. Wrong codes (with the right link) count.
            return Err(VerifyRefusal::Invalid);
        }
        Ok((run, record))
    }

    /// What the page shows for a link: what is asked, of whom, when, how.
    pub async fn describe_verification(
        &self,
        page: &PageAnswer<'_>,
        correlation_id: &CorrelationId,
    ) -> Result<VerificationSummary, VerifyRefusal> {
        let not_me = LinkToken::parse(page.token).is_some_and(|l| l.purpose == LinkPurpose::NotMe);
        let (run, record) = if not_me {
            self.open_not_me_link(page, correlation_id).await?
        } else {
            self.open_verification(page, correlation_id).await?
        };
        Ok(VerificationSummary {
            action: run.action,
            account: mask_email(record.account.as_str()),
            asked_at: record.created_at,
            intake: record.intake.clone(),
            method: record.method,
            needs_code: record.code_mac.is_some() && !not_me,
            report: not_me,
        })
    }

    /// The owner confirms with the link (and the code, for SMS; for a push,
    /// each call sends or polls it). On success the action runs and its
    /// temporary password is returned here, once.
    pub async fn answer_verification(
        &self,
        page: &PageAnswer<'_>,
        correlation_id: &CorrelationId,
    ) -> Result<OwnerOutcome, VerifyRefusal> {
        let (run, mut record) = self.open_verification(page, correlation_id).await?;
        if let Some(expected) = record.code_mac.clone() {
            let given = page
                .code
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or(VerifyRefusal::Invalid)?;
            let mac = run
                .keyed_hash(&record, CODE, given)
                .await
                .map_err(VerifyRefusal::Unavailable)?;
            if !hashes_match(mac.as_bytes(), expected.as_bytes()) {
                run.wrong_answer(&mut record).await;
                return Err(VerifyRefusal::Invalid);
            }
        }
        if record.method == VerificationMethod::OktaPush {
            match run.push_step(&mut record).await? {
                PushResult::Approved => {}
                PushResult::Waiting => {
                    return Ok(OwnerOutcome::PushWaiting {
                        number: record.push.as_ref().and_then(|p| p.number),
                    });
                }
                PushResult::Rejected | PushResult::TimedOut => {
                    run.fail(&mut record, "the push was denied or not answered")
                        .await;
                    return Err(VerifyRefusal::Escalated);
                }
            }
        }
        run.confirm(record).await
    }
}

impl<P: Ports> Run<'_, P> {
    async fn escalate_ticket_of(&self, record: &OwnerVerification, reason: &'static str) {
        if let Ok(Some(mut ticket)) = self
            .services
            .tickets
            .get(&self.scope, &record.ticket_id)
            .await
            && !ticket.state.is_terminal()
        {
            let _ = self.escalate(&mut ticket, reason, false).await;
        }
        let channels = self.channels_for_notice(&record.account).await;
        self.notify_owner(
            record,
            &channels,
            "verification_failed",
            "Someone asked the helpdesk to change your account and the check that it was you \
             did not succeed. Nothing was changed; the request went to a person.",
        )
        .await;
    }

    /// Counts one answer from `client` against the tenant's page limit.
    pub(crate) async fn count_page_answer(&self, client: &str) -> Result<(), VerifyRefusal> {
        let bucket = RateBucket::PageClient(client.to_owned());
        let now = self.services.clock.now();
        match self
            .services
            .counters
            .consume(&self.scope, &bucket, PAGE_ANSWERS_PER_CLIENT_PER_HOUR, now)
            .await
        {
            Ok(()) => Ok(()),
            Err(RateLimitError::Limited {
                retry_after_seconds,
            }) => Err(VerifyRefusal::RateLimited {
                retry_after_seconds,
            }),
            Err(RateLimitError::Store(e)) => Err(VerifyRefusal::Unavailable(e.into())),
        }
    }

    /// A wrong link secret or code; the fifth fails the verification.
    async fn wrong_answer(&self, record: &mut OwnerVerification) {
        let expected = VerificationRevision::of(record);
        // The count and, on the fifth, the failure go in one write against
        // the stored revision (`close_verification` would expect the new count).
        let failed = record.record_wrong_answer();
        if let Err(e) = self
            .services
            .verifications
            .replace(&self.scope, record, expected)
            .await
        {
            tracing::warn!(error = %e, "wrong answer not counted");
        }
        if failed {
            self.publish_step(
                record,
                VerificationStep::Failed,
                Some("too many wrong answers"),
            )
            .await;
            self.escalate_ticket_of(record, "owner verification failed")
                .await;
        }
    }

    async fn fail(&self, record: &mut OwnerVerification, reason: &'static str) {
        self.close_verification(record, VerificationState::Failed, reason)
            .await;
        self.escalate_ticket_of(record, "owner verification failed")
            .await;
    }

    /// Sends the push on the first call, polls it on later ones.
    async fn push_step(&self, record: &mut OwnerVerification) -> Result<PushResult, VerifyRefusal> {
        let factor = record.push_factor.clone().ok_or(VerifyRefusal::Invalid)?;
        let directory = self.load_credentials().await.map_err(|_| {
            VerifyRefusal::Unavailable(WorkflowError::Escalated {
                reason: "directory credentials unavailable",
                provider_fault: true,
            })
        })?;
        match record.push.clone() {
            None => {
                let challenge = directory
                    .send_push(&record.account, &factor)
                    .await
                    .map_err(|e| {
                        VerifyRefusal::Unavailable(WorkflowError::Credentials(Box::new(e)))
                    })?;
                let expected = VerificationRevision::of(record);
                record.push = Some(PushInFlight {
                    factor,
                    transaction: challenge.transaction,
                    number: challenge.number,
                });
                self.services
                    .verifications
                    .replace(&self.scope, record, expected)
                    .await
                    .map_err(|e| VerifyRefusal::Unavailable(e.into()))?;
                self.publish_step(record, VerificationStep::Sent, Some("push sent"))
                    .await;
                Ok(PushResult::Waiting)
            }
            Some(push) => directory
                .push_result(&record.account, &push.factor, &push.transaction)
                .await
                .map_err(|e| VerifyRefusal::Unavailable(WorkflowError::Credentials(Box::new(e)))),
        }
    }

    /// The owner is verified: close the verification (once), re-check the
    /// ticket, act, and tell the owner.
    async fn confirm(&self, mut record: OwnerVerification) -> Result<OwnerOutcome, VerifyRefusal> {
        let ticket = self
            .services
            .tickets
            .get(&self.scope, &record.ticket_id)
            .await
            .map_err(|e| VerifyRefusal::Unavailable(e.into()))?
            .ok_or(VerifyRefusal::Invalid)?;
        let granted = match (record.grant, ticket.state) {
            (VerifiedGrant::SelfService, TicketState::Triaged) => ActionGrant::SelfService,
            (VerifiedGrant::Approved, TicketState::InProgress) if ticket.approved_by.is_some() => {
                ActionGrant::Approved
            }
            _ => return Err(VerifyRefusal::Invalid),
        };
        // Single use: of two answers racing, only one moves it on.
        let expected = VerificationRevision::of(&record);
        record.state = VerificationState::Confirmed;
        self.services
            .verifications
            .replace(&self.scope, &record, expected)
            .await
            .map_err(|_| VerifyRefusal::Invalid)?;
        self.publish_step(&record, VerificationStep::Succeeded, None)
            .await;
        let result = self.execute_verified(ticket, granted).await;
        let channels = self.channels_for_notice(&record.account).await;
        let account = mask_email(record.account.as_str());
        match result {
            Ok(done) => {
                let text = format!(
                    "The helpdesk did this after you confirmed it: {} {account}.",
                    describe(self.action)
                );
                self.notify_owner(&record, &channels, "action_done", &text)
                    .await;
                Ok(OwnerOutcome::Done {
                    action: self.action,
                    account,
                    temporary_password: done.temporary_password,
                })
            }
            Err(WorkflowError::Escalated { .. }) => {
                self.notify_owner(
                    &record,
                    &channels,
                    "action_escalated",
                    "You confirmed a helpdesk request, but it could not be completed \
                     automatically; a person will follow up.",
                )
                .await;
                Err(VerifyRefusal::Escalated)
            }
            Err(e) => Err(VerifyRefusal::Unavailable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_tampering_is_refused() {
        let tenant = TenantId::parse("demo").unwrap();
        let ticket = TicketId::generate();
        let link = LinkToken::issue(
            &tenant,
            &ticket,
            DirectoryAction::Reset,
            LinkPurpose::Confirm,
        );
        let raw = link.expose();
        let parsed = LinkToken::parse(&raw).unwrap();
        assert_eq!(parsed.ticket, ticket);
        assert_eq!(parsed.secret, link.secret);
        assert!(LinkToken::parse(&raw.replace(".reset.", ".delete.")).is_none());
        let not_me = LinkToken::issue(
            &tenant,
            &ticket,
            DirectoryAction::Unlock,
            LinkPurpose::NotMe,
        );
        let back = LinkToken::parse(&not_me.expose()).unwrap();
        assert_eq!(
            (back.purpose, back.action),
            (LinkPurpose::NotMe, DirectoryAction::Unlock)
        );
        assert!(LinkToken::parse(&raw[..raw.len() - 1]).is_none());
        assert!(LinkToken::parse("").is_none());
        assert_ne!(
            link.secret,
            LinkToken::issue(
                &tenant,
                &ticket,
                DirectoryAction::Reset,
                LinkPurpose::Confirm
            )
            .secret
        );
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let c = six_digit_code();
            assert_eq!(c.len(), 6);
            assert!(c.chars().all(|d| d.is_ascii_digit()));
        }
    }

    #[test]
    fn notices_avoid_the_verified_channel_where_another_exists() {
        let channels = OwnerChannels {
            primary_email: Some("bob@demo.example".into()),
            recovery_email: Some("bob.home@mail.example".into()),
            recovery_phone: None,
            push_factor: None,
        };
        let verified = Recipient::Email("bob.home@mail.example".into());
        assert_eq!(
            notice_recipients(&channels, &verified),
            vec![Recipient::Email("bob@demo.example".into())]
        );
        let only = OwnerChannels {
            recovery_email: Some("bob.home@mail.example".into()),
            ..OwnerChannels::default()
        };
        assert_eq!(notice_recipients(&only, &verified), vec![verified.clone()]);
    }
}
