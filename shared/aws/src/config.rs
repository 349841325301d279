//! SDK configuration and the one environment variable this crate reads.
//! Loading never prints the configuration and never falls back to a default
//! role when the variable is missing.

use aws_config::{BehaviorVersion, SdkConfig};

/// The role functions assume, per tenant, to reach tenant data.
pub const TENANT_ACCESS_ROLE_ARN_ENV: &str = "TENANT_ACCESS_ROLE_ARN";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is missing or empty")]
    Missing(&'static str),
    #[error("environment variable {0} is not an IAM role ARN")]
    NotARoleArn(&'static str),
}

/// The SDK configuration of the environment: region, the function's own
/// credentials, and `AWS_ENDPOINT_URL` (the local emulator) when set.
/// Loading resolves nothing over the network; credentials load on first use.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// `TENANT_ACCESS_ROLE_ARN`, required: without it no tenant data is reachable.
pub fn tenant_access_role_arn_from_env() -> Result<String, ConfigError> {
    let raw = std::env::var(TENANT_ACCESS_ROLE_ARN_ENV).unwrap_or_default();
    parse_role_arn(raw.trim())
}

fn parse_role_arn(raw: &str) -> Result<String, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::Missing(TENANT_ACCESS_ROLE_ARN_ENV));
    }
    // arn:<partition>:iam::<account>:role/<name>
    let parts: Vec<&str> = raw.splitn(6, ':').collect();
    let ok = matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if !partition.is_empty()
            && !account.is_empty()
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty()));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ConfigError::NotARoleArn(TENANT_ACCESS_ROLE_ARN_ENV))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_arn_is_accepted_and_anything_else_refused() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/zerodesk-prod-tenant-access").unwrap(),
            "arn:aws:iam::123456789012:role/zerodesk-prod-tenant-access"
        );
        assert!(matches!(parse_role_arn(""), Err(ConfigError::Missing(_))));
        for bad in [
            "zerodesk-tenant-access",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::acct:role/x",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:s3:::bucket",
        ] {
            assert!(
                matches!(parse_role_arn(bad), Err(ConfigError::NotARoleArn(_))),
                "{bad}"
            );
        }
    }
}
