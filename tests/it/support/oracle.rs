//! The cfn-guard 3.2.1 test oracle, shared by the differential tests.

use std::path::PathBuf;
use std::process::Command;

pub use super::root;

/// The cfn-guard binary, built once by scripts/guard into a cache folder.
pub fn guard() -> PathBuf {
    let out = Command::new(root().join("scripts/guard"))
        .output()
        .expect("scripts/guard runs");
    assert!(
        out.status.success(),
        "scripts/guard failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// (case, rule, expected, evaluated) of every expectation that did not hold, and the number
/// of expectations checked.
pub type Outcome = (Vec<(String, String, String, String)>, usize);

pub fn guard_outcome(dir: &str) -> (Outcome, bool) {
    let out = Command::new(guard())
        .current_dir(root())
        .args(["test", "-o", "json", "-d", dir])
        .output()
        .expect("cfn-guard runs");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 7)),
        "cfn-guard test -d {dir} exited {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One JSON document per rule file, concatenated.
    let text = String::from_utf8(out.stdout).unwrap();
    let mut failed = Vec::new();
    let mut total = 0;
    for report in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
        let report =
            report.unwrap_or_else(|e| panic!("cfn-guard test output is not JSON ({e}):\n{text}"));
        let files = match report {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        for file in files {
            for case in file["test_cases"].as_array().into_iter().flatten() {
                let name = case["name"].as_str().unwrap_or_default().to_string();
                total += case["passed_rules"].as_array().map_or(0, Vec::len);
                for rule in case["failed_rules"].as_array().into_iter().flatten() {
                    total += 1;
                    let evaluated = rule["evaluated"]
                        .as_array()
                        .and_then(|v| v.first())
                        .and_then(|v| v.as_str());
                    failed.push((
                        name.clone(),
                        rule["name"].as_str().unwrap_or_default().to_string(),
                        rule["expected"].as_str().unwrap_or_default().to_string(),
                        evaluated.unwrap_or_default().to_string(),
                    ));
                }
            }
        }
    }
    failed.sort();
    ((failed, total), code == Some(0))
}

pub fn proctor_outcome(dir: &str) -> (Outcome, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .current_dir(root())
        .args(["policy", "test", dir])
        .output()
        .expect("proctor runs");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "proctor policy test {dir} exited {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut failed = Vec::new();
    let mut total = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("FAIL ") {
            // FAIL <file>: case `<case>`: rule `<rule>` expected <X>, got <Y>
            let case = between(rest, "case `", "`: rule");
            let rule = between(rest, "rule `", "` expected");
            let expected = between(rest, "` expected ", ", got");
            let got = rest.rsplit(", got ").next().unwrap_or_default();
            failed.push((case.into(), rule.into(), expected.into(), got.into()));
        } else if let Some((_, counts)) = line.split_once(" cases: ") {
            let n = |word: &str| -> usize {
                counts
                    .split(", ")
                    .find_map(|p| p.strip_suffix(word))
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(0)
            };
            total = Some(n(" passed") + n(" failed"));
        }
    }
    failed.sort();
    let total = total.unwrap_or_else(|| panic!("no summary line in proctor's output:\n{text}"));
    ((failed, total), code == Some(0))
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s.find(start).map(|i| i + start.len()).unwrap_or(0);
    let to = s[from..].find(end).map(|i| from + i).unwrap_or(s.len());
    &s[from..to]
}

/// `cfn-guard validate --structured -o json` of rule files on data files: each data file's
/// name (as cfn-guard gives it: the canonical path) → rule name → PASS, FAIL or SKIP.
pub fn guard_validate(
    rules: &std::path::Path,
    data: &std::path::Path,
) -> std::collections::BTreeMap<
    String,
    std::collections::BTreeMap<String, proctor::policy::eval::Status>,
> {
    use proctor::policy::eval::Status;
    let out = Command::new(guard())
        .args(["validate", "--structured", "-o", "json", "-S", "none", "-r"])
        .arg(rules)
        .arg("-d")
        .arg(data)
        .output()
        .expect("cfn-guard runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cfn-guard output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut all = std::collections::BTreeMap::new();
    for file in report.as_array().into_iter().flatten() {
        let name = file["name"].as_str().unwrap_or_default().to_string();
        let mut statuses = std::collections::BTreeMap::new();
        for r in file["compliant"].as_array().into_iter().flatten() {
            statuses.insert(r.as_str().unwrap_or("").to_string(), Status::Pass);
        }
        for r in file["not_applicable"].as_array().into_iter().flatten() {
            statuses.insert(r.as_str().unwrap_or("").to_string(), Status::Skip);
        }
        for r in file["not_compliant"].as_array().into_iter().flatten() {
            statuses.insert(
                r["Rule"]["name"].as_str().unwrap_or("").to_string(),
                Status::Fail,
            );
        }
        all.insert(name, statuses);
    }
    all
}
