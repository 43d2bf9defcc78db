//! What users control about a run, through the real binary: `--select` / `--ignore` and
//! `[check]` in proctor.toml, inline `# proctor: ignore[CODE] reason` suppressions, and
//! `--changed` (what a pre-commit hook passes: the changed files).

use crate::support::{edit, proctor, root};

/// A copy of `fixtures/deploy` (an environment and a service) to edit.
fn workspace() -> tempfile::TempDir {
    crate::support::workspace("fixtures/deploy")
}

const ENV_TEMPLATE: &str = "templates/queue-env/v1/infrastructure/cloudformation.yaml";

#[test]
fn select_and_ignore_narrow_what_is_reported_from_the_command_line_and_proctor_toml() {
    let ws = workspace();
    let dir = ws.path();
    edit(
        dir,
        "specs/dev.yaml",
        "retention_days: 7",
        "retention_days: 400",
    );
    let all = proctor(dir, &["check"]);
    assert_eq!(all.code, 1, "{all}");
    assert!(all.stdout.contains("I007"), "{all}");

    let ignored = proctor(dir, &["check", "--ignore", "I007"]);
    assert_eq!(ignored.code, 0, "{ignored}");
    assert!(!ignored.stdout.contains("I007"), "{ignored}");
    // A prefix, and select: only Y codes are reported, so the I007 error is not.
    assert_eq!(proctor(dir, &["check", "--ignore", "I"]).code, 0);
    assert_eq!(proctor(dir, &["check", "--select", "Y,W"]).code, 0);
    assert_eq!(proctor(dir, &["check", "--select", "I0"]).code, 1);

    // The same from proctor.toml; the command line's --select replaces it.
    let toml = std::fs::read_to_string(dir.join("proctor.toml")).unwrap();
    std::fs::write(
        dir.join("proctor.toml"),
        format!("[check]\nignore = [\"I007\"]\n\n{toml}"),
    )
    .unwrap();
    assert_eq!(proctor(dir, &["check"]).code, 0);
    let bad = proctor(dir, &["check", "--ignore", "i007"]);
    assert_eq!(bad.code, 2, "{bad}");
    assert!(bad.stderr.contains("codes are upper case: `I007`"), "{bad}");

    // An entry that names no code is a W001 at its place in proctor.toml.
    std::fs::write(
        dir.join("proctor.toml"),
        format!("[check]\nignore = [\"I070\"]\n\n{toml}"),
    )
    .unwrap();
    let w = proctor(dir, &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&w.stdout).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "W001", "{w}");
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("proctor.toml"), Some(2), Some(11))
    );
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("`I070` names no code"),
        "{w}"
    );
}

#[test]
fn an_ignored_stage_does_not_run() {
    // A policy file that does not exist stops a run (exit 2) only if policies are loaded.
    let ws = workspace();
    let dir = ws.path();
    let loaded = proctor(dir, &["check", "--policy", "no-such.guard"]);
    assert_eq!(loaded.code, 2, "{loaded}");
    let skipped = proctor(
        dir,
        &["check", "--policy", "no-such.guard", "--ignore", "P"],
    );
    assert_eq!(skipped.code, 0, "{skipped}");
}

#[test]
fn inline_suppressions_silence_their_line_in_specs_and_templates() {
    let ws = workspace();
    let dir = ws.path();
    edit(
        dir,
        "specs/dev.yaml",
        "retention_days: 7",
        "retention_days: 400  # proctor: ignore[I007] the audit team keeps artifacts longer",
    );
    // A condition nothing uses (C012), in the Jinja template, suppressed on the line above.
    edit(
        dir,
        ENV_TEMPLATE,
        "Resources:\n",
        "Conditions:\n  # proctor: ignore[C012] used by the next version of the template\n  Never: !Equals [a, b]\nResources:\n",
    );
    let run = proctor(dir, &["check"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("0 errors, 0 warnings"), "{run}");

    // Without the template's suppression, C012 is reported at the template line.
    edit(
        dir,
        ENV_TEMPLATE,
        "  # proctor: ignore[C012] used by the next version of the template\n",
        "",
    );
    let run = proctor(dir, &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let codes: Vec<(&str, &str, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(codes, vec![("C012", ENV_TEMPLATE, 4)], "{run}");

    // The spec's value fixed: its suppression is now unused (a full run reports it).
    edit(
        dir,
        "specs/dev.yaml",
        "retention_days: 400",
        "retention_days: 30",
    );
    let run = proctor(dir, &["check", "--ignore", "C012"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("X002: this suppression of `I007` silences nothing"),
        "{run}"
    );
    // A narrowed run does not judge suppressions unused.
    let run = proctor(dir, &["check", "specs/dev.yaml", "--ignore", "C012"]);
    assert!(!run.stdout.contains("X002"), "{run}");
}

#[test]
fn changed_files_check_only_what_they_affect() {
    let dir = root().join("fixtures/workspace");
    let spec = proctor(&dir, &["check", "--changed", "specs/dev.yaml"]);
    assert_eq!(spec.code, 0, "{spec}");
    assert!(spec.stdout.contains("(1 bundle, 1 spec)"), "{spec}");

    // A schema: its bundle, with every deployment that uses it (dev, prod) and the spec
    // beside it.
    let schema = proctor(
        &dir,
        &[
            "check",
            "--changed",
            "templates/fargate-env/v1/schema/schema.yaml",
        ],
    );
    assert!(schema.stdout.contains("(1 bundle, 3 specs)"), "{schema}");

    // A policy, or proctor.toml: everything.
    let policy = proctor(&dir, &["check", "--changed", "policies/acme.guard"]);
    assert!(policy.stdout.contains("(3 bundles, 4 specs)"), "{policy}");
    let toml = proctor(&dir, &["check", "--changed", "proctor.toml"]);
    assert!(toml.stdout.contains("(3 bundles, 4 specs)"), "{toml}");

    // Files proctor does not read: nothing to do, successfully.
    let other = proctor(&dir, &["check", "--changed", "../../README.md"]);
    assert_eq!(other.code, 0, "{other}");
    assert!(other.stdout.starts_with("nothing to check"), "{other}");

    // A broken spec among the changed files fails the hook with its finding.
    let ws = workspace();
    edit(
        ws.path(),
        "specs/orders.yaml",
        "visibility_timeout: 60",
        "visibility_timeout: sixty",
    );
    let run = proctor(
        ws.path(),
        &["check", "--changed", "specs/orders.yaml", "README.md"],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("I003"), "{run}");
    assert!(run.stdout.contains("specs/orders.yaml:6:27"), "{run}");
}

#[test]
fn several_formats_in_one_run_and_the_command_line_habits() {
    let case = root().join("fixtures/cases/I003-wrong-type");
    let tmp = tempfile::tempdir().unwrap();
    let sarif = tmp.path().join("proctor.sarif");
    let junit = tmp.path().join("proctor.xml");
    let run = proctor(
        &case,
        &[
            "check",
            "--format",
            "sarif",
            "--output",
            sarif.to_str().unwrap(),
            "--format",
            "json",
            "--format",
            "junit",
            "--output",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{run}");
    let stdout: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        stdout["diagnostics"].as_array().unwrap().len()
    );
    assert_eq!(results[0]["ruleId"], stdout["diagnostics"][0]["code"]);
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<testsuites")
    );
    // No temporary files are left beside the outputs.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2);

    // Pairing mistakes are refused before anything runs.
    let bad = proctor(&case, &["check", "--output", "x.json", "--format", "json"]);
    assert_eq!(bad.code, 2, "{bad}");
    assert!(
        bad.stderr.contains("give the --format it is for first"),
        "{bad}"
    );
    let two = proctor(&case, &["check", "--format", "json", "--format", "github"]);
    assert_eq!(two.code, 2, "{two}");

    // --quiet: no closing line; nothing at all when clean.
    let quiet = proctor(&case, &["check", "--quiet"]);
    assert!(!quiet.stdout.contains("checked "), "{quiet}");
    assert!(quiet.stdout.contains("I003"), "{quiet}");
    let clean = proctor(&root().join("fixtures/workspace"), &["check", "-q"]);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, ""), "{clean}");

    // Colour: never by default when piped (NO_COLOR set here too), always when asked.
    assert!(!quiet.stdout.contains('\u{1b}'));
    let color = proctor(&case, &["check", "--color", "always", "-j", "1"]);
    assert!(color.stdout.contains('\u{1b}'), "{color}");

    let version = proctor(&case, &["--version"]);
    assert!(
        version.stdout.starts_with(&format!(
            "proctor {} (CloudFormation resource dataset 20",
            env!("CARGO_PKG_VERSION")
        )),
        "{version}"
    );
    let completions = proctor(&case, &["completions", "bash"]);
    assert!(completions.stdout.contains("--select"), "{completions}");
    let man = proctor(&case, &["man"]);
    assert!(man.stdout.contains(".TH proctor 1"), "{man}");
}

#[test]
fn explain_documents_every_code() {
    for code in proctor::diag::codes::ALL {
        let run = proctor(&root(), &["explain", &code.id.to_ascii_lowercase()]);
        assert_eq!(run.code, 0, "{run}");
        assert!(
            run.stdout
                .starts_with(&format!("{} {}", code.id, code.name)),
            "{run}"
        );
        for part in [code.what, code.why, code.example, code.fix] {
            assert!(run.stdout.contains(part), "{}: {run}", code.id);
        }
    }
    let unknown = proctor(&root(), &["explain", "Q999"]);
    assert_eq!(unknown.code, 2, "{unknown}");
}

#[test]
fn a_list_where_an_enum_value_goes_is_one_type_error() {
    let ws = crate::support::workspace("fixtures/workspace");
    edit(
        ws.path(),
        "specs/payments.yaml",
        "task_size: small",
        "task_size: [small]",
    );
    let run = proctor(ws.path(), &["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<(&str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        vec![("I003", "input `task_size` must be a string, found a list")],
        "{run}"
    );
}

#[test]
fn limits_in_proctor_toml_bound_rendering() {
    let ws = workspace();
    let toml = std::fs::read_to_string(ws.path().join("proctor.toml")).unwrap();
    std::fs::write(
        ws.path().join("proctor.toml"),
        format!("[limits]\nmax_rendered_bytes = 200\n\n{toml}"),
    )
    .unwrap();
    let run = proctor(ws.path(), &["check"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stdout.contains("T010"), "{run}");
    std::fs::write(
        ws.path().join("proctor.toml"),
        format!("[limits]\ntemplate_fuel = 3\n\n{toml}"),
    )
    .unwrap();
    let run = proctor(ws.path(), &["check"]);
    assert!(run.stdout.contains("T010"), "{run}");
}
