//! The render stage: every deployment unit is rendered, in dependency order: environments
//! first, so that service instances see their environment's known outputs; then instances,
//! so that pipelines see theirs; then pipelines and components. Bundles that no spec uses
//! are rendered with inputs synthesized from their schema. Only rendering happens here:
//! whether the CloudFormation is valid is the validation stage's question.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value as Json;

use super::analyse::{Analysed, Declared, compatible_outputs};
use super::synthesized::synthesized_units;
use super::{account_id, template_identity, unit_label};
use crate::bundle::{Bundle, Role};
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::limits::Limits;
use crate::source::Source;
use crate::state::State;
use crate::template::render::{
    self, Context, EnvironmentFacts, InstanceFacts, ServiceFacts, StackOutputs,
};
use crate::unit::{Rendered, Rendition, Unit, UnitKind};

mod order;
mod outputs;
pub use order::{GivenRendering, GivenUnit, GivenUnits};
use outputs::{InstanceOutputs, instance_outputs, with_deployed};
pub(super) use outputs::{known_outputs, stated_outputs};

/// What the render stage reads.
pub struct Inputs<'a> {
    /// The bundles this run checks.
    pub bundles: &'a [&'a Bundle],
    /// `broken[i]`: bundle `i` has errors of its own. It is analysed but not rendered, since
    /// its render errors would only repeat them.
    pub broken: &'a [bool],
    /// Other loaded bundles (environment templates that services declare compatible).
    pub related: &'a [&'a Bundle],
    pub config: Option<&'a Config>,
    pub limits: &'a Limits,
    /// The outputs of stacks already applied.
    pub deployed: &'a State,
    /// Texts that stand in for files on disk.
    pub buffers: &'a crate::files::Buffers,
    /// Validates units as soon as they render, a batch at a time, so that a run never holds
    /// every rendering at once (`Rendering::validation` has the findings, in unit order).
    /// `None`: the caller validates `Rendering::units` itself.
    pub validate: Option<&'a Validate<'a>>,
    /// Drop each unit's rendered text and context once it is validated: `check` needs
    /// neither afterwards, and on 10,000 deployments they are most of the memory.
    pub slim: bool,
    /// Keep what each of `units` rendered and validated to (`Rendering::records`), for the
    /// cache. Only with `validate`.
    pub record: bool,
}

/// How the render stage has a unit validated, right after it renders, on the same thread
/// (the stage's renderer places findings back on the template). Beside the rendering, the
/// unit as the stage was given it: a slim run's `RenderedUnit::unit` holds no inputs. The
/// text is given away when nothing reads it afterwards (a slim run): else validation copies
/// it.
pub type Validate<'a> = dyn Fn(&render::Renderer, (&RenderedUnit, &Unit), Option<String>) -> super::validate::Validated
    + Sync
    + 'a;

/// What rendering and validating one unit found: what the cache keeps of it, and gives back
/// in place of rendering it again.
#[derive(Clone, Debug, Default)]
pub struct UnitRecord {
    /// What the unit rendered to, without its text and context, when it rendered.
    pub rendered: Option<Rendition>,
    pub render: Vec<Diagnostic>,
    pub validation: Vec<Diagnostic>,
    pub verdicts: Vec<crate::policy::RuleVerdict>,
    /// A service instance's Outputs as rendered: what its pipeline sees.
    pub known: Vec<(String, String)>,
    /// An environment's outputs as its service instances see them (boxed: few records are
    /// environments').
    pub outputs: Option<Box<StackOutputs>>,
}

/// Units rendered (and validated) together; memory holds at most this many renderings
/// beside the environments'.
const BATCH: usize = 256;

/// One unit that rendered, with what the validation stage needs to check it and to move its
/// findings back to the template.
pub struct RenderedUnit {
    pub rendered: Rendered,
    pub unit: Unit,
    pub template: Source,
    pub context: Context,
    /// `false` when rendering hit a bug (E001): there is nothing to validate.
    pub validate: bool,
    /// A service instance's Outputs as rendered (name, value), read before its text is
    /// dropped: what its service's pipeline sees. An environment's too: what its services
    /// see.
    pub known: Vec<(String, String)>,
    /// The unit's position in the stage's list (`Inputs::units`, then synthesized units).
    pub index: usize,
    /// What validating it found (`Inputs::validate`), until the stage collects it.
    pub validated: Option<super::validate::Validated>,
}

/// What the render stage produced.
#[derive(Default)]
pub struct Rendering {
    /// While a feed runs: the units it rendered (not the cached ones) that rendered,
    /// environments first.
    units: Vec<RenderedUnit>,
    /// What the units of earlier feeds rendered to, by position: `rendered` takes them, in
    /// order, when the stage is done. In a slim run, only the first of each template.
    done: Vec<(usize, Rendered)>,
    /// In a slim run: where in `done` each template's first rendering is.
    first: HashMap<String, usize>,
    /// What every unit that rendered rendered to, cached ones included, in the units' order
    /// (environments first). Those that failed to render are left out (their diagnostics
    /// say why). In a slim run, only the first unit of each template (nothing after the
    /// stage reads more than the templates that rendered, and 100,000 renderings' names
    /// are 90 MB).
    pub rendered: Vec<Rendered>,
    /// Each fresh unit's findings, by its index, in the order they were found.
    render_by_unit: Vec<(usize, Vec<Diagnostic>)>,
    validation_by_unit: Vec<(usize, Vec<Diagnostic>)>,
    pub diagnostics: Vec<Diagnostic>,
    /// The validation findings, when `Inputs::validate` was given.
    pub validation: Vec<Diagnostic>,
    /// Every policy rule's verdict on every unit, when `Inputs::validate` was given; those
    /// of recorded units are in their records instead.
    pub verdicts: Vec<crate::policy::RuleVerdict>,
    /// The verdicts validation only counted (`Validated::counted`).
    pub counted: crate::policy::VerdictCounts,
    /// With `Inputs::record`: what each of `Inputs::units` that was not cached rendered and
    /// validated to (by position; `None` for the cached ones).
    pub records: Vec<Option<Box<UnitRecord>>>,
}

/// Renders `units` (the units whose specs were checked) with the templates the analysis
/// stage read, then units synthesized for the bundles no spec uses: a `Stream` fed every
/// unit at once.
///
/// `cached` is what the cache holds for some of `units` (by position; shorter than `units`,
/// or empty, when it holds nothing for the rest): those units are neither rendered nor
/// validated again, and their records' findings and renderings are put where rendering them
/// would have put them (moved out of the records that nothing else holds). Only with
/// `Inputs::validate`.
///
/// In a slim run, what a unit was rendered from is dropped as soon as nothing else reads it:
/// where its inputs were written once it renders, its inputs once it renders (an instance's
/// once its service's pipeline has listed it). So that instances' inputs do not wait for
/// every instance, a pipeline renders as soon as all of its service's instances have.
/// `units` gets back the units given, slimmed.
pub fn run(
    inputs: &Inputs,
    templates: &[Analysed],
    units: &mut Vec<Unit>,
    cached: &mut [Option<Arc<UnitRecord>>],
) -> Rendering {
    let mut stream = Stream::new(inputs, templates);
    let given = units.len();
    let synthesized = stream.synthesized(units);
    units.extend(synthesized);
    stream.given = Some(given);
    let all = 0..units.len();
    stream.feed(units, all, cached);
    stream.finish(units, cached, &|_, _| None)
}

/// The render stage fed a few deployments at a time, so that a run never holds every
/// deployment's inputs at once: the caller checks a batch of specs, feeds their units, and
/// checks the next batch.
///
/// Every environment is fed before any service instance that could name it (an instance
/// sees its environment's rendered outputs), and each service's instances and pipeline in
/// one feed (a pipeline lists its service's instances). Units synthesized for the bundles no
/// fed unit uses are rendered by `finish`, after the rest: a caller that feeds units more
/// than once makes sure no environment will be synthesized (`synthesizes_environments`).
/// Findings and renderings come out of `finish` in the order `run` gives them.
pub struct Stream<'a> {
    stage: Stage<'a>,
    out: Rendering,
    /// The outputs of the environments rendered so far, by name.
    env_outputs: BTreeMap<String, StackOutputs>,
    /// How many units were given when the synthesized ones were added to them (by `run`,
    /// before its one feed); `None` until then. Only given units are recorded.
    given: Option<usize>,
    /// The deployments the cache gave back without their units (`give`), in order, and the
    /// bundles they use.
    given_back: Vec<GivenUnits>,
    given_bundles: foldhash::HashSet<String>,
}

impl<'a> Stream<'a> {
    /// What each fed unit that was not cached rendered and validated to, by position, so
    /// far (`Rendering::records`): a caller may take those of units that are done.
    pub fn records_mut(&mut self) -> &mut [Option<Box<UnitRecord>>] {
        &mut self.out.records
    }

    pub fn new(inputs: &'a Inputs<'a>, templates: &'a [Analysed]) -> Self {
        let mut renderer = render::Renderer::new(inputs.limits.render());
        renderer.prepare(templates.iter().map(|t| &t.source));
        Stream {
            stage: Stage {
                inputs,
                templates,
                renderer,
                declared: Declared::default(),
            },
            out: Rendering::default(),
            env_outputs: BTreeMap::new(),
            given: None,
            given_back: Vec::new(),
            given_bundles: Default::default(),
        }
    }

    /// Units for the bundles that neither `units` nor the deployments given (`give`) use.
    fn synthesized(&self, units: &[Unit]) -> Vec<Unit> {
        let mut used: foldhash::HashSet<&str> = units.iter().map(|u| u.bundle.as_str()).collect();
        used.extend(self.given_bundles.iter().map(String::as_str));
        synthesized_units(self.stage.inputs.bundles, &used)
    }

    /// Takes a deployment of the bundle `bundle` that the cache gave back without listing
    /// its units: its findings go where its units would have been (`GivenUnits::at`), which
    /// comes after those of every deployment given before. Only service deployments, whose
    /// units no other unit reads (a pipeline lists its own service's instances).
    pub fn give(&mut self, units: GivenUnits, bundle: &str) {
        if !self.given_bundles.contains(bundle) {
            self.given_bundles.insert(bundle.to_string());
        }
        self.given_back.push(units);
    }

    /// Renders (and validates) `units[range]`, the units added since the last feed: the
    /// environments, then the service instances and pipelines. `cached` is the cache's
    /// record of each unit so far, by position.
    pub fn feed(
        &mut self,
        units: &mut [Unit],
        range: Range<usize>,
        cached: &[Option<Arc<UnitRecord>>],
    ) {
        let (stage, out) = (&self.stage, &mut self.out);
        let recorded = range.end.min(self.given.unwrap_or(usize::MAX));
        if stage.inputs.record && out.records.len() < recorded {
            out.records.resize(recorded, None);
        }
        let environments = every(units, range.clone(), UnitKind::Environment);
        if !environments.is_empty() {
            let fresh_environments = fresh(cached, &environments);
            let results = stage.render_batch(units, &fresh_environments, Role::Environment, |u| {
                stage.environment_context(u)
            });
            let rendered = out.keep(results);
            let found =
                stage.environment_outputs(units, cached, &environments, out, rendered.clone());
            self.env_outputs.extend(found);
            stage.settle(out, rendered);
            slim(stage.inputs, units, &environments, true);
        }
        services(stage, cached, out, units, range, &self.env_outputs);
        out.finish_feed(stage.inputs.slim);
    }

    /// Renders the units synthesized for the bundles no unit uses and the components, and
    /// puts every unit's findings and rendering in order (see `run`). `rendering` makes
    /// the `Rendered` of a unit of a deployment given without its units (`give`).
    pub fn finish(
        mut self,
        units: &mut Vec<Unit>,
        cached: &mut [Option<Arc<UnitRecord>>],
        rendering: &GivenRendering,
    ) -> Rendering {
        let given = match self.given {
            Some(given) => given,
            None => {
                let given = units.len();
                let synthesized = self.synthesized(units);
                self.given = Some(given);
                if !synthesized.is_empty() {
                    units.extend(synthesized);
                    let synthesized = given..units.len();
                    self.feed(units, synthesized, cached);
                }
                given
            }
        };
        let (stage, out) = (&self.stage, &mut self.out);
        let components = every(units, 0..units.len(), UnitKind::Component);
        for batch in fresh(cached, &components).chunks(BATCH) {
            let results = stage.render_batch(units, batch, Role::Component, |u| {
                stage.component_context(u)
            });
            let rendered = out.keep(results);
            stage.settle(out, rendered);
            slim(stage.inputs, units, batch, true);
        }
        out.finish_feed(stage.inputs.slim);
        let mut out = self.out;
        let given_back = (&mut self.given_back[..], rendering);
        out.in_order(units, cached, given_back, stage.inputs.slim);
        units.truncate(given);
        out
    }
}

/// Renders the service instances, a batch at a time, and each service's pipeline once all of
/// its instances have rendered (in batches too); a slim run drops what they were rendered
/// from as soon as nothing reads it.
fn services(
    stage: &Stage,
    cached: &[Option<Arc<UnitRecord>>],
    out: &mut Rendering,
    units: &mut [Unit],
    range: Range<usize>,
    env_outputs: &BTreeMap<String, StackOutputs>,
) {
    let inputs = stage.inputs;
    // Each service's instances (by bundle and service): what its pipeline lists; and how
    // many of them are still to render before its pipeline can.
    let instances = every(units, range.clone(), UnitKind::ServiceInstance);
    let mut pending: HashMap<ServiceKey, Vec<usize>> = HashMap::new();
    for i in fresh(cached, &every(units, range, UnitKind::Pipeline)) {
        pending.entry(service_key(&units[i])).or_default().push(i);
    }
    // Only the services whose pipelines render list their instances (a warm run renders a
    // few of thousands).
    let listed: std::collections::HashSet<&str> = pending.keys().map(|k| k.0.as_str()).collect();
    let mut of_service: HashMap<ServiceKey, Vec<usize>> = HashMap::new();
    for &i in &instances {
        if listed.contains(units[i].bundle.as_str()) {
            of_service
                .entry(service_key(&units[i]))
                .or_default()
                .push(i);
        }
    }
    let mut waiting: HashMap<ServiceKey, usize> = HashMap::new();
    let fresh_instances = fresh(cached, &instances);
    for &i in &fresh_instances {
        *waiting.entry(service_key(&units[i])).or_default() += 1;
    }
    let mut listing: HashMap<ServiceKey, usize> =
        pending.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    // Only the pipelines to render read instances' Outputs: those of their services.
    let cached_instances: Vec<usize> = pending
        .keys()
        .filter_map(|k| of_service.get(k))
        .flatten()
        .copied()
        .filter(|&i| record_of(cached, i).is_some())
        .collect();
    let mut outputs = instance_outputs(cached, units, &cached_instances, &[]);
    let mut ready: Vec<usize> = Vec::new();
    // Pipelines none of whose instances is to render: ready now.
    let keys: Vec<ServiceKey> = pending
        .keys()
        .filter(|k| !waiting.contains_key(*k))
        .cloned()
        .collect();
    for k in keys {
        ready.extend(pending.remove(&k).unwrap_or_default());
    }
    let mut batches = fresh_instances.chunks(BATCH);
    loop {
        let next = batches.next();
        // The pipelines whose instances have all rendered, a batch at a time (all that are
        // left when the instances are done).
        while ready.len() >= BATCH || (next.is_none() && !ready.is_empty()) {
            let batch: Vec<usize> = ready.drain(..ready.len().min(BATCH)).collect();
            let results = stage.render_batch(units, &batch, Role::Pipeline, |u| {
                let listed = of_service
                    .get(&service_key(u))
                    .map_or(&[][..], Vec::as_slice);
                let listed: Vec<&Unit> = listed.iter().map(|&j| &units[j]).collect();
                stage.pipeline_context(u, &listed, &outputs, env_outputs)
            });
            let rendered = out.keep(results);
            stage.settle(out, rendered);
            slim(inputs, units, &batch, true);
            for &p in &batch {
                let key = service_key(&units[p]);
                let left = listing.get_mut(&key).map(|n| {
                    *n -= 1;
                    *n
                });
                // The service's last pipeline has listed its instances.
                if left == Some(0) {
                    let listed = of_service.get(&key).cloned().unwrap_or_default();
                    slim(inputs, units, &listed, true);
                }
            }
        }
        let Some(batch) = next else { break };
        let results = stage.render_batch(units, batch, Role::ServiceInstance, |u| {
            stage.instance_context(u, env_outputs)
        });
        let rendered = out.keep(results);
        stage.settle(out, rendered.clone());
        outputs.extend(instance_outputs(cached, units, batch, &out.units[rendered]));
        for &i in batch {
            let key = service_key(&units[i]);
            let left = waiting.get_mut(&key).map(|n| {
                *n -= 1;
                *n
            });
            if left == Some(0) {
                ready.extend(pending.remove(&key).unwrap_or_default());
            }
            // No pipeline to list it: its inputs are read by nothing more.
            slim(inputs, units, &[i], !listing.contains_key(&key));
        }
    }
}

/// The units of `kind` among `units[range]`, by position.
fn every(units: &[Unit], range: Range<usize>, kind: UnitKind) -> Vec<usize> {
    range.filter(|&i| units[i].kind == kind).collect()
}

/// Those of `all` that the cache has no record of: to render.
fn fresh(cached_records: &[Option<Arc<UnitRecord>>], all: &[usize]) -> Vec<usize> {
    let fresh = all
        .iter()
        .filter(|&&i| record_of(cached_records, i).is_none());
    fresh.copied().collect()
}

/// In a slim run, drops what the units `done` were rendered from: where their inputs were
/// written, and their inputs too when nothing else reads them.
fn slim(inputs: &Inputs, units: &mut [Unit], done: &[usize], inputs_too: bool) {
    if inputs.slim {
        for &i in done {
            units[i].origin = None;
            if inputs_too {
                units[i].inputs = Json::Null;
            }
        }
    }
}

/// A service as its pipeline and instances share it: the bundle and the service's name.
type ServiceKey = (String, Option<String>);

fn service_key(u: &Unit) -> ServiceKey {
    (u.bundle.clone(), u.service.clone())
}

type Outcome = Option<(RenderedUnit, Vec<Diagnostic>)>;

/// A unit's rendering as the stage keeps it: `None` when it was not rendered (its bundle's
/// template did not parse); else the unit, unless it rendered nothing for a T error, and
/// its render findings.
type Kept = Option<(Option<RenderedUnit>, Vec<Diagnostic>)>;

impl Rendering {
    /// Keeps the units that rendered (`proctor render` prints them even when the
    /// CloudFormation has findings) and every diagnostic, by unit; returns where the kept
    /// units are.
    fn keep(&mut self, results: Vec<(usize, Kept)>) -> Range<usize> {
        let start = self.units.len();
        self.units.reserve(results.len());
        for (i, result) in results {
            if let Some(record) = self.records.get_mut(i) {
                *record = Some(Box::default());
            }
            let Some((r, diags)) = result else { continue };
            if let Some(Some(record)) = self.records.get_mut(i) {
                record.render = diags.clone();
            }
            self.render_by_unit.push((i, diags));
            self.units.extend(r);
        }
        start..self.units.len()
    }

    /// Keeps what the feed's units rendered to, and lets go of the rest of them (their
    /// templates, contexts and units). A slim run keeps the first of each template in the
    /// order `in_order` lists them.
    fn finish_feed(&mut self, slim: bool) {
        let rendered = std::mem::take(&mut self.units).into_iter();
        let rendered = rendered.map(|r| (r.index, r.rendered));
        if !slim {
            self.done.extend(rendered);
            return;
        }
        let order = |(index, r): &(usize, Rendered)| (phase(r.kind), *index);
        for r in rendered {
            match self.first.get(&r.1.template) {
                Some(&at) if order(&self.done[at]) < order(&r) => {}
                Some(&at) => self.done[at] = r,
                None => {
                    self.first.insert(r.1.template.clone(), self.done.len());
                    self.done.push(r);
                }
            }
        }
    }
}

/// The order of the kinds of unit in a run's findings and renderings.
const PHASES: [UnitKind; 4] = [
    UnitKind::Environment,
    UnitKind::ServiceInstance,
    UnitKind::Pipeline,
    UnitKind::Component,
];

/// Where units of `kind` come in `PHASES`.
fn phase(kind: UnitKind) -> usize {
    PHASES
        .iter()
        .position(|&k| k == kind)
        .unwrap_or(PHASES.len())
}

/// The cache's record of unit `i`, if it has one.
fn record_of(records: &[Option<Arc<UnitRecord>>], i: usize) -> Option<&Arc<UnitRecord>> {
    records.get(i)?.as_ref()
}

/// The render stage's view of the run.
struct Stage<'a> {
    inputs: &'a Inputs<'a>,
    templates: &'a [Analysed],
    renderer: render::Renderer,
    /// The outputs templates declare, read once per file: every service reads its compatible
    /// environment templates', every environment its own template's and every pipeline its
    /// instance template's.
    declared: Declared,
}

impl Stage<'_> {
    /// What a batch of rendered units comes to: each one's findings and verdicts (made as
    /// it rendered, `after_render`), collected in the units' order, and recorded when the
    /// caller asked.
    fn settle(&self, out: &mut Rendering, range: Range<usize>) {
        let Rendering {
            units,
            validation_by_unit,
            verdicts,
            counted,
            records,
            ..
        } = out;
        for r in &mut units[range] {
            let Some(found) = r.validated.take() else {
                continue;
            };
            let (diags, mut rule_verdicts) = (found.diagnostics, found.verdicts);
            *counted += found.counted;
            // A recorded unit's verdicts stay in its record (one copy; the caller collects
            // them from there).
            if let Some(Some(record)) = records.get_mut(r.index) {
                record.rendered = Some(Rendition::Made(Box::new(Rendered {
                    text: String::new(),
                    context: Json::Null,
                    ..r.rendered.clone()
                })));
                record.validation = diags.clone();
                record.verdicts = std::mem::take(&mut rule_verdicts);
                if r.unit.kind != UnitKind::Environment {
                    record.known = r.known.clone();
                }
            }
            validation_by_unit.push((r.index, diags));
            verdicts.extend(rule_verdicts);
        }
    }

    /// The output names template `t` declares, sorted.
    fn declared_names(&self, t: &Analysed) -> Vec<String> {
        let names = self.declared.of_source(&t.source).names;
        names.into_iter().collect()
    }

    /// The analysed template of `role` in the bundle shown as `bundle`, unless that bundle is
    /// broken or the template did not parse.
    fn find(&self, bundle: &str, role: Role) -> Option<&Analysed> {
        let bi = self
            .inputs
            .bundles
            .iter()
            .position(|b| b.display == bundle)?;
        if self.inputs.broken.get(bi).copied().unwrap_or(false) {
            return None;
        }
        self.templates
            .iter()
            .find(|t| t.bundle == bi && t.role == role && t.usage.is_some())
    }

    /// Renders the units `batch` (positions in `units`) in parallel, each in the context
    /// `context` gives it, and goes on with each unit that rendered on the same thread
    /// (`after_render`).
    fn render_batch(
        &self,
        units: &[Unit],
        batch: &[usize],
        role: Role,
        context: impl Fn(&Unit) -> Context + Sync,
    ) -> Vec<(usize, Kept)> {
        batch
            .par_iter()
            .map(|&i| {
                let u = &units[i];
                let outcome = self.render_one(i, u, context(u), role);
                let kept = outcome.map(|(mut r, diags)| {
                    // A unit whose template rendered nothing for a T error is not kept:
                    // its findings say why.
                    let kept = !r.rendered.text.is_empty()
                        || diags.iter().all(|d| !d.code.id.starts_with('T'));
                    if kept {
                        self.after_render(&mut r, u);
                    }
                    (kept.then_some(r), diags)
                });
                (i, kept)
            })
            .collect()
    }

    /// What is done with a unit as soon as it renders, while its text is still in the
    /// processor's caches: it is validated (when the caller asked), the outputs its readers
    /// see are read (an environment's by its services, an instance's by its pipeline), and
    /// in a slim run what nothing reads afterwards is dropped, on the thread that made it.
    fn after_render(&self, r: &mut RenderedUnit, unit: &Unit) {
        let mut stated = None;
        if let Some(validate) = self.inputs.validate {
            // A slim run drops the text below: validation may keep it. It reads the outputs
            // of a text it could not parse as `known_outputs` does.
            let given =
                (self.inputs.slim && r.validate).then(|| std::mem::take(&mut r.rendered.text));
            let mut found = validate(&self.renderer, (r, unit), given);
            stated = found.outputs.take();
            r.validated = Some(found);
        }
        let read = match r.unit.kind {
            UnitKind::Environment => true,
            UnitKind::ServiceInstance => self.find(&r.unit.bundle, Role::Pipeline).is_some(),
            UnitKind::Pipeline | UnitKind::Component => false,
        };
        if read {
            r.known = stated.unwrap_or_else(|| known_outputs(&r.rendered.text));
        }
        if self.inputs.slim {
            r.rendered.text = String::new();
            r.rendered.context = Json::Null;
            r.context = Context::Environment {
                environment: EnvironmentFacts::default(),
                inputs: Json::Null,
            };
        }
    }

    /// Renders one unit. A bug while rendering it is that unit's E001; the others go on.
    fn render_one(&self, index: usize, u: &Unit, ctx: Context, role: Role) -> Outcome {
        let what = || format!("rendering {}", unit_label(u));
        let template = self.find(&u.bundle, role)?.source.clone();
        match crate::diag::isolate::isolated(what, || self.render_unit(index, u, ctx, role)) {
            Ok(r) => r,
            Err(d) => {
                let unit = Rendered {
                    kind: u.kind,
                    name: u.name.clone(),
                    service: u.service.clone(),
                    template: template.name().to_string(),
                    text: String::new(),
                    synthesized: u.origin.as_ref().is_some_and(|o| o.synthesized),
                    spec: u.spec.clone(),
                    context: Json::Null,
                    template_name: String::new(),
                    template_version: String::new(),
                };
                let d = d.at(&template, 0..0);
                let unit = RenderedUnit {
                    rendered: unit,
                    unit: u.clone(),
                    template,
                    context: Context::Environment {
                        environment: EnvironmentFacts::default(),
                        inputs: Json::Null,
                    },
                    validate: false,
                    known: Vec::new(),
                    index,
                    validated: None,
                };
                Some((unit, vec![d]))
            }
        }
    }

    fn render_unit(&self, index: usize, u: &Unit, ctx: Context, role: Role) -> Outcome {
        // A failpoint for the tests of E001, in debug builds only: PROCTOR_FAILPOINT=render:NAME.
        if cfg!(debug_assertions)
            && std::env::var("PROCTOR_FAILPOINT").is_ok_and(|f| f == format!("render:{}", u.name))
        {
            panic!("failpoint render:{} (a simulated bug)", u.name);
        }
        let t = self.find(&u.bundle, role)?;
        let usage = t.usage.as_ref()?;
        let label = unit_label(u);
        let origin = u.origin.as_ref();
        let rendered = render::render(&self.renderer, &t.source, usage, &ctx, origin, &label);
        let (text, diags, validate) = match rendered {
            Ok(text) => (text, Vec::new(), true),
            Err(diags) => (String::new(), diags, false),
        };
        let (template_name, template_version) = template_identity(u, self.inputs.config);
        let listing = ctx.listing(usage.output_refs.iter().map(|(_, n)| n.as_str()));
        let rendered = Rendered {
            template_name,
            template_version,
            kind: u.kind,
            name: u.name.clone(),
            service: u.service.clone(),
            template: t.source.name().to_string(),
            text,
            synthesized: origin.is_some_and(|o| o.synthesized),
            spec: u.spec.clone(),
            // `proctor render --context` and the build record read it; a slim run would
            // only drop it.
            context: match self.inputs.slim {
                true => Json::Null,
                false => serde_json::to_value(listing.to_value()).unwrap_or(Json::Null),
            },
        };
        let unit = RenderedUnit {
            rendered,
            // A slim run drops the inputs once the unit is validated: they are not copied.
            unit: match self.inputs.slim {
                true => u.without_inputs(),
                false => u.clone(),
            },
            template: t.source.clone(),
            context: ctx,
            validate,
            known: Vec::new(),
            index,
            validated: None,
        };
        Some((unit, diags))
    }

    fn environment_context(&self, u: &Unit) -> Context {
        Context::Environment {
            environment: EnvironmentFacts {
                name: u.name.clone(),
                account_id: account_id(self.inputs.config, &u.name),
                outputs: StackOutputs::default(),
            },
            inputs: u.inputs.clone(),
        }
    }

    /// Each environment's outputs: the known values of its rendered template (`rendered`
    /// are where the environments are in `out.units`), and the names it declares (unknown
    /// until deployed); a cached environment's as recorded. Recorded when the caller asked.
    fn environment_outputs(
        &self,
        units: &[Unit],
        cached_records: &[Option<Arc<UnitRecord>>],
        environments: &[usize],
        out: &mut Rendering,
        rendered: Range<usize>,
    ) -> BTreeMap<String, StackOutputs> {
        // The first rendering of each name (a name given twice renders twice), whose
        // outputs were read as it rendered (`after_render`).
        let mut by_name: HashMap<&str, &[(String, String)]> = HashMap::new();
        for r in &out.units[rendered] {
            by_name.entry(&r.unit.name).or_insert(&r.known);
        }
        let found: Vec<(usize, StackOutputs)> = environments
            .par_iter()
            .filter_map(|&i| {
                let u = &units[i];
                if let Some(record) = record_of(cached_records, i) {
                    return Some((i, record.outputs.as_deref()?.clone()));
                }
                let known = by_name.get(u.name.as_str())?;
                let declared = self
                    .find(&u.bundle, Role::Environment)
                    .map(|t| self.declared_names(t));
                let deployed = self.inputs.deployed.environment_outputs(&u.name);
                let outputs = StackOutputs {
                    path: "environment.outputs".into(),
                    known: with_deployed(known.to_vec(), deployed),
                    declared,
                };
                Some((i, outputs))
            })
            .collect();
        let mut by_name = BTreeMap::new();
        for (i, outputs) in found {
            if let Some(Some(record)) = out.records.get_mut(i) {
                record.outputs = Some(Box::new(outputs.clone()));
            }
            by_name.insert(units[i].name.clone(), outputs);
        }
        by_name
    }

    /// The environment `name` as a service of `service_bundle` sees it: its rendered outputs
    /// when this run renders it, else the outputs its compatible templates declare.
    fn environment_facts(
        &self,
        name: &str,
        service_bundle: &str,
        env_outputs: &BTreeMap<String, StackOutputs>,
    ) -> EnvironmentFacts {
        let Inputs {
            bundles,
            related,
            limits,
            buffers,
            ..
        } = self.inputs;
        let outputs = match env_outputs.get(name) {
            Some(outputs) => outputs.clone(),
            None => StackOutputs {
                path: "environment.outputs".into(),
                known: with_deployed(Vec::new(), self.inputs.deployed.environment_outputs(name)),
                declared: bundles
                    .iter()
                    .find(|b| b.display == service_bundle)
                    .and_then(|b| {
                        let reading = (*limits, *buffers);
                        compatible_outputs(b, related, bundles, reading, &self.declared)
                    })
                    .filter(|o| !o.dynamic)
                    .map(|o| o.names.into_iter().collect()),
            },
        };
        EnvironmentFacts {
            name: name.to_string(),
            account_id: account_id(self.inputs.config, name),
            outputs,
        }
    }

    fn instance_context(&self, u: &Unit, env_outputs: &BTreeMap<String, StackOutputs>) -> Context {
        let env_name = u.environment.clone().unwrap_or_default();
        Context::ServiceInstance {
            environment: self.environment_facts(&env_name, &u.bundle, env_outputs),
            service: service_facts(self.inputs.config, u.service.as_deref().unwrap_or_default()),
            instance: u.name.clone(),
            inputs: u.inputs.clone(),
        }
    }

    /// A pipeline sees every instance of its service, with the outputs each rendered.
    fn pipeline_context(
        &self,
        u: &Unit,
        instances: &[&Unit],
        rendered: &InstanceOutputs,
        env_outputs: &BTreeMap<String, StackOutputs>,
    ) -> Context {
        let declared = self
            .find(&u.bundle, Role::ServiceInstance)
            .map(|t| self.declared_names(t));
        let instances = instances
            .iter()
            .filter(|i| i.bundle == u.bundle && i.service == u.service)
            .map(|i| {
                let known = rendered
                    .get(&(i.service.clone(), i.name.clone()))
                    .cloned()
                    .unwrap_or_default();
                let service = i.service.as_deref().unwrap_or_default();
                let deployed = self.inputs.deployed.instance_outputs(service, &i.name);
                let env_name = i.environment.as_deref().unwrap_or_default();
                InstanceFacts {
                    name: i.name.clone(),
                    inputs: i.inputs.clone(),
                    outputs: StackOutputs {
                        path: format!("service_instances[{}].outputs", i.name),
                        known: with_deployed(known, deployed),
                        declared: declared.clone(),
                    },
                    environment: self.environment_facts(env_name, &i.bundle, env_outputs),
                }
            })
            .collect();
        Context::Pipeline {
            service: service_facts(self.inputs.config, u.service.as_deref().unwrap_or_default()),
            inputs: u.inputs.clone(),
            instances,
        }
    }

    /// A component's instance is unknown until it is attached: its inputs render as
    /// placeholders.
    fn component_context(&self, u: &Unit) -> Context {
        let any = |path: &str| StackOutputs {
            path: path.into(),
            known: Vec::new(),
            declared: None,
        };
        let env_name = u.environment.as_deref().unwrap_or_default();
        let deployed = self.inputs.deployed.environment_outputs(env_name);
        Context::Component {
            name: u.name.clone(),
            environment: EnvironmentFacts {
                name: env_name.to_string(),
                account_id: None,
                outputs: StackOutputs {
                    known: with_deployed(Vec::new(), deployed),
                    ..any("environment.outputs")
                },
            },
            service: u.service.clone().unwrap_or_default(),
            instance: format!("{}-instance", u.service.as_deref().unwrap_or_default()),
            instance_inputs: any("service_instance.inputs"),
        }
    }
}

fn service_facts(config: Option<&Config>, name: &str) -> ServiceFacts {
    let s = config.and_then(|c| c.service(name));
    ServiceFacts {
        name: name.to_string(),
        branch_name: s.and_then(|s| s.branch.clone()),
        repository_connection_arn: s.and_then(|s| s.repository_connection_arn.clone()),
        repository_id: s.and_then(|s| s.repository_id.clone()),
    }
}
