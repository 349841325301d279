//! The environment each function runs with here, written for the tools that
//! run one function on their own: `env.json` for `sam local invoke
//! --env-vars` and `lambda-env/<binary>.env` for `cargo lambda watch
//! --env-file`. Both point at this stack's emulator and fakes on 127.0.0.1,
//! hold only the emulator's dummy credentials, and go when the stack stops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::state::StateError;

/// `sam local invoke --env-vars`: `{"LogicalId": {"VAR": "value"}}`.
pub const SAM_ENV_FILE: &str = "env.json";
/// `cargo lambda watch --env-file`: one dotenv file per function binary.
pub const CARGO_LAMBDA_ENV_DIR: &str = "lambda-env";

/// One function's environment as the stack runs it.
#[derive(Debug, Clone)]
pub struct FunctionEnvironment {
    pub logical_id: String,
    pub binary: String,
    pub env: BTreeMap<String, String>,
}

/// Writes `env.json` and `lambda-env/<binary>.env` under `dir`.
pub fn write(dir: &Path, functions: &[FunctionEnvironment]) -> Result<(), StateError> {
    let sam: BTreeMap<&str, &BTreeMap<String, String>> = functions
        .iter()
        .map(|f| (f.logical_id.as_str(), &f.env))
        .collect();
    let path = dir.join(SAM_ENV_FILE);
    let text = serde_json::to_string_pretty(&sam).map_err(|_| StateError::Invalid(path.clone()))?;
    write_file(&path, &text)?;
    let env_dir = dir.join(CARGO_LAMBDA_ENV_DIR);
    std::fs::create_dir_all(&env_dir).map_err(|e| StateError::Write(env_dir.clone(), e))?;
    for f in functions {
        write_file(&env_dir.join(format!("{}.env", f.binary)), &dotenv(&f.env))?;
    }
    Ok(())
}

/// Removes what `write` wrote; their ports mean nothing once the stack is gone.
pub fn remove(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(SAM_ENV_FILE));
    let _ = std::fs::remove_dir_all(dir.join(CARGO_LAMBDA_ENV_DIR));
}

fn write_file(path: &PathBuf, text: &str) -> Result<(), StateError> {
    std::fs::write(path, text).map_err(|e| StateError::Write(path.clone(), e))
}

/// `KEY=value` lines; a value with anything but URL, ARN and name
/// characters is double-quoted.
fn dotenv(env: &BTreeMap<String, String>) -> String {
    let plain = |v: &str| {
        v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:/@,=+*$".contains(&b))
    };
    let mut out = String::new();
    for (k, v) in env {
        if plain(v) {
            out.push_str(&format!("{k}={v}\n"));
        } else {
            let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
            out.push_str(&format!("{k}=\"{escaped}\"\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(logical_id: &str, binary: &str, vars: &[(&str, &str)]) -> FunctionEnvironment {
        FunctionEnvironment {
            logical_id: logical_id.to_owned(),
            binary: binary.to_owned(),
            env: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn sam_gets_one_map_per_logical_id_and_cargo_lambda_one_file_per_binary() {
        let dir = crate::testing::temp_dir("invoke-env");
        let functions = [
            function(
                "TicketsFunction",
                "tickets",
                &[
                    ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
                    ("TICKETS_TABLE", "zerodesk-local-tickets"),
                ],
            ),
            function(
                "AuditWriteFunction",
                "audit-write",
                &[("RUST_LOG", "info warn")],
            ),
        ];
        write(&dir, &functions).unwrap();
        let sam: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(SAM_ENV_FILE)).unwrap())
                .unwrap();
        assert_eq!(
            sam["TicketsFunction"]["AWS_ENDPOINT_URL"],
            "http://127.0.0.1:4566"
        );
        assert_eq!(sam["AuditWriteFunction"]["RUST_LOG"], "info warn");
        let tickets = std::fs::read_to_string(dir.join("lambda-env/tickets.env")).unwrap();
        assert_eq!(
            tickets,
            "AWS_ENDPOINT_URL=http://127.0.0.1:4566\nTICKETS_TABLE=zerodesk-local-tickets\n"
        );
        let audit = std::fs::read_to_string(dir.join("lambda-env/audit-write.env")).unwrap();
        assert_eq!(audit, "RUST_LOG=\"info warn\"\n");
        remove(&dir);
        assert!(!dir.join(SAM_ENV_FILE).exists());
        assert!(!dir.join(CARGO_LAMBDA_ENV_DIR).exists());
    }
}
