//! Typed views of the smaller resources a local stack provisions besides
//! tables: EventBridge buses (and their names).

use crate::TemplateError;
use crate::intrinsics::Intrinsic;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBusDef {
    pub logical_id: String,
    pub name: Intrinsic,
}

impl EventBusDef {
    pub(crate) fn from_resource(
        id: &str,
        body: &serde_yaml::Value,
    ) -> Result<EventBusDef, TemplateError> {
        let name = body
            .get("Properties")
            .and_then(|p| p.get("Name"))
            .map(Intrinsic::from_yaml)
            .ok_or_else(|| TemplateError::Shape {
                resource: id.to_owned(),
                problem: "no Name".to_owned(),
            })?;
        Ok(EventBusDef {
            logical_id: id.to_owned(),
            name,
        })
    }
}
