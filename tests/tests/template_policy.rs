//! The deployment's security invariants, read from `template.yaml`
//! (docs/architecture.md sections 7, 8 and 9): no function can update audit records and only
//! retention-purge can delete them, every tenant-data permission is confined
//! by `dynamodb:LeadingKeys` to the session's tenant, every route sits behind
//! the JWT authorizer, and the tables are the ones the code provisions.
//!
//! The local emulator does not enforce IAM, so this file is what proves layer
//! 3 of tenant isolation. Each checker is also run on a mutated copy of the
//! template, so a checker that cannot fail fails its own test.

// A test binary: a failed expectation is a test failure, with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_yaml::Value;
use zerodesk_template::{AttributeType, Template};

// ---------------------------------------------------------------------------
// What the code expects
// ---------------------------------------------------------------------------

/// (function logical id, cargo package).
const FUNCTIONS: [(&str, &str); 7] = [
    ("TicketsFunction", "tickets"),
    ("ResetFunction", "reset"),
    ("UnlockFunction", "unlock"),
    ("VerifyFunction", "verify"),
    ("AuditWriteFunction", "audit-write"),
    ("RetentionPurgeFunction", "retention-purge"),
    ("AdminFunction", "admin"),
];

const AUDIT_TABLE: &str = "AuditTable";
const AUDIT_WRITER: &str = "AuditWriteFunction";
const PURGER: &str = "RetentionPurgeFunction";

/// The only leading keys a tenant role may be confined to: its own tenant's
/// partition, or (for by_requester, whose hash key is
/// `TENANT#<tenant>#<account>`) that partition's requester keys.
const TENANT_LEADING_KEYS: [&str; 2] = [
    "TENANT#${aws:PrincipalTag/tenant_id}",
    "TENANT#${aws:PrincipalTag/tenant_id}#*",
];

/// The only routes without the JWT authorizer: the owner verification page
/// (the owner may be locked out; the link's token is the credential). Each
/// must carry its own throttles.
const OPEN_ROUTES: &[(&str, &str, &str)] = &[
    ("VerifyFunction", "GET", "/verify"),
    ("VerifyFunction", "GET", "/verify/app.js"),
    ("VerifyFunction", "GET", "/verify/app.css"),
    ("VerifyFunction", "POST", "/verify"),
];

const ROUTES: &[(&str, &str, &str)] = &[
    ("TicketsFunction", "POST", "/tickets"),
    ("TicketsFunction", "GET", "/tickets"),
    ("TicketsFunction", "GET", "/tickets/{id}"),
    ("TicketsFunction", "POST", "/tickets/{id}/approve"),
    ("TicketsFunction", "POST", "/tickets/{id}/reject"),
    (
        "TicketsFunction",
        "GET",
        "/platform/tenants/{tenant}/tickets",
    ),
    (
        "TicketsFunction",
        "GET",
        "/platform/tenants/{tenant}/tickets/{id}",
    ),
    ("ResetFunction", "POST", "/tickets/{id}/reset"),
    ("VerifyFunction", "GET", "/verify"),
    ("VerifyFunction", "GET", "/verify/app.js"),
    ("VerifyFunction", "GET", "/verify/app.css"),
    ("VerifyFunction", "POST", "/verify"),
    ("UnlockFunction", "POST", "/tickets/{id}/unlock"),
    ("AdminFunction", "GET", "/audit"),
    ("AdminFunction", "GET", "/audit/verify"),
    ("AdminFunction", "GET", "/audit/export"),
    ("AdminFunction", "GET", "/policy"),
    ("AdminFunction", "PUT", "/policy"),
    ("AdminFunction", "PUT", "/connection"),
    ("AdminFunction", "DELETE", "/connection"),
    ("AdminFunction", "POST", "/connection/check"),
    ("AdminFunction", "POST", "/erasure"),
    ("AdminFunction", "POST", "/platform/tenants"),
    (
        "AdminFunction",
        "POST",
        "/platform/tenants/{tenant}/offboard",
    ),
    (
        "AdminFunction",
        "POST",
        "/platform/tenants/{tenant}/restore",
    ),
    ("AdminFunction", "GET", "/platform/tenants/{tenant}/audit"),
    (
        "AdminFunction",
        "GET",
        "/platform/tenants/{tenant}/audit/verify",
    ),
    (
        "AdminFunction",
        "GET",
        "/platform/tenants/{tenant}/audit/export",
    ),
];

struct ExpectedTable {
    id: &'static str,
    name: &'static str,
    gsis: &'static [ExpectedGsi],
}

struct ExpectedGsi {
    name: &'static str,
    hash: (&'static str, AttributeType),
    range: (&'static str, AttributeType),
    projection: &'static str,
}

const BY_EXPIRY: ExpectedGsi = ExpectedGsi {
    name: "by_expiry",
    hash: ("expiry_day", AttributeType::S),
    range: ("expires_at", AttributeType::N),
    projection: "KEYS_ONLY",
};

const TABLES: [ExpectedTable; 4] = [
    ExpectedTable {
        id: "TenantsTable",
        name: "zerodesk-${Stage}-tenants",
        gsis: &[
            ExpectedGsi {
                name: "by_status",
                hash: ("status", AttributeType::S),
                range: ("status_since", AttributeType::S),
                projection: "KEYS_ONLY",
            },
            BY_EXPIRY,
        ],
    },
    ExpectedTable {
        id: "TicketsTable",
        name: "zerodesk-${Stage}-tickets",
        gsis: &[
            ExpectedGsi {
                name: "by_requester",
                hash: ("requester_key", AttributeType::S),
                range: ("sk", AttributeType::S),
                projection: "ALL",
            },
            BY_EXPIRY,
        ],
    },
    ExpectedTable {
        id: "AuditTable",
        name: "zerodesk-${Stage}-audit",
        gsis: &[BY_EXPIRY],
    },
    ExpectedTable {
        id: "IdempotencyTable",
        name: "zerodesk-${Stage}-idempotency",
        gsis: &[BY_EXPIRY],
    },
];

/// DynamoDB actions that read or write items (what tenant isolation is about).
const DYNAMODB_DATA_ACTIONS: [&str; 13] = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
];
/// Actions that change an existing item in place.
const UPDATE_ACTIONS: [&str; 2] = ["dynamodb:UpdateItem", "dynamodb:PartiQLUpdate"];
/// Actions that remove items. BatchWriteItem is authorised as itself, not as
/// DeleteItem, so it counts as a delete (and as a put).
const DELETE_ACTIONS: [&str; 3] = [
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLDelete",
];
const PUT_ACTIONS: [&str; 3] = [
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
];
const KMS_DATA_ACTIONS: [&str; 5] = [
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:Encrypt",
];

// Values the renderer gives pseudo parameters; any fixed value works, the
// checks compare rendered strings with each other.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

// ---------------------------------------------------------------------------
// Rendering intrinsic functions into comparable strings
// ---------------------------------------------------------------------------

struct Renderer<'a> {
    template: &'a Template,
}

impl Renderer<'_> {
    fn parameter_default(&self, name: &str) -> Option<String> {
        let p = self.template.root().get("Parameters")?.get(name)?;
        match p.get("Default")? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn property(&self, logical_id: &str, property: &str) -> Option<String> {
        let v = self
            .template
            .resource(logical_id)?
            .get("Properties")?
            .get(property)?;
        self.render(v)
    }

    /// `Ref` of a pseudo parameter, parameter or resource.
    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::Partition" => return Some("aws".to_owned()),
            "AWS::Region" => return Some(REGION.to_owned()),
            "AWS::AccountId" => return Some(ACCOUNT.to_owned()),
            "AWS::URLSuffix" => return Some("amazonaws.com".to_owned()),
            "AWS::StackName" => return Some("zerodesk".to_owned()),
            _ => {}
        }
        if let Some(d) = self.parameter_default(name) {
            return Some(d);
        }
        let kind = self.resource_type(name)?;
        Some(match kind.as_str() {
            "AWS::DynamoDB::Table" => self.property(name, "TableName")?,
            "AWS::IAM::Role" => self
                .property(name, "RoleName")
                .unwrap_or_else(|| name.to_owned()),
            "AWS::Events::EventBus" => self.property(name, "Name")?,
            "AWS::Logs::LogGroup" => self.property(name, "LogGroupName")?,
            _ => name.to_owned(),
        })
    }

    fn attribute(&self, name: &str, attribute: &str) -> Option<String> {
        let kind = self.resource_type(name)?;
        let r = |s: &str| format!("arn:aws:{s}");
        match (kind.as_str(), attribute) {
            ("AWS::DynamoDB::Table", "Arn") => Some(r(&format!(
                "dynamodb:{REGION}:{ACCOUNT}:table/{}",
                self.reference(name)?
            ))),
            ("AWS::IAM::Role", "Arn") => {
                Some(r(&format!("iam::{ACCOUNT}:role/{}", self.reference(name)?)))
            }
            ("AWS::KMS::Key", "Arn") => Some(r(&format!("kms:{REGION}:{ACCOUNT}:key/{name}"))),
            ("AWS::SQS::Queue", "Arn") => Some(r(&format!(
                "sqs:{REGION}:{ACCOUNT}:{}",
                self.property(name, "QueueName")
                    .unwrap_or_else(|| name.to_owned())
            ))),
            ("AWS::Logs::LogGroup", "Arn") => Some(r(&format!(
                "logs:{REGION}:{ACCOUNT}:log-group:{}:*",
                self.reference(name)?
            ))),
            ("AWS::Events::EventBus", "Arn") => Some(r(&format!(
                "events:{REGION}:{ACCOUNT}:event-bus/{}",
                self.reference(name)?
            ))),
            _ => Some(format!("{name}.{attribute}")),
        }
    }

    fn resource_type(&self, name: &str) -> Option<String> {
        self.template
            .resource(name)?
            .get("Type")?
            .as_str()
            .map(str::to_owned)
    }

    /// `Fn::Sub`: `${Name}`, `${Name.Attr}`, and `${!Literal}` -> `${Literal}`.
    fn sub(&self, pattern: &str, vars: &BTreeMap<String, String>) -> Option<String> {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(v);
            } else if let Some((resource, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(resource, attribute)?);
            } else {
                out.push_str(&self.reference(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// A string for a scalar or one of the intrinsics resource names are
    /// built with (short or long form); `None` for anything else.
    fn render(&self, value: &Value) -> Option<String> {
        let (tag, inner) = match value {
            Value::String(s) => return Some(s.clone()),
            Value::Bool(b) => return Some(b.to_string()),
            Value::Number(n) => return Some(n.to_string()),
            Value::Tagged(t) => (
                t.tag.to_string().trim_start_matches('!').to_owned(),
                &t.value,
            ),
            Value::Mapping(m) if m.len() == 1 => {
                let (k, v) = m.iter().next()?;
                (k.as_str()?.trim_start_matches("Fn::").to_owned(), v)
            }
            _ => return None,
        };
        match tag.as_str() {
            "Ref" => self.reference(inner.as_str()?),
            "GetAtt" => match inner {
                Value::String(s) => {
                    let (r, a) = s.split_once('.')?;
                    self.attribute(r, a)
                }
                Value::Sequence(parts) if parts.len() == 2 => {
                    self.attribute(parts[0].as_str()?, parts[1].as_str()?)
                }
                _ => None,
            },
            "Sub" => match inner {
                Value::String(s) => self.sub(s, &BTreeMap::new()),
                Value::Sequence(parts) if parts.len() == 2 => {
                    let mut vars = BTreeMap::new();
                    for (k, v) in parts[1].as_mapping()? {
                        vars.insert(k.as_str()?.to_owned(), self.render(v)?);
                    }
                    self.sub(parts[0].as_str()?, &vars)
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// IAM wildcard match: `*` any run of characters, `?` exactly one.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn action_matches(pattern: &str, action: &str) -> bool {
    glob(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

fn as_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None => Vec::new(),
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(v) => vec![v],
    }
}

// ---------------------------------------------------------------------------
// IAM model
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Statement {
    origin: String,
    allow: bool,
    actions: Vec<String>,
    not_action: bool,
    /// Rendered; "*" where a resource could not be rendered (conservative).
    resources: Vec<String>,
    condition: Option<Value>,
}

impl Statement {
    fn grants(&self, action: &str) -> bool {
        self.allow && (self.not_action || self.actions.iter().any(|p| action_matches(p, action)))
    }

    fn grants_any(&self, actions: &[&str]) -> Vec<String> {
        actions
            .iter()
            .filter(|a| self.grants(a))
            .map(|a| (*a).to_owned())
            .collect()
    }

    fn on(&self, arn: &str) -> bool {
        self.resources.iter().any(|r| glob(r, arn))
    }

    /// Values of a condition key under an operator, e.g.
    /// ("ForAllValues:StringLike", "dynamodb:LeadingKeys").
    fn condition_values(
        &self,
        operator: &str,
        key: &str,
        render: &Renderer<'_>,
    ) -> Option<Vec<String>> {
        let block = self.condition.as_ref()?.get(operator)?.get(key)?;
        as_list(Some(block))
            .into_iter()
            .map(|v| render.render(v))
            .collect()
    }
}

fn statements_of(document: &Value, origin: &str, render: &Renderer<'_>) -> Vec<Statement> {
    as_list(document.get("Statement"))
        .into_iter()
        .map(|s| {
            let effect = s.get("Effect").and_then(Value::as_str).unwrap_or("");
            let (actions, not_action) = match (s.get("Action"), s.get("NotAction")) {
                (_, Some(na)) => (as_list(Some(na)), true),
                (a, None) => (as_list(a), false),
            };
            let resources = if s.get("NotResource").is_some() {
                vec!["*".to_owned()]
            } else {
                as_list(s.get("Resource"))
                    .into_iter()
                    .map(|r| render.render(r).unwrap_or_else(|| "*".to_owned()))
                    .collect()
            };
            let sid = s.get("Sid").and_then(Value::as_str).unwrap_or("(no Sid)");
            Statement {
                origin: format!("{origin}/{sid}"),
                allow: effect == "Allow",
                actions: actions
                    .into_iter()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                not_action,
                resources,
                condition: s.get("Condition").cloned(),
            }
        })
        .collect()
}

struct Iam<'a> {
    render: Renderer<'a>,
    /// Role logical id -> its permission statements (inline and attached).
    permissions: BTreeMap<String, Vec<Statement>>,
    /// Role logical id -> its trust statements.
    trust: BTreeMap<String, Vec<Statement>>,
    /// Role logical id -> principals (rendered) its trust policy allows.
    trusted: BTreeMap<String, Vec<String>>,
    problems: Vec<String>,
}

impl<'a> Iam<'a> {
    fn new(template: &'a Template) -> Iam<'a> {
        let render = Renderer { template };
        let mut iam = Iam {
            render,
            permissions: BTreeMap::new(),
            trust: BTreeMap::new(),
            trusted: BTreeMap::new(),
            problems: Vec::new(),
        };
        for (id, body) in template.resources_of_type("AWS::IAM::Role") {
            let props = body.get("Properties");
            let mut statements = Vec::new();
            for policy in as_list(props.and_then(|p| p.get("Policies"))) {
                if let Some(doc) = policy.get("PolicyDocument") {
                    statements.extend(statements_of(doc, id, &iam.render));
                }
            }
            if !as_list(props.and_then(|p| p.get("ManagedPolicyArns"))).is_empty() {
                iam.problems.push(format!(
                    "{id}: attaches managed policies, which this check cannot read"
                ));
            }
            iam.permissions.insert(id.to_owned(), statements);
            let trust_doc = props.and_then(|p| p.get("AssumeRolePolicyDocument"));
            let trust = trust_doc
                .map(|d| statements_of(d, id, &iam.render))
                .unwrap_or_default();
            let mut principals = Vec::new();
            for s in as_list(trust_doc.and_then(|d| d.get("Statement"))) {
                if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
                    continue;
                }
                match s.get("Principal") {
                    Some(Value::String(star)) => principals.push(star.clone()),
                    Some(p) => {
                        for a in as_list(p.get("AWS")) {
                            principals.push(iam.render.render(a).unwrap_or_else(|| "*".to_owned()));
                        }
                    }
                    None => {}
                }
            }
            iam.trust.insert(id.to_owned(), trust);
            iam.trusted.insert(id.to_owned(), principals);
        }
        for kind in ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"] {
            for (id, body) in template.resources_of_type(kind) {
                let props = body.get("Properties");
                let Some(doc) = props.and_then(|p| p.get("PolicyDocument")) else {
                    continue;
                };
                for role in as_list(props.and_then(|p| p.get("Roles"))) {
                    let role_id = match role {
                        Value::Tagged(t) if t.tag == "Ref" => t.value.as_str().map(str::to_owned),
                        _ => None,
                    };
                    match role_id.filter(|r| iam.permissions.contains_key(r)) {
                        Some(r) => {
                            let extra = statements_of(doc, id, &iam.render);
                            iam.permissions.entry(r).or_default().extend(extra);
                        }
                        None => iam.problems.push(format!(
                            "{id}: attached to a role this check cannot resolve"
                        )),
                    }
                }
            }
        }
        iam
    }

    fn role_arn(&self, role: &str) -> String {
        self.render.attribute(role, "Arn").unwrap_or_default()
    }

    /// The role a function runs as, or a problem.
    fn function_role(&self, function: &str) -> Result<String, String> {
        let props = self
            .render
            .template
            .resource(function)
            .and_then(|f| f.get("Properties"))
            .ok_or_else(|| format!("{function}: missing"))?;
        if props.get("Policies").is_some() {
            return Err(format!(
                "{function}: uses SAM Policies; give it an explicit least-privilege Role"
            ));
        }
        let role = props
            .get("Role")
            .ok_or_else(|| format!("{function}: has no explicit Role"))?;
        let rendered = self.render.render(role).unwrap_or_default();
        self.permissions
            .keys()
            .find(|r| self.role_arn(r) == rendered)
            .cloned()
            .ok_or_else(|| format!("{function}: Role {rendered} is not a role of this template"))
    }

    /// Roles reachable from `start` by sts:AssumeRole (trust policy side),
    /// `start` included. A trust policy naming `*` or the account is
    /// reachable from every role.
    fn reachable(&self, start: &str) -> Vec<String> {
        let account = [
            format!("arn:aws:iam::{ACCOUNT}:root"),
            ACCOUNT.to_owned(),
            "*".to_owned(),
        ];
        let mut seen = BTreeSet::from([start.to_owned()]);
        let mut queue = VecDeque::from([start.to_owned()]);
        while let Some(from) = queue.pop_front() {
            let from_arn = self.role_arn(&from);
            for (role, principals) in &self.trusted {
                let trusts = principals
                    .iter()
                    .any(|p| *p == from_arn || account.contains(p));
                if trusts && seen.insert(role.clone()) {
                    queue.push_back(role.clone());
                }
            }
        }
        seen.into_iter().collect()
    }
}

struct TableArns {
    /// Logical id -> table ARN.
    tables: BTreeMap<String, String>,
    /// (table logical id, index name) -> (index ARN, projection type).
    indexes: BTreeMap<(String, String), (String, String)>,
}

fn table_arns(template: &Template, render: &Renderer<'_>) -> Result<TableArns, String> {
    let mut out = TableArns {
        tables: BTreeMap::new(),
        indexes: BTreeMap::new(),
    };
    for table in template.tables().map_err(|e| format!("tables: {e}"))? {
        let arn = render
            .attribute(&table.logical_id, "Arn")
            .ok_or("table ARN")?;
        for gsi in &table.gsis {
            out.indexes.insert(
                (table.logical_id.clone(), gsi.name.clone()),
                (format!("{arn}/index/{}", gsi.name), gsi.projection.clone()),
            );
        }
        out.tables.insert(table.logical_id.clone(), arn);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Checkers: each returns the violations it finds (empty = pass)
// ---------------------------------------------------------------------------

/// Only audit-write may put audit items; nobody may update them; only
/// retention-purge may delete them. Counted over every role a function can
/// act as: its own and every role it can assume. Explicit Denies are not
/// credited: an Allow of a forbidden action is itself the violation.
fn audit_trail_violations(template: &Template) -> Vec<String> {
    let iam = Iam::new(template);
    let mut out = iam.problems.clone();
    let arns = match table_arns(template, &iam.render) {
        Ok(a) => a,
        Err(e) => return vec![e],
    };
    let Some(audit) = arns.tables.get(AUDIT_TABLE) else {
        return vec!["no AuditTable".to_owned()];
    };
    let audit_targets: Vec<String> = std::iter::once(audit.clone())
        .chain(
            arns.indexes
                .iter()
                .filter(|((t, _), _)| t == AUDIT_TABLE)
                .map(|(_, (a, _))| a.clone()),
        )
        .collect();
    for (function, _) in FUNCTIONS {
        let role = match iam.function_role(function) {
            Ok(r) => r,
            Err(e) => {
                out.push(e);
                continue;
            }
        };
        for reached in iam.reachable(&role) {
            for s in iam.permissions.get(&reached).into_iter().flatten() {
                if !s.allow || !audit_targets.iter().any(|a| s.on(a)) {
                    continue;
                }
                if s.not_action {
                    out.push(format!(
                        "{function} via {}: NotAction on the audit table",
                        s.origin
                    ));
                }
                for a in s.grants_any(&UPDATE_ACTIONS) {
                    out.push(format!(
                        "{function} via {}: {a} on the audit table (audit records are immutable)",
                        s.origin
                    ));
                }
                for a in s.grants_any(&DELETE_ACTIONS) {
                    let purge_delete = function == PURGER && a == "dynamodb:DeleteItem";
                    if !purge_delete {
                        out.push(format!("{function} via {}: {a} on the audit table (only retention-purge deletes, with DeleteItem)", s.origin));
                    }
                }
                for a in s.grants_any(&PUT_ACTIONS) {
                    if !(function == AUDIT_WRITER && a == "dynamodb:PutItem") {
                        out.push(format!(
                            "{function} via {}: {a} on the audit table (only audit-write appends)",
                            s.origin
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Tenant isolation in IAM (docs/architecture.md section 7, layer 3):
/// - every Allow of a DynamoDB item action on a table (or on an index that
///   returns more than keys) carries `ForAllValues:StringLike|StringEquals
///   dynamodb:LeadingKeys` and the `Null` guard that makes it non-vacuous;
/// - a function's own role never names a `TENANT#` key (no direct tenant
///   access); a role it assumes names only the session tenant's keys, and is
///   assumable only with a `tenant_id` session tag;
/// - Scan is never allowed (it has no leading key);
/// - KMS data-key use is only through a service (kms:ViaService) or, for
///   tenant roles, bound to the session tenant's encryption context; Secrets
///   Manager only under the session tenant's path, never for own roles;
/// - a function role assumes only roles of this template.
fn tenant_isolation_violations(template: &Template) -> Vec<String> {
    let iam = Iam::new(template);
    let mut out = iam.problems.clone();
    let arns = match table_arns(template, &iam.render) {
        Ok(a) => a,
        Err(e) => return vec![e],
    };
    let template_role_arns: Vec<String> = iam.permissions.keys().map(|r| iam.role_arn(r)).collect();
    let mut own_roles = BTreeSet::new();
    let mut assumed_roles = BTreeSet::new();
    for (function, _) in FUNCTIONS {
        match iam.function_role(function) {
            Ok(role) => {
                for r in iam.reachable(&role) {
                    if r != role {
                        assumed_roles.insert(r);
                    }
                }
                own_roles.insert(role);
            }
            Err(e) => out.push(e),
        }
    }
    for role in own_roles.intersection(&assumed_roles) {
        out.push(format!(
            "{role}: is both a function's own role and assumable by another function"
        ));
    }
    let leading = |s: &Statement| -> Option<Vec<String>> {
        ["ForAllValues:StringLike", "ForAllValues:StringEquals"]
            .iter()
            .find_map(|op| s.condition_values(op, "dynamodb:LeadingKeys", &iam.render))
    };
    let null_guarded = |s: &Statement| -> bool {
        s.condition_values("Null", "dynamodb:LeadingKeys", &iam.render)
            .is_some_and(|v| v == ["false"])
    };
    for (role, tenant_role) in own_roles
        .iter()
        .map(|r| (r, false))
        .chain(assumed_roles.iter().map(|r| (r, true)))
    {
        for s in iam.permissions.get(role).into_iter().flatten() {
            if !s.allow {
                continue;
            }
            let data = s.grants_any(&DYNAMODB_DATA_ACTIONS);
            if s.grants("dynamodb:Scan") || s.grants("dynamodb:PartiQLSelect") {
                out.push(format!(
                    "{}: allows Scan/PartiQLSelect, which no leading key confines",
                    s.origin
                ));
            }
            // Where the statement reaches item data.
            let mut needs_keys = Vec::new();
            for (table, arn) in &arns.tables {
                if !data.is_empty() && s.on(arn) {
                    needs_keys.push(table.clone());
                }
            }
            for ((table, index), (arn, projection)) in &arns.indexes {
                if data.is_empty() || !s.on(arn) {
                    continue;
                }
                let keys_only_query =
                    projection == "KEYS_ONLY" && data.iter().all(|a| a == "dynamodb:Query");
                if !keys_only_query {
                    needs_keys.push(format!("{table}/index/{index}"));
                }
            }
            if !needs_keys.is_empty() {
                match leading(s) {
                    None => out.push(format!(
                        "{}: {} on {} without a dynamodb:LeadingKeys condition",
                        s.origin,
                        data.join(","),
                        needs_keys.join(",")
                    )),
                    Some(values) => {
                        if !null_guarded(s) {
                            out.push(format!("{}: LeadingKeys without the Null guard (ForAllValues is vacuous on no keys)", s.origin));
                        }
                        for v in &values {
                            if tenant_role && !TENANT_LEADING_KEYS.contains(&v.as_str()) {
                                out.push(format!(
                                    "{}: tenant role confined to {v:?}, not the session tenant",
                                    s.origin
                                ));
                            }
                            if !tenant_role && (v.starts_with("TENANT#") || glob(v, "TENANT#x")) {
                                out.push(format!(
                                    "{}: a function's own role reaches tenant items ({v:?})",
                                    s.origin
                                ));
                            }
                        }
                        if values.is_empty() {
                            out.push(format!("{}: empty LeadingKeys", s.origin));
                        }
                    }
                }
            }
            for a in s.grants_any(&KMS_DATA_ACTIONS) {
                let via_service = s
                    .condition_values("StringEquals", "kms:ViaService", &iam.render)
                    .is_some();
                let tenant_context = s
                    .condition_values(
                        "StringEquals",
                        "kms:EncryptionContext:tenant_id",
                        &iam.render,
                    )
                    .is_some_and(|v| v == ["${aws:PrincipalTag/tenant_id}"]);
                if !(via_service || (tenant_role && tenant_context)) {
                    out.push(format!("{}: {a} neither through a service nor bound to the session tenant's context", s.origin));
                }
            }
            if s.grants("secretsmanager:GetSecretValue")
                || s.actions.iter().any(|a| a.starts_with("secretsmanager:"))
            {
                if !tenant_role {
                    out.push(format!(
                        "{}: a function's own role reaches Secrets Manager",
                        s.origin
                    ));
                }
                for r in &s.resources {
                    if !r.contains("/tenants/${aws:PrincipalTag/tenant_id}/") {
                        out.push(format!(
                            "{}: secret resource {r} is not the session tenant's path",
                            s.origin
                        ));
                    }
                }
            }
            if !tenant_role && s.grants("sts:AssumeRole") {
                for r in &s.resources {
                    if !template_role_arns.contains(r) {
                        out.push(format!(
                            "{}: may assume {r}, which is not a role of this template",
                            s.origin
                        ));
                    }
                }
            }
        }
    }
    // The roles a function assumes can only be entered with a tenant tag.
    for role in &assumed_roles {
        for s in iam
            .trust
            .get(role)
            .into_iter()
            .flatten()
            .filter(|s| s.allow)
        {
            let tagged = s
                .condition_values("StringLike", "aws:RequestTag/tenant_id", &iam.render)
                .or_else(|| {
                    s.condition_values("StringEquals", "aws:RequestTag/tenant_id", &iam.render)
                })
                .is_some_and(|v| !v.is_empty() && v.iter().all(|x| x != "*"));
            if !tagged || !s.grants("sts:TagSession") {
                out.push(format!(
                    "{}: trust does not require a tenant_id session tag",
                    s.origin
                ));
            }
        }
    }
    out
}

/// Every route is on the one HTTP API, behind its JWT authorizer.
fn route_violations(template: &Template) -> Vec<String> {
    let render = Renderer { template };
    let mut out = Vec::new();
    for kind in [
        "AWS::Serverless::Api",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGatewayV2::Route",
    ] {
        for (id, _) in template.resources_of_type(kind) {
            out.push(format!("{id}: {kind} is outside the reviewed API surface"));
        }
    }
    let mut apis = BTreeMap::new();
    for (id, api) in template.resources_of_type("AWS::Serverless::HttpApi") {
        let props = api.get("Properties");
        let auth = props.and_then(|p| p.get("Auth"));
        if props
            .is_some_and(|p| p.get("DefinitionBody").is_some() || p.get("DefinitionUri").is_some())
        {
            out.push(format!("{id}: routes defined outside function events"));
        }
        match auth
            .and_then(|a| a.get("DefaultAuthorizer"))
            .and_then(Value::as_str)
        {
            None | Some("NONE") => out.push(format!("{id}: no DefaultAuthorizer")),
            Some(name) => {
                let authorizer = auth
                    .and_then(|a| a.get("Authorizers"))
                    .and_then(|a| a.get(name));
                let jwt = authorizer.and_then(|a| a.get("JwtConfiguration"));
                let issuer = jwt.and_then(|j| j.get("issuer"));
                let audience = as_list(jwt.and_then(|j| j.get("audience")));
                let is_ref = |v: Option<&Value>, param: &str| matches!(v, Some(Value::Tagged(t)) if t.tag == "Ref" && t.value.as_str() == Some(param));
                if !is_ref(issuer, "JwtIssuer")
                    || audience.len() != 1
                    || !is_ref(audience.first().copied(), "JwtAudience")
                {
                    out.push(format!(
                        "{id}: authorizer {name} is not a JWT authorizer on JwtIssuer/JwtAudience"
                    ));
                }
                let source = authorizer
                    .and_then(|a| a.get("IdentitySource"))
                    .and_then(Value::as_str);
                if source != Some("$request.header.Authorization") {
                    out.push(format!(
                        "{id}: authorizer {name} identity source is {source:?}"
                    ));
                }
                apis.insert(render.reference(id).unwrap_or_default(), name.to_owned());
            }
        }
    }
    if !apis.contains_key("HttpApi") {
        out.push("no authorized AWS::Serverless::HttpApi named HttpApi".to_owned());
    }
    let mut routes = BTreeSet::new();
    for (function, body) in template.resources_of_type("AWS::Serverless::Function") {
        let events = body
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping);
        for (name, event) in events.into_iter().flatten() {
            let name = name.as_str().unwrap_or("?");
            let kind = event.get("Type").and_then(Value::as_str).unwrap_or("");
            let props = event.get("Properties");
            if kind == "Api" {
                out.push(format!(
                    "{function}/{name}: REST Api event outside the reviewed API"
                ));
            }
            if kind != "HttpApi" {
                continue;
            }
            let api = props
                .and_then(|p| p.get("ApiId"))
                .and_then(|v| render.render(v));
            let Some(authorizer) = api.as_ref().and_then(|a| apis.get(a)) else {
                out.push(format!(
                    "{function}/{name}: not on an authorized HttpApi (ApiId {api:?})"
                ));
                continue;
            };
            let route_auth = props
                .and_then(|p| p.get("Auth"))
                .and_then(|a| a.get("Authorizer"));
            let field = |k: &str| {
                props
                    .and_then(|p| p.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let open = OPEN_ROUTES.iter().any(|(f, m, p)| {
                *f == function && field("Method").eq_ignore_ascii_case(m) && field("Path") == *p
            });
            if open {
                let throttled = props.and_then(|p| p.get("RouteSettings")).is_some_and(|r| {
                    r.get("ThrottlingRateLimit").is_some()
                        && r.get("ThrottlingBurstLimit").is_some()
                });
                if route_auth.and_then(Value::as_str) != Some("NONE") || !throttled {
                    out.push(format!(
                        "{function}/{name}: an open route must say Authorizer NONE and carry its own throttles"
                    ));
                }
            } else if let Some(a) = route_auth.filter(|a| a.as_str() != Some(authorizer.as_str())) {
                out.push(format!(
                    "{function}/{name}: route Authorizer {a:?} instead of {authorizer}"
                ));
            }
            routes.insert((
                function.to_owned(),
                field("Method").to_ascii_uppercase(),
                field("Path"),
            ));
        }
    }
    let expected: BTreeSet<(String, String, String)> = ROUTES
        .iter()
        .map(|(f, m, p)| ((*f).to_owned(), (*m).to_owned(), (*p).to_owned()))
        .collect();
    for r in expected.difference(&routes) {
        out.push(format!("route missing: {r:?}"));
    }
    for r in routes.difference(&expected) {
        out.push(format!("route not in the reviewed list: {r:?}"));
    }
    out
}

/// The tables, keys, indexes and TTL are what the code provisions, and are
/// on-demand, PITR, encrypted with the stack key and deletion-protected.
fn table_violations(template: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let tables = match template.tables() {
        Ok(t) => t,
        Err(e) => return vec![format!("tables: {e}")],
    };
    let found: BTreeSet<&str> = tables.iter().map(|t| t.logical_id.as_str()).collect();
    let wanted: BTreeSet<&str> = TABLES.iter().map(|t| t.id).collect();
    if found != wanted {
        out.push(format!("tables {found:?}, expected {wanted:?}"));
    }
    for expected in &TABLES {
        let Some(t) = tables.iter().find(|t| t.logical_id == expected.id) else {
            continue;
        };
        let id = expected.id;
        if t.name_pattern != expected.name {
            out.push(format!(
                "{id}: TableName {}, expected {}",
                t.name_pattern, expected.name
            ));
        }
        if (t.hash_key.name.as_str(), t.hash_key.kind) != ("pk", AttributeType::S) {
            out.push(format!("{id}: hash key {:?}", t.hash_key));
        }
        if t.range_key.as_ref().map(|k| (k.name.as_str(), k.kind)) != Some(("sk", AttributeType::S))
        {
            out.push(format!("{id}: range key {:?}", t.range_key));
        }
        if t.ttl_attribute.as_deref() != Some("expires_at") {
            out.push(format!(
                "{id}: TTL attribute {:?}, expected expires_at",
                t.ttl_attribute
            ));
        }
        let names: BTreeSet<&str> = t.gsis.iter().map(|g| g.name.as_str()).collect();
        let expected_names: BTreeSet<&str> = expected.gsis.iter().map(|g| g.name).collect();
        if names != expected_names {
            out.push(format!(
                "{id}: indexes {names:?}, expected {expected_names:?}"
            ));
        }
        for e in expected.gsis {
            let Some(g) = t.gsis.iter().find(|g| g.name == e.name) else {
                continue;
            };
            let hash = (g.hash_key.name.as_str(), g.hash_key.kind);
            let range = g.range_key.as_ref().map(|k| (k.name.as_str(), k.kind));
            if hash != e.hash || range != Some(e.range) || g.projection != e.projection {
                out.push(format!(
                    "{id}/{}: keys {hash:?}/{range:?} {}, expected {:?}/{:?} {}",
                    e.name, g.projection, e.hash, e.range, e.projection
                ));
            }
        }
        let props = template.resource(id).and_then(|r| r.get("Properties"));
        let prop = |path: &[&str]| -> Option<Value> {
            let mut v = props?;
            for p in path {
                v = v.get(p)?;
            }
            Some(v.clone())
        };
        let checks: [(&[&str], Value); 5] = [
            (&["BillingMode"], Value::from("PAY_PER_REQUEST")),
            (&["DeletionProtectionEnabled"], Value::from(true)),
            (
                &[
                    "PointInTimeRecoverySpecification",
                    "PointInTimeRecoveryEnabled",
                ],
                Value::from(true),
            ),
            (&["SSESpecification", "SSEEnabled"], Value::from(true)),
            (&["SSESpecification", "SSEType"], Value::from("KMS")),
        ];
        for (path, want) in checks {
            if prop(path).as_ref() != Some(&want) {
                out.push(format!("{id}: {} is not {want:?}", path.join(".")));
            }
        }
        let key = prop(&["SSESpecification", "KMSMasterKeyId"]);
        let on_stack_key = matches!(&key, Some(Value::Tagged(t)) if t.value.as_str().is_some_and(|k| k == "DataKey" || k == "DataKey.Arn"));
        if !on_stack_key {
            out.push(format!(
                "{id}: not encrypted with the stack's DataKey ({key:?})"
            ));
        }
    }
    out
}

/// What every function must declare (issue #6): arm64 provided.al2023 built
/// by cargo-lambda from the workspace, JSON logs, its own role, bounded
/// concurrency, and a dead-letter path when it is invoked asynchronously.
fn function_shape_violations(template: &Template) -> Vec<String> {
    let mut out = Vec::new();
    let mut roles = BTreeMap::new();
    for (id, package) in FUNCTIONS {
        let Some(f) = template.resource(id) else {
            out.push(format!("{id}: missing"));
            continue;
        };
        let p = f.get("Properties");
        let s = |path: &[&str], root: Option<&Value>| -> Option<String> {
            let mut v = root?;
            for k in path {
                v = v.get(k)?;
            }
            v.as_str().map(str::to_owned)
        };
        let want = [
            (s(&["Runtime"], p), "provided.al2023", "Runtime"),
            (s(&["Handler"], p), "bootstrap", "Handler"),
            (s(&["CodeUri"], p), ".", "CodeUri"),
            (
                s(&["LoggingConfig", "LogFormat"], p),
                "JSON",
                "LoggingConfig.LogFormat",
            ),
            (
                s(&["BuildMethod"], f.get("Metadata")),
                "rust-cargolambda",
                "Metadata.BuildMethod",
            ),
            (
                s(&["BuildProperties", "Binary"], f.get("Metadata")),
                package,
                "Metadata.BuildProperties.Binary",
            ),
        ];
        for (got, expected, what) in want {
            if got.as_deref() != Some(expected) {
                out.push(format!("{id}: {what} is {got:?}, expected {expected}"));
            }
        }
        let arch: Vec<&str> = as_list(p.and_then(|p| p.get("Architectures")))
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        if arch != ["arm64"] {
            out.push(format!("{id}: Architectures {arch:?}"));
        }
        if p.and_then(|p| p.get("ReservedConcurrentExecutions"))
            .is_none()
        {
            out.push(format!("{id}: no ReservedConcurrentExecutions"));
        }
        let role = p
            .and_then(|p| p.get("Role"))
            .map(|r| format!("{r:?}"))
            .unwrap_or_default();
        if let Some(other) = roles.insert(role.clone(), id) {
            out.push(format!("{id}: shares its role with {other}"));
        }
        let events: Vec<&str> = p
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(_, e)| e.get("Type").and_then(Value::as_str))
            .collect();
        let asynchronous = events.iter().any(|t| *t != "HttpApi");
        if asynchronous && p.and_then(|p| p.get("DeadLetterQueue")).is_none() {
            let destination = p
                .and_then(|p| p.get("EventInvokeConfig"))
                .and_then(|c| c.get("DestinationConfig"))
                .and_then(|d| d.get("OnFailure"));
            if destination.is_none() {
                out.push(format!("{id}: invoked asynchronously without a dead-letter queue or on-failure destination"));
            }
        }
        for (name, e) in p
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let kind = e.get("Type").and_then(Value::as_str).unwrap_or("");
            if matches!(kind, "EventBridgeRule" | "ScheduleV2" | "Schedule") {
                let props = e.get("Properties");
                if props.and_then(|p| p.get("DeadLetterConfig")).is_none()
                    || props.and_then(|p| p.get("RetryPolicy")).is_none()
                {
                    out.push(format!(
                        "{id}/{}: {kind} without DeadLetterConfig and RetryPolicy",
                        name.as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Mutation helpers for the negative tests
// ---------------------------------------------------------------------------

fn repository_template() -> Template {
    Template::load(&Template::repository_template_path()).expect("template.yaml loads")
}

/// A copy of the repository template with `change` applied to its YAML.
fn mutated(change: impl FnOnce(&mut Value)) -> Template {
    let mut root = repository_template().root().clone();
    change(&mut root);
    let text = serde_yaml::to_string(&root).expect("template serialises");
    Template::parse(&text).expect("mutated template parses")
}

fn at<'v>(v: &'v mut Value, path: &[&str]) -> &'v mut Value {
    let mut cur = v;
    for key in path {
        cur = cur
            .get_mut(*key)
            .unwrap_or_else(|| panic!("no {key} in {path:?}"));
    }
    cur
}

/// The statement `sid` of `role`'s first inline policy.
fn statement<'v>(root: &'v mut Value, role: &str, sid: &str) -> &'v mut Value {
    let policies = at(root, &["Resources", role, "Properties", "Policies"]);
    let statements = policies[0]["PolicyDocument"]["Statement"]
        .as_sequence_mut()
        .expect("statement list");
    statements
        .iter_mut()
        .find(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
        .unwrap_or_else(|| panic!("{role} has no statement {sid}"))
}

fn add_action(root: &mut Value, role: &str, sid: &str, action: &str) {
    let s = statement(root, role, sid);
    let actions = s
        .get_mut("Action")
        .and_then(Value::as_sequence_mut)
        .expect("action list");
    actions.push(Value::from(action));
}

fn event<'v>(root: &'v mut Value, function: &str, event: &str) -> &'v mut Value {
    at(
        root,
        &[
            "Resources",
            function,
            "Properties",
            "Events",
            event,
            "Properties",
        ],
    )
}

fn assert_clean(kind: &str, violations: &[String]) {
    assert!(
        violations.is_empty(),
        "{kind} violations in template.yaml:\n  {}",
        violations.join("\n  ")
    );
}

fn assert_found(violations: &[String], needles: &[&str]) {
    assert!(
        violations
            .iter()
            .any(|v| needles.iter().all(|n| v.contains(n))),
        "expected a violation mentioning {needles:?}, got:\n  {}",
        violations.join("\n  ")
    );
}

// ---------------------------------------------------------------------------
// The repository template
// ---------------------------------------------------------------------------

#[test]
fn no_function_can_update_audit_records_and_only_purge_deletes_them() {
    assert_clean(
        "audit trail",
        &audit_trail_violations(&repository_template()),
    );
}

#[test]
fn tenant_data_is_only_reachable_through_the_session_tenants_leading_key() {
    assert_clean(
        "tenant isolation",
        &tenant_isolation_violations(&repository_template()),
    );
}

#[test]
fn every_route_is_behind_the_jwt_authorizer() {
    assert_clean("route", &route_violations(&repository_template()));
}

#[test]
fn tables_indexes_and_ttl_are_what_the_code_provisions() {
    assert_clean("table", &table_violations(&repository_template()));
}

#[test]
fn every_function_is_an_arm64_cargo_lambda_build_with_json_logs_and_its_own_role() {
    assert_clean(
        "function",
        &function_shape_violations(&repository_template()),
    );
}

/// The exemptions are exercised, not vacuous: retention-purge really can
/// delete audit items and audit-write really can append them.
#[test]
fn purge_can_delete_and_audit_write_can_append_audit_items() {
    let t = repository_template();
    let iam = Iam::new(&t);
    let audit = table_arns(&t, &iam.render).expect("tables").tables[AUDIT_TABLE].clone();
    let can = |function: &str, action: &str| {
        let role = iam.function_role(function).expect("role");
        iam.reachable(&role)
            .iter()
            .flat_map(|r| iam.permissions[r].iter())
            .any(|s| s.grants(action) && s.on(&audit))
    };
    assert!(can(PURGER, "dynamodb:DeleteItem"));
    assert!(
        !can(PURGER, "dynamodb:BatchWriteItem"),
        "audit items are deleted one by one, never batched"
    );
    assert!(can(AUDIT_WRITER, "dynamodb:PutItem"));
    assert!(!can(AUDIT_WRITER, "dynamodb:DeleteItem"));
    assert!(!can("AdminFunction", "dynamodb:PutItem"));
    assert!(
        can("AdminFunction", "dynamodb:Query"),
        "auditors read the trail through admin"
    );
}

/// Each tenant role is assumable by exactly the functions it is for.
#[test]
fn each_function_reaches_only_its_own_role_and_its_tenant_role() {
    let t = repository_template();
    let iam = Iam::new(&t);
    let expected = [
        ("TicketsFunction", ["TenantTicketsRole", "TicketsRole"]),
        ("ResetFunction", ["ResetRole", "TenantDataRole"]),
        ("UnlockFunction", ["TenantDataRole", "UnlockRole"]),
        ("AdminFunction", ["AdminRole", "TenantDataRole"]),
        (
            "AuditWriteFunction",
            ["AuditWriteRole", "TenantAuditWriterRole"],
        ),
        (
            "RetentionPurgeFunction",
            ["RetentionPurgeRole", "TenantPurgeRole"],
        ),
    ];
    for (function, roles) in expected {
        let own = iam.function_role(function).expect("role");
        assert_eq!(iam.reachable(&own), roles, "{function}");
    }
}

/// The functions whose roles (their own or one they assume) can read a
/// tenant's directory secret or decrypt its envelope outside DynamoDB.
fn functions_reaching_credentials(template: &Template) -> Vec<&'static str> {
    let iam = Iam::new(template);
    let opens_credentials = |s: &Statement| {
        s.grants("secretsmanager:GetSecretValue")
            || (s.grants("kms:Decrypt")
                && s.condition_values("StringEquals", "kms:ViaService", &iam.render)
                    .is_none())
    };
    FUNCTIONS
        .iter()
        .map(|(function, _)| *function)
        .filter(|function| {
            let Ok(own) = iam.function_role(function) else {
                return true;
            };
            iam.reachable(&own).iter().any(|role| {
                iam.permissions
                    .get(role)
                    .into_iter()
                    .flatten()
                    .any(&opens_credentials)
            })
        })
        .collect()
}

/// Only the functions that call a directory can read and decrypt its
/// credentials; tickets, audit-write and retention-purge cannot.
#[test]
fn only_the_functions_that_call_a_directory_reach_its_credentials() {
    let mut reaching = functions_reaching_credentials(&repository_template());
    reaching.sort_unstable();
    assert_eq!(
        reaching,
        [
            "AdminFunction",
            "ResetFunction",
            "UnlockFunction",
            "VerifyFunction"
        ]
    );
}

// ---------------------------------------------------------------------------
// The checkers on mutated templates
// ---------------------------------------------------------------------------

#[test]
fn a_credentials_grant_on_the_tickets_tenant_role_is_found() {
    let t = mutated(|r| {
        add_action(
            r,
            "TenantTicketsRole",
            "TenantItemsReadWrite",
            "secretsmanager:GetSecretValue",
        );
    });
    assert!(functions_reaching_credentials(&t).contains(&"TicketsFunction"));
}

#[test]
fn an_update_grant_on_the_audit_table_is_found() {
    let t = mutated(|r| {
        add_action(
            r,
            "AuditWriteRole",
            "PlatformAuditTrailAppend",
            "dynamodb:UpdateItem",
        )
    });
    assert_found(
        &audit_trail_violations(&t),
        &["AuditWriteFunction", "dynamodb:UpdateItem"],
    );
}

#[test]
fn an_audit_delete_outside_retention_purge_is_found_even_through_an_assumed_role() {
    let t = mutated(|r| {
        add_action(
            r,
            "TenantAuditWriterRole",
            "TenantAuditAppend",
            "dynamodb:DeleteItem",
        )
    });
    assert_found(
        &audit_trail_violations(&t),
        &["AuditWriteFunction", "TenantAuditWriterRole", "DeleteItem"],
    );
}

#[test]
fn a_wildcard_action_on_the_audit_table_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "TenantDataRole", "TenantAuditReadOnly");
        s["Action"] = Value::from("dynamodb:*");
    });
    let v = audit_trail_violations(&t);
    for f in ["ResetFunction", "UnlockFunction", "AdminFunction"] {
        assert_found(&v, &[f, "dynamodb:UpdateItem"]);
    }
    assert_found(
        &tenant_isolation_violations(&t),
        &["TenantAuditReadOnly", "Scan"],
    );
}

#[test]
fn a_batch_write_by_the_purge_is_found() {
    let t = mutated(|r| {
        add_action(
            r,
            "TenantPurgeRole",
            "TenantItemsFindAndDelete",
            "dynamodb:BatchWriteItem",
        )
    });
    assert_found(
        &audit_trail_violations(&t),
        &["RetentionPurgeFunction", "BatchWriteItem"],
    );
}

#[test]
fn a_purge_batch_write_widened_to_the_audit_table_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "TenantPurgeRole", "TenantItemsBatchDelete");
        let resources = s["Resource"].as_sequence_mut().expect("resources");
        resources.push(serde_yaml::from_str("!GetAtt AuditTable.Arn").expect("yaml"));
    });
    assert_found(
        &audit_trail_violations(&t),
        &[
            "RetentionPurgeFunction",
            "TenantItemsBatchDelete",
            "BatchWriteItem",
        ],
    );
}

#[test]
fn a_platform_partition_grant_of_the_purge_reaching_tenant_keys_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "RetentionPurgeRole", "PlatformAuditTrailRetention");
        s["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"] =
            Value::from(vec!["TENANT#acme"]);
        let s = statement(r, "RetentionPurgeRole", "PurgeProgressInPlatformPartition");
        s["Condition"]
            .as_mapping_mut()
            .expect("condition")
            .remove("Null");
    });
    let v = tenant_isolation_violations(&t);
    assert_found(
        &v,
        &[
            "PlatformAuditTrailRetention",
            "own role reaches tenant items",
        ],
    );
    assert_found(&v, &["PurgeProgressInPlatformPartition", "Null guard"]);
}

#[test]
fn a_tenant_permission_without_leading_keys_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "TenantDataRole", "TenantItemsReadWrite");
        s.as_mapping_mut().expect("statement").remove("Condition");
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["TenantItemsReadWrite", "without a dynamodb:LeadingKeys"],
    );
}

#[test]
fn leading_keys_without_the_null_guard_are_found() {
    let t = mutated(|r| {
        let s = statement(r, "TenantPurgeRole", "TenantItemsFindAndDelete");
        s["Condition"]
            .as_mapping_mut()
            .expect("condition")
            .remove("Null");
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["TenantItemsFindAndDelete", "Null guard"],
    );
}

#[test]
fn a_tenant_role_confined_to_another_key_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "TenantAuditWriterRole", "TenantAuditAppend");
        s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] =
            Value::from(vec!["TENANT#*"]);
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["TenantAuditAppend", "TENANT#*"],
    );
}

#[test]
fn direct_tenant_access_from_a_function_role_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "AuditWriteRole", "PlatformAuditTrailAppend");
        s["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"] =
            Value::from(vec!["TENANT#acme"]);
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["AuditWriteRole", "own role reaches tenant items"],
    );
}

#[test]
fn a_full_index_queried_without_leading_keys_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "RetentionPurgeRole", "FindExpiredAndOffboardedKeys");
        let resources = s["Resource"].as_sequence_mut().expect("resources");
        resources.push(
            serde_yaml::from_str("!Sub ${TicketsTable.Arn}/index/by_requester").expect("yaml"),
        );
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["FindExpiredAndOffboardedKeys", "by_requester"],
    );
}

#[test]
fn a_trust_policy_without_the_tenant_tag_is_found() {
    let t = mutated(|r| {
        let statements = at(
            r,
            &[
                "Resources",
                "TenantDataRole",
                "Properties",
                "AssumeRolePolicyDocument",
                "Statement",
            ],
        );
        statements[0]
            .as_mapping_mut()
            .expect("statement")
            .remove("Condition");
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["TenantDataRole", "tenant_id session tag"],
    );
}

#[test]
fn kms_decrypt_without_the_tenant_context_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "TenantDataRole", "TenantCredentialEnvelopes");
        s.as_mapping_mut().expect("statement").remove("Condition");
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["TenantCredentialEnvelopes", "kms:Decrypt"],
    );
}

#[test]
fn a_secret_outside_the_tenant_path_is_found() {
    let t = mutated(|r| {
        let s = statement(r, "TenantDataRole", "TenantDirectorySecret");
        s["Resource"] = Value::from("*");
    });
    assert_found(
        &tenant_isolation_violations(&t),
        &["TenantDirectorySecret", "not the session tenant's path"],
    );
}

#[test]
fn a_route_with_authorizer_none_is_found() {
    let t = mutated(|r| {
        let e = event(r, "AdminFunction", "ExportAudit");
        e["Auth"] = serde_yaml::from_str("{Authorizer: NONE}").expect("yaml");
    });
    assert_found(
        &route_violations(&t),
        &["AdminFunction/ExportAudit", "NONE"],
    );
}

#[test]
fn an_unthrottled_open_route_is_found() {
    let t = mutated(|r| {
        let e = event(r, "VerifyFunction", "VerifyAnswer");
        e.as_mapping_mut().expect("mapping").remove("RouteSettings");
    });
    assert_found(
        &route_violations(&t),
        &["VerifyFunction/VerifyAnswer", "throttles"],
    );
}

#[test]
fn an_api_without_a_default_authorizer_is_found() {
    let t = mutated(|r| {
        at(r, &["Resources", "HttpApi", "Properties", "Auth"])
            .as_mapping_mut()
            .expect("auth")
            .remove("DefaultAuthorizer");
    });
    let v = route_violations(&t);
    assert_found(&v, &["HttpApi", "no DefaultAuthorizer"]);
    assert_found(
        &v,
        &[
            "TicketsFunction/CreateTicket",
            "not on an authorized HttpApi",
        ],
    );
}

#[test]
fn a_route_on_the_implicit_api_is_found() {
    let t = mutated(|r| {
        event(r, "ResetFunction", "ResetPassword")
            .as_mapping_mut()
            .expect("event")
            .remove("ApiId");
    });
    assert_found(
        &route_violations(&t),
        &[
            "ResetFunction/ResetPassword",
            "not on an authorized HttpApi",
        ],
    );
}

#[test]
fn an_unreviewed_route_is_found() {
    let t = mutated(|r| {
        event(r, "TicketsFunction", "GetTicket")["Path"] = Value::from("/tickets/{id}/everything");
    });
    let v = route_violations(&t);
    assert_found(&v, &["route missing", "/tickets/{id}\""]);
    assert_found(&v, &["not in the reviewed list", "/everything"]);
}

#[test]
fn a_changed_index_key_is_found() {
    let t = mutated(|r| {
        let gsis = at(
            r,
            &[
                "Resources",
                "AuditTable",
                "Properties",
                "GlobalSecondaryIndexes",
            ],
        );
        gsis[0]["KeySchema"][1]["AttributeName"] = Value::from("expiry_day");
    });
    assert_found(&table_violations(&t), &["AuditTable/by_expiry"]);
}

#[test]
fn a_renamed_ttl_attribute_is_found() {
    let t = mutated(|r| {
        at(
            r,
            &[
                "Resources",
                "TicketsTable",
                "Properties",
                "TimeToLiveSpecification",
            ],
        )["AttributeName"] = Value::from("ttl");
    });
    assert_found(&table_violations(&t), &["TicketsTable", "TTL attribute"]);
}

#[test]
fn a_missing_index_is_found() {
    let t = mutated(|r| {
        let gsis = at(
            r,
            &[
                "Resources",
                "TenantsTable",
                "Properties",
                "GlobalSecondaryIndexes",
            ],
        );
        gsis.as_sequence_mut().expect("gsis").remove(0);
    });
    assert_found(&table_violations(&t), &["TenantsTable", "indexes"]);
}

#[test]
fn a_table_without_pitr_is_found() {
    let t = mutated(|r| {
        at(
            r,
            &[
                "Resources",
                "IdempotencyTable",
                "Properties",
                "PointInTimeRecoverySpecification",
            ],
        )["PointInTimeRecoveryEnabled"] = Value::from(false);
    });
    assert_found(
        &table_violations(&t),
        &["IdempotencyTable", "PointInTimeRecoveryEnabled"],
    );
}

#[test]
fn an_async_function_without_dead_letters_is_found() {
    let t = mutated(|r| {
        at(r, &["Resources", "AuditWriteFunction", "Properties"])
            .as_mapping_mut()
            .expect("props")
            .remove("DeadLetterQueue");
        event(r, "UnlockFunction", "AutoResolvedUnlock")
            .as_mapping_mut()
            .expect("event")
            .remove("DeadLetterConfig");
    });
    let v = function_shape_violations(&t);
    assert_found(&v, &["AuditWriteFunction", "dead-letter"]);
    assert_found(
        &v,
        &["UnlockFunction/AutoResolvedUnlock", "DeadLetterConfig"],
    );
}

#[test]
fn glob_matches_like_iam() {
    assert!(glob(
        "arn:aws:dynamodb:*:*:table/*",
        "arn:aws:dynamodb:us-east-1:1:table/zerodesk-dev-audit"
    ));
    assert!(glob("*", "anything"));
    assert!(glob("TENANT#?*", "TENANT#a"));
    assert!(!glob("TENANT#?*", "TENANT#"));
    assert!(!glob(
        "arn:aws:dynamodb:us-east-1:1:table/zerodesk-dev-audit",
        "arn:aws:dynamodb:us-east-1:1:table/zerodesk-dev-audit/index/by_expiry"
    ));
    assert!(action_matches("dynamodb:Update*", "dynamodb:UpdateItem"));
    assert!(action_matches("DynamoDB:updateitem", "dynamodb:UpdateItem"));
    assert!(!action_matches("dynamodb:Get*", "dynamodb:UpdateItem"));
}
