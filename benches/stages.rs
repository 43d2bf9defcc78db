//! Per-stage benchmarks with criterion, through the library API (no process start):
//!
//! ```text
//! cargo bench --bench stages                 # every group (about a minute and a half)
//! cargo bench --bench stages -- render       # one group (criterion's name filter)
//! cargo test --bench stages                  # smoke test: every routine once, small inputs
//! ```
//!
//! Inputs are the repository's fixtures (fixtures/workspace: the fargate-env, payments-svc and
//! log-forwarder bundles and their specs; fixtures/render; the built-in pack in policies/) and a
//! generated template: 1,002 resources (334 S3 buckets, SQS queues and security groups, each
//! failing a built-in rule, as in benches/policy_eval.rs). Without `--bench` (under
//! `cargo test --all-targets`) criterion runs each routine once, and the generated template
//! has 12 resources, so that the smoke test takes well under a second (debug build, once built).
//!
//! Groups, in pipeline order:
//! - `yaml_load`: `yaml::parse` of a spec, a schema and the generated template.
//! - `typecheck`: `spec::typecheck::check` of one set of inputs against its input type's
//!   compiled validator (environment, service instance, pipeline), and `schema::read` (convert
//!   and compile a schema's types, done once per bundle).
//! - `template_analysis`: `template::analyse::parse` + `analyse::check` of each workspace
//!   template against its bundle's namespaces (and two render fixtures).
//! - `render`: `template::render::render` of each workspace unit with a shared `Renderer`;
//!   `render_json` of two render fixtures with their context.json (it builds its own
//!   `Renderer`, so it includes `renderer_new`, also timed alone).
//! - `cfn_validate`: `cfn::parse` + `cfn::checks::check` on rendered units and on the generated
//!   template; `checks_only` leaves the parse out.
//! - `policy`: the built-in pack (`policy::builtin::load`) on the generated template:
//!   `policy::data::parse` (the data policies see), `policy::evaluate` of every rule, and
//!   `policy::check_document` (evaluation + P100 diagnostics).
//! - `pipeline`: `check::run` on fixtures/workspace and fixtures/deploy, end to end (config,
//!   discovery, bundles, specs, analysis, render, CloudFormation checks, policies).
//!
//! Criterion's `time:` line is a confidence interval of the mean; the median of each benchmark
//! is in `target/criterion/<group>/<bench>/new/estimates.json` (`median.point_estimate`, ns).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use serde_json::Value as Json;

use proctor::bundle::Role;
use proctor::limits::Limits;
use proctor::policy::{self, Target, Waivers};
use proctor::schema::{self, InputSchema, InputType};
use proctor::source::{Source, SourceFile};
use proctor::spec::{self, Spec, typecheck};
use proctor::template::analyse::{self, Namespaces, OutputNames, Usage};
use proctor::template::env::RenderLimits;
use proctor::template::render::{
    self, Context, EnvironmentFacts, InstanceFacts, Renderer, ServiceFacts, StackOutputs,
};
use proctor::yaml::{self, ParseOptions};

#[path = "support/template.rs"]
mod template;
use template::generate;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and criterion then runs
/// each routine once (its test mode). Small inputs keep that fast in a debug build.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Resources of each kind in the generated template (three kinds).
fn per_kind() -> usize {
    if benching() { 334 } else { 4 }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> Source {
    let path = root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    SourceFile::new(rel, path, text)
}

fn generated() -> Source {
    let n = per_kind();
    SourceFile::new("generated.yaml", "generated.yaml", generate(n))
}

fn generated_name() -> String {
    format!("generated-{}", 3 * per_kind())
}

fn bytes(s: &Source) -> Throughput {
    Throughput::Bytes(s.text().len() as u64)
}

/// The workspace's two schemas, specs and templates, read and checked once.
struct Workspace {
    env_schema: InputSchema,
    svc_schema: InputSchema,
    dev: Spec,
    payments: Spec,
    env_template: Source,
    instance_template: Source,
    pipeline_template: Source,
    component_template: Source,
}

fn read_schema(rel: &str) -> InputSchema {
    let source = fixture(rel);
    let mut diags = Vec::new();
    let root = yaml::parse(&source, &Limits::default().yaml(), &mut diags).expect("schema parses");
    let schema = schema::read(&source, &root, &mut diags).expect("schema reads");
    assert!(diags.is_empty(), "{rel}: {diags:?}");
    schema
}

fn read_spec(rel: &str) -> Spec {
    let source = fixture(rel);
    let mut diags = Vec::new();
    let spec = spec::read(&source, &Limits::default(), &mut diags).expect("spec reads");
    assert!(diags.is_empty(), "{rel}: {diags:?}");
    spec
}

impl Workspace {
    fn load() -> Self {
        let t = "fixtures/workspace/templates";
        Workspace {
            env_schema: read_schema(&format!("{t}/fargate-env/v1/schema/schema.yaml")),
            svc_schema: read_schema(&format!("{t}/payments-svc/v1/schema/schema.yaml")),
            dev: read_spec("fixtures/workspace/specs/dev.yaml"),
            payments: read_spec("fixtures/workspace/specs/payments.yaml"),
            env_template: fixture(&format!(
                "{t}/fargate-env/v1/infrastructure/cloudformation.yaml"
            )),
            instance_template: fixture(&format!(
                "{t}/payments-svc/v1/instance_infrastructure/cloudformation.yaml"
            )),
            pipeline_template: fixture(&format!(
                "{t}/payments-svc/v1/pipeline_infrastructure/cloudformation.yaml"
            )),
            component_template: fixture(&format!("{t}/log-forwarder/cloudformation.yaml")),
        }
    }

    fn env_type(&self) -> &InputType {
        let r = self.env_schema.environment_input_type.as_ref().unwrap();
        self.env_schema.get_type(r).unwrap()
    }

    fn service_type(&self) -> &InputType {
        let r = self.svc_schema.service_input_type.as_ref().unwrap();
        self.svc_schema.get_type(r).unwrap()
    }

    fn pipeline_type(&self) -> &InputType {
        let r = self.svc_schema.pipeline_input_type.as_ref().unwrap();
        self.svc_schema.get_type(r).unwrap()
    }

    /// Effective inputs of dev, of each payments instance, and of the payments pipeline.
    fn effective(&self) -> (Json, Vec<(String, Json)>, Json) {
        let mut diags = Vec::new();
        let env = typecheck::check(
            &self.dev.source,
            self.dev.environment_inputs.as_ref().unwrap(),
            self.env_type(),
            &self.env_schema.source,
            &mut diags,
        );
        let instances = self
            .payments
            .instances
            .iter()
            .map(|i| {
                let inputs = typecheck::check(
                    &self.payments.source,
                    &i.inputs,
                    self.service_type(),
                    &self.svc_schema.source,
                    &mut diags,
                );
                (i.name.clone(), inputs)
            })
            .collect();
        let pipeline = typecheck::check(
            &self.payments.source,
            self.payments.pipeline.as_ref().unwrap(),
            self.pipeline_type(),
            &self.svc_schema.source,
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        (env, instances, pipeline)
    }

    fn outputs(template: &Source, from: &str) -> OutputNames {
        analyse::declared_outputs(template.text(), from)
    }

    /// What each workspace template may reference, as `template::stage` builds it.
    fn namespaces(&self, role: Role) -> Namespaces {
        let names = |ty: &InputType| Some(ty.properties.clone());
        match role {
            Role::Environment => Namespaces {
                environment_inputs: names(self.env_type()),
                ..Default::default()
            },
            Role::ServiceInstance | Role::Pipeline => Namespaces {
                service_inputs: names(self.service_type()),
                pipeline_inputs: names(self.pipeline_type()),
                environment_outputs: Some(Self::outputs(&self.env_template, "fargate-env:1")),
                instance_outputs: Some(Self::outputs(
                    &self.instance_template,
                    "payments-svc:1 (instance template)",
                )),
                ..Default::default()
            },
            Role::Component => Namespaces::default(),
        }
    }

    fn templates(&self) -> [(&'static str, Role, &Source); 4] {
        [
            ("fargate-env", Role::Environment, &self.env_template),
            (
                "payments-svc-instance",
                Role::ServiceInstance,
                &self.instance_template,
            ),
            (
                "payments-svc-pipeline",
                Role::Pipeline,
                &self.pipeline_template,
            ),
            (
                "log-forwarder-component",
                Role::Component,
                &self.component_template,
            ),
        ]
    }
}

fn analyse(source: &Source, role: Role, ns: &Namespaces) -> (Option<Usage>, usize) {
    let mut diags = Vec::new();
    let usage = analyse::parse(source, &mut diags)
        .map(|ast| analyse::check(source, &ast, role, ns, &mut diags));
    (usage, diags.len())
}

fn yaml_load(c: &mut Criterion) {
    let spec = fixture("fixtures/workspace/specs/payments.yaml");
    let schema = fixture("fixtures/workspace/templates/payments-svc/v1/schema/schema.yaml");
    let large = generated();
    let input_opts = Limits::default().yaml();
    let template_opts = ParseOptions::default();

    let mut g = c.benchmark_group("yaml_load");
    for (name, source, opts) in [
        ("spec/payments".to_string(), &spec, &input_opts),
        ("schema/payments-svc".to_string(), &schema, &input_opts),
        (generated_name(), &large, &template_opts),
    ] {
        g.throughput(bytes(source));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut diags = Vec::new();
                let node = yaml::parse(black_box(source), opts, &mut diags);
                assert!(node.is_some());
                node
            })
        });
    }
    g.finish();
}

fn typecheck_group(c: &mut Criterion) {
    let ws = Workspace::load();
    let mut g = c.benchmark_group("typecheck");
    let check = |spec: &Spec, inputs: &spec::Inputs, ty: &InputType, schema: &InputSchema| {
        let mut diags = Vec::new();
        let effective = typecheck::check(
            &spec.source,
            black_box(inputs),
            ty,
            &schema.source,
            &mut diags,
        );
        debug_assert!(diags.is_empty());
        effective
    };
    g.bench_function("environment/dev", |b| {
        let inputs = ws.dev.environment_inputs.as_ref().unwrap();
        b.iter(|| check(&ws.dev, inputs, ws.env_type(), &ws.env_schema))
    });
    g.bench_function("service_instance/payments-dev", |b| {
        let inputs = &ws.payments.instances[0].inputs;
        b.iter(|| check(&ws.payments, inputs, ws.service_type(), &ws.svc_schema))
    });
    g.bench_function("pipeline/payments", |b| {
        let inputs = ws.payments.pipeline.as_ref().unwrap();
        b.iter(|| check(&ws.payments, inputs, ws.pipeline_type(), &ws.svc_schema))
    });
    // Once per bundle, not per spec: convert each type to JSON Schema and compile it.
    let schema_src = ws.svc_schema.source.clone();
    let schema_root = yaml::parse(&schema_src, &Limits::default().yaml(), &mut Vec::new()).unwrap();
    g.bench_function("schema_read_compile/payments-svc", |b| {
        b.iter(|| schema::read(&schema_src, black_box(&schema_root), &mut Vec::new()).unwrap())
    });
    g.finish();
}

fn template_analysis(c: &mut Criterion) {
    let ws = Workspace::load();
    let mut g = c.benchmark_group("template_analysis");
    for (name, role, source) in ws.templates() {
        let ns = ws.namespaces(role);
        let (usage, diags) = analyse(source, role, &ns);
        assert!(usage.is_some() && diags == 0, "{name}: {diags} diagnostics");
        g.throughput(bytes(source));
        g.bench_function(name, |b| b.iter(|| analyse(black_box(source), role, &ns)));
    }
    // Fixtures written for the render tests: the longest ones, analysed without a schema.
    for name in ["ecs-fargate-service", "pipeline-codebuild"] {
        let source = fixture(&format!("fixtures/render/{name}/template.yaml"));
        let role = if name.starts_with("pipeline") {
            Role::Pipeline
        } else {
            Role::ServiceInstance
        };
        let ns = Namespaces::default();
        g.throughput(bytes(&source));
        g.bench_function(format!("render-fixture/{name}"), |b| {
            b.iter(|| analyse(black_box(&source), role, &ns))
        });
    }
    g.finish();
}

/// The workspace units with their contexts and analysed templates, as `template::stage` renders
/// them. Environment outputs are placeholders (nothing deployed).
type Units = Vec<(&'static str, Source, Usage, Context)>;

fn units(ws: &Workspace) -> Units {
    let (env_inputs, instances, pipeline_inputs) = ws.effective();
    let env_declared: Vec<String> = Workspace::outputs(&ws.env_template, "")
        .names
        .into_iter()
        .collect();
    let instance_declared: Vec<String> = Workspace::outputs(&ws.instance_template, "")
        .names
        .into_iter()
        .collect();
    let env_facts = |name: &str, account: &str| EnvironmentFacts {
        name: name.into(),
        account_id: Some(account.into()),
        outputs: StackOutputs {
            path: "environment.outputs".into(),
            known: Vec::new(),
            declared: Some(env_declared.clone()),
        },
    };
    let service = ServiceFacts {
        name: "payments".into(),
        branch_name: Some("main".into()),
        repository_connection_arn: Some(
            "arn:aws:codestar-connections:eu-west-1:111122223333:connection/6f0e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b".into(),
        ),
        repository_id: Some("acme/payments".into()),
    };
    let usage = |source: &Source, role: Role| {
        let (usage, diags) = analyse(source, role, &ws.namespaces(role));
        assert_eq!(diags, 0);
        usage.unwrap()
    };
    let environment = Context::Environment {
        environment: env_facts("dev", "111122223333"),
        inputs: env_inputs,
    };
    let instance = Context::ServiceInstance {
        environment: env_facts("dev", "111122223333"),
        service: service.clone(),
        instance: instances[0].0.clone(),
        inputs: instances[0].1.clone(),
    };
    let accounts = ["111122223333", "444455556666"];
    let envs = ["dev", "prod"];
    let pipeline = Context::Pipeline {
        service,
        inputs: pipeline_inputs,
        instances: instances
            .iter()
            .enumerate()
            .map(|(i, (name, inputs))| InstanceFacts {
                name: name.clone(),
                inputs: inputs.clone(),
                outputs: StackOutputs {
                    path: format!("service_instances[{name}].outputs"),
                    known: Vec::new(),
                    declared: Some(instance_declared.clone()),
                },
                environment: env_facts(envs[i % 2], accounts[i % 2]),
            })
            .collect(),
    };
    vec![
        (
            "environment/dev",
            ws.env_template.clone(),
            usage(&ws.env_template, Role::Environment),
            environment,
        ),
        (
            "service_instance/payments-dev",
            ws.instance_template.clone(),
            usage(&ws.instance_template, Role::ServiceInstance),
            instance,
        ),
        (
            "pipeline/payments",
            ws.pipeline_template.clone(),
            usage(&ws.pipeline_template, Role::Pipeline),
            pipeline,
        ),
    ]
}

fn render_unit(
    renderer: &Renderer,
    template: &Source,
    usage: &Usage,
    ctx: &Context,
    label: &str,
) -> String {
    render::render(renderer, template, usage, ctx, None, label)
        .unwrap_or_else(|d| panic!("{label}: {d:?}"))
}

fn render_group(c: &mut Criterion) {
    let ws = Workspace::load();
    let units = units(&ws);
    let renderer = Renderer::new(RenderLimits::default());
    let mut g = c.benchmark_group("render");
    // Once per run (the stage shares one renderer), but `render_json` pays it on every call.
    g.bench_function("renderer_new", |b| {
        b.iter(|| Renderer::new(black_box(RenderLimits::default())))
    });
    for (name, template, usage, ctx) in &units {
        g.throughput(bytes(template));
        g.bench_function(*name, |b| {
            b.iter(|| render_unit(&renderer, black_box(template), usage, ctx, name))
        });
    }
    for name in ["ecs-fargate-service", "pipeline-codebuild"] {
        let template = fixture(&format!("fixtures/render/{name}/template.yaml"));
        let ctx: Json = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("fixtures/render/{name}/context.json")))
                .expect("context.json is readable"),
        )
        .expect("context.json is JSON");
        let limits = RenderLimits::default();
        render::render_json(&template, &ctx, &limits).expect("the fixture renders");
        g.throughput(bytes(&template));
        g.bench_function(format!("render_json/{name}"), |b| {
            b.iter(|| render::render_json(black_box(&template), &ctx, &limits).unwrap())
        });
    }
    g.finish();
}

fn cfn_validate(c: &mut Criterion) {
    let ws = Workspace::load();
    let units = units(&ws);
    let renderer = Renderer::new(RenderLimits::default());
    let mut sources: Vec<(String, Source)> = units
        .iter()
        .map(|(name, template, usage, ctx)| {
            let text = render_unit(&renderer, template, usage, ctx, name);
            (
                format!("rendered/{name}"),
                SourceFile::new(*name, *name, text),
            )
        })
        .collect();
    sources.push((generated_name(), generated()));

    let parse_check = |source: &Source| {
        let mut diags = Vec::new();
        if let Some(root) = proctor::cfn::parse(source, &mut diags) {
            proctor::cfn::checks::check(source, &root, &mut diags);
        }
        diags
    };
    let mut g = c.benchmark_group("cfn_validate");
    for (name, source) in &sources {
        g.throughput(bytes(source));
        g.bench_function(name.as_str(), |b| b.iter(|| parse_check(black_box(source))));
    }
    let (name, large) = sources.last().unwrap();
    let root = proctor::cfn::parse(large, &mut Vec::new()).expect("the generated template parses");
    g.bench_function(format!("checks_only/{name}"), |b| {
        b.iter(|| {
            let mut diags = Vec::new();
            proctor::cfn::checks::check(large, black_box(&root), &mut diags);
            diags
        })
    });
    g.finish();
}

fn policy_group(c: &mut Criterion) {
    let large = generated();
    let data = proctor::policy::data::parse(&large, &mut Vec::new())
        .expect("the generated template parses");
    let policies = policy::builtin::load(&proctor::limits::Limits::default());
    assert!(!policies.is_empty());
    let waivers = Waivers::default();
    let target = Target {
        deployment: "generated.yaml",
        waivers: &waivers,
        verdicts: None,
        locate: &|_| None,
        fallback: None,
    };
    let name = generated_name();

    let mut g = c.benchmark_group("policy");
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("load_builtin_pack", |b| {
        b.iter(|| policy::builtin::load(&proctor::limits::Limits::default()))
    });
    g.throughput(bytes(&large));
    g.bench_function(format!("policy_data_parse/{name}"), |b| {
        b.iter(|| proctor::policy::data::parse(black_box(&large), &mut Vec::new()))
    });
    g.bench_function(format!("evaluate/{name}"), |b| {
        b.iter(|| {
            policies
                .iter()
                .map(|p| policy::evaluate(p, black_box(&data)).1.len())
                .sum::<usize>()
        })
    });
    g.bench_function(format!("check_document/{name}"), |b| {
        b.iter(|| policy::check_document(&policies, &large, black_box(&data), &target))
    });
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("pipeline");
    g.sampling_mode(SamplingMode::Flat);
    for name in ["workspace", "deploy"] {
        let opts = proctor::check::CheckOptions {
            cwd: root().join("fixtures").join(name),
            ..Default::default()
        };
        let outcome = proctor::check::run(&opts).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(!outcome.rendered.is_empty(), "{name}: nothing rendered");
        g.bench_function(format!("check_run/{name}"), |b| {
            b.iter(|| proctor::check::run(black_box(&opts)).unwrap())
        });
    }
    g.finish();
}

fn config() -> Criterion {
    // About 3 s per benchmark: `cargo bench --bench stages` stays well under two minutes on
    // two cores. Command-line options (`--sample-size`, `--measurement-time`) override these:
    // `criterion_group!` applies `configure_from_args` to this.
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = stages;
    config = config();
    targets = yaml_load, typecheck_group, template_analysis, render_group, cfn_validate, policy_group, pipeline
}
criterion_main!(stages);
