//! Type-checking a spec's inputs against an input type. Errors point at the offending value
//! in the spec, with a label on the schema property that demands what the value lacks.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value as Json;

use super::Inputs;
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::schema::InputType;
use crate::source::Source;
use crate::yaml::shape::list;
use crate::yaml::{Node, Value};

/// The value that means "keep what is deployed now"; it stands for any type.
pub const CURRENT_VAL: &str = "${Proton::CURRENT_VAL}";

/// Checks `inputs` against `ty` and returns the effective inputs (the spec's values with the
/// schema's defaults filled in).
pub fn check(
    spec: &Source,
    inputs: &Inputs,
    ty: &InputType,
    schema: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Json {
    let empty = Node {
        span: inputs.anchor.clone(),
        tag: None,
        plain: false,
        value: Value::Map(Vec::new()),
    };
    let node = inputs.node.as_ref().unwrap_or(&empty);
    let Some(entries) = node.as_map() else {
        diags.push(
            Diagnostic::new(
                codes::Y007,
                format!(
                    "`{}` must be a mapping of inputs, found {}",
                    inputs.place,
                    node.kind_name()
                ),
            )
            .at(spec, node.span.clone())
            .help("write one `name: value` line per input"),
        );
        return Json::Object(Default::default());
    };

    // Unknown inputs first: with a suggestion, and left out of what the validator sees.
    let open = ty
        .node
        .get("additionalProperties")
        .is_some_and(|a| a.value != Value::Bool(false));
    let mut instance = serde_json::Map::new();
    for (k, v) in entries {
        let name = k.scalar_text().unwrap_or_default();
        if open || ty.properties.contains(&name) {
            instance.insert(name, v.to_json());
            continue;
        }
        let mut d = Diagnostic::new(codes::I001, format!("unknown input `{name}`"))
            .at(spec, k.span.clone())
            .primary_message(format!("`{}` does not declare it", ty.name));
        d = match did_you_mean(&name, ty.properties.iter().map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if ty.properties.is_empty() => {
                d.help(format!("`{}` declares no inputs; delete this one", ty.name))
            }
            None => d.help(format!(
                "the inputs of `{}` are {}",
                ty.name,
                list(&ty.properties.iter().map(String::as_str).collect::<Vec<_>>())
            )),
        };
        diags.push(d);
    }
    let mut instance = Json::Object(instance);

    if let Some(validator) = &ty.validator {
        for error in validator.iter_errors(&instance) {
            let pointer: Vec<String> = pointer_segments(error.instance_path().as_str());
            let target = node.pointer(pointer.iter().map(String::as_str));
            if target.and_then(Node::as_str) == Some(CURRENT_VAL) {
                continue;
            }
            let schema_segments = pointer_segments(error.schema_path().as_str());
            let ctx = Ctx {
                spec,
                schema,
                ty,
                root: node,
                inputs,
                pointer: &pointer,
                target,
                schema_segments: &schema_segments,
            };
            if let Some(d) = ctx.diagnose(error.kind(), &error.to_string()) {
                diags.push(d);
            }
        }
    }
    apply_defaults(&ty.json, &mut instance);
    instance
}

fn pointer_segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Fills in defaults for omitted properties, at every level where the object is present.
pub fn apply_defaults(schema: &Json, value: &mut Json) {
    match value {
        Json::Object(obj) => {
            let Some(Json::Object(props)) = schema.get("properties") else {
                return;
            };
            for (name, prop) in props {
                match obj.get_mut(name) {
                    Some(v) => apply_defaults(prop, v),
                    None => {
                        if let Some(d) = prop.get("default") {
                            obj.insert(name.clone(), d.clone());
                        }
                    }
                }
            }
        }
        Json::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    apply_defaults(item_schema, item);
                }
            }
        }
        _ => {}
    }
}

struct Ctx<'a> {
    spec: &'a Source,
    schema: &'a Source,
    ty: &'a InputType,
    root: &'a Node,
    inputs: &'a Inputs,
    pointer: &'a [String],
    target: Option<&'a Node>,
    schema_segments: &'a [String],
}

impl Ctx<'_> {
    /// `port`, `db.size`, `subnets[1]`: how users name an input.
    fn input_name(&self) -> String {
        let mut out = String::new();
        for seg in self.pointer {
            if seg.parse::<usize>().is_ok() && !out.is_empty() {
                out.push_str(&format!("[{seg}]"));
            } else {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(seg);
            }
        }
        out
    }

    /// The schema node the failing keyword sits at, e.g. the `type` of `port`.
    fn schema_node(&self) -> Option<&Node> {
        self.ty
            .node
            .pointer(self.schema_segments.iter().map(String::as_str))
    }

    /// The property's own schema (the keyword's parent).
    fn property_schema(&self) -> Option<&Node> {
        let n = self.schema_segments.len().saturating_sub(1);
        self.ty
            .node
            .pointer(self.schema_segments[..n].iter().map(String::as_str))
    }

    fn at_value(&self, code: &'static crate::diag::Code, message: String) -> Diagnostic {
        let span = self
            .target
            .map_or(self.inputs.anchor.clone(), |t| t.span.clone());
        Diagnostic::new(code, message).at(self.spec, span)
    }

    fn with_schema_label(&self, d: Diagnostic, text: String) -> Diagnostic {
        match self.schema_node() {
            Some(n) => d.label(self.schema, n.span.clone(), text),
            None => d,
        }
    }

    fn shown(&self) -> String {
        match self.target {
            Some(t) => match &t.value {
                Value::String(s) => format!("`\"{}\"`", truncate(s)),
                // "found a list" says it all; no value to quote.
                Value::Seq(_) | Value::Map(_) => String::new(),
                // A number as written: `1e38`, not its 39 digits; `1e400`, not `.inf`.
                Value::Int(_) | Value::Float(_) => {
                    let written = self.spec.slice(&t.span).trim();
                    if written.is_empty()
                        || written.starts_with('*')
                        || written.contains('\n')
                        || written.chars().count() > 64
                    {
                        format!("`{}`", t.scalar_text().unwrap_or_default())
                    } else {
                        format!("`{written}`")
                    }
                }
                _ => format!("`{}`", t.scalar_text().unwrap_or_default()),
            },
            None => "the value".to_string(),
        }
    }

    /// The diagnostic of one validation error, or `None` when it is not reported (a `format`,
    /// or an `enum` error on a list or mapping, which is a type error reported as such).
    fn diagnose(&self, kind: &ValidationErrorKind, fallback: &str) -> Option<Diagnostic> {
        let name = self.input_name();
        let d = match kind {
            ValidationErrorKind::Type { kind } => self.wrong_type(&name, kind),
            ValidationErrorKind::Enum { options } => self.not_allowed(&name, options)?,
            ValidationErrorKind::Pattern { pattern } => self.no_match(&name, pattern),
            ValidationErrorKind::MinLength { limit } | ValidationErrorKind::MaxLength { limit } => {
                let min = matches!(kind, ValidationErrorKind::MinLength { .. });
                self.wrong_length(&name, *limit, min)
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                let rule = match kind {
                    ValidationErrorKind::Minimum { .. } => "at least",
                    ValidationErrorKind::Maximum { .. } => "at most",
                    ValidationErrorKind::ExclusiveMinimum { .. } => "greater than",
                    _ => "less than",
                };
                self.out_of_range(&name, rule, limit)
            }
            ValidationErrorKind::MultipleOf { multiple_of } => {
                let d = self.at_value(
                    codes::I007,
                    format!(
                        "input `{name}` is {}, which is not a multiple of {multiple_of}",
                        self.shown()
                    ),
                );
                let d = self.with_schema_label(d, "declared here".into());
                d.help(format!("write a multiple of {multiple_of}"))
            }
            ValidationErrorKind::MinItems { limit } | ValidationErrorKind::MaxItems { limit } => {
                let min = matches!(kind, ValidationErrorKind::MinItems { .. });
                self.wrong_item_count(&name, *limit, min)
            }
            ValidationErrorKind::UniqueItems => {
                let d = self.at_value(
                    codes::I008,
                    format!("input `{name}` has repeated items, but they must be unique"),
                );
                let d = self.with_schema_label(d, "`uniqueItems: true` declared here".into());
                d.help("remove the repeated items")
            }
            ValidationErrorKind::Required { property } => self.missing(property),
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                self.unknown_inputs(unexpected)
            }
            ValidationErrorKind::Format { .. } => return None,
            _ => {
                let d = self.at_value(
                    codes::I003,
                    format!("input `{name}` does not match its schema: {fallback}"),
                );
                self.with_schema_label(d, "declared here".into())
                    .help("change the value to fit the schema")
            }
        };
        Some(d)
    }

    /// A value of the wrong type (I003), with a hint of how to write the right one.
    fn wrong_type(&self, name: &str, kind: &TypeKind) -> Diagnostic {
        let expected = match kind {
            TypeKind::Single(t) => type_phrase(&t.to_string()),
            TypeKind::Multiple(ts) => {
                let names: Vec<String> = ts.iter().map(|t| type_phrase(&t.to_string())).collect();
                names.join(" or ")
            }
        };
        let found = self.target.map_or("nothing", Node::kind_name);
        let d = self
            .at_value(
                codes::I003,
                format!(
                    "input `{name}` must be {expected}, found {found} {}",
                    self.shown()
                )
                .trim_end()
                .to_string(),
            )
            .primary_message(format!("expected {expected}"));
        let d = self.with_schema_label(d, format!("`{name}` is declared {expected} here"));
        d.help(self.type_help(&expected))
    }

    /// A scalar that is not one of the `enum` values (I004); `None` for a list or mapping.
    fn not_allowed(&self, name: &str, options: &Json) -> Option<Diagnostic> {
        let allowed: Vec<String> = options
            .as_array()
            .map(|a| a.iter().map(json_text).collect())
            .unwrap_or_default();
        // A list or mapping where a scalar goes is a type error, reported as such.
        let value = self
            .target
            .filter(|t| !matches!(t.value, Value::Seq(_) | Value::Map(_)))
            .and_then(Node::scalar_text)?;
        let d = self
            .at_value(
                codes::I004,
                format!("`{}` is not an allowed value of `{name}`", truncate(&value)),
            )
            .primary_message("not one of the allowed values");
        let d = self.with_schema_label(d, "allowed values declared here".into());
        let allowed_refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
        Some(match did_you_mean(&value, allowed_refs.iter().copied()) {
            Some(s) => d.help(format!(
                "did you mean `{s}`? The allowed values are {}",
                list(&allowed_refs)
            )),
            None => d.help(format!("the allowed values are {}", list(&allowed_refs))),
        })
    }

    /// A string that does not match the `pattern` (I005), with the property's description.
    fn no_match(&self, name: &str, pattern: &str) -> Diagnostic {
        let value = self.target.and_then(Node::scalar_text).unwrap_or_default();
        let d = self
            .at_value(
                codes::I005,
                format!(
                    "`{}` does not match the pattern of `{name}`",
                    truncate(&value)
                ),
            )
            .primary_message(format!("no match for `{pattern}`"));
        let d = self.with_schema_label(d, "pattern declared here".into());
        let desc = self
            .description()
            .map(|s| format!("\n`{name}`: {s}"))
            .unwrap_or_default();
        d.help(format!(
            "the value must contain a match of the regular expression `{pattern}`{desc}"
        ))
    }

    /// A string shorter than `minLength` (`min`) or longer than `maxLength` (I006).
    fn wrong_length(&self, name: &str, limit: u64, min: bool) -> Diagnostic {
        let len = self
            .target
            .and_then(Node::as_str)
            .map_or(0, |s| s.chars().count());
        let (bound, word) = if min {
            ("at least", "short")
        } else {
            ("at most", "long")
        };
        let d = self
            .at_value(
                codes::I006,
                format!("input `{name}` is too {word}: {len} characters, {bound} {limit} allowed"),
            )
            .primary_message(format!("{len} characters"));
        let d = self.with_schema_label(d, format!("{bound} {limit} characters"));
        d.help(format!("write a value of {bound} {limit} characters"))
    }

    /// A number outside a bound (I007); `rule` says how it relates to `limit` ("at least").
    fn out_of_range(&self, name: &str, rule: &str, limit: &Json) -> Diagnostic {
        let d = self
            .at_value(
                codes::I007,
                format!(
                    "input `{name}` is {}, but must be {rule} {limit}",
                    self.shown()
                ),
            )
            .primary_message(format!("must be {rule} {limit}"));
        let d = self.with_schema_label(d, "bound declared here".into());
        d.help(format!("write a value {rule} {limit}"))
    }

    /// A list with fewer items than `minItems` (`min`) or more than `maxItems` (I008).
    fn wrong_item_count(&self, name: &str, limit: u64, min: bool) -> Diagnostic {
        let n = self.target.and_then(Node::as_seq).map_or(0, <[Node]>::len);
        let bound = if min { "at least" } else { "at most" };
        let d = self.at_value(
            codes::I008,
            format!(
                "input `{name}` has {n} item{}, {bound} {limit} allowed",
                if n == 1 { "" } else { "s" }
            ),
        );
        let d = self.with_schema_label(d, format!("{bound} {limit} items"));
        d.help(format!("give `{name}` {bound} {limit} items"))
    }

    /// A required input that is missing (I002), at the object that lacks it, with the type
    /// and description the schema gives it.
    fn missing(&self, property: &Json) -> Diagnostic {
        let prop = json_text(property);
        let (span, place) = self.object_anchor();
        let prop_schema = self
            .ty
            .node
            .pointer(
                self.schema_segments[..self.schema_segments.len().saturating_sub(1)]
                    .iter()
                    .map(String::as_str),
            )
            .and_then(|o| o.get("properties"))
            .and_then(|p| p.get(&prop));
        let expected = prop_schema
            .and_then(|p| p.get("type"))
            .and_then(Node::as_str)
            .map_or("value".to_string(), |t| t.to_string());
        let desc = prop_schema
            .and_then(|p| p.get("description"))
            .and_then(Node::as_str)
            .map(|s| format!("\n`{}`: {}", prop, first_line(s)))
            .unwrap_or_default();
        let d = Diagnostic::new(codes::I002, format!("missing required input `{prop}`"))
            .at(self.spec, span)
            .primary_message(format!("`{prop}` is required here"));
        let d = self.with_schema_label(d, format!("`{prop}` is required here, with no default"));
        d.help(format!("add `{prop}: <{expected}>` under `{place}`{desc}"))
    }

    /// Inputs that `additionalProperties: false` forbids (I001), at the first one's key.
    fn unknown_inputs(&self, unexpected: &[String]) -> Diagnostic {
        let obj = self.target.unwrap_or(self.root);
        let key_span = unexpected
            .first()
            .and_then(|u| obj.entry(u))
            .map_or(obj.span.clone(), |(k, _)| k.span.clone());
        let d = Diagnostic::new(
            codes::I001,
            format!(
                "unknown input{} {}",
                if unexpected.len() == 1 { "" } else { "s" },
                list(&unexpected.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        )
        .at(self.spec, key_span);
        let d = self.with_schema_label(d, "`additionalProperties: false` declared here".into());
        d.help("delete the input, or correct its name")
    }

    /// Where to point for a missing key of the object at `pointer`: its key in the parent
    /// (e.g. `spec:`), or the spec's own anchor for the top level.
    fn object_anchor(&self) -> (std::ops::Range<usize>, String) {
        if self.pointer.is_empty() {
            return (self.inputs.anchor.clone(), self.inputs.place.clone());
        }
        let parent = self.root.pointer(
            self.pointer[..self.pointer.len() - 1]
                .iter()
                .map(String::as_str),
        );
        let last = &self.pointer[self.pointer.len() - 1];
        let span = parent
            .and_then(|p| p.entry(last))
            .map(|(k, _)| k.span.clone())
            .or_else(|| self.target.map(|t| t.span.clone()))
            .unwrap_or(self.inputs.anchor.clone());
        (span, format!("{}.{}", self.inputs.place, self.input_name()))
    }

    fn description(&self) -> Option<String> {
        self.property_schema()?
            .get("description")?
            .as_str()
            .map(|s| first_line(s).to_string())
    }

    fn type_help(&self, expected: &str) -> String {
        let Some(t) = self.target else {
            return format!("write {expected}");
        };
        let example = self
            .property_schema()
            .and_then(|p| p.get("default"))
            .and_then(Node::scalar_text);
        match (&t.value, expected) {
            (Value::String(s), e) if e.starts_with("a number") || e.starts_with("an integer") => {
                if crate::yaml::resolve_plain(s.trim()) != Value::String(s.trim().into()) {
                    format!("remove the quotes: `{}`", s.trim())
                } else {
                    match example {
                        Some(x) => format!("write {expected}, such as `{x}` (the default)"),
                        None => format!("write {expected}, such as `80`"),
                    }
                }
            }
            (Value::String(s), e) if e.starts_with("a boolean") => {
                format!(
                    "write `true` or `false`{}",
                    if matches!(s.as_str(), "yes" | "no" | "on" | "off") {
                        " (YAML 1.2 reads `yes`/`no`/`on`/`off` as strings)"
                    } else {
                        ""
                    }
                )
            }
            (Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Null, e)
                if e.starts_with("a string") =>
            {
                format!(
                    "quote the value to make it a string: `\"{}\"`",
                    t.scalar_text().unwrap_or_default()
                )
            }
            _ => format!("write {expected}"),
        }
    }
}

fn type_phrase(t: &str) -> String {
    match t {
        "string" => "a string",
        "number" => "a number",
        "integer" => "an integer",
        "boolean" => "a boolean",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "null",
        other => other,
    }
    .to_string()
}

fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s.to_string()
    }
}
