//! Typed view of `AWS::Serverless::Function` resources and their events:
//! HTTP API routes, EventBridge rules and schedules, with `Globals.Function`
//! merged in as SAM merges it (per-function values win, maps merge by key).

use std::collections::BTreeMap;

use crate::TemplateError;
use crate::intrinsics::Intrinsic;

/// Lambda's defaults when neither the function nor `Globals` says.
pub const DEFAULT_MEMORY_MB: u32 = 128;
pub const DEFAULT_TIMEOUT_SECS: u32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionDef {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the cargo binary that is the handler.
    pub binary: Option<String>,
    pub function_name: Option<Intrinsic>,
    pub memory_mb: u32,
    pub timeout_secs: u32,
    pub environment: BTreeMap<String, Intrinsic>,
    pub events: Vec<EventDef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventDef {
    pub name: String,
    pub source: EventSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventSource {
    HttpApi(RouteDef),
    EventBridgeRule(RuleDef),
    Schedule(ScheduleDef),
    /// An event type these readers do not model (SQS, S3, ...), by its `Type`.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteAuth {
    /// The API's `DefaultAuthorizer` (none if it has none).
    ApiDefault,
    /// `Auth.Authorizer: NONE`.
    None,
    Named(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDef {
    pub function: String,
    pub event: String,
    /// Logical id of the API (`ApiId: !Ref HttpApi`); `None` is SAM's
    /// implicit `ServerlessHttpApi`.
    pub api: Option<String>,
    /// Upper case; `ANY` matches every method.
    pub method: String,
    /// `/tickets/{id}`; `$default` for the catch-all route.
    pub path: String,
    pub auth: RouteAuth,
    pub authorization_scopes: Vec<String>,
    pub timeout_ms: Option<u64>,
}

impl RouteDef {
    /// API Gateway's route key: `POST /tickets/{id}/reset` or `$default`.
    pub fn route_key(&self) -> String {
        if self.path == "$default" {
            self.path.clone()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleDef {
    pub function: String,
    pub event: String,
    /// `None` is the account's default bus.
    pub event_bus: Option<Intrinsic>,
    pub rule_name: Option<Intrinsic>,
    pub pattern: serde_json::Value,
    pub input: Option<String>,
    pub input_path: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    /// `Type: Schedule`: an EventBridge rule with a schedule expression.
    Rule,
    /// `Type: ScheduleV2`: EventBridge Scheduler.
    Scheduler,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleDef {
    pub function: String,
    pub event: String,
    pub kind: ScheduleKind,
    /// `cron(...)`, `rate(...)` or `at(...)`, as written.
    pub expression: String,
    pub timezone: Option<String>,
    pub input: Option<String>,
    pub enabled: bool,
}

impl FunctionDef {
    pub(crate) fn from_resource(
        id: &str,
        body: &serde_yaml::Value,
        globals: Option<&serde_yaml::Value>,
    ) -> Result<FunctionDef, TemplateError> {
        let shape = |problem: String| TemplateError::Shape {
            resource: id.to_owned(),
            problem,
        };
        let props = body.get("Properties");
        let prop = |name: &str| {
            props
                .and_then(|p| p.get(name))
                .or_else(|| globals.and_then(|g| g.get(name)))
        };
        let number = |name: &str, default: u32| -> Result<u32, TemplateError> {
            match prop(name) {
                None => Ok(default),
                Some(v) => Intrinsic::from_yaml(v)
                    .as_literal()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| shape(format!("{name} must be a number"))),
            }
        };
        let mut environment = BTreeMap::new();
        for source in [globals, props] {
            let vars = source
                .and_then(|s| s.get("Environment"))
                .and_then(|e| e.get("Variables"))
                .and_then(serde_yaml::Value::as_mapping);
            for (k, v) in vars.into_iter().flatten() {
                let k = k
                    .as_str()
                    .ok_or_else(|| shape("environment variable name".to_owned()))?;
                environment.insert(k.to_owned(), Intrinsic::from_yaml(v));
            }
        }
        let binary = body
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(serde_yaml::Value::as_str)
            .map(str::to_owned);
        let mut events = Vec::new();
        if let Some(map) = props
            .and_then(|p| p.get("Events"))
            .and_then(serde_yaml::Value::as_mapping)
        {
            for (name, event) in map {
                let name = name
                    .as_str()
                    .ok_or_else(|| shape("event name".to_owned()))?;
                let source =
                    read_event(id, name, event).map_err(|p| shape(format!("event {name}: {p}")))?;
                events.push(EventDef {
                    name: name.to_owned(),
                    source,
                });
            }
        }
        Ok(FunctionDef {
            logical_id: id.to_owned(),
            binary,
            function_name: props
                .and_then(|p| p.get("FunctionName"))
                .map(Intrinsic::from_yaml),
            memory_mb: number("MemorySize", DEFAULT_MEMORY_MB)?,
            timeout_secs: number("Timeout", DEFAULT_TIMEOUT_SECS)?,
            environment,
            events,
        })
    }

    pub fn routes(&self) -> impl Iterator<Item = &RouteDef> {
        self.events.iter().filter_map(|e| match &e.source {
            EventSource::HttpApi(r) => Some(r),
            _ => None,
        })
    }

    pub fn rules(&self) -> impl Iterator<Item = &RuleDef> {
        self.events.iter().filter_map(|e| match &e.source {
            EventSource::EventBridgeRule(r) => Some(r),
            _ => None,
        })
    }

    pub fn schedules(&self) -> impl Iterator<Item = &ScheduleDef> {
        self.events.iter().filter_map(|e| match &e.source {
            EventSource::Schedule(s) => Some(s),
            _ => None,
        })
    }
}

fn read_event(
    function: &str,
    name: &str,
    event: &serde_yaml::Value,
) -> Result<EventSource, String> {
    let kind = event
        .get("Type")
        .and_then(serde_yaml::Value::as_str)
        .ok_or("no Type")?;
    let empty = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
    let props = event.get("Properties").unwrap_or(&empty);
    let text = |key: &str| {
        props
            .get(key)
            .and_then(|v| Intrinsic::from_yaml(v).as_literal().map(str::to_owned))
    };
    let enabled = || match (
        props.get("Enabled").and_then(serde_yaml::Value::as_bool),
        text("State"),
    ) {
        (Some(false), _) => false,
        (_, Some(state)) => state.eq_ignore_ascii_case("ENABLED"),
        _ => true,
    };
    match kind {
        "HttpApi" => {
            let api = match props.get("ApiId").map(Intrinsic::from_yaml) {
                None => None,
                Some(Intrinsic::Ref(id)) => Some(id),
                Some(_) => return Err("ApiId must be !Ref of an HttpApi".to_owned()),
            };
            let path = text("Path").unwrap_or_else(|| "$default".to_owned());
            let method = text("Method")
                .map(|m| m.to_ascii_uppercase())
                .unwrap_or_else(|| "ANY".to_owned());
            let method = if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
                "ANY".to_owned()
            } else {
                method
            };
            let auth_props = props.get("Auth");
            let auth = match auth_props
                .and_then(|a| a.get("Authorizer"))
                .and_then(serde_yaml::Value::as_str)
            {
                None => RouteAuth::ApiDefault,
                Some("NONE") => RouteAuth::None,
                Some(named) => RouteAuth::Named(named.to_owned()),
            };
            let authorization_scopes = auth_props
                .and_then(|a| a.get("AuthorizationScopes"))
                .and_then(serde_yaml::Value::as_sequence)
                .map(|s| {
                    s.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let timeout_ms = props
                .get("TimeoutInMillis")
                .and_then(serde_yaml::Value::as_u64);
            Ok(EventSource::HttpApi(RouteDef {
                function: function.to_owned(),
                event: name.to_owned(),
                api,
                method,
                path,
                auth,
                authorization_scopes,
                timeout_ms,
            }))
        }
        "EventBridgeRule" | "CloudWatchEvent" => {
            let pattern = props.get("Pattern").ok_or("no Pattern")?;
            Ok(EventSource::EventBridgeRule(RuleDef {
                function: function.to_owned(),
                event: name.to_owned(),
                event_bus: props.get("EventBusName").map(Intrinsic::from_yaml),
                rule_name: props.get("RuleName").map(Intrinsic::from_yaml),
                pattern: yaml_to_json(pattern)?,
                input: text("Input"),
                input_path: text("InputPath"),
                enabled: enabled(),
            }))
        }
        "Schedule" | "ScheduleV2" => {
            let (kind, key) = if kind == "Schedule" {
                (ScheduleKind::Rule, "Schedule")
            } else {
                (ScheduleKind::Scheduler, "ScheduleExpression")
            };
            let expression = text(key).ok_or_else(|| format!("no {key}"))?;
            Ok(EventSource::Schedule(ScheduleDef {
                function: function.to_owned(),
                event: name.to_owned(),
                kind,
                expression,
                timezone: text("ScheduleExpressionTimezone"),
                input: text("Input"),
                enabled: enabled(),
            }))
        }
        other => Ok(EventSource::Other(other.to_owned())),
    }
}

/// Converts plain YAML (no intrinsic tags) to JSON, as CloudFormation does
/// for event patterns.
pub(crate) fn yaml_to_json(value: &serde_yaml::Value) -> Result<serde_json::Value, String> {
    use serde_yaml::Value;
    Ok(match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                serde_json::Value::from(i)
            } else if let Some(u) = n.as_u64() {
                serde_json::Value::from(u)
            } else {
                let f = n.as_f64().ok_or("number out of range")?;
                serde_json::Number::from_f64(f)
                    .map(serde_json::Value::Number)
                    .ok_or("number out of range")?
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => {
            serde_json::Value::Array(items.iter().map(yaml_to_json).collect::<Result<_, _>>()?)
        }
        Value::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let k = match k {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err("mapping key must be a scalar".to_owned()),
                };
                out.insert(k, yaml_to_json(v)?);
            }
            serde_json::Value::Object(out)
        }
        Value::Tagged(t) => return Err(format!("intrinsic {} is not allowed here", t.tag)),
    })
}

#[cfg(test)]
mod tests {
    use crate::{EventSource, Intrinsic, RouteAuth, ScheduleKind, Template};

    fn fixture() -> Template {
        Template::parse(include_str!("../testdata/sam-shapes.yaml")).unwrap()
    }

    #[test]
    fn globals_are_merged_and_function_values_win() {
        let f = fixture().function("TicketsFunction").unwrap().unwrap();
        assert_eq!(f.memory_mb, 512);
        assert_eq!(f.timeout_secs, 10);
        assert_eq!(f.binary.as_deref(), Some("tickets"));
        assert_eq!(
            f.environment["LOG_LEVEL"],
            Intrinsic::Literal("debug".to_owned())
        );
        assert_eq!(f.environment["STAGE"], Intrinsic::Ref("Stage".to_owned()));
        assert_eq!(
            f.environment["EVENT_BUS_NAME"],
            Intrinsic::Ref("EventBus".to_owned())
        );
        let unlock = fixture().function("UnlockFunction").unwrap().unwrap();
        assert_eq!((unlock.memory_mb, unlock.timeout_secs), (256, 30));
        assert!(!unlock.environment.contains_key("EVENT_BUS_NAME"));
    }

    #[test]
    fn routes_carry_method_path_api_and_auth() {
        let routes = fixture().routes().unwrap();
        let keys: Vec<String> = routes.iter().map(|r| r.route_key()).collect();
        assert!(keys.contains(&"POST /tickets".to_owned()), "{keys:?}");
        assert!(keys.contains(&"GET /tickets/{id}".to_owned()));
        let health = routes.iter().find(|r| r.path == "/health").unwrap();
        assert_eq!(health.auth, RouteAuth::None);
        assert_eq!(health.api.as_deref(), Some("HttpApi"));
        let unlock = routes
            .iter()
            .find(|r| r.function == "UnlockFunction")
            .unwrap();
        assert_eq!(unlock.auth, RouteAuth::ApiDefault);
        assert_eq!(unlock.authorization_scopes, ["tickets/write"]);
    }

    #[test]
    fn a_route_served_twice_is_an_error() {
        let text = include_str!("../testdata/sam-shapes.yaml")
            .replace("Path: /health", "Path: /tickets/{id}");
        assert!(Template::parse(&text).unwrap().routes().is_err());
    }

    #[test]
    fn rules_keep_the_bus_and_the_pattern_as_json() {
        let rules = fixture().rules().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(
            rules[0].event_bus,
            Some(Intrinsic::Ref("EventBus".to_owned()))
        );
        assert_eq!(rules[0].pattern["detail"]["category"][0], "account_unlock");
        assert!(rules[0].enabled);
    }

    #[test]
    fn schedules_of_both_kinds_are_read_with_their_state() {
        let f = fixture().function("PurgeFunction").unwrap().unwrap();
        let schedules: Vec<_> = f.schedules().collect();
        let nightly = schedules.iter().find(|s| s.event == "Nightly").unwrap();
        assert_eq!(
            (nightly.kind, nightly.expression.as_str(), nightly.enabled),
            (ScheduleKind::Scheduler, "cron(15 3 * * ? *)", true)
        );
        let paused = schedules.iter().find(|s| s.event == "Paused").unwrap();
        assert_eq!((paused.kind, paused.enabled), (ScheduleKind::Rule, false));
        assert!(
            f.events
                .iter()
                .all(|e| !matches!(e.source, EventSource::Other(_)))
        );
    }

    #[test]
    fn the_jwt_authorizer_is_the_default_with_symbolic_issuer_and_audience() {
        let apis = fixture().http_apis().unwrap();
        assert_eq!(apis.len(), 1);
        let api = &apis[0];
        assert_eq!(api.default_authorizer.as_deref(), Some("JwtAuthorizer"));
        let jwt = &api.authorizers["JwtAuthorizer"];
        assert_eq!(jwt.issuer, Intrinsic::Ref("JwtIssuer".to_owned()));
        assert_eq!(jwt.audience, [Intrinsic::Ref("JwtAudience".to_owned())]);
        assert_eq!(jwt.identity_source, "$request.header.Authorization");
    }

    #[test]
    fn a_default_authorizer_that_does_not_exist_is_an_error() {
        let text = include_str!("../testdata/sam-shapes.yaml").replace(
            "DefaultAuthorizer: JwtAuthorizer",
            "DefaultAuthorizer: Missing",
        );
        assert!(Template::parse(&text).unwrap().http_apis().is_err());
    }

    #[test]
    fn parameters_and_buses_are_read() {
        let t = fixture();
        let params = t.parameters();
        let stage = params.iter().find(|p| p.name == "Stage").unwrap();
        assert_eq!(stage.default.as_deref(), Some("dev"));
        assert!(
            params
                .iter()
                .find(|p| p.name == "JwtIssuer")
                .unwrap()
                .default
                .is_none()
        );
        let buses = t.event_buses().unwrap();
        assert_eq!(
            buses[0].name,
            Intrinsic::Sub {
                pattern: "zerodesk-${Stage}".to_owned(),
                vars: Default::default()
            }
        );
    }
}
