//! `proctor adopt`, against CloudFormation: lists the account's stacks, binds proctor.toml's
//! deployments to the ones AWS Proton deployed (`crate::adopt` decides), writes proctor.toml
//! and the state file, then says for each adopted stack whether today's render matches it.
//!
//! Nothing is written unless every binding is certain; proctor.toml is replaced atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Api, ApiError};
use crate::adopt::{Binding, Deployment, LiveStack, Plan};
use crate::check::{CheckOptions, Fatal};
use crate::files::Buffers;
use crate::state::{self, StackRecord};

pub struct Options {
    /// The folder to look for proctor.toml from.
    pub cwd: PathBuf,
    /// `--config`.
    pub config: Option<String>,
    /// Print what would be written; write nothing.
    pub dry_run: bool,
}

/// Why adopt wrote nothing.
#[derive(Debug)]
pub enum Error {
    /// proctor.toml cannot be read or used.
    Config(String),
    /// Some bindings are not certain; each reason.
    Uncertain(Vec<String>),
    Api(ApiError),
    /// Writing proctor.toml or the state file failed.
    Write(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(e) | Error::Write(e) => f.write_str(e),
            Error::Api(e) => write!(f, "{e}"),
            Error::Uncertain(why) => {
                write!(
                    f,
                    "nothing was written, because not every binding is certain:"
                )?;
                for w in why {
                    write!(f, "\n  - {w}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

/// What adopt did: the bindings it wrote (or would write), and the adopted stacks whose
/// live template differs from today's render.
#[derive(Debug, Default)]
pub struct Adopted {
    pub written: Vec<Binding>,
    pub drifted: Vec<String>,
}

fn config_path(opts: &Options) -> Result<PathBuf, Error> {
    match &opts.config {
        Some(c) => Ok(opts.cwd.join(c)),
        None => crate::config::find(&opts.cwd).ok_or_else(|| {
            Error::Config(
                "no proctor.toml here or above: write one that declares your environments and services first (the README's \"Migrating from AWS Proton\" shows how)".to_string(),
            )
        }),
    }
}

pub fn run(opts: &Options, api: &dyn Api, out: &mut dyn Write) -> Result<Adopted, Error> {
    let path = config_path(opts)?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Config(format!("cannot read `{}`: {e}", path.display())))?;
    let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let source = crate::source::SourceFile::new("proctor.toml", &path, text.clone());
    let mut diags = Vec::new();
    let config = crate::config::parse(&source, &root, &mut diags)
        .filter(|_| {
            diags
                .iter()
                .all(|d| d.severity != crate::diag::Severity::Error)
        })
        .ok_or_else(|| {
            Error::Config("proctor.toml has errors: run `proctor check` and fix them first".into())
        })?;
    let stacks = api.list_stacks()?;
    let plan = crate::adopt::plan(&config, &stacks);
    if !plan.problems.is_empty() {
        return Err(Error::Uncertain(plan.problems));
    }
    report(&plan, out);
    let mut adopted = Adopted {
        written: plan.bindings.clone(),
        ..Adopted::default()
    };
    let mut text = text;
    if !plan.bindings.is_empty() {
        let edited = crate::adopt::edit(&text, &plan.bindings).map_err(Error::Write)?;
        if opts.dry_run {
            let _ = writeln!(out, "dry run: proctor.toml would become:\n{edited}");
            return Ok(adopted);
        }
        write_atomically(&path, &edited)?;
        text = edited;
        let _ = writeln!(
            out,
            "wrote {} binding(s) to {}",
            plan.bindings.len(),
            path.display()
        );
    } else if opts.dry_run {
        return Ok(adopted);
    }
    let bound: Vec<&Binding> = plan.bindings.iter().chain(&plan.already).collect();
    record(&root, &bound, &stacks)?;
    let probe = Probe {
        path: &path,
        text: &text,
        versions: template_versions(&config),
    };
    adopted.drifted = drift(opts, &probe, &bound, api, out)?;
    Ok(adopted)
}

fn report(plan: &Plan, out: &mut dyn Write) {
    for b in &plan.bindings {
        let _ = writeln!(out, "bind {} → stack {}", b.deployment.describe(), b.stack);
    }
    for b in &plan.already {
        let _ = writeln!(
            out,
            "{} is already bound to stack {}",
            b.deployment.describe(),
            b.stack
        );
    }
    for p in &plan.undeclared {
        let _ = writeln!(
            out,
            "not in proctor.toml: stack {} ({}); to adopt it, declare it:\n{}",
            p.stack.name,
            p.deployment.describe(),
            crate::adopt::declaration(p)
        );
    }
    if plan.bindings.is_empty() && plan.already.is_empty() && plan.undeclared.is_empty() {
        let _ = writeln!(out, "no stack here carries AWS Proton's tags");
    }
}

/// Replaces `path` with `text`: a temporary sibling, then a rename.
fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension(format!("toml.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Write(format!("cannot write `{}`: {e}", path.display()))
        })
}

/// Records each adopted stack in the state file, with its live outputs, so that renders use
/// the real values (a service reads its environment's outputs from here).
fn record(root: &Path, bound: &[&Binding], stacks: &[LiveStack]) -> Result<(), Error> {
    let state_file = state::default_path(root);
    for b in bound {
        let Some(live) = stacks.iter().find(|s| s.name == b.stack) else {
            continue;
        };
        let template = crate::adopt::proton_stack(live)
            .ok()
            .flatten()
            .and_then(|p| p.template)
            .unwrap_or_default();
        let (kind, name, service) = b.deployment.unit();
        let rec = StackRecord {
            kind: kind.to_string(),
            name: name.to_string(),
            service: service.map(str::to_string),
            stack_id: live.id.clone(),
            status: live.status.clone(),
            template,
            template_version: String::new(),
            artifact_sha256: String::new(),
            outputs: live.outputs.iter().cloned().collect(),
        };
        state::record(&state_file, &b.stack, rec).map_err(Error::Write)?;
    }
    Ok(())
}

/// Every `(template name, major version)` the workspace's template folders hold.
fn template_versions(config: &crate::config::Config) -> Vec<(String, u32)> {
    let walk = crate::paths::WalkBudget::new(config.limits.max_files);
    let folders: Vec<PathBuf> = if config.templates.is_empty() {
        vec![config.root.clone()]
    } else {
        config
            .templates
            .iter()
            .map(|t| config.root.join(&t.value))
            .collect()
    };
    let mut out = Vec::new();
    for folder in folders {
        for dir in crate::bundle::discover(&folder, "", &walk) {
            let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
            let major = name(&dir.path)
                .and_then(|leaf| leaf.strip_prefix('v').and_then(|m| m.parse::<u32>().ok()));
            match (major, dir.path.parent().and_then(name)) {
                (Some(major), Some(template)) => out.push((template, major)),
                _ => out.extend(name(&dir.path).map(|template| (template, 1))),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The workspace rendered (with `buffers` standing in for files, e.g. a proctor.toml that
/// names another template version).
fn render(opts: &Options, buffers: Buffers) -> Result<crate::check::Outcome, Error> {
    let check = CheckOptions {
        config: opts.config.clone(),
        cwd: opts.cwd.clone(),
        buffers,
        ..CheckOptions::default()
    };
    match crate::check::run(&check) {
        Ok(o) => Ok(o),
        Err(Fatal::Usage(e)) => Err(Error::Config(e)),
        Err(Fatal::Config(_)) => Err(Error::Config("proctor.toml has errors".into())),
    }
}

/// The render of `deployment` in an outcome, if it rendered.
fn rendered_of<'o>(
    outcome: &'o crate::check::Outcome,
    deployment: &Deployment,
) -> Option<&'o crate::unit::Rendered> {
    outcome
        .rendered
        .iter()
        .find(|r| (r.kind.as_str(), r.name.as_str(), r.service.as_deref()) == deployment.unit())
        .filter(|r| !r.text.is_empty())
}

/// The other major versions of the deployment's template whose render matches the live
/// template, if one does: `name:N`.
/// What trying other template versions needs: proctor.toml (its path and current text) and
/// the `(template, major)` pairs the workspace holds.
struct Probe<'a> {
    path: &'a Path,
    text: &'a str,
    versions: Vec<(String, u32)>,
}

fn matching_version(
    opts: &Options,
    probe: &Probe,
    b: &Binding,
    rendered: &crate::unit::Rendered,
    live: &str,
) -> Result<Option<String>, Error> {
    let current = rendered.template_version.split('.').next().unwrap_or("");
    for (name, major) in &probe.versions {
        if *name != rendered.template_name || major.to_string() == current {
            continue;
        }
        let candidate = format!("{name}:{major}");
        let text = crate::adopt::with_template(probe.text, &b.deployment, &candidate)
            .map_err(Error::Config)?;
        let outcome = render(opts, Buffers::new([(probe.path.to_path_buf(), text)]))?;
        if let Some(r) = rendered_of(&outcome, &b.deployment)
            && crate::diff::resources::diff(live, &r.text).is_ok_and(|c| c.is_empty())
        {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// Renders the workspace and compares each adopted deployment's render with its stack's live
/// template, resource by resource; returns the stacks that differ. When the render differs
/// and another major version of the template renders exactly the live stack, says which.
fn drift(
    opts: &Options,
    probe: &Probe,
    bound: &[&Binding],
    api: &dyn Api,
    out: &mut dyn Write,
) -> Result<Vec<String>, Error> {
    let outcome = render(opts, Buffers::default())?;
    let mut drifted = Vec::new();
    for b in bound {
        let Some(rendered) = rendered_of(&outcome, &b.deployment) else {
            let _ = writeln!(
                out,
                "{}: not rendered (see `proctor check`), so not compared with stack {}",
                b.deployment.describe(),
                b.stack
            );
            continue;
        };
        let live = api.get_template(&b.stack)?;
        match crate::diff::resources::diff(&live, &rendered.text) {
            Ok(changes) if changes.is_empty() => {
                let _ = writeln!(
                    out,
                    "{}: in sync with stack {}",
                    b.deployment.describe(),
                    b.stack
                );
            }
            Ok(changes) => {
                drifted.push(b.stack.clone());
                let _ = writeln!(
                    out,
                    "{}: the first apply will change stack {} (template {}:{}):\n{}",
                    b.deployment.describe(),
                    b.stack,
                    rendered.template_name,
                    rendered.template_version,
                    crate::diff::resources::render(&changes)
                );
                if let Some(version) = matching_version(opts, probe, b, rendered, &live)? {
                    let _ = writeln!(
                        out,
                        "  the live stack matches the render of `{version}`: set `template = \"{version}\"` for it to deploy what runs today, then upgrade on purpose"
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "{}: cannot compare with stack {}: {e}",
                    b.deployment.describe(),
                    b.stack
                );
            }
        }
    }
    Ok(drifted)
}
