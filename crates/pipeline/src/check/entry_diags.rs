//! How the cache's entries hold findings (`super::incremental`): each finding's files by
//! name when the run has them, else with their text, and each label as a byte range in one
//! of them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Label, Severity};
use crate::source::{Located, Source, SourceFile};

/// A file a finding points into: by name when the run has it (the spec, proctor.toml, a
/// bundle's files, a policy), else with its text (a rendered template).
#[derive(Serialize, Deserialize)]
pub(super) struct SourceRec {
    pub(super) name: String,
    pub(super) path: PathBuf,
    pub(super) text: Option<String>,
}

/// The files `recs` name, as this run has them: each given with its text made from it, each
/// held by name from `find`. `None` when one is neither.
pub(super) fn sources_of(
    recs: Vec<SourceRec>,
    root: &Path,
    find: impl Fn(&str) -> Option<Source>,
) -> Option<Vec<Source>> {
    recs.into_iter()
        .map(|s| match s.text {
            Some(text) => Some(SourceFile::new(s.name, root.join(s.path), text)),
            None => find(&s.name),
        })
        .collect()
}

/// Every one of `ds` as the run's finding, when each makes sense in `sources`.
pub(super) fn decode_all(ds: Vec<DiagRec>, sources: &[Source]) -> Option<Vec<Diagnostic>> {
    ds.into_iter().map(|d| d.decode(sources)).collect()
}

/// A finding: its labels point into the entry's files by position.
#[derive(Serialize, Deserialize)]
pub(super) struct DiagRec {
    code: String,
    severity: String,
    message: String,
    primary: Option<LabelRec>,
    labels: Vec<LabelRec>,
    help: Option<String>,
    related: Vec<DiagRec>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct LabelRec {
    source: usize,
    start: usize,
    end: usize,
    message: Option<String>,
}

/// `path` relative to `root` when it is under it (joining gives it back either way).
fn relative(root: &Path, path: &Path) -> PathBuf {
    below(root, path).to_path_buf()
}

/// `path` relative to `root` when it is under it, borrowed.
pub(super) fn below<'p>(root: &Path, path: &'p Path) -> &'p Path {
    path.strip_prefix(root).unwrap_or(path)
}

/// Gives each source an entry's table a place, once.
pub(super) struct Table<'a> {
    root: &'a Path,
    known: &'a HashMap<String, Source>,
    /// The deployment's spec: name, path, SHA-256.
    spec: Option<&'a (String, PathBuf, String)>,
    /// A file the reader has besides the known ones (the template an analysis is of).
    own: Option<&'a Source>,
    sources: Vec<SourceRec>,
    /// By the source's address: one row per file.
    index: HashMap<usize, usize>,
}

impl<'a> Table<'a> {
    /// A table whose files are held by name when they are `known`, the `spec` (name, path,
    /// SHA-256) or `own`; paths are kept relative to `root`.
    pub(super) fn new(
        root: &'a Path,
        known: &'a HashMap<String, Source>,
        spec: Option<&'a (String, PathBuf, String)>,
        own: Option<&'a Source>,
    ) -> Table<'a> {
        Table {
            root,
            known,
            spec,
            own,
            sources: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The files the findings recorded so far point into.
    pub(super) fn into_sources(self) -> Vec<SourceRec> {
        self.sources
    }

    pub(super) fn diags(&mut self, ds: &[Diagnostic]) -> Vec<DiagRec> {
        ds.iter().map(|d| self.diag(d)).collect()
    }

    fn source(&mut self, s: &Source) -> usize {
        let address = Arc::as_ptr(s) as usize;
        if let Some(&i) = self.index.get(&address) {
            return i;
        }
        let same = |k: &Source| {
            k.name() == s.name()
                && k.path() == s.path()
                && (Arc::ptr_eq(k, s) || k.text() == s.text())
        };
        let spec = self.spec.is_some_and(|(name, path, sha)| {
            name == s.name()
                && path == s.path()
                && *sha == crate::source::sha256(s.text().as_bytes())
        });
        let by_name =
            spec || self.own.is_some_and(same) || self.known.get(s.name()).is_some_and(same);
        self.sources.push(SourceRec {
            name: s.name().to_string(),
            path: relative(self.root, s.path()),
            text: (!by_name).then(|| s.text().to_string()),
        });
        let i = self.sources.len() - 1;
        self.index.insert(address, i);
        i
    }

    fn label(&mut self, l: &Label) -> LabelRec {
        LabelRec {
            source: self.source(&l.at.source),
            start: l.at.span.start,
            end: l.at.span.end,
            message: l.message.clone(),
        }
    }

    pub(super) fn diag(&mut self, d: &Diagnostic) -> DiagRec {
        DiagRec {
            code: d.code.id.to_string(),
            severity: d.severity.as_str().to_string(),
            message: d.message.clone(),
            primary: d.primary.as_ref().map(|l| self.label(l)),
            labels: d.labels.iter().map(|l| self.label(l)).collect(),
            help: d.help.clone(),
            related: d.related.iter().map(|r| self.diag(r)).collect(),
        }
    }
}

impl LabelRec {
    fn decode(self, sources: &[Source]) -> Option<Label> {
        let source = sources.get(self.source)?;
        let text = source.text();
        let fits = self.start <= self.end
            && self.end <= text.len()
            && text.is_char_boundary(self.start)
            && text.is_char_boundary(self.end);
        fits.then(|| Label {
            at: Located {
                source: source.clone(),
                span: self.start..self.end,
            },
            message: self.message,
        })
    }
}

impl DiagRec {
    fn decode(self, sources: &[Source]) -> Option<Diagnostic> {
        let severity = match self.severity.as_str() {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            "info" => Severity::Info,
            _ => return None,
        };
        Some(Diagnostic {
            code: crate::diag::codes::find(&self.code)?,
            severity,
            message: self.message,
            primary: match self.primary {
                Some(l) => Some(l.decode(sources)?),
                None => None,
            },
            labels: self
                .labels
                .into_iter()
                .map(|l| l.decode(sources))
                .collect::<Option<_>>()?,
            help: self.help,
            related: self
                .related
                .into_iter()
                .map(|r| r.decode(sources))
                .collect::<Option<_>>()?,
        })
    }
}
