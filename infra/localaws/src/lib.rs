//! Local AWS for the test harness and the local stack: the moto emulator
//! pinned by `infra/moto-requirements.txt` (installed into `.venv`, started on
//! a free loopback port, dying with its parent), and provisioning it from
//! `template.yaml`. Never used against a deployed account: there
//! CloudFormation owns every resource.

pub mod moto;
pub mod provision;
pub mod tables;
pub mod values;

use std::path::PathBuf;

pub use moto::{Moto, MotoError};
pub use provision::{
    ProvisionError, Provisioned, RuleQueue, error_chain, provision, resolve_environment,
    sdk_config, template_parameters,
};
pub use tables::{TableError, create_table};
pub use values::{ACCOUNT_ID, DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, LocalValues, REGION};

/// The repository this crate lives in: template.yaml, `.venv` and the moto pin are there.
pub fn repository_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
