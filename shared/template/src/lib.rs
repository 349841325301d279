//! Reads `template.yaml`, the one description of the deployment, so that the
//! test harness, the local stack and the checks provision and route exactly
//! what is deployed. Read-only: it never writes or rewrites the template.

mod intrinsics;
mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use intrinsics::substitute;
pub use tables::{AttributeType, GsiDef, KeyDef, TableDef};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("template is not valid YAML")]
    Yaml(#[from] serde_yaml::Error),
    #[error("resource {resource}: {problem}")]
    Shape { resource: String, problem: String },
}

/// A parsed template. Resources are kept as YAML values; typed views
/// (`tables()`, ...) read what they need from them.
#[derive(Debug, Clone)]
pub struct Template {
    resources: BTreeMap<String, serde_yaml::Value>,
    parameters: BTreeMap<String, serde_yaml::Value>,
    root: serde_yaml::Value,
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, TemplateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TemplateError::Read { path: path.to_owned(), source })?;
        Template::parse(&text)
    }

    /// The repository's own `template.yaml`, found from this crate's location.
    pub fn repository_template_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
    }

    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let root: serde_yaml::Value = serde_yaml::from_str(text)?;
        let section = |name: &str| -> BTreeMap<String, serde_yaml::Value> {
            root.get(name)
                .and_then(|v| v.as_mapping())
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Template { resources: section("Resources"), parameters: section("Parameters"), root })
    }

    /// Logical id -> resource body, for resources of one CloudFormation type.
    pub fn resources_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a serde_yaml::Value)> + 'a {
        self.resources.iter().filter_map(move |(id, body)| {
            (body.get("Type").and_then(|t| t.as_str()) == Some(kind)).then_some((id.as_str(), body))
        })
    }

    pub fn resource(&self, logical_id: &str) -> Option<&serde_yaml::Value> {
        self.resources.get(logical_id)
    }

    pub fn parameter_names(&self) -> impl Iterator<Item = &str> {
        self.parameters.keys().map(String::as_str)
    }

    /// The whole document, for checks that need sections without a typed view.
    pub fn root(&self) -> &serde_yaml::Value {
        &self.root
    }

    pub fn tables(&self) -> Result<Vec<TableDef>, TemplateError> {
        self.resources_of_type("AWS::DynamoDB::Table")
            .map(|(id, body)| TableDef::from_resource(id, body))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_template_declares_the_four_tables() {
        let t = Template::load(&Template::repository_template_path()).unwrap();
        let mut ids: Vec<String> = t.tables().unwrap().into_iter().map(|t| t.logical_id).collect();
        ids.sort();
        assert_eq!(ids, ["AuditTable", "IdempotencyTable", "TenantsTable", "TicketsTable"]);
    }

    #[test]
    fn every_table_has_pk_sk_ttl_and_the_expiry_index() {
        let t = Template::load(&Template::repository_template_path()).unwrap();
        for table in t.tables().unwrap() {
            assert_eq!(table.hash_key.name, "pk", "{}", table.logical_id);
            assert_eq!(table.range_key.as_ref().map(|k| k.name.as_str()), Some("sk"));
            assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
            assert!(table.gsis.iter().any(|g| g.name == "by_expiry"), "{}", table.logical_id);
        }
    }
}
