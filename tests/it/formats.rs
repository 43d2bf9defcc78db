//! The machine-readable reports, checked against the formats' own definitions: SARIF against
//! the OASIS SARIF 2.1.0 schema, JUnit XML against the Jenkins JUnit XSD (with the Python
//! `xmlschema` validator from the venv), the JSON report against docs/report.schema.json, and
//! GitHub workflow commands line by line.
//!
//! The diagnostics come from the library, run on every fixture case as `proctor check` would
//! run on it (the case's `args` file), so together they cover every code. The schemas are in
//! tests/data (see its README for where they come from).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use proctor::check::{self, CheckOptions, Fatal};
use proctor::diag::{Diagnostic, codes};
use proctor::report::{github, json, junit, sarif};
use proctor::source::SourceFile;
use serde_json::{Value, json};

use crate::support::root;

fn cases() -> Vec<PathBuf> {
    crate::support::case_dirs("fixtures/cases")
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .expect("a case folder has a name")
        .to_string_lossy()
        .into_owned()
}

/// The options `proctor check ARGS` builds, from the case's `args` file (one per line).
fn options(dir: &Path) -> CheckOptions {
    let mut opts = CheckOptions {
        cwd: dir.to_path_buf(),
        ..CheckOptions::default()
    };
    let Ok(text) = std::fs::read_to_string(dir.join("args")) else {
        return opts;
    };
    let mut args = text.lines().filter(|l| !l.is_empty());
    assert_eq!(args.next(), Some("check"), "{}: args", dir.display());
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| panic!("{arg} needs a value"))
                .to_string()
        };
        match arg {
            "--policy" => opts.policies.push(value()),
            "--spec" => opts.specs.push(value()),
            "--config" => opts.config = Some(value()),
            flag if flag.starts_with('-') => panic!("{}: unexpected {flag}", dir.display()),
            path => opts.paths.push(path.to_string()),
        }
    }
    opts
}

/// What `proctor check` reports in the folder (an unusable proctor.toml's diagnostics too);
/// for the cases of `proctor diff OLD NEW` (version changes), what that reports.
fn diagnostics(dir: &Path) -> Vec<Diagnostic> {
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let args: Vec<&str> = args.lines().filter(|l| !l.is_empty()).collect();
    if let ["diff", old, new] = args.as_slice() {
        return proctor::versions::diff_bundles(dir, old, new)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .0;
    }
    // The E001 case needs a failpoint set in the environment of the binary; in this process
    // the same diagnostic comes from the isolation helper itself, beside the check's own.
    if std::fs::read_to_string(dir.join("env")).is_ok_and(|e| e.contains("PROCTOR_FAILPOINT")) {
        let mut diags = match check::run(&options(dir)) {
            Ok(outcome) => outcome.diagnostics,
            Err(_) => Vec::new(),
        };
        diags.extend(
            proctor::diag::isolate::isolated(
                || "rendering environment `dev`".into(),
                || -> () { panic!("failpoint render:dev (a simulated bug)") },
            )
            .err()
            .map(|d| *d),
        );
        return diags;
    }
    match check::run(&options(dir)) {
        Ok(outcome) => outcome.diagnostics,
        Err(Fatal::Config(diags)) => diags,
        Err(Fatal::Usage(msg)) => panic!("{}: {msg}", dir.display()),
    }
}

fn case(name: &str) -> Vec<Diagnostic> {
    diagnostics(&root().join("fixtures/cases").join(name))
}

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).expect("the schema is readable");
    serde_json::from_str(&text).expect("the schema is JSON")
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}\n{text}"))
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// SARIF

/// The SARIF schema as published (draft-04), and the same schema read as draft-07 with
/// formats checked: draft-04 has no `uri-reference` format, so only the second catches a
/// location that is not a URI (a path with a space, say).
fn sarif_validators() -> [jsonschema::Validator; 2] {
    let schema = read_json("tests/data/sarif-schema-2.1.0.json");
    let declared = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let strict = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles as draft-07");
    [declared, strict]
}

#[test]
fn the_sarif_of_every_case_is_valid_sarif_2_1_0() {
    let validators = sarif_validators();
    let mut failures = Vec::new();
    let mut rules_seen = BTreeSet::new();
    let mut all = Vec::new();
    for dir in cases() {
        let diags = diagnostics(&dir);
        let log = parse(&sarif::render(&diags));
        for v in &validators {
            for e in schema_errors(v, &log) {
                failures.push(format!("{}: {e}", name_of(&dir)));
            }
        }
        let results = log["runs"][0]["results"].as_array().expect("results");
        assert_eq!(
            results.len(),
            diags.len(),
            "{}: one result each",
            name_of(&dir)
        );
        for r in results {
            rules_seen.insert(r["ruleId"].as_str().expect("ruleId").to_string());
        }
        all.extend(diags);
    }
    // All cases' diagnostics in one report, as a run over a whole repository would give.
    let combined = parse(&sarif::render(&all));
    for v in &validators {
        failures.extend(
            schema_errors(v, &combined)
                .into_iter()
                .map(|e| format!("all: {e}")),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let every: BTreeSet<String> = codes::ALL.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(rules_seen, every, "the cases cover every code");
}

#[test]
fn the_sarif_validators_reject_what_is_not_sarif() {
    let [declared, strict] = sarif_validators();
    let good = parse(&sarif::render(&case("I003-wrong-type")));
    assert!(declared.is_valid(&good) && strict.is_valid(&good));

    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!declared.is_valid(&bad_level));

    let mut bad_region = good.clone();
    bad_region["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] =
        json!(0);
    assert!(!declared.is_valid(&bad_region));

    let mut bad_uri = good;
    bad_uri["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!("dev file.yaml");
    assert!(!strict.is_valid(&bad_uri));
}

#[test]
fn the_sarif_of_a_wrong_type_points_at_the_spec_and_at_the_schema() {
    let log = parse(&sarif::render(&case("I003-wrong-type")));
    let run = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(log["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(run["tool"]["driver"]["name"], "proctor");
    assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());

    let first = &run["results"][0];
    assert_eq!(first["ruleId"], "I003");
    let index = first["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(run["tool"]["driver"]["rules"][index]["id"], "I003");
    assert_eq!(first["level"], "error");
    assert_eq!(
        first["message"]["text"],
        "input `nat_gateways` must be an integer, found a string `\"2\"`\nhelp: remove the quotes: `2`"
    );
    // `nat_gateways: "2"` on line 4: the value spans columns 17 to 20 (exclusive).
    assert_eq!(
        first["locations"],
        json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": "dev.yaml", "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": 4, "startColumn": 17, "endLine": 4, "endColumn": 20 }
            },
            "message": { "text": "expected an integer" }
        }])
    );
    // The schema property that declares the type: `type: integer` on line 38.
    assert_eq!(
        first["relatedLocations"],
        json!([{
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {
                    "uri": "../../workspace/templates/fargate-env/v1/schema/schema.yaml",
                    "uriBaseId": "%SRCROOT%"
                },
                "region": { "startLine": 38, "startColumn": 17, "endLine": 38, "endColumn": 24 }
            },
            "message": { "text": "`nat_gateways` is declared an integer here" }
        }])
    );
    // The YAML 1.1 note on `yes` is a warning.
    let levels: Vec<(&str, &str)> = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or(""),
                r["level"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(levels.contains(&("Y006", "warning")), "{levels:?}");
}

#[test]
fn the_sarif_of_an_info_is_a_note() {
    let log = parse(&sarif::render(&case("B003-engine-not-compiled")));
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "B003");
    assert_eq!(result["level"], "note");
}

#[test]
fn the_sarif_rules_are_the_code_registry() {
    let log = parse(&sarif::render(&[]));
    let run = &log["runs"][0];
    assert_eq!(run["results"], json!([]));
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), codes::ALL.len());
    for (rule, code) in rules.iter().zip(codes::ALL) {
        assert_eq!(rule["id"], code.id);
        assert_eq!(rule["name"], code.name);
        assert_eq!(rule["shortDescription"]["text"], code.what);
        assert_eq!(
            rule["fullDescription"]["text"],
            format!("{} {}", code.what, code.why)
        );
        assert_eq!(rule["help"]["text"], code.fix);
        let markdown = rule["help"]["markdown"].as_str().expect("markdown");
        for part in [code.what, code.why, code.example, code.fix] {
            assert!(markdown.contains(part), "{}: {markdown}", code.id);
        }
        assert_eq!(rule["helpUri"], code.docs_url());
        let level = match code.severity {
            proctor::diag::Severity::Error => "error",
            proctor::diag::Severity::Warning => "warning",
            proctor::diag::Severity::Info => "note",
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level, "{}", code.id);
    }
}

/// A CloudFormation finding in a rendered template: the Jinja source is the location, the
/// rendered output (a name with spaces and brackets, percent-encoded) the related one.
#[test]
fn sarif_of_a_finding_in_a_rendered_template() {
    let diags = case("C006-getatt-attribute-in-template");
    let mut log = parse(&sarif::render(&diags));
    // The rule table is the registry, checked above; the version changes with releases.
    let rules = &mut log["runs"][0]["tool"]["driver"];
    rules["rules"] = json!(format!("[{} rules]", codes::ALL.len()));
    rules["version"] = json!("[version]");
    let text = serde_json::to_string_pretty(&log).expect("JSON");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots/formats"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("C006-getatt-attribute-in-template.sarif", text));
}

// ---------------------------------------------------------------------------------------------
// JSON

fn report_validator() -> jsonschema::Validator {
    let schema = read_json("docs/report.schema.json");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("docs/report.schema.json compiles")
}

#[test]
fn the_json_report_of_every_case_follows_its_schema() {
    let validator = report_validator();
    let mut failures = Vec::new();
    let mut dirs = cases();
    dirs.push(root().join("fixtures/workspace"));
    for dir in dirs {
        let report = parse(&json::render(&diagnostics(&dir)));
        for e in schema_errors(&validator, &report) {
            failures.push(format!("{}: {e}", name_of(&dir)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_json_report_schema_rejects_what_the_report_never_writes() {
    let validator = report_validator();
    let good = parse(&json::render(&case("I003-wrong-type")));
    assert!(validator.is_valid(&good));
    let broken: [(&str, Value); 6] = [
        ("/version", json!(2)),
        ("/summary/errors", json!(-1)),
        ("/diagnostics/0/severity", json!("fatal")),
        ("/diagnostics/0/line", json!(0)),
        ("/diagnostics/0/docs", json!("not a link")),
        ("/diagnostics/0/file", json!(null)),
    ];
    for (pointer, value) in broken {
        let mut report = good.clone();
        *report.pointer_mut(pointer).expect("the field exists") = value;
        assert!(!validator.is_valid(&report), "{pointer} accepted");
    }
    let mut extra = good;
    extra["diagnostics"][0]["fix"] = json!("a field the report does not have");
    assert!(!validator.is_valid(&extra), "an unknown field accepted");
}

// ---------------------------------------------------------------------------------------------
// GitHub workflow commands

#[test]
fn github_annotations_of_a_wrong_type() {
    let text = github::render(&case("I003-wrong-type"));
    let want = [
        "::error file=dev.yaml,line=4,col=17,endLine=4,endColumn=20,title=I003::input `nat_gateways` must be an integer, found a string `\"2\"`%0Ahelp: remove the quotes: `2`",
        "::error file=dev.yaml,line=5,col=23,endLine=5,endColumn=26,title=I003::input `container_insights` must be a boolean, found a string `\"yes\"`%0Ahelp: write `true` or `false` (YAML 1.2 reads `yes`/`no`/`on`/`off` as strings)",
        "::warning file=dev.yaml,line=5,col=23,endLine=5,endColumn=26,title=Y006::`yes` is a string in YAML 1.2 but the boolean true in YAML 1.1%0Ahelp: write `\"yes\"` if you mean the text, or `true`/`false` for a boolean",
        "::error file=payments.yaml,line=8,col=13,endLine=8,endColumn=21,title=I003::input `port` must be a number, found a string `\"eighty\"`%0Ahelp: write a number, such as `80` (the default)",
        "::error file=payments.yaml,line=9,col=22,endLine=9,endColumn=25,title=I003::input `desired_count` must be an integer, found a number `2.5`%0Ahelp: write an integer",
        "::error file=payments.yaml,line=10,col=14,endLine=10,endColumn=16,title=I003::input `image` must be a string, found an integer `42`%0Ahelp: quote the value to make it a string: `\"42\"`",
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), want);
    assert!(text.ends_with('\n'));
}

#[test]
fn github_annotations_escape_what_would_end_a_command() {
    let spec = SourceFile::new(
        "specs/a,b:c%.yaml",
        "specs/a,b:c%.yaml",
        "x: 1\ny: 50%\n".to_string(),
    );
    let d = Diagnostic::new(codes::I003, "50% of\r\nthe value: a, b")
        .at(&spec, 8..11)
        .help("one\ntwo");
    let info =
        Diagnostic::new(codes::B003, "no file, 100%").severity(proctor::diag::Severity::Info);
    assert_eq!(
        github::render(&[d, info]),
        "::error file=specs/a%2Cb%3Ac%25.yaml,line=2,col=4,endLine=2,endColumn=7,title=I003::50%25 of%0D%0Athe value: a, b%0Ahelp: one%0Atwo\n\
         ::notice title=B003::no file, 100%25\n"
    );
}

// ---------------------------------------------------------------------------------------------
// JUnit XML

/// What Python's xmlschema says of one report: a validation error, or what the XML holds.
#[derive(serde::Deserialize, Debug)]
struct Checked {
    error: Option<String>,
    suites: Vec<String>,
    testcases: Vec<String>,
    /// `message` and `type` of each failure, and its text.
    failures: Vec<(String, String, String)>,
    system_out: Vec<String>,
}

const CHECK_XML: &str = r#"
import json, sys, xmlschema
import xml.etree.ElementTree as ET
schema = xmlschema.XMLSchema(sys.argv[1])
for path in sys.argv[2:]:
    try:
        schema.validate(path)
        error = None
    except Exception as e:
        error = str(e)
    root = ET.parse(path).getroot()
    print(json.dumps({
        "error": error,
        "suites": [s.get("name") for s in root.iter("testsuite")],
        "testcases": [t.get("name") for t in root.iter("testcase")],
        "failures": [[f.get("message"), f.get("type"), f.text or ""] for f in root.iter("failure")],
        "system_out": [o.text or "" for o in root.iter("system-out")],
    }))
"#;

/// Validates JUnit reports against tests/data/junit-10.xsd, in one Python run.
fn check_xml(reports: &[String]) -> Vec<Checked> {
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "run scripts/venv first: {} is missing",
        python.display()
    );
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut args = vec![root().join("tests/data/junit-10.xsd")];
    for (i, report) in reports.iter().enumerate() {
        let path = dir.path().join(format!("{i}.xml"));
        std::fs::write(&path, report).expect("the report is written");
        args.push(path);
    }
    let out = Command::new(python)
        .arg("-c")
        .arg(CHECK_XML)
        .args(&args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn the_junit_report_of_every_case_is_valid_junit() {
    let dirs = cases();
    let mut diags_of = Vec::new();
    let mut reports = Vec::new();
    for dir in &dirs {
        let diags = diagnostics(dir);
        reports.push(junit::render(&diags));
        diags_of.push(diags);
    }
    // And one that is not valid (a suite without its failure count), to show the check bites.
    let broken = reports[0].replacen(" failures=\"", " failed=\"", 2);
    reports.push(broken);
    let mut checked = check_xml(&reports);
    let rejected = checked.pop().expect("the broken report was checked");
    assert!(
        rejected.error.is_some(),
        "a testsuite without `failures` passed the XSD"
    );
    assert_eq!(checked.len(), dirs.len());
    let mut failures = Vec::new();
    for ((dir, diags), c) in dirs.iter().zip(&diags_of).zip(&checked) {
        if let Some(e) = &c.error {
            failures.push(format!("{}: {e}", name_of(dir)));
        }
        if c.testcases.len() != diags.len().max(1) {
            failures.push(format!(
                "{}: {} test cases",
                name_of(dir),
                c.testcases.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn junit_of_a_wrong_type_has_a_suite_per_file_and_a_failure_per_problem() {
    let report = junit::render(&case("I003-wrong-type"));
    let [c] = check_xml(&[report]).try_into().expect("one report");
    assert_eq!(c.error, None);
    assert_eq!(c.suites, ["dev.yaml", "payments.yaml"]);
    assert_eq!(
        c.testcases,
        [
            "I003 dev.yaml:4:17",
            "I003 dev.yaml:5:23",
            "Y006 dev.yaml:5:23",
            "I003 payments.yaml:8:13",
            "I003 payments.yaml:9:22",
            "I003 payments.yaml:10:14",
        ]
    );
    let (message, kind, text) = &c.failures[0];
    assert_eq!(
        message,
        "input `nat_gateways` must be an integer, found a string `\"2\"`"
    );
    assert_eq!(kind, "I003");
    assert_eq!(
        text,
        "error I003: input `nat_gateways` must be an integer, found a string `\"2\"`\n  \
         --> dev.yaml:4:17: expected an integer\n  \
         note: `nat_gateways` is declared an integer here: ../../workspace/templates/fargate-env/v1/schema/schema.yaml:38:17\n\
         help: remove the quotes: `2`\n\
         docs: https://github.com/proctor-cfn/proctor/blob/main/docs/rules.md#i003"
    );
    // The warning fails too.
    assert_eq!(c.failures[2].1, "Y006");
    assert_eq!(c.failures.len(), 6);
}

#[test]
fn junit_of_an_info_is_a_passing_test_case_with_output() {
    let report = junit::render(&case("B003-engine-not-compiled"));
    assert!(report.contains("failures=\"0\""), "{report}");
    let [c] = check_xml(&[report]).try_into().expect("one report");
    assert_eq!(c.error, None);
    assert!(c.failures.is_empty());
    assert_eq!(c.system_out.len(), 1);
    assert!(
        c.system_out[0].starts_with("info B003: "),
        "{:?}",
        c.system_out
    );
}

#[test]
fn junit_of_a_clean_run_is_one_passing_test_case() {
    let diags = diagnostics(&root().join("fixtures/workspace"));
    assert!(diags.is_empty(), "the workspace checks clean");
    let report = junit::render(&diags);
    assert!(
        report.contains(r#"<testsuites name="proctor" tests="1" failures="0" errors="0""#),
        "{report}"
    );
    let [c] = check_xml(&[report]).try_into().expect("one report");
    assert_eq!(c.error, None);
    assert_eq!(c.suites, ["proctor"]);
    assert_eq!(c.testcases, ["proctor"]);
    assert!(c.failures.is_empty() && c.system_out.is_empty());
}

#[test]
fn junit_escapes_markup_and_leaves_out_what_xml_forbids() {
    let src = SourceFile::new("a&b <c>.yaml", "a&b <c>.yaml", "key: value\n".to_string());
    let d = Diagnostic::new(codes::I003, "<&>\"' and \u{1b}[31mred\u{7}\r\nnext")
        .at(&src, 5..10)
        .help("use \"quotes\" & <care>");
    let no_file = Diagnostic::new(codes::I003, "no file");
    // The same problem twice (as two findings at one place): the second is numbered, so CI
    // systems that key test cases by name do not merge it away.
    let report = junit::render(&[d.clone(), d, no_file]);
    assert!(!report.contains('\u{1b}') && !report.contains('\u{7}'));
    let [c] = check_xml(&[report]).try_into().expect("one report");
    assert_eq!(c.error, None);
    assert_eq!(c.suites, ["a&b <c>.yaml", "proctor"]);
    assert_eq!(
        c.testcases,
        ["I003 a&b <c>.yaml:1:6", "I003 a&b <c>.yaml:1:6 (2)", "I003"]
    );
    // The attribute keeps the line break; the escape sequence loses only its control byte.
    assert_eq!(c.failures[0].0, "<&>\"' and [31mred\r\nnext");
    assert!(
        c.failures[0].2.contains("help: use \"quotes\" & <care>"),
        "{:?}",
        c.failures[0]
    );
}

#[test]
fn policy_test_reports_as_junit_and_json() {
    let run = |dir: &str, format: &str| -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
            .args(["policy", "test", dir, "--format", format])
            .current_dir(root())
            .output()
            .expect("proctor runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // The built-in pack passes; a corpus with a wrong expectation fails, in both formats.
    let (ok_code, ok_xml) = run("policies", "junit");
    let (bad_code, bad_xml) = run("fixtures/policy/tests-failing", "junit");
    assert_eq!((ok_code, bad_code), (0, 1));
    let checked = check_xml(&[ok_xml, bad_xml]);
    assert!(checked.iter().all(|c| c.error.is_none()), "{checked:?}");
    assert!(checked[0].failures.is_empty());
    assert!(checked[0].testcases.len() > 100);
    assert!(!checked[1].failures.is_empty());
    assert!(
        checked[1].failures[0].0.contains("expected"),
        "{:?}",
        checked[1].failures
    );

    let (code, json) = run("fixtures/policy/tests-failing", "json");
    assert_eq!(code, 1);
    let v = parse(&json);
    let failed = v["summary"]["failed"].as_u64().unwrap();
    assert!(failed > 0);
    let listed = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .count();
    assert_eq!(listed as u64, failed);
}
