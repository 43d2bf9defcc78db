//! Input schemas (`schema/schema.yaml`): read the OpenAPI 3.0 subset that Proton bundles use,
//! lint it, convert each type to JSON Schema draft 4, and compile it once for checking specs.

mod convert;
pub mod sample;

use std::ops::Range;

use jsonschema::{PatternOptions, Validator};
use serde_json::Value as Json;

use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::source::Source;
use crate::yaml::Node;
use crate::yaml::shape::{check_keys, expect_map, expect_str, missing_key};

/// A named reference such as `service_input_type: SvcInput`, with where it was written.
#[derive(Clone, Debug)]
pub struct TypeRef {
    pub name: String,
    pub span: Range<usize>,
}

/// One type under `types`, ready to check values against.
pub struct InputType {
    pub name: String,
    /// The type's OpenAPI node in schema.yaml, for pointing at the property behind an error.
    pub node: Node,
    /// Declared top-level properties, in order.
    pub properties: Vec<String>,
    /// The converted JSON Schema (draft 4).
    pub json: Json,
    /// `None` when the type could not be compiled (already reported).
    pub validator: Option<Validator>,
}

impl std::fmt::Debug for InputType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputType")
            .field("name", &self.name)
            .finish()
    }
}

#[derive(Debug)]
pub struct InputSchema {
    pub source: Source,
    pub environment_input_type: Option<TypeRef>,
    pub service_input_type: Option<TypeRef>,
    pub pipeline_input_type: Option<TypeRef>,
    pub types: Vec<InputType>,
}

impl InputSchema {
    pub fn get_type(&self, r: &TypeRef) -> Option<&InputType> {
        self.types.iter().find(|t| t.name == r.name)
    }
}

const ROOT_EXAMPLE: &str = "schema:\n  format:\n    openapi: \"3.0.0\"\n  environment_input_type: \"EnvironmentInput\"\n  types:\n    EnvironmentInput:\n      type: object\n      properties: {}";

/// Reads a parsed schema.yaml. Returns `None` only when nothing usable is in it.
pub fn read(source: &Source, root: &Node, diags: &mut Vec<Diagnostic>) -> Option<InputSchema> {
    let top = expect_map(root, source, "the schema file", ROOT_EXAMPLE, diags)?;
    check_keys(top, &["schema"], source, "the schema file", diags);
    let Some(schema) = root.get("schema") else {
        diags.push(missing_key(
            source,
            root.span.clone(),
            "schema",
            "the schema file",
            ROOT_EXAMPLE,
        ));
        return None;
    };
    let entries = expect_map(schema, source, "`schema`", ROOT_EXAMPLE, diags)?;
    check_keys(
        entries,
        &[
            "format",
            "environment_input_type",
            "service_input_type",
            "pipeline_input_type",
            "types",
        ],
        source,
        "`schema`",
        diags,
    );
    check_format(source, schema, diags);
    let type_ref = |key: &str, diags: &mut Vec<Diagnostic>| {
        let node = schema.get(key)?;
        let name = expect_str(node, source, &format!("`{key}`"), diags)?;
        Some(TypeRef {
            name: name.to_string(),
            span: node.span.clone(),
        })
    };
    let environment_input_type = type_ref("environment_input_type", diags);
    let service_input_type = type_ref("service_input_type", diags);
    let pipeline_input_type = type_ref("pipeline_input_type", diags);

    let mut types = Vec::new();
    match schema.get("types") {
        None => diags.push(missing_key(
            source,
            schema_key_span(root),
            "types",
            "`schema`",
            "  types:\n    EnvironmentInput:\n      type: object\n      properties: {}",
        )),
        Some(types_node) => {
            if let Some(entries) = expect_map(
                types_node,
                source,
                "`types`",
                "types:\n  ServiceInput:\n    type: object\n    properties: {}",
                diags,
            ) {
                for (k, v) in entries {
                    let name = k.scalar_text().unwrap_or_default();
                    types.push(compile_type(source, name, v, diags));
                }
            }
        }
    }
    let out = InputSchema {
        source: source.clone(),
        environment_input_type,
        service_input_type,
        pipeline_input_type,
        types,
    };
    for r in [
        &out.environment_input_type,
        &out.service_input_type,
        &out.pipeline_input_type,
    ]
    .into_iter()
    .flatten()
    {
        if out.get_type(r).is_none() {
            let names: Vec<&str> = out.types.iter().map(|t| t.name.as_str()).collect();
            let help = match did_you_mean(&r.name, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => "declare the type under `types`".to_string(),
                None => format!(
                    "the types declared are {}",
                    crate::yaml::shape::list(&names)
                ),
            };
            diags.push(
                Diagnostic::new(
                    codes::B006,
                    format!("input type `{}` is not declared under `types`", r.name),
                )
                .at(source, r.span.clone())
                .help(help),
            );
        }
    }
    Some(out)
}

fn schema_key_span(root: &Node) -> Range<usize> {
    root.entry("schema")
        .map_or(root.span.clone(), |(k, _)| k.span.clone())
}

fn check_format(source: &Source, schema: &Node, diags: &mut Vec<Diagnostic>) {
    let Some(format) = schema.get("format") else {
        return;
    };
    let Some(entries) = expect_map(
        format,
        source,
        "`format`",
        "format:\n  openapi: \"3.0.0\"",
        diags,
    ) else {
        return;
    };
    check_keys(entries, &["openapi"], source, "`format`", diags);
    if let Some(v) = format.get("openapi") {
        let text = v.scalar_text().unwrap_or_default();
        if !text.starts_with("3.0") {
            diags.push(
                Diagnostic::new(codes::S006, format!("unsupported OpenAPI version `{text}`"))
                    .at(source, v.span.clone())
                    .help("Proton schemas use `openapi: \"3.0.0\"`"),
            );
        }
    }
}

fn compile_type(
    source: &Source,
    name: String,
    node: &Node,
    diags: &mut Vec<Diagnostic>,
) -> InputType {
    let mut conv = convert::Converter::new(source, diags);
    let json = conv.schema_object(node, true);
    let properties = node
        .get("properties")
        .and_then(Node::as_map)
        .map(|m| m.iter().filter_map(|(k, _)| k.scalar_text()).collect())
        .unwrap_or_default();
    let validator = match compile(&json) {
        Ok(v) => Some(v),
        Err(message) => {
            diags.push(
                Diagnostic::new(
                    codes::S006,
                    format!("type `{name}` cannot be compiled: {message}"),
                )
                .at(source, node.span.clone())
                .help("correct the schema; the other diagnostics on this type show where"),
            );
            None
        }
    };
    InputType {
        name,
        node: node.clone(),
        properties,
        json,
        validator,
    }
}

/// Compiles a converted schema: draft 4, linear-time regexes, no formats, no network or files.
pub fn compile(json: &Json) -> Result<Validator, String> {
    jsonschema::draft4::options()
        .should_validate_formats(false)
        .with_pattern_options(PatternOptions::regex())
        .build(json)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
