//! `--changed`: what a set of changed files (a pre-commit hook's arguments) asks to check.

use std::path::{Path, PathBuf};

use super::discover::load_config;
use super::{CheckOptions, Fatal};
use crate::bundle;
use crate::config::{self, Config};
use crate::limits::Limits;

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

pub(super) fn affected_with(opts: &CheckOptions, config: Option<&Config>) -> Affected {
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
        if !path.is_file() && !opts.buffers.has(&path) {
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
