//! `proctor lsp`, as an editor talks to it: the real binary over stdio, JSON-RPC messages in
//! and out, positions asserted exactly (0-based lines, UTF-16 columns).

use std::path::Path;

use serde_json::{Value as Json, json};

use crate::support::lsp::{Lsp, uri};
use crate::support::workspace;

fn labels(items: &Json) -> Vec<String> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("a list of items: {items}"))
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

fn range(r: &Json) -> [u64; 4] {
    [
        r["start"]["line"].as_u64().unwrap(),
        r["start"]["character"].as_u64().unwrap(),
        r["end"]["line"].as_u64().unwrap(),
        r["end"]["character"].as_u64().unwrap(),
    ]
}

fn codes(diags: &[Json]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap()
}

/// The "done when": on a workspace it has never seen, a wrong-typed input is an error
/// as the spec opens and is cleared after the fix; completion offers the schema's inputs;
/// hover shows an input's type; definition lands on the schema property; shutdown and exit
/// end it with status 0.
#[test]
fn a_spec_is_checked_completed_and_explained_as_it_is_typed() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let spec = dir.join("specs/dev.yaml");
    let text = read(dir, "specs/dev.yaml");
    let wrong = text.replace("container_insights: true", "container_insights: 12");
    let mut lsp = Lsp::start(dir);

    lsp.open(&spec, &wrong);
    let diags = lsp.diagnostics(&spec, Some(1));
    assert_eq!(codes(&diags), ["I003"], "{diags:?}");
    let d = &diags[0];
    assert_eq!(range(&d["range"]), [7, 22, 7, 24]);
    assert_eq!(d["severity"], 1);
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .starts_with("input `container_insights` must be a boolean, found an integer `12`"),
        "{d}"
    );
    // The schema's declaration, as related information, exactly where it is.
    let related = &d["relatedInformation"][0];
    assert_eq!(
        related["location"]["uri"],
        uri(&dir.join("templates/fargate-env/v1/schema/schema.yaml"))
    );
    assert_eq!(range(&related["location"]["range"]), [33, 16, 33, 23]);
    assert!(
        d["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .ends_with("docs/rules.md#i003")
    );

    // Fixed: the next run clears it, for the new version.
    lsp.change(&spec, 2, &text);
    assert_eq!(lsp.diagnostics(&spec, Some(2)), Vec::<Json>::new());

    // Completion on a new line of `spec:` offers the inputs not yet written, in the
    // schema's order, with their types.
    let typing = format!("{text}  ");
    lsp.change(&spec, 3, &typing);
    lsp.diagnostics(&spec, Some(3));
    let items = lsp.at("textDocument/completion", &spec, 8, 2);
    assert_eq!(labels(&items), ["nat_gateways", "alarm_email"]);
    assert_eq!(items[0]["detail"], "integer, default 1");
    assert_eq!(items[0]["insertText"], "nat_gateways: ");
    // A value: the booleans.
    let items = lsp.at("textDocument/completion", &spec, 7, 22);
    assert_eq!(labels(&items), ["true", "false"]);

    // Hover on `vpc_cidr`: type, default, constraints, description.
    let hover = lsp.at("textDocument/hover", &spec, 3, 4);
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        shown.starts_with("**vpc_cidr**: `string`\n\ndefault: `10.0.0.0/16`"),
        "{shown}"
    );
    assert!(shown.contains("The CIDR range for the VPC"), "{shown}");

    // Definition: the property in schema.yaml.
    let def = lsp.at("textDocument/definition", &spec, 3, 4);
    assert_eq!(
        def["uri"],
        uri(&dir.join("templates/fargate-env/v1/schema/schema.yaml"))
    );
    assert_eq!(range(&def["range"]), [17, 8, 17, 16]);
    // From anywhere else in the spec: its bundle's schema.
    let def = lsp.at("textDocument/definition", &spec, 0, 2);
    assert_eq!(range(&def["range"]), [0, 0, 0, 0]);

    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn service_specs_complete_instance_inputs_enums_and_environments() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let spec = dir.join("specs/payments.yaml");
    let text = read(dir, "specs/payments.yaml");
    let mut lsp = Lsp::start(dir);
    lsp.open(&spec, &text);
    assert_eq!(lsp.diagnostics(&spec, Some(1)), Vec::<Json>::new());

    // `task_size: small` (line 8): the enum's values.
    let items = lsp.at("textDocument/completion", &spec, 8, 17);
    assert_eq!(
        labels(&items),
        ["x-small", "small", "medium", "large", "x-large"]
    );
    // `environment: dev` (line 5): proctor.toml's environments.
    let items = lsp.at("textDocument/completion", &spec, 5, 17);
    assert_eq!(labels(&items), ["dev", "prod"]);
    // An instance's keys (line 4, in `- name:`).
    let items = lsp.at("textDocument/completion", &spec, 4, 4);
    assert_eq!(labels(&items), ["name", "environment", "spec"]);
    // The pipeline's inputs (line 2).
    let hover = lsp.at("textDocument/hover", &spec, 2, 4);
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        shown.starts_with("**unit_test_command**: `string`"),
        "{shown}"
    );
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn a_misspelt_input_has_a_quick_fix() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let spec = dir.join("specs/payments.yaml");
    let text = read(dir, "specs/payments.yaml").replacen("      port: 8080", "      prot: 8080", 1);
    let mut lsp = Lsp::start(dir);
    lsp.open(&spec, &text);
    let diags = lsp.diagnostics(&spec, Some(1));
    let i001: Vec<&Json> = diags.iter().filter(|d| d["code"] == "I001").collect();
    assert_eq!(i001.len(), 1, "{diags:?}");
    assert_eq!(range(&i001[0]["range"]), [7, 6, 7, 10]);
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri(&spec) },
            "range": i001[0]["range"],
            "context": { "diagnostics": [i001[0]] },
        }),
    );
    let action = &actions[0];
    assert_eq!(action["title"], "replace `prot` with `port`");
    assert_eq!(action["kind"], "quickfix");
    let edit = &action["edit"]["changes"][uri(&spec)][0];
    assert_eq!(edit["newText"], "port");
    assert_eq!(range(&edit["range"]), [7, 6, 7, 10]);
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn templates_complete_hover_and_go_to_inputs_and_environment_outputs() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let rel = "templates/payments-svc/v1/instance_infrastructure/cloudformation.yaml";
    let template = dir.join(rel);
    let text = read(dir, rel);
    let mut lsp = Lsp::start(dir);
    lsp.open(&template, &text);
    lsp.diagnostics(&template, Some(1));

    // Line 22: `            - ContainerPort: {{ service_instance.inputs.port }}`.
    let line = text.lines().nth(22).unwrap();
    let port = u32::try_from(line.find("port }}").unwrap()).unwrap();
    let def = lsp.at("textDocument/definition", &template, 22, port + 1);
    assert_eq!(
        def["uri"],
        uri(&dir.join("templates/payments-svc/v1/schema/schema.yaml"))
    );
    let schema = read(dir, "templates/payments-svc/v1/schema/schema.yaml");
    let (n, l) = schema
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim() == "port:")
        .unwrap();
    let col = (l.len() - l.trim_start().len()) as u64;
    assert_eq!(range(&def["range"]), [n as u64, col, n as u64, col + 4]);
    let hover = lsp.at("textDocument/hover", &template, 22, port + 1);
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**port**: `"),
        "{hover}"
    );

    // Line 31: `Cluster: '{{ environment.outputs.ClusterName }}'`: the environment
    // template's output.
    let line = text.lines().nth(31).unwrap();
    let at = u32::try_from(line.find("ClusterName").unwrap()).unwrap();
    let def = lsp.at("textDocument/definition", &template, 31, at + 2);
    assert_eq!(
        def["uri"],
        uri(&dir.join("templates/fargate-env/v1/infrastructure/cloudformation.yaml"))
    );
    assert_eq!(range(&def["range"]), [54, 2, 54, 13]);

    // Typing `{{ environment.outputs.` completes the environment's outputs, and
    // `service_instance.inputs.` the instance inputs.
    let typed = text.replacen(
        "      Cluster: '{{ environment.outputs.ClusterName }}'",
        "      Cluster: '{{ environment.outputs.",
        1,
    );
    lsp.change(&template, 2, &typed);
    let col = u32::try_from("      Cluster: '{{ environment.outputs.".len()).unwrap();
    let items = lsp.at("textDocument/completion", &template, 31, col);
    assert_eq!(labels(&items), ["ClusterName", "VpcId", "PublicSubnetIds"]);
    let typed = typed.replacen(
        "      Cluster: '{{ environment.outputs.",
        "      Cluster: '{{ service_instance.inputs.",
        1,
    );
    lsp.change(&template, 3, &typed);
    let col = u32::try_from("      Cluster: '{{ service_instance.inputs.".len()).unwrap();
    let items = lsp.at("textDocument/completion", &template, 31, col);
    assert_eq!(
        labels(&items),
        [
            "port",
            "desired_count",
            "task_size",
            "image",
            "health_check_path",
            "environment_variables"
        ]
    );
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn template_errors_show_in_the_template_and_a_raw_fix_is_offered() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let rel = "templates/fargate-env/v1/infrastructure/cloudformation.yaml";
    let template = dir.join(rel);
    let text = read(dir, rel);
    let mut lsp = Lsp::start(dir);
    // A misspelt input.
    let bad = text.replacen(
        "environment.inputs.vpc_cidr",
        "environment.inputs.vpc_cidrr",
        1,
    );
    lsp.open(&template, &bad);
    let diags = lsp.diagnostics(&template, Some(1));
    let t002 = diags
        .iter()
        .find(|d| d["code"] == "T002")
        .unwrap_or_else(|| panic!("{diags:?}"));
    let line = bad.lines().position(|l| l.contains("vpc_cidrr")).unwrap() as u64;
    assert_eq!(range(&t002["range"])[0], line);
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri(&template) },
            "range": t002["range"],
            "context": { "diagnostics": [t002] },
        }),
    );
    assert_eq!(actions[0]["title"], "replace `vpc_cidrr` with `vpc_cidr`");
    // Hover on the diagnostic: the code's explanation.
    let start = &t002["range"]["start"];
    let hover = lsp.at(
        "textDocument/hover",
        &template,
        start["line"].as_u64().unwrap() as u32,
        start["character"].as_u64().unwrap() as u32 + 1,
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("**T002**"), "{shown}");

    // A dynamic reference Jinja would eat: wrapped in `{% raw %}`.
    let dynamic = format!("{text}# {{{{resolve:ssm:/acme/ami}}}}\n");
    lsp.change(&template, 2, &dynamic);
    let diags = lsp.diagnostics(&template, Some(2));
    assert_eq!(codes(&diags), ["T006"], "{diags:?}");
    let last = dynamic.lines().count() as u64 - 1;
    assert_eq!(range(&diags[0]["range"]), [last, 2, last, 27]);
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": uri(&template) },
            "range": diags[0]["range"],
            "context": { "diagnostics": [diags[0]] },
        }),
    );
    let edit = &actions[0]["edit"]["changes"][uri(&template)][0];
    assert_eq!(
        edit["newText"],
        "{% raw %}{{resolve:ssm:/acme/ami}}{% endraw %}"
    );

    // Fixed: cleared.
    lsp.change(&template, 3, &text);
    assert_eq!(lsp.diagnostics(&template, Some(3)), Vec::<Json>::new());
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn a_schema_edit_checks_the_open_specs_again() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let spec = dir.join("specs/dev.yaml");
    let schema_rel = "templates/fargate-env/v1/schema/schema.yaml";
    let schema = dir.join(schema_rel);
    let schema_text = read(dir, schema_rel);
    let mut lsp = Lsp::start(dir);
    lsp.open(&spec, &read(dir, "specs/dev.yaml"));
    assert_eq!(lsp.diagnostics(&spec, Some(1)), Vec::<Json>::new());
    // The schema now says container_insights is an integer: the open spec is wrong.
    let changed = schema_text.replacen(
        "        container_insights:\n          type: boolean\n          title: \"Container Insights\"\n          default: false",
        "        container_insights:\n          type: integer",
        1,
    );
    assert_ne!(changed, schema_text);
    lsp.open(&schema, &changed);
    let diags = lsp.diagnostics(&spec, Some(1));
    assert_eq!(codes(&diags), ["I003"], "{diags:?}");
    lsp.change(&schema, 2, &schema_text);
    assert_eq!(lsp.diagnostics(&spec, Some(1)), Vec::<Json>::new());
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn an_environment_template_edit_checks_the_open_service_templates_again() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let svc = dir.join("templates/payments-svc/v1/instance_infrastructure/cloudformation.yaml");
    let env_rel = "templates/fargate-env/v1/infrastructure/cloudformation.yaml";
    let env = dir.join(env_rel);
    let env_text = read(dir, env_rel);
    let mut lsp = Lsp::start(dir);
    lsp.open(&svc, &std::fs::read_to_string(&svc).unwrap());
    assert_eq!(lsp.diagnostics(&svc, Some(1)), Vec::<Json>::new());
    // The environment no longer declares the output the service reads.
    let renamed = env_text.replacen("\n  ClusterName:\n", "\n  ClusterNm:\n", 1);
    assert_ne!(renamed, env_text);
    lsp.open(&env, &renamed);
    let diags = lsp.diagnostics(&svc, Some(1));
    assert!(codes(&diags).contains(&"T005".to_string()), "{diags:?}");
    lsp.change(&env, 2, &env_text);
    assert_eq!(lsp.diagnostics(&svc, Some(1)), Vec::<Json>::new());
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn policies_complete_and_go_to_rules_and_variables() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let policy = dir.join("policies/buckets.guard");
    let text = "let buckets = Resources.*[ Type == 'AWS::S3::Bucket' ]\n\nrule buckets_exist {\n  %buckets !empty\n}\n\nrule buckets_versioned when buckets_exist {\n  %buckets.Properties.VersioningConfiguration.Status == 'Enabled'\n}\n";
    let mut lsp = Lsp::start(dir);
    lsp.open(&policy, text);
    // Line 6: `rule buckets_versioned when buckets_exist {`: the rule's definition.
    let def = lsp.at("textDocument/definition", &policy, 6, 30);
    assert_eq!(def["uri"], uri(&policy));
    assert_eq!(range(&def["range"]), [2, 5, 2, 18]);
    // `%buckets` on line 7: the `let`.
    let def = lsp.at("textDocument/definition", &policy, 7, 4);
    assert_eq!(range(&def["range"]), [0, 4, 0, 11]);
    // After `%`: variables only.
    let items = lsp.at("textDocument/completion", &policy, 3, 3);
    assert_eq!(labels(&items), ["buckets"]);
    let items = lsp.at("textDocument/completion", &policy, 6, 28);
    assert_eq!(
        labels(&items),
        ["buckets", "buckets_exist", "buckets_versioned"]
    );
    assert_eq!(lsp.diagnostics(&policy, Some(1)), Vec::<Json>::new());
    // A half-typed clause: the parser's error, where it is; cleared when completed.
    let broken = text.replacen("%buckets !empty", "%buckets !", 1);
    lsp.change(&policy, 2, &broken);
    let diags = lsp.diagnostics(&policy, Some(2));
    assert_eq!(codes(&diags), ["P001"], "{diags:?}");
    assert_eq!(range(&diags[0]["range"]), [4, 0, 4, 1]);
    lsp.change(&policy, 3, text);
    assert_eq!(lsp.diagnostics(&policy, Some(3)), Vec::<Json>::new());
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn broken_and_foreign_files_get_diagnostics_and_the_server_keeps_answering() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let mut lsp = Lsp::start(dir);

    // A broken proctor.toml: its own diagnostic, where the problem is.
    let config = dir.join("proctor.toml");
    lsp.open(&config, "[workspace\ntemplates = [\"templates\"]\n");
    let diags = lsp.diagnostics(&config, Some(1));
    assert_eq!(codes(&diags), ["W001"], "{diags:?}");
    assert_eq!(range(&diags[0]["range"])[0], 0);
    lsp.change(&config, 2, &read(dir, "proctor.toml"));
    assert_eq!(lsp.diagnostics(&config, Some(2)), Vec::<Json>::new());

    // A spec no bundle checks.
    let stray = dir.join("specs/stray.yaml");
    lsp.open(
        &stray,
        "proton: EnvironmentSpec\nspec:\n  cluster_name: x\n",
    );
    let diags = lsp.diagnostics(&stray, Some(1));
    assert_eq!(codes(&diags), ["I014"], "{diags:?}");
    assert_eq!(range(&diags[0]["range"]), [0, 8, 0, 23]);

    // A file outside any workspace: nothing to say, and still answers.
    let outside = tempfile::tempdir().unwrap();
    let notes = outside.path().join("notes.yaml");
    lsp.open(&notes, "a: [1, 2\n");
    assert_eq!(lsp.diagnostics(&notes, Some(1)), Vec::<Json>::new());
    assert_eq!(lsp.at("textDocument/hover", &notes, 0, 0), Json::Null);

    // Half-typed YAML and Jinja on every keystroke: every version is answered.
    let spec = dir.join("specs/dev.yaml");
    let text = read(dir, "specs/dev.yaml");
    lsp.open(&spec, "");
    let mut version = 1;
    for end in (0..=text.len()).step_by(7).chain([text.len()]) {
        version += 1;
        lsp.change(&spec, version, &text[..end]);
        let hover = lsp.request_raw(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri(&spec) }, "position": { "line": 2, "character": 3 } }),
        );
        assert!(hover.get("error").is_none(), "{hover}");
    }
    assert_eq!(lsp.diagnostics(&spec, Some(version)), Vec::<Json>::new());

    // Unknown requests are errors, not the end of the server.
    let answer = lsp.request_raw("textDocument/rename", json!({}));
    assert_eq!(answer["error"]["code"], -32601);
    assert_eq!(lsp.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_ends_with_status_1() {
    let ws = workspace("fixtures/workspace");
    let mut lsp = Lsp::start(ws.path());
    lsp.notify("exit", Json::Null);
    assert_eq!(lsp.wait(), 1);
}

/// The hostile corpus, sent as unsaved buffers: every file of every case is opened in the
/// editor, and the server answers each and ends cleanly.
#[test]
fn hostile_buffers_never_take_the_server_down() {
    for case in crate::hostile_corpus::cases() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws");
        crate::hostile_corpus::copy_case(&case, &dir);
        crate::hostile_corpus::generate(&case, &dir);
        let files = text_files(&dir);
        let mut lsp = Lsp::start(&dir);
        let started = std::time::Instant::now();
        for f in &files {
            // Bytes that are not UTF-8 reach an editor's buffer as replacement characters.
            let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
            lsp.open(f, &text);
            lsp.diagnostics(f, Some(1));
            let hover = lsp.request_raw(
                "textDocument/hover",
                json!({ "textDocument": { "uri": uri(f) }, "position": { "line": 1, "character": 1 } }),
            );
            assert!(hover.get("error").is_none(), "{}: {hover}", f.display());
        }
        assert_eq!(lsp.shutdown(), 0, "{}", case.display());
        eprintln!(
            "{}: {} files in {:?}",
            case.display(),
            files.len(),
            started.elapsed()
        );
    }
}

/// The regular files of a case an editor would open, links not followed (a case may hold a
/// link loop, a pipe or a link out of its folder).
fn text_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let (p, kind) = (e.path(), e.file_type().unwrap());
            let wanted = ["yaml", "yml", "json", "j2", "guard", "toml"];
            if kind.is_dir() {
                stack.push(p);
            } else if kind.is_file()
                && p.extension()
                    .is_some_and(|x| wanted.iter().any(|w| x == *w))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
