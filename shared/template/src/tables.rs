//! Typed view of the DynamoDB tables in the template: keys, attribute
//! types, global secondary indexes and the TTL attribute.

use std::collections::BTreeMap;

use crate::TemplateError;
use crate::intrinsics::{sub_string, substitute};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    S,
    N,
    B,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDef {
    pub name: String,
    pub kind: AttributeType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsiDef {
    pub name: String,
    pub hash_key: KeyDef,
    pub range_key: Option<KeyDef>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub logical_id: String,
    /// The `TableName` as written, e.g. `zerodesk-${Stage}-tickets`.
    pub name_pattern: String,
    pub hash_key: KeyDef,
    pub range_key: Option<KeyDef>,
    pub gsis: Vec<GsiDef>,
    pub ttl_attribute: Option<String>,
}

impl TableDef {
    pub fn physical_name(&self, stage: &str) -> String {
        let vars = BTreeMap::from([("Stage".to_owned(), stage.to_owned())]);
        substitute(&self.name_pattern, &vars)
    }

    pub(crate) fn from_resource(
        id: &str,
        body: &serde_yaml::Value,
    ) -> Result<TableDef, TemplateError> {
        let shape = |problem: &str| TemplateError::Shape {
            resource: id.to_owned(),
            problem: problem.to_owned(),
        };
        let props = body
            .get("Properties")
            .ok_or_else(|| shape("no Properties"))?;
        let name_pattern = props
            .get("TableName")
            .and_then(sub_string)
            .ok_or_else(|| shape("TableName must be a string or !Sub"))?;
        let mut types = BTreeMap::new();
        for def in seq(props.get("AttributeDefinitions")) {
            let name = str_of(def, "AttributeName").ok_or_else(|| shape("AttributeName"))?;
            let kind = match str_of(def, "AttributeType") {
                Some("S") => AttributeType::S,
                Some("N") => AttributeType::N,
                Some("B") => AttributeType::B,
                _ => return Err(shape("AttributeType must be S, N or B")),
            };
            types.insert(name.to_owned(), kind);
        }
        let keys = |schema: Option<&serde_yaml::Value>| -> Result<(KeyDef, Option<KeyDef>), TemplateError> {
            let mut hash = None;
            let mut range = None;
            for k in seq(schema) {
                let name = str_of(k, "AttributeName").ok_or_else(|| shape("KeySchema AttributeName"))?;
                let kind = *types.get(name).ok_or_else(|| shape("key attribute not in AttributeDefinitions"))?;
                let key = KeyDef { name: name.to_owned(), kind };
                match str_of(k, "KeyType") {
                    Some("HASH") => hash = Some(key),
                    Some("RANGE") => range = Some(key),
                    _ => return Err(shape("KeyType must be HASH or RANGE")),
                }
            }
            Ok((hash.ok_or_else(|| shape("no HASH key"))?, range))
        };
        let (hash_key, range_key) = keys(props.get("KeySchema"))?;
        let mut gsis = Vec::new();
        for g in seq(props.get("GlobalSecondaryIndexes")) {
            let name = str_of(g, "IndexName")
                .ok_or_else(|| shape("IndexName"))?
                .to_owned();
            let (h, r) = keys(g.get("KeySchema"))?;
            let projection = g
                .get("Projection")
                .and_then(|p| str_of(p, "ProjectionType"))
                .unwrap_or("KEYS_ONLY")
                .to_owned();
            gsis.push(GsiDef {
                name,
                hash_key: h,
                range_key: r,
                projection,
            });
        }
        let ttl_attribute = props.get("TimeToLiveSpecification").and_then(|t| {
            let enabled = t
                .get("Enabled")
                .and_then(serde_yaml::Value::as_bool)
                .unwrap_or(false);
            enabled
                .then(|| str_of(t, "AttributeName").map(str::to_owned))
                .flatten()
        });
        Ok(TableDef {
            logical_id: id.to_owned(),
            name_pattern,
            hash_key,
            range_key,
            gsis,
            ttl_attribute,
        })
    }
}

fn seq(value: Option<&serde_yaml::Value>) -> impl Iterator<Item = &serde_yaml::Value> {
    value.and_then(|v| v.as_sequence()).into_iter().flatten()
}

fn str_of<'a>(value: &'a serde_yaml::Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(|v| v.as_str())
}
