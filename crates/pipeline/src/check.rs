//! `proctor check`: find the workspace's bundles and deployments, load and lint the bundles,
//! and type-check every spec against its bundle. Pure: returns diagnostics, prints nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::bundle::{self, Bundle, BundleDir, BundleKind};
use crate::config::{self, Config, TemplateRef};
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::limits::Limits;
use crate::paths::join_display;
use crate::files::read_source;
use crate::source::{Source, SourceFile};
use crate::spec::{self, Spec, SpecKind, typecheck};
use crate::stage;
use crate::unit::{Rendered, Unit, UnitKind};

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
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    pub bundles: usize,
    pub specs: usize,
    pub units: Vec<Unit>,
    /// The CloudFormation each unit rendered to (units that failed to render are left out).
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
    /// Every policy rule's verdict on every document, sorted.
    pub verdicts: Vec<crate::policy::RuleVerdict>,
}

/// Problems that stop proctor from running at all (exit code 2).
#[derive(Debug)]
pub enum Fatal {
    /// proctor.toml cannot be used; its diagnostics say why.
    Config(Vec<Diagnostic>),
    /// Bad command-line arguments.
    Usage(String),
}

pub fn run(opts: &CheckOptions) -> Result<Outcome, Fatal> {
    let mut out = Outcome::default();
    let config = match load_config(opts)? {
        Some((cfg, diags)) => {
            out.diagnostics.extend(diags);
            out.files += 1;
            Some(cfg)
        }
        None => None,
    };
    // `--changed`: the paths are changed files; check what they affect (config read once).
    let narrowed;
    let opts = if opts.changed {
        let mut o = opts.clone();
        o.changed = false;
        match affected_with(opts, config.as_ref()) {
            Affected::Everything(_) => o.paths.clear(),
            Affected::Paths(p) => o.paths = p,
            Affected::Nothing => {
                out.nothing_to_check = true;
                return Ok(out);
            }
        }
        narrowed = o;
        &narrowed
    } else {
        opts
    };
    out.root = config
        .as_ref()
        .map_or_else(|| opts.cwd.clone(), |c| c.root.clone());
    out.config = config.as_ref().map(|c| {
        (
            c.source.name().to_string(),
            crate::source::sha256(c.source.text().as_bytes()),
        )
    });
    let limits = config
        .as_ref()
        .map_or_else(Limits::default, |c| c.limits.clone());
    crate::policy::eval::set_backtrack_limit(limits.regex_backtrack_limit);
    // Every walk of the run (bundles, policy files) shares one budget of folder entries.
    let walk = crate::paths::WalkBudget::new(limits.max_files);
    let filter = config
        .as_ref()
        .map_or_else(Default::default, |c| c.filter.clone())
        .overlay(&opts.filter);
    let (roots, spec_files, plain_templates) = command_line_paths(opts)?;
    // With every policy code disabled, no policy is loaded or evaluated.
    let policy_files = if filter.any_enabled("P") {
        policy_paths(opts, config.as_ref(), &walk)?
    } else {
        Vec::new()
    };
    let (mut policies, policy_diags) = crate::policy::load_all(&policy_files, &limits);
    if filter.any_enabled("P") && config.as_ref().is_some_and(|c| c.builtin_policies) {
        policies.extend(crate::policy::builtin::load(&limits));
    }
    out.files += policy_files.len();
    out.policies = policies
        .iter()
        .map(|p| {
            (
                p.source.name().to_string(),
                crate::source::sha256(p.source.text().as_bytes()),
            )
        })
        .collect();
    out.diagnostics.extend(policy_diags);
    let waivers = crate::policy::Waivers::new(
        config
            .as_ref()
            .map(|c| c.waivers.clone())
            .unwrap_or_default(),
        config.as_ref().map(|c| c.source.clone()),
        crate::policy::waiver::Date::today(),
    );
    let cfn_checks = filter.any_enabled("C");
    let verdicts = crate::policy::Verdicts::default();
    out.absorb(check_plain_templates(
        &plain_templates,
        &limits,
        &crate::policy::Enforcement {
            policies: &policies,
            waivers: &waivers,
            verdicts: &verdicts,
            cfn_checks,
        },
    ));
    let explicit = !opts.paths.is_empty() || !opts.specs.is_empty();

    // Bundles under the given paths (or, by default, the workspace's template folders), then
    // every other bundle the configuration can name, to resolve deployments' templates.
    let mut catalog = Catalog::default();
    let default_roots = workspace_roots(config.as_ref(), opts);
    let mut given: Vec<usize> = Vec::new();
    for (path, shown) in if explicit { &roots } else { &default_roots } {
        let found = bundle::discover(path, shown, &walk);
        if found.is_empty() && (config.is_none() || explicit) {
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
    if config.is_some() && explicit {
        for (path, shown) in &default_roots {
            for d in bundle::discover(path, shown, &walk) {
                catalog.insert(d);
            }
        }
    }
    if let Some(folder) = walk.stopped() {
        let dir = SourceFile::new(folder.clone(), out.root.join(&folder), String::new());
        out.diagnostics.push(
            Diagnostic::new(
                codes::F006,
                format!(
                    "stopped looking for bundles and policy files in `{folder}`: the run visited {} folders and files",
                    limits.max_files
                ),
            )
            .at_file(&dir)
            .help("keep generated and vendored files out of template and policy folders, point proctor at a narrower folder, or raise `limits.max_files` in proctor.toml"),
        );
    }

    // Deployments: each one's bundle, resolved once, and whether this run checks it.
    let mut deployments = Deployments::default();
    if let Some(cfg) = &config {
        let spec_keys: Vec<PathBuf> = spec_files
            .iter()
            .map(|(p, _)| crate::paths::identity(p))
            .collect();
        let root_keys: Vec<PathBuf> = roots
            .iter()
            .map(|(r, _)| crate::paths::identity(r))
            .collect();
        let selected = |bundle: usize, spec: &Path| {
            let spec = crate::paths::identity(&cfg.root.join(spec));
            !explicit
                || given.contains(&bundle)
                || spec_keys.contains(&spec)
                || root_keys.iter().any(|r| spec.starts_with(r))
        };
        for e in &cfg.environments {
            let b = resolve(cfg, &e.template, &mut catalog, &mut out.diagnostics);
            deployments.environments.push(b);
            deployments
                .env_jobs
                .push(b.filter(|&b| selected(b, &e.spec.value)));
        }
        for s in &cfg.services {
            let b = resolve(cfg, &s.template, &mut catalog, &mut out.diagnostics);
            deployments
                .svc_jobs
                .push(b.filter(|&b| selected(b, &s.spec.value)));
        }
    }

    // Load every bundle needed, in parallel; each bundle's diagnostics stay its own. Shown
    // are the bundles this run checks; environments' bundles are loaded for the services'
    // compatibility check only.
    let mut shown: Vec<usize> = given.clone();
    shown.extend(
        deployments
            .env_jobs
            .iter()
            .chain(&deployments.svc_jobs)
            .flatten(),
    );
    dedup(&mut shown);
    let mut needed = shown.clone();
    needed.extend(deployments.environments.iter().flatten());
    dedup(&mut needed);
    let loaded: HashMap<usize, (Bundle, Vec<Diagnostic>)> = needed
        .par_iter()
        .map(|&ix| {
            let mut diags = Vec::new();
            let b = bundle::load(&catalog.dirs[ix], &limits, &mut diags);
            (ix, (b, diags))
        })
        .collect();
    for ix in &shown {
        let (b, diags) = &loaded[ix];
        out.diagnostics.extend(diags.iter().cloned());
        out.files += b.files_read;
        out.bundles += 1;
    }

    let mut checked_specs: Vec<PathBuf> = Vec::new();
    if let Some(cfg) = &config {
        let env_bundles: BTreeMap<String, Option<usize>> = cfg
            .environments
            .iter()
            .zip(&deployments.environments)
            .map(|(e, b)| (e.name.value.clone(), *b))
            .collect();
        let env_jobs: Vec<(usize, usize)> = jobs(&deployments.env_jobs);
        let svc_jobs: Vec<(usize, usize)> = jobs(&deployments.svc_jobs);
        let results: Vec<SpecResult> = env_jobs
            .par_iter()
            .map(|&(i, b)| {
                let e = &cfg.environments[i];
                isolated_spec(cfg, &e.spec.value, || {
                    check_deployment_spec(
                        cfg,
                        &e.spec,
                        &limits,
                        &loaded[&b].0,
                        Some(&e.name.value),
                        None,
                    )
                })
            })
            .chain(svc_jobs.par_iter().map(|&(i, b)| {
                let s = &cfg.services[i];
                let ctx = ServiceContext {
                    cfg,
                    env_bundles: &env_bundles,
                    loaded: &loaded,
                    service: &s.name.value,
                };
                isolated_spec(cfg, &s.spec.value, || {
                    check_deployment_spec(cfg, &s.spec, &limits, &loaded[&b].0, None, Some(&ctx))
                })
            }))
            .collect();
        for r in results {
            out.absorb(r);
        }
        let specs = cfg
            .environments
            .iter()
            .map(|e| &e.spec.value)
            .chain(cfg.services.iter().map(|s| &s.spec.value));
        checked_specs.extend(specs.map(|s| crate::paths::identity(&cfg.root.join(s))));
    }

    // Specs beside bundles (`<template>/spec/*.yaml`), and specs named on the command line,
    // each checked once.
    let given_loaded: Vec<&Bundle> = given.iter().map(|ix| &loaded[ix].0).collect();
    let mut standalone: Vec<(PathBuf, String, SpecOwner)> = Vec::new();
    for b in owners_of_beside_specs(&given_loaded) {
        standalone.extend(
            beside_specs(b)
                .into_iter()
                .map(|(p, s)| (p, s, SpecOwner::Bundle(b))),
        );
    }
    // Without proctor.toml, specs in project-level `specs/` folders inside the checked folders.
    if config.is_none() {
        let inside: Vec<PathBuf> = (if explicit { &roots } else { &default_roots })
            .iter()
            .map(|(p, _)| crate::paths::identity(p))
            .collect();
        for (p, s, bundles) in project_specs(&given_loaded, &inside) {
            standalone.push((p, s, SpecOwner::Project(bundles)));
        }
    }
    standalone.extend(
        spec_files
            .into_iter()
            .map(|(p, s)| (p, s, SpecOwner::Given(given_loaded.clone()))),
    );
    let mut seen = checked_specs;
    standalone.retain(|(p, _, _)| {
        let k = crate::paths::identity(p);
        let fresh = !seen.contains(&k);
        seen.push(k);
        fresh
    });
    let results: Vec<SpecResult> = standalone
        .par_iter()
        .map(|(path, shown, owner)| check_standalone_spec(path, shown, owner, &limits))
        .collect();
    for r in results {
        out.absorb(r);
    }

    // Templates: the environment templates that the checked service templates declare
    // compatible are loaded too, for the outputs they declare.
    drop(given_loaded);
    let mut loaded = loaded;
    let wanted: Vec<String> = shown
        .iter()
        .flat_map(|ix| {
            loaded[ix]
                .0
                .compatible_environments
                .iter()
                .map(ToString::to_string)
        })
        .collect();
    for (ix, dir) in catalog.dirs.iter().enumerate() {
        if !loaded.contains_key(&ix) && wanted.contains(&identity(dir)) {
            let b = bundle::load(dir, &limits, &mut Vec::new());
            loaded.insert(ix, (b, Vec::new()));
        }
    }
    let checked: Vec<&Bundle> = shown.iter().map(|ix| &loaded[ix].0).collect();
    let related: Vec<&Bundle> = loaded
        .iter()
        .filter(|(ix, _)| !shown.contains(ix))
        .map(|(_, (b, _))| b)
        .collect();
    let broken: Vec<bool> = shown.iter().map(|ix| errors(&loaded[ix].1) > 0).collect();
    out.deployed = load_state(&out.root, &mut out.diagnostics);
    let deployed = out.deployed.clone();
    let enforce = crate::policy::Enforcement {
        policies: &policies,
        waivers: &waivers,
        verdicts: &verdicts,
        cfn_checks,
    };
    let analysis = stage::analyse::run(&checked, &related, &limits);
    out.files += analysis.templates.len();
    let rendering = stage::render::run(
        &stage::render::Inputs {
            bundles: &checked,
            broken: &broken,
            related: &related,
            units: &out.units,
            config: config.as_ref(),
            limits: &limits,
            deployed: &deployed,
        },
        &analysis.templates,
    );
    let validation = stage::validate::run(&rendering.units, &limits, &enforce, config.as_ref());
    let mut found = analysis.diagnostics;
    found.extend(rendering.diagnostics);
    found.extend(validation);
    stage::dedup(&mut found);
    out.diagnostics.extend(found);
    out.verdicts = verdicts.into_inner().unwrap_or_default();
    out.verdicts.sort();
    out.diagnostics
        .extend(waivers.report(opts.paths.is_empty() && opts.specs.is_empty(), &policies));
    out.rendered = rendering.units.into_iter().map(|u| u.rendered).collect();

    // Inline suppressions in the specs and templates this run read. Unused ones are reported
    // on full runs only: a narrowed run may not render the deployment a suppression is for.
    let files = suppression_files(&out, &limits);
    crate::diag::suppress::apply(&mut out.diagnostics, &files, &filter, !explicit);
    out.diagnostics.retain(|d| filter.enabled(d.code));
    out.diagnostics
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out.filter = filter;
    Ok(out)
}

/// The specs and templates a run read (or reported on), each once: where inline
/// suppressions may be.
fn suppression_files(out: &Outcome, limits: &Limits) -> Vec<Source> {
    let mut files: Vec<Source> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let wanted = |name: &str| {
        !name.is_empty()
            && !name.contains(" [rendered for ")
            && !name.ends_with(".guard")
            && !name.ends_with(config::FILE_NAME)
            && !name.starts_with(crate::state::DIR)
    };
    for d in &out.diagnostics {
        if let Some(p) = &d.primary
            && wanted(p.at.source.name())
            && !names.iter().any(|n| n == p.at.source.name())
        {
            names.push(p.at.source.name().to_string());
            files.push(p.at.source.clone());
        }
    }
    let more = out
        .units
        .iter()
        .map(|u| u.spec.as_str())
        .chain(out.rendered.iter().map(|r| r.template.as_str()));
    for name in more {
        if wanted(name) && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
            if let Ok(s) = read_source(&out.root.join(name), name, limits.max_file_bytes) {
                files.push(s);
            }
        }
    }
    files
}

/// Bundle folders known to a run, each identified by its real path, computed once.
#[derive(Default)]
struct Catalog {
    dirs: Vec<BundleDir>,
    index: HashMap<PathBuf, usize>,
    /// `(name, major)` → the first folder that is `name/vN/` (or a flat `name/` for major 1).
    versions: HashMap<(String, u32), usize>,
}

impl Catalog {
    /// The folder's index, adding it if it is new.
    fn insert(&mut self, dir: BundleDir) -> usize {
        let k = crate::paths::identity(&dir.path);
        if let Some(&ix) = self.index.get(&k) {
            return ix;
        }
        let ix = self.dirs.len();
        let leaf = dir.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parent = dir
            .path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("");
        if let Some(major) = leaf.strip_prefix('v').and_then(|m| m.parse::<u32>().ok()) {
            self.versions
                .entry((parent.to_string(), major))
                .or_insert(ix);
        }
        self.versions.entry((leaf.to_string(), 1)).or_insert(ix);
        self.dirs.push(dir);
        self.index.insert(k, ix);
        ix
    }
}

/// Per proctor.toml deployment (in declaration order): its bundle, and the bundle again when
/// this run checks the deployment.
#[derive(Default)]
struct Deployments {
    environments: Vec<Option<usize>>,
    env_jobs: Vec<Option<usize>>,
    svc_jobs: Vec<Option<usize>>,
}

/// (deployment index, catalog index) of the deployments to check.
fn jobs(selected: &[Option<usize>]) -> Vec<(usize, usize)> {
    selected
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.map(|b| (i, b)))
        .collect()
}

fn dedup(v: &mut Vec<usize>) {
    v.sort_unstable();
    v.dedup();
}

/// Splits the command line's paths into folders to search and spec files.
type Paths = Vec<(PathBuf, String)>;
/// Why a path given on the command line cannot be read as a file.
fn not_usable(path: &Path) -> String {
    match crate::files::regular_file(path) {
        Err(kind) if kind.is_missing() => "no such file or folder".to_string(),
        Err(crate::files::NotAFile::Io(_)) | Ok(_) => "cannot be read".to_string(),
        Err(kind) => kind.phrase(),
    }
}

fn command_line_paths(opts: &CheckOptions) -> Result<(Paths, Paths, Paths), Fatal> {
    let mut roots = Vec::new();
    let mut spec_files = Vec::new();
    let mut templates = Vec::new();
    for p in &opts.paths {
        let path = opts.cwd.join(p);
        if path.is_dir() {
            roots.push((path, crate::paths::tidy(p)));
        } else if path.is_file() {
            if is_plain_template(&path) {
                templates.push((path, crate::paths::tidy(p)));
            } else {
                spec_files.push((path, crate::paths::tidy(p)));
            }
        } else {
            return Err(Fatal::Usage(format!("`{p}`: {}", not_usable(&path))));
        }
    }
    for s in &opts.specs {
        let path = opts.cwd.join(s);
        if !path.is_file() {
            return Err(Fatal::Usage(format!("--spec `{s}`: {}", not_usable(&path))));
        }
        spec_files.push((path, crate::paths::tidy(s)));
    }
    Ok((roots, spec_files, templates))
}

/// The policy files to load: proctor.toml's `[workspace] policies` folders and `--policy`
/// (files as given, folders searched for `*.guard`).
fn policy_paths(
    opts: &CheckOptions,
    config: Option<&Config>,
    walk: &crate::paths::WalkBudget,
) -> Result<Paths, Fatal> {
    let mut out = Vec::new();
    if let Some(cfg) = config {
        for p in &cfg.policies {
            let path = cfg.root.join(&p.value);
            if path.is_dir() {
                out.extend(crate::policy::files_in(
                    &path,
                    &crate::paths::tidy(&p.value.to_string_lossy()),
                    walk,
                ));
            }
        }
    }
    for p in &opts.policies {
        let path = opts.cwd.join(p);
        if path.is_file() {
            out.push((path, crate::paths::tidy(p)));
        } else if path.is_dir() {
            out.extend(crate::policy::files_in(&path, &crate::paths::tidy(p), walk));
        } else {
            return Err(Fatal::Usage(format!(
                "--policy `{p}`: {}",
                not_usable(&path)
            )));
        }
    }
    Ok(out)
}

/// A file given on the command line is a plain CloudFormation template (not a spec) when it is
/// not a spec (`proton:` at the top) and has `Resources` or `AWSTemplateFormatVersion`.
fn is_plain_template(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 20)]);
    !text.lines().any(|l| l.starts_with("proton:")) && crate::cfn::looks_like_template(&text)
}

/// Validates plain CloudFormation templates, each on its own, and runs the policies on them.
fn check_plain_templates(
    templates: &[(PathBuf, String)],
    limits: &Limits,
    enforce: &crate::policy::Enforcement,
) -> SpecResult {
    let (policies, waivers, cfn_checks) = (enforce.policies, enforce.waivers, enforce.cfn_checks);
    let results: Vec<Vec<Diagnostic>> = templates
        .par_iter()
        .map(|(path, shown)| {
            let mut diags = Vec::new();
            match read_source(path, shown, limits.max_file_bytes) {
                Ok(source) => {
                    if let Some(root) = crate::cfn::parse(&source, &mut diags)
                        && cfn_checks
                    {
                        crate::cfn::checks::check(&source, &root, &mut diags);
                    }
                    if !policies.is_empty()
                        && let Some(data) = crate::policy::data::parse(&source, &mut Vec::new())
                    {
                        diags.extend(crate::policy::check_document(
                            policies,
                            &source,
                            &data,
                            &crate::policy::Target {
                                deployment: shown,
                                waivers,
                                verdicts: Some(enforce.verdicts),
                                locate: &|_| None,
                                fallback: None,
                            },
                        ));
                    }
                }
                Err(d) => diags.push(*d),
            }
            diags
        })
        .collect();
    SpecResult {
        diagnostics: results.into_iter().flatten().collect(),
        files: templates.len(),
        ..SpecResult::default()
    }
}

/// The bundles whose beside specs are checked: for `name/vN/` layouts, only the newest major
/// of each template owns `name/spec/`; a flat bundle owns its own `spec/`.
fn owners_of_beside_specs<'a>(bundles: &[&'a Bundle]) -> Vec<&'a Bundle> {
    let mut newest: HashMap<PathBuf, &'a Bundle> = HashMap::new();
    let mut out = Vec::new();
    for b in bundles {
        match b.major {
            None => out.push(*b),
            Some(m) => {
                let parent = crate::paths::identity(b.dir.parent().unwrap_or(&b.dir));
                let entry = newest.entry(parent).or_insert(*b);
                if entry.major.is_some_and(|e| e < m) {
                    *entry = *b;
                }
            }
        }
    }
    let mut versioned: Vec<&Bundle> = newest.into_values().collect();
    versioned.sort_by(|a, b| a.display.cmp(&b.display));
    out.extend(versioned);
    out
}

/// Type-checks one spec in isolation: a bug in proctor while doing it is that spec's E001.
fn isolated_spec(cfg: &Config, spec: &Path, f: impl FnOnce() -> SpecResult) -> SpecResult {
    let shown = crate::paths::tidy(&spec.to_string_lossy());
    match crate::diag::isolate::isolated(&format!("checking the spec `{shown}`"), f) {
        Ok(r) => r,
        Err(d) => {
            let path = cfg.root.join(spec);
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
struct SpecResult {
    diagnostics: Vec<Diagnostic>,
    units: Vec<Unit>,
    files: usize,
    specs: usize,
}

impl Outcome {
    fn absorb(&mut self, r: SpecResult) {
        self.diagnostics.extend(r.diagnostics);
        self.units.extend(r.units);
        self.files += r.files;
        self.specs += r.specs;
    }
}

/// What a set of changed files (a pre-commit hook's arguments) asks to check.
#[derive(Debug, PartialEq, Eq)]
pub enum Affected {
    /// Everything: proctor.toml, a policy or the deployment state changed (says which).
    Everything(String),
    /// These bundle folders and spec files, as shown, each once.
    Paths(Vec<String>),
    /// None of the files is something proctor checks.
    Nothing,
}

/// Maps changed files (`opts.paths`) to what they affect: a spec, its deployment; a file
/// inside a bundle (template, schema, manifest), that bundle (whose check includes every
/// deployment that uses it); a spec beside bundles (`<template>/spec/*.yaml`), the bundles of
/// that template; proctor.toml, a policy or `.proctor/state.json`, everything. Other files,
/// and files that no longer exist, affect nothing.
pub fn affected(opts: &CheckOptions) -> Result<Affected, Fatal> {
    let config = load_config(opts)?.map(|(c, _)| c);
    Ok(affected_with(opts, config.as_ref()))
}

fn affected_with(opts: &CheckOptions, config: Option<&Config>) -> Affected {
    let walk = crate::paths::WalkBudget::new(
        config.map_or_else(|| Limits::default().max_files, |c| c.limits.max_files),
    );
    let root = config
        .as_ref()
        .map_or_else(|| opts.cwd.clone(), |c| c.root.clone());
    let root_key = crate::paths::identity(&root);
    let policy_dirs: Vec<PathBuf> = config
        .iter()
        .flat_map(|c| {
            c.policies
                .iter()
                .map(|p| crate::paths::identity(&c.root.join(&p.value)))
        })
        .chain(
            opts.policies
                .iter()
                .map(|p| crate::paths::identity(&opts.cwd.join(p))),
        )
        .collect();
    let specs: Vec<PathBuf> = config
        .iter()
        .flat_map(|c| {
            c.environments
                .iter()
                .map(|e| &e.spec.value)
                .chain(c.services.iter().map(|s| &s.spec.value))
                .map(|s| crate::paths::identity(&c.root.join(s)))
        })
        .collect();
    let mut paths: Vec<String> = Vec::new();
    let mut push = |p: String| {
        if !paths.contains(&p) {
            paths.push(p);
        }
    };
    for shown in &opts.paths {
        let path = opts.cwd.join(shown);
        if !path.is_file() {
            continue;
        }
        let k = crate::paths::identity(&path);
        let name = k.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == config::FILE_NAME {
            return Affected::Everything(format!("{shown} changed"));
        }
        if k.starts_with(root_key.join(crate::state::DIR)) {
            return Affected::Everything("the deployment state changed".into());
        }
        if k.extension().is_some_and(|e| e == "guard")
            || policy_dirs.iter().any(|d| k.starts_with(d))
        {
            return Affected::Everything(format!("policy {shown} changed"));
        }
        if specs.contains(&k) {
            push(crate::paths::tidy(shown));
            continue;
        }
        // The nearest enclosing bundle; for `<template>/spec/x.yaml`, the template's folder.
        let mut shown_dir = Path::new(shown).parent().map(Path::to_path_buf);
        let mut dir = path.parent().map(Path::to_path_buf);
        let mut depth = 0;
        while let (Some(d), Some(sd)) = (dir.clone(), shown_dir.clone()) {
            if depth > 16
                || !crate::paths::identity(&d).starts_with(&root_key) && !d.starts_with(&opts.cwd)
            {
                break;
            }
            let beside = d.file_name().is_some_and(|n| n == "spec")
                && d.parent()
                    .is_some_and(|t| !bundle::discover(t, "", &walk).is_empty());
            if bundle::discover::is_bundle(&d) {
                push(crate::paths::tidy(&sd.to_string_lossy()));
                break;
            }
            if beside {
                let t = sd.parent().map_or(".".to_string(), |t| {
                    crate::paths::tidy(&t.to_string_lossy())
                });
                push(if t.is_empty() { ".".into() } else { t });
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
            shown_dir = sd.parent().map(Path::to_path_buf);
            depth += 1;
        }
    }
    if paths.is_empty() {
        Affected::Nothing
    } else {
        Affected::Paths(paths)
    }
}

/// The workspace's deployment state (what `proctor apply` deployed); W006 when it is broken,
/// and then an empty state, so that nothing renders with outputs from a damaged file.
fn load_state(root: &Path, diags: &mut Vec<Diagnostic>) -> crate::state::State {
    let path = crate::state::default_path(root);
    match crate::state::State::load(&path) {
        Ok(s) => s,
        Err(e) => {
            let shown = format!("{}/{}", crate::state::DIR, crate::state::FILE);
            let text = std::fs::read(&path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let source = crate::source::SourceFile::new(shown.clone(), path, text);
            let mut d = Diagnostic::new(codes::W006, format!("`{shown}` {}", e.message));
            d = match e.at {
                Some((line, col)) => {
                    let at = source.offset_of(line, col.saturating_sub(1));
                    let end = source.text()[at..]
                        .chars()
                        .next()
                        .map_or(at, |c| at + c.len_utf8());
                    d.at(&source, at..end).primary_message("here")
                }
                None => d.at_file(&source),
            };
            diags.push(d.help(
                "fix or restore the file from version control; deleting it is safe: the next `proctor apply` of each environment records its outputs again",
            ));
            crate::state::State::default()
        }
    }
}

fn load_config(opts: &CheckOptions) -> Result<Option<(Config, Vec<Diagnostic>)>, Fatal> {
    let path = match &opts.config {
        Some(p) => {
            let path = opts.cwd.join(p);
            if !path.is_file() {
                return Err(Fatal::Usage(format!(
                    "--config `{p}`: {}",
                    not_usable(&path)
                )));
            }
            path
        }
        None => match config::find(&opts.cwd) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let root = path
        .parent()
        .map_or_else(|| opts.cwd.clone(), Path::to_path_buf);
    let shown = opts.config.as_deref().map_or_else(
        || {
            crate::paths::relative_below(&path, &opts.cwd)
                .unwrap_or_else(|| config::FILE_NAME.to_string())
        },
        crate::paths::tidy,
    );
    let source = read_source(&path, &shown, Limits::default().max_file_bytes)
        .map_err(|d| Fatal::Config(vec![*d]))?;
    let mut diags = Vec::new();
    match config::parse(&source, &root, &mut diags) {
        Some(cfg) => Ok(Some((cfg, diags))),
        None => Err(Fatal::Config(diags)),
    }
}

/// The folders a check with no paths looks in.
fn workspace_roots(config: Option<&Config>, opts: &CheckOptions) -> Vec<(PathBuf, String)> {
    match config {
        Some(cfg) if !cfg.templates.is_empty() => cfg
            .templates
            .iter()
            .map(|t| {
                (
                    cfg.root.join(&t.value),
                    crate::paths::tidy(&t.value.to_string_lossy()),
                )
            })
            .collect(),
        Some(cfg) => vec![(cfg.root.clone(), ".".to_string())],
        None => vec![(opts.cwd.clone(), ".".to_string())],
    }
}

/// The catalog index of the bundle a deployment's `template` names.
fn resolve(
    cfg: &Config,
    template: &crate::source::At<TemplateRef>,
    catalog: &mut Catalog,
    diags: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let found = match &template.value {
        // A path may name a bundle outside the template folders.
        TemplateRef::Path(p) => {
            let path = cfg.root.join(p);
            bundle::discover::is_bundle(&path).then(|| {
                catalog.insert(BundleDir {
                    path,
                    display: crate::paths::tidy(&p.to_string_lossy()),
                })
            })
        }
        // `name/vN/`, or a flat `name/` folder for major version 1.
        TemplateRef::Version { name, major, .. } => {
            catalog.versions.get(&(name.clone(), *major)).copied()
        }
    };
    match found {
        None => {
            let names: Vec<String> = catalog.dirs.iter().map(identity).collect();
            let wanted = template.value.to_string();
            let help = match did_you_mean(&wanted, names.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => "no bundles were found in the workspace's template folders; check `[workspace] templates`".to_string(),
                None => format!("the templates found are {}", crate::yaml::shape::list(&names.iter().map(String::as_str).collect::<Vec<_>>())),
            };
            diags.push(
                Diagnostic::new(
                    codes::W002,
                    format!("template `{wanted}` names no bundle in the workspace"),
                )
                .at(&cfg.source, template.span.clone())
                .help(help),
            );
            None
        }
        Some(ix) => Some(ix),
    }
}

/// `fargate-env:1` for `fargate-env/v1`, else the folder's name with `:1`.
fn identity(b: &BundleDir) -> String {
    let leaf = b.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match leaf.strip_prefix('v').and_then(|m| m.parse::<u32>().ok()) {
        Some(m) => format!(
            "{}:{m}",
            b.path
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .unwrap_or("")
        ),
        None => format!("{leaf}:1"),
    }
}

/// `<template>/spec/*.yaml`: beside the version folders, or inside a flat bundle.
fn beside_specs(b: &Bundle) -> Vec<(PathBuf, String)> {
    let (dir, shown) = if b.major.is_some() {
        let parent = b.dir.parent().unwrap_or(&b.dir);
        (
            parent.join("spec"),
            join_display(&crate::paths::parent_display(&b.display), "spec"),
        )
    } else {
        (b.dir.join("spec"), join_display(&b.display, "spec"))
    };
    crate::paths::files_named(&dir, |name| {
        name.ends_with(".yaml") || name.ends_with(".yml")
    })
    .into_iter()
    .map(|(path, name)| (path, join_display(&shown, &name)))
    .collect()
}

struct ServiceContext<'a> {
    cfg: &'a Config,
    env_bundles: &'a BTreeMap<String, Option<usize>>,
    loaded: &'a HashMap<usize, (Bundle, Vec<Diagnostic>)>,
    service: &'a str,
}

fn read_spec(path: &Path, shown: &str, limits: &Limits, r: &mut SpecResult) -> Option<Spec> {
    r.files += 1;
    r.specs += 1;
    let source = match read_source(path, shown, limits.max_file_bytes) {
        Ok(s) => s,
        Err(d) => {
            r.diagnostics.push(*d);
            return None;
        }
    };
    spec::read(&source, limits, &mut r.diagnostics)
}

fn check_deployment_spec(
    cfg: &Config,
    spec_path: &crate::source::At<PathBuf>,
    limits: &Limits,
    bundle: &Bundle,
    environment: Option<&str>,
    service: Option<&ServiceContext<'_>>,
) -> SpecResult {
    let mut r = SpecResult::default();
    let path = cfg.root.join(&spec_path.value);
    let shown = crate::paths::tidy(&spec_path.value.to_string_lossy());
    if let Err(kind) = crate::files::regular_file(&path) {
        use crate::files::NotAFile;
        let (message, help) = match &kind {
            k if k.is_missing() => (
                format!("spec `{shown}` does not exist"),
                "create the spec, or correct the `spec` path (relative to proctor.toml)",
            ),
            NotAFile::Io(e) => (
                format!(
                    "cannot read spec `{shown}`: {}",
                    crate::files::io_reason(e)
                ),
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
        return r;
    }
    let Some(spec) = read_spec(&path, &shown, limits, &mut r) else {
        return r;
    };
    check_spec_against(&spec, bundle, environment, service, &mut r);
    r
}

/// Which bundle checks a spec found on its own.
enum SpecOwner<'a> {
    /// A spec beside its bundle (`<template>/spec/`).
    Bundle(&'a Bundle),
    /// A spec in a project's `specs/` folder: one of the bundles under the project.
    Project(Vec<&'a Bundle>),
    /// A spec named on the command line: one of the bundles given with it.
    Given(Vec<&'a Bundle>),
}

/// Project-level spec folders (`<project>/specs/*.yaml`, as AWS's samples keep them) above
/// the given bundles, up to three folders up and inside one of the checked folders `inside`,
/// each spec with the bundles under its project.
fn project_specs<'a>(
    bundles: &[&'a Bundle],
    inside: &[PathBuf],
) -> Vec<(PathBuf, String, Vec<&'a Bundle>)> {
    let mut projects: Vec<(PathBuf, String)> = Vec::new();
    for b in bundles {
        let (mut dir, mut shown) = (b.dir.clone(), b.display.clone());
        for _ in 0..3 {
            let Some(parent) = dir.parent().map(Path::to_path_buf) else {
                break;
            };
            if shown == "." || shown.is_empty() {
                break;
            }
            shown = crate::paths::parent_display(&shown);
            dir = parent;
            let k = crate::paths::identity(&dir);
            if !inside.iter().any(|root| k.starts_with(root)) {
                break;
            }
            if dir.join("specs").is_dir()
                && !projects.iter().any(|(d, _)| crate::paths::identity(d) == k)
            {
                projects.push((dir.clone(), shown.clone()));
            }
        }
    }
    let mut out = Vec::new();
    for (dir, shown) in projects {
        let project_key = crate::paths::identity(&dir);
        let under: Vec<&'a Bundle> = bundles
            .iter()
            .copied()
            .filter(|b| crate::paths::identity(&b.dir).starts_with(&project_key))
            .collect();
        let owners = owners_of_beside_specs(&under);
        let folder = join_display(&shown, "specs");
        for (path, name) in crate::paths::files_named(&dir.join("specs"), |n| {
            n.ends_with(".yaml") || n.ends_with(".yml")
        }) {
            out.push((path, join_display(&folder, &name), owners.clone()));
        }
    }
    out
}

fn check_standalone_spec(
    path: &Path,
    shown: &str,
    owner: &SpecOwner<'_>,
    limits: &Limits,
) -> SpecResult {
    let mut r = SpecResult::default();
    let Some(spec) = read_spec(path, shown, limits, &mut r) else {
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
fn check_spec_against(
    spec: &Spec,
    bundle: &Bundle,
    environment: Option<&str>,
    service: Option<&ServiceContext<'_>>,
    r: &mut SpecResult,
) {
    let spec_errors = errors(&r.diagnostics);
    let units = r.units.len();
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
        return;
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
                return;
            }
            r.units.push(Unit {
                environment: None,
                origin: origin(&spec.source, inputs),
                kind: UnitKind::Environment,
                name: environment.unwrap_or_default().to_string(),
                service: None,
                bundle: bundle.display.clone(),
                spec: spec.source.name().to_string(),
                inputs: effective,
            });
        }
        SpecKind::Service => {
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
            // The pipeline sees every instance: it is rendered only if the whole spec checks
            // clean (an instance left out, or two with one name, would make its findings wrong).
            let mut pipeline: Option<Unit> = None;
            match (&spec.pipeline, bundle.has_pipeline()) {
                (Some(p), false) => r.diagnostics.push(
                    Diagnostic::new(codes::I011, format!("`pipeline:` inputs, but `{}` has no pipeline", bundle.label()))
                        .at(&spec.source, p.anchor.clone())
                        .help("delete the `pipeline:` section, or use a template version with `pipeline_infrastructure/`"),
                ),
                (p, true) => {
                    if let Some(ty) = bundle.pipeline_type() {
                        let inputs = p.clone().unwrap_or_else(|| spec::Inputs { node: None, anchor: spec.kind_span.clone(), place: "pipeline".into() });
                        let before = errors(&r.diagnostics);
                        let effective = typecheck::check(&spec.source, &inputs, ty, &schema.source, &mut r.diagnostics);
                        if errors(&r.diagnostics) == before {
                        pipeline = Some(Unit {
                            environment: None,
                            origin: origin(&spec.source, &inputs),
                            kind: UnitKind::Pipeline,
                            name: service_name.clone(),
                            service: Some(service_name.clone()),
                            bundle: bundle.display.clone(),
                            spec: spec.source.name().to_string(),
                            inputs: effective,
                        });
                        }
                    }
                }
                (None, false) => {}
            }
            let Some(ty) = bundle.service_type() else {
                return;
            };
            for inst in &spec.instances {
                let before = errors(&r.diagnostics);
                if let (Some(ctx), Some((env, span))) = (service, &inst.environment) {
                    check_instance_environment(
                        ctx,
                        bundle,
                        &spec.source,
                        env,
                        span,
                        &mut r.diagnostics,
                    );
                }
                let effective = typecheck::check(
                    &spec.source,
                    &inst.inputs,
                    ty,
                    &schema.source,
                    &mut r.diagnostics,
                );
                if errors(&r.diagnostics) > before {
                    continue;
                }
                r.units.push(Unit {
                    environment: inst.environment.as_ref().map(|(e, _)| e.clone()),
                    origin: origin(&spec.source, &inst.inputs),
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
    }
}

fn errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .count()
}

/// Where each top-level input's value stands in the spec.
fn origin(spec: &Source, inputs: &spec::Inputs) -> Option<crate::template::render::InputOrigin> {
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

fn check_instance_environment(
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
