//! The zerodesk domain: identifiers, roles and principals, permissions, tickets
//! and their state machine, classification results and tenant policy.
//! Pure data and rules: no AWS types, no I/O, nothing that can leak a secret.

pub mod classification;
pub mod clock;
pub mod ids;
pub mod permissions;
pub mod policy;
pub mod principal;
pub mod role;
pub mod scope;
pub mod tenant;
pub mod ticket;
pub mod verification;

pub use classification::{Category, Classification, Decision, RiskFlag};
pub use clock::{Clock, SystemClock};
pub use ids::{AccountRef, ConnectionId, CorrelationId, IdError, TenantId, TicketId};
pub use permissions::{Action, is_allowed};
pub use policy::{
    OwnerVerificationPolicy, PolicyError, ProtectedIds, RateLimits, RetentionPolicy, TenantPolicy,
    VerificationMethod,
};
pub use principal::{ClaimNames, ClaimsError, Principal, PrincipalScope};
pub use role::Role;
pub use scope::{ScopeOrigin, SystemTask, TenantScope};
pub use tenant::{Tenant, TenantStatus};
pub use ticket::{IllegalTransition, Ticket, TicketState};
pub use verification::{
    MAX_WRONG_ATTEMPTS, NOT_ME_LINK_DAYS, NotMeLink, OwnerVerification, PushInFlight,
    VerificationState, VerifiedGrant, mask_email, mask_phone,
};
