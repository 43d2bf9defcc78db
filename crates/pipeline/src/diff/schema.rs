//! Schema compatibility between two versions of a bundle (proton-format.md §5): which changes
//! a minor version may make (every spec valid before stays valid) and which need a new major.
//!
//! The comparison walks the OpenAPI nodes of `schema.yaml` (not the converted JSON Schema), so
//! every change has a place: in the new schema, or in the old one for what was removed.
//! Object properties and array items are compared recursively (`a.b`, `a[]`).

use serde_json::Value as Json;

use crate::bundle::Bundle;
use crate::diag::{Diagnostic, codes};
use crate::schema::InputSchema;
use crate::source::Source;
use crate::yaml::Node;

/// How a change affects existing specs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Specs stay valid: a minor version may make it.
    Compatible,
    /// Specs stay valid but may render differently, or proctor cannot prove they stay valid.
    Warning,
    /// Some valid spec may stop being valid: a new major version is needed.
    Breaking,
}

/// The verdict on a whole change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    None,
    Compatible,
    Breaking,
}

impl Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::None => "no schema change",
            Verdict::Compatible => "compatible (a minor version)",
            Verdict::Breaking => "breaking (needs a new major version)",
        }
    }
}

/// One classified change.
#[derive(Clone, Debug)]
pub struct Change {
    pub level: Level,
    /// The rule of proton-format.md §5 that classifies it, e.g. "remove an input".
    pub rule: &'static str,
    pub message: String,
    /// Where: the new schema, or the old one for removals.
    pub source: Source,
    pub span: std::ops::Range<usize>,
}

impl Change {
    /// The change as a diagnostic (V001 breaking, V002 compatible, V003 a changed default,
    /// V004 a pattern proctor cannot prove wider). `help` is the advice for breaking ones.
    pub fn diagnostic(&self, help_breaking: &str) -> Diagnostic {
        let (code, help) = match (self.level, self.rule) {
            (Level::Breaking, _) => (codes::V001, help_breaking.to_string()),
            (Level::Warning, RULE_DEFAULT) => (
                codes::V003,
                "specs that leave the input out now get the new default: check that every deployment still wants it".to_string(),
            ),
            (Level::Warning, _) => (
                codes::V004,
                "write the new pattern as an alternation that keeps the old one (`old|new`) if it only widens; otherwise treat it as breaking and make a new major version".to_string(),
            ),
            (Level::Compatible, _) => (
                codes::V002,
                "a minor version may make this change".to_string(),
            ),
        };
        Diagnostic::new(code, format!("{} ({})", self.message, self.rule))
            .at(&self.source, self.span.clone())
            .help(help)
    }
}

const RULE_DEFAULT: &str = "change a default";

pub fn verdict(changes: &[Change]) -> Verdict {
    if changes.iter().any(|c| c.level == Level::Breaking) {
        Verdict::Breaking
    } else if changes.is_empty() {
        Verdict::None
    } else {
        Verdict::Compatible
    }
}

/// One side of the comparison: a schema file and a node in it.
#[derive(Clone, Copy)]
struct Side<'a> {
    source: &'a Source,
    node: &'a Node,
}

impl<'a> Side<'a> {
    fn get(&self, key: &str) -> Option<Side<'a>> {
        self.node.get(key).map(|node| Side {
            source: self.source,
            node,
        })
    }
    fn key_span(&self, key: &str) -> Option<std::ops::Range<usize>> {
        self.node.entry(key).map(|(k, _)| k.span.clone())
    }
    fn json(&self, key: &str) -> Option<Json> {
        self.node.get(key).map(Node::to_json)
    }
}

struct Cx<'a> {
    old: &'a Source,
    new: &'a Source,
    out: Vec<Change>,
}

impl Cx<'_> {
    fn push(
        &mut self,
        level: Level,
        rule: &'static str,
        message: String,
        source: &Source,
        span: std::ops::Range<usize>,
    ) {
        self.out.push(Change {
            level,
            rule,
            message,
            source: source.clone(),
            span,
        });
    }
}

/// Compares the input schemas and compatible environments of two versions of a bundle.
pub fn compare(old: &Bundle, new: &Bundle) -> Vec<Change> {
    let mut out = Vec::new();
    if let (Some(o), Some(n)) = (&old.schema, &new.schema) {
        out.extend(compare_schemas(o, n));
    }
    // Compatible environments: a removal is shown where the old registration named it.
    let same = |a: &crate::bundle::EnvTemplateRef, b: &crate::bundle::EnvTemplateRef| {
        a.name == b.name && a.major == b.major
    };
    for o in &old.compatible_environments {
        if !new.compatible_environments.iter().any(|n| same(n, o)) {
            out.push(Change {
                level: Level::Breaking,
                rule: "drop a compatible environment",
                message: format!("environment template `{o}` is no longer compatible: its service instances cannot update"),
                source: o.source.clone(),
                span: o.span.clone(),
            });
        }
    }
    for n in &new.compatible_environments {
        if !old.compatible_environments.iter().any(|o| same(n, o)) {
            out.push(Change {
                level: Level::Compatible,
                rule: "add a compatible environment",
                message: format!("environment template `{n}` is now compatible"),
                source: n.source.clone(),
                span: n.span.clone(),
            });
        }
    }
    out
}

/// Compares two input schemas: each `*_input_type` the old one declares with the new one's.
pub fn compare_schemas(old: &InputSchema, new: &InputSchema) -> Vec<Change> {
    let mut cx = Cx {
        old: &old.source,
        new: &new.source,
        out: Vec::new(),
    };
    type Pick = fn(&InputSchema) -> &Option<crate::schema::TypeRef>;
    let roles: [(&str, Pick); 3] = [
        ("environment_input_type", |s| &s.environment_input_type),
        ("service_input_type", |s| &s.service_input_type),
        ("pipeline_input_type", |s| &s.pipeline_input_type),
    ];
    for (key, pick) in roles {
        match (pick(old), pick(new)) {
            (Some(o), Some(n)) => {
                let (Some(ot), Some(nt)) = (old.get_type(o), new.get_type(n)) else {
                    continue;
                };
                let (os, ns) = (
                    Side { source: &old.source, node: &ot.node },
                    Side { source: &new.source, node: &nt.node },
                );
                let before = cx.out.len();
                compare_object(&mut cx, os, ns, "");
                if o.name != n.name && cx.out.len() == before {
                    cx.push(
                        Level::Compatible,
                        "point an input type at a type of the same shape",
                        format!("`{key}` now names `{}` (was `{}`), of the same shape", n.name, o.name),
                        &new.source,
                        n.span.clone(),
                    );
                }
            }
            (None, Some(n)) if key == "pipeline_input_type" => cx.push(
                Level::Breaking,
                "add pipeline_input_type",
                format!("the service now has pipeline inputs (`{}`): existing service specs have no `pipeline:`", n.name),
                &new.source,
                n.span.clone(),
            ),
            (Some(o), None) => cx.push(
                Level::Breaking,
                "remove an input type",
                format!("`{key}` (`{}`) was removed: specs that give those inputs lose them", o.name),
                &old.source,
                o.span.clone(),
            ),
            _ => {}
        }
    }
    cx.out
}

fn property_names(side: Side) -> Vec<(String, std::ops::Range<usize>)> {
    side.node
        .get("properties")
        .and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, _)| Some((k.scalar_text()?, k.span.clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn required(side: Side) -> Vec<String> {
    side.node
        .get("required")
        .and_then(|r| match &r.value {
            crate::yaml::Value::Seq(items) => {
                Some(items.iter().filter_map(Node::scalar_text).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Compares two object schemas: their properties, required lists and additionalProperties.
fn compare_object(cx: &mut Cx, old: Side, new: Side, path: &str) {
    let (old_props, new_props) = (property_names(old), property_names(new));
    let (old_req, new_req) = (required(old), required(new));
    for (name, span) in &old_props {
        if !new_props.iter().any(|(n, _)| n == name) {
            cx.push(
                Level::Breaking,
                "remove an input",
                format!(
                    "input `{}` was removed: specs that set it lose its value (Proton ignored inputs the schema does not declare)",
                    join(path, name)
                ),
                cx.old,
                span.clone(),
            );
        }
    }
    for (name, span) in &new_props {
        let Some(np) = new.get("properties").and_then(|p| p.get(name)) else {
            continue;
        };
        let has_default = np.node.get("default").is_some();
        let is_required = new_req.contains(name);
        match old.get("properties").and_then(|p| p.get(name)) {
            None => {
                let (level, rule, what) = match (is_required, has_default) {
                    (true, false) => (
                        Level::Breaking,
                        "add a required input without a default",
                        "a required input without a default",
                    ),
                    (true, true) => (
                        Level::Compatible,
                        "add a required input with a default",
                        "a required input with a default",
                    ),
                    (false, _) => (
                        Level::Compatible,
                        "add an optional input",
                        "an optional input",
                    ),
                };
                cx.push(
                    level,
                    rule,
                    format!("input `{}` was added, {what}", join(path, name)),
                    cx.new,
                    span.clone(),
                );
            }
            Some(op) => {
                if is_required && !old_req.contains(name) {
                    let (level, rule) = if has_default {
                        (
                            Level::Compatible,
                            "make an input required that has a default",
                        )
                    } else {
                        (Level::Breaking, "make an input required without a default")
                    };
                    cx.push(
                        level,
                        rule,
                        format!("input `{}` is now required", join(path, name)),
                        cx.new,
                        span.clone(),
                    );
                }
                compare_input(cx, op, np, &join(path, name), span.clone());
            }
        }
    }
    for name in &old_req {
        if !new_req.contains(name) && new_props.iter().any(|(n, _)| n == name) {
            let span = new.key_span("required").unwrap_or(0..0);
            cx.push(
                Level::Compatible,
                "make an input optional",
                format!("input `{}` is no longer required", join(path, name)),
                cx.new,
                span,
            );
        }
    }
    let closed = |s: Side| s.json("additionalProperties") == Some(Json::Bool(false));
    if closed(new) && !closed(old) {
        cx.push(
            Level::Breaking,
            "forbid additional properties",
            format!(
                "`{}` no longer accepts properties it does not declare",
                if path.is_empty() {
                    "the input type"
                } else {
                    path
                }
            ),
            cx.new,
            new.key_span("additionalProperties").unwrap_or(0..0),
        );
    }
}

fn number(side: Side, key: &str) -> Option<f64> {
    side.node.get(key).and_then(|n| n.to_json().as_f64())
}

/// One input compared: its schema on each side, its name, and its key in the new schema.
#[derive(Clone, Copy)]
struct Input<'a> {
    old: Side<'a>,
    new: Side<'a>,
    path: &'a str,
    at: &'a std::ops::Range<usize>,
}

impl Input<'_> {
    /// Where `key` is in the new schema, else the input's own key.
    fn place(&self, key: &str) -> std::ops::Range<usize> {
        self.new.key_span(key).unwrap_or(self.at.clone())
    }
}

/// Compares one input's schema (`path` names it; `at` is its key in the new schema).
fn compare_input(cx: &mut Cx, old: Side, new: Side, path: &str, at: std::ops::Range<usize>) {
    let place = |key: &str| new.key_span(key).unwrap_or(at.clone());
    let (ot, nt) = (old.json("type"), new.json("type"));
    if ot != nt {
        let show = |t: &Option<Json>| t.as_ref().map_or("any".to_string(), |t| t.to_string());
        cx.push(
            Level::Breaking,
            "change an input's type",
            format!(
                "input `{path}` changed type from {} to {}",
                show(&ot),
                show(&nt)
            ),
            cx.new,
            place("type"),
        );
        return; // the rest compares values of different kinds
    }
    let input = Input {
        old,
        new,
        path,
        at: &at,
    };
    compare_enum(cx, &input);
    compare_bounds(cx, &input);
    compare_pattern(cx, &input);
    compare_nullable(cx, &input);
    compare_default(cx, &input);
    compare_texts(cx, &input);
    // Nested objects and array items.
    if old.node.get("properties").is_some() || new.node.get("properties").is_some() {
        compare_object(cx, old, new, path);
    }
    if let (Some(oi), Some(ni)) = (old.get("items"), new.get("items")) {
        let at = new.key_span("items").unwrap_or(at);
        compare_input(cx, oi, ni, &format!("{path}[]"), at);
    }
}

/// Enum values removed (breaking) or added (compatible).
fn compare_enum(cx: &mut Cx, input: &Input) {
    let Input { old, new, path, .. } = *input;
    let place = |key: &str| input.place(key);
    let values = |s: Side| s.json("enum").and_then(|e| e.as_array().cloned());
    match (values(old), values(new)) {
        (Some(o), Some(n)) => {
            let removed: Vec<String> = o
                .iter()
                .filter(|v| !n.contains(v))
                .map(ToString::to_string)
                .collect();
            let added: Vec<String> = n
                .iter()
                .filter(|v| !o.contains(v))
                .map(ToString::to_string)
                .collect();
            if !removed.is_empty() {
                cx.push(
                    Level::Breaking,
                    "remove enum values",
                    format!("input `{path}` no longer allows {}", removed.join(", ")),
                    cx.new,
                    place("enum"),
                );
            }
            if !added.is_empty() {
                cx.push(
                    Level::Compatible,
                    "widen an enum",
                    format!("input `{path}` now also allows {}", added.join(", ")),
                    cx.new,
                    place("enum"),
                );
            }
        }
        (None, Some(_)) => cx.push(
            Level::Breaking,
            "remove enum values",
            format!("input `{path}` is now limited to a list of values"),
            cx.new,
            place("enum"),
        ),
        (Some(_), None) => cx.push(
            Level::Compatible,
            "widen an enum",
            format!("input `{path}` is no longer limited to a list of values"),
            cx.new,
            place("enum"),
        ),
        (None, None) => {}
    }
}

/// Length, range and item-count bounds, tightened (breaking) or widened (compatible).
fn compare_bounds(cx: &mut Cx, input: &Input) {
    let Input { old, new, path, .. } = *input;
    let place = |key: &str| input.place(key);
    let at = input.at;
    // Bounds: (keyword, is a lower bound, what it limits).
    for (key, lower, rule_tight, rule_wide) in [
        (
            "minLength",
            true,
            "tighten minLength/maxLength",
            "widen a bound",
        ),
        (
            "maxLength",
            false,
            "tighten minLength/maxLength",
            "widen a bound",
        ),
        ("minimum", true, "tighten minimum/maximum", "widen a bound"),
        ("maximum", false, "tighten minimum/maximum", "widen a bound"),
        (
            "minItems",
            true,
            "tighten minItems/maxItems",
            "widen a bound",
        ),
        (
            "maxItems",
            false,
            "tighten minItems/maxItems",
            "widen a bound",
        ),
    ] {
        let (o, n) = (number(old, key), number(new, key));
        let tighter = match (o, n) {
            (None, Some(_)) => Some(true),
            (Some(_), None) => Some(false),
            (Some(o), Some(n)) if o != n => Some(if lower { n > o } else { n < o }),
            _ => None,
        };
        let show = |v: Option<f64>| {
            v.map_or("none".to_string(), |v| {
                Json::from(v).to_string().trim_end_matches(".0").to_string()
            })
        };
        match tighter {
            Some(true) => cx.push(
                Level::Breaking,
                rule_tight,
                format!(
                    "input `{path}`: `{key}` went from {} to {}",
                    show(o),
                    show(n)
                ),
                cx.new,
                place(key),
            ),
            Some(false) => {
                let span = if n.is_some() { place(key) } else { at.clone() };
                let message = format!(
                    "input `{path}`: `{key}` went from {} to {}",
                    show(o),
                    show(n)
                );
                cx.push(Level::Compatible, rule_wide, message, cx.new, span);
            }
            None => {}
        }
    }
    for key in ["exclusiveMinimum", "exclusiveMaximum", "uniqueItems"] {
        let on = |s: Side| s.json(key) == Some(Json::Bool(true));
        if on(new) && !on(old) {
            cx.push(
                Level::Breaking,
                "tighten minimum/maximum",
                format!("input `{path}`: `{key}` is now true"),
                cx.new,
                place(key),
            );
        }
    }
}

/// A pattern added or changed (breaking unless provably wider) or removed (compatible).
fn compare_pattern(cx: &mut Cx, input: &Input) {
    let Input { old, new, path, .. } = *input;
    let place = |key: &str| input.place(key);
    let at = input.at;
    let pattern = |s: Side| {
        s.node
            .get("pattern")
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    match (pattern(old), pattern(new)) {
        (None, Some(_)) => cx.push(
            Level::Breaking,
            "tighten pattern",
            format!("input `{path}` must now match a pattern"),
            cx.new,
            place("pattern"),
        ),
        (Some(_), None) => cx.push(
            Level::Compatible,
            "loosen a pattern",
            format!("input `{path}` no longer has a pattern"),
            cx.new,
            at.clone(),
        ),
        (Some(o), Some(n)) if o != n => {
            if provably_wider(&o, &n) {
                cx.push(
                    Level::Compatible,
                    "loosen a pattern",
                    format!("input `{path}`: the pattern `{n}` keeps `{o}` as an alternative"),
                    cx.new,
                    place("pattern"),
                );
            } else {
                cx.push(Level::Warning, "change a pattern", format!("input `{path}`: the pattern changed from `{o}` to `{n}`, and proctor cannot prove it accepts every value the old one did"), cx.new, place("pattern"));
            }
        }
        _ => {}
    }
}

fn compare_nullable(cx: &mut Cx, input: &Input) {
    let Input { old, new, path, .. } = *input;
    let place = |key: &str| input.place(key);
    let nullable = |s: Side| s.json("nullable") == Some(Json::Bool(true));
    if nullable(old) && !nullable(new) {
        cx.push(
            Level::Breaking,
            "make nullable false",
            format!("input `{path}` no longer accepts null"),
            cx.new,
            place("nullable"),
        );
    } else if nullable(new) && !nullable(old) {
        cx.push(
            Level::Compatible,
            "make nullable true",
            format!("input `{path}` now accepts null"),
            cx.new,
            place("nullable"),
        );
    }
}

/// A changed default: a warning, since deployments that relied on it change.
fn compare_default(cx: &mut Cx, input: &Input) {
    let Input { old, new, path, .. } = *input;
    let place = |key: &str| input.place(key);
    let (od, nd) = (old.json("default"), new.json("default"));
    if od != nd {
        let show = |d: &Option<Json>| d.as_ref().map_or("none".to_string(), ToString::to_string);
        cx.push(
            Level::Warning,
            RULE_DEFAULT,
            format!(
                "input `{path}`: the default changed from {} to {}",
                show(&od),
                show(&nd)
            ),
            cx.new,
            place("default"),
        );
    }
}

/// Edited descriptions and titles.
fn compare_texts(cx: &mut Cx, input: &Input) {
    let Input { old, new, path, .. } = *input;
    let place = |key: &str| input.place(key);
    for key in ["description", "title"] {
        if old.json(key) != new.json(key) {
            cx.push(
                Level::Compatible,
                "edit a description or title",
                format!("input `{path}`: `{key}` was edited"),
                cx.new,
                place(key),
            );
        }
    }
}

/// Whether the new pattern is the old one with alternatives added (`old|x`, `x|old`,
/// `(old)|x`, `^(?:old|x)$` for an anchored old `^old$`): then every value the old one
/// matched, the new one matches.
fn provably_wider(old: &str, new: &str) -> bool {
    let alternatives = |p: &str| -> Vec<String> {
        // Top-level alternatives only (not inside groups or classes).
        let (mut depth, mut class, mut escaped, mut start) = (0i32, false, false, 0);
        let mut out = Vec::new();
        for (i, c) in p.char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            match c {
                '\\' => escaped = true,
                '[' if !class => class = true,
                ']' if class => class = false,
                '(' if !class => depth += 1,
                ')' if !class => depth -= 1,
                '|' if !class && depth == 0 => {
                    out.push(p[start..i].to_string());
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(p[start..].to_string());
        out
    };
    let strip_group = |p: &str| -> String {
        let p = p.trim();
        for open in ["(?:", "("] {
            if let Some(inner) = p.strip_prefix(open).and_then(|r| r.strip_suffix(')')) {
                return inner.to_string();
            }
        }
        p.to_string()
    };
    if alternatives(new)
        .iter()
        .any(|a| strip_group(a) == strip_group(old) || a == old)
    {
        return true;
    }
    // Anchored: `^old$` widened to `^(?:old|x)$`.
    if let (Some(o), Some(n)) = (
        old.strip_prefix('^').and_then(|o| o.strip_suffix('$')),
        new.strip_prefix('^').and_then(|n| n.strip_suffix('$')),
    ) {
        let inner = strip_group(n);
        return alternatives(&inner)
            .iter()
            .any(|a| strip_group(a) == strip_group(o));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn schema(text: &str) -> InputSchema {
        let source = SourceFile::new("schema.yaml", "schema.yaml", text.to_string());
        let root = crate::yaml::parse(&source, &Default::default(), &mut Vec::new()).unwrap();
        crate::schema::read(&source, &root, &mut Vec::new()).unwrap()
    }

    const OLD: &str = r#"schema:
  format:
    openapi: "3.0.0"
  service_input_type: "SvcInput"
  types:
    SvcInput:
      type: object
      required: [name]
      properties:
        name:
          type: string
          pattern: '^[a-z]+$'
          maxLength: 20
        port:
          type: integer
          default: 80
          minimum: 1
          maximum: 65535
        size:
          type: string
          enum: [small, large]
        legacy:
          type: string
        tags:
          type: array
          items:
            type: string
            maxLength: 10
"#;

    fn changes(new: &str) -> Vec<(Level, &'static str, String)> {
        compare_schemas(&schema(OLD), &schema(new))
            .into_iter()
            .map(|c| (c.level, c.rule, c.message))
            .collect()
    }

    #[test]
    fn an_unchanged_schema_has_no_changes() {
        assert!(changes(OLD).is_empty());
        assert_eq!(
            verdict(&compare_schemas(&schema(OLD), &schema(OLD))),
            Verdict::None
        );
    }

    #[test]
    fn breaking_changes() {
        let new = OLD
            .replace("        legacy:\n          type: string\n", "")
            .replace("maxLength: 20", "maxLength: 10")
            .replace("enum: [small, large]", "enum: [small]")
            .replace(
                "          type: integer\n          default: 80",
                "          type: string\n          default: \"80\"",
            )
            .replace("            maxLength: 10", "            maxLength: 5")
            .replace("required: [name]", "required: [name, zone]")
            .replace(
                "        tags:\n",
                "        zone:\n          type: string\n        tags:\n",
            );
        let got = changes(&new);
        let rules: Vec<&str> = got
            .iter()
            .filter(|c| c.0 == Level::Breaking)
            .map(|c| c.1)
            .collect();
        for want in [
            "remove an input",
            "tighten minLength/maxLength",
            "remove enum values",
            "change an input's type",
            "add a required input without a default",
        ] {
            assert!(rules.contains(&want), "{want}: {got:?}");
        }
        assert!(got.iter().any(|c| c.2.contains("`tags[]`")), "{got:?}");
        let s = compare_schemas(&schema(OLD), &schema(&new));
        assert_eq!(verdict(&s), Verdict::Breaking);
        // A removal is located in the old schema, at the removed key.
        let removal = s.iter().find(|c| c.rule == "remove an input").unwrap();
        assert_eq!(&removal.source.text()[removal.span.clone()], "legacy");
    }

    #[test]
    fn compatible_changes_and_warnings() {
        let new = OLD
            .replace("maximum: 65535", "maximum: 70000")
            .replace("enum: [small, large]", "enum: [small, large, huge]")
            .replace("pattern: '^[a-z]+$'", "pattern: '^(?:[a-z]+|[0-9]+)$'")
            .replace("default: 80", "default: 8080")
            .replace("        legacy:\n          type: string\n", "        legacy:\n          type: string\n          description: Kept for old specs\n        region:\n          type: string\n");
        let got = changes(&new);
        assert!(got.iter().all(|c| c.0 != Level::Breaking), "{got:?}");
        let rules: Vec<&str> = got.iter().map(|c| c.1).collect();
        for want in [
            "widen a bound",
            "widen an enum",
            "loosen a pattern",
            "change a default",
            "add an optional input",
            "edit a description or title",
        ] {
            assert!(rules.contains(&want), "{want}: {got:?}");
        }
        assert_eq!(
            verdict(&compare_schemas(&schema(OLD), &schema(&new))),
            Verdict::Compatible
        );
        // A pattern proctor cannot prove wider is a warning.
        let got = changes(&OLD.replace("pattern: '^[a-z]+$'", "pattern: '^[a-z0-9]+$'"));
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].0, got[0].1), (Level::Warning, "change a pattern"));
    }

    #[test]
    fn patterns_with_the_old_one_as_an_alternative_are_wider() {
        assert!(provably_wider("^a$", "^a$|^b$"));
        assert!(provably_wider("^[a-z]+$", "^(?:[a-z]+|[0-9]+)$"));
        assert!(provably_wider("abc", "(abc)|d"));
        assert!(!provably_wider("^[a-z]+$", "^[a-z0-9]+$"));
        assert!(!provably_wider("a|b", "a"));
    }

    #[test]
    fn a_pipeline_added_is_breaking() {
        let new = OLD.replace(
            "  service_input_type: \"SvcInput\"\n",
            "  service_input_type: \"SvcInput\"\n  pipeline_input_type: \"PipeInput\"\n",
        ) + "    PipeInput:\n      type: object\n      properties:\n        cmd:\n          type: string\n";
        let got = changes(&new);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].0, got[0].1),
            (Level::Breaking, "add pipeline_input_type")
        );
    }
}
