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

/// The data of a document already parsed as CloudFormation reads YAML (`guard_scalars` off),
/// so that a template is parsed once for both readers: untagged plain scalars are resolved
/// again with cfn-guard's rules, from their text, and the short forms become long forms.
/// `None` when a plain scalar's text is not at its span (an alias to it): parse the text with
/// [`parse`] then.
pub fn from_cfn_yaml(source: &Source, node: &Node) -> Option<Node> {
    reread(source, node, true)
}

/// The data of a template from CloudFormation's long form of it, made in place instead of
/// copying the tree: the same as [`from_cfn_yaml`] of the tree before the long form. The
/// rewritten short forms (`rewritten`, as `cfn::from_yaml_noting` gives them) are undone
/// where cfn-guard's reader keeps the tag's value as it is (`!Cidr`, `!Length`, a `!GetAtt`
/// string), untagged plain scalars are resolved again with cfn-guard's rules and the tags
/// cfn-guard drops are dropped. `None` as for [`from_cfn_yaml`].
pub fn from_cfn_long_form(
    source: &Source,
    mut root: Node,
    rewritten: &[yaml::Rewritten],
) -> Option<Node> {
    let mut by_start: Vec<&yaml::Rewritten> = rewritten.iter().collect();
    by_start.sort_unstable_by_key(|r| r.start);
    let undo = Undo {
        source,
        rewritten: &by_start,
    };
    undo.node(&mut root, true)?;
    Some(root)
}

/// A walk of [`from_cfn_long_form`].
struct Undo<'a> {
    source: &'a Source,
    rewritten: &'a [&'a yaml::Rewritten],
}

impl Undo<'_> {
    /// `node` as cfn-guard reads it; `long` as for [`reread`].
    fn node(&self, node: &mut Node, long: bool) -> Option<()> {
        if long && let Some(r) = self.rewritten_at(node) {
            return self.short_form(node, r);
        }
        self.children(node, long)?;
        if let Value::Map(_) | Value::Seq(_) = node.value {
        } else if node.plain && node.tag.is_none() {
            self.scalar(node)?;
        }
        if long
            && node
                .tag
                .as_deref()
                .is_some_and(|t| !yaml::is_standard_tag(t))
        {
            // cfn-guard knows none of the tags CloudFormation's reading left (those it knows
            // were rewritten): the value stays, the tag goes.
            node.tag = None;
        }
        Some(())
    }

    fn children(&self, node: &mut Node, long: bool) -> Option<()> {
        match &mut node.value {
            Value::Seq(items) => items.iter_mut().try_for_each(|n| self.node(n, long)),
            Value::Map(entries) => entries.iter_mut().try_for_each(|(k, v)| {
                self.node(k, false)?;
                self.node(v, long)
            }),
            _ => Some(()),
        }
    }

    /// An untagged plain scalar, resolved again from its text.
    fn scalar(&self, node: &mut Node) -> Option<()> {
        let value = match &node.value {
            // CloudFormation's reading kept the text as it was: it is the scalar's text.
            Value::String(text) => yaml::scalar::guard_non_string(text),
            v => {
                let text = self.source.text().get(node.span.clone())?;
                if !same_scalar(&yaml::scalar::resolve_plain(text), v) {
                    return None;
                }
                Some(yaml::scalar::resolve_guard(text))
            }
        };
        if let Some(value) = value {
            node.value = value;
        }
        Some(())
    }

    /// The rewriting of the short form at `node`'s start, when `node` is its mapping.
    fn rewritten_at(&self, node: &Node) -> Option<&yaml::Rewritten> {
        if node.tag.is_some() || !matches!(&node.value, Value::Map(entries) if entries.len() == 1) {
            return None;
        }
        let at = self
            .rewritten
            .binary_search_by_key(&node.span.start, |r| r.start)
            .ok()?;
        Some(self.rewritten[at])
    }

    /// A short form as cfn-guard reads it: its value's children as any others, the value
    /// itself as written; in long form when cfn-guard knows the tag, else the value alone.
    fn short_form(&self, node: &mut Node, r: &yaml::Rewritten) -> Option<()> {
        let Value::Map(entries) = &mut node.value else {
            return None;
        };
        let (key, mut inner) = entries.pop()?;
        if r.split
            && let Value::Seq(parts) = &inner.value
            && let [res, attr] = parts.as_slice()
            && let (Some(res), Some(attr)) = (res.as_str(), attr.as_str())
        {
            let mut joined = compact_str::CompactString::with_capacity(res.len() + 1 + attr.len());
            joined.push_str(res);
            joined.push('.');
            joined.push_str(attr);
            inner.value = Value::String(joined);
        }
        inner.plain = r.plain;
        self.children(&mut inner, true)?;
        match GUARD_SHORT_FORMS.iter().any(|(short, _)| *short == r.tag) {
            // CloudFormation's long-form key is cfn-guard's.
            true => entries.push((key, inner)),
            false => {
                node.plain = r.plain;
                node.value = inner.value;
            }
        }
        Some(())
    }
}

/// `node` as cfn-guard's reader makes it, in one walk: untagged plain scalars resolved again
/// from their text and, when `long` (everywhere but inside a mapping key, which the reader
/// leaves as written), short forms in long form.
fn reread(source: &Source, node: &Node, long: bool) -> Option<Node> {
    let value = match &node.value {
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|n| reread(source, n, long))
                .collect::<Option<_>>()?,
        ),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| Some((reread(source, k, false)?, reread(source, v, long)?)))
                .collect::<Option<_>>()?,
        ),
        v if !node.plain || node.tag.is_some() => v.clone(),
        // CloudFormation's reading kept the text as it was: it is the scalar's text.
        Value::String(text) => yaml::scalar::resolve_guard(text),
        v => {
            let text = source.text().get(node.span.clone())?;
            if !same_scalar(&yaml::scalar::resolve_plain(text), v) {
                return None;
            }
            yaml::scalar::resolve_guard(text)
        }
    };
    let (span, tag, plain) = (node.span.clone(), node.tag.clone(), node.plain);
    Some(match long {
        true => tagged(span, tag, plain, value),
        false => Node {
            span,
            tag,
            plain,
            value,
        },
    })
}

/// Equal scalars, NaN equal to itself.
fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => a == b,
    }
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
    tagged(span, tag, plain, value)
}

/// A node whose children are in long form: its own short-form tag, if cfn-guard knows it,
/// becomes a long-form mapping; a standard tag stays; any other tag is dropped.
fn tagged(span: std::ops::Range<usize>, tag: Option<Box<str>>, plain: bool, value: Value) -> Node {
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
                value: Value::String(key.into()),
            };
            Node {
                span,
                tag: None,
                plain: false,
                value: Value::Map(vec![(key, inner)]),
            }
        }
        (None, Some(t)) if yaml::is_standard_tag(&t) => Node {
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
