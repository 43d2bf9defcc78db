//! `manifest.yaml`: which template file an infrastructure folder deploys, and how it is
//! rendered.

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, codes};
use crate::source::Source;
use crate::yaml::Node;
use crate::yaml::shape::{check_keys, expect_map, expect_str, missing_key};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Jinja over CloudFormation: what proctor compiles.
    JinjaCloudFormation,
    /// Terraform/HCL, CodeBuild, ...: checked for shape only.
    Other(String),
}

#[derive(Clone, Debug)]
pub struct TemplateFile {
    /// Where the file is (inside the bundle), when the manifest names one.
    pub path: Option<PathBuf>,
    pub display: String,
    pub engine: Engine,
    /// The manifest's `file` value, for pointing at it.
    pub file_span: Range<usize>,
}

const EXAMPLE: &str = "infrastructure:\n  templates:\n    - file: \"cloudformation.yaml\"\n      rendering_engine: jinja\n      template_language: cloudformation";

pub fn read(
    src: &Source,
    root_node: &Node,
    bundle_root: &Path,
    max_bytes: u64,
    diags: &mut Vec<Diagnostic>,
) -> Vec<TemplateFile> {
    let mut out = Vec::new();
    let Some(top) = expect_map(root_node, src, "a manifest", EXAMPLE, diags) else {
        return out;
    };
    check_keys(top, &["infrastructure"], src, "a manifest", diags);
    let Some(infra) = root_node.get("infrastructure") else {
        diags.push(missing_key(
            src,
            root_node.span.clone(),
            "infrastructure",
            "the manifest",
            EXAMPLE,
        ));
        return out;
    };
    let Some(entries) = expect_map(infra, src, "`infrastructure`", EXAMPLE, diags) else {
        return out;
    };
    check_keys(entries, &["templates"], src, "`infrastructure`", diags);
    let Some(templates) = infra.get("templates") else {
        diags.push(missing_key(
            src,
            infra.span.clone(),
            "templates",
            "`infrastructure`",
            EXAMPLE,
        ));
        return out;
    };
    let Some(items) = templates.as_seq() else {
        diags.push(
            Diagnostic::new(
                codes::Y007,
                format!(
                    "`templates` must be a list, found {}",
                    templates.kind_name()
                ),
            )
            .at(src, templates.span.clone())
            .help(format!("write it as a list:\n{EXAMPLE}")),
        );
        return out;
    };
    let manifest_dir = src.path().parent().unwrap_or(bundle_root);
    for item in items {
        if let Some(t) = read_entry(src, item, manifest_dir, bundle_root, max_bytes, diags) {
            out.push(t);
        }
    }
    let cfn = out
        .iter()
        .filter(|t| t.engine == Engine::JinjaCloudFormation)
        .count();
    if items.is_empty() || (cfn > 0 && out.len() > 1) {
        diags.push(
            Diagnostic::new(
                codes::B011,
                format!(
                    "a CloudFormation manifest names exactly one template; this one names {}",
                    items.len()
                ),
            )
            .at(
                src,
                items.get(1).map_or(templates.span.clone(), |second| {
                    second.span.start..items[items.len() - 1].span.end
                }),
            )
            .primary_message("only the first template can be deployed")
            .help("keep a single `- file: \"cloudformation.yaml\"` entry"),
        );
    }
    out
}

/// One entry of `templates`: its engine and the template file it names. `None` when the entry
/// is unusable (reported).
fn read_entry(
    src: &Source,
    item: &Node,
    manifest_dir: &Path,
    bundle_root: &Path,
    max_bytes: u64,
    diags: &mut Vec<Diagnostic>,
) -> Option<TemplateFile> {
    let entries = expect_map(item, src, "a template entry", EXAMPLE, diags)?;
    check_keys(
        entries,
        &[
            "file",
            "rendering_engine",
            "engine",
            "template_language",
            "settings",
        ],
        src,
        "a template entry",
        diags,
    );
    let engine = read_engine(src, item, diags)?;
    let Some(file_node) = item.get("file") else {
        if engine == Engine::JinjaCloudFormation {
            diags.push(missing_key(
                src,
                item.span.clone(),
                "file",
                "the template entry",
                "file: \"cloudformation.yaml\"",
            ));
        }
        return Some(TemplateFile {
            path: None,
            display: String::new(),
            engine,
            file_span: item.span.clone(),
        });
    };
    let file = expect_str(file_node, src, "`file`", diags)?;
    let span = file_node.span.clone();
    let display = crate::paths::join_display(&crate::paths::parent_display(src.name()), file);
    if engine != Engine::JinjaCloudFormation && (file == "*" || file.contains('*')) {
        return Some(TemplateFile {
            path: None,
            display,
            engine,
            file_span: span,
        });
    }
    let path = match inside(manifest_dir, bundle_root, file) {
        Ok(p) => p,
        Err(why) => {
            diags.push(
                Diagnostic::new(codes::B002, format!("`{file}` is outside the bundle: {why}"))
                    .at(src, span)
                    .help("keep the template inside the bundle and name it relative to the manifest, e.g. `cloudformation.yaml`"),
            );
            return None;
        }
    };
    if !check_file(src, &path, file, &display, span.clone(), max_bytes, diags) {
        return None;
    }
    Some(TemplateFile {
        path: Some(path),
        display,
        engine,
        file_span: span,
    })
}

/// The entry's rendering engine (`rendering_engine`, or its old name `engine`) with its
/// `template_language`. `None` when it is missing or unknown (reported); an engine proctor
/// does not compile is noted.
fn read_engine(src: &Source, item: &Node, diags: &mut Vec<Diagnostic>) -> Option<Engine> {
    let engine_node = match (item.entry("rendering_engine"), item.entry("engine")) {
        (Some((_, v)), _) => Some(v),
        (None, Some((k, v))) => {
            diags.push(
                Diagnostic::new(
                    codes::B004,
                    "`engine` is the old name of `rendering_engine`",
                )
                .at(src, k.span.clone())
                .help("rename the key to `rendering_engine`"),
            );
            Some(v)
        }
        (None, None) => None,
    };
    let engine_name = match engine_node {
        Some(n) => expect_str(n, src, "`rendering_engine`", diags)?.to_string(),
        None => {
            diags.push(missing_key(
                src,
                item.span.clone(),
                "rendering_engine",
                "the template entry",
                "rendering_engine: jinja",
            ));
            return None;
        }
    };
    let language = item
        .get("template_language")
        .and_then(|n| expect_str(n, src, "`template_language`", diags))
        .map(str::to_string);
    let engine = match (engine_name.as_str(), language.as_deref()) {
        ("jinja", Some("cloudformation") | None) => Engine::JinjaCloudFormation,
        ("jinja" | "hcl" | "codebuild", _) => Engine::Other(format!(
            "{engine_name}/{}",
            language.as_deref().unwrap_or("?")
        )),
        (other, _) => {
            diags.push(
                Diagnostic::new(codes::B011, format!("unknown rendering engine `{other}`"))
                    .at(src, engine_node.map_or(item.span.clone(), |n| n.span.clone()))
                    .help("Proton's engines are `jinja` (CloudFormation), `hcl` (Terraform) and `codebuild`"),
            );
            return None;
        }
    };
    if let Engine::Other(what) = &engine {
        diags.push(
            Diagnostic::new(codes::B003, format!("`{what}` templates are not compiled by proctor"))
                .at(src, engine_node.map_or(item.span.clone(), |n| n.span.clone()))
                .help("proctor still checks this bundle's schema and specs; it renders and validates Jinja CloudFormation only"),
        );
    }
    Some(engine)
}

/// Checks the template file at `path` (named `file` in the manifest, at `span`): it exists,
/// is a file, and is no larger than `max_bytes`. Returns false when there is no template
/// file there (reported); one that is too large is reported, and kept.
fn check_file(
    src: &Source,
    path: &Path,
    file: &str,
    display: &str,
    span: Range<usize>,
    max_bytes: u64,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    match std::fs::metadata(path) {
        Err(_) => {
            diags.push(
                Diagnostic::new(
                    codes::B001,
                    format!("the manifest names `{file}`, which does not exist"),
                )
                .at(src, span)
                .help(format!("create `{display}` or correct the file name")),
            );
            return false;
        }
        Ok(m) if m.is_dir() => {
            diags.push(
                Diagnostic::new(
                    codes::B001,
                    format!("`{file}` is a folder, not a template file"),
                )
                .at(src, span)
                .help("name the template file inside it"),
            );
            return false;
        }
        Ok(m) if m.len() > max_bytes => diags.push(
            Diagnostic::new(
                codes::B007,
                format!(
                    "`{display}` is {} bytes; Proton allows at most {max_bytes}",
                    m.len()
                ),
            )
            .at(src, span)
            .help("split the template, or move large inline content (policies, scripts) out of it"),
        ),
        Ok(_) => {}
    }
    true
}

/// Resolves `file` relative to the manifest's folder, refusing anything that leaves the
/// bundle: absolute paths, `..` past the root, and symlinks that point outside.
fn inside(manifest_dir: &Path, bundle_root: &Path, file: &str) -> Result<PathBuf, &'static str> {
    if file.is_empty() {
        return Err("the name is empty");
    }
    let rel = Path::new(file);
    if rel.is_absolute()
        || file.starts_with('\\')
        || file.get(1..3) == Some(":\\")
        || file.get(1..3) == Some(":/")
    {
        return Err("it is an absolute path");
    }
    let mut joined = manifest_dir.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(n) => joined.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !joined.pop() || !joined.starts_with(bundle_root) {
                    return Err("`..` leads out of it");
                }
            }
            Component::RootDir | Component::Prefix(_) => return Err("it is an absolute path"),
        }
    }
    if !joined.starts_with(bundle_root) {
        return Err("`..` leads out of it");
    }
    // Symlinks: compare real paths when the file exists (a loop fails to canonicalize).
    if std::fs::symlink_metadata(&joined).is_ok() {
        let real_root = bundle_root
            .canonicalize()
            .map_err(|_| "the bundle folder cannot be resolved")?;
        match joined.canonicalize() {
            Ok(real) if real.starts_with(&real_root) => {}
            Ok(_) => return Err("it is a symlink that points out of the bundle"),
            Err(_) => {
                return Err("it is a symlink that cannot be resolved (a loop, or a dangling link)");
            }
        }
    }
    Ok(joined)
}
