//! The HTTP plumbing the three connectors share: one client with a timeout
//! and no redirects, status classification, bounded body reads, OAuth token
//! responses and an in-memory access-token cache. It never logs a body or a
//! header, and never puts response text into an error.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

use crate::credentials::Egress;
use crate::error::DirectoryError;
use crate::model::Provider;
use crate::secret::Secret;

/// Larger answers are refused: no user, group page or token is near this.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Refresh a cached token this long before the provider says it expires.
const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

pub(crate) struct Transport {
    client: reqwest::Client,
    pub(crate) provider: Provider,
}

impl Transport {
    pub(crate) fn new(
        provider: Provider,
        timeout: Duration,
        egress: Egress,
    ) -> Result<Self, DirectoryError> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect would carry our bearer token somewhere we did not choose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zerodesk-directory/", env!("CARGO_PKG_VERSION")));
        if egress == Egress::PublicOnly {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicAddressesOnly));
        }
        let client = builder
            .build()
            .map_err(|e| DirectoryError::config_because("HTTP client could not be built", e))?;
        Ok(Self { client, provider })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends an API request; a non-2xx status becomes the matching error.
    /// A throttled answer carries when to try again: Graph's `Retry-After`
    /// (seconds), Okta's `X-Rate-Limit-Reset` (epoch seconds). Google says
    /// "quota" with a 403 whose reason names it.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, DirectoryError> {
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers(), std::time::SystemTime::now());
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(DirectoryError::RateLimited {
                provider: self.provider,
                retry_after,
            });
        }
        if status == StatusCode::FORBIDDEN && self.provider == Provider::GoogleWorkspace {
            let body = self.read_body(response).await.unwrap_or_default();
            if google_quota_refusal(&body) {
                return Err(DirectoryError::RateLimited {
                    provider: self.provider,
                    retry_after,
                });
            }
        }
        Err(self.status_error(status))
    }

    /// Posts a token request and returns the access token and its lifetime.
    /// Any refusal by the token endpoint is `Auth`, with the RFC 6749 error
    /// code when the answer has one.
    pub(crate) async fn fetch_token(
        &self,
        request: RequestBuilder,
    ) -> Result<(Secret, Duration), DirectoryError> {
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let body = self.read_body(response).await?;
        if status.is_success() {
            let token: TokenResponse =
                serde_json::from_slice(&body).map_err(|_| self.malformed("token response"))?;
            if !token.token_type.eq_ignore_ascii_case("bearer") || token.access_token.is_empty() {
                return Err(self.malformed("token response"));
            }
            let lifetime = Duration::from_secs(token.expires_in.unwrap_or(300));
            return Ok((token.access_token, lifetime));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(DirectoryError::RateLimited {
                provider: self.provider,
                retry_after: None,
            });
        }
        if status.is_server_error() {
            return Err(DirectoryError::Unavailable {
                provider: self.provider,
                status: Some(status.as_u16()),
                source: None,
            });
        }
        let reason = serde_json::from_slice::<OAuthError>(&body)
            .map(|e| oauth_error_code(&e.error))
            .unwrap_or("token_refused");
        Err(DirectoryError::Auth {
            provider: self.provider,
            reason,
        })
    }

    pub(crate) async fn read_body(
        &self,
        mut response: Response,
    ) -> Result<Zeroizing<Vec<u8>>, DirectoryError> {
        let mut body = Zeroizing::new(Vec::new());
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(self.malformed("oversized response"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    pub(crate) fn status_error(&self, status: StatusCode) -> DirectoryError {
        let provider = self.provider;
        match status {
            StatusCode::UNAUTHORIZED => DirectoryError::Auth {
                provider,
                reason: "token_rejected",
            },
            StatusCode::NOT_FOUND => DirectoryError::NotFound { provider },
            StatusCode::TOO_MANY_REQUESTS => DirectoryError::RateLimited {
                provider,
                retry_after: None,
            },
            s if s.is_server_error() => DirectoryError::Unavailable {
                provider,
                status: Some(s.as_u16()),
                source: None,
            },
            s => DirectoryError::Provider {
                provider,
                status: s.as_u16(),
            },
        }
    }

    pub(crate) fn malformed(&self, what: &'static str) -> DirectoryError {
        DirectoryError::Malformed {
            provider: self.provider,
            what,
        }
    }

    /// A request that got no answer. The URL names the account, so it is
    /// dropped from the error chain.
    pub(crate) fn transport_error(&self, e: reqwest::Error) -> DirectoryError {
        if e.is_timeout() {
            DirectoryError::Timeout {
                provider: self.provider,
            }
        } else if e.is_decode() {
            self.malformed("response body")
        } else {
            // The URL names the account; keep it out of the error chain.
            DirectoryError::Unavailable {
                provider: self.provider,
                status: None,
                source: Some(e.without_url()),
            }
        }
    }
}

/// When a throttled request may be tried again: `Retry-After` in seconds
/// (Graph), else `X-Rate-Limit-Reset` as epoch seconds (Okta). At most an
/// hour, so a wrong header cannot park a ticket for ever.
pub(crate) fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: std::time::SystemTime,
) -> Option<Duration> {
    const LONGEST: Duration = Duration::from_secs(3600);
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let wait = if let Some(seconds) = number("retry-after") {
        Duration::from_secs(seconds)
    } else {
        let reset = std::time::UNIX_EPOCH + Duration::from_secs(number("x-rate-limit-reset")?);
        reset.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(LONGEST))
}

/// Google's 403 reasons that mean "over quota, try later", not "refused".
const GOOGLE_QUOTA_REASONS: &[&str] = &[
    "userRateLimitExceeded",
    "rateLimitExceeded",
    "quotaExceeded",
];

#[derive(Deserialize)]
struct GoogleErrorBody {
    error: GoogleError,
}

#[derive(Deserialize)]
struct GoogleError {
    #[serde(default)]
    errors: Vec<GoogleErrorItem>,
}

#[derive(Deserialize)]
struct GoogleErrorItem {
    #[serde(default)]
    reason: String,
}

fn google_quota_refusal(body: &[u8]) -> bool {
    serde_json::from_slice::<GoogleErrorBody>(body).is_ok_and(|b| {
        b.error
            .errors
            .iter()
            .any(|e| GOOGLE_QUOTA_REASONS.contains(&e.reason.as_str()))
    })
}

/// An OAuth token endpoint's answer.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: Secret,
    pub(crate) token_type: String,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

/// An OAuth token endpoint's refusal; only the code is ever read.
#[derive(Deserialize)]
pub(crate) struct OAuthError {
    pub(crate) error: String,
}

/// Maps an OAuth error code to a static string, so no provider-chosen text
/// can reach an error message.
fn oauth_error_code(code: &str) -> &'static str {
    match code {
        "invalid_request" => "invalid_request",
        "invalid_client" => "invalid_client",
        "invalid_grant" => "invalid_grant",
        "unauthorized_client" => "unauthorized_client",
        "unsupported_grant_type" => "unsupported_grant_type",
        "invalid_scope" => "invalid_scope",
        "access_denied" => "access_denied",
        "invalid_dpop_proof" | "use_dpop_nonce" => "dpop_required",
        _ => "token_refused",
    }
}

/// A POST with no body that still says `Content-Length: 0`: hyper omits the
/// header for an empty body, and Google answers such a POST with 411.
pub(crate) fn empty_body(request: RequestBuilder) -> RequestBuilder {
    request
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .body(Vec::new())
}

/// `base` with `segments` appended, each percent-encoded as one segment.
/// Everything but RFC 3986 unreserved characters and `@` is escaped; `+` in
/// particular, which Google reads as a space in a path and Okta wants
/// encoded in a login.
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Result<Url, DirectoryError> {
    if base.cannot_be_a_base() {
        return Err(DirectoryError::config(
            "endpoint base URL cannot take a path",
        ));
    }
    let mut path = base.path().trim_end_matches('/').to_owned();
    for segment in segments {
        path.push('/');
        path.push_str(&encode_segment(segment));
    }
    let mut url = base.clone();
    url.set_path(&path);
    Ok(url)
}

fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A pagination link is followed only if it stays on the API's origin, so a
/// forged link cannot carry our bearer token elsewhere.
pub(crate) fn same_origin(api_base: &Url, next: &Url) -> bool {
    api_base.origin() == next.origin()
}

/// Resolves a host name only to public addresses: every loopback, private,
/// link-local, shared, documentation, multicast or unspecified address is
/// dropped, and a name left with none is an error. Requests to an IP
/// literal do not resolve; tenant-supplied URLs never hold one.
struct PublicAddressesOnly;

impl reqwest::dns::Resolve for PublicAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> =
                resolved.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err("the name resolves to no public address".into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                // 100.64.0.0/10, carrier-grade NAT
                || (a == 100 && (64..128).contains(&b))
                // 198.18.0.0/15, benchmarking
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// An OAuth access token, kept in memory for the life of one connector.
pub(crate) struct TokenCache {
    slot: tokio::sync::Mutex<Option<CachedToken>>,
}

struct CachedToken {
    token: Secret,
    refresh_at: Instant,
}

impl TokenCache {
    pub(crate) fn new() -> Self {
        Self {
            slot: tokio::sync::Mutex::new(None),
        }
    }

    pub(crate) async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<Secret, DirectoryError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Duration), DirectoryError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let (token, lifetime) = fetch().await?;
        let refresh_at = Instant::now() + lifetime.saturating_sub(TOKEN_EXPIRY_MARGIN);
        *slot = Some(CachedToken {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Forgets the token after the API refused it.
    pub(crate) async fn clear(&self) {
        *self.slot.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_encodes_each_segment() {
        let base = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        let url = endpoint(&base, &["users", "a b/c@x.example"]).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/prefix/users/a%20b%2Fc@x.example"
        );
        let plus = endpoint(&base, &["users", "bob+it@x.example"]).unwrap();
        assert_eq!(
            plus.as_str(),
            "http://127.0.0.1:9/prefix/users/bob%2Bit@x.example"
        );
        let bare = Url::parse("https://graph.microsoft.com").unwrap();
        assert_eq!(
            endpoint(&bare, &["v1.0", "users"]).unwrap().as_str(),
            "https://graph.microsoft.com/v1.0/users"
        );
    }

    #[test]
    fn pagination_links_must_stay_on_the_api_origin() {
        let base = Url::parse("https://graph.microsoft.com").unwrap();
        assert!(same_origin(
            &base,
            &Url::parse("https://graph.microsoft.com/v1.0/x?$skiptoken=1").unwrap()
        ));
        assert!(!same_origin(
            &base,
            &Url::parse("https://evil.example/v1.0/x").unwrap()
        ));
        assert!(!same_origin(
            &base,
            &Url::parse("http://graph.microsoft.com/v1.0/x").unwrap()
        ));
    }

    #[test]
    fn only_public_addresses_are_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in ["8.8.8.8", "20.190.160.1", "2001:4860:4860::8888"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_not_connected_to() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/");
        let get = |egress| {
            let url = url.clone();
            async move {
                let t = Transport::new(Provider::Okta, Duration::from_secs(2), egress).unwrap();
                t.send(t.client().get(url.as_str())).await
            }
        };
        let refused = get(Egress::PublicOnly).await.unwrap_err();
        assert!(
            matches!(refused, DirectoryError::Unavailable { status: None, .. }),
            "{refused}"
        );
        get(Egress::AllowLoopback)
            .await
            .expect("the same name is reached where loopback is allowed");
    }

    #[test]
    fn retry_after_reads_graph_seconds_and_okta_reset_times() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut graph = HeaderMap::new();
        graph.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&graph, now), Some(Duration::from_secs(7)));
        let mut okta = HeaderMap::new();
        okta.insert("x-rate-limit-reset", HeaderValue::from_static("1000042"));
        assert_eq!(retry_after(&okta, now), Some(Duration::from_secs(42)));
        let mut silly = HeaderMap::new();
        silly.insert("retry-after", HeaderValue::from_static("999999999"));
        assert_eq!(retry_after(&silly, now), Some(Duration::from_secs(3600)));
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn google_quota_403s_are_told_from_refusals() {
        let quota = br#"{"error":{"code":403,"errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded"}]}}"#;
        let refused =
            br#"{"error":{"code":403,"errors":[{"domain":"global","reason":"forbidden"}]}}"#;
        assert!(google_quota_refusal(quota));
        assert!(!google_quota_refusal(refused));
        assert!(!google_quota_refusal(b"<html>"));
    }

    #[test]
    fn unknown_oauth_error_codes_are_not_echoed() {
        assert_eq!(oauth_error_code("invalid_scope"), "invalid_scope");
        assert_eq!(
            oauth_error_code("<script>steal()</script>"),
            "token_refused"
        );
    }
}
