//! The ports over DynamoDB: each call resolves the scope's tenant-scoped
//! client (`TenantDb`) and runs the repository of that table on it, so a
//! request for one tenant is signed with that tenant's credentials only.

use chrono::{DateTime, Utc};
use zerodesk_domain::{
    AccountRef, Category, OwnerVerification, Tenant, TenantScope, Ticket, TicketId, TicketState,
};

use crate::ports::{IdempotencyRecords, RateCounters, TenantStore, TicketStore, VerificationStore};
use crate::{
    Claim, ConnectionMetadata, IdempotencyConfig, IdempotencyError, IdempotencyKey,
    IdempotencyStore, Page, PageRequest, RateBucket, RateLimitError, RateLimiter, StoreError,
    TenantDb, TenantRepo, TicketRepo, VerificationRepo, VerificationRevision,
};

/// Declares an adapter: one table reached through tenant-scoped clients.
macro_rules! adapter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<D> {
            db: D,
            table: String,
        }

        impl<D: TenantDb> $name<D> {
            pub fn new(db: D, table: impl Into<String>) -> Self {
                Self {
                    db,
                    table: table.into(),
                }
            }

            async fn client(
                &self,
                scope: &TenantScope,
            ) -> Result<aws_sdk_dynamodb::Client, StoreError> {
                self.db.client(scope).await
            }
        }
    };
}

adapter!(
    /// The tickets table.
    DynamoTickets
);
adapter!(
    /// The tenants table: records and connection metadata.
    DynamoTenants
);
adapter!(
    /// The idempotency table.
    DynamoIdempotency
);
adapter!(
    /// Rate-limit counters, kept in the tenants table.
    DynamoRateLimits
);
adapter!(
    /// Owner verifications, kept in the tickets table.
    DynamoVerifications
);

impl<D: TenantDb> DynamoVerifications<D> {
    async fn verifications(&self, scope: &TenantScope) -> Result<VerificationRepo, StoreError> {
        Ok(VerificationRepo::new(
            self.client(scope).await?,
            &self.table,
        ))
    }
}

impl<D: TenantDb> VerificationStore for DynamoVerifications<D> {
    async fn create(&self, scope: &TenantScope, v: &OwnerVerification) -> Result<(), StoreError> {
        self.verifications(scope).await?.create(scope, v).await
    }

    async fn get(
        &self,
        scope: &TenantScope,
        ticket: &TicketId,
        category: Category,
    ) -> Result<Option<OwnerVerification>, StoreError> {
        self.verifications(scope)
            .await?
            .get(scope, ticket, category)
            .await
    }

    async fn replace(
        &self,
        scope: &TenantScope,
        v: &OwnerVerification,
        expected: VerificationRevision,
    ) -> Result<(), StoreError> {
        self.verifications(scope)
            .await?
            .replace(scope, v, expected)
            .await
    }
}

impl<D: TenantDb> DynamoTickets<D> {
    async fn tickets(&self, scope: &TenantScope) -> Result<TicketRepo, StoreError> {
        Ok(TicketRepo::new(self.client(scope).await?, &self.table))
    }
}

impl<D: TenantDb> DynamoTenants<D> {
    async fn tenants(&self, scope: &TenantScope) -> Result<TenantRepo, StoreError> {
        Ok(TenantRepo::new(self.client(scope).await?, &self.table))
    }
}

impl<D: TenantDb> DynamoIdempotency<D> {
    async fn idempotency(&self, scope: &TenantScope) -> Result<IdempotencyStore, StoreError> {
        Ok(IdempotencyStore::new(
            self.client(scope).await?,
            &self.table,
            IdempotencyConfig::default(),
        ))
    }
}

impl<D: TenantDb> DynamoRateLimits<D> {
    async fn limiter(&self, scope: &TenantScope) -> Result<RateLimiter, StoreError> {
        Ok(RateLimiter::new(self.client(scope).await?, &self.table))
    }
}

impl<D: TenantDb> TicketStore for DynamoTickets<D> {
    async fn create(&self, scope: &TenantScope, ticket: &Ticket) -> Result<(), StoreError> {
        self.tickets(scope).await?.create(scope, ticket).await
    }

    async fn create_counted(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        limits: &[(RateBucket, u32)],
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        self.tickets(scope)
            .await?
            .create_counted(scope, ticket, limits, now)
            .await
    }

    async fn get(&self, scope: &TenantScope, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        self.tickets(scope).await?.get(scope, id).await
    }

    async fn replace(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        expected: TicketState,
        retention_days: u32,
    ) -> Result<(), StoreError> {
        self.tickets(scope)
            .await?
            .replace(scope, ticket, expected, retention_days)
            .await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, StoreError> {
        self.tickets(scope).await?.list(scope, page).await
    }

    async fn list_for_requester(
        &self,
        scope: &TenantScope,
        requester: &AccountRef,
        page: &PageRequest,
    ) -> Result<Page<Ticket>, StoreError> {
        self.tickets(scope)
            .await?
            .list_for_requester(scope, requester, page)
            .await
    }

    async fn delete(&self, scope: &TenantScope, id: &TicketId) -> Result<(), StoreError> {
        self.tickets(scope).await?.delete(scope, id).await
    }
}

impl<D: TenantDb> TenantStore for DynamoTenants<D> {
    async fn create(&self, scope: &TenantScope, tenant: &Tenant) -> Result<(), StoreError> {
        self.tenants(scope).await?.create(scope, tenant).await
    }

    async fn get(&self, scope: &TenantScope) -> Result<Option<Tenant>, StoreError> {
        self.tenants(scope).await?.get(scope).await
    }

    async fn replace(
        &self,
        scope: &TenantScope,
        tenant: &Tenant,
        expected_status: &str,
    ) -> Result<(), StoreError> {
        self.tenants(scope)
            .await?
            .replace(scope, tenant, expected_status)
            .await
    }

    async fn put_connection(
        &self,
        scope: &TenantScope,
        meta: &ConnectionMetadata,
    ) -> Result<(), StoreError> {
        self.tenants(scope).await?.put_connection(scope, meta).await
    }

    async fn get_connection(
        &self,
        scope: &TenantScope,
    ) -> Result<Option<ConnectionMetadata>, StoreError> {
        self.tenants(scope).await?.get_connection(scope).await
    }

    async fn delete_connection(&self, scope: &TenantScope) -> Result<(), StoreError> {
        self.tenants(scope).await?.delete_connection(scope).await
    }
}

impl<D: TenantDb> IdempotencyRecords for DynamoIdempotency<D> {
    async fn begin(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Claim, IdempotencyError> {
        self.idempotency(scope)
            .await?
            .begin(scope, key, payload, now)
            .await
    }

    async fn complete(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
        response: &str,
    ) -> Result<(), IdempotencyError> {
        self.idempotency(scope)
            .await?
            .complete(scope, key, payload, response)
            .await
    }

    async fn release(
        &self,
        scope: &TenantScope,
        key: &IdempotencyKey,
        payload: &[u8],
    ) -> Result<(), IdempotencyError> {
        self.idempotency(scope)
            .await?
            .release(scope, key, payload)
            .await
    }
}

impl<D: TenantDb> RateCounters for DynamoRateLimits<D> {
    async fn consume(
        &self,
        scope: &TenantScope,
        bucket: &RateBucket,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<(), RateLimitError> {
        self.limiter(scope)
            .await?
            .consume(scope, bucket, limit, now)
            .await
    }
}
