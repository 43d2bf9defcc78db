//! `proctor graph` and `proctor check --format html`, checked by the real tools: Graphviz
//! accepts the DOT, Mermaid's own parser accepts the Mermaid, and the HTML report opens in
//! headless Chromium with no script error, showing every finding's code, file and line.

use std::path::Path;

use serde_json::Value as Json;

use crate::support::{browser, edit, graphviz, proctor, root, workspace};

fn graph(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["graph"];
    all.extend_from_slice(args);
    let run = proctor(dir, &all);
    assert_eq!(run.code, 0, "{run}");
    run.stdout
}

/// A snapshot in `tests/snapshots/graph/`.
fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots/graph"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn mermaid_accepts(text: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("graph.mmd");
    std::fs::write(&file, text).unwrap();
    if let Some(verdict) = browser("mermaid", &file) {
        assert_eq!(verdict["ok"], true, "Mermaid refuses:\n{text}\n{verdict}");
        assert_eq!(verdict["errors"], Json::Array(vec![]), "{verdict}");
    }
}

fn graphviz_accepts(text: &str) {
    if let Some(verdict) = graphviz(text) {
        let svg = verdict.unwrap_or_else(|e| panic!("Graphviz refuses:\n{text}\n{e}"));
        assert!(svg.contains("<svg"), "{svg}");
    }
}

/// The example workspace's deployments: an edge from each environment to the instances that
/// read its outputs, labelled with them; from each instance to its service's pipeline.
#[test]
fn the_workspace_graph_draws_deployments_and_the_outputs_they_read() {
    let dir = root().join("fixtures/workspace");
    let mermaid = graph(&dir, &[]);
    snapshot("workspace_mermaid", &mermaid);
    let dot = graph(&dir, &["--format", "dot"]);
    snapshot("workspace_dot", &dot);
    // The edge the issue names: environment -> the instance that reads its outputs.
    assert!(
        dot.lines()
            .any(|l| l.contains(" -> ")
                && l.contains("label=\"ClusterName, PublicSubnetIds, VpcId\"")),
        "{dot}"
    );
    graphviz_accepts(&dot);
    mermaid_accepts(&mermaid);
    // Deterministic: the same text twice.
    assert_eq!(graph(&dir, &[]), mermaid);
}

/// One deployment: its resources and Outputs, with Ref, GetAtt, Sub and DependsOn edges.
#[test]
fn a_deployment_graph_draws_resources_and_their_references() {
    let dir = root().join("fixtures/workspace");
    let dot = graph(&dir, &["dev", "--format", "dot"]);
    snapshot("deployment_dev_dot", &dot);
    let ids: Vec<(String, String)> = dot
        .lines()
        .filter_map(|l| {
            let (id, rest) = l.trim().split_once(" [label=\"")?;
            Some((id.to_string(), rest.split("\\n").next()?.to_string()))
        })
        .collect();
    let id = |name: &str| {
        ids.iter()
            .find(|(_, n)| n == name)
            .unwrap_or_else(|| panic!("no node {name} in\n{dot}"))
            .0
            .clone()
    };
    // PublicSubnet1 references the VPC with !Ref.
    let edge = format!("{} -> {} [label=\"Ref\"]", id("PublicSubnet1"), id("VPC"));
    assert!(dot.contains(&edge), "no `{edge}` in\n{dot}");
    graphviz_accepts(&dot);
    mermaid_accepts(&graph(&dir, &["dev"]));
    // A name that is no deployment: said, with the names that are.
    let run = proctor(&dir, &["graph", "nowhere"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains("dev, log-forwarder-sample, payments-dev, payments-prod, payments/pipeline"),
        "{run}"
    );
}

/// A reference cycle (C011) is drawn and named, not looped on.
#[test]
fn reference_cycles_are_drawn_and_named() {
    let ws = workspace("fixtures/hostile/36-rendered-ref-cycle");
    let run = proctor(ws.path(), &["graph", "dev", "--format", "dot"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("reference cycle"), "{run}");
    assert!(run.stdout.contains("color=\"#c62828\""), "{run}");
    graphviz_accepts(&run.stdout);
}

/// Thousands of deployments: a bounded drawing that says what it left out.
#[test]
fn a_large_workspace_draws_in_bounded_size() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(root().join("scripts/gen-workspace"))
        .args(["--out"])
        .arg(tmp.path())
        .args([
            "--bundles",
            "20",
            "--specs",
            "600",
            "--seed",
            "3",
            "--force",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = proctor(tmp.path(), &["graph", "--format", "dot"]);
    assert_eq!(run.code, 0, "{run}");
    let nodes = run
        .stdout
        .lines()
        .filter(|l| l.contains(" [label="))
        .count();
    assert_eq!(nodes, proctor::graph::MAX_NODES, "{}", run.stderr);
    assert!(run.stderr.contains("not drawn"), "{run}");
    assert!(run.stdout.contains("not drawn"), "the DOT says it too");
    graphviz_accepts(&run.stdout);
}

/// A workspace with errors, warnings and a policy finding, as an HTML report: opened in
/// headless Chromium, no script error, no request, every finding's code, file and line shown,
/// the graph drawn, and the severity filter works.
#[test]
fn the_html_report_shows_every_finding_in_a_browser() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    edit(
        dir,
        "specs/dev.yaml",
        "container_insights: true",
        "container_insights: 12",
    );
    edit(
        dir,
        "specs/payments.yaml",
        "      port: 8080\n      task_size: small",
        "      prot: 8080\n      task_size: small",
    );
    edit(
        dir,
        "specs/payments.yaml",
        "desired_count: 3",
        "desired_count: 1",
    );
    let run = proctor(
        dir,
        &[
            "check",
            "--format",
            "html",
            "--output",
            "report.html",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{run}");
    let report: Json = serde_json::from_str(&run.stdout).unwrap();
    let expected = report["diagnostics"].as_array().unwrap();
    assert!(expected.len() >= 3, "{expected:?}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "nothing fetched"
    );
    assert!(!html.contains("<link"), "styles inline");
    let Some(page) = browser("html", &dir.join("report.html")) else {
        return;
    };
    assert_eq!(page["errors"], Json::Array(vec![]), "{page}");
    assert_eq!(page["requests"], Json::Array(vec![]), "{page}");
    assert_eq!(page["svg"], 1, "the deployment graph is drawn inline");
    let findings = page["findings"].as_array().unwrap();
    assert_eq!(findings.len(), expected.len());
    for d in expected {
        let place = format!(
            "{}:{}:{}",
            d["file"].as_str().unwrap(),
            d["line"],
            d["column"]
        );
        assert!(
            findings
                .iter()
                .any(|f| f["code"] == d["code"] && f["place"].as_str() == Some(place.as_str())),
            "{} at {place} is not on the page",
            d["code"]
        );
    }
    let text = page["text"].as_str().unwrap();
    assert!(text.contains("error"), "{text}");
    let errors = expected.iter().filter(|d| d["severity"] == "error").count();
    assert_eq!(page["shownWithoutErrors"], expected.len() - errors);
}
