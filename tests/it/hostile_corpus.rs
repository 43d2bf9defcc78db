//! The hostile-input corpus: every folder of `fixtures/hostile/` is a small workspace that
//! attacks one part of proctor (YAML bombs, deep nesting, huge files, bad bytes, paths out of
//! a bundle, runaway templates and policies, damaged builds). For each, proctor must finish
//! within a time bound, exit 1 or 2 (never 3, never a signal), report at least one
//! diagnostic, locate every diagnostic, and still check the valid unit beside the hostile one.
//! Human and JSON output are snapshot in `tests/snapshots/hostile/`.
//!
//! A case is copied to a temporary folder, where its `generate` file (if any) makes what is
//! too large or too odd for git; then proctor runs there with the case's `args`, once for
//! people and once with `--format json`. The case's files, none copied into the workspace:
//!
//! - `args`: one argument per line (default: `check`).
//! - `generate`: one step per line (`#` starts a comment):
//!   - `append PATH "TEXT"`: add TEXT to PATH (made if missing);
//!   - `fifo PATH`: make a named pipe at PATH (reading it would block for ever);
//!   - `repeat PATH "TEXT" N`: add TEXT N times; `{i}` and `{i+1}` in TEXT count from 0;
//!   - `symlink PATH "TARGET"`: make PATH a symbolic link to TARGET, as written;
//!   - `copy FROM TO`, `remove PATH`, `replace PATH "OLD" "NEW"` (every OLD in the file);
//!   - `folders DIR N`: make N empty folders `DIR/d0` ... `DIR/d{N-1}`;
//!   - `proctor ARG...`: run proctor (e.g. `proctor build --out build`); it must exit 0.
//!
//!   In quoted TEXT, `\n \r \t \0 \\ \"` are escapes and `\xNN` is a raw byte.
//! - `valid`: the valid unit that must still be checked, one line:
//!   `render NAME` (`proctor render NAME` exits 0 with CloudFormation) or
//!   `finds CODE FILE:LINE` (the JSON report has that finding).
//! - `unlocated`: why some output has no location, one `WORD reason` per line. WORD is a code
//!   whose diagnostics may lack a file and line, or `stderr`: the command reports on standard
//!   error only (`apply`, which has no JSON report), so its refusal is what is checked.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::root;

/// One run of proctor may take this long (a debug build, on a 2-core machine).
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// The files that describe a case rather than belong to its workspace.
const CASE_FILES: [&str; 4] = ["args", "generate", "valid", "unlocated"];

/// A run that may have been stopped at the time limit (`code` is then `None`).
struct BoundedRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs proctor in `dir`, killing it after `TIME_LIMIT`. AWS credentials and configuration are
/// hidden, so that nothing can reach AWS even if a refusal were missing.
fn proctor_bounded(dir: &Path, args: &[String]) -> BoundedRun {
    let started = Instant::now();
    // A cache of its own: the corpus's folders are the repository's.
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(args)
        .current_dir(dir)
        .env("PROCTOR_CACHE_DIR", cache.path())
        .env("NO_COLOR", "1")
        .env("PROCTOR_TODAY", "2026-06-01")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/aws/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws/credentials",
        )
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the proctor binary runs");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for proctor") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`proctor {}` in {} took more than {TIME_LIMIT:?}",
                args.join(" "),
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    BoundedRun {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        took: started.elapsed(),
    }
}

/// The non-empty, non-comment lines of a case file (empty when the file is absent).
fn lines(case: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(case.join(file))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The case's workspace: its folder, without the files that describe the case.
pub(crate) fn copy_case(case: &Path, to: &Path) {
    crate::support::copy_dir(case, to);
    for name in CASE_FILES {
        let _ = std::fs::remove_file(to.join(name));
    }
}

/// Splits a `generate` line into words; a quoted word has its escapes decoded into bytes.
fn words(line: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut word = Vec::new();
            loop {
                match chars
                    .next()
                    .unwrap_or_else(|| panic!("unclosed quote: {line}"))
                {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => word.push(b'\n'),
                        Some('r') => word.push(b'\r'),
                        Some('t') => word.push(b'\t'),
                        Some('0') => word.push(0),
                        Some('x') => {
                            let hex: String = chars.by_ref().take(2).collect();
                            word.push(u8::from_str_radix(&hex, 16).expect("\\xNN"));
                        }
                        Some(c @ ('\\' | '"')) => word.push(c as u8),
                        other => panic!("unknown escape \\{other:?}: {line}"),
                    },
                    c => word.extend(c.to_string().as_bytes()),
                }
            }
            out.push(word);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(word.into_bytes());
        }
    }
    out
}

fn append(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

fn replace_all(haystack: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(old) {
            out.extend_from_slice(new);
            i += old.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Runs a case's `generate` steps in its workspace.
pub(crate) fn generate(case: &Path, dir: &Path) {
    for line in lines(case, "generate") {
        let w = words(&line);
        let text = |i: usize| -> String { String::from_utf8_lossy(&w[i]).into_owned() };
        let path = |i: usize| dir.join(text(i));
        match text(0).as_str() {
            "append" => append(&path(1), &w[2]),
            "repeat" => {
                let n: usize = text(3).replace('_', "").parse().expect("a count");
                let piece = text(2);
                let bytes = if piece.contains("{i") {
                    (0..n)
                        .map(|i| {
                            piece
                                .replace("{i+1}", &(i + 1).to_string())
                                .replace("{i}", &i.to_string())
                        })
                        .collect::<String>()
                        .into_bytes()
                } else {
                    w[2].repeat(n)
                };
                append(&path(1), &bytes);
            }
            "symlink" => {
                #[cfg(unix)]
                std::os::unix::fs::symlink(text(2), path(1)).unwrap();
                #[cfg(not(unix))]
                panic!("`{line}`: the corpus makes symbolic links on Unix only");
            }
            "copy" => {
                std::fs::copy(path(1), path(2)).unwrap();
            }
            "remove" => std::fs::remove_file(path(1)).unwrap(),
            "folders" => {
                let n: usize = text(2).replace('_', "").parse().expect("a count");
                for i in 0..n {
                    std::fs::create_dir_all(path(1).join(format!("d{i}"))).unwrap();
                }
            }
            "fifo" => {
                let made = std::process::Command::new("mkfifo")
                    .arg(path(1))
                    .status()
                    .unwrap();
                assert!(made.success(), "`{line}`: mkfifo failed");
            }
            "replace" => {
                let old = std::fs::read(path(1)).unwrap();
                let new = replace_all(&old, &w[2], &w[3]);
                assert_ne!(old, new, "`{line}` changed nothing");
                std::fs::write(path(1), new).unwrap();
            }
            "proctor" => {
                let args: Vec<String> = (1..w.len()).map(text).collect();
                let run = proctor_bounded(dir, &args);
                assert_eq!(run.code, Some(0), "`{line}`\n{}{}", run.stdout, run.stderr);
            }
            other => panic!("unknown generate step `{other}` in `{line}`"),
        }
    }
}

fn redact(s: &str, dir: &Path) -> String {
    let time = regex::Regex::new(r"in \d+ ms").expect("valid regex");
    time.replace_all(s, "in [time] ms")
        .replace(&dir.display().to_string(), "[workspace]")
}

/// The JSON report with each long list of rule verdicts cut to its first five and a count
/// (the 10,000-rule case would otherwise snapshot 20,000 verdicts).
fn shorten(s: &str) -> String {
    let Ok(mut report) = serde_json::from_str::<serde_json::Value>(s) else {
        return s.to_string();
    };
    let mut changed = false;
    for r in report["policy_results"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if let Some(rules) = r["rules"].as_object_mut()
            && rules.len() > 10
        {
            let more = rules.len() - 5;
            let kept: serde_json::Map<String, serde_json::Value> = rules
                .iter()
                .take(5)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            *rules = kept;
            rules.insert(format!("({more} more)"), serde_json::Value::from("..."));
            changed = true;
        }
    }
    if !changed {
        return s.to_string();
    }
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}

/// What one case must show; a message per broken promise.
fn check_case(
    name: &str,
    case: &Path,
    dir: &Path,
    args: &[String],
    human: &BoundedRun,
    json: Option<&BoundedRun>,
) -> Vec<String> {
    let mut broken = Vec::new();
    let unlocated: Vec<String> = lines(case, "unlocated")
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    if !matches!(human.code, Some(1 | 2)) {
        broken.push(format!("exit code {:?}, expected 1 or 2", human.code));
    }
    let Some(json) = json else {
        // A command without a JSON report (apply): its refusal on standard error is the report.
        if human.stderr.trim().is_empty() {
            broken.push("nothing on standard error".into());
        }
        if args.first().is_some_and(|a| a == "apply") && !human.stderr.contains("refusing to apply")
        {
            broken.push("apply did not refuse the build before any AWS call".into());
        }
        return broken;
    };
    if json.code != human.code {
        broken.push(format!(
            "JSON run exit {:?}, human run {:?}",
            json.code, human.code
        ));
    }
    let report: serde_json::Value = match serde_json::from_str(&json.stdout) {
        Ok(v) => v,
        Err(e) => {
            return vec![format!(
                "JSON output does not parse ({e}):\n{}",
                json.stdout
            )];
        }
    };
    let diagnostics = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if diagnostics.is_empty() {
        broken.push("no diagnostic".into());
    }
    for d in &diagnostics {
        let code = d["code"].as_str().unwrap_or("?");
        let located = d["file"].as_str().is_some_and(|f| !f.is_empty())
            && d["line"].as_u64().is_some_and(|l| l >= 1);
        if !located && !unlocated.iter().any(|u| u == code) {
            broken.push(format!("{code} has no file and line: {d}"));
        }
    }
    for line in lines(case, "valid") {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["render", unit] => {
                let run = proctor_bounded(dir, &["render".to_string(), unit.to_string()]);
                if run.code != Some(0) || !run.stdout.contains("Resources:") {
                    broken.push(format!(
                        "the valid unit `{unit}` does not render (exit {:?}):\n{}{}",
                        run.code, run.stdout, run.stderr
                    ));
                }
            }
            ["finds", code, place] => {
                let (file, line_no) = place.rsplit_once(':').expect("FILE:LINE");
                let found = diagnostics.iter().any(|d| {
                    d["code"] == *code
                        && d["file"] == file
                        && d["line"].as_u64() == line_no.parse().ok()
                });
                if !found {
                    broken.push(format!(
                        "the valid unit's finding {code} at {place} is missing"
                    ));
                }
            }
            _ => panic!("{name}: unknown `valid` line `{line}`"),
        }
    }
    broken
}

pub(crate) fn cases() -> Vec<PathBuf> {
    crate::support::case_dirs("fixtures/hostile")
}

#[test]
fn every_hostile_case_ends_in_located_diagnostics_in_bounded_time() {
    let all = cases();
    assert!(all.len() >= 40, "the corpus has {} cases", all.len());
    let with_valid_unit = all.iter().filter(|c| c.join("valid").exists()).count();
    assert!(
        with_valid_unit >= 5,
        "{with_valid_unit} cases have a valid unit"
    );

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/snapshots/hostile"));
    settings.set_prepend_module_to_snapshot(false);
    let started = Instant::now();
    let mut failures = Vec::new();
    settings.bind(|| {
        for case in &all {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("workspace");
            copy_case(case, &dir);
            generate(case, &dir);

            let args = match lines(case, "args") {
                a if a.is_empty() => vec!["check".to_string()],
                a => a,
            };
            let human = proctor_bounded(&dir, &args);
            let json = (!lines(case, "unlocated")
                .iter()
                .any(|l| l.starts_with("stderr")))
            .then(|| {
                let mut json_args = args.clone();
                json_args.extend(["--format".to_string(), "json".to_string()]);
                proctor_bounded(&dir, &json_args)
            });
            let codes: Vec<String> = json
                .as_ref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(&j.stdout).ok())
                .and_then(|v| v["diagnostics"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|d| d["code"].as_str().map(str::to_string))
                .collect();
            eprintln!(
                "{name}: exit {:?}, {codes:?}, {} ms",
                human.code,
                human.took.as_millis()
            );
            for broken in check_case(&name, case, &dir, &args, &human, json.as_ref()) {
                failures.push(format!("{name}: {broken}"));
            }

            let shown = format!(
                "$ proctor {}\nexit: {}\n{}{}",
                args.join(" "),
                human.code.map_or("signal".to_string(), |c| c.to_string()),
                redact(&human.stdout, &dir),
                if human.stderr.is_empty() {
                    String::new()
                } else {
                    format!("--- stderr\n{}", redact(&human.stderr, &dir))
                }
            );
            insta::assert_snapshot!(format!("{name}.human"), shown);
            if let Some(json) = &json {
                insta::assert_snapshot!(
                    format!("{name}.json"),
                    redact(&shorten(&json.stdout), &dir)
                );
            }
        }
    });
    eprintln!(
        "{} cases in {} ms",
        all.len(),
        started.elapsed().as_millis()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
