//! Why a vault operation failed. No variant carries plaintext, envelope
//! content or a parser message (serde's can quote the input).

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no directory credentials are stored for this tenant")]
    NotFound,
    #[error("the stored envelope is malformed: {0}")]
    Malformed(&'static str),
    #[error("the stored envelope is bound to another tenant")]
    OtherTenant,
    #[error("KMS refused the data key under this tenant's encryption context")]
    KeyRefused(#[source] BoxError),
    #[error("the sealed credentials failed authentication")]
    Tampered,
    #[error("KMS returned no usable data key")]
    NoDataKey,
    #[error("sealing the credentials failed")]
    Seal,
    #[error("{operation} failed")]
    Aws {
        operation: &'static str,
        transient: bool,
        #[source]
        source: BoxError,
    },
}

impl VaultError {
    /// Whether retrying later may succeed (throttling, timeouts, a service down).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            VaultError::Aws {
                transient: true,
                ..
            }
        )
    }
}
