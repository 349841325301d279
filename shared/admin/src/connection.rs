//! The directory connection: before credentials are stored, the directory
//! is asked for everything zerodesk will need and a missing permission is
//! named; stored credentials are sealed into the vault and never shown
//! again; the tenants store keeps only the metadata, which with the check's
//! report is all an answer ever shows. Deleting a connection revokes what
//! the provider lets zerodesk revoke and says what the tenant must remove.

use serde::{Deserialize, Serialize};
use zerodesk_crypto::{ConnectionSecrets, SecretBytes};
use zerodesk_directory::{
    AccessRevocation, ConnectionReport, Directory, DirectoryCredentials, Provider,
};
use zerodesk_domain::{AccountRef, Action, ConnectionId, TenantScope};
use zerodesk_events::ConfigChange;
use zerodesk_store::{ConnectionMetadata, TenantStore};

use crate::admin::{Admin, AdminPorts, RequestedBy};
use crate::error::AdminError;

pub const PROVIDERS: [&str; 3] = ["google", "graph", "okta"];

/// Body of `PUT /connection`. `credentials` is whatever the provider needs
/// (a service-account key object, a client secret, an API token); it is
/// sealed as given and never read back by this API.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionInput {
    pub provider: String,
    pub directory: String,
    pub credentials: serde_json::Value,
}

impl std::fmt::Debug for ConnectionInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInput")
            .field("provider", &self.provider)
            .field("directory", &self.directory)
            .field("credentials", &"[redacted]")
            .finish()
    }
}

/// What `PUT /connection` answers: the stored metadata and what the check
/// found.
#[derive(Debug, Serialize)]
pub struct ConnectionView {
    #[serde(flatten)]
    pub metadata: ConnectionMetadata,
    pub check: ConnectionReport,
    /// Whether the policy's protected accounts and groups were resolved in
    /// this directory (when there are any).
    pub protection_resolved: bool,
}

/// What `DELETE /connection` answers and records.
pub type ConnectionRemoval = AccessRevocation;

impl<P: AdminPorts> Admin<P> {
    /// Checks the connection against the directory, and only if nothing is
    /// missing seals and stores the credentials, records the metadata and
    /// resolves the policy's protected entries in this directory.
    pub async fn put_connection(
        &self,
        by: RequestedBy<'_>,
        input: ConnectionInput,
    ) -> Result<ConnectionView, AdminError> {
        let (scope, policy) = self
            .tenant_write_scope(by, Action::ManageConnection)
            .await?;
        let ConnectionInput {
            provider,
            directory,
            credentials,
        } = input;
        if !PROVIDERS.contains(&provider.as_str()) {
            return Err(AdminError::invalid(
                "provider",
                "must be google, graph or okta",
            ));
        }
        let directory = directory.trim().to_owned();
        if directory.is_empty()
            || directory.len() > 253
            || !directory.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(AdminError::invalid(
                "directory",
                "must be 1-253 printable characters (a domain, Entra tenant or Okta org)",
            ));
        }
        let serde_json::Value::Object(fields) = credentials else {
            return Err(AdminError::invalid("credentials", "must be an object"));
        };
        let secret = SecretBytes::new(
            serde_json::to_vec(&fields)
                .map_err(|_| AdminError::invalid("credentials", "is not valid JSON"))?,
        );
        let parsed: DirectoryCredentials = serde_json::from_slice(secret.expose())
            .map_err(|_| AdminError::invalid("credentials", "do not match the provider's form"))?;
        if provider_name(parsed.provider()) != provider {
            return Err(AdminError::invalid(
                "credentials",
                "are for another provider than `provider`",
            ));
        }
        let directory_client = self.connect(parsed)?;
        let check = directory_client.check_connection(&probe(by)?).await;
        if !check.is_ready() {
            let missing: Vec<String> = check.missing().into_iter().map(str::to_owned).collect();
            if missing.is_empty() {
                return Err(AdminError::Unavailable(Box::new(std::io::Error::other(
                    "directory check incomplete",
                ))));
            }
            return Err(AdminError::ConnectionIncomplete { missing });
        }
        let connection_id = ConnectionId::parse(&format!(
            "conn-{}",
            ulid::Ulid::new().to_string().to_ascii_lowercase()
        ))
        .map_err(|_| AdminError::Internal("connection id"))?;
        self.vault.store(&scope, &connection_id, secret).await?;
        let meta = ConnectionMetadata {
            connection_id,
            provider,
            directory,
            connected_at: self.now(),
            connected_by: by.principal.subject.clone(),
        };
        self.tenants.put_connection(&scope, &meta).await?;
        let details = [
            ("provider", meta.provider.clone()),
            ("connection_id", meta.connection_id.to_string()),
        ];
        self.publish_config(by, &scope, ConfigChange::ConnectionStored, &details)
            .await;
        let protection_resolved = self
            .resolve_stored_policy(&scope, &directory_client, policy)
            .await;
        Ok(ConnectionView {
            metadata: meta,
            check,
            protection_resolved,
        })
    }

    /// `POST /connection/check`: the stored connection, checked again.
    /// Changes nothing.
    pub async fn check_connection(
        &self,
        by: RequestedBy<'_>,
    ) -> Result<ConnectionReport, AdminError> {
        let (scope, _) = self
            .tenant_write_scope(by, Action::ManageConnection)
            .await?;
        let directory = self
            .stored_directory(&scope)
            .await?
            .ok_or(AdminError::NotFound)?;
        Ok(directory.check_connection(&probe(by)?).await)
    }

    /// Re-resolves the policy's protected entries in a new directory. On
    /// failure the old ids stay, which name another directory or nothing,
    /// so every action escalates until the policy is stored again.
    async fn resolve_stored_policy(
        &self,
        scope: &TenantScope,
        directory: &impl Directory,
        mut policy: zerodesk_domain::TenantPolicy,
    ) -> bool {
        if !policy.has_protected_entries() {
            return true;
        }
        let resolved = match self.resolve_protection(directory, &policy).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "protected entries not resolved in the new directory");
                return false;
            }
        };
        policy.protected_ids = Some(resolved);
        match self.store_policy(scope, &policy).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "resolved protection not stored");
                false
            }
        }
    }

    /// Revokes what the provider lets zerodesk revoke, destroys the secret
    /// (no recovery window) and forgets the connection. The answer, also
    /// recorded in the trail, says what the tenant's administrator still
    /// has to remove at the provider.
    pub async fn delete_connection(
        &self,
        by: RequestedBy<'_>,
    ) -> Result<ConnectionRemoval, AdminError> {
        let (scope, _) = self
            .tenant_write_scope(by, Action::ManageConnection)
            .await?;
        let had_meta = self.tenants.get_connection(&scope).await?.is_some();
        let removal = self.revoke_stored_access(&scope).await;
        // The secret goes even without metadata: a half-made connection must
        // not leave credentials behind.
        self.vault.destroy(&scope).await?;
        self.tenants.delete_connection(&scope).await?;
        self.publish_config(
            by,
            &scope,
            ConfigChange::ConnectionDeleted,
            &removal_details(&removal),
        )
        .await;
        if had_meta {
            Ok(removal)
        } else {
            Err(AdminError::NotFound)
        }
    }
}

/// The trail's record of a removal: what was revoked and what is left.
pub(crate) fn removal_details(removal: &AccessRevocation) -> [(&'static str, String); 2] {
    [
        ("revoked", removal.revoked.join("; ")),
        ("tenant_must_remove", removal.tenant_must_remove.join("; ")),
    ]
}

/// `PUT /connection`'s `provider` names.
fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Provider::GoogleWorkspace => "google",
        Provider::MicrosoftGraph => "graph",
        Provider::Okta => "okta",
    }
}

/// The account the check reads: the signed-in administrator's own.
fn probe(by: RequestedBy<'_>) -> Result<AccountRef, AdminError> {
    by.principal.email.clone().ok_or(AdminError::invalid(
        "token",
        "must carry the administrator's email to check the directory",
    ))
}
