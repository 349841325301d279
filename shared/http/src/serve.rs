//! The request plumbing every API function shares: the correlation id, the
//! request span, authentication, running the route, and turning any failure
//! into the JSON error response. Routes only translate; they never log the
//! use case's error into a response.

use std::future::Future;
use std::sync::Arc;

use lambda_http::{Body, Error, Request, Response, service_fn};
use tracing::Instrument;
use zerodesk_domain::ClaimNames;

use crate::error::{ApiError, error_response};
use crate::request::{CallContext, authenticate, correlation_id};

/// Why a request failed: at the edge (authentication, path, body) or in the
/// use case it called. `?` on an `ApiError` makes the first.
#[derive(Debug)]
pub enum Failure<E> {
    Edge(ApiError),
    UseCase(E),
}

impl<E> From<ApiError> for Failure<E> {
    fn from(e: ApiError) -> Self {
        Failure::Edge(e)
    }
}

impl<E: Into<ApiError> + std::fmt::Display> Failure<E> {
    /// The API error, logged once: server errors at error level with the
    /// use case's error chain, refusals at warn.
    fn into_api(self) -> ApiError {
        match self {
            Failure::Edge(api) => {
                if api.status().is_server_error() {
                    tracing::error!(code = api.code(), "request failed");
                }
                api
            }
            Failure::UseCase(e) => {
                let message = e.to_string();
                let api: ApiError = e.into();
                if api.status().is_server_error() {
                    tracing::error!(error = %message, code = api.code(), "request failed");
                } else {
                    tracing::warn!(error = %message, code = api.code(), "request refused");
                }
                api
            }
        }
    }
}

/// Runs one API request of `function`: span, authentication, `route`, and
/// the error response. `route` gets the authenticated caller.
pub async fn serve<E, F, Fut>(
    function: &'static str,
    req: &Request,
    claim_names: &ClaimNames,
    route: F,
) -> Response<Body>
where
    E: Into<ApiError> + std::fmt::Display,
    F: FnOnce(CallContext) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Failure<E>>>,
{
    let corr = correlation_id(req);
    let span = zerodesk_telemetry::request_span!(function, corr);
    async {
        let result = match authenticate(req, claim_names) {
            Ok(call) => route(call).await,
            Err(e) => Err(Failure::Edge(e)),
        };
        match result {
            Ok(response) => response,
            Err(failure) => error_response(&failure.into_api(), &corr),
        }
    }
    .instrument(span)
    .await
}

/// The Lambda loop of an API function: `handle` serves each request with
/// the app built once in `main` and shared by warm invocations.
pub async fn run_api<A, H, Fut>(app: A, handle: H) -> Result<(), Error>
where
    A: Send + Sync + 'static,
    H: Fn(Arc<A>, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let app = Arc::new(app);
    lambda_http::run(service_fn(move |req| {
        let response = handle(Arc::clone(&app), req);
        async move { Ok::<_, Error>(response.await) }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use lambda_http::http::StatusCode;
    use serde_json::Value;

    use super::*;
    use crate::error::json_response;

    const EVENT: &str = include_str!("../../../events/api-post-ticket.json");

    #[derive(Debug, thiserror::Error)]
    #[error("the use case refused")]
    struct Refused;

    impl From<Refused> for ApiError {
        fn from(_: Refused) -> Self {
            ApiError::Conflict
        }
    }

    fn body(r: &Response<Body>) -> Value {
        match r.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => Value::Null,
        }
    }

    #[tokio::test]
    async fn a_use_case_error_becomes_its_stable_code_and_the_route_sees_the_caller() {
        let req = lambda_http::request::from_str(EVENT).unwrap();
        let refused = serve("test", &req, &ClaimNames::default(), |call| async move {
            assert_eq!(call.principal.tenant().unwrap().as_str(), "demo");
            Err::<Response<Body>, _>(Failure::UseCase(Refused))
        })
        .await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert_eq!(body(&refused)["error"]["code"], "conflict");
        assert!(!body(&refused).to_string().contains("the use case refused"));
        let ok = serve("test", &req, &ClaimNames::default(), |call| async move {
            Ok::<_, Failure<Refused>>(json_response(
                StatusCode::OK,
                &serde_json::json!({}),
                &call.correlation_id,
            ))
        })
        .await;
        assert_eq!(ok.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_request_without_authorizer_never_reaches_the_route() {
        let mut v: Value = serde_json::from_str(EVENT).unwrap();
        v["requestContext"]
            .as_object_mut()
            .unwrap()
            .remove("authorizer");
        let req = lambda_http::request::from_str(&v.to_string()).unwrap();
        let ran = std::cell::Cell::new(false);
        let r = serve("test", &req, &ClaimNames::default(), |_| async {
            ran.set(true);
            Err::<Response<Body>, Failure<Refused>>(Failure::UseCase(Refused))
        })
        .await;
        assert!(!ran.get(), "the route ran for an unauthenticated request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(body(&r)["error"]["code"], "unauthorized");
    }
}
