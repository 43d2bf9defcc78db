//! `proctor policy test` against `cfn-guard test -d` (cfn-guard 3.2.1, built by scripts/guard):
//! on the built-in pack, the passing unit-test corpus and the corpus with two wrong
//! expectations, both tools must count the same expectations, report the same failing ones
//! (case, rule, expected, evaluated) and agree on success or failure.

use std::process::Command;

mod oracle;
use oracle::{guard, root};

/// (case, rule, expected, evaluated) of every expectation that did not hold, and the number
/// of expectations checked.
type Outcome = (Vec<(String, String, String, String)>, usize);

fn guard_outcome(dir: &str) -> (Outcome, bool) {
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

fn proctor_outcome(dir: &str) -> (Outcome, bool) {
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

#[test]
fn policy_test_agrees_with_cfn_guard_test() {
    for (dir, should_pass) in [
        ("policies", true),
        ("fixtures/policy/tests", true),
        ("fixtures/workspace/policies", true),
        ("fixtures/policy/tests-failing", false),
    ] {
        let (guard, guard_ok) = guard_outcome(dir);
        let (ours, ours_ok) = proctor_outcome(dir);
        assert_eq!(
            ours, guard,
            "{dir}: (failing expectations, expectation count) differ from cfn-guard test"
        );
        assert_eq!(
            ours_ok, guard_ok,
            "{dir}: success differs from cfn-guard test"
        );
        assert_eq!(
            ours_ok,
            should_pass,
            "{dir}: the corpus is meant to {}",
            if should_pass { "pass" } else { "fail" }
        );
        assert!(guard.1 > 0, "{dir}: no expectations were checked");
    }
}
