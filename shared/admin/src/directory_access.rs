//! The tenant's directory as the admin use cases reach it: connecting with
//! credentials as sealed, checking a connection, resolving protected
//! accounts and groups to the directory's immutable ids, and revoking
//! zerodesk's own access. Credentials are decrypted only for the call that
//! needs them and never leave this module.

use zerodesk_crypto::{ConnectionSecrets, SecretsError, VaultError};
use zerodesk_directory::{
    AccessRevocation, Directory, DirectoryConnector, DirectoryCredentials, DirectoryError,
};
use zerodesk_domain::{ProtectedIds, TenantPolicy, TenantScope};

use crate::admin::{Admin, AdminPorts};
use crate::error::AdminError;

pub(crate) type Connected<P> = <<P as AdminPorts>::Directories as DirectoryConnector>::Connected;

impl<P: AdminPorts> Admin<P> {
    /// The directory for credentials as `PUT /connection` received them.
    pub(crate) fn connect(
        &self,
        credentials: DirectoryCredentials,
    ) -> Result<Connected<P>, AdminError> {
        self.directories
            .connect(credentials)
            .map_err(|_| AdminError::invalid("credentials", "are not usable for the provider"))
    }

    /// The tenant's stored connection, connected; `None` when there is none.
    pub(crate) async fn stored_directory(
        &self,
        scope: &TenantScope,
    ) -> Result<Option<Connected<P>>, AdminError> {
        let secret = match self.vault.load(scope).await {
            Ok((_, secret)) => secret,
            Err(SecretsError::Vault(VaultError::NotFound)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let credentials: DirectoryCredentials = serde_json::from_slice(secret.expose())
            .map_err(|_| AdminError::Internal("stored credentials unreadable"))?;
        self.connect(credentials).map(Some)
    }

    /// Every protected account and group of `policy`, as `directory` names
    /// them. An entry the directory does not know is refused by name.
    pub(crate) async fn resolve_protection(
        &self,
        directory: &impl Directory,
        policy: &TenantPolicy,
    ) -> Result<ProtectedIds, AdminError> {
        let mut ids = ProtectedIds::none(directory.provider().as_str());
        for account in &policy.protected_accounts {
            let user = directory
                .lookup(account)
                .await
                .map_err(|e| unresolved("protected_accounts", account.as_str(), &e))?;
            ids.accounts.insert(user.provider_id);
        }
        for name in &policy.protected_groups {
            let group = directory
                .resolve_group(name)
                .await
                .map_err(|e| unresolved("protected_groups", name, &e))?;
            ids.groups.insert(group.id);
        }
        Ok(ids)
    }

    /// Revokes what the provider lets zerodesk revoke before the stored
    /// credentials are destroyed; with no usable connection, nothing.
    pub(crate) async fn revoke_stored_access(&self, scope: &TenantScope) -> AccessRevocation {
        match self.stored_directory(scope).await {
            Ok(Some(directory)) => directory.revoke_access().await,
            Ok(None) => AccessRevocation::default(),
            Err(e) => {
                tracing::warn!(error = %e, "stored connection not usable; nothing revoked");
                AccessRevocation::default()
            }
        }
    }
}

fn unresolved(field: &'static str, entry: &str, e: &DirectoryError) -> AdminError {
    match e {
        DirectoryError::NotFound { .. } => AdminError::Unresolved {
            field,
            entry: entry.to_owned(),
            reason: "is not in the directory",
        },
        e if e.is_retryable() => AdminError::Unavailable(Box::new(std::io::Error::other(e.code()))),
        _ => AdminError::Unresolved {
            field,
            entry: entry.to_owned(),
            reason: "could not be resolved by the directory",
        },
    }
}
