//! `proctor build`: the rendered CloudFormation of every deployment unit that checks clean,
//! with a build record (`proctor-build.json`) of what went in and what came out, by sha256.
//! Nothing is written when there are errors; a new build replaces the old one whole.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use crate::cfn::PLACEHOLDER_PREFIX;
use crate::check::Outcome;
use crate::diag::Severity;
use crate::source::sha256;
use crate::unit::UnitKind;

/// The build record's file name, inside the build folder.
pub const RECORD: &str = "proctor-build.json";
/// The record format; a record with a higher version is from a newer proctor.
pub const RECORD_VERSION: u64 = 1;

/// What a build writes: artifacts (path inside the build folder, text) and the record.
#[derive(Debug)]
pub struct Plan {
    pub artifacts: Vec<(String, String)>,
    pub record: Json,
    /// Units left out until a stack they read is deployed: (unit, what to apply first).
    pub waiting: Vec<(String, String)>,
}

fn kind_folder(kind: UnitKind) -> (&'static str, &'static str) {
    match kind {
        UnitKind::Environment => ("environment", "environments"),
        UnitKind::ServiceInstance => ("service_instance", "service-instances"),
        UnitKind::Pipeline => ("pipeline", "pipelines"),
        UnitKind::Component => ("component", "components"),
    }
}

/// Why a unit whose template reads outputs that are not known yet waits: the stacks to apply
/// first, or the outputs a deployed stack lacks.
fn waiting_reason(outcome: &Outcome, r: &crate::unit::Rendered, env: Option<&str>) -> String {
    let mut missing_env: Vec<&str> = Vec::new();
    let mut undeclared: Vec<&str> = Vec::new();
    for piece in r.text.split(PLACEHOLDER_PREFIX).skip(1) {
        let path: &str = piece
            .split(|c: char| !(c.is_ascii_alphanumeric() || "._[]-".contains(c)))
            .next()
            .unwrap_or_default();
        if let Some(name) = path.strip_prefix("environment.outputs.")
            && !missing_env.contains(&name)
        {
            missing_env.push(name);
        }
        // Names Proton took as API arguments, which proctor.toml declares.
        let key = match path {
            "environment.account_id" => Some("`account_id` in the environment's [[environment]]"),
            "service.branch_name" => Some("`branch` in the [[service]]"),
            "service.repository_id" => Some("`repository_id` in the [[service]]"),
            "service.repository_connection_arn" => {
                Some("`repository_connection_arn` in the [[service]]")
            }
            _ => None,
        };
        if let Some(k) = key
            && !undeclared.contains(&k)
        {
            undeclared.push(k);
        }
    }
    if !undeclared.is_empty() {
        return format!(
            "its template reads names that proctor.toml does not declare: add {}",
            undeclared.join(", ")
        );
    }
    match (env, &r.service) {
        (Some(env), _)
            if outcome.deployed.environment_outputs(env).is_some() && !missing_env.is_empty() =>
        {
            let names = missing_env
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "environment `{env}` is deployed, but its stack has no output {names}: add it to the environment template's Outputs and apply `{env}` again"
            )
        }
        (Some(env), _) if !missing_env.is_empty() => format!("apply environment `{env}` first"),
        (_, Some(service)) => format!("apply the instances of service `{service}` first"),
        _ => "apply the stacks it reads outputs from first".to_string(),
    }
}

/// Plans a build from a check's outcome (whose `root` resolves the shown paths of inputs),
/// into the folder `out` (for the relative path to the state file).
pub fn plan(outcome: &Outcome, as_json: bool, out: &Path) -> Plan {
    let mut artifacts = Vec::new();
    let mut waiting = Vec::new();
    let mut units = Vec::new();
    let mut rendered: Vec<_> = outcome.rendered.iter().filter(|r| !r.synthesized).collect();
    rendered.sort_by(|a, b| (a.kind as u8, &a.name).cmp(&(b.kind as u8, &b.name)));
    let hash_file = |shown: &str| -> Option<Json> {
        let bytes = std::fs::read(outcome.root.join(shown)).ok()?;
        Some(json!({"path": shown, "sha256": sha256(&bytes)}))
    };
    for r in rendered {
        let (kind, folder) = kind_folder(r.kind);
        let unit = outcome
            .units
            .iter()
            .find(|u| u.kind == r.kind && u.name == r.name && u.service == r.service);
        if r.text.contains(PLACEHOLDER_PREFIX) {
            let env = unit.and_then(|u| u.environment.clone());
            let first = waiting_reason(outcome, r, env.as_deref());
            waiting.push((format!("{kind} `{}`", r.name), first));
            continue;
        }
        // JSON artifacts use CloudFormation's long forms (`Fn::GetAtt`), as JSON has no tags.
        let text = if as_json {
            let source = crate::source::SourceFile::new(&r.template, &r.template, r.text.clone());
            match crate::cfn::parse(&source, &mut Vec::new()) {
                Some(node) => {
                    let mut t = serde_json::to_string_pretty(&node.to_json()).unwrap_or_default();
                    t.push('\n');
                    t
                }
                None => r.text.clone(),
            }
        } else {
            r.text.clone()
        };
        let path = format!(
            "{folder}/{}.{}",
            r.name,
            if as_json { "json" } else { "yaml" }
        );
        let template = Path::new(&r.template);
        let infra = template.parent().unwrap_or(Path::new(""));
        let bundle = unit.map(|u| u.bundle.clone()).unwrap_or_default();
        let mut inputs: Vec<Json> = Vec::new();
        for shown in [
            r.template.clone(),
            infra.join("manifest.yaml").to_string_lossy().into_owned(),
            Path::new(&bundle)
                .join("schema/schema.yaml")
                .to_string_lossy()
                .into_owned(),
            r.spec.clone(),
        ] {
            if !shown.is_empty()
                && let Some(h) = hash_file(&shown)
            {
                inputs.push(h);
            }
        }
        let mut entry = json!({
            "kind": kind,
            "name": r.name,
            "stack": unit
                .and_then(|u| u.stack.clone())
                .unwrap_or_else(|| crate::state::stack_name(kind, &r.name, r.service.as_deref())),
            "template": r.template_name,
            "template_version": r.template_version,
            "artifact": {"path": path, "sha256": sha256(text.as_bytes())},
            "bundle": bundle,
            "inputs": inputs,
        });
        if let Some(s) = &r.service {
            entry["service"] = json!(s);
        }
        if let Some(e) = unit.and_then(|u| u.environment.clone()) {
            entry["environment"] = json!(e);
        }
        units.push(entry);
        artifacts.push((path, text));
    }
    let findings: Vec<Json> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code.id.starts_with('P'))
        .map(|d| {
            let mut f = json!({
                "code": d.code.id,
                "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning", Severity::Info => "info" },
                "message": d.message,
            });
            if let Some(p) = &d.primary {
                let (line, column) = p.at.source.line_col(p.at.span.start);
                f["file"] = json!(p.at.source.name());
                f["line"] = json!(line);
                f["column"] = json!(column);
            }
            f
        })
        .collect();
    let config = outcome.config.as_ref().map_or(
        Json::Null,
        |(path, sha)| json!({"path": path, "sha256": sha}),
    );
    let state = crate::paths::relative(
        &crate::paths::absolute(out),
        &crate::paths::absolute(&crate::state::default_path(&outcome.root)),
    );
    let record = json!({
        "record_version": RECORD_VERSION,
        "proctor": env!("CARGO_PKG_VERSION"),
        "passed": true,
        "config": config,
        "state": state,
        "policies": outcome
            .policies
            .iter()
            .map(|(path, sha)| json!({"path": path, "sha256": sha}))
            .collect::<Vec<_>>(),
        "units": units,
        "waiting": waiting.iter().map(|(u, why)| json!({"unit": u, "needs": why})).collect::<Vec<_>>(),
        "policy_findings": findings,
    });
    Plan {
        artifacts,
        record,
        waiting,
    }
}

/// Writes the plan to `out`, replacing a previous build whole: everything is written to a
/// sibling temporary folder first, which then takes the place of the old one. A folder that
/// exists and is not a build (no record in it) is refused, never overwritten. A lock file
/// beside the folder (`.NAME.lock`) keeps two builds from writing it at once.
pub fn write(out: &Path, plan: &Plan) -> Result<(), String> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or("the output folder needs a name")?;
    if out.exists() && !out.join(RECORD).is_file() {
        let empty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(format!(
                "`{}` exists and is not a proctor build (no {RECORD} in it); choose another --out",
                out.display()
            ));
        }
    }
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
    // One build into a folder at a time: a second one waits a moment, then is refused.
    let _lock = crate::state::Lock::acquire_waiting(
        &parent.join(format!(".{name}.lock")),
        std::time::Duration::from_secs(2),
        &format!("the build folder `{}`", out.display()),
    )?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let old = parent.join(format!(".{name}.old-{pid}"));
    let _ = std::fs::remove_dir_all(&tmp);
    // What an interrupted build (killed mid-write) left beside the folder: its temporary
    // folder, or the previous build it had moved aside. Under the lock, no live build owns them.
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(&format!(".{name}.tmp-")) || n.starts_with(&format!(".{name}.old-")) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let result = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(&tmp)?;
        for (i, (path, text)) in plan.artifacts.iter().enumerate() {
            // A failpoint for the interrupted-build test, in debug builds only: the process
            // dies half-way through writing, as a kill would leave it.
            if cfg!(debug_assertions)
                && i == plan.artifacts.len() / 2
                && std::env::var("PROCTOR_FAILPOINT").is_ok_and(|f| f == "build:write")
            {
                std::process::abort();
            }
            let file = tmp.join(path);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&file, text)?;
        }
        let mut record =
            serde_json::to_string_pretty(&plan.record).map_err(std::io::Error::other)?;
        record.push('\n');
        std::fs::write(tmp.join(RECORD), record)?;
        if out.exists() {
            std::fs::rename(out, &old)?;
        }
        if let Err(e) = std::fs::rename(&tmp, out) {
            // Put the previous build back.
            let _ = std::fs::rename(&old, out);
            return Err(e);
        }
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_dir_all(&tmp);
        format!("cannot write the build to `{}`: {e}", out.display())
    })
}

/// A unit of a verified build: what `apply` deploys.
#[derive(Debug, Clone)]
pub struct VerifiedUnit {
    pub kind: String,
    pub name: String,
    pub service: Option<String>,
    pub environment: Option<String>,
    pub stack: String,
    pub template: String,
    pub template_version: String,
    pub artifact: PathBuf,
    pub sha256: String,
    pub text: String,
}

/// A verified build: its units, in the order to deploy them, and its state file.
#[derive(Debug)]
pub struct Verified {
    pub units: Vec<VerifiedUnit>,
    /// The state file the build read outputs from (and `apply` records into).
    pub state: PathBuf,
    /// Units the build left out, and what they wait for.
    pub waiting: Vec<(String, String)>,
}

/// Checks a build folder before anything is deployed from it: the record is readable, from
/// this record format or older, says the build passed, and every artifact exists inside the
/// folder with the sha256 the record gives. Returns the units, or why the build is refused.
pub fn verify(dir: &Path) -> Result<Verified, String> {
    let record_path = dir.join(RECORD);
    let bytes = std::fs::read(&record_path).map_err(|e| {
        format!(
            "`{}` cannot be read ({e}): is this a proctor build folder?",
            record_path.display()
        )
    })?;
    let record: Json = serde_json::from_slice(&bytes)
        .map_err(|e| format!("`{}` is not a build record: {e}", record_path.display()))?;
    let version = record["record_version"]
        .as_u64()
        .ok_or_else(|| format!("`{}` has no record_version", record_path.display()))?;
    if version > RECORD_VERSION {
        return Err(format!(
            "`{}` was written by a newer proctor ({}, record version {version}); this is proctor {} (record version {RECORD_VERSION}): upgrade proctor",
            record_path.display(),
            record["proctor"].as_str().unwrap_or("?"),
            env!("CARGO_PKG_VERSION")
        ));
    }
    if record["passed"] != Json::Bool(true) {
        return Err(format!(
            "`{}` does not say the build passed its checks",
            record_path.display()
        ));
    }
    let mut out = Vec::new();
    for u in record["units"].as_array().into_iter().flatten() {
        let name = u["name"].as_str().unwrap_or_default().to_string();
        let rel = u["artifact"]["path"].as_str().unwrap_or_default();
        let want = u["artifact"]["sha256"].as_str().unwrap_or_default();
        // Artifacts live inside the build folder: no absolute paths, no `..`.
        let inside = !rel.is_empty()
            && Path::new(rel)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !inside {
            return Err(format!(
                "unit `{name}`: artifact path `{rel}` is not inside the build folder"
            ));
        }
        let path = dir.join(rel);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.file_type().is_file()) {
            return Err(format!(
                "unit `{name}`: artifact `{}` is not a regular file (a link or a folder); build again",
                path.display()
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "unit `{name}`: artifact `{}` cannot be read: {e}",
                path.display()
            )
        })?;
        let got = sha256(&bytes);
        if got != want {
            return Err(format!(
                "unit `{name}`: artifact `{}` was changed after the build (sha256 {got}, the record says {want}); build again",
                path.display()
            ));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("unit `{name}`: artifact `{}` is not UTF-8", path.display()))?;
        let field = |k: &str| u[k].as_str().map(str::to_string);
        let stack = field("stack").unwrap_or_default();
        if !crate::state::valid_stack_name(&stack) {
            return Err(format!(
                "unit `{name}`: `{stack}` in {RECORD} is not a valid CloudFormation stack name"
            ));
        }
        out.push(VerifiedUnit {
            kind: field("kind").unwrap_or_default(),
            name,
            service: field("service"),
            environment: field("environment"),
            stack,
            template: field("template").unwrap_or_default(),
            template_version: field("template_version").unwrap_or_default(),
            artifact: path,
            sha256: got,
            text,
        });
    }
    // Nothing else may be in the folder: a file the record does not name was not built.
    let mut expected: Vec<PathBuf> = out.iter().map(|u| u.artifact.clone()).collect();
    expected.push(record_path.clone());
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("`{}` cannot be read: {e}", d.display()))?;
        for e in entries.flatten() {
            let p = e.path();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && depth < 8 {
                stack.push((p, depth + 1));
            } else if !expected.contains(&p) {
                return Err(format!(
                    "`{}` is in the build folder but not in its record: a build folder holds only what proctor built; build again",
                    p.display()
                ));
            }
        }
    }
    let mut stacks: Vec<&str> = out.iter().map(|u| u.stack.as_str()).collect();
    stacks.sort_unstable();
    if let Some(w) = stacks.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "two units of this build deploy to the stack `{}`; rename one of them",
            w[0]
        ));
    }
    // The state file sits outside the build folder, named relative to it.
    let state = record["state"].as_str().unwrap_or(".proctor/state.json");
    if Path::new(state).is_absolute()
        || !state.ends_with(&format!("{}/{}", crate::state::DIR, crate::state::FILE))
    {
        return Err(format!(
            "`{}`: `state` must be a relative path to a `{}/{}` file, not `{state}`",
            record_path.display(),
            crate::state::DIR,
            crate::state::FILE
        ));
    }
    let waiting = record["waiting"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            (
                w["unit"].as_str().unwrap_or_default().to_string(),
                w["needs"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    Ok(Verified {
        units: out,
        state: crate::paths::normalize(&dir.join(state)),
        waiting,
    })
}
