//! `proctor policy test`: Guard-format unit tests. `X.guard` pairs with the files in a sibling
//! `tests/` folder whose names start with `X` and end in `.yaml`, `.yml`, `.json` or `.jsn`;
//! each file is a list of cases `{name, input, expectations: {rules: {RULE: PASS|FAIL|SKIP}}}`.
//! A rule without an expectation is not checked; expectations naming unknown rules are
//! ignored (as in cfn-guard).

use std::path::{Path, PathBuf};

use super::eval::Status;
use super::{Policy, evaluate_bounded, over_budget};
use crate::diag::Diagnostic;
use crate::files::read_source;
use crate::limits::Limits;
use crate::yaml::Node;

/// One expectation of a test file: a rule's status in a case, expected and got.
#[derive(Clone, Debug)]
pub struct Expectation {
    pub test_file: String,
    pub case: String,
    pub rule: String,
    pub expected: String,
    pub got: Status,
}

impl Expectation {
    pub fn held(&self) -> bool {
        self.expected == self.got.as_str()
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub expectations: usize,
    pub mismatches: Vec<Expectation>,
    /// Every expectation checked, held or not (in file and case order).
    pub results: Vec<Expectation>,
    /// Files that could not be read or parsed.
    pub diagnostics: Vec<Diagnostic>,
}

/// The unit-test files of a rule file.
pub fn test_files(rules: &Path) -> Vec<(PathBuf, String)> {
    let Some(stem) = rules.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let dir = rules.parent().unwrap_or(Path::new(".")).join("tests");
    crate::paths::files_named(&dir, |name| {
        name.starts_with(&stem)
            && [".yaml", ".yml", ".json", ".jsn"]
                .iter()
                .any(|x| name.ends_with(x))
    })
}

/// Runs one policy's unit-test files.
pub fn run(
    policy: &Policy,
    tests: &[(PathBuf, String)],
    shown_dir: &str,
    limits: &Limits,
) -> Report {
    let mut report = Report::default();
    for (path, name) in tests {
        let shown =
            crate::paths::join_display(&crate::paths::join_display(shown_dir, "tests"), name);
        let source = match read_source(path, &shown, limits.max_file_bytes) {
            Ok(s) => s,
            Err(d) => {
                report.diagnostics.push(*d);
                continue;
            }
        };
        let mut diags = Vec::new();
        let Some(root) = crate::data::parse(&source, &mut diags) else {
            report.diagnostics.extend(diags);
            continue;
        };
        let empty = Node {
            span: 0..0,
            tag: None,
            plain: false,
            value: crate::yaml::Value::Map(Vec::new()),
        };
        for case in root.as_seq().unwrap_or_default() {
            report.cases += 1;
            let case_name = case
                .get("name")
                .and_then(Node::scalar_text)
                .unwrap_or_else(|| "(unnamed)".into());
            let input = case.get("input").unwrap_or(&empty);
            let super::Evaluation {
                statuses,
                exhausted,
                errors,
                ..
            } = evaluate_bounded(policy, input);
            for (rule, why) in &errors {
                report.diagnostics.push(super::unevaluable(
                    policy,
                    rule,
                    why,
                    &format!("{shown} (case `{case_name}`)"),
                ));
            }
            if let Some(rule) = exhausted {
                report.diagnostics.push(over_budget(
                    policy,
                    &rule,
                    &format!("{shown} (case `{case_name}`)"),
                ));
            }
            let Some(expected) = case
                .pointer(["expectations", "rules"])
                .and_then(Node::as_map)
            else {
                continue;
            };
            for (rule, want) in expected {
                let rule = rule.scalar_text().unwrap_or_default();
                let Some((_, got)) = statuses.iter().find(|(n, _)| *n == rule) else {
                    continue;
                };
                report.expectations += 1;
                let want = want.scalar_text().unwrap_or_default().to_ascii_uppercase();
                let e = Expectation {
                    test_file: shown.clone(),
                    case: case_name.clone(),
                    rule,
                    expected: want,
                    got: *got,
                };
                if !e.held() {
                    report.mismatches.push(e.clone());
                }
                report.results.push(e);
            }
        }
    }
    report
}
