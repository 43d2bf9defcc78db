//! Helpers for reading a document of a known shape (manifest, schema, spec) and reporting
//! where it departs from that shape.

use super::{Node, Value};
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::source::Source;

/// The node's entries if it is a mapping; otherwise a Y007 diagnostic.
pub fn expect_map<'n>(
    node: &'n Node,
    source: &Source,
    what: &str,
    example: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'n [(Node, Node)]> {
    match &node.value {
        Value::Map(m) => Some(m),
        _ => {
            diags.push(
                Diagnostic::new(
                    codes::Y007,
                    format!("{what} must be a mapping, found {}", node.kind_name()),
                )
                .at(source, node.span.clone())
                .help(format!("write it as a mapping, for example:\n{example}")),
            );
            None
        }
    }
}

/// The node's text if it is a string; otherwise a Y007 diagnostic.
pub fn expect_str<'n>(
    node: &'n Node,
    source: &Source,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'n str> {
    match &node.value {
        Value::String(s) => Some(s),
        _ => {
            diags.push(
                Diagnostic::new(
                    codes::Y007,
                    format!("{what} must be a string, found {}", node.kind_name()),
                )
                .at(source, node.span.clone())
                .help("write the value as a string (quote it if needed)"),
            );
            None
        }
    }
}

/// Reports every key of `entries` not in `allowed` (Y008, with a suggestion).
pub fn check_keys(
    entries: &[(Node, Node)],
    allowed: &[&str],
    source: &Source,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) {
    for (k, _) in entries {
        let name = k.scalar_text().unwrap_or_default();
        if allowed.contains(&name.as_str()) {
            continue;
        }
        let mut d = Diagnostic::new(codes::Y008, format!("unknown key `{name}` in {what}"))
            .at(source, k.span.clone());
        d = match did_you_mean(&name, allowed.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!("{what} can have: {}", list(allowed))),
        };
        diags.push(d);
    }
}

/// A missing key (Y009), reported at `at` (usually the enclosing mapping or its key).
pub fn missing_key(
    source: &Source,
    at: std::ops::Range<usize>,
    key: &str,
    what: &str,
    example: &str,
) -> Diagnostic {
    Diagnostic::new(codes::Y009, format!("{what} has no `{key}`"))
        .at(source, at)
        .help(format!("add it, for example:\n{example}"))
}

pub use crate::text::list;
