//! A run reads a file from `CheckOptions::buffers` when it has one (an editor's unsaved text),
//! and from the disk otherwise: the language server's way to check what is being typed.

use proctor::check::{self, CheckOptions};
use proctor::files::Buffers;

use crate::support::{root, workspace};

fn codes_at(outcome: &check::Outcome, file: &str) -> Vec<String> {
    outcome
        .diagnostics
        .iter()
        .filter(|d| {
            d.primary
                .as_ref()
                .is_some_and(|p| p.at.source.name() == file)
        })
        .map(|d| d.code.id.to_string())
        .collect()
}

#[test]
fn an_unsaved_spec_is_checked_instead_of_the_file_on_disk() {
    let ws = workspace("fixtures/workspace");
    let spec = ws.path().join("specs/dev.yaml");
    let on_disk = std::fs::read_to_string(&spec).unwrap();
    let typed = on_disk.replace("container_insights: true", "container_insights: sometimes");
    assert_ne!(typed, on_disk);

    let run = |buffers: Buffers| {
        check::run(&CheckOptions {
            cwd: ws.path().to_path_buf(),
            buffers,
            ..CheckOptions::default()
        })
        .expect("the workspace runs")
    };
    let clean = run(Buffers::default());
    assert!(
        codes_at(&clean, "specs/dev.yaml").is_empty(),
        "{:?}",
        clean.diagnostics
    );

    let edited = run(Buffers::new([(spec.clone(), typed)]));
    assert_eq!(
        codes_at(&edited, "specs/dev.yaml"),
        ["I003"],
        "{:?}",
        edited.diagnostics
    );
    // The disk is untouched, and a file with no buffer is read from it.
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), on_disk);
    assert!(codes_at(&edited, "specs/prod.yaml").is_empty());
    assert!(root().join("fixtures/workspace/specs/dev.yaml").is_file());
}

#[test]
fn an_unsaved_template_is_rendered_instead_of_the_file_on_disk() {
    let ws = workspace("fixtures/workspace");
    let template = ws
        .path()
        .join("templates/fargate-env/v1/infrastructure/cloudformation.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    let typed = text.replacen("{{ environment.inputs.", "{{ environment.inputz.", 1);
    assert_ne!(typed, text, "the template reads an environment input");
    let outcome = check::run(&CheckOptions {
        cwd: ws.path().to_path_buf(),
        buffers: Buffers::new([(template, typed)]),
        ..CheckOptions::default()
    })
    .expect("the workspace runs");
    let codes = codes_at(
        &outcome,
        "templates/fargate-env/v1/infrastructure/cloudformation.yaml",
    );
    assert!(
        codes.iter().any(|c| c.starts_with('T')),
        "{:?}",
        outcome.diagnostics
    );
}

/// The outputs a service template may read come from its compatible environment template;
/// an unsaved edit there counts too.
#[test]
fn an_unsaved_environment_template_changes_what_services_may_read() {
    let ws = workspace("fixtures/workspace");
    let env = ws
        .path()
        .join("templates/fargate-env/v1/infrastructure/cloudformation.yaml");
    let text = std::fs::read_to_string(&env).unwrap();
    let typed = text.replacen(
        "  VpcId:\n    Value: !Ref VPC",
        "  NetworkId:\n    Value: !Ref VPC",
        1,
    );
    assert_ne!(typed, text, "the environment template declares VpcId");
    let service = "templates/payments-svc/v1/instance_infrastructure/cloudformation.yaml";
    let run = |buffers: Buffers| {
        check::run(&CheckOptions {
            cwd: ws.path().to_path_buf(),
            paths: vec!["templates/payments-svc".to_string()],
            buffers,
            ..CheckOptions::default()
        })
        .expect("the workspace runs")
    };
    assert!(codes_at(&run(Buffers::default()), service).is_empty());
    let outcome = run(Buffers::new([(env, typed)]));
    let found: Vec<&str> = outcome
        .diagnostics
        .iter()
        .filter(|d| {
            d.primary
                .as_ref()
                .is_some_and(|p| p.at.source.name() == service)
        })
        .map(|d| d.message.as_str())
        .collect();
    assert!(found.iter().any(|m| m.contains("VpcId")), "{found:?}");
}

/// A run whose result is no longer wanted (an editor sent a newer edit) stops between stages
/// and says so, with nothing to show; the same run without the flag finds the error.
#[test]
fn a_cancelled_run_stops_and_says_so() {
    let ws = workspace("fixtures/workspace");
    let spec = ws.path().join("specs/dev.yaml");
    let typed = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("container_insights: true", "container_insights: 12");
    let opts = CheckOptions {
        cwd: ws.path().to_path_buf(),
        buffers: Buffers::new([(spec, typed)]),
        ..CheckOptions::default()
    };
    let done = check::run(&opts).expect("the workspace runs");
    assert!(!done.cancelled);
    assert_eq!(codes_at(&done, "specs/dev.yaml"), ["I003"]);

    opts.cancel.set();
    let stopped = check::run(&opts).expect("the workspace runs");
    assert!(stopped.cancelled);
    assert!(stopped.units.is_empty() && stopped.rendered.is_empty());
    assert!(codes_at(&stopped, "specs/dev.yaml").is_empty());
}

/// A slim run (what `proctor check` does: each rendering dropped once validated, units
/// rendered and validated in batches, one unit of each template kept) finds exactly what a
/// run that keeps every rendering finds, in the same order, on a generated workspace with
/// input errors and policy violations across several batches of units.
#[test]
fn a_slim_run_finds_exactly_what_a_full_run_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let gen_run = std::process::Command::new("python3")
        .arg(root().join("scripts/gen-workspace"))
        .arg("--out")
        .arg(tmp.path())
        .args(["--bundles", "12", "--specs", "300", "--resources", "6"])
        .args(["--violations", "0.3", "--type-errors", "0.1", "--seed", "7"])
        .output()
        .unwrap();
    assert!(gen_run.status.success(), "{gen_run:?}");
    let run = |slim: bool| {
        check::run(&CheckOptions {
            cwd: tmp.path().to_path_buf(),
            slim,
            ..CheckOptions::default()
        })
        .expect("the workspace runs")
    };
    let (full, slim) = (run(false), run(true));
    let shown =
        |o: &check::Outcome| proctor::report::json::render_check(&o.diagnostics, &o.verdicts);
    assert!(
        full.units.len() > 512,
        "several batches: {}",
        full.units.len()
    );
    assert!(full.diagnostics.len() > 20, "{}", full.diagnostics.len());
    assert_eq!(shown(&full), shown(&slim));
    // A slim run keeps the first unit of each template, in the full run's order.
    let mut seen = std::collections::HashSet::new();
    let named = |r: &proctor::unit::Rendered| (r.template.clone(), r.name.clone());
    let firsts: Vec<(String, String)> = full
        .rendered
        .iter()
        .filter(|r| seen.insert(r.template.clone()))
        .map(named)
        .collect();
    assert!(firsts.len() >= 12, "{firsts:?}");
    assert_eq!(slim.rendered.iter().map(named).collect::<Vec<_>>(), firsts);
    assert!(slim.rendered.iter().all(|r| r.text.is_empty()));
    assert!(full.rendered.iter().all(|r| !r.text.is_empty()));
}
