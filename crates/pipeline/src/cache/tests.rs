use super::*;

fn key(s: &str) -> Key {
    Key::of([s.as_bytes()])
}

fn pack() -> Key {
    key("the run")
}

/// A run: opens the pack, reads back `keep`, puts `put`, finishes.
fn run(dir: &Path, keep: &[&str], put: &[(&str, &[u8])]) -> Cache {
    let cache = Cache::open(dir, 1 << 20, &pack());
    for k in keep {
        assert!(cache.get(&key(k)).is_some(), "{k} kept");
    }
    for (k, payload) in put {
        cache.put(&key(k), payload);
    }
    cache.finish();
    cache
}

#[test]
fn keys_separate_their_parts() {
    assert_ne!(Key::of([&b"ab"[..], b"c"]), Key::of([&b"a"[..], b"bc"]));
    assert_eq!(key("x"), key("x"));
    assert_eq!(key("x").hex().len(), 64);
}

#[test]
fn an_entry_is_read_back_whole_by_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Cache::open(tmp.path(), 1 << 20, &pack());
    assert!(!first.has_entries());
    assert_eq!(first.get(&key("a")), None);
    first.put(&key("a"), b"payload\n\nwith a blank line");
    first.put(&key("b"), b"");
    first.finish();
    assert!(first.problem().is_none());
    let next = Cache::open(tmp.path(), 1 << 20, &pack());
    assert!(next.has_entries());
    assert_eq!(
        next.get(&key("a")),
        Some(&b"payload\n\nwith a blank line"[..])
    );
    assert_eq!(next.get(&key("b")), Some(&b""[..]));
    assert_eq!(next.get(&key("c")), None);
    // Another pack of the same folder holds none of them.
    let other = Cache::open(tmp.path(), 1 << 20, &key("another run"));
    assert_eq!(other.get(&key("a")), None);
}

#[test]
fn a_pack_keeps_what_its_run_read_back_and_made_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), &[], &[("a", b"1"), ("b", b"2"), ("c", b"3")]);
    // One deployment edited: `b` is not read back, `b2` is made in its place.
    run(tmp.path(), &["a", "c"], &[("b2", b"22")]);
    let next = Cache::open(tmp.path(), 1 << 20, &pack());
    assert_eq!(next.get(&key("a")), Some(&b"1"[..]));
    assert_eq!(next.get(&key("b")), None, "dropped");
    assert_eq!(next.get(&key("b2")), Some(&b"22"[..]));
    assert_eq!(next.get(&key("c")), Some(&b"3"[..]));
    assert_eq!(next.index.len(), 3);
}

/// Changes a pack's bytes on disk, as a crash or a bad disk would.
fn edit(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    change(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Flips a bit of the byte `offset` bytes into the first `found` in `bytes`.
fn flip(bytes: &mut [u8], found: &[u8], offset: usize) {
    let at = bytes.windows(found.len()).position(|w| w == found).unwrap();
    bytes[at + offset] ^= 1;
}

/// Ten entries: what the tests of appending start from.
fn ten(dir: &Path) -> (Cache, Vec<String>) {
    let names: Vec<String> = (0..10).map(|i| format!("entry {i}")).collect();
    let puts: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), &b"0123456789"[..]))
        .collect();
    (run(dir, &[], &puts), names)
}

#[test]
fn a_few_new_entries_are_appended_to_a_pack_mostly_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, names) = ten(tmp.path());
    let path = first.pack_path();
    let before = std::fs::read(&path).unwrap();
    // One deployment edited: nine read back, one new.
    let nine: Vec<&str> = names[1..].iter().map(String::as_str).collect();
    run(tmp.path(), &nine, &[("edited", b"abc")]);
    let after = std::fs::read(&path).unwrap();
    assert!(after.starts_with(&before), "appended, not rewritten");
    assert_eq!(&after[before.len()..], &encode(&key("edited"), b"abc")[..]);
    // The next run reads the new entry and the nine; the unread one is still there.
    let mut ten_now = nine.clone();
    ten_now.push("edited");
    run(tmp.path(), &ten_now, &[]);
    assert_eq!(std::fs::read(&path).unwrap(), after, "nothing to write");
    // Two more edits: then over a quarter of the pack is unread, and it is written again
    // with only what the run read and made.
    let (kept, _) = ten_now.split_at(8);
    run(
        tmp.path(),
        kept,
        &[("edited again", b"d"), ("and again", b"e")],
    );
    let next = Cache::open(tmp.path(), 1 << 20, &pack());
    assert_eq!(next.index.len(), 10);
    assert!(next.get(&key("entry 0")).is_none() && next.get(&key("entry 9")).is_none());
    assert_eq!(next.get(&key("and again")), Some(&b"e"[..]));
}

#[test]
fn a_pack_with_a_torn_end_is_written_again_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, names) = ten(tmp.path());
    let path = first.pack_path();
    // A run killed while appending: half an entry at the end.
    let torn = encode(&key("torn"), b"0123456789");
    edit(&path, |bytes| {
        bytes.extend_from_slice(&torn[..torn.len() / 2])
    });
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    let cache = run(tmp.path(), &all, &[("new", b"1")]);
    assert!(!cache.whole);
    let next = Cache::open(tmp.path(), 1 << 20, &pack());
    assert!(next.whole, "no torn end any more");
    assert_eq!(next.index.len(), 11);
    assert_eq!(next.get(&key("new")), Some(&b"1"[..]));
}

#[test]
fn an_entry_put_again_after_damage_is_read_from_its_new_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, names) = ten(tmp.path());
    let path = first.pack_path();
    // Damage the first entry's payload.
    edit(&path, |bytes| flip(bytes, b"0123456789", 0));
    let cache = Cache::open(tmp.path(), 1 << 20, &pack());
    let damaged: Vec<&String> = names
        .iter()
        .filter(|n| cache.get(&key(n)).is_none())
        .collect();
    assert_eq!(damaged.len(), 1);
    cache.put(&key(damaged[0]), b"0123456789");
    cache.finish();
    let next = Cache::open(tmp.path(), 1 << 20, &pack());
    assert!(
        names
            .iter()
            .all(|n| next.get(&key(n)) == Some(&b"0123456789"[..]))
    );
}

#[test]
fn a_run_that_changes_nothing_leaves_the_pack_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let first = run(tmp.path(), &[], &[("a", b"1")]);
    let path = first.pack_path();
    let before = std::fs::read(&path).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(old).unwrap();
    run(tmp.path(), &["a"], &[]);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let touched = std::fs::metadata(&path).unwrap().modified().unwrap();
    assert!(touched > old, "a read touches a pack untouched for an hour");
}

#[test]
fn damaged_and_foreign_entries_are_misses_and_are_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let k = key("a");
    let whole = encode(&k, b"0123456789");
    let path = tmp.path().join("packs").join(pack().hex());
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
        (
            "a length that runs past the end",
            String::from_utf8(whole.clone())
                .unwrap()
                .replace("length 10", "length 99999999999999999999")
                .into_bytes(),
        ),
        ("not an entry", b"garbage".to_vec()),
        ("a header that never ends", vec![b'x'; 4 * MAX_HEADER]),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in damaged {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let cache = Cache::open(tmp.path(), 1 << 20, &pack());
        assert_eq!(cache.get(&k), None, "{what}");
        // The run checks it again and puts it: the pack is rewritten whole.
        cache.put(&k, b"0123456789");
        cache.finish();
        let next = Cache::open(tmp.path(), 1 << 20, &pack());
        assert_eq!(next.get(&k), Some(&b"0123456789"[..]), "{what}: rewritten");
        assert_eq!(next.index.len(), 1, "{what}: only the rewritten entry");
    }
}

#[test]
fn entries_after_a_damaged_one_are_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = run(tmp.path(), &[], &[("a", b"first"), ("b", b"second")]);
    let path = cache.pack_path();
    // The last byte of the first entry's payload.
    edit(&path, |bytes| flip(bytes, b"first", 4));
    let next = Cache::open(tmp.path(), 1 << 20, &pack());
    assert_eq!(next.get(&key("a")), None);
    assert_eq!(next.get(&key("b")), Some(&b"second"[..]));
}

#[test]
fn a_folder_that_cannot_be_written_turns_the_cache_off_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let cache = Cache::open(&file, 1 << 20, &pack());
    cache.put(&key("a"), b"1");
    cache.finish();
    cache.finish();
    let problem = cache.problem().expect("said");
    assert!(problem.contains("cannot be written"), "{problem}");
    assert_eq!(cache.get(&key("a")), None);
}

#[test]
fn pruning_removes_the_least_recently_used_packs_first() {
    let tmp = tempfile::tempdir().unwrap();
    // Room for ten packs of one 1,000-byte entry and its header, not eleven.
    let max = 12_500;
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let path_of = |i: usize| tmp.path().join("packs").join(key(&i.to_string()).hex());
    for i in 0..10 {
        let cache = Cache::open(tmp.path(), max, &key(&i.to_string()));
        cache.put(&key("entry"), &[b'x'; 1000]);
        cache.finish();
        let f = std::fs::File::options()
            .write(true)
            .open(path_of(i))
            .unwrap();
        f.set_modified(old + std::time::Duration::from_secs(i as u64))
            .unwrap();
    }
    // Pack 0 is read again (so recently used); 1 and 2 are the oldest unread.
    let again = Cache::open(tmp.path(), max, &key("0"));
    assert!(again.get(&key("entry")).is_some());
    again.finish();
    let new = Cache::open(tmp.path(), max, &key("new"));
    new.put(&key("entry"), &[b'y'; 1000]);
    new.finish();
    let kept = |i: usize| path_of(i).exists();
    assert!(kept(0) && kept(9) && new.pack_path().exists());
    assert!(!kept(1) && !kept(2));
    let total: u64 = files(&tmp.path().join("packs")).iter().map(|f| f.1).sum();
    assert!(total <= max / 10 * 8, "{total}");
}

#[test]
fn concurrent_runs_writing_one_pack_leave_a_whole_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let cache = Cache::open(&dir, 1 << 24, &pack());
                    match cache.get(&key("shared")) {
                        Some(p) => assert!(p.len() == 4096 && p.iter().all(|b| *b == p[0])),
                        None => cache.put(&key("shared"), &[b'a' + t; 4096]),
                    }
                    cache.put(&key(&format!("own {t}")), &[t; 100]);
                    cache.finish();
                    assert!(cache.problem().is_none());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let last = Cache::open(&dir, 1 << 24, &pack());
    assert!(last.whole, "no torn end");
    assert!(last.get(&key("shared")).is_some());
    // The shared entry and some runs' own (appended, or the last rewrite's), each whole.
    assert!((2..=9).contains(&last.index.len()), "{}", last.index.len());
    for k in last.index.keys() {
        assert!(last.get(&Key(k.clone())).is_some(), "{k}");
    }
}

#[test]
fn the_folder_tells_git_and_backups_to_leave_it_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    run(&dir, &[], &[("a", b"1")]);
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
    let five: Vec<(String, &[u8])> = (0..5).map(|i| (i.to_string(), &b"12345"[..])).collect();
    let five: Vec<(&str, &[u8])> = five.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    run(tmp.path(), &[], &five);
    // An entry of the layout before packs.
    let legacy = tmp.path().join("entries/ab/abcdef");
    std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
    std::fs::write(&legacy, "old").unwrap();
    let cleaned = Cache::clean(tmp.path()).unwrap();
    assert_eq!(cleaned.entries, 6);
    assert!(cleaned.bytes > 25);
    assert!(!legacy.exists());
    assert!(!Cache::open(tmp.path(), 1 << 20, &pack()).has_entries());
    assert_eq!(Cache::clean(tmp.path()).unwrap(), Cleaned::default());
}

/// The files in the cache folder's `tmp/`.
fn temporaries(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("tmp")).map_or(0, |d| d.count())
}

/// A run whose new entries outgrow what it holds writes them to its new pack's temporary
/// file as they come; the pack it leaves is the same: the entries it read back and made,
/// nothing else, and nothing left in `tmp/`.
#[test]
fn many_new_entries_go_to_the_new_pack_as_they_come() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, names) = ten(tmp.path());
    // Past two new entries' bytes: the third spills the three.
    let one = encode(&key("made 0"), b"made 0").len();
    let cache = Cache::open(tmp.path(), 1 << 20, &pack()).spilling_from(2 * one + 1);
    for n in &names[..6] {
        assert!(cache.get(&key(n)).is_some());
    }
    let made: Vec<String> = (0..8).map(|i| format!("made {i}")).collect();
    for (i, n) in made.iter().enumerate() {
        cache.put(&key(n), n.as_bytes());
        let spilled = cache.fresh.lock().unwrap().spilled.is_some();
        assert_eq!(spilled, i >= 2, "after {} puts", i + 1);
        assert_eq!(temporaries(tmp.path()), usize::from(spilled));
    }
    assert!(cache.fresh.lock().unwrap().held.is_empty());
    cache.finish();
    assert!(cache.problem().is_none());
    assert_eq!(temporaries(tmp.path()), 0, "renamed into place");
    let next = Cache::open(tmp.path(), 1 << 20, &pack());
    assert_eq!(next.index.len(), 6 + 8);
    for n in names[..6].iter().chain(&made) {
        assert!(next.get(&key(n)).is_some(), "{n}");
    }
    for (n, m) in made.iter().zip(&made) {
        assert_eq!(next.get(&key(n)), Some(m.as_bytes()));
    }
    assert!(
        next.get(&key(&names[7])).is_none(),
        "not read back: dropped"
    );
}

/// A run that spilled and never finished (cancelled) leaves the pack as it was and no
/// temporary file.
#[test]
fn an_unfinished_run_leaves_no_temporary_pack() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, _) = ten(tmp.path());
    let before = std::fs::read(first.pack_path()).unwrap();
    let cache = Cache::open(tmp.path(), 1 << 20, &pack()).spilling_from(100);
    cache.put(&key("a"), &[b'x'; 200]);
    assert_eq!(temporaries(tmp.path()), 1);
    drop(cache);
    assert_eq!(temporaries(tmp.path()), 0);
    assert_eq!(std::fs::read(first.pack_path()).unwrap(), before);
}
