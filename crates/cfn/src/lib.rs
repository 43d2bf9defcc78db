//! CloudFormation: parse rendered output (YAML or JSON) through the YAML front end, turn short
//! forms (`!Ref`, `!GetAtt`, ...) into long forms with their spans, and validate the template's
//! structure and references.

//!
//! It knows nothing of bundles, Jinja, policies, the CLI or AWS.

// No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
// `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The core modules, under the names every crate of the workspace uses.
use proctor_core::{diag, source, text, yaml};

pub mod checks;
mod foreach;
mod interned;
mod lint_config;
pub mod schema;
pub mod types;
pub mod validate;

use crate::diag::{Diagnostic, codes};
use crate::source::Source;
pub use crate::yaml::Rewritten;
use crate::yaml::{Node, ParseOptions, Value};

/// Placeholder values of outputs that are unknown before a stack is deployed start with this,
/// so that later stages can recognise them.
pub const PLACEHOLDER_PREFIX: &str = "proctor-placeholder:";

/// Whether a node is a one-key mapping naming an intrinsic function.
pub fn is_intrinsic(node: &Node) -> bool {
    node.as_map().is_some_and(|m| {
        m.len() == 1
            && m[0]
                .0
                .as_str()
                .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    })
}

/// Whether a template's `Transform` (a name or a list of names) declares `name`.
pub fn declares_transform(root: &Node, name: &str) -> bool {
    root.get("Transform").is_some_and(|t| match &t.value {
        Value::String(s) => s == name,
        Value::Seq(items) => items.iter().any(|i| i.as_str() == Some(name)),
        _ => false,
    })
}

/// Short-form tags and the long-form keys they stand for.
const SHORT_FORMS: &[(&str, &str)] = &[
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
    ("!Cidr", "Fn::Cidr"),
    ("!Equals", "Fn::Equals"),
    ("!And", "Fn::And"),
    ("!Or", "Fn::Or"),
    ("!Not", "Fn::Not"),
    ("!Transform", "Fn::Transform"),
    ("!ToJsonString", "Fn::ToJsonString"),
    ("!Length", "Fn::Length"),
];

/// Short forms of the functions of template `Rules`.
const RULES_SHORT_FORMS: &[(&str, &str)] = &[
    ("!Contains", "Fn::Contains"),
    ("!EachMemberEquals", "Fn::EachMemberEquals"),
    ("!EachMemberIn", "Fn::EachMemberIn"),
    ("!RefAll", "Fn::RefAll"),
    ("!ValueOf", "Fn::ValueOf"),
    ("!ValueOfAll", "Fn::ValueOfAll"),
];

/// Whether a file's text looks like a CloudFormation template (for plain templates given on
/// the command line): `Resources` or `AWSTemplateFormatVersion` at the top level.
pub fn looks_like_template(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_end();
        l.starts_with("Resources:")
            || l.starts_with("AWSTemplateFormatVersion")
            || l.contains("\"Resources\"")
            || l.contains("\"AWSTemplateFormatVersion\"")
    })
}

/// Parses a template into long form. `None` when it is not YAML (reported).
pub fn parse(source: &Source, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let node = parse_yaml(source, diags)?;
    Some(from_yaml(source, node, diags))
}

/// The first half of [`parse`]: the YAML tree as CloudFormation reads it, short forms still
/// tagged (for a caller that also wants the policy data, which is read from this tree).
pub fn parse_yaml(source: &Source, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let opts = ParseOptions {
        warn_yaml11: false,
        ..ParseOptions::default()
    };
    yaml::parse(source, &opts, diags)
}

/// The second half of [`parse`]: short forms to long forms, reporting the malformed ones.
pub fn from_yaml(source: &Source, node: Node, diags: &mut Vec<Diagnostic>) -> Node {
    from_yaml_noting(source, node, diags).0
}

/// [`from_yaml`], with the short forms it rewrote, in the order their nodes end: what another
/// reader of the same text needs to undo the rewriting (`policy::data::from_cfn_long_form`).
pub fn from_yaml_noting(
    source: &Source,
    mut node: Node,
    diags: &mut Vec<Diagnostic>,
) -> (Node, Vec<Rewritten>) {
    let mut rewritten = Vec::new();
    long_form(source, &mut node, diags, &mut rewritten);
    (node, rewritten)
}

/// Replaces short-form tags with long-form mappings, recursively and in place; the depth is
/// bounded by the YAML front end's depth limit.
fn long_form(
    source: &Source,
    node: &mut Node,
    diags: &mut Vec<Diagnostic>,
    rewritten: &mut Vec<Rewritten>,
) {
    match &mut node.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|n| long_form(source, n, diags, rewritten)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|(_, v)| long_form(source, v, diags, rewritten)),
        _ => {}
    }
    let Some(tag) = node.tag.as_deref() else {
        if let Value::Map(entries) = &node.value
            && let [(k, _)] = entries.as_slice()
            && let Some(name) = k
                .as_str()
                .filter(|n| n.starts_with("Rain::") || n.starts_with("Fn::Rain::"))
        {
            // The JSON form of a Rain directive (`{"Rain::Embed": "handler.py"}`).
            diags.push(rain_directive(source, name, node.span.clone()));
            node.tag = Some(format!("!{}", name.trim_start_matches("Fn::")).into());
        }
        return;
    };
    if yaml::is_standard_tag(tag) {
        return;
    }
    let Some((_, key)) = SHORT_FORMS
        .iter()
        .chain(RULES_SHORT_FORMS)
        .find(|(t, _)| *t == tag)
    else {
        if tag.starts_with("!Rain::") {
            // The tag stays: the value is unknown to the checks.
            diags.push(rain_directive(source, tag, node.span.clone()));
            return;
        }
        let names: Vec<&str> = SHORT_FORMS.iter().map(|(t, _)| *t).collect();
        let help = match crate::diag::did_you_mean(tag, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "CloudFormation's short forms are `!Ref`, `!GetAtt`, `!Sub`, `!If`, `!Join` and the other `Fn::` names".to_string(),
        };
        diags.push(
            Diagnostic::new(codes::C015, format!("unknown tag `{tag}`"))
                .at(source, node.span.clone())
                .help(help),
        );
        return;
    };
    let span = node.span.clone();
    let value = std::mem::replace(&mut node.value, Value::Null);
    // `!GetAtt A.B.C` is `Fn::GetAtt: [A, B.C]`.
    let (inner, split) = match (*key, value) {
        ("Fn::GetAtt", Value::String(s)) if s.contains('.') => {
            let (res, attr) = s.split_once('.').unwrap_or_default();
            let parts = vec![string_node(res, &span), string_node(attr, &span)];
            let seq = Node {
                span: span.clone(),
                tag: None,
                plain: false,
                value: Value::Seq(parts),
            };
            (seq, true)
        }
        (_, value) => {
            let inner = Node {
                span: span.clone(),
                tag: None,
                plain: node.plain,
                value,
            };
            (inner, false)
        }
    };
    rewritten.push(Rewritten {
        start: span.start,
        tag: node.tag.take().map(String::from).unwrap_or_default(),
        plain: node.plain,
        split,
    });
    node.plain = false;
    node.value = Value::Map(vec![(string_node(key, &span), inner)]);
}

/// A Rain directive: `rain` expands it before deploying; proctor does not run Rain.
fn rain_directive(source: &Source, name: &str, span: std::ops::Range<usize>) -> Diagnostic {
    Diagnostic::new(
        codes::C015,
        format!("`{name}` is a Rain directive, which proctor does not expand"),
    )
    .at(source, span)
    .severity(crate::diag::Severity::Warning)
    .help("check the template `rain pkg` writes, or ignore C015 here; the value is left unchecked")
}

fn string_node(s: &str, span: &std::ops::Range<usize>) -> Node {
    Node {
        span: span.clone(),
        tag: None,
        plain: true,
        value: Value::String(s.into()),
    }
}

#[cfg(test)]
mod tests;
