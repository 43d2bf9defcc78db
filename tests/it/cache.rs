//! The incremental check (issue 23), end to end with the real binary: a run that reuses the
//! cache reports exactly what a run without it reports, in the same order, with the same
//! exit code; each kind of input, changed, is not served from the cache; a damaged or
//! unusable cache is never trusted.

use std::path::Path;

use crate::support::{edit, proctor_env, root, workspace};

/// `proctor check ARGS` in `dir` with the cache in `cache`: (exit code, stdout, stderr).
fn check(dir: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let env = [
        ("PROCTOR_CACHE_DIR".to_string(), cache.display().to_string()),
        ("PROCTOR_TODAY".to_string(), "2026-06-01".to_string()),
    ];
    let run = proctor_env(dir, &all, &env);
    (run.code, run.stdout, run.stderr)
}

/// Adds a comment line at the end of `dir/rel`: a change of text, not of meaning.
fn append(dir: &Path, rel: &str) {
    let path = dir.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n# edited\n")).unwrap();
}

/// The human report without its timing.
fn untimed(text: &str) -> String {
    let re = regex::Regex::new(r" in [0-9.]+ m?s").unwrap();
    re.replace_all(text, "").into_owned()
}

/// How many deployments the run says it reused, and out of how many.
fn reused(stderr: &str) -> Option<(usize, usize)> {
    let re = regex::Regex::new(r"proctor: (\d+) of (\d+) deployments unchanged").unwrap();
    let c = re.captures(stderr)?;
    Some((c[1].parse().unwrap(), c[2].parse().unwrap()))
}

/// Asserts that a run with the cache reports what a run without it reports (JSON and
/// human), and returns what the cached run said it reused.
fn same_as_without_cache(dir: &Path, cache: &Path, args: &[&str]) -> Option<(usize, usize)> {
    let mut json = vec!["--format", "json"];
    json.extend_from_slice(args);
    let (code, warm, stderr) = check(dir, cache, &json);
    let mut cold_args = json.clone();
    cold_args.push("--no-cache");
    let (cold_code, cold, _) = check(dir, cache, &cold_args);
    assert_eq!(warm, cold, "{}", dir.display());
    assert_eq!(code, cold_code, "{}", dir.display());
    let (_, warm_human, _) = check(dir, cache, args);
    let mut human_args = args.to_vec();
    human_args.push("--no-cache");
    let (_, cold_human, _) = check(dir, cache, &human_args);
    assert_eq!(
        untimed(&warm_human),
        untimed(&cold_human),
        "{}",
        dir.display()
    );
    reused(&stderr)
}

/// Every case workspace of the fixtures (findings of every stage: inputs, template
/// analysis, rendering, CloudFormation, policies, waivers, suppressions, broken files)
/// reports the same from the cache as without it.
#[test]
fn every_case_workspace_reports_the_same_from_the_cache() {
    let (mut cases, mut served, mut recalled) = (0, 0, 0);
    for e in std::fs::read_dir(root().join("fixtures/cases")).unwrap() {
        let dir = e.unwrap().path();
        if !dir.join("proctor.toml").exists() {
            continue;
        }
        cases += 1;
        let cache = tempfile::tempdir().unwrap();
        let (code, cold, _) = check(&dir, cache.path(), &["--format", "json"]);
        let (warm_code, warm, stderr) = check(&dir, cache.path(), &["--format", "json"]);
        assert_eq!((code, &cold), (warm_code, &warm), "{}", dir.display());
        if let Some((n, of)) = reused(&stderr) {
            assert!(n <= of, "{stderr}");
            served += usize::from(n > 0);
        }
        if analyses(&stderr).is_some_and(|(n, _)| n > 0) {
            recalled += 1;
        }
    }
    assert!(cases >= 40, "{cases} case workspaces");
    assert!(
        recalled >= 30,
        "{recalled} of {cases} cases recalled analyses"
    );
    // The others are the ones the cache leaves alone: waived deployments, unreadable specs,
    // unresolved templates, an unusable proctor.toml.
    assert!(
        served >= 30,
        "{served} of {cases} cases served from the cache"
    );
}

/// A generated workspace with input errors and policy violations, several render batches:
/// the warm run reuses everything and reports the same; after one spec is edited, only
/// its deployment is checked again and the report is what a run without the cache gives:
/// the cold run's findings plus the new one.
#[test]
fn after_one_edit_only_that_deployment_is_checked_again() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let gen_run = std::process::Command::new("python3")
        .arg(root().join("scripts/gen-workspace"))
        .arg("--out")
        .arg(tmp.path())
        .args(["--bundles", "8", "--specs", "300", "--resources", "5"])
        .args([
            "--violations",
            "0.3",
            "--type-errors",
            "0.1",
            "--seed",
            "11",
        ])
        .output()
        .unwrap();
    assert!(gen_run.status.success(), "{gen_run:?}");
    let ws = tmp.path();
    let (_, cold, stderr) = check(ws, cache.path(), &["--format", "json"]);
    assert_eq!(reused(&stderr), None, "nothing to reuse yet: {stderr}");
    // The run that writes the cache (storing deployments as their batches finish) reports
    // what a run without it reports.
    let (_, without, _) = check(ws, cache.path(), &["--format", "json", "--no-cache"]);
    assert_eq!(cold, without);
    assert_eq!(
        same_as_without_cache(ws, cache.path(), &[]),
        Some((300, 300))
    );
    let findings = |json: &str| -> usize {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v["diagnostics"].as_array().unwrap().len()
    };
    assert!(findings(&cold) > 20, "{cold}");

    // A wrong-typed value in one service spec.
    let spec = std::fs::read_dir(ws.join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::read_to_string(p).unwrap().contains("ServiceSpec"))
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("log_retention_days: ")
        })
        .expect("a service spec with log_retention_days");
    let text = std::fs::read_to_string(&spec).unwrap();
    let at = text.find("log_retention_days: ").unwrap() + "log_retention_days: ".len();
    let end = at + text[at..].find('\n').unwrap();
    std::fs::write(&spec, format!("{}many{}", &text[..at], &text[end..])).unwrap();
    let (_, _, stderr) = check(ws, cache.path(), &["--format", "json"]);
    assert_eq!(reused(&stderr), Some((299, 300)), "{stderr}");
    assert_eq!(
        same_as_without_cache(ws, cache.path(), &[]),
        Some((300, 300))
    );
    let (_, after, _) = check(ws, cache.path(), &["--format", "json"]);
    assert!(
        findings(&after) > findings(&cold),
        "the new finding is reported"
    );
    // The HTML report groups findings by deployment: its runs give back cached units
    // whole, and it is the report a run without the cache writes.
    let (_, warm_html, stderr) = check(ws, cache.path(), &["--format", "html"]);
    assert_eq!(reused(&stderr), Some((300, 300)), "{stderr}");
    let (_, cold_html, _) = check(ws, cache.path(), &["--format", "html", "--no-cache"]);
    assert!(
        warm_html.contains("many"),
        "the edited value is in the report"
    );
    assert_eq!(untimed(&warm_html), untimed(&cold_html));

    // A spec edited and settled by the time of the run (as after a developer's edit): the
    // run stores the deployment's new entry, and not a new record of every spec's times
    // for one spec of 300 (it reads that spec again next time instead).
    let before = entries_of(cache.path());
    append(ws, spec.strip_prefix(ws).unwrap().to_str().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let (_, _, stderr) = check(ws, cache.path(), &["--format", "json"]);
    assert_eq!(reused(&stderr), Some((299, 300)), "{stderr}");
    assert_eq!(entries_of(cache.path()), before + 1);
    assert_eq!(
        same_as_without_cache(ws, cache.path(), &[]),
        Some((300, 300))
    );
}

/// Each kind of input the deployments depend on, changed once: the runs that follow do not
/// reuse what it changed, and report what a run without the cache reports.
#[test]
fn each_kind_of_input_changed_is_checked_again() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    check(dir, c, &[]);
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));

    type Flip = (&'static str, Box<dyn Fn(&Path)>, usize);
    let flips: Vec<Flip> = vec![
        (
            "a service spec",
            Box::new(|d| edit(d, "specs/payments.yaml", "port: 8080", "port: 8081")),
            2,
        ),
        (
            // payments has an instance in dev: it reads dev's outputs.
            "an environment spec",
            Box::new(|d| edit(d, "specs/dev.yaml", "payments-dev", "payments-dev2")),
            1,
        ),
        (
            "a service template",
            Box::new(|d| {
                append(
                    d,
                    "templates/payments-svc/v1/instance_infrastructure/cloudformation.yaml",
                )
            }),
            2,
        ),
        (
            "an environment schema",
            Box::new(|d| append(d, "templates/fargate-env/v1/schema/schema.yaml")),
            0,
        ),
        (
            "a policy",
            Box::new(|d| append(d, "policies/acme.guard")),
            0,
        ),
        ("proctor.toml", Box::new(|d| append(d, "proctor.toml")), 0),
        (
            "the deployed stacks' state",
            Box::new(|d| {
                std::fs::create_dir_all(d.join(".proctor")).unwrap();
                std::fs::write(d.join(".proctor/state.json"), "{}").unwrap();
            }),
            0,
        ),
    ];
    for (what, flip, left) in flips {
        flip(dir);
        let (_, _, stderr) = check(dir, c, &[]);
        let got = reused(&stderr).map_or(0, |(n, _)| n);
        assert_eq!(got, left, "after changing {what}: {stderr}");
        assert_eq!(
            same_as_without_cache(dir, c, &[]),
            Some((3, 3)),
            "after changing {what}"
        );
    }
    // The codes a run reports are part of the key.
    let (_, _, stderr) = check(dir, c, &["--ignore", "C"]);
    assert_eq!(reused(&stderr), None, "--ignore: {stderr}");
    assert_eq!(
        same_as_without_cache(dir, c, &["--ignore", "C"]),
        Some((3, 3))
    );
}

/// How many template analyses the run says it reused, and out of how many.
fn analyses(stderr: &str) -> Option<(usize, usize)> {
    let re = regex::Regex::new(r"as were (\d+) of (\d+) template analyses").unwrap();
    let c = re.captures(stderr)?;
    Some((c[1].parse().unwrap(), c[2].parse().unwrap()))
}

/// A template's analysis is remembered: a run after a spec edit stores that deployment,
/// not the four templates' analyses again. It is never served stale: when the
/// environment template stops declaring an output the service template reads, the service
/// template's analysis (whose own files did not change) reports it, as a run without the
/// cache does, and stops when the output is back.
#[test]
fn template_analyses_are_remembered_and_never_stale() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    check(dir, c, &[]);
    edit(dir, "specs/payments.yaml", "port: 8080", "port: 8081");
    let (_, _, stderr) = check(dir, c, &[]);
    assert_eq!(analyses(&stderr), Some((4, 4)), "{stderr}");

    let env = "templates/fargate-env/v1/infrastructure/cloudformation.yaml";
    edit(dir, env, "  VpcId:\n", "  NetworkId:\n");
    // The environment's template and the service's two read what changed.
    let (_, _, stderr) = check(dir, c, &[]);
    assert_eq!(analyses(&stderr), Some((1, 4)), "{stderr}");
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));
    let (_, json, _) = check(dir, c, &["--format", "json"]);
    assert!(json.contains("environment.outputs.VpcId"), "{json}");
    edit(dir, env, "  NetworkId:\n", "  VpcId:\n");
    let (_, json, _) = check(dir, c, &["--format", "json"]);
    assert!(!json.contains("environment.outputs.VpcId"), "{json}");
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));
}

/// A spec is not read again while its identity and times are as a run recorded them (once
/// they have settled, two seconds after its last write), and such runs report what a run
/// without the cache reports. A spec written again is read and checked: to the same length
/// with its old modification time put back (its change time still moves on), or again at
/// once (not settled); a suppression comment added to it is honoured.
#[test]
fn settled_specs_are_trusted_only_while_untouched() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    // The copies settle: their times are over two seconds old when a run reads them (on any
    // file system; 100 ms on one that keeps times finer than seconds).
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let (code, _, stderr) = check(dir, c, &[]);
    assert_eq!((code, reused(&stderr)), (0, None), "{stderr}");
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));

    let spec = dir.join("specs/payments.yaml");
    let old = std::fs::metadata(&spec).unwrap().modified().unwrap();
    edit(dir, "specs/payments.yaml", "port: 8080", "port: 8081");
    let file = std::fs::File::options().write(true).open(&spec).unwrap();
    file.set_modified(old).unwrap();
    let (_, _, stderr) = check(dir, c, &[]);
    assert_eq!(
        reused(&stderr),
        Some((2, 3)),
        "same length, old time: {stderr}"
    );
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));

    edit(dir, "specs/payments.yaml", "port: 8081", "port: 8082");
    let (_, _, stderr) = check(dir, c, &[]);
    assert_eq!(
        reused(&stderr),
        Some((2, 3)),
        "written again at once: {stderr}"
    );
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));

    // A finding, then a suppression of it in the (settled) spec.
    edit(
        dir,
        "specs/payments.yaml",
        "task_size: small",
        "task_size: tiny ",
    );
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let (code, json, _) = check(dir, c, &["--format", "json"]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let code_of = v["diagnostics"][0]["code"].as_str().unwrap().to_string();
    edit(
        dir,
        "specs/payments.yaml",
        "task_size: tiny ",
        &format!("task_size: tiny # proctor: ignore[{code_of}] being sized"),
    );
    let (code, _, stderr) = check(dir, c, &[]);
    assert_eq!(code, 0, "suppressed: {stderr}");
    assert_eq!(same_as_without_cache(dir, c, &[]), Some((3, 3)));
}

/// A pack truncated, with a flipped byte, emptied or overwritten with garbage: its damaged
/// entries are misses, never findings, and the run writes the pack again whole.
#[test]
fn a_damaged_cache_is_never_trusted() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path();
    let (_, cold, _) = check(dir, c, &["--format", "json"]);
    let packs: Vec<std::path::PathBuf> = std::fs::read_dir(c.join("packs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(packs.len(), 1, "one pack for the workspace's run");
    let whole = std::fs::read(&packs[0]).unwrap();
    assert!(ENTRIES_NOW.contains(&entries_in(&whole)));
    let mut flipped = whole.clone();
    let last = flipped.len() - 2;
    flipped[last] ^= 0x20;
    // What the run reuses: never all three; the two whole entries when one is damaged.
    type Case<'a> = (&'a str, Vec<u8>, Option<(usize, usize)>);
    let damaged: Vec<Case> = vec![
        ("truncated", whole[..whole.len() / 2].to_vec(), None),
        ("a flipped byte in the last entry", flipped, Some((2, 3))),
        ("emptied", Vec::new(), None),
        ("garbage", b"not a pack at all".to_vec(), None),
    ];
    for (what, bytes, expected) in damaged {
        std::fs::write(&packs[0], bytes).unwrap();
        let (_, warm, stderr) = check(dir, c, &["--format", "json"]);
        let got = reused(&stderr);
        assert!(got.is_none_or(|(r, _)| r < 3), "{what}: {stderr}");
        if expected.is_some() {
            assert_eq!(got, expected, "{what}");
        }
        assert_eq!(warm, cold, "{what}");
        let (_, again, stderr) = check(dir, c, &["--format", "json"]);
        assert_eq!(reused(&stderr), Some((3, 3)), "{what}: rewritten: {stderr}");
        assert_eq!(again, cold, "{what}");
    }
}

/// A cache folder that cannot be written (here, a file where the folder should be) is said
/// once, and the run goes on without it, with the same findings and exit code.
#[test]
fn an_unusable_cache_folder_is_said_once() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let blocked = ws.path().join("not-a-folder");
    std::fs::write(&blocked, "a file").unwrap();
    let (code, out, stderr) = check(dir, &blocked, &["--format", "json"]);
    let fresh = tempfile::tempdir().unwrap();
    let (cold_code, cold, _) = check(dir, fresh.path(), &["--format", "json", "--no-cache"]);
    assert_eq!((code, out), (cold_code, cold));
    assert_eq!(
        stderr.matches("warning: the cache folder").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("goes on without it"), "{stderr}");
}

/// What a run of fixtures/workspace stores: one entry per deployment (two environments and
/// a service), one per template analysed (the environment's, the service's instance and
/// pipeline templates, the component's), and the record of settled specs when the copied
/// specs have settled (100 ms after they were copied, on a file system that keeps times
/// finer than seconds; two seconds on others).
const ENTRIES_NOW: std::ops::RangeInclusive<usize> = (3 + 4)..=(3 + 4 + 1);

/// How many entries a pack's bytes hold.
fn entries_in(pack: &[u8]) -> usize {
    pack.windows(16)
        .filter(|w| w == b"proctor-cache 4\n")
        .count()
}

/// Asserts that `proctor cache clean` said it removed the `held` entries (counted before it
/// ran), as many as a run of fixtures/workspace stores.
fn removed(stdout: &str, held: usize) {
    assert!(ENTRIES_NOW.contains(&held), "{held}");
    let said = format!("removed {held} entries");
    assert!(stdout.starts_with(&said), "{stdout}");
}

/// Every entry in the packs of the cache folder `c`.
fn entries_of(c: &Path) -> usize {
    let packs = std::fs::read_dir(c.join("packs")).unwrap();
    (packs.map(|e| entries_in(&std::fs::read(e.unwrap().path()).unwrap()))).sum()
}

/// `proctor cache clean` empties the folder; the next run checks everything again.
#[test]
fn cache_clean_empties_the_cache() {
    let ws = workspace("fixtures/workspace");
    let dir = ws.path();
    let cache = tempfile::tempdir().unwrap();
    let c = cache.path().to_str().unwrap();
    check(dir, cache.path(), &[]);
    let held = entries_of(cache.path());
    let clean = proctor_env(dir, &["cache", "clean", "--cache-dir", c], &[]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    removed(&clean.stdout, held);
    let (_, _, stderr) = check(dir, cache.path(), &[]);
    assert_eq!(reused(&stderr), None, "{stderr}");
    // Without --cache-dir: the workspace's own `.proctor/cache`.
    let run = crate::support::proctor(dir, &["check", "--cache-dir", ".proctor/cache"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(dir.join(".proctor/cache/packs").is_dir());
    let default = [("PROCTOR_CACHE_DIR".to_string(), String::new())];
    let held = entries_of(&dir.join(".proctor/cache"));
    let clean = proctor_env(dir, &["cache", "clean"], &default);
    removed(&clean.stdout, held);
}
