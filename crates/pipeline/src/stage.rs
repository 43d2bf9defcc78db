//! The templates stage of `proctor check`: analyse every template of the checked bundles,
//! then render every deployment unit (environments first, so that service instances see their
//! environment's known outputs, then instances, then pipelines). Bundles that no spec uses
//! are rendered with inputs synthesized from their schema.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::LazyLock;

use rayon::prelude::*;
use regex::Regex;
use serde_json::Value as Json;

use crate::template::analyse::{self, Namespaces, OutputNames, Usage};
use crate::template::render::{
    self, Context, EnvironmentFacts, InputOrigin, InstanceFacts, ServiceFacts, StackOutputs,
};
use crate::bundle::{Bundle, BundleKind, Engine, Role};
use crate::unit::{Rendered, Unit, UnitKind};
use crate::config::Config;
use crate::diag::{Diagnostic, codes};
use crate::limits::Limits;
use crate::schema::InputType;
use crate::schema::sample::synthesize;
use crate::files::read_source;
use crate::source::Source;

/// One template of a bundle, read and analysed.
struct Analysed {
    bundle: usize,
    role: Role,
    source: Source,
    /// `None` when the template does not parse (reported).
    usage: Option<Usage>,
}

#[derive(Debug, Default)]
pub struct StageOutcome {
    pub diagnostics: Vec<Diagnostic>,
    pub rendered: Vec<Rendered>,
    pub files: usize,
}

/// Runs the stage over `bundles` (the ones this run checks) and `units`. `related` are other
/// loaded bundles (environment templates that services declare compatible). `broken[i]` says
/// that bundle `i` has errors of its own: it is analysed but not rendered, since its render
/// errors would only repeat them. `deployed` gives the outputs of stacks already applied.
#[allow(clippy::too_many_arguments)]
pub fn run(
    bundles: &[&Bundle],
    broken: &[bool],
    related: &[&Bundle],
    units: &[Unit],
    config: Option<&Config>,
    limits: &Limits,
    enforce: &crate::policy::Enforcement,
    deployed: &crate::state::State,
) -> StageOutcome {
    let mut out = StageOutcome::default();
    let render_limits = limits.render();

    // Analyse every Jinja CloudFormation template.
    let jobs: Vec<(usize, Role, &crate::bundle::TemplateFile)> = bundles
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            b.infrastructure.iter().flat_map(move |inf| {
                inf.templates
                    .iter()
                    .filter(|t| t.engine == Engine::JinjaCloudFormation && t.path.is_some())
                    .map(move |t| (i, inf.role, t))
            })
        })
        .collect();
    let analysed: Vec<(Option<Analysed>, Vec<Diagnostic>)> = jobs
        .par_iter()
        .map(|&(i, role, t)| {
            let mut diags = Vec::new();
            let a = analyse_template(bundles[i], i, role, t, bundles, related, limits, &mut diags);
            (a, diags)
        })
        .collect();
    let mut templates = Vec::new();
    for (a, diags) in analysed {
        out.diagnostics.extend(diags);
        if let Some(a) = a {
            out.files += 1;
            templates.push(a);
        }
    }
    for (i, b) in bundles.iter().enumerate() {
        unused_inputs(
            b,
            templates.iter().filter(|t| t.bundle == i),
            &mut out.diagnostics,
        );
    }

    // Render, in dependency order.
    let renderer = render::Renderer::new(render_limits);
    let find = |bundle: &str, role: Role| -> Option<&Analysed> {
        let bi = bundles.iter().position(|b| b.display == bundle)?;
        if broken.get(bi).copied().unwrap_or(false) {
            return None;
        }
        templates
            .iter()
            .find(|t| t.bundle == bi && t.role == role && t.usage.is_some())
    };
    let mut units: Vec<Unit> = units.to_vec();
    units.extend(synthesized_units(bundles, &units));

    let render_unit = |u: &Unit, ctx: Context, role: Role| -> Option<(Rendered, Vec<Diagnostic>)> {
        // A failpoint for the tests of E001, in debug builds only: PROCTOR_FAILPOINT=render:NAME.
        if cfg!(debug_assertions)
            && std::env::var("PROCTOR_FAILPOINT").is_ok_and(|f| f == format!("render:{}", u.name))
        {
            panic!("failpoint render:{} (a simulated bug)", u.name);
        }
        let t = find(&u.bundle, role)?;
        let usage = t.usage.as_ref()?;
        let label = unit_label(u);
        let synthesized = u.origin.as_ref().is_some_and(|o| o.synthesized);
        let (text, diags) =
            match render::render(&renderer, &t.source, usage, &ctx, u.origin.as_ref(), &label) {
                Ok(text) => {
                    let diags = validate(&renderer, &t.source, &ctx, &text, u, enforce, config);
                    (text, diags)
                }
                Err(diags) => (String::new(), diags),
            };
        let (template_name, template_version) = template_identity(u, config);
        let rendered = Rendered {
            template_name,
            template_version,
            kind: u.kind,
            name: u.name.clone(),
            service: u.service.clone(),
            template: t.source.name().to_string(),
            text,
            synthesized,
            spec: u.spec.clone(),
            context: serde_json::to_value(
                ctx.listing(usage.output_refs.iter().map(|(_, n)| n.as_str()))
                    .to_value(),
            )
            .unwrap_or(Json::Null),
        };
        Some((rendered, diags))
    };
    // A bug while rendering one unit is that unit's E001; the others go on.
    let render_one = |u: &Unit, ctx: Context, role: Role| -> Option<(Rendered, Vec<Diagnostic>)> {
        let what = format!("rendering and checking {}", unit_label(u));
        match crate::diag::isolate::isolated(&what, || render_unit(u, ctx, role)) {
            Ok(r) => r,
            Err(d) => {
                let t = find(&u.bundle, role)?;
                let d = d.at(&t.source, 0..0);
                Some((
                    Rendered {
                        kind: u.kind,
                        name: u.name.clone(),
                        service: u.service.clone(),
                        template: t.source.name().to_string(),
                        text: String::new(),
                        synthesized: u.origin.as_ref().is_some_and(|o| o.synthesized),
                        spec: u.spec.clone(),
                        context: Json::Null,
                        template_name: String::new(),
                        template_version: String::new(),
                    },
                    vec![d],
                ))
            }
        }
    };
    // Units that rendered are kept (`proctor render` prints them even when the CloudFormation
    // has findings); those that failed to render are not.
    let collect = |results: Vec<Option<(Rendered, Vec<Diagnostic>)>>,
                   out: &mut StageOutcome|
     -> Vec<Rendered> {
        let mut ok = Vec::new();
        for (r, diags) in results.into_iter().flatten() {
            let rendered = !r.text.is_empty() || diags.iter().all(|d| !d.code.id.starts_with('T'));
            out.diagnostics.extend(diags);
            if rendered {
                ok.push(r.clone());
                out.rendered.push(r);
            }
        }
        ok
    };

    let env_units: Vec<&Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Environment)
        .collect();
    let results = env_units
        .par_iter()
        .map(|u| {
            let ctx = Context::Environment {
                environment: EnvironmentFacts {
                    name: u.name.clone(),
                    account_id: account_id(config, &u.name),
                    outputs: StackOutputs::default(),
                },
                inputs: u.inputs.clone(),
            };
            render_one(u, ctx, Role::Environment)
        })
        .collect();
    let rendered_envs = collect(results, &mut out);
    // Each environment's outputs: the known values of its rendered template, and the names it
    // declares (unknown until deployed).
    let env_outputs: BTreeMap<String, StackOutputs> = env_units
        .iter()
        .filter_map(|u| {
            let text = &rendered_envs.iter().find(|r| r.name == u.name)?.text;
            let declared = find(&u.bundle, Role::Environment).map(|t| {
                analyse::declared_outputs(t.source.text(), "")
                    .names
                    .into_iter()
                    .collect()
            });
            Some((
                u.name.clone(),
                StackOutputs {
                    path: "environment.outputs".into(),
                    known: with_deployed(
                        known_outputs(text),
                        deployed.environment_outputs(&u.name),
                    ),
                    declared,
                },
            ))
        })
        .collect();
    let environment_facts = |name: &str, service_bundle: &str| -> EnvironmentFacts {
        let outputs = env_outputs
            .get(name)
            .cloned()
            .unwrap_or_else(|| StackOutputs {
                path: "environment.outputs".into(),
                known: Vec::new(),
                declared: bundles
                    .iter()
                    .find(|b| b.display == service_bundle)
                    .and_then(|b| compatible_outputs(b, related, bundles, limits))
                    .filter(|o| !o.dynamic)
                    .map(|o| o.names.into_iter().collect()),
            });
        let outputs = match env_outputs.contains_key(name) {
            true => outputs,
            false => StackOutputs {
                known: with_deployed(outputs.known, deployed.environment_outputs(name)),
                ..outputs
            },
        };
        EnvironmentFacts {
            name: name.to_string(),
            account_id: account_id(config, name),
            outputs,
        }
    };

    let instance_units: Vec<&Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::ServiceInstance)
        .collect();
    let results = instance_units
        .par_iter()
        .map(|u| {
            let env_name = u.environment.clone().unwrap_or_default();
            let ctx = Context::ServiceInstance {
                environment: environment_facts(&env_name, &u.bundle),
                service: service_facts(config, u.service.as_deref().unwrap_or_default()),
                instance: u.name.clone(),
                inputs: u.inputs.clone(),
            };
            render_one(u, ctx, Role::ServiceInstance)
        })
        .collect();
    let rendered_instances = collect(results, &mut out);

    let pipeline_units: Vec<&Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Pipeline)
        .collect();
    let results = pipeline_units
        .par_iter()
        .map(|u| {
            let declared = find(&u.bundle, Role::ServiceInstance).map(|t| {
                analyse::declared_outputs(t.source.text(), "")
                    .names
                    .into_iter()
                    .collect::<Vec<_>>()
            });
            let instances = instance_units
                .iter()
                .filter(|i| i.bundle == u.bundle && i.service == u.service)
                .map(|i| {
                    let text = rendered_instances
                        .iter()
                        .find(|r| r.name == i.name && r.service == i.service)
                        .map(|r| r.text.as_str())
                        .unwrap_or("");
                    InstanceFacts {
                        name: i.name.clone(),
                        inputs: i.inputs.clone(),
                        outputs: StackOutputs {
                            path: format!("service_instances[{}].outputs", i.name),
                            known: with_deployed(
                                known_outputs(text),
                                deployed.instance_outputs(
                                    i.service.as_deref().unwrap_or_default(),
                                    &i.name,
                                ),
                            ),
                            declared: declared.clone(),
                        },
                        environment: environment_facts(
                            i.environment.as_deref().unwrap_or_default(),
                            &i.bundle,
                        ),
                    }
                })
                .collect();
            let ctx = Context::Pipeline {
                service: service_facts(config, u.service.as_deref().unwrap_or_default()),
                inputs: u.inputs.clone(),
                instances,
            };
            render_one(u, ctx, Role::Pipeline)
        })
        .collect();
    collect(results, &mut out);

    let component_units: Vec<&Unit> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Component)
        .collect();
    let results = component_units
        .par_iter()
        .map(|u| {
            let any = |path: &str| StackOutputs {
                path: path.into(),
                known: Vec::new(),
                declared: None,
            };
            let ctx = Context::Component {
                name: u.name.clone(),
                environment: EnvironmentFacts {
                    name: u.environment.clone().unwrap_or_default(),
                    account_id: None,
                    outputs: StackOutputs {
                        known: with_deployed(
                            Vec::new(),
                            deployed
                                .environment_outputs(u.environment.as_deref().unwrap_or_default()),
                        ),
                        ..any("environment.outputs")
                    },
                },
                service: u.service.clone().unwrap_or_default(),
                instance: format!("{}-instance", u.service.as_deref().unwrap_or_default()),
                instance_inputs: any("service_instance.inputs"),
            };
            render_one(u, ctx, Role::Component)
        })
        .collect();
    collect(results, &mut out);

    // A template line that fails for every loop iteration and every deployment is one finding.
    let mut seen = std::collections::HashSet::new();
    out.diagnostics.retain(|d| {
        let at = d.primary.as_ref().map(|p| {
            (
                p.at.source.name().to_string(),
                p.at.span.start,
                p.at.span.end,
            )
        });
        seen.insert((d.code.id, at, d.message.clone()))
    });
    out
}

/// Validates a unit's rendered CloudFormation. Findings are moved to the template line the
/// rendered text came from, with the rendered line as a note.
fn validate(
    renderer: &render::Renderer,
    template: &Source,
    ctx: &Context,
    text: &str,
    u: &Unit,
    enforce: &crate::policy::Enforcement,
    config: Option<&Config>,
) -> Vec<Diagnostic> {
    let name = format!("{} [rendered for {}]", template.name(), short_label(u));
    let rendered = crate::source::SourceFile::new(name, template.path(), text.to_string());
    let mut diags = Vec::new();
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::new(codes::C002, format!("the template renders to nothing for {}", unit_label(u)))
                .at(template, 0..0)
                .help("a stack needs at least one resource; check the template's conditions for this deployment"),
        );
        return diags;
    }
    if let Some(root) = crate::cfn::parse(&rendered, &mut diags)
        && enforce.cfn_checks
    {
        crate::cfn::checks::check(&rendered, &root, &mut diags);
    }
    if !enforce.policies.is_empty()
        && let Some(data) = crate::policy::data::parse(&rendered, &mut Vec::new())
    {
        // The `proctor` nodes get spans past the end of the rendered text: input `i`'s value
        // (all of it) is at `base + i`, the rest at `base`; a finding there goes to the spec.
        let base = rendered.text().len() + 1;
        let (data, names) = with_proctor_root(data, u, config, base);
        let locate = |span: &std::ops::Range<usize>| {
            let origin = u.origin.as_ref().filter(|o| !o.synthesized)?;
            let name = names.get(span.start.checked_sub(base)?)?;
            let (_, at) = origin.values.iter().find(|(n, _)| n == name)?;
            Some((origin.spec.clone(), at.clone()))
        };
        let fallback = u
            .origin
            .as_ref()
            .filter(|o| !o.synthesized)
            .map(|o| o.spec.clone());
        diags.extend(crate::policy::check_document(
            enforce.policies,
            &rendered,
            &data,
            &crate::policy::Target {
                deployment: &u.name,
                waivers: enforce.waivers,
                verdicts: Some(enforce.verdicts),
                locate: &locate,
                fallback,
            },
        ));
    }
    if diags.is_empty() {
        return diags;
    }
    let map = render::source_map(renderer, template, ctx);
    diags
        .into_iter()
        .map(|d| relocate(d, template, &rendered, map.as_ref()))
        .collect()
}

/// Adds the `proctor` root key that policies read beside the CloudFormation: the deployment's
/// metadata and the developer's effective inputs (policy-language.md §6).
fn with_proctor_root(
    mut data: crate::yaml::Node,
    u: &Unit,
    config: Option<&Config>,
    base: usize,
) -> (crate::yaml::Node, Vec<String>) {
    let kind = match u.kind {
        UnitKind::Environment => "environment",
        UnitKind::ServiceInstance => "service_instance",
        UnitKind::Pipeline => "pipeline",
        UnitKind::Component => "component",
    };
    let environment = match u.kind {
        UnitKind::Environment => Some(u.name.clone()),
        _ => u.environment.clone(),
    };
    let mut deployment = serde_json::json!({
        "kind": kind,
        "name": u.name,
        "template": u.bundle,
    });
    if let Some(e) = &environment {
        deployment["environment"] = Json::String(e.clone());
        if let Some(a) = environment.as_deref().and_then(|e| account_id(config, e)) {
            deployment["account_id"] = Json::String(a);
        }
    }
    if let Some(s) = &u.service {
        deployment["service"] = Json::String(s.clone());
    }
    let (name, version) = template_identity(u, config);
    deployment["template_name"] = Json::String(name);
    deployment["template_version"] = Json::String(version);
    let at = |j: &Json| json_node(j, base..base);
    let mut names = Vec::new();
    let inputs = match &u.inputs {
        Json::Object(o) => {
            let entries = o
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    names.push(k.clone());
                    (
                        at(&Json::String(k.clone())),
                        json_node(v, base + i..base + i + 1),
                    )
                })
                .collect();
            crate::yaml::Node {
                span: base..base,
                tag: None,
                plain: false,
                value: crate::yaml::Value::Map(entries),
            }
        }
        other => at(other),
    };
    let extra = crate::yaml::Node {
        span: base..base,
        tag: None,
        plain: false,
        value: crate::yaml::Value::Map(vec![
            (at(&Json::String("deployment".into())), at(&deployment)),
            (at(&Json::String("inputs".into())), inputs),
        ]),
    };
    if let crate::yaml::Value::Map(entries) = &mut data.value {
        entries.push((at(&Json::String("proctor".into())), extra));
    }
    (data, names)
}

/// A JSON value as a YAML node with no place in any file.
fn json_node(j: &Json, span: std::ops::Range<usize>) -> crate::yaml::Node {
    use crate::yaml::{Node, Value};
    let value = match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Seq(a.iter().map(|v| json_node(v, span.clone())).collect()),
        Json::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| {
                    (
                        json_node(&Json::String(k.clone()), span.clone()),
                        json_node(v, span.clone()),
                    )
                })
                .collect(),
        ),
    };
    Node {
        span,
        tag: None,
        plain: false,
        value,
    }
}

/// Moves a finding on rendered text to the template span it came from.
fn relocate(
    d: Diagnostic,
    template: &Source,
    rendered: &Source,
    map: Option<&render::SourceMap>,
) -> Diagnostic {
    let Some(primary) = d.primary.clone() else {
        return d;
    };
    if !std::sync::Arc::ptr_eq(&primary.at.source, rendered) {
        return d;
    }
    let Some(span) = map.and_then(|m| m.template_span(&primary.at.span)) else {
        return d;
    };
    let mut moved = Diagnostic {
        primary: None,
        labels: Vec::new(),
        ..d.clone()
    }
    .at(template, span);
    if let Some(m) = primary.message {
        moved = moved.primary_message(m);
    }
    moved = moved.label(rendered, primary.at.span, "rendered as");
    for l in d.labels {
        match (&l.message, map.and_then(|m| m.template_span(&l.at.span))) {
            (Some(msg), Some(s)) if std::sync::Arc::ptr_eq(&l.at.source, rendered) => {
                moved = moved.label(template, s, msg.clone())
            }
            _ => moved.labels.push(l),
        }
    }
    moved
}

fn short_label(u: &Unit) -> String {
    match u.kind {
        UnitKind::Pipeline => format!(
            "the pipeline of {}",
            u.service.as_deref().unwrap_or_default()
        ),
        _ => u.name.clone(),
    }
}

fn unit_label(u: &Unit) -> String {
    let synthesized = u.origin.as_ref().is_some_and(|o| o.synthesized);
    match (u.kind, synthesized) {
        (UnitKind::Environment, false) => format!("environment `{}` ({})", u.name, u.spec),
        (UnitKind::ServiceInstance, false) => format!(
            "instance `{}` of service `{}` ({})",
            u.name,
            u.service.as_deref().unwrap_or(""),
            u.spec
        ),
        (UnitKind::Pipeline, false) => format!(
            "the pipeline of service `{}` ({})",
            u.service.as_deref().unwrap_or(""),
            u.spec
        ),
        (UnitKind::Environment, true) => format!("`{}`", u.bundle),
        (UnitKind::ServiceInstance, true) => format!("`{}` (instance)", u.bundle),
        (UnitKind::Pipeline, true) => format!("`{}` (pipeline)", u.bundle),
        (UnitKind::Component, _) => format!("`{}` (component)", u.bundle),
    }
}

/// A unit's template name and version: from the bundle's `name/vN` folder, with the minor
/// version when proctor.toml's reference gives one (`fargate-env:1.2` → `1.2`).
fn template_identity(u: &Unit, config: Option<&Config>) -> (String, String) {
    let mut parts = u.bundle.rsplit('/').filter(|p| !p.is_empty() && *p != ".");
    let last = parts.next().unwrap_or_default();
    let (name, major) = match last.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()) {
        Some(major) => (parts.next().unwrap_or(last).to_string(), major),
        None => (last.to_string(), 1),
    };
    let reference = config.and_then(|c| match u.kind {
        UnitKind::Environment => c
            .environments
            .iter()
            .find(|e| e.name.value == u.name)
            .map(|e| &e.template.value),
        _ => {
            let service = u.service.as_deref()?;
            c.services
                .iter()
                .find(|s| s.name.value == service)
                .map(|s| &s.template.value)
        }
    });
    let minor = match reference {
        Some(crate::config::TemplateRef::Version {
            major: m,
            minor: Some(minor),
            ..
        }) if *m == major => Some(*minor),
        _ => None,
    };
    let version = minor.map_or_else(|| major.to_string(), |minor| format!("{major}.{minor}"));
    (name, version)
}

fn account_id(config: Option<&Config>, env: &str) -> Option<String> {
    config?
        .environments
        .iter()
        .find(|e| e.name.value == env)?
        .account_id
        .clone()
}

fn service_facts(config: Option<&Config>, name: &str) -> ServiceFacts {
    let s = config.and_then(|c| c.services.iter().find(|s| s.name.value == name));
    ServiceFacts {
        name: name.to_string(),
        branch_name: s.and_then(|s| s.branch.clone()),
        repository_connection_arn: s.and_then(|s| s.repository_connection_arn.clone()),
        repository_id: s.and_then(|s| s.repository_id.clone()),
    }
}

/// The outputs known from the rendered template, with the values a deployed stack reported
/// taking their place (a deployed stack's outputs are the truth).
fn with_deployed(
    mut known: Vec<(String, String)>,
    deployed: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<(String, String)> {
    if let Some(d) = deployed {
        known.retain(|(k, _)| !d.contains_key(k));
        known.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    known
}

/// Outputs whose `Value` rendered to a plain string are known before deployment.
fn known_outputs(rendered: &str) -> Vec<(String, String)> {
    let source = crate::source::SourceFile::new("rendered", "rendered", rendered.to_string());
    let Some(root) = crate::yaml::parse(
        &source,
        &crate::yaml::ParseOptions::default(),
        &mut Vec::new(),
    ) else {
        return Vec::new();
    };
    let Some(outputs) = root.get("Outputs").and_then(crate::yaml::Node::as_map) else {
        return Vec::new();
    };
    outputs
        .iter()
        .filter_map(|(k, v)| {
            let value = v.get("Value")?;
            let text = value.as_str().filter(|_| value.tag.is_none())?;
            let name = k.scalar_text()?;
            (!text.starts_with(render::PLACEHOLDER_PREFIX)).then(|| (name, text.to_string()))
        })
        .collect()
}

/// The outputs the compatible environment templates of a service bundle declare (union).
fn compatible_outputs(
    b: &Bundle,
    related: &[&Bundle],
    bundles: &[&Bundle],
    limits: &Limits,
) -> Option<OutputNames> {
    let mut out: Option<OutputNames> = None;
    for c in &b.compatible_environments {
        let env = related.iter().chain(bundles).find(|e| {
            e.kind == BundleKind::Environment
                && e.template_name == c.name
                && e.major.unwrap_or(1) == c.major
        })?;
        let t = env
            .infrastructure
            .iter()
            .flat_map(|i| &i.templates)
            .find_map(|t| t.path.as_ref())?;
        let text = read_source(t, "", limits.max_file_bytes).ok()?;
        let names = analyse::declared_outputs(text.text(), &env.label());
        let o = out.get_or_insert_with(|| OutputNames {
            from: names.from.clone(),
            ..OutputNames::default()
        });
        o.names.extend(names.names);
        o.dynamic |= names.dynamic;
        if o.from != names.from {
            o.from = format!("{}, {}", o.from, names.from);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn analyse_template(
    b: &Bundle,
    index: usize,
    role: Role,
    t: &crate::bundle::TemplateFile,
    bundles: &[&Bundle],
    related: &[&Bundle],
    limits: &Limits,
    diags: &mut Vec<Diagnostic>,
) -> Option<Analysed> {
    let path = t.path.as_ref()?;
    let source = match read_source(path, &t.display, limits.max_file_bytes) {
        Ok(s) => s,
        Err(d) => {
            diags.push(*d);
            return None;
        }
    };
    let names = |ty: Option<&InputType>| ty.map(|t| t.properties.clone());
    let ns = Namespaces {
        environment_inputs: names(b.environment_type()),
        service_inputs: names(b.service_type()),
        pipeline_inputs: names(b.pipeline_type()),
        environment_outputs: if b.kind == BundleKind::Service {
            compatible_outputs(b, related, bundles, limits)
        } else {
            None
        },
        instance_outputs: b
            .infrastructure
            .iter()
            .find(|i| i.role == Role::ServiceInstance)
            .and_then(|i| i.templates.first()?.path.as_ref())
            .and_then(|p| read_source(p, "", limits.max_file_bytes).ok())
            .map(|s| {
                analyse::declared_outputs(s.text(), &format!("{} (instance template)", b.label()))
            }),
    };
    let raw = raw_regions(source.text());
    let consumed = dynamic_references(&source, &raw, diags);
    comments(&source, &raw, diags);
    let mut parse_diags = Vec::new();
    let errors_before = diags
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .count();
    let usage = analyse::parse(&source, &mut parse_diags)
        .map(|ast| analyse::check(&source, &ast, role, &ns, diags));
    // A template with static errors is not rendered: its render errors would repeat them.
    let usage = usage.filter(|_| {
        diags
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .count()
            == errors_before
    });
    // A `{{resolve:...}}` is also a Jinja syntax error; T006 says it better.
    parse_diags.retain(|d| {
        let line = d
            .primary
            .as_ref()
            .map_or(0, |p| source.line_col(p.at.span.start).0);
        !consumed.contains(&line)
    });
    diags.extend(parse_diags);
    if let Some(u) = &usage {
        unquoted_inputs(&source, u, b, role, diags);
    }
    Some(Analysed {
        bundle: index,
        role,
        source,
        usage,
    })
}

// Constant patterns: `expect` cannot fail on any input.
#[allow(clippy::expect_used)]
static RAW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}").expect("valid regex")
});
#[allow(clippy::expect_used)]
static RESOLVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{\s*resolve:[^}]*\}\}").expect("valid regex"));

fn raw_regions(text: &str) -> Vec<Range<usize>> {
    RAW.find_iter(text).map(|m| m.range()).collect()
}

fn inside(raw: &[Range<usize>], at: usize) -> bool {
    raw.iter().any(|r| r.contains(&at))
}

/// `{{resolve:...}}` outside `{% raw %}`: the lines it stands on.
fn dynamic_references(
    source: &Source,
    raw: &[Range<usize>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<usize> {
    let mut lines = Vec::new();
    for m in RESOLVE.find_iter(source.text()) {
        if inside(raw, m.start()) {
            continue;
        }
        lines.push(source.line_col(m.start()).0);
        diags.push(
            Diagnostic::new(
                codes::T006,
                "CloudFormation dynamic reference inside Jinja braces",
            )
            .at(source, m.range())
            .primary_message("Jinja reads this as an expression; Proton rendered it as nothing")
            .help(format!(
                "wrap it so that Jinja leaves it alone: `{{% raw %}}{}{{% endraw %}}`",
                m.as_str()
            )),
        );
    }
    lines
}

/// Jinja inside YAML comments runs anyway: info, once per line.
fn comments(source: &Source, raw: &[Range<usize>], diags: &mut Vec<Diagnostic>) {
    let text = source.text();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(hash) = yaml_comment_start(line) {
            let rest = &line[hash..];
            if let Some(j) = rest.find("{{").or_else(|| rest.find("{%"))
                && !inside(raw, offset + hash + j)
                && !RESOLVE.is_match(&rest[j..])
            {
                let start = offset + hash + j;
                let end = rest[j..].find(['}']).map_or(start + 2, |e| {
                    (start + e + 2).min(offset + line.trim_end().len())
                });
                diags.push(
                    Diagnostic::new(codes::T007, "Jinja inside a YAML comment is still rendered")
                        .at(source, start..end.max(start + 2))
                        .help("use a Jinja comment `{# ... #}` if it should not run"),
                );
            }
        }
        offset += line.len();
    }
}

/// Where a YAML comment starts on a line: `#` at the start or after white space, outside
/// quotes and Jinja braces.
fn yaml_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let (mut single, mut double, mut braces) = (false, false, 0i32);
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'\'' if !double && braces == 0 => single = !single,
            b'"' if !single && braces == 0 => double = !double,
            b'{' => braces += 1,
            b'}' => braces -= 1,
            b'#' if !single
                && !double
                && braces <= 0
                && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') =>
            {
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

/// A string input pasted as an unquoted YAML value: `Key: {{ x.inputs.name }}`.
fn unquoted_inputs(
    source: &Source,
    usage: &Usage,
    b: &Bundle,
    role: Role,
    diags: &mut Vec<Diagnostic>,
) {
    let ty = match role {
        Role::Environment => b.environment_type(),
        Role::Pipeline => b.pipeline_type(),
        _ => b.service_type(),
    };
    let Some(ty) = ty else { return };
    let text = source.text();
    let mut seen = Vec::new();
    for (range, name) in &usage.input_refs {
        let prop = &ty.json["properties"][name.as_str()];
        let is_free_string = prop["type"] == "string" && prop.get("enum").is_none();
        if !is_free_string || seen.contains(name) {
            continue;
        }
        let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[range.end..]
            .find('\n')
            .map_or(text.len(), |i| range.end + i);
        let before = &text[line_start..range.start];
        let Some(open) = before.rfind("{{") else {
            continue;
        };
        let after = &text[range.end..line_end];
        let Some(close) = after.find("}}") else {
            continue;
        };
        let prefix = before[..open].trim_end();
        let expression = &after[..close];
        let rest = after[close + 2..].trim();
        let value_position =
            prefix.ends_with(':') || prefix.ends_with(": -") || prefix.trim_start() == "-";
        if value_position && !expression.contains('|') && (rest.is_empty() || rest.starts_with('#'))
        {
            seen.push(name.clone());
            let start = line_start + open;
            let end = range.end + close + 2;
            diags.push(
                Diagnostic::new(
                    codes::T008,
                    format!("string input `{name}` is pasted as an unquoted YAML value"),
                )
                .at(source, start..end)
                .primary_message("a value with `: `, `#`, a leading `*`, or `yes` changes the YAML")
                .help(format!(
                    "quote it: `'{}'`, or emit JSON: `{{{{{}| tojson }}}}`",
                    &text[start..end],
                    &text[start + 2..end - 2]
                )),
            );
        }
    }
}

/// T004: inputs no template of the bundle reads.
fn unused_inputs<'a>(
    b: &Bundle,
    templates: impl Iterator<Item = &'a Analysed>,
    diags: &mut Vec<Diagnostic>,
) {
    let templates: Vec<&Analysed> = templates.collect();
    if templates.is_empty() || templates.iter().any(|t| t.usage.is_none()) {
        return;
    }
    let Some(schema) = &b.schema else { return };
    let kinds: [(&'static str, Option<&InputType>); 3] = [
        ("environment", b.environment_type()),
        ("service", b.service_type()),
        ("pipeline", b.pipeline_type()),
    ];
    let roles = |kind: &str| match kind {
        "environment" => Role::Environment,
        "pipeline" => Role::Pipeline,
        _ => Role::ServiceInstance,
    };
    for (kind, ty) in kinds {
        let Some(ty) = ty else { continue };
        // No template of that role (reported elsewhere, e.g. B005): nothing can use the inputs.
        if !templates.iter().any(|t| t.role == roles(kind)) {
            continue;
        }
        if templates
            .iter()
            .filter_map(|t| t.usage.as_ref())
            .any(|u| u.dynamic.contains(kind))
        {
            continue;
        }
        let Some(props) = ty
            .node
            .get("properties")
            .and_then(crate::yaml::Node::as_map)
        else {
            continue;
        };
        for (k, _) in props {
            let name = k.scalar_text().unwrap_or_default();
            let used = templates
                .iter()
                .filter_map(|t| t.usage.as_ref())
                .any(|u| u.inputs.contains(&(kind, name.clone())));
            if !used {
                diags.push(
                    Diagnostic::new(codes::T004, format!("input `{name}` of `{}` is not used by any template", ty.name))
                        .at(&schema.source, k.span.clone())
                        .help("use it in a template, or remove it from the schema (in a new major version if specs set it)"),
                );
            }
        }
    }
}

/// Units for bundles no spec uses: inputs synthesized from the schema, so that a template pull
/// request is rendered (and later validated) too.
fn synthesized_units(bundles: &[&Bundle], units: &[Unit]) -> Vec<Unit> {
    let mut out = Vec::new();
    for b in bundles {
        if units.iter().any(|u| u.bundle == b.display) {
            continue;
        }
        let origin = Some(InputOrigin {
            spec: b.schema.as_ref().map_or_else(
                || crate::source::SourceFile::new("", "", String::new()),
                |s| s.source.clone(),
            ),
            values: Vec::new(),
            synthesized: true,
        });
        let unit = |kind,
                    name: &str,
                    service: Option<String>,
                    env: Option<String>,
                    ty: Option<&InputType>| Unit {
            kind,
            name: name.to_string(),
            service,
            bundle: b.display.clone(),
            spec: String::new(),
            inputs: ty.map_or(Json::Object(Default::default()), synthesize),
            environment: env,
            origin: origin.clone(),
        };
        match b.kind {
            // Without its input type (reported) there is nothing to synthesize from.
            BundleKind::Environment if b.environment_type().is_none() => {}
            BundleKind::Service if b.service_type().is_none() => {}
            BundleKind::Environment => out.push(unit(
                UnitKind::Environment,
                &format!("{}-sample", b.template_name),
                None,
                None,
                b.environment_type(),
            )),
            BundleKind::Component => out.push(unit(
                UnitKind::Component,
                &format!("{}-sample", b.template_name),
                Some("sample-service".into()),
                Some("sample-environment".into()),
                None,
            )),
            BundleKind::Service => {
                let service = Some(format!("{}-sample", b.template_name));
                out.push(unit(
                    UnitKind::ServiceInstance,
                    &format!("{}-sample-instance", b.template_name),
                    service.clone(),
                    Some("sample-environment".into()),
                    b.service_type(),
                ));
                if b.has_pipeline() {
                    out.push(unit(
                        UnitKind::Pipeline,
                        &format!("{}-sample", b.template_name),
                        service,
                        None,
                        b.pipeline_type(),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}
