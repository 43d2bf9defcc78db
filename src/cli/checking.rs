//! `proctor check` and `proctor build`: run the pipeline, report its findings, write artifacts.

use std::process::ExitCode;
use std::time::Instant;

use crate::check::{self, CheckOptions};
use crate::diag::Summary;
use crate::report::{self, RunStats, human::HumanOptions};

use super::render::run_pipeline;
use super::tools::base_section;
use super::*;

pub(super) fn run_check(args: CheckArgs, outputs: Vec<Output>) -> ExitCode {
    let started = Instant::now();
    proctor_core::phase::mark("start");
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("proctor: cannot read the current folder: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    for entry in args.select.iter().chain(&args.ignore) {
        if let Some(why) = crate::diag::filter::check_entry(entry) {
            eprintln!("proctor: --select/--ignore: {why}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    }
    let opts = CheckOptions {
        paths: args.paths,
        specs: args.specs,
        config: args.config,
        policies: args.policies,
        cwd,
        filter: crate::diag::filter::CodeFilter {
            select: args.select,
            ignore: args.ignore,
        },
        changed: args.changed,
        // `--base` compares renderings; without it nothing reads them after validation.
        slim: args.base.is_none(),
        cache: cache_use(args.no_cache, args.cache_dir),
        // Only the JSON report lists verdicts; the others count them.
        count_verdicts: !outputs.iter().any(|o| o.format == Format::Json),
        // Only the HTML report groups findings by deployment.
        cached_units: outputs.iter().any(|o| o.format == Format::Html),
        ..CheckOptions::default()
    };
    let outcome = match run_pipeline(&opts, |diags| {
        let broken = check::Outcome {
            diagnostics: diags.to_vec(),
            ..check::Outcome::default()
        };
        if let Err(e) = emit(&outputs, &broken, started, false) {
            eprintln!("proctor: {e}");
        }
    }) {
        Ok(o) => o,
        Err(code) => return code,
    };
    if outcome.nothing_to_check {
        if outputs
            .iter()
            .any(|o| o.format != Format::Human || o.file.is_some())
        {
            if let Err(e) = emit(&outputs, &outcome, started, false) {
                eprintln!("proctor: {e}");
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
        } else if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            print(&format!(
                "nothing to check: none of the {} changed file(s) is part of a bundle, a spec, a policy or proctor.toml\n",
                opts.paths.len()
            ));
        }
        return ExitCode::from(EXIT_OK);
    }
    if let Some(cache) = &outcome.cache {
        if let Some(problem) = &cache.problem {
            eprintln!("proctor: warning: {problem}");
        } else if (cache.reused > 0 || cache.analyses.0 > 0)
            && !QUIET.load(std::sync::atomic::Ordering::Relaxed)
        {
            let (recalled, analysed) = cache.analyses;
            eprintln!(
                "proctor: {} of {} deployments unchanged, their results reused from the cache ({}), as were {recalled} of {} template analyses",
                cache.reused,
                cache.reused + cache.checked,
                cache.dir.display(),
                recalled + analysed,
            );
        }
    }
    let mut outcome = outcome;
    let mut section = String::new();
    if let Some(rev) = &args.base {
        match crate::versions::gate(&opts, &outcome, rev) {
            Ok(report) => {
                let filter = outcome.filter.clone();
                outcome.diagnostics.extend(
                    report
                        .diagnostics
                        .into_iter()
                        .filter(|d| filter.enabled(d.code)),
                );
                outcome
                    .diagnostics
                    .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
                section = base_section(rev, &report.bundles, &report.deployments);
            }
            Err(e) => {
                eprintln!("proctor: {e}");
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
        }
    }
    let summary = Summary::of(&outcome.diagnostics);
    if !section.is_empty()
        && !QUIET.load(std::sync::atomic::Ordering::Relaxed)
        && outputs
            .iter()
            .any(|o| o.format == Format::Human && o.file.is_none())
    {
        print(&section);
    }
    if let Err(e) = emit(&outputs, &outcome, started, true) {
        eprintln!("proctor: {e}");
        return ExitCode::from(EXIT_CANNOT_RUN);
    }
    proctor_core::phase::mark("report");
    // A unit that hit a bug in proctor: the others were reported, and the exit code says so.
    if outcome.diagnostics.iter().any(|d| d.code.id == "E001") {
        return ExitCode::from(EXIT_INTERNAL);
    }
    let failed = summary.errors > 0 || (args.deny_warnings && summary.warnings > 0);
    // Freeing a large workspace's findings, units and verdicts one by one is work the
    // process's exit does at once.
    std::mem::forget(outcome);
    ExitCode::from(if failed { EXIT_FINDINGS } else { EXIT_OK })
}

/// Where `proctor check` keeps its cache: `--no-cache`, else `--cache-dir`, else
/// `PROCTOR_CACHE_DIR`, else the workspace's `.proctor/cache`.
pub(super) fn cache_use(no_cache: bool, dir: Option<String>) -> check::CacheUse {
    let from_env = || {
        std::env::var("PROCTOR_CACHE_DIR")
            .ok()
            .filter(|d| !d.is_empty())
    };
    match (no_cache, dir.or_else(from_env)) {
        (true, _) => check::CacheUse::Off,
        (false, Some(d)) => check::CacheUse::Dir(d.into()),
        (false, None) => check::CacheUse::Default,
    }
}

/// The diagnostics and the closing count line.
pub(super) fn human_report(
    outcome: &check::Outcome,
    summary: &Summary,
    started: Instant,
    human: HumanOptions,
) -> String {
    let stats = RunStats {
        files: outcome.files,
        bundles: outcome.bundles,
        specs: outcome.specs,
        elapsed: started.elapsed(),
    };
    let mut text = report::human::render(&outcome.diagnostics, human);
    text.push_str(&report::summary_line(&stats, summary));
    if let Some(rules) = report::RuleCounts::of(&outcome.verdicts, outcome.counted) {
        text.push_str(&format!(
            "; policy rules: {} passed, {} failed, {} skipped",
            rules.passed, rules.failed, rules.skipped
        ));
    }
    text.push('\n');
    text
}

/// Exit codes of `proctor build`: 0 written, 1 errors found (nothing written), 2 cannot run
/// or cannot write.
pub(super) fn run_build(args: BuildArgs) -> ExitCode {
    let started = Instant::now();
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("proctor: cannot read the current folder");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let opts = CheckOptions {
        paths: args.paths,
        specs: args.specs,
        config: args.config,
        policies: args.policies,
        cwd: cwd.clone(),
        ..CheckOptions::default()
    };
    let human = HumanOptions {
        color: use_color(),
        width: 100,
    };
    let outcome = match run_pipeline(&opts, |diags| print(&report::human::render(diags, human))) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let summary = Summary::of(&outcome.diagnostics);
    print(&human_report(&outcome, &summary, started, human));
    if outcome.diagnostics.iter().any(|d| d.code.id == "E001") {
        eprintln!("proctor: nothing was built: proctor hit a bug (E001 above)");
        return ExitCode::from(EXIT_INTERNAL);
    }
    if summary.errors > 0 {
        eprintln!("proctor: nothing was built: fix the errors above first");
        return ExitCode::from(EXIT_FINDINGS);
    }
    let out = cwd.join(&args.out);
    let plan = crate::build::plan(&outcome, args.json, &out);
    if let Err(e) = crate::build::write(&out, &plan) {
        eprintln!("proctor: {e}");
        return ExitCode::from(EXIT_CANNOT_RUN);
    }
    let mut lines = format!("built {} unit(s) into {}\n", plan.artifacts.len(), args.out);
    for (path, _) in &plan.artifacts {
        lines.push_str(&format!("  {}/{path}\n", args.out));
    }
    for (unit, why) in &plan.waiting {
        lines.push_str(&format!("waiting: {unit}: {why}, then build again\n"));
    }
    print(&lines);
    ExitCode::from(EXIT_OK)
}
