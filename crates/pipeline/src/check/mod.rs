//! `proctor check`: one run from the command line's paths to findings. [`run`] reads as its
//! stages in order: proctor.toml, policies, plain templates, bundle discovery
//! ([`discover`]), deployments, bundle loading, specs ([`specs`]), the template stages
//! (`crate::stage`: analyse, render, validate), suppressions and codes. Pure: returns
//! diagnostics, prints nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::bundle::{self, Bundle};
use crate::config::Config;
use crate::diag::{Diagnostic, codes};
use crate::limits::Limits;
use crate::source::SourceFile;
use crate::stage;
use crate::unit::{Rendered, Unit};

mod affected;
mod analysis_memo;
mod deployments;
mod discover;
mod entry_diags;
mod entry_parts;
mod incremental;
mod keys;
mod plain;
mod read_ahead;
mod settled;
mod specs;
mod suppressions;

use affected::affected_with;
pub use affected::{Affected, affected};
use discover::{
    Catalog, Deployments, Paths, beside_specs, command_line_paths, dedup, identity, jobs,
    load_config, load_state, owners_of_beside_specs, policy_paths, project_specs, resolve,
    workspace_roots,
};
pub use incremental::{CacheReport, CacheUse};
use incremental::{Job, Session};
use plain::check_plain_templates;
pub use specs::SpecsRead;
use specs::{SpecOwner, SpecResult, check_standalone_spec, errors};
use suppressions::{Known, suppression_files};

#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Paths as given on the command line (bundles, folders of bundles, or spec files).
    pub paths: Vec<String>,
    /// Specs given with `--spec`.
    pub specs: Vec<String>,
    /// `--config`.
    pub config: Option<String>,
    /// Policy files or folders given with `--policy`.
    pub policies: Vec<String>,
    /// The folder to resolve relative paths against and to search for proctor.toml from.
    pub cwd: PathBuf,
    /// `--select` / `--ignore`, on top of proctor.toml's `[check]`.
    pub filter: crate::diag::filter::CodeFilter,
    /// `--changed`: `paths` are changed files; check only what they affect.
    pub changed: bool,
    /// Texts that stand in for files on disk (an editor's unsaved buffers; a proctor.toml
    /// `adopt` changed in memory): every read of the run looks here first.
    pub buffers: crate::files::Buffers,
    /// Drop each unit's rendered text and context once validated (`Outcome::rendered` then
    /// holds the first unit of each template that rendered, without its CloudFormation):
    /// what `check` and the language server do, so that memory does not grow with the
    /// number of deployments. `build`, `render` and `--base` keep them.
    pub slim: bool,
    /// Set by another thread when this run's result is no longer wanted (the language
    /// server, on a newer edit): the run stops between stages with `Outcome::cancelled`.
    pub cancel: crate::files::Cancel,
    /// Whether the run keeps and reuses deployments' results in a cache folder. Only full,
    /// slim runs of a workspace with proctor.toml use it (`proctor check`).
    pub cache: CacheUse,
    /// Policy rules' verdicts are counted (`Outcome::counted`), not listed in
    /// `Outcome::verdicts`: for a caller whose reports only count them (`proctor check`
    /// without a JSON report). A cold run of 100,000 deployments has a million verdicts (85
    /// MB, gathered on one thread); 120,000 verdicts the cache gave back, made one by one,
    /// were a tenth of a warm run.
    pub count_verdicts: bool,
    /// The units of the deployments the cache gives back are listed in `Outcome::units`,
    /// `failed` and `checked_by`, as a report that groups findings by deployment needs (the
    /// HTML report). Without it, those of cached services are not (their findings, counts
    /// and verdicts are the same): making a `Unit` of each was most of a warm run's work
    /// per deployment.
    pub cached_units: bool,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    pub bundles: usize,
    pub specs: usize,
    pub units: Vec<Unit>,
    /// The CloudFormation each unit rendered to (units that failed to render are left out);
    /// in a slim run, one unit of each template (`CheckOptions::slim`).
    pub rendered: Vec<Rendered>,
    /// The policies that ran: name as shown and sha256 of their text.
    pub policies: Vec<(String, String)>,
    /// The folder shown paths are relative to: the workspace root, or the current folder.
    pub root: PathBuf,
    /// What `proctor apply` recorded as deployed (`.proctor/state.json`), empty when nothing.
    pub deployed: crate::state::State,
    /// The codes this run reports (`[check]` and `--select`/`--ignore` together).
    pub filter: crate::diag::filter::CodeFilter,
    /// `--changed` found nothing proctor reads among the changed files.
    pub nothing_to_check: bool,
    /// proctor.toml as shown, and the sha256 of its text, when there is one.
    pub config: Option<(String, String)>,
    /// Every policy rule's verdict on every document, in no particular order (a report that
    /// lists them sorts them; most only count them).
    pub verdicts: Vec<crate::policy::RuleVerdict>,
    /// The verdicts counted and not in `verdicts` (`CheckOptions::count_verdicts`).
    pub counted: crate::policy::VerdictCounts,
    /// Which bundle checked each spec (the spec's path, the bundle's folder), valid or not:
    /// what an editor completes a spec from.
    pub checked_by: Vec<(PathBuf, PathBuf)>,
    /// The environment bundles each checked service bundle declares compatible (folders):
    /// where an editor finds `environment.outputs`.
    pub environments_of: Vec<(PathBuf, Vec<PathBuf>)>,
    /// Units whose inputs did not check (not rendered).
    pub failed: Vec<crate::unit::Failed>,
    /// The outputs each analysed template reads (`environment.outputs.VpcId`), by template
    /// as shown: the edges of `proctor graph`.
    pub output_refs: Vec<(String, Vec<String>)>,
    /// `CheckOptions::cancel` stopped the run: its findings are incomplete, not to be shown.
    pub cancelled: bool,
    /// What the cache did, when the run used it.
    pub cache: Option<CacheReport>,
    /// The specs the spec stage read, for the search for inline suppressions; emptied when
    /// the run finishes.
    pub specs_read: SpecsRead,
    /// What the run made and no longer needs: freed with the outcome.
    pub retired: Retired,
}

/// What a run no longer needs, kept to be freed with its outcome rather than one piece at a
/// time before returning it: on 10,000 deployments (proctor.toml, every spec read, every
/// cached record) that is tens of milliseconds, which `proctor check` leaves to the
/// process's exit.
#[derive(Default)]
pub struct Retired(Vec<Box<dyn std::any::Any + Send>>);

impl Retired {
    fn keep(&mut self, what: impl std::any::Any + Send) {
        self.0.push(Box::new(what));
    }
}

impl std::fmt::Debug for Retired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Retired({} parts)", self.0.len())
    }
}

/// Problems that stop proctor from running at all (exit code 2).
#[derive(Debug)]
pub enum Fatal {
    /// proctor.toml cannot be used; its diagnostics say why.
    Config(Vec<Diagnostic>),
    /// Bad command-line arguments.
    Usage(String),
}

/// Runs a check: the stages in order, each adding its findings to the outcome.
pub fn run(opts: &CheckOptions) -> Result<Outcome, Fatal> {
    let mut out = Outcome::default();
    let config = load_config(opts)?.map(|(cfg, diags)| {
        out.diagnostics.extend(diags);
        out.files += 1;
        cfg
    });
    // `--changed`: the paths are changed files; check what they affect (config read once).
    let Some(opts) = narrowed(opts, config.as_ref()) else {
        out.nothing_to_check = true;
        return Ok(out);
    };
    let run = Run::new(&opts, config.as_ref())?;
    proctor_core::phase::mark("config");
    out.root = run.root.clone();
    out.config = config
        .as_ref()
        .map(|c| (c.source.name().to_string(), sha256(c.source.text())));
    let cancelled = |out: &mut Outcome| {
        out.cancelled = opts.cancel.is_set();
        out.cancelled
    };
    let policies = run.policies(&mut out)?;
    let enforce = policies.enforcement(run.filter.any_enabled("C"));
    out.absorb(check_plain_templates(
        &run.plain_templates,
        &run.limits,
        &opts.buffers,
        &enforce,
    ));
    let mut bundles = run.discover(&mut out);
    proctor_core::phase::mark("policies, discover");
    let deployments = run.deployments(&mut bundles, &mut out);
    if cancelled(&mut out) {
        return Ok(out);
    }
    let mut loaded = run.load(bundles, deployments, &mut out);
    proctor_core::phase::mark("deployments, load");
    loaded.add_related(&run.limits, &opts.buffers);
    let mut session = run.session(&loaded, &policies, &out);
    proctor_core::phase::mark("session open");
    let memo = session.as_ref().map(|s| s as &dyn stage::analyse::Memo);
    let analysis = run.analyse(&loaded, memo);
    proctor_core::phase::mark("analyse");
    if let Some(s) = session.as_mut() {
        s.look_up(&analysis.templates);
    }
    out.environments_of = loaded.environments_of();
    proctor_core::phase::mark("look up");
    let (mut rule_verdicts, records) =
        run.templates(&loaded, analysis, &enforce, &mut out, session.as_mut());
    if cancelled(&mut out) {
        return Ok(out);
    }
    proctor_core::phase::mark("templates");
    let (plain, counted) = policies.verdicts.into_parts();
    out.counted += counted;
    let mut verdicts = vec![plain, std::mem::take(&mut rule_verdicts)];
    if let Some(mut s) = session {
        verdicts.append(&mut s.verdicts);
        out.counted += s.counted;
        out.specs_read
            .marked
            .extend(std::mem::take(&mut s.spec_sources));
        out.specs_read.clean.extend(std::mem::take(&mut s.unread));
        out.cache = Some(s.store(&out.units, &records));
        out.retired.keep(s);
    }
    verdicts.extend(records.into_iter().flatten().map(|r| r.verdicts));
    if opts.count_verdicts {
        let listed = verdicts.iter().flatten();
        listed.for_each(|v| out.counted.add(v.status));
        verdicts.clear();
    }
    // The longest list (a cold run's) takes the others: copied into a new one, a large
    // workspace's verdicts were held twice (85 MB at 100,000 deployments). The order is the
    // reports' to choose (the JSON report sorts them).
    let longest = (0..verdicts.len()).max_by_key(|&i| verdicts[i].len());
    out.verdicts = longest.map_or_else(Vec::new, |i| verdicts.swap_remove(i));
    out.verdicts.reserve(verdicts.iter().map(Vec::len).sum());
    verdicts.into_iter().for_each(|v| out.verdicts.extend(v));
    let full_run = opts.paths.is_empty() && opts.specs.is_empty();
    proctor_core::phase::mark("verdicts, store");
    out.diagnostics
        .extend(policies.waivers.report(full_run, &policies.loaded));
    let read = std::mem::take(&mut out.specs_read);
    run.finish(&mut out, (&read.marked, &read.clean));
    out.retired.keep((read, config, loaded, policies.loaded));
    proctor_core::phase::mark("finish");
    Ok(out)
}

fn sha256(text: &str) -> String {
    crate::source::sha256(text.as_bytes())
}

/// The options a `--changed` run checks with (the paths it affects); `None` when the changed
/// files affect nothing proctor reads.
fn narrowed(opts: &CheckOptions, config: Option<&Config>) -> Option<CheckOptions> {
    let mut o = opts.clone();
    if !opts.changed {
        return Some(o);
    }
    o.changed = false;
    match affected_with(opts, config) {
        Affected::Everything(_) => o.paths.clear(),
        Affected::Paths(p) => o.paths = p,
        Affected::Nothing => return None,
    }
    Some(o)
}

/// What every stage of one run reads: the options, proctor.toml, the limits and codes in
/// force, the walk budget every folder walk shares, and the command line's paths, sorted.
struct Run<'a> {
    opts: &'a CheckOptions,
    config: Option<&'a Config>,
    /// The folder shown paths are relative to.
    root: PathBuf,
    limits: Limits,
    filter: crate::diag::filter::CodeFilter,
    walk: crate::paths::WalkBudget,
    /// Paths or specs were named: only they are checked.
    explicit: bool,
    roots: Paths,
    spec_files: Paths,
    plain_templates: Paths,
}

/// The policies of a run, with the waivers and the verdicts they collect.
struct Policies {
    loaded: Vec<crate::policy::Policy>,
    waivers: crate::policy::Waivers,
    verdicts: crate::policy::Verdicts,
}

impl Policies {
    fn enforcement(&self, cfn_checks: bool) -> crate::policy::Enforcement<'_> {
        crate::policy::Enforcement {
            policies: &self.loaded,
            waivers: &self.waivers,
            verdicts: &self.verdicts,
            cfn_checks,
        }
    }
}

/// What the cache holds for each unit so far, by position (nothing without the cache).
fn cached_of<'s>(
    session: &'s Option<&mut Session>,
) -> &'s [Option<std::sync::Arc<stage::render::UnitRecord>>] {
    session.as_deref().map_or(&[], |s| &s.cached[..])
}

/// How many of proctor.toml's services a run checks and renders together, when it streams
/// them (`Run::specs_and_render`): enough to keep both cores busy, few enough that their
/// inputs are about ten megabytes. Each batch ends with the cores waiting on each other:
/// 4,096 rather than 1,024 made a cold check of 10,000 deployments 2 to 8% faster (three
/// runs of 6 to 12 paired rounds) for about 10 MB more at its peak.
const SPEC_BATCH: usize = 4096;

/// proctor.toml's services (`services`) in the batches a streamed run takes them in: an
/// eighth of `spec_batch()`, then a half, then whole ones. Each batch's spec stage runs beside
/// the render of the batch before, which takes several times longer per service; the first
/// has only the environments beside it, so it is small, and the run is soon overlapped.
fn batches<T>(services: &[T]) -> impl Iterator<Item = &[T]> {
    let whole = spec_batch();
    let mut sizes = [whole / 8, whole / 2]
        .into_iter()
        .map(|n| n.max(1))
        .chain(std::iter::repeat(whole));
    let mut rest = services;
    std::iter::from_fn(move || {
        let n = sizes.next()?.min(rest.len());
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        (!batch.is_empty()).then_some(batch)
    })
}

/// `SPEC_BATCH`; in debug builds, `PROCTOR_SPEC_BATCH` when set, so that the tests stream a
/// small workspace a few services at a time.
fn spec_batch() -> usize {
    let given = std::env::var("PROCTOR_SPEC_BATCH")
        .ok()
        .filter(|_| cfg!(debug_assertions));
    given
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(SPEC_BATCH)
}

/// The bundles a run loaded (catalog index to bundle and its own findings), and which of
/// them it checks.
struct Loaded {
    bundles: HashMap<usize, (Bundle, Vec<Diagnostic>)>,
    catalog: Catalog,
    deployments: Deployments,
    /// The bundles this run checks (given, or used by a checked deployment).
    shown: Vec<usize>,
    /// The bundles given on the command line (or found in the default folders).
    given: Vec<usize>,
}

impl<'a> Run<'a> {
    fn new(opts: &'a CheckOptions, config: Option<&'a Config>) -> Result<Self, Fatal> {
        let limits = config.map_or_else(Limits::default, |c| c.limits.clone());
        let filter = config
            .map_or_else(Default::default, |c| c.filter.clone())
            .overlay(&opts.filter);
        let (roots, spec_files, plain_templates) = command_line_paths(opts)?;
        Ok(Run {
            root: config.map_or_else(|| opts.cwd.clone(), |c| c.root.clone()),
            // Every walk of the run (bundles, policy files) shares one budget of entries.
            walk: crate::paths::WalkBudget::new(limits.max_files),
            explicit: !opts.paths.is_empty() || !opts.specs.is_empty(),
            opts,
            config,
            limits,
            filter,
            roots,
            spec_files,
            plain_templates,
        })
    }

    /// Loads the policy files (none when every policy code is disabled) and the waivers.
    fn policies(&self, out: &mut Outcome) -> Result<Policies, Fatal> {
        let enabled = self.filter.any_enabled("P");
        let files = if enabled {
            policy_paths(self.opts, self.config, &self.walk)?
        } else {
            Vec::new()
        };
        let (mut loaded, diags) =
            crate::policy::load_all_in(&files, &self.limits, &self.opts.buffers);
        if enabled && self.config.is_some_and(|c| c.builtin_policies) {
            loaded.extend(crate::policy::builtin::load(&self.limits));
        }
        out.files += files.len();
        out.policies = loaded
            .iter()
            .map(|p| (p.source.name().to_string(), sha256(p.source.text())))
            .collect();
        out.diagnostics.extend(diags);
        let waivers = crate::policy::Waivers::new(
            self.config.map(|c| c.waivers.clone()).unwrap_or_default(),
            self.config.map(|c| c.source.clone()),
            crate::policy::waiver::Date::today(),
        );
        Ok(Policies {
            loaded,
            waivers,
            verdicts: crate::policy::Verdicts::default(),
        })
    }

    /// The folders this run searches for bundles: the paths given, or the workspace's
    /// template folders.
    fn search_roots(&self) -> Paths {
        if self.explicit {
            self.roots.clone()
        } else {
            workspace_roots(self.config, self.opts)
        }
    }

    /// Bundles under the given paths (or, by default, the workspace's template folders), then
    /// every other bundle the configuration can name, to resolve deployments' templates.
    fn discover(&self, out: &mut Outcome) -> (Catalog, Vec<usize>) {
        let mut catalog = Catalog::default();
        let mut given: Vec<usize> = Vec::new();
        for (path, shown) in &self.search_roots() {
            let found = bundle::discover(path, shown, &self.walk);
            if found.is_empty() && (self.config.is_none() || self.explicit) {
                let dir = SourceFile::new(shown.clone(), path.clone(), String::new());
                out.diagnostics.push(
                    Diagnostic::new(codes::B010, format!("no bundle found in `{shown}`"))
                        .at_file(&dir)
                        .help("point proctor at a bundle folder (one with `schema/` and an infrastructure folder) or a folder of bundles"),
                );
            }
            given.extend(found.into_iter().map(|d| catalog.insert(d)));
        }
        dedup(&mut given);
        if self.config.is_some() && self.explicit {
            for (path, shown) in &workspace_roots(self.config, self.opts) {
                for d in bundle::discover(path, shown, &self.walk) {
                    catalog.insert(d);
                }
            }
        }
        if let Some(folder) = self.walk.stopped() {
            let dir = SourceFile::new(folder.clone(), out.root.join(&folder), String::new());
            out.diagnostics.push(
                Diagnostic::new(
                    codes::F006,
                    format!(
                        "stopped looking for bundles and policy files in `{folder}`: the run visited {} folders and files",
                        self.limits.max_files
                    ),
                )
                .at_file(&dir)
                .help("keep generated and vendored files out of template and policy folders, point proctor at a narrower folder, or raise `limits.max_files` in proctor.toml"),
            );
        }
        (catalog, given)
    }

    /// Deployments: each one's bundle, resolved once, and whether this run checks it.
    fn deployments(&self, bundles: &mut (Catalog, Vec<usize>), out: &mut Outcome) -> Deployments {
        let (catalog, given) = bundles;
        let mut deployments = Deployments::default();
        let Some(cfg) = self.config else {
            return deployments;
        };
        let keys = |paths: &Paths| -> Vec<PathBuf> {
            paths
                .iter()
                .map(|(p, _)| crate::paths::identity(p))
                .collect()
        };
        let (spec_keys, root_keys) = (keys(&self.spec_files), keys(&self.roots));
        let selected = |bundle: usize, spec: &Path| {
            if !self.explicit || given.contains(&bundle) {
                return true;
            }
            // Resolved only when paths were named: a full run selects every deployment.
            let spec = crate::paths::identity(&cfg.root.join(spec));
            spec_keys.contains(&spec) || root_keys.iter().any(|r| spec.starts_with(r))
        };
        for e in &cfg.environments {
            let b = resolve(cfg, &e.template, catalog, &mut out.diagnostics);
            deployments.environments.push(b);
            deployments
                .env_jobs
                .push(b.filter(|&b| selected(b, &e.spec.value)));
        }
        for s in &cfg.services {
            let b = resolve(cfg, &s.template, catalog, &mut out.diagnostics);
            deployments
                .svc_jobs
                .push(b.filter(|&b| selected(b, &s.spec.value)));
        }
        deployments
    }

    /// Loads every bundle needed, in parallel; each bundle's diagnostics stay its own. Shown
    /// are the bundles this run checks; environments' bundles are loaded for the services'
    /// compatibility check only.
    fn load(
        &self,
        (catalog, given): (Catalog, Vec<usize>),
        deployments: Deployments,
        out: &mut Outcome,
    ) -> Loaded {
        let mut shown: Vec<usize> = given.clone();
        let jobs = deployments.env_jobs.iter().chain(&deployments.svc_jobs);
        shown.extend(jobs.flatten());
        dedup(&mut shown);
        let mut needed = shown.clone();
        needed.extend(deployments.environments.iter().flatten());
        dedup(&mut needed);
        let bundles: HashMap<usize, (Bundle, Vec<Diagnostic>)> = needed
            .par_iter()
            .map(|&ix| {
                let mut diags = Vec::new();
                let buffers = &self.opts.buffers;
                let b = bundle::load_in(&catalog.dirs[ix], &self.limits, buffers, &mut diags);
                (ix, (b, diags))
            })
            .collect();
        for ix in &shown {
            let (b, diags) = &bundles[ix];
            out.diagnostics.extend(diags.iter().cloned());
            out.files += b.files_read;
            out.bundles += 1;
        }
        Loaded {
            bundles,
            catalog,
            deployments,
            shown,
            given,
        }
    }

    /// The cache, when this run uses it: a full, slim run of a workspace with proctor.toml,
    /// reading no editor buffers. Every deployment is looked up.
    fn session(&self, loaded: &Loaded, policies: &Policies, out: &Outcome) -> Option<Session> {
        let cfg = self.config?;
        let usable = !self.explicit && self.opts.slim && self.opts.buffers.is_empty();
        let dir = match &self.opts.cache {
            CacheUse::Off => return None,
            _ if !usable => return None,
            CacheUse::Default => cfg.root.join(crate::cache::DEFAULT_DIR),
            CacheUse::Dir(d) => self.opts.cwd.join(d),
        };
        let inputs = incremental::Inputs {
            config: cfg,
            policies: &out.policies,
            filter: &self.opts.filter,
            limits: &self.limits,
            bundles: &loaded.bundles,
            env_jobs: &loaded.deployments.env_jobs,
            svc_jobs: &loaded.deployments.svc_jobs,
            loaded: &policies.loaded,
            config_sha256: out.config.as_ref().map_or("", |(_, sha)| sha.as_str()),
            count_verdicts: self.opts.count_verdicts,
        };
        Some(Session::open(dir, &inputs))
    }

    /// Specs beside bundles (`<template>/spec/*.yaml`), in project `specs/` folders (without
    /// proctor.toml) and named on the command line, each checked once, and not again when a
    /// deployment already checked it.
    fn standalone_specs<'l>(&self, loaded: &'l Loaded) -> Vec<(PathBuf, String, SpecOwner<'l>)> {
        let given: Vec<&Bundle> = loaded
            .given
            .iter()
            .map(|ix| &loaded.bundles[ix].0)
            .collect();
        let mut standalone: Vec<(PathBuf, String, SpecOwner)> = Vec::new();
        for b in owners_of_beside_specs(&given) {
            let specs = beside_specs(b).into_iter();
            standalone.extend(specs.map(|(p, s)| (p, s, SpecOwner::Bundle(b))));
        }
        if self.config.is_none() {
            let inside: Vec<PathBuf> = self
                .search_roots()
                .iter()
                .map(|(p, _)| crate::paths::identity(p))
                .collect();
            for (p, s, bundles) in project_specs(&given, &inside) {
                standalone.push((p, s, SpecOwner::Project(bundles)));
            }
        }
        let named = self.spec_files.iter().cloned();
        standalone.extend(named.map(|(p, s)| (p, s, SpecOwner::Given(given.clone()))));
        if standalone.is_empty() {
            // Most workspaces: nothing to resolve the deployments' 10,000 spec paths for.
            return standalone;
        }
        let mut seen: std::collections::HashSet<PathBuf> = match self.config {
            Some(cfg) => cfg
                .environments
                .iter()
                .map(|e| &e.spec.value)
                .chain(cfg.services.iter().map(|s| &s.spec.value))
                .map(|s| crate::paths::identity(&cfg.root.join(s)))
                .collect(),
            None => Default::default(),
        };
        standalone.retain(|(p, _, _)| seen.insert(crate::paths::identity(p)));
        standalone
    }

    /// The analysis stage, over the bundles this run checks (the others are read for the
    /// outputs they declare).
    fn analyse(
        &self,
        bundles: &Loaded,
        memo: Option<&dyn stage::analyse::Memo>,
    ) -> stage::analyse::Analysis {
        let (checked, related) = bundles.checked_and_related();
        let reading = (&self.limits, &self.opts.buffers);
        stage::analyse::run(&checked, &related, reading, memo)
    }

    /// The deployments' specs are checked and their units rendered (and validated), a batch
    /// of specs at a time when the run can: so that it never holds every deployment's inputs
    /// at once. It can when proctor.toml's deployments are all there is to check (no spec
    /// outside them), each service's name is its own, and no environment will be
    /// synthesized (`stage::render::Stream` says why). Otherwise every spec is checked
    /// first and every unit rendered at once. The findings are the same, in the same order.
    fn specs_and_render(
        &self,
        loaded: &Loaded,
        inputs: &stage::render::Inputs,
        templates: &[stage::analyse::Analysed],
        out: &mut Outcome,
        mut session: Option<&mut Session>,
    ) -> stage::render::Rendering {
        let standalone = self.standalone_specs(loaded);
        if let Some(d) = self.deployment_jobs(loaded) {
            if let Some(s) = session.as_deref_mut() {
                s.make_room(&mut out.units);
            }
            let (environments, services) = d.jobs.split_at(d.environments);
            let envs = (&d, environments, false);
            self.deployment_specs(loaded, envs, out, session.as_deref_mut());
            let streams = standalone.is_empty()
                && d.services_unique
                && !stage::synthesized::synthesizes_environments(inputs.bundles, &out.units);
            if streams {
                let mut stream = stage::render::Stream::new(inputs, templates);
                let given = self.stream_services(
                    loaded,
                    (&d, services),
                    &mut stream,
                    out,
                    session.as_deref_mut(),
                );
                let Some(s) = session else {
                    return stream.finish(&mut out.units, &mut [], &|_, _| None);
                };
                let mut cached = std::mem::take(&mut s.cached);
                let rendering = |id: usize, k: usize| s.rendering_of(*given.get(id)?, k);
                let rendered = stream.finish(&mut out.units, &mut cached, &rendering);
                s.cached = cached;
                return rendered;
            }
            let jobs = (&d, services, false);
            self.deployment_specs(loaded, jobs, out, session.as_deref_mut());
        }
        let reading = (&self.limits, &self.opts.buffers);
        let results: Vec<SpecResult> = standalone
            .par_iter()
            .map(|(path, shown, owner)| check_standalone_spec(path, shown, owner, reading))
            .collect();
        for r in results {
            out.absorb(r);
        }
        if self.opts.cancel.is_set() {
            return stage::render::Rendering::default();
        }
        let cached = session.map_or(&mut [][..], |s| &mut s.cached[..]);
        stage::render::run(inputs, templates, &mut out.units, cached)
    }

    /// proctor.toml's services, streamed (`specs_and_render`). Each batch's specs are
    /// checked while the batch before renders (the first while the environments render):
    /// the cores do not wait for each other at the end of each stage. Without a cache session
    /// (whose keys read every spec first), the specs are read a batch ahead by threads that
    /// only read (`read_ahead`), so that a spec from a slow disk holds up no core. Returns
    /// the services given back without their units, by `GivenUnits::id`.
    fn stream_services(
        &self,
        loaded: &Loaded,
        (d, services): (&deployments::DeploymentJobs, &[(Job, usize)]),
        stream: &mut stage::render::Stream,
        out: &mut Outcome,
        mut session: Option<&mut Session>,
    ) -> Vec<Job> {
        let batches: Vec<&[(Job, usize)]> = batches(services).collect();
        let mut given: Vec<Job> = Vec::new();
        let ahead = self.config.filter(|_| session.is_none());
        let reading = (&self.opts.buffers, self.limits.max_file_bytes);
        std::thread::scope(|scope| {
            let start = |k: usize| Some(read_ahead::start(scope, ahead?, batches.get(k)?, reading));
            let mut pending = std::collections::VecDeque::from([start(0), start(1)]);
            let found = |k: usize, texts: Option<read_ahead::Pending>, s: Option<&Session>| {
                let batch = batches.get(k)?;
                let texts = texts.map(|p| p.wait(batch.len()));
                let jobs = (d, *batch, true);
                Some(self.deployments_found(loaded, jobs, s, texts.as_deref()))
            };
            let (fed, first) = (0..out.units.len(), pending.pop_front().flatten());
            let units = &mut out.units;
            let mut next = rayon::join(
                || found(0, first, session.as_deref()),
                || stream.feed(units, fed, cached_of(&session)),
            )
            .0;
            for k in 1.. {
                let Some(batch) = next.take() else { break };
                if self.opts.cancel.is_set() {
                    break;
                }
                let from = out.units.len();
                let found_given = self.absorb_deployments(batch, out, session.as_deref_mut());
                for (mut units, job, b) in found_given {
                    units.id = given.len();
                    given.push(job);
                    stream.give(units, &loaded.bundles[&b].0.display);
                }
                pending.push_back(start(k + 1));
                let (fed, texts) = (from..out.units.len(), pending.pop_front().flatten());
                let units = &mut out.units;
                next = rayon::join(
                    || found(k, texts, session.as_deref()),
                    || stream.feed(units, fed, cached_of(&session)),
                )
                .0;
                if let Some(s) = session.as_deref_mut() {
                    s.store_ready(&out.units, stream.records_mut());
                }
            }
        });
        given
    }

    /// The template stages after analysis: render, validate. Their findings on one template
    /// line are reported once. Returns the policy rules' verdicts.
    fn templates(
        &self,
        bundles: &Loaded,
        analysis: stage::analyse::Analysis,
        enforce: &crate::policy::Enforcement,
        out: &mut Outcome,
        session: Option<&mut Session>,
    ) -> (
        Vec<crate::policy::RuleVerdict>,
        Vec<Option<Box<stage::render::UnitRecord>>>,
    ) {
        let (checked, related) = bundles.checked_and_related();
        let loaded = &bundles.bundles;
        let broken: Vec<bool> = bundles
            .shown
            .iter()
            .map(|ix| errors(&loaded[ix].1) > 0)
            .collect();
        out.files += analysis.templates.len();
        // A recorded unit's verdicts are listed in its record, for the cache to give back.
        let count = self.opts.count_verdicts && session.is_none();
        let validate = |renderer: &crate::template::render::Renderer,
                        unit: (&stage::render::RenderedUnit, &Unit),
                        text: Option<String>| {
            stage::validate::one(renderer, unit, text, enforce, self.config, count)
        };
        let mut state_diagnostics = Vec::new();
        let deployed = load_state(&out.root, &mut state_diagnostics);
        let inputs = stage::render::Inputs {
            bundles: &checked,
            broken: &broken,
            related: &related,
            config: self.config,
            limits: &self.limits,
            deployed: &deployed,
            buffers: &self.opts.buffers,
            validate: Some(&validate),
            slim: self.opts.slim,
            record: session.is_some(),
        };
        let rendering = self.specs_and_render(bundles, &inputs, &analysis.templates, out, session);
        out.diagnostics.extend(state_diagnostics);
        out.deployed = deployed;
        let validation = rendering.validation;
        out.output_refs = analysis
            .templates
            .iter()
            .filter_map(|t| {
                let usage = t.usage.as_ref()?;
                let mut names: Vec<String> =
                    usage.output_refs.iter().map(|(_, n)| n.clone()).collect();
                names.sort();
                names.dedup();
                Some((t.source.name().to_string(), names))
            })
            .collect();
        out.output_refs.sort();
        let mut found = analysis.diagnostics;
        found.extend(rendering.diagnostics);
        found.extend(validation);
        stage::dedup(&mut found);
        out.diagnostics.extend(found);
        out.rendered = rendering.rendered;
        if self.opts.slim {
            // Rendered and validated: the inputs (and the spec texts their origins hold)
            // are read by nothing after this.
            for u in &mut out.units {
                u.inputs = serde_json::Value::Null;
                u.origin = None;
            }
        }
        out.counted += rendering.counted;
        (rendering.verdicts, rendering.records)
    }

    /// Inline suppressions in the specs and templates this run read, then the codes in force,
    /// then a deterministic order. Unused suppressions are reported on full runs only: a
    /// narrowed run may not render the deployment a suppression is for.
    /// `read`: files the run already read (by name as shown), not to read again; `unread`:
    /// specs the run knows have no suppressions without reading them.
    fn finish(self, out: &mut Outcome, read: Known) {
        let files = suppression_files(out, &self.limits, &self.opts.buffers, read);
        let filter = &self.filter;
        crate::diag::suppress::apply(&mut out.diagnostics, &files, filter, !self.explicit);
        out.diagnostics.retain(|d| filter.enabled(d.code));
        out.diagnostics
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        out.filter = self.filter;
    }
}

impl Loaded {
    /// The bundles this run checks, and the other loaded ones.
    fn checked_and_related(&self) -> (Vec<&Bundle>, Vec<&Bundle>) {
        let checked = self.shown.iter().map(|ix| &self.bundles[ix].0).collect();
        let related = self
            .bundles
            .iter()
            .filter(|(ix, _)| !self.shown.contains(ix))
            .map(|(_, (b, _))| b)
            .collect();
        (checked, related)
    }

    /// Each checked service bundle's compatible environment bundles that were found.
    fn environments_of(&self) -> Vec<(PathBuf, Vec<PathBuf>)> {
        let envs: Vec<&Bundle> = self
            .bundles
            .values()
            .map(|(b, _)| b)
            .filter(|b| b.kind.is_environment())
            .collect();
        let mut out: Vec<(PathBuf, Vec<PathBuf>)> = self
            .shown
            .iter()
            .map(|ix| &self.bundles[ix].0)
            .filter(|b| !b.compatible_environments.is_empty())
            .map(|b| {
                let wanted: Vec<String> = b
                    .compatible_environments
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let mut dirs: Vec<PathBuf> = envs
                    .iter()
                    .filter(|e| {
                        wanted.contains(&identity(&bundle::BundleDir {
                            path: e.dir.clone(),
                            display: e.display.clone(),
                        }))
                    })
                    .map(|e| e.dir.clone())
                    .collect();
                dirs.sort();
                (b.dir.clone(), dirs)
            })
            .collect();
        out.sort();
        out
    }
}

impl Loaded {
    /// Loads the environment bundles that the checked service bundles declare compatible
    /// and that no deployment needed: the template stages read the outputs they declare.
    fn add_related(&mut self, limits: &Limits, buffers: &crate::files::Buffers) {
        let wanted: Vec<String> = self
            .shown
            .iter()
            .flat_map(|ix| self.bundles[ix].0.compatible_environments.iter())
            .map(ToString::to_string)
            .collect();
        for (ix, dir) in self.catalog.dirs.iter().enumerate() {
            if !self.bundles.contains_key(&ix) && wanted.contains(&identity(dir)) {
                let b = bundle::load_in(dir, limits, buffers, &mut Vec::new());
                self.bundles.insert(ix, (b, Vec::new()));
            }
        }
    }
}
