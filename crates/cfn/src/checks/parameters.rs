//! Parameters: their attributes, their `Type`, and each `Default` against the parameter's own
//! constraints.

use super::Checker;
use crate::diag::{codes, did_you_mean};
use crate::yaml::Node;
use crate::yaml::shape::list;

const PARAMETER_KEYS: &[&str] = &[
    "Type",
    "Default",
    "AllowedValues",
    "AllowedPattern",
    "ConstraintDescription",
    "Description",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "NoEcho",
];

/// Parameter types: the plain ones and the AWS-specific ones (which also come as `List<...>`).
const PARAMETER_TYPES: &[&str] = &[
    "String",
    "Number",
    "List<Number>",
    "CommaDelimitedList",
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::Volume::Id",
    "AWS::EC2::VPC::Id",
    "AWS::Route53::HostedZone::Id",
    "AWS::SSM::Parameter::Name",
];

/// Whether `t` is a parameter type CloudFormation knows: one of [`PARAMETER_TYPES`], a
/// `List<...>` of `String`, `Number` or an AWS-specific type, or
/// `AWS::SSM::Parameter::Value<...>` of any of those.
fn parameter_type_ok(t: &str) -> bool {
    let t = t.trim();
    let list_of = |t: &str| {
        t.strip_prefix("List<")
            .and_then(|r| r.strip_suffix('>'))
            .is_some_and(|inner| {
                let inner = inner.trim();
                inner == "String"
                    || (inner.starts_with("AWS::") && PARAMETER_TYPES.contains(&inner))
                    || inner == "Number"
            })
    };
    if PARAMETER_TYPES.contains(&t) || list_of(t) {
        return true;
    }
    t.strip_prefix("AWS::SSM::Parameter::Value<")
        .and_then(|r| r.strip_suffix('>'))
        .is_some_and(|inner| {
            let inner = inner.trim();
            PARAMETER_TYPES.contains(&inner) || list_of(inner)
        })
}

impl Checker<'_> {
    /// A parameter: its keys, its `Type`, and its `Default` against its own constraints.
    pub(super) fn parameter(&mut self, id: &str, p: &Node) {
        let Some(attrs) = p.as_map() else {
            self.report(
                codes::C021,
                format!("parameter `{id}` must be a mapping with a `Type`"),
                p.span.clone(),
                "write `Type: String` (or another parameter type) under the parameter",
            );
            return;
        };
        for (k, _) in attrs {
            let key = k.scalar_text().unwrap_or_default();
            if !PARAMETER_KEYS.contains(&key.as_str()) {
                let help = match did_you_mean(&key, PARAMETER_KEYS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("a parameter has {}", list(PARAMETER_KEYS)),
                };
                self.report(
                    codes::C021,
                    format!("parameter `{id}` has an unknown attribute `{key}`"),
                    k.span.clone(),
                    &help,
                );
            }
        }
        let Some(ty) = p.get("Type") else {
            self.report(
                codes::C021,
                format!("parameter `{id}` has no `Type`"),
                p.span.clone(),
                "add `Type: String`, `Number`, `CommaDelimitedList` or an AWS-specific type",
            );
            return;
        };
        let Some(type_name) = ty.as_str() else {
            return;
        };
        if !parameter_type_ok(type_name) {
            let help = match did_you_mean(type_name, PARAMETER_TYPES.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "use `String`, `Number`, `List<Number>`, `CommaDelimitedList`, an AWS-specific type such as `AWS::EC2::VPC::Id` (or a `List<...>` of one), or `AWS::SSM::Parameter::Value<...>`".to_string(),
            };
            self.report(
                codes::C021,
                format!("parameter `{id}` has an unknown type `{type_name}`"),
                ty.span.clone(),
                &help,
            );
            return;
        }
        let Some(default) = p.get("Default") else {
            return;
        };
        let Some(text) = default.scalar_text() else {
            return;
        };
        if let Some(allowed) = p.get("AllowedValues").and_then(Node::as_seq) {
            let values: Vec<String> = allowed.iter().filter_map(Node::scalar_text).collect();
            let listed = type_name.contains("List") || type_name == "CommaDelimitedList";
            let all_in = |t: &str| {
                if listed {
                    t.split(',').all(|x| values.iter().any(|v| v == x.trim()))
                } else {
                    values.iter().any(|v| v == t)
                }
            };
            if values.len() == allowed.len() && !all_in(&text) {
                self.report(
                    codes::C021,
                    format!("the `Default` of parameter `{id}` is not one of its `AllowedValues`"),
                    default.span.clone(),
                    &format!(
                        "use one of {}",
                        list(&values.iter().map(String::as_str).collect::<Vec<_>>())
                    ),
                );
            }
        }
        if type_name == "String" {
            let len = text.chars().count() as f64;
            let bound = |k: &str| {
                p.get(k)
                    .and_then(Node::scalar_text)
                    .and_then(|t| t.parse::<f64>().ok())
            };
            if bound("MinLength").is_some_and(|m| len < m)
                || bound("MaxLength").is_some_and(|m| len > m)
            {
                self.report(
                    codes::C021,
                    format!(
                        "the `Default` of parameter `{id}` is outside its `MinLength`/`MaxLength`"
                    ),
                    default.span.clone(),
                    "change the default, or the bounds",
                );
            }
        }
        if type_name == "Number"
            && let Ok(n) = text.trim().parse::<f64>()
        {
            let bound = |k: &str| {
                p.get(k)
                    .and_then(Node::scalar_text)
                    .and_then(|t| t.parse::<f64>().ok())
            };
            if bound("MinValue").is_some_and(|m| n < m) || bound("MaxValue").is_some_and(|m| n > m)
            {
                self.report(
                    codes::C021,
                    format!(
                        "the `Default` of parameter `{id}` is outside its `MinValue`/`MaxValue`"
                    ),
                    default.span.clone(),
                    "change the default, or the bounds",
                );
            }
        }
    }
}
