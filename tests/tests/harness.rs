//! The harness itself: a fresh emulator, provisioned from the template.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zerodesk_testkit::LocalAws;

#[tokio::test]
async fn harness_provisions_every_table_from_the_template() {
    let aws = LocalAws::shared();
    let client = aws_sdk_dynamodb::Client::new(&aws.sdk_config().await);
    let tables = client.list_tables().send().await.unwrap();
    let mut names: Vec<String> = tables.table_names().to_vec();
    names.sort();
    assert_eq!(
        names,
        [
            "zerodesk-test-audit",
            "zerodesk-test-idempotency",
            "zerodesk-test-tenants",
            "zerodesk-test-tickets"
        ]
    );
    let described = client
        .describe_table()
        .table_name(&aws.names.tables.tickets)
        .send()
        .await
        .unwrap();
    let gsis: Vec<String> = described
        .table()
        .unwrap()
        .global_secondary_indexes()
        .iter()
        .filter_map(|g| g.index_name().map(str::to_owned))
        .collect();
    assert!(gsis.contains(&"by_requester".to_owned()));
    assert!(gsis.contains(&"by_expiry".to_owned()));
}

#[tokio::test]
async fn harness_endpoint_is_loopback() {
    let aws = LocalAws::shared();
    assert!(aws.endpoint.starts_with("http://127.0.0.1:"));
}
