//! Organisational policies in the Guard-compatible language: parse (pest), lower to a typed
//! syntax tree, check at load time, evaluate with Guard's PASS/FAIL/SKIP semantics.

pub mod ast;
pub mod eval;
pub mod functions;
pub mod lower;
pub mod parser;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::limits::Limits;
use crate::source::{Source, read_source};

/// A loaded policy file: its source and its lowered rules.
#[derive(Debug)]
pub struct Policy {
    pub source: Source,
    pub file: ast::PolicyFile,
}

/// Loads policy files in parallel. A file with a syntax error is reported and left out; the
/// others still load.
pub fn load_all(files: &[(PathBuf, String)], limits: &Limits) -> (Vec<Policy>, Vec<Diagnostic>) {
    let results: Vec<(Option<Policy>, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|(path, shown)| {
            let mut diags = Vec::new();
            let policy = match read_source(path, shown, limits.max_file_bytes) {
                Ok(source) => lower::parse(&source, &mut diags).map(|file| Policy { source, file }),
                Err(d) => {
                    diags.push(*d);
                    None
                }
            };
            (policy, diags)
        })
        .collect();
    let mut policies = Vec::new();
    let mut diags = Vec::new();
    for (p, d) in results {
        policies.extend(p);
        diags.extend(d);
    }
    (policies, diags)
}

/// `*.guard` files in a folder (not in its `tests/` folders), sorted.
pub fn files_in(dir: &Path, shown: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), shown.to_string(), 0)];
    while let Some((d, s, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let shown = crate::paths::join_display(&s, &name);
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && depth < 8 && name != "tests" && !name.starts_with('.') {
                stack.push((e.path(), shown, depth + 1));
            } else if kind.is_file() && name.ends_with(".guard") {
                out.push((e.path(), shown));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests;

/// Evaluates every rule of a policy against a document: each rule's status and the failures.
pub fn evaluate(
    policy: &Policy,
    root: &crate::yaml::Node,
) -> (Vec<(String, eval::Status)>, Vec<eval::Failure>) {
    let mut e = eval::Evaluator::new(&policy.file, root);
    let statuses = e.run();
    (statuses, e.failures)
}
