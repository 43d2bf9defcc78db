//! The command line: parse arguments, run a stage, print through a reporter, pick the exit
//! code. The only module that knows about output formats and the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::check::{self, CheckOptions, Fatal};
use crate::diag::{Severity, Summary, codes};
use crate::report::{self, RunStats, human::HumanOptions};

/// Exit codes, documented in the README.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_CANNOT_RUN: u8 = 2;
pub const EXIT_INTERNAL: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "proctor",
    version,
    about = "Check, render and deploy AWS Proton-format template bundles"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour in human output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Print findings only: no closing summary line (nothing at all when clean).
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    /// Threads for checking and rendering (default: one per core).
    #[arg(long, short = 'j', global = true, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[derive(Subcommand, Debug)]
enum Command {
    /// Lint bundles and type-check developer specs against their schemas.
    Check(CheckArgs),
    /// Check, then write the rendered CloudFormation of every deployment and a build record.
    Build(BuildArgs),
    /// Print a deployment's rendered CloudFormation (like `helm template`).
    Render(RenderArgs),
    /// Deploy a build through CloudFormation change sets (verifies the build first).
    Apply(ApplyArgs),
    /// Work with policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print the documentation of a diagnostic code (e.g. `proctor explain I003`).
    Explain {
        /// The code, such as I003.
        code: String,
    },
    /// Classify the schema change between two versions of a bundle: none, compatible (a
    /// minor version) or breaking (needs a new major).
    Diff {
        /// The old bundle folder.
        old: String,
        /// The new bundle folder.
        new: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Write a Markdown reference of a bundle's inputs, outputs and an example spec.
    Docs {
        /// The bundle folder.
        bundle: String,
        /// Write to FILE (between `<!-- proctor:docs:begin -->` and `<!-- proctor:docs:end -->`
        /// when the file has them) instead of printing.
        #[arg(long, value_name = "FILE")]
        output: Option<String>,
        /// Fail (exit 1) when FILE is not what proctor would write; write nothing.
        #[arg(long, requires = "output")]
        check: bool,
    },
    /// Print a shell completion script (e.g. `proctor completions bash > /etc/bash_completion.d/proctor`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print proctor's man page (roff), e.g. `proctor man > proctor.1`.
    Man,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Bundles, folders of bundles, or spec files (default: the workspace's templates).
    paths: Vec<String>,
    /// A spec to check against the bundle given in PATHS (repeatable).
    #[arg(long = "spec", value_name = "FILE")]
    specs: Vec<String>,
    /// Output format (repeatable, each with its own --output; default human).
    #[arg(long, value_enum, action = clap::ArgAction::Append)]
    format: Vec<Format>,
    /// Write the --format given just before this to FILE instead of standard output.
    #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
    output: Vec<String>,
    /// proctor.toml to use (default: found by walking up from the current folder).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Exit with 1 when there are warnings, not only errors.
    #[arg(long)]
    deny_warnings: bool,
    /// A policy file, or a folder of `*.guard` files, to load (repeatable).
    #[arg(long = "policy", value_name = "FILE|DIR")]
    policies: Vec<String>,
    /// Report only these codes or prefixes of codes (comma-separated or repeated; replaces
    /// proctor.toml's `[check] select`).
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    select: Vec<String>,
    /// Do not run or report these codes or prefixes (adds to proctor.toml's `[check] ignore`).
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    ignore: Vec<String>,
    /// PATHS are changed files (as a pre-commit hook passes them): check only the bundles and
    /// deployments they affect.
    #[arg(long)]
    changed: bool,
    /// Compare every bundle with its version at this git revision: breaking schema changes
    /// inside an existing major are errors, and each affected deployment's resource changes
    /// are shown.
    #[arg(long, value_name = "GIT_REV")]
    base: Option<String>,
}

#[derive(clap::Args, Debug)]
struct BuildArgs {
    /// Bundles, folders of bundles, or spec files (default: the workspace's deployments).
    paths: Vec<String>,
    /// A spec to build against the bundle given in PATHS (repeatable).
    #[arg(long = "spec", value_name = "FILE")]
    specs: Vec<String>,
    /// The build folder; a previous build there is replaced whole.
    #[arg(long, value_name = "DIR", default_value = "build")]
    out: String,
    /// Write the CloudFormation as JSON (long forms) instead of YAML.
    #[arg(long)]
    json: bool,
    /// proctor.toml to use (default: found by walking up from the current folder).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// A policy file, or a folder of `*.guard` files, to enforce (repeatable).
    #[arg(long = "policy", value_name = "FILE|DIR")]
    policies: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct ApplyArgs {
    /// The build folder that `proctor build` wrote.
    build_dir: String,
    /// Apply only this unit: its name, `SERVICE/INSTANCE`, or its stack name.
    #[arg(long, value_name = "NAME")]
    unit: Option<String>,
    /// Create the change sets and show them, then remove them: change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Execute without asking.
    #[arg(long, short = 'y')]
    yes: bool,
    /// The AWS region (default: the standard chain: AWS_REGION, the profile).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// A CloudFormation endpoint, for emulators (default: AWS_ENDPOINT_URL, else AWS's).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Run Guard-format unit tests: each X.guard with the files in a sibling tests/ folder
    /// whose names start with X (as `cfn-guard test -d`).
    Test {
        /// Rule files or folders of them (default: policies).
        paths: Vec<String>,
        /// Output format: human, json or junit (repeatable, each with its own --output).
        #[arg(long, value_enum, action = clap::ArgAction::Append)]
        format: Vec<Format>,
        /// Write the --format given just before this to FILE.
        #[arg(long, value_name = "FILE", action = clap::ArgAction::Append)]
        output: Vec<String>,
    },
}

#[derive(clap::Args, Debug)]
struct RenderArgs {
    /// An environment or service named in proctor.toml, a spec file, or a bundle folder that
    /// no spec uses (rendered with synthesized inputs).
    target: String,
    /// The service instance to render (when the service has several).
    #[arg(long, value_name = "NAME")]
    instance: Option<String>,
    /// Render the service's pipeline instead of an instance.
    #[arg(long, conflicts_with = "instance")]
    pipeline: bool,
    /// proctor.toml to use (default: found by walking up from the current folder).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Print the context the template sees, as JSON, instead of the rendered template.
    #[arg(long)]
    context: bool,
    /// The template to render the spec with (`name` or `name:major`), when several bundles
    /// could take it (I015).
    #[arg(long, value_name = "NAME[:MAJOR]")]
    template: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
}

/// One requested report: a format, and the file it goes to (`None`: standard output).
#[derive(Debug, PartialEq, Eq)]
struct Output {
    format: Format,
    file: Option<String>,
}

/// Pairs each `--output` with the `--format` just before it on the command line.
fn outputs(
    formats: &[Format],
    files: &[String],
    format_at: &[usize],
    output_at: &[usize],
) -> Result<Vec<Output>, String> {
    let mut out: Vec<Output> = formats
        .iter()
        .map(|&format| Output { format, file: None })
        .collect();
    for (file, at) in files.iter().zip(output_at) {
        let Some(i) = format_at.iter().rposition(|f| f < at) else {
            return Err(format!(
                "--output {file}: give the --format it is for first (`--format sarif --output {file}`)"
            ));
        };
        if out[i].file.is_some() {
            return Err(format!(
                "--output {file}: the --format before it already has an --output"
            ));
        }
        out[i].file = Some(file.clone());
    }
    if out.is_empty() {
        out.push(Output {
            format: Format::Human,
            file: None,
        });
    }
    if out.iter().filter(|o| o.file.is_none()).count() > 1 {
        return Err(
            "only one --format can go to standard output; give the others an --output FILE"
                .to_string(),
        );
    }
    Ok(out)
}

/// The report of `diags` in `format`; `human` adds the closing count line unless quiet.
fn render_format(
    format: Format,
    outcome: &check::Outcome,
    started: Instant,
    color: bool,
    summary: bool,
) -> String {
    let diags = &outcome.diagnostics;
    match format {
        Format::Human => {
            let human = HumanOptions { color, width: 100 };
            if !summary || QUIET.load(std::sync::atomic::Ordering::Relaxed) {
                report::human::render(diags, human)
            } else {
                human_report(outcome, &Summary::of(diags), started, human)
            }
        }
        Format::Json => report::json::render_check(diags, &outcome.verdicts),
        Format::Sarif => report::sarif::render(diags),
        Format::Github => report::github::render(diags),
        Format::Junit => report::junit::render(diags),
    }
}

/// Writes every requested report: files atomically (a reader never sees half of one),
/// standard output last. `summary`: human output ends with the closing count line.
fn emit(
    outputs: &[Output],
    outcome: &check::Outcome,
    started: Instant,
    summary: bool,
) -> Result<(), String> {
    for o in outputs {
        if let Some(file) = &o.file {
            let text = render_format(o.format, outcome, started, false, summary);
            crate::state::write_atomic(std::path::Path::new(file), text.as_bytes())?;
        }
    }
    for o in outputs.iter().filter(|o| o.file.is_none()) {
        print(&render_format(
            o.format,
            outcome,
            started,
            use_color(),
            summary,
        ));
    }
    Ok(())
}

/// The command line, with the version that names the embedded CloudFormation dataset.
fn command() -> clap::Command {
    let version: &'static str = Box::leak(
        format!(
            "{} (CloudFormation resource dataset {})",
            env!("CARGO_PKG_VERSION"),
            crate::cfn::types::dataset_date()
        )
        .into_boxed_str(),
    );
    Cli::command().version(version)
}

pub fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        // Inside one unit's work: that unit reports E001 and the run goes on.
        if crate::diag::isolate::active() {
            crate::diag::isolate::record(info.to_string());
            return;
        }
        eprintln!("proctor: internal error, please report: {info}");
        std::process::exit(i32::from(EXIT_INTERNAL));
    }));
    let parsed = command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_CANNOT_RUN
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let _ = COLOR.set(cli.color);
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    if let Some(n) = cli.jobs {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    match cli.command {
        Command::Check(args) => {
            let sub = matches.subcommand_matches("check");
            let at = |id: &str| -> Vec<usize> {
                sub.and_then(|m| m.indices_of(id))
                    .map(|i| i.collect())
                    .unwrap_or_default()
            };
            match outputs(&args.format, &args.output, &at("format"), &at("output")) {
                Ok(o) => run_check(args, o),
                Err(e) => {
                    eprintln!("proctor: {e}");
                    ExitCode::from(EXIT_CANNOT_RUN)
                }
            }
        }
        Command::Diff { old, new, format } => run_diff(&old, &new, format),
        Command::Docs {
            bundle,
            output,
            check,
        } => run_docs(bundle, output, check),
        Command::Completions { shell } => {
            let mut out = std::io::stdout();
            clap_complete::generate(shell, &mut Cli::command(), "proctor", &mut out);
            ExitCode::from(EXIT_OK)
        }
        Command::Man => {
            let mut buf = Vec::new();
            match clap_mangen::Man::new(command()).render(&mut buf) {
                Ok(()) => {
                    print(&String::from_utf8_lossy(&buf));
                    ExitCode::from(EXIT_OK)
                }
                Err(e) => {
                    eprintln!("proctor: cannot write the man page: {e}");
                    ExitCode::from(EXIT_CANNOT_RUN)
                }
            }
        }
        Command::Render(args) => run_render(args),
        Command::Build(args) => run_build(args),
        Command::Apply(args) => run_apply(args),
        Command::Policy(PolicyCommand::Test {
            paths,
            format,
            output,
        }) => {
            let sub = matches
                .subcommand_matches("policy")
                .and_then(|m| m.subcommand_matches("test"));
            let at = |id: &str| -> Vec<usize> {
                sub.and_then(|m| m.indices_of(id))
                    .map(|i| i.collect())
                    .unwrap_or_default()
            };
            let outs =
                outputs(&format, &output, &at("format"), &at("output")).and_then(|o| {
                    match o
                        .iter()
                        .find(|o| matches!(o.format, Format::Sarif | Format::Github))
                    {
                        Some(bad) => Err(format!(
                            "policy test writes human, json or junit, not {:?}",
                            bad.format
                        )),
                        None => Ok(o),
                    }
                });
            match outs {
                Ok(o) => run_policy_test(paths, o),
                Err(e) => {
                    eprintln!("proctor: {e}");
                    ExitCode::from(EXIT_CANNOT_RUN)
                }
            }
        }
        Command::Explain { code } => explain(&code),
    }
}

fn run_check(args: CheckArgs, outputs: Vec<Output>) -> ExitCode {
    let started = Instant::now();
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
    // A unit that hit a bug in proctor: the others were reported, and the exit code says so.
    if outcome.diagnostics.iter().any(|d| d.code.id == "E001") {
        return ExitCode::from(EXIT_INTERNAL);
    }
    let failed = summary.errors > 0 || (args.deny_warnings && summary.warnings > 0);
    ExitCode::from(if failed { EXIT_FINDINGS } else { EXIT_OK })
}

/// The diagnostics and the closing count line.
fn human_report(
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
    if let Some(rules) = report::RuleCounts::of(&outcome.verdicts) {
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
fn run_build(args: BuildArgs) -> ExitCode {
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

/// Exit codes of `proctor apply`: 0 every unit deployed (or had no changes, or the dry run
/// showed them), 1 a deployment failed or was declined, 2 the build or the arguments were
/// refused or AWS could not be used (nothing was deployed), 130 interrupted.
#[cfg(feature = "aws")]
fn run_apply(args: ApplyArgs) -> ExitCode {
    use crate::apply::{self, Outcome};
    // Every check of the build comes before any AWS call.
    let verified = match crate::build::verify(std::path::Path::new(&args.build_dir)) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("proctor: refusing to apply `{}`: {e}", args.build_dir);
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    if let Err(e) = apply::select(&verified, args.unit.as_deref()) {
        eprintln!("proctor: {e}");
        return ExitCode::from(EXIT_CANNOT_RUN);
    }
    let _ = ctrlc::set_handler(|| {
        let f = apply::IN_FLIGHT.lock().ok().and_then(|g| g.clone());
        if let Some(f) = &f {
            let _ = std::fs::remove_file(&f.lock);
        }
        eprintln!("\nproctor: {}", apply::interrupted_message(f.as_ref()));
        std::process::exit(130);
    });
    let sdk = match apply::aws::Sdk::connect(args.region, args.endpoint_url) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("proctor: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let mut ask = |question: &str| -> bool {
        eprint!("{question} [y/N] ");
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
    };
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut opts = apply::Options {
        dry_run: args.dry_run,
        yes: args.yes,
        unit: args.unit,
        poll: std::time::Duration::from_millis(
            std::env::var("PROCTOR_POLL_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(2000),
        ),
        confirm: if terminal { Some(&mut ask) } else { None },
    };
    let mut out = std::io::stdout();
    match apply::apply(&verified, &sdk, &mut opts, &mut out) {
        Ok(results) => {
            for (unit, why) in &verified.waiting {
                if opts.unit.is_none() {
                    println!("not in this build: {unit}: {why}, then build and apply again");
                }
            }
            let failed = results
                .iter()
                .any(|(_, o)| matches!(o, Outcome::Failed { .. } | Outcome::Declined));
            ExitCode::from(if failed { EXIT_FINDINGS } else { EXIT_OK })
        }
        Err(e) => {
            eprintln!("proctor: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

#[cfg(not(feature = "aws"))]
fn run_apply(_: ApplyArgs) -> ExitCode {
    eprintln!(
        "proctor: this proctor was built without the `aws` feature, so it cannot apply; build it with default features (`cargo install proctor`)"
    );
    ExitCode::from(EXIT_CANNOT_RUN)
}

fn run_render(args: RenderArgs) -> ExitCode {
    use crate::unit::UnitKind;
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("proctor: cannot read the current folder");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let is_spec = cwd.join(&args.target).is_file();
    let is_bundle = cwd.join(&args.target).is_dir();
    let no_config = args.config.is_none() && crate::config::find(&cwd).is_none();
    let paths = if is_spec && no_config {
        // Without proctor.toml, the folder that holds the spec's folder: a template folder for
        // `<template>/spec/x.yaml`, a project for `<project>/specs/x.yaml`, checked as
        // `check` checks it.
        let spec_dir = crate::paths::parent_display(args.target.trim_start_matches("./"));
        vec![crate::paths::parent_display(&spec_dir)]
    } else if is_spec || (is_bundle && no_config) {
        vec![args.target.clone()]
    } else {
        Vec::new()
    };
    let opts = CheckOptions {
        paths,
        specs: Vec::new(),
        config: args.config.clone(),
        policies: Vec::new(),
        cwd,
        ..CheckOptions::default()
    };
    let human = HumanOptions {
        color: std::io::stderr().is_terminal() && use_color(),
        width: 100,
    };
    let outcome = match run_pipeline(&opts, |diags| {
        eprint!("{}", report::human::render(diags, human))
    }) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let target = args.target.trim_start_matches("./");
    let same_file = |shown: &str| {
        shown == target
            || shown.ends_with(&format!("/{target}"))
            || (!shown.is_empty()
                && std::fs::canonicalize(opts.cwd.join(shown)).ok()
                    == std::fs::canonicalize(opts.cwd.join(target)).ok())
    };
    let bundle_prefix = format!("{}/", target.trim_end_matches('/'));
    let of_target = |r: &&crate::unit::Rendered| {
        if is_spec {
            same_file(&r.spec)
        } else if is_bundle {
            // A bundle folder: its units, rendered from the specs beside it, or with
            // synthesized inputs when no spec uses it.
            r.template.starts_with(&bundle_prefix)
        } else {
            r.name == target && r.kind == UnitKind::Environment
                || r.service.as_deref() == Some(target)
        }
    };
    let candidates: Vec<&crate::unit::Rendered> =
        outcome.rendered.iter().filter(of_target).collect();
    let chosen: Vec<&&crate::unit::Rendered> = candidates
        .iter()
        .filter(|r| match (&args.instance, args.pipeline) {
            (Some(i), _) => r.kind == UnitKind::ServiceInstance && &r.name == i,
            (None, true) => r.kind == UnitKind::Pipeline,
            (None, false) => r.kind != UnitKind::Pipeline,
        })
        .filter(|r| {
            match args
                .template
                .as_deref()
                .map(|t| t.split_once(':').unwrap_or((t, "")))
            {
                None => true,
                Some((name, "")) => r.template_name == name,
                Some((name, major)) => {
                    r.template_name == name && r.template_version.split('.').next() == Some(major)
                }
            }
        })
        .collect();
    match chosen.as_slice() {
        [one] => {
            if args.context {
                let mut text = serde_json::to_string_pretty(&one.context).unwrap_or_default();
                text.push('\n');
                print(&text);
            } else {
                print(&one.text);
            }
            // Like `helm template`, the render is printed whenever rendering succeeded; the
            // findings on it (CloudFormation, policies) go to standard error and set the
            // exit code.
            let findings: Vec<crate::diag::Diagnostic> = outcome
                .diagnostics
                .into_iter()
                .filter(|d| d.severity != Severity::Info)
                .filter(|d| {
                    d.primary.as_ref().is_some_and(|p| {
                        let file = p.at.source.name();
                        file == one.template
                            || (!one.spec.is_empty() && file == one.spec)
                            || file.starts_with(&format!("{} [rendered", one.template))
                    })
                })
                .collect();
            if !findings.is_empty() {
                eprint!("{}", report::human::render(&findings, human));
            }
            if findings.iter().any(|d| d.severity == Severity::Error) {
                ExitCode::from(EXIT_FINDINGS)
            } else {
                ExitCode::from(EXIT_OK)
            }
        }
        [] => {
            let errors: Vec<crate::diag::Diagnostic> = outcome
                .diagnostics
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .collect();
            if !errors.is_empty() {
                eprint!("{}", report::human::render(&errors, human));
                eprintln!(
                    "proctor: `{}` did not render; the errors above say why",
                    args.target
                );
                return ExitCode::from(EXIT_FINDINGS);
            }
            eprintln!(
                "proctor: no deployment named `{}` renders here (an environment or service in proctor.toml, or a spec file)",
                args.target
            );
            ExitCode::from(EXIT_CANNOT_RUN)
        }
        many if many
            .iter()
            .any(|r| r.template_name != many[0].template_name) =>
        {
            let mut templates: Vec<String> = many
                .iter()
                .map(|r| {
                    format!(
                        "{}:{}",
                        r.template_name,
                        r.template_version.split('.').next().unwrap_or("")
                    )
                })
                .collect();
            templates.dedup();
            eprintln!(
                "proctor: `{}` fits several templates ({}); choose one with --template",
                args.target,
                templates.join(", ")
            );
            ExitCode::from(EXIT_CANNOT_RUN)
        }
        many => {
            let names: Vec<&str> = many.iter().map(|r| r.name.as_str()).collect();
            eprintln!(
                "proctor: `{}` has several instances ({}); choose one with --instance, or --pipeline",
                args.target,
                names.join(", ")
            );
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

/// Runs the check pipeline. When proctor cannot run, says why (an unusable proctor.toml's
/// diagnostics through `show`) and returns the exit code.
fn run_pipeline(
    opts: &CheckOptions,
    show: impl FnOnce(&[crate::diag::Diagnostic]),
) -> Result<check::Outcome, ExitCode> {
    match check::run(opts) {
        Ok(o) => Ok(o),
        Err(Fatal::Usage(msg)) => {
            eprintln!("proctor: {msg}");
            Err(ExitCode::from(EXIT_CANNOT_RUN))
        }
        Err(Fatal::Config(diags)) => {
            show(&diags);
            eprintln!("proctor: cannot use the configuration; fix it and run again");
            Err(ExitCode::from(EXIT_CANNOT_RUN))
        }
    }
}

/// Exit codes of `proctor policy test`: 0 all expectations hold, 1 some do not, 2 a file could
/// not be read or parsed (or bad arguments).
fn run_policy_test(paths: Vec<String>, outputs: Vec<Output>) -> ExitCode {
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
fn base_section(
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
fn run_diff(old: &str, new: &str, format: Format) -> ExitCode {
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
fn run_docs(bundle: String, output: Option<String>, check: bool) -> ExitCode {
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

fn explain(id: &str) -> ExitCode {
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

/// Colour for standard output, as `--color` says (auto: a terminal, and no NO_COLOR).
fn use_color() -> bool {
    match COLOR.get().copied().unwrap_or(ColorChoice::Auto) {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Prints to stdout; a closed pipe (`proctor check | head`) is not an error.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
