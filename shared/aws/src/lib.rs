//! AWS plumbing every function shares: loading the SDK configuration, and the
//! tenant-scoped credentials and clients (docs/architecture.md section 7, layer 3).
//! Nothing here may hand out a client for tenant data that runs on the
//! function's own role, or do network work before a request needs it.

mod config;
mod function_env;
mod tenant_clients;
mod tenant_credentials;

pub use config::{
    ConfigError, TENANT_ACCESS_ROLE_ARN_ENV, load_sdk_config, tenant_access_role_arn_from_env,
};
pub use function_env::{FunctionEnv, MissingEnv, TableNames};
pub use tenant_clients::{TenantClients, TenantClientsCache};
pub use tenant_credentials::{
    DEFAULT_REFRESH_MARGIN, TENANT_SESSION_TAG, TenantCredentials, TenantCredentialsError,
    role_session_name,
};
