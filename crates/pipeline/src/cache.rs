//! The content-addressed store under the cache folder (`.proctor/cache/` by default): entries
//! named by the SHA-256 of everything their content depends on, each checked on every read,
//! kept in packs.
//!
//! - **Packs.** A run opens one pack, `packs/<name>`, named by what all of its entries'
//!   keys share (for `proctor check`: the build, proctor.toml, the policies, the selection),
//!   reads it whole once, and at its end writes it again holding the entries it read back
//!   and the ones it made, so that a pack never outgrows its workspace. One file per run
//!   instead of one per deployment: a warm run on 10,000 deployments opens one file, not
//!   10,000. A run that changes nothing only touches it.
//! - **Atomic.** A pack is written to `tmp/` and renamed into place: a reader sees a whole
//!   pack or the one before it, and two runs writing one pack leave one of them, whole.
//! - **Checked.** Each entry has a header naming the layout, proctor's version, its key, its
//!   length and the XXH3-128 checksum of its payload. A truncated, corrupt or foreign entry
//!   is a miss; the run's new pack leaves it out. (The checksum catches damage, not
//!   tampering: a cache folder is as trusted as the workspace it sits in. SHA-256 over a
//!   10,000-deployment pack was a tenth of a warm run.)
//! - **Bounded.** Packs are pruned least recently used first when the folder holds more
//!   than its limit.
//! - A run that finds the folder unusable (read-only, full, not a folder) says so once and
//!   goes on without it.

use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The first line of every entry; a change of layout changes it.
const MAGIC: &str = "proctor-cache 4";
/// What a key always covers: the store's layout and proctor's version (an entry written by
/// another version is never read by this one).
const SALT: &str = concat!("proctor-cache 4 ", env!("CARGO_PKG_VERSION"));
/// An entry's header is a few short lines: anything longer is not one.
const MAX_HEADER: usize = 512;

/// How many bytes of new entries a run holds before it writes them, and every later one, to
/// its new pack's temporary file as they come: a first run on 100,000 deployments made 170
/// MB of entries, held until the end with everything else the run holds.
const SPILL_FROM: usize = 16 << 20;

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
        Key(crate::source::hex(&h.finalize()))
    }

    pub fn hex(&self) -> &str {
        &self.0
    }
}

/// One pack of a cache folder, in use by one run.
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
    /// The pack's file name.
    name: String,
    /// The pack as it was when the run opened it.
    old: Vec<u8>,
    /// Each entry of `old` of this proctor's version, by key.
    index: foldhash::HashMap<String, Indexed>,
    /// `old` is entries from end to end (nothing torn or foreign after the last one): new
    /// entries may be appended to it.
    whole: bool,
    /// Entries made this run.
    fresh: Mutex<Fresh>,
    /// See `SPILL_FROM`.
    spill_from: usize,
    /// Set after the first failure: the run goes on without the cache.
    off: AtomicBool,
    /// Why it was turned off, said once.
    problem: Mutex<Option<String>>,
}

/// The entries a run made: held, encoded, until they outgrow `Cache::spill_from`; then in the
/// new pack's temporary file.
#[derive(Default)]
struct Fresh {
    held: Vec<Vec<u8>>,
    bytes: usize,
    /// The temporary file and its writer, once the entries spilled.
    spilled: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
}

/// Where an entry is in the pack, the checksum its header gives its payload (checked when
/// it is read), and whether this run read it back whole.
#[derive(Debug)]
struct Indexed {
    /// The whole entry: header and payload.
    whole: Range<usize>,
    payload: Range<usize>,
    checksum: u128,
    /// A flag per entry rather than a shared list: 10,000 lookups from every thread at
    /// once do not queue for a lock.
    used: AtomicBool,
}

/// What `Cache::clean` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub entries: usize,
    pub bytes: u64,
}

impl Cache {
    /// Opens the pack `pack` of the cache in `dir`, which holds at most `max_bytes` of packs
    /// (pruned to 80% of it when over). Nothing is created until the pack is written.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: u64, pack: &Key) -> Cache {
        let dir = dir.into();
        let name = pack.hex().to_string();
        let old = read_pack(&dir.join("packs").join(&name), max_bytes).unwrap_or_default();
        let mut index = foldhash::HashMap::default();
        let mut end = 0;
        for (header, whole, payload) in scan(&old) {
            end = whole.end;
            // Another version's entries are never read (their keys differ anyway).
            let checksum = (header.xxh3.len() == 32)
                .then(|| u128::from_str_radix(header.xxh3, 16).ok())
                .flatten();
            let Some(checksum) = checksum else {
                continue;
            };
            if header.version == env!("CARGO_PKG_VERSION") {
                // A key appended again (after its entry was found damaged): the later one.
                let entry = Indexed {
                    whole,
                    payload,
                    checksum,
                    used: AtomicBool::new(false),
                };
                index.insert(header.key.to_string(), entry);
            }
        }
        Cache {
            dir,
            max_bytes,
            name,
            whole: end == old.len(),
            old,
            index,
            fresh: Mutex::new(Fresh::default()),
            spill_from: SPILL_FROM,
            off: AtomicBool::new(false),
            problem: Mutex::new(None),
        }
    }

    /// The same cache, spilling its new entries past `bytes` (for tests: `SPILL_FROM` is
    /// megabytes).
    #[cfg(test)]
    fn spilling_from(mut self, bytes: usize) -> Cache {
        self.spill_from = bytes;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn pack_path(&self) -> PathBuf {
        self.dir.join("packs").join(&self.name)
    }

    /// Whether the pack holds any entry (a first run need not look any up).
    pub fn has_entries(&self) -> bool {
        !self.index.is_empty()
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

    /// The payload stored under `key`, when the pack has a whole, intact entry for it.
    /// Anything else (missing, truncated, corrupt, another version's) is a miss, and is left
    /// out of the pack this run writes.
    pub fn get(&self, key: &Key) -> Option<&[u8]> {
        let entry = self.index.get(&key.0)?;
        let payload = &self.old[entry.payload.clone()];
        if xxhash_rust::xxh3::xxh3_128(payload) != entry.checksum {
            return None;
        }
        entry.used.store(true, Ordering::Relaxed);
        Some(payload)
    }

    /// Keeps `payload` under `key`, to be written with the pack (`finish`): held, or
    /// written to the new pack's temporary file once the run's new entries are many.
    pub fn put(&self, key: &Key, payload: &[u8]) {
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        let entry = encode(key, payload);
        let Ok(mut fresh) = self.fresh.lock() else {
            return;
        };
        let written = match &mut fresh.spilled {
            Some((_, w)) => w.write_all(&entry),
            None => {
                fresh.bytes += entry.len();
                fresh.held.push(entry);
                match fresh.bytes > self.spill_from {
                    true => self.spill(&mut fresh),
                    false => Ok(()),
                }
            }
        };
        if let Err(e) = written {
            if let Some((tmp, _)) = fresh.spilled.take() {
                let _ = std::fs::remove_file(tmp);
            }
            fresh.held.clear();
            drop(fresh);
            self.cannot_write(e);
        }
    }

    /// Starts the new pack's temporary file with the entries held.
    fn spill(&self, fresh: &mut Fresh) -> std::io::Result<()> {
        // Kept before the first write, so that a failed one removes it.
        let (_, w) = fresh.spilled.insert(self.start()?);
        for entry in std::mem::take(&mut fresh.held) {
            w.write_all(&entry)?;
        }
        fresh.bytes = 0;
        Ok(())
    }

    /// Turns the cache off after a failed write, saying why once.
    fn cannot_write(&self, e: std::io::Error) {
        self.turn_off(format!(
            "the cache folder `{}` cannot be written ({e}); this run goes on without it",
            self.dir.display()
        ));
    }

    /// Writes the pack: the entries read back this run and those put, in place of what it
    /// held. When a few entries were put into a pack that is mostly still in use, they are
    /// appended to it instead (one write; a reader that sees a torn end reads the entries
    /// before it), and the pack is written again only once a quarter of it is entries no
    /// run reads. When the run put nothing and read back everything, the pack is only
    /// touched (least recently used is least recently read: once an hour at most, which is
    /// fine enough for pruning). A failure turns the cache off and is said once.
    pub fn finish(&self) {
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        let mut used: Vec<Range<usize>> = self
            .index
            .values()
            .filter(|e| e.used.load(Ordering::Relaxed))
            .map(|e| e.whole.clone())
            .collect();
        used.sort_by_key(|r| r.start);
        let taken = std::mem::take(&mut *self.fresh.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some((tmp, w)) = taken.spilled {
            // The new entries are in the new pack already: the ones read back follow them.
            let read_back = used.into_iter().map(|r| &self.old[r]);
            match self.complete(&tmp, w, read_back) {
                Ok(()) => self.prune(),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    self.cannot_write(e);
                }
            }
            return;
        }
        let fresh = taken.held;
        let live: usize = used.iter().map(|r| r.len()).sum();
        let unread = self.old.len() - live;
        let appendable = self.whole && !self.old.is_empty() && unread * 4 <= self.old.len();
        if fresh.is_empty() && (used.len() == self.index.len() || appendable) {
            self.touch();
            return;
        }
        let written = match appendable.then(|| self.append(&fresh.concat())) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            // Written whole: a new pack, one mostly of entries no run reads, one with a torn
            // end, or one that another run removed meanwhile.
            _ => {
                let parts = used
                    .into_iter()
                    .map(|r| &self.old[r])
                    .chain(fresh.iter().map(Vec::as_slice));
                self.write(parts)
            }
        };
        if let Err(e) = written {
            self.cannot_write(e);
            return;
        }
        self.prune();
    }

    /// Writes `parts` after what `w` wrote to `tmp`, then renames `tmp` into place.
    fn complete<'a>(
        &self,
        tmp: &Path,
        mut w: std::io::BufWriter<std::fs::File>,
        parts: impl Iterator<Item = &'a [u8]>,
    ) -> std::io::Result<()> {
        for part in parts {
            w.write_all(part)?;
        }
        w.flush()?;
        drop(w);
        let path = self.pack_path();
        with_folder(&path, || std::fs::rename(tmp, &path))
    }

    /// Adds entries at the end of the pack, in one write.
    fn append(&self, entries: &[u8]) -> std::io::Result<()> {
        let mut f = std::fs::File::options()
            .append(true)
            .open(self.pack_path())?;
        f.write_all(entries)
    }

    /// Sets the pack's modification time to now, when it is older than an hour.
    fn touch(&self) {
        let path = self.pack_path();
        let Ok(file) = std::fs::File::options().write(true).open(&path) else {
            return;
        };
        let now = std::time::SystemTime::now();
        let stale = file
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t + std::time::Duration::from_secs(3600) < now);
        if stale {
            let _ = file.set_modified(now);
        }
    }

    /// Marks the folder as a cache: a `.gitignore` that ignores it all, and the
    /// `CACHEDIR.TAG` that backup tools skip folders by.
    fn mark(&self) -> std::io::Result<()> {
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

    /// Writes the pack to a temporary file in the cache folder, then renames it into place,
    /// so a reader sees the whole pack or the one before it.
    fn write<'a>(&self, parts: impl Iterator<Item = &'a [u8]>) -> std::io::Result<()> {
        let (tmp, w) = self.start()?;
        let written = self.complete(&tmp, w, parts);
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// A new pack's temporary file, its own to this run, created, with its writer.
    fn start(&self) -> std::io::Result<(PathBuf, std::io::BufWriter<std::fs::File>)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        self.mark()?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = (self.dir.join("tmp")).join(format!("{}-{}-{n}", self.name, std::process::id()));
        // Folders are made when a write finds them missing, not checked on every write.
        let f = with_folder(&tmp, || std::fs::File::create(&tmp))?;
        // No fsync: a cache is not a record of anything. A pack that a crash left short or
        // garbled fails its entries' lengths and checksums, which are misses.
        Ok((tmp, std::io::BufWriter::with_capacity(1 << 20, f)))
    }

    /// Removes packs other than this run's, least recently used first, until the folder
    /// holds at most 80% of its limit; and temporary files a killed run left behind (older
    /// than an hour).
    pub fn prune(&self) {
        let mut packs = files(&self.dir.join("packs"));
        let total: u64 = packs.iter().map(|(_, len, _)| len).sum();
        if total > self.max_bytes {
            packs.sort_by_key(|(_, _, modified)| *modified);
            let mut left = total;
            let own = self.pack_path();
            for (path, len, _) in packs {
                if left <= self.max_bytes / 10 * 8 {
                    break;
                }
                if path != own && std::fs::remove_file(&path).is_ok() {
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

    /// Empties the cache folder of proctor's packs (`proctor cache clean`), and of the
    /// entries of the layout before packs.
    pub fn clean(dir: &Path) -> std::io::Result<Cleaned> {
        let mut cleaned = Cleaned::default();
        for sub in ["packs", "entries", "tmp"] {
            for (path, len, _) in files(&dir.join(sub)) {
                cleaned.entries += match sub {
                    "packs" => std::fs::read(&path).map_or(0, |b| scan(&b).count()),
                    "entries" => 1,
                    _ => 0,
                };
                std::fs::remove_file(&path)?;
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

impl Drop for Cache {
    /// A run that never finished (cancelled) leaves no temporary pack behind.
    fn drop(&mut self) {
        let fresh = self.fresh.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some((tmp, w)) = fresh.spilled.take() {
            drop(w);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// A pack's bytes, when it is a file no larger than the cache's limit.
fn read_pack(path: &Path, max_bytes: u64) -> Option<Vec<u8>> {
    let mut file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max_bytes {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
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

/// Every regular file under `dir`, two levels deep at most (`entries/ab/abcd...` of the
/// layout before packs), with its length and last modification; links are not followed.
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
/// XXH3-128 checksum (32 hex digits); a blank line; the payload.
fn encode(key: &Key, payload: &[u8]) -> Vec<u8> {
    let checksum = xxhash_rust::xxh3::xxh3_128(payload);
    let mut out = format!(
        "{MAGIC}\nversion {}\nkey {}\nlength {}\nxxh3 {checksum:032x}\n\n",
        env!("CARGO_PKG_VERSION"),
        key.0,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// An entry's header, as written by `encode`.
struct Header<'a> {
    version: &'a str,
    key: &'a str,
    length: usize,
    xxh3: &'a str,
}

/// An entry's header, and where its payload starts, when `bytes` starts with a well-formed
/// header of this layout.
fn header(bytes: &[u8]) -> Option<(Header<'_>, usize)> {
    let head = &bytes[..bytes.len().min(MAX_HEADER)];
    let split = head.windows(2).position(|w| w == b"\n\n")?;
    let text = std::str::from_utf8(&head[..split]).ok()?;
    let mut lines = text.split('\n');
    if lines.next()? != MAGIC {
        return None;
    }
    let mut field = |name: &str| lines.next()?.strip_prefix(name)?.strip_prefix(' ');
    let header = Header {
        version: field("version")?,
        key: field("key")?,
        length: field("length")?.parse().ok()?,
        xxh3: field("xxh3")?,
    };
    lines.next().is_none().then_some((header, split + 2))
}

/// The entries of a pack, in order: each one's header, its whole bytes and its payload. The
/// scan stops at the first thing that is not an entry's header, or whose length runs past
/// the end.
fn scan(pack: &[u8]) -> impl Iterator<Item = (Header<'_>, Range<usize>, Range<usize>)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let (header, body) = header(&pack[at..])?;
        let start = at.checked_add(body)?;
        let end = start.checked_add(header.length)?;
        if end > pack.len() {
            return None;
        }
        let whole = at..end;
        at = end;
        Some((header, whole, start..end))
    })
}

#[cfg(test)]
mod tests;
