//! Owner verifications, in the tickets table: `pk = TENANT#<id>`,
//! `sk = VERIFY#<ticket ulid>#<category>`, one per (ticket, action). Writes
//! are conditional: create never clobbers, and a replace names the state and
//! wrong-answer count it read, so two answers racing cannot both count or
//! both confirm. Items expire a week after the verification closes.

use aws_sdk_dynamodb::Client;
use chrono::Duration;
use zerodesk_domain::{Category, OwnerVerification, TenantScope, TicketId, VerificationState};

use crate::error::{StoreError, from_sdk};
use crate::item::{DOC, Item, PK, SK, doc, expiry, n, s, to_doc};

const STATE: &str = "state";
const ATTEMPTS: &str = "attempts";

/// Days a closed verification is kept after it expires.
pub const VERIFICATION_KEPT_DAYS: i64 = 7;

/// What a replace expects to find stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationRevision {
    pub state: VerificationState,
    pub wrong_attempts: u32,
}

impl VerificationRevision {
    pub fn of(v: &OwnerVerification) -> Self {
        Self {
            state: v.state,
            wrong_attempts: v.wrong_attempts,
        }
    }
}

pub(crate) fn sort_key(ticket: &TicketId, category: Category) -> String {
    format!("VERIFY#{ticket}#{}", category.as_str())
}

#[derive(Debug, Clone)]
pub struct VerificationRepo {
    client: Client,
    table: String,
}

impl VerificationRepo {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn item(scope: &TenantScope, v: &OwnerVerification) -> Result<Item, StoreError> {
        if v.tenant_id != *scope.tenant() {
            return Err(StoreError::Conflict);
        }
        let mut item = Item::from([
            (PK.to_owned(), s(scope.partition_key())),
            (SK.to_owned(), s(sort_key(&v.ticket_id, v.category))),
            (STATE.to_owned(), s(v.state.as_str())),
            (ATTEMPTS.to_owned(), n(v.wrong_attempts)),
            (DOC.to_owned(), to_doc(v)?),
        ]);
        let kept_until = v.expires_at + Duration::days(VERIFICATION_KEPT_DAYS);
        item.extend(expiry(kept_until).map(|(k, v)| (k.to_owned(), v)));
        Ok(item)
    }

    pub async fn create(
        &self,
        scope: &TenantScope,
        v: &OwnerVerification,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(scope, v)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::AlreadyExists))?;
        Ok(())
    }

    pub async fn get(
        &self,
        scope: &TenantScope,
        ticket: &TicketId,
        category: Category,
    ) -> Result<Option<OwnerVerification>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(scope.partition_key()))
            .key(SK, s(sort_key(ticket, category)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        out.item().map(doc).transpose()
    }

    pub async fn replace(
        &self,
        scope: &TenantScope,
        v: &OwnerVerification,
        expected: VerificationRevision,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(scope, v)?))
            .condition_expression(
                "attribute_exists(pk) AND #state = :state AND #attempts = :attempts",
            )
            .expression_attribute_names("#state", STATE)
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_values(":state", s(expected.state.as_str()))
            .expression_attribute_values(":attempts", n(expected.wrong_attempts))
            .send()
            .await
            .map_err(|e| from_sdk(e, StoreError::Conflict))?;
        Ok(())
    }
}
