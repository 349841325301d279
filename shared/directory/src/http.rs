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
    pub(crate) fn new(provider: Provider, timeout: Duration) -> Result<Self, DirectoryError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect would carry our bearer token somewhere we did not choose.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("zerodesk-directory/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DirectoryError::config_because("HTTP client could not be built", e))?;
        Ok(Self { client, provider })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends an API request; a non-2xx status becomes the matching error.
    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, DirectoryError> {
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
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
            StatusCode::TOO_MANY_REQUESTS => DirectoryError::RateLimited { provider },
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

    fn transport_error(&self, e: reqwest::Error) -> DirectoryError {
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

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Secret,
    token_type: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct OAuthError {
    error: String,
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
pub(crate) fn endpoint(base: &Url, segments: &[&str]) -> Result<Url, DirectoryError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| DirectoryError::config("endpoint base URL cannot take a path"))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// A pagination link is followed only if it stays on the API's origin, so a
/// forged link cannot carry our bearer token elsewhere.
pub(crate) fn same_origin(api_base: &Url, next: &Url) -> bool {
    api_base.origin() == next.origin()
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
    fn unknown_oauth_error_codes_are_not_echoed() {
        assert_eq!(oauth_error_code("invalid_scope"), "invalid_scope");
        assert_eq!(
            oauth_error_code("<script>steal()</script>"),
            "token_refused"
        );
    }
}
