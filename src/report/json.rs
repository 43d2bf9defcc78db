//! `--format json`: one object with a version, a summary and the diagnostics. Lines and
//! columns are 1-based, columns count characters, and the end position is exclusive.

use serde::Serialize;

use crate::diag::{Diagnostic, Summary};

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    summary: JsonSummary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    help: Option<&'a str>,
    /// The code's entry in docs/rules.md.
    docs: String,
}

pub fn render(diags: &[Diagnostic]) -> String {
    let s = Summary::of(diags);
    let report = Report {
        version: 1,
        summary: JsonSummary {
            errors: s.errors,
            warnings: s.warnings,
            infos: s.infos,
        },
        diagnostics: diags
            .iter()
            .map(|d| {
                let (file, start, end) = match &d.primary {
                    Some(p) => {
                        let src = &p.at.source;
                        (
                            Some(src.name()),
                            Some(src.line_col(p.at.span.start)),
                            Some(src.line_col(p.at.span.end.max(p.at.span.start))),
                        )
                    }
                    None => (None, None, None),
                };
                JsonDiagnostic {
                    code: d.code.id,
                    severity: d.severity.as_str(),
                    message: &d.message,
                    file,
                    line: start.map(|s| s.0),
                    column: start.map(|s| s.1),
                    end_line: end.map(|e| e.0),
                    end_column: end.map(|e| e.1),
                    help: d.help.as_deref(),
                    docs: d.code.docs_url(),
                }
            })
            .collect(),
    };
    let mut text =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// `proctor policy test --format json`: counts, every expectation, and the diagnostics of
/// files that could not be read (as in the check report).
pub fn render_policy_tests(
    rule_files: usize,
    cases: usize,
    results: &[crate::policy::unit_test::Expectation],
    diags: &[Diagnostic],
) -> String {
    let failed = results.iter().filter(|r| !r.held()).count();
    let check: serde_json::Value = serde_json::from_str(&render(diags)).unwrap_or_default();
    let report = serde_json::json!({
        "version": 1,
        "summary": {
            "rule_files": rule_files,
            "cases": cases,
            "passed": results.len() - failed,
            "failed": failed,
        },
        "results": results.iter().map(|r| serde_json::json!({
            "test_file": r.test_file,
            "case": r.case,
            "rule": r.rule,
            "expected": r.expected,
            "got": r.got.as_str(),
            "passed": r.held(),
        })).collect::<Vec<_>>(),
        "diagnostics": check["diagnostics"],
    });
    let mut text =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
