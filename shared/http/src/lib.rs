//! The HTTP edge every API function shares: the principal from the verified
//! JWT claims in the API Gateway request context, JSON bodies within limits,
//! and one mapping from error to status and stable code. It never trusts a
//! tenant id from a path, query or body, and never puts internals in a response.

// The deployed adapters' nested futures (run_action_function) are deeper
// than the default limit.
#![recursion_limit = "256"]

mod admin_errors;
mod apigw;
mod directory_action;
mod error;
mod request;
mod serve;
mod workflow_errors;

pub use apigw::{is_http_event, request_from_event, response_to_event};
pub use directory_action::{ActionFunction, EventError, run_action_function};
pub use error::{ApiError, error_response, json_response};
pub use request::{
    CallContext, MAX_BODY_BYTES, authenticate, correlation_id, json_body, path_param, query_param,
    route_key, ticket_id_param,
};
pub use serve::{Failure, run_api, serve};
