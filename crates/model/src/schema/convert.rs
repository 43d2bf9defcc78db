//! OpenAPI 3.0 Schema Object → JSON Schema draft 4, linting as it goes. A keyword that is
//! wrong is reported and left out of the output, so that the rest of the type still checks.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::{Map, Value as Json};

use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::source::Source;
use crate::yaml::{Node, Value};

const TYPES: &[&str] = &["string", "number", "integer", "boolean", "array", "object"];

/// Every keyword an OpenAPI 3.0 Schema Object may have.
const KEYWORDS: &[&str] = &[
    "type",
    "nullable",
    "enum",
    "default",
    "title",
    "description",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "example",
    "readOnly",
    "writeOnly",
    "deprecated",
    "discriminator",
    "xml",
    "externalDocs",
];

pub struct Converter<'a> {
    source: &'a Source,
    diags: &'a mut Vec<Diagnostic>,
}

impl<'a> Converter<'a> {
    pub fn new(source: &'a Source, diags: &'a mut Vec<Diagnostic>) -> Self {
        Converter { source, diags }
    }

    fn invalid(&mut self, node: &Node, message: String, help: &str) {
        self.diags.push(
            Diagnostic::new(codes::S006, message)
                .at(self.source, node.span.clone())
                .help(help.to_string()),
        );
    }

    /// Converts one Schema Object. `input_type` marks a type directly under `types`.
    pub fn schema_object(&mut self, node: &Node, input_type: bool) -> Json {
        let Some(entries) = node.as_map() else {
            self.invalid(
                node,
                format!("a schema must be a mapping, found {}", node.kind_name()),
                "write a Schema Object such as `{type: string}`",
            );
            return Json::Object(Map::new());
        };
        let mut out = Map::new();
        let mut nullable = false;
        let mut default: Option<&Node> = None;
        let declared: Vec<String> = node
            .get("properties")
            .and_then(Node::as_map)
            .map(|m| m.iter().filter_map(|(k, _)| k.scalar_text()).collect())
            .unwrap_or_default();
        for (k, v) in entries {
            let key = k.scalar_text().unwrap_or_default();
            if self.constraint(&key, v, &mut out) || self.subschemas(&key, v, &mut out) {
                continue;
            }
            match key.as_str() {
                "type" => self.type_keyword(v, &mut out),
                "nullable" => match v.value {
                    Value::Bool(b) => nullable = b,
                    _ => self.invalid(
                        v,
                        "`nullable` must be `true` or `false`".into(),
                        "write `nullable: true`",
                    ),
                },
                "required" => self.required(v, &declared, node, &mut out),
                "default" => {
                    default = Some(v);
                    out.insert(key, v.to_json());
                }
                "format" | "title" | "description" => {
                    if v.as_str().is_none() {
                        self.invalid(v, format!("`{key}` must be a string"), "quote the text");
                    }
                }
                "example" | "readOnly" | "writeOnly" | "deprecated" | "discriminator" | "xml"
                | "externalDocs" => {}
                "$ref" => self.invalid(
                    k,
                    "`$ref` is not supported in Proton input schemas".into(),
                    "write the referenced schema inline",
                ),
                _ if key.starts_with("x-") => {}
                _ => self.unknown_keyword(k, &key),
            }
        }
        if input_type {
            self.input_type_object(node, &out);
        }
        if nullable {
            allow_null(&mut out);
        }
        let json = Json::Object(out);
        if let Some(d) = default {
            self.check_default(d, &json);
        }
        json
    }

    /// The keywords that constrain a value (`enum`, `pattern`, lengths, bounds, counts,
    /// `uniqueItems`): copied into `out` when well-formed, else reported. Returns false when
    /// `key` is not one of them.
    fn constraint(&mut self, key: &str, v: &Node, out: &mut Map<String, Json>) -> bool {
        match key {
            "enum" => match v.as_seq() {
                Some(items) if !items.is_empty() => {
                    out.insert(
                        key.into(),
                        Json::Array(items.iter().map(Node::to_json).collect()),
                    );
                }
                _ => self.invalid(
                    v,
                    "`enum` must be a non-empty list".into(),
                    "write the allowed values as a list: `enum: [small, medium, large]`",
                ),
            },
            "pattern" => self.pattern(v, out),
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
            | "maxProperties" => match v.value {
                Value::Int(i) if i >= 0 => {
                    out.insert(key.into(), Json::from(i));
                }
                _ => self.invalid(
                    v,
                    format!("`{key}` must be a non-negative integer"),
                    "write a whole number such as `1`",
                ),
            },
            "minimum" | "maximum" => match v.value {
                Value::Int(_) | Value::Float(_) => {
                    out.insert(key.into(), v.to_json());
                }
                _ => self.invalid(
                    v,
                    format!("`{key}` must be a number"),
                    "write a number such as `0`",
                ),
            },
            "multipleOf" => match v.value {
                Value::Int(i) if i > 0 => {
                    out.insert(key.into(), Json::from(i));
                }
                Value::Float(f) if f > 0.0 => {
                    out.insert(key.into(), v.to_json());
                }
                _ => self.invalid(
                    v,
                    "`multipleOf` must be a number greater than 0".into(),
                    "write a positive number such as `2`",
                ),
            },
            "exclusiveMinimum" | "exclusiveMaximum" => match v.value {
                Value::Bool(b) => {
                    out.insert(key.into(), Json::Bool(b));
                }
                _ => {
                    let bound = if key == "exclusiveMinimum" {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    self.invalid(
                        v,
                        format!("`{key}` must be `true` or `false` in OpenAPI 3.0"),
                        &format!("write `{bound}: N` with `{key}: true`; the numeric form is from later JSON Schema drafts"),
                    );
                }
            },
            "uniqueItems" => match v.value {
                Value::Bool(b) => {
                    out.insert(key.into(), Json::Bool(b));
                }
                _ => self.invalid(
                    v,
                    "`uniqueItems` must be `true` or `false`".into(),
                    "write `uniqueItems: true`",
                ),
            },
            _ => return false,
        }
        true
    }

    /// The keywords that hold schemas of their own (`items`, `properties`,
    /// `additionalProperties`, `allOf`, `anyOf`, `oneOf`, `not`): converted into `out`.
    /// Returns false when `key` is not one of them.
    fn subschemas(&mut self, key: &str, v: &Node, out: &mut Map<String, Json>) -> bool {
        match key {
            "items" => {
                let items = self.schema_object(v, false);
                out.insert(key.into(), items);
            }
            "properties" => match v.as_map() {
                Some(props) => {
                    let mut m = Map::new();
                    for (pk, pv) in props {
                        let schema = self.schema_object(pv, false);
                        m.insert(pk.scalar_text().unwrap_or_default(), schema);
                    }
                    out.insert(key.into(), Json::Object(m));
                }
                None => self.invalid(
                    v,
                    "`properties` must be a mapping of names to schemas".into(),
                    "write `properties: {name: {type: string}}`",
                ),
            },
            "additionalProperties" => match v.value {
                Value::Bool(b) => {
                    out.insert(key.into(), Json::Bool(b));
                }
                _ => {
                    let s = self.schema_object(v, false);
                    out.insert(key.into(), s);
                }
            },
            "allOf" | "anyOf" | "oneOf" => match v.as_seq() {
                Some(items) if !items.is_empty() => {
                    let list = items.iter().map(|i| self.schema_object(i, false)).collect();
                    out.insert(key.into(), Json::Array(list));
                }
                _ => self.invalid(
                    v,
                    format!("`{key}` must be a non-empty list of schemas"),
                    "write a list of Schema Objects",
                ),
            },
            "not" => {
                let s = self.schema_object(v, false);
                out.insert(key.into(), s);
            }
            _ => return false,
        }
        true
    }

    /// A key that is no OpenAPI 3.0 keyword (nor an `x-` extension): reported, and ignored.
    fn unknown_keyword(&mut self, k: &Node, key: &str) {
        let mut d = Diagnostic::new(
            codes::S005,
            format!("`{key}` is not an OpenAPI 3.0 schema keyword"),
        )
        .at(self.source, k.span.clone())
        .primary_message("ignored: it checks nothing");
        d = match did_you_mean(key, KEYWORDS.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help("delete it, or prefix it with `x-` if it is an extension"),
        };
        self.diags.push(d);
    }

    /// An input type (a schema directly under `types`) must be an object.
    fn input_type_object(&mut self, node: &Node, out: &Map<String, Json>) {
        if let Some(Json::String(t)) = out.get("type")
            && t != "object"
        {
            let at = node.get("type").unwrap_or(node);
            self.invalid(
                at,
                format!("an input type must be `type: object`, not `{t}`"),
                "write `type: object` with the inputs under `properties`",
            );
        }
    }

    fn type_keyword(&mut self, v: &Node, out: &mut Map<String, Json>) {
        match &v.value {
            Value::String(t) if TYPES.contains(&t.as_str()) => {
                out.insert("type".into(), Json::String(t.to_string()));
            }
            Value::String(t) => {
                let help = match did_you_mean(t, TYPES.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the types are {}", crate::yaml::shape::list(TYPES)),
                };
                self.invalid(v, format!("unknown type `{t}`"), &help);
            }
            Value::Seq(items) => {
                let names: Vec<String> = items.iter().filter_map(Node::scalar_text).collect();
                let non_null: Vec<&String> = names.iter().filter(|n| *n != "null").collect();
                let help = match non_null.as_slice() {
                    [one] if names.len() == 2 => format!("write `type: {one}` with `nullable: true`"),
                    _ => "write a single `type`; use `nullable: true` to allow null, or `oneOf` for alternatives".to_string(),
                };
                self.diags.push(
                    Diagnostic::new(codes::S001, "OpenAPI 3.0 does not allow a list of types")
                        .at(self.source, v.span.clone())
                        .help(help),
                );
                // Check specs as the author evidently meant.
                out.insert(
                    "type".into(),
                    Json::Array(names.into_iter().map(Json::String).collect()),
                );
            }
            _ => self.invalid(
                v,
                format!("`type` must be a string, found {}", v.kind_name()),
                "write one of `string`, `number`, `integer`, `boolean`, `array`, `object`",
            ),
        }
    }

    fn pattern(&mut self, v: &Node, out: &mut Map<String, Json>) {
        let Some(p) = v.as_str() else {
            self.invalid(
                v,
                "`pattern` must be a string".into(),
                "quote the regular expression",
            );
            return;
        };
        match pattern_problem(p) {
            None => {
                out.insert("pattern".into(), Json::String(p.to_string()));
            }
            Some(reason) => {
                let help = if reason.contains("look-around") || reason.contains("backreferences") {
                    "look-around and back-references are not supported (they can take exponential time); rewrite the pattern without them"
                } else {
                    "correct the regular expression"
                };
                let last = reason.lines().last().unwrap_or("").trim();
                let last = last.strip_prefix("error: ").unwrap_or(last).to_string();
                self.diags.push(
                    Diagnostic::new(codes::S003, format!("`pattern` does not compile: {last}"))
                        .at(self.source, v.span.clone())
                        .help(help),
                );
            }
        }
    }

    fn required(
        &mut self,
        v: &Node,
        declared: &[String],
        owner: &Node,
        out: &mut Map<String, Json>,
    ) {
        let Some(items) = v.as_seq() else {
            self.invalid(
                v,
                "`required` must be a list of property names".into(),
                "write `required: [name]`",
            );
            return;
        };
        let mut names = Vec::new();
        for item in items {
            let Some(name) = item.as_str() else {
                self.invalid(
                    item,
                    "`required` entries must be property names".into(),
                    "write the property's name as a string",
                );
                continue;
            };
            let is_object = owner.get("properties").is_some()
                || owner.get("type").and_then(Node::as_str) == Some("object");
            if is_object && !declared.iter().any(|d| d == name) {
                {
                    let mut d = Diagnostic::new(
                        codes::S004,
                        format!("`{name}` is required but not declared under `properties`"),
                    )
                    .at(self.source, item.span.clone());
                    d = match did_you_mean(name, declared.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!(
                            "declare `{name}` under `properties`, or remove it from `required`"
                        )),
                    };
                    self.diags.push(d);
                }
            }
            names.push(Json::String(name.to_string()));
        }
        out.insert("required".into(), Json::Array(names));
    }

    fn check_default(&mut self, default: &Node, schema: &Json) {
        if let Some(first) = default_problem(schema, &default.to_json()) {
            self.diags.push(
                Diagnostic::new(
                    codes::S002,
                    "`default` violates its own property's constraints",
                )
                .at(self.source, default.span.clone())
                .primary_message(first)
                .help("change the default or the constraint so that they agree"),
            );
        }
    }
}

/// The first way `value` breaks `schema` (a property's, its default's), if it does and the
/// schema compiles. Remembered by the schema without the words that only describe it and by
/// the value: the bundles of a workspace repeat properties (an owner tag, a port, a count),
/// and compiling a validator for each default was the largest part of loading a bundle.
fn default_problem(schema: &Json, value: &Json) -> Option<String> {
    static SEEN: Seen = LazyLock::new(Default::default);
    let constraints = match schema {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "description" | "title" | "default"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    };
    remembered(&SEEN, format!("{constraints}\n{value}"), || {
        super::compile(schema)
            .ok()
            .and_then(|validator| validator.iter_errors(value).next().map(|e| e.to_string()))
    })
}

/// Why `pattern` does not compile, if it does not. Remembered for the run, like
/// [`default_problem`]: the bundles of a workspace repeat patterns (an owner, a cost centre),
/// and building each one's automaton again was a tenth of loading a bundle.
fn pattern_problem(pattern: &str) -> Option<String> {
    static SEEN: Seen = LazyLock::new(Default::default);
    remembered(&SEEN, pattern.to_string(), || {
        regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .err()
            .map(|e| e.to_string())
    })
}

/// What a judgement found, by its key, for the run.
type Seen = LazyLock<Mutex<HashMap<String, Option<String>>>>;

/// What `judge` finds for `key`, judged once: at most [`SEEN_MAX`] are kept, so that a
/// language server's memory stays bounded.
fn remembered(seen: &Seen, key: String, judge: impl FnOnce() -> Option<String>) -> Option<String> {
    /// Enough for the properties of hundreds of bundles.
    const SEEN_MAX: usize = 4096;
    let lock = || {
        seen.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(found) = lock().get(&key) {
        return found.clone();
    }
    let found = judge();
    let mut seen = lock();
    if seen.len() >= SEEN_MAX {
        seen.clear();
    }
    seen.insert(key, found.clone());
    found
}

/// `nullable: true` in JSON Schema: `null` joins the `type`, and the `enum` when there is one.
fn allow_null(out: &mut Map<String, Json>) {
    if let Some(Json::String(t)) = out.get("type").cloned() {
        out.insert(
            "type".into(),
            Json::Array(vec![Json::String(t), Json::from("null")]),
        );
    }
    if let Some(Json::Array(values)) = out.get_mut("enum")
        && !values.contains(&Json::Null)
    {
        values.push(Json::Null);
    }
}
