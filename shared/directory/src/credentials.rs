//! What a directory connection is made of: the tenant's credentials (the
//! JSON another crate envelope-encrypts and stores) and the operator's
//! endpoint configuration. Secrets stay in `Secret`; nothing here does I/O.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::{Host, Url};
use zerodesk_domain::AccountRef;

use crate::error::DirectoryError;
use crate::model::Provider;
use crate::secret::Secret;

/// A tenant's directory credentials, tagged by `provider`:
///
/// ```json
/// {"provider": "google_workspace", "client_email": "...", "private_key": "-----BEGIN PRIVATE KEY-----...", "admin_subject": "admin@example.com"}
/// {"provider": "microsoft_graph", "directory_tenant": "<guid or domain>", "client_id": "...", "client_secret": "..."}
/// {"provider": "okta_api_token", "org_url": "https://acme.okta.com", "api_token": "..."}
/// {"provider": "okta_service_app", "org_url": "https://acme.okta.com", "client_id": "...", "private_key": "-----BEGIN PRIVATE KEY-----...", "key_id": "optional"}
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum DirectoryCredentials {
    GoogleWorkspace(GoogleServiceAccount),
    MicrosoftGraph(GraphClientSecret),
    OktaApiToken(OktaApiToken),
    OktaServiceApp(OktaServiceApp),
}

/// A service account with domain-wide delegation for the two Directory API
/// user scopes, impersonating `admin_subject`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleServiceAccount {
    pub client_email: String,
    /// PEM, PKCS#8 (`BEGIN PRIVATE KEY`, as Google issues it) or PKCS#1.
    pub private_key: Secret,
    /// Sent as the JWT `kid` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_id: Option<String>,
    /// The Workspace administrator the service account acts as.
    pub admin_subject: AccountRef,
}

/// An Entra app registration using the client-credentials grant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphClientSecret {
    /// The Entra tenant id (GUID) or a verified domain of it.
    pub directory_tenant: String,
    pub client_id: String,
    pub client_secret: Secret,
}

/// An Okta org reached with an SSWS API token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaApiToken {
    pub org_url: String,
    pub api_token: Secret,
}

/// An Okta API service app: client credentials with `private_key_jwt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaServiceApp {
    pub org_url: String,
    pub client_id: String,
    pub private_key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl DirectoryCredentials {
    pub fn provider(&self) -> Provider {
        match self {
            DirectoryCredentials::GoogleWorkspace(_) => Provider::GoogleWorkspace,
            DirectoryCredentials::MicrosoftGraph(_) => Provider::MicrosoftGraph,
            DirectoryCredentials::OktaApiToken(_) | DirectoryCredentials::OktaServiceApp(_) => {
                Provider::Okta
            }
        }
    }

    /// Checks everything that can be checked without calling the provider:
    /// key PEMs parse, ids are well-formed, the Okta org URL is acceptable.
    pub fn validate(&self) -> Result<(), DirectoryError> {
        match self {
            DirectoryCredentials::GoogleWorkspace(sa) => {
                if sa.client_email.is_empty() || !sa.client_email.contains('@') {
                    return Err(DirectoryError::config(
                        "client_email must be the service account's email",
                    ));
                }
                rsa_signing_key(&sa.private_key).map(|_| ())
            }
            DirectoryCredentials::MicrosoftGraph(g) => {
                validate_directory_tenant(&g.directory_tenant)?;
                if g.client_id.is_empty() || g.client_secret.is_empty() {
                    return Err(DirectoryError::config(
                        "client_id and client_secret are required",
                    ));
                }
                Ok(())
            }
            DirectoryCredentials::OktaApiToken(o) => {
                okta_org_url(&o.org_url, Egress::AllowLoopback)?;
                if o.api_token.is_empty() {
                    return Err(DirectoryError::config("api_token is required"));
                }
                Ok(())
            }
            DirectoryCredentials::OktaServiceApp(o) => {
                okta_org_url(&o.org_url, Egress::AllowLoopback)?;
                if o.client_id.is_empty() {
                    return Err(DirectoryError::config("client_id is required"));
                }
                rsa_signing_key(&o.private_key).map(|_| ())
            }
        }
    }
}

pub(crate) fn rsa_signing_key(pem: &Secret) -> Result<jsonwebtoken::EncodingKey, DirectoryError> {
    jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose().as_bytes()).map_err(|e| {
        DirectoryError::config_because("private_key is not an RSA private key in PEM", e)
    })
}

/// The directory tenant goes into the token URL's path, so it may only be a
/// GUID or a domain name.
pub(crate) fn validate_directory_tenant(raw: &str) -> Result<(), DirectoryError> {
    let ok = (1..=253).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !raw.starts_with('.')
        && !raw.contains("..");
    if ok {
        Ok(())
    } else {
        Err(DirectoryError::config(
            "directory_tenant must be a GUID or a domain name",
        ))
    }
}

/// An Okta org URL: `https://<domain name>` (never an IP literal) with
/// nothing after the host, or, only where the operator allows loopback
/// egress (the local stack and tests), `http://127.0.0.1:<port>`. Tenants
/// choose this value, so it must not be able to aim our requests at an
/// internal address; the name is also resolved only to public addresses
/// when called (`Egress`).
pub(crate) fn okta_org_url(raw: &str, egress: Egress) -> Result<Url, DirectoryError> {
    let url =
        Url::parse(raw).map_err(|e| DirectoryError::config_because("org_url is not a URL", e))?;
    let plain = url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && matches!(url.path(), "" | "/");
    let host_ok = match (url.scheme(), url.host()) {
        ("https", Some(Host::Domain(d))) => d.contains('.') && !d.eq_ignore_ascii_case("localhost"),
        ("http", Some(Host::Ipv4(ip))) => egress == Egress::AllowLoopback && ip.is_loopback(),
        _ => false,
    };
    if plain && host_ok {
        Ok(url)
    } else {
        Err(DirectoryError::config(
            "org_url must be https://<your org's domain> with no path",
        ))
    }
}

/// Where the Google and Microsoft endpoints are (Okta's is per connection),
/// and how long any one call may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEndpoints {
    pub google_token_url: Url,
    pub google_api_base: Url,
    pub graph_token_base: Url,
    pub graph_api_base: Url,
    pub timeout: Duration,
    pub egress: Egress,
}

/// Where the connectors may send requests. Deployed, only to public
/// addresses: a name that resolves to a loopback, private, link-local or
/// otherwise internal address is refused at connect time, so a tenant's
/// org URL cannot reach the Lambda Runtime API or anything else inside.
/// The local stack and tests, whose fakes listen on 127.0.0.1, set
/// `DIRECTORY_ALLOW_LOOPBACK=true`; nothing deployed does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Egress {
    PublicOnly,
    AllowLoopback,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("{name} is not an http(s) URL")]
pub struct EndpointsError {
    pub name: &'static str,
    #[source]
    source: Option<url::ParseError>,
}

impl DirectoryEndpoints {
    /// Reads `GOOGLE_TOKEN_URL`, `GOOGLE_API_BASE_URL`, `GRAPH_TOKEN_BASE_URL`
    /// and `GRAPH_API_BASE_URL`; an unset variable means the provider's real
    /// endpoint, a set but invalid one is an error.
    pub fn from_env() -> Result<Self, EndpointsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EndpointsError> {
        let get = |name: &'static str, default: &str| -> Result<Url, EndpointsError> {
            let raw = lookup(name).unwrap_or_else(|| default.to_owned());
            let url = Url::parse(&raw).map_err(|e| EndpointsError {
                name,
                source: Some(e),
            })?;
            if matches!(url.scheme(), "http" | "https") && !url.cannot_be_a_base() {
                Ok(url)
            } else {
                Err(EndpointsError { name, source: None })
            }
        };
        Ok(Self {
            google_token_url: get("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")?,
            google_api_base: get("GOOGLE_API_BASE_URL", "https://admin.googleapis.com")?,
            graph_token_base: get("GRAPH_TOKEN_BASE_URL", "https://login.microsoftonline.com")?,
            graph_api_base: get("GRAPH_API_BASE_URL", "https://graph.microsoft.com")?,
            timeout: DEFAULT_TIMEOUT,
            egress: if lookup("DIRECTORY_ALLOW_LOOPBACK").as_deref() == Some("true") {
                Egress::AllowLoopback
            } else {
                Egress::PublicOnly
            },
        })
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}
