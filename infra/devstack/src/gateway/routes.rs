//! The route table of one HTTP API, built from the template's routes, and
//! API Gateway's matching: literal segments before `{param}` before
//! `{proxy+}`, an exact method before `ANY`, and `$default` last.

use std::collections::BTreeMap;
use std::time::Duration;

use zerodesk_template::{HttpApiDef, RouteAuth, RouteDef};

/// API Gateway's maximum (and default) integration timeout.
pub const DEFAULT_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    /// `POST /tickets/{id}/reset` or `$default`.
    pub key: String,
    pub method: String,
    segments: Option<Vec<Segment>>,
    /// Logical id of the function that serves it.
    pub function: String,
    /// Name of the JWT authorizer that guards it; `None` for an open route.
    pub authorizer: Option<String>,
    pub scopes: Vec<String>,
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("route {route} uses authorizer {authorizer}, which is not a JWT authorizer of {api}")]
    UnknownAuthorizer {
        route: String,
        authorizer: String,
        api: String,
    },
    #[error("route {0} has a path the local gateway cannot match")]
    BadPath(String),
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// The routes of `api` (and, for the only API, SAM's implicit one).
    pub fn build(
        api: &HttpApiDef,
        routes: &[RouteDef],
        only_api: bool,
    ) -> Result<RouteTable, RouteError> {
        let mut table = Vec::new();
        for r in routes {
            let belongs = match &r.api {
                Some(id) => id == &api.logical_id,
                None => only_api,
            };
            if !belongs {
                continue;
            }
            let authorizer = match &r.auth {
                RouteAuth::None => None,
                RouteAuth::ApiDefault => api.default_authorizer.clone(),
                RouteAuth::Named(name) => Some(name.clone()),
            };
            if let Some(name) = &authorizer
                && !api.authorizers.contains_key(name)
            {
                return Err(RouteError::UnknownAuthorizer {
                    route: r.route_key(),
                    authorizer: name.clone(),
                    api: api.logical_id.clone(),
                });
            }
            let segments = if r.path == "$default" {
                None
            } else {
                Some(parse_path(&r.path)?)
            };
            table.push(Route {
                key: r.route_key(),
                method: r.method.clone(),
                segments,
                function: r.function.clone(),
                authorizer,
                scopes: r.authorization_scopes.clone(),
                timeout: r
                    .timeout_ms
                    .map(Duration::from_millis)
                    .unwrap_or(DEFAULT_INTEGRATION_TIMEOUT)
                    .min(DEFAULT_INTEGRATION_TIMEOUT),
            });
        }
        Ok(RouteTable { routes: table })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route for a request and its path parameters (percent-decoded).
    pub fn find(&self, method: &str, raw_path: &str) -> Option<(&Route, BTreeMap<String, String>)> {
        let parts: Vec<&str> = raw_path.strip_prefix('/')?.split('/').collect();
        let mut best: Option<(Vec<u8>, &Route, BTreeMap<String, String>)> = None;
        for route in &self.routes {
            if route.method != "ANY" && !route.method.eq_ignore_ascii_case(method) {
                continue;
            }
            let Some(segments) = &route.segments else {
                continue;
            };
            let Some(params) = match_segments(segments, &parts) else {
                continue;
            };
            // Rank: per segment literal (2) > param (1) > greedy (0), then exact method.
            let mut rank: Vec<u8> = segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(_) => 2,
                    Segment::Param(_) => 1,
                    Segment::Greedy(_) => 0,
                })
                .collect();
            rank.push(u8::from(route.method != "ANY"));
            if best.as_ref().is_none_or(|(b, _, _)| rank > *b) {
                best = Some((rank, route, params));
            }
        }
        if let Some((_, route, params)) = best {
            return Some((route, params));
        }
        self.routes
            .iter()
            .find(|r| r.segments.is_none())
            .map(|r| (r, BTreeMap::new()))
    }
}

fn parse_path(path: &str) -> Result<Vec<Segment>, RouteError> {
    let bad = || RouteError::BadPath(path.to_owned());
    let rest = path.strip_prefix('/').ok_or_else(bad)?;
    let parts: Vec<&str> = rest.split('/').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(
            |(i, p)| match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if name.ends_with('+') && i == last => {
                    Ok(Segment::Greedy(name.trim_end_matches('+').to_owned()))
                }
                Some(name) if !name.is_empty() && !name.ends_with('+') => {
                    Ok(Segment::Param(name.to_owned()))
                }
                Some(_) => Err(bad()),
                None => Ok(Segment::Literal((*p).to_owned())),
            },
        )
        .collect()
}

fn match_segments(segments: &[Segment], parts: &[&str]) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Literal(l) => {
                if parts.get(i) != Some(&l.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                let value = parts.get(i).filter(|v| !v.is_empty())?;
                params.insert(name.clone(), decode(value));
            }
            Segment::Greedy(name) => {
                let rest = parts
                    .get(i..)
                    .filter(|r| !r.is_empty() && !r[0].is_empty())?;
                params.insert(name.clone(), decode(&rest.join("/")));
                return Some(params);
            }
        }
    }
    (parts.len() == segments.len()).then_some(params)
}

fn decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerodesk_template::Template;

    const YAML: &str = r#"
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          Jwt: {JwtConfiguration: {issuer: i, audience: [a]}}
        DefaultAuthorizer: Jwt
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        A: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: "/tickets/{id}"}}
        B: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: /tickets/mine}}
        C: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: ANY, Path: "/tickets/{id}"}}
        D: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: "/files/{proxy+}"}}
        E: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: /health, Auth: {Authorizer: NONE}}}
        G: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: POST, Path: "/platform/tenants/{tenant}/audit"}}
"#;

    fn table() -> RouteTable {
        let t = Template::parse(YAML).unwrap();
        RouteTable::build(&t.http_apis().unwrap()[0], &t.routes().unwrap(), true).unwrap()
    }

    #[test]
    fn literal_beats_parameter_and_exact_method_beats_any() {
        let t = table();
        assert_eq!(
            t.find("GET", "/tickets/mine").unwrap().0.key,
            "GET /tickets/mine"
        );
        let (route, params) = t.find("GET", "/tickets/01J").unwrap();
        assert_eq!(route.key, "GET /tickets/{id}");
        assert_eq!(params["id"], "01J");
        assert_eq!(
            t.find("DELETE", "/tickets/01J").unwrap().0.key,
            "ANY /tickets/{id}"
        );
    }

    #[test]
    fn parameters_are_decoded_and_greedy_takes_the_rest() {
        let t = table();
        let (_, params) = t.find("POST", "/platform/tenants/a%20b/audit").unwrap();
        assert_eq!(params["tenant"], "a b");
        let (route, params) = t.find("GET", "/files/a/b/c.txt").unwrap();
        assert_eq!(route.key, "GET /files/{proxy+}");
        assert_eq!(params["proxy"], "a/b/c.txt");
    }

    #[test]
    fn unknown_paths_methods_and_partial_matches_find_nothing() {
        let t = table();
        assert!(t.find("GET", "/nope").is_none());
        assert!(t.find("POST", "/health").is_none());
        assert!(t.find("GET", "/tickets").is_none());
        assert!(t.find("GET", "/tickets/1/extra").is_none());
        assert!(t.find("GET", "/files").is_none());
    }

    #[test]
    fn the_default_authorizer_applies_unless_the_route_opts_out() {
        let t = table();
        assert_eq!(
            t.find("GET", "/tickets/1").unwrap().0.authorizer.as_deref(),
            Some("Jwt")
        );
        assert_eq!(t.find("GET", "/health").unwrap().0.authorizer, None);
    }
}
