//! The entry points the fuzz targets drive, one function each, on fixed inputs read once from
//! the repository's fixtures. `tests/property.rs` includes this file as a module (`#[path]`),
//! so that the bounded property run and the fuzzers exercise exactly the same calls.
//!
//! Each function returns every diagnostic it produced; [`assert_sound`] is what must hold of
//! them (a location for each, and reporters that render them without panicking).

use std::ops::Range;
use std::sync::LazyLock;

use serde_json::{Value as Json, json};

use proctor::bundle::Role;
use proctor::diag::Diagnostic;
use proctor::limits::Limits;
use proctor::policy::{self, Policy, Target, Waivers};
use proctor::schema::{self, InputSchema, InputType};
use proctor::source::{Source, SourceFile};
use proctor::spec::{self, typecheck};
use proctor::template::analyse::{self, Namespaces};
use proctor::template::render::{
    self, Context, EnvironmentFacts, InstanceFacts, Renderer, ServiceFacts, StackOutputs,
};
use proctor::yaml::{self, ParseOptions};

const ENV_SCHEMA: &str =
    include_str!("../../fixtures/workspace/templates/fargate-env/v1/schema/schema.yaml");
const SVC_SCHEMA: &str =
    include_str!("../../fixtures/workspace/templates/payments-svc/v1/schema/schema.yaml");
const ENV_TEMPLATE: &str = include_str!(
    "../../fixtures/workspace/templates/fargate-env/v1/infrastructure/cloudformation.yaml"
);
const INSTANCE_TEMPLATE: &str = include_str!(
    "../../fixtures/workspace/templates/payments-svc/v1/instance_infrastructure/cloudformation.yaml"
);
/// The document fuzzed rule files are evaluated on: many resource types, intrinsics in short
/// form, nested maps and lists, numbers and booleans.
const POLICY_TEMPLATE: &str = include_str!("../../fixtures/cfn/valid/api-lambda.yaml");
const POLICY_TEMPLATE_EXTRA: &str = "  \
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Metadata:
      guard:
        SuppressedRules: [s3_bucket_versioning_enabled]
    Properties:
      BucketName: !Sub 'assets-${Stage}-${AWS::AccountId}'
      VersioningConfiguration: {Status: Enabled}
      Tags:
        - {Key: owner, Value: storefront-team}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 120
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  Dlq:
    Type: AWS::SQS::Queue
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 0.0.0.0/0}
        - {IpProtocol: '-1', CidrIpv6: '::/0'}
";

/// Everything fixed, built once per process.
struct Fixed {
    env_schema: InputSchema,
    svc_schema: InputSchema,
    renderer: Renderer,
    env_outputs: analyse::OutputNames,
    instance_outputs: analyse::OutputNames,
    policy_source: Source,
    policy_root: yaml::Node,
    builtin: Vec<Policy>,
}

static FIXED: LazyLock<Fixed> = LazyLock::new(Fixed::load);

fn read_schema(name: &str, text: &str) -> InputSchema {
    let source = SourceFile::new(name, name, text.to_string());
    let mut diags = Vec::new();
    let root = yaml::parse(&source, &Limits::default().yaml(), &mut diags).expect("schema parses");
    let schema = schema::read(&source, &root, &mut diags).expect("schema reads");
    assert!(diags.is_empty(), "{name}: {diags:?}");
    schema
}

impl Fixed {
    fn load() -> Self {
        let text =
            POLICY_TEMPLATE.replace("Outputs:\n", &format!("{POLICY_TEMPLATE_EXTRA}Outputs:\n"));
        let policy_source = SourceFile::new("fixed-template.yaml", "fixed-template.yaml", text);
        let mut diags = Vec::new();
        let policy_root = proctor::policy::data::parse(&policy_source, &mut diags)
            .expect("the fixed template parses");
        assert!(diags.is_empty(), "{diags:?}");
        Fixed {
            env_schema: read_schema("fargate-env/v1/schema/schema.yaml", ENV_SCHEMA),
            svc_schema: read_schema("payments-svc/v1/schema/schema.yaml", SVC_SCHEMA),
            renderer: Renderer::new(Limits::default().render()),
            env_outputs: analyse::declared_outputs(ENV_TEMPLATE, "fargate-env:1"),
            instance_outputs: analyse::declared_outputs(
                INSTANCE_TEMPLATE,
                "payments-svc:1 (instance template)",
            ),
            policy_source,
            policy_root,
            builtin: policy::builtin::load(&Limits::default()),
        }
    }

    fn env_type(&self) -> &InputType {
        let r = self
            .env_schema
            .environment_input_type
            .as_ref()
            .expect("environment type");
        self.env_schema.get_type(r).expect("environment type")
    }

    fn service_type(&self) -> &InputType {
        let r = self
            .svc_schema
            .service_input_type
            .as_ref()
            .expect("service type");
        self.svc_schema.get_type(r).expect("service type")
    }

    fn pipeline_type(&self) -> &InputType {
        let r = self
            .svc_schema
            .pipeline_input_type
            .as_ref()
            .expect("pipeline type");
        self.svc_schema.get_type(r).expect("pipeline type")
    }
}

/// Builds the fixed inputs now, so that a fuzzer's first execution is not the slow one.
pub fn init() {
    LazyLock::force(&FIXED);
}

fn source(name: &str, text: &str) -> Source {
    SourceFile::new(name, name, text.to_string())
}

/// `yaml::parse` with the options of input files (specs, schemas, manifests) and with those
/// of policy data (cfn-guard's scalars), then the JSON view of what parsed.
pub fn yaml(text: &str) -> Vec<Diagnostic> {
    let src = source("fuzz.yaml", text);
    let mut diags = Vec::new();
    let guard = ParseOptions {
        guard_scalars: true,
        ..ParseOptions::default()
    };
    for opts in [Limits::default().yaml(), guard] {
        if let Some(node) = yaml::parse(&src, &opts, &mut diags) {
            std::hint::black_box(node.to_json());
        }
    }
    diags
}

/// `spec::read`, then `spec::typecheck::check` of every set of inputs against the workspace's
/// input types (fargate-env for an EnvironmentSpec, payments-svc for a ServiceSpec).
pub fn spec(text: &str) -> Vec<Diagnostic> {
    let fixed = &*FIXED;
    let src = source("specs/fuzz.yaml", text);
    let mut diags = Vec::new();
    let Some(spec) = spec::read(&src, &Limits::default(), &mut diags) else {
        return diags;
    };
    let mut check = |inputs: &spec::Inputs, ty: &InputType, schema: &InputSchema| {
        std::hint::black_box(typecheck::check(
            &spec.source,
            inputs,
            ty,
            &schema.source,
            &mut diags,
        ));
    };
    if let Some(inputs) = &spec.environment_inputs {
        check(inputs, fixed.env_type(), &fixed.env_schema);
    }
    if let Some(inputs) = &spec.pipeline {
        check(inputs, fixed.pipeline_type(), &fixed.svc_schema);
    }
    for instance in &spec.instances {
        check(&instance.inputs, fixed.service_type(), &fixed.svc_schema);
    }
    diags
}

fn target<'a>(waivers: &'a Waivers, locate: &'a policy::Locate<'a>) -> Target<'a> {
    Target {
        deployment: "fuzz",
        waivers,
        verdicts: None,
        locate,
        fallback: None,
    }
}

/// The text as a rule file: parse, load-time checks and, when those pass, evaluation on the
/// fixed template (`policy::check_document`).
pub fn policy_rules(text: &str) -> Vec<Diagnostic> {
    let fixed = &*FIXED;
    let src = source("policies/fuzz.guard", text);
    let mut diags = Vec::new();
    let Some(file) = policy::lower::parse(&src, &mut diags) else {
        return diags;
    };
    let lints = policy::lints::check(&file, &src);
    let runs = !lints
        .iter()
        .any(|d| d.severity == proctor::diag::Severity::Error);
    diags.extend(lints);
    if runs {
        let policies = [Policy::new(src, file, &Limits::default())];
        let waivers = Waivers::default();
        let locate = |_: &Range<usize>| None;
        diags.extend(policy::check_document(
            &policies,
            &fixed.policy_source,
            &fixed.policy_root,
            &target(&waivers, &locate),
        ));
    }
    diags
}

/// The text as a template: parsed as policies see it and checked by the built-in pack.
pub fn policy_template(text: &str) -> Vec<Diagnostic> {
    let fixed = &*FIXED;
    let src = source("template.yaml", text);
    let mut diags = Vec::new();
    let Some(root) = proctor::policy::data::parse(&src, &mut diags) else {
        return diags;
    };
    let waivers = Waivers::default();
    let locate = |_: &Range<usize>| None;
    diags.extend(policy::check_document(
        &fixed.builtin,
        &src,
        &root,
        &target(&waivers, &locate),
    ));
    diags
}

/// The policy target: the text as a rule file, then as a template.
pub fn policy(text: &str) -> Vec<Diagnostic> {
    let mut diags = policy_rules(text);
    diags.extend(policy_template(text));
    diags
}

fn env_facts(name: &str, account: &str, declared: &analyse::OutputNames) -> EnvironmentFacts {
    EnvironmentFacts {
        name: name.into(),
        account_id: Some(account.into()),
        outputs: StackOutputs {
            path: "environment.outputs".into(),
            known: vec![("VpcId".into(), "vpc-0abc".into())],
            declared: Some(declared.names.iter().cloned().collect()),
        },
    }
}

fn service_facts() -> ServiceFacts {
    ServiceFacts {
        name: "payments".into(),
        branch_name: Some("main".into()),
        repository_connection_arn: Some(
            "arn:aws:codestar-connections:eu-west-1:111122223333:connection/6f0e1a2b".into(),
        ),
        repository_id: Some("acme/payments".into()),
    }
}

fn instance_inputs() -> Json {
    json!({
        "port": 8080, "desired_count": 1, "task_size": "small",
        "image": "public.ecr.aws/nginx/nginx:stable", "health_check_path": "/healthz",
        "environment_variables": {"LOG_LEVEL": "debug", "MULTI": "a\nb"},
    })
}

/// The role a fuzzed template is analysed and rendered for: chosen by the text's length, so
/// that every role is reached from every seed by a mutation that adds or removes bytes.
pub fn role_of(text: &str) -> Role {
    match text.len() % 4 {
        0 => Role::Environment,
        1 => Role::ServiceInstance,
        2 => Role::Pipeline,
        _ => Role::Component,
    }
}

fn context(role: Role, fixed: &Fixed) -> (Namespaces, Context) {
    let names = |ty: &InputType| Some(ty.properties.clone());
    match role {
        Role::Environment => (
            Namespaces {
                environment_inputs: names(fixed.env_type()),
                ..Default::default()
            },
            Context::Environment {
                environment: env_facts("dev", "111122223333", &fixed.env_outputs),
                inputs: json!({
                    "cluster_name": "payments-dev", "vpc_cidr": "10.1.0.0/16",
                    "public_subnet_cidrs": ["10.1.0.0/24", "10.1.1.0/24"],
                    "container_insights": true, "ratio": 0.5, "nothing": null,
                }),
            },
        ),
        Role::ServiceInstance | Role::Pipeline => {
            let ns = Namespaces {
                service_inputs: names(fixed.service_type()),
                pipeline_inputs: names(fixed.pipeline_type()),
                environment_outputs: Some(fixed.env_outputs.clone()),
                instance_outputs: Some(fixed.instance_outputs.clone()),
                ..Default::default()
            };
            let ctx = if role == Role::Pipeline {
                Context::Pipeline {
                    service: service_facts(),
                    inputs: json!({"unit_test_command": "make test", "dockerfile": "Dockerfile"}),
                    instances: ["payments-dev", "payments-prod"]
                        .iter()
                        .map(|name| InstanceFacts {
                            name: (*name).into(),
                            inputs: instance_inputs(),
                            outputs: StackOutputs {
                                path: format!("service_instances[{name}].outputs"),
                                known: Vec::new(),
                                declared: Some(
                                    fixed.instance_outputs.names.iter().cloned().collect(),
                                ),
                            },
                            environment: env_facts("dev", "111122223333", &fixed.env_outputs),
                        })
                        .collect(),
                }
            } else {
                Context::ServiceInstance {
                    environment: env_facts("dev", "111122223333", &fixed.env_outputs),
                    service: service_facts(),
                    instance: "payments-dev".into(),
                    inputs: instance_inputs(),
                }
            };
            (ns, ctx)
        }
        Role::Component => (
            Namespaces::default(),
            Context::Component {
                name: "log-forwarder".into(),
                environment: env_facts("dev", "111122223333", &fixed.env_outputs),
                service: "payments".into(),
                instance: "payments-dev".into(),
                instance_inputs: StackOutputs {
                    path: "service_instance.inputs".into(),
                    known: vec![("port".into(), "8080".into())],
                    declared: None,
                },
            },
        ),
    }
}

/// `template::analyse` (parse and check against the role's namespaces), then, whenever it
/// parses, `template::render::render` with the role's fixed context; a rendered text is
/// mapped back to the template (`render::source_map`) and read as CloudFormation, as the
/// templates stage does.
pub fn template(text: &str) -> Vec<Diagnostic> {
    let fixed = &*FIXED;
    let src = source("templates/fuzz/cloudformation.yaml", text);
    let role = role_of(text);
    let (ns, ctx) = context(role, fixed);
    let mut diags = Vec::new();
    std::hint::black_box(analyse::declared_outputs(text, "fuzz"));
    let Some(ast) = analyse::parse(&src, &mut diags) else {
        return diags;
    };
    let usage = analyse::check(&src, &ast, role, &ns, &mut diags);
    match render::render(&fixed.renderer, &src, &usage, &ctx, None, "unit `fuzz`") {
        Ok(rendered) => {
            if let Some(map) = render::source_map(&fixed.renderer, &src, &ctx) {
                let len = rendered.len();
                for span in [0..len, 0..len / 2, len / 3..len, len..len] {
                    std::hint::black_box(map.template_span(&span));
                }
            }
            let out = source("rendered/fuzz.yaml", &rendered);
            if let Some(root) = proctor::cfn::parse(&out, &mut diags) {
                proctor::cfn::checks::check(&out, &root, &mut diags);
            }
        }
        Err(found) => diags.extend(found),
    }
    diags
}

/// `cfn::parse` (short forms to long form) and `cfn::checks::check`.
pub fn cfn(text: &str) -> Vec<Diagnostic> {
    let src = source("template.yaml", text);
    let mut diags = Vec::new();
    std::hint::black_box(proctor::cfn::looks_like_template(text));
    if let Some(root) = proctor::cfn::parse(&src, &mut diags) {
        proctor::cfn::checks::check(&src, &root, &mut diags);
    }
    diags
}

fn check_diagnostic(d: &Diagnostic) {
    assert!(
        d.primary.is_some(),
        "[{}] {}: diagnostic without a location",
        d.code.id,
        d.message
    );
    for r in &d.related {
        check_diagnostic(r);
    }
}

/// What must hold of the diagnostics of every entry point: each (and each related one) has a
/// location, and the human, JSON, GitHub and JUnit reporters render them (SARIF writes its
/// whole rule table each time, which would cut the fuzzers' speed tenfold; tests/property.rs
/// renders it). Spans are not required to lie inside their
/// file: the reporters clamp them (a syntax error at the end of a file points one byte past
/// it, and policy findings on the `proctor` root key lie past the rendered text by design).
pub fn assert_sound(diags: &[Diagnostic]) {
    use proctor::report::{github, human, json, junit};
    for d in diags {
        check_diagnostic(d);
    }
    std::hint::black_box(human::render(diags, human::HumanOptions::default()));
    std::hint::black_box(json::render(diags));
    std::hint::black_box(github::render(diags));
    std::hint::black_box(junit::render(diags));
}
