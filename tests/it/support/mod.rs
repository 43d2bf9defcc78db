//! What the integration tests share: the repository root, running the real binary, copying a
//! fixture workspace, editing a file in place, git with a fixed identity, the public corpus;
//! the cfn-guard oracle (`oracle`) and a moto server for apply (`moto`).
#![allow(dead_code)]

pub mod lsp;
pub mod moto;
pub mod oracle;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python of the test setup's venv (`scripts/venv`: Jinja2, cfn-lint, moto).
pub fn python() -> PathBuf {
    let py = root().join(".venv/bin/python");
    assert!(
        py.exists(),
        "run scripts/venv first: {} is missing",
        py.display()
    );
    py
}

/// What a proctor run printed, and its exit code.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    pub fn of(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `proctor ARGS` in `dir`, without colour.
pub fn proctor<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Run {
    proctor_env(dir, args, &[])
}

/// Runs `proctor ARGS` in `dir`, without colour, with environment variables `env` set.
/// Each run has a cache folder of its own (unless `env` names one), so that no test sees
/// another's entries, or its own from an earlier `cargo test`.
pub fn proctor_env<S: AsRef<OsStr>>(dir: &Path, args: &[S], env: &[(String, String)]) -> Run {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(args)
        .current_dir(dir)
        .env("PROCTOR_CACHE_DIR", cache.path())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("NO_COLOR", "1")
        .output()
        .expect("the proctor binary runs");
    Run::of(out)
}

/// Copies a folder tree (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    copy_dir_skipping(from, to, &[]);
}

/// Copies a folder tree (files and folders only), leaving out entries named in `skip` at any
/// level.
pub fn copy_dir_skipping(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if skip.iter().any(|s| e.file_name() == *s) {
            continue;
        }
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir_skipping(&e.path(), &target, skip);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A copy of a fixture folder (e.g. `fixtures/deploy`) in a temporary folder, without the
/// cache a run may have left in it (the README's first command checks fixtures/workspace,
/// which keeps its cache in `.proctor/cache`).
pub fn workspace(fixture: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join(fixture), tmp.path());
    let cache = tmp.path().join(".proctor/cache");
    if cache.exists() {
        std::fs::remove_dir_all(cache).unwrap();
    }
    tmp
}

/// Replaces the first `from` in `dir/rel` with `to`; `from` must be there.
pub fn edit(dir: &Path, rel: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(dir.join(rel)).unwrap();
    assert!(text.contains(from), "{rel} has no `{from}`");
    std::fs::write(dir.join(rel), text.replacen(from, to, 1)).unwrap();
}

/// `git ARGS` in `dir`, as a fixed author, without signing; panics on failure.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=Dev", "-c", "user.email=dev@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files under `dir` (every level) that `keep` accepts, sorted.
pub fn files_under(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every file under `dir`, by relative path.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir, |_| true)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// The folders of a case corpus (`fixtures/cases`, `fixtures/hostile`), sorted.
pub fn case_dirs(corpus: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join(corpus))
        .unwrap_or_else(|e| panic!("{corpus}: {e}"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The public corpus (`../shared/corpus`, or `PROCTOR_CORPUS`), canonical; `None` with a
/// message when it is missing, except under CI (`CI=true`), where a missing corpus fails.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PROCTOR_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpus"));
    if dir.join("guard-rules-registry/rules").is_dir() {
        // cfn-guard names data files by their canonical path.
        return Some(std::fs::canonicalize(&dir).unwrap_or(dir));
    }
    let why = format!(
        "the public corpus is not at {} (set PROCTOR_CORPUS to its folder)",
        dir.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{why}: CI needs it");
    }
    eprintln!("skipped: {why}");
    None
}

/// One render of a spec of the Proton sample repository: `proctor render` arguments (run in
/// the repository), the template file, the rendered text and the context it printed.
pub struct SampleRender {
    pub args: Vec<String>,
    pub template: PathBuf,
    pub text: Vec<u8>,
    pub context: Vec<u8>,
}

/// Renders every spec of the Proton sample repository `samples` with `proctor render` (no
/// proctor.toml): each instance, and the pipeline where the template has one, with each
/// bundle of the spec's kind that could take it (`--template`). Also returns the units that
/// rendered with none of them.
pub fn proton_sample_renders(samples: &Path) -> (Vec<SampleRender>, Vec<String>) {
    let proctor = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_proctor"))
            .args(args)
            .current_dir(samples)
            .output()
            .unwrap()
    };
    let specs = files_under(samples, |p| {
        p.parent()
            .is_some_and(|f| f.ends_with("spec") || f.ends_with("specs"))
            && p.extension().is_some_and(|x| x == "yaml")
    });
    let bundles_under = |dir: &Path| -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            if d.join("schema/schema.yaml").is_file() {
                out.push(d);
                continue;
            }
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                }
            }
        }
        out.sort();
        out
    };
    let mut renders = Vec::new();
    let mut missing = Vec::new();
    for spec in &specs {
        let rel = spec
            .strip_prefix(samples)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(spec).unwrap();
        let src = proctor::source::SourceFile::new(rel.clone(), spec.clone(), text);
        let node = proctor::yaml::parse(&src, &Default::default(), &mut Vec::new()).unwrap();
        let service = node.get("proton").and_then(|k| k.as_str()) == Some("ServiceSpec");
        let owner_root = spec.parent().unwrap().parent().unwrap();
        let role_of_kind = if service {
            "instance_infrastructure"
        } else {
            "infrastructure"
        };
        let candidates: Vec<PathBuf> = bundles_under(owner_root)
            .into_iter()
            .filter(|b| b.join(role_of_kind).is_dir())
            .collect();
        let mut units: Vec<(Vec<String>, &str)> = Vec::new();
        if service {
            for i in node
                .get("instances")
                .and_then(|n| n.as_seq())
                .unwrap_or_default()
            {
                let name = i.get("name").and_then(|n| n.scalar_text()).unwrap();
                units.push((vec!["--instance".into(), name], "instance_infrastructure"));
            }
            units.push((vec!["--pipeline".into()], "pipeline_infrastructure"));
        } else {
            units.push((Vec::new(), "infrastructure"));
        }
        for (extra, role) in &units {
            let mut rendered = 0;
            for bundle in &candidates {
                let template = bundle.join(role).join("cloudformation.yaml");
                if !template.is_file() {
                    continue;
                }
                let major = bundle.file_name().unwrap().to_string_lossy();
                let name = bundle
                    .parent()
                    .unwrap()
                    .file_name()
                    .unwrap()
                    .to_string_lossy();
                let label = format!("{name}:{}", major.trim_start_matches('v'));
                let mut args: Vec<String> =
                    vec!["render".into(), rel.clone(), "--template".into(), label];
                args.extend(extra.iter().cloned());
                let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = proctor(&argv);
                if !out.status.success() {
                    continue;
                }
                let mut with_context = argv.clone();
                with_context.push("--context");
                let ctx = proctor(&with_context);
                assert!(ctx.status.success(), "{args:?} --context");
                rendered += 1;
                renders.push(SampleRender {
                    args,
                    template,
                    text: out.stdout,
                    context: ctx.stdout,
                });
            }
            let has_role = candidates
                .iter()
                .any(|b| b.join(role).join("cloudformation.yaml").is_file());
            if has_role && rendered == 0 {
                missing.push(format!("{rel} {extra:?}"));
            }
        }
    }
    (renders, missing)
}

/// Runs `tests/browser/check.mjs MODE FILE` (headless Chromium through playwright-core; Mermaid's
/// own bundle) and returns what it printed. `None` with a message when Chromium or the npm
/// packages are missing (`scripts/browser` installs them), except under CI, where that fails.
pub fn browser(mode: &str, file: &Path) -> Option<serde_json::Value> {
    let dir = root().join("tests/browser");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !dir.join("node_modules/playwright-core").is_dir() || !chromium.exists() {
        let why = "Chromium or tests/browser/node_modules is missing (run scripts/browser)";
        if std::env::var_os("CI").is_some() {
            panic!("{why}: CI needs it");
        }
        eprintln!("skipped: {why}");
        return None;
    }
    let out = Command::new("node")
        .arg(dir.join("check.mjs"))
        .arg(mode)
        .arg(file)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "check.mjs {mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("check.mjs prints JSON"))
}

/// `dot -Tsvg` on a DOT text: Graphviz's verdict (its error text when it refuses). `None` when
/// Graphviz is missing, except under CI, where that fails.
pub fn graphviz(dot: &str) -> Option<Result<String, String>> {
    use std::io::Write;
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        if std::env::var_os("CI").is_some() {
            panic!("Graphviz (`dot`) is missing: CI needs it (scripts/browser installs it)");
        }
        eprintln!("skipped: Graphviz (`dot`) is missing (run scripts/browser)");
        return None;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Some(if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}
