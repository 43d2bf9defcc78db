//! A bounded property-based run of the five entry points the fuzzers drive (`fuzz/`): YAML,
//! spec type-checking, policies, templates and CloudFormation. Inputs are arbitrary strings,
//! text built from fragments of each language, and the fuzz corpora's seeds with random edits;
//! every file of `fuzz/corpus/**` and `fuzz/regressions/**` is replayed too.
//!
//! The property of every input: no panic, every diagnostic has a location, and the reporters
//! render them (`proctor_fuzz::assert_sound`, shared with the fuzz targets through `#[path]`).
//!
//! CI runs it with a fixed seed, in about half a minute in a debug build on two cores. A longer
//! run, or another seed: `PROPTEST_CASES=20000 PROPTEST_RNG_SEED=7 cargo test --release --test
//! property` (`PROPTEST_CASES` replaces every property's case count).

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::RngSeed;

/// The seed CI uses unless `PROPTEST_RNG_SEED` says otherwise.
const SEED: u64 = 0x0050_524f_4354_4f52;

/// `cases` cases (or `PROPTEST_CASES`), no failure files written beside the sources.
fn config(cases: u32) -> ProptestConfig {
    let base = ProptestConfig::default();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    let rng_seed = match base.rng_seed {
        RngSeed::Random => RngSeed::Fixed(SEED),
        fixed => fixed,
    };
    ProptestConfig {
        cases,
        rng_seed,
        failure_persistence: None,
        max_shrink_time: 60_000,
        ..base
    }
}

fn run(entry: fn(&str) -> Vec<proctor::diag::Diagnostic>, text: &str) {
    harness::assert_sound(&entry(text));
}

// ---------------------------------------------------------------------------------------------
// Generators

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(items).prop_map(String::from)
}

/// Any text: mostly printable, with line breaks, tabs, NUL and other control characters.
fn any_text() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "[ -~\t\n\r]{0,200}",
        "(\\PC|\n|\t|\r|\u{0}|\u{feff}){0,120}",
    ]
    .boxed()
}

const YAML_SCALARS: &[&str] = &[
    "~",
    "null",
    "true",
    "yes",
    "on",
    "No",
    "0o17",
    "0x1F",
    "017",
    "1e3",
    "-1.5",
    ".inf",
    "-.nan",
    "1_000",
    "12:30:00",
    "2001-12-14",
    "'single ''quoted'''",
    "\"esc\\n\\u00e9\\t\"",
    "\"\\x00\\uD800\"",
    "|\n  block\n  text\n",
    ">-\n  folded\n",
    "|+\n\n",
    "!Ref Bucket",
    "!GetAtt Fn.Arn",
    "!Sub '${AWS::Region}-${X}'",
    "!!str 3",
    "!!int x",
    "!custom {a: 1}",
    "&anchor 1",
    "*anchor",
    "[a, b, {c: d}]",
    "{a: [1, 2], b: ~}",
    "{}",
    "[]",
    "[",
    "{a: ",
    "é€😀",
    "'",
    "\"",
    "- ",
    ": ",
    "? complex",
    "%YAML 1.2",
    "@reserved",
    "`tick",
    "#c",
    "a # comment",
    "${Proton::CURRENT_VAL}",
    "-",
    "--- ",
    "...",
    "\t",
    "9999999999999999999999",
];

const YAML_KEYS: &[&str] = &[
    "proton",
    "spec",
    "pipeline",
    "instances",
    "name",
    "environment",
    "Resources",
    "Type",
    "Properties",
    "Outputs",
    "Value",
    "Parameters",
    "Conditions",
    "Mappings",
    "DependsOn",
    "Metadata",
    "schema",
    "types",
    "type",
    "properties",
    "default",
    "required",
    "enum",
    "port",
    "desired_count",
    "task_size",
    "image",
    "cluster_name",
    "<<",
    "? x",
    "\"quoted key\"",
    "1",
    "true",
    "[a, b]",
    "{a: b}",
    "*anchor",
    "&anchor k",
    "!Ref k",
    "",
];

/// One line of YAML-ish text at some indentation.
fn yaml_line() -> BoxedStrategy<String> {
    let indent = (0usize..6).prop_map(|n| " ".repeat(n * 2));
    let line = prop_oneof![
        4 => (pick(YAML_KEYS), pick(YAML_SCALARS)).prop_map(|(k, v)| format!("{k}: {v}")),
        2 => pick(YAML_KEYS).prop_map(|k| format!("{k}:")),
        2 => pick(YAML_SCALARS).prop_map(|v| format!("- {v}")),
        2 => (pick(YAML_KEYS), pick(YAML_SCALARS)).prop_map(|(k, v)| format!("- {k}: {v}")),
        1 => pick(&["---", "...", "# comment", "", "\t- tab", "? ", ": ", "%TAG ! tag:x:"]),
        1 => "[ -~]{0,20}",
    ];
    (indent, line).prop_map(|(i, l)| format!("{i}{l}")).boxed()
}

fn yaml_text() -> BoxedStrategy<String> {
    prop::collection::vec(yaml_line(), 0..30)
        .prop_map(|lines| lines.join("\n"))
        .boxed()
}

const SPEC_VALUES: &[&str] = &[
    "8080",
    "-1",
    "65536",
    "1.5",
    "\"8080\"",
    "small",
    "huge",
    "x-small",
    "''",
    "/healthz",
    "healthz",
    "payments-dev",
    "1Bad",
    "10.1.0.0/16",
    "[10.1.0.0/24, 10.1.1.0/24]",
    "[a]",
    "{LOG_LEVEL: debug}",
    "{LOG_LEVEL: 1}",
    "true",
    "null",
    "~",
    "${Proton::CURRENT_VAL}",
    "[1, 2, 3]",
    "{}",
    "!Ref x",
    "&a 1",
    "*a",
    "'é€😀'",
    "0x10",
    "1e400",
];

const SPEC_INPUTS: &[&str] = &[
    "port",
    "desired_count",
    "task_size",
    "image",
    "health_check_path",
    "environment_variables",
    "cluster_name",
    "vpc_cidr",
    "public_subnet_cidrs",
    "container_insights",
    "unit_test_command",
    "dockerfile",
    "prot",
    "unknown",
];

/// A spec of either kind with known and unknown inputs of any type.
fn spec_text() -> BoxedStrategy<String> {
    let inputs = prop::collection::vec((pick(SPEC_INPUTS), pick(SPEC_VALUES)), 0..6);
    let block = |indent: &'static str| {
        prop::collection::vec((pick(SPEC_INPUTS), pick(SPEC_VALUES)), 0..6).prop_map(move |kv| {
            kv.iter()
                .map(|(k, v)| format!("{indent}{k}: {v}\n"))
                .collect::<String>()
        })
    };
    let instance = (
        pick(&["payments-dev", "payments-dev", "x", "Bad Name", "", "1"]),
        pick(&["dev", "prod", "~"]),
        block("      "),
    )
        .prop_map(|(n, e, s)| format!("  - name: {n}\n    environment: {e}\n    spec:\n{s}"));
    prop_oneof![
        (
            pick(&["EnvironmentSpec", "Environmentspec", "ServiceSpec"]),
            inputs
        )
            .prop_map(|(kind, kv)| {
                let body: String = kv.iter().map(|(k, v)| format!("  {k}: {v}\n")).collect();
                format!("proton: {kind}\nspec:\n{body}")
            }),
        (
            block("  "),
            prop::collection::vec(instance, 0..4),
            any::<bool>()
        )
            .prop_map(|(pipeline, instances, with_pipeline)| {
                let mut s = String::from("proton: ServiceSpec\n");
                if with_pipeline {
                    s.push_str("pipeline:\n");
                    s.push_str(&pipeline);
                }
                s.push_str("instances:\n");
                s.extend(instances);
                s
            }),
        (
            pick(&["proton: EnvironmentSpec\n", "proton: ServiceSpec\n", ""]),
            yaml_text()
        )
            .prop_map(|(head, body)| format!("{head}{body}")),
    ]
    .boxed()
}

/// Names each role's context has (`harness::role_of`: environment, service instance,
/// pipeline, component), and a few it has not.
const JINJA_NAMES: [&[&str]; 4] = [
    &[
        "environment.inputs.cluster_name",
        "environment.inputs.public_subnet_cidrs",
        "environment.inputs.container_insights",
        "environment.inputs.ratio",
        "environment.inputs.nothing",
        "environment.inputs",
        "environment.name",
        "environment.inputs.nope",
    ],
    &[
        "environment.outputs.VpcId",
        "environment.outputs.ClusterName",
        "environment.outputs.Nope",
        "environment.name",
        "environment.account_id",
        "service.name",
        "service.branch_name",
        "service.repository_id",
        "service_instance.inputs.port",
        "service_instance.inputs.task_size",
        "service_instance.inputs.environment_variables",
        "service_instance.inputs",
        "service_instance.inputs.nope",
        "service_instance.name",
        "service_instance.environment.outputs.ClusterName",
        "service_instance.components.default.outputs.X",
    ],
    &[
        "service.name",
        "service.repository_connection_arn",
        "pipeline.inputs.unit_test_command",
        "pipeline.inputs",
        "pipeline.inputs.nope",
        "service_instances",
        "service_instances[0].name",
        "service_instances[0].outputs.ServiceURL",
        "service_instances[1].outputs.Nope",
        "service_instances[0].inputs",
        "service_instances[0].inputs.environment_variables",
        "service_instances[0].environment.name",
        "service_instances[0].environment.outputs.VpcId",
    ],
    &[
        "component.name",
        "environment.name",
        "environment.outputs.VpcId",
        "service.name",
        "service_instance.name",
        "service_instance.inputs.port",
        "service_instance.inputs.anything",
        "service_instance.inputs",
    ],
];

const JINJA_LITERALS: &[&str] = &[
    "x",
    "loop.index",
    "undefined_name",
    "1",
    "-0.5",
    "'str'",
    "\"a\\nb\"",
    "[1, 'a', none]",
    "{'k': [1, 2]}",
    "true",
    "none",
    "range(3)",
    "'a-b_c d'",
    "'%s'",
    "[[1, 2], [3]]",
];

const JINJA_FILTERS: &[&str] = &[
    "",
    "",
    "",
    "| upper",
    "| lower",
    "| tojson",
    "| string",
    "| int",
    "| float",
    "| length",
    "| join(',')",
    "| truncate(5)",
    "| default('d')",
    "| replace('-', '_')",
    "| sort",
    "| first",
    "| last",
    "| list",
    "| items",
    "| dictsort",
    "| indent(4)",
    "| trim",
    "| title",
    "| capitalize",
    "| round(2)",
    "| abs",
    "| sum",
    "| unique",
    "| reverse",
    "| proton_cfn_sanitize",
    "| proton_cfn_ecs_env_vars",
    "| proton_cfn_lambda_env_vars",
    "| proton_cfn_iam_policy_arns",
    "| format(1, 2)",
    "| batch(2) | list",
    "| map('upper')",
    "| select('even')",
    "| tojson(indent=2)",
    "| safe",
    "| escape",
    "| nope",
];

const JINJA_OPS: &[&str] = &[
    " ~ ", " + ", " - ", " * ", " / ", " // ", " % ", " ** ", " == ", " != ", " < ", " >= ",
    " and ", " or ", " in ", " not in ",
];

const JINJA_METHODS: &[&str] = &[
    ".upper()",
    ".split('-')",
    "[1:]",
    "[0]",
    "['k']",
    ".items()",
    ".startswith('p')",
    ".replace('a', 'b')",
    ".strip()",
    ".keys()",
    ".get('k', 1)",
    "[::-1]",
    " is defined",
    " is none",
    " is string",
    " is even",
    "()",
    "|attr('x')",
];

fn jinja_atom(role: usize) -> BoxedStrategy<String> {
    let name = prop_oneof![3 => select(JINJA_NAMES[role]), 1 => select(JINJA_LITERALS)];
    prop_oneof![
        3 => (name.clone(), select(JINJA_FILTERS)).prop_map(|(n, f)| format!("{n} {f}")),
        1 => (name, select(JINJA_METHODS)).prop_map(|(n, m)| format!("{n}{m}")),
    ]
    .boxed()
}

fn jinja_expr(role: usize) -> BoxedStrategy<String> {
    prop_oneof![
        6 => jinja_atom(role),
        2 => (jinja_atom(role), select(JINJA_OPS), jinja_atom(role))
            .prop_map(|(a, o, b)| format!("({a}){o}({b})")),
        1 => (jinja_atom(role), jinja_atom(role), jinja_atom(role))
            .prop_map(|(a, c, b)| format!("(({a}) if ({c}) else ({b}))")),
    ]
    .boxed()
}

/// A piece of a Jinja template for a role: text, an expression, a statement, or a block.
fn jinja_piece(role: usize) -> BoxedStrategy<String> {
    let e = move || jinja_expr(role);
    prop_oneof![
        6 => pick(&[
            "Resources:\n", "  Topic:\n    Type: AWS::SNS::Topic\n", "    Properties:\n",
            "      TopicName: ", "'", "\"", "\n", "\n", "  ", "- ", "# {{ comment }}\n",
            "      Value: !Ref X\n", "Outputs:\n  Out:\n    Value: ", "é€😀", "\t", "x",
        ]),
        6 => e().prop_map(|e| format!("{{{{ {e} }}}}")),
        2 => (e(), e(), e()).prop_map(|(c, a, b)| {
            format!("{{% if {c} %}}{{{{ {a} }}}}{{% elif {b} %}}y{{% else %}}x{{% endif %}}")
        }),
        2 => (e(), e()).prop_map(|(seq, x)| {
            format!("{{% for x in {seq} %}}{{{{ {x} }}}}-{{{{ loop.index }}}}{{% else %}}empty{{% endfor %}}")
        }),
        1 => e().prop_map(|e| format!("{{% set x = {e} %}}{{{{ x }}}}")),
        1 => e().prop_map(|e| {
            format!("{{% macro m(a, b=1) %}}{{{{ a }}}}{{{{ {e} }}}}{{% endmacro %}}{{{{ m(1) }}}}{{{{ m(b=2) }}}}")
        }),
        1 => pick(&[
            "{% raw %}{{ x }}{% endraw %}", "{% filter upper %}a{% endfilter %}",
            "{% with a = 1 %}{{ a }}{% endwith %}", "{% include 'x' %}", "{% extends 'x' %}",
            "{% block b %}{% endblock %}", "{% call m() %}x{% endcall %}",
            "{% set i = service_instance.inputs %}{{ i.port }}{{ i.nope }}",
            "{% for i in service_instances %}{{ i.outputs.X }}{{ i.environment.name }}{% endfor %}",
            "{% for k, v in service_instance.inputs.environment_variables.items() %}{{ k }}={{ v }}{% endfor %}",
            "{% macro r(n) %}{{ r(n) }}{% endmacro %}{{ r(1) }}",
            "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
            "{% for a in range(10) %}{% if a > 3 %}{% break %}{% endif %}{% continue %}{% endfor %}",
            "{{ 'x' * 100000 }}", "{{ 2 ** 64 }}", "{{ 1 / 0 }}", "{{ -9223372036854775808 // -1 }}",
            "{{- ' trimmed ' -}}", "{#- comment -#}",
        ]),
    ]
    .boxed()
}

/// Broken Jinja, at most one piece of it per template (more, and nothing would parse).
const JINJA_BROKEN: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{% if %}",
    "{% endif %}",
    "{% endfor %}",
    "{% nope %}",
    "{{ ) }}",
    "{{ a. }}",
    "{{ 'unclosed }}",
    "{{resolve:ssm:/x}}",
    "{{ x | }}",
    "{% set %}",
];

/// A template for one role, padded so that `harness::role_of` picks that role.
fn jinja_text() -> BoxedStrategy<String> {
    (0usize..4)
        .prop_flat_map(|role| {
            (
                Just(role),
                prop::collection::vec(jinja_piece(role), 0..14),
                prop::option::weighted(0.25, (any::<prop::sample::Index>(), pick(JINJA_BROKEN))),
            )
        })
        .prop_map(|(role, mut pieces, broken)| {
            if let Some((at, piece)) = broken {
                pieces.insert(at.index(pieces.len() + 1), piece);
            }
            let mut text = pieces.concat();
            while text.len() % 4 != role {
                text.push('\n');
            }
            text
        })
        .boxed()
}

const GUARD_QUERIES: &[&str] = &[
    "Resources.*",
    "Resources.*[ Type == 'AWS::S3::Bucket' ]",
    "Resources.Bucket.Properties",
    "Resources.*.Properties.Tags[*].Key",
    "Resources.*[ Type IN ['AWS::SQS::Queue', 'AWS::IAM::Role'] ]",
    "Properties.SecurityGroupIngress[ CidrIp == '0.0.0.0/0' ]",
    "Parameters.Stage.AllowedValues",
    "Resources.*.Metadata.guard",
    "%x",
    "%x[*]",
    "%x[0]",
    "this",
    "Outputs.*.Value",
    "Resources.%x",
    "Resources[ keys == /Bucket/ ]",
    "Resources.*.Properties.*",
    "%s3_buckets",
    "proctor.inputs.port",
    "Resources.Function.Properties.Timeout.'Fn::If'[1]",
];

const GUARD_VALUES: &[&str] = &[
    "'AES256'",
    "\"x\"",
    "1",
    "-2.5",
    "true",
    "null",
    "[1, 'a']",
    "{a: 1}",
    "/^arn:/",
    "/(a+)+$/",
    "/(?=x)/",
    "r[1, 10]",
    "r(0, 5)",
    "%x",
    "'é€😀'",
    "1e309",
    "/[/",
];

const GUARD_BINARY: &[&str] = &["==", "!=", "<", "<=", ">", ">=", "IN", "not IN", "!IN"];

const GUARD_UNARY: &[&str] = &[
    "exists",
    "!exists",
    "empty",
    "!empty",
    "is_string",
    "is_list",
    "is_struct",
    "is_int",
    "is_bool",
    "is_null",
    "is_float",
    "not empty",
    "not exists",
    "EXISTS",
    "NOT EXISTS",
];

fn guard_message() -> BoxedStrategy<String> {
    prop_oneof![
        12 => Just(String::new()),
        6 => Just(" << custom message {{value}} >>".to_string()),
        1 => pick(&[" <<", " << unclosed", " >>"]),
    ]
    .boxed()
}

/// A clause, and whether it may be joined to the next one with `or` (blocks may not).
fn guard_clause_of() -> BoxedStrategy<(String, bool)> {
    let access = prop_oneof![
        4 => (pick(GUARD_QUERIES), pick(GUARD_BINARY), pick(GUARD_VALUES))
            .prop_map(|(q, o, v)| format!("{q} {o} {v}")),
        3 => (pick(GUARD_QUERIES), pick(GUARD_UNARY)).prop_map(|(q, o)| format!("{q} {o}")),
        1 => (pick(GUARD_QUERIES), pick(GUARD_UNARY)).prop_map(|(q, o)| format!("some {q} {o}")),
        1 => pick(&["other_rule", "not other_rule", "r1", "r2", "!r1"]),
    ];
    let function = pick(&[
        "count(Resources.*)",
        "regex_replace(Resources.*.Type, '^AWS::(.*)$', '$1')",
        "to_upper(Resources.*.Type)",
        "to_lower(1)",
        "join(Resources.*.Type, ',')",
        "substring('abc', 1, 9)",
        "substring(Resources.*.Type, -1, 2)",
        "json_parse('{\"a\": [1]}')",
        "json_parse('{')",
        "parse_int('x')",
        "parse_int(Resources.*.Properties.Timeout)",
        "parse_float('1e400')",
        "url_decode('%zz')",
        "now()",
        "parse_epoch('2024-13-40')",
        "parse_epoch(Resources.*.Type)",
        "parse_boolean(Resources.*.Properties.*)",
        "parse_char('ab')",
        "parse_string(Resources)",
        "nope(1)",
        "count()",
        "count(1, 2)",
    ]);
    prop_oneof![
        8 => (access, guard_message()).prop_map(|(c, m)| (format!("{c}{m}"), true)),
        2 => (function, pick(GUARD_UNARY), pick(GUARD_BINARY), pick(GUARD_VALUES), any::<bool>())
            .prop_map(|(f, u, b, v, unary)| {
                let test = if unary { u.to_string() } else { format!("{b} {v}") };
                (format!("let y = {f}\n  %y {test}"), false)
            }),
        1 => (pick(GUARD_QUERIES), pick(GUARD_QUERIES), pick(GUARD_UNARY))
            .prop_map(|(q, inner, o)| (format!("{q} {{\n    {inner} {o}\n    this !empty\n  }}"), false)),
        1 => (pick(GUARD_QUERIES), pick(GUARD_UNARY))
            .prop_map(|(q, o)| (format!("when {q} {o} {{\n    Type exists\n  }}"), false)),
        1 => pick(&[
            "AWS::S3::Bucket {\n    Properties.BucketName exists\n  }",
            "AWS::SQS::Queue Properties.VisibilityTimeout >= 60",
            "Resources.*.Properties.BucketName == /(a|a)*$/",
            "Resources.*.Properties.BucketName == /(?=a)b/",
        ])
        .prop_map(|c| (c, false)),
    ]
    .boxed()
}

fn guard_clause() -> BoxedStrategy<String> {
    guard_clause_of().prop_map(|(c, _)| c).boxed()
}

fn guard_rule() -> BoxedStrategy<String> {
    let name = prop_oneof![
        16 => pick(&["r1", "r2", "other_rule", "s3_bucket_versioning_enabled"]),
        1 => pick(&["x-y", "", "rule"]),
    ];
    let when = prop_oneof![
        4 => Just(String::new()),
        4 => (pick(GUARD_QUERIES), pick(GUARD_UNARY)).prop_map(|(q, o)| format!(" when {q} {o}")),
        2 => pick(&[" when r2", " when not r1", " when %x !empty"]),
    ];
    let join = prop_oneof![4 => Just("\n  "), 1 => Just(" or\n  "), 1 => Just(" OR ")];
    (
        name,
        when,
        prop::collection::vec((guard_clause_of(), join), 1..5),
        pick(&[
            "",
            "# @id: ACME-1\n# @severity: warning\n",
            "# @severity: nope\n# @description: d\n# @docs: x\n",
        ]),
    )
        .prop_map(|(name, when, clauses, meta)| {
            let mut body = String::new();
            let mut or_ok = false;
            for ((c, can_or), j) in &clauses {
                if !body.is_empty() {
                    body.push_str(if or_ok && *can_or { j } else { "\n  " });
                }
                body.push_str(c);
                or_ok = *can_or;
            }
            format!("{meta}rule {name}{when} {{\n  {body}\n}}\n")
        })
        .boxed()
}

fn guard_text() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        6 => guard_rule(),
        3 => (pick(&["x", "y", "s3_buckets", "unused"]), pick(GUARD_QUERIES))
            .prop_map(|(n, q)| format!("let {n} = {q}\n")),
        1 => (pick(&["x", "y"]), pick(GUARD_VALUES)).prop_map(|(n, v)| format!("let {n} = {v}\n")),
        1 => guard_clause().prop_map(|c| format!("{c}\n")),
    ];
    let broken = pick(&[
        "{", "}", "[", "]", "<<", ">>", "rule", "let", "when", "%", "'", "\"", "==", "not ==",
    ]);
    (
        prop::collection::vec(piece, 0..8),
        prop::option::weighted(0.25, (any::<prop::sample::Index>(), broken)),
    )
        .prop_map(|(mut pieces, broken)| {
            if let Some((at, piece)) = broken {
                pieces.insert(at.index(pieces.len() + 1), piece);
            }
            pieces.concat()
        })
        .boxed()
}

const CFN_TYPES: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::EC2::SecurityGroup",
    "AWS::IAM::Role",
    "AWS::Lambda::Function",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::RDS::DBInstance",
    "AWS::Nope::Thing",
    "Custom::Thing",
    "AWS::CloudFormation::Stack",
    "",
    "1",
];

const CFN_VALUES: &[&str] = &[
    "!Ref A",
    "!Ref AWS::Region",
    "!Ref Nope",
    "!GetAtt A.Arn",
    "!GetAtt A",
    "!GetAtt [A, Arn]",
    "!GetAtt Nope.Arn",
    "!Sub '${A}-${AWS::AccountId}-${!Literal}'",
    "!Sub '${'",
    "!Sub [x, {y: 1}]",
    "!Join [',', [a, !Ref A]]",
    "!Join x",
    "!If [IsProd, 1, 2]",
    "!If [Nope]",
    "!Select [0, !GetAZs '']",
    "!Split [',', 'a,b']",
    "!FindInMap [M, k, v]",
    "!Base64 x",
    "!Cidr [10.0.0.0/16, 2, 8]",
    "!ImportValue x",
    "!Equals [a, b]",
    "!Not [!Condition IsProd]",
    "!And []",
    "!Or [x]",
    "!Condition IsProd",
    "!Transform {Name: x}",
    "!ToJsonString {a: 1}",
    "!Length [1]",
    "!Nope x",
    "{Ref: A}",
    "{'Fn::GetAtt': [A, Arn]}",
    "{'Fn::Sub': 1}",
    "{Ref: A, Extra: 1}",
    "[]",
    "{}",
    "1",
    "true",
    "~",
    "'str'",
    "[1, !Ref A]",
];

fn cfn_resource() -> BoxedStrategy<String> {
    (
        pick(&["A", "B", "Bucket", "bad-id", "A", "Function"]),
        pick(CFN_TYPES),
        prop::collection::vec(
            (
                pick(&[
                    "BucketName",
                    "Tags",
                    "Role",
                    "Timeout",
                    "Nope",
                    "Code",
                    "VpcId",
                    "Properties",
                ]),
                pick(CFN_VALUES),
            ),
            0..4,
        ),
        pick(&[
            "",
            "    DependsOn: B\n",
            "    DependsOn: [A, Nope]\n",
            "    Condition: IsProd\n",
            "    DeletionPolicy: Retain\n",
            "    Metadata: {guard: {SuppressedRules: [x]}}\n",
            "    Nope: 1\n",
        ]),
    )
        .prop_map(|(id, ty, props, extra)| {
            let props: String = props
                .iter()
                .map(|(k, v)| format!("      {k}: {v}\n"))
                .collect();
            format!("  {id}:\n    Type: {ty}\n{extra}    Properties:\n{props}")
        })
        .boxed()
}

/// A CloudFormation template in short form, with good and bad intrinsics and references.
fn cfn_text() -> BoxedStrategy<String> {
    (
        pick(&[
            "",
            "AWSTemplateFormatVersion: '2010-09-09'\n",
            "AWSTemplateFormatVersion: 1\n",
        ]),
        pick(&[
            "",
            "Parameters:\n  Stage: {Type: String, Default: dev}\n",
            "Parameters: []\n",
        ]),
        pick(&[
            "",
            "Conditions:\n  IsProd: !Equals [!Ref Stage, prod]\n",
            "Conditions:\n  IsProd: !Condition IsProd\n",
        ]),
        pick(&[
            "",
            "Mappings:\n  M: {k: {v: 1}}\n",
            "Transform: AWS::Serverless-2016-10-31\n",
        ]),
        prop::collection::vec(cfn_resource(), 0..5),
        pick(&[
            "",
            "Outputs:\n  O:\n    Value: !Ref A\n    Export: {Name: !Sub '${AWS::StackName}-o'}\n",
            "Outputs:\n  O: {}\n",
        ]),
    )
        .prop_map(|(version, params, conds, maps, resources, outputs)| {
            format!(
                "{version}{params}{conds}{maps}Resources:\n{}{outputs}",
                resources.concat()
            )
        })
        .boxed()
}

/// A seed file with a few random edits: bytes removed, fragments inserted, lines repeated.
fn mutated(seeds: Vec<String>, fragment: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), 0usize..40, fragment, 0u8..3);
    (select(seeds), prop::collection::vec(edit, 1..5)).prop_map(|(seed, edits)| {
        let mut text = seed;
        for (at, n, fragment, kind) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match kind {
                0 => {
                    let mut j = (i + n).min(text.len());
                    while !text.is_char_boundary(j) {
                        j -= 1;
                    }
                    text.replace_range(i..j, "");
                }
                1 => text.insert_str(i, &fragment),
                _ => {
                    let start = text[..i].rfind('\n').map_or(0, |s| s + 1);
                    let end = text[i..].find('\n').map_or(text.len(), |e| i + e + 1);
                    let line = text[start..end].to_string();
                    text.insert_str(start, &line);
                }
            }
        }
        text
    })
}

// ---------------------------------------------------------------------------------------------
// The fuzz corpora and regressions

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files under `fuzz/<folder>/<target>/`, as (target, path, bytes).
fn files(folder: &str) -> Vec<(String, PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(targets) = std::fs::read_dir(fuzz_dir().join(folder)) else {
        return out;
    };
    for target in targets.flatten() {
        let name = target.file_name().to_string_lossy().into_owned();
        let mut stack = vec![target.path()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    out.push((name.clone(), path, bytes));
                }
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn entry(target: &str) -> fn(&str) -> Vec<proctor::diag::Diagnostic> {
    match target {
        "yaml" => harness::yaml,
        "spec" => harness::spec,
        "policy" => harness::policy,
        "template" => harness::template,
        "cfn" => harness::cfn,
        other => panic!("fuzz/*/{other}: not a fuzz target"),
    }
}

/// A corpus's texts, for the mutation strategies.
fn seeds(target: &str) -> Vec<String> {
    let seeds: Vec<String> = files("corpus")
        .into_iter()
        .filter(|(t, _, _)| t == target)
        .filter_map(|(_, _, bytes)| String::from_utf8(bytes).ok())
        .collect();
    assert!(!seeds.is_empty(), "fuzz/corpus/{target} has seeds");
    seeds
}

/// Replays the files of `fuzz/<folder>/`; returns how many it replayed.
fn replay(folder: &str) -> usize {
    let files = files(folder);
    for (target, path, bytes) in &files {
        // Like the fuzz targets: only UTF-8 reaches proctor's parsers.
        if let Ok(text) = std::str::from_utf8(bytes) {
            // Shown with the panic, if there is one.
            eprintln!("replaying {}", path.display());
            let diags = entry(target)(text);
            harness::assert_sound(&diags);
            std::hint::black_box(proctor::report::sarif::render(&diags));
        } else {
            eprintln!("{}: not UTF-8, skipped", path.display());
        }
    }
    files.len()
}

#[test]
fn every_corpus_file_replays() {
    assert!(
        replay("corpus") >= 5 * 5,
        "each fuzz target has a seed corpus"
    );
}

#[test]
fn every_regression_file_replays() {
    assert!(replay("regressions") >= 6, "the fuzzers' findings are kept");
}

// ---------------------------------------------------------------------------------------------
// Properties

// Case counts keep the whole file at about half a minute in a debug build on two cores (CI);
// the cheap entry points get more cases.

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn yaml_on_any_text(text in any_text()) {
        run(harness::yaml, &text);
    }

    #[test]
    fn yaml_on_yaml_fragments(text in yaml_text()) {
        run(harness::yaml, &text);
    }

    #[test]
    fn yaml_on_mutated_seeds(text in mutated(seeds("yaml"), yaml_line())) {
        run(harness::yaml, &text);
    }

    #[test]
    fn spec_on_any_text(text in any_text()) {
        run(harness::spec, &text);
    }

    #[test]
    fn spec_on_spec_fragments(text in spec_text()) {
        run(harness::spec, &text);
    }

    #[test]
    fn spec_on_mutated_seeds(text in mutated(seeds("spec"), yaml_line())) {
        run(harness::spec, &text);
    }

    #[test]
    fn cfn_on_any_text(text in any_text()) {
        run(harness::cfn, &text);
    }

    #[test]
    fn cfn_on_mutated_seeds(text in mutated(seeds("cfn"), cfn_resource())) {
        run(harness::cfn, &text);
    }
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn template_on_jinja_fragments(text in jinja_text()) {
        run(harness::template, &text);
    }

    #[test]
    fn template_on_mutated_seeds(
        text in mutated(seeds("template"), (0usize..4).prop_flat_map(jinja_piece).boxed())
    ) {
        run(harness::template, &text);
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn template_on_any_text(text in any_text()) {
        run(harness::template, &text);
    }

    #[test]
    fn policy_rules_on_guard_fragments(text in guard_text()) {
        run(harness::policy_rules, &text);
    }

    #[test]
    fn policy_rules_on_any_text(text in any_text()) {
        run(harness::policy_rules, &text);
    }

    #[test]
    fn policy_pack_on_template_fragments(text in cfn_text()) {
        run(harness::policy_template, &text);
    }

    #[test]
    fn policy_on_mutated_seeds(text in mutated(seeds("policy"), guard_clause())) {
        run(harness::policy, &text);
    }
}

proptest! {
    #![proptest_config(config(800))]

    // The slowest: templates with many resources give many findings to render.
    #[test]
    fn cfn_on_template_fragments(text in cfn_text()) {
        run(harness::cfn, &text);
    }
}
