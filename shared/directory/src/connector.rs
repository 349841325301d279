//! `connect`: from decrypted credentials to a ready connector, and the one
//! enum that lets a handler hold any provider behind `Directory`. Builds
//! clients only; the first network call happens on first use.

use zerodesk_domain::AccountRef;

use crate::credentials::{DirectoryCredentials, DirectoryEndpoints};
use crate::error::DirectoryError;
use crate::google::GoogleWorkspace;
use crate::graph::MicrosoftGraph;
use crate::model::{
    AccessRevocation, ConnectionReport, Directory, DirectoryGroup, DirectoryUser, OwnerChannels,
    Provider, PushChallenge, PushResult, UnlockOutcome,
};
use crate::okta::Okta;
use crate::password::TemporaryPassword;

pub enum Connector {
    Google(GoogleWorkspace),
    Graph(MicrosoftGraph),
    Okta(Okta),
}

/// The connector for `credentials`, talking to `endpoints` (Okta's org URL
/// comes from the credentials).
pub fn connect(
    credentials: DirectoryCredentials,
    endpoints: &DirectoryEndpoints,
) -> Result<Connector, DirectoryError> {
    credentials.validate()?;
    Ok(match credentials {
        DirectoryCredentials::GoogleWorkspace(c) => {
            Connector::Google(GoogleWorkspace::new(c, endpoints)?)
        }
        DirectoryCredentials::MicrosoftGraph(c) => {
            Connector::Graph(MicrosoftGraph::new(c, endpoints)?)
        }
        DirectoryCredentials::OktaApiToken(c) => {
            Connector::Okta(Okta::with_api_token(c, endpoints)?)
        }
        DirectoryCredentials::OktaServiceApp(c) => {
            Connector::Okta(Okta::with_service_app(c, endpoints)?)
        }
    })
}

impl Directory for Connector {
    fn provider(&self) -> Provider {
        match self {
            Connector::Google(c) => c.provider(),
            Connector::Graph(c) => c.provider(),
            Connector::Okta(c) => c.provider(),
        }
    }

    async fn lookup(&self, account: &AccountRef) -> Result<DirectoryUser, DirectoryError> {
        match self {
            Connector::Google(c) => c.lookup(account).await,
            Connector::Graph(c) => c.lookup(account).await,
            Connector::Okta(c) => c.lookup(account).await,
        }
    }

    async fn reset_password(
        &self,
        account: &AccountRef,
    ) -> Result<TemporaryPassword, DirectoryError> {
        match self {
            Connector::Google(c) => c.reset_password(account).await,
            Connector::Graph(c) => c.reset_password(account).await,
            Connector::Okta(c) => c.reset_password(account).await,
        }
    }

    async fn unlock(&self, account: &AccountRef) -> Result<UnlockOutcome, DirectoryError> {
        match self {
            Connector::Google(c) => c.unlock(account).await,
            Connector::Graph(c) => c.unlock(account).await,
            Connector::Okta(c) => c.unlock(account).await,
        }
    }

    async fn revoke_sessions(&self, account: &AccountRef) -> Result<(), DirectoryError> {
        match self {
            Connector::Google(c) => c.revoke_sessions(account).await,
            Connector::Graph(c) => c.revoke_sessions(account).await,
            Connector::Okta(c) => c.revoke_sessions(account).await,
        }
    }

    async fn owner_channels(&self, account: &AccountRef) -> Result<OwnerChannels, DirectoryError> {
        match self {
            Connector::Google(c) => c.owner_channels(account).await,
            Connector::Graph(c) => c.owner_channels(account).await,
            Connector::Okta(c) => c.owner_channels(account).await,
        }
    }

    async fn send_push(
        &self,
        account: &AccountRef,
        factor: &str,
    ) -> Result<PushChallenge, DirectoryError> {
        match self {
            Connector::Google(c) => c.send_push(account, factor).await,
            Connector::Graph(c) => c.send_push(account, factor).await,
            Connector::Okta(c) => c.send_push(account, factor).await,
        }
    }

    async fn push_result(
        &self,
        account: &AccountRef,
        factor: &str,
        transaction: &str,
    ) -> Result<PushResult, DirectoryError> {
        match self {
            Connector::Google(c) => c.push_result(account, factor, transaction).await,
            Connector::Graph(c) => c.push_result(account, factor, transaction).await,
            Connector::Okta(c) => c.push_result(account, factor, transaction).await,
        }
    }

    async fn member_of_any(
        &self,
        user: &DirectoryUser,
        group_ids: &[String],
    ) -> Result<bool, DirectoryError> {
        match self {
            Connector::Google(c) => c.member_of_any(user, group_ids).await,
            Connector::Graph(c) => c.member_of_any(user, group_ids).await,
            Connector::Okta(c) => c.member_of_any(user, group_ids).await,
        }
    }

    async fn resolve_group(&self, name: &str) -> Result<DirectoryGroup, DirectoryError> {
        match self {
            Connector::Google(c) => c.resolve_group(name).await,
            Connector::Graph(c) => c.resolve_group(name).await,
            Connector::Okta(c) => c.resolve_group(name).await,
        }
    }

    async fn check_connection(&self, probe: &AccountRef) -> ConnectionReport {
        match self {
            Connector::Google(c) => c.check_connection(probe).await,
            Connector::Graph(c) => c.check_connection(probe).await,
            Connector::Okta(c) => c.check_connection(probe).await,
        }
    }

    async fn revoke_access(&self) -> AccessRevocation {
        match self {
            Connector::Google(c) => c.revoke_access().await,
            Connector::Graph(c) => c.revoke_access().await,
            Connector::Okta(c) => c.revoke_access().await,
        }
    }
}
