//! "This wasn't me": the link in every notice to an account's owner. It
//! works once, for seven days. Used, it signs the account out everywhere at
//! the provider, escalates the ticket as a security incident, alerts the
//! tenant's security contacts and is recorded in the trail. A link that is
//! unknown, used, expired or wrong gets the page's one refusal.

use zerodesk_crypto::hashes_match;
use zerodesk_directory::Directory;
use zerodesk_domain::{Clock, CorrelationId, OwnerVerification, TicketState};
use zerodesk_events::SecurityIncidentReported;
use zerodesk_notify::{Message, Messenger, Recipient};
use zerodesk_store::{TicketStore, VerificationRevision, VerificationStore};

use crate::actions::Run;
use crate::context::{Ports, Services};
use crate::verification::{LinkPurpose, NOT_ME, PageAnswer, VerifyRefusal};

const INCIDENT: &str = "security incident: the owner reported the request was not theirs";

/// What the report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotMeReported {
    pub sessions_revoked: bool,
    pub contacts_alerted: usize,
}

impl<P: Ports> Services<P> {
    /// The verification a "This wasn't me" link names, after checking it.
    pub(crate) async fn open_not_me_link(
        &self,
        page: &PageAnswer<'_>,
        correlation_id: &CorrelationId,
    ) -> Result<(Run<'_, P>, OwnerVerification), VerifyRefusal> {
        let (link, run, record) = self
            .page_run(page, LinkPurpose::NotMe, correlation_id)
            .await?;
        let usable = record
            .not_me
            .as_ref()
            .filter(|n| !n.used && self.clock.now() < n.expires_at)
            .ok_or(VerifyRefusal::Invalid)?;
        let mac = run
            .keyed_hash(&record, NOT_ME, &link.secret)
            .await
            .map_err(VerifyRefusal::Unavailable)?;
        if !hashes_match(mac.as_bytes(), usable.secret_mac.as_bytes()) {
            return Err(VerifyRefusal::Invalid);
        }
        Ok((run, record))
    }

    /// The owner says the request was not theirs.
    pub async fn report_not_me(
        &self,
        page: &PageAnswer<'_>,
        correlation_id: &CorrelationId,
    ) -> Result<NotMeReported, VerifyRefusal> {
        let (run, mut record) = self.open_not_me_link(page, correlation_id).await?;
        let expected = VerificationRevision::of(&record);
        if let Some(link) = record.not_me.as_mut() {
            link.used = true;
        }
        self.verifications
            .replace(&run.scope, &record, expected)
            .await
            .map_err(|_| VerifyRefusal::Invalid)?;
        let sessions_revoked = run.sign_the_owner_out(&record).await;
        run.escalate_as_incident(&record).await;
        let contacts_alerted = run.alert_security_contacts(&record).await;
        let reported = SecurityIncidentReported {
            ticket_id: record.ticket_id,
            action: run.action,
            sessions_revoked,
            contacts_alerted: u32::try_from(contacts_alerted).unwrap_or(u32::MAX),
        };
        if let Err(e) = run.publish(reported).await {
            tracing::error!(error = %e, "security incident not recorded");
        }
        Ok(NotMeReported {
            sessions_revoked,
            contacts_alerted,
        })
    }
}

impl<P: Ports> Run<'_, P> {
    async fn sign_the_owner_out(&self, record: &OwnerVerification) -> bool {
        let Ok(directory) = self.load_credentials().await else {
            tracing::error!("sessions not revoked: directory credentials unavailable");
            return false;
        };
        match directory.revoke_sessions(&record.account).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, code = e.code(), "sessions not revoked");
                false
            }
        }
    }

    /// The ticket is escalated with the incident, a resolved one reopened;
    /// a rejected or already escalated one keeps its state (the incident is
    /// in the trail either way).
    async fn escalate_as_incident(&self, record: &OwnerVerification) {
        let tickets = &self.services.tickets;
        match tickets.get(&self.scope, &record.ticket_id).await {
            Ok(Some(mut ticket)) if ticket.state.can_become(TicketState::Escalated) => {
                let _ = self.escalate(&mut ticket, INCIDENT, false).await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "ticket not escalated"),
        }
    }

    async fn alert_security_contacts(&self, record: &OwnerVerification) -> usize {
        let mut alerted = 0;
        for contact in &self.policy.security_contacts {
            let message = Message {
                to: Recipient::Email(contact.to_string()),
                subject: "Security incident: a helpdesk request its owner did not make".to_owned(),
                body: format!(
                    "The owner of {} reported that ticket {} (through {}, {}) was not theirs. \
                     Their sessions were revoked and the ticket was escalated. Review the \
                     ticket and the audit trail now.",
                    zerodesk_domain::mask_email(record.account.as_str()),
                    record.ticket_id,
                    record.intake,
                    record.created_at.format("%Y-%m-%d %H:%M UTC")
                ),
            };
            match self.services.messenger.send(&message).await {
                Ok(()) => alerted += 1,
                Err(e) => tracing::error!(error = %e, "security contact not alerted"),
            }
        }
        alerted
    }
}
