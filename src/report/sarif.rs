//! `--format sarif`: SARIF 2.1.0, the format code-scanning services read (GitHub code
//! scanning, Azure DevOps, GitLab). One run, whose rule table is the whole code registry, so a
//! result's `ruleIndex` is its code's place in `codes::ALL`.
//!
//! Locations use the display paths, relative to `%SRCROOT%` (the workspace root). Columns
//! count Unicode code points (`columnKind`), and `endColumn` is exclusive, as SARIF defines
//! and as in the JSON report. The output is deterministic: no times, no absolute paths.

use serde_json::{Map, Value, json};

use crate::diag::{Code, Diagnostic, Label, Severity, codes};

/// The schema SARIF viewers and validators look for.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base that relative paths are resolved against.
const SRCROOT: &str = "%SRCROOT%";

pub fn render(diags: &[Diagnostic]) -> String {
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "proctor",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": codes::ALL.iter().map(|c| rule(c)).collect::<Vec<_>>(),
                }
            },
            "originalUriBaseIds": {
                SRCROOT: {
                    "description": {
                        "text": "The workspace root (the folder of proctor.toml), or the folder proctor ran in when there is none."
                    }
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": diags.iter().map(result).collect::<Vec<_>>(),
        }],
    });
    let mut text =
        serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// A code's reportingDescriptor, with its documentation from the registry.
fn rule(code: &Code) -> Value {
    json!({
        "id": code.id,
        "name": code.name,
        "shortDescription": { "text": code.what },
        "fullDescription": { "text": format!("{} {}", code.what, code.why) },
        "help": {
            "text": code.fix,
            "markdown": format!(
                "**What it checks:** {}\n\n**Why it matters:** {}\n\n**Example:** {}\n\n**How to fix it:** {}",
                code.what, code.why, code.example, code.fix
            ),
        },
        "helpUri": code.docs_url(),
        "defaultConfiguration": { "level": level(code.severity) },
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn result(d: &Diagnostic) -> Value {
    let mut r = Map::new();
    r.insert("ruleId".into(), d.code.id.into());
    if let Some(index) = codes::ALL.iter().position(|c| *c == d.code) {
        r.insert("ruleIndex".into(), index.into());
    }
    r.insert("level".into(), level(d.severity).into());
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    r.insert("message".into(), json!({ "text": text }));
    if let Some(primary) = d.primary.as_ref().and_then(|p| location(p, None)) {
        r.insert("locations".into(), json!([primary]));
    }
    // Ids from 1, unique within the result, so that messages could link to them.
    let related: Vec<Value> = d
        .labels
        .iter()
        .filter(|l| !l.at.source.name().is_empty())
        .enumerate()
        .filter_map(|(i, l)| location(l, Some(i + 1)))
        .collect();
    if !related.is_empty() {
        r.insert("relatedLocations".into(), related.into());
    }
    Value::Object(r)
}

/// A label as a SARIF location; `None` for a source without a name (nothing to point at).
fn location(label: &Label, id: Option<usize>) -> Option<Value> {
    let src = &label.at.source;
    if src.name().is_empty() {
        return None;
    }
    let (start_line, start_column) = src.line_col(label.at.span.start);
    let (end_line, end_column) = src.line_col(label.at.span.end.max(label.at.span.start));
    let mut loc = Map::new();
    if let Some(id) = id {
        loc.insert("id".into(), id.into());
    }
    loc.insert(
        "physicalLocation".into(),
        json!({
            "artifactLocation": artifact_location(src.name()),
            "region": {
                "startLine": start_line,
                "startColumn": start_column,
                "endLine": end_line,
                "endColumn": end_column,
            },
        }),
    );
    if let Some(message) = &label.message {
        loc.insert("message".into(), json!({ "text": message }));
    }
    Some(Value::Object(loc))
}

/// A display path as an artifactLocation: relative paths against `%SRCROOT%`, absolute ones
/// (a path given so on the command line) as `file:` URIs.
fn artifact_location(name: &str) -> Value {
    let bytes = name.as_bytes();
    let drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'/' | b'\\');
    if drive {
        let rest = name[2..].replace('\\', "/");
        json!({ "uri": format!("file:///{}:{}", &name[..1], encode_path(&rest)) })
    } else if name.starts_with('/') {
        json!({ "uri": format!("file://{}", encode_path(name)) })
    } else {
        json!({ "uri": encode_path(name), "uriBaseId": SRCROOT })
    }
}

/// Percent-encodes a `/`-separated path for a URI: everything but unreserved characters and
/// `/` (so a `:` cannot read as a scheme, and a space or `[` stays legal).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            artifact_location("templates/a b/cloudformation.yaml [rendered for dev]"),
            json!({
                "uri": "templates/a%20b/cloudformation.yaml%20%5Brendered%20for%20dev%5D",
                "uriBaseId": "%SRCROOT%"
            })
        );
        assert_eq!(
            artifact_location("../../workspace/ü:x.yaml"),
            json!({ "uri": "../../workspace/%C3%BC%3Ax.yaml", "uriBaseId": "%SRCROOT%" })
        );
        assert_eq!(
            artifact_location("/srv/specs/dev.yaml"),
            json!({ "uri": "file:///srv/specs/dev.yaml" })
        );
        assert_eq!(
            artifact_location("C:\\specs\\dev.yaml"),
            json!({ "uri": "file:///C:/specs/dev.yaml" })
        );
    }
}
