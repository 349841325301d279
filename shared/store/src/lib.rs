//! DynamoDB repositories for tenants, tickets, idempotency records and rate
//! limits. Every tenant-data call takes a `TenantScope` and builds its keys
//! from it; nothing here reads tenant data without one, and nothing Scans.

pub mod schema;
