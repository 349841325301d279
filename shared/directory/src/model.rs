//! The port every function uses to act on a tenant's directory, and the
//! provider-neutral view of an account it returns. No HTTP here: connectors
//! implement the trait, handlers are generic over it.

use std::fmt;
use std::future::Future;

use serde::Serialize;
use zerodesk_domain::AccountRef;

use crate::error::DirectoryError;
use crate::password::TemporaryPassword;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    GoogleWorkspace,
    MicrosoftGraph,
    Okta,
}

impl Provider {
    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::GoogleWorkspace => "google_workspace",
            Provider::MicrosoftGraph => "microsoft_graph",
            Provider::Okta => "okta",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::GoogleWorkspace => "Google Workspace",
            Provider::MicrosoftGraph => "Microsoft Graph",
            Provider::Okta => "Okta",
        })
    }
}

/// Where an account stands, in the terms the automation decides on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AccountState {
    Active,
    /// Locked out in a way `unlock` clears (Okta `LOCKED_OUT`, a Google
    /// suspension for a sign-in challenge).
    Locked,
    /// Disabled with no recorded reason (Entra `accountEnabled: false`);
    /// `unlock` re-enables it.
    Disabled,
    /// Suspended for a reason `unlock` must not clear (an administrator's
    /// suspension, abuse, Okta `SUSPENDED`). `reason` is the provider's code.
    Suspended {
        reason: Option<String>,
    },
    /// The password is expired; the user must change it at next sign-in.
    PasswordExpired,
    /// Not yet activated or deprovisioned: nothing to automate.
    Inactive,
}

impl AccountState {
    /// Whether `unlock` would change this account.
    pub fn is_unlockable(&self) -> bool {
        matches!(self, AccountState::Locked | AccountState::Disabled)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryUser {
    pub account: AccountRef,
    /// The provider's immutable id for the account.
    pub provider_id: String,
    pub provider: Provider,
    /// Holds an administrator role (Google super or delegated admin, an
    /// Entra directory role, any Okta admin role). Always protected.
    pub is_admin: bool,
    /// Group names, for the tenant's protected groups. On Google, where
    /// reading groups would need a scope we never request, this holds the
    /// account's organisational unit path and each of its parents instead
    /// (`/Finance/Payroll`, `/Finance`, `/`).
    pub groups: Vec<String>,
    pub state: AccountState,
}

impl DirectoryUser {
    /// Whether the account is an admin or in any of `protected_groups`.
    pub fn is_protected<'a>(&self, protected_groups: impl IntoIterator<Item = &'a String>) -> bool {
        self.is_admin
            || protected_groups
                .into_iter()
                .any(|g| self.groups.iter().any(|m| m == g))
    }
}

/// What `unlock` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockOutcome {
    Unlocked,
    /// The account was not locked; nothing was changed.
    WasNotLocked,
}

/// The channels the directory itself holds for an account's owner: the only
/// places owner verification may send a challenge. Never filled from a
/// ticket or an intake message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerChannels {
    /// The account's primary mailbox, for notices after the fact.
    pub primary_email: Option<String>,
    /// A recovery address: Google `recoveryEmail`, a Graph email
    /// authentication method, the address of an active Okta email factor.
    pub recovery_email: Option<String>,
    /// A recovery phone in E.164: Google `recoveryPhone`, a Graph mobile
    /// phone authentication method, the number of an active Okta SMS factor.
    pub recovery_phone: Option<String>,
    /// The id of an active Okta Verify push factor.
    pub push_factor: Option<String>,
}

/// A push sent to an enrolled factor, to be polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushChallenge {
    /// The provider's transaction id for polling.
    pub transaction: String,
    /// The number the owner must pick on the device, where the provider
    /// offers a number challenge.
    pub number: Option<u16>,
}

/// Where a push stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushResult {
    Waiting,
    Approved,
    Rejected,
    TimedOut,
}

/// Acting on one tenant's directory. Every method is safe to retry: a reset
/// issues a new temporary password, an unlock of an unlocked account and a
/// second revoke change nothing.
pub trait Directory: Send + Sync {
    fn provider(&self) -> Provider;

    fn lookup(
        &self,
        account: &AccountRef,
    ) -> impl Future<Output = Result<DirectoryUser, DirectoryError>> + Send;

    /// Sets a temporary password that must be changed at next sign-in and
    /// returns it. Google and Graph get one from our CSPRNG; Okta makes its
    /// own and returns it.
    fn reset_password(
        &self,
        account: &AccountRef,
    ) -> impl Future<Output = Result<TemporaryPassword, DirectoryError>> + Send;

    /// Clears a lockout. Refuses (`NotUnlockable`) an account suspended for a
    /// reason only an administrator should clear.
    fn unlock(
        &self,
        account: &AccountRef,
    ) -> impl Future<Output = Result<UnlockOutcome, DirectoryError>> + Send;

    /// Signs the account out everywhere and revokes its refresh tokens.
    fn revoke_sessions(
        &self,
        account: &AccountRef,
    ) -> impl Future<Output = Result<(), DirectoryError>> + Send;

    /// The channels the directory holds for the account's owner.
    fn owner_channels(
        &self,
        account: &AccountRef,
    ) -> impl Future<Output = Result<OwnerChannels, DirectoryError>> + Send;

    /// Sends a push to the account's enrolled factor `factor`. Only Okta
    /// has one; the others keep this answer, `Unsupported`.
    fn send_push(
        &self,
        account: &AccountRef,
        factor: &str,
    ) -> impl Future<Output = Result<PushChallenge, DirectoryError>> + Send {
        let _ = (account, factor);
        let unsupported = no_push(self.provider());
        async move { Err(unsupported) }
    }

    /// Polls a push sent by `send_push`.
    fn push_result(
        &self,
        account: &AccountRef,
        factor: &str,
        transaction: &str,
    ) -> impl Future<Output = Result<PushResult, DirectoryError>> + Send {
        let _ = (account, factor, transaction);
        let unsupported = no_push(self.provider());
        async move { Err(unsupported) }
    }
}

fn no_push(provider: Provider) -> DirectoryError {
    DirectoryError::Unsupported {
        provider,
        what: "push verification",
    }
}
