//! Where a run's files are: the command line's paths, proctor.toml, the policy files, the
//! bundle folders (a catalog, each folder once), the deployments' bundles, the specs beside
//! bundles and in project `specs/` folders, and the deployed state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{CheckOptions, Fatal};
use crate::bundle::{self, Bundle, BundleDir};
use crate::config::{self, Config, TemplateRef};
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::paths::join_display;

/// Bundle folders known to a run, each identified by its real path, computed once.
#[derive(Default)]
pub(super) struct Catalog {
    pub(super) dirs: Vec<BundleDir>,
    pub(super) index: HashMap<PathBuf, usize>,
    /// `(name, major)` → the first folder that is `name/vN/` (or a flat `name/` for major 1).
    pub(super) versions: HashMap<(String, u32), usize>,
}

impl Catalog {
    /// The folder's index, adding it if it is new.
    pub(super) fn insert(&mut self, dir: BundleDir) -> usize {
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
pub(super) struct Deployments {
    pub(super) environments: Vec<Option<usize>>,
    pub(super) env_jobs: Vec<Option<usize>>,
    pub(super) svc_jobs: Vec<Option<usize>>,
}

/// (deployment index, catalog index) of the deployments to check.
pub(super) fn jobs(selected: &[Option<usize>]) -> Vec<(usize, usize)> {
    selected
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.map(|b| (i, b)))
        .collect()
}

pub(super) fn dedup(v: &mut Vec<usize>) {
    v.sort_unstable();
    v.dedup();
}

/// Splits the command line's paths into folders to search and spec files.
pub(super) type Paths = Vec<(PathBuf, String)>;

/// Why a path given on the command line cannot be read as a file.
pub(super) fn not_usable(path: &Path) -> String {
    match crate::files::regular_file(path) {
        Err(kind) if kind.is_missing() => "no such file or folder".to_string(),
        Err(crate::files::NotAFile::Io(_)) | Ok(_) => "cannot be read".to_string(),
        Err(kind) => kind.phrase(),
    }
}

pub(super) fn command_line_paths(opts: &CheckOptions) -> Result<(Paths, Paths, Paths), Fatal> {
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
pub(super) fn policy_paths(
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
        // An editor's buffer stands for a policy file not saved yet.
        if path.is_file() || opts.buffers.has(&path) {
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
pub(super) fn is_plain_template(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 20)]);
    !text.lines().any(|l| l.starts_with("proton:")) && crate::cfn::looks_like_template(&text)
}

/// The bundles whose beside specs are checked: for `name/vN/` layouts, only the newest major
/// of each template owns `name/spec/`; a flat bundle owns its own `spec/`.
pub(super) fn owners_of_beside_specs<'a>(bundles: &[&'a Bundle]) -> Vec<&'a Bundle> {
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

/// The workspace's deployment state (what `proctor apply` deployed); W006 when it is broken,
/// and then an empty state, so that nothing renders with outputs from a damaged file.
pub(super) fn load_state(root: &Path, diags: &mut Vec<Diagnostic>) -> crate::state::State {
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

pub(super) fn load_config(opts: &CheckOptions) -> Result<Option<(Config, Vec<Diagnostic>)>, Fatal> {
    let path = match &opts.config {
        Some(p) => {
            let path = opts.cwd.join(p);
            if !path.is_file() && !opts.buffers.has(&path) {
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
    let source = crate::files::read_in(&opts.buffers, &path, &shown, config::MAX_BYTES)
        .map_err(|d| {
            let d = match d.code.id {
                "F003" => (*d).help(format!(
                    "proctor.toml may be at most {} MiB: move what it need not say (large waiver lists, comments) elsewhere",
                    config::MAX_BYTES >> 20
                )),
                _ => *d,
            };
            Fatal::Config(vec![d])
        })?;
    let mut diags = Vec::new();
    match config::parse(&source, &root, &mut diags) {
        Some(cfg) => Ok(Some((cfg, diags))),
        None => Err(Fatal::Config(diags)),
    }
}

/// The folders a check with no paths looks in.
pub(super) fn workspace_roots(
    config: Option<&Config>,
    opts: &CheckOptions,
) -> Vec<(PathBuf, String)> {
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
pub(super) fn resolve(
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
pub(super) fn identity(b: &BundleDir) -> String {
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
pub(super) fn beside_specs(b: &Bundle) -> Vec<(PathBuf, String)> {
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

/// Project-level spec folders (`<project>/specs/*.yaml`, as AWS's samples keep them) above
/// the given bundles, up to three folders up and inside one of the checked folders `inside`,
/// each spec with the bundles under its project.
pub(super) fn project_specs<'a>(
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
