use super::pieces::PIECES_FROM;
use super::*;
use crate::source::SourceFile;

/// A proctor.toml of `n` services (every key, sub-tables among them), environments and
/// waivers, with `extra` at its end.
fn large_toml(n: usize, extra: &str) -> String {
    large_toml_with(n, extra, true)
}

/// `large_toml`, the services' stacks in sub-tables or not.
fn large_toml_with(n: usize, extra: &str, stacks: bool) -> String {
    let mut t = String::from(
        "# generated\n[workspace]\ntemplates = [\"templates\"]\npolicies = [\"policies\"]\n\n[check]\nignore = [\"W003\"]\n\n[limits]\npolicy_steps = 100000\n\n",
    );
    for i in 0..n {
        t.push_str(&format!(
            "[[environment]]\nname = \"env-{i}\"\ntemplate = \"net:1\"\nspec = \"specs/env-{i}.yaml\"\naccount_id = \"{:012}\"\nstack = \"Env{i}\"\n\n",
            i * 7
        ));
        t.push_str(&format!(
            "[[service]]\nname = \"svc-{i}\" # a comment\ntemplate = 'web:2.1'\nspec = \"specs/svc-{i}.yaml\"\nbranch = \"main\"\nrepository_id = \"org/svc-{i}\"\nrepository_connection_arn = \"arn:aws:x\"\npipeline_stack = \"Pipe{i}\"\n\n"
        ));
        if stacks {
            t.push_str(&format!(
                "[service.stacks]\nsvc-{i}-a = \"Stack{i}A\"\n\"svc-{i}-b\" = \"Stack{i}B\"\n\n"
            ));
        }
        if i % 97 == 0 {
            t.push_str(&format!(
                "[[waiver]]\nrule = \"S3_VERSIONING\"\ndeployment = \"svc-{i}\"\nreason = \"legacy\"\nowner = \"team@example.com\"\nexpires = 2027-01-01\n\n"
            ));
        }
    }
    t.push_str(extra);
    t
}

fn in_pieces(text: &str) -> Option<RawConfig> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    pool.install(|| read_in_pieces(text))
}

#[test]
fn a_large_file_parsed_in_pieces_is_the_whole_files_parse() {
    let text = large_toml(3_000, "");
    assert!(text.len() > PIECES_FROM);
    let whole: RawConfig = toml::from_str(&text).unwrap();
    let pieces = in_pieces(&text).expect("parsed in pieces");
    // Spans included: each piece's spans are moved to its place in the file.
    assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
    assert_eq!(pieces.service.len(), 3_000);
}

#[test]
fn a_large_file_of_plain_tables_read_by_lines_is_the_whole_files_parse() {
    let text = large_toml_with(3_000, "", false);
    let whole: RawConfig = toml::from_str(&text).unwrap();
    let pieces = in_pieces(&text).expect("parsed in pieces");
    assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
    // The pieces after the settings are deployments and waivers only, and the line reader
    // reads every piece without a waiver.
    let cut = text.find("[[environment]]").unwrap();
    let piece = &text[cut..text[cut..].find("[[waiver]]").unwrap() + cut];
    assert!(super::pieces::plain(piece, cut).is_some());
}

/// A piece of deployments, `at` bytes into a file, read by the line reader: `None` when it
/// is not, else `Some` once it is checked to be what the TOML parser reads (spans moved
/// `at` bytes).
fn plain_or_toml(piece: &str, at: usize) -> Option<()> {
    let plain = super::pieces::plain(piece, at)?;
    let whole: RawConfig = toml::from_str(piece)
        .unwrap_or_else(|e| panic!("the line reader read what TOML rejects: {e}\n{piece}"));
    let raw = RawConfig {
        environment: plain.0,
        service: plain.1,
        ..Default::default()
    };
    let toml_raw = RawConfig {
        environment: super::pieces::shift_all(whole.environment, at),
        service: super::pieces::shift_all(whole.service, at),
        ..Default::default()
    };
    assert_eq!(format!("{raw:?}"), format!("{toml_raw:?}"), "{piece}");
    Some(())
}

#[test]
fn the_line_reader_reads_plain_tables_as_the_toml_parser_does() {
    // Each is read, spans and all, as the TOML parser reads it.
    for line in [
        "branch = \"main\"",
        "branch=\"main\"",
        "  branch  =  'main'  ",
        "\tbranch\t=\t\"main\"\t# a comment",
        "branch = \"main\"# no space",
        "branch = \"\"",
        "branch = 'a\\tb, a literal string'",
        "branch = \"é-服务 and a\ttab\"",
        "# a comment line",
        "   ",
        "",
    ] {
        let piece = format!(
            "[[service]]\nname = \"api\"\n{line}\ntemplate = \"web:1\"\nspec = \"api.yaml\"\n\n[[environment]]\nname = \"dev\"\ntemplate = \"env:1\"\nspec = \"dev.yaml\"\naccount_id = \"123456789012\"\nstack = \"Dev\""
        );
        assert!(plain_or_toml(&piece, 1234).is_some(), "not read: {line:?}");
    }
    // Each is left to the TOML parser (read the same when it is read at all).
    for line in [
        "branch = \"a\\\"b\"",
        "branch = \"a\" \"b\"",
        "branch = \"a\\tb\"",
        "branch = 'a'b",
        "branch = \"a\u{7f}\"",
        "branch = \"a\" # \u{1}",
        "\"branch\" = \"main\"",
        "branch.x = \"main\"",
        "stacks = { web = \"Web\" }",
        "branch = 1",
        "branch = \"\"\"a\"\"\"",
        "unknown = \"x\"",
        "name = \"again\"",
        "[[service]] # a comment",
        "[service.stacks]",
        "[ [service]]",
        "  [[service]]",
        "[[waiver]]",
    ] {
        let piece = format!(
            "[[service]]\nname = \"api\"\ntemplate = \"web:1\"\nspec = \"api.yaml\"\n{line}\n"
        );
        assert!(plain_or_toml(&piece, 99).is_none(), "read: {line:?}");
    }
    // A missing key, and a key before any table.
    assert!(plain_or_toml("[[service]]\nname = \"api\"\nspec = \"a.yaml\"\n", 0).is_none());
    assert!(plain_or_toml("name = \"api\"\n[[service]]\n", 0).is_none());
}

#[test]
fn a_large_file_pieces_cannot_be_read_from_is_parsed_whole() {
    // A table only the whole file can place, an error only the whole file can report,
    // a multi-line string, a top-level key naming the deployments' array.
    for extra in [
        "[workspace]\nx = 1\n",
        "[[service]]\nname = \"late\"\n",
        "[[waiver]]\n[service.stacks]\na = \"b\"\n",
        "[[service]]\nname = \"\"\"\nmulti\"\"\"\n",
    ] {
        let text = large_toml(3_000, extra);
        let pieces = in_pieces(&text);
        let whole = toml::from_str::<RawConfig>(&text);
        match (&pieces, &whole) {
            (Some(p), Ok(w)) => assert_eq!(format!("{p:?}"), format!("{w:?}")),
            (Some(_), Err(e)) => panic!("pieces read a file the whole parse rejects: {e}"),
            (None, _) => {}
        }
    }
    let text = format!("service = []\n{}", large_toml(3_000, ""));
    assert!(in_pieces(&text).is_none());
}

fn parse_text(text: &str) -> (Option<Config>, Vec<Diagnostic>) {
    let src = SourceFile::new("proctor.toml", "proctor.toml", text.to_string());
    let mut diags = Vec::new();
    let cfg = parse(&src, Path::new("/ws"), &mut diags);
    (cfg, diags)
}

#[test]
fn stack_bindings_are_read_and_checked() {
    let (cfg, diags) = parse_text(concat!(
        "[[environment]]\nname = \"dev\"\ntemplate = \"env:1\"\nspec = \"dev.yaml\"\n",
        "stack = \"AWSProton-dev-cloudformation-1A2B\"\n\n",
        "[[environment]]\nname = \"prod\"\ntemplate = \"env:1\"\nspec = \"prod.yaml\"\n",
        "stack = \"1-not-a-stack_name\"\n\n",
        "[[service]]\nname = \"api\"\ntemplate = \"svc:1\"\nspec = \"api.yaml\"\n",
        "stacks = { web = \"AWSProton-api-web-9Z\", worker = \"AWSProton-dev-cloudformation-1A2B\" }\n",
        "pipeline_stack = \"AWSProton-api-pipeline-7Q\"\n",
    ));
    let cfg = cfg.unwrap();
    assert_eq!(
        cfg.bound_stack("environment", "dev", None),
        Some("AWSProton-dev-cloudformation-1A2B")
    );
    assert_eq!(
        cfg.bound_stack("service_instance", "web", Some("api")),
        Some("AWSProton-api-web-9Z")
    );
    assert_eq!(
        cfg.bound_stack("service_instance", "web", Some("other")),
        None
    );
    assert_eq!(
        cfg.bound_stack("pipeline", "api", Some("api")),
        Some("AWSProton-api-pipeline-7Q")
    );
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`1-not-a-stack_name` is not a CloudFormation stack name",
            "stack `AWSProton-dev-cloudformation-1A2B` is bound to environment `dev` and to instance `worker` of service `api`",
        ]
    );
    assert!(diags.iter().all(|d| d.code.id == "W001"));
}

#[test]
fn waivers_need_a_date_and_non_empty_fields() {
    let (cfg, diags) = parse_text(
        "[[waiver]]\nrule = \"R\"\ndeployment = \"dev\"\nreason = \"why\"\nowner = \"me\"\nexpires = 2027-03-31\n\n[[waiver]]\nrule = \"R\"\ndeployment = \"dev\"\nreason = \" \"\nowner = \"me\"\nexpires = 2027-03-31\n\n[[waiver]]\nrule = \"R\"\ndeployment = \"dev\"\nreason = \"why\"\nowner = \"me\"\nexpires = 2027-03-31T10:00:00Z\n",
    );
    let cfg = cfg.unwrap();
    assert_eq!(cfg.waivers.len(), 1);
    assert_eq!(cfg.waivers[0].expires.value.to_string(), "2027-03-31");
    let messages: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        messages,
        [
            "a waiver's `reason` is empty",
            "`expires = 2027-03-31T10:00:00Z` is not a date"
        ]
    );
}

#[test]
fn template_references_and_limits() {
    let (cfg, diags) = parse_text(
        "[limits]\nmax_yaml_depth = 64\n\n[[environment]]\nname = \"dev\"\ntemplate = \"fargate-env:2.3\"\nspec = \"dev.yaml\"\n\n[[service]]\nname = \"api\"\ntemplate = \"./templates/api\"\nspec = \"api.yaml\"\n",
    );
    assert!(diags.is_empty(), "{diags:?}");
    let cfg = cfg.unwrap();
    assert_eq!(cfg.limits.max_yaml_depth, 64);
    assert_eq!(
        cfg.environments[0].template.value,
        TemplateRef::Version {
            name: "fargate-env".into(),
            major: 2,
            minor: Some(3)
        }
    );
    assert_eq!(
        cfg.services[0].template.value,
        TemplateRef::Path("./templates/api".into())
    );
}

#[test]
fn value_mistakes_are_located_diagnostics() {
    let (cfg, diags) = parse_text(
        "[[environment]]\nname = \"dev.eu\"\ntemplate = \"fargate-env:x\"\nspec = \"dev.yaml\"\naccount_id = \"1234\"\n",
    );
    assert!(cfg.is_some());
    let got: Vec<(&str, usize)> = diags
        .iter()
        .map(|d| {
            (
                d.code.id,
                d.primary
                    .as_ref()
                    .unwrap()
                    .at
                    .source
                    .line_col(d.primary.as_ref().unwrap().at.span.start)
                    .0,
            )
        })
        .collect();
    assert_eq!(got, [("B008", 2), ("W001", 5), ("W004", 3)]);
}

#[test]
fn syntax_errors_make_the_config_unusable() {
    let (cfg, diags) = parse_text("[[environment]\nname = \"dev\"\n");
    assert!(cfg.is_none());
    assert_eq!(diags[0].code.id, "W001");
}
