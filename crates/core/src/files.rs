//! Reading files for checking: the one place a path becomes a [`Source`], or a diagnostic
//! that says why it cannot (missing, a folder, a pipe, too large, binary, not UTF-8).
//!
//! A run may read some paths from [`Buffers`] instead of the disk: texts an editor has not
//! saved yet (the language server), or a proctor.toml changed in memory (`adopt`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostic, codes};
use crate::source::{Source, SourceFile};

/// Texts that stand in for files on disk, by path. Cheap to clone; empty by default.
#[derive(Clone, Debug, Default)]
pub struct Buffers {
    texts: Arc<HashMap<PathBuf, Arc<str>>>,
}

impl Buffers {
    /// Buffers holding `texts`, by path (as the run will ask for them: absolute, or joined
    /// to the folder the run starts from).
    pub fn new(texts: impl IntoIterator<Item = (PathBuf, String)>) -> Self {
        Self::shared(texts.into_iter().map(|(p, t)| (p, Arc::from(t))))
    }

    /// Buffers holding texts shared with their owner (an editor's open documents), not
    /// copied.
    pub fn shared(texts: impl IntoIterator<Item = (PathBuf, Arc<str>)>) -> Self {
        Buffers {
            texts: Arc::new(texts.into_iter().collect()),
        }
    }

    /// The text standing in for `path`, if any.
    pub fn get(&self, path: &Path) -> Option<&str> {
        if self.texts.is_empty() {
            return None;
        }
        self.texts
            .get(path)
            .or_else(|| self.texts.get(&crate::paths::identity(path)))
            .map(|t| &**t)
    }

    /// Whether `path` reads from a buffer.
    pub fn has(&self, path: &Path) -> bool {
        self.get(path).is_some()
    }

    /// Whether every read goes to disk.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// A flag another thread sets when a run's result is no longer wanted (an editor sent a
/// newer edit). Cheap to clone; never set by default.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    pub fn set(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Reads `path` as [`read_source`] does, from its buffer when `buffers` has one (the same
/// limit and the same checks of the text apply).
pub fn read_in(
    buffers: &Buffers,
    path: &Path,
    name: &str,
    max_bytes: u64,
) -> Result<Source, Box<Diagnostic>> {
    let Some(text) = buffers.get(path) else {
        return read_source(path, name, max_bytes);
    };
    if text.len() as u64 > max_bytes {
        let empty = SourceFile::new(name, path, String::new());
        return Err(Box::new(
            Diagnostic::new(
                codes::F003,
                format!(
                    "`{name}` is {} bytes, over the limit of {max_bytes} bytes",
                    text.len()
                ),
            )
            .at_file(&empty)
            .help("shrink the file, or raise `limits.max_file_bytes` in proctor.toml"),
        ));
    }
    let src = SourceFile::new(name, path, text.to_string());
    match text.find('\0') {
        None => Ok(src),
        Some(at) => Err(Box::new(
            Diagnostic::new(
                codes::F002,
                format!("`{name}` contains a NUL byte: it looks like a binary file"),
            )
            .at(&src, at..at + 1)
            .help("proctor reads text files only; remove the file or save it as UTF-8 text"),
        )),
    }
}

/// Why a path cannot be read as a regular file.
pub enum NotAFile {
    /// It does not exist, or its metadata cannot be read.
    Io(std::io::Error),
    Folder,
    /// A pipe, socket or device: a pipe would block a read for ever, a device could be read
    /// without end.
    Special,
}

impl NotAFile {
    /// What the path is, after its name: "is a folder, not a file".
    pub fn phrase(&self) -> String {
        match self {
            NotAFile::Io(e) => format!("cannot be read: {}", io_reason(e)),
            NotAFile::Folder => "is a folder, not a file".to_string(),
            NotAFile::Special => "is not a regular file (a pipe, socket or device)".to_string(),
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, NotAFile::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// The metadata of `path` (links followed) when it is a regular file; else why not.
pub fn regular_file(path: &Path) -> Result<std::fs::Metadata, NotAFile> {
    match std::fs::metadata(path) {
        Err(e) => Err(NotAFile::Io(e)),
        Ok(m) if m.is_dir() => Err(NotAFile::Folder),
        Ok(m) if !m.is_file() => Err(NotAFile::Special),
        Ok(m) => Ok(m),
    }
}

/// Reads a text file for checking. Too large, unreadable, binary or non-UTF-8 files are
/// diagnostics; a non-UTF-8 file's diagnostic points at its first bad byte.
pub fn read_source(path: &Path, name: &str, max_bytes: u64) -> Result<Source, Box<Diagnostic>> {
    read_checked(path, name, max_bytes).map_err(Box::new)
}

// Boxed once, at the public boundary.
#[allow(clippy::result_large_err)]
fn read_checked(path: &Path, name: &str, max_bytes: u64) -> Result<Source, Diagnostic> {
    let empty = || SourceFile::new(name, path, String::new());
    let fail = |e: &std::io::Error| {
        Diagnostic::new(
            codes::F001,
            format!("cannot read `{name}`: {}", io_reason(e)),
        )
        .at_file(&empty())
        .help("check that the file exists and is readable")
    };
    let meta = match regular_file(path) {
        Ok(m) => m,
        Err(NotAFile::Io(e)) => return Err(fail(&e)),
        Err(kind) => {
            let help = match kind {
                NotAFile::Folder => "name the file inside it",
                _ => "replace it with a regular file",
            };
            return Err(
                Diagnostic::new(codes::F001, format!("`{name}` {}", kind.phrase()))
                    .at_file(&empty())
                    .help(help),
            );
        }
    };
    if meta.len() > max_bytes {
        return Err(Diagnostic::new(
            codes::F003,
            format!(
                "`{name}` is {} bytes, over the limit of {max_bytes} bytes",
                meta.len()
            ),
        )
        .at_file(&empty())
        .help("shrink the file, or raise `limits.max_file_bytes` in proctor.toml"));
    }
    // Read with the size just found (`std::fs::read` would ask the system for it again).
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut bytes))
        .map_err(|e| fail(&e))?;
    // The file may have grown since the metadata was read.
    if bytes.len() as u64 > max_bytes {
        return Err(Diagnostic::new(
            codes::F003,
            format!("`{name}` is over the limit of {max_bytes} bytes"),
        )
        .at_file(&empty()));
    }
    match String::from_utf8(bytes) {
        Ok(text) => match text.find('\0') {
            None => Ok(SourceFile::new(name, path, text)),
            Some(at) => {
                let src = SourceFile::new(name, path, text);
                Err(Diagnostic::new(
                    codes::F002,
                    format!("`{name}` contains a NUL byte: it looks like a binary file"),
                )
                .at(&src, at..at + 1)
                .help("proctor reads text files only; remove the file or save it as UTF-8 text"))
            }
        },
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let src = SourceFile::new(name, path, text);
            Err(
                Diagnostic::new(codes::F002, format!("`{name}` is not valid UTF-8"))
                    .at(&src, at..src.clamp(at + 1))
                    .primary_message("first invalid byte here")
                    .help("save the file as UTF-8"),
            )
        }
    }
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}
