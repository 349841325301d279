//! Typed view of `AWS::Serverless::HttpApi` resources: their JWT authorizers
//! (issuer, audience, identity source) and which one is the default. Values
//! stay symbolic (`!Ref JwtIssuer`); the caller resolves them.

use std::collections::BTreeMap;

use crate::TemplateError;
use crate::intrinsics::Intrinsic;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthorizerDef {
    pub name: String,
    pub issuer: Intrinsic,
    pub audience: Vec<Intrinsic>,
    /// Where the token is read from, e.g. `$request.header.Authorization`.
    pub identity_source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpApiDef {
    pub logical_id: String,
    pub authorizers: BTreeMap<String, JwtAuthorizerDef>,
    pub default_authorizer: Option<String>,
    /// Authorizers of other kinds (Lambda, IAM) by name: a local stack must
    /// refuse to guess how to emulate them.
    pub unsupported_authorizers: Vec<String>,
}

pub(crate) const DEFAULT_IDENTITY_SOURCE: &str = "$request.header.Authorization";

impl HttpApiDef {
    pub(crate) fn from_resource(
        id: &str,
        body: &serde_yaml::Value,
    ) -> Result<HttpApiDef, TemplateError> {
        let shape = |problem: &str| TemplateError::Shape {
            resource: id.to_owned(),
            problem: problem.to_owned(),
        };
        let auth = body.get("Properties").and_then(|p| p.get("Auth"));
        let mut authorizers = BTreeMap::new();
        let mut unsupported_authorizers = Vec::new();
        if let Some(map) = auth
            .and_then(|a| a.get("Authorizers"))
            .and_then(serde_yaml::Value::as_mapping)
        {
            for (name, def) in map {
                let name = name
                    .as_str()
                    .ok_or_else(|| shape("authorizer name must be a string"))?
                    .to_owned();
                let Some(jwt) = def.get("JwtConfiguration") else {
                    unsupported_authorizers.push(name);
                    continue;
                };
                let issuer = field(jwt, &["issuer", "Issuer"])
                    .map(Intrinsic::from_yaml)
                    .ok_or_else(|| shape("JwtConfiguration has no issuer"))?;
                let audience = match field(jwt, &["audience", "Audience"]) {
                    Some(serde_yaml::Value::Sequence(items)) => {
                        items.iter().map(Intrinsic::from_yaml).collect()
                    }
                    Some(single) => vec![Intrinsic::from_yaml(single)],
                    None => return Err(shape("JwtConfiguration has no audience")),
                };
                let identity_source = match def.get("IdentitySource") {
                    Some(serde_yaml::Value::String(s)) => s.clone(),
                    Some(serde_yaml::Value::Sequence(items)) => items
                        .first()
                        .and_then(serde_yaml::Value::as_str)
                        .unwrap_or(DEFAULT_IDENTITY_SOURCE)
                        .to_owned(),
                    _ => DEFAULT_IDENTITY_SOURCE.to_owned(),
                };
                authorizers.insert(
                    name.clone(),
                    JwtAuthorizerDef {
                        name,
                        issuer,
                        audience,
                        identity_source,
                    },
                );
            }
        }
        let default_authorizer = auth
            .and_then(|a| a.get("DefaultAuthorizer"))
            .and_then(serde_yaml::Value::as_str)
            .map(str::to_owned);
        if let Some(default) = &default_authorizer
            && !authorizers.contains_key(default)
            && !unsupported_authorizers.contains(default)
        {
            return Err(shape("DefaultAuthorizer names no authorizer"));
        }
        Ok(HttpApiDef {
            logical_id: id.to_owned(),
            authorizers,
            default_authorizer,
            unsupported_authorizers,
        })
    }
}

fn field<'a>(value: &'a serde_yaml::Value, names: &[&str]) -> Option<&'a serde_yaml::Value> {
    names.iter().find_map(|n| value.get(*n))
}
