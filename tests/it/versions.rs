//! The template version gate, through the real binary on git histories the tests build:
//! `proctor check --base REV` (breaking changes inside an existing major fail with the
//! deployments they break; a new major is not compared; what a change does to each
//! deployment's resources) and `proctor diff OLD NEW`.

use std::path::Path;

use crate::support::{copy_dir, edit, git, proctor, root};

/// fixtures/deploy as the first commit of a new repository.
fn repository() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("fixtures/deploy"), tmp.path());
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "."]);
    git(tmp.path(), &["commit", "-q", "-m", "queue templates v1"]);
    tmp
}

const SCHEMA: &str = "templates/queue-env/v1/schema/schema.yaml";
const TEMPLATE: &str = "templates/queue-env/v1/infrastructure/cloudformation.yaml";
const RETENTION: &str = "        retention_days:\n          type: integer\n          description: \"How long artifacts are kept\"\n          default: 30\n          minimum: 1\n          maximum: 365\n";

fn remove_retention(dir: &Path, bundle: &str) {
    edit(dir, &format!("{bundle}/schema/schema.yaml"), RETENTION, "");
    edit(
        dir,
        &format!("{bundle}/infrastructure/cloudformation.yaml"),
        "'retention={{ environment.inputs.retention_days }}'",
        "'retention=30'",
    );
}

fn redact(text: &str) -> String {
    let re = regex::Regex::new(r"in \d+ ms").unwrap();
    re.replace_all(text, "in [time] ms").into_owned()
}

#[test]
fn removing_an_input_inside_v1_fails_with_its_place_and_the_deployments_it_breaks() {
    let repo = repository();
    let dir = repo.path();
    remove_retention(dir, "templates/queue-env/v1");
    git(dir, &["commit", "-q", "-am", "drop retention_days"]);
    let run = proctor(dir, &["check", "--base", "HEAD~1"]);
    assert_eq!(run.code, 1, "{run}");
    insta::with_settings!({snapshot_path => crate::support::root().join("tests/snapshots/versions"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("breaking-in-v1", redact(&run.stdout));
    });
    let json = proctor(dir, &["check", "--base", "HEAD~1", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "V001")
        .expect("a V001");
    assert_eq!(
        d["file"],
        "HEAD~1:templates/queue-env/v1/schema/schema.yaml"
    );
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(18), Some(9))
    );
}

#[test]
fn the_same_change_in_a_new_major_passes() {
    let repo = repository();
    let dir = repo.path();
    copy_dir(
        &dir.join("templates/queue-env/v1"),
        &dir.join("templates/queue-env/v2"),
    );
    remove_retention(dir, "templates/queue-env/v2");
    git(dir, &["add", "."]);
    git(
        dir,
        &["commit", "-q", "-m", "queue-env v2 without retention_days"],
    );
    let run = proctor(dir, &["check", "--base", "HEAD~1"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("no bundle's schema changed"), "{run}");
    // The two majors side by side: breaking.
    let diff = proctor(
        dir,
        &["diff", "templates/queue-env/v1", "templates/queue-env/v2"],
    );
    assert_eq!(diff.code, 1, "{diff}");
    assert!(diff.stdout.contains("V001"), "{diff}");
    assert!(
        diff.stdout
            .ends_with("templates/queue-env/v1 → templates/queue-env/v2: breaking (needs a new major version)\n"),
        "{diff}"
    );
    let back = proctor(
        dir,
        &[
            "diff",
            "templates/queue-env/v2",
            "templates/queue-env/v1",
            "--format",
            "json",
        ],
    );
    assert_eq!(back.code, 0, "{back}");
    let v: serde_json::Value = serde_json::from_str(&back.stdout).unwrap();
    assert_eq!(v["verdict"], "compatible");
    assert_eq!(v["diagnostics"][0]["code"], "V002");
}

#[test]
fn a_compatible_change_shows_what_it_does_to_each_deployment() {
    let repo = repository();
    let dir = repo.path();
    // A renamed parameter (replaces it), a new topic, and a changed default.
    edit(
        dir,
        TEMPLATE,
        "Name: /{{ environment.name }}/settings",
        "Name: /{{ environment.name }}/config",
    );
    edit(
        dir,
        TEMPLATE,
        "Outputs:",
        "  Alerts:\n    Type: AWS::SNS::Topic\nOutputs:",
    );
    edit(dir, SCHEMA, "default: 30", "default: 14");
    git(
        dir,
        &["commit", "-q", "-am", "rename the settings parameter"],
    );
    let run = proctor(dir, &["check", "--base", "HEAD~1"]);
    assert_eq!(run.code, 0, "{run}");
    insta::with_settings!({snapshot_path => crate::support::root().join("tests/snapshots/versions"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("compatible-with-replacement", redact(&run.stdout));
    });
}

#[test]
fn a_base_outside_git_or_unknown_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("fixtures/deploy"), tmp.path());
    let run = proctor(tmp.path(), &["check", "--base", "HEAD~1"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("--base needs a git repository"),
        "{run}"
    );
    let repo = repository();
    let run = proctor(repo.path(), &["check", "--base", "no-such-branch"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr.contains("`no-such-branch`: no such commit"),
        "{run}"
    );
}
