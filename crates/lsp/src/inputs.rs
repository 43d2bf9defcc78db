//! What an editor says about a schema's inputs: completion items, hover text and where each
//! is declared. Read from the bundle's own `InputType`, the one the checker uses.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};
use serde_json::Value as Json;

use proctor_model::bundle::Bundle;
use proctor_model::schema::InputType;

/// Which of a bundle's input types a place in a spec or template reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inputs {
    Environment,
    ServiceInstance,
    Pipeline,
}

impl Inputs {
    pub fn of(self, bundle: &Bundle) -> Option<&InputType> {
        match self {
            Inputs::Environment => bundle.environment_type(),
            Inputs::ServiceInstance => bundle.service_type(),
            Inputs::Pipeline => bundle.pipeline_type(),
        }
    }
}

/// A property's converted JSON Schema, when the type declares it.
pub fn property<'a>(ty: &'a InputType, name: &str) -> Option<&'a Json> {
    ty.json.get("properties")?.get(name)
}

fn required(ty: &InputType, name: &str) -> bool {
    ty.json
        .get("required")
        .and_then(Json::as_array)
        .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(name)))
}

/// `string`, `number`, `array of string`...
pub fn type_name(p: &Json) -> String {
    let base = match p.get("type") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(Json::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".to_string(),
    };
    match (base.as_str(), p.get("items")) {
        ("array", Some(items)) => format!("array of {}", type_name(items)),
        _ => base,
    }
}

fn constraints(p: &Json) -> Vec<String> {
    let mut out = Vec::new();
    let show = |v: &Json| v.to_string();
    for (key, word) in [
        ("minimum", "minimum"),
        ("maximum", "maximum"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("pattern", "pattern"),
    ] {
        if let Some(v) = p.get(key) {
            let v = match v {
                Json::String(s) => format!("`{s}`"),
                other => show(other),
            };
            out.push(format!("{word} {v}"));
        }
    }
    if p.get("exclusiveMinimum") == Some(&Json::Bool(true)) {
        out.push("minimum exclusive".to_string());
    }
    if p.get("exclusiveMaximum") == Some(&Json::Bool(true)) {
        out.push("maximum exclusive".to_string());
    }
    if p.get("uniqueItems") == Some(&Json::Bool(true)) {
        out.push("unique items".to_string());
    }
    if let Some(values) = p.get("enum").and_then(Json::as_array) {
        let listed: Vec<String> = values.iter().map(|v| format!("`{}`", scalar(v))).collect();
        out.push(format!("one of {}", listed.join(", ")));
    }
    out
}

/// A JSON value as YAML writes a scalar (`small`, not `"small"`).
pub fn scalar(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The hover text of an input: type, required or default, constraints, description, and
/// where it is declared.
pub fn hover(bundle: &Bundle, ty: &InputType, name: &str) -> Option<String> {
    let p = property(ty, name)?;
    let mut text = format!("**{name}**: `{}`", type_name(p));
    if required(ty, name) {
        text.push_str(" (required)");
    }
    if let Some(d) = p.get("default") {
        text.push_str(&format!("\n\ndefault: `{}`", scalar(d)));
    }
    let c = constraints(p);
    if !c.is_empty() {
        text.push_str(&format!("\n\n{}", c.join("; ")));
    }
    // Descriptions are not part of the converted JSON Schema: read them from schema.yaml.
    let node = ty.node.get("properties").and_then(|p| p.get(name));
    for key in ["title", "description"] {
        if let Some(d) = node.and_then(|n| n.get(key)).and_then(|d| d.as_str()) {
            text.push_str(&format!("\n\n{d}"));
        }
    }
    let schema = bundle
        .schema
        .as_ref()
        .map(|s| s.source.name().to_string())
        .unwrap_or_default();
    text.push_str(&format!(
        "\n\n---\ninput of `{}` in `{}` ({schema})",
        ty.name,
        bundle.label()
    ));
    Some(text)
}

/// Completion items for the type's inputs, minus those already written.
pub fn items(
    bundle: &Bundle,
    ty: &InputType,
    written: &[String],
    as_key: bool,
) -> Vec<CompletionItem> {
    ty.properties
        .iter()
        .filter(|n| !written.contains(n))
        .enumerate()
        .map(|(i, name)| {
            let p = property(ty, name);
            let detail = p.map(|p| {
                let mut d = type_name(p);
                if required(ty, name) {
                    d.push_str(", required");
                } else if let Some(v) = p.get("default") {
                    d.push_str(&format!(", default {}", scalar(v)));
                }
                d
            });
            CompletionItem {
                label: name.clone(),
                kind: Some(CompletionItemKind::PROPERTY),
                detail,
                documentation: hover(bundle, ty, name).map(|value| {
                    Documentation::MarkupContent(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value,
                    })
                }),
                insert_text: as_key.then(|| format!("{name}: ")),
                // The schema's order, not the alphabet's.
                sort_text: Some(format!("{i:04}")),
                ..CompletionItem::default()
            }
        })
        .collect()
}

/// Completion items for an input's value: its enum's values, or `true`/`false`.
pub fn value_items(ty: &InputType, name: &str) -> Vec<CompletionItem> {
    let Some(p) = property(ty, name) else {
        return Vec::new();
    };
    let values: Vec<String> = match p.get("enum").and_then(Json::as_array) {
        Some(values) => values.iter().map(scalar).collect(),
        None if p.get("type").and_then(Json::as_str) == Some("boolean") => {
            vec!["true".to_string(), "false".to_string()]
        }
        None => Vec::new(),
    };
    values
        .into_iter()
        .map(|v| CompletionItem {
            label: v,
            kind: Some(CompletionItemKind::ENUM_MEMBER),
            ..CompletionItem::default()
        })
        .collect()
}

/// The byte range of an input's key in schema.yaml.
pub fn declared_at(ty: &InputType, name: &str) -> Option<std::ops::Range<usize>> {
    let (key, _) = ty.node.get("properties")?.entry(name)?;
    Some(key.span.clone())
}
