//! The workspace configuration, `proctor.toml`: where templates live, the deployments (the
//! facts Proton took as API arguments), and limits. Mistakes are diagnostics with locations.

use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use toml::Spanned;

use crate::diag::filter::CodeFilter;
use crate::diag::{Diagnostic, codes};
use crate::limits::Limits;
pub use crate::policy::waiver::{Date, Waiver};
use crate::source::{At, Source};
use pieces::read_in_pieces;

mod pieces;

pub const FILE_NAME: &str = "proctor.toml";
/// How large proctor.toml may be. Far above the limit on other files (`limits.max_file_bytes`,
/// which proctor.toml itself sets): a platform team's file lists every deployment, 150 bytes
/// or so each, and 100,000 deployments are 15 MB.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    workspace: RawWorkspace,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    policies: RawPolicies,
    #[serde(default)]
    check: RawCheck,
    #[serde(default)]
    environment: Vec<RawEnvironment>,
    #[serde(default)]
    service: Vec<RawService>,
    #[serde(default)]
    waiver: Vec<RawWaiver>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    rule: Spanned<String>,
    deployment: Spanned<String>,
    resource: Option<Spanned<String>>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    expires: Spanned<toml::value::Datetime>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    templates: Option<Vec<Spanned<String>>>,
    policies: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicies {
    /// Run proctor's built-in policy pack.
    builtin: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_file_bytes: Option<u64>,
    max_yaml_depth: Option<usize>,
    max_alias_nodes: Option<usize>,
    template_fuel: Option<u64>,
    template_recursion: Option<usize>,
    max_rendered_bytes: Option<usize>,
    regex_backtrack_limit: Option<usize>,
    policy_steps: Option<u64>,
    max_files: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    name: Spanned<String>,
    template: Spanned<String>,
    spec: Spanned<String>,
    account_id: Option<Spanned<String>>,
    /// The existing stack this environment deploys to (an adopted Proton stack).
    stack: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: Spanned<String>,
    template: Spanned<String>,
    spec: Spanned<String>,
    branch: Option<String>,
    repository_id: Option<String>,
    repository_connection_arn: Option<String>,
    /// Instance name → the existing stack it deploys to.
    stacks: Option<std::collections::BTreeMap<String, Spanned<String>>>,
    /// The existing stack the service's pipeline deploys to.
    pipeline_stack: Option<Spanned<String>>,
}

/// Which bundle a deployment uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateRef {
    /// `name:major` or `name:major.minor` (the minor is recorded, not resolved: versions
    /// below the major live in git history, not in the tree).
    Version {
        name: String,
        major: u32,
        minor: Option<u32>,
    },
    /// A folder, relative to proctor.toml.
    Path(PathBuf),
}

#[derive(Clone, Debug)]
pub struct EnvironmentDeployment {
    pub name: At<String>,
    pub template: At<TemplateRef>,
    pub spec: At<PathBuf>,
    pub account_id: Option<String>,
    /// `stack = "..."`: the existing stack this environment deploys to, instead of the
    /// stack proctor would name (`proctor adopt` writes it for Proton's stacks).
    pub stack: Option<At<String>>,
}

#[derive(Clone, Debug)]
pub struct ServiceDeployment {
    pub name: At<String>,
    pub template: At<TemplateRef>,
    pub spec: At<PathBuf>,
    pub branch: Option<String>,
    pub repository_id: Option<String>,
    pub repository_connection_arn: Option<String>,
    /// `stacks = { INSTANCE = "..." }`: the existing stack of each bound instance.
    pub stacks: Vec<(String, At<String>)>,
    /// `pipeline_stack = "..."`: the existing stack of the service's pipeline.
    pub pipeline_stack: Option<At<String>>,
}

#[derive(Debug)]
pub struct Config {
    pub source: Source,
    /// The folder holding proctor.toml: the workspace root.
    pub root: PathBuf,
    pub templates: Vec<At<PathBuf>>,
    pub policies: Vec<At<PathBuf>>,
    /// `[policies] builtin = true`: run the built-in pack.
    pub builtin_policies: bool,
    /// `[check] select` and `ignore`.
    pub filter: crate::diag::filter::CodeFilter,
    pub limits: Limits,
    pub environments: Vec<EnvironmentDeployment>,
    pub services: Vec<ServiceDeployment>,
    pub waivers: Vec<Waiver>,
    /// `environments` and `services` by name (the first of each name), made on first use:
    /// every unit looks its deployment up, and a scan per unit is quadratic on large
    /// workspaces.
    names: std::sync::OnceLock<Names>,
}

/// Positions in `Config::environments` and `Config::services`, by name: the first of each
/// name, found by its hash (looked up for every unit; the names are not copied). Seeded
/// per run, as a hash map is: names chosen to collide cannot slow a run down.
#[derive(Default)]
struct Names {
    environments: hashbrown::HashTable<usize>,
    services: hashbrown::HashTable<usize>,
    hasher: foldhash::fast::RandomState,
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (e, s) = (self.environments.len(), self.services.len());
        write!(f, "Names({e} environments, {s} services)")
    }
}

impl Names {
    /// The hash a name is found by.
    fn hash(&self, name: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(name)
    }

    /// `names` (the deployments' names, in order) indexed: the first of each.
    fn index<'n>(&self, names: impl Iterator<Item = &'n str>) -> hashbrown::HashTable<usize> {
        let names: Vec<&str> = names.collect();
        let mut table = hashbrown::HashTable::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let hash = self.hash(name);
            if table.find(hash, |&j| names[j] == *name).is_none() {
                table.insert_unique(hash, i, |&j| self.hash(names[j]));
            }
        }
        table
    }

    /// The position `table` has for `name`, whose deployments' names are `name_of`.
    fn position<'n>(
        &self,
        table: &hashbrown::HashTable<usize>,
        name: &str,
        name_of: impl Fn(usize) -> &'n str,
    ) -> Option<usize> {
        table
            .find(self.hash(name), |&i| name_of(i) == name)
            .copied()
    }
}

/// proctor.toml in `start` or the nearest folder above it.
pub fn find(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        // Anything named proctor.toml is the workspace's file (a folder, pipe or dangling
        // link is then F001 when read), never skipped in favour of one further up.
        if candidate.symlink_metadata().is_ok() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

/// Parses proctor.toml. `None` means the file cannot be used at all (TOML syntax or shape);
/// a `Config` may still come with diagnostics about its values.
pub fn parse(source: &Source, root: &Path, diags: &mut Vec<Diagnostic>) -> Option<Config> {
    let raw = read_toml(source, diags)?;
    let paths = |v: Option<Vec<Spanned<String>>>| -> Vec<At<PathBuf>> {
        v.unwrap_or_default().into_iter().map(path_at).collect()
    };
    let mut cfg = Config {
        source: source.clone(),
        root: root.to_path_buf(),
        templates: paths(raw.workspace.templates),
        policies: paths(raw.workspace.policies),
        builtin_policies: raw.policies.builtin.unwrap_or(false),
        filter: code_filter(raw.check, source, diags),
        limits: limits(&raw.limits),
        environments: Vec::new(),
        services: Vec::new(),
        waivers: waivers(raw.waiver, source, diags),
        names: std::sync::OnceLock::new(),
    };
    check_folders(&cfg, diags);
    cfg.environments = environments(raw.environment, source, diags);
    cfg.services = services(raw.service, source, diags);
    check_stacks(&cfg, diags);
    Some(cfg)
}

impl Config {
    fn names(&self) -> &Names {
        self.names.get_or_init(|| {
            let mut names = Names::default();
            let environments = self.environments.iter().map(|e| e.name.value.as_str());
            names.environments = names.index(environments);
            let services = self.services.iter().map(|s| s.name.value.as_str());
            names.services = names.index(services);
            names
        })
    }

    /// The first `[[environment]]` named `name`.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentDeployment> {
        let (names, of) = (self.names(), |i: usize| {
            self.environments[i].name.value.as_str()
        });
        self.environments
            .get(names.position(&names.environments, name, of)?)
    }

    /// The first `[[service]]` named `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceDeployment> {
        let (names, of) = (self.names(), |i: usize| {
            self.services[i].name.value.as_str()
        });
        self.services
            .get(names.position(&names.services, name, of)?)
    }

    /// The existing stack a deployment unit is bound to, if proctor.toml binds it: by kind
    /// (`environment`, `service_instance`, `pipeline`), name and service.
    pub fn bound_stack(&self, kind: &str, name: &str, service: Option<&str>) -> Option<&str> {
        let stack = match kind {
            "environment" => self.environment(name)?.stack.as_ref(),
            "service_instance" => self
                .service(service?)?
                .stacks
                .iter()
                .find(|(instance, _)| instance == name)
                .map(|(_, stack)| stack),
            "pipeline" => self.service(name)?.pipeline_stack.as_ref(),
            _ => None,
        };
        stack.map(|s| s.value.as_str())
    }

    /// Every stack binding: (the deployment it binds, as a user would name it; the stack).
    pub fn stack_bindings(&self) -> Vec<(String, &At<String>)> {
        let mut out = Vec::new();
        for e in &self.environments {
            if let Some(s) = &e.stack {
                out.push((format!("environment `{}`", e.name.value), s));
            }
        }
        for svc in &self.services {
            for (instance, s) in &svc.stacks {
                out.push((
                    format!("instance `{instance}` of service `{}`", svc.name.value),
                    s,
                ));
            }
            if let Some(s) = &svc.pipeline_stack {
                out.push((format!("the pipeline of service `{}`", svc.name.value), s));
            }
        }
        out
    }
}

/// W001: a bound stack name CloudFormation would refuse, or one stack bound twice.
fn check_stacks(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&str, String, Range<usize>)> = Vec::new();
    for (what, stack) in cfg.stack_bindings() {
        if !crate::state::valid_stack_name(&stack.value) {
            diags.push(
                Diagnostic::new(
                    codes::W001,
                    format!("`{}` is not a CloudFormation stack name", stack.value),
                )
                .at(&cfg.source, stack.span.clone())
                .help("a stack name starts with a letter and has only letters, digits and `-`, at most 128 characters; `proctor adopt` writes the names of Proton's stacks"),
            );
            continue;
        }
        match seen.iter().find(|(s, _, _)| *s == stack.value) {
            Some((_, first, at)) => diags.push(
                Diagnostic::new(
                    codes::W001,
                    format!("stack `{}` is bound to {first} and to {what}", stack.value),
                )
                .at(&cfg.source, stack.span.clone())
                .primary_message("bound again here")
                .label(&cfg.source, at.clone(), "first bound here")
                .help("a stack holds one deployment: remove one of the bindings"),
            ),
            None => seen.push((&stack.value, what, stack.span.clone())),
        }
    }
}

/// proctor.toml's tables as written; W001 when it is not TOML or not of the right shape.
fn read_toml(source: &Source, diags: &mut Vec<Diagnostic>) -> Option<RawConfig> {
    if let Some(raw) = read_in_pieces(source.text()) {
        return Some(raw);
    }
    match toml::from_str(source.text()) {
        Ok(r) => Some(r),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            let help = if message.contains("unknown field") {
                "proctor.toml has `[workspace]`, `[limits]`, `[policies]`, `[check]`, `[[environment]]`, `[[service]]` and `[[waiver]]` tables; the README lists their keys"
            } else if message.contains("missing field") {
                "add the missing key; each `[[environment]]` and `[[service]]` needs `name`, `template` and `spec`; each `[[waiver]]` needs `rule`, `deployment`, `reason`, `owner` and `expires`"
            } else {
                "correct the TOML at the location shown"
            };
            diags.push(
                Diagnostic::new(codes::W001, format!("invalid proctor.toml: {message}"))
                    .at(source, span)
                    .help(help),
            );
            None
        }
    }
}

/// `[limits]`, each missing key at its default, the depths clamped to what proctor can run.
fn limits(raw: &RawLimits) -> Limits {
    let defaults = Limits::default();
    Limits {
        max_file_bytes: raw.max_file_bytes.unwrap_or(defaults.max_file_bytes),
        max_yaml_depth: raw
            .max_yaml_depth
            .unwrap_or(defaults.max_yaml_depth)
            .clamp(1, 10_000),
        max_alias_nodes: raw.max_alias_nodes.unwrap_or(defaults.max_alias_nodes),
        template_fuel: raw.template_fuel.unwrap_or(defaults.template_fuel),
        template_recursion: raw
            .template_recursion
            .unwrap_or(defaults.template_recursion)
            .clamp(1, 1_000),
        max_rendered_bytes: raw
            .max_rendered_bytes
            .unwrap_or(defaults.max_rendered_bytes),
        regex_backtrack_limit: raw
            .regex_backtrack_limit
            .unwrap_or(defaults.regex_backtrack_limit),
        policy_steps: raw.policy_steps.unwrap_or(defaults.policy_steps),
        max_files: raw.max_files.unwrap_or(defaults.max_files),
    }
}

/// `[check] select` and `ignore`; W001 for an entry that names no code.
fn code_filter(check: RawCheck, source: &Source, diags: &mut Vec<Diagnostic>) -> CodeFilter {
    let mut filter = CodeFilter::default();
    for (key, entries) in [("select", check.select), ("ignore", check.ignore)] {
        let mut kept = Vec::new();
        for e in entries.unwrap_or_default() {
            match crate::diag::filter::check_entry(e.get_ref()) {
                None => kept.push(e.into_inner()),
                Some(why) => diags.push(
                    Diagnostic::new(codes::W001, format!("`[check] {key}`: {why}"))
                        .at(source, e.span())
                        .help("name codes (`I003`) or prefixes of codes (`I`, `C0`); `proctor explain CODE` shows one"),
                ),
            }
        }
        match key {
            "select" => filter.select = kept,
            _ => filter.ignore = kept,
        }
    }
    filter
}

/// `[[waiver]]` tables; W001 for an empty field or an expiry that is not a date (that waiver
/// is left out).
fn waivers(raw: Vec<RawWaiver>, source: &Source, diags: &mut Vec<Diagnostic>) -> Vec<Waiver> {
    let mut out = Vec::new();
    for w in raw {
        let mut ok = true;
        for (key, v) in [
            ("rule", &w.rule),
            ("deployment", &w.deployment),
            ("reason", &w.reason),
            ("owner", &w.owner),
        ] {
            if v.get_ref().trim().is_empty() {
                ok = false;
                diags.push(
                    Diagnostic::new(codes::W001, format!("a waiver's `{key}` is empty"))
                        .at(source, v.span())
                        .help("a waiver names the rule, the deployment, why the finding is accepted, who owns that decision, and until when"),
                );
            }
        }
        let expires = w.expires.get_ref();
        let date = match (expires.date, expires.time) {
            (Some(d), None) if expires.offset.is_none() => Some(Date {
                year: d.year,
                month: d.month,
                day: d.day,
            }),
            _ => None,
        };
        let Some(date) = date else {
            diags.push(
                Diagnostic::new(codes::W001, format!("`expires = {expires}` is not a date"))
                    .at(source, w.expires.span())
                    .help("write the waiver's last day as a TOML date, without quotes: `expires = 2027-03-31`"),
            );
            continue;
        };
        if ok {
            out.push(Waiver {
                rule: at(w.rule),
                deployment: at(w.deployment),
                resource: w.resource.map(at),
                reason: w.reason.into_inner(),
                owner: w.owner.into_inner(),
                expires: At {
                    value: date,
                    span: w.expires.span(),
                },
            });
        }
    }
    out
}

/// W005: `[workspace]` folders that do not exist.
fn check_folders(cfg: &Config, diags: &mut Vec<Diagnostic>) {
    let (source, root) = (&cfg.source, &cfg.root);
    for (key, folders) in [("templates", &cfg.templates), ("policies", &cfg.policies)] {
        for f in folders.iter().filter(|f| !root.join(&f.value).is_dir()) {
            diags.push(
                Diagnostic::new(
                    codes::W005,
                    format!(
                        "`{}` in `[workspace] {key}` is not a folder",
                        f.value.display()
                    ),
                )
                .at(source, f.span.clone())
                .primary_message("no such folder under the workspace root")
                .help(format!(
                    "create the folder, or correct the path (it is relative to {})",
                    source.name()
                )),
            );
        }
    }
}

/// `[[environment]]` tables; one whose template reference cannot be read is left out.
fn environments(
    raw: Vec<RawEnvironment>,
    source: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Vec<EnvironmentDeployment> {
    let mut names: std::collections::HashMap<String, Range<usize>> = Default::default();
    let mut out = Vec::new();
    for e in raw {
        let name = at(e.name);
        check_deployment_name(source, &name, "environment", &mut names, diags);
        if let Some(a) = &e.account_id
            && !(a.get_ref().len() == 12 && a.get_ref().bytes().all(|b| b.is_ascii_digit()))
        {
            diags.push(
                Diagnostic::new(codes::W001, format!("`account_id = \"{}\"` is not a 12-digit AWS account id", a.get_ref()))
                    .at(source, a.span())
                    .help("write the account id as a string of 12 digits, e.g. `account_id = \"111122223333\"`"),
            );
        }
        let Some(template) = template_ref(source, at(e.template), diags) else {
            continue;
        };
        out.push(EnvironmentDeployment {
            name,
            template,
            spec: path_at(e.spec),
            account_id: e.account_id.map(Spanned::into_inner),
            stack: e.stack.map(at),
        });
    }
    out
}

/// `[[service]]` tables; one whose template reference cannot be read is left out.
fn services(
    raw: Vec<RawService>,
    source: &Source,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ServiceDeployment> {
    // Each table is read in parallel (10,000 of them took a warm check 10 ms on one core),
    // then the names are compared and the findings reported in the file's order.
    let read: Vec<_> = raw
        .into_par_iter()
        .map(|s| {
            let name = at(s.name);
            let bad_name = bad_deployment_name(source, &name, "service");
            let mut found = Vec::new();
            // The name stays with the table when its template reference cannot be read.
            let read = match template_ref(source, at(s.template), &mut found) {
                Some(template) => Ok(ServiceDeployment {
                    name,
                    template,
                    spec: path_at(s.spec),
                    branch: s.branch,
                    repository_id: s.repository_id,
                    repository_connection_arn: s.repository_connection_arn,
                    stacks: (s.stacks.unwrap_or_default().into_iter())
                        .map(|(instance, stack)| (instance, at(stack)))
                        .collect(),
                    pipeline_stack: s.pipeline_stack.map(at),
                }),
                None => Err(name),
            };
            (bad_name, found, read)
        })
        .collect();
    // The first place of each name, borrowed from the tables read (copying 10,000 names
    // into a map was most of this loop).
    let mut first: foldhash::HashMap<&str, Range<usize>> = foldhash::HashMap::default();
    first.reserve(read.len());
    let again: Vec<Option<Diagnostic>> = (read.iter())
        .map(|(_, _, read)| {
            let name = match read {
                Ok(service) => &service.name,
                Err(name) => name,
            };
            match first.get(name.value.as_str()) {
                Some(at) => Some(named_twice(source, name, "service", at.clone())),
                None => {
                    first.insert(&name.value, name.span.clone());
                    None
                }
            }
        })
        .collect();
    drop(first);
    let mut out = Vec::with_capacity(read.len());
    for ((bad_name, found, read), again) in read.into_iter().zip(again) {
        diags.extend(bad_name);
        diags.extend(again);
        diags.extend(found);
        out.extend(read.ok());
    }
    out
}

fn path_at(s: Spanned<String>) -> At<PathBuf> {
    let a = at(s);
    At {
        value: PathBuf::from(a.value),
        span: a.span,
    }
}

fn check_deployment_name(
    source: &Source,
    name: &At<String>,
    what: &str,
    seen: &mut std::collections::HashMap<String, Range<usize>>,
    diags: &mut Vec<Diagnostic>,
) {
    diags.extend(bad_deployment_name(source, name, what));
    diags.extend(named_again(source, name, what, seen));
}

/// B008 and the like: a deployment name Proton would refuse.
fn bad_deployment_name(source: &Source, name: &At<String>, what: &str) -> Option<Diagnostic> {
    let what = match what {
        "service" => "service name",
        "environment" => "environment name",
        _ => "deployment name",
    };
    crate::bundle::check_name(&name.value, what, source, name.span.clone())
}

/// W003: a name `seen` already has (which keeps the first place of each).
fn named_again(
    source: &Source,
    name: &At<String>,
    what: &str,
    seen: &mut std::collections::HashMap<String, Range<usize>>,
) -> Option<Diagnostic> {
    if let Some(first) = seen.get(&name.value) {
        return Some(named_twice(source, name, what, first.clone()));
    }
    seen.insert(name.value.clone(), name.span.clone());
    None
}

/// W003: `name` was first declared at `first`.
fn named_twice(source: &Source, name: &At<String>, what: &str, first: Range<usize>) -> Diagnostic {
    Diagnostic::new(
        codes::W003,
        format!("two {what}s are named `{}`", name.value),
    )
    .at(source, name.span.clone())
    .primary_message("declared again here")
    .label(source, first, "first declared here")
    .help(format!(
        "{what} names identify deployments: rename one of them"
    ))
}

fn template_ref(
    source: &Source,
    t: At<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<At<TemplateRef>> {
    let text = t.value.trim();
    let looks_like_path = text.contains('/') || text.starts_with('.');
    if looks_like_path {
        return Some(At {
            value: TemplateRef::Path(PathBuf::from(text)),
            span: t.span,
        });
    }
    let parsed = text.split_once(':').and_then(|(name, version)| {
        let (major, minor) = match version.split_once('.') {
            Some((ma, mi)) => (ma.parse::<u32>().ok()?, Some(mi.parse::<u32>().ok()?)),
            None => (version.parse::<u32>().ok()?, None),
        };
        (!name.is_empty()).then(|| TemplateRef::Version {
            name: name.to_string(),
            major,
            minor,
        })
    });
    match parsed {
        Some(r) => Some(At {
            value: r,
            span: t.span,
        }),
        None => {
            diags.push(
                Diagnostic::new(codes::W004, format!("`{text}` is not a template reference"))
                    .at(source, t.span)
                    .help(format!("write `{}:1` (name and major version), `{}:1.2`, or a path to the bundle folder", text.split(':').next().unwrap_or(text), text.split(':').next().unwrap_or(text))),
            );
            None
        }
    }
}

impl std::fmt::Display for TemplateRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TemplateRef::Version {
                name,
                major,
                minor: Some(m),
            } => write!(f, "{name}:{major}.{m}"),
            TemplateRef::Version {
                name,
                major,
                minor: None,
            } => write!(f, "{name}:{major}"),
            TemplateRef::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// A TOML value with where it was written.
fn at<T>(s: Spanned<T>) -> At<T> {
    let span = s.span();
    At::new(s.into_inner(), span)
}

#[cfg(test)]
mod tests;
