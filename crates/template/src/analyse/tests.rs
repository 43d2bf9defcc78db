use super::*;
use crate::source::SourceFile;

fn analyse(text: &str, role: Role) -> (Vec<Diagnostic>, Usage, Source) {
    let src = SourceFile::new(
        "cloudformation.yaml",
        "cloudformation.yaml",
        text.to_string(),
    );
    let ns = Namespaces {
        environment_inputs: Some(vec!["vpc_cidr".into(), "cluster_name".into()]),
        service_inputs: Some(vec!["port".into(), "task_size".into(), "env_vars".into()]),
        pipeline_inputs: Some(vec!["unit_test_command".into()]),
        environment_outputs: Some(OutputNames {
            names: ["ClusterName".to_string(), "VpcId".to_string()]
                .into_iter()
                .collect(),
            dynamic: false,
            from: "fargate-env:1".into(),
        }),
        instance_outputs: None,
    };
    let mut diags = Vec::new();
    let usage = match parse(&src, &mut diags) {
        Some(ast) => check(&src, &ast, role, &ns, &mut diags),
        None => Usage::default(),
    };
    (diags, usage, src)
}

fn found(diags: &[Diagnostic], src: &Source) -> Vec<(&'static str, String)> {
    diags
        .iter()
        .map(|d| {
            (
                d.code.id,
                src.slice(&d.primary.as_ref().unwrap().at.span).to_string(),
            )
        })
        .collect()
}

#[test]
fn misspelled_input_is_found_without_a_spec() {
    let (diags, _, src) = analyse(
        "Port: {{ service_instance.inputs.prot }}\n",
        Role::ServiceInstance,
    );
    assert_eq!(
        found(&diags, &src),
        [("T002", "service_instance.inputs.prot".to_string())]
    );
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `port`?"));
}

#[test]
fn namespaces_outside_the_role_and_unknown_attributes() {
    let text = "A: {{ pipeline.inputs.unit_test_command }}\nB: {{ service_instance.input.port }}\nC: {{ servce.name }}\nD: {{ environment.outputs.VpcID }}\n";
    let (diags, _, src) = analyse(text, Role::ServiceInstance);
    assert_eq!(
        found(&diags, &src),
        [
            ("T003", "pipeline".to_string()),
            ("T003", "service_instance.input".to_string()),
            ("T003", "servce".to_string()),
            ("T005", "environment.outputs.VpcID".to_string()),
        ]
    );
    let (diags, _, src) = analyse("X: {{ environment.outputs.VpcId }}\n", Role::Environment);
    assert_eq!(
        found(&diags, &src),
        [("T003", "environment.outputs".to_string())]
    );
}

#[test]
fn scopes_aliases_and_dynamic_uses() {
    let text = "{% set si = service_instance.inputs %}{{ si.port }}\n{% for k, v in service_instance.inputs.env_vars.items() %}{{ k }}={{ v }}{% endfor %}\n{% if service_instance.inputs.task_size is defined %}x{% endif %}\n{% set a, b = 'x=y'.split('=') %}{{ a }}{{ b }}{{ loop_var | default('') if false }}\n";
    let (diags, usage, src) = analyse(text, Role::ServiceInstance);
    assert_eq!(found(&diags, &src), [("T003", "loop_var".to_string())]);
    let used: Vec<&str> = usage.inputs.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(used, ["env_vars", "port", "task_size"]);
}

#[test]
fn pipeline_loops_over_service_instances() {
    let text = "{% for i in service_instances %}{{ i.name }} {{ i.inputs.port }} {{ i.inputs.prt }} {{ i.environment.outputs.VpcId }}{% endfor %}\n";
    let (diags, _, src) = analyse(text, Role::Pipeline);
    assert_eq!(found(&diags, &src), [("T002", "i.inputs.prt".to_string())]);
    assert!(
        diags[0].message.contains("service_instances[i].inputs.prt"),
        "{}",
        diags[0].message
    );
}

#[test]
fn syntax_errors_and_unknown_filters_have_spans() {
    let (diags, _, _) = analyse(
        "A: {{ service.name }}\nB: {% if x %}\n",
        Role::ServiceInstance,
    );
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code.id, "T001");
    let (diags, _, src) = analyse("A: {{ service.name | uper }}\n", Role::ServiceInstance);
    assert_eq!(found(&diags, &src), [("T001", "uper".to_string())]);
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `upper`?"));
}

#[test]
fn outputs_are_read_from_the_text() {
    let text = "Resources:\n  A:\n    Type: X\nOutputs:\n  ClusterName:\n    Value: !Ref A\n  'VpcId':\n    Value: x\n    Export:\n      Name: y\n";
    let names = declared_outputs(text, "t");
    assert_eq!(
        names.names.iter().collect::<Vec<_>>(),
        ["ClusterName", "VpcId"]
    );
    assert!(!names.dynamic);
}

#[test]
fn pipeline_instance_outputs_are_checked_against_the_instance_template() {
    let src = SourceFile::new("p.yaml", "p.yaml", "{% for i in service_instances %}{{ i.outputs.ServiceEndpoint }} {{ i.outputs.Endpoint }}{% endfor %}\n".to_string());
    let ns = Namespaces {
        instance_outputs: Some(OutputNames {
            names: ["ServiceEndpoint".to_string()].into_iter().collect(),
            dynamic: false,
            from: "api-svc:1 (instance template)".into(),
        }),
        ..Namespaces::default()
    };
    let mut diags = Vec::new();
    let ast = parse(&src, &mut diags).unwrap();
    check(&src, &ast, Role::Pipeline, &ns, &mut diags);
    assert_eq!(
        found(&diags, &src),
        [("T005", "i.outputs.Endpoint".to_string())]
    );
    assert_eq!(
        diags[0].help.as_deref(),
        Some(
            "`api-svc:1 (instance template)` declares `ServiceEndpoint`; add `Endpoint` to its `Outputs`"
        )
    );
}

#[test]
fn unknown_tests_are_reported() {
    let (diags, _, src) = analyse(
        "{% if service.name is defind %}x{% endif %}\n",
        Role::ServiceInstance,
    );
    assert_eq!(found(&diags, &src), [("T001", "defind".to_string())]);
}

#[test]
fn chains_deeper_than_the_limit_are_refused_before_parsing() {
    let n = MAX_EXPRESSION_DEPTH;
    for (chain, link) in [
        (format!("{{{{ x{} }}}}", "|e".repeat(5000)), "|"),
        (format!("{{{{ x{} }}}}", ".a".repeat(5000)), "."),
        (format!("{{{{ 1{} }}}}", "+1".repeat(5000)), "+"),
        (format!("{{{{ {}1 }}}}", "-".repeat(5000)), "-"),
        (format!("{{{{ {}x }}}}", "not ".repeat(5000)), "not"),
        (
            format!("{{% set y = {}1 %}}", "1 if x else ".repeat(5000)),
            "else",
        ),
    ] {
        let text = format!("Resources:\n  # {{{{ ignored }}}}\n  A: {chain}\n");
        let (diags, _, src) = analyse(&text, Role::Environment);
        assert_eq!(
            found(&diags, &src),
            [("T001", link.to_string())],
            "{}",
            &chain[..40]
        );
        let at = diags[0].primary.as_ref().unwrap().at.span.start;
        assert_eq!(src.line_col(at).0, 3, "on the expression's line");
        assert!(diags[0].message.contains(&n.to_string()));
    }
    // Just under the limit parses (and is then checked as usual).
    let ok = format!(
        "{{{{ environment.inputs.vpc_cidr{} }}}}",
        "|e".repeat(n - 10)
    );
    assert_eq!(expression_depth(&ok), None);
}

#[test]
fn long_flat_literals_and_many_tags_are_not_deep() {
    let list = format!("{{% set l = [{}] %}}", vec!["a.b.c ~ d"; 5000].join(", "));
    let dict = format!(
        "{{{{ {{{}}} }}}}",
        (0..5000)
            .map(|i| format!("'k{i}': x.y|e"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let tags = "{{ a.b.c.d|e }}".repeat(5000);
    let raw = format!("{{% raw %}}{{{{ {} }}}}{{% endraw %}}", "-".repeat(5000));
    for text in [list, dict, tags, raw] {
        assert_eq!(expression_depth(&text), None, "{}", &text[..30]);
    }
    // Brackets count too: 300 nested calls.
    let calls = format!("{{{{ {}x{} }}}}", "f(".repeat(300), ")".repeat(300));
    assert!(expression_depth(&calls).is_some());
}
