//! Creates DynamoDB tables exactly as `template.yaml` declares them (keys,
//! indexes, TTL), for the test harness and the local stack. Never used
//! against a deployed stack: there CloudFormation owns the tables.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use zerodesk_template::{AttributeType, KeyDef, TableDef};

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("table {table}: {operation} failed")]
    Sdk {
        table: String,
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("table {table}: the definition cannot be expressed")]
    Definition { table: String },
}

/// Creates one table with its indexes and TTL; an existing table is an error.
pub async fn create_table(client: &Client, def: &TableDef, name: &str) -> Result<(), TableError> {
    let sdk = |operation: &'static str| {
        let table = name.to_owned();
        move |e: Box<dyn std::error::Error + Send + Sync>| TableError::Sdk {
            table,
            operation,
            source: e,
        }
    };
    let bad = || TableError::Definition {
        table: name.to_owned(),
    };
    let mut attributes: Vec<&KeyDef> = vec![&def.hash_key];
    attributes.extend(def.range_key.as_ref());
    for g in &def.gsis {
        attributes.push(&g.hash_key);
        attributes.extend(g.range_key.as_ref());
    }
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    attributes.dedup_by(|a, b| a.name == b.name);

    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for a in attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&a.name)
                .attribute_type(scalar(a.kind))
                .build()
                .map_err(|_| bad())?,
        );
    }
    for k in key_schema(&def.hash_key, def.range_key.as_ref()).map_err(|_| bad())? {
        request = request.key_schema(k);
    }
    for g in &def.gsis {
        let mut index = GlobalSecondaryIndex::builder()
            .index_name(&g.name)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::from(g.projection.as_str()))
                    .build(),
            );
        for k in key_schema(&g.hash_key, g.range_key.as_ref()).map_err(|_| bad())? {
            index = index.key_schema(k);
        }
        request = request.global_secondary_indexes(index.build().map_err(|_| bad())?);
    }
    request
        .send()
        .await
        .map_err(|e| sdk("CreateTable")(Box::new(e)))?;
    if let Some(ttl) = &def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl)
                    .enabled(true)
                    .build()
                    .map_err(|_| bad())?,
            )
            .send()
            .await
            .map_err(|e| sdk("UpdateTimeToLive")(Box::new(e)))?;
    }
    Ok(())
}

fn scalar(kind: AttributeType) -> ScalarAttributeType {
    match kind {
        AttributeType::S => ScalarAttributeType::S,
        AttributeType::N => ScalarAttributeType::N,
        AttributeType::B => ScalarAttributeType::B,
    }
}

fn key_schema(
    hash: &KeyDef,
    range: Option<&KeyDef>,
) -> Result<Vec<KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    let mut keys = vec![
        KeySchemaElement::builder()
            .attribute_name(&hash.name)
            .key_type(KeyType::Hash)
            .build()?,
    ];
    if let Some(r) = range {
        keys.push(
            KeySchemaElement::builder()
                .attribute_name(&r.name)
                .key_type(KeyType::Range)
                .build()?,
        );
    }
    Ok(keys)
}
