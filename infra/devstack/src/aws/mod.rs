//! The local AWS: moto from the project virtualenv, and provisioning from
//! the template.

pub mod moto;
pub mod provision;

pub use moto::{Moto, MotoError};
pub use provision::{
    ProvisionError, Provisioned, RuleQueue, provision, resolve_environment, sdk_config,
};
