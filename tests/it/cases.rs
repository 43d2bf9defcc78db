//! End-to-end: run the real `proctor` binary on every fixture case and snapshot what a user
//! sees (human output) and what CI reads (JSON).
//!
//! A case is a folder `fixtures/cases/<CODE>-<slug>/`. proctor runs inside it with the
//! arguments in its `args` file (one per line), or with `check` alone. The case must report
//! its code; the valid workspace must report nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{Run, root};

/// Runs proctor in a case folder. A case may set environment variables, one `KEY=VALUE` per
/// line of its `env` file.
fn proctor(dir: &Path, args: &[String]) -> Run {
    let env: Vec<(String, String)> = std::fs::read_to_string(dir.join("env"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    crate::support::proctor_env(dir, args, &env)
}

fn case_args(dir: &Path) -> Vec<String> {
    match std::fs::read_to_string(dir.join("args")) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        Err(_) => vec!["check".to_string()],
    }
}

fn cases() -> Vec<PathBuf> {
    crate::support::case_dirs("fixtures/cases")
}

/// Times vary, and so do the places in proctor's source that an internal error (E001) names;
/// everything else in the output is deterministic.
fn redact_time(s: &str) -> String {
    let re = regex::Regex::new(r"in \d+ ms").expect("valid regex");
    let s = re.replace_all(s, "in [time] ms");
    let src =
        regex::Regex::new(r"(crates/[a-z_]+/)?src/[a-z_/]+\.rs:\d+:\d+").expect("valid regex");
    src.replace_all(&s, "src/[place]").into_owned()
}

fn codes_in(json: &serde_json::Value) -> Vec<String> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics is a list")
        .iter()
        .map(|d| d["code"].as_str().expect("code is a string").to_string())
        .collect()
}

/// One run per case folder through `insta::glob!`: every case's snapshots (`human@CASE`,
/// `json@CASE`) are compared and every mismatch is reported at the end, not only the first;
/// the checks that are not snapshots (the code is reported, the exit code) are collected the
/// same way.
#[test]
fn every_case_reports_its_code_and_matches_its_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots/cases"));
    settings.set_prepend_module_to_snapshot(false);
    let failures = std::cell::RefCell::new(Vec::new());
    settings.bind(|| {
        insta::glob!("../../fixtures/cases", "*-*", |dir| {
            if dir.is_dir()
                && let Err(e) = run_case(dir)
            {
                failures.borrow_mut().push(e);
            }
        });
    });
    let failures = failures.into_inner();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs one case in both formats, snapshots both, and checks the code and the exit code.
fn run_case(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let code = name.split('-').next().unwrap().to_string();
    let args = case_args(dir);

    let human = proctor(dir, &args);
    let mut json_args = args.clone();
    json_args.extend(["--format".to_string(), "json".to_string()]);
    let json = proctor(dir, &json_args);
    let shown = format!(
        "$ proctor {}\nexit: {}\n{}{}",
        args.join(" "),
        human.code,
        redact_time(&human.stdout),
        if human.stderr.is_empty() {
            String::new()
        } else {
            format!("--- stderr\n{}", human.stderr)
        }
    );
    insta::assert_snapshot!("human", shown);
    insta::assert_snapshot!("json", redact_time(&json.stdout));

    let parsed: serde_json::Value = serde_json::from_str(&json.stdout)
        .map_err(|e| format!("{name}: JSON output does not parse: {e}\n{}", json.stdout))?;
    let found = codes_in(&parsed);
    if !found.contains(&code) {
        return Err(format!(
            "{name}: expected {code}, got {found:?}\n{}",
            human.stdout
        ));
    }
    if human.code != json.code {
        return Err(format!(
            "{name}: exit {} in human output, {} in JSON",
            human.code, json.code
        ));
    }
    let errors = parsed["summary"]["errors"].as_u64().unwrap_or(0);
    let expected_exit = match code.as_str() {
        "W001" => 2,
        "E001" => 3,
        _ => i32::from(errors > 0),
    };
    if human.code != expected_exit {
        return Err(format!(
            "{name}: exit {} (expected {expected_exit})\n{}{}",
            human.code, human.stdout, human.stderr
        ));
    }
    Ok(())
}

#[test]
fn every_code_has_a_case_and_every_case_names_a_code() {
    let registry: BTreeSet<&str> = proctor::diag::codes::ALL.iter().map(|c| c.id).collect();
    let covered: BTreeSet<String> = cases()
        .iter()
        .map(|d| {
            d.file_name()
                .unwrap()
                .to_string_lossy()
                .split('-')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let missing: Vec<&&str> = registry.iter().filter(|c| !covered.contains(**c)).collect();
    assert!(
        missing.is_empty(),
        "codes without a fixture case: {missing:?}"
    );
    let unknown: Vec<&String> = covered
        .iter()
        .filter(|c| !registry.contains(c.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "cases naming no registered code: {unknown:?}"
    );
}

#[test]
fn the_valid_workspace_checks_clean() {
    let dir = root().join("fixtures/workspace");
    let run = proctor(
        &dir,
        &[
            "check".into(),
            "--format".into(),
            "json".into(),
            "--deny-warnings".into(),
        ],
    );
    let parsed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(codes_in(&parsed), Vec::<String>::new(), "{}", run.stdout);
    assert_eq!(run.code, 0);
    let human = proctor(&dir, &["check".into()]);
    assert!(
        human.stdout.contains("(3 bundles, 4 specs)")
            && human.stdout.contains("0 errors, 0 warnings"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_port_of_eighty_is_reported_at_its_line_and_column() {
    let dir = root().join("fixtures/cases/I003-wrong-type");
    let human = proctor(&dir, &["check".into()]);
    assert_eq!(human.code, 1);
    // The spec's path with the value's line and column, the expected type, and the schema
    // property that requires it.
    assert!(
        human.stdout.contains("payments.yaml:8:13"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("input `port` must be a number"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("payments-svc/v1/schema/schema.yaml:12:17"),
        "{}",
        human.stdout
    );

    let json = proctor(&dir, &["check".into(), "--format".into(), "json".into()]);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let port = parsed["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("`port`"))
        .expect("a diagnostic about port");
    assert_eq!(port["file"], "payments.yaml");
    assert_eq!(
        (port["line"].as_u64(), port["column"].as_u64()),
        (Some(8), Some(13))
    );
    assert_eq!(
        (port["end_line"].as_u64(), port["end_column"].as_u64()),
        (Some(8), Some(21))
    );
}

#[test]
fn one_broken_file_does_not_stop_the_others() {
    // Y001's workspace has a broken spec; the service templates it shares are still linted,
    // and a broken spec next to a good one leaves the good one checked.
    let dir = root().join("fixtures/cases/I004-not-in-enum");
    let run = proctor(&dir, &["check".into(), "--format".into(), "json".into()]);
    let parsed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let codes = codes_in(&parsed);
    assert_eq!(
        codes,
        ["I004", "I004"],
        "both instances are checked: {}",
        run.stdout
    );
}

#[test]
fn bad_arguments_and_unusable_configs_exit_2() {
    let dir = root().join("fixtures/workspace");
    assert_eq!(
        proctor(&dir, &["check".into(), "no/such/path".into()]).code,
        2
    );
    assert_eq!(
        proctor(&dir, &["check".into(), "--format".into(), "yaml".into()]).code,
        2
    );
    assert_eq!(
        proctor(
            &dir,
            &["check".into(), "--config".into(), "missing.toml".into()]
        )
        .code,
        2
    );
    let w001 = root().join("fixtures/cases/W001-config-invalid");
    assert_eq!(proctor(&w001, &["check".into()]).code, 2);
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let dir = root().join("fixtures/cases/Y006-yaml-1-1-ambiguity");
    assert_eq!(proctor(&dir, &["check".into()]).code, 0);
    assert_eq!(
        proctor(&dir, &["check".into(), "--deny-warnings".into()]).code,
        1
    );
}

#[test]
fn explain_prints_every_code() {
    for c in proctor::diag::codes::ALL {
        let run = proctor(&root(), &["explain".into(), c.id.to_lowercase()]);
        assert_eq!(run.code, 0, "{}", c.id);
        assert!(
            run.stdout.starts_with(c.id) && run.stdout.contains(c.fix),
            "{}",
            run.stdout
        );
    }
    assert_eq!(proctor(&root(), &["explain".into(), "Z999".into()]).code, 2);
}
