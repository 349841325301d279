//! Checks every request a fake receives against the provider's own published
//! API description (`descriptions/*.json`, cut down by `extract.py`): path
//! and method, query parameters, request body and scopes. Where fake and
//! description differ, the description wins. A violation never quotes a body
//! value: bodies carry passwords.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use axum::http::Method;
use serde_json::{Map, Value};

use crate::server::percent_decode;

/// Whose published description a fake is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Described {
    Google,
    Graph,
    Okta,
}

impl Described {
    fn name(self) -> &'static str {
        match self {
            Described::Google => "google",
            Described::Graph => "graph",
            Described::Okta => "okta",
        }
    }
}

/// The client authentication fields Okta's `postBody` security schemes
/// describe (RFC 6749 section 2.3.1 and RFC 7523).
const FORM_CLIENT_AUTHENTICATION: [&str; 4] = [
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// What a token endpoint outside the description is reported as.
pub(crate) const UNDESCRIBED_TOKEN_ENDPOINT: &str = "token endpoint (not in the description)";

/// The parts of a request the check reads. `granted` is the token's scopes
/// (Google, Okta) or application permissions (Graph), when the fake knows them.
pub(crate) struct Request<'a> {
    pub method: &'a Method,
    pub raw_path: &'a str,
    pub query: &'a [(String, String)],
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub granted: Option<&'a [String]>,
}

/// A request the provider's published description does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    provider: &'static str,
    method: String,
    /// The path template when one matched, else the path as sent.
    path: String,
    rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Unreadable(String),
    NoSuchPath,
    MethodNotDescribed(Vec<String>),
    QueryNotDeclared(String),
    QueryRepeated(String),
    QueryMissing(String),
    QueryValue {
        name: String,
        value: String,
        expected: String,
    },
    BodyNotDeclared,
    BodyMissing,
    ContentType {
        sent: String,
        declared: Vec<String>,
    },
    BodyNotParsable(&'static str),
    Field {
        path: String,
        problem: Problem,
    },
    Scope(Vec<Vec<String>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    Unknown,
    ReadOnly,
    Missing,
    Type {
        expected: String,
        sent: &'static str,
    },
    NotInEnum,
    NoAlternative,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}: ", self.provider, self.method, self.path)?;
        match &self.rule {
            Rule::Unreadable(why) => write!(f, "the published description is unreadable ({why})"),
            Rule::NoSuchPath => f.write_str("no path of the published description matches"),
            Rule::MethodNotDescribed(allowed) => write!(
                f,
                "the description has no {} here (only {})",
                self.method,
                allowed.join(", ")
            ),
            Rule::QueryNotDeclared(name) => {
                write!(f, "query parameter `{name}` is not declared")
            }
            Rule::QueryRepeated(name) => {
                write!(f, "query parameter `{name}` is given more than once")
            }
            Rule::QueryMissing(name) => {
                write!(f, "required query parameter `{name}` is missing")
            }
            Rule::QueryValue {
                name,
                value,
                expected,
            } => write!(f, "query parameter `{name}` = `{value}` is not {expected}"),
            Rule::BodyNotDeclared => f.write_str("the operation takes no request body"),
            Rule::BodyMissing => f.write_str("the operation requires a request body"),
            Rule::ContentType { sent, declared } => write!(
                f,
                "content type `{sent}` is not declared (only {})",
                declared.join(", ")
            ),
            Rule::BodyNotParsable(what) => write!(f, "the request body is not valid {what}"),
            Rule::Field { path, problem } => match problem {
                Problem::Unknown => write!(f, "body field `{path}` is not in the request schema"),
                Problem::ReadOnly => write!(f, "body field `{path}` is read-only"),
                Problem::Missing => write!(f, "required body field `{path}` is missing"),
                Problem::Type { expected, sent } => {
                    write!(f, "body field `{path}` should be {expected}, not {sent}")
                }
                Problem::NotInEnum => {
                    write!(f, "body field `{path}` is not one of the declared values")
                }
                Problem::NoAlternative => {
                    write!(
                        f,
                        "body field `{path}` matches none of the schema's alternatives"
                    )
                }
            },
            Rule::Scope(alternatives) => {
                let needed: Vec<String> = alternatives.iter().map(|a| a.join(" + ")).collect();
                write!(
                    f,
                    "the token holds none of the operation's scopes ({})",
                    needed.join(" | ")
                )
            }
        }
    }
}

impl std::error::Error for Violation {}

/// Checks one request; on success, the operation's id in the description.
pub(crate) fn check(provider: Described, request: &Request<'_>) -> Result<&'static str, Violation> {
    let description = match description(provider) {
        Ok(description) => description,
        Err(why) => {
            return Err(Violation {
                provider: provider.name(),
                method: request.method.to_string(),
                path: request.raw_path.to_owned(),
                rule: Rule::Unreadable(why.clone()),
            });
        }
    };
    description.check(request)
}

fn description(provider: Described) -> Result<&'static Description, &'static String> {
    static GOOGLE: LazyLock<Result<Description, String>> = LazyLock::new(|| {
        Description::google(include_str!(
            "../descriptions/google-admin-directory_v1.json"
        ))
    });
    static GRAPH: LazyLock<Result<Description, String>> = LazyLock::new(|| {
        Description::graph(
            include_str!("../descriptions/graph-v1.0.json"),
            include_str!("../descriptions/graph-permissions.json"),
        )
    });
    static OKTA: LazyLock<Result<Description, String>> =
        LazyLock::new(|| Description::okta(include_str!("../descriptions/okta-management.json")));
    let loaded = match provider {
        Described::Google => &*GOOGLE,
        Described::Graph => &*GRAPH,
        Described::Okta => &*OKTA,
    };
    loaded.as_ref()
}

/// One published description, indexed by operation.
struct Description {
    provider: Described,
    document: Value,
    operations: Vec<Operation>,
}

struct Operation {
    id: String,
    method: Method,
    /// As shown in violations: `/admin/directory/v1/users/{userKey}`.
    template: String,
    segments: Vec<Segment>,
    /// Query parameters, each with the schema its value must match.
    query: Vec<QueryParameter>,
    body: Option<Body>,
    /// Alternatives, each a set of scopes granted together; empty when the
    /// description names none.
    scopes: Vec<Vec<String>>,
    /// Graph: what `$select` and `$expand` may name (the returned type's
    /// properties, as the full Graph description enumerates them), and the
    /// type's name.
    selectable: Option<(String, BTreeSet<String>)>,
    /// Graph: a pageable list, whose `@odata.nextLink` carries `$skiptoken`.
    pageable: bool,
    /// Okta: form fields of client authentication, which the description
    /// names in its `postBody` security schemes rather than in the schema.
    form_auth_fields: Vec<&'static str>,
}

enum Segment {
    Literal(String),
    Parameter,
    /// Graph: a bound action, which may be called without its namespace.
    Action(String),
}

struct QueryParameter {
    name: String,
    required: bool,
    repeated: bool,
    schema: Value,
}

struct Body {
    required: bool,
    content: Vec<(String, Value)>,
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_template(prefix: &str, path: &str, action: bool) -> (String, Vec<Segment>) {
    let template = format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let parts: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let last = parts.len().saturating_sub(1);
    let segments = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if part.starts_with('{') && part.ends_with('}') {
                Segment::Parameter
            } else if let (true, Some(name)) =
                (action && i == last, part.strip_prefix("microsoft.graph."))
            {
                Segment::Action(name.to_owned())
            } else {
                Segment::Literal((*part).to_owned())
            }
        })
        .collect();
    (template, segments)
}

/// The path part of a server URL: `https://graph.microsoft.com/v1.0/` -> `/v1.0`.
fn server_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/')
        .map(|i| rest[i..].trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

impl Description {
    fn google(json: &str) -> Result<Self, String> {
        let document: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let prefix = format!("/{}", text(&document, "servicePath").unwrap_or_default());
        let global = document.get("parameters").cloned().unwrap_or(Value::Null);
        let mut operations = Vec::new();
        let resources = document
            .get("resources")
            .and_then(Value::as_object)
            .ok_or("no resources")?;
        for resource in resources.values() {
            let Some(methods) = resource.get("methods").and_then(Value::as_object) else {
                continue;
            };
            for method in methods.values() {
                let path = text(method, "path").ok_or("a method without a path")?;
                let verb = text(method, "httpMethod").ok_or("a method without httpMethod")?;
                let (template, segments) = parse_template(&prefix, &path, false);
                let parameters = method.get("parameters").and_then(Value::as_object);
                let query = parameters
                    .into_iter()
                    .chain(global.as_object())
                    .flat_map(|p| p.iter())
                    .filter(|(_, p)| p.get("location").and_then(Value::as_str) == Some("query"))
                    .map(|(name, p)| QueryParameter {
                        name: name.clone(),
                        required: p.get("required") == Some(&Value::Bool(true)),
                        repeated: p.get("repeated") == Some(&Value::Bool(true)),
                        schema: p.clone(),
                    })
                    .collect();
                // Google's methods with a request take it as JSON, always.
                let body = method.get("request").map(|schema| Body {
                    required: true,
                    content: vec![("application/json".to_owned(), schema.clone())],
                });
                operations.push(Operation {
                    id: text(method, "id").ok_or("a method without an id")?,
                    method: Method::from_bytes(verb.as_bytes()).map_err(|e| e.to_string())?,
                    template,
                    segments,
                    query,
                    body,
                    scopes: strings(method.get("scopes"))
                        .into_iter()
                        .map(|s| vec![s])
                        .collect(),
                    selectable: None,
                    pageable: false,
                    form_auth_fields: Vec::new(),
                });
            }
        }
        Ok(Self {
            provider: Described::Google,
            document,
            operations,
        })
    }

    fn okta(json: &str) -> Result<Self, String> {
        let document: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Self::openapi(Described::Okta, document)
    }

    fn graph(json: &str, permissions: &str) -> Result<Self, String> {
        let document: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let permissions: Value = serde_json::from_str(permissions).map_err(|e| e.to_string())?;
        let mut description = Self::openapi(Described::Graph, document)?;
        let prefix = description.prefix();
        for operation in &mut description.operations {
            let key = format!(
                "{} {}",
                operation.method,
                operation
                    .template
                    .strip_prefix(&prefix)
                    .unwrap_or(&operation.template)
            );
            let entry = permissions
                .get("operations")
                .and_then(|o| o.get(&key))
                .ok_or_else(|| format!("graph-permissions.json has no `{key}`"))?;
            operation.scopes = ["leastPrivileged", "higherPrivileged"]
                .iter()
                .flat_map(|k| {
                    entry
                        .get(*k)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                })
                .map(|alternative| strings(Some(&alternative)))
                .collect();
        }
        Ok(description)
    }

    fn prefix(&self) -> String {
        self.document
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .map(server_path)
            .unwrap_or_default()
    }

    fn openapi(provider: Described, document: Value) -> Result<Self, String> {
        let mut description = Self {
            provider,
            document,
            operations: Vec::new(),
        };
        let prefix = description.prefix();
        let paths = description
            .document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("no paths")?;
        let mut operations = Vec::new();
        for (path, item) in paths {
            let shared = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let Some(item) = item.as_object() else {
                continue;
            };
            for (verb, operation) in item {
                const VERBS: [&str; 8] = [
                    "get", "put", "post", "delete", "options", "head", "patch", "trace",
                ];
                if !VERBS.contains(&verb.as_str()) {
                    continue;
                }
                let method = Method::from_bytes(verb.to_ascii_uppercase().as_bytes())
                    .map_err(|e| e.to_string())?;
                let kind = text(operation, "x-ms-docs-operation-type");
                let action = matches!(kind.as_deref(), Some("action" | "function"));
                let (template, segments) = parse_template(&prefix, path, action);
                let own = operation
                    .get("parameters")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let query = shared
                    .iter()
                    .chain(own.iter())
                    .map(|p| description.resolve(p))
                    .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
                    .map(|p| {
                        let schema = p.get("schema").cloned().unwrap_or(Value::Null);
                        QueryParameter {
                            name: text(p, "name").unwrap_or_default(),
                            required: p.get("required") == Some(&Value::Bool(true)),
                            repeated: schema.get("type").and_then(Value::as_str) == Some("array")
                                && p.get("explode") != Some(&Value::Bool(false)),
                            schema,
                        }
                    })
                    .collect();
                let body = operation.get("requestBody").map(|b| {
                    let b = description.resolve(b);
                    Body {
                        required: b.get("required") == Some(&Value::Bool(true)),
                        content: b
                            .get("content")
                            .and_then(Value::as_object)
                            .map(|c| {
                                c.iter()
                                    .map(|(media, m)| {
                                        (
                                            media.clone(),
                                            m.get("schema").cloned().unwrap_or(Value::Null),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                });
                let selectable = (provider == Described::Graph && method == Method::GET)
                    .then(|| description.returned_properties(operation))
                    .flatten();
                let requirements: Vec<&Map<String, Value>> = operation
                    .get("security")
                    .or_else(|| description.document.get("security"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .collect();
                operations.push(Operation {
                    id: text(operation, "operationId")
                        .ok_or_else(|| format!("{verb} {path} has no operationId"))?,
                    method,
                    template,
                    segments,
                    query,
                    body,
                    scopes: description.oauth_scopes(&requirements),
                    selectable,
                    pageable: operation.get("x-ms-pageable").is_some(),
                    form_auth_fields: if description.posts_credentials(&requirements) {
                        FORM_CLIENT_AUTHENTICATION.to_vec()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        description.operations = operations;
        Ok(description)
    }

    fn security_scheme(&self, name: &str, key: &str) -> Option<&str> {
        self.document
            .get("components")?
            .get("securitySchemes")?
            .get(name)?
            .get(key)?
            .as_str()
    }

    /// Each OAuth requirement that names scopes, as one alternative.
    fn oauth_scopes(&self, requirements: &[&Map<String, Value>]) -> Vec<Vec<String>> {
        requirements
            .iter()
            .flat_map(|r| r.iter())
            .filter(|(scheme, _)| self.security_scheme(scheme, "type") == Some("oauth2"))
            .map(|(_, scopes)| strings(Some(scopes)))
            .filter(|scopes| !scopes.is_empty())
            .collect()
    }

    /// Whether the client may authenticate with fields of the form body
    /// (Okta's `postBody` schemes, which name them in prose only).
    fn posts_credentials(&self, requirements: &[&Map<String, Value>]) -> bool {
        requirements
            .iter()
            .flat_map(|r| r.keys())
            .any(|scheme| self.security_scheme(scheme, "scheme") == Some("postBody"))
    }

    /// Follows `$ref` (OpenAPI `#/...` pointers, Google schema names).
    fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
                return node;
            };
            let target = match reference.strip_prefix('#') {
                Some(pointer) => self.document.pointer(pointer),
                None => self.document.get("schemas").and_then(|s| s.get(reference)),
            };
            match target {
                Some(target) => node = target,
                None => return &Value::Null,
            }
        }
        node
    }

    /// The properties of what a Graph GET returns (the items, for a list).
    fn returned_properties(&self, operation: &Value) -> Option<(String, BTreeSet<String>)> {
        let response = operation.get("responses")?.get("2XX")?;
        let media = self
            .resolve(response)
            .get("content")?
            .get("application/json")?;
        let mut schema = media.get("schema")?;
        let value = self
            .resolve(schema)
            .get("properties")
            .and_then(|p| p.get("value"));
        if let Some(items) = value.and_then(|v| v.get("items")) {
            schema = items;
        }
        let name = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or("the returned type")
            .to_owned();
        let mut names = BTreeSet::new();
        for part in self.object_parts(schema) {
            if let Some(properties) = part.get("properties").and_then(Value::as_object) {
                names.extend(properties.keys().cloned());
            }
        }
        Some((name, names))
    }

    /// A schema and the `allOf` parts it is made of, resolved.
    fn object_parts<'a>(&'a self, schema: &'a Value) -> Vec<&'a Value> {
        let schema = self.resolve(schema);
        let mut parts = vec![schema];
        for part in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            parts.extend(self.object_parts(part));
        }
        parts
    }

    fn check(&'static self, request: &Request<'_>) -> Result<&'static str, Violation> {
        let violation = |path: &str, rule: Rule| Violation {
            provider: self.provider.name(),
            method: request.method.to_string(),
            path: path.to_owned(),
            rule,
        };
        let segments: Vec<String> = request
            .raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        if self.outside_the_description(&segments) {
            return Ok(UNDESCRIBED_TOKEN_ENDPOINT);
        }
        let mut matching: Vec<(usize, &Operation)> = self
            .operations
            .iter()
            .filter_map(|op| op.matches(&segments).map(|score| (score, op)))
            .collect();
        matching.sort_by_key(|(literals, _)| std::cmp::Reverse(*literals));
        let Some(&(best, _)) = matching.first() else {
            return Err(violation(request.raw_path, Rule::NoSuchPath));
        };
        let same_template: Vec<&Operation> = matching
            .iter()
            .filter(|(score, _)| *score == best)
            .map(|(_, op)| *op)
            .collect();
        let Some(operation) = same_template.iter().find(|op| op.method == *request.method) else {
            let allowed = same_template
                .iter()
                .map(|op| op.method.to_string())
                .collect();
            let template = same_template
                .first()
                .map_or(request.raw_path, |op| op.template.as_str());
            return Err(violation(template, Rule::MethodNotDescribed(allowed)));
        };
        let fail = |rule: Rule| violation(&operation.template, rule);
        self.check_query(operation, request.query).map_err(fail)?;
        self.check_body(operation, request).map_err(fail)?;
        check_scopes(operation, request.granted).map_err(fail)?;
        Ok(operation.id.as_str())
    }

    /// OAuth token endpoints that the API's description does not cover.
    fn outside_the_description(&self, segments: &[String]) -> bool {
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match self.provider {
            Described::Google => segments == ["token"],
            Described::Graph => matches!(segments.as_slice(), [_, "oauth2", "v2.0", "token"]),
            Described::Okta => false,
        }
    }

    fn check_query(&self, operation: &Operation, query: &[(String, String)]) -> Result<(), Rule> {
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in query {
            if operation.pageable && name == "$skiptoken" {
                continue;
            }
            let Some(parameter) = operation.query.iter().find(|p| &p.name == name) else {
                return Err(Rule::QueryNotDeclared(name.clone()));
            };
            if seen.contains(&name.as_str()) && !parameter.repeated {
                return Err(Rule::QueryRepeated(name.clone()));
            }
            seen.push(name);
            self.check_query_value(operation, parameter, value)
                .map_err(|expected| Rule::QueryValue {
                    name: name.clone(),
                    value: value.clone(),
                    expected,
                })?;
        }
        match operation
            .query
            .iter()
            .find(|p| p.required && !seen.contains(&p.name.as_str()))
        {
            Some(missing) => Err(Rule::QueryMissing(missing.name.clone())),
            None => Ok(()),
        }
    }

    /// `Err` says what the value should have been.
    fn check_query_value(
        &self,
        operation: &Operation,
        parameter: &QueryParameter,
        value: &str,
    ) -> Result<(), String> {
        let schema = self.resolve(&parameter.schema);
        if schema.get("type").and_then(Value::as_str) != Some("array") {
            return scalar_matches(schema, value);
        }
        let items = self.resolve(schema.get("items").unwrap_or(&Value::Null));
        for item in value.split(',') {
            scalar_matches(items, item)?;
            let named_properties = matches!(parameter.name.as_str(), "$select" | "$expand");
            if let (true, None, Some((type_name, properties))) =
                (named_properties, items.get("enum"), &operation.selectable)
            {
                let property = item.split('(').next().unwrap_or(item).trim();
                if property != "*" && !properties.contains(property) {
                    return Err(format!("a property of {type_name} (`{property}` is not)"));
                }
            }
        }
        Ok(())
    }

    fn check_body(&self, operation: &Operation, request: &Request<'_>) -> Result<(), Rule> {
        let Some(body) = &operation.body else {
            return if request.body.is_empty() {
                Ok(())
            } else {
                Err(Rule::BodyNotDeclared)
            };
        };
        if request.body.is_empty() {
            return if body.required {
                Err(Rule::BodyMissing)
            } else {
                Ok(())
            };
        }
        let sent = request
            .content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "(none)".to_owned());
        let Some((media, schema)) = body.content.iter().find(|(media, _)| *media == sent) else {
            return Err(Rule::ContentType {
                sent,
                declared: body.content.iter().map(|(m, _)| m.clone()).collect(),
            });
        };
        let (value, form) = if media == "application/x-www-form-urlencoded" {
            let mut fields = Map::new();
            for (k, v) in url::form_urlencoded::parse(request.body) {
                if operation.form_auth_fields.contains(&k.as_ref()) {
                    continue;
                }
                fields.insert(k.into_owned(), Value::String(v.into_owned()));
            }
            (Value::Object(fields), true)
        } else {
            let value =
                serde_json::from_slice(request.body).map_err(|_| Rule::BodyNotParsable("JSON"))?;
            (value, false)
        };
        let validator = Validator {
            description: self,
            form,
        };
        validator
            .value(schema, &value, "")
            .map_err(|(path, problem)| Rule::Field { path, problem })
    }
}

impl Operation {
    /// How many literal segments match, if the whole path does.
    fn matches(&self, segments: &[String]) -> Option<usize> {
        if segments.len() != self.segments.len() {
            return None;
        }
        let mut literals = 0;
        for (segment, sent) in self.segments.iter().zip(segments) {
            match segment {
                Segment::Parameter if !sent.is_empty() => {}
                Segment::Literal(l) if l == sent => literals += 1,
                Segment::Action(name)
                    if sent == name || sent.strip_prefix("microsoft.graph.") == Some(name) =>
                {
                    literals += 1;
                }
                _ => return None,
            }
        }
        Some(literals)
    }
}

fn check_scopes(operation: &Operation, granted: Option<&[String]>) -> Result<(), Rule> {
    let Some(granted) = granted else {
        return Ok(());
    };
    if operation.scopes.is_empty() {
        return Ok(());
    }
    let holds = |alternative: &Vec<String>| alternative.iter().all(|s| granted.contains(s));
    if operation.scopes.iter().any(holds) {
        Ok(())
    } else {
        Err(Rule::Scope(operation.scopes.clone()))
    }
}

/// A query value or form field against a scalar schema; `Err` says what it
/// should have been.
fn scalar_matches(schema: &Value, value: &str) -> Result<(), String> {
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("string");
    let number = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.parse::<f64>().ok(),
        Some(v) => v.as_f64(),
        None => None,
    };
    match kind {
        "boolean" if value != "true" && value != "false" => {
            return Err("`true` or `false`".to_owned());
        }
        "integer" | "number" => {
            let parsed = if kind == "integer" {
                value.parse::<i64>().ok().map(|i| i as f64)
            } else {
                value.parse::<f64>().ok()
            };
            let Some(parsed) = parsed else {
                return Err(format!("an {kind}"));
            };
            let minimum = number(schema.get("minimum"));
            let maximum = number(schema.get("maximum"));
            if minimum.is_some_and(|m| parsed < m) || maximum.is_some_and(|m| parsed > m) {
                return Err(format!(
                    "within {}..{}",
                    minimum.map_or(String::new(), |m| m.to_string()),
                    maximum.map_or(String::new(), |m| m.to_string())
                ));
            }
        }
        _ => {}
    }
    let allowed = strings(schema.get("enum"));
    if !allowed.is_empty() && !allowed.iter().any(|a| a == value) {
        return Err(format!("one of {}", allowed.join(", ")));
    }
    Ok(())
}

/// Checks a body value against a schema, OpenAPI 3.0 or Google discovery.
struct Validator<'a> {
    description: &'a Description,
    /// Form bodies: every value arrives as a string.
    form: bool,
}

type FieldError = (String, Problem);

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn field(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

impl<'a> Validator<'a> {
    fn value(&self, schema: &Value, value: &Value, path: &str) -> Result<(), FieldError> {
        let d = self.description;
        let schema = d.resolve(schema);
        let problem = |problem: Problem| {
            Err((
                if path.is_empty() {
                    "(body)".to_owned()
                } else {
                    path.to_owned()
                },
                problem,
            ))
        };
        if let Some(mapped) = self.discriminated(schema, value) {
            return self.value(mapped, value, path);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
                return self.alternatives(alternatives, value, path);
            }
        }
        if value.is_null() {
            let nullable = schema.get("nullable") == Some(&Value::Bool(true));
            // Google clears a field sent as null; its documents never say nullable.
            return if nullable || d.provider == Described::Google || schema_type(schema).is_none() {
                Ok(())
            } else {
                problem(Problem::Type {
                    expected: schema_type(schema).unwrap_or_default().to_owned(),
                    sent: "null",
                })
            };
        }
        let parts = d.object_parts(schema);
        let is_object = parts.iter().any(|p| p.get("properties").is_some())
            || schema_type(schema) == Some("object");
        if is_object {
            return self.object(&parts, value, path);
        }
        let Some(expected) = schema_type(schema) else {
            return Ok(());
        };
        let sent = json_type(value);
        let fits = match (expected, value) {
            ("any", _) => true,
            (_, Value::String(s)) if self.form => scalar_matches(schema, s).is_ok(),
            ("number", Value::Number(_)) => true,
            ("integer", _) => sent == "integer",
            (expected, _) => expected == sent,
        };
        if !fits {
            return problem(Problem::Type {
                expected: expected.to_owned(),
                sent,
            });
        }
        let allowed = schema.get("enum").and_then(Value::as_array);
        if !self.form && allowed.is_some_and(|allowed| !allowed.contains(value)) {
            return problem(Problem::NotInEnum);
        }
        if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
            for (i, item) in items.iter().enumerate() {
                self.value(item_schema, item, &format!("{path}[{i}]"))?;
            }
        }
        Ok(())
    }

    /// The schema a discriminator maps this value to, if any.
    fn discriminated(&self, schema: &Value, value: &Value) -> Option<&'a Value> {
        let discriminator = schema.get("discriminator")?;
        let property = discriminator.get("propertyName")?.as_str()?;
        let chosen = value.get(property)?.as_str()?;
        let target = discriminator.get("mapping")?.get(chosen)?.as_str()?;
        let pointer = target.strip_prefix('#')?;
        let mapped = self.description.document.pointer(pointer)?;
        // A mapped schema built on this one would map again; stop there.
        (!std::ptr::eq(mapped, schema)).then_some(mapped)
    }

    fn alternatives(
        &self,
        alternatives: &[Value],
        value: &Value,
        path: &str,
    ) -> Result<(), FieldError> {
        let d = self.description;
        // Graph writes a nullable reference as anyOf [ref, {type: object,
        // nullable: true}]: that second alternative stands for null alone.
        let null_only = |a: &Value| {
            d.provider == Described::Graph
                && a.get("nullable") == Some(&Value::Bool(true))
                && a.get("properties").is_none()
                && a.get("$ref").is_none()
        };
        let mut errors = Vec::new();
        for alternative in alternatives {
            if null_only(alternative) {
                if value.is_null() {
                    return Ok(());
                }
                continue;
            }
            match self.value(alternative, value, path) {
                Ok(()) => return Ok(()),
                Err(e) => errors.push(e),
            }
        }
        match errors.len() {
            1 => Err(errors.remove(0)),
            _ => Err((
                if path.is_empty() {
                    "(body)".to_owned()
                } else {
                    path.to_owned()
                },
                Problem::NoAlternative,
            )),
        }
    }

    fn object(&self, parts: &[&Value], value: &Value, path: &str) -> Result<(), FieldError> {
        let Value::Object(fields) = value else {
            return Err((
                if path.is_empty() {
                    "(body)".to_owned()
                } else {
                    path.to_owned()
                },
                Problem::Type {
                    expected: "object".to_owned(),
                    sent: json_type(value),
                },
            ));
        };
        let property = |name: &str| {
            parts
                .iter()
                .find_map(|p| p.get("properties").and_then(|ps| ps.get(name)))
        };
        for (name, field_value) in fields {
            let at = field(path, name);
            match property(name) {
                Some(schema) => {
                    let readonly = schema.get("readOnly") == Some(&Value::Bool(true))
                        || self.description.resolve(schema).get("readOnly")
                            == Some(&Value::Bool(true));
                    if readonly {
                        return Err((at, Problem::ReadOnly));
                    }
                    self.value(schema, field_value, &at)?;
                }
                None => self.additional(parts, name, field_value, &at)?,
            }
        }
        for part in parts {
            for required in strings(part.get("required")) {
                if !fields.contains_key(&required) {
                    return Err((field(path, &required), Problem::Missing));
                }
            }
        }
        Ok(())
    }

    /// A field the schema does not name: allowed only where the schema says
    /// what extra fields may hold.
    fn additional(
        &self,
        parts: &[&Value],
        name: &str,
        value: &Value,
        at: &str,
    ) -> Result<(), FieldError> {
        // Graph's generator puts {type: object} on every schema for instance
        // annotations: it admits `@odata.type` and the like, nothing else.
        let graph = self.description.provider == Described::Graph;
        let blanket = serde_json::json!({"type": "object"});
        for part in parts {
            match part.get("additionalProperties") {
                Some(Value::Bool(true)) => return Ok(()),
                Some(extra) if graph && *extra == blanket && name.contains('@') => return Ok(()),
                Some(extra) if graph && *extra == blanket => {}
                Some(extra) if extra.is_object() => return self.value(extra, value, at),
                _ => {}
            }
        }
        Err((at.to_owned(), Problem::Unknown))
    }
}

fn schema_type(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JSON: Option<&str> = Some("application/json");
    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn send(
        provider: Described,
        method: Method,
        path: &str,
        pairs: &[(&str, &str)],
        body: Option<Value>,
        granted: Option<&[String]>,
    ) -> Result<&'static str, String> {
        let query = query(pairs);
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = Request {
            method: &method,
            raw_path: path,
            query: &query,
            content_type: JSON,
            body: body.as_bytes(),
            granted,
        };
        check(provider, &request).map_err(|v| v.to_string())
    }

    fn okta_form(path: &str, form: &str) -> Result<&'static str, String> {
        let request = Request {
            method: &Method::POST,
            raw_path: path,
            query: &[],
            content_type: FORM,
            body: form.as_bytes(),
            granted: None,
        };
        check(Described::Okta, &request).map_err(|v| v.to_string())
    }

    fn scopes(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_description_loads_with_its_operations() {
        for (provider, count) in [
            (Described::Google, 5),
            (Described::Okta, 17),
            (Described::Graph, 14),
        ] {
            let description = description(provider).unwrap();
            assert_eq!(description.operations.len(), count, "{provider:?}");
            assert!(description.operations.iter().all(|op| !op.id.is_empty()));
        }
    }

    #[test]
    fn requests_the_connectors_send_pass() {
        use Described::{Google, Graph, Okta};
        let g = "/admin/directory/v1";
        let user_update = json!({"password": "0123abcd", "hashFunction": "SHA-1",
            "changePasswordAtNextLogin": true, "suspended": false});
        let cases = [
            (
                Google,
                Method::GET,
                format!("{g}/users/a%40demo.example"),
                vec![("projection", "full")],
                None,
                "directory.users.get",
            ),
            (
                Google,
                Method::PUT,
                format!("{g}/users/a@demo.example"),
                vec![],
                Some(user_update),
                "directory.users.update",
            ),
            (
                Google,
                Method::POST,
                format!("{g}/users/a@demo.example/signOut"),
                vec![("prettyPrint", "false")],
                None,
                "directory.users.signOut",
            ),
            (
                Google,
                Method::GET,
                format!("{g}/groups/helpdesk%40demo.example/hasMember/a%40demo.example"),
                vec![],
                None,
                "directory.members.hasMember",
            ),
            (
                Okta,
                Method::GET,
                "/api/v1/users/00u1".to_owned(),
                vec![],
                None,
                "getUser",
            ),
            (
                Okta,
                Method::POST,
                "/api/v1/users/00u1/lifecycle/expire_password_with_temp_password".to_owned(),
                vec![("revokeSessions", "true")],
                None,
                "expirePasswordWithTempPassword",
            ),
            (
                Okta,
                Method::DELETE,
                "/api/v1/users/00u1/sessions".to_owned(),
                vec![("oauthTokens", "true"), ("forgetDevices", "false")],
                None,
                "revokeUserSessions",
            ),
            (
                Okta,
                Method::GET,
                "/api/v1/groups".to_owned(),
                vec![("search", "profile.name eq \"Helpdesk\""), ("limit", "2")],
                None,
                "listGroups",
            ),
            (
                Okta,
                Method::POST,
                "/api/v1/users/00u1/factors/opf1/verify".to_owned(),
                vec![],
                Some(json!({"useNumberMatchingChallenge": true})),
                "verifyFactor",
            ),
            (
                Graph,
                Method::GET,
                "/v1.0/users/a@demo.example".to_owned(),
                vec![("$select", "id,userPrincipalName,accountEnabled,mail")],
                None,
                "user_GetUser",
            ),
            (
                Graph,
                Method::PATCH,
                "/v1.0/users/a@demo.example".to_owned(),
                vec![],
                Some(
                    json!({"passwordProfile": {"password": "x", "forceChangePasswordNextSignIn": true}}),
                ),
                "user_UpdateUser",
            ),
            (
                Graph,
                Method::POST,
                "/v1.0/users/u1/revokeSignInSessions".to_owned(),
                vec![],
                None,
                "user_revokeSignInSession",
            ),
            (
                Graph,
                Method::POST,
                "/v1.0/users/u1/microsoft.graph.checkMemberGroups".to_owned(),
                vec![],
                Some(json!({"groupIds": ["g1"]})),
                "user_checkMemberGroup",
            ),
            (
                Graph,
                Method::GET,
                "/v1.0/users/u1/transitiveMemberOf/microsoft.graph.group".to_owned(),
                vec![("$select", "id,displayName"), ("$skiptoken", "2")],
                None,
                "user_ListTransitiveMemberGraphOPreAsGroup",
            ),
            (
                Graph,
                Method::GET,
                "/v1.0/roleManagement/directory/roleAssignments".to_owned(),
                vec![
                    ("$filter", "principalId eq 'u1'"),
                    ("$expand", "roleDefinition"),
                ],
                None,
                "roleManagement.directory_ListRoleAssignment",
            ),
        ];
        for (provider, method, path, pairs, body, id) in cases {
            assert_eq!(
                send(provider, method, &path, &pairs, body, None),
                Ok(id),
                "{path}"
            );
        }
    }

    #[test]
    fn the_retired_temp_password_query_parameter_is_refused() {
        let refused = send(
            Described::Okta,
            Method::POST,
            "/api/v1/users/00u1/lifecycle/expire_password",
            &[("tempPassword", "true")],
            None,
            None,
        );
        assert_eq!(
            refused,
            Err("okta: POST /api/v1/users/{id}/lifecycle/expire_password: query parameter `tempPassword` is not declared".to_owned())
        );
    }

    #[test]
    fn query_values_must_have_the_declared_type_and_values() {
        let g = "/admin/directory/v1/users/a@demo.example";
        let wrong_enum = send(
            Described::Google,
            Method::GET,
            g,
            &[("projection", "everything")],
            None,
            None,
        );
        assert!(wrong_enum.unwrap_err().ends_with(
            "query parameter `projection` = `everything` is not one of basic, custom, full"
        ));
        let not_boolean = send(
            Described::Okta,
            Method::DELETE,
            "/api/v1/users/u/sessions",
            &[("oauthTokens", "yes")],
            None,
            None,
        );
        assert!(
            not_boolean
                .unwrap_err()
                .contains("is not `true` or `false`")
        );
        let repeated = send(
            Described::Google,
            Method::GET,
            g,
            &[("projection", "full"), ("projection", "basic")],
            None,
            None,
        );
        assert!(repeated.unwrap_err().contains("given more than once"));
    }

    #[test]
    fn graph_select_names_only_properties_of_the_returned_type() {
        let uncast = send(
            Described::Graph,
            Method::GET,
            "/v1.0/users/u1/transitiveMemberOf",
            &[("$select", "id,displayName")],
            None,
            None,
        );
        assert_eq!(
            uncast,
            Err("graph: GET /v1.0/users/{user-id}/transitiveMemberOf: query parameter `$select` = `id,displayName` is not a property of microsoft.graph.directoryObject (`displayName` is not)".to_owned())
        );
        let undeclared = send(
            Described::Graph,
            Method::GET,
            "/v1.0/users/u1",
            &[("$frobnicate", "1")],
            None,
            None,
        );
        assert!(
            undeclared
                .unwrap_err()
                .ends_with("query parameter `$frobnicate` is not declared")
        );
    }

    #[test]
    fn body_fields_must_exist_with_the_right_type_and_be_writable() {
        let g = "/admin/directory/v1/users/a@demo.example";
        let put = |body: Value| send(Described::Google, Method::PUT, g, &[], Some(body), None);
        assert_eq!(
            put(json!({"suspended": "yes"})),
            Err("google: PUT /admin/directory/v1/users/{userKey}: body field `suspended` should be boolean, not string".to_owned())
        );
        assert!(
            put(json!({"passwordHash": "x"}))
                .unwrap_err()
                .ends_with("body field `passwordHash` is not in the request schema")
        );
        assert!(
            put(json!({"isAdmin": true}))
                .unwrap_err()
                .ends_with("body field `isAdmin` is read-only")
        );
        assert!(
            put(json!({"name": {"givenName": 7}}))
                .unwrap_err()
                .ends_with("body field `name.givenName` should be string, not integer")
        );
        let graph_typo = send(
            Described::Graph,
            Method::PATCH,
            "/v1.0/users/u1",
            &[],
            Some(json!({"passwordProfile": {"forceChangePasswordNextSignin": true}})),
            None,
        );
        assert!(graph_typo.unwrap_err().ends_with("body field `passwordProfile.forceChangePasswordNextSignin` is not in the request schema"));
    }

    #[test]
    fn a_violation_never_quotes_a_body_value() {
        let refused = send(
            Described::Google,
            Method::PUT,
            "/admin/directory/v1/users/a@demo.example",
            &[],
            Some(json!({"password": 1234567890, "changePasswordAtNextLogin": "s3cret-value"})),
            None,
        )
        .unwrap_err();
        assert!(
            !refused.contains("1234567890") && !refused.contains("s3cret-value"),
            "{refused}"
        );
    }

    #[test]
    fn bodies_where_none_is_declared_and_missing_bodies_are_refused() {
        let unlock = send(
            Described::Okta,
            Method::POST,
            "/api/v1/users/u/lifecycle/unlock",
            &[],
            Some(json!({})),
            None,
        );
        assert!(
            unlock
                .unwrap_err()
                .ends_with("the operation takes no request body")
        );
        let update = send(
            Described::Graph,
            Method::PATCH,
            "/v1.0/users/u1",
            &[],
            None,
            None,
        );
        assert!(
            update
                .unwrap_err()
                .ends_with("the operation requires a request body")
        );
    }

    #[test]
    fn unknown_paths_and_methods_are_refused() {
        let path = send(
            Described::Okta,
            Method::POST,
            "/api/v1/users/u/lifecycle/frobnicate",
            &[],
            None,
            None,
        );
        assert_eq!(
            path,
            Err("okta: POST /api/v1/users/u/lifecycle/frobnicate: no path of the published description matches".to_owned())
        );
        let method = send(
            Described::Graph,
            Method::DELETE,
            "/v1.0/users/u1",
            &[],
            None,
            None,
        );
        assert!(
            method
                .unwrap_err()
                .ends_with("the description has no DELETE here (only GET, PATCH)")
        );
    }

    #[test]
    fn a_granted_token_must_hold_one_of_the_operations_scopes() {
        let read_only = scopes(&["okta.users.read"]);
        let unlock = send(
            Described::Okta,
            Method::POST,
            "/api/v1/users/u/lifecycle/unlock",
            &[],
            None,
            Some(&read_only),
        );
        assert_eq!(
            unlock,
            Err("okta: POST /api/v1/users/{id}/lifecycle/unlock: the token holds none of the operation's scopes (okta.users.manage)".to_owned())
        );
        let security = scopes(&["https://www.googleapis.com/auth/admin.directory.user.security"]);
        let g = "/admin/directory/v1/users/a@demo.example";
        assert!(
            send(
                Described::Google,
                Method::POST,
                &format!("{g}/signOut"),
                &[],
                None,
                Some(&security)
            )
            .is_ok()
        );
        assert!(
            send(
                Described::Google,
                Method::PUT,
                g,
                &[],
                Some(json!({"suspended": true})),
                Some(&security)
            )
            .is_err()
        );
        let basic_only = scopes(&["User.ReadBasic.All"]);
        let both = scopes(&["User.ReadBasic.All", "GroupMember.Read.All"]);
        let check_groups = |granted: &[String]| {
            send(
                Described::Graph,
                Method::POST,
                "/v1.0/users/u1/checkMemberGroups",
                &[],
                Some(json!({"groupIds": []})),
                Some(granted),
            )
        };
        assert!(check_groups(&basic_only).is_err());
        assert!(check_groups(&both).is_ok());
    }

    #[test]
    fn token_endpoints_pass_or_are_checked_where_described() {
        let google = send(Described::Google, Method::POST, "/token", &[], None, None);
        assert_eq!(google, Ok(UNDESCRIBED_TOKEN_ENDPOINT));
        let graph = send(
            Described::Graph,
            Method::POST,
            "/tenant-1/oauth2/v2.0/token",
            &[],
            None,
            None,
        );
        assert_eq!(graph, Ok(UNDESCRIBED_TOKEN_ENDPOINT));
        let client_credentials = "grant_type=client_credentials&scope=okta.users.read&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJ";
        assert_eq!(
            okta_form("/oauth2/v1/token", client_credentials),
            Ok("token")
        );
        let unknown = okta_form(
            "/oauth2/v1/token",
            "grant_type=client_credentials&scope=x&audience=y",
        );
        assert!(
            unknown
                .unwrap_err()
                .ends_with("body field `audience` is not in the request schema")
        );
        let no_scope = okta_form("/oauth2/v1/token", "grant_type=client_credentials");
        assert!(
            no_scope
                .unwrap_err()
                .ends_with("required body field `scope` is missing")
        );
        assert_eq!(
            okta_form(
                "/oauth2/v1/revoke",
                "token=abc&token_type_hint=access_token"
            ),
            Ok("revoke")
        );
    }
}
