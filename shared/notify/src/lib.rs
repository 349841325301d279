//! Messages to people: a verification link or code to an account owner's
//! directory-held channel, and the notice after the fact. Email goes through
//! Amazon SES, SMS through Amazon SNS. Bodies can hold a single-use link or
//! code, so nothing here logs a body, an address or a number.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Email(String),
    /// E.164 phone number.
    Sms(String),
}

/// One message. `Debug` leaves the body out.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub to: Recipient,
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the message was not accepted: {0}")]
    Rejected(String),
}

/// Sends messages to people.
pub trait Messenger: Send + Sync {
    fn send(&self, message: &Message) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// SES for email (from a verified identity), SNS direct publish for SMS.
#[derive(Debug, Clone)]
pub struct SesSns {
    ses: aws_sdk_sesv2::Client,
    sns: aws_sdk_sns::Client,
    sender: String,
}

impl SesSns {
    pub fn new(
        ses: aws_sdk_sesv2::Client,
        sns: aws_sdk_sns::Client,
        sender: impl Into<String>,
    ) -> Self {
        Self {
            ses,
            sns,
            sender: sender.into(),
        }
    }

    async fn email(&self, to: &str, subject: &str, body: &str) -> Result<(), SendError> {
        let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
        let message = SesMessage::builder()
            .subject(content(subject).map_err(rejected)?)
            .body(
                Body::builder()
                    .text(content(body).map_err(rejected)?)
                    .build(),
            )
            .build();
        self.ses
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| rejected(aws_sdk_sesv2::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn sms(&self, to: &str, body: &str) -> Result<(), SendError> {
        self.sns
            .publish()
            .phone_number(to)
            .message(body)
            .message_attributes(
                "AWS.SNS.SMS.SMSType",
                aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("Transactional")
                    .build()
                    .map_err(rejected)?,
            )
            .send()
            .await
            .map_err(|e| rejected(aws_sdk_sns::error::DisplayErrorContext(e)))?;
        Ok(())
    }
}

fn rejected(e: impl std::fmt::Display) -> SendError {
    SendError::Rejected(e.to_string())
}

impl Messenger for SesSns {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        match &message.to {
            Recipient::Email(to) => self.email(to, &message.subject, &message.body).await,
            Recipient::Sms(to) => self.sms(to, &message.body).await,
        }
    }
}

/// Messages kept in memory, for tests that run in-process: they read the
/// link a person would have received from here.
#[derive(Debug, Clone, Default)]
pub struct MemoryOutbox {
    sent: Arc<Mutex<Vec<Message>>>,
    failing: Arc<Mutex<bool>>,
}

impl MemoryOutbox {
    pub fn sent(&self) -> Vec<Message> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The messages sent to one recipient, oldest first.
    pub fn sent_to(&self, to: &Recipient) -> Vec<Message> {
        self.sent().into_iter().filter(|m| &m.to == to).collect()
    }

    /// Makes every later send fail (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().unwrap_or_else(PoisonError::into_inner) = failing;
    }
}

impl Messenger for MemoryOutbox {
    async fn send(&self, message: &Message) -> Result<(), SendError> {
        if *self.failing.lock().unwrap_or_else(PoisonError::into_inner) {
            return Err(SendError::Rejected(
                "the in-memory outbox is switched off".into(),
            ));
        }
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_outbox_keeps_what_was_sent_and_debug_hides_bodies() {
        let outbox = MemoryOutbox::default();
        let m = Message {
            to: Recipient::Sms("+15555550101".into()),
            subject: "Code".into(),
            body: "code 123456".into(),
        };
        outbox.send(&m).await.unwrap();
        assert_eq!(
            outbox.sent_to(&Recipient::Sms("+15555550101".into())),
            vec![m.clone()]
        );
        assert!(!format!("{m:?}").contains("123456"));
        outbox.set_failing(true);
        assert!(outbox.send(&m).await.is_err());
    }
}
