//! Seeds the demo data through the same store and vault code the functions
//! use: tenant `demo` (directory demo.example on the fake Google) and tenant
//! `other` (other.example), each active, with password reset and unlock
//! automated, and an envelope-encrypted TEST-ONLY directory credential.

use aws_config::SdkConfig;
use chrono::Utc;
use zerodesk_crypto::{CredentialVault, SecretBytes};
use zerodesk_domain::{
    Category, ConnectionId, SystemTask, Tenant, TenantId, TenantPolicy, TenantScope, TenantStatus,
};
use zerodesk_store::{ConnectionMetadata, TenantRepo};

use crate::console::Console;
use crate::local::STAGE;
use zerodesk_localaws::Provisioned;

/// (tenant id, display name, directory domain) of each seeded tenant.
pub const DEMO_TENANTS: [(&str, &str, &str); 2] = [
    ("demo", "Demo Accounting LLP", "demo.example"),
    ("other", "Other Finance Ltd", "other.example"),
];

const CONNECTION_ID: &str = "google-main";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the template has no {0}")]
    Missing(&'static str),
    #[error("tenant {tenant}: {what}")]
    Tenant { tenant: &'static str, what: String },
}

pub async fn seed(
    config: &SdkConfig,
    provisioned: &Provisioned,
    fakes: &zerodesk_fakes::Fakes,
    console: &Console,
) -> Result<(), SeedError> {
    let table = provisioned
        .tables
        .get("TenantsTable")
        .ok_or(SeedError::Missing("TenantsTable"))?;
    let key = zerodesk_template::Resolve::attribute(&provisioned.values, "DataKey", "Arn")
        .ok_or(SeedError::Missing("DataKey"))?;
    let repo = TenantRepo::new(aws_sdk_dynamodb::Client::new(config), table.clone());
    let vault = CredentialVault::new(
        aws_sdk_kms::Client::new(config),
        aws_sdk_secretsmanager::Client::new(config),
        key,
        STAGE,
    );
    for (tenant, name, domain) in DEMO_TENANTS {
        let fail = |what: String| SeedError::Tenant { tenant, what };
        let id = TenantId::parse(tenant).map_err(|e| fail(e.to_string()))?;
        let scope = TenantScope::for_system_task(id.clone(), SystemTask::TenantLifecycle);
        let policy = TenantPolicy {
            auto_resolve: [Category::PasswordReset, Category::AccountUnlock]
                .into_iter()
                .collect(),
            ..TenantPolicy::default()
        };
        let record = Tenant {
            id,
            name: name.to_owned(),
            status: TenantStatus::Active,
            policy,
            created_at: Utc::now(),
        };
        repo.create(&scope, &record)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let connection = ConnectionId::parse(CONNECTION_ID).map_err(|e| fail(e.to_string()))?;
        let credentials = fakes
            .google
            .credentials_json(domain)
            .ok_or_else(|| fail(format!("the fake Google has no {domain}")))?;
        let sealed = SecretBytes::new(credentials.to_string().into_bytes());
        vault
            .store(&scope, &connection, &sealed)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let meta = ConnectionMetadata {
            connection_id: connection,
            provider: "google".to_owned(),
            directory: domain.to_owned(),
            connected_at: Utc::now(),
            connected_by: "devstack".to_owned(),
        };
        repo.put_connection(&scope, &meta)
            .await
            .map_err(|e| fail(e.to_string()))?;
        console.line(&format!("[seed] tenant {tenant}: {domain} on the fake Google directory, reset and unlock automated"));
    }
    Ok(())
}
