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
    /// Disabled by an administrator (Entra `accountEnabled: false`). Not a
    /// lockout: zerodesk never re-enables it, approved or not.
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
        matches!(self, AccountState::Locked)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryUser {
    /// The account's primary sign-in name as the directory holds it, which
    /// may differ from the name a ticket used (an alias, another sign-in
    /// name of the same user).
    pub account: AccountRef,
    /// The provider's immutable id for the account: what protection is
    /// decided on.
    pub provider_id: String,
    pub provider: Provider,
    /// Holds an administrator role (Google super or delegated admin; an
    /// Entra role assignment, active or eligible, directory-wide or scoped;
    /// any Okta admin role). Always protected.
    pub is_admin: bool,
    pub state: AccountState,
}

/// A group as the directory knows it: its immutable id, and its name as
/// shown to people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryGroup {
    pub id: String,
    pub name: String,
}

/// What `unlock` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockOutcome {
    Unlocked,
    /// The account was not locked; nothing was changed.
    WasNotLocked,
    /// The provider's lockout is timed and invisible to its API (Entra ID
    /// smart lockout): there is nothing an unlock can clear, and nothing was
    /// changed. It ends by itself; a person follows up.
    TimedByProvider,
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

    /// Whether the account `user` is a member, directly or through nested
    /// groups where the provider has them, of any of the groups with the
    /// immutable ids `group_ids`.
    fn member_of_any(
        &self,
        user: &DirectoryUser,
        group_ids: &[String],
    ) -> impl Future<Output = Result<bool, DirectoryError>> + Send;

    /// Finds a group by the name an administrator gave (its display name,
    /// or on Google its address), compared as the provider compares names.
    fn resolve_group(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<DirectoryGroup, DirectoryError>> + Send;

    /// Tries what zerodesk needs (a token, a user read, the role and group
    /// lookups) and reports each requirement, missing ones by the
    /// provider's own name. `probe` is an account to read: the signed-in
    /// administrator who asked.
    fn check_connection(&self, probe: &AccountRef)
    -> impl Future<Output = ConnectionReport> + Send;

    /// Revokes what the provider lets zerodesk revoke of its own access
    /// (at least the cached access token) and says what the tenant's
    /// administrator still has to remove on their side.
    fn revoke_access(&self) -> impl Future<Output = AccessRevocation> + Send;

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

/// What a connection check found, requirement by requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionReport {
    pub provider: Provider,
    pub requirements: Vec<RequirementCheck>,
}

impl ConnectionReport {
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            requirements: Vec::new(),
        }
    }

    /// Whether every requirement was seen to be met.
    pub fn is_ready(&self) -> bool {
        self.requirements
            .iter()
            .all(|r| r.status == RequirementStatus::Granted)
    }

    /// The provider's names of what is missing, for "missing: ..." messages.
    pub fn missing(&self) -> Vec<&str> {
        self.requirements
            .iter()
            .filter(|r| r.status == RequirementStatus::Missing)
            .map(|r| r.name.as_str())
            .collect()
    }

    pub fn record(
        &mut self,
        kind: RequirementKind,
        name: impl Into<String>,
        needed_for: &'static str,
        status: RequirementStatus,
    ) {
        self.requirements.push(RequirementCheck {
            kind,
            name: name.into(),
            needed_for,
            status,
        });
    }
}

/// One thing the connection needs, in the provider's own terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementCheck {
    pub kind: RequirementKind,
    /// The provider's name: `https://www.googleapis.com/auth/admin.directory.user`,
    /// `User-PasswordProfile.ReadWrite.All`, `Helpdesk Administrator`,
    /// `okta.users.manage`, `DPoP`.
    pub name: String,
    /// What zerodesk does with it, in a few words.
    pub needed_for: &'static str,
    pub status: RequirementStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    /// A credential the connection holds works at the token endpoint.
    Credentials,
    /// An OAuth scope (Google domain-wide delegation, Okta service app).
    Scope,
    /// A Microsoft Graph application permission.
    ApplicationPermission,
    /// An Entra directory role or an Okta admin role held by zerodesk's app.
    AdminRole,
    /// A setting of the provider's app (Okta DPoP).
    Setting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementStatus {
    Granted,
    Missing,
    /// The check itself failed (provider down, timeout): try again.
    Unknown,
}

/// What revoking zerodesk's access did, and what is left to the tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessRevocation {
    /// What zerodesk revoked itself (`cached access token`, `access token at Okta`).
    pub revoked: Vec<String>,
    /// What the tenant's administrator still has to remove at the provider.
    pub tenant_must_remove: Vec<String>,
}
