//! Static analysis of a template, with no spec needed: parse it with minijinja's parser, walk
//! the syntax tree with scopes (loop variables, `set`), and check every reference into a
//! Proton namespace against what the template's role can see and what the schema declares.
//!
//! The parser and its depth guard are in `syntax`, the names each role can see in `names`, the
//! walk over statements and expressions in `walk`, and the checks of each reference in
//! `references`.

mod names;
mod references;
mod syntax;
mod walk;

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use minijinja::machinery::Span;
use minijinja::machinery::ast::Stmt;

use self::names::{Model, roots};
use crate::bundle::Role;
use crate::diag::Diagnostic;
use crate::source::Source;

pub use names::FILTERS;
pub use syntax::{MAX_EXPRESSION_DEPTH, expression_depth, parse};

/// What a template may reference, for one bundle: the inputs each input type declares and the
/// outputs the related templates declare (`None`: unknown, so not checked).
#[derive(Clone, Debug, Default)]
pub struct Namespaces {
    /// The inputs each input type declares; `None` when the type is missing (reported by the
    /// bundle's lint), so that references to it are not reported again.
    pub environment_inputs: Option<Vec<String>>,
    pub service_inputs: Option<Vec<String>>,
    pub pipeline_inputs: Option<Vec<String>>,
    /// Outputs of the compatible environment templates (union), if any was found.
    pub environment_outputs: Option<OutputNames>,
    /// Outputs of the service's instance template (for pipelines).
    pub instance_outputs: Option<OutputNames>,
}

/// Output names a template declares, and whether some are generated (then unknown names are
/// not reported).
#[derive(Clone, Debug, Default)]
pub struct OutputNames {
    pub names: BTreeSet<String>,
    pub dynamic: bool,
    /// Where they come from, for messages (`fargate-env:1`).
    pub from: String,
}

/// What the analysis found, besides diagnostics.
#[derive(Debug, Default)]
pub struct Usage {
    /// Inputs used, as (input type kind, name): kind is `environment`, `service`, `pipeline`.
    pub inputs: BTreeSet<(&'static str, String)>,
    /// Some inputs are reached dynamically (`inputs[key]`, `inputs.items()`, `inputs | tojson`):
    /// every input of that kind counts as used.
    pub dynamic: BTreeSet<&'static str>,
    /// Byte spans of references to outputs, with the output's dotted name.
    pub output_refs: Vec<(Range<usize>, String)>,
    /// Byte spans of references to inputs, with the input's name.
    pub input_refs: Vec<(Range<usize>, String)>,
}

/// Converts a minijinja span (line 1-based, column 0-based in characters) to bytes.
fn bytes(source: &Source, span: Span) -> Range<usize> {
    let start = source.offset_of(span.start_line as usize, span.start_col as usize);
    let end = source.offset_of(span.end_line as usize, span.end_col as usize);
    start..end.max(start)
}

/// From the start of `a` to the end of `b`.
fn join(a: Span, b: Span) -> Span {
    Span {
        end_line: b.end_line,
        end_col: b.end_col,
        end_offset: b.end_offset,
        ..a
    }
}

/// What a local name stands for: a namespace path (`service_instance.inputs`), when known.
type Alias = (String, Vec<String>);

struct Walker<'a> {
    source: &'a Source,
    role: Role,
    ns: &'a Namespaces,
    roots: Vec<(&'static str, Model)>,
    /// Scopes of local names; a name may alias a namespace path (`{% set i = service_instance.inputs %}`).
    scopes: Vec<HashMap<String, Option<Alias>>>,
    usage: Usage,
    diags: &'a mut Vec<Diagnostic>,
}

/// Checks every reference in a parsed template.
pub fn check(
    source: &Source,
    ast: &Stmt<'_>,
    role: Role,
    ns: &Namespaces,
    diags: &mut Vec<Diagnostic>,
) -> Usage {
    let mut w = Walker {
        source,
        role,
        ns,
        roots: roots(role),
        scopes: vec![HashMap::new()],
        usage: Usage::default(),
        diags,
    };
    w.stmt(ast);
    w.usage
}

/// The `Outputs` a CloudFormation template declares, read from its text without rendering:
/// the keys one level below a top-level `Outputs:`. A key made by Jinja makes the set dynamic.
pub fn declared_outputs(text: &str, from: &str) -> OutputNames {
    let (keys, dynamic) = output_keys(text);
    OutputNames {
        from: from.to_string(),
        names: keys.into_iter().map(|(k, _)| k).collect(),
        dynamic,
    }
}

/// The keys one level below a top-level `Outputs:`, each with its byte range, and whether a
/// key (or a loop) is made by Jinja.
pub fn output_keys(text: &str) -> (Vec<(String, std::ops::Range<usize>)>, bool) {
    let mut keys = Vec::new();
    let mut dynamic = false;
    let mut in_outputs = false;
    let mut child_indent: Option<usize> = None;
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let start = at;
        at += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("{%") || trimmed.starts_with("{#") {
            if in_outputs
                && trimmed.starts_with("{%")
                && (trimmed.contains(" for ") || trimmed.contains("for "))
            {
                dynamic = true;
            }
            continue;
        }
        if indent == 0 {
            in_outputs = trimmed.starts_with("Outputs:");
            child_indent = None;
            continue;
        }
        if !in_outputs {
            continue;
        }
        let indent_of_key = *child_indent.get_or_insert(indent);
        if indent != indent_of_key {
            continue;
        }
        if let Some((key, _)) = trimmed.split_once(':') {
            let key = key.trim().trim_matches(['"', '\'']);
            if key.contains("{{") || key.contains("{%") {
                dynamic = true;
            } else {
                let from = start + indent + trimmed.find(key).unwrap_or(0);
                keys.push((key.to_string(), from..from + key.len()));
            }
        }
    }
    (keys, dynamic)
}

#[cfg(test)]
mod tests;
