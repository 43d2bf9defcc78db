//! Specs a warm run knows unchanged without reading them: the cache keeps, for each spec it
//! read, the file's identity and times as the system gave them (size, inode, device, last
//! modification and last change, to the nanosecond) with the SHA-256 of its text. When a
//! later run finds the same identity and times, the file has not been written since, and its
//! recorded SHA-256 stands in for reading it (what `git status` does with its index).
//!
//! - **Settled files only.** A file is recorded only when its last modification and last
//!   change are older than the moment it was read by more than a tick of the clock its file
//!   system sets them from: a write in the same tick as the recorded times, which could
//!   leave them as they were, cannot come later. Any write afterwards sets the change time
//!   to the time of that write, which no program can set back. The margin is [`SETTLE`]
//!   (two seconds: FAT keeps times to two seconds, others to one) unless both times have a
//!   fraction of a second, which only a file system that keeps them finer gives; then it is
//!   [`SETTLE_FINE`]. A workspace written just before a first run is then recorded by that
//!   run, not by the one after it.
//! - **No inline suppressions.** Only specs without `proctor:` comments are recorded: a run
//!   reads the specs of its deployments for them, and a spec known to have none need not be
//!   read for that either.
//! - **Unix only.** Elsewhere every spec is read, as before.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// How much older than the moment it is read a file's times must be for it to be recorded,
/// on a file system that keeps whole seconds (or two).
pub(super) const SETTLE: Duration = Duration::from_secs(2);

/// The same, for a file whose two times both have a fraction of a second: its file system
/// keeps them finer, set from a clock that moves on at least every 16 ms (Linux's every tick
/// of at most 10 ms; Windows' every 15.6 ms; macOS's finer still).
pub(super) const SETTLE_FINE: Duration = Duration::from_millis(100);

/// A file's identity and times, as the system reports them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stat {
    len: u64,
    inode: u64,
    device: u64,
    /// Nanoseconds since the epoch.
    modified: i128,
    changed: i128,
}

/// The identity and times of the file at `path` (links followed), when it is a regular file
/// and the system reports them.
pub(super) fn stat(path: &Path) -> Option<Stat> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        m.is_file().then(|| Stat {
            len: m.size(),
            inode: m.ino(),
            device: m.dev(),
            modified: ns(m.mtime(), m.mtime_nsec()),
            changed: ns(m.ctime(), m.ctime_nsec()),
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Whether a spec read at `now`, with `stat` and `text`, may be recorded: settled, and
/// without inline suppressions.
pub(super) fn settles(stat: &Stat, text: &str, now: SystemTime) -> bool {
    let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
        return false;
    };
    let whole = |t: i128| t % 1_000_000_000 == 0;
    let margin = match whole(stat.modified) || whole(stat.changed) {
        true => SETTLE,
        false => SETTLE_FINE,
    };
    let limit = now.as_nanos() as i128 - margin.as_nanos() as i128;
    stat.modified <= limit
        && stat.changed <= limit
        && stat.len == text.len() as u64
        && !text.contains(crate::diag::suppress::MARKER)
}

/// The records by path as proctor.toml gives it: each spec's identity and times, and the
/// SHA-256 of its text. Hashed fast, by the path's text: a warm run looks up every spec.
pub(super) type Index<'a> = foldhash::HashMap<&'a str, (Stat, &'a str)>;

/// The specs recorded, by path as proctor.toml gives it.
#[derive(Default, PartialEq, Eq, Serialize)]
pub(super) struct Settled {
    specs: Vec<(PathBuf, Stat, String)>,
}

/// The records of an entry (`Settled::encode`), read without copying its paths and digests;
/// none when it does not decode.
pub(super) fn index(bytes: Option<&[u8]>) -> Index<'_> {
    /// `Settled` as read: a path is written as its text.
    #[derive(Deserialize)]
    struct Read<'a> {
        #[serde(borrow)]
        specs: Vec<(&'a str, Stat, &'a str)>,
    }
    let read: Option<Read> = bytes.and_then(|b| postcard::from_bytes(b).ok());
    let specs = read.map(|r| r.specs).unwrap_or_default();
    specs.into_iter().map(|(p, s, d)| (p, (s, d))).collect()
}

impl Settled {
    pub(super) fn encode(&self) -> Option<Vec<u8>> {
        postcard::to_stdvec(self).ok()
    }

    /// Records made of `(path, stat, SHA-256)`, each path once, in path order.
    pub(super) fn of(mut specs: Vec<(PathBuf, Stat, String)>) -> Settled {
        specs.sort_by(|a, b| a.0.cmp(&b.0));
        specs.dedup_by(|a, b| a.0 == b.0);
        Settled { specs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_recorded_only_when_settled_and_without_suppressions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.yaml");
        std::fs::write(&path, "proton: ServiceSpec\n").unwrap();
        let s = stat(&path).unwrap();
        let text = "proton: ServiceSpec\n";
        // Just written: not settled.
        assert!(!settles(&s, text, SystemTime::now()));
        let later = SystemTime::now() + SETTLE + Duration::from_millis(10);
        assert!(settles(&s, text, later));
        // A text of another length than the file's, or with a suppression: not recorded.
        assert!(!settles(&s, "proton: X\n", later));
        let suppressed = "proton: ServiceSpec # proctor:\n";
        let mut long = s.clone();
        long.len = suppressed.len() as u64;
        assert!(!settles(&long, suppressed, later));
    }

    #[test]
    fn whole_second_times_settle_after_two_seconds_finer_ones_sooner() {
        let text = "a: 1\n";
        let at = |secs: i128, nanos: i128| Stat {
            len: text.len() as u64,
            inode: 1,
            device: 1,
            modified: secs * 1_000_000_000 + nanos,
            changed: secs * 1_000_000_000 + nanos,
        };
        let now = |secs: u64, millis: u64| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
        };
        let fine = at(1_000, 250_000_000);
        assert!(!settles(&fine, text, now(1_000, 300)), "50 ms old");
        assert!(settles(&fine, text, now(1_000, 400)), "150 ms old");
        let whole = at(1_000, 0);
        assert!(!settles(&whole, text, now(1_001, 500)), "1.5 s old");
        assert!(settles(&whole, text, now(1_002, 100)), "2.1 s old");
        // One time of whole seconds is enough to take the longer margin.
        let mixed = Stat {
            changed: 1_000 * 1_000_000_000,
            ..fine.clone()
        };
        assert!(!settles(&mixed, text, now(1_001, 0)));
    }

    #[test]
    fn a_write_changes_the_stat_and_records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.yaml");
        std::fs::write(&path, "a: 1\n").unwrap();
        let before = stat(&path).unwrap();
        // The same size, written again: the change time moves on.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, "a: 2\n").unwrap();
        let after = stat(&path).unwrap();
        assert_ne!(before, after);
        assert!(stat(dir.path()).is_none(), "a folder is not a spec");
        let settled = Settled::of(vec![
            ("b.yaml".into(), after.clone(), "2".into()),
            ("a.yaml".into(), before.clone(), "1".into()),
            ("a.yaml".into(), before.clone(), "1".into()),
        ]);
        let bytes = settled.encode();
        let index = index(bytes.as_deref());
        assert_eq!(index.len(), 2);
        assert_eq!(index["a.yaml"], (before, "1"));
        assert_eq!(index["b.yaml"], (after, "2"));
        assert!(super::index(Some(b"\xff\xff")).is_empty());
        assert!(super::index(None).is_empty());
    }
}
