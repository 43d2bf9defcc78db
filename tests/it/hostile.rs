//! Hostile and broken inputs that cannot live in git as plain fixture files (symlinks, huge
//! or generated files): each must end in a diagnostic with a location, never a crash, and
//! must not stop the other files from being checked.

use std::path::Path;
use std::process::Command;

/// A `proctor check --format json` run: its exit code and report.
struct Checked {
    code: i32,
    json: serde_json::Value,
}

fn check(dir: &Path, args: &[&str]) -> Checked {
    let args: Vec<&str> = ["check"]
        .into_iter()
        .chain(args.iter().copied())
        .chain(["--format", "json"])
        .collect();
    let run = crate::support::proctor(dir, &args);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr));
    Checked {
        code: run.code,
        json,
    }
}

fn diagnostics(run: &Checked) -> Vec<(String, String, u64)> {
    run.json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const SCHEMA: &str = "schema:\n  format:\n    openapi: \"3.0.0\"\n  environment_input_type: EnvInput\n  types:\n    EnvInput:\n      type: object\n      properties:\n        name: {type: string, default: orders}\n";
const MANIFEST: &str = "infrastructure:\n  templates:\n    - file: \"cloudformation.yaml\"\n      rendering_engine: jinja\n      template_language: cloudformation\n";

/// An environment bundle at `dir` with a valid schema and manifest.
fn env_bundle(dir: &Path) {
    write(&dir.join("schema/schema.yaml"), SCHEMA);
    write(&dir.join("infrastructure/manifest.yaml"), MANIFEST);
    write(
        &dir.join("infrastructure/cloudformation.yaml"),
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: '{{ environment.inputs.name }}'\n",
    );
}

#[cfg(unix)]
#[test]
fn a_manifest_file_that_is_a_symlink_out_of_the_bundle_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("env/v1");
    env_bundle(&bundle);
    write(&tmp.path().join("secret.yaml"), "Resources: {}\n");
    std::fs::remove_file(bundle.join("infrastructure/cloudformation.yaml")).unwrap();
    std::os::unix::fs::symlink(
        tmp.path().join("secret.yaml"),
        bundle.join("infrastructure/cloudformation.yaml"),
    )
    .unwrap();
    let run = check(tmp.path(), &[]);
    assert_eq!(
        diagnostics(&run),
        [(
            "B002".into(),
            "env/v1/infrastructure/manifest.yaml".into(),
            3
        )]
    );
    assert_eq!(run.code, 1);
}

#[cfg(unix)]
#[test]
fn symlink_loops_neither_hang_the_walk_nor_the_manifest_check() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("env/v1");
    env_bundle(&bundle);
    // A folder symlink back to the root, and a template that is a link to itself.
    std::os::unix::fs::symlink(tmp.path(), tmp.path().join("env/loop")).unwrap();
    std::fs::remove_file(bundle.join("infrastructure/cloudformation.yaml")).unwrap();
    std::os::unix::fs::symlink(
        bundle.join("infrastructure/cloudformation.yaml"),
        bundle.join("infrastructure/cloudformation.yaml"),
    )
    .unwrap();
    let run = check(tmp.path(), &[]);
    let codes: Vec<String> = diagnostics(&run).into_iter().map(|d| d.0).collect();
    assert_eq!(codes, ["B002"]);
}

#[test]
fn absolute_paths_in_a_manifest_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("env/v1");
    env_bundle(&bundle);
    write(
        &bundle.join("infrastructure/manifest.yaml"),
        MANIFEST.replace("\"cloudformation.yaml\"", "\"/etc/passwd\""),
    );
    let run = check(tmp.path(), &[]);
    assert_eq!(
        diagnostics(&run),
        [(
            "B002".into(),
            "env/v1/infrastructure/manifest.yaml".into(),
            3
        )]
    );
}

#[test]
fn broken_files_are_reported_and_the_other_bundles_still_checked() {
    let tmp = tempfile::tempdir().unwrap();
    // Four bundles: binary schema, NUL bytes, a schema that is a list, and a good one whose
    // beside spec has an error that must still be found.
    env_bundle(&tmp.path().join("a-binary/v1"));
    write(
        &tmp.path().join("a-binary/v1/schema/schema.yaml"),
        [0xff, 0xfe, 0x00, 0x41],
    );
    env_bundle(&tmp.path().join("b-nul/v1"));
    write(
        &tmp.path().join("b-nul/v1/schema/schema.yaml"),
        "schema:\n  types: {}\0\n",
    );
    env_bundle(&tmp.path().join("c-list/v1"));
    write(
        &tmp.path().join("c-list/v1/schema/schema.yaml"),
        "- schema\n- types\n",
    );
    env_bundle(&tmp.path().join("d-good/v1"));
    write(
        &tmp.path().join("d-good/spec/spec.yaml"),
        "proton: EnvironmentSpec\nspec:\n  name: 42\n",
    );
    let run = check(tmp.path(), &[]);
    let got = diagnostics(&run);
    assert_eq!(
        got,
        [
            ("F002".into(), "a-binary/v1/schema/schema.yaml".into(), 1),
            ("F002".into(), "b-nul/v1/schema/schema.yaml".into(), 2),
            ("Y007".into(), "c-list/v1/schema/schema.yaml".into(), 1),
            ("I003".into(), "d-good/spec/spec.yaml".into(), 3),
        ]
    );
    assert_eq!(run.json["summary"]["errors"], 4);
}

#[test]
fn a_schema_type_that_is_not_a_mapping_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    env_bundle(&tmp.path().join("env/v1"));
    write(
        &tmp.path().join("env/v1/schema/schema.yaml"),
        SCHEMA.replace("name: {type: string, default: orders}", "name: string"),
    );
    let run = check(tmp.path(), &[]);
    assert_eq!(
        diagnostics(&run),
        [("S006".into(), "env/v1/schema/schema.yaml".into(), 9)]
    );
}

#[test]
fn huge_and_generated_hostile_specs_end_in_diagnostics() {
    let tmp = tempfile::tempdir().unwrap();
    env_bundle(&tmp.path().join("env/v1"));
    let spec =
        |name: &str, text: String| write(&tmp.path().join(format!("specs/{name}.yaml")), text);
    // 6 MiB: over the default 5 MiB limit, refused before it is read.
    spec(
        "huge",
        format!(
            "proton: EnvironmentSpec\nspec:\n  name: \"{}\"\n",
            "x".repeat(6 << 20)
        ),
    );
    // 300-deep block nesting (still under Proton's spec length limit).
    let block: String = (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    spec("deep-block", block);
    // 10,000-deep flow nesting.
    spec(
        "deep-flow",
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
    );
    // A billion laughs.
    let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..30 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    spec("laughs", laughs);
    // Over Proton's 51,200-character limit, but under the file limit.
    spec(
        "long",
        format!(
            "proton: EnvironmentSpec\nspec:\n  name: \"{}\"\n",
            "y".repeat(60_000)
        ),
    );
    // CRLF and a lone CR: locations still right.
    spec(
        "crlf",
        "proton: EnvironmentSpec\r\nspec:\r\n  name: 1\r\n".to_string(),
    );
    let mut codes = Vec::new();
    for name in ["huge", "deep-block", "deep-flow", "laughs", "long", "crlf"] {
        let file = format!("specs/{name}.yaml");
        let run = check(tmp.path(), &["env/v1", "--spec", &file]);
        let d = diagnostics(&run);
        assert!(d.iter().all(|(_, f, _)| f == &file), "{name}: {d:?}");
        codes.push((
            name,
            d.iter().map(|x| (x.0.clone(), x.2)).collect::<Vec<_>>(),
        ));
    }
    assert_eq!(
        codes,
        [
            ("huge", vec![("F003".to_string(), 1)]),
            ("deep-block", vec![("Y003".to_string(), 257)]),
            ("deep-flow", vec![("Y003".to_string(), 1)]),
            ("laughs", vec![("Y004".to_string(), 5)]),
            ("long", vec![("B007".to_string(), 1)]),
            ("crlf", vec![("I003".to_string(), 3)]),
        ]
    );
}

#[test]
fn hostile_templates_end_in_diagnostics_and_other_bundles_still_render() {
    let tmp = tempfile::tempdir().unwrap();
    let template = |name: &str| {
        tmp.path()
            .join(format!("{name}/v1/infrastructure/cloudformation.yaml"))
    };
    for name in ["a-deep", "b-binary", "c-blocks", "d-good"] {
        env_bundle(&tmp.path().join(format!("{name}/v1")));
    }
    // 5,000 nested parentheses: minijinja's parser limit, not a stack overflow.
    write(
        &template("a-deep"),
        format!("A: {{{{ {}1{} }}}}\n", "(".repeat(5000), ")".repeat(5000)),
    );
    write(&template("b-binary"), [b'A', b':', b' ', 0xff, 0xfe, b'\n']);
    write(
        &template("c-blocks"),
        format!(
            "{}x{}\n",
            "{% if true %}".repeat(3000),
            "{% endif %}".repeat(3000)
        ),
    );
    let run = check(tmp.path(), &[]);
    let got: Vec<(String, String)> = diagnostics(&run)
        .into_iter()
        .map(|(c, f, _)| (c, f))
        .collect();
    assert_eq!(
        got,
        [
            (
                "T001".to_string(),
                "a-deep/v1/infrastructure/cloudformation.yaml".to_string()
            ),
            (
                "F002".to_string(),
                "b-binary/v1/infrastructure/cloudformation.yaml".to_string()
            ),
            (
                "T001".to_string(),
                "c-blocks/v1/infrastructure/cloudformation.yaml".to_string()
            ),
        ]
    );
}

#[test]
fn hostile_policy_files_end_in_diagnostics_and_the_valid_ones_still_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        &dir.join("template.yaml"),
        "Resources:\n  Assets:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n",
    );
    let p = dir.join("policies");
    // A valid rule that fails on the template: it must still run.
    write(
        &p.join("valid.guard"),
        "rule s3_encrypted {\n  Resources.*.Properties.BucketEncryption exists\n}\n",
    );
    write(
        &p.join("syntax.guard"),
        "rule broken {\n  Resources.*.Type ==\n}\n",
    );
    // Blocks, `when` blocks, filters and lists nested 100,000 deep.
    let n = 100_000;
    write(
        &p.join("deep_blocks.guard"),
        format!(
            "rule r {{\n{}Type exists\n{}}}\n",
            "Resources {\n".repeat(n),
            "}\n".repeat(n)
        ),
    );
    write(
        &p.join("deep_when.guard"),
        format!(
            "rule r {{\n{}Type exists\n{}}}\n",
            "when Resources exists {\n".repeat(n),
            "}\n".repeat(n)
        ),
    );
    write(
        &p.join("deep_filters.guard"),
        format!(
            "rule r {{ Resources{} exists }}\n",
            "[ a == 1 ".repeat(n) + &"]".repeat(n)
        ),
    );
    write(
        &p.join("deep_lists.guard"),
        format!(
            "rule r {{ Resources == {}{} }}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    );
    write(&p.join("self_reference.guard"), "rule a {\n  a\n}\n");
    write(
        &p.join("cycle.guard"),
        "rule a {\n  b\n}\nrule b {\n  c\n}\nrule c {\n  a\n}\n",
    );
    write(
        &p.join("backtracking.guard"),
        "rule names {\n  Resources.*.Properties.BucketName == /^(?!x)((\\w+-?)+)\\2$/\n}\n",
    );
    // 10,000 rules, each failing on the template.
    let many: String = (0..10_000)
        .map(|i| format!("rule r{i} {{\n  Resources.*.Properties.P{i} exists\n}}\n"))
        .collect();
    write(&p.join("many.guard"), many);
    write(&p.join("binary.guard"), b"rule r { \xff\xfe }\n");

    let run = check(dir, &["--policy", "policies", "template.yaml"]);
    assert_eq!(run.code, 1);
    let diags = diagnostics(&run);
    let has = |code: &str, file: &str| {
        diags
            .iter()
            .any(|(c, f, line)| c == code && f == file && *line > 0)
    };
    assert!(has("P001", "policies/syntax.guard"), "{diags:?}");
    for f in ["deep_blocks", "deep_when", "deep_filters", "deep_lists"] {
        assert!(
            has("P001", &format!("policies/{f}.guard")),
            "{f}: {diags:?}"
        );
    }
    assert!(has("P007", "policies/self_reference.guard"), "{diags:?}");
    assert!(has("P007", "policies/cycle.guard"), "{diags:?}");
    assert!(has("P005", "policies/backtracking.guard"), "{diags:?}");
    assert!(
        diags
            .iter()
            .any(|(c, f, _)| c == "F002" || c == "F001" && f == "policies/binary.guard"),
        "{diags:?}"
    );
    // The valid files ran: one finding of valid.guard, and one per rule of many.guard.
    let findings = |rule_prefix: &str| {
        run.json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["code"] == "P100" && d["help"].as_str().unwrap_or("").contains(rule_prefix)
            })
            .count()
    };
    assert_eq!(findings("rule `s3_encrypted`"), 1);
    assert_eq!(findings("policies/many.guard"), 10_000);
}

#[test]
fn policy_inputs_that_are_not_maps_are_evaluated_without_panics() {
    // Unit-test inputs that are lists, scalars and null: Guard evaluates them (queries do not
    // resolve), and so does proctor.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        &dir.join("r.guard"),
        "rule has_resources {\n  Resources exists\n}\nrule any_type {\n  Resources.*.Type exists\n}\n",
    );
    write(
        &dir.join("tests/r_tests.yaml"),
        "- name: a list\n  input: [1, 2, 3]\n  expectations:\n    rules: {has_resources: FAIL, any_type: FAIL}\n- name: a scalar\n  input: just text\n  expectations:\n    rules: {has_resources: FAIL, any_type: FAIL}\n- name: null\n  input: null\n  expectations:\n    rules: {has_resources: FAIL, any_type: FAIL}\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(["policy", "test", "r.guard"])
        .current_dir(dir)
        .output()
        .expect("proctor runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("3 cases: 6 passed, 0 failed"), "{stdout}");
}

/// A proctor.toml naming specs that are a folder and a named pipe, beside a good one.
#[cfg(unix)]
#[test]
fn a_spec_that_is_a_folder_or_a_pipe_is_named_as_such_and_the_others_still_checked() {
    let tmp = tempfile::tempdir().unwrap();
    env_bundle(&tmp.path().join("templates/orders-env/v1"));
    write(
        &tmp.path().join("proctor.toml"),
        "[workspace]\ntemplates = [\"templates\"]\n\n\
         [[environment]]\nname = \"a\"\ntemplate = \"orders-env:1\"\nspec = \"specs/a\"\n\n\
         [[environment]]\nname = \"b\"\ntemplate = \"orders-env:1\"\nspec = \"specs/b.yaml\"\n\n\
         [[environment]]\nname = \"c\"\ntemplate = \"orders-env:1\"\nspec = \"specs/c.yaml\"\n",
    );
    std::fs::create_dir_all(tmp.path().join("specs/a")).unwrap();
    let fifo = tmp.path().join("specs/b.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    write(
        &tmp.path().join("specs/c.yaml"),
        "proton: EnvironmentSpec\nspec:\n  name: 42\n",
    );
    let run = check(tmp.path(), &[]);
    let got = diagnostics(&run);
    assert_eq!(
        got,
        [
            ("F001".into(), "proctor.toml".into(), 7),
            ("F001".into(), "proctor.toml".into(), 12),
            ("I003".into(), "specs/c.yaml".into(), 3),
        ]
    );
    let messages: Vec<&str> = run.json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages[0], "spec `specs/a` is a folder, not a file");
    assert_eq!(
        messages[1],
        "spec `specs/b.yaml` is not a regular file (a pipe, socket or device)"
    );
}

/// Services whose specs are a folder and a named pipe, among good ones, in a check without
/// the cache: their specs are read ahead of the spec stage, a few at a time (a debug build
/// reads `PROCTOR_SPEC_BATCH`). The read-ahead neither waits on the pipe nor hides why the
/// two cannot be read, and the good services report what they report on their own.
#[cfg(unix)]
#[test]
fn services_whose_specs_cannot_be_read_ahead_are_reported_and_the_others_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    crate::support::copy_dir(&crate::support::root().join("fixtures/workspace"), &ws);
    let run = |batch: &str| {
        let env = [("PROCTOR_SPEC_BATCH".to_string(), batch.to_string())];
        let args = ["check", "--no-cache", "--format", "json"];
        let out = crate::support::proctor_env(&ws, &args, &env);
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        diagnostics(&Checked {
            code: out.code,
            json,
        })
    };
    let alone = run("1");
    let toml = std::fs::read_to_string(ws.join("proctor.toml")).unwrap();
    let lines = toml.lines().count() as u64;
    let service = |name: &str, spec: &str| {
        format!(
            "\n[[service]]\nname = \"{name}\"\ntemplate = \"payments-svc:1\"\nspec = \"{spec}\"\n\
             branch = \"main\"\nrepository_id = \"acme/{name}\"\n\
             repository_connection_arn = \"arn:aws:codestar-connections:eu-west-1:111122223333:connection/6f0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\"\n"
        )
    };
    let more = [
        service("ledger", "specs/ledger"),
        service("refunds", "specs/refunds.yaml"),
    ];
    write(&ws.join("proctor.toml"), toml.clone() + &more.concat());
    std::fs::create_dir_all(ws.join("specs/ledger")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(ws.join("specs/refunds.yaml"))
            .status()
            .unwrap()
            .success()
    );
    for batch in ["1", "2", "100"] {
        let got = run(batch);
        let unreadable: Vec<_> = got.iter().filter(|d| d.0 == "F001").cloned().collect();
        // Each `spec = ...` line: the blank line, the table, name, template, then spec.
        let (ledger, refunds) = (lines + 5, lines + 5 + 8);
        assert_eq!(
            unreadable,
            [
                ("F001".to_string(), "proctor.toml".to_string(), ledger),
                ("F001".to_string(), "proctor.toml".to_string(), refunds),
            ],
            "{batch} at a time: {got:?}"
        );
        let others: Vec<_> = got.into_iter().filter(|d| d.0 != "F001").collect();
        assert_eq!(others, alone, "{batch} at a time");
    }
}

/// A proctor.toml that is a named pipe is the workspace's configuration, reported as
/// unreadable; it is not skipped in favour of the proctor.toml of a folder above.
#[cfg(unix)]
#[test]
fn a_proctor_toml_that_is_a_pipe_is_reported_not_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("proctor.toml"), "[workspace]\n");
    let inner = tmp.path().join("team");
    std::fs::create_dir_all(&inner).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(inner.join("proctor.toml"))
            .status()
            .unwrap()
            .success()
    );
    let run = check(&inner, &[]);
    assert_eq!(run.code, 2, "{}", run.json);
    let got = diagnostics(&run);
    assert_eq!(got, [("F001".into(), "proctor.toml".into(), 1)]);
    assert!(
        run.json["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{}",
        run.json
    );
}

/// A spec over Proton's 51,200 characters is B007 and is type-checked, but not rendered:
/// Proton refused such a spec, so the template's findings for it would be about a rendering
/// that never happens.
#[test]
fn a_spec_over_protons_size_limit_is_type_checked_but_not_rendered() {
    let tmp = tempfile::tempdir().unwrap();
    env_bundle(&tmp.path().join("templates/orders-env/v1"));
    // A template finding that appears only when the template renders.
    write(
        &tmp.path()
            .join("templates/orders-env/v1/infrastructure/cloudformation.yaml"),
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Missing{{ environment.inputs.name }}\n",
    );
    write(
        &tmp.path().join("proctor.toml"),
        "[workspace]\ntemplates = [\"templates\"]\n\n\
         [[environment]]\nname = \"long\"\ntemplate = \"orders-env:1\"\nspec = \"long.yaml\"\n\n\
         [[environment]]\nname = \"short\"\ntemplate = \"orders-env:1\"\nspec = \"short.yaml\"\n",
    );
    let padding = "# a long comment line to pad the spec past Proton's limit\n".repeat(1000);
    write(
        &tmp.path().join("long.yaml"),
        format!("{padding}proton: EnvironmentSpec\nspec:\n  name: lengthy\n"),
    );
    write(
        &tmp.path().join("short.yaml"),
        "proton: EnvironmentSpec\nspec:\n  name: orders\n",
    );
    let run = check(tmp.path(), &[]);
    let got = diagnostics(&run);
    let codes: Vec<(&str, &str)> = got
        .iter()
        .map(|(c, f, _)| (c.as_str(), f.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("B007", "long.yaml"),
            // Only the short spec's rendering is checked (`Missingorders`, no `Missinglengthy`).
            (
                "C005",
                "templates/orders-env/v1/infrastructure/cloudformation.yaml"
            ),
        ],
        "{}",
        run.json
    );
    let message = run.json["diagnostics"][1]["message"].as_str().unwrap();
    assert!(message.contains("`Missingorders`"), "{message}");
}
