//! The pre-commit hook, run by the real `pre-commit` (pinned in tests/requirements.txt) with
//! `pre-commit try-repo` on a fixture git repository: a commit with a good spec edit passes,
//! one with a bad spec edit fails and shows the finding. The hook used is
//! `proctor-check-system` (the proctor built for these tests, on PATH); `proctor-check`
//! differs only in having pre-commit build proctor with `cargo install`.
//!
//! Needs the venv that `scripts/venv` creates (scripts/test runs it first).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{copy_dir, edit, git, root};

/// `pre-commit try-repo <this repository> proctor-check-system` on the staged files of `repo`.
fn try_repo(repo: &Path, home: &Path) -> (i32, String) {
    let pre_commit = root().join(".venv/bin/pre-commit");
    assert!(
        pre_commit.exists(),
        "run scripts/venv first: {} is missing",
        pre_commit.display()
    );
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_proctor"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(pre_commit)
        .args(["try-repo", root().to_str().unwrap(), "proctor-check-system"])
        .current_dir(repo)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        .env("NO_COLOR", "1")
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_hook_passes_a_good_commit_and_fails_a_bad_spec_with_its_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("platform");
    copy_dir(&root().join("fixtures/deploy"), &repo);
    std::fs::write(repo.join("README.md"), "# Platform templates\n").unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "templates"]);
    let home = tmp.path().join("pre-commit-home");

    // A good change to one spec, and a README edit.
    edit(
        &repo,
        "specs/orders.yaml",
        "visibility_timeout: 60",
        "visibility_timeout: 90",
    );
    edit(&repo, "README.md", "templates", "templates and specs");
    git(&repo, &["add", "."]);
    let (code, out) = try_repo(&repo, &home);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("proctor check"), "{out}");
    assert!(out.contains("Passed"), "{out}");
    git(&repo, &["commit", "-q", "-m", "longer visibility timeout"]);

    // A bad spec edit: the hook fails and shows where and why.
    edit(
        &repo,
        "specs/orders.yaml",
        "visibility_timeout: 90",
        "visibility_timeout: ninety",
    );
    git(&repo, &["add", "."]);
    let (code, out) = try_repo(&repo, &home);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(
        out.contains("I003: input `visibility_timeout` must be an integer"),
        "{out}"
    );
    assert!(out.contains("specs/orders.yaml:6:27"), "{out}");
}
