//! The directory connection: its credentials are sealed into the vault and
//! never read back here; the tenants store keeps only the metadata, which
//! is all an answer ever shows.

use serde::Deserialize;
use zerodesk_crypto::{ConnectionSecrets, SecretBytes};
use zerodesk_domain::{Action, ConnectionId};
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

impl<P: AdminPorts> Admin<P> {
    /// Seals and stores the credentials, then records the metadata. The
    /// answer is the metadata only.
    pub async fn put_connection(
        &self,
        by: RequestedBy<'_>,
        input: ConnectionInput,
    ) -> Result<ConnectionMetadata, AdminError> {
        let (scope, _) = self.tenant_scope(by, Action::ManageConnection).await?;
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
        let secret = match credentials {
            serde_json::Value::String(s) if !s.is_empty() => SecretBytes::from(s),
            serde_json::Value::Object(o) if !o.is_empty() => {
                let bytes = serde_json::to_vec(&o)
                    .map_err(|_| AdminError::invalid("credentials", "is not valid JSON"))?;
                SecretBytes::new(bytes)
            }
            _ => {
                return Err(AdminError::invalid(
                    "credentials",
                    "must be a non-empty string or object",
                ));
            }
        };
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
        Ok(meta)
    }

    /// Destroys the secret (no recovery window) and forgets the connection.
    /// The directory crate offers no revocation of the connection's own
    /// grant, so revocation at the provider is left to the tenant's console.
    pub async fn delete_connection(&self, by: RequestedBy<'_>) -> Result<(), AdminError> {
        let (scope, _) = self.tenant_scope(by, Action::ManageConnection).await?;
        let had_meta = self.tenants.get_connection(&scope).await?.is_some();
        // The secret goes even without metadata: a half-made connection must
        // not leave credentials behind.
        self.vault.destroy(&scope).await?;
        self.tenants.delete_connection(&scope).await?;
        self.publish_config(by, &scope, ConfigChange::ConnectionDeleted, &[])
            .await;
        if had_meta {
            Ok(())
        } else {
            Err(AdminError::NotFound)
        }
    }
}
