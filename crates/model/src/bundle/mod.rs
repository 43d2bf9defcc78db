//! Template bundles: find them on disk, read their manifests, schema and registration, and
//! lint them against the Proton format (folders, files, limits, names).

pub mod discover;
mod manifest;
mod registration;

use std::ops::Range;
use std::path::{Path, PathBuf};

pub use discover::{BundleDir, discover};
pub use manifest::{Engine, TemplateFile};
pub use registration::EnvTemplateRef;

use crate::diag::{Diagnostic, codes};
use crate::files::{Buffers, read_in};
use crate::limits::Limits;
use crate::schema::{InputSchema, InputType};
use crate::source::{Source, SourceFile};
use crate::yaml;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleKind {
    Environment,
    /// An environment bundle with `schema/` only: infrastructure made outside Proton.
    CustomerManagedEnvironment,
    Service,
    Component,
}

impl BundleKind {
    pub fn describe(self) -> &'static str {
        match self {
            BundleKind::Environment => "environment",
            BundleKind::CustomerManagedEnvironment => "customer-managed environment",
            BundleKind::Service => "service",
            BundleKind::Component => "component",
        }
    }

    pub fn is_environment(self) -> bool {
        matches!(
            self,
            BundleKind::Environment | BundleKind::CustomerManagedEnvironment
        )
    }
}

/// Which stack a manifest's template deploys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Environment,
    ServiceInstance,
    Pipeline,
    Component,
}

impl Role {
    pub fn folder(self) -> &'static str {
        match self {
            Role::Environment => "infrastructure",
            Role::ServiceInstance => "instance_infrastructure",
            Role::Pipeline => "pipeline_infrastructure",
            Role::Component => ".",
        }
    }
}

#[derive(Debug)]
pub struct Infrastructure {
    pub role: Role,
    pub manifest: Source,
    /// The templates the manifest names (one, for CloudFormation).
    pub templates: Vec<TemplateFile>,
}

#[derive(Debug)]
pub struct Bundle {
    pub dir: PathBuf,
    /// The folder as users see it.
    pub display: String,
    pub kind: BundleKind,
    /// `fargate-env` for `fargate-env/v1/`, else the folder's name.
    pub template_name: String,
    /// `1` for `fargate-env/v1/`; `None` for a folder not named `v<major>`.
    pub major: Option<u32>,
    pub schema: Option<InputSchema>,
    pub infrastructure: Vec<Infrastructure>,
    pub compatible_environments: Vec<EnvTemplateRef>,
    /// Files of the bundle that were read, for the summary.
    pub files_read: usize,
}

impl Bundle {
    /// `fargate-env:1`, or the folder when the version is unknown.
    pub fn label(&self) -> String {
        match self.major {
            Some(m) => format!("{}:{m}", self.template_name),
            None => self.display.clone(),
        }
    }

    pub fn has_pipeline(&self) -> bool {
        self.infrastructure.iter().any(|i| i.role == Role::Pipeline)
    }

    fn input_type(
        &self,
        pick: fn(&InputSchema) -> &Option<crate::schema::TypeRef>,
    ) -> Option<&InputType> {
        let schema = self.schema.as_ref()?;
        schema.get_type(pick(schema).as_ref()?)
    }

    pub fn environment_type(&self) -> Option<&InputType> {
        self.input_type(|s| &s.environment_input_type)
    }

    pub fn service_type(&self) -> Option<&InputType> {
        self.input_type(|s| &s.service_input_type)
    }

    pub fn pipeline_type(&self) -> Option<&InputType> {
        self.input_type(|s| &s.pipeline_input_type)
    }
}

/// Proton's limits on bundles.
const BUNDLE_MAX_BYTES: u64 = 5_000_000;
const BUNDLE_MAX_FILES: usize = 10;
const MANIFEST_SCHEMA_MAX_BYTES: u64 = 50_000;
const OTHER_FILE_MAX_BYTES: u64 = 200_000;

/// The rule Proton applies to template, environment, service and instance names.
pub fn check_name(
    name: &str,
    what: &str,
    source: &Source,
    span: Range<usize>,
) -> Option<Diagnostic> {
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let len = name.chars().count();
    if first_ok && rest_ok && (1..=100).contains(&len) {
        return None;
    }
    let why = if name.is_empty() {
        "it is empty".to_string()
    } else if len > 100 {
        format!("it is {len} characters long (at most 100)")
    } else if !first_ok {
        "it must start with a letter or digit".to_string()
    } else {
        let bad: String = name
            .chars()
            .filter(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            .take(1)
            .collect();
        format!("`{bad}` is not allowed")
    };
    Some(
        Diagnostic::new(codes::B008, format!("{what} `{name}` is not a valid Proton name: {why}"))
            .at(source, span)
            .help("use letters, digits, `-` and `_`, starting with a letter or digit, at most 100 characters"),
    )
}

/// Loads and lints one bundle. Never fails: what cannot be read is a diagnostic.
pub fn load(dir: &BundleDir, limits: &Limits, diags: &mut Vec<Diagnostic>) -> Bundle {
    load_in(dir, limits, &Buffers::default(), diags)
}

/// [`load`], reading the files `buffers` holds from there instead of the disk.
pub fn load_in(
    dir: &BundleDir,
    limits: &Limits,
    buffers: &Buffers,
    diags: &mut Vec<Diagnostic>,
) -> Bundle {
    let root = &dir.path;
    let display = dir.display.clone();
    let mut files_read = 0;
    let dir_source = SourceFile::new(display.clone(), root.clone(), String::new());

    let (template_name, major) = template_identity(root);
    if let Some(d) = check_name(&template_name, "template name", &dir_source, 0..0) {
        diags.push(d);
    }

    let exists = |rel: &str| root.join(rel).exists();
    let kind = if exists("instance_infrastructure") || exists("pipeline_infrastructure") {
        BundleKind::Service
    } else if exists("infrastructure") {
        BundleKind::Environment
    } else if exists("schema") {
        BundleKind::CustomerManagedEnvironment
    } else {
        BundleKind::Component
    };

    // Reads one of the bundle's YAML files, counting it; a missing one is reported.
    let mut read = |rel: &str, why: &str, diags: &mut Vec<Diagnostic>| match load_yaml(
        root,
        &display,
        rel,
        MANIFEST_SCHEMA_MAX_BYTES,
        (limits, buffers),
        diags,
    ) {
        Loaded::Missing => {
            diags.push(missing_file(&dir_source, &display, rel, why));
            None
        }
        Loaded::Failed => {
            files_read += 1;
            None
        }
        Loaded::Ok(src, node) => {
            files_read += 1;
            Some((src, node))
        }
    };

    let schema = match kind {
        BundleKind::Component => None,
        _ => read(
            "schema/schema.yaml",
            "every environment and service bundle has an input schema",
            diags,
        )
        .and_then(|(src, node)| crate::schema::read(&src, &node, diags)),
    };

    // Infrastructure folders and their manifests.
    let roles: &[Role] = match kind {
        BundleKind::Environment => &[Role::Environment],
        BundleKind::CustomerManagedEnvironment => &[],
        BundleKind::Service => &[Role::ServiceInstance, Role::Pipeline],
        BundleKind::Component => &[Role::Component],
    };
    let mut infrastructure = Vec::new();
    for &role in roles {
        let folder = role.folder();
        if role == Role::Pipeline && !exists(folder) {
            continue;
        }
        let rel = if role == Role::Component {
            "manifest.yaml".to_string()
        } else {
            format!("{folder}/manifest.yaml")
        };
        let why = "each infrastructure folder has a manifest naming its template";
        if let Some((src, node)) = read(&rel, why, diags) {
            let templates = manifest::read(&src, &node, root, OTHER_FILE_MAX_BYTES, diags);
            infrastructure.push(Infrastructure {
                role,
                manifest: src,
                templates,
            });
        }
    }

    // Registration of compatible environments (service bundles).
    let (compatible_environments, registration_files) =
        registration::read(root, &display, (limits, buffers), diags);
    files_read += registration_files;

    let bundle = Bundle {
        dir: root.clone(),
        display,
        kind,
        template_name,
        major,
        schema,
        infrastructure,
        compatible_environments,
        files_read,
    };
    lint_kind(&bundle, &dir_source, diags);
    check_bundle_size(&bundle, &dir_source, diags);
    bundle
}

enum Loaded {
    Missing,
    Failed,
    Ok(Source, yaml::Node),
}

/// How a bundle's files are read: the run's limits, and the buffers that stand in for files.
type Reading<'a> = (&'a Limits, &'a Buffers);

fn load_yaml(
    root: &Path,
    display: &str,
    rel: &str,
    proton_max: u64,
    (limits, buffers): Reading,
    diags: &mut Vec<Diagnostic>,
) -> Loaded {
    let path = root.join(rel);
    if !path.exists() && !buffers.has(&path) {
        return Loaded::Missing;
    }
    let name = crate::paths::join_display(display, rel);
    let src = match read_in(buffers, &path, &name, limits.max_file_bytes) {
        Ok(s) => s,
        Err(d) => {
            diags.push(*d);
            return Loaded::Failed;
        }
    };
    if src.text().len() as u64 > proton_max {
        diags.push(
            Diagnostic::new(
                codes::B007,
                format!(
                    "`{name}` is {} bytes; Proton allows at most {proton_max}",
                    src.text().len()
                ),
            )
            .at_file(&src)
            .help("move long descriptions into documentation, or split the template"),
        );
    }
    match yaml::parse(&src, &limits.yaml(), diags) {
        Some(node) => Loaded::Ok(src, node),
        None => Loaded::Failed,
    }
}

fn missing_file(dir: &Source, display: &str, rel: &str, why: &str) -> Diagnostic {
    Diagnostic::new(codes::B001, format!("bundle `{display}` has no `{rel}`"))
        .at_file(dir)
        .help(format!("add `{rel}`: {why}"))
}

/// `fargate-env/v2` → (`fargate-env`, Some(2)); `my-template` → (`my-template`, None).
fn template_identity(root: &Path) -> (String, Option<u32>) {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let leaf = name(root).unwrap_or_default();
    if let Some(n) = leaf.strip_prefix('v').and_then(|m| m.parse::<u32>().ok())
        && let Some(parent) = root.parent().and_then(name)
    {
        return (parent, Some(n));
    }
    (leaf, None)
}

fn lint_kind(bundle: &Bundle, dir: &Source, diags: &mut Vec<Diagnostic>) {
    let Some(schema) = &bundle.schema else { return };
    let src = &schema.source;
    match bundle.kind {
        BundleKind::Environment | BundleKind::CustomerManagedEnvironment => {
            if schema.environment_input_type.is_none() {
                let at = schema
                    .service_input_type
                    .as_ref()
                    .map_or(0..0, |t| t.span.clone());
                diags.push(
                    Diagnostic::new(codes::Y009, "an environment bundle's schema has no `environment_input_type`")
                        .at(src, at)
                        .help("add `environment_input_type: \"EnvironmentInput\"` under `schema`, naming the type of the environment's inputs"),
                );
            }
            if bundle.kind == BundleKind::CustomerManagedEnvironment
                && let Some(t) = bundle.environment_type()
            {
                lint_customer_managed(src, t, diags);
            }
        }
        BundleKind::Service => {
            if schema.service_input_type.is_none() {
                diags.push(
                    Diagnostic::new(codes::Y009, "a service bundle's schema has no `service_input_type`")
                        .at_file(src)
                        .help("add `service_input_type: \"ServiceInput\"` under `schema`, naming the type of each instance's inputs"),
                );
            }
            if !bundle.dir.join("instance_infrastructure").exists() {
                diags.push(missing_file(
                    dir,
                    &bundle.display,
                    "instance_infrastructure/manifest.yaml",
                    "a service bundle deploys its instances from it",
                ));
            }
            match (&schema.pipeline_input_type, bundle.has_pipeline() || bundle.dir.join("pipeline_infrastructure").exists()) {
                (Some(t), false) => diags.push(
                    Diagnostic::new(codes::B005, format!("`pipeline_input_type: {}` but the bundle has no `pipeline_infrastructure/`", t.name))
                        .at(src, t.span.clone())
                        .help("add `pipeline_infrastructure/` with a manifest and template, or delete `pipeline_input_type`"),
                ),
                (None, true) => diags.push(
                    Diagnostic::new(codes::B005, "the bundle has `pipeline_infrastructure/` but the schema declares no `pipeline_input_type`")
                        .at_file(src)
                        .help("add `pipeline_input_type: \"PipelineInput\"` under `schema`, or delete `pipeline_infrastructure/`"),
                ),
                _ => {}
            }
        }
        BundleKind::Component => {}
    }
}

fn lint_customer_managed(src: &Source, t: &InputType, diags: &mut Vec<Diagnostic>) {
    let Some(props) = t.node.get("properties").and_then(yaml::Node::as_map) else {
        return;
    };
    for (k, v) in props {
        let ty = v.get("type");
        if ty.and_then(yaml::Node::as_str) != Some("string") {
            let at = ty.map_or(k.span.clone(), |n| n.span.clone());
            diags.push(
                Diagnostic::new(codes::S007, format!("input `{}` of a customer-managed environment must be `type: string`", k.scalar_text().unwrap_or_default()))
                    .at(src, at)
                    .help("its value is an output of infrastructure made elsewhere, always a string: write `type: string`"),
            );
        }
    }
}

/// Proton's 5 MB / 10 files limit, over the files Proton would have taken into the bundle.
fn check_bundle_size(bundle: &Bundle, dir: &Source, diags: &mut Vec<Diagnostic>) {
    let mut files = 0usize;
    let mut bytes = 0u64;
    let mut stack: Vec<PathBuf> = [
        "schema",
        "infrastructure",
        "instance_infrastructure",
        "pipeline_infrastructure",
    ]
    .iter()
    .map(|f| bundle.dir.join(f))
    .filter(|p| p.is_dir())
    .collect();
    if bundle.kind == BundleKind::Component {
        stack.push(bundle.dir.clone());
    }
    let mut visited = 0;
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            visited += 1;
            if visited > 10_000 {
                break;
            }
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() && bundle.kind != BundleKind::Component {
                stack.push(e.path());
            } else if meta.is_file() {
                files += 1;
                bytes += meta.len();
            }
        }
    }
    if files > BUNDLE_MAX_FILES {
        diags.push(
            Diagnostic::new(
                codes::B007,
                format!(
                    "bundle `{}` has {files} files; Proton allows at most {BUNDLE_MAX_FILES}",
                    bundle.display
                ),
            )
            .at_file(dir)
            .help("remove files the bundle does not need (notes, backups, generated files)"),
        );
    }
    if bytes > BUNDLE_MAX_BYTES {
        diags.push(
            Diagnostic::new(
                codes::B007,
                format!(
                    "bundle `{}` is {bytes} bytes; Proton allows at most {BUNDLE_MAX_BYTES}",
                    bundle.display
                ),
            )
            .at_file(dir)
            .help("remove large files from the bundle"),
        );
    }
}
