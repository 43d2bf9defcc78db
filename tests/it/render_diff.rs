//! Differential test: proctor's rendering must equal Python Jinja2's (3.1.6, StrictUndefined,
//! default settings, Proton's filters written independently in tests/jinja/reference_render.py)
//! byte for byte, on every fixture under fixtures/render/. Error fixtures must fail in both.
//!
//! Needs the venv that `scripts/venv` creates (scripts/test runs it first).

use std::path::{Path, PathBuf};
use std::process::Command;

use proctor::source::SourceFile;
use proctor::template::env::RenderLimits;
use proctor::template::render::render_json;

use crate::support::{python, root};

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("template.yaml").is_file())
        .collect();
    out.sort();
    out
}

/// Python's rendering: Ok(output) or Err(stderr).
fn reference(dir: &Path) -> Result<String, String> {
    let out = Command::new(python())
        .arg(root().join("tests/jinja/reference_render.py"))
        .arg(dir.join("template.yaml"))
        .arg(dir.join("context.json"))
        .output()
        .expect("python runs");
    match out.status.code() {
        Some(0) => Ok(String::from_utf8(out.stdout).expect("utf-8 output")),
        Some(1) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        other => panic!(
            "reference renderer failed to run ({other:?}): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn proctor(dir: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(dir.join("template.yaml")).unwrap();
    let ctx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("context.json")).unwrap()).unwrap();
    let src = SourceFile::new("template.yaml", dir.join("template.yaml"), text);
    render_json(&src, &ctx, &RenderLimits::default())
}

#[test]
fn rendering_equals_python_jinja2_byte_for_byte() {
    let mut failures = Vec::new();
    let cases = fixtures(&root().join("fixtures/render"));
    assert!(cases.len() >= 12, "the fixtures are missing");
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy();
        match (reference(dir), proctor(dir)) {
            (Ok(want), Ok(got)) if want == got => {}
            (Ok(want), Ok(got)) => failures.push(format!(
                "{name}: output differs\n--- python\n{want}\n--- proctor\n{got}"
            )),
            (want, got) => failures.push(format!("{name}: python {want:?}\nproctor {got:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn failing_renders_fail_in_both() {
    let cases = fixtures(&root().join("fixtures/render/errors"));
    assert!(cases.len() >= 5);
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy();
        assert!(reference(dir).is_err(), "{name}: python rendered it");
        assert!(
            proctor(dir).is_err(),
            "{name}: proctor rendered it: {:?}",
            proctor(dir)
        );
    }
}

/// `proctor render` of every deployment in the fixture workspace equals Python Jinja2 rendering
/// the same template with the context proctor built (`proctor render --context`).
#[test]
fn proctor_render_of_each_fixture_deployment_equals_python() {
    let ws = root().join("fixtures/workspace");
    let env_template = "templates/fargate-env/v1/infrastructure/cloudformation.yaml";
    let instance_template = "templates/payments-svc/v1/instance_infrastructure/cloudformation.yaml";
    let pipeline_template = "templates/payments-svc/v1/pipeline_infrastructure/cloudformation.yaml";
    let deployments: &[(&[&str], &str)] = &[
        (&["dev"], env_template),
        (&["prod"], env_template),
        (&["specs/dev.yaml"], env_template),
        (
            &["payments", "--instance", "payments-dev"],
            instance_template,
        ),
        (
            &["payments", "--instance", "payments-prod"],
            instance_template,
        ),
        (&["payments", "--pipeline"], pipeline_template),
        // A component no deployment uses: rendered with a synthesized context.
        (
            &["templates/log-forwarder"],
            "templates/log-forwarder/cloudformation.yaml",
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (args, template) in deployments {
        let run = |extra: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
                .arg("render")
                .args(*args)
                .args(extra)
                .current_dir(&ws)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let rendered = run(&[]);
        let context = tmp.path().join("context.json");
        std::fs::write(&context, run(&["--context"])).unwrap();
        let python = Command::new(python())
            .arg(root().join("tests/jinja/reference_render.py"))
            .arg(ws.join(template))
            .arg(&context)
            .output()
            .unwrap();
        assert!(
            python.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&python.stderr)
        );
        let want = String::from_utf8(python.stdout).unwrap();
        assert!(!rendered.is_empty());
        assert_eq!(
            rendered, want,
            "{args:?}: proctor render differs from Python Jinja2"
        );
    }
}

/// AWS's public Proton sample repository (`../shared/corpus/proton-cloudformation-samples`, or
/// under `PROCTOR_CORPUS`): `proctor check` with no proctor.toml finds every spec and reports
/// no error; every spec renders (each instance, and the pipeline where the template has one)
/// with every bundle proctor checks it against, and each render equals Python Jinja2's on the
/// context `render --context` prints.
#[test]
fn proton_samples_check_clean_and_render_as_python_does() {
    let Some(corpus) = crate::support::corpus() else {
        return;
    };
    let samples = corpus.join("proton-cloudformation-samples");
    let check = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(["check", "--color", "never"])
        .current_dir(&samples)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    let closing = text.lines().last().unwrap_or_default();
    assert!(
        closing.contains("(24 bundles, 22 specs)") && closing.contains(": 0 errors"),
        "{text}"
    );
    let (renders, missing) = crate::support::proton_sample_renders(&samples);
    assert!(missing.is_empty(), "did not render: {missing:#?}");
    assert!(renders.len() >= 40, "only {} renders", renders.len());
    let mut failures = Vec::new();
    for r in &renders {
        let ctx = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ctx.path(), &r.context).unwrap();
        let python = Command::new(python())
            .arg(root().join("tests/jinja/reference_render.py"))
            .arg(&r.template)
            .arg(ctx.path())
            .output()
            .unwrap();
        if !python.status.success() {
            failures.push(format!(
                "{:?}: Python failed: {}",
                r.args,
                String::from_utf8_lossy(&python.stderr)
            ));
        } else if python.stdout != r.text {
            failures.push(format!(
                "{:?}: proctor's render differs from Python Jinja2's",
                r.args
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{} renders equal Python Jinja2's", renders.len());
}
