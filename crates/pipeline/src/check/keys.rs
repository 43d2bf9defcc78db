//! What the incremental check's keys are made of besides each deployment's spec
//! (`super::incremental`): the run's common part, the build, and each bundle's files.

use std::path::{Path, PathBuf};

use super::incremental::Inputs;
use crate::cache::Key;

/// The part of every key that is the run's, not a deployment's.
pub(super) fn common_key(inputs: &Inputs) -> Key {
    let cfg = inputs.config;
    let mut parts: Vec<Vec<u8>> = vec![
        b"proctor check: one deployment".to_vec(),
        build_id().into_bytes(),
        // proctor.toml's text, by its SHA-256 (the run has it: `Outcome::config`).
        inputs.config_sha256.as_bytes().to_vec(),
    ];
    // Waivers expire: a run on another day may judge them otherwise.
    if !cfg.waivers.is_empty() {
        parts.push(
            crate::policy::waiver::Date::today()
                .to_string()
                .into_bytes(),
        );
    }
    let state = crate::state::default_path(&cfg.root);
    parts.push(std::fs::read(&state).unwrap_or_else(|_| b"(no state)".to_vec()));
    for (name, sha) in inputs.policies {
        parts.push(format!("policy {name} {sha}").into_bytes());
    }
    let filter = inputs.filter;
    parts.push(format!("select {:?} ignore {:?}", filter.select, filter.ignore).into_bytes());
    // The units a run has besides proctor.toml's share their names' space: specs beside
    // bundles, and the units synthesized for bundles that no spec uses (named after them).
    let mut bundles: Vec<String> = inputs
        .bundles
        .values()
        .map(|(b, _)| {
            format!(
                "bundle {} {} {} {}",
                b.display,
                b.kind.describe(),
                b.template_name,
                b.has_pipeline()
            )
        })
        .collect();
    bundles.sort();
    parts.extend(bundles.into_iter().map(String::into_bytes));
    let mut beside: Vec<(String, Vec<u8>)> = inputs
        .bundles
        .values()
        .flat_map(|(b, _)| super::discover::beside_specs(b))
        .map(|(p, shown)| (shown, std::fs::read(&p).unwrap_or_default()))
        .collect();
    beside.sort();
    beside.dedup();
    for (shown, bytes) in beside {
        parts.push(shown.into_bytes());
        parts.push(bytes);
    }
    Key::of(parts.iter().map(Vec::as_slice))
}

/// What tells this build of proctor from another of the same version: the executable's size
/// and modification time (a rebuild changes them).
fn build_id() -> String {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    match meta {
        Ok(m) => {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("build {} {modified}", m.len())
        }
        Err(_) => "build unknown".into(),
    }
}

/// The SHA-256 of every file under a bundle's folder (names and contents), in name order;
/// `None` when the folder cannot be read whole or holds more than the limits allow.
pub(super) fn bundle_hash(dir: &Path, limits: &crate::limits::Limits) -> Option<String> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()? {
            let e = e.ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = format!("{rel}/{name}");
            let kind = e.file_type().ok()?;
            if kind.is_dir() {
                stack.push((e.path(), rel));
            } else {
                files.push((rel, e.path()));
            }
            if files.len() + stack.len() > limits.max_files {
                return None;
            }
        }
    }
    files.sort();
    let mut parts: Vec<Vec<u8>> = Vec::with_capacity(files.len() * 2);
    for (rel, path) in files {
        let meta = std::fs::metadata(&path).ok()?;
        if meta.len() > limits.max_file_bytes {
            return None;
        }
        parts.push(rel.into_bytes());
        parts.push(if meta.is_file() {
            std::fs::read(&path).ok()?
        } else {
            b"(not a file)".to_vec()
        });
    }
    Some(Key::of(parts.iter().map(Vec::as_slice)).hex().to_string())
}
