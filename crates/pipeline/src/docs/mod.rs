//! `proctor docs BUNDLE`: a Markdown reference of one bundle for the developers who write its
//! specs: the inputs with their constraints, the stacks' outputs, and an example spec that is
//! checked against the bundle's own schema before it is shown.
//!
//! With `--output FILE` the reference replaces the file, or only the text between
//! [`BEGIN_MARKER`] and [`END_MARKER`] when the file has them (a README section).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use crate::bundle::{self, Bundle, BundleKind, Engine, Role};
use crate::diag::{Diagnostic, Severity};
use crate::limits::Limits;
use crate::schema::InputType;
use crate::source::SourceFile;
use crate::yaml::{self, Node};

mod yaml_out;
use yaml_out::{inline, to_yaml};

pub struct DocsOptions {
    /// The bundle folder, as given.
    pub bundle: String,
    /// `--output FILE`: write there (between the markers when the file has them).
    pub output: Option<String>,
    /// `--check`: compare with the file instead of writing it.
    pub check: bool,
    pub cwd: PathBuf,
}

/// What `proctor docs` did.
#[derive(Debug, PartialEq, Eq)]
pub enum DocsResult {
    /// No --output: the Markdown, to print.
    Printed(String),
    /// Written to this file.
    Written(String),
    /// `--check`: the file is current.
    UpToDate(String),
    /// `--check`: the file is stale; the message says how to update it.
    Stale(String),
}

/// In an existing output file, only the text between these two lines is replaced.
pub const BEGIN_MARKER: &str = "<!-- proctor:docs:begin -->";
pub const END_MARKER: &str = "<!-- proctor:docs:end -->";

/// The heading the example spec follows (tests find the spec by it).
pub const EXAMPLE_HEADING: &str = "## Example spec";

/// Runs `proctor docs`; `Err` is a message for a usage problem (no bundle there, unreadable
/// output file, an invalid bundle).
pub fn run(opts: &DocsOptions) -> Result<DocsResult, String> {
    let bundle = load_bundle(opts)?;
    let markdown = markdown(&bundle)?;
    let Some(output) = &opts.output else {
        if opts.check {
            return Err("`--check` needs `--output FILE`: the file to compare with".to_string());
        }
        return Ok(DocsResult::Printed(markdown));
    };
    let path = opts.cwd.join(output);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read `{output}`: {e}")),
    };
    let wanted = match &existing {
        Some(text) => splice(text, &markdown).map_err(|e| format!("`{output}` {e}"))?,
        None => markdown,
    };
    if opts.check {
        return Ok(if existing.as_deref() == Some(wanted.as_str()) {
            DocsResult::UpToDate(output.clone())
        } else {
            let why = if existing.is_none() {
                "does not exist"
            } else {
                "is not up to date"
            };
            DocsResult::Stale(format!(
                "`{output}` {why}: run `proctor docs {} --output {output}`",
                opts.bundle
            ))
        });
    }
    if existing.as_deref() != Some(wanted.as_str()) {
        crate::state::write_atomic(&path, wanted.as_bytes())?;
    }
    Ok(DocsResult::Written(output.clone()))
}

/// The one bundle at the path, loaded without errors.
fn load_bundle(opts: &DocsOptions) -> Result<Bundle, String> {
    let shown = display_path(&opts.bundle, &opts.cwd);
    let path = opts.cwd.join(&opts.bundle);
    if !path.exists() {
        return Err(format!("`{shown}` does not exist"));
    }
    let walk = crate::paths::WalkBudget::new(crate::limits::Limits::default().max_files);
    let dirs = bundle::discover(&path, &shown, &walk);
    let dir = match dirs.as_slice() {
        [one] => one,
        [] => {
            return Err(format!(
                "no bundle found in `{shown}`: give a bundle folder (one with `schema/` and an infrastructure folder, or a component's `manifest.yaml`)"
            ));
        }
        many => {
            let names: Vec<String> = many.iter().map(|d| format!("`{}`", d.display)).collect();
            return Err(format!(
                "`{shown}` holds {} bundles ({}): give one of them",
                many.len(),
                names.join(", ")
            ));
        }
    };
    let mut diags: Vec<Diagnostic> = Vec::new();
    let bundle = bundle::load(dir, &Limits::default(), &mut diags);
    let errors: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if let Some(first) = errors.first() {
        let count = match errors.len() {
            1 => "an error".to_string(),
            n => format!("{n} errors"),
        };
        return Err(format!(
            "`{}` has {count} (first: {} {}); run `proctor check {}` first",
            bundle.display, first.code.id, first.message, opts.bundle
        ));
    }
    Ok(bundle)
}

/// The path as the user gave it, without `./` or a trailing `/`, and relative when it is an
/// absolute path inside the current folder (the Markdown names no absolute path it can avoid).
fn display_path(given: &str, cwd: &Path) -> String {
    let p = Path::new(given);
    let rel = if p.is_absolute() {
        p.strip_prefix(cwd).map_or_else(
            |_| given.to_string(),
            |r| r.to_string_lossy().replace('\\', "/"),
        )
    } else {
        given.replace('\\', "/")
    };
    let mut s = rel.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    let s = s.trim_end_matches('/');
    if s.is_empty() {
        ".".to_string()
    } else {
        s.to_string()
    }
}

/// The file's new text: `markdown` between its markers, or the whole file when it has none.
fn splice(text: &str, markdown: &str) -> Result<String, String> {
    let begins = text.matches(BEGIN_MARKER).count();
    let ends = text.matches(END_MARKER).count();
    let markdown = if text.contains("\r\n") {
        markdown.replace('\n', "\r\n")
    } else {
        markdown.to_string()
    };
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    match (begins, ends) {
        (0, 0) => Ok(markdown),
        (1, 1) => {
            let (Some(b), Some(e)) = (text.find(BEGIN_MARKER), text.find(END_MARKER)) else {
                return Err("lost its markers while being read".to_string());
            };
            if e < b {
                return Err(format!(
                    "has `{END_MARKER}` before `{BEGIN_MARKER}`: put the begin marker first"
                ));
            }
            let head = &text[..b + BEGIN_MARKER.len()];
            Ok(format!("{head}{newline}{markdown}{}", &text[e..]))
        }
        (1, 0) | (0, 1) => {
            let (has, lacks) = if begins == 1 {
                (BEGIN_MARKER, END_MARKER)
            } else {
                (END_MARKER, BEGIN_MARKER)
            };
            Err(format!(
                "has `{has}` but not `{lacks}`: add the missing marker, or remove both to replace the whole file"
            ))
        }
        _ => Err(format!(
            "has {begins} `{BEGIN_MARKER}` and {ends} `{END_MARKER}` markers: keep one pair"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// The Markdown

/// Lines of Markdown, with a blank line between blocks.
#[derive(Default)]
struct Doc {
    text: String,
}

impl Doc {
    fn line(&mut self, s: impl AsRef<str>) {
        self.text.push_str(s.as_ref());
        self.text.push('\n');
    }

    /// A paragraph (or any block), followed by a blank line.
    fn block(&mut self, s: impl AsRef<str>) {
        self.line(s);
        self.text.push('\n');
    }
}

fn markdown(b: &Bundle) -> Result<String, String> {
    let mut doc = Doc::default();
    doc.block(format!(
        "<!-- Generated by `proctor docs` from {}: edit the bundle, not this text. -->",
        b.display
    ));
    title(&mut doc, b);
    if b.kind == BundleKind::Service {
        compatible_environments(&mut doc, b);
    }
    inputs(&mut doc, b);
    outputs(&mut doc, b)?;
    example(&mut doc, b)?;
    // One newline at the end, not a blank line.
    let mut text = doc.text;
    while text.ends_with("\n\n") {
        text.pop();
    }
    Ok(text)
}

fn title(doc: &mut Doc, b: &Bundle) {
    match b.major {
        Some(m) => doc.block(format!("# {} v{m}", b.template_name)),
        None => doc.block(format!("# {}", b.template_name)),
    }
    let kind = b.kind.describe();
    let kind = format!("{}{} template", kind[..1].to_uppercase(), &kind[1..]);
    let name = match b.major {
        Some(_) => b.label(),
        None => b.template_name.clone(),
    };
    let pipeline = if b.has_pipeline() {
        " with a pipeline"
    } else {
        ""
    };
    doc.block(format!(
        "{kind} {}{pipeline}, in {}.",
        code(&name),
        code(&b.display)
    ));
    let primary = if b.kind == BundleKind::Service {
        b.service_type()
    } else {
        b.environment_type()
    };
    if let Some(d) = primary.and_then(|t| t.node.get("description")?.as_str()) {
        quote(doc, d);
    }
}

/// A description as a block quote.
fn quote(doc: &mut Doc, text: &str) {
    for l in text.trim_end().lines() {
        if l.trim().is_empty() {
            doc.line(">");
        } else {
            doc.line(format!("> {}", prose(l)));
        }
    }
    doc.line("");
}

fn compatible_environments(doc: &mut Doc, b: &Bundle) {
    doc.block("## Compatible environments");
    if b.compatible_environments.is_empty() {
        doc.block(
            "No environment template is registered (`.template-registration.yaml`): Proton deploys instances of this service into none.",
        );
        return;
    }
    if let [one] = b.compatible_environments.as_slice() {
        doc.block(format!(
            "Each instance of this service runs in an environment made from {}.",
            code(&one.to_string())
        ));
        return;
    }
    doc.block("Each instance of this service runs in an environment made from one of:");
    for env in &b.compatible_environments {
        doc.line(format!("- {}", code(&env.to_string())));
    }
    doc.line("");
}

fn inputs(doc: &mut Doc, b: &Bundle) {
    let schema_file = b
        .schema
        .as_ref()
        .map(|s| s.source.name().to_string())
        .unwrap_or_default();
    let declared =
        |ty: &InputType| format!("Declared as {} in {}.", code(&ty.name), code(&schema_file));
    match b.kind {
        BundleKind::Environment | BundleKind::CustomerManagedEnvironment => {
            doc.block("## Environment inputs");
            if let Some(ty) = b.environment_type() {
                doc.block(format!(
                    "Written under `spec:` in an environment spec (`proton: EnvironmentSpec`). {}",
                    declared(ty)
                ));
                input_table(doc, ty);
            }
        }
        BundleKind::Service => {
            doc.block("## Service instance inputs");
            if let Some(ty) = b.service_type() {
                doc.block(format!(
                    "Written under each instance's `spec:` in the service spec (`proton: ServiceSpec`). {}",
                    declared(ty)
                ));
                input_table(doc, ty);
            }
            if let Some(ty) = b.pipeline_type() {
                doc.block("## Pipeline inputs");
                if let Some(d) = ty.node.get("description").and_then(Node::as_str) {
                    quote(doc, d);
                }
                doc.block(format!(
                    "Written under `pipeline:` in the service spec. {}",
                    declared(ty)
                ));
                input_table(doc, ty);
            }
        }
        BundleKind::Component => {
            doc.block("## Inputs");
            doc.block(
                "A component has no inputs and no spec of its own. It is attached to a service instance, and its template reads that instance's inputs (`service_instance.inputs.<name>`) and its environment's outputs (`environment.outputs.<name>`).",
            );
        }
    }
}

/// One row of an input table.
struct Row {
    name: String,
    ty: String,
    required: bool,
    default: String,
    constraints: String,
    description: String,
}

fn input_table(doc: &mut Doc, ty: &InputType) {
    let mut rows = Vec::new();
    let required = required_of(&ty.node);
    for name in &ty.properties {
        if let Some(p) = ty.node.pointer(["properties", name.as_str()]) {
            property_rows(name, p, required.contains(name), 0, &mut rows);
        }
    }
    if rows.is_empty() {
        doc.block("It declares no inputs.");
        return;
    }
    doc.line("| Input | Type | Required | Default | Constraints | Description |");
    doc.line("|---|---|---|---|---|---|");
    for r in rows {
        let cells = [
            code(&r.name),
            prose(&r.ty),
            (if r.required { "yes" } else { "no" }).to_string(),
            r.default,
            r.constraints,
            r.description,
        ];
        let mut row = String::from("|");
        for c in cells {
            if !c.is_empty() {
                row.push(' ');
                row.push_str(&c.replace('|', "\\|"));
            }
            row.push_str(" |");
        }
        doc.line(row);
    }
    doc.line("");
}

fn required_of(node: &Node) -> Vec<String> {
    node.get("required")
        .and_then(Node::as_seq)
        .map(|r| r.iter().filter_map(Node::scalar_text).collect())
        .unwrap_or_default()
}

/// How deep nested objects are listed (`a.b.c`); deeper ones are left to the schema.
const MAX_NESTING: usize = 4;

/// The row of one property, then rows of the properties of an object (`name.child`) or of the
/// objects in a list (`name[].child`).
fn property_rows(name: &str, p: &Node, required: bool, depth: usize, rows: &mut Vec<Row>) {
    let pj = p.to_json();
    rows.push(Row {
        name: name.to_string(),
        ty: type_text(&pj),
        required,
        default: pj
            .get("default")
            .map(|d| code(&inline(d)))
            .unwrap_or_default(),
        constraints: constraints(&pj).join("; "),
        description: description(&pj),
    });
    if depth >= MAX_NESTING {
        return;
    }
    let (object, prefix) = match pj.get("type").and_then(Json::as_str) {
        Some("array") => (p.get("items"), format!("{name}[].")),
        _ => (Some(p), format!("{name}.")),
    };
    let Some(object) = object else { return };
    let Some(props) = object.get("properties").and_then(Node::as_map) else {
        return;
    };
    let req = required_of(object);
    for (k, v) in props {
        let child = k.scalar_text().unwrap_or_default();
        let is_required = req.contains(&child);
        property_rows(&format!("{prefix}{child}"), v, is_required, depth + 1, rows);
    }
}

/// `string`, `string (email), nullable`, `array of string`, `map of string`.
fn type_text(pj: &Json) -> String {
    let mut s = match pj.get("type").and_then(Json::as_str) {
        Some("array") => match pj.get("items") {
            Some(items) => {
                let item = type_text(items);
                if item.contains(',') {
                    format!("array of ({item})")
                } else {
                    format!("array of {item}")
                }
            }
            None => "array".to_string(),
        },
        Some("object") => match pj.get("additionalProperties") {
            Some(ap @ Json::Object(_)) if pj.get("properties").is_none() => {
                format!("map of {}", type_text(ap))
            }
            _ => "object".to_string(),
        },
        Some(t) => t.to_string(),
        None => "any".to_string(),
    };
    if let Some(f) = pj.get("format").and_then(Json::as_str) {
        s.push_str(&format!(" ({f})"));
    }
    if pj.get("nullable") == Some(&Json::Bool(true)) {
        s.push_str(", nullable");
    }
    s
}

/// The constraints of one schema, as short phrases (Markdown).
fn constraints(pj: &Json) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(values) = pj.get("enum").and_then(Json::as_array) {
        let values: Vec<String> = values.iter().map(|v| code(&inline(v))).collect();
        out.push(format!("one of {}", values.join(", ")));
    }
    let count = |k: &str| pj.get(k).and_then(Json::as_u64);
    if let Some(s) = counted(count("minLength"), count("maxLength"), "character") {
        out.push(s);
    }
    if let Some(s) = bounds(pj) {
        out.push(s);
    }
    if let Some(m) = pj.get("multipleOf") {
        out.push(format!("a multiple of {}", inline(m)));
    }
    if let Some(p) = pj.get("pattern").and_then(Json::as_str) {
        out.push(format!("matches {}", code(p)));
    }
    if let Some(s) = counted(count("minItems"), count("maxItems"), "item") {
        out.push(s);
    }
    if pj.get("uniqueItems") == Some(&Json::Bool(true)) {
        out.push("no duplicates".to_string());
    }
    if let Some(s) = counted(count("minProperties"), count("maxProperties"), "entry") {
        out.push(s);
    }
    if pj.get("additionalProperties") == Some(&Json::Bool(false)) {
        out.push("no other keys".to_string());
    }
    if let Some(Json::Object(ap)) = pj.get("additionalProperties") {
        let each = constraints(&Json::Object(ap.clone()));
        if !each.is_empty() {
            out.push(format!("each value: {}", each.join(", ")));
        }
    }
    for k in ["allOf", "anyOf", "oneOf", "not"] {
        if pj.get(k).is_some() {
            out.push(format!("{} (see the schema)", code(k)));
        }
    }
    if let Some(items) = pj.get("items") {
        let each = constraints(items);
        if !each.is_empty() {
            out.push(format!("each item: {}", each.join(", ")));
        }
    }
    out
}

/// `1 to 40 characters`, `at least 1 item`, `exactly 2 items`.
fn counted(min: Option<u64>, max: Option<u64>, unit: &str) -> Option<String> {
    let units = |n: u64| match (n, unit) {
        (1, _) => unit.to_string(),
        (_, "entry") => "entries".to_string(),
        _ => format!("{unit}s"),
    };
    Some(match (min, max) {
        (Some(a), Some(b)) if a == b => format!("exactly {a} {}", units(a)),
        (Some(a), Some(b)) => format!("{a} to {b} {}", units(2)),
        (Some(a), None) => format!("at least {a} {}", units(a)),
        (None, Some(b)) => format!("at most {b} {}", units(b)),
        (None, None) => return None,
    })
}

/// `0 to 65535`, `at least 1`, `more than 0 and at most 10`.
fn bounds(pj: &Json) -> Option<String> {
    let min = pj.get("minimum").map(inline);
    let max = pj.get("maximum").map(inline);
    let excl = |k: &str| pj.get(k) == Some(&Json::Bool(true));
    let (xmin, xmax) = (excl("exclusiveMinimum"), excl("exclusiveMaximum"));
    if let (Some(a), Some(b), false, false) = (&min, &max, xmin, xmax) {
        return Some(format!("{a} to {b}"));
    }
    let low = min.map(|a| {
        if xmin {
            format!("more than {a}")
        } else {
            format!("at least {a}")
        }
    });
    let high = max.map(|b| {
        if xmax {
            format!("less than {b}")
        } else {
            format!("at most {b}")
        }
    });
    match (low, high) {
        (Some(l), Some(h)) => Some(format!("{l} and {h}")),
        (l, h) => l.or(h),
    }
}

/// Title, description, example and deprecation of a property (Markdown).
fn description(pj: &Json) -> String {
    let text = |k: &str| pj.get(k).and_then(Json::as_str).map(prose);
    let mut s = match (text("title"), text("description")) {
        (Some(t), Some(d)) => format!("{t}: {d}"),
        (t, d) => t.or(d).unwrap_or_default(),
    };
    if let Some(e) = pj.get("example") {
        let e = code(&inline(e));
        s = if s.is_empty() {
            format!("Example: {e}")
        } else {
            format!("{s} (example: {e})")
        };
    }
    if pj.get("deprecated") == Some(&Json::Bool(true)) {
        s = format!("**Deprecated.** {s}").trim_end().to_string();
    }
    s
}

fn outputs(doc: &mut Doc, b: &Bundle) -> Result<(), String> {
    doc.block("## Outputs");
    if b.kind == BundleKind::CustomerManagedEnvironment {
        doc.block(
            "The environment's infrastructure is made outside Proton: its inputs are its outputs. Service instances in the environment read them as `environment.outputs.<name>`.",
        );
        return Ok(());
    }
    let several = b.infrastructure.len() > 1;
    for infra in &b.infrastructure {
        let stack = match infra.role {
            Role::Environment => "The environment's stack",
            Role::ServiceInstance => "Each instance's stack",
            Role::Pipeline => "The pipeline's stack",
            Role::Component => "The component's stack",
        };
        if several {
            let heading = match infra.role {
                Role::ServiceInstance => "Service instance stack",
                Role::Pipeline => "Pipeline stack",
                Role::Environment => "Environment stack",
                Role::Component => "Component stack",
            };
            doc.block(format!("### {heading}"));
        }
        let how = match infra.role {
            Role::Environment => {
                " Service instances in the environment read them as `environment.outputs.<name>` (always strings)."
            }
            Role::ServiceInstance if b.has_pipeline() => {
                " The service's pipeline reads them as `outputs.<name>` of each entry of `service_instances`."
            }
            Role::Component => {
                " The service instance it is attached to reads them as `service_instance.components.default.outputs.<name>`."
            }
            _ => "",
        };
        for t in &infra.templates {
            let (Engine::JinjaCloudFormation, Some(path)) = (&t.engine, &t.path) else {
                doc.block(format!(
                    "{} is not a Jinja CloudFormation template: its outputs are not listed.",
                    code(&t.display)
                ));
                continue;
            };
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read `{}`: {e}", t.display))?;
            let declared = crate::template::analyse::declared_outputs(&text, &b.label());
            let described = output_descriptions(&text);
            let file = code(&t.display);
            const MADE: &str = "whose names Jinja makes as the template renders (in a loop, for example), so they cannot be listed here";
            if declared.names.is_empty() {
                doc.block(if declared.dynamic {
                    format!("{stack} declares outputs {MADE} ({file}).{how}")
                } else {
                    format!("{stack} declares no outputs ({file}).")
                });
                continue;
            }
            doc.block(format!("{stack} declares these outputs ({file}).{how}"));
            for name in &declared.names {
                match described.get(name) {
                    Some(d) => doc.line(format!("- {}: {}", code(name), prose(d))),
                    None => doc.line(format!("- {}", code(name))),
                }
            }
            doc.line("");
            if declared.dynamic {
                doc.block(format!("It also declares outputs {MADE}."));
            }
        }
    }
    Ok(())
}

/// The literal `Description:` of each Output, read from the template's text (as
/// `declared_outputs` reads the names): descriptions with Jinja or YAML tags are left out.
fn output_descriptions(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut in_outputs = false;
    let mut key_indent: Option<usize> = None;
    let mut current: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("{%") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent == 0 {
            in_outputs = trimmed.starts_with("Outputs:");
            key_indent = None;
            current = None;
            continue;
        }
        if !in_outputs {
            continue;
        }
        let ki = *key_indent.get_or_insert(indent);
        if indent == ki {
            current = trimmed
                .split_once(':')
                .map(|(k, _)| k.trim().trim_matches(['"', '\'']).to_string());
        } else if indent > ki
            && let Some(name) = &current
            && let Some(rest) = trimmed.strip_prefix("Description:")
            && let Some(d) = literal_scalar(rest.trim())
        {
            out.entry(name.clone()).or_insert(d);
        }
    }
    out
}

/// A one-line YAML scalar's text, when it is literal (no Jinja, tag or collection).
fn literal_scalar(s: &str) -> Option<String> {
    if s.is_empty() || s.contains("{{") || s.contains("{%") || s.contains("{#") {
        return None;
    }
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    if s.starts_with('"') {
        return serde_json::from_str::<String>(s).ok();
    }
    if s.starts_with(['!', '[', '{', '|', '>', '&', '*', '\'']) {
        return None;
    }
    let s = s.find(" #").map_or(s, |i| s[..i].trim_end());
    Some(s.to_string())
}

fn example(doc: &mut Doc, b: &Bundle) -> Result<(), String> {
    let Some((spec, note)) = example_spec(b)? else {
        return Ok(());
    };
    doc.block(EXAMPLE_HEADING);
    doc.block(format!(
        "A spec that proctor accepts, with every default written out and a sample value for each required input that has none. {note}Check yours with `proctor check {} --spec FILE`.",
        b.display
    ));
    doc.line("```yaml");
    doc.text.push_str(&spec);
    doc.block("```");
    Ok(())
}

/// The example spec's YAML and a note to show before it; `None` for a component (it has no
/// spec). An example that does not satisfy the schema is a proctor bug, not the user's.
fn example_spec(b: &Bundle) -> Result<Option<(String, String)>, String> {
    let missing = |what: &str| {
        format!(
            "internal error: `{}` has no {what} input type although it loaded without errors; please report it",
            b.display
        )
    };
    let mut doc = Map::new();
    let mut parts: Vec<(&InputType, Vec<&str>)> = Vec::new();
    let note = match b.kind {
        BundleKind::Component => return Ok(None),
        BundleKind::Environment | BundleKind::CustomerManagedEnvironment => {
            let ty = b.environment_type().ok_or_else(|| missing("environment"))?;
            doc.insert("proton".into(), Json::from("EnvironmentSpec"));
            doc.insert("spec".into(), crate::schema::sample::synthesize(ty));
            parts.push((ty, vec!["spec"]));
            String::new()
        }
        BundleKind::Service => {
            let ty = b.service_type().ok_or_else(|| missing("service"))?;
            let mut instance = Map::new();
            instance.insert("name".into(), Json::from(instance_name(&b.template_name)));
            instance.insert("environment".into(), Json::from(EXAMPLE_ENVIRONMENT));
            instance.insert("spec".into(), crate::schema::sample::synthesize(ty));
            doc.insert("proton".into(), Json::from("ServiceSpec"));
            doc.insert(
                "instances".into(),
                Json::Array(vec![Json::Object(instance)]),
            );
            parts.push((ty, vec!["instances", "0", "spec"]));
            if let Some(pipe) = b.pipeline_type() {
                doc.insert("pipeline".into(), crate::schema::sample::synthesize(pipe));
                parts.push((pipe, vec!["pipeline"]));
            }
            let envs: Vec<String> = b
                .compatible_environments
                .iter()
                .map(|e| code(&e.to_string()))
                .collect();
            match envs.as_slice() {
                [] => format!("Replace `{EXAMPLE_ENVIRONMENT}` with your environment's name. "),
                [one] => format!(
                    "Replace `{EXAMPLE_ENVIRONMENT}` with the name of an environment made from {one}. "
                ),
                _ => format!(
                    "Replace `{EXAMPLE_ENVIRONMENT}` with the name of an environment made from one of {}. ",
                    envs.join(", ")
                ),
            }
        }
    };
    let doc = Json::Object(doc);
    let text = to_yaml(&doc);
    let bug = |why: String| {
        format!(
            "internal error: the example spec proctor made for `{}` {why}; please report it",
            b.display
        )
    };

    // Read the text back as a developer's spec would be read, and check what was read.
    let source = SourceFile::new("example spec", PathBuf::new(), text.clone());
    let options = yaml::ParseOptions {
        warn_yaml11: true,
        ..Default::default()
    };
    let mut diags = Vec::new();
    let parsed = yaml::parse(&source, &options, &mut diags);
    if let Some(d) = diags.first() {
        return Err(bug(format!("does not read back as YAML ({})", d.message)));
    }
    let Some(parsed) = parsed.map(|n| n.to_json()) else {
        return Err(bug("does not read back as YAML".to_string()));
    };
    if parsed != doc {
        return Err(bug(format!("reads back as {parsed} instead of {doc}")));
    }
    for (ty, at) in parts {
        let Some(validator) = &ty.validator else {
            return Err(bug(format!(
                "cannot be checked: `{}` did not compile",
                ty.name
            )));
        };
        let value = at
            .iter()
            .try_fold(&parsed, |v, seg| match v {
                Json::Array(items) => items.get(seg.parse::<usize>().ok()?),
                _ => v.get(seg),
            })
            .ok_or_else(|| bug(format!("has no `{}`", at.join("."))))?;
        if let Some(e) = validator.iter_errors(value).next() {
            let at = e.instance_path().to_string();
            return Err(bug(format!(
                "does not satisfy `{}` (at `{}`: {e})",
                ty.name,
                if at.is_empty() { "/" } else { &at }
            )));
        }
    }
    Ok(Some((text, note)))
}

/// The environment the example service instance names.
const EXAMPLE_ENVIRONMENT: &str = "dev";

/// `<template>-instance`, within Proton's 100 characters.
fn instance_name(template: &str) -> String {
    let suffix = "-instance";
    let keep: String = template.chars().take(100 - suffix.len()).collect();
    format!("{keep}{suffix}")
}

// ---------------------------------------------------------------------------------------------
// Markdown text

/// Text for Markdown prose: HTML is shown as text, line breaks stay (`<br>`, valid in table
/// cells too). Pipes are escaped by the table writer.
fn prose(s: &str) -> String {
    s.trim()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace("\r\n", "\n")
        .replace('\n', "<br>")
}

/// A code span that shows `s` exactly, whatever backticks it holds.
fn code(s: &str) -> String {
    let s = s.replace("\r\n", "\\n").replace('\n', "\\n");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if s.starts_with('`') || s.ends_with('`') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::yaml_out::yaml_string;
    use super::*;

    /// What proctor's YAML reader makes of `key: <text>`.
    fn read_back(text: &str) -> Json {
        let doc = format!("key: {text}\n");
        let source = SourceFile::new("t.yaml", PathBuf::new(), doc.clone());
        let options = yaml::ParseOptions {
            warn_yaml11: true,
            ..Default::default()
        };
        let mut diags = Vec::new();
        let node = yaml::parse(&source, &options, &mut diags).expect("parses");
        assert!(diags.is_empty(), "{doc}: {:?}", diags[0].message);
        node.to_json()["key"].clone()
    }

    #[test]
    fn strings_are_plain_only_when_they_read_back_as_themselves() {
        for s in [
            "sample",
            "10.0.0.0/16",
            "echo 'add your unit test command here'",
            "public.ecr.aws/nginx/nginx:stable",
            "/healthz",
            "a, b [c] {d}",
            "café",
            "x-small",
            "key:value",
            "sample-1.2",
        ] {
            assert_eq!(yaml_string(s), s, "{s} should stay plain");
            assert_eq!(read_back(&yaml_string(s)), Json::from(s));
        }
        for s in [
            "",
            " lead",
            "trail ",
            "yes",
            "no",
            "on",
            "off",
            "Yes",
            "OFF",
            "y",
            "n",
            "true",
            "False",
            "null",
            "~",
            "Null",
            "123",
            "-1",
            "+1",
            "1.5",
            ".5",
            "1e3",
            "0x1F",
            "0o17",
            "0644",
            "1_000",
            "1:30",
            "0b101",
            ".inf",
            "-.inf",
            ".nan",
            "a: b",
            "a #b",
            "a#b",
            "#x",
            "-x",
            "- x",
            "?x",
            ":x",
            "x:",
            "*x",
            "&x",
            "!x",
            "|x",
            ">x",
            "[x",
            "{x",
            "'x",
            "\"x",
            "%x",
            "@x",
            "`x",
            ",x",
            "a\nb",
            "tab\there",
            "...",
            "---",
            "<<",
            "=",
            "bell\u{7}",
        ] {
            let y = yaml_string(s);
            assert!(y.starts_with('"'), "{s:?} should be quoted, got {y}");
            assert_eq!(read_back(&y), Json::from(s), "{s:?} as {y}");
        }
    }

    #[test]
    fn block_yaml_reads_back_as_the_value() {
        let value = serde_json::json!({
            "proton": "ServiceSpec",
            "instances": [{"name": "a-instance", "environment": "dev", "spec": {
                "port": 80, "ratio": 1.0, "half": 0.5, "on": "yes", "empty": {}, "none": [],
                "nested": {"list": [[1, 2], [], {"k": "v: w"}], "null": null},
                "flags": [true, false]
            }}],
            "pipeline": {},
        });
        let text = to_yaml(&value);
        let source = SourceFile::new("t.yaml", PathBuf::new(), text.clone());
        let mut diags = Vec::new();
        let node = yaml::parse(&source, &yaml::ParseOptions::default(), &mut diags);
        assert!(diags.is_empty(), "{text}");
        assert_eq!(node.expect("parses").to_json(), value, "{text}");
        assert!(text.starts_with("proton: ServiceSpec\ninstances:\n  - name: a-instance\n"));
        assert!(text.contains("\n    spec:\n      port: 80\n      ratio: 1.0\n"));
        assert!(text.contains("      \"on\": \"yes\"\n"), "{text}");
        assert!(text.ends_with("pipeline: {}\n"), "{text}");
    }

    #[test]
    fn inline_values_for_tables() {
        let v = serde_json::json!(["10.0.0.0/24", "a,b", "yes", 2]);
        assert_eq!(inline(&v), r#"[10.0.0.0/24, "a,b", "yes", 2]"#);
        assert_eq!(inline(&serde_json::json!({"k": "v"})), "{k: v}");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(prose("a <b>\nc"), "a &lt;b><br>c");
    }

    #[test]
    fn markers_replace_only_the_text_between_them() {
        let text = format!("# Readme\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\nafter\n");
        assert_eq!(
            splice(&text, "new\n").expect("spliced"),
            format!("# Readme\n\n{BEGIN_MARKER}\nnew\n{END_MARKER}\n\nafter\n")
        );
        assert_eq!(splice("no markers\n", "new\n").expect("whole"), "new\n");
        let crlf = format!("a\r\n{BEGIN_MARKER}\r\n{END_MARKER}\r\n");
        assert_eq!(
            splice(&crlf, "x\ny\n").expect("spliced"),
            format!("a\r\n{BEGIN_MARKER}\r\nx\r\ny\r\n{END_MARKER}\r\n")
        );
        assert!(splice(&format!("{BEGIN_MARKER}\n"), "x").is_err());
        assert!(splice(&format!("{END_MARKER}\n{BEGIN_MARKER}\n"), "x").is_err());
        assert!(
            splice(
                &format!("{BEGIN_MARKER}{END_MARKER}{BEGIN_MARKER}{END_MARKER}"),
                "x"
            )
            .is_err()
        );
    }

    #[test]
    fn constraints_read_as_phrases() {
        let pj = serde_json::json!({
            "type": "array", "minItems": 2, "maxItems": 2, "uniqueItems": true,
            "items": {"type": "string", "pattern": "^a|b$"}
        });
        assert_eq!(type_text(&pj), "array of string");
        assert_eq!(
            constraints(&pj),
            [
                "exactly 2 items",
                "no duplicates",
                "each item: matches `^a|b$`"
            ]
        );
        let n = serde_json::json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 10});
        assert_eq!(bounds(&n).as_deref(), Some("more than 0 and at most 10"));
        let s = serde_json::json!({"type": "string", "nullable": true, "format": "email", "minLength": 1});
        assert_eq!(type_text(&s), "string (email), nullable");
        assert_eq!(constraints(&s), ["at least 1 character"]);
    }

    #[test]
    fn display_paths_are_relative_and_tidy() {
        let cwd = Path::new("/repo");
        assert_eq!(display_path("./templates/x/v1/", cwd), "templates/x/v1");
        assert_eq!(display_path("/repo/templates/x", cwd), "templates/x");
        assert_eq!(display_path("/elsewhere/x", cwd), "/elsewhere/x");
        assert_eq!(display_path(".", cwd), ".");
    }
}
