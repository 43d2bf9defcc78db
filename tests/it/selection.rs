//! Which bundles and deployments `proctor check` looks at, in the fixture workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/workspace")
}

/// The closing line's counts and the diagnostics' codes.
fn check(dir: &Path, args: &[&str]) -> (String, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(["check", "--no-cache"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = text.lines().last().unwrap_or("").to_string();
    let counts = summary.split(" in ").next().unwrap_or("").to_string();
    let codes = text
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix("× ")
                .or_else(|| l.trim_start().strip_prefix("⚠ "))
        })
        .map(|l| l[..4].to_string())
        .collect();
    (counts, codes)
}

#[test]
fn no_paths_checks_every_bundle_and_deployment() {
    let (counts, codes) = check(&workspace(), &[]);
    assert_eq!(counts, "checked 17 files (3 bundles, 4 specs)");
    assert!(codes.is_empty(), "{codes:?}");
}

#[test]
fn a_spec_path_checks_only_its_deployment() {
    // The environment's bundle is the only one linted (config, schema, manifest, template);
    // its beside spec is not in scope. The workspace's one policy file is counted too.
    let (counts, _) = check(&workspace(), &["specs/dev.yaml"]);
    assert_eq!(counts, "checked 6 files (1 bundle, 1 spec)");
}

#[test]
fn a_bundle_path_checks_it_and_the_deployments_that_use_it() {
    // payments-svc: its schema, two manifests, two templates and registration; the spec.
    let (counts, _) = check(&workspace(), &["templates/payments-svc"]);
    assert_eq!(counts, "checked 9 files (1 bundle, 1 spec)");
}

#[test]
fn a_template_named_by_path_outside_the_template_folders_resolves() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = |from: &str, to: &str| {
        let to = tmp.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(workspace().join(from), to).unwrap();
    };
    for f in [
        "schema/schema.yaml",
        "infrastructure/manifest.yaml",
        "infrastructure/cloudformation.yaml",
    ] {
        copy(
            &format!("templates/fargate-env/v1/{f}"),
            &format!("vendor/network/{f}"),
        );
    }
    copy("specs/dev.yaml", "dev.yaml");
    std::fs::write(
        tmp.path().join("proctor.toml"),
        "[workspace]\ntemplates = [\"templates\"]\n\n[[environment]]\nname = \"dev\"\ntemplate = \"./vendor/network\"\nspec = \"dev.yaml\"\n",
    )
    .unwrap();
    std::fs::create_dir(tmp.path().join("templates")).unwrap();
    let (counts, codes) = check(tmp.path(), &[]);
    assert_eq!(counts, "checked 5 files (1 bundle, 1 spec)");
    assert!(codes.is_empty(), "{codes:?}");
}
