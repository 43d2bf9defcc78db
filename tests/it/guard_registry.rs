//! Guard conformance on users' real files: the public Guard rules registry and public
//! CloudFormation templates (`../shared/corpus`, or the folder in `PROCTOR_CORPUS`), against
//! cfn-guard 3.2.1 in the same run.
//!
//! - `proctor policy test` meets every expectation of the registry's own suite, as
//!   `cfn-guard test` does, and five flipped expectations fail it, named;
//! - every registry rule, on every data file (each test case's input, each template of
//!   `cloudformation-templates`, each render of the Proton samples' specs), has the verdict
//!   `cfn-guard validate` gives it.
//!
//! Without the corpus the tests are skipped with a message, except under CI (`CI=true`),
//! where a missing corpus fails them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use proctor::limits::Limits;
use proctor::policy::eval::Status;

use crate::support::corpus;
use crate::support::oracle::{guard_outcome, proctor_outcome};

/// (data file, rule, reason) where proctor's verdict differs from cfn-guard's on purpose.
const DELIBERATE: &[(&str, &str, &str)] = &[];

/// (data file, reason) that proctor does not evaluate on purpose, where cfn-guard does.
const NOT_DATA: &[(&str, &str)] = &[(
    "cloudformation-templates/EKS/manifest.yml",
    "a Kubernetes manifest of several YAML documents, not a template: proctor reports Y005; \
     cfn-guard reads the first document and SKIPs every rule",
)];

#[test]
fn registry_suite_meets_every_expectation() {
    let Some(corpus) = corpus() else { return };
    let rules = corpus.join("guard-rules-registry/rules");
    let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .current_dir(corpus.join("guard-rules-registry"))
        .args(["policy", "test", "rules"])
        .output()
        .expect("proctor runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains("P001"),
        "a registry rule file was refused:\n{stderr}"
    );
    assert!(
        stdout.contains("209 rule files, 1694 cases: 1964 passed, 0 failed"),
        "summary differs:\n{}",
        stdout.lines().last().unwrap_or_default()
    );
    // cfn-guard, in the same run, counts the same expectations and meets them all.
    let dir = rules.to_string_lossy().into_owned();
    let (theirs, theirs_ok) = guard_outcome(&dir);
    let (ours, ours_ok) = proctor_outcome(&dir);
    assert!(theirs_ok && ours_ok);
    assert_eq!(ours, theirs);
    assert_eq!(theirs.1, 1964);
}

/// Flips the first expectation of a test file (PASS→FAIL, FAIL→SKIP, SKIP→PASS): the line,
/// its rule, and the new value.
fn flip_first(file: &Path) -> (String, String) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    let mut flipped = None;
    for line in text.split_inclusive('\n') {
        let t = line.trim_end();
        let status = ["PASS", "FAIL", "SKIP"]
            .into_iter()
            .find(|s| t.ends_with(&format!(": {s}")));
        if flipped.is_none()
            && let Some(s) = status
        {
            let rule = t.trim().trim_end_matches(&format!(": {s}")).to_string();
            let new = match s {
                "PASS" => "FAIL",
                "FAIL" => "SKIP",
                _ => "PASS",
            };
            out.push_str(&line.replacen(&format!(": {s}"), &format!(": {new}"), 1));
            flipped = Some((rule, new.to_string()));
        } else {
            out.push_str(line);
        }
    }
    std::fs::write(file, out).unwrap();
    flipped.expect("the test file has an expectation")
}

#[test]
fn flipped_expectations_fail_and_are_named() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("rules");
    crate::support::copy_dir(&corpus.join("guard-rules-registry/rules"), &copy);
    let picks = [
        "aws/amazon_s3/tests/s3_bucket_logging_enabled_tests.yml",
        "aws/amazon_ec2/tests/restricted_ssh_tests.yml",
        "aws/iam/tests/iam_no_inline_policy_check_tests.yml",
        "aws/amazon_rds/tests/rds_storage_encrypted_tests.yml",
        "aws/lambda/tests/lambda_function_public_access_prohibited_tests.yml",
    ];
    let mut flipped = Vec::new();
    for p in picks {
        let file = copy.join(p);
        assert!(file.exists(), "{p} is not in the registry copy");
        flipped.push(flip_first(&file));
    }
    let dir = copy.to_string_lossy().into_owned();
    let ((theirs, _), theirs_ok) = guard_outcome(&dir);
    let ((ours, _), ours_ok) = proctor_outcome(&dir);
    assert!(
        !theirs_ok && !ours_ok,
        "five wrong expectations must fail the run"
    );
    assert_eq!(
        ours, theirs,
        "proctor and cfn-guard name different failures"
    );
    assert_eq!(ours.len(), 5, "{ours:#?}");
    for (rule, new) in &flipped {
        assert!(
            ours.iter()
                .any(|(_, r, expected, _)| r == rule && expected == new),
            "the flipped expectation {rule}: {new} is not named in {ours:#?}"
        );
    }
}

/// Every registry test case's input as a JSON file of its own, for `cfn-guard validate`.
fn extract_inputs(rules: &Path, into: &Path) -> usize {
    std::fs::create_dir_all(into).unwrap();
    let mut n = 0;
    let files =
        crate::support::files_under(rules, |p| p.parent().is_some_and(|d| d.ends_with("tests")));
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let src = proctor::source::SourceFile::new("t", &f, text);
        let mut diags = Vec::new();
        let Some(doc) = proctor::policy::data::parse(&src, &mut diags) else {
            continue;
        };
        for case in doc.as_seq().unwrap_or_default() {
            let Some(input) = case.get("input") else {
                continue;
            };
            let stem = f.file_stem().unwrap().to_string_lossy();
            std::fs::write(
                into.join(format!("{stem}-{n:04}.json")),
                serde_json::to_string(&input.to_json()).unwrap(),
            )
            .unwrap();
            n += 1;
        }
    }
    n
}

fn data_files(dir: &Path) -> Vec<PathBuf> {
    crate::support::files_under(dir, |p| {
        p.extension().is_some_and(|x| {
            ["yaml", "yml", "json", "jsn", "template"].contains(&&*x.to_string_lossy())
        })
    })
}

/// Compares proctor's verdict for every rule on every data file of `data` with cfn-guard's.
fn compare(rules: &Path, data: &Path, differences: &mut Vec<String>) -> usize {
    let theirs = crate::support::oracle::guard_validate(rules, data);
    let files = proctor::policy::files_in(rules, "rules", &proctor::paths::WalkBudget::unlimited());
    let (policies, diags) = proctor::policy::load_all(&files, &Limits::default());
    assert!(diags.is_empty(), "registry rule files refused: {diags:?}");
    let mut compared = 0;
    let mut refused = Vec::new();
    for path in data_files(data) {
        let name = path.to_string_lossy().into_owned();
        let Some(want) = theirs.get(&name) else {
            // cfn-guard refused the data file (a map with a key that is not a string).
            refused.push(name);
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let src = proctor::source::SourceFile::new("data", &path, text);
        let mut d = Vec::new();
        let Some(doc) = proctor::policy::data::parse(&src, &mut d) else {
            if !NOT_DATA.iter().any(|(f, _)| name.ends_with(f)) {
                differences.push(format!("{name}: proctor could not read it: {d:?}"));
            }
            continue;
        };
        let mut got = BTreeMap::new();
        for p in &policies {
            let (statuses, _) = proctor::policy::evaluate(p, &doc);
            got.extend(statuses);
        }
        for (rule, w) in want {
            compared += 1;
            let g = got.get(rule);
            if g != Some(w)
                && !DELIBERATE
                    .iter()
                    .any(|(f, r, _)| name.ends_with(f) && r == rule)
            {
                differences.push(format!(
                    "{name}: {rule}: cfn-guard {} proctor {}",
                    w.as_str(),
                    g.map_or("missing", |s| s.as_str())
                ));
            }
        }
    }
    // The corpus README: cfn-guard refuses one template of the public corpus and none of
    // the registry's inputs.
    assert!(
        refused.len() <= 1,
        "cfn-guard gave no verdicts for {refused:#?}"
    );
    compared
}

#[test]
fn registry_verdicts_equal_cfn_guard_on_every_data_file() {
    let Some(corpus) = corpus() else { return };
    let rules = corpus.join("guard-rules-registry/rules");
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("inputs");
    let cases = extract_inputs(&rules, &inputs);
    assert!(cases >= 1694, "registry test inputs: {cases}");
    let mut differences = Vec::new();
    let mut compared = compare(&rules, &inputs, &mut differences);
    compared += compare(
        &rules,
        &corpus.join("cloudformation-templates"),
        &mut differences,
    );
    // The Proton samples' renders, as `proctor render` prints them.
    let (renders, missing) =
        crate::support::proton_sample_renders(&corpus.join("proton-cloudformation-samples"));
    assert!(missing.is_empty() && renders.len() >= 40, "{missing:?}");
    let rendered = tmp.path().join("proton-renders");
    std::fs::create_dir_all(&rendered).unwrap();
    for (i, r) in renders.iter().enumerate() {
        std::fs::write(rendered.join(format!("render-{i:03}.yaml")), &r.text).unwrap();
    }
    compared += compare(&rules, &rendered, &mut differences);
    assert!(compared > 300_000, "too few verdicts compared ({compared})");
    assert!(
        differences.is_empty(),
        "{} of {compared} verdicts differ from cfn-guard 3.2.1:\n{}",
        differences.len(),
        differences
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The verdicts `proctor check --format json` reports (`policy_results`): data file → rule →
/// status.
fn check_verdicts(json: &serde_json::Value) -> BTreeMap<String, BTreeMap<String, Status>> {
    let mut all: BTreeMap<String, BTreeMap<String, Status>> = BTreeMap::new();
    for r in json["policy_results"].as_array().into_iter().flatten() {
        let entry = all
            .entry(r["data"].as_str().unwrap_or_default().to_string())
            .or_default();
        for (rule, status) in r["rules"].as_object().into_iter().flatten() {
            let s = match status.as_str() {
                Some("PASS") => Status::Pass,
                Some("FAIL") => Status::Fail,
                _ => Status::Skip,
            };
            entry.insert(rule.clone(), s);
        }
    }
    all
}

#[test]
fn check_reports_cfn_guards_verdicts_through_the_cli() {
    let Some(corpus) = corpus() else { return };
    let rules = corpus.join("guard-rules-registry/rules");
    let cfn_dir = corpus.join("cloudformation-templates");
    // The files that are CloudFormation templates (the folder also holds Lambda test events
    // and tool settings, which `check` does not take for templates).
    let templates: Vec<PathBuf> = data_files(&cfn_dir)
        .into_iter()
        .filter(|p| {
            proctor::cfn::looks_like_template(&std::fs::read_to_string(p).unwrap_or_default())
        })
        .collect();
    assert!(templates.len() >= 200, "{} templates", templates.len());
    let theirs = crate::support::oracle::guard_validate(&rules, &cfn_dir);
    let run = |format: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_proctor"));
        cmd.args(["check", "--select", "P", "--color", "never", "--policy"])
            .arg(&rules)
            .args(&templates);
        if let Some(f) = format {
            cmd.args(["--format", f]);
        }
        let out = cmd.output().expect("proctor runs");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run(Some("json"))).unwrap();
    let ours = check_verdicts(&json);
    let mut differences = Vec::new();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for t in &templates {
        let name = t.to_string_lossy().into_owned();
        let want = theirs
            .get(&name)
            .unwrap_or_else(|| panic!("cfn-guard has no verdicts for {name}"));
        let got = ours
            .get(&name)
            .unwrap_or_else(|| panic!("proctor has no verdicts for {name}"));
        for (rule, w) in want {
            match w {
                Status::Pass => passed += 1,
                Status::Fail => failed += 1,
                Status::Skip => skipped += 1,
            }
            if got.get(rule) != Some(w) {
                differences.push(format!(
                    "{name}: {rule}: cfn-guard {} proctor {:?}",
                    w.as_str(),
                    got.get(rule)
                ));
            }
        }
        assert_eq!(got.len(), want.len(), "{name}: rules reported");
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert_eq!(
        json["summary"]["rules"],
        serde_json::json!({"passed": passed, "failed": failed, "skipped": skipped})
    );
    let human = run(None);
    let closing = human.lines().last().unwrap_or_default();
    assert!(
        closing.ends_with(&format!(
            "; policy rules: {passed} passed, {failed} failed, {skipped} skipped"
        )),
        "{closing}"
    );
}

/// A template is parsed once for CloudFormation and for policies: the policy data read from
/// CloudFormation's YAML tree equals the data cfn-guard's own reading gives, on every YAML and
/// JSON file of the public corpus (templates, Proton samples, the registry's test inputs) and
/// on scalars where the two readings differ.
#[test]
fn policy_data_from_the_cloudformation_tree_equals_a_guard_parse() {
    let tricky = "a: yes\nb: True\nc: 0x1F\nd: 1_000\ne: .inf\nf:\ng: ~\nh: 012\ni: -7\n\
                  j: &x on\nk: *x\nl: &y [n, 1.5e3]\nm: *y\nyes: key\n1: one\n\
                  n: !Ref Bucket\no: !Sub '${A}'\np: multi\n  line\nq: !!int 3\nr: ''\ns: &z True\nt: *z\n";
    let mut files = vec![("tricky.yaml".into(), tricky.to_string())];
    if let Some(corpus) = crate::support::corpus() {
        for path in data_files(&corpus) {
            if let Ok(text) = std::fs::read_to_string(&path) {
                files.push((path.to_string_lossy().into_owned(), text));
            }
        }
    }
    assert!(
        files.len() > 1 || std::env::var_os("CI").is_none(),
        "no corpus files"
    );
    let mut compared = 0;
    for (name, text) in files {
        let src = proctor::source::SourceFile::new("data", &name, text);
        let guard = proctor::policy::data::parse(&src, &mut Vec::new());
        let Some(tree) = proctor::cfn::parse_yaml(&src, &mut Vec::new()) else {
            assert!(
                guard.is_none(),
                "{name}: only cfn-guard's reading parsed it"
            );
            continue;
        };
        let from_tree = proctor::policy::data::from_cfn_yaml(&src, &tree)
            .or_else(|| proctor::policy::data::parse(&src, &mut Vec::new()));
        assert_eq!(from_tree, guard, "{name}: the two readings differ");
        compared += 1;
    }
    eprintln!("{compared} files read both ways");
}
