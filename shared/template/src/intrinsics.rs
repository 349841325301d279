//! The small part of CloudFormation's intrinsic functions the readers need:
//! `!Ref`, `!GetAtt`, `!Sub` (both forms) and `!Join`, kept symbolic until a
//! caller resolves them; anything else is reported, never guessed.

use std::collections::BTreeMap;

/// Replaces `${Name}` in a `!Sub` string with values from `vars`; a
/// reference with no value is left as it is so that callers can detect it.
pub fn substitute(pattern: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match vars.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push_str("${");
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The string inside a scalar or a `!Sub` tagged scalar.
pub(crate) fn sub_string(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Tagged(tagged) if tagged.tag == "Sub" => {
            tagged.value.as_str().map(str::to_owned)
        }
        _ => None,
    }
}

/// A template value that may still hold intrinsic functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intrinsic {
    Literal(String),
    Ref(String),
    GetAtt {
        resource: String,
        attribute: String,
    },
    /// `!Sub` pattern with its own variables (the list form), if any.
    Sub {
        pattern: String,
        vars: BTreeMap<String, Intrinsic>,
    },
    Join {
        delimiter: String,
        parts: Vec<Intrinsic>,
    },
    /// A function these readers do not evaluate (`!If`, `!Select`, ...).
    Unsupported(String),
}

/// Values for references; `reference` receives parameter names, logical ids
/// and pseudo parameters (`AWS::Region`, ...), `attribute` `!GetAtt` pairs.
pub trait Resolve {
    fn reference(&self, name: &str) -> Option<String>;
    fn attribute(&self, resource: &str, attribute: &str) -> Option<String>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no local value for {0}")]
    Unresolved(String),
    #[error("intrinsic function {0} is not supported")]
    Unsupported(String),
}

impl Intrinsic {
    /// Reads a scalar, a short-form tag (`!Ref X`) or a long-form mapping
    /// (`{Ref: X}`, `{"Fn::GetAtt": [X, Arn]}`).
    pub fn from_yaml(value: &serde_yaml::Value) -> Intrinsic {
        use serde_yaml::Value;
        match value {
            Value::String(s) => Intrinsic::Literal(s.clone()),
            Value::Number(n) => Intrinsic::Literal(n.to_string()),
            Value::Bool(b) => Intrinsic::Literal(b.to_string()),
            Value::Tagged(tagged) => {
                Intrinsic::from_function(&tagged.tag.to_string(), &tagged.value)
            }
            Value::Mapping(m) if m.len() == 1 => match m.iter().next() {
                Some((Value::String(k), v)) if k == "Ref" || k.starts_with("Fn::") => {
                    Intrinsic::from_function(k.trim_start_matches("Fn::"), v)
                }
                _ => Intrinsic::Unsupported("mapping".to_owned()),
            },
            Value::Null => Intrinsic::Unsupported("null".to_owned()),
            _ => Intrinsic::Unsupported("non-scalar value".to_owned()),
        }
    }

    fn from_function(name: &str, arg: &serde_yaml::Value) -> Intrinsic {
        let name = name.trim_start_matches('!');
        match name {
            "Ref" => match arg.as_str() {
                Some(s) => Intrinsic::Ref(s.to_owned()),
                None => Intrinsic::Unsupported("Ref without a name".to_owned()),
            },
            "GetAtt" => {
                let pair = match arg {
                    serde_yaml::Value::String(s) => {
                        s.split_once('.').map(|(r, a)| (r.to_owned(), a.to_owned()))
                    }
                    serde_yaml::Value::Sequence(items) => match items.as_slice() {
                        [r, a] => r
                            .as_str()
                            .zip(a.as_str())
                            .map(|(r, a)| (r.to_owned(), a.to_owned())),
                        _ => None,
                    },
                    _ => None,
                };
                match pair {
                    Some((resource, attribute)) => Intrinsic::GetAtt {
                        resource,
                        attribute,
                    },
                    None => Intrinsic::Unsupported("GetAtt of unexpected shape".to_owned()),
                }
            }
            "Sub" => match arg {
                serde_yaml::Value::String(s) => Intrinsic::Sub {
                    pattern: s.clone(),
                    vars: BTreeMap::new(),
                },
                serde_yaml::Value::Sequence(items) => match items.as_slice() {
                    [serde_yaml::Value::String(p), serde_yaml::Value::Mapping(m)] => {
                        Intrinsic::Sub {
                            pattern: p.clone(),
                            vars: m
                                .iter()
                                .filter_map(|(k, v)| {
                                    Some((k.as_str()?.to_owned(), Intrinsic::from_yaml(v)))
                                })
                                .collect(),
                        }
                    }
                    _ => Intrinsic::Unsupported("Sub of unexpected shape".to_owned()),
                },
                _ => Intrinsic::Unsupported("Sub of unexpected shape".to_owned()),
            },
            "Join" => match arg.as_sequence().map(Vec::as_slice) {
                Some(
                    [
                        serde_yaml::Value::String(d),
                        serde_yaml::Value::Sequence(parts),
                    ],
                ) => Intrinsic::Join {
                    delimiter: d.clone(),
                    parts: parts.iter().map(Intrinsic::from_yaml).collect(),
                },
                _ => Intrinsic::Unsupported("Join of unexpected shape".to_owned()),
            },
            other => Intrinsic::Unsupported(other.to_owned()),
        }
    }

    /// The literal string, when the value holds no function.
    pub fn as_literal(&self) -> Option<&str> {
        match self {
            Intrinsic::Literal(s) => Some(s),
            _ => None,
        }
    }

    /// The value with every reference replaced; fails on the first
    /// reference the resolver has no value for.
    pub fn resolve(&self, r: &dyn Resolve) -> Result<String, ResolveError> {
        match self {
            Intrinsic::Literal(s) => Ok(s.clone()),
            Intrinsic::Ref(name) => r
                .reference(name)
                .ok_or_else(|| ResolveError::Unresolved(name.clone())),
            Intrinsic::GetAtt {
                resource,
                attribute,
            } => r
                .attribute(resource, attribute)
                .ok_or_else(|| ResolveError::Unresolved(format!("{resource}.{attribute}"))),
            Intrinsic::Sub { pattern, vars } => resolve_sub(pattern, vars, r),
            Intrinsic::Join { delimiter, parts } => {
                let parts: Result<Vec<String>, ResolveError> =
                    parts.iter().map(|p| p.resolve(r)).collect();
                Ok(parts?.join(delimiter))
            }
            Intrinsic::Unsupported(name) => Err(ResolveError::Unsupported(name.clone())),
        }
    }
}

fn resolve_sub(
    pattern: &str,
    vars: &BTreeMap<String, Intrinsic>,
    r: &dyn Resolve,
) -> Result<String, ResolveError> {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else if let Some(value) = vars.get(name) {
            out.push_str(&value.resolve(r)?);
        } else if let Some((resource, attribute)) = name.split_once('.') {
            let value = r
                .attribute(resource, attribute)
                .ok_or_else(|| ResolveError::Unresolved(name.to_owned()))?;
            out.push_str(&value);
        } else {
            let value = r
                .reference(name)
                .ok_or_else(|| ResolveError::Unresolved(name.to_owned()))?;
            out.push_str(&value);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Resolve for Fixed {
        fn reference(&self, name: &str) -> Option<String> {
            match name {
                "Stage" => Some("local".to_owned()),
                "AWS::Region" => Some("us-east-1".to_owned()),
                "Table" => Some("zerodesk-local-t".to_owned()),
                _ => None,
            }
        }
        fn attribute(&self, resource: &str, attribute: &str) -> Option<String> {
            (resource == "DataKey" && attribute == "Arn")
                .then(|| "arn:aws:kms:us-east-1:1:key/k".to_owned())
        }
    }

    fn parse(yaml: &str) -> Intrinsic {
        Intrinsic::from_yaml(&serde_yaml::from_str(yaml).unwrap())
    }

    #[test]
    fn known_references_are_replaced_and_unknown_kept() {
        let vars = BTreeMap::from([("Stage".to_owned(), "dev".to_owned())]);
        assert_eq!(substitute("zerodesk-${Stage}-t", &vars), "zerodesk-dev-t");
        assert_eq!(substitute("a-${Other}", &vars), "a-${Other}");
        assert_eq!(substitute("plain", &vars), "plain");
    }

    #[test]
    fn short_and_long_forms_parse_to_the_same_value() {
        assert_eq!(parse("!Ref Table"), Intrinsic::Ref("Table".to_owned()));
        assert_eq!(parse("{Ref: Table}"), Intrinsic::Ref("Table".to_owned()));
        let get_att = Intrinsic::GetAtt {
            resource: "DataKey".to_owned(),
            attribute: "Arn".to_owned(),
        };
        assert_eq!(parse("!GetAtt DataKey.Arn"), get_att);
        assert_eq!(parse("!GetAtt [DataKey, Arn]"), get_att);
        assert_eq!(parse("{'Fn::GetAtt': [DataKey, Arn]}"), get_att);
        assert_eq!(parse("128"), Intrinsic::Literal("128".to_owned()));
    }

    #[test]
    fn sub_resolves_parameters_pseudo_parameters_attributes_and_its_own_vars() {
        let value = parse("!Sub '${Table}/${AWS::Region}/${DataKey.Arn}/${!Kept}'");
        assert_eq!(
            value.resolve(&Fixed).unwrap(),
            "zerodesk-local-t/us-east-1/arn:aws:kms:us-east-1:1:key/k/${Kept}"
        );
        let list_form = parse("!Sub ['${Name}-x', {Name: !Ref Stage}]");
        assert_eq!(list_form.resolve(&Fixed).unwrap(), "local-x");
    }

    #[test]
    fn join_resolves_each_part() {
        let value = parse("!Join [':', [a, !Ref Stage]]");
        assert_eq!(value.resolve(&Fixed).unwrap(), "a:local");
    }

    #[test]
    fn unknown_reference_and_unsupported_function_are_errors() {
        assert_eq!(
            parse("!Ref Nope").resolve(&Fixed),
            Err(ResolveError::Unresolved("Nope".to_owned()))
        );
        assert_eq!(
            parse("!Sub 'x-${Nope}'").resolve(&Fixed),
            Err(ResolveError::Unresolved("Nope".to_owned()))
        );
        assert!(matches!(
            parse("!If [C, a, b]").resolve(&Fixed),
            Err(ResolveError::Unsupported(_))
        ));
    }
}
