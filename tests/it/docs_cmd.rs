//! `proctor docs BUNDLE` end to end: the Markdown of every fixture bundle (snapshots), that
//! each example spec in it passes `proctor check`, and how `--output` and `--check` treat an
//! existing file (markers, staleness, refusals).

use std::path::Path;

use crate::support::{Run, proctor, root};

const BEGIN: &str = "<!-- proctor:docs:begin -->";
const END: &str = "<!-- proctor:docs:end -->";

/// The bundles documented, with their snapshot names.
const BUNDLES: &[(&str, &str)] = &[
    ("fargate-env", "fixtures/workspace/templates/fargate-env/v1"),
    (
        "payments-svc",
        "fixtures/workspace/templates/payments-svc/v1",
    ),
    (
        "log-forwarder",
        "fixtures/workspace/templates/log-forwarder",
    ),
    ("queue-env", "fixtures/deploy/templates/queue-env/v1"),
    ("queue-svc", "fixtures/deploy/templates/queue-svc/v1"),
];

/// `proctor docs BUNDLE` from the repository root, which must succeed.
fn docs(bundle: &str) -> String {
    let run = proctor(&root(), &["docs", bundle]);
    assert_eq!(run.code, 0, "{bundle}: {}", run.stderr);
    assert!(run.stderr.is_empty(), "{bundle}: {}", run.stderr);
    run.stdout
}

/// The fenced YAML block after the example heading, if there is one.
fn example_spec(markdown: &str) -> Option<String> {
    let after = &markdown[markdown.find("\n## Example spec\n")?..];
    let start = after.find("```yaml\n")? + "```yaml\n".len();
    let len = after[start..].find("\n```")?;
    Some(after[start..start + len + 1].to_string())
}

#[test]
fn docs_of_the_fixture_bundles() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots/docs"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, bundle) in BUNDLES {
            let md = docs(bundle);
            // Deterministic: a second run prints the same bytes, and nothing absolute.
            assert_eq!(md, docs(bundle), "{bundle}");
            let abs = root().to_string_lossy().into_owned();
            assert!(!md.contains(&abs), "{bundle}: an absolute path in\n{md}");
            insta::assert_snapshot!(*name, md);
        }
    });
}

#[test]
fn every_example_spec_passes_proctor_check() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (name, bundle) in BUNDLES {
        let md = docs(bundle);
        let Some(spec) = example_spec(&md) else {
            assert_eq!(
                *name, "log-forwarder",
                "{bundle} has no example spec:\n{md}"
            );
            // A component has no spec: the docs say so instead.
            assert!(md.contains("no spec of its own"), "{md}");
            assert!(!md.contains("```yaml"), "{md}");
            continue;
        };
        let kind = if spec.starts_with("proton: EnvironmentSpec\n") {
            "EnvironmentSpec"
        } else {
            "ServiceSpec"
        };
        assert!(spec.starts_with(&format!("proton: {kind}\n")), "{spec}");

        // No proctor.toml in the temporary folder: the spec is checked against the bundle.
        let file = tmp.path().join(format!("{name}.yaml"));
        std::fs::write(&file, &spec).expect("spec written");
        let bundle_path = root().join(bundle);
        let run = proctor(
            tmp.path(),
            &[
                "check".as_ref(),
                bundle_path.as_os_str(),
                "--spec".as_ref(),
                file.as_os_str(),
                "--format".as_ref(),
                "json".as_ref(),
            ],
        );
        let report: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}{}", run.stdout, run.stderr));
        assert_eq!(run.code, 0, "{name}: {report:#}\n{spec}");
        assert_eq!(report["summary"]["errors"], 0, "{name}: {report:#}");
        let on_spec: Vec<&serde_json::Value> = report["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| {
                d["file"]
                    .as_str()
                    .is_some_and(|f| f.ends_with(&format!("/{name}.yaml")))
            })
            .collect();
        assert!(on_spec.is_empty(), "{name}: {on_spec:#?}");

        // The check really reads this spec: an unknown input in it is an error.
        let mut broken = String::new();
        let mut lines = spec.lines().peekable();
        while let Some(line) = lines.next() {
            broken.push_str(line);
            broken.push('\n');
            if line.trim() == "spec:"
                && let Some(next) = lines.peek()
            {
                let indent = next.len() - next.trim_start().len();
                broken.push_str(&format!("{}not_an_input: 1\n", " ".repeat(indent)));
            }
        }
        std::fs::write(&file, &broken).expect("spec written");
        let run = proctor(
            tmp.path(),
            &[
                "check".as_ref(),
                bundle_path.as_os_str(),
                "--spec".as_ref(),
                file.as_os_str(),
                // An unknown input is a warning (Proton ignored such inputs): a gate denies it.
                "--deny-warnings".as_ref(),
            ],
        );
        assert_eq!(run.code, 1, "{name}: {}\n{broken}", run.stdout);
        assert!(run.stdout.contains("I001"), "{name}: {}", run.stdout);
    }
}

const BUNDLE: &str = "fixtures/deploy/templates/queue-env/v1";

fn docs_to(output: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "docs".as_ref(),
        BUNDLE.as_ref(),
        "--output".as_ref(),
        output.as_os_str(),
    ];
    args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
    proctor(&root(), &args)
}

#[test]
fn a_readme_is_updated_between_its_markers_only() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let readme = tmp.path().join("README.md");
    let head = format!("# Queue environment\n\nHand-written intro.\n\n{BEGIN}");
    let tail = format!("{END}\n\nHand-written footer.\n");
    std::fs::write(&readme, format!("{head}\nold reference\n{tail}")).expect("written");

    let run = docs_to(&readme, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("wrote"), "{}", run.stdout);
    let md = docs(BUNDLE);
    let updated = std::fs::read_to_string(&readme).expect("read");
    assert_eq!(updated, format!("{head}\n{md}{tail}"));
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("listed")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["README.md"]);

    // Current: --check passes, also after an edit outside the markers.
    let run = docs_to(&readme, &["--check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    let edited = updated.replace("Hand-written footer.", "Edited footer.");
    std::fs::write(&readme, &edited).expect("written");
    assert_eq!(docs_to(&readme, &["--check"]).code, 0);

    // Stale: --check fails, says what to run, and changes nothing.
    let stale = edited.replace("How long artifacts are kept", "How long they are kept");
    assert_ne!(stale, edited);
    std::fs::write(&readme, &stale).expect("written");
    let run = docs_to(&readme, &["--check"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("README.md") && run.stderr.contains("proctor docs"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&readme).expect("read"), stale);

    // Writing again brings it back, keeping the edited footer.
    assert_eq!(docs_to(&readme, &[]).code, 0);
    assert_eq!(std::fs::read_to_string(&readme).expect("read"), edited);
}

#[test]
fn a_file_without_markers_is_written_whole() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("queue-env.md");
    // Missing: --check says it is stale and creates nothing.
    let run = docs_to(&file, &["--check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!file.exists());

    std::fs::write(&file, "something else entirely\n").expect("written");
    let run = docs_to(&file, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), docs(BUNDLE));
    assert_eq!(docs_to(&file, &["--check"]).code, 0);
}

#[test]
fn a_file_with_one_marker_or_reversed_markers_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("README.md");
    for text in [
        format!("# Title\n\n{BEGIN}\nno end\n"),
        format!("# Title\n\nno begin\n{END}\n"),
        format!("# Title\n\n{END}\nreversed\n{BEGIN}\n"),
    ] {
        std::fs::write(&file, &text).expect("written");
        for extra in [&[][..], &["--check"][..]] {
            let run = docs_to(&file, extra);
            assert_eq!(run.code, 2, "{text}: {}", run.stderr);
            assert!(run.stderr.contains("proctor:docs:"), "{}", run.stderr);
            assert_eq!(std::fs::read_to_string(&file).expect("read"), text);
        }
    }
}

#[test]
fn a_folder_that_is_not_one_bundle_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("notes.txt"), "not a bundle").expect("written");
    let run = proctor(tmp.path(), &["docs", "."]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("no bundle found"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let run = proctor(tmp.path(), &["docs", "missing"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);

    // Several bundles: the user picks one.
    let run = proctor(&root(), &["docs", "fixtures/workspace"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("holds 3 bundles"), "{}", run.stderr);

    // A bundle with errors: check it first.
    let bad = tmp.path().join("broken/v1");
    std::fs::create_dir_all(bad.join("infrastructure")).expect("created");
    let run = proctor(tmp.path(), &["docs", "broken/v1"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("run `proctor check broken/v1` first"),
        "{}",
        run.stderr
    );
}
