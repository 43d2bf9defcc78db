//! Validation of a resource's `Properties` against its type's provider schema
//! ([`super::schema`]), nested properties included: types, unknown and required keys,
//! allowed values, patterns, formats, lengths, ranges, item counts, `oneOf`/`anyOf`
//! alternatives and the conditional keywords (`requiredXor`, `dependentRequired`, ...).
//!
//! The rules follow what CloudFormation accepts, as cfn-lint reads the same schemas: scalars
//! convert (a number is a string, `"5"` an integer, `"true"` a boolean); an intrinsic function,
//! a dynamic reference (`{{resolve:...}}`) or a placeholder for an output not deployed yet is
//! *unknown* and never reported, except that a text-producing function cannot fill a list or a
//! mapping; `Fn::If` is checked branch by branch, and `!Ref AWS::NoValue` is an absent value.
//! A value's mistakes are reported where cfn-lint reports them: on the line of the key that
//! holds the value (or of the list item), the key's span when the value starts below it.
//!
//! The walk over a value and its schema is here; the keywords of mappings, lists, scalars and
//! alternatives each have a submodule, and so do the conversions and formats they share.

mod alternatives;
mod array;
mod convert;
mod format;
mod object;
mod scalar;

use std::ops::Range;

use self::convert::{matches_type, type_names};
use super::schema::{Id, Schema, SchemaNode, ty};
use crate::diag::{Code, codes};
use crate::is_intrinsic;
use crate::yaml::{Node, Value};

/// A mistake found in a resource's properties.
#[derive(Debug)]
pub struct Finding {
    pub code: &'static Code,
    pub span: Range<usize>,
    pub message: String,
    pub help: String,
}

/// Work allowed per resource, in schema applications: `oneOf` inside `oneOf` multiplies, and
/// a hostile template must not turn that into minutes. Past it, the rest is unknown.
const STEPS: usize = 200_000;
/// `$ref`/`allOf` hops without descending into the value (a `$ref` cycle in a schema).
const MAX_HOPS: u8 = 32;

/// Checks `props` (the value of `Properties`; `None` when the resource has none) of a
/// resource of type `type_name`. `key` is where an object-level mistake of the whole
/// `Properties` is reported (its key, or the resource's key when absent).
pub fn properties(
    text: &str,
    schema: &Schema,
    type_name: &str,
    resource: &str,
    key: &Node,
    props: Option<&Node>,
) -> Vec<Finding> {
    let empty = Node {
        span: key.span.clone(),
        tag: None,
        plain: false,
        value: Value::Map(Vec::new()),
    };
    let mut w = Walk {
        text,
        schema,
        type_name,
        resource,
        steps: STEPS,
        unknown: false,
        path: Vec::new(),
    };
    let mut out = Vec::new();
    let value = props.unwrap_or(&empty);
    let site = Site {
        key: Some(key),
        value,
    };
    w.check(Schema::ROOT, site, 0, &mut out);
    out
}

#[derive(Clone, Copy)]
enum Seg<'n> {
    Key(&'n str),
    Index(usize),
}

/// Where a value sits: the key that holds it (none for a list item or a function branch).
#[derive(Clone, Copy)]
struct Site<'n> {
    key: Option<&'n Node>,
    value: &'n Node,
}

/// The outcome of trying a value against one alternative of a `oneOf`/`anyOf`.
enum Trial {
    Valid,
    Unknown,
    Invalid(Vec<Finding>),
}

struct Walk<'a, 'n> {
    text: &'a str,
    schema: &'a Schema,
    type_name: &'a str,
    resource: &'a str,
    steps: usize,
    /// Set when an unknown value (a function, a placeholder) was met: a `oneOf` alternative
    /// that met one is undecided rather than valid.
    unknown: bool,
    path: Vec<Seg<'n>>,
}

fn is_no_value(v: &Node) -> bool {
    v.get("Ref").and_then(Node::as_str) == Some("AWS::NoValue") && is_intrinsic(v)
}

/// A string CloudFormation resolves before the resource sees it.
fn is_unresolved_text(s: &str) -> bool {
    // Most strings hold no `{`: found with one pass of `memchr` before any substring search.
    s.starts_with(super::PLACEHOLDER_PREFIX)
        || (s.as_bytes().contains(&b'{') && s.contains("{{resolve:"))
}

impl<'a, 'n> Walk<'a, 'n> {
    /// The property path, for messages: `LifecycleConfiguration.Rules[0].Status`.
    fn path_text(&self) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }

    /// "`Rules[0]` of `AWS::S3::Bucket`", or the type alone at the top.
    fn subject(&self) -> String {
        if self.path.is_empty() {
            format!("`{}`", self.type_name)
        } else {
            format!("`{}` of `{}`", self.path_text(), self.type_name)
        }
    }

    /// The span of a value's mistake: the value when it starts on its key's line, else the key.
    fn value_span(&self, site: Site<'_>) -> Range<usize> {
        match site.key {
            Some(k) if k.span.end <= site.value.span.start => {
                let between = self
                    .text
                    .get(k.span.end..site.value.span.start)
                    .unwrap_or("");
                if between.contains('\n') {
                    k.span.clone()
                } else {
                    site.value.span.clone()
                }
            }
            Some(k) if site.value.span.is_empty() => k.span.clone(),
            _ => site.value.span.clone(),
        }
    }

    /// The span of an object's mistake (a missing key): its key, or its first key.
    fn object_span(&self, site: Site<'_>) -> Range<usize> {
        if let Some(k) = site.key {
            return k.span.clone();
        }
        match site.value.as_map() {
            Some(m) if !m.is_empty() => m[0].0.span.clone(),
            _ => site.value.span.clone(),
        }
    }

    fn push(
        &self,
        out: &mut Vec<Finding>,
        code: &'static Code,
        span: Range<usize>,
        message: String,
        help: String,
    ) {
        out.push(Finding {
            code,
            span,
            message,
            help,
        });
    }

    fn check(&mut self, id: Id, site: Site<'n>, hops: u8, out: &mut Vec<Finding>) {
        if self.steps == 0 || hops > MAX_HOPS {
            self.unknown = true;
            return;
        }
        self.steps -= 1;
        let node: &'a SchemaNode = self.schema.node(id);
        let v = site.value;
        if is_intrinsic(v) {
            self.function(node, id, site, hops, out);
            return;
        }
        // `Key:` with nothing after it: cfn-lint leaves it to other rules, and so does proctor.
        if v.is_null() {
            self.unknown = true;
            return;
        }
        // A value a preprocessor replaces (a Rain directive, an unknown tag), or text
        // CloudFormation resolves.
        if v.tag.as_deref().is_some_and(|t| !t.starts_with("!!"))
            || v.as_str().is_some_and(is_unresolved_text)
        {
            self.unknown = true;
            return;
        }
        if let Some(target) = node.reference {
            self.check(target, site, hops + 1, out);
        }
        for &sub in &node.all_of {
            self.check(sub, site, hops + 1, out);
        }
        if node.types != 0 && !matches_type(node.types, v) {
            self.push(
                out,
                codes::C019,
                self.value_span(site),
                format!(
                    "{} must be {}, found {}",
                    self.subject(),
                    type_names(node.types),
                    v.kind_name()
                ),
                format!("write {}", type_names(node.types)),
            );
            return;
        }
        match &v.value {
            Value::Map(entries) => self.object(node, site, entries, out),
            Value::Seq(items) => self.array(node, site, items, out),
            _ => self.scalar(node, site, out),
        }
        if !node.one_of.is_empty() {
            self.alternatives(&node.one_of, true, site, hops, out);
        }
        if !node.any_of.is_empty() {
            self.alternatives(&node.any_of, false, site, hops, out);
        }
    }

    /// A value that is a function call: `Fn::If` branches are checked as values of the same
    /// property; a text function where only a list or mapping fits is wrong; the rest is unknown.
    fn function(
        &mut self,
        node: &SchemaNode,
        id: Id,
        site: Site<'n>,
        hops: u8,
        out: &mut Vec<Finding>,
    ) {
        let v = site.value;
        let Some((k, arg)) = v.as_map().and_then(|m| m.first()) else {
            return;
        };
        let name = k.as_str().unwrap_or_default();
        if name == "Fn::If"
            && let Some([_, yes, no]) = arg.as_seq()
        {
            for branch in [yes, no] {
                if !is_no_value(branch) {
                    // A branch's mistakes are reported at the key that holds the `Fn::If`
                    // when the branch starts below it (as cfn-lint reports them).
                    self.check(
                        id,
                        Site {
                            key: site.key,
                            value: branch,
                        },
                        hops,
                        out,
                    );
                }
            }
            return;
        }
        self.unknown = true;
        let types = self.resolved_types(node, hops);
        if matches!(name, "Fn::Split" | "Fn::GetAZs" | "Fn::Cidr")
            && types != 0
            && types & ty::ARRAY == 0
        {
            self.push(
                out,
                codes::C019,
                v.span.clone(),
                format!(
                    "{} must be {}, but `{name}` produces a list",
                    self.subject(),
                    type_names(types)
                ),
                "pick one item with `!Select [INDEX, ...]`, or join the list with `!Join`"
                    .to_string(),
            );
        }
        if matches!(name, "Fn::Sub" | "Fn::Join" | "Fn::Base64")
            && types != 0
            && types & (ty::STRING | ty::INTEGER | ty::NUMBER | ty::BOOLEAN) == 0
        {
            self.push(
                out,
                codes::C019,
                v.span.clone(),
                format!(
                    "{} must be {}, but `{name}` produces a string",
                    self.subject(),
                    type_names(types)
                ),
                format!("write {}", type_names(types)),
            );
        }
    }

    /// The types a schema allows, following `$ref`s.
    fn resolved_types(&self, node: &SchemaNode, hops: u8) -> u8 {
        if node.types != 0 || hops > MAX_HOPS {
            return node.types;
        }
        node.reference
            .map_or(0, |r| self.resolved_types(self.schema.node(r), hops + 1))
    }

    fn descend(&mut self, seg: Seg<'n>, id: Id, site: Site<'n>, out: &mut Vec<Finding>) {
        self.path.push(seg);
        self.check(id, site, 0, out);
        self.path.pop();
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn shorten(s: &str) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.chars().count() > 60 || first.len() < s.len() {
        format!("{}...", first.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}
