//! `proctor build` end to end: what it writes, that it is reproducible, and that it writes
//! nothing (and keeps a previous build) when there are errors.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{files, root};

fn build(dir: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(["build", "--out"])
        .arg(out)
        .current_dir(dir)
        .output()
        .expect("proctor runs")
}

#[test]
fn the_workspace_builds_reproducibly_with_a_verifiable_record() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let run = build(&root().join("fixtures/workspace"), &a);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Service instances read the environment's outputs: they wait until it is applied.
    assert!(
        stdout.contains("waiting: service_instance `payments-dev`: apply environment `dev` first"),
        "{stdout}"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("proctor-build.json")).unwrap()).unwrap();
    assert_eq!(record["passed"], true);
    let policies = record["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{record:#}");
    let acme = std::fs::read(root().join("fixtures/workspace/policies/acme.guard")).unwrap();
    assert_eq!(
        policies[0]["sha256"].as_str().unwrap(),
        proctor::source::sha256(&acme)
    );
    let units = record["units"].as_array().unwrap();
    assert!(
        units
            .iter()
            .any(|u| u["kind"] == "environment" && u["name"] == "dev"),
        "{record:#}"
    );
    for u in units {
        let art = &u["artifact"];
        let bytes = std::fs::read(a.join(art["path"].as_str().unwrap())).unwrap();
        assert_eq!(
            art["sha256"].as_str().unwrap(),
            proctor::source::sha256(&bytes)
        );
        for input in u["inputs"].as_array().unwrap() {
            let bytes = std::fs::read(
                root()
                    .join("fixtures/workspace")
                    .join(input["path"].as_str().unwrap()),
            )
            .unwrap();
            assert_eq!(
                input["sha256"].as_str().unwrap(),
                proctor::source::sha256(&bytes)
            );
        }
    }
    // The same inputs give byte-identical outputs; building again over a build replaces it.
    assert_eq!(
        build(&root().join("fixtures/workspace"), &b).status.code(),
        Some(0)
    );
    assert_eq!(files(&a), files(&b));
    assert_eq!(
        build(&root().join("fixtures/workspace"), &a).status.code(),
        Some(0)
    );
    assert_eq!(files(&a), files(&b));
    // No temporary folders are left beside the build.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn errors_write_nothing_and_keep_the_previous_build() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("build");
    assert_eq!(
        build(&root().join("fixtures/workspace"), &out)
            .status
            .code(),
        Some(0)
    );
    let before = files(&out);
    let run = build(&root().join("fixtures/cases/I003-wrong-type"), &out);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("nothing was built"));
    assert_eq!(files(&out), before);
    let fresh = tmp.path().join("fresh");
    assert_eq!(
        build(&root().join("fixtures/cases/I003-wrong-type"), &fresh)
            .status
            .code(),
        Some(1)
    );
    assert!(!fresh.exists());
}

#[test]
fn a_folder_that_is_not_a_build_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("src");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("main.rs"), "fn main() {}\n").unwrap();
    let run = build(&root().join("fixtures/workspace"), &out);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("is not a proctor build"));
    assert_eq!(
        std::fs::read_to_string(out.join("main.rs")).unwrap(),
        "fn main() {}\n"
    );
}

#[test]
fn json_artifacts_use_long_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("build");
    let run = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(["build", "--json", "--out"])
        .arg(&out)
        .current_dir(root().join("fixtures/workspace"))
        .output()
        .expect("proctor runs");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.join("environments/dev.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        doc["Resources"]["PublicSubnet1"]["Properties"]["VpcId"]["Ref"],
        "VPC"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("proctor-build.json")).unwrap()).unwrap();
    let dev = record["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "dev")
        .unwrap();
    assert_eq!(
        dev["artifact"]["sha256"].as_str().unwrap(),
        proctor::source::sha256(text.as_bytes())
    );
}

#[test]
fn a_build_verifies_until_one_byte_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("build");
    assert_eq!(
        build(&root().join("fixtures/workspace"), &out)
            .status
            .code(),
        Some(0)
    );
    let units = proctor::build::verify(&out).unwrap();
    assert!(
        units
            .units
            .iter()
            .any(|u| u.kind == "environment" && u.name == "dev" && u.stack == "proctor-env-dev")
    );

    // One byte of one artifact.
    let artifact = out.join("environments/dev.yaml");
    let mut bytes = std::fs::read(&artifact).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&artifact, &bytes).unwrap();
    let err = proctor::build::verify(&out).unwrap_err();
    assert!(
        err.contains("unit `dev`") && err.contains("was changed after the build"),
        "{err}"
    );
    bytes[10] ^= 1;
    std::fs::write(&artifact, &bytes).unwrap();
    assert!(proctor::build::verify(&out).is_ok());

    // A missing artifact, a record from a newer proctor, an artifact path leaving the folder.
    let record_path = out.join("proctor-build.json");
    let record = std::fs::read_to_string(&record_path).unwrap();
    std::fs::rename(&artifact, tmp.path().join("moved.yaml")).unwrap();
    assert!(
        proctor::build::verify(&out)
            .unwrap_err()
            .contains("cannot be read")
    );
    std::fs::rename(tmp.path().join("moved.yaml"), &artifact).unwrap();
    // The record edited: `from` replaced by `to`; the build is refused with `why`.
    let refused = |from: &str, to: &str, why: &str| {
        std::fs::write(&record_path, record.replace(from, to)).unwrap();
        let err = proctor::build::verify(&out).unwrap_err();
        assert!(err.contains(why), "{err}");
    };
    refused(
        "\"record_version\": 1",
        "\"record_version\": 2",
        "newer proctor",
    );
    refused(
        "\"environments/dev.yaml\"",
        "\"../../etc/passwd\"",
        "not inside the build folder",
    );
    refused("\"passed\": true", "\"passed\": false", "passed");
    refused(
        "\"proctor-env-dev\"",
        "\"proctor_env dev\"",
        "not a valid CloudFormation stack name",
    );
    refused(
        "\"proctor-env-prod\"",
        "\"proctor-env-dev\"",
        "two units of this build deploy to the stack `proctor-env-dev`",
    );
    refused(
        "\"state\": \"",
        "\"state\": \"/etc/",
        "must be a relative path",
    );
}

/// A state file as `proctor apply` writes it, with environment `dev` deployed.
fn state_with_dev_outputs(outputs: &str) -> String {
    format!(
        r#"{{
  "state_version": 1,
  "stacks": {{
    "proctor-env-dev": {{
      "kind": "environment",
      "name": "dev",
      "stack_id": "arn:aws:cloudformation:eu-west-1:111122223333:stack/proctor-env-dev/7f1c",
      "status": "CREATE_COMPLETE",
      "template": "fargate-env",
      "template_version": "1",
      "artifact_sha256": "5e2d",
      "outputs": {{ {outputs} }}
    }}
  }}
}}
"#
    )
}

#[test]
fn deployed_outputs_in_the_state_file_let_waiting_units_build() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    crate::support::copy_dir(&root().join("fixtures/workspace"), &ws);
    std::fs::create_dir_all(ws.join(".proctor")).unwrap();

    // `dev` is deployed but its stack lacks an output the service reads: the service waits,
    // and says which output is missing.
    std::fs::write(
        ws.join(".proctor/state.json"),
        state_with_dev_outputs(
            r#""ClusterName": "payments-dev", "PublicSubnetIds": "subnet-0a1b,subnet-2c3d""#,
        ),
    )
    .unwrap();
    let run = build(&ws, &ws.join("build"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "waiting: service_instance `payments-dev`: environment `dev` is deployed, but its stack has no output `VpcId`"
        ),
        "{stdout}"
    );

    std::fs::write(
        ws.join(".proctor/state.json"),
        state_with_dev_outputs(
            r#""ClusterName": "payments-dev", "PublicSubnetIds": "subnet-0a1b,subnet-2c3d", "VpcId": "vpc-0f9e8d7c""#,
        ),
    )
    .unwrap();
    let run = build(&ws, &ws.join("build"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("`payments-dev`"), "{stdout}");
    // `prod` is not deployed: its instance still waits.
    assert!(
        stdout
            .contains("waiting: service_instance `payments-prod`: apply environment `prod` first"),
        "{stdout}"
    );
    let instance =
        std::fs::read_to_string(ws.join("build/service-instances/payments-dev.yaml")).unwrap();
    assert!(instance.contains("VpcId: 'vpc-0f9e8d7c'"), "{instance}");
    assert!(instance.contains("Cluster: 'payments-dev'"), "{instance}");
    let record = std::fs::read_to_string(ws.join("build/proctor-build.json")).unwrap();
    assert!(
        record.contains("\"state\": \"../.proctor/state.json\""),
        "{record}"
    );
}

#[test]
fn a_second_build_into_the_same_folder_is_refused_while_one_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("build");
    // This test process plays the other build: it holds the lock and is alive.
    std::fs::write(
        tmp.path().join(".build.lock"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    let run = build(&root().join("fixtures/workspace"), &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another proctor (process {}) is working on the build folder",
            std::process::id()
        )),
        "{stderr}"
    );
    assert!(!out.exists());
    // Once it is gone (a dead process's lock is taken over), the build goes ahead.
    std::fs::write(tmp.path().join(".build.lock"), "4194304999\n").unwrap();
    assert_eq!(
        build(&root().join("fixtures/workspace"), &out)
            .status
            .code(),
        Some(0)
    );
    assert!(!tmp.path().join(".build.lock").exists());
}

#[test]
fn a_build_killed_mid_write_leaves_the_previous_build_usable() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    crate::support::copy_dir(&root().join("fixtures/workspace"), &ws);
    let out = tmp.path().join("build");
    assert_eq!(build(&ws, &out).status.code(), Some(0));
    let before = files(&out);

    // A changed spec, and a build that dies half-way through writing its artifacts.
    crate::support::edit(
        &ws,
        "specs/dev.yaml",
        "container_insights: true",
        "container_insights: false",
    );
    let killed = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(["build", "--out"])
        .arg(&out)
        .current_dir(&ws)
        .env("PROCTOR_FAILPOINT", "build:write")
        .output()
        .unwrap();
    assert_eq!(killed.status.code(), None, "killed by a signal");
    assert_eq!(files(&out), before, "the previous build is untouched");
    assert!(proctor::build::verify(&out).is_ok());

    // The next build replaces it whole and clears what the killed one left.
    assert_eq!(build(&ws, &out).status.code(), Some(0));
    assert_ne!(files(&out), before);
    assert!(proctor::build::verify(&out).is_ok());
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".build"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_build_folder_with_a_file_it_did_not_build_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("build");
    assert_eq!(
        build(&root().join("fixtures/workspace"), &out)
            .status
            .code(),
        Some(0)
    );
    assert!(proctor::build::verify(&out).is_ok());
    std::fs::write(out.join("environments/extra.yaml"), "Resources: {}\n").unwrap();
    let err = proctor::build::verify(&out).unwrap_err();
    assert!(
        err.contains("extra.yaml` is in the build folder but not in its record"),
        "{err}"
    );
    std::fs::remove_file(out.join("environments/extra.yaml")).unwrap();

    // An artifact replaced by a link to a file with the same bytes outside the folder.
    let artifact = out.join("environments/dev.yaml");
    let outside = tmp.path().join("dev.yaml");
    std::fs::copy(&artifact, &outside).unwrap();
    std::fs::remove_file(&artifact).unwrap();
    std::os::unix::fs::symlink(&outside, &artifact).unwrap();
    let err = proctor::build::verify(&out).unwrap_err();
    assert!(err.contains("is not a regular file"), "{err}");
}

/// A pipeline that reads names Proton took as API arguments (the repository, each instance's
/// account) renders with placeholders until proctor.toml declares them, and the build holds
/// it back, naming the keys to add.
#[test]
fn a_pipeline_waits_for_the_names_proctor_toml_does_not_declare() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    crate::support::copy_dir(&root().join("fixtures/workspace"), &ws);
    crate::support::edit(
        &ws,
        "templates/payments-svc/v1/pipeline_infrastructure/cloudformation.yaml",
        "    Properties:\n      VersioningConfiguration:",
        "    Properties:\n      Tags:\n        - Key: repository\n          Value: '{{ service.repository_id }}'\n      VersioningConfiguration:",
    );
    crate::support::edit(
        &ws,
        "proctor.toml",
        "repository_id = \"acme/payments\"\n",
        "",
    );
    let run = build(&ws, &ws.join("build"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(
            "waiting: pipeline `payments`: its template reads names that proctor.toml does not declare: add `repository_id` in the [[service]]"
        ),
        "{stdout}"
    );
    // Declared, the pipeline waits only for what it waited for before: its instances' stacks.
    crate::support::edit(
        &ws,
        "proctor.toml",
        "branch = \"main\"\n",
        "branch = \"main\"\nrepository_id = \"acme/payments\"\n",
    );
    let run = build(&ws, &ws.join("build"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(
            "waiting: pipeline `payments`: apply the instances of service `payments` first"
        ),
        "{stdout}"
    );
}

/// A deployment bound to an existing stack (an adopted Proton stack) is recorded with that
/// stack, so that `apply` updates it in place; the others keep proctor's names.
#[test]
fn a_bound_stack_is_the_stack_the_record_names() {
    let ws = crate::support::workspace("fixtures/workspace");
    crate::support::edit(
        ws.path(),
        "proctor.toml",
        "spec = \"specs/dev.yaml\"\n",
        "spec = \"specs/dev.yaml\"\nstack = \"AWSProton-dev-cloudformation-1A2B3C\"\n",
    );
    let out = ws.path().join("build");
    let run = build(ws.path(), &out);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("proctor-build.json")).unwrap()).unwrap();
    let stack = |name: &str| {
        record["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["kind"] == "environment" && u["name"] == name)
            .map(|u| u["stack"].clone())
    };
    assert_eq!(
        stack("dev"),
        Some("AWSProton-dev-cloudformation-1A2B3C".into()),
        "{record:#}"
    );
    assert_eq!(stack("prod"), Some("proctor-env-prod".into()), "{record:#}");
}
