//! Owner verification as stored: bound to (tenant, ticket, account, action),
//! single use, short-lived, at most `MAX_WRONG_ATTEMPTS` wrong answers. The
//! record holds keyed hashes of the link secret and the code, never either
//! of them, and the channel only masked. Pure rules; the use cases in the
//! workflow crate send, check and act.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::classification::Category;
use crate::ids::{AccountRef, TenantId, TicketId};
use crate::policy::VerificationMethod;

/// Wrong answers after which the verification fails and the ticket escalates.
pub const MAX_WRONG_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationState {
    /// Sent; waiting for the owner.
    Pending,
    /// The owner proved the channel; the action ran (or was attempted).
    Confirmed,
    /// Too many wrong answers, or the push was denied or timed out.
    Failed,
    /// Nobody answered in time.
    Expired,
}

impl VerificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationState::Pending => "pending",
            VerificationState::Confirmed => "confirmed",
            VerificationState::Failed => "failed",
            VerificationState::Expired => "expired",
        }
    }
}

/// How the action was authorised before verification: it decides the rate
/// limits and is re-checked against the ticket when the owner confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifiedGrant {
    SelfService,
    Approved,
}

/// An Okta Verify push in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushInFlight {
    pub factor: String,
    pub transaction: String,
    /// The number the owner must pick on the device, if the provider asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerVerification {
    pub tenant_id: TenantId,
    pub ticket_id: TicketId,
    pub category: Category,
    pub account: AccountRef,
    pub method: VerificationMethod,
    /// The channel the challenge went to, masked (`r•••@mail.example`).
    pub channel: String,
    /// The push factor when `method` is `okta_push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_factor: Option<String>,
    /// Keyed hash (hex) of the link secret, bound to this verification.
    pub secret_mac: String,
    /// Keyed hash (hex) of the numeric code, for SMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_mac: Option<String>,
    pub grant: VerifiedGrant,
    /// How the ticket came in, for the page and the notice ("email intake").
    pub intake: String,
    pub state: VerificationState,
    pub wrong_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushInFlight>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The "This wasn't me" link sent with the notices: its keyed hash,
    /// until when it works, and whether it was used (it works once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_me: Option<NotMeLink>,
}

/// The "This wasn't me" link of a verification's notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotMeLink {
    pub secret_mac: String,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

/// Days a "This wasn't me" link works.
pub const NOT_ME_LINK_DAYS: i64 = 7;

impl OwnerVerification {
    /// The message a keyed hash is taken over: the binding, then the secret.
    /// A secret for one (tenant, ticket, action) never matches another's.
    pub fn mac_message(&self, purpose: &str, secret: &str) -> Vec<u8> {
        binding_message(
            &self.tenant_id,
            &self.ticket_id,
            self.category,
            &self.account,
            purpose,
            secret,
        )
    }

    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.state == VerificationState::Pending && now < self.expires_at
    }

    /// Counts a wrong answer; true when the limit is reached and the
    /// verification has failed.
    pub fn record_wrong_answer(&mut self) -> bool {
        self.wrong_attempts += 1;
        if self.wrong_attempts >= MAX_WRONG_ATTEMPTS {
            self.state = VerificationState::Failed;
            true
        } else {
            false
        }
    }
}

/// See `OwnerVerification::mac_message`; usable before the record exists.
pub fn binding_message(
    tenant: &TenantId,
    ticket: &TicketId,
    category: Category,
    account: &AccountRef,
    purpose: &str,
    secret: &str,
) -> Vec<u8> {
    format!(
        "zerodesk-owner-verification-v1\n{tenant}\n{ticket}\n{}\n{account}\n{purpose}\n{secret}",
        category.as_str()
    )
    .into_bytes()
}

/// `b•••@demo.example`: enough for the owner to recognise, not to harvest.
pub fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}\u{2022}\u{2022}\u{2022}@{domain}")
        }
        None => "\u{2022}\u{2022}\u{2022}".to_owned(),
    }
}

/// `•••••0101`: the last four digits only.
pub fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_a_hint() {
        assert_eq!(mask_email("bob@demo.example"), "b•••@demo.example");
        assert_eq!(mask_email("nonsense"), "•••");
        assert_eq!(mask_phone("+1 555 555 0101"), "•••••0101");
        assert_eq!(mask_phone("12"), "•••••12");
    }

    #[test]
    fn the_binding_separates_tickets_and_purposes() {
        let t = TenantId::parse("demo").unwrap();
        let a = AccountRef::parse("bob@demo.example").unwrap();
        let (x, y) = (TicketId::generate(), TicketId::generate());
        let m = |id: &TicketId, purpose| {
            binding_message(&t, id, Category::PasswordReset, &a, purpose, "s")
        };
        assert_ne!(m(&x, "link"), m(&y, "link"));
        assert_ne!(m(&x, "link"), m(&x, "code"));
    }

    #[test]
    fn the_fifth_wrong_answer_fails_the_verification() {
        let now = Utc::now();
        let mut v = OwnerVerification {
            tenant_id: TenantId::parse("demo").unwrap(),
            ticket_id: TicketId::generate(),
            category: Category::AccountUnlock,
            account: AccountRef::parse("bob@demo.example").unwrap(),
            method: VerificationMethod::RecoverySms,
            channel: mask_phone("+15555550101"),
            push_factor: None,
            secret_mac: "00".into(),
            code_mac: Some("11".into()),
            grant: VerifiedGrant::SelfService,
            intake: "email intake".into(),
            state: VerificationState::Pending,
            wrong_attempts: 0,
            push: None,
            created_at: now,
            expires_at: now + chrono::Duration::minutes(15),
            not_me: None,
        };
        assert!(v.is_open(now));
        for _ in 0..4 {
            assert!(!v.record_wrong_answer());
        }
        assert!(v.record_wrong_answer());
        assert_eq!(v.state, VerificationState::Failed);
        assert!(!v.is_open(now));
    }
}
