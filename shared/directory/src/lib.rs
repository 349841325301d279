//! Directory connectors: Google Workspace, Microsoft Graph and Okta over
//! their real HTTPS APIs, behind one `Directory` port. Owns temporary
//! passwords and credential wrappers; never logs a body, header or secret.

mod connector;
mod credentials;
mod error;
mod google;
mod graph;
mod http;
mod memory;
mod model;
mod okta;
mod password;
mod phone;
mod port;
mod secret;

pub use connector::{Connector, connect};
pub use credentials::{
    DEFAULT_TIMEOUT, DirectoryCredentials, DirectoryEndpoints, Egress, EndpointsError,
    GoogleServiceAccount, GraphClientSecret, OktaApiToken, OktaServiceApp,
};
pub use error::DirectoryError;
pub use google::{GOOGLE_SCOPES, GoogleWorkspace};
pub use graph::{GRAPH_SCOPE, MicrosoftGraph};
pub use memory::{ConnectedMemoryDirectory, MemoryAccount, MemoryDirectory, MemoryFault, MemoryOp};
pub use model::{
    AccessRevocation, AccountState, ConnectionReport, Directory, DirectoryGroup, DirectoryUser,
    OwnerChannels, Provider, PushChallenge, PushResult, RequirementCheck, RequirementKind,
    RequirementStatus, UnlockOutcome,
};
pub use okta::{OKTA_SCOPES, Okta};
pub use password::{GENERATED_LENGTH, TemporaryPassword, meets_complexity};
pub use port::{DirectoryConnector, HttpsDirectories};
pub use secret::Secret;
