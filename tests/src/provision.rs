//! What the tests get on top of the template's resources: their physical
//! names, and an SQS queue that receives every zerodesk event so tests can
//! see what was published.

use aws_config::SdkConfig;
use zerodesk_aws::TableNames;
use zerodesk_localaws::error_chain;
use zerodesk_template::{Resolve, Template};

use crate::{HarnessError, STAGE};

/// Physical names of everything provisioned, as the functions' environment names them.
#[derive(Debug, Clone)]
pub struct ResourceNames {
    pub stage: String,
    /// The four tables, in the one type the functions' environment uses.
    pub tables: TableNames,
    pub kms_key_id: String,
    pub event_bus_name: String,
    /// Receives every event with source `zerodesk` on the bus.
    pub events_queue_url: String,
    pub tenant_access_role_arn: String,
}

impl ResourceNames {
    /// The table names as the functions' environment carries them.
    pub fn table_names(&self) -> TableNames {
        self.tables.clone()
    }

    /// The environment a function gets (docs/conventions.md), for tests that
    /// run function code in-process or as a child.
    pub fn function_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STAGE", self.stage.clone()),
            ("TENANTS_TABLE", self.tables.tenants.clone()),
            ("TICKETS_TABLE", self.tables.tickets.clone()),
            ("AUDIT_TABLE", self.tables.audit.clone()),
            ("IDEMPOTENCY_TABLE", self.tables.idempotency.clone()),
            ("KMS_KEY_ID", self.kms_key_id.clone()),
            ("EVENT_BUS_NAME", self.event_bus_name.clone()),
            (
                "TENANT_ACCESS_ROLE_ARN",
                self.tenant_access_role_arn.clone(),
            ),
        ]
    }
}

fn fail(what: &str) -> impl Fn(String) -> HarnessError + '_ {
    move |e| HarnessError::Provision(format!("{what}: {e}"))
}

/// Everything the template declares (through `zerodesk-localaws`, as the local
/// stack does), then the test-only queue that receives every zerodesk event.
pub async fn provision(config: &SdkConfig) -> Result<ResourceNames, HarnessError> {
    let template = Template::load(&Template::repository_template_path())
        .map_err(|e| fail("template")(error_chain(&e)))?;
    let parameters = zerodesk_localaws::template_parameters(&template, STAGE);
    let provisioned = zerodesk_localaws::provision(&template, config, &parameters)
        .await
        .map_err(|e| fail("template resources")(error_chain(&e)))?;
    let table = |id: &str| {
        provisioned
            .tables
            .get(id)
            .cloned()
            .ok_or_else(|| HarnessError::Provision(format!("template has no {id}")))
    };
    let value = |id: &str, attribute: &str| {
        provisioned
            .values
            .attribute(id, attribute)
            .ok_or_else(|| HarnessError::Provision(format!("template has no {id}.{attribute}")))
    };
    let kms_key_id = value("DataKey", "KeyId")?;
    let event_bus_name = value("EventBus", "Name")?;

    let events = aws_sdk_eventbridge::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let queue = sqs
        .create_queue()
        .queue_name(format!("zerodesk-{STAGE}-all-events"))
        .send()
        .await
        .map_err(|e| fail("queue")(error_chain(&e)))?;
    let events_queue_url = queue
        .queue_url()
        .map(str::to_owned)
        .ok_or_else(|| HarnessError::Provision("queue has no url".into()))?;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&events_queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| fail("queue arn")(error_chain(&e)))?;
    let queue_arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| HarnessError::Provision("queue has no arn".into()))?;
    events
        .put_rule()
        .name("all-zerodesk-events")
        .event_bus_name(&event_bus_name)
        .event_pattern(r#"{"source":["zerodesk"]}"#)
        .send()
        .await
        .map_err(|e| fail("rule")(error_chain(&e)))?;
    events
        .put_targets()
        .rule("all-zerodesk-events")
        .event_bus_name(&event_bus_name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("test-queue")
                .arn(queue_arn)
                .build()
                .map_err(|e| fail("target")(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| fail("targets")(error_chain(&e)))?;

    Ok(ResourceNames {
        stage: STAGE.to_owned(),
        tables: TableNames {
            tenants: table("TenantsTable")?,
            tickets: table("TicketsTable")?,
            audit: table("AuditTable")?,
            idempotency: table("IdempotencyTable")?,
        },
        kms_key_id,
        event_bus_name,
        events_queue_url,
        // The tenant role's name as the tests know it; the emulator does not enforce roles.
        tenant_access_role_arn: format!(
            "arn:aws:iam::{}:role/zerodesk-{STAGE}-tenant-access",
            zerodesk_localaws::ACCOUNT_ID
        ),
    })
}
