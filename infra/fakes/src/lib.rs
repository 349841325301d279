//! Fake Google Workspace, Microsoft Graph and Okta directories on 127.0.0.1,
//! for tests (started in-process) and for the local stack. They check what
//! the real APIs check, refuse any request the provider's published API
//! description does not allow (`descriptions/`), record every call, and
//! misbehave on request. Test material only: every credential in here is
//! public and protects nothing.

// Handlers return the provider's error response as the `Err` of a Result,
// as axum handlers do; boxing every response would only add noise.
#![allow(clippy::result_large_err)]

mod conformance;
mod google;
mod graph;
mod handle;
mod okta;
mod seed;
mod server;

pub use conformance::Violation;
pub use google::{ALLOWED_SCOPES as GOOGLE_ALLOWED_SCOPES, FakeGoogle};
pub use graph::{FakeGraph, GRAPH_DEFAULT_SCOPE};
pub use okta::{FakeOkta, GRANTABLE_SCOPES as OKTA_GRANTABLE_SCOPES, PushAnswer};
pub use seed::{
    FactorKind, FakeUser, GoogleOrg, GraphOrg, OktaOrg, PhoneKind, Seed, SeedFactor, SeedOrg,
    SeedPhone, SeedState, SeedUser, TEST_ONLY_PRIVATE_KEY_PEM, TEST_ONLY_PUBLIC_KEY_PEM, demo_seed,
};
pub use server::{Fault, NOT_IN_DESCRIPTION, RecordedCall, StartError};

/// All three fakes, as the local stack runs them.
pub struct Fakes {
    pub google: FakeGoogle,
    pub graph: FakeGraph,
    pub okta: FakeOkta,
}

/// Fixed ports for the local stack; 0 means any free port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FakePorts {
    pub google: u16,
    pub graph: u16,
    pub okta: u16,
}

impl Fakes {
    /// Starts the three fakes on 127.0.0.1, each seeded with `seed`.
    pub async fn start(seed: Seed, ports: FakePorts) -> Result<Self, StartError> {
        Ok(Self {
            google: FakeGoogle::start_on(seed.clone(), ports.google).await?,
            graph: FakeGraph::start_on(seed.clone(), ports.graph).await?,
            okta: FakeOkta::start_on(seed, ports.okta).await?,
        })
    }

    /// The directory endpoint variables the functions read, pointing at the
    /// fakes (Okta's URL travels in each connection's credentials instead).
    pub fn endpoint_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GOOGLE_TOKEN_URL", self.google.token_url()),
            ("GOOGLE_API_BASE_URL", self.google.api_base_url()),
            ("GRAPH_TOKEN_BASE_URL", self.graph.token_base_url()),
            ("GRAPH_API_BASE_URL", self.graph.api_base_url()),
            // The fakes listen on 127.0.0.1; nothing deployed sets this.
            ("DIRECTORY_ALLOW_LOOPBACK", "true".to_owned()),
        ]
    }
}
