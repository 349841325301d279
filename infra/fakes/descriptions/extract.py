#!/usr/bin/env python3
"""Cuts the providers' published API descriptions down to the operations
zerodesk's directory connectors send, for the fakes' conformance check
(infra/fakes/src/conformance.rs). Run by hand, never by tests:

    python3 extract.py --google-git G --okta-git O --graph-git M

where each argument is the git directory of a clone of the source repository
below (or of any fork that holds the named commit). The outputs are written
beside this script. Needs python3 with PyYAML.

What is kept: each operation as published (method, path, parameters, request
body, scopes / security), the query parameters every method of the API
takes, and the component schemas the request bodies and (for Graph, whose
`$select` is checked against the returned type) the responses reference,
transitively. What is dropped: every other operation, prose descriptions and
examples inside schemas and parameters, Okta and Google response bodies, and
the schemas of Graph navigation properties (the property stays, with
`x-zerodesk-trimmed` naming the type it pointed to). NOTICE.md says the same.
"""

import argparse
import copy
import json
import pathlib
import re
import subprocess

import yaml

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - the pure-Python loader is slower, not different
    from yaml import SafeLoader as Loader

HERE = pathlib.Path(__file__).resolve().parent

GOOGLE = {
    "repo": "googleapis/discovery-artifact-manager",
    "read_from": "yoshi-code-bot/discovery-artifact-manager (the upstream's automation fork)",
    "commit": "0ca43a0ba91ff08b029b5a49262b0b07e7685c27",
    "path": "discoveries/admin.directory_v1.json",
}
OKTA_MANAGEMENT = {
    "repo": "okta/okta-management-openapi-spec",
    "commit": "fdda229e82940cf5af4611ad673ca6a27974e31b",
    "path": "dist/current/management-minimal.yaml",
}
OKTA_OAUTH = dict(OKTA_MANAGEMENT, path="dist/current/oauth-minimal.yaml")
GRAPH = {
    "repo": "microsoftgraph/msgraph-sdk-powershell",
    "read_from": "subray2014/msgraph-sdk-powershell (a fork, branch dev)",
    "commit": "e3955eca82d4b46be4bc63f9e63a59095c73da69",
    "paths": [
        "openApiDocs/v1.0/Users.yml",
        "openApiDocs/v1.0/Users.Actions.yml",
        "openApiDocs/v1.0/Identity.SignIns.yml",
        "openApiDocs/v1.0/Groups.yml",
        "openApiDocs/v1.0/Identity.Governance.yml",
    ],
}

# resource -> methods of the Admin SDK Directory API.
GOOGLE_METHODS = {
    "users": ["get", "update", "signOut"],
    "groups": ["get"],
    "members": ["hasMember"],
}

OKTA_OPERATIONS = [
    ("/api/v1/users/{id}", "get"),
    ("/api/v1/users/{id}/lifecycle/expire_password_with_temp_password", "post"),
    ("/api/v1/users/{id}/lifecycle/expire_password", "post"),
    ("/api/v1/users/{id}/lifecycle/unlock", "post"),
    ("/api/v1/users/{userId}/sessions", "delete"),
    ("/api/v1/users/{userId}/roles", "get"),
    ("/api/v1/users/{id}/groups", "get"),
    ("/api/v1/groups/{groupId}", "get"),
    ("/api/v1/groups", "get"),
    ("/api/v1/users/{userId}/factors", "get"),
    ("/api/v1/users/{userId}/factors/{factorId}/verify", "post"),
    ("/api/v1/users/{userId}/factors/{factorId}/transactions/{transactionId}", "get"),
    # Also sent by the connectors: finding a user by profile email, the
    # connection check's look at the service app's own roles, and revoking
    # the API token zerodesk holds.
    ("/api/v1/users", "get"),
    ("/oauth2/v1/clients/{clientId}/roles", "get"),
    ("/api/v1/api-tokens/current", "delete"),
]
OKTA_OAUTH_OPERATIONS = [("/oauth2/v1/token", "post"), ("/oauth2/v1/revoke", "post")]

GRAPH_OPERATIONS = [
    ("/users/{user-id}", "get"),
    ("/users", "get"),
    ("/users/{user-id}", "patch"),
    ("/users/{user-id}/microsoft.graph.revokeSignInSessions", "post"),
    ("/users/{user-id}/transitiveMemberOf", "get"),
    ("/users/{user-id}/transitiveMemberOf/microsoft.graph.group", "get"),
    ("/users/{user-id}/microsoft.graph.checkMemberGroups", "post"),
    ("/groups/{group-id}", "get"),
    ("/groups", "get"),
    ("/users/{user-id}/authentication/emailMethods", "get"),
    ("/users/{user-id}/authentication/phoneMethods", "get"),
    ("/roleManagement/directory/roleAssignments", "get"),
    ("/roleManagement/directory/roleEligibilitySchedules", "get"),
    ("/roleManagement/directory/roleEligibilityScheduleInstances", "get"),
]

PROSE = {"description", "example", "examples", "enumDescriptions", "externalDocs", "x-ms-enum"}


def git_show(git_dir, commit, path):
    return subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"{commit}:{path}"],
        check=True,
        capture_output=True,
    ).stdout


def load(git_dir, source, path=None):
    text = git_show(git_dir, source["commit"], path or source["path"])
    return yaml.load(text, Loader=Loader)


def without_prose(node):
    """Schemas and parameters without descriptions and examples."""
    if isinstance(node, dict):
        return {k: without_prose(v) for k, v in node.items() if k not in PROSE}
    if isinstance(node, list):
        return [without_prose(v) for v in node]
    return node


def refs(node, prefix):
    """Every `$ref` below `node` that starts with `prefix`, without it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(prefix):
                yield value[len(prefix):]
            elif key == "mapping" and isinstance(value, dict):
                for target in value.values():
                    if target.startswith(prefix):
                        yield target[len(prefix):]
            else:
                yield from refs(value, prefix)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value, prefix)


def closure(roots, schemas, prefix, trim=lambda name, schema: schema):
    kept = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        schema = trim(name, without_prose(schemas[name]))
        kept[name] = schema
        todo.extend(refs(schema, prefix))
    return dict(sorted(kept.items()))


def write(name, document):
    path = HERE / name
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{name}: {path.stat().st_size} bytes")


# --- Google ---------------------------------------------------------------


def extract_google(git_dir):
    source = json.loads(git_show(git_dir, GOOGLE["commit"], GOOGLE["path"]))
    out = {k: v for k, v in source.items() if k not in ("resources", "schemas", "auth", "description")}
    out["parameters"] = without_prose(source["parameters"])
    resources = {}
    for resource, names in GOOGLE_METHODS.items():
        methods = source["resources"][resource]["methods"]
        resources[resource] = {
            "methods": {n: {**methods[n], "parameters": without_prose(methods[n].get("parameters", {}))} for n in names}
        }
    out["resources"] = resources
    scopes = sorted({s for r in resources.values() for m in r["methods"].values() for s in m.get("scopes", [])})
    out["auth"] = {"oauth2": {"scopes": {s: source["auth"]["oauth2"]["scopes"][s] for s in scopes}}}
    roots = [
        m[key]["$ref"]
        for r in resources.values()
        for m in r["methods"].values()
        for key in ("request", "response")
        if key in m
    ]
    out["schemas"] = closure(roots, source["schemas"], "")
    out["x-zerodesk-source"] = GOOGLE
    write("google-admin-directory_v1.json", out)


# --- OpenAPI (Okta and Graph) ---------------------------------------------


def openapi_closure(document, paths, schema_roots_of, trim=lambda name, schema: schema):
    """`components` for `paths`: the parameters, responses and schemas they
    reference, transitively."""
    components = document["components"]
    parameters = {
        n: without_prose(components["parameters"][n])
        for n in sorted(set(refs(paths, "#/components/parameters/")))
    }
    responses = {
        n: components["responses"][n]
        for n in sorted(set(refs(paths, "#/components/responses/")))
    }
    roots = set(schema_roots_of(paths)) | set(refs(parameters, "#/components/schemas/"))
    roots |= set(refs(responses, "#/components/schemas/"))
    schemas = closure(roots, components["schemas"], "#/components/schemas/", trim)
    out = {}
    if parameters:
        out["parameters"] = parameters
    if responses:
        out["responses"] = responses
    out["schemas"] = schemas
    return out


def pick(document, operations):
    paths = {}
    for path, method in operations:
        item = document["paths"][path]
        kept = paths.setdefault(path, {k: v for k, v in item.items() if k == "parameters"})
        kept[method] = item[method]
    return paths


# --- Okta -----------------------------------------------------------------


def okta_operation(op):
    op = {k: v for k, v in op.items() if k not in ("description", "x-codegen-request-body-name")}
    op["parameters"] = without_prose(op.get("parameters", []))
    if not op["parameters"]:
        del op["parameters"]
    # Response bodies are not checked: keep each status and its summary.
    op["responses"] = {code: {"description": r.get("description", "")} for code, r in op["responses"].items()}
    if "requestBody" in op:
        body = copy.deepcopy(op["requestBody"])
        body.pop("description", None)
        for media in body.get("content", {}).values():
            media.pop("examples", None)
        op["requestBody"] = body
    return op


def extract_okta(git_dir):
    management = load(git_dir, OKTA_MANAGEMENT)
    oauth = load(git_dir, OKTA_OAUTH)
    out = {
        "openapi": management["openapi"],
        "info": {
            **{k: v for k, v in management["info"].items() if k != "description"},
            "x-zerodesk-merged": "The /oauth2/v1/token and /oauth2/v1/revoke operations come from the "
            "Okta OAuth 2.0 description (oauth-minimal.yaml) of the same release.",
        },
        "servers": management["servers"],
        "paths": {},
        "components": {},
    }
    paths = {}
    for document, operations in ((management, OKTA_OPERATIONS), (oauth, OKTA_OAUTH_OPERATIONS)):
        picked = pick(document, operations)
        for path, item in picked.items():
            item = {m: (okta_operation(v) if m != "parameters" else without_prose(v)) for m, v in item.items()}
            paths[path] = item
    out["paths"] = paths

    def body_schemas(ps):
        for item in ps.values():
            for op in item.values():
                if isinstance(op, dict):
                    yield from refs(op.get("requestBody", {}), "#/components/schemas/")

    management_paths = {p: paths[p] for p, _ in OKTA_OPERATIONS}
    oauth_paths = {p: paths[p] for p, _ in OKTA_OAUTH_OPERATIONS}
    components = openapi_closure(management, management_paths, body_schemas)
    oauth_components = openapi_closure(oauth, oauth_paths, body_schemas)
    for kind, found in oauth_components.items():
        for name, value in found.items():
            mine = components.setdefault(kind, {})
            if name in mine and mine[name] != value:
                raise SystemExit(f"okta: {kind} {name} differs between the two descriptions")
            mine[name] = value
    components["schemas"] = dict(sorted(components["schemas"].items()))

    used = {}
    for item in paths.values():
        for op in item.values():
            if isinstance(op, dict):
                for requirement in op.get("security", []):
                    for scheme, scopes in requirement.items():
                        used.setdefault(scheme, set()).update(scopes)
    schemes = {}
    for scheme in sorted(used):
        source = (management if scheme in management["components"]["securitySchemes"] else oauth)
        value = copy.deepcopy(source["components"]["securitySchemes"][scheme])
        for flow in value.get("flows", {}).values():
            flow["scopes"] = {s: flow["scopes"][s] for s in sorted(used[scheme]) if s in flow["scopes"]}
        schemes[scheme] = value
    components["securitySchemes"] = schemes
    out["components"] = components
    out["x-zerodesk-source"] = [OKTA_MANAGEMENT, OKTA_OAUTH]
    write("okta-management.json", out)


# --- Microsoft Graph --------------------------------------------------------

SCHEMA_PREFIX = "#/components/schemas/"


def derives_from_entity(name, schemas):
    """Entity types are the ones based on `microsoft.graph.entity`; in OData
    a property whose type is an entity type is a navigation property."""
    while name != "microsoft.graph.entity":
        bases = [p["$ref"] for p in schemas.get(name, {}).get("allOf", []) if "$ref" in p]
        if not bases:
            return False
        name = bases[0][len(SCHEMA_PREFIX):]
    return True


def navigation_trimmer(schemas):
    """Keeps a navigation property's name and shape, not the entity type it
    leads to (which would pull in most of Graph)."""

    def target(prop):
        for holder in (prop, prop.get("items", {})):
            if "$ref" in holder:
                return holder["$ref"]
            for alternative in holder.get("anyOf", []):
                if "$ref" in alternative:
                    return alternative["$ref"]
        return None

    def cut(prop):
        ref = target(prop)
        if ref is None or not derives_from_entity(ref[len(SCHEMA_PREFIX):], schemas):
            return prop
        prop = copy.deepcopy(prop)
        holder = prop["items"] if "items" in prop else prop
        holder.pop("$ref", None)
        holder.pop("anyOf", None)
        prop["x-ms-navigationProperty"] = True
        prop["x-zerodesk-trimmed"] = ref[len(SCHEMA_PREFIX):]
        return prop

    def trim_parts(schema):
        if isinstance(schema, dict) and "allOf" in schema:
            return {**schema, "allOf": [trim_parts(part) for part in schema["allOf"]]}
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            return {**schema, "properties": {k: cut(v) for k, v in schema["properties"].items()}}
        return schema

    def trim(name, schema):
        # Only an entity type has navigation properties; a collection
        # response's `value` is the entity set itself and stays.
        return trim_parts(schema) if derives_from_entity(name, schemas) else schema

    return trim


def graph_operation(op):
    op = {k: v for k, v in op.items() if k not in ("description",)}
    op["parameters"] = without_prose(op.get("parameters", []))
    # The shared error response is not checked; the 2XX one is (for $select).
    op["responses"] = {code: r for code, r in op["responses"].items() if code != "default"}
    return op


def extract_graph(git_dir):
    documents = [load(git_dir, GRAPH, p) for p in GRAPH["paths"]]
    first = documents[0]
    paths = {}
    components = {"parameters": {}, "responses": {}, "schemas": {}}
    for path, method in GRAPH_OPERATIONS:
        document = next(d for d in documents if method in d["paths"].get(path, {}))
        item = paths.setdefault(path, {})
        if "parameters" in document["paths"][path]:
            item["parameters"] = without_prose(document["paths"][path]["parameters"])
        item[method] = graph_operation(document["paths"][path][method])
        found = openapi_closure(
            document,
            {path: item},
            lambda ps: refs(ps, SCHEMA_PREFIX),
            navigation_trimmer(document["components"]["schemas"]),
        )
        for kind, values in found.items():
            for name, value in values.items():
                mine = components[kind]
                if name in mine and mine[name] != value:
                    raise SystemExit(f"graph: {kind} {name} differs between module descriptions")
                mine[name] = value
    components = {k: dict(sorted(v.items())) for k, v in components.items() if v}
    components["securitySchemes"] = first["components"]["securitySchemes"]
    out = {
        "openapi": first["openapi"],
        "info": {"title": "Microsoft Graph v1.0 (the operations zerodesk sends)", "version": first["info"]["version"]},
        "servers": first["servers"],
        "paths": paths,
        "components": components,
        "security": first["security"],
        "x-zerodesk-source": GRAPH,
    }
    write("graph-v1.0.json", out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--google-git", required=True)
    parser.add_argument("--okta-git", required=True)
    parser.add_argument("--graph-git", required=True)
    args = parser.parse_args()
    extract_google(args.google_git)
    extract_okta(args.okta_git)
    extract_graph(args.graph_git)


if __name__ == "__main__":
    main()
