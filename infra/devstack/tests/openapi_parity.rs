//! docs/openapi.json and template.yaml describe the same HTTP API: every
//! route of the template is an operation of the document and every
//! operation is a route, with the same authorizer requirement.

// Test helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use devstack::state::repository_root;
use serde_json::Value;
use zerodesk_template::{RouteAuth, Template};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    let text = std::fs::read_to_string(repository_root().join("docs/openapi.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn operations(doc: &Value) -> BTreeSet<String> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert(format!("{} {path}", method.to_ascii_uppercase()));
            }
        }
    }
    ops
}

#[test]
fn every_template_route_is_documented_and_every_documented_operation_is_a_route() {
    let template = Template::load(&repository_root().join("template.yaml")).unwrap();
    let routes: BTreeSet<String> = template
        .routes()
        .unwrap()
        .iter()
        .map(|r| r.route_key())
        .collect();
    let documented = operations(&document());
    let undocumented: Vec<&String> = routes.difference(&documented).collect();
    let unrouted: Vec<&String> = documented.difference(&routes).collect();
    assert!(
        undocumented.is_empty(),
        "routes in template.yaml missing from docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "operations in docs/openapi.json that template.yaml does not route: {unrouted:?}"
    );
    assert!(!routes.is_empty());
}

#[test]
fn the_document_is_openapi_3_1_and_guarded_routes_require_the_jwt() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    let global = doc["security"].as_array().cloned().unwrap_or_default();
    let template = Template::load(&repository_root().join("template.yaml")).unwrap();
    for route in template.routes().unwrap() {
        let op = &doc["paths"][&route.path][route.method.to_ascii_lowercase()];
        let security = op
            .get("security")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| global.clone());
        let open = security.is_empty()
            || security
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
        assert_eq!(
            open,
            route.auth == RouteAuth::None,
            "{}: security in the document does not match the template",
            route.route_key()
        );
        assert!(
            op.get("operationId").is_some(),
            "{} has no operationId",
            route.route_key()
        );
    }
}
