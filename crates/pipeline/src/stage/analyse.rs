//! The analysis stage: every Jinja CloudFormation template of the checked bundles is read and
//! checked statically (every reference resolves against the bundle's schema and the outputs
//! its environment declares), with the template lints that need no rendering: dynamic
//! references in Jinja braces (T006), Jinja in YAML comments (T007), string inputs pasted
//! unquoted (T008), inputs no template reads (T004).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use rayon::prelude::*;
use regex::Regex;

use crate::bundle::{Bundle, BundleKind, Engine, Role};
use crate::diag::{Diagnostic, codes};
use crate::files::read_in;
use crate::limits::Limits;
use crate::schema::InputType;
use crate::source::Source;
use crate::template::analyse::{self, Namespaces, OutputNames, Usage};

/// One template of a bundle, read and analysed.
pub struct Analysed {
    pub bundle: usize,
    pub role: Role,
    pub source: Source,
    /// `None` when the template does not parse (reported).
    pub usage: Option<Usage>,
}

/// What the analysis stage found.
#[derive(Default)]
pub struct Analysis {
    pub templates: Vec<Analysed>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Analyses remembered between runs (the cache's, `check::incremental`): a template read
/// as before, in a bundle whose files are as before, reading environment bundles whose
/// files are as before, found what it found before.
pub trait Memo: Sync {
    /// What analysing `source` (a template of `b`, in `role`) found before: its usage and
    /// its findings. `reads` are the other bundles its analysis reads (the environments `b`
    /// declares compatible, `None` for one not loaded).
    fn recall(
        &self,
        b: &Bundle,
        template: (Role, &Source),
        reads: &[Option<&Bundle>],
    ) -> Option<(Option<Usage>, Vec<Diagnostic>)>;

    /// Remembers what analysing `source` found.
    fn keep(
        &self,
        b: &Bundle,
        template: (Role, &Source),
        reads: &[Option<&Bundle>],
        found: (Option<&Usage>, &[Diagnostic]),
    );
}

/// Analyses every Jinja CloudFormation template of `bundles` (the ones this run checks), in
/// parallel. `related` are other loaded bundles (environment templates that services declare
/// compatible), read for the outputs they declare. A template `memo` recalls is not analysed
/// again.
pub fn run(
    bundles: &[&Bundle],
    related: &[&Bundle],
    (limits, buffers): (&Limits, &crate::files::Buffers),
    memo: Option<&dyn Memo>,
) -> Analysis {
    let jobs: Vec<(usize, Role, &crate::bundle::TemplateFile)> = bundles
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            b.infrastructure.iter().flat_map(move |inf| {
                inf.templates
                    .iter()
                    .filter(|t| t.engine == Engine::JinjaCloudFormation && t.path.is_some())
                    .map(move |t| (i, inf.role, t))
            })
        })
        .collect();
    let declared = Declared::default();
    let analysed: Vec<(Option<Analysed>, Vec<Diagnostic>)> = jobs
        .par_iter()
        .map(|&(i, role, t)| {
            let mut diags = Vec::new();
            let job = Job {
                bundles,
                related,
                limits,
                buffers,
                declared: &declared,
                memo,
            };
            let a = job.template(i, role, t, &mut diags);
            (a, diags)
        })
        .collect();
    let mut out = Analysis::default();
    for (a, diags) in analysed {
        out.diagnostics.extend(diags);
        out.templates.extend(a);
    }
    for (i, b) in bundles.iter().enumerate() {
        unused_inputs(
            b,
            out.templates.iter().filter(|t| t.bundle == i),
            &mut out.diagnostics,
        );
    }
    out
}

/// What analysing one template needs to know of the run.
struct Job<'a> {
    bundles: &'a [&'a Bundle],
    related: &'a [&'a Bundle],
    limits: &'a Limits,
    buffers: &'a crate::files::Buffers,
    declared: &'a Declared,
    memo: Option<&'a dyn Memo>,
}

impl Job<'_> {
    fn template(
        &self,
        index: usize,
        role: Role,
        t: &crate::bundle::TemplateFile,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Analysed> {
        let b = self.bundles[index];
        let limits = self.limits;
        let path = t.path.as_ref()?;
        let source = match read_in(self.buffers, path, &t.display, limits.max_file_bytes) {
            Ok(s) => s,
            Err(d) => {
                diags.push(*d);
                return None;
            }
        };
        let reads = match b.kind {
            BundleKind::Service => compatible_bundles(b, self.related, self.bundles),
            _ => Vec::new(),
        };
        let recalled = self.memo.and_then(|m| m.recall(b, (role, &source), &reads));
        if let Some((usage, found)) = recalled {
            diags.extend(found);
            return Some(Analysed {
                bundle: index,
                role,
                source,
                usage,
            });
        }
        let names = |ty: Option<&InputType>| ty.map(|t| t.properties.clone());
        let ns = Namespaces {
            environment_inputs: names(b.environment_type()),
            service_inputs: names(b.service_type()),
            pipeline_inputs: names(b.pipeline_type()),
            environment_outputs: if b.kind == BundleKind::Service {
                let reading = (limits, self.buffers);
                compatible_outputs(b, self.related, self.bundles, reading, self.declared)
            } else {
                None
            },
            instance_outputs: b
                .infrastructure
                .iter()
                .find(|i| i.role == Role::ServiceInstance)
                .and_then(|i| i.templates.first()?.path.as_ref())
                .and_then(|p| {
                    let from = format!("{} (instance template)", b.label());
                    self.declared.of(p, &from, (limits, self.buffers))
                }),
        };
        let raw = raw_regions(source.text());
        let consumed = dynamic_references(&source, &raw, diags);
        comments(&source, &raw, diags);
        let mut parse_diags = Vec::new();
        let errors_before = diags
            .iter()
            .filter(|d| d.severity == crate::diag::Severity::Error)
            .count();
        let usage = analyse::parse(&source, &mut parse_diags)
            .map(|ast| analyse::check(&source, &ast, role, &ns, diags));
        // A template with static errors is not rendered: its render errors would repeat them.
        let usage = usage.filter(|_| {
            diags
                .iter()
                .filter(|d| d.severity == crate::diag::Severity::Error)
                .count()
                == errors_before
        });
        // A `{{resolve:...}}` is also a Jinja syntax error; T006 says it better.
        parse_diags.retain(|d| {
            let line = d
                .primary
                .as_ref()
                .map_or(0, |p| source.line_col(p.at.span.start).0);
            !consumed.contains(&line)
        });
        diags.extend(parse_diags);
        if let Some(u) = &usage {
            unquoted_inputs(&source, u, b, role, diags);
        }
        if let Some(m) = self.memo {
            m.keep(b, (role, &source), &reads, (usage.as_ref(), diags));
        }
        Some(Analysed {
            bundle: index,
            role,
            source,
            usage,
        })
    }
}

/// The outputs each template file declares, read once per file in a run: every template of
/// a service bundle reads its compatible environment templates', and a pipeline template its
/// instance template's (on 100 bundles, hundreds of reads of a dozen files).
#[derive(Default)]
pub(crate) struct Declared(Mutex<HashMap<PathBuf, Option<OutputNames>>>);

impl Declared {
    /// What the template at `path` declares, named `from` in messages; `None` when it cannot
    /// be read.
    pub(crate) fn of(
        &self,
        path: &Path,
        from: &str,
        (limits, buffers): (&Limits, &crate::files::Buffers),
    ) -> Option<OutputNames> {
        let known = self.0.lock().ok().and_then(|m| m.get(path).cloned());
        let names = known.unwrap_or_else(|| {
            let text = read_in(buffers, path, "", limits.max_file_bytes).ok();
            let names = text.map(|t| analyse::declared_outputs(t.text(), ""));
            if let Ok(mut m) = self.0.lock() {
                m.insert(path.to_path_buf(), names.clone());
            }
            names
        });
        names.map(|n| OutputNames {
            from: from.to_string(),
            ..n
        })
    }

    /// What `source` (a template already read) declares: its text read once, under its
    /// path, like `of`'s.
    pub(crate) fn of_source(&self, source: &Source) -> OutputNames {
        let known = self
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(source.path()).cloned());
        if let Some(Some(names)) = known {
            return names;
        }
        let names = analyse::declared_outputs(source.text(), "");
        if let Ok(mut m) = self.0.lock() {
            m.insert(source.path().to_path_buf(), Some(names.clone()));
        }
        names
    }
}

/// The environment bundles `b` declares compatible, in its order, as loaded (`None` for one
/// that is not).
fn compatible_bundles<'b>(
    b: &Bundle,
    related: &[&'b Bundle],
    bundles: &[&'b Bundle],
) -> Vec<Option<&'b Bundle>> {
    let env = |c: &crate::bundle::EnvTemplateRef| {
        related.iter().chain(bundles).copied().find(|e| {
            e.kind == BundleKind::Environment
                && e.template_name == c.name
                && e.major.unwrap_or(1) == c.major
        })
    };
    b.compatible_environments.iter().map(env).collect()
}

/// The outputs the compatible environment templates of a service bundle declare (union).
pub(crate) fn compatible_outputs(
    b: &Bundle,
    related: &[&Bundle],
    bundles: &[&Bundle],
    reading: (&Limits, &crate::files::Buffers),
    declared: &Declared,
) -> Option<OutputNames> {
    let mut out: Option<OutputNames> = None;
    for env in compatible_bundles(b, related, bundles) {
        let env = env?;
        let t = env
            .infrastructure
            .iter()
            .flat_map(|i| &i.templates)
            .find_map(|t| t.path.as_ref())?;
        let names = declared.of(t, &env.label(), reading)?;
        let o = out.get_or_insert_with(|| OutputNames {
            from: names.from.clone(),
            ..OutputNames::default()
        });
        o.names.extend(names.names);
        o.dynamic |= names.dynamic;
        if o.from != names.from {
            o.from = format!("{}, {}", o.from, names.from);
        }
    }
    out
}

// Constant patterns: `expect` cannot fail on any input.
#[allow(clippy::expect_used)]
static RAW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}").expect("valid regex")
});
#[allow(clippy::expect_used)]
static RESOLVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{\s*resolve:[^}]*\}\}").expect("valid regex"));

fn raw_regions(text: &str) -> Vec<Range<usize>> {
    RAW.find_iter(text).map(|m| m.range()).collect()
}

fn inside(raw: &[Range<usize>], at: usize) -> bool {
    raw.iter().any(|r| r.contains(&at))
}

/// `{{resolve:...}}` outside `{% raw %}`: the lines it stands on.
fn dynamic_references(
    source: &Source,
    raw: &[Range<usize>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<usize> {
    let mut lines = Vec::new();
    for m in RESOLVE.find_iter(source.text()) {
        if inside(raw, m.start()) {
            continue;
        }
        lines.push(source.line_col(m.start()).0);
        diags.push(
            Diagnostic::new(
                codes::T006,
                "CloudFormation dynamic reference inside Jinja braces",
            )
            .at(source, m.range())
            .primary_message("Jinja reads this as an expression; Proton rendered it as nothing")
            .help(format!(
                "wrap it so that Jinja leaves it alone: `{{% raw %}}{}{{% endraw %}}`",
                m.as_str()
            )),
        );
    }
    lines
}

/// Jinja inside YAML comments runs anyway: info, once per line.
fn comments(source: &Source, raw: &[Range<usize>], diags: &mut Vec<Diagnostic>) {
    let text = source.text();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(hash) = yaml_comment_start(line) {
            let rest = &line[hash..];
            if let Some(j) = rest.find("{{").or_else(|| rest.find("{%"))
                && !inside(raw, offset + hash + j)
                && !RESOLVE.is_match(&rest[j..])
            {
                let start = offset + hash + j;
                let end = rest[j..].find(['}']).map_or(start + 2, |e| {
                    (start + e + 2).min(offset + line.trim_end().len())
                });
                diags.push(
                    Diagnostic::new(codes::T007, "Jinja inside a YAML comment is still rendered")
                        .at(source, start..end.max(start + 2))
                        .help("use a Jinja comment `{# ... #}` if it should not run"),
                );
            }
        }
        offset += line.len();
    }
}

/// Where a YAML comment starts on a line: `#` at the start or after white space, outside
/// quotes and Jinja braces.
fn yaml_comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let (mut single, mut double, mut braces) = (false, false, 0i32);
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'\'' if !double && braces == 0 => single = !single,
            b'"' if !single && braces == 0 => double = !double,
            b'{' => braces += 1,
            b'}' => braces -= 1,
            b'#' if !single
                && !double
                && braces <= 0
                && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') =>
            {
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

/// A string input pasted as an unquoted YAML value: `Key: {{ x.inputs.name }}`.
fn unquoted_inputs(
    source: &Source,
    usage: &Usage,
    b: &Bundle,
    role: Role,
    diags: &mut Vec<Diagnostic>,
) {
    let ty = match role {
        Role::Environment => b.environment_type(),
        Role::Pipeline => b.pipeline_type(),
        _ => b.service_type(),
    };
    let Some(ty) = ty else { return };
    let text = source.text();
    let mut seen = Vec::new();
    for (range, name) in &usage.input_refs {
        let prop = &ty.json["properties"][name.as_str()];
        let is_free_string = prop["type"] == "string" && prop.get("enum").is_none();
        if !is_free_string || seen.contains(name) {
            continue;
        }
        let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[range.end..]
            .find('\n')
            .map_or(text.len(), |i| range.end + i);
        let before = &text[line_start..range.start];
        let Some(open) = before.rfind("{{") else {
            continue;
        };
        let after = &text[range.end..line_end];
        let Some(close) = after.find("}}") else {
            continue;
        };
        let prefix = before[..open].trim_end();
        let expression = &after[..close];
        let rest = after[close + 2..].trim();
        let value_position =
            prefix.ends_with(':') || prefix.ends_with(": -") || prefix.trim_start() == "-";
        if value_position && !expression.contains('|') && (rest.is_empty() || rest.starts_with('#'))
        {
            seen.push(name.clone());
            let start = line_start + open;
            let end = range.end + close + 2;
            diags.push(
                Diagnostic::new(
                    codes::T008,
                    format!("string input `{name}` is pasted as an unquoted YAML value"),
                )
                .at(source, start..end)
                .primary_message("a value with `: `, `#`, a leading `*`, or `yes` changes the YAML")
                .help(format!(
                    "quote it: `'{}'`, or emit JSON: `{{{{{}| tojson }}}}`",
                    &text[start..end],
                    &text[start + 2..end - 2]
                )),
            );
        }
    }
}

/// T004: inputs no template of the bundle reads.
fn unused_inputs<'a>(
    b: &Bundle,
    templates: impl Iterator<Item = &'a Analysed>,
    diags: &mut Vec<Diagnostic>,
) {
    let templates: Vec<&Analysed> = templates.collect();
    if templates.is_empty() || templates.iter().any(|t| t.usage.is_none()) {
        return;
    }
    let Some(schema) = &b.schema else { return };
    let kinds: [(&'static str, Option<&InputType>); 3] = [
        ("environment", b.environment_type()),
        ("service", b.service_type()),
        ("pipeline", b.pipeline_type()),
    ];
    let roles = |kind: &str| match kind {
        "environment" => Role::Environment,
        "pipeline" => Role::Pipeline,
        _ => Role::ServiceInstance,
    };
    for (kind, ty) in kinds {
        let Some(ty) = ty else { continue };
        // No template of that role (reported elsewhere, e.g. B005): nothing can use the inputs.
        if !templates.iter().any(|t| t.role == roles(kind)) {
            continue;
        }
        if templates
            .iter()
            .filter_map(|t| t.usage.as_ref())
            .any(|u| u.dynamic.contains(kind))
        {
            continue;
        }
        let Some(props) = ty
            .node
            .get("properties")
            .and_then(crate::yaml::Node::as_map)
        else {
            continue;
        };
        for (k, _) in props {
            let name = k.scalar_text().unwrap_or_default();
            let used = templates
                .iter()
                .filter_map(|t| t.usage.as_ref())
                .any(|u| u.inputs.contains(&(kind, name.clone())));
            if !used {
                diags.push(
                    Diagnostic::new(codes::T004, format!("input `{name}` of `{}` is not used by any template", ty.name))
                        .at(&schema.source, k.span.clone())
                        .help("use it in a template, or remove it from the schema (in a new major version if specs set it)"),
                );
            }
        }
    }
}
