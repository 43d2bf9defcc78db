//! The authoring commands: `proctor policy test`, `proctor diff`, `proctor docs`, `proctor explain`.

use std::process::ExitCode;

use crate::diag::{Severity, codes};
use crate::report::{self, human::HumanOptions};

use super::*;

/// Exit codes of `proctor policy test`: 0 all expectations hold, 1 some do not, 2 a file could
/// not be read or parsed (or bad arguments).
pub(super) fn run_policy_test(paths: Vec<String>, outputs: Vec<Output>) -> ExitCode {
    let paths = if paths.is_empty() {
        vec!["policies".to_string()]
    } else {
        paths
    };
    let limits = crate::limits::Limits::default();
    let walk = crate::paths::WalkBudget::new(limits.max_files);
    let mut files = Vec::new();
    for p in &paths {
        let path = std::path::PathBuf::from(p);
        if path.is_dir() {
            files.extend(crate::policy::files_in(
                &path,
                p.trim_end_matches('/'),
                &walk,
            ));
        } else if path.is_file() {
            files.push((path, p.clone()));
        } else {
            eprintln!("proctor: `{p}`: no such file or folder");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    }
    let (policies, mut diags) = crate::policy::load_all(&files, &limits);
    let (mut cases, mut expectations, mut failed) = (0, 0, 0);
    let mut text = String::new();
    let mut results = Vec::new();
    for policy in &policies {
        let tests = crate::policy::unit_test::test_files(policy.source.path());
        if tests.is_empty() {
            continue;
        }
        let dir = crate::paths::parent_display(policy.source.name());
        let report = crate::policy::unit_test::run(policy, &tests, &dir, &limits);
        cases += report.cases;
        expectations += report.expectations;
        failed += report.mismatches.len();
        diags.extend(report.diagnostics);
        results.extend(report.results);
        for m in &report.mismatches {
            text.push_str(&format!(
                "FAIL {}: case `{}`: rule `{}` expected {}, got {}\n",
                m.test_file,
                m.case,
                m.rule,
                m.expected,
                m.got.as_str()
            ));
        }
    }
    text.push_str(&format!(
        "{} rule files, {cases} cases: {} passed, {failed} failed\n",
        policies.len(),
        expectations - failed
    ));
    let render = |format: Format| -> String {
        match format {
            Format::Json => {
                report::json::render_policy_tests(policies.len(), cases, &results, &diags)
            }
            Format::Junit => report::junit::render_policy_tests(&results, &diags),
            _ => text.clone(),
        }
    };
    for o in &outputs {
        if let Some(file) = &o.file
            && let Err(e) =
                crate::state::write_atomic(std::path::Path::new(file), render(o.format).as_bytes())
        {
            eprintln!("proctor: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    }
    for o in outputs.iter().filter(|o| o.file.is_none()) {
        if o.format == Format::Human && !diags.is_empty() {
            eprint!(
                "{}",
                report::human::render(
                    &diags,
                    HumanOptions {
                        color: use_color(),
                        width: 100
                    }
                )
            );
        }
        print(&render(o.format));
    }
    ExitCode::from(if !diags.is_empty() {
        EXIT_CANNOT_RUN
    } else if failed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// What `check --base` compared, for people: each changed bundle's verdict and what the
/// change does to each deployment's stack.
pub(super) fn base_section(
    rev: &str,
    bundles: &[(String, crate::diff::schema::Verdict)],
    deployments: &[(String, String, Vec<crate::diff::resources::ResourceChange>)],
) -> String {
    use crate::diff::schema::Verdict;
    let mut s = String::new();
    let changed: Vec<_> = bundles
        .iter()
        .filter(|(_, v)| *v != Verdict::None)
        .collect();
    if changed.is_empty() && deployments.is_empty() {
        return format!("compared with {rev}: no bundle's schema changed\n\n");
    }
    s.push_str(&format!("compared with {rev}:\n"));
    for (b, v) in changed {
        s.push_str(&format!("  {b}: {}\n", v.describe()));
    }
    for (label, _, changes) in deployments {
        s.push_str(&format!("\n{label}:\n"));
        for line in crate::diff::resources::render(changes).lines() {
            if line.trim().is_empty() {
                s.push('\n');
            } else {
                s.push_str(&format!("  {line}\n"));
            }
        }
    }
    s.push('\n');
    s
}

/// Exit codes of `proctor diff`: 0 no change or compatible, 1 breaking, 2 cannot run.
pub(super) fn run_diff(old: &str, new: &str, format: Format) -> ExitCode {
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("proctor: cannot read the current folder");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let (diags, verdict) = match crate::versions::diff_bundles(&cwd, old, new) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("proctor: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    match format {
        Format::Json => {
            let mut v: serde_json::Value =
                serde_json::from_str(&report::json::render(&diags)).unwrap_or_default();
            v["verdict"] = serde_json::to_value(verdict).unwrap_or_default();
            print(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ));
        }
        Format::Human => {
            let text = report::human::render(
                &diags,
                HumanOptions {
                    color: use_color(),
                    width: 100,
                },
            );
            print(&format!("{text}{old} → {new}: {}\n", verdict.describe()));
        }
        other => {
            eprintln!("proctor: diff writes human or json, not {other:?}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    }
    ExitCode::from(if verdict == crate::diff::schema::Verdict::Breaking {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Exit codes of `proctor docs`: 0 printed, written or up to date; 1 stale (`--check`);
/// 2 cannot run.
pub(super) fn run_docs(bundle: String, output: Option<String>, check: bool) -> ExitCode {
    use crate::docs::{DocsOptions, DocsResult};
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("proctor: cannot read the current folder");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    match crate::docs::run(&DocsOptions {
        bundle,
        output,
        check,
        cwd,
    }) {
        Ok(DocsResult::Printed(md)) => {
            print(&md);
            ExitCode::from(EXIT_OK)
        }
        Ok(DocsResult::Written(file)) => {
            if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
                println!("wrote {file}");
            }
            ExitCode::from(EXIT_OK)
        }
        Ok(DocsResult::UpToDate(file)) => {
            if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
                println!("{file} is up to date");
            }
            ExitCode::from(EXIT_OK)
        }
        Ok(DocsResult::Stale(message)) => {
            eprintln!("proctor: {message}");
            ExitCode::from(EXIT_FINDINGS)
        }
        Err(e) => {
            eprintln!("proctor: {e}");
            // A generated example that fails its own check is a bug in proctor.
            ExitCode::from(if e.starts_with("internal error") {
                EXIT_INTERNAL
            } else {
                EXIT_CANNOT_RUN
            })
        }
    }
}

pub(super) fn explain(id: &str) -> ExitCode {
    let Some(c) = codes::find(id) else {
        eprintln!("proctor: unknown code `{id}`; codes look like I003 (see `docs` in the README)");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let severity = match c.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    print(&format!(
        "{} {} ({severity}, stage: {})\n\nWhat it checks\n  {}\n\nWhy it matters\n  {}\n\nExample\n  {}\n\nHow to fix it\n  {}\n",
        c.id, c.name, c.stage, c.what, c.why, c.example, c.fix
    ));
    ExitCode::from(EXIT_OK)
}

/// `proctor cache clean`: empties the cache folder `proctor check` would use here.
pub(super) fn run_cache_clean(cache_dir: Option<String>, config: Option<String>) -> ExitCode {
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("proctor: cannot read the current folder: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let dir = match super::checking::cache_use(false, cache_dir) {
        crate::check::CacheUse::Dir(d) => cwd.join(d),
        _ => {
            let toml = match config {
                Some(c) => Some(cwd.join(c)),
                None => crate::config::find(&cwd),
            };
            match toml.as_deref().and_then(std::path::Path::parent) {
                Some(root) => root.join(crate::cache::DEFAULT_DIR),
                None => {
                    eprintln!(
                        "proctor: no proctor.toml here or above, so no workspace cache: name the folder with --cache-dir"
                    );
                    return ExitCode::from(EXIT_CANNOT_RUN);
                }
            }
        }
    };
    match crate::cache::Cache::clean(&dir) {
        Ok(cleaned) => {
            if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
                print(&format!(
                    "removed {} entries ({:.1} MiB) from {}\n",
                    cleaned.entries,
                    cleaned.bytes as f64 / (1024.0 * 1024.0),
                    dir.display()
                ));
            }
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!(
                "proctor: cannot empty the cache folder {}: {e}",
                dir.display()
            );
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}
