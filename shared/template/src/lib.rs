//! Reads `template.yaml`, the one description of the deployment, so that the
//! test harness, the local stack and the checks provision and route exactly
//! what is deployed. Read-only: it never writes or rewrites the template.

mod functions;
mod http_api;
mod intrinsics;
mod parameters;
mod resources;
mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use functions::{
    DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECS, EventDef, EventSource, FunctionDef, RouteAuth,
    RouteDef, RuleDef, ScheduleDef, ScheduleKind,
};
pub use http_api::{HttpApiDef, JwtAuthorizerDef};
pub use intrinsics::{Intrinsic, Resolve, ResolveError, substitute};
pub use parameters::ParameterDef;
pub use resources::EventBusDef;
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
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
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
        Ok(Template {
            resources: section("Resources"),
            parameters: section("Parameters"),
            root,
        })
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

    /// The CloudFormation type of a resource, e.g. `AWS::KMS::Key`.
    pub fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.resources.get(logical_id)?.get("Type")?.as_str()
    }

    pub fn parameters(&self) -> Vec<ParameterDef> {
        self.parameters
            .iter()
            .map(|(name, body)| ParameterDef::from_yaml(name, body))
            .collect()
    }

    /// `Globals.Function`, which SAM merges into every function.
    fn function_globals(&self) -> Option<&serde_yaml::Value> {
        self.root.get("Globals").and_then(|g| g.get("Function"))
    }

    pub fn functions(&self) -> Result<Vec<FunctionDef>, TemplateError> {
        let globals = self.function_globals();
        self.resources_of_type("AWS::Serverless::Function")
            .map(|(id, body)| FunctionDef::from_resource(id, body, globals))
            .collect()
    }

    pub fn function(&self, logical_id: &str) -> Result<Option<FunctionDef>, TemplateError> {
        Ok(self
            .functions()?
            .into_iter()
            .find(|f| f.logical_id == logical_id))
    }

    pub fn http_apis(&self) -> Result<Vec<HttpApiDef>, TemplateError> {
        self.resources_of_type("AWS::Serverless::HttpApi")
            .map(|(id, body)| HttpApiDef::from_resource(id, body))
            .collect()
    }

    /// Every HTTP API route of every function. Two routes with the same
    /// route key on the same API are an error, as CloudFormation makes it.
    pub fn routes(&self) -> Result<Vec<RouteDef>, TemplateError> {
        let mut routes: Vec<RouteDef> = Vec::new();
        for f in self.functions()? {
            for r in f.routes() {
                if let Some(api) = &r.api
                    && self.resource_type(api) != Some("AWS::Serverless::HttpApi")
                {
                    return Err(TemplateError::Shape {
                        resource: f.logical_id.clone(),
                        problem: format!(
                            "route {} names {api}, which is not an HttpApi",
                            r.route_key()
                        ),
                    });
                }
                if let Some(other) = routes
                    .iter()
                    .find(|o| o.api == r.api && o.route_key() == r.route_key())
                {
                    return Err(TemplateError::Shape {
                        resource: f.logical_id.clone(),
                        problem: format!(
                            "route {} is also served by {}",
                            r.route_key(),
                            other.function
                        ),
                    });
                }
                routes.push(r.clone());
            }
        }
        Ok(routes)
    }

    pub fn rules(&self) -> Result<Vec<RuleDef>, TemplateError> {
        Ok(self
            .functions()?
            .iter()
            .flat_map(|f| f.rules().cloned().collect::<Vec<_>>())
            .collect())
    }

    pub fn schedules(&self) -> Result<Vec<ScheduleDef>, TemplateError> {
        Ok(self
            .functions()?
            .iter()
            .flat_map(|f| f.schedules().cloned().collect::<Vec<_>>())
            .collect())
    }

    pub fn event_buses(&self) -> Result<Vec<EventBusDef>, TemplateError> {
        self.resources_of_type("AWS::Events::EventBus")
            .map(|(id, body)| EventBusDef::from_resource(id, body))
            .collect()
    }

    /// Logical ids of the KMS keys.
    pub fn kms_keys(&self) -> Vec<String> {
        self.resources_of_type("AWS::KMS::Key")
            .map(|(id, _)| id.to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_template_declares_the_four_tables() {
        let t = Template::load(&Template::repository_template_path()).unwrap();
        let mut ids: Vec<String> = t
            .tables()
            .unwrap()
            .into_iter()
            .map(|t| t.logical_id)
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "AuditTable",
                "IdempotencyTable",
                "TenantsTable",
                "TicketsTable"
            ]
        );
    }

    #[test]
    fn the_repository_template_functions_routes_and_authorizer_are_readable() {
        let t = Template::load(&Template::repository_template_path()).unwrap();
        let functions = t.functions().unwrap();
        assert!(!functions.is_empty(), "template.yaml declares no function");
        for f in &functions {
            assert!(
                f.binary.is_some(),
                "{} has no Metadata.BuildProperties.Binary",
                f.logical_id
            );
        }
        let apis = t.http_apis().unwrap();
        assert_eq!(apis.len(), 1, "one HTTP API");
        let default = apis[0]
            .default_authorizer
            .as_deref()
            .expect("a default authorizer");
        assert!(
            apis[0].authorizers.contains_key(default),
            "the default authorizer is a JWT authorizer"
        );
        let routes = t.routes().unwrap();
        // Only the owner verification page opts out of the authorizer (the
        // owner may be locked out); tests/tests/template_policy.rs checks
        // that it is exactly those routes, each with its own throttles.
        let open: Vec<&str> = routes
            .iter()
            .filter(|r| r.auth == RouteAuth::None)
            .map(|r| r.path.as_str())
            .collect();
        assert!(
            open.iter()
                .all(|p| *p == "/verify" || p.starts_with("/verify/")),
            "{open:?}"
        );
        assert!(!t.rules().unwrap().is_empty());
        for s in t.schedules().unwrap() {
            assert!(
                s.expression.starts_with("cron(") || s.expression.starts_with("rate("),
                "{}",
                s.expression
            );
        }
    }

    #[test]
    fn every_table_has_pk_sk_ttl_and_the_expiry_index() {
        let t = Template::load(&Template::repository_template_path()).unwrap();
        for table in t.tables().unwrap() {
            assert_eq!(table.hash_key.name, "pk", "{}", table.logical_id);
            assert_eq!(
                table.range_key.as_ref().map(|k| k.name.as_str()),
                Some("sk")
            );
            assert_eq!(table.ttl_attribute.as_deref(), Some("expires_at"));
            assert!(
                table.gsis.iter().any(|g| g.name == "by_expiry"),
                "{}",
                table.logical_id
            );
        }
    }
}
