//! `proctor lsp`: a Language Server Protocol server for specs, templates, policies and
//! proctor.toml. It reuses the checking pipeline, not a copy of it: each edit runs
//! `check::run` over the editor's unsaved buffers, narrowed to what the edit affects (as
//! `--changed` narrows a pre-commit run), on a background thread ([`checker`]); completion,
//! hover and definitions read the bundle's schema and templates ([`features`]).
//!
//! The main thread reads the editor's messages and answers requests; it never waits on a
//! check. A newer edit cancels the check in progress. A panic while answering is the
//! request's error, never the end of the server.

// No `unwrap` or `expect` outside tests: what a buffer can cause is a diagnostic.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod checker;
pub mod convert;
pub mod features;
mod inputs;
pub mod text;
mod yaml_context;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crossbeam_channel::Sender;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CodeActionKind, CodeActionOrCommand, CodeActionProviderCapability, CompletionOptions,
    HoverProviderCapability, OneOf, ServerCapabilities, TextDocumentSyncCapability,
    TextDocumentSyncKind, Uri,
};
use serde_json::Value as Json;

use checker::{Job, OpenDoc, Shared};
use features::{Context, Kind};
use proctor_core::files::{Buffers, Cancel};
use proctor_core::paths::identity;
use proctor_pipeline::config;

/// Serves the protocol on standard input and output until the editor says `exit`.
pub fn serve_stdio() -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    let served = serve(connection);
    io.join()
        .map_err(|e| format!("reading or writing the editor's messages: {e}"))?;
    served
}

/// Serves the protocol on a connection (standard I/O, or an in-memory pair in tests).
pub fn serve(connection: Connection) -> Result<(), String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("the editor did not initialize: {e}"))?;
    let init: lsp_types::InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), ":".into(), "%".into(), " ".into()]),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": { "name": "proctor", "version": env!("CARGO_PKG_VERSION") },
    });
    // Answered directly: `Connection::initialize_finish` would refuse any message before the
    // `initialized` notification, and an editor that sends `didOpen` first must still be served.
    connection
        .sender
        .send(Message::Response(Response::new_ok(id, result)))
        .map_err(|e| format!("cannot answer the editor: {e}"))?;
    let mut folders: Vec<PathBuf> = init
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| text::path_of(&f.uri))
        .collect();
    #[allow(deprecated)] // older clients send only `rootUri`
    if let Some(root) = init.root_uri.as_ref().and_then(text::path_of) {
        folders.push(root);
    }
    let shared = Arc::new(Mutex::new(Shared::default()));
    let (jobs, queue) = crossbeam_channel::unbounded();
    let checker = {
        let (out, shared) = (connection.sender.clone(), shared.clone());
        std::thread::Builder::new()
            .name("proctor-check".into())
            .spawn(move || checker::run(queue, out, shared))
            .map_err(|e| format!("cannot start the checking thread: {e}"))?
    };
    let mut server = Server {
        out: connection.sender.clone(),
        docs: HashMap::new(),
        folders,
        jobs,
        running: HashMap::new(),
        shared,
    };
    let served = server.main_loop(&connection);
    drop(server); // closes the job channel: the checker ends
    let _ = checker.join();
    served
}

struct Doc {
    uri: Uri,
    /// Shared with every run that reads it, never copied per keystroke.
    text: Arc<str>,
    version: i32,
}

struct Server {
    out: Sender<Message>,
    /// Open documents, by their path as the editor names it.
    docs: HashMap<PathBuf, Doc>,
    folders: Vec<PathBuf>,
    jobs: Sender<Job>,
    /// The cancel flag of each workspace's latest job.
    running: HashMap<PathBuf, Cancel>,
    shared: Arc<Mutex<Shared>>,
}

impl Server {
    fn main_loop(&mut self, connection: &Connection) -> Result<(), String> {
        for msg in &connection.receiver {
            match msg {
                Message::Request(req) => {
                    match connection.handle_shutdown(&req) {
                        Ok(true) => return Ok(()),
                        Ok(false) => {}
                        Err(e) => return Err(format!("shutting down: {e}")),
                    }
                    let id = req.id.clone();
                    let method = req.method.clone();
                    let answer = std::panic::catch_unwind(AssertUnwindSafe(|| self.request(req)));
                    let response = match answer {
                        Ok(Ok(value)) => Response::new_ok(id, value),
                        Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
                        Err(_) => Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            format!("proctor hit a bug answering {method}; the server goes on"),
                        ),
                    };
                    let _ = self.out.send(Message::Response(response));
                }
                Message::Notification(n) => {
                    let method = n.method.clone();
                    if method == "exit" {
                        // Without `shutdown` first, the protocol asks for exit status 1.
                        return Err("the editor sent `exit` before `shutdown`".to_string());
                    }
                    if std::panic::catch_unwind(AssertUnwindSafe(|| self.notification(n))).is_err()
                    {
                        checker::log(&self.out, &format!("proctor hit a bug handling {method}"));
                    }
                }
                Message::Response(_) => {}
            }
        }
        Ok(())
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                else {
                    return;
                };
                let d = p.text_document;
                self.edited(d.uri, Some(d.text), d.version);
            }
            "textDocument/didChange" => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                else {
                    return;
                };
                // Full sync: the last change holds the whole text.
                if let Some(change) = p.content_changes.into_iter().last() {
                    let d = p.text_document;
                    self.edited(d.uri, Some(change.text), d.version);
                }
            }
            "textDocument/didSave" => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidSaveTextDocumentParams>(n.params)
                    && let Some(path) = text::path_of(&p.text_document.uri)
                {
                    self.schedule(&path);
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                    && let Some(path) = text::path_of(&p.text_document.uri)
                {
                    // What is on disk is checked again in its place.
                    self.docs.remove(&path);
                    self.schedule(&path);
                }
            }
            "workspace/didChangeWatchedFiles" => {
                if let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeWatchedFilesParams>(n.params)
                {
                    for change in p.changes {
                        if let Some(path) = text::path_of(&change.uri)
                            && !self.docs.contains_key(&path)
                        {
                            self.schedule(&path);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn edited(&mut self, uri: Uri, text: Option<String>, version: i32) {
        let Some(path) = text::path_of(&uri) else {
            return;
        };
        let text = Arc::from(text.unwrap_or_default());
        self.docs.insert(path.clone(), Doc { uri, text, version });
        self.schedule(&path);
    }

    /// The workspace a file belongs to: the folder of the proctor.toml above it, else the
    /// editor's workspace folder that holds it, else its own folder.
    fn root_of(&self, path: &Path) -> PathBuf {
        let dir = path.parent().unwrap_or(path);
        if let Some(cfg) = config::find(dir)
            && let Some(root) = cfg.parent()
        {
            return root.to_path_buf();
        }
        self.folders
            .iter()
            .filter(|f| path.starts_with(f))
            .max_by_key(|f| f.as_os_str().len())
            .cloned()
            .unwrap_or_else(|| dir.to_path_buf())
    }

    fn buffers(&self) -> Buffers {
        Buffers::shared(self.docs.iter().flat_map(|(p, d)| {
            let key = identity(p);
            let alias = (key != *p).then(|| (key, d.text.clone()));
            std::iter::once((p.clone(), d.text.clone())).chain(alias)
        }))
    }

    /// Asks for a check of a changed file's workspace, cancelling the one in progress.
    fn schedule(&mut self, path: &Path) {
        let root = self.root_of(path);
        if let Some(old) = self.running.get(&root) {
            old.set();
        }
        let cancel = Cancel::default();
        self.running.insert(root.clone(), cancel.clone());
        let open = self
            .docs
            .iter()
            .map(|(p, d)| OpenDoc {
                path: p.clone(),
                uri: d.uri.clone(),
                version: d.version,
            })
            .collect();
        let changed = self.with_dependents(&root, path);
        let _ = self.jobs.send(Job {
            root,
            changed,
            buffers: self.buffers(),
            open,
            cancel,
        });
    }

    /// A changed file, and the open documents of the service bundles that read its
    /// environment bundle's outputs (their `environment.outputs` may no longer resolve).
    fn with_dependents(&self, root: &Path, path: &Path) -> Vec<PathBuf> {
        let mut changed = vec![path.to_path_buf()];
        let Some(env) = features::bundle_of(path).map(|b| identity(&b)) else {
            return changed;
        };
        let Ok(state) = self.shared.lock() else {
            return changed;
        };
        let Some(index) = state.index.get(root) else {
            return changed;
        };
        let services: Vec<&PathBuf> = index
            .environments_of
            .iter()
            .filter(|(_, envs)| envs.iter().any(|e| identity(e) == env))
            .map(|(svc, _)| svc)
            .collect();
        for doc in self.docs.keys() {
            let key = identity(doc);
            if key != identity(path) && services.iter().any(|s| key.starts_with(s)) {
                changed.push(doc.clone());
            }
        }
        changed
    }

    fn request(&mut self, req: Request) -> Result<Json, (ErrorCode, String)> {
        let params = req.params;
        let bad = |e: serde_json::Error| (ErrorCode::InvalidParams, e.to_string());
        match req.method.as_str() {
            "textDocument/completion" => {
                let p: lsp_types::CompletionParams = serde_json::from_value(params).map_err(bad)?;
                let at = p.text_document_position;
                let items = self.at(
                    &at.text_document.uri,
                    at.position,
                    |cx, path, kind, text, o| {
                        Some(match kind {
                            Kind::Spec => features::spec_completion(cx, path, text, o),
                            Kind::Template(dir) => features::template_completion(cx, &dir, text, o),
                            Kind::Policy => features::policy_completion(text, o),
                            Kind::Config | Kind::Other => Vec::new(),
                        })
                    },
                );
                Ok(serde_json::to_value(items.unwrap_or_default()).unwrap_or(Json::Null))
            }
            "textDocument/hover" => {
                let p: lsp_types::HoverParams = serde_json::from_value(params).map_err(bad)?;
                let at = p.text_document_position_params;
                let published = self.published(&at.text_document.uri, at.position);
                let hover = self.at(
                    &at.text_document.uri,
                    at.position,
                    |cx, path, kind, text, o| {
                        let about = match kind {
                            Kind::Spec => features::spec_hover(cx, path, text, o),
                            Kind::Template(dir) => features::template_hover(cx, &dir, text, o),
                            _ => None,
                        };
                        let mut parts: Vec<String> = about.into_iter().collect();
                        let mut codes = published.clone();
                        codes.extend(features::code_at(text, o));
                        codes.dedup();
                        parts.extend(codes.iter().filter_map(|c| features::explain(c)));
                        (!parts.is_empty()).then(|| features::hover(parts.join("\n\n---\n\n")))
                    },
                );
                Ok(serde_json::to_value(hover).unwrap_or(Json::Null))
            }
            "textDocument/definition" => {
                let p: lsp_types::GotoDefinitionParams =
                    serde_json::from_value(params).map_err(bad)?;
                let at = p.text_document_position_params;
                let found = self.at(
                    &at.text_document.uri,
                    at.position,
                    |cx, path, kind, text, o| match kind {
                        Kind::Spec => features::spec_definition(cx, path, text, o),
                        Kind::Template(dir) => features::template_definition(cx, &dir, text, o),
                        Kind::Policy => features::policy_definition(path, text, o),
                        Kind::Config | Kind::Other => None,
                    },
                );
                Ok(serde_json::to_value(found).unwrap_or(Json::Null))
            }
            "textDocument/codeAction" => {
                let p: lsp_types::CodeActionParams = serde_json::from_value(params).map_err(bad)?;
                Ok(serde_json::to_value(code_actions(&p)).unwrap_or(Json::Null))
            }
            method => Err((
                ErrorCode::MethodNotFound,
                format!("proctor does not answer {method}"),
            )),
        }
    }

    /// Runs a handler at a position of a document, with what it reads.
    fn at<T>(
        &self,
        uri: &Uri,
        pos: lsp_types::Position,
        f: impl FnOnce(&Context, &Path, Kind, &str, usize) -> Option<T>,
    ) -> Option<T> {
        let path = text::path_of(uri)?;
        let root = self.root_of(&path);
        let buffers = self.buffers();
        let state = self.shared.lock().ok()?;
        let cx = Context {
            buffers: &buffers,
            root: &root,
            index: state.index.get(&root),
        };
        let text = cx.text(&path);
        let offset = features::offset(&text, pos);
        let kind = cx.kind(&path, &text);
        f(&cx, &path, kind, &text, offset)
    }

    /// The codes of the diagnostics last published at a position.
    fn published(&self, uri: &Uri, pos: lsp_types::Position) -> Vec<String> {
        let Some(path) = text::path_of(uri) else {
            return Vec::new();
        };
        let Ok(state) = self.shared.lock() else {
            return Vec::new();
        };
        let inside = |r: &lsp_types::Range| r.start <= pos && pos <= r.end;
        state
            .published
            .get(&identity(&path))
            .into_iter()
            .flatten()
            .filter(|d| inside(&d.range))
            .filter_map(|d| match &d.code {
                Some(lsp_types::NumberOrString::String(c)) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }
}

/// The quick fixes of the diagnostics the editor sends back.
fn code_actions(p: &lsp_types::CodeActionParams) -> Vec<CodeActionOrCommand> {
    p.context
        .diagnostics
        .iter()
        .filter_map(|d| {
            let fix: convert::Fix = serde_json::from_value(d.data.clone()?).ok()?;
            let edit = lsp_types::TextEdit::new(fix.range, fix.new_text);
            // `Uri` caches its parse inside; its hash and equality do not change with it.
            #[allow(clippy::mutable_key_type)]
            let changes = HashMap::from([(p.text_document.uri.clone(), vec![edit])]);
            Some(CodeActionOrCommand::CodeAction(lsp_types::CodeAction {
                title: fix.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(lsp_types::WorkspaceEdit {
                    changes: Some(changes),
                    ..lsp_types::WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..lsp_types::CodeAction::default()
            }))
        })
        .collect()
}
