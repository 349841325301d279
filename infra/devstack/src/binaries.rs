//! Builds the function binaries the template names (`Metadata.BuildProperties.Binary`)
//! with cargo, in one invocation, and says where they are.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

impl Profile {
    pub fn dir_name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot run cargo: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("cargo build of the functions failed ({0})")]
    Failed(String),
    #[error("cannot find cargo's target directory")]
    TargetDir,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// `cargo build -p <each package>`; cargo's own progress goes to the terminal.
pub async fn build(root: &Path, packages: &[String], profile: Profile) -> Result<(), BuildError> {
    let mut cmd = Command::new(cargo());
    cmd.arg("build").current_dir(root).stdin(Stdio::null());
    for p in packages {
        cmd.args(["-p", p]);
    }
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    let status = cmd.status().await.map_err(BuildError::Spawn)?;
    if status.success() {
        Ok(())
    } else {
        Err(BuildError::Failed(status.to_string()))
    }
}

/// `<target dir>/<profile>`, where cargo puts the binaries.
pub async fn output_dir(root: &Path, profile: Profile) -> Result<PathBuf, BuildError> {
    let out = Command::new(cargo())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .await
        .map_err(BuildError::Spawn)?;
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|_| BuildError::TargetDir)?;
    let target = meta["target_directory"]
        .as_str()
        .ok_or(BuildError::TargetDir)?;
    Ok(Path::new(target).join(profile.dir_name()))
}
