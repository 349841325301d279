//! Builds the gateway from the template: the one HTTP API, its routes and
//! its JWT authorizers with issuer and audience resolved from the stack's
//! parameter values, so nothing about routing is listed twice.

use std::collections::HashMap;

use zerodesk_template::{Resolve, ResolveError, Template, TemplateError};

use super::authorizer::JwtAuthorizer;
use super::routes::{RouteError, RouteTable};
use super::server::Gateway;
use crate::console::Console;
use crate::runtime::Invoker;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("template")]
    Template(#[from] TemplateError),
    #[error("the local gateway serves one AWS::Serverless::HttpApi; the template has {0}")]
    ApiCount(usize),
    #[error("authorizer {name}: {source}")]
    Authorizer {
        name: String,
        #[source]
        source: ResolveError,
    },
    #[error("authorizer {0} is not a JWT authorizer; the local gateway cannot emulate it")]
    UnsupportedAuthorizer(String),
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error("route {route} is served by {function}, which the stack is not running")]
    MissingFunction { route: String, function: String },
}

pub struct GatewaySetup<'a> {
    pub template: &'a Template,
    pub resolver: &'a dyn Resolve,
    pub issuer: String,
    pub jwks: serde_json::Value,
    pub invokers: HashMap<String, Invoker>,
    pub openapi: Option<Vec<u8>>,
    pub console: Console,
    pub account_id: String,
}

pub fn build(setup: GatewaySetup<'_>) -> Result<Gateway, BuildError> {
    let apis = setup.template.http_apis()?;
    let [api] = apis.as_slice() else {
        return Err(BuildError::ApiCount(apis.len()));
    };
    let routes = RouteTable::build(api, &setup.template.routes()?, true)?;
    let mut authorizers = HashMap::new();
    for (name, def) in &api.authorizers {
        let resolve = |source| BuildError::Authorizer {
            name: name.clone(),
            source,
        };
        let issuer = def.issuer.resolve(setup.resolver).map_err(resolve)?;
        let audiences = def
            .audience
            .iter()
            .map(|a| a.resolve(setup.resolver))
            .collect::<Result<Vec<_>, _>>()
            .map_err(resolve)?;
        authorizers.insert(
            name.clone(),
            JwtAuthorizer::new(&issuer, audiences, &def.identity_source, &setup.jwks),
        );
    }
    for route in routes.routes() {
        if let Some(name) = &route.authorizer
            && api.unsupported_authorizers.contains(name)
        {
            return Err(BuildError::UnsupportedAuthorizer(name.clone()));
        }
        if !setup.invokers.contains_key(&route.function) {
            return Err(BuildError::MissingFunction {
                route: route.key.clone(),
                function: route.function.clone(),
            });
        }
    }
    Ok(Gateway {
        api_id: api.logical_id.to_ascii_lowercase(),
        account_id: setup.account_id,
        routes,
        authorizers,
        invokers: setup.invokers,
        issuer: setup.issuer,
        jwks: setup.jwks,
        openapi: setup.openapi,
        console: setup.console,
    })
}
