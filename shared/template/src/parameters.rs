//! Typed view of the template's `Parameters`: names, types and defaults, so
//! that local runs can supply values and fail on a parameter they miss.

use crate::intrinsics::Intrinsic;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterDef {
    pub name: String,
    /// `String`, `Number`, `AWS::SSM::Parameter::Value<String>`, ...
    pub kind: String,
    pub default: Option<String>,
}

impl ParameterDef {
    pub(crate) fn from_yaml(name: &str, body: &serde_yaml::Value) -> ParameterDef {
        let kind = body
            .get("Type")
            .and_then(serde_yaml::Value::as_str)
            .unwrap_or("String")
            .to_owned();
        let default = body
            .get("Default")
            .map(Intrinsic::from_yaml)
            .and_then(|v| v.as_literal().map(str::to_owned));
        ParameterDef {
            name: name.to_owned(),
            kind,
            default,
        }
    }
}
