//! `proctor render`: print one deployment's rendered CloudFormation (or its context).

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::check::{self, CheckOptions, Fatal};
use crate::diag::Severity;
use crate::report::{self, human::HumanOptions};

use super::*;

pub(super) fn run_render(args: RenderArgs) -> ExitCode {
    let Ok(cwd) = std::env::current_dir() else {
        eprintln!("proctor: cannot read the current folder");
        return ExitCode::from(EXIT_CANNOT_RUN);
    };
    let target = Target::of(&args.target, &cwd);
    let no_config = args.config.is_none() && crate::config::find(&cwd).is_none();
    let opts = CheckOptions {
        paths: target.paths(no_config),
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
    let chosen = choose(&args, &target, &opts.cwd, &outcome.rendered);
    match chosen.as_slice() {
        [one] => print_render(&args, one, outcome.diagnostics, human),
        [] => nothing_rendered(&args, outcome.diagnostics, human),
        many => {
            several(&args, many);
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

/// What `proctor render` was asked for: a spec file, a bundle folder, or a deployment's name.
struct Target<'a> {
    /// As given, without a leading `./`.
    given: &'a str,
    is_spec: bool,
    is_bundle: bool,
}

impl<'a> Target<'a> {
    fn of(given: &'a str, cwd: &std::path::Path) -> Self {
        Target {
            given: given.trim_start_matches("./"),
            is_spec: cwd.join(given).is_file(),
            is_bundle: cwd.join(given).is_dir(),
        }
    }

    /// The paths to check for it.
    fn paths(&self, no_config: bool) -> Vec<String> {
        if self.is_spec && no_config {
            // Without proctor.toml, the folder that holds the spec's folder: a template folder
            // for `<template>/spec/x.yaml`, a project for `<project>/specs/x.yaml`, checked as
            // `check` checks it.
            let spec_dir = crate::paths::parent_display(self.given);
            vec![crate::paths::parent_display(&spec_dir)]
        } else if self.is_spec || (self.is_bundle && no_config) {
            vec![self.given.to_string()]
        } else {
            Vec::new()
        }
    }
}

/// The rendered units that fit the target and the `--instance`, `--pipeline` and
/// `--template` options.
fn choose<'r>(
    args: &RenderArgs,
    target: &Target,
    cwd: &std::path::Path,
    rendered: &'r [crate::unit::Rendered],
) -> Vec<&'r crate::unit::Rendered> {
    use crate::unit::UnitKind;
    let given = target.given;
    let same_file = |shown: &str| {
        shown == given
            || shown.ends_with(&format!("/{given}"))
            || (!shown.is_empty()
                && std::fs::canonicalize(cwd.join(shown)).ok()
                    == std::fs::canonicalize(cwd.join(given)).ok())
    };
    let bundle_prefix = format!("{}/", given.trim_end_matches('/'));
    let of_target = |r: &&crate::unit::Rendered| {
        if target.is_spec {
            same_file(&r.spec)
        } else if target.is_bundle {
            // A bundle folder: its units, rendered from the specs beside it, or with
            // synthesized inputs when no spec uses it.
            r.template.starts_with(&bundle_prefix)
        } else {
            r.name == given && r.kind == UnitKind::Environment
                || r.service.as_deref() == Some(given)
        }
    };
    let template = args
        .template
        .as_deref()
        .map(|t| t.split_once(':').unwrap_or((t, "")));
    rendered
        .iter()
        .filter(of_target)
        .filter(|r| match (&args.instance, args.pipeline) {
            (Some(i), _) => r.kind == UnitKind::ServiceInstance && &r.name == i,
            (None, true) => r.kind == UnitKind::Pipeline,
            (None, false) => r.kind != UnitKind::Pipeline,
        })
        .filter(|r| match template {
            None => true,
            Some((name, "")) => r.template_name == name,
            Some((name, major)) => {
                r.template_name == name && r.template_version.split('.').next() == Some(major)
            }
        })
        .collect()
}

/// Prints the one unit chosen, and the findings on it.
fn print_render(
    args: &RenderArgs,
    one: &crate::unit::Rendered,
    diagnostics: Vec<crate::diag::Diagnostic>,
    human: HumanOptions,
) -> ExitCode {
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
    let findings: Vec<crate::diag::Diagnostic> = diagnostics
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

/// Nothing fits: the errors that stopped it rendering, or no such deployment.
fn nothing_rendered(
    args: &RenderArgs,
    diagnostics: Vec<crate::diag::Diagnostic>,
    human: HumanOptions,
) -> ExitCode {
    let errors: Vec<crate::diag::Diagnostic> = diagnostics
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

/// Several units fit: says which option tells them apart.
fn several(args: &RenderArgs, many: &[&crate::unit::Rendered]) {
    if many
        .iter()
        .any(|r| r.template_name != many[0].template_name)
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
    } else {
        let names: Vec<&str> = many.iter().map(|r| r.name.as_str()).collect();
        eprintln!(
            "proctor: `{}` has several instances ({}); choose one with --instance, or --pipeline",
            args.target,
            names.join(", ")
        );
    }
}

/// Runs the check pipeline. When proctor cannot run, says why (an unusable proctor.toml's
/// diagnostics through `show`) and returns the exit code.
pub(super) fn run_pipeline(
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
