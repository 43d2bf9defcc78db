//! The content-addressed store under the cache folder (`.proctor/cache/` by default): entries
//! named by the SHA-256 of everything their content depends on, written atomically, checked
//! on every read, and pruned least recently used first. A run that finds the folder unusable
//! (read-only, full, not a folder) says so once and goes on without it. A corrupt, truncated
//! or foreign entry is a miss and is removed, never trusted.
//!
//! This is the store only: what a check puts in it, under which key, is the pipeline's
//! (issue 23, in progress).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The first line of every entry; a change of layout changes it.
const MAGIC: &str = "proctor-cache 1";
/// What a key always covers: the store's layout and proctor's version (an entry written by
/// another version is never read by this one).
const SALT: &str = concat!("proctor-cache 1 ", env!("CARGO_PKG_VERSION"));

/// The folder the cache uses under a workspace's root.
pub const DEFAULT_DIR: &str = ".proctor/cache";

/// The name of an entry: the SHA-256 of its parts, each length-prefixed so that no two
/// lists of parts collide.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    pub fn of<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Key {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update((SALT.len() as u64).to_le_bytes());
        h.update(SALT.as_bytes());
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        Key(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn hex(&self) -> &str {
        &self.0
    }
}

/// A cache folder in use by one run.
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
    /// Set after the first failure: the run goes on without the cache.
    off: AtomicBool,
    /// Why it was turned off, said once.
    problem: Mutex<Option<String>>,
    written: AtomicU64,
    /// The folder's `.gitignore` and `CACHEDIR.TAG` are there (checked on the first write).
    marked: AtomicBool,
}

/// What `Cache::clean` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub entries: usize,
    pub bytes: u64,
}

impl Cache {
    /// The cache in `dir`, holding at most `max_bytes` of entries (pruned to 80% of it when
    /// over). Nothing is created until the first entry is written.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Cache {
        Cache {
            dir: dir.into(),
            max_bytes,
            off: AtomicBool::new(false),
            problem: Mutex::new(None),
            written: AtomicU64::new(0),
            marked: AtomicBool::new(false),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, key: &Key) -> PathBuf {
        self.dir.join("entries").join(&key.0[..2]).join(&key.0)
    }

    /// Whether the folder has ever held an entry (a first run need not look any up).
    pub fn has_entries(&self) -> bool {
        self.dir.join("entries").is_dir()
    }

    /// Why the cache was turned off during this run, if it was (to say once).
    pub fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }

    fn turn_off(&self, why: String) {
        if !self.off.swap(true, Ordering::SeqCst)
            && let Ok(mut p) = self.problem.lock()
        {
            *p = Some(why);
        }
    }

    /// The payload stored under `key`, when there is a whole, intact entry for it. Anything
    /// else (missing, truncated, corrupt, another version's) is a miss; a damaged entry is
    /// removed.
    pub fn get(&self, key: &Key) -> Option<Vec<u8>> {
        if self.off.load(Ordering::Relaxed) {
            return None;
        }
        let path = self.entry_path(key);
        // Read and touched through one handle (read-only when the folder is: a restored CI
        // cache may be).
        let mut file = std::fs::File::options()
            .read(true)
            .write(true)
            .open(&path)
            .or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Err(e),
                _ => std::fs::File::open(&path),
            })
            .ok()?;
        let len = file.metadata().map_or(0, |m| m.len() as usize);
        let mut bytes = Vec::with_capacity(len + 1);
        file.read_to_end(&mut bytes).ok()?;
        match decode(&bytes, key) {
            Some(payload) => {
                // Least recently used is least recently read: reading touches the entry
                // (once an hour at most, which is fine enough for pruning).
                let now = std::time::SystemTime::now();
                let stale = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t + std::time::Duration::from_secs(3600) < now);
                if stale {
                    let _ = file.set_modified(now);
                }
                let start = bytes.len() - payload.len();
                bytes.drain(..start);
                Some(bytes)
            }
            None => {
                drop(file);
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores `payload` under `key`: written to a temporary file in the cache folder, then
    /// renamed into place, so a reader sees the whole entry or none (two runs writing one key
    /// each rename a whole entry). A failure turns the cache off for the rest of the run.
    pub fn put(&self, key: &Key, payload: &[u8]) {
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        if let Err(e) = self.write(key, payload) {
            self.turn_off(format!(
                "the cache folder `{}` cannot be written ({e}); this run goes on without it",
                self.dir.display()
            ));
        }
    }

    /// Marks the folder as a cache: a `.gitignore` that ignores it all, and the
    /// `CACHEDIR.TAG` that backup tools skip folders by.
    fn mark(&self) -> std::io::Result<()> {
        if self.marked.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir)?;
        let files = [
            (
                ".gitignore",
                "# proctor's cache: not for version control\n*\n",
            ),
            (
                "CACHEDIR.TAG",
                "Signature: 8a477f597d28d172789f06886806bc55\n# proctor's cache (https://bford.info/cachedir/)\n",
            ),
        ];
        for (name, text) in files {
            let path = self.dir.join(name);
            if !path.exists() {
                std::fs::write(path, text)?;
            }
        }
        Ok(())
    }

    fn write(&self, key: &Key, payload: &[u8]) -> std::io::Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        self.mark()?;
        let path = self.entry_path(key);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        let pid = PID.get_or_init(std::process::id);
        let tmp = (self.dir.join("tmp")).join(format!("{}-{pid}-{n}", key.0));
        let written = (|| {
            // Folders are made when a write finds them missing, not checked on every write.
            let mut f = with_folder(&tmp, || std::fs::File::create(&tmp))?;
            // No fsync: a cache is not a record of anything. An entry that a crash left
            // short or garbled fails the header's length and checksum, and is a miss.
            f.write_all(&encode(key, payload))?;
            with_folder(&path, || std::fs::rename(&tmp, &path))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
        let total = self
            .written
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        if total + payload.len() as u64 > self.max_bytes / 10 {
            self.written.store(0, Ordering::Relaxed);
            self.prune();
        }
        Ok(())
    }

    /// Removes entries, least recently used first, until the cache holds at most 80% of its
    /// limit; and temporary files a killed run left behind (older than an hour).
    pub fn prune(&self) {
        let mut entries = files(&self.dir.join("entries"));
        let total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        if total > self.max_bytes {
            entries.sort_by_key(|(_, _, modified)| *modified);
            let mut left = total;
            for (path, len, _) in entries {
                if left <= self.max_bytes / 10 * 8 {
                    break;
                }
                if std::fs::remove_file(&path).is_ok() {
                    left = left.saturating_sub(len);
                }
            }
        }
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for (path, _, modified) in files(&self.dir.join("tmp")) {
            if modified < hour_ago {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// Empties the cache folder of proctor's entries (`proctor cache clean`).
    pub fn clean(dir: &Path) -> std::io::Result<Cleaned> {
        let mut cleaned = Cleaned::default();
        for sub in ["entries", "tmp"] {
            for (path, len, _) in files(&dir.join(sub)) {
                std::fs::remove_file(&path)?;
                cleaned.entries += usize::from(sub == "entries");
                cleaned.bytes += len;
            }
            match std::fs::remove_dir_all(dir.join(sub)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(cleaned)
    }
}

/// Runs `op` on `path`; when the folder `path` goes in is missing, makes it and runs `op`
/// again.
fn with_folder<T>(path: &Path, op: impl Fn() -> std::io::Result<T>) -> std::io::Result<T> {
    match op() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            op()
        }
        other => other,
    }
}

/// Every regular file under `dir`, two levels deep at most (`entries/ab/abcd...`), with its
/// length and last modification; links are not followed.
fn files(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in read.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            let kind = meta.file_type();
            if kind.is_dir() && depth < 1 {
                stack.push((e.path(), depth + 1));
            } else if kind.is_file() {
                let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
                out.push((e.path(), meta.len(), modified));
            }
        }
    }
    out
}

/// An entry: a header naming the layout, the version, the key, the payload's length and
/// SHA-256; a blank line; the payload.
fn encode(key: &Key, payload: &[u8]) -> Vec<u8> {
    let digest = crate::source::sha256(payload);
    let mut out = format!(
        "{MAGIC}\nversion {}\nkey {}\nlength {}\nsha256 {digest}\n\n",
        env!("CARGO_PKG_VERSION"),
        key.0,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The payload of an entry, when the entry is whole and is the one `key` names.
fn decode<'a>(bytes: &'a [u8], key: &Key) -> Option<&'a [u8]> {
    let split = bytes.windows(2).position(|w| w == b"\n\n")?;
    let header = std::str::from_utf8(&bytes[..split]).ok()?;
    let payload = &bytes[split + 2..];
    let mut lines = header.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut fields = std::collections::HashMap::new();
    for line in lines {
        let (k, v) = line.split_once(' ')?;
        fields.insert(k, v);
    }
    let whole = fields.get("version") == Some(&env!("CARGO_PKG_VERSION"))
        && fields.get("key") == Some(&key.0.as_str())
        && fields.get("length")?.parse::<usize>().ok()? == payload.len()
        && *fields.get("sha256")? == crate::source::sha256(payload);
    whole.then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::of([s.as_bytes()])
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(Key::of([&b"ab"[..], b"c"]), Key::of([&b"a"[..], b"bc"]));
        assert_eq!(key("x"), key("x"));
        assert_eq!(key("x").hex().len(), 64);
    }

    #[test]
    fn an_entry_is_read_back_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path(), 1 << 20);
        assert_eq!(cache.get(&key("a")), None);
        cache.put(&key("a"), b"payload\n\nwith a blank line");
        assert_eq!(
            cache.get(&key("a")).as_deref(),
            Some(&b"payload\n\nwith a blank line"[..])
        );
        assert_eq!(cache.get(&key("b")), None);
        assert!(cache.problem().is_none());
    }

    #[test]
    fn damaged_and_foreign_entries_are_misses_and_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path(), 1 << 20);
        let k = key("a");
        let path = cache.entry_path(&k);
        let whole = encode(&k, b"0123456789");
        let damaged: Vec<(&str, Vec<u8>)> = vec![
            ("truncated", whole[..whole.len() - 3].to_vec()),
            ("a flipped byte", {
                let mut b = whole.clone();
                let last = b.len() - 1;
                b[last] ^= 1;
                b
            }),
            ("another key's", encode(&key("b"), b"0123456789")),
            (
                "another version's",
                String::from_utf8(whole.clone())
                    .unwrap()
                    .replace(env!("CARGO_PKG_VERSION"), "0.0.0-other")
                    .into_bytes(),
            ),
            ("not an entry", b"garbage".to_vec()),
            ("empty", Vec::new()),
        ];
        for (what, bytes) in damaged {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(cache.get(&k), None, "{what}");
            assert!(!path.exists(), "{what}: removed");
        }
        // And rewritten by the next put.
        cache.put(&k, b"0123456789");
        assert_eq!(cache.get(&k).as_deref(), Some(&b"0123456789"[..]));
    }

    #[test]
    fn a_read_only_folder_turns_the_cache_off_once() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-folder");
        std::fs::write(&file, "x").unwrap();
        let cache = Cache::new(&file, 1 << 20);
        cache.put(&key("a"), b"1");
        cache.put(&key("b"), b"2");
        let problem = cache.problem().expect("said");
        assert!(problem.contains("cannot be written"), "{problem}");
        assert_eq!(cache.get(&key("a")), None);
    }

    #[test]
    fn pruning_removes_the_least_recently_used_first() {
        let tmp = tempfile::tempdir().unwrap();
        // Room for ten entries of 1,000 bytes and their headers, not eleven.
        let cache = Cache::new(tmp.path(), 12_500);
        // Written two hours ago: a read touches an entry untouched for an hour.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for i in 0..10 {
            let k = key(&i.to_string());
            cache.put(&k, &[b'x'; 1000]);
            let f = std::fs::File::options()
                .write(true)
                .open(cache.entry_path(&k))
                .unwrap();
            f.set_modified(old + std::time::Duration::from_secs(i))
                .unwrap();
        }
        // Entry 0 is read (so recently used); 1 and 2 are the oldest unread.
        assert!(cache.get(&key("0")).is_some());
        cache.put(&key("new"), &[b'y'; 1000]);
        cache.prune();
        let kept = |i: &str| cache.entry_path(&key(i)).exists();
        assert!(kept("0") && kept("new") && kept("9"));
        assert!(!kept("1") && !kept("2"));
        let total: u64 = files(&tmp.path().join("entries")).iter().map(|f| f.1).sum();
        assert!(total <= 12_500 / 10 * 8, "{total}");
    }

    #[test]
    fn concurrent_writers_of_one_key_leave_a_whole_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = std::sync::Arc::new(Cache::new(tmp.path(), 1 << 24));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        cache.put(&key("shared"), &[b'a' + t; 4096]);
                        if let Some(p) = cache.get(&key("shared")) {
                            assert!(p.len() == 4096 && p.iter().all(|b| *b == p[0]));
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(cache.get(&key("shared")).is_some());
        assert!(cache.problem().is_none());
    }

    #[test]
    fn the_folder_tells_git_and_backups_to_leave_it_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        let cache = Cache::new(&dir, 1 << 20);
        cache.put(&key("a"), b"1");
        let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
        let tag = std::fs::read_to_string(dir.join("CACHEDIR.TAG")).unwrap();
        assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
        Cache::clean(&dir).unwrap();
        assert!(dir.join(".gitignore").exists(), "kept by clean");
    }

    #[test]
    fn clean_empties_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path(), 1 << 20);
        for i in 0..5 {
            cache.put(&key(&i.to_string()), b"12345");
        }
        let cleaned = Cache::clean(tmp.path()).unwrap();
        assert_eq!(cleaned.entries, 5);
        assert!(cleaned.bytes > 25);
        assert_eq!(cache.get(&key("1")), None);
        assert_eq!(Cache::clean(tmp.path()).unwrap(), Cleaned::default());
    }
}
