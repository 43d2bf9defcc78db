//! The command line: parse arguments, run a stage, print through a reporter, pick the exit
//! code. The only module that knows about output formats and the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::check;
use crate::diag::Summary;
use crate::report::{self, human::HumanOptions};

mod apply;
mod checking;
mod graph;
mod render;
mod tools;

use apply::{run_adopt, run_apply};
use checking::{human_report, run_build, run_check};
use graph::{GraphArgs, run_graph};
use render::run_render;
use tools::{explain, run_diff, run_docs, run_policy_test};

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
    /// Draw the workspace's deployments and the outputs they read from one another, or one
    /// deployment's resources and references (Mermaid or DOT).
    Graph(GraphArgs),
    /// Deploy a build through CloudFormation change sets (verifies the build first).
    Apply(ApplyArgs),
    /// Bind proctor.toml's deployments to the stacks AWS Proton deployed (by their tags).
    Adopt(AdoptArgs),
    /// Work with policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Work with the cache of deployments' results that `proctor check` keeps.
    #[command(subcommand)]
    Cache(CacheCommand),
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
    /// Run the language server (LSP, over standard input and output) for editors.
    Lsp {
        /// Accepted for editors' LSP clients that pass it; stdio is the only transport.
        #[arg(long, hide = true)]
        stdio: bool,
    },
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
    /// Keep each deployment's result in DIR, and reuse those whose inputs did not change
    /// (default: PROCTOR_CACHE_DIR, else `.proctor/cache` under the workspace root).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<String>,
    /// Check every deployment afresh, without reading or writing the cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
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

#[derive(clap::Args, Debug)]
struct AdoptArgs {
    /// proctor.toml (default: the nearest one in this folder or above).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Print the bindings and the proctor.toml it would write; write nothing.
    #[arg(long)]
    dry_run: bool,
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

#[derive(clap::Subcommand, Debug)]
enum CacheCommand {
    /// Remove every entry of the cache.
    Clean {
        /// The cache folder (default: PROCTOR_CACHE_DIR, else `.proctor/cache` under the
        /// workspace root).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<String>,
        /// proctor.toml to use (default: found by walking up from the current folder).
        #[arg(long, value_name = "FILE")]
        config: Option<String>,
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
    /// One self-contained HTML page: findings with their snippets, the deployment graph.
    Html,
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
        Format::Html => {
            let graph = crate::graph::workspace(outcome);
            report::html::render(outcome, Some(&graph))
        }
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
        Command::Adopt(args) => run_adopt(args),
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
                        .find(|o| matches!(o.format, Format::Sarif | Format::Github | Format::Html))
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
        Command::Cache(CacheCommand::Clean { cache_dir, config }) => {
            tools::run_cache_clean(cache_dir, config)
        }
        Command::Explain { code } => explain(&code),
        Command::Graph(args) => run_graph(args),
        Command::Lsp { stdio: _ } => match proctor_lsp::serve_stdio() {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(e) => {
                eprintln!("proctor lsp: {e}");
                ExitCode::from(EXIT_FINDINGS)
            }
        },
    }
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
