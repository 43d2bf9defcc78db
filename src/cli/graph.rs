//! `proctor graph`: the workspace's deployments and the outputs they read from one another,
//! or one deployment's resources and references, as Mermaid or DOT.

use std::process::ExitCode;

use crate::check::CheckOptions;
use crate::report::{self, human::HumanOptions};
use crate::unit::{Rendered, UnitKind};

use super::render::run_pipeline;
use super::*;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(super) enum GraphFormat {
    /// Mermaid: renders in GitHub Markdown, issues and pull-request comments.
    Mermaid,
    /// DOT, for Graphviz (`proctor graph --format dot | dot -Tsvg > graph.svg`).
    Dot,
}

#[derive(clap::Args, Debug)]
pub(super) struct GraphArgs {
    /// A deployment whose resources to draw: an environment, a service instance, or
    /// SERVICE/pipeline (default: every deployment of the workspace).
    deployment: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<String>,
    /// proctor.toml to use (default: found by walking up from the current folder).
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
}

/// The rendered units a name means: an environment's or an instance's name, or
/// `SERVICE/pipeline`.
fn named<'a>(rendered: &'a [Rendered], name: &str) -> Vec<&'a Rendered> {
    rendered
        .iter()
        .filter(|r| match r.kind {
            UnitKind::Pipeline => {
                r.service
                    .as_deref()
                    .map(|s| format!("{s}/pipeline"))
                    .as_deref()
                    == Some(name)
            }
            _ => r.name == name,
        })
        .collect()
}

fn names(rendered: &[Rendered]) -> String {
    let mut all: Vec<String> = rendered
        .iter()
        .map(|r| match r.kind {
            UnitKind::Pipeline => format!("{}/pipeline", r.service.as_deref().unwrap_or_default()),
            _ => r.name.clone(),
        })
        .collect();
    all.sort();
    all.dedup();
    all.join(", ")
}

pub(super) fn run_graph(args: GraphArgs) -> ExitCode {
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("proctor: cannot read the current folder");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let opts = CheckOptions {
        config: args.config.clone(),
        cwd,
        ..CheckOptions::default()
    };
    let human = HumanOptions {
        color: false,
        width: 100,
    };
    let outcome = match run_pipeline(&opts, |d| eprint!("{}", report::human::render(d, human))) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let graph = match &args.deployment {
        None => crate::graph::workspace(&outcome),
        Some(name) => match named(&outcome.rendered, name).as_slice() {
            [one] => crate::graph::deployment(one),
            [] => {
                eprintln!(
                    "proctor: no rendered deployment is named `{name}`; the deployments that render are: {}",
                    names(&outcome.rendered)
                );
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
            _ => {
                eprintln!(
                    "proctor: `{name}` names several deployments; name one instance (NAME) or a pipeline (SERVICE/pipeline)"
                );
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
        },
    };
    let text = match args.format {
        GraphFormat::Mermaid => report::graph::mermaid(&graph),
        GraphFormat::Dot => report::graph::dot(&graph),
    };
    for note in &graph.notes {
        eprintln!("proctor graph: {note}");
    }
    match &args.output {
        None => {
            print(&text);
            ExitCode::from(EXIT_OK)
        }
        Some(file) => match crate::state::write_atomic(std::path::Path::new(file), text.as_bytes())
        {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(e) => {
                eprintln!("proctor: {e}");
                ExitCode::from(EXIT_CANNOT_RUN)
            }
        },
    }
}
