//! The background checker: runs the checking pipeline (`check::run`, narrowed to the edited
//! files as `--changed` narrows a pre-commit run) over the editor's buffers, and publishes what
//! it finds. One run at a time; a newer edit cancels the run in progress, whose files are
//! checked again with the newer edit's.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Message, Notification};
use lsp_types::Uri;

use crate::convert;
use crate::text::{Lines, uri_of};
use proctor_core::diag::{Diagnostic, codes};
use proctor_core::files::{Buffers, Cancel};
use proctor_core::paths::identity;
use proctor_core::source::SourceFile;
use proctor_pipeline::check::{self, CheckOptions, Fatal};
use proctor_pipeline::config;

/// An open document as a run sees it.
#[derive(Clone, Debug)]
pub struct OpenDoc {
    pub path: PathBuf,
    pub uri: Uri,
    pub version: i32,
}

/// One request to check: the files that changed in a workspace, and every open buffer.
pub struct Job {
    pub root: PathBuf,
    pub changed: Vec<PathBuf>,
    pub buffers: Buffers,
    pub open: Vec<OpenDoc>,
    pub cancel: Cancel,
}

/// What the last runs found out about a workspace, for completion, hover and definitions.
#[derive(Default, Debug)]
pub struct Index {
    /// Each spec (by identity) and the bundle folder that checked it.
    pub spec_bundles: HashMap<PathBuf, PathBuf>,
    /// Each service bundle folder (by identity) and its compatible environment bundles.
    pub environments_of: HashMap<PathBuf, Vec<PathBuf>>,
}

/// State the checker shares with the request handlers.
#[derive(Default)]
pub struct Shared {
    pub index: HashMap<PathBuf, Index>,
    /// The diagnostics last published for each file (by identity).
    pub published: HashMap<PathBuf, Vec<lsp_types::Diagnostic>>,
    /// Runs finished (not cancelled), for tests and benchmarks to wait on.
    pub runs: u64,
}

/// Runs jobs until the channel closes.
pub fn run(jobs: Receiver<Job>, out: Sender<Message>, shared: Arc<Mutex<Shared>>) {
    // Files a cancelled run was asked to check, by workspace, checked with the next job.
    let mut pending: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    while let Ok(first) = jobs.recv() {
        // The newest job of each workspace, with every changed file of the ones it replaces.
        let mut latest: BTreeMap<PathBuf, Job> = BTreeMap::new();
        for job in std::iter::once(first).chain(jobs.try_iter()) {
            let changed = pending.entry(job.root.clone()).or_default();
            changed.extend(job.changed.iter().cloned());
            latest.insert(job.root.clone(), job);
        }
        for (root, mut job) in latest {
            job.changed = pending
                .get(&root)
                .map(|c| c.iter().cloned().collect())
                .unwrap_or_default();
            let done =
                std::panic::catch_unwind(AssertUnwindSafe(|| check_job(&job, &out, &shared)));
            match done {
                Ok(true) => {
                    pending.remove(&root);
                }
                Ok(false) => {} // cancelled: a newer job for this workspace is on its way
                Err(_) => {
                    pending.remove(&root);
                    log(
                        &out,
                        &format!(
                            "proctor hit a bug while checking {}; the server goes on",
                            root.display()
                        ),
                    );
                }
            }
        }
    }
}

/// Sends a message to the editor's log.
pub fn log(out: &Sender<Message>, message: &str) {
    let params = lsp_types::LogMessageParams {
        typ: lsp_types::MessageType::ERROR,
        message: message.to_string(),
    };
    let _ = out.send(Message::Notification(Notification::new(
        "window/logMessage".to_string(),
        params,
    )));
}

/// Checks one job; false when it was cancelled.
fn check_job(job: &Job, out: &Sender<Message>, shared: &Mutex<Shared>) -> bool {
    let has_config = job.root.join(config::FILE_NAME).is_file();
    let shown: Vec<String> = job
        .changed
        .iter()
        .map(|p| {
            p.strip_prefix(&job.root)
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // A policy not saved yet is not in its folder on disk: name it, as `--policy` does.
    let unsaved_policies: Vec<String> = job
        .changed
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "guard") && !p.exists())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut opts = CheckOptions {
        policies: unsaved_policies,
        paths: shown,
        cwd: job.root.clone(),
        changed: true,
        slim: true,
        buffers: job.buffers.clone(),
        cancel: job.cancel.clone(),
        ..CheckOptions::default()
    };
    let mut result = check::run(&opts);
    // Without proctor.toml, a spec in a project's `specs/` folder is checked by a run over the
    // project, as `proctor check` there does.
    let spec_changed = job.changed.iter().any(|p| looks_like_spec(&job.buffers, p));
    if !has_config
        && spec_changed
        && matches!(&result, Ok(o) if o.nothing_to_check || o.checked_by.is_empty())
    {
        opts.paths.clear();
        opts.changed = false;
        result = check::run(&opts);
    }
    let outcome = match result {
        Ok(o) if o.cancelled => return false,
        Ok(o) => o,
        Err(Fatal::Config(diags)) => check::Outcome {
            diagnostics: diags,
            root: job.root.clone(),
            ..check::Outcome::default()
        },
        Err(Fatal::Usage(message)) => {
            let diags = job
                .changed
                .iter()
                .map(|p| usage(p, &job.buffers, &message))
                .collect();
            check::Outcome {
                diagnostics: diags,
                root: job.root.clone(),
                ..check::Outcome::default()
            }
        }
    };
    if job.cancel.is_set() {
        return false;
    }
    publish(job, &outcome, out, shared);
    true
}

/// A doc whose first key is `proton:` names a spec (`proton: ServiceSpec`).
fn looks_like_spec(buffers: &Buffers, path: &Path) -> bool {
    let text = match buffers.get(path) {
        Some(t) => t.to_string(),
        None => std::fs::read_to_string(path).unwrap_or_default(),
    };
    spec_kind_line(&text).is_some()
}

/// The byte range of a spec's `proton: ...Spec` value, if the text has one.
pub fn spec_kind_line(text: &str) -> Option<std::ops::Range<usize>> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("proton:") {
            let value = rest.trim().trim_matches(['"', '\'']);
            if value.ends_with("Spec") {
                let start = at + line.find(value).unwrap_or(0);
                return Some(start..start + value.len());
            }
        }
        at += line.len();
    }
    None
}

fn usage(path: &Path, buffers: &Buffers, message: &str) -> Diagnostic {
    let text = buffers.get(path).unwrap_or_default().to_string();
    let src = SourceFile::new(path.to_string_lossy(), path, text);
    Diagnostic::new(codes::W001, message.to_string())
        .at(&src, 0..0)
        .help("check proctor.toml and the file's place in the workspace")
}

/// Publishes the outcome: every file it found something in, and every file in its scope
/// that it found nothing in (so that fixed diagnostics disappear). Files outside the run's
/// scope keep what they showed.
fn publish(job: &Job, outcome: &check::Outcome, out: &Sender<Message>, shared: &Mutex<Shared>) {
    let root = if outcome.root.as_os_str().is_empty() {
        job.root.clone()
    } else {
        outcome.root.clone()
    };
    let mut found: BTreeMap<PathBuf, (PathBuf, Vec<lsp_types::Diagnostic>)> = BTreeMap::new();
    for d in &outcome.diagnostics {
        let Some(file) = convert::file_of(d, &root) else {
            continue;
        };
        if !file.is_file() && !job.buffers.has(&file) {
            continue;
        }
        let entry = found.entry(identity(&file)).or_insert((file, Vec::new()));
        entry.1.push(convert::diagnostic(d, &root));
    }
    let checked: BTreeSet<PathBuf> = outcome
        .checked_by
        .iter()
        .map(|(spec, _)| identity(&root.join(spec)))
        .collect();
    // A spec nothing checked: say so where the editor shows it.
    for path in &job.changed {
        let key = identity(path);
        let text = job.buffers.get(path).unwrap_or_default();
        if checked.contains(&key) || found.contains_key(&key) {
            continue;
        }
        if let Some(span) = spec_kind_line(text) {
            let lines = Lines::new(text);
            let d = lsp_types::Diagnostic {
                range: lines.range(&span),
                severity: Some(lsp_types::DiagnosticSeverity::WARNING),
                code: Some(lsp_types::NumberOrString::String(codes::I014.id.to_string())),
                source: Some("proctor".to_string()),
                message: "no bundle checks this spec\nhelp: declare its deployment in proctor.toml (`[[environment]]` or `[[service]]` with `spec = \"...\"`), or keep it in its template's `spec/` folder".to_string(),
                ..lsp_types::Diagnostic::default()
            };
            found.insert(key, (path.clone(), vec![d]));
        }
    }
    let mut dirs: Vec<PathBuf> = outcome
        .checked_by
        .iter()
        .map(|(_, b)| identity(b))
        .chain(outcome.environments_of.iter().map(|(b, _)| identity(b)))
        .collect();
    dirs.extend(
        outcome
            .rendered
            .iter()
            .filter_map(|r| root.join(&r.template).parent().map(identity)),
    );
    let mut scope: BTreeSet<PathBuf> = job.changed.iter().map(|p| identity(p)).collect();
    scope.extend(checked.iter().cloned());
    scope.extend(
        outcome
            .policies
            .iter()
            .map(|(p, _)| identity(&root.join(p))),
    );
    if let Some((c, _)) = &outcome.config {
        scope.insert(identity(&root.join(c)));
    }
    let in_scope = |key: &Path| scope.contains(key) || dirs.iter().any(|d| key.starts_with(d));
    let Ok(mut state) = shared.lock() else {
        return;
    };
    // Files shown before and in scope now, with nothing found: cleared.
    let mut sends: Vec<(PathBuf, Vec<lsp_types::Diagnostic>)> = state
        .published
        .keys()
        .filter(|k| in_scope(k) && !found.contains_key(*k))
        .map(|k| (k.clone(), Vec::new()))
        .collect();
    for doc in &job.open {
        let key = identity(&doc.path);
        if in_scope(&key) && !found.contains_key(&key) && !sends.iter().any(|(k, _)| *k == key) {
            sends.push((key, Vec::new()));
        }
    }
    for (key, (_, diags)) in found {
        sends.push((key, diags));
    }
    for (key, diags) in sends {
        let open = job.open.iter().find(|d| identity(&d.path) == key);
        let uri = match open {
            Some(d) => Some(d.uri.clone()),
            None => uri_of(&key),
        };
        let Some(uri) = uri else { continue };
        if diags.is_empty() {
            state.published.remove(&key);
        } else {
            state.published.insert(key.clone(), diags.clone());
        }
        let params = lsp_types::PublishDiagnosticsParams {
            uri,
            diagnostics: diags,
            version: open.map(|d| d.version),
        };
        let _ = out.send(Message::Notification(Notification::new(
            "textDocument/publishDiagnostics".to_string(),
            params,
        )));
    }
    let index = state.index.entry(job.root.clone()).or_default();
    for (spec, bundle) in &outcome.checked_by {
        index
            .spec_bundles
            .insert(identity(&root.join(spec)), bundle.clone());
    }
    for (bundle, envs) in &outcome.environments_of {
        index.environments_of.insert(identity(bundle), envs.clone());
    }
    state.runs += 1;
}
