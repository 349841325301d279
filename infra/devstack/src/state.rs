//! What a running stack tells other terminals, in `.devstack/stack.json`:
//! the API and admin URLs, issuer, audience and claim names, and the
//! loopback ports it holds. No secret is written here; the signing key
//! lives in its own owner-only file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::oidc::ClaimNames;

pub const STATE_FILE: &str = "stack.json";
pub const DEFAULT_PORT: u16 = 3000;
pub const DEFAULT_AUDIENCE: &str = "zerodesk-local";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackState {
    pub pid: u32,
    pub api_url: String,
    pub admin_url: String,
    pub issuer: String,
    pub audience: String,
    pub moto_endpoint: String,
    pub claim_tenant: String,
    pub claim_role: String,
    pub claim_subject: String,
    pub claim_email: String,
    /// Every loopback port the stack listens on (API, admin, moto, fakes, runtime APIs).
    pub ports: Vec<u16>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot write {0}")]
    Write(PathBuf, #[source] std::io::Error),
    #[error("no running stack: {0} is missing (start one with `devstack up`)")]
    Missing(PathBuf),
    #[error("{0} is not a stack state file")]
    Invalid(PathBuf),
}

impl StackState {
    pub fn claim_names(&self) -> ClaimNames {
        ClaimNames {
            tenant: self.claim_tenant.clone(),
            role: self.claim_role.clone(),
            subject: self.claim_subject.clone(),
            email: self.claim_email.clone(),
        }
    }

    pub fn save(&self, dir: &Path) -> Result<(), StateError> {
        let path = dir.join(STATE_FILE);
        let text =
            serde_json::to_string_pretty(self).map_err(|_| StateError::Invalid(path.clone()))?;
        std::fs::create_dir_all(dir).map_err(|e| StateError::Write(path.clone(), e))?;
        std::fs::write(&path, text).map_err(|e| StateError::Write(path, e))
    }

    pub fn load(dir: &Path) -> Result<StackState, StateError> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|_| StateError::Missing(path.clone()))?;
        serde_json::from_str(&text).map_err(|_| StateError::Invalid(path))
    }

    /// Removes the file if it still describes this process's stack.
    pub fn remove_if_mine(dir: &Path) {
        if StackState::load(dir).is_ok_and(|s| s.pid == std::process::id()) {
            let _ = std::fs::remove_file(dir.join(STATE_FILE));
        }
    }
}

/// The issuer a stack on `port` uses: the API's own loopback origin.
pub fn issuer_for(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// The repository root (template.yaml, .venv, docs/), from this crate's location.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
