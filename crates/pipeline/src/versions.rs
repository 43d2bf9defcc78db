//! The template version gate: `proctor check --base REV` and `proctor diff OLD NEW`.
//!
//! `--base` reads the workspace's template folders as they were at a git revision (with
//! `git archive`, into a temporary folder: no checkout), pairs each bundle with its old
//! version at the same path, and classifies the schema changes (`diff::schema`). A breaking
//! change inside an existing `vN/` is an error (V001) that names the deployments it breaks; a
//! new `vN/` folder is a new major and is not compared. For every deployment of a changed
//! bundle, the old templates are rendered with today's spec and compared with the new
//! rendering, resource by resource (`diff::resources`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bundle::{self, Bundle, BundleDir};
use crate::check::{CheckOptions, Outcome};
use crate::diag::{Diagnostic, Severity, codes};
use crate::diff::schema::{self, Change, Level};
use crate::limits::Limits;

/// A temporary folder, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "proctor-base-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// The workspace's folders (relative to `root`) as they were at `rev`, extracted under a
/// temporary folder at the same relative paths. Folders that did not exist then are skipped.
pub fn materialize(root: &Path, rev: &str, folders: &[String]) -> Result<Old, String> {
    let top = git(root, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        format!(
            "--base needs a git repository: `{}` is not in one ({e})",
            root.display()
        )
    })?;
    git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| format!("--base `{rev}`: no such commit in this repository"))?;
    let top = PathBuf::from(top);
    let root_abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let prefix = root_abs
        .strip_prefix(top.canonicalize().unwrap_or(top.clone()))
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let tmp = TempDir::new()?;
    let mut paths = Vec::new();
    for f in folders {
        let rel = prefix.join(f);
        let rel = crate::paths::normalize(&rel)
            .to_string_lossy()
            .replace('\\', "/");
        let rel = if rel.is_empty() || rel == "." {
            String::new()
        } else {
            rel
        };
        let spec = if rel.is_empty() {
            rev.to_string()
        } else {
            format!("{rev}:{rel}")
        };
        if git(&top, &["cat-file", "-e", &spec]).is_ok() {
            paths.push(if rel.is_empty() { ".".to_string() } else { rel });
        }
    }
    if paths.is_empty() {
        let root = tmp.path().join(&prefix);
        return Ok(Old { _tmp: tmp, root });
    }
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(&top)
        .args(["archive", "--format=tar", rev, "--"])
        .args(&paths)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let stdout = archive.stdout.take().ok_or("git archive gave no output")?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(tmp.path())
        .stdin(stdout)
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let status = archive.wait().map_err(|e| e.to_string())?;
    if !status.success() || !tar.status.success() {
        return Err(format!(
            "cannot read the workspace at `{rev}`: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        ));
    }
    let root = tmp.path().join(&prefix);
    Ok(Old { _tmp: tmp, root })
}

/// The workspace as it was at a revision: `path()` is its root (a subfolder of the temporary
/// folder when the workspace is below the repository's top).
pub struct Old {
    _tmp: TempDir,
    root: PathBuf,
}

impl Old {
    pub fn path(&self) -> &Path {
        &self.root
    }
}

/// Loads the bundle at `path` (the first one found), reporting nothing.
fn load_bundle(path: &Path, display: &str, limits: &Limits) -> Option<(Bundle, bool)> {
    let walk = crate::paths::WalkBudget::new(limits.max_files);
    let dir = bundle::discover(path, display, &walk).into_iter().next()?;
    let mut diags = Vec::new();
    let b = bundle::load(&dir, limits, &mut diags);
    let broken = diags.iter().any(|d| d.severity == Severity::Error);
    Some((b, broken))
}

/// `proctor diff OLD NEW`: the classified schema changes, as diagnostics, and the resources
/// a deployment would see replaced (both bundles rendered with the same synthesized inputs).
pub fn diff_bundles(
    cwd: &Path,
    old: &str,
    new: &str,
) -> Result<(Vec<Diagnostic>, schema::Verdict), String> {
    let limits = Limits::default();
    let (o, ob) = load_bundle(&cwd.join(old), old, &limits)
        .ok_or_else(|| format!("`{old}`: no bundle there"))?;
    let (n, nb) = load_bundle(&cwd.join(new), new, &limits)
        .ok_or_else(|| format!("`{new}`: no bundle there"))?;
    for (broken, shown) in [(ob, old), (nb, new)] {
        if broken {
            return Err(format!(
                "`{shown}` has errors: run `proctor check {shown}` first"
            ));
        }
    }
    let changes = schema::compare(&o, &n);
    let verdict = schema::verdict(&changes);
    let help = format!(
        "a spec valid for `{old}` may fail with `{new}`: publish this as a new major version, not a minor"
    );
    let mut diags: Vec<Diagnostic> = changes.iter().map(|c| c.diagnostic(&help)).collect();
    // Rendered with synthesized inputs: which resources the change replaces.
    let render = |path: &str| {
        crate::check::run(&CheckOptions {
            paths: vec![path.to_string()],
            cwd: cwd.to_path_buf(),
            filter: crate::diag::filter::CodeFilter {
                select: Vec::new(),
                ignore: vec!["P".into(), "C".into(), "X".into()],
            },
            ..CheckOptions::default()
        })
        .ok()
    };
    if let (Some(before), Some(after)) = (render(old), render(new)) {
        for r in &after.rendered {
            let Some(prev) = before
                .rendered
                .iter()
                .find(|p| p.kind == r.kind && p.name == r.name && p.service == r.service)
            else {
                continue;
            };
            let Ok(resource_changes) = crate::diff::resources::diff(&prev.text, &r.text) else {
                continue;
            };
            let label = format!("{} `{}`", kind_word(r.kind), r.name);
            for c in resource_changes.iter().filter(|c| c.replaces()) {
                if let Some(d) = replacement_diagnostic(&after.root, &r.template, &label, c) {
                    diags.push(d);
                }
            }
        }
    }
    Ok((diags, verdict))
}

/// What `check --base` found, beyond the check itself.
#[derive(Default)]
pub struct GateReport {
    pub diagnostics: Vec<Diagnostic>,
    /// Per affected deployment: its label, its template (as shown) and the resource changes
    /// of its stack.
    pub deployments: Vec<(String, String, Vec<crate::diff::resources::ResourceChange>)>,
    /// Bundles compared, and the verdict of each (display, verdict).
    pub bundles: Vec<(String, schema::Verdict)>,
}

/// The next major version's folder, for the advice on a breaking change.
fn next_major(b: &Bundle) -> String {
    match b.major {
        Some(m) => {
            let parent = crate::paths::parent_display(&b.display);
            crate::paths::join_display(&parent, &format!("v{}/", m + 1))
        }
        None => "a new major version folder".to_string(),
    }
}

/// Compares every bundle of the checked workspace with its version at `rev`.
pub fn gate(opts: &CheckOptions, outcome: &Outcome, rev: &str) -> Result<GateReport, String> {
    let root = outcome.root.clone();
    let config =
        crate::config::find(&root).or_else(|| opts.config.as_ref().map(|c| opts.cwd.join(c)));
    let cfg = load_config(&root, config.as_deref());
    let folders: Vec<String> = match &cfg {
        Some(c) if !c.templates.is_empty() => c
            .templates
            .iter()
            .map(|t| t.value.to_string_lossy().into_owned())
            .collect(),
        _ => vec![".".to_string()],
    };
    let old = materialize(&root, rev, &folders)?;
    let limits = Limits::default();
    let walk = crate::paths::WalkBudget::new(limits.max_files);
    let mut report = GateReport::default();
    let mut changed: Vec<String> = Vec::new();
    for folder in &folders {
        for dir in bundle::discover(&root.join(folder), &crate::paths::tidy(folder), &walk) {
            let rel = dir
                .path
                .strip_prefix(&root)
                .unwrap_or(&dir.path)
                .to_path_buf();
            let old_path = old.path().join(&rel);
            if !bundle::discover::is_bundle(&old_path) {
                continue; // a new bundle, or a new major: nothing to compare with
            }
            let shown_old = format!("{rev}:{}", dir.display);
            let mut diags = Vec::new();
            let new_b = bundle::load(&dir, &limits, &mut diags);
            let old_b = bundle::load(
                &BundleDir {
                    path: old_path.clone(),
                    display: shown_old,
                },
                &limits,
                &mut Vec::new(),
            );
            if !same_files(&old_path, &dir.path) {
                changed.push(dir.display.clone());
            }
            let changes: Vec<Change> = schema::compare(&old_b, &new_b);
            let verdict = schema::verdict(&changes);
            report.bundles.push((dir.display.clone(), verdict));
            let help = format!(
                "`{}` is an existing major version: a spec valid before may fail now. Undo this change here and make it in `{}` (a copy of this bundle), then move deployments to it",
                dir.display,
                next_major(&new_b)
            );
            for c in &changes {
                let mut d = c.diagnostic(&help);
                if c.level == Level::Breaking {
                    d = with_broken_deployments(d, &deployments_of(cfg.as_ref(), &new_b), outcome);
                }
                report.diagnostics.push(d);
            }
        }
    }
    if !changed.is_empty() {
        report.deployments = render_changes(opts, outcome, &old, &changed, config.as_deref())?;
        for (label, template, changes) in &report.deployments {
            for c in changes.iter().filter(|c| c.replaces()) {
                if let Some(d) = replacement_diagnostic(&outcome.root, template, label, c) {
                    report.diagnostics.push(d);
                }
            }
        }
    }
    Ok(report)
}

/// The deployments proctor.toml declares on `b`: (what, name, spec as shown).
fn deployments_of(
    cfg: Option<&crate::config::Config>,
    b: &Bundle,
) -> Vec<(&'static str, String, String)> {
    use crate::config::TemplateRef;
    let Some(cfg) = cfg else { return Vec::new() };
    let uses = |t: &TemplateRef| match t {
        TemplateRef::Version { name, major, .. } => {
            *name == b.template_name && Some(*major) == b.major.or(Some(1))
        }
        TemplateRef::Path(p) => cfg.root.join(p).canonicalize().ok() == b.dir.canonicalize().ok(),
    };
    let shown = |p: &Path| crate::paths::tidy(&p.to_string_lossy());
    cfg.environments
        .iter()
        .filter(|e| uses(&e.template.value))
        .map(|e| ("environment", e.name.value.clone(), shown(&e.spec.value)))
        .chain(
            cfg.services
                .iter()
                .filter(|s| uses(&s.template.value))
                .map(|s| ("service", s.name.value.clone(), shown(&s.spec.value))),
        )
        .collect()
}

/// Adds to a breaking change the deployments of the bundle whose specs fail today.
fn with_broken_deployments(
    mut d: Diagnostic,
    deployments: &[(&'static str, String, String)],
    outcome: &Outcome,
) -> Diagnostic {
    let mut any = false;
    for (what, name, spec) in deployments {
        // An input the new schema no longer declares (I001, a warning: Proton ignored it)
        // breaks the deployment too: the value it set is dropped.
        let failing = outcome.diagnostics.iter().find(|x| {
            (x.severity == Severity::Error || x.code.id == crate::diag::codes::I001.id)
                && x.code.id.starts_with('I')
                && x.primary
                    .as_ref()
                    .is_some_and(|p| p.at.source.name() == spec)
        });
        if let Some(f) = failing
            && let Some(p) = &f.primary
        {
            any = true;
            d = d.label(
                &p.at.source,
                p.at.span.clone(),
                format!("breaks {what} `{name}`: {}", f.message),
            );
        }
    }
    if !any {
        d.message
            .push_str("; no deployment in this workspace breaks, but specs elsewhere may");
    }
    d
}

fn kind_word(k: crate::unit::UnitKind) -> &'static str {
    match k {
        crate::unit::UnitKind::Environment => "environment",
        crate::unit::UnitKind::ServiceInstance => "service instance",
        crate::unit::UnitKind::Pipeline => "pipeline",
        crate::unit::UnitKind::Component => "component",
    }
}

/// The workspace's proctor.toml, when there is one that parses.
fn load_config(root: &Path, config: Option<&Path>) -> Option<crate::config::Config> {
    let p = config?;
    let text = std::fs::read_to_string(p).ok()?;
    let source = crate::source::SourceFile::new(crate::config::FILE_NAME, p, text);
    crate::config::parse(&source, root, &mut Vec::new())
}

/// Whether two folders hold the same files with the same bytes.
fn same_files(a: &Path, b: &Path) -> bool {
    fn list(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>, depth: usize) {
        if depth > 16 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                list(&p, base, out, depth + 1);
            } else if ft.is_file() {
                let rel = p.strip_prefix(base).unwrap_or(&p).to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    list(a, a, &mut x, 0);
    list(b, b, &mut y, 0);
    x.sort();
    y.sort();
    x == y
}

/// Renders the deployments of `changed` bundles with the old templates and today's specs
/// (a copy of the workspace whose template folders are the old ones), and compares each with
/// today's rendering.
fn render_changes(
    opts: &CheckOptions,
    outcome: &Outcome,
    old: &Old,
    changed: &[String],
    config: Option<&Path>,
) -> Result<Vec<(String, String, Vec<crate::diff::resources::ResourceChange>)>, String> {
    let root = &outcome.root;
    let copy = |rel: &str| -> Result<(), String> {
        let from = root.join(rel);
        let to = old.path().join(rel);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::copy(&from, &to)
            .map(|_| ())
            .map_err(|e| format!("cannot copy `{rel}`: {e}"))
    };
    let mut old_opts = CheckOptions {
        cwd: old.path().to_path_buf(),
        filter: crate::diag::filter::CodeFilter {
            select: Vec::new(),
            ignore: vec!["P".into(), "C".into(), "X".into()],
        },
        ..CheckOptions::default()
    };
    if let Some(cfg) = config {
        let rel = cfg
            .strip_prefix(root)
            .unwrap_or(cfg)
            .to_string_lossy()
            .into_owned();
        copy(&rel)?;
        old_opts.config = Some(rel);
    }
    for u in &outcome.units {
        if !u.spec.is_empty() {
            copy(&u.spec)?;
        }
    }
    let state = crate::state::default_path(root);
    if state.is_file() {
        copy(&format!("{}/{}", crate::state::DIR, crate::state::FILE))?;
    }
    if config.is_none() {
        old_opts.paths = opts.paths.clone();
        old_opts.specs = opts.specs.clone();
    }
    let before = crate::check::run(&old_opts).map_err(|_| {
        "cannot render the old templates: the workspace's proctor.toml does not fit them"
            .to_string()
    })?;
    let mut out = Vec::new();
    for new in outcome.rendered.iter().filter(|r| !r.synthesized) {
        let Some(unit) = outcome
            .units
            .iter()
            .find(|u| u.kind == new.kind && u.name == new.name && u.service == new.service)
        else {
            continue;
        };
        if !changed.contains(&unit.bundle) {
            continue;
        }
        let Some(prev) = before
            .rendered
            .iter()
            .find(|r| r.kind == new.kind && r.name == new.name && r.service == new.service)
        else {
            continue;
        };
        let Ok(changes) = crate::diff::resources::diff(&prev.text, &new.text) else {
            continue; // an unparsable rendering is reported by the check itself
        };
        let label = match &new.service {
            Some(s) if new.kind == crate::unit::UnitKind::ServiceInstance => {
                format!("service instance `{s}/{}`", new.name)
            }
            _ => format!("{} `{}`", kind_word(new.kind), new.name),
        };
        out.push((label, new.template.clone(), changes));
    }
    Ok(out)
}

/// A warning that a deployment's resource will be replaced, at the resource in the template
/// (`template` as shown, relative to `root`).
fn replacement_diagnostic(
    root: &Path,
    template: &str,
    label: &str,
    c: &crate::diff::resources::ResourceChange,
) -> Option<Diagnostic> {
    let path = root.join(template);
    let text = std::fs::read_to_string(&path).ok()?;
    let source = crate::source::SourceFile::new(template, path, text);
    let needle = format!("{}:", c.logical_id);
    let at = source
        .text()
        .match_indices(&needle)
        .find(|(i, _)| {
            let before = &source.text()[..*i];
            before.ends_with(' ') || before.ends_with('\n') || before.ends_with('"')
        })
        .map_or(0..0, |(i, _)| i..i + c.logical_id.len());
    Some(
        Diagnostic::new(
            codes::V005,
            format!(
                "this change replaces `{}` ({}) in {label}: CloudFormation creates a new one and deletes the old",
                c.logical_id, c.resource_type
            ),
        )
        .at(&source, at)
        .help("if the resource holds data or is referenced by name outside the stack, plan the replacement (or avoid changing the property that forces it)"),
    )
}
