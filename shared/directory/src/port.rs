//! What the ticket use cases need from a directory: connect with a tenant's
//! credentials, then act through the `Directory` port. The HTTPS connectors
//! implement it here; nothing here reads or stores the credentials.

use crate::connector::{Connector, connect};
use crate::credentials::{DirectoryCredentials, DirectoryEndpoints};
use crate::error::DirectoryError;
use crate::model::Directory;

/// Opens a tenant's directory with that tenant's credentials.
pub trait DirectoryConnector: Send + Sync {
    type Connected: Directory;

    /// Builds the connected directory; a misconfigured connection is an
    /// error before any network call.
    fn connect(&self, credentials: DirectoryCredentials)
    -> Result<Self::Connected, DirectoryError>;
}

/// The real providers (Google Workspace, Microsoft Graph, Okta) over HTTPS.
#[derive(Debug, Clone)]
pub struct HttpsDirectories {
    endpoints: DirectoryEndpoints,
}

impl HttpsDirectories {
    pub fn new(endpoints: DirectoryEndpoints) -> Self {
        Self { endpoints }
    }
}

impl DirectoryConnector for HttpsDirectories {
    type Connected = Connector;

    fn connect(&self, credentials: DirectoryCredentials) -> Result<Connector, DirectoryError> {
        connect(credentials, &self.endpoints)
    }
}
