//! Local values for the template's references: parameters, pseudo
//! parameters and what each provisioned resource's `Ref` / `GetAtt` is in
//! the emulator. A reference with no local value is an error, never a guess.

use std::collections::BTreeMap;

use zerodesk_template::Resolve;

pub const REGION: &str = "us-east-1";
/// moto's default account.
pub const ACCOUNT_ID: &str = "123456789012";
/// Credentials the emulator accepts; they protect nothing.
pub const DUMMY_ACCESS_KEY: &str = "testing";
pub const DUMMY_SECRET_KEY: &str = "testing";

#[derive(Debug, Clone, Default)]
pub struct LocalValues {
    refs: BTreeMap<String, String>,
    attributes: BTreeMap<(String, String), String>,
}

impl LocalValues {
    /// Pseudo parameters and the given parameter values. The stack is named
    /// `zerodesk-<Stage>`; without a `Stage` parameter it has no name at all.
    pub fn with_parameters(parameters: &BTreeMap<String, String>) -> LocalValues {
        let mut refs: BTreeMap<String, String> = parameters.clone();
        for (k, v) in [
            ("AWS::Region", REGION),
            ("AWS::AccountId", ACCOUNT_ID),
            ("AWS::Partition", "aws"),
            ("AWS::URLSuffix", "amazonaws.com"),
        ] {
            refs.insert(k.to_owned(), v.to_owned());
        }
        if let Some(stage) = parameters.get("Stage") {
            let stack_name = format!("zerodesk-{stage}");
            refs.insert(
                "AWS::StackId".to_owned(),
                format!("arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local"),
            );
            refs.insert("AWS::StackName".to_owned(), stack_name);
        }
        LocalValues {
            refs,
            attributes: BTreeMap::new(),
        }
    }

    pub fn set_ref(&mut self, logical_id: &str, value: impl Into<String>) {
        self.refs.insert(logical_id.to_owned(), value.into());
    }

    /// The `Ref` value of a logical id or parameter, if set.
    pub fn reference_of(&self, name: &str) -> Option<String> {
        self.refs.get(name).cloned()
    }

    pub fn set_attribute(&mut self, logical_id: &str, attribute: &str, value: impl Into<String>) {
        self.attributes
            .insert((logical_id.to_owned(), attribute.to_owned()), value.into());
    }
}

impl Resolve for LocalValues {
    fn reference(&self, name: &str) -> Option<String> {
        self.refs.get(name).cloned()
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Option<String> {
        self.attributes
            .get(&(resource.to_owned(), attribute.to_owned()))
            .cloned()
    }
}
