//! The data a policy reads, loaded as cfn-guard loads it: YAML (JSON is YAML) with cfn-guard's
//! scalar rules, and CloudFormation's short-form tags as cfn-guard's reader treats them.
//!
//! This is Guard's reading, not CloudFormation's: `!GetAtt A.B` stays the string `A.B`, the
//! tags Guard does not know (`!Cidr`, `!Length`, `!Transform`, `!ToJsonString`, anything
//! else) are dropped and their values kept, and nothing is reported about them (validating a
//! template is not the policy engine's job).

use crate::diag::Diagnostic;
use crate::source::Source;
use crate::yaml::{self, Node, ParseOptions, Value};

/// The short-form tags cfn-guard's reader turns into long-form mappings, with their keys.
const GUARD_SHORT_FORMS: &[(&str, &str)] = &[
    ("!Ref", "Ref"),
    ("!Condition", "Condition"),
    ("!GetAtt", "Fn::GetAtt"),
    ("!Sub", "Fn::Sub"),
    ("!If", "Fn::If"),
    ("!Join", "Fn::Join"),
    ("!Select", "Fn::Select"),
    ("!Split", "Fn::Split"),
    ("!FindInMap", "Fn::FindInMap"),
    ("!GetAZs", "Fn::GetAZs"),
    ("!ImportValue", "Fn::ImportValue"),
    ("!Base64", "Fn::Base64"),
    ("!Equals", "Fn::Equals"),
    ("!And", "Fn::And"),
    ("!Or", "Fn::Or"),
    ("!Not", "Fn::Not"),
];

/// Parses a data document (a template, a policy test's input). `None` when it is not YAML;
/// the parse errors are in `diags`.
pub fn parse(source: &Source, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let opts = ParseOptions {
        warn_yaml11: false,
        guard_scalars: true,
        ..ParseOptions::default()
    };
    yaml::parse(source, &opts, diags).map(long_form)
}

/// Replaces the short-form tags cfn-guard knows with long-form mappings, recursively; the
/// depth is bounded by the YAML front end's depth limit.
fn long_form(node: Node) -> Node {
    let Node {
        span,
        tag,
        plain,
        value,
    } = node;
    let value = match value {
        Value::Seq(items) => Value::Seq(items.into_iter().map(long_form).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, long_form(v)))
                .collect(),
        ),
        v => v,
    };
    let standard = |t: &str| t.starts_with("!!") || t.starts_with("tag:yaml.org,2002:");
    let key = tag
        .as_deref()
        .and_then(|t| GUARD_SHORT_FORMS.iter().find(|(short, _)| *short == t))
        .map(|(_, key)| *key);
    match (key, tag) {
        (Some(key), _) => {
            let inner = Node {
                span: span.clone(),
                tag: None,
                plain,
                value,
            };
            let key = Node {
                span: span.clone(),
                tag: None,
                plain: true,
                value: Value::String(key.to_string()),
            };
            Node {
                span,
                tag: None,
                plain: false,
                value: Value::Map(vec![(key, inner)]),
            }
        }
        (None, Some(t)) if standard(&t) => Node {
            span,
            tag: Some(t),
            plain,
            value,
        },
        (None, _) => Node {
            span,
            tag: None,
            plain,
            value,
        },
    }
}
