//! Provisions a fresh emulator from the template: KMS keys (and aliases),
//! event buses, queues, role names, tables (through the one table builder),
//! function names, and for every EventBridge rule of a function the rule
//! plus an SQS queue target that the local stack drains into that function.
//! Every name follows the template for the stage it is given.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use zerodesk_template::{Intrinsic, Resolve, ResolveError, Template, TemplateError};

use crate::tables::create_table;
use crate::values::{ACCOUNT_ID, DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, LocalValues, REGION};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("template")]
    Template(#[from] TemplateError),
    #[error("{resource}: {source}")]
    Resolve {
        resource: String,
        #[source]
        source: ResolveError,
    },
    #[error("{resource}: {operation} failed: {message}")]
    Aws {
        resource: String,
        operation: &'static str,
        message: String,
    },
    #[error("the parameter {0} has no value")]
    MissingParameter(&'static str),
}

/// A rule's delivery queue and the function it feeds.
#[derive(Debug, Clone)]
pub struct RuleQueue {
    pub function: String,
    pub event: String,
    pub rule_name: String,
    pub bus: String,
    pub queue_url: String,
}

#[derive(Debug, Clone)]
pub struct Provisioned {
    /// `Ref` / `GetAtt` values of everything provisioned, plus parameters.
    pub values: LocalValues,
    /// Table logical id -> physical name.
    pub tables: BTreeMap<String, String>,
    pub rule_queues: Vec<RuleQueue>,
}

fn aws_err<E: std::error::Error>(
    resource: &str,
    operation: &'static str,
) -> impl Fn(E) -> ProvisionError {
    let resource = resource.to_owned();
    move |e| ProvisionError::Aws {
        resource: resource.clone(),
        operation,
        message: error_chain(&e),
    }
}

/// The error and its sources on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A property of a resource, resolved; `None` when the template omits it.
fn property(
    template: &Template,
    id: &str,
    name: &str,
    values: &LocalValues,
) -> Result<Option<String>, ProvisionError> {
    let Some(value) = template
        .resource(id)
        .and_then(|r| r.get("Properties"))
        .and_then(|p| p.get(name))
    else {
        return Ok(None);
    };
    Intrinsic::from_yaml(value)
        .resolve(values)
        .map(Some)
        .map_err(|source| ProvisionError::Resolve {
            resource: format!("{id}.{name}"),
            source,
        })
}

/// The template's parameter defaults, with `Stage` set to `stage`; callers
/// add the parameters that have no default when they need them.
pub fn template_parameters(template: &Template, stage: &str) -> BTreeMap<String, String> {
    let mut parameters: BTreeMap<String, String> = template
        .parameters()
        .into_iter()
        .filter_map(|p| Some((p.name, p.default?)))
        .collect();
    parameters.insert("Stage".to_owned(), stage.to_owned());
    parameters
}

/// Creates everything the template declares that the emulator can hold.
/// `parameters` must carry `Stage` (see [`template_parameters`]).
pub async fn provision(
    template: &Template,
    config: &SdkConfig,
    parameters: &BTreeMap<String, String>,
) -> Result<Provisioned, ProvisionError> {
    let stage = parameters
        .get("Stage")
        .ok_or(ProvisionError::MissingParameter("Stage"))?;
    // CloudFormation's generated names, made predictable for local runs.
    let generated_name = |id: &str| format!("zerodesk-{stage}-{id}");
    let mut values = LocalValues::with_parameters(parameters);
    let kms = aws_sdk_kms::Client::new(config);
    for id in template.kms_keys() {
        let description =
            property(template, &id, "Description", &values)?.unwrap_or_else(|| id.clone());
        let spec = property(template, &id, "KeySpec", &values)?;
        let usage = property(template, &id, "KeyUsage", &values)?;
        let key = kms
            .create_key()
            .description(description)
            .set_key_spec(spec.map(|s| aws_sdk_kms::types::KeySpec::from(s.as_str())))
            .set_key_usage(usage.map(|u| aws_sdk_kms::types::KeyUsageType::from(u.as_str())))
            .send()
            .await
            .map_err(aws_err(&id, "CreateKey"))?;
        let meta = key.key_metadata().ok_or_else(|| ProvisionError::Aws {
            resource: id.clone(),
            operation: "CreateKey",
            message: "no key metadata".to_owned(),
        })?;
        values.set_ref(&id, meta.key_id());
        values.set_attribute(&id, "KeyId", meta.key_id());
        values.set_attribute(&id, "Arn", meta.arn().unwrap_or_default());
    }
    let aliases: Vec<String> = template
        .resources_of_type("AWS::KMS::Alias")
        .map(|(id, _)| id.to_owned())
        .collect();
    for id in aliases {
        let (Some(name), Some(target)) = (
            property(template, &id, "AliasName", &values)?,
            property(template, &id, "TargetKeyId", &values)?,
        ) else {
            continue;
        };
        kms.create_alias()
            .alias_name(&name)
            .target_key_id(target)
            .send()
            .await
            .map_err(aws_err(&id, "CreateAlias"))?;
        values.set_ref(&id, name);
    }

    let ses = aws_sdk_sesv2::Client::new(config);
    let identities: Vec<String> = template
        .resources_of_type("AWS::SES::EmailIdentity")
        .map(|(id, _)| id.to_owned())
        .collect();
    for id in identities {
        let Some(identity) = property(template, &id, "EmailIdentity", &values)? else {
            continue;
        };
        ses.create_email_identity()
            .email_identity(&identity)
            .send()
            .await
            .map_err(aws_err(&id, "CreateEmailIdentity"))?;
        values.set_ref(&id, identity);
    }

    let events = aws_sdk_eventbridge::Client::new(config);
    for bus in template.event_buses()? {
        let name = bus
            .name
            .resolve(&values)
            .map_err(|source| ProvisionError::Resolve {
                resource: bus.logical_id.clone(),
                source,
            })?;
        let created = events
            .create_event_bus()
            .name(&name)
            .send()
            .await
            .map_err(aws_err(&bus.logical_id, "CreateEventBus"))?;
        values.set_ref(&bus.logical_id, &name);
        values.set_attribute(&bus.logical_id, "Name", &name);
        values.set_attribute(
            &bus.logical_id,
            "Arn",
            created
                .event_bus_arn()
                .map(str::to_owned)
                .unwrap_or_else(|| bus_arn(&name)),
        );
    }

    let sqs = aws_sdk_sqs::Client::new(config);
    let queues: Vec<String> = template
        .resources_of_type("AWS::SQS::Queue")
        .map(|(id, _)| id.to_owned())
        .collect();
    for id in queues {
        let name =
            property(template, &id, "QueueName", &values)?.unwrap_or_else(|| generated_name(&id));
        let (url, arn) = create_queue(&sqs, &id, &name).await?;
        values.set_ref(&id, &url);
        values.set_attribute(&id, "QueueUrl", &url);
        values.set_attribute(&id, "QueueName", &name);
        values.set_attribute(&id, "Arn", arn);
    }

    // Roles are not enforced by the emulator; their names and ARNs are what functions need.
    let roles: Vec<String> = template
        .resources_of_type("AWS::IAM::Role")
        .map(|(id, _)| id.to_owned())
        .collect();
    for id in roles {
        let name =
            property(template, &id, "RoleName", &values)?.unwrap_or_else(|| generated_name(&id));
        values.set_attribute(&id, "Arn", format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}"));
        values.set_attribute(&id, "RoleId", format!("AROA{}", name.len()));
        values.set_ref(&id, name);
    }

    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    let mut tables = BTreeMap::new();
    for def in template.tables()? {
        let name = property(template, &def.logical_id, "TableName", &values)?
            .unwrap_or_else(|| generated_name(&def.logical_id));
        create_table(&dynamodb, &def, &name)
            .await
            .map_err(aws_err(&def.logical_id, "CreateTable"))?;
        values.set_ref(&def.logical_id, &name);
        values.set_attribute(
            &def.logical_id,
            "Arn",
            format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"),
        );
        tables.insert(def.logical_id.clone(), name);
    }

    let functions = template.functions()?;
    for f in &functions {
        let name = match &f.function_name {
            Some(n) => n
                .resolve(&values)
                .map_err(|source| ProvisionError::Resolve {
                    resource: f.logical_id.clone(),
                    source,
                })?,
            None => generated_name(&f.logical_id),
        };
        values.set_attribute(
            &f.logical_id,
            "Arn",
            format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"),
        );
        values.set_ref(&f.logical_id, name);
    }

    let mut rule_queues = Vec::new();
    for f in &functions {
        for rule in f.rules().filter(|r| r.enabled) {
            let resource = format!("{}.{}", f.logical_id, rule.event);
            let resolve = |i: &Intrinsic| {
                i.resolve(&values)
                    .map_err(|source| ProvisionError::Resolve {
                        resource: resource.clone(),
                        source,
                    })
            };
            let bus = match &rule.event_bus {
                Some(b) => resolve(b)?,
                None => "default".to_owned(),
            };
            let rule_name = match &rule.rule_name {
                Some(n) => resolve(n)?,
                None => truncate(&format!("{}-{}", f.logical_id, rule.event), 64),
            };
            let queue_name = truncate(&format!("devstack-{}-{}", f.logical_id, rule.event), 80);
            let (queue_url, queue_arn) = create_queue(&sqs, &resource, &queue_name).await?;
            events
                .put_rule()
                .name(&rule_name)
                .event_bus_name(&bus)
                .event_pattern(rule.pattern.to_string())
                .send()
                .await
                .map_err(aws_err(&resource, "PutRule"))?;
            let mut target = aws_sdk_eventbridge::types::Target::builder()
                .id("devstack-queue")
                .arn(queue_arn);
            if let Some(input) = &rule.input {
                target = target.input(input);
            }
            if let Some(path) = &rule.input_path {
                target = target.input_path(path);
            }
            let target = target.build().map_err(aws_err(&resource, "Target"))?;
            events
                .put_targets()
                .rule(&rule_name)
                .event_bus_name(&bus)
                .targets(target)
                .send()
                .await
                .map_err(aws_err(&resource, "PutTargets"))?;
            rule_queues.push(RuleQueue {
                function: f.logical_id.clone(),
                event: rule.event.clone(),
                rule_name,
                bus,
                queue_url,
            });
        }
    }
    Ok(Provisioned {
        values,
        tables,
        rule_queues,
    })
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    resource: &str,
    name: &str,
) -> Result<(String, String), ProvisionError> {
    let created = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(aws_err(resource, "CreateQueue"))?;
    let url = created.queue_url().unwrap_or_default().to_owned();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(aws_err(resource, "GetQueueAttributes"))?;
    let arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_else(|| format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"));
    Ok((url, arn))
}

fn bus_arn(name: &str) -> String {
    format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{name}")
}

fn truncate(name: &str, max: usize) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(max)
        .collect()
}

/// The SDK configuration every local client uses: the emulator and dummy credentials.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::Credentials::new(
            DUMMY_ACCESS_KEY,
            DUMMY_SECRET_KEY,
            None,
            None,
            "zerodesk-localaws",
        ))
        .load()
        .await
}

/// Resolves a function's template environment with the provisioned values.
pub fn resolve_environment(
    function: &str,
    env: &BTreeMap<String, Intrinsic>,
    values: &dyn Resolve,
) -> Result<BTreeMap<String, String>, ProvisionError> {
    env.iter()
        .map(|(k, v)| {
            v.resolve(values)
                .map(|v| (k.clone(), v))
                .map_err(|source| ProvisionError::Resolve {
                    resource: format!("{function} environment {k}"),
                    source,
                })
        })
        .collect()
}
