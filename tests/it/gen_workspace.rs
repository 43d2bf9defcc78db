//! `scripts/gen-workspace`, the benchmark workspace generator: what it writes passes proctor
//! when asked to be clean, has the input errors and policy violations it was asked for, and
//! is the same for the same seed. Runs `python3` (standard library only) on small sizes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::support::files;

const SMALL: &[&str] = &["--bundles", "6", "--specs", "20", "--resources", "5"];

/// Runs the generator into `out` with the small sizes and `args`; returns its summary line.
fn generate(out: &Path, args: &[&str]) -> String {
    let run = Command::new("python3")
        .arg(crate::support::root().join("scripts/gen-workspace"))
        .arg("--out")
        .arg(out)
        .args(SMALL)
        .args(args)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "gen-workspace failed:\n{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    stdout
}

/// `proctor check --format json` in `dir`: the exit code and the report.
fn check(dir: &Path) -> (i32, serde_json::Value) {
    let run = crate::support::proctor(dir, &["check", "--format", "json"]);
    let report = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run}"));
    (run.code, report)
}

fn diagnostics(report: &serde_json::Value) -> &Vec<serde_json::Value> {
    report["diagnostics"].as_array().unwrap()
}

#[test]
fn a_clean_workspace_passes_every_check_and_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let summary = generate(&ws, &["--violations", "0", "--type-errors", "0"]);
    assert!(
        summary.starts_with(&format!("wrote {}: 6 bundles, 20 specs, ", ws.display()))
            && summary
                .trim_end()
                .ends_with("deployment units, 5 resources per template"),
        "{summary}"
    );
    let f = files(&ws);
    assert!(f.contains_key("proctor.toml") && f.contains_key("policies/bench.guard"));
    assert_eq!(f.keys().filter(|k| k.starts_with("specs/")).count(), 20);
    let bundles: BTreeSet<&str> = f
        .keys()
        .filter(|k| k.ends_with("/v1/schema/schema.yaml"))
        .map(String::as_str)
        .collect();
    assert_eq!(bundles.len(), 6, "{bundles:?}");
    assert!(
        f.keys()
            .any(|k| k.ends_with("/v1/infrastructure/cloudformation.yaml"))
    );
    assert!(
        f.keys()
            .any(|k| k.ends_with("/v1/instance_infrastructure/cloudformation.yaml"))
    );

    let (code, report) = check(&ws);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    assert_eq!(report["summary"]["warnings"], 0, "{report:#}");
}

#[test]
fn type_errors_are_input_errors_in_that_share_of_the_specs() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    generate(
        &ws,
        &["--violations", "0", "--type-errors", "0.5", "--seed", "3"],
    );
    let (code, report) = check(&ws);
    assert_eq!(code, 1, "{report:#}");
    let diags = diagnostics(&report);
    assert!(!diags.is_empty());
    for d in diags {
        let code = d["code"].as_str().unwrap();
        assert!(code.starts_with('I'), "not an input error: {d:#}");
        assert!(d["file"].as_str().unwrap().starts_with("specs/"), "{d:#}");
    }
    // Half of the 20 spec files, one error each.
    let specs: BTreeSet<&str> = diags.iter().map(|d| d["file"].as_str().unwrap()).collect();
    assert_eq!(specs.len(), 10, "{specs:?}");
    assert_eq!(diags.len(), 10, "{report:#}");
}

#[test]
fn violations_are_policy_findings_only() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    generate(&ws, &["--violations", "0.5", "--type-errors", "0"]);
    let (code, report) = check(&ws);
    assert_eq!(code, 1, "{report:#}");
    let diags = diagnostics(&report);
    assert!(!diags.is_empty());
    for d in diags {
        assert_eq!(d["code"], "P100", "{d:#}");
        assert!(
            d["message"].as_str().unwrap().starts_with("BENCH-"),
            "{d:#}"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_tree_and_another_seed_other_specs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    let args = ["--type-errors", "0.2", "--seed", "11"];
    generate(&a, &args);
    generate(&b, &args);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(fb[path] == *bytes, "{path} differs between two runs");
    }

    generate(&c, &["--type-errors", "0.2", "--seed", "12"]);
    let specs = |f: &BTreeMap<String, Vec<u8>>| -> Vec<Vec<u8>> {
        f.iter()
            .filter(|(k, _)| k.starts_with("specs/"))
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_ne!(specs(&fa), specs(&files(&c)));

    // An existing, non-empty folder is refused, unless --force replaces it.
    let refused = Command::new("python3")
        .arg(crate::support::root().join("scripts/gen-workspace"))
        .arg("--out")
        .arg(&a)
        .args(SMALL)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    std::fs::write(a.join("stray.txt"), "x").unwrap();
    generate(&a, &["--type-errors", "0.2", "--seed", "12", "--force"]);
    assert!(!a.join("stray.txt").exists());
    assert_eq!(files(&a), files(&c));
}

/// A workspace's services streamed through the spec and render stages a few at a time (a
/// debug build reads `PROCTOR_SPEC_BATCH`) report exactly what one batch of all of them
/// reports, in every format, with and without the cache: input errors, policy findings
/// and verdicts, across batch boundaries.
#[test]
fn services_checked_a_few_at_a_time_report_what_all_at_once_do() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    // Three times the small sizes' specs (a later flag wins over `SMALL`'s).
    let sizes = ["--specs", "60", "--resources", "4"];
    let errors = [
        "--violations",
        "0.3",
        "--type-errors",
        "0.15",
        "--seed",
        "11",
    ];
    generate(&ws, &[&sizes[..], &errors[..]].concat());
    let report = |batch: &str, args: &[&str]| {
        let env = [("PROCTOR_SPEC_BATCH".to_string(), batch.to_string())];
        let run = crate::support::proctor_env(&ws, args, &env);
        let re = regex::Regex::new(r" in [0-9.]+ m?s").unwrap();
        (run.code, re.replace_all(&run.stdout, "").into_owned())
    };
    for args in [
        &["check", "--format", "json", "--no-cache"][..],
        &["check", "--no-cache"],
        &["check", "--format", "sarif", "--no-cache"],
        &["check", "--format", "json"],
    ] {
        let all = report("100000", args);
        let (code, json) = &all;
        assert_eq!(*code, 1, "{args:?}: the workspace has errors");
        if args.contains(&"json") {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            assert!(diagnostics(&v).len() > 10, "{json}");
            let failed = v["policy_results"].as_array().unwrap().iter();
            assert!(failed.filter(|r| r.to_string().contains("FAIL")).count() > 3);
        }
        for batch in ["1", "7"] {
            assert!(report(batch, args) == all, "{args:?}, {batch} at a time");
        }
    }
}

/// The verdicts a report lists and the closing line's counts (which only counts them, as
/// `proctor check` without a JSON report does, from the first verdict on) agree: cold, with
/// the cache written and with it read back.
#[test]
fn the_closing_line_counts_the_verdicts_the_json_report_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    generate(
        &ws,
        &["--violations", "0.3", "--type-errors", "0.1", "--seed", "5"],
    );
    let listed = |args: &[&str]| {
        let run = crate::support::proctor(&ws, &[&["check", "--format", "json"], args].concat());
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
        for result in report["policy_results"].as_array().unwrap() {
            for status in result["rules"].as_object().unwrap().values() {
                *by_status
                    .entry(status.as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        let rules = &report["summary"]["rules"];
        let n = |s: &str| by_status.get(s).copied().unwrap_or(0);
        assert_eq!(
            (n("PASS"), n("FAIL"), n("SKIP")),
            (
                rules["passed"].as_u64().unwrap() as usize,
                rules["failed"].as_u64().unwrap() as usize,
                rules["skipped"].as_u64().unwrap() as usize
            )
        );
        format!(
            "policy rules: {} passed, {} failed, {} skipped",
            n("PASS"),
            n("FAIL"),
            n("SKIP")
        )
    };
    let counted = |args: &[&str]| {
        let run = crate::support::proctor(&ws, &[&["check"], args].concat());
        let last = run.stdout.lines().last().unwrap_or_default().to_string();
        last.split("; ").last().unwrap().to_string()
    };
    let expected = listed(&["--no-cache"]);
    assert!(
        expected.contains(" failed") && !expected.contains(" 0 failed"),
        "{expected}"
    );
    assert_eq!(counted(&["--no-cache"]), expected);
    // The cache written by a counting run, then read by one run of each kind.
    assert_eq!(counted(&[]), expected);
    assert_eq!(counted(&[]), expected);
    assert_eq!(listed(&[]), expected);
}
