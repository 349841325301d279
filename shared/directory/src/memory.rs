//! An in-memory directory for use-case and handler tests that run in-process:
//! accounts with a state, admin flag and groups; every call recorded; faults
//! (timeout, provider refusal, outage, malformed answer) on demand. Never
//! used by a deployed function. Passwords stay in `TemporaryPassword`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zerodesk_domain::AccountRef;

use crate::credentials::DirectoryCredentials;
use crate::error::DirectoryError;
use crate::model::{
    AccessRevocation, AccountState, ConnectionReport, Directory, DirectoryGroup, DirectoryUser,
    OwnerChannels, Provider, PushChallenge, PushResult, RequirementKind, RequirementStatus,
    UnlockOutcome,
};
use crate::password::TemporaryPassword;
use crate::port::DirectoryConnector;

/// One account as the in-memory directory holds it, including what the
/// use cases changed.
#[derive(Debug)]
pub struct MemoryAccount {
    pub state: AccountState,
    pub is_admin: bool,
    /// The immutable ids of the groups the account is in.
    pub groups: Vec<String>,
    /// The temporary password last set, if any.
    pub password: Option<TemporaryPassword>,
    pub must_change_password: bool,
    pub sessions_revoked: u32,
    /// What the directory holds for the owner (recovery address, phone, push factor).
    pub channels: OwnerChannels,
    /// How the owner answers the next push.
    pub push_answer: PushResult,
    /// Pushes sent to the owner's device.
    pub pushes_sent: u32,
}

impl MemoryAccount {
    pub fn new(state: AccountState) -> Self {
        Self {
            state,
            is_admin: false,
            groups: Vec::new(),
            password: None,
            must_change_password: false,
            sessions_revoked: 0,
            channels: OwnerChannels::default(),
            push_answer: PushResult::Waiting,
            pushes_sent: 0,
        }
    }

    pub fn with_channels(mut self, channels: OwnerChannels) -> Self {
        self.channels = channels;
        self
    }

    pub fn admin(mut self) -> Self {
        self.is_admin = true;
        self
    }

    /// Puts the account in the groups with these ids (see
    /// `MemoryDirectory::with_group` for their names).
    pub fn in_groups(mut self, groups: &[&str]) -> Self {
        self.groups = groups.iter().map(|g| (*g).to_owned()).collect();
        self
    }
}

impl Clone for MemoryAccount {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            is_admin: self.is_admin,
            groups: self.groups.clone(),
            password: self
                .password
                .as_ref()
                .map(|p| TemporaryPassword::from_provider(p.expose().to_owned())),
            must_change_password: self.must_change_password,
            sessions_revoked: self.sessions_revoked,
            channels: self.channels.clone(),
            push_answer: self.push_answer,
            pushes_sent: self.pushes_sent,
        }
    }
}

/// A failure the in-memory directory answers with instead of acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryFault {
    /// The provider did not answer in time.
    Timeout,
    /// The provider refused the request with this HTTP status.
    Status(u16),
    /// The provider is down (a 5xx).
    Unavailable,
    /// The answer did not have the documented shape.
    Malformed,
}

/// The directory's operations, as calls are recorded and faults targeted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemoryOp {
    Lookup,
    ResetPassword,
    Unlock,
    RevokeSessions,
    OwnerChannels,
    SendPush,
    PushResult,
    MemberOfAny,
}

#[derive(Debug, Default)]
struct State {
    accounts: BTreeMap<AccountRef, MemoryAccount>,
    /// Other sign-in names, each to the account it names.
    aliases: BTreeMap<AccountRef, AccountRef>,
    /// Group id to display name.
    groups: BTreeMap<String, String>,
    /// Requirements a connection check reports missing.
    lacking: Vec<String>,
    calls: Vec<(MemoryOp, AccountRef)>,
    faults: BTreeMap<MemoryOp, MemoryFault>,
    fail_all: Option<MemoryFault>,
}

/// The in-memory directory; clones share state. It connects with any
/// credentials and answers as the credentials' provider.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    state: Arc<Mutex<State>>,
}

impl MemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an account.
    pub fn with_account(self, account: &str, state: MemoryAccount) -> Self {
        if let Ok(a) = AccountRef::parse(account) {
            self.lock().accounts.insert(a, state);
        }
        self
    }

    /// Makes `alias` another sign-in name of `account`: a lookup through
    /// it answers with `account`, as directories do for aliases.
    pub fn with_alias(self, alias: &str, account: &str) -> Self {
        if let (Ok(alias), Ok(account)) = (AccountRef::parse(alias), AccountRef::parse(account)) {
            self.lock().aliases.insert(alias, account);
        }
        self
    }

    /// Adds a group with an immutable `id` and a display `name`.
    pub fn with_group(self, id: &str, name: &str) -> Self {
        self.lock().groups.insert(id.to_owned(), name.to_owned());
        self
    }

    /// Makes the connection check report `requirement` (a provider's name
    /// for a permission) as missing.
    pub fn lack(&self, requirement: &str) {
        self.lock().lacking.push(requirement.to_owned());
    }

    /// The account as it stands now.
    pub fn account(&self, account: &str) -> Option<MemoryAccount> {
        let a = AccountRef::parse(account).ok()?;
        self.lock().accounts.get(&a).cloned()
    }

    /// Every call made, in order.
    pub fn calls(&self) -> Vec<(MemoryOp, AccountRef)> {
        self.lock().calls.clone()
    }

    /// The calls made of one operation.
    pub fn calls_to(&self, op: MemoryOp) -> Vec<AccountRef> {
        self.lock()
            .calls
            .iter()
            .filter(|(o, _)| *o == op)
            .map(|(_, a)| a.clone())
            .collect()
    }

    /// Makes every later call of `op` fail with `fault`.
    pub fn fail(&self, op: MemoryOp, fault: MemoryFault) {
        self.lock().faults.insert(op, fault);
    }

    /// Makes every later call fail with `fault`.
    pub fn fail_all(&self, fault: MemoryFault) {
        self.lock().fail_all = Some(fault);
    }

    /// How the account's owner answers pushes from now on.
    pub fn answer_push(&self, account: &str, answer: PushResult) {
        if let Ok(a) = AccountRef::parse(account)
            && let Some(found) = self.lock().accounts.get_mut(&a)
        {
            found.push_answer = answer;
        }
    }

    pub fn clear_faults(&self) {
        let mut s = self.lock();
        s.faults.clear();
        s.fail_all = None;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl DirectoryConnector for MemoryDirectory {
    type Connected = ConnectedMemoryDirectory;

    fn connect(
        &self,
        credentials: DirectoryCredentials,
    ) -> Result<ConnectedMemoryDirectory, DirectoryError> {
        Ok(ConnectedMemoryDirectory {
            directory: self.clone(),
            provider: credentials.provider(),
        })
    }
}

/// The in-memory directory as one tenant's connection sees it.
#[derive(Debug, Clone)]
pub struct ConnectedMemoryDirectory {
    directory: MemoryDirectory,
    provider: Provider,
}

impl ConnectedMemoryDirectory {
    /// Records the call, then applies `act` to the account unless a fault
    /// or a missing account answers first.
    fn call<T>(
        &self,
        op: MemoryOp,
        account: &AccountRef,
        act: impl FnOnce(&mut MemoryAccount, Provider) -> Result<T, DirectoryError>,
    ) -> Result<T, DirectoryError> {
        let provider = self.provider;
        let mut s = self.directory.lock();
        s.calls.push((op, account.clone()));
        if let Some(fault) = s.fail_all.or_else(|| s.faults.get(&op).copied()) {
            return Err(match fault {
                MemoryFault::Timeout => DirectoryError::Timeout { provider },
                MemoryFault::Status(status) => DirectoryError::Provider { provider, status },
                MemoryFault::Unavailable => DirectoryError::Unavailable {
                    provider,
                    status: Some(503),
                    source: None,
                },
                MemoryFault::Malformed => DirectoryError::Malformed {
                    provider,
                    what: "user",
                },
            });
        }
        let primary = s.aliases.get(account).unwrap_or(account).clone();
        let found = s
            .accounts
            .get_mut(&primary)
            .ok_or(DirectoryError::NotFound { provider })?;
        act(found, provider)
    }
}

impl Directory for ConnectedMemoryDirectory {
    fn provider(&self) -> Provider {
        self.provider
    }

    async fn lookup(&self, account: &AccountRef) -> Result<DirectoryUser, DirectoryError> {
        let primary = self
            .directory
            .lock()
            .aliases
            .get(account)
            .unwrap_or(account)
            .clone();
        self.call(MemoryOp::Lookup, account, |a, provider| {
            Ok(DirectoryUser {
                provider_id: format!("id:{primary}"),
                account: primary,
                provider,
                is_admin: a.is_admin,
                state: a.state.clone(),
            })
        })
    }

    /// Always forces a change at next sign-in, as every real connector does.
    async fn reset_password(
        &self,
        account: &AccountRef,
    ) -> Result<TemporaryPassword, DirectoryError> {
        self.call(MemoryOp::ResetPassword, account, |a, _| {
            let password = TemporaryPassword::generate();
            a.password = Some(TemporaryPassword::from_provider(
                password.expose().to_owned(),
            ));
            a.must_change_password = true;
            Ok(password)
        })
    }

    /// Clears a lockout; refuses a suspension or an administrator's
    /// disable. Connected as Microsoft Graph it behaves as Entra ID does:
    /// a lockout is timed and invisible, so nothing is ever cleared.
    async fn unlock(&self, account: &AccountRef) -> Result<UnlockOutcome, DirectoryError> {
        self.call(MemoryOp::Unlock, account, |a, provider| match a.state {
            AccountState::Suspended { .. } | AccountState::Disabled => {
                Err(DirectoryError::NotUnlockable { provider })
            }
            _ if provider == Provider::MicrosoftGraph => Ok(UnlockOutcome::TimedByProvider),
            AccountState::Locked => {
                a.state = AccountState::Active;
                Ok(UnlockOutcome::Unlocked)
            }
            _ => Ok(UnlockOutcome::WasNotLocked),
        })
    }

    async fn revoke_sessions(&self, account: &AccountRef) -> Result<(), DirectoryError> {
        self.call(MemoryOp::RevokeSessions, account, |a, _| {
            a.sessions_revoked += 1;
            Ok(())
        })
    }

    async fn owner_channels(&self, account: &AccountRef) -> Result<OwnerChannels, DirectoryError> {
        self.call(MemoryOp::OwnerChannels, account, |a, _| {
            Ok(a.channels.clone())
        })
    }

    /// Only the account's enrolled factor takes a push.
    async fn send_push(
        &self,
        account: &AccountRef,
        factor: &str,
    ) -> Result<PushChallenge, DirectoryError> {
        self.call(MemoryOp::SendPush, account, |a, provider| {
            if a.channels.push_factor.as_deref() != Some(factor) {
                return Err(DirectoryError::Provider {
                    provider,
                    status: 404,
                });
            }
            a.pushes_sent += 1;
            Ok(PushChallenge {
                transaction: format!("tx{}", a.pushes_sent),
                number: Some(42),
            })
        })
    }

    async fn push_result(
        &self,
        account: &AccountRef,
        _factor: &str,
        _transaction: &str,
    ) -> Result<PushResult, DirectoryError> {
        self.call(MemoryOp::PushResult, account, |a, _| Ok(a.push_answer))
    }

    async fn member_of_any(
        &self,
        user: &DirectoryUser,
        group_ids: &[String],
    ) -> Result<bool, DirectoryError> {
        self.call(MemoryOp::MemberOfAny, &user.account, |a, _| {
            Ok(a.groups.iter().any(|g| group_ids.contains(g)))
        })
    }

    /// Names compare case-insensitively, as every real directory does.
    async fn resolve_group(&self, name: &str) -> Result<DirectoryGroup, DirectoryError> {
        self.directory
            .lock()
            .groups
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(id, n)| DirectoryGroup {
                id: id.clone(),
                name: n.clone(),
            })
            .ok_or(DirectoryError::NotFound {
                provider: self.provider,
            })
    }

    async fn check_connection(&self, _probe: &AccountRef) -> ConnectionReport {
        let mut report = ConnectionReport::new(self.provider);
        report.record(
            RequirementKind::Credentials,
            "in-memory directory",
            "everything",
            RequirementStatus::Granted,
        );
        for name in &self.directory.lock().lacking {
            report.record(
                RequirementKind::ApplicationPermission,
                name.clone(),
                "what the test says",
                RequirementStatus::Missing,
            );
        }
        report
    }

    async fn revoke_access(&self) -> AccessRevocation {
        AccessRevocation::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn okta() -> DirectoryCredentials {
        serde_json::from_str(
            r#"{"provider":"okta_api_token","org_url":"https://demo.okta.com","api_token":"t"}"#,
        )
        .unwrap()
    }

    fn account(s: &str) -> AccountRef {
        AccountRef::parse(s).unwrap()
    }

    #[tokio::test]
    async fn a_reset_forces_a_change_at_next_login_and_is_recorded() {
        let dir = MemoryDirectory::new().with_account(
            "alice@demo.example",
            MemoryAccount::new(AccountState::Active),
        );
        let connected = dir.connect(okta()).unwrap();
        assert_eq!(connected.provider(), Provider::Okta);
        let p = connected
            .reset_password(&account("alice@demo.example"))
            .await
            .unwrap();
        let alice = dir.account("alice@demo.example").unwrap();
        assert!(alice.must_change_password);
        assert_eq!(alice.password.unwrap().expose(), p.expose());
        assert_eq!(format!("{p:?}"), "[redacted]");
        assert_eq!(dir.calls_to(MemoryOp::ResetPassword).len(), 1);
    }

    #[tokio::test]
    async fn faults_answer_instead_of_acting() {
        let dir = MemoryDirectory::new()
            .with_account("bob@demo.example", MemoryAccount::new(AccountState::Locked));
        let connected = dir.connect(okta()).unwrap();
        let bob = account("bob@demo.example");
        dir.fail(MemoryOp::Unlock, MemoryFault::Timeout);
        assert!(matches!(
            connected.unlock(&bob).await,
            Err(DirectoryError::Timeout { .. })
        ));
        assert_eq!(
            dir.account("bob@demo.example").unwrap().state,
            AccountState::Locked
        );
        dir.clear_faults();
        assert_eq!(
            connected.unlock(&bob).await.unwrap(),
            UnlockOutcome::Unlocked
        );
        assert!(matches!(
            connected.lookup(&account("nobody@demo.example")).await,
            Err(DirectoryError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn an_alias_looks_up_the_account_it_names() {
        let dir = MemoryDirectory::new()
            .with_account(
                "carol@demo.example",
                MemoryAccount::new(AccountState::Active),
            )
            .with_alias("c.boss@demo.example", "carol@demo.example");
        let connected = dir.connect(okta()).unwrap();
        let user = connected
            .lookup(&account("C.Boss@demo.example"))
            .await
            .unwrap();
        assert_eq!(user.account, account("carol@demo.example"));
        assert_eq!(user.provider_id, "id:carol@demo.example");
    }

    #[tokio::test]
    async fn a_suspension_is_not_unlockable() {
        let dir = MemoryDirectory::new().with_account(
            "dave@demo.example",
            MemoryAccount::new(AccountState::Suspended { reason: None }),
        );
        let connected = dir.connect(okta()).unwrap();
        assert!(matches!(
            connected.unlock(&account("dave@demo.example")).await,
            Err(DirectoryError::NotUnlockable { .. })
        ));
    }
}
