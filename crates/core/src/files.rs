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
    read_regular(buffers, path, name, max_bytes).map_err(|e| match e {
        Unreadable::NotAFile(kind) => Box::new(not_a_file(path, name, &kind)),
        Unreadable::Text(d) => d,
    })
}

/// Why [`read_regular`] could not give a file's text.
pub enum Unreadable {
    /// The path is missing, unreadable or not a regular file; the caller words it (a spec
    /// that proctor.toml names is reported where proctor.toml names it).
    NotAFile(NotAFile),
    /// The file was read, but is too large, binary or not UTF-8.
    Text(Box<Diagnostic>),
}

/// Reads `path` as [`read_in`] does, but leaves a path that is not a readable regular file
/// to the caller to report.
pub fn read_regular(
    buffers: &Buffers,
    path: &Path,
    name: &str,
    max_bytes: u64,
) -> Result<Source, Unreadable> {
    let Some(text) = buffers.get(path) else {
        return read_checked(path, name, max_bytes);
    };
    if text.len() as u64 > max_bytes {
        return Err(Unreadable::Text(Box::new(over_limit(
            path,
            name,
            Some(text.len() as u64),
            max_bytes,
        ))));
    }
    text_of(path, name, text.to_string())
}

/// F003: `name` is over the limit (by `len` bytes, when known: a file that grew while being
/// read is only known to be over it).
fn over_limit(path: &Path, name: &str, len: Option<u64>, max_bytes: u64) -> Diagnostic {
    let empty = SourceFile::new(name, path, String::new());
    let message = match len {
        Some(len) => format!("`{name}` is {len} bytes, over the limit of {max_bytes} bytes"),
        None => format!("`{name}` is over the limit of {max_bytes} bytes"),
    };
    let d = Diagnostic::new(codes::F003, message).at_file(&empty);
    match len {
        Some(_) => d.help("shrink the file, or raise `limits.max_file_bytes` in proctor.toml"),
        None => d,
    }
}

/// `text` as the source `name`, or F002 when it holds a NUL byte (a binary file).
fn text_of(path: &Path, name: &str, text: String) -> Result<Source, Unreadable> {
    let nul = text.find('\0');
    let src = SourceFile::new(name, path, text);
    match nul {
        None => Ok(src),
        Some(at) => Err(Unreadable::Text(Box::new(
            Diagnostic::new(
                codes::F002,
                format!("`{name}` contains a NUL byte: it looks like a binary file"),
            )
            .at(&src, at..at + 1)
            .help("proctor reads text files only; remove the file or save it as UTF-8 text"),
        ))),
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
    read_checked(path, name, max_bytes).map_err(|e| match e {
        Unreadable::NotAFile(kind) => Box::new(not_a_file(path, name, &kind)),
        Unreadable::Text(d) => d,
    })
}

/// Why `name` (at `path`) cannot be read, as a diagnostic on the file.
fn not_a_file(path: &Path, name: &str, kind: &NotAFile) -> Diagnostic {
    let empty = SourceFile::new(name, path, String::new());
    match kind {
        NotAFile::Io(e) => Diagnostic::new(
            codes::F001,
            format!("cannot read `{name}`: {}", io_reason(e)),
        )
        .at_file(&empty)
        .help("check that the file exists and is readable"),
        _ => {
            let help = match kind {
                NotAFile::Folder => "name the file inside it",
                _ => "replace it with a regular file",
            };
            Diagnostic::new(codes::F001, format!("`{name}` {}", kind.phrase()))
                .at_file(&empty)
                .help(help)
        }
    }
}

/// `path` opened for reading, with its metadata, when it is a regular file. One open and
/// one `fstat`: a run reads 100,000 specs, and each system call costs more than the read.
/// On Unix the file is opened without blocking, so that a pipe (which would wait for a
/// writer for ever) opens at once and is then refused like any file that is not regular.
fn open_regular(path: &Path) -> Result<(std::fs::File, std::fs::Metadata), NotAFile> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    regular_file(path)?;
    let file = options.open(path).map_err(NotAFile::Io)?;
    let meta = file.metadata().map_err(NotAFile::Io)?;
    match () {
        _ if meta.is_dir() => Err(NotAFile::Folder),
        _ if !meta.is_file() => Err(NotAFile::Special),
        _ => Ok((file, meta)),
    }
}

/// The bytes of `file`, whose metadata gave `len`: one read when it still has that length.
/// A read that fills less than it asked for ends the file once `len` bytes are in (the
/// system's word for a regular file's end); before that, the reading goes on. Stops past
/// `max` bytes (the file grew over the limit): the caller reports it.
fn read_to_end(mut file: std::fs::File, len: u64, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    // One byte more than the file has, to see it grow.
    let mut bytes = vec![0u8; len.saturating_add(1)];
    let mut filled = 0;
    loop {
        if filled == bytes.len() {
            if filled as u64 > max {
                break;
            }
            bytes.resize(filled.saturating_mul(2).max(64), 0);
        }
        let asked = bytes.len() - filled;
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if n < asked && filled >= len {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

fn read_checked(path: &Path, name: &str, max_bytes: u64) -> Result<Source, Unreadable> {
    let text_error = |d: Diagnostic| Unreadable::Text(Box::new(d));
    let (file, meta) = open_regular(path).map_err(Unreadable::NotAFile)?;
    if meta.len() > max_bytes {
        return Err(text_error(over_limit(
            path,
            name,
            Some(meta.len()),
            max_bytes,
        )));
    }
    let bytes = read_to_end(file, meta.len(), max_bytes)
        .map_err(|e| Unreadable::NotAFile(NotAFile::Io(e)))?;
    // The file may have grown since the metadata was read.
    if bytes.len() as u64 > max_bytes {
        return Err(text_error(over_limit(path, name, None, max_bytes)));
    }
    match String::from_utf8(bytes) {
        Ok(text) => text_of(path, name, text),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let src = SourceFile::new(name, path, text);
            Err(text_error(
                Diagnostic::new(codes::F002, format!("`{name}` is not valid UTF-8"))
                    .at(&src, at..src.clamp(at + 1))
                    .primary_message("first invalid byte here")
                    .help("save the file as UTF-8"),
            ))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("proctor-files-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_file_is_read_whole_whatever_its_size() {
        let dir = folder("sizes");
        for len in [0usize, 1, 63, 64, 65, 4095, 4096, 4097, 300_000] {
            let text: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let path = dir.join(format!("f{len}.yaml"));
            std::fs::write(&path, &text).unwrap();
            let source = read_source(&path, "f.yaml", 1 << 20)
                .unwrap_or_else(|d| panic!("{len}: {}", d.message));
            assert_eq!(source.text(), text, "{len} bytes");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn what_is_not_a_readable_regular_file_is_said_so() {
        let dir = folder("kinds");
        let d = read_source(&dir, "specs", 1 << 20).err().unwrap();
        assert_eq!(d.message, "`specs` is a folder, not a file");
        let d = read_source(&dir.join("none.yaml"), "none.yaml", 1 << 20)
            .err()
            .unwrap();
        assert_eq!(d.message, "cannot read `none.yaml`: no such file");
        let big = dir.join("big.yaml");
        std::fs::write(&big, "x".repeat(2000)).unwrap();
        let d = read_source(&big, "big.yaml", 1000).err().unwrap();
        assert_eq!(
            d.message,
            "`big.yaml` is 2000 bytes, over the limit of 1000 bytes"
        );
        let missing = read_regular(&Buffers::default(), &dir.join("gone.yaml"), "gone.yaml", 10);
        assert!(matches!(missing, Err(Unreadable::NotAFile(k)) if k.is_missing()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_buffer_stands_for_its_file() {
        let path = PathBuf::from("/nowhere/spec.yaml");
        let buffers = Buffers::new([(path.clone(), "a: 1\n".to_string())]);
        let source = read_in(&buffers, &path, "spec.yaml", 100).unwrap();
        assert_eq!(source.text(), "a: 1\n");
        let d = read_in(&buffers, &path, "spec.yaml", 2).err().unwrap();
        assert_eq!(d.code.id, codes::F003.id);
    }
}
