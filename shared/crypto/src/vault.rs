//! `CredentialVault`: stores, loads and deletes a tenant's sealed directory
//! credentials. The KMS and Secrets Manager clients are the caller's, built
//! with the tenant's own credentials (zerodesk-aws), so in AWS the role's
//! policy backs every tenant check made here. The plaintext data key and
//! the credentials are zeroed as soon as they are out of use.

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_secretsmanager::types::Tag;
use zerodesk_domain::{ConnectionId, TenantId, TenantScope};
use zeroize::Zeroizing;

use crate::envelope::{EncryptionContext, Envelope};
use crate::error::VaultError;
use crate::secret::SecretBytes;

/// Where a tenant's credentials live: `zerodesk/<stage>/tenants/<tenant_id>/directory`.
pub fn secret_name(stage: &str, tenant: &TenantId) -> String {
    format!("zerodesk/{stage}/tenants/{tenant}/directory")
}

/// What `store` wrote (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecretRef {
    pub name: String,
    pub arn: Option<String>,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CredentialVault {
    kms: aws_sdk_kms::Client,
    secrets: aws_sdk_secretsmanager::Client,
    key_id: String,
    stage: String,
}

impl CredentialVault {
    /// `key_id` is `KMS_KEY_ID` (id, ARN or alias); `stage` is `STAGE`.
    pub fn new(
        kms: aws_sdk_kms::Client,
        secrets: aws_sdk_secretsmanager::Client,
        key_id: impl Into<String>,
        stage: impl Into<String>,
    ) -> Self {
        Self {
            kms,
            secrets,
            key_id: key_id.into(),
            stage: stage.into(),
        }
    }

    pub fn secret_name(&self, scope: &TenantScope) -> String {
        secret_name(&self.stage, scope.tenant())
    }

    /// Seals `credentials` under a fresh data key and stores the envelope:
    /// creates the secret, or puts a new version when it exists.
    pub async fn store(
        &self,
        scope: &TenantScope,
        connection: &ConnectionId,
        credentials: &SecretBytes,
    ) -> Result<StoredSecretRef, VaultError> {
        let context = EncryptionContext::new(scope.tenant().clone(), connection.clone());
        let mut data_key = self
            .kms
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context.to_map().into_iter().collect()))
            .send()
            .await
            .map_err(|e| aws_error("KMS GenerateDataKey", e))?;
        let plaintext_key = Zeroizing::new(
            data_key
                .plaintext
                .take()
                .map(Blob::into_inner)
                .ok_or(VaultError::NoDataKey)?,
        );
        let encrypted_key = data_key
            .ciphertext_blob
            .take()
            .map(Blob::into_inner)
            .ok_or(VaultError::NoDataKey)?;
        let key_arn = data_key
            .key_id
            .take()
            .unwrap_or_else(|| self.key_id.clone());
        let envelope = Envelope::seal(
            &plaintext_key,
            &encrypted_key,
            &key_arn,
            &context,
            credentials,
        )?;
        drop(plaintext_key);
        let sealed = envelope.to_json()?;
        let name = self.secret_name(scope);

        let created = self
            .secrets
            .create_secret()
            .name(&name)
            .description("zerodesk directory credentials (envelope-encrypted)")
            .secret_string(&sealed)
            .tags(
                Tag::builder()
                    .key("tenant_id")
                    .value(scope.tenant().as_str())
                    .build(),
            )
            .send()
            .await;
        let stored = match created {
            Ok(out) => StoredSecretRef {
                name,
                arn: out.arn().map(str::to_owned),
                version_id: out.version_id().map(str::to_owned),
            },
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_exists_exception()) =>
            {
                let out = self
                    .secrets
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(&sealed)
                    .send()
                    .await
                    .map_err(|e| aws_error("Secrets Manager PutSecretValue", e))?;
                StoredSecretRef {
                    name,
                    arn: out.arn().map(str::to_owned),
                    version_id: out.version_id().map(str::to_owned),
                }
            }
            Err(e) => return Err(aws_error("Secrets Manager CreateSecret", e)),
        };
        tracing::info!(tenant_id = %scope.tenant(), connection_id = %connection, "stored directory credentials");
        Ok(stored)
    }

    /// Loads and decrypts the tenant's credentials. Call it for the request
    /// that uses them, and drop the result when that call is done.
    pub async fn load(
        &self,
        scope: &TenantScope,
    ) -> Result<(ConnectionId, SecretBytes), VaultError> {
        let name = self.secret_name(scope);
        let secret = self
            .secrets
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception())
                {
                    VaultError::NotFound
                } else {
                    aws_error("Secrets Manager GetSecretValue", e)
                }
            })?;
        let raw = secret
            .secret_string()
            .ok_or(VaultError::Malformed("the secret has no string value"))?;
        let envelope = Envelope::parse(raw)?;
        let context = envelope.context_for(scope.tenant())?;

        // The context sent to KMS is rebuilt from the caller's scope, so KMS
        // (and in AWS the tenant role's policy) decides the tenant binding.
        let decrypted = self
            .kms
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(envelope.encrypted_data_key()?))
            .set_encryption_context(Some(context.to_map().into_iter().collect()))
            .send()
            .await
            .map_err(decrypt_error)?;
        let mut decrypted = decrypted;
        let data_key = Zeroizing::new(
            decrypted
                .plaintext
                .take()
                .map(Blob::into_inner)
                .ok_or(VaultError::NoDataKey)?,
        );
        let credentials = envelope.open(&data_key, &context)?;
        Ok((context.connection_id, credentials))
    }

    /// Deletes the tenant's secret at once, with no recovery window.
    /// Deleting a secret that is not there succeeds (Secrets Manager answers
    /// a forced delete of an unknown name without error), so offboarding and
    /// the purge can run it again.
    pub async fn delete(&self, scope: &TenantScope) -> Result<(), VaultError> {
        let deleted = self
            .secrets
            .delete_secret()
            .secret_id(self.secret_name(scope))
            .force_delete_without_recovery(true)
            .send()
            .await;
        match deleted {
            Ok(_) => {
                tracing::info!(tenant_id = %scope.tenant(), "deleted directory credentials");
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(aws_error("Secrets Manager DeleteSecret", e)),
        }
    }
}

fn decrypt_error(e: SdkError<DecryptError>) -> VaultError {
    // In AWS, the tenant role's policy answers a foreign context with AccessDenied.
    let refused = e
        .as_service_error()
        .is_some_and(|s| s.is_invalid_ciphertext_exception() || s.is_incorrect_key_exception())
        || e.code() == Some("AccessDeniedException");
    if refused {
        VaultError::KeyRefused(Box::new(e))
    } else {
        aws_error("KMS Decrypt", e)
    }
}

fn aws_error<E, R>(operation: &'static str, e: SdkError<E, R>) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => matches!(
            e.code(),
            Some(
                "ThrottlingException"
                    | "KMSInternalException"
                    | "DependencyTimeoutException"
                    | "InternalServiceError"
                    | "InternalServiceErrorException"
            )
        ),
        _ => false,
    };
    VaultError::Aws {
        operation,
        transient,
        source: Box::new(e),
    }
}
