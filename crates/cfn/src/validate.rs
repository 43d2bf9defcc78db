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

use std::ops::Range;

use serde_json::Value as J;

use super::checks::is_intrinsic;
use super::schema::{Additional, Format, Id, Schema, SchemaNode, ty};
use crate::diag::{Code, codes};
use crate::text::{did_you_mean, list};
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
    s.starts_with(super::PLACEHOLDER_PREFIX) || s.contains("{{resolve:")
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

    fn object(
        &mut self,
        node: &'a SchemaNode,
        site: Site<'n>,
        entries: &'n [(Node, Node)],
        out: &mut Vec<Finding>,
    ) {
        let (present, undecided) = present_keys(entries);
        let misspelled = self.object_keys(node, entries, out);
        // Which keys are present is undecided: the keywords about it are not checked.
        if undecided {
            self.unknown = true;
            return;
        }
        self.required_keys(node, site, &present, &misspelled, out);
        self.key_sets(node, site, entries, &present, out);
        self.exclusions(node, entries, &present, out);
        self.property_count(node, site, present.len() as u64, out);
    }

    /// Each key's value against its property, and the keys the object does not have. Returns
    /// the names the unknown keys look like misspellings of: a required key written `Statuz`
    /// is one mistake (the unknown key), not also a missing `Status`.
    fn object_keys(
        &mut self,
        node: &'a SchemaNode,
        entries: &'n [(Node, Node)],
        out: &mut Vec<Finding>,
    ) -> Vec<&'a str> {
        let mut misspelled: Vec<&'a str> = Vec::new();
        for (k, val) in entries {
            let Some(name) = k.as_str() else { continue };
            if name == "Fn::Transform" || is_no_value(val) {
                continue;
            }
            let site = Site {
                key: Some(k),
                value: val,
            };
            let mut matched = false;
            if let Some(p) = node.property(name) {
                matched = true;
                self.descend(Seg::Key(name), p, site, out);
            }
            for (pattern, p) in &node.pattern_properties {
                if pattern.is_match(name) != Some(false) {
                    matched = true;
                    self.descend(Seg::Key(name), *p, site, out);
                }
            }
            if matched {
                continue;
            }
            match node.additional {
                Additional::Allowed => {}
                Additional::Schema(p) => self.descend(Seg::Key(name), p, site, out),
                Additional::Forbidden => {
                    if let Some(s) = self.unknown_key(node, k, name, out) {
                        misspelled.push(s);
                    }
                }
            }
        }
        misspelled
    }

    /// Reports a key the object does not allow; returns the property it looks like.
    fn unknown_key(
        &self,
        node: &'a SchemaNode,
        k: &Node,
        name: &str,
        out: &mut Vec<Finding>,
    ) -> Option<&'a str> {
        let suggestion = did_you_mean(name, node.properties.iter().map(|(n, _)| &**n));
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None if node.properties.is_empty() => "remove it".to_string(),
            None => {
                let names: Vec<&str> = node.properties.iter().take(12).map(|(n, _)| &**n).collect();
                let more = if node.properties.len() > 12 {
                    ", ..."
                } else {
                    ""
                };
                format!("the properties here are {}{more}", list(&names))
            }
        };
        let message = if self.path.is_empty() {
            format!("`{}` has no property `{name}`", self.type_name)
        } else {
            format!("{} has no property `{name}`", self.subject())
        };
        self.push(out, codes::C017, k.span.clone(), message, help);
        suggestion
    }

    fn required_keys(
        &self,
        node: &SchemaNode,
        site: Site<'_>,
        present: &[&str],
        misspelled: &[&str],
        out: &mut Vec<Finding>,
    ) {
        let has = |n: &str| present.contains(&n);
        for req in &node.required {
            if !has(req) && !misspelled.contains(&&**req) {
                let (message, help) = if self.path.is_empty() {
                    (
                        format!(
                            "resource `{}` (`{}`) is missing the required property `{req}`",
                            self.resource, self.type_name
                        ),
                        format!("add `{req}` under `Properties`"),
                    )
                } else {
                    (
                        format!(
                            "{} is missing the required property `{req}`",
                            self.subject()
                        ),
                        format!("add `{req}` to `{}`", self.path_text()),
                    )
                };
                self.push(out, codes::C018, self.object_span(site), message, help);
            }
        }
    }

    /// `requiredXor`, `requiredOr` and `dependentRequired`.
    fn key_sets(
        &self,
        node: &SchemaNode,
        site: Site<'_>,
        entries: &[(Node, Node)],
        present: &[&str],
        out: &mut Vec<Finding>,
    ) {
        let has = |n: &str| present.contains(&n);
        let names = |set: &[Box<str>]| list(&set.iter().map(|s| &**s).collect::<Vec<_>>());
        if !node.required_xor.is_empty() {
            let set: Vec<&Box<str>> = node.required_xor.iter().filter(|n| has(n)).collect();
            if set.is_empty() {
                self.push(
                    out,
                    codes::C018,
                    self.object_span(site),
                    format!(
                        "{} needs exactly one of {}",
                        self.subject(),
                        names(&node.required_xor)
                    ),
                    format!("set one of {}", names(&node.required_xor)),
                );
            } else if set.len() > 1 {
                // One conflict, one finding: at the second key of the set, naming the first.
                let keys: Vec<&Node> = entries
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|k| k.as_str().is_some_and(|n| set.iter().any(|s| &***s == n)))
                    .collect();
                if let [first, second, ..] = keys.as_slice() {
                    self.push(
                        out,
                        codes::C025,
                        second.span.clone(),
                        format!(
                            "{} takes only one of {}, but sets `{}` and `{}`",
                            self.subject(),
                            names(&node.required_xor),
                            first.as_str().unwrap_or_default(),
                            second.as_str().unwrap_or_default()
                        ),
                        "keep one of them and remove the others".to_string(),
                    );
                }
            }
        }
        if !node.required_or.is_empty() && !node.required_or.iter().any(|n| has(n)) {
            self.push(
                out,
                codes::C018,
                self.object_span(site),
                format!(
                    "{} needs at least one of {}",
                    self.subject(),
                    names(&node.required_or)
                ),
                format!("set one of {}", names(&node.required_or)),
            );
        }
        for (prop, deps) in &node.dependent_required {
            if !has(prop) {
                continue;
            }
            for dep in deps.iter().filter(|d| !has(d)) {
                self.push(
                    out,
                    codes::C018,
                    self.object_span(site),
                    format!("{} sets `{prop}`, which needs `{dep}`", self.subject()),
                    format!("add `{dep}`, or remove `{prop}`"),
                );
            }
        }
    }

    /// `dependentExcluded`.
    fn exclusions(
        &self,
        node: &SchemaNode,
        entries: &[(Node, Node)],
        present: &[&str],
        out: &mut Vec<Finding>,
    ) {
        let has = |n: &str| present.contains(&n);
        // Exclusions are usually written both ways (`A` excludes `B`, `B` excludes `A`): one
        // finding per pair, at the key written second.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for (prop, excluded) in &node.dependent_excluded {
            let Some(a) = entries.iter().position(|(k, _)| k.as_str() == Some(prop)) else {
                continue;
            };
            if !has(prop) {
                continue;
            }
            for (b, (k, _)) in entries.iter().enumerate() {
                if b != a
                    && k.as_str()
                        .is_some_and(|n| excluded.iter().any(|e| &**e == n))
                {
                    let pair = (a.min(b), a.max(b));
                    if !pairs.contains(&pair) {
                        pairs.push(pair);
                    }
                }
            }
        }
        for (a, b) in pairs {
            let (first, second) = (&entries[a].0, &entries[b].0);
            let (x, y) = (
                first.as_str().unwrap_or_default(),
                second.as_str().unwrap_or_default(),
            );
            self.push(
                out,
                codes::C025,
                second.span.clone(),
                format!(
                    "{} sets both `{x}` and `{y}`, which exclude each other",
                    self.subject()
                ),
                format!("remove `{x}` or `{y}`"),
            );
        }
    }

    /// `minProperties` and `maxProperties`.
    fn property_count(
        &self,
        node: &SchemaNode,
        site: Site<'_>,
        count: u64,
        out: &mut Vec<Finding>,
    ) {
        if let Some(min) = node.min_properties.filter(|m| count < *m) {
            self.push(
                out,
                codes::C023,
                self.object_span(site),
                format!(
                    "{} has {count} properties; it needs at least {min}",
                    self.subject()
                ),
                format!("set at least {min}"),
            );
        }
        if let Some(max) = node.max_properties.filter(|m| count > *m) {
            self.push(
                out,
                codes::C023,
                self.object_span(site),
                format!(
                    "{} has {count} properties; it takes at most {max}",
                    self.subject()
                ),
                format!("keep at most {max}"),
            );
        }
    }

    fn descend(&mut self, seg: Seg<'n>, id: Id, site: Site<'n>, out: &mut Vec<Finding>) {
        self.path.push(seg);
        self.check(id, site, 0, out);
        self.path.pop();
    }

    fn array(
        &mut self,
        node: &'a SchemaNode,
        site: Site<'n>,
        items: &'n [Node],
        out: &mut Vec<Finding>,
    ) {
        if let Some(item_schema) = node.items {
            for (i, item) in items.iter().enumerate() {
                if is_no_value(item) {
                    continue;
                }
                self.descend(
                    Seg::Index(i),
                    item_schema,
                    Site {
                        key: None,
                        value: item,
                    },
                    out,
                );
            }
        }
        // Counts are undecided when an item is a function (`Fn::If` may drop it, a `Ref` to a
        // list parameter may be many).
        if items.iter().any(is_intrinsic) {
            self.unknown = true;
        } else {
            let n = items.len() as u64;
            if let Some(min) = node.min_items.filter(|m| n < *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} has {n} item{}; it needs at least {min}",
                        self.subject(),
                        plural(n)
                    ),
                    format!("give it at least {min}"),
                );
            }
            if let Some(max) = node.max_items.filter(|m| n > *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!("{} has {n} items; it takes at most {max}", self.subject()),
                    format!("keep at most {max}"),
                );
            }
        }
        if node.unique_items {
            let keys: Vec<String> = items.iter().map(canonical).collect();
            if let Some(dup) = (1..keys.len()).find(|&i| keys[..i].contains(&keys[i])) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!("{} lists the same item twice (item {dup})", self.subject()),
                    "remove the duplicate".to_string(),
                );
            }
        }
    }

    fn scalar(&mut self, node: &SchemaNode, site: Site<'n>, out: &mut Vec<Finding>) {
        let v = site.value;
        let text = v.scalar_text().unwrap_or_default();
        if let Some(values) = &node.enumeration
            && !values.iter().any(|e| py_equal(v, e, false))
        {
            self.not_allowed(values, v, &text, site, out);
            return;
        }
        if let Some(values) = &node.enum_case_insensitive
            && !values.iter().any(|e| py_equal(v, e, true))
        {
            self.not_allowed(values, v, &text, site, out);
            return;
        }
        if let Some(c) = &node.constant
            && !py_equal(v, c, false)
        {
            self.not_allowed(std::slice::from_ref(c), v, &text, site, out);
            return;
        }
        if let Some(p) = &node.pattern
            && !v.is_null()
            && p.is_match(&pattern_text(v)) == Some(false)
        {
            self.push(
                out,
                codes::C024,
                self.value_span(site),
                format!(
                    "`{}` does not match the pattern of {}",
                    shorten(&text),
                    self.subject()
                ),
                format!("write a value that matches `{}`", shorten(&p.source)),
            );
            return;
        }
        if let (Some(f), Value::String(s)) = (node.format, &v.value)
            && !format_ok(f, s)
        {
            self.push(
                out,
                codes::C024,
                self.value_span(site),
                format!(
                    "`{}` is not {} ({})",
                    shorten(s),
                    format_name(f),
                    self.subject()
                ),
                format_help(f).to_string(),
            );
            return;
        }
        if let Value::String(s) = &v.value {
            let len = s.chars().count() as u64;
            if let Some(min) = node.min_length.filter(|m| len < *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} is {len} characters long; it needs at least {min}",
                        self.subject()
                    ),
                    format!("write at least {min} characters"),
                );
            }
            if let Some(max) = node.max_length.filter(|m| len > *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} is {len} characters long; it takes at most {max}",
                        self.subject()
                    ),
                    format!("shorten it to {max} characters"),
                );
            }
        }
        let number = match &v.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::String(s) => py_float(s),
            _ => None,
        };
        if let Some(x) = number.filter(|x| !x.is_nan()) {
            let bound = |ok: bool, what: &str, m: f64| {
                (!ok).then(|| format!("{what} {}", crate::yaml::format_float(m)))
            };
            let broken = [
                node.minimum.and_then(|m| bound(x >= m, "at least", m)),
                node.maximum.and_then(|m| bound(x <= m, "at most", m)),
                node.exclusive_minimum
                    .and_then(|m| bound(x > m, "more than", m)),
                node.exclusive_maximum
                    .and_then(|m| bound(x < m, "less than", m)),
                node.multiple_of
                    .and_then(|m| bound((x / m).fract() == 0.0, "a multiple of", m)),
            ];
            if let Some(rule) = broken.into_iter().flatten().next() {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} is {}; it must be {rule}",
                        self.subject(),
                        shorten(&text)
                    ),
                    format!("write a number that is {rule}"),
                );
            }
        }
    }

    fn not_allowed(
        &self,
        values: &[J],
        v: &Node,
        text: &str,
        site: Site<'_>,
        out: &mut Vec<Finding>,
    ) {
        let shown: Vec<String> = values
            .iter()
            .map(|e| match e {
                J::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let refs: Vec<&str> = shown.iter().map(String::as_str).collect();
        let (listed, more) = if refs.len() > 20 {
            let head: Vec<String> = refs[..20].iter().map(|r| format!("`{r}`")).collect();
            (head.join(", "), format!(" and {} more", refs.len() - 20))
        } else {
            (list(&refs), String::new())
        };
        let help = match did_you_mean(text, refs.iter().copied()).filter(|_| !v.is_null()) {
            Some(s) => format!("did you mean `{s}`? The allowed values are {listed}{more}"),
            None => format!("the allowed values are {listed}{more}"),
        };
        let name = self.path_text();
        self.push(
            out,
            codes::C020,
            self.value_span(site),
            format!("`{}` is not an allowed value of `{name}`", shorten(text)),
            help,
        );
    }

    /// `oneOf` (`exactly`) or `anyOf`: each alternative is tried silently; as in cfn-lint, an
    /// alternative that meets an unknown value leaves the outcome undecided.
    fn alternatives(
        &mut self,
        alts: &[Id],
        exactly: bool,
        site: Site<'n>,
        hops: u8,
        out: &mut Vec<Finding>,
    ) {
        let mut valid = 0;
        let mut unknown = false;
        let mut failures: Vec<(Id, Vec<Finding>)> = Vec::new();
        for &alt in alts {
            match self.trial(alt, site, hops) {
                Trial::Valid => {
                    valid += 1;
                    if !exactly {
                        return;
                    }
                }
                Trial::Unknown => unknown = true,
                Trial::Invalid(f) => failures.push((alt, f)),
            }
        }
        if valid == 1 || (unknown && valid < 2) {
            if unknown {
                self.unknown = true;
            }
            return;
        }
        if !self.key_set_alternatives(alts, exactly, valid, site, out) {
            self.no_alternative(alts, failures, site, hops, out);
        }
    }

    /// Alternatives that only differ in which keys are required (`oneOf` of `required` sets):
    /// reported as keys to add or to remove. Returns false when the alternatives are not such
    /// sets and nothing was reported.
    fn key_set_alternatives(
        &self,
        alts: &[Id],
        exactly: bool,
        valid: usize,
        site: Site<'_>,
        out: &mut Vec<Finding>,
    ) -> bool {
        // Alternatives that only differ in which keys are required.
        let key_sets: Option<Vec<&[Box<str>]>> = alts
            .iter()
            .map(|&a| {
                let n = self.schema.node(a);
                (n.types == 0
                    && n.reference.is_none()
                    && n.properties.is_empty()
                    && !n.required.is_empty()
                    && n.one_of.is_empty()
                    && n.any_of.is_empty())
                .then_some(&n.required[..])
            })
            .collect();
        let describe = |sets: &[&[Box<str>]]| {
            let parts: Vec<String> = sets
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" with ")
                })
                .collect();
            match parts.len() {
                0 | 1 => parts.concat(),
                n => format!("{} or {}", parts[..n - 1].join(", "), parts[n - 1]),
            }
        };
        if valid >= 2 {
            let (message, help) = match &key_sets {
                Some(sets) => (
                    format!("{} takes only one of {}", self.subject(), describe(sets)),
                    "keep one of them and remove the others".to_string(),
                ),
                None => (
                    format!(
                        "{} matches {valid} of the forms it accepts; exactly one must match",
                        self.subject()
                    ),
                    "remove the properties that make it match more than one form".to_string(),
                ),
            };
            self.push(out, codes::C025, self.object_span(site), message, help);
            return true;
        }
        if let Some(sets) = &key_sets {
            self.push(
                out,
                codes::C018,
                self.object_span(site),
                format!(
                    "{} needs {}{}",
                    self.subject(),
                    if exactly {
                        "exactly one of "
                    } else {
                        "one of "
                    },
                    describe(sets)
                ),
                format!("add {}", describe(sets)),
            );
            return true;
        }
        false
    }

    /// No alternative fits: the mistakes of the one the value names (by its `Type`) or whose
    /// kind it has, else one finding naming the closest form's first mistake.
    fn no_alternative(
        &self,
        alts: &[Id],
        mut failures: Vec<(Id, Vec<Finding>)>,
        site: Site<'_>,
        hops: u8,
        out: &mut Vec<Finding>,
    ) {
        // The alternatives whose type fits the value: when only one does, its mistakes are
        // the value's mistakes.
        let mut fitting: Vec<&(Id, Vec<Finding>)> = failures
            .iter()
            .filter(|(alt, _)| {
                let t = self.resolved_types(self.schema.node(*alt), hops);
                t == 0 || matches_type(t, site.value)
            })
            .collect();
        // Alternatives told apart by a `Type` key (SAM's event sources: `Type: S3`, `Type:
        // Schedule`...): the one the value names is the one it meant.
        if let Some(kind) = site.value.get("Type").and_then(Node::as_str) {
            let named: Vec<&(Id, Vec<Finding>)> = fitting
                .iter()
                .copied()
                .filter(|(alt, _)| self.names_type(*alt, kind, hops))
                .collect();
            if named.len() == 1 {
                // Named by the value itself: its mistakes are reported where they are.
                let fit = named[0].0;
                if let Some(index) = failures.iter().position(|(alt, _)| *alt == fit) {
                    out.extend(failures.swap_remove(index).1);
                }
                return;
            }
            if !named.is_empty() {
                fitting = named;
            }
        }
        if fitting.len() == 1 {
            // The value's mistakes in the one form its kind fits, reported on the line of the
            // property that has the alternatives (where cfn-lint reports a failed `oneOf`).
            let at = self.value_span(site);
            let fit = fitting[0].0;
            let Some(index) = failures.iter().position(|(alt, _)| *alt == fit) else {
                return;
            };
            for mut f in failures.swap_remove(index).1 {
                f.span = at.clone();
                out.push(f);
            }
            return;
        }
        let best = failures
            .iter()
            .min_by_key(|(_, f)| f.len())
            .and_then(|(_, f)| f.first());
        let help = match best {
            Some(f) => format!("the closest form fails with: {}", f.message),
            None => "write a value of one of the accepted forms".to_string(),
        };
        self.push(
            out,
            codes::C025,
            self.value_span(site),
            format!(
                "{} matches none of the {} forms it accepts",
                self.subject(),
                alts.len()
            ),
            help,
        );
    }

    /// Whether an alternative's `Type` property allows exactly `kind` (through `$ref`s).
    fn names_type(&self, id: Id, kind: &str, hops: u8) -> bool {
        if hops > MAX_HOPS {
            return false;
        }
        let node = self.schema.node(id);
        if let Some(t) = node.property("Type") {
            let t = self.schema.node(t);
            let t = t.reference.map_or(t, |r| self.schema.node(r));
            return t
                .enumeration
                .as_deref()
                .is_some_and(|e| e.iter().any(|v| v.as_str() == Some(kind)))
                || t.constant.as_ref().and_then(J::as_str) == Some(kind);
        }
        node.reference
            .is_some_and(|r| self.names_type(r, kind, hops + 1))
    }

    fn trial(&mut self, id: Id, site: Site<'n>, hops: u8) -> Trial {
        let saved = std::mem::replace(&mut self.unknown, false);
        let mut found = Vec::new();
        self.check(id, site, hops + 1, &mut found);
        let unknown = std::mem::replace(&mut self.unknown, saved);
        if !found.is_empty() {
            Trial::Invalid(found)
        } else if unknown {
            Trial::Unknown
        } else {
            Trial::Valid
        }
    }
}

/// The keys present in an object, `!Ref AWS::NoValue` ones left out; and whether that set is
/// undecided (an `Fn::If` value may be absent, `Fn::Transform` may add keys).
fn present_keys(entries: &[(Node, Node)]) -> (Vec<&str>, bool) {
    let mut present: Vec<&str> = Vec::with_capacity(entries.len());
    let mut undecided = false;
    for (k, val) in entries {
        let Some(name) = k.as_str() else { continue };
        if name == "Fn::Transform" {
            undecided = true;
            continue;
        }
        if is_no_value(val) {
            continue;
        }
        if is_intrinsic(val) && val.get("Fn::If").is_some() {
            undecided = true;
        }
        present.push(name);
    }
    (present, undecided)
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

/// Whether a value is of one of the types, converting scalars as CloudFormation does.
fn matches_type(bits: u8, v: &Node) -> bool {
    let has = |b: u8| bits & b != 0;
    match &v.value {
        Value::Map(_) => has(ty::OBJECT),
        Value::Seq(_) => has(ty::ARRAY),
        Value::Null => has(ty::NULL),
        Value::Bool(_) => has(ty::STRING | ty::BOOLEAN),
        Value::Int(_) => has(ty::STRING | ty::INTEGER | ty::NUMBER),
        Value::Float(f) => has(ty::STRING | ty::NUMBER) || (has(ty::INTEGER) && f.is_finite()),
        Value::String(s) => {
            has(ty::STRING)
                || (has(ty::NUMBER) && py_float(s).is_some())
                || (has(ty::INTEGER) && py_int(s))
                || (has(ty::BOOLEAN)
                    && (["true", "True", "TRUE", "false", "False", "FALSE"].contains(&s.as_str())
                        // CloudFormation reads YAML 1.1, where a plain `Yes`, `off`... is a boolean.
                        || (v.plain && crate::yaml::scalar::is_yaml11_bool(s))))
        }
    }
}

fn type_names(bits: u8) -> String {
    let names: Vec<&str> = [
        (ty::OBJECT, "a mapping"),
        (ty::ARRAY, "a list"),
        (ty::STRING, "a string"),
        (ty::INTEGER, "an integer"),
        (ty::NUMBER, "a number"),
        (ty::BOOLEAN, "a boolean"),
        (ty::NULL, "null"),
    ]
    .into_iter()
    .filter(|(b, _)| bits & b != 0)
    .filter(|(b, _)| !(*b == ty::INTEGER && bits & ty::NUMBER != 0))
    .map(|(_, n)| n)
    .collect();
    match names.len() {
        0 => "any value".to_string(),
        1 => names[0].to_string(),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// Python's `int(text)`: optional sign, digits with single underscores between them.
fn py_int(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    !t.is_empty()
        && !t.starts_with('_')
        && !t.ends_with('_')
        && !t.contains("__")
        && t.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Python's `float(text)`.
fn py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.contains('_') {
        let b = t.as_bytes();
        let ok = b.iter().enumerate().all(|(i, &c)| {
            c != b'_'
                || (i > 0
                    && i + 1 < b.len()
                    && b[i - 1].is_ascii_digit()
                    && b[i + 1].is_ascii_digit())
        });
        return if ok {
            t.replace('_', "").parse().ok()
        } else {
            None
        };
    }
    t.parse().ok()
}

/// Python's `str()` of a JSON number (as cfn-lint compares enum values).
fn py_number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// cfn-lint's equality of a template value and a schema value: booleans and their strings
/// compare as booleans, a string and a number as text, numbers as numbers.
fn py_equal(v: &Node, e: &J, case_insensitive: bool) -> bool {
    let fold = |s: &str| {
        if case_insensitive {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let bool_text = |s: &str| match s.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    match (&v.value, e) {
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Bool(a), J::String(s)) => bool_text(s) == Some(*a),
        (Value::String(s), J::Bool(b)) => bool_text(s) == Some(*b),
        (Value::String(s), J::String(t)) => match (bool_text(s), bool_text(t)) {
            (Some(a), Some(b)) => a == b,
            _ => fold(s) == fold(t),
        },
        (Value::String(s), J::Number(n)) => *s == py_number_text(n),
        (Value::Int(i), J::String(t)) => i.to_string() == *t,
        (Value::Float(f), J::String(t)) => {
            serde_json::Number::from_f64(*f).is_some_and(|n| py_number_text(&n) == *t)
        }
        (Value::Int(i), J::Number(n)) => n.as_f64() == Some(*i as f64),
        (Value::Float(f), J::Number(n)) => n.as_f64() == Some(*f),
        (Value::Null, J::Null) => true,
        _ => false,
    }
}

/// The text `pattern` is matched against: strings as they are, other scalars as JSON writes
/// them.
fn pattern_text(v: &Node) -> String {
    match &v.value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| f.to_string(), |n| n.to_string())
        }
        _ => String::new(),
    }
}

/// An item's identity for `uniqueItems`: numbers and booleans as text, like cfn-lint.
fn canonical(v: &Node) -> String {
    match &v.value {
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => v.to_json().to_string(),
        _ => v.scalar_text().unwrap_or_default(),
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Ipv4 => "an IPv4 address",
        Format::Ipv4Network => "an IPv4 network in CIDR notation",
        Format::Ipv6 => "an IPv6 address",
        Format::Ipv6Network => "an IPv6 network in CIDR notation",
        Format::Date => "a date (YYYY-MM-DD)",
        Format::DateTime => "a date and time (RFC 3339)",
    }
}

fn format_help(f: Format) -> &'static str {
    match f {
        Format::Ipv4 => "write four numbers from 0 to 255, such as `10.0.0.1`",
        Format::Ipv4Network => {
            "write the network's first address and a prefix length, such as `10.0.0.0/16`; the bits after the prefix must be zero"
        }
        Format::Ipv6 => "write an IPv6 address, such as `2001:db8::1`",
        Format::Ipv6Network => {
            "write the network's first address and a prefix length, such as `2001:db8::/32`; the bits after the prefix must be zero"
        }
        Format::Date => "write a date such as `2026-12-31`",
        Format::DateTime => "write a date and time such as `2026-12-31T23:59:00Z`",
    }
}

fn format_ok(f: Format, s: &str) -> bool {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let network = |s: &str, bits: u32, parse: &dyn Fn(&str) -> Option<u128>| -> bool {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return false;
                }
                let Ok(p) = p.parse::<u32>() else {
                    return false;
                };
                if p > bits {
                    return false;
                }
                (a, p)
            }
            None => (s, bits),
        };
        let Some(value) = parse(addr) else {
            return false;
        };
        let host_bits = bits - prefix;
        // The bits after the prefix are zero.
        let host_mask = 1u128.checked_shl(host_bits).map_or(u128::MAX, |b| b - 1);
        value & host_mask == 0
    };
    let v4 = |a: &str| {
        a.parse::<Ipv4Addr>()
            .ok()
            .map(|ip| u128::from(u32::from(ip)))
    };
    let v6 = |a: &str| a.parse::<Ipv6Addr>().ok().map(u128::from);
    match f {
        Format::Ipv4 => s.parse::<Ipv4Addr>().is_ok(),
        Format::Ipv6 => s.parse::<Ipv6Addr>().is_ok(),
        Format::Ipv4Network => network(s, 32, &v4),
        Format::Ipv6Network => network(s, 128, &v6),
        Format::Date => date_ok(s),
        Format::DateTime => {
            let Some((date, time)) = s.split_once('T') else {
                return false;
            };
            date_ok(date) && time_ok(time)
        }
    }
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn date_ok(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    (1..=12).contains(&m) && d >= 1 && d <= days[(m - 1) as usize]
}

/// `HH:MM:SS[.frac](Z|±HH:MM)`.
fn time_ok(s: &str) -> bool {
    let (clock, offset) = if let Some(c) = s.strip_suffix('Z') {
        (c, None)
    } else if let Some(i) = s.rfind(['+', '-']) {
        (&s[..i], Some(&s[i + 1..]))
    } else {
        return false;
    };
    let clock = clock.split_once('.').map_or(clock, |(c, frac)| {
        if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) {
            c
        } else {
            "x"
        }
    });
    let hms: Vec<&str> = clock.split(':').collect();
    let ok_clock = hms.len() == 3
        && digits(hms[0], 2).is_some_and(|h| h < 24)
        && digits(hms[1], 2).is_some_and(|m| m < 60)
        && digits(hms[2], 2).is_some_and(|s| s < 60);
    let ok_offset = offset.is_none_or(|o| {
        o.split_once(':').is_some_and(|(h, m)| {
            digits(h, 2).is_some_and(|h| h < 24) && digits(m, 2).is_some_and(|m| m < 60)
        })
    });
    ok_clock && ok_offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_convert_as_cloudformation_converts_them() {
        assert!(
            py_int(" 12 ")
                && py_int("-3")
                && py_int("1_000")
                && !py_int("1.0")
                && !py_int("")
                && !py_int("1__0")
        );
        assert_eq!(py_float("1e3"), Some(1000.0));
        assert_eq!(py_float(" .5 "), Some(0.5));
        assert_eq!(py_float("1_0.5"), Some(10.5));
        assert_eq!(py_float("abc"), None);
    }

    #[test]
    fn formats_follow_python_ipaddress() {
        assert!(format_ok(Format::Ipv4Network, "10.0.0.0/8"));
        assert!(format_ok(Format::Ipv4Network, "10.0.0.1"));
        assert!(!format_ok(Format::Ipv4Network, "10.0.0.1/8"));
        assert!(!format_ok(Format::Ipv4Network, "192.168.1.0/0"));
        assert!(format_ok(Format::Ipv4Network, "0.0.0.0/0"));
        assert!(!format_ok(Format::Ipv4Network, "10.0.0.0/33"));
        assert!(format_ok(Format::Ipv6Network, "::/0"));
        assert!(format_ok(Format::Ipv6Network, "2001:db8::/32"));
        assert!(!format_ok(Format::Ipv6Network, "2001:db8::1/32"));
        assert!(format_ok(Format::DateTime, "2026-12-04T10:00:00Z"));
        assert!(format_ok(Format::DateTime, "2026-12-04T10:00:00.5+01:00"));
        assert!(!format_ok(Format::DateTime, "2026-13-04T10:00:00Z"));
        assert!(!format_ok(Format::Date, "2026-02-30"));
    }
}
