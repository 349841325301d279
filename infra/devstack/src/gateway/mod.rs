//! API Gateway (HTTP API) emulation: the JWT authorizer, route matching,
//! the payload format 2.0 event and the response mapping, served on loopback.

pub mod authorizer;
pub mod build;
pub mod event;
pub mod response;
pub mod routes;
pub mod server;

pub use build::{BuildError, GatewaySetup, build};
pub use server::{Gateway, router, serve};
