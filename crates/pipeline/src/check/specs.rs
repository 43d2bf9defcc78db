//! The spec stage: each spec is read and type-checked against its bundle's schema, in
//! isolation (a bug while checking one spec is that spec's E001), and becomes the deployment
//! units that later stages render.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::bundle::{Bundle, BundleKind};
use crate::config::Config;
use crate::diag::suppress::MARKER;
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::files::{Unreadable, read_in, read_regular};
use crate::limits::Limits;
use crate::source::{Source, SourceFile};
use crate::spec::{self, Spec, SpecKind, typecheck};
use crate::unit::{Unit, UnitKind};

/// The file of a spec proctor.toml names (`spec`, relative to it): its path, and its name as
/// shown. The spec stage, the cache's keys and the read-ahead name it alike, so that a text
/// one of them read serves the others.
pub(super) fn spec_file(cfg: &Config, spec: &Path) -> (PathBuf, String) {
    (
        cfg.root.join(spec),
        crate::paths::tidy(&spec.to_string_lossy()),
    )
}

/// Type-checks one spec in isolation: a bug in proctor while doing it is that spec's E001.
pub(super) fn isolated_spec(
    cfg: &Config,
    spec: &Path,
    f: impl FnOnce() -> SpecResult,
) -> SpecResult {
    let (path, shown) = spec_file(cfg, spec);
    match crate::diag::isolate::isolated(|| format!("checking the spec `{shown}`"), f) {
        Ok(r) => r,
        Err(d) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let source = SourceFile::new(shown, path, text);
            SpecResult {
                diagnostics: vec![d.at_file(&source)],
                ..SpecResult::default()
            }
        }
    }
}

#[derive(Default)]
pub(super) struct SpecResult {
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) units: Vec<Unit>,
    pub(super) files: usize,
    pub(super) specs: usize,
    /// Which bundle checked each spec (its path, the bundle's folder), valid or not.
    pub(super) checked_by: Vec<(PathBuf, PathBuf)>,
    /// Units whose inputs did not check.
    pub(super) failed: Vec<crate::unit::Failed>,
    /// The spec this check read, as the search for inline suppressions needs it.
    pub(super) read: Option<SpecRead>,
}

/// A spec the spec stage read: by its name as shown, with its text when the text may hold
/// inline suppressions (it has their marker). A run then need not read its specs again to
/// look for them (a cold run read each of 100,000 specs twice).
pub(super) enum SpecRead {
    Marked(Source),
    Clean(String),
}

impl SpecRead {
    fn of(source: &Source) -> SpecRead {
        match memchr::memmem::find(source.text().as_bytes(), MARKER.as_bytes()) {
            Some(_) => SpecRead::Marked(source.clone()),
            None => SpecRead::Clean(source.name().to_string()),
        }
    }
}

/// The specs the spec stage read, by name: those that may hold inline suppressions, and
/// those known to hold none.
#[derive(Debug, Default)]
pub struct SpecsRead {
    pub(super) marked: HashMap<String, Source>,
    pub(super) clean: foldhash::HashSet<String>,
}

impl SpecsRead {
    fn add(&mut self, read: SpecRead) {
        match read {
            SpecRead::Marked(s) => {
                self.marked.insert(s.name().to_string(), s);
            }
            SpecRead::Clean(name) => {
                self.clean.insert(name);
            }
        }
    }
}

impl Outcome {
    pub(super) fn absorb(&mut self, r: SpecResult) {
        self.diagnostics.extend(r.diagnostics);
        self.units.extend(r.units);
        self.files += r.files;
        self.specs += r.specs;
        self.checked_by.extend(r.checked_by);
        self.failed.extend(r.failed);
        if let Some(read) = r.read {
            self.specs_read.add(read);
        }
    }
}

pub(super) struct ServiceContext<'a> {
    pub(super) cfg: &'a Config,
    pub(super) env_bundles: &'a BTreeMap<String, Option<usize>>,
    pub(super) loaded: &'a HashMap<usize, (Bundle, Vec<Diagnostic>)>,
    pub(super) service: &'a str,
}

/// How the spec stage reads files: the run's limits, and the buffers that stand in for files.
pub(super) type Reading<'a> = (&'a Limits, &'a crate::files::Buffers);

pub(super) fn read_spec(
    path: &Path,
    shown: &str,
    (limits, buffers): Reading,
    r: &mut SpecResult,
) -> Option<Spec> {
    match read_in(buffers, path, shown, limits.max_file_bytes) {
        Ok(source) => spec_of(source, limits, r),
        Err(d) => {
            (r.files, r.specs) = (r.files + 1, r.specs + 1);
            r.diagnostics.push(*d);
            None
        }
    }
}

/// The spec in `source`, read (counted, and noted for the search for inline suppressions).
fn spec_of(source: Source, limits: &Limits, r: &mut SpecResult) -> Option<Spec> {
    (r.files, r.specs) = (r.files + 1, r.specs + 1);
    r.read = Some(SpecRead::of(&source));
    spec::read(&source, limits, &mut r.diagnostics)
}

/// Checks the spec of a deployment proctor.toml declares against its bundle. `read`: the
/// spec's text when the run already read it (for the cache's key), not to read it again.
pub(super) fn check_deployment_spec(
    cfg: &Config,
    (spec_path, read): (&crate::source::At<PathBuf>, Option<Source>),
    reading: Reading,
    bundle: &Bundle,
    environment: Option<&str>,
    service: Option<&ServiceContext<'_>>,
) -> SpecResult {
    let mut r = SpecResult::default();
    let (path, shown) = spec_file(cfg, &spec_path.value);
    // A buffer stands for the file, saved or not, so a text read before is used only
    // without one.
    let read = read.filter(|_| !reading.1.has(&path));
    let source = match read
        .map(Ok)
        .unwrap_or_else(|| read_regular(reading.1, &path, &shown, reading.0.max_file_bytes))
    {
        Ok(source) => source,
        Err(Unreadable::Text(d)) => {
            (r.files, r.specs) = (r.files + 1, r.specs + 1);
            r.diagnostics.push(*d);
            return r;
        }
        Err(Unreadable::NotAFile(kind)) => {
            not_a_spec(cfg, spec_path, &shown, &kind, &mut r);
            if let Some(env) = environment {
                r.failed.push(crate::unit::Failed {
                    kind: UnitKind::Environment,
                    name: env.to_string(),
                    service: None,
                    environment: None,
                    spec: shown,
                });
            }
            return r;
        }
    };
    let Some(spec) = spec_of(source, reading.0, &mut r) else {
        return r;
    };
    check_spec_against(&spec, bundle, environment, service, &mut r);
    r
}

/// proctor.toml's `spec` names a path that is not a readable regular file: said where
/// proctor.toml names it.
fn not_a_spec(
    cfg: &Config,
    spec_path: &crate::source::At<PathBuf>,
    shown: &str,
    kind: &crate::files::NotAFile,
    r: &mut SpecResult,
) {
    use crate::files::NotAFile;
    let (message, help) = match kind {
        k if k.is_missing() => (
            format!("spec `{shown}` does not exist"),
            "create the spec, or correct the `spec` path (relative to proctor.toml)",
        ),
        NotAFile::Io(e) => (
            format!("cannot read spec `{shown}`: {}", crate::files::io_reason(e)),
            "check that the spec is readable",
        ),
        NotAFile::Folder => (
            format!("spec `{shown}` {}", kind.phrase()),
            "name the spec file inside it in `spec` (relative to proctor.toml)",
        ),
        NotAFile::Special => (
            format!("spec `{shown}` {}", kind.phrase()),
            "replace it with a regular file, or correct the `spec` path",
        ),
    };
    r.diagnostics.push(
        Diagnostic::new(codes::F001, message)
            .at(&cfg.source, spec_path.span.clone())
            .help(help),
    );
}

/// Which bundle checks a spec found on its own.
pub(super) enum SpecOwner<'a> {
    /// A spec beside its bundle (`<template>/spec/`).
    Bundle(&'a Bundle),
    /// A spec in a project's `specs/` folder: one of the bundles under the project.
    Project(Vec<&'a Bundle>),
    /// A spec named on the command line: one of the bundles given with it.
    Given(Vec<&'a Bundle>),
}

pub(super) fn check_standalone_spec(
    path: &Path,
    shown: &str,
    owner: &SpecOwner<'_>,
    reading: Reading,
) -> SpecResult {
    let mut r = SpecResult::default();
    let Some(spec) = read_spec(path, shown, reading, &mut r) else {
        return r;
    };
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (candidates, place) = match owner {
        SpecOwner::Bundle(b) => {
            check_spec_against(&spec, b, Some(&name), None, &mut r);
            return r;
        }
        SpecOwner::Project(c) => (c, "in its project"),
        SpecOwner::Given(c) => (c, "given"),
    };
    let kind_word = if spec.kind == SpecKind::Environment {
        "environment"
    } else {
        "service"
    };
    let (fits, other): (Vec<&Bundle>, Vec<&Bundle>) =
        candidates.iter().copied().partition(|b| match spec.kind {
            SpecKind::Environment => b.kind.is_environment(),
            SpecKind::Service => b.kind == BundleKind::Service,
        });
    if fits.is_empty() {
        let mut message = format!(
            "no {kind_word} bundle {place} can check this {}",
            spec.kind.keyword()
        );
        if !other.is_empty() {
            let listed: Vec<String> = other
                .iter()
                .map(|b| {
                    let kind = b.kind.describe();
                    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    format!("`{}` is {article} {kind} template", b.label())
                })
                .collect();
            message.push_str(&format!(": {}", listed.join(", ")));
        }
        r.diagnostics.push(
            Diagnostic::new(codes::I014, message)
                .at(&spec.source, spec.kind_span.clone())
                .help(format!("check the `proton:` kind (`{}` or `{}`), name the bundle folder alone on the command line (`proctor check BUNDLE --spec SPEC`), or declare the deployment in proctor.toml", SpecKind::Environment.keyword(), SpecKind::Service.keyword())),
        );
        return r;
    }
    if let [one] = fits.as_slice() {
        check_spec_against(&spec, one, Some(&name), None, &mut r);
        return r;
    }
    // Several could: the ones whose schema the spec satisfies, and of those the ones that
    // declare the most of its inputs (the fewest unknown inputs).
    let mut satisfied = Vec::new();
    let mut rejected = Vec::new();
    for b in &fits {
        let mut trial = SpecResult::default();
        check_spec_against(&spec, b, Some(&name), None, &mut trial);
        match trial
            .diagnostics
            .iter()
            .find(|d| d.severity == crate::diag::Severity::Error)
        {
            None => {
                let unknown = trial
                    .diagnostics
                    .iter()
                    .filter(|d| d.code.id == codes::I001.id)
                    .count();
                satisfied.push((*b, unknown));
            }
            Some(d) => rejected.push(format!("`{}`: {}", b.label(), d.message)),
        }
    }
    let fewest = satisfied.iter().map(|(_, u)| *u).min().unwrap_or(0);
    let satisfied: Vec<&Bundle> = satisfied
        .into_iter()
        .filter(|(_, u)| *u == fewest)
        .map(|(b, _)| b)
        .collect();
    match satisfied.as_slice() {
        [one] => check_spec_against(&spec, one, Some(&name), None, &mut r),
        [] => r.diagnostics.push(
            Diagnostic::new(
                codes::I014,
                format!(
                    "this {} fits none of the {} {kind_word} bundles {place}: {}",
                    spec.kind.keyword(),
                    fits.len(),
                    rejected.join("; ")
                ),
            )
            .at(&spec.source, spec.kind_span.clone())
            .help("correct the spec for the template it is meant for, or declare the deployment in proctor.toml"),
        ),
        several => {
            for b in several {
                check_spec_against(&spec, b, Some(&name), None, &mut r);
            }
            let labels: Vec<String> = several.iter().map(|b| format!("`{}`", b.label())).collect();
            let others: Vec<String> = several[1..].iter().map(|b| format!("\"{}\"", b.label())).collect();
            r.diagnostics.push(
                Diagnostic::new(
                    codes::I015,
                    format!(
                        "this {} fits {} {kind_word} bundles {place} ({}); checked against each",
                        spec.kind.keyword(),
                        several.len(),
                        labels.join(", ")
                    ),
                )
                .at(&spec.source, spec.kind_span.clone())
                .help(format!(
                    "say which one in proctor.toml:\n[[{kind_word}]]\nname = \"{name}\"\ntemplate = \"{}\"   # or {}\nspec = \"{shown}\"",
                    several[0].label(),
                    others.join(", ")
                )),
            );
        }
    }
    r
}

/// Type-checks `spec` against `bundle` and adds its units to render. A spec with errors of
/// its own (over Proton's size limit, B007) is still type-checked but not rendered: Proton
/// refused such a spec, so its rendering would be one Proton never made.
pub(super) fn check_spec_against(
    spec: &Spec,
    bundle: &Bundle,
    environment: Option<&str>,
    service: Option<&ServiceContext<'_>>,
    r: &mut SpecResult,
) {
    let spec_errors = errors(&r.diagnostics);
    let units = r.units.len();
    r.checked_by
        .push((spec.source.path().to_path_buf(), bundle.dir.clone()));
    check_inputs(spec, bundle, environment, service, r);
    if spec_errors > 0 {
        r.units.truncate(units);
    }
}

fn check_inputs(
    spec: &Spec,
    bundle: &Bundle,
    environment: Option<&str>,
    service: Option<&ServiceContext<'_>>,
    r: &mut SpecResult,
) {
    if !kind_fits(spec, bundle, r) {
        return;
    }
    let Some(schema) = &bundle.schema else { return };
    match spec.kind {
        SpecKind::Environment => {
            let (Some(inputs), Some(ty)) = (&spec.environment_inputs, bundle.environment_type())
            else {
                return;
            };
            let before = errors(&r.diagnostics);
            let effective =
                typecheck::check(&spec.source, inputs, ty, &schema.source, &mut r.diagnostics);
            // A unit whose inputs are wrong is not rendered: its render errors would only
            // repeat the spec's.
            if errors(&r.diagnostics) > before {
                r.failed.push(crate::unit::Failed {
                    kind: UnitKind::Environment,
                    name: environment.unwrap_or_default().to_string(),
                    service: None,
                    environment: None,
                    spec: spec.source.name().to_string(),
                });
                return;
            }
            r.units.push(Unit {
                environment: None,
                origin: origin(&spec.source, inputs),
                stack: None,
                kind: UnitKind::Environment,
                name: environment.unwrap_or_default().to_string(),
                service: None,
                bundle: bundle.display.clone(),
                spec: spec.source.name().to_string(),
                inputs: effective,
            });
        }
        SpecKind::Service => service_units(spec, bundle, &schema.source, service, r),
    }
}

/// Whether the spec's kind (`proton: ...Spec`) fits the bundle; I009 when it does not.
fn kind_fits(spec: &Spec, bundle: &Bundle, r: &mut SpecResult) -> bool {
    let wanted = if bundle.kind.is_environment() {
        SpecKind::Environment
    } else {
        SpecKind::Service
    };
    if bundle.kind == BundleKind::Component {
        r.diagnostics.push(
            Diagnostic::new(
                codes::I009,
                format!(
                    "`{}` is a component bundle, which takes no spec",
                    bundle.display
                ),
            )
            .at(&spec.source, spec.kind_span.clone())
            .help("components have no inputs of their own; attach them to a service instance"),
        );
        return false;
    }
    if spec.kind != wanted {
        r.diagnostics.push(
            Diagnostic::new(
                codes::I009,
                format!(
                    "a {} for the {} template `{}`",
                    spec.kind.keyword(),
                    bundle.kind.describe(),
                    bundle.label()
                ),
            )
            .at(&spec.source, spec.kind_span.clone())
            .help(format!(
                "write `proton: {}`, or use a {} template",
                wanted.keyword(),
                if spec.kind == SpecKind::Environment {
                    "environment"
                } else {
                    "service"
                }
            )),
        );
        return false;
    }
    true
}

/// A service spec's units: each instance whose inputs check clean, and the pipeline when the
/// whole spec does (it sees every instance: one left out, or two with one name, would make
/// its findings wrong).
fn service_units(
    spec: &Spec,
    bundle: &Bundle,
    schema: &Source,
    service: Option<&ServiceContext<'_>>,
    r: &mut SpecResult,
) {
    let service_name = service.map_or_else(
        || {
            spec.source
                .path()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        },
        |s| s.service.to_string(),
    );
    let pipeline = pipeline_unit(spec, bundle, schema, &service_name, r);
    let Some(ty) = bundle.service_type() else {
        return;
    };
    for inst in &spec.instances {
        let before = errors(&r.diagnostics);
        if let (Some(ctx), Some((env, span))) = (service, &inst.environment) {
            check_instance_environment(ctx, bundle, &spec.source, env, span, &mut r.diagnostics);
        }
        let effective =
            typecheck::check(&spec.source, &inst.inputs, ty, schema, &mut r.diagnostics);
        if errors(&r.diagnostics) > before {
            r.failed.push(crate::unit::Failed {
                kind: UnitKind::ServiceInstance,
                name: inst.name.clone(),
                service: Some(service_name.clone()),
                environment: inst.environment.as_ref().map(|(e, _)| e.clone()),
                spec: spec.source.name().to_string(),
            });
            continue;
        }
        r.units.push(Unit {
            environment: inst.environment.as_ref().map(|(e, _)| e.clone()),
            origin: origin(&spec.source, &inst.inputs),
            stack: None,
            kind: UnitKind::ServiceInstance,
            name: inst.name.clone(),
            service: Some(service_name.clone()),
            bundle: bundle.display.clone(),
            spec: spec.source.name().to_string(),
            inputs: effective,
        });
    }
    if errors(&r.diagnostics) == 0 {
        r.units.extend(pipeline);
    }
}

/// The pipeline unit of a service spec, when the bundle has a pipeline and its inputs check
/// clean; I011 for `pipeline:` inputs to a bundle without one.
fn pipeline_unit(
    spec: &Spec,
    bundle: &Bundle,
    schema: &Source,
    service_name: &str,
    r: &mut SpecResult,
) -> Option<Unit> {
    match (&spec.pipeline, bundle.has_pipeline()) {
        (Some(p), false) => {
            r.diagnostics.push(
                Diagnostic::new(codes::I011, format!("`pipeline:` inputs, but `{}` has no pipeline", bundle.label()))
                    .at(&spec.source, p.anchor.clone())
                    .help("delete the `pipeline:` section, or use a template version with `pipeline_infrastructure/`"),
            );
            None
        }
        (p, true) => {
            let ty = bundle.pipeline_type()?;
            let inputs = p.clone().unwrap_or_else(|| spec::Inputs {
                node: None,
                anchor: spec.kind_span.clone(),
                place: "pipeline".into(),
            });
            let before = errors(&r.diagnostics);
            let effective = typecheck::check(&spec.source, &inputs, ty, schema, &mut r.diagnostics);
            (errors(&r.diagnostics) == before).then(|| Unit {
                environment: None,
                origin: origin(&spec.source, &inputs),
                stack: None,
                kind: UnitKind::Pipeline,
                name: service_name.to_string(),
                service: Some(service_name.to_string()),
                bundle: bundle.display.clone(),
                spec: spec.source.name().to_string(),
                inputs: effective,
            })
        }
        (None, false) => None,
    }
}

pub(super) fn errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .count()
}

/// Where each top-level input's value stands in the spec.
pub(super) fn origin(
    spec: &Source,
    inputs: &spec::Inputs,
) -> Option<crate::template::render::InputOrigin> {
    let entries = inputs.node.as_ref()?.as_map()?;
    Some(crate::template::render::InputOrigin {
        spec: spec.clone(),
        values: entries
            .iter()
            .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.span.clone()))
            .collect(),
        synthesized: false,
    })
}

pub(super) fn check_instance_environment(
    ctx: &ServiceContext<'_>,
    bundle: &Bundle,
    spec: &Source,
    env: &str,
    span: &std::ops::Range<usize>,
    diags: &mut Vec<Diagnostic>,
) {
    if ctx.cfg.environments.is_empty() {
        return;
    }
    let Some(env_bundle) = ctx.env_bundles.get(env) else {
        let names: Vec<&str> = ctx.env_bundles.keys().map(String::as_str).collect();
        let help = match did_you_mean(env, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "proctor.toml declares {}; add `[[environment]]` with `name = \"{env}\"` if it is new",
                crate::yaml::shape::list(&names)
            ),
        };
        diags.push(
            Diagnostic::new(
                codes::I012,
                format!("instance environment `{env}` is not declared in proctor.toml"),
            )
            .at(spec, span.clone())
            .help(help),
        );
        return;
    };
    let Some(env_bundle) = env_bundle.and_then(|ix| ctx.loaded.get(&ix)).map(|l| &l.0) else {
        return;
    };
    if bundle.compatible_environments.is_empty() {
        return;
    }
    let compatible = bundle
        .compatible_environments
        .iter()
        .any(|c| c.name == env_bundle.template_name && c.major == env_bundle.major.unwrap_or(1));
    if !compatible {
        let first = &bundle.compatible_environments[0];
        let listed: Vec<String> = bundle
            .compatible_environments
            .iter()
            .map(ToString::to_string)
            .collect();
        diags.push(
            Diagnostic::new(codes::I013, format!("environment `{env}` uses `{}`, which `{}` does not list as compatible", env_bundle.label(), bundle.label()))
                .at(spec, span.clone())
                .label(&first.source, first.span.clone(), "compatible environment templates are listed here")
                .help(format!("deploy the instance to an environment of {}, or add `{}` to `compatible_environments`", crate::yaml::shape::list(&listed.iter().map(String::as_str).collect::<Vec<_>>()), env_bundle.label())),
        );
    }
}
