//! Display names for paths: what users see in diagnostics, with `/` separators; comparable
//! identities of paths; and the budget of folder entries one run's walks may visit.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The folder entries the walks of one run may visit (`limits.max_files`), shared by all of
/// them (and their threads); the caller makes one per run and passes it to every walk.
#[derive(Debug)]
pub struct WalkBudget {
    left: AtomicUsize,
    /// The first folder a walk stopped in when the budget ran out.
    stopped: Mutex<Option<String>>,
}

impl WalkBudget {
    pub fn new(entries: usize) -> WalkBudget {
        WalkBudget {
            left: AtomicUsize::new(entries),
            stopped: Mutex::new(None),
        }
    }

    /// No limit (tests and tools that walk folders they chose).
    pub fn unlimited() -> WalkBudget {
        WalkBudget::new(usize::MAX)
    }

    /// Counts one entry of the folder `shown`; `false` once the budget is spent (the walk
    /// must stop; the first folder it stopped in is kept for [`WalkBudget::stopped`]).
    pub fn visit(&self, shown: &str) -> bool {
        let spent = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
            .is_err();
        if spent && let Ok(mut s) = self.stopped.lock() {
            s.get_or_insert_with(|| shown.to_string());
        }
        !spent
    }

    /// The folder where a walk stopped for the budget, if one did.
    pub fn stopped(&self) -> Option<String> {
        self.stopped.lock().ok().and_then(|s| s.clone())
    }
}

/// `dir` + `/` + `rel`, without a leading `./`.
pub fn join_display(dir: &str, rel: &str) -> String {
    if dir.is_empty() || dir == "." {
        rel.to_string()
    } else {
        format!("{}/{rel}", dir.trim_end_matches('/'))
    }
}

/// The folder part of a display name (`.` when there is none).
pub fn parent_display(name: &str) -> String {
    match name.rfind('/') {
        Some(i) => name[..i].to_string(),
        None => ".".to_string(),
    }
}

/// The files directly in `dir` whose names `keep` accepts, with their names, sorted by path;
/// none when the folder cannot be read.
pub fn files_named(
    dir: &std::path::Path,
    keep: impl Fn(&str) -> bool,
) -> Vec<(std::path::PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (keep(&name) && e.path().is_file()).then(|| (e.path(), name))
        })
        .collect();
    out.sort();
    out
}

/// `target` relative to the folder `from` (both absolute, as `/`-separated text), e.g.
/// `../.proctor/state.json` for the state file seen from a build folder.
pub fn relative(from: &std::path::Path, target: &std::path::Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = target.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// A path made absolute and free of `.`/`..` and symlinks as far as it exists: the longest
/// existing ancestor is canonicalized and the rest appended.
pub fn absolute(p: &std::path::Path) -> std::path::PathBuf {
    let mut rest = Vec::new();
    let mut cur = p.to_path_buf();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (cur.file_name().map(|n| n.to_os_string()), cur.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n);
                cur = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}

/// A path with `.` and `name/..` pairs removed, lexically (`build/../.proctor` → `.proctor`).
pub fn normalize(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return std::path::PathBuf::from(".");
    }
    out.iter().collect()
}

/// `a/b/proctor.toml` relative to `base`, when it is below it.
pub fn relative_below(path: &Path, base: &Path) -> Option<String> {
    path.strip_prefix(base)
        .ok()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
}

/// A path as users wrote it, without `./` or a trailing `/`.
pub fn tidy(p: &str) -> String {
    let mut s = p.replace('\\', "/");
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    while s.len() > 1 && s.ends_with('/') {
        s.pop();
    }
    if s.is_empty() { ".".to_string() } else { s }
}

/// A comparable identity for a path (its real path when it exists).
///
/// Folders are resolved once per thread and cached: a workspace of a thousand specs in a few
/// folders costs a few `canonicalize` calls (each a `readlink` per path component), plus one
/// `lstat` per file to follow a file that is itself a symlink.
pub fn identity(p: &Path) -> PathBuf {
    use std::cell::RefCell;
    thread_local! {
        static DIRS: RefCell<std::collections::HashMap<PathBuf, PathBuf>> = RefCell::new(std::collections::HashMap::new());
        static FILES: RefCell<std::collections::HashMap<PathBuf, PathBuf>> = RefCell::new(std::collections::HashMap::new());
    }
    if let Some(k) = FILES.with(|f| f.borrow().get(p).cloned()) {
        return k;
    }
    let whole = || p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let k = match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) if !parent.as_os_str().is_empty() => {
            let dir = DIRS.with(|d| {
                d.borrow_mut()
                    .entry(parent.to_path_buf())
                    .or_insert_with(|| {
                        parent
                            .canonicalize()
                            .unwrap_or_else(|_| parent.to_path_buf())
                    })
                    .clone()
            });
            let full = dir.join(name);
            match std::fs::symlink_metadata(&full) {
                Ok(m) if m.file_type().is_symlink() => full.canonicalize().unwrap_or(full),
                _ => full,
            }
        }
        _ => whole(),
    };
    FILES.with(|f| f.borrow_mut().insert(p.to_path_buf(), k.clone()));
    k
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn relative_paths() {
        assert_eq!(
            super::relative(Path::new("/w/build"), Path::new("/w/.proctor/state.json")),
            "../.proctor/state.json"
        );
        assert_eq!(
            super::relative(Path::new("/w"), Path::new("/w/.proctor/state.json")),
            ".proctor/state.json"
        );
        assert_eq!(super::relative(Path::new("/w"), Path::new("/w")), ".");
        assert_eq!(
            super::normalize(Path::new("build/../.proctor/./state.json")),
            Path::new(".proctor/state.json")
        );
        assert_eq!(super::normalize(Path::new("../a/..")), Path::new(".."));
    }
}
