//! `--format json`: one object with a version, a summary and the diagnostics. Lines and
//! columns are 1-based, columns count characters, and the end position is exclusive.

use serde::Serialize;

use super::RuleCounts;
use crate::diag::{Diagnostic, Summary};

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    summary: JsonSummary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    /// Each policy rule's verdict, per document and policy file (when policies ran).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policy_results: Vec<PolicyResult<'a>>,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    infos: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<RuleCounts>,
}

#[derive(Serialize)]
struct PolicyResult<'a> {
    data: &'a str,
    deployment: &'a str,
    policy: &'a str,
    /// Rule name to PASS, FAIL or SKIP, sorted by name.
    rules: serde_json::Map<String, serde_json::Value>,
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
    render_check(diags, &[])
}

/// Groups verdicts (sorted by document, then policy) per document and policy file.
/// The verdicts grouped by document, deployment and policy, in that order (a run collects them
/// in no particular order: only this report shows them one by one).
fn policy_results(verdicts: &[crate::policy::RuleVerdict]) -> Vec<PolicyResult<'_>> {
    use rayon::prelude::*;
    let mut sorted: Vec<&crate::policy::RuleVerdict> = verdicts.iter().collect();
    sorted.par_sort_unstable();
    let mut out: Vec<PolicyResult<'_>> = Vec::new();
    for v in sorted {
        let same = out.last().is_some_and(|r| {
            *r.data == *v.data && *r.deployment == *v.deployment && *r.policy == *v.policy
        });
        if !same {
            out.push(PolicyResult {
                data: &v.data,
                deployment: &v.deployment,
                policy: &v.policy,
                rules: serde_json::Map::new(),
            });
        }
        if let Some(r) = out.last_mut() {
            r.rules.insert(
                v.rule.to_string(),
                serde_json::Value::from(v.status.as_str()),
            );
        }
    }
    out
}

/// `proctor check --format json`: the diagnostics and, when policies ran, every rule's
/// verdict on every document (comparable with `cfn-guard validate --structured`).
pub fn render_check(diags: &[Diagnostic], verdicts: &[crate::policy::RuleVerdict]) -> String {
    let s = Summary::of(diags);
    let report = Report {
        version: 1,
        policy_results: policy_results(verdicts),
        summary: JsonSummary {
            errors: s.errors,
            warnings: s.warnings,
            infos: s.infos,
            rules: RuleCounts::of(verdicts, Default::default()),
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
