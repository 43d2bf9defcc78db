//! Rendering a deployment unit: build the context Proton built (inputs with defaults, names,
//! account id, stack outputs known or placeholders), render, and turn failures into
//! diagnostics at the template expression.

use std::io::Write;
use std::ops::Range;
use std::sync::Arc;

use minijinja::value::Value;
use minijinja::{Environment, ErrorKind};
use serde_json::Value as Json;

use super::analyse::Usage;
use super::env::RenderLimits;
use super::proton_filters::indent_markers;
use crate::diag::{Diagnostic, codes};
use crate::source::Source;

pub use crate::cfn::PLACEHOLDER_PREFIX;

/// A stack's outputs as a template sees them: the values known before deployment, and a
/// placeholder for any other name.
#[derive(Clone, Debug, Default)]
pub struct StackOutputs {
    /// Where the outputs come from, as templates name them (`environment.outputs`).
    pub path: String,
    pub known: Vec<(String, String)>,
    /// Names that are declared but unknown (placeholders); `None` means any name is accepted.
    pub declared: Option<Vec<String>>,
}

impl StackOutputs {
    fn value(&self) -> Value {
        let this = self.clone();
        Value::make_object_map(
            this,
            |o| {
                let mut names: Vec<Value> = o
                    .known
                    .iter()
                    .map(|(k, _)| Value::from(k.as_str()))
                    .collect();
                if let Some(d) = &o.declared {
                    names.extend(
                        d.iter()
                            .filter(|n| !o.known.iter().any(|(k, _)| k == *n))
                            .map(|n| Value::from(n.as_str())),
                    );
                }
                Box::new(names.into_iter())
            },
            |o, key| {
                let key = key.as_str()?;
                if let Some((_, v)) = o.known.iter().find(|(k, _)| k == key) {
                    return Some(Value::from(v.as_str()));
                }
                let declared = o
                    .declared
                    .as_ref()
                    .is_none_or(|d| d.iter().any(|n| n == key));
                declared.then(|| Value::from(format!("{PLACEHOLDER_PREFIX}{}.{key}", o.path)))
            },
        )
    }

    pub fn is_placeholder(&self, name: &str) -> bool {
        !self.known.iter().any(|(k, _)| k == name)
    }
}

/// The names Proton passed in, besides inputs.
#[derive(Clone, Debug, Default)]
pub struct ServiceFacts {
    pub name: String,
    pub branch_name: Option<String>,
    pub repository_connection_arn: Option<String>,
    pub repository_id: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct EnvironmentFacts {
    pub name: String,
    pub account_id: Option<String>,
    pub outputs: StackOutputs,
}

/// One service instance, as a pipeline sees it.
#[derive(Clone, Debug)]
pub struct InstanceFacts {
    pub name: String,
    pub inputs: Json,
    pub outputs: StackOutputs,
    pub environment: EnvironmentFacts,
}

/// Everything a template of one role can see.
#[derive(Clone, Debug)]
pub enum Context {
    Environment {
        environment: EnvironmentFacts,
        inputs: Json,
    },
    ServiceInstance {
        environment: EnvironmentFacts,
        service: ServiceFacts,
        instance: String,
        inputs: Json,
    },
    Pipeline {
        service: ServiceFacts,
        inputs: Json,
        instances: Vec<InstanceFacts>,
    },
    /// A directly defined component, attached to a service instance. Its instance's inputs
    /// depend on the service it is attached to: unknown names render as placeholders.
    Component {
        name: String,
        environment: EnvironmentFacts,
        service: String,
        instance: String,
        instance_inputs: StackOutputs,
    },
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    // Undefined entries are left out, so that `is defined` works on them.
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_undefined())
        .map(|(k, v)| (k.to_string(), v))
        .collect::<std::collections::BTreeMap<String, Value>>()
        .into()
}

fn json(v: &Json) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// A name Proton always supplied: its declared value, or a placeholder (as for outputs not
/// deployed yet) when proctor.toml does not declare it, so that templates render as they
/// did under Proton and the build waits for the declaration.
fn supplied(s: &Option<String>, path: &str) -> Value {
    match s {
        Some(v) => Value::from(v.as_str()),
        None => Value::from(format!("{PLACEHOLDER_PREFIX}{path}")),
    }
}

fn service_value(s: &ServiceFacts) -> Value {
    map(vec![
        ("name", Value::from(s.name.as_str())),
        (
            "branch_name",
            supplied(&s.branch_name, "service.branch_name"),
        ),
        (
            "repository_connection_arn",
            supplied(
                &s.repository_connection_arn,
                "service.repository_connection_arn",
            ),
        ),
        (
            "repository_id",
            supplied(&s.repository_id, "service.repository_id"),
        ),
    ])
}

fn environment_value(e: &EnvironmentFacts) -> Value {
    map(vec![
        ("name", Value::from(e.name.as_str())),
        (
            "account_id",
            supplied(&e.account_id, "environment.account_id"),
        ),
        ("outputs", e.outputs.value()),
    ])
}

impl Context {
    pub fn to_value(&self) -> Value {
        match self {
            Context::Environment {
                environment,
                inputs,
            } => map(vec![(
                "environment",
                map(vec![
                    ("name", Value::from(environment.name.as_str())),
                    ("inputs", json(inputs)),
                ]),
            )]),
            Context::ServiceInstance {
                environment,
                service,
                instance,
                inputs,
            } => {
                let env = environment_value(environment);
                map(vec![
                    ("environment", env),
                    ("service", service_value(service)),
                    (
                        "service_instance",
                        map(vec![
                            ("name", Value::from(instance.as_str())),
                            ("inputs", json(inputs)),
                            // No component attached: its outputs are empty.
                            (
                                "components",
                                map(vec![("default", map(vec![("outputs", map(vec![]))]))]),
                            ),
                            (
                                "environment",
                                map(vec![("outputs", environment.outputs.value())]),
                            ),
                        ]),
                    ),
                ])
            }
            Context::Component {
                name,
                environment,
                service,
                instance,
                instance_inputs,
            } => map(vec![
                ("component", map(vec![("name", Value::from(name.as_str()))])),
                (
                    "environment",
                    map(vec![
                        ("name", Value::from(environment.name.as_str())),
                        ("outputs", environment.outputs.value()),
                    ]),
                ),
                (
                    "service",
                    map(vec![("name", Value::from(service.as_str()))]),
                ),
                (
                    "service_instance",
                    map(vec![
                        ("name", Value::from(instance.as_str())),
                        ("inputs", instance_inputs.value()),
                    ]),
                ),
            ]),
            Context::Pipeline {
                service,
                inputs,
                instances,
            } => map(vec![
                ("pipeline", map(vec![("inputs", json(inputs))])),
                ("service", service_value(service)),
                (
                    "service_instances",
                    Value::from(
                        instances
                            .iter()
                            .map(|i| {
                                map(vec![
                                    ("name", Value::from(i.name.as_str())),
                                    ("inputs", json(&i.inputs)),
                                    ("outputs", i.outputs.value()),
                                    ("environment", environment_value(&i.environment)),
                                ])
                            })
                            .collect::<Vec<_>>(),
                    ),
                ),
            ]),
        }
    }

    /// The context as `render --context` shows it: an output source that answers any name
    /// (a stack whose template is unknown) lists the output names the template reads, so
    /// that the JSON holds every value the render used.
    pub fn listing<'a>(&self, read: impl Iterator<Item = &'a str>) -> Context {
        let names: Vec<String> = read
            .filter_map(|dotted| dotted.rsplit_once('.').map(|(_, n)| n.to_string()))
            .collect();
        let mut c = self.clone();
        let fill = |o: &mut StackOutputs| {
            if o.declared.is_none() {
                let mut d = names.clone();
                d.sort();
                d.dedup();
                o.declared = Some(d);
            }
        };
        match &mut c {
            Context::Environment { .. } => {}
            Context::Component { environment, .. }
            | Context::ServiceInstance { environment, .. } => fill(&mut environment.outputs),
            Context::Pipeline { instances, .. } => {
                for i in instances {
                    fill(&mut i.outputs);
                    fill(&mut i.environment.outputs);
                }
            }
        }
        c
    }

    /// Every stack output the template can see, by the dotted name templates use.
    fn outputs(&self) -> Vec<&StackOutputs> {
        match self {
            Context::Environment { .. } => Vec::new(),
            Context::Component { environment, .. } => vec![&environment.outputs],
            Context::ServiceInstance { environment, .. } => vec![&environment.outputs],
            Context::Pipeline { instances, .. } => instances
                .iter()
                .flat_map(|i| [&i.outputs, &i.environment.outputs])
                .collect(),
        }
    }
}

/// Where a rendered input came from, to name it in a render error.
#[derive(Clone, Debug)]
pub struct InputOrigin {
    pub spec: Source,
    /// Each top-level input with the span of its value in the spec.
    pub values: Vec<(String, Range<usize>)>,
    /// Inputs were synthesized from the schema (no spec uses the bundle).
    pub synthesized: bool,
}

/// A writer that refuses to grow past a limit.
struct Capped {
    buf: Vec<u8>,
    limit: usize,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            return Err(std::io::Error::other("output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Maps offsets in a rendered template back to the template's source.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// (output range in the raw render, template range, verbatim text?), sorted by output.
    spans: Vec<(Range<usize>, Range<usize>, bool)>,
    /// `(final offset, raw offset)` after each marker the multi-line filters left.
    shifts: Vec<(usize, usize)>,
}

impl SourceMap {
    fn raw_offset(&self, offset: usize) -> usize {
        let i = self.shifts.partition_point(|(new, _)| *new <= offset);
        match i.checked_sub(1).map(|i| self.shifts[i]) {
            Some((new, old)) => old + (offset - new),
            None => offset,
        }
    }

    /// The template range a rendered range came from: exact for verbatim template text, the
    /// whole expression for text a `{{ }}` produced.
    ///
    /// A range that runs over several pieces (`'{{ name }}'`: a quote, an expression, a quote)
    /// maps to the template from its first piece to its last, when the last lies after the
    /// first in the template (not in an earlier turn of a loop); else to its first piece.
    pub fn template_span(&self, rendered: &Range<usize>) -> Option<Range<usize>> {
        let start = self.raw_offset(rendered.start);
        let i = self.spans.partition_point(|(out, _, _)| out.end <= start);
        let (out, src, verbatim) = self.spans.get(i)?;
        if !(out.contains(&start) || out.is_empty() && out.start == start) {
            return None;
        }
        let first = if *verbatim {
            let from = src.start + (start - out.start);
            let len = rendered
                .len()
                .min(out.end - start)
                .max(usize::from(rendered.is_empty()));
            from..(from + len).min(src.end.max(from))
        } else {
            src.clone()
        };
        if rendered.len() <= 1 {
            return Some(first);
        }
        let last = self.raw_offset(rendered.end - 1);
        let j = self.spans.partition_point(|(out, _, _)| out.end <= last);
        match self.spans.get(j) {
            Some((out, src, verbatim)) if j > i && out.contains(&last) => {
                let end = if *verbatim {
                    (src.start + (last - out.start) + 1).min(src.end)
                } else {
                    src.end
                };
                Some(if end > first.end {
                    first.start..end
                } else {
                    first
                })
            }
            _ => Some(first),
        }
    }
}

/// The two environments a render needs (see [`super::python::format`]).
pub struct Renderer {
    pub python: Environment<'static>,
    pub strict: Environment<'static>,
    pub limits: RenderLimits,
    /// The name each template given to [`Renderer::prepare`] is loaded under, by the address
    /// of its source (which the loader keeps alive, so the address is not reused).
    prepared: std::collections::HashMap<usize, String>,
}

impl Renderer {
    pub fn new(limits: RenderLimits) -> Self {
        Renderer {
            python: super::env::environment(&limits),
            strict: super::env::strict_environment(&limits),
            limits,
            prepared: std::collections::HashMap::new(),
        }
    }

    /// Lets the renderer compile each of `templates` once, the first time it renders it,
    /// instead of on every render (a run renders a template once per deployment). They are
    /// loaded under names no template can guess (a random number of this renderer's), so
    /// that `include` and `import` still find nothing.
    pub fn prepare<'a>(&mut self, templates: impl IntoIterator<Item = &'a Source>) {
        use std::hash::{BuildHasher, Hasher};
        let nonce = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let mut sources = std::collections::HashMap::new();
        for source in templates {
            let address = Arc::as_ptr(source) as usize;
            if self.prepared.contains_key(&address) {
                continue;
            }
            let name = format!("{nonce:016x}/{}/{}", self.prepared.len(), source.name());
            sources.insert(name.clone(), Arc::clone(source));
            self.prepared.insert(address, name);
        }
        self.python
            .set_loader(move |name| Ok(sources.get(name).map(|s: &Source| s.text().to_string())));
    }

    /// The compiled template of `template`: the one compiled for the run if
    /// [`Renderer::prepare`] was given it, else compiled now. One that does not compile is
    /// compiled again under its own name, for the error.
    fn compiled<'s>(
        &'s self,
        template: &'s Source,
    ) -> Result<minijinja::Template<'s, 's>, minijinja::Error> {
        if let Some(name) = self.prepared.get(&(Arc::as_ptr(template) as usize))
            && let Ok(compiled) = self.python.get_template(name)
        {
            return Ok(compiled);
        }
        self.python
            .template_from_named_str(template.name(), template.text())
    }

    /// Renders with Python printing; if an undefined value was printed, checks with the strict
    /// formatter whether it was a missing value (an error) or an `if` without `else`.
    fn render_value(&self, template: &Source, ctx: Value) -> Result<String, minijinja::Error> {
        let tmpl = self.compiled(template)?;
        // A render is about as long as its template: room for that, and a quarter more,
        // spares most of the buffer's growth.
        let mut out = Capped {
            buf: Vec::with_capacity(
                (template.text().len() + template.text().len() / 4)
                    .min(self.limits.max_output_bytes),
            ),
            limit: self.limits.max_output_bytes,
        };
        let captured = tmpl.render_captured_to(ctx.clone(), &mut out)?;
        if captured
            .state()
            .get_temp(super::python::PRINTED_UNDEFINED)
            .is_some()
        {
            let strict = self
                .strict
                .template_from_named_str(template.name(), template.text())?;
            strict.render_captured_to(ctx, std::io::sink())?;
        }
        let text = String::from_utf8(out.buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok(indent_markers(text))
    }

    /// Where a render that overflowed `max_output_bytes` was producing output. minijinja drops
    /// the position of an error raised by the writer, so this renders again with only the fuel
    /// that writing the limit's bytes costs (one unit per byte, 64 units a fuel): it runs out
    /// while producing the output, and the out-of-fuel error has the position. Memory stays
    /// within the limit, and the work within the first render's.
    fn locate_overflow(&self, template: &Source, ctx: Value) -> Option<Range<usize>> {
        let limits = RenderLimits {
            fuel: (self.limits.max_output_bytes as u64 / 64).clamp(1, self.limits.fuel),
            ..self.limits
        };
        let env = super::env::environment(&limits);
        let tmpl = env
            .template_from_named_str(template.name(), template.text())
            .ok()?;
        match tmpl.render(ctx) {
            Err(e) if e.kind() == ErrorKind::OutOfFuel => e.range(),
            _ => None,
        }
    }

    /// Renders again, recording where each piece of output came from. Called only after
    /// [`Renderer::render_value`] succeeded, so the output is known to be within the limits.
    fn source_map(&self, template: &Source, ctx: Value) -> Option<SourceMap> {
        let tmpl = self
            .python
            .template_from_named_str(template.name(), template.text())
            .ok()?;
        let (raw, spans) = tmpl.render_with_spans(ctx).ok()?;
        let (_, shifts) = super::proton_filters::indent_markers_mapped(&raw);
        let mut spans: Vec<(Range<usize>, Range<usize>, bool)> = spans
            .iter()
            .map(|s| {
                (
                    s.output_range(),
                    s.source_range(),
                    s.kind() == minijinja::OutputSpanKind::Raw,
                )
            })
            .collect();
        spans.sort_by_key(|(out, _, _)| out.start);
        Some(SourceMap { spans, shifts })
    }
}

/// The source map of a unit that rendered.
pub fn source_map(renderer: &Renderer, template: &Source, ctx: &Context) -> Option<SourceMap> {
    renderer.source_map(template, ctx.to_value())
}

/// Renders `template` with `ctx`. On failure, returns the diagnostics (an error, or a
/// warning when only a placeholder output is to blame).
pub fn render(
    renderer: &Renderer,
    template: &Source,
    usage: &Usage,
    ctx: &Context,
    origin: Option<&InputOrigin>,
    unit: &str,
) -> Result<String, Vec<Diagnostic>> {
    renderer
        .render_value(template, ctx.to_value())
        .map_err(|e| {
            vec![render_error(
                renderer, template, usage, ctx, origin, unit, &e,
            )]
        })
}

fn error_span(template: &Source, e: &minijinja::Error) -> Range<usize> {
    match e.range() {
        Some(r) => r,
        None => {
            let line = e.line().unwrap_or(1);
            let start = template.offset_of(line, 0);
            let text = template.text();
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            start..end
        }
    }
}

fn render_error(
    renderer: &Renderer,
    template: &Source,
    usage: &Usage,
    ctx: &Context,
    origin: Option<&InputOrigin>,
    unit: &str,
    e: &minijinja::Error,
) -> Diagnostic {
    let limits = &renderer.limits;
    let span = error_span(template, e);
    let detail = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    let synthesized = origin.is_some_and(|o| o.synthesized);
    let suffix = if synthesized {
        " (with inputs synthesized from the schema: no spec uses this bundle)"
    } else {
        ""
    };
    match e.kind() {
        ErrorKind::OutOfFuel => {
            // Fuel pays for instructions and for the data they build: a loop that runs too
            // long, or one expression that builds a huge value (`'x' * 10**9`).
            let text = template.slice(&span);
            let looping = text.contains("for ") || text.contains("range(");
            let (label, help) = if looping {
                ("still running here", "a loop here runs too long; bound it")
            } else {
                (
                    "builds too much data",
                    "this expression builds a value too large to render (a string or list of \
                     millions of items); build a smaller one",
                )
            };
            return Diagnostic::new(
                codes::T010,
                format!(
                    "rendering {unit} ran out of fuel ({} units: one per instruction and per \
                     64 bytes of data built){suffix}",
                    limits.fuel
                ),
            )
            .at(template, span)
            .primary_message(label)
            .help(format!(
                "{help}, or raise `limits.template_fuel` in proctor.toml"
            ));
        }
        ErrorKind::WriteFailure => {
            let d = Diagnostic::new(
                codes::T010,
                format!(
                    "rendering {unit} produced more than {} bytes{suffix}",
                    limits.max_output_bytes
                ),
            )
            .help(
                "the template builds an enormous output; bound its loops, or raise \
                 `limits.max_rendered_bytes` in proctor.toml",
            );
            // The writer's error has no position; find where the output was being produced.
            return match renderer.locate_overflow(template, ctx.to_value()) {
                Some(at) => d
                    .at(template, at)
                    .primary_message("output grows past the limit here"),
                None => d.at(template, span),
            };
        }
        _ if detail.contains("recursion") => {
            return Diagnostic::new(
                codes::T010,
                format!(
                    "rendering {unit} recursed more than {} levels{suffix}",
                    limits.recursion
                ),
            )
            .at(template, span)
            .help(
                "a macro or recursive loop does not end; give it a base case, or raise \
                 `limits.template_recursion` in proctor.toml",
            );
        }
        _ => {}
    }
    // A placeholder output on the failing line: the failure may be only the placeholder's.
    let line = template.line_col(span.start).0;
    let placeholders: Vec<&String> = usage
        .output_refs
        .iter()
        .filter(|(r, name)| template.line_col(r.start).0 == line && is_placeholder(ctx, name))
        .map(|(_, name)| name)
        .collect();
    if let Some(first) = placeholders.first() {
        return Diagnostic::new(codes::T011, format!("{unit} cannot be rendered until `{first}` is deployed: {detail}"))
            .at(template, span)
            .primary_message("needs a deployed value")
            .help(format!("`{first}` is a placeholder until its stack is deployed; apply that stack (or record its outputs), then check again"));
    }
    let mut d = Diagnostic::new(
        codes::T009,
        format!("rendering {unit} failed: {detail}{suffix}"),
    )
    .at(template, span.clone())
    .primary_message(e.kind().to_string());
    // Name the spec value behind the failing expression, when there is one.
    if let Some(origin) = origin {
        let mut on_line: Vec<&String> = usage
            .input_refs
            .iter()
            .filter(|(r, _)| template.line_col(r.start).0 == line)
            .map(|(_, name)| name)
            .collect();
        on_line.dedup();
        for name in on_line {
            if let Some((_, value)) = origin.values.iter().find(|(n, _)| n == name) {
                d = d.label(
                    &origin.spec,
                    value.clone(),
                    format!("`{name}` comes from here"),
                );
            }
        }
    }
    d.help(match e.kind() {
        ErrorKind::UndefinedError if synthesized => "synthesized inputs leave out optional inputs that have no default, as a spec may: give the input a default, or guard it with `is defined` or `| default(...)`".to_string(),
        ErrorKind::UndefinedError => "the value is undefined for this deployment: set the input, or guard it with `is defined` or `| default(...)`".to_string(),
        ErrorKind::InvalidOperation if detail.contains("illegal characters") => "change the input so that it has only letters, digits, `_` and `-`".to_string(),
        _ => "fix the template or the input at the location shown".to_string(),
    })
}

fn is_placeholder(ctx: &Context, dotted: &str) -> bool {
    let name = dotted.rsplit('.').next().unwrap_or("");
    ctx.outputs().iter().any(|o| o.is_placeholder(name))
}

/// Renders a template with a context given as JSON, outside any deployment: the differential
/// tests compare this with Python Jinja2 on the same template and context.
pub fn render_json(template: &Source, ctx: &Json, limits: &RenderLimits) -> Result<String, String> {
    Renderer::new(*limits)
        .render_value(template, json(ctx))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn render_text(text: &str, ctx: &Context) -> Result<String, Vec<Diagnostic>> {
        let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
        let limits = RenderLimits {
            fuel: 100_000,
            recursion: 16,
            max_output_bytes: 10_000,
        };
        render(
            &Renderer::new(limits),
            &src,
            &Usage::default(),
            ctx,
            None,
            "environment `dev`",
        )
    }

    fn env_ctx(inputs: Json) -> Context {
        Context::Environment {
            environment: EnvironmentFacts {
                name: "dev".into(),
                ..Default::default()
            },
            inputs,
        }
    }

    #[test]
    fn names_proton_supplied_render_as_placeholders_when_undeclared() {
        // AWS's sample pipelines trust every instance's account and read the repository.
        let pipeline = Context::Pipeline {
            service: ServiceFacts {
                name: "api".into(),
                branch_name: Some("main".into()),
                ..Default::default()
            },
            inputs: serde_json::json!({}),
            instances: vec![InstanceFacts {
                name: "api-dev".into(),
                inputs: serde_json::json!({}),
                outputs: StackOutputs::default(),
                environment: EnvironmentFacts {
                    name: "dev".into(),
                    ..Default::default()
                },
            }],
        };
        let out = render_text(
            "{% for i in service_instances %}arn:aws:iam::{{ i.environment.account_id }}:root {% endfor %}{{ service.repository_id }} {{ service.repository_connection_arn }} {{ service.branch_name }}",
            &pipeline,
        )
        .unwrap();
        assert_eq!(
            out,
            "arn:aws:iam::proctor-placeholder:environment.account_id:root proctor-placeholder:service.repository_id proctor-placeholder:service.repository_connection_arn main"
        );
    }

    #[test]
    fn python_printing_and_strictness() {
        let ctx = env_ctx(
            serde_json::json!({"port": 80, "ratio": 1.0, "flag": true, "none": null, "list": ["a", 1]}),
        );
        let out = render_text("{{ environment.inputs.port }} {{ environment.inputs.ratio }} {{ environment.inputs.flag }} {{ environment.inputs.none }} {{ environment.inputs.list }} {{ 7 / 2 }} {{ 4 / 2 }}", &ctx).unwrap();
        assert_eq!(out, "80 1.0 True None ['a', 1] 3.5 2.0");
        let err = render_text("{{ environment.inputs.missing }}", &ctx).unwrap_err();
        assert_eq!(err[0].code.id, "T009");
        let ok = render_text("{{ environment.inputs.missing | default('x') }}{% if environment.inputs.missing is defined %}y{% endif %}", &ctx).unwrap();
        assert_eq!(ok, "x");
        // An `if` without `else` prints nothing, as in Python, and is not an error.
        let ok = render_text(
            "[{{ 1 if false }}]{{ (1 if false) | default('d') }}{{ (1 if false) is defined }}",
            &ctx,
        )
        .unwrap();
        assert_eq!(ok, "[]dFalse");
    }

    #[test]
    fn limits_are_diagnostics() {
        let ctx = env_ctx(serde_json::json!({}));
        let err = render_text(
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            &ctx,
        )
        .unwrap_err();
        assert_eq!(err[0].code.id, "T010");
        let err = render_text(
            "{% for i in range(5000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}",
            &ctx,
        )
        .unwrap_err();
        assert_eq!(err[0].code.id, "T010");
        // Located at what produces the output, not at the start of the file.
        let text =
            "Resources:\n{% for i in range(5000) %}\n  R{{ i }}: {{ 'x' * 20 }}\n{% endfor %}\n";
        let err = render_text(text, &ctx).unwrap_err();
        assert_eq!(err[0].code.id, "T010");
        assert!(
            err[0].message.contains("more than 10000 bytes"),
            "{}",
            err[0].message
        );
        let at = err[0].primary.as_ref().unwrap().at.span.clone();
        let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
        assert_eq!(src.line_col(at.start).0, 3, "{:?} {}", at, src.slice(&at));
        let err = render_text(
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            &ctx,
        )
        .unwrap_err();
        assert_eq!(err[0].code.id, "T010", "{}", err[0].message);
    }

    #[test]
    fn templates_cannot_load_files() {
        let ctx = env_ctx(serde_json::json!({}));
        assert!(render_text("{% include '/etc/passwd' %}", &ctx).is_err());
    }

    #[test]
    fn placeholder_outputs_render_and_known_ones_are_used() {
        let ctx = Context::ServiceInstance {
            environment: EnvironmentFacts {
                name: "dev".into(),
                account_id: None,
                outputs: StackOutputs {
                    path: "environment.outputs".into(),
                    known: vec![("Runtime".into(), "python3.12".into())],
                    declared: Some(vec!["VpcId".into()]),
                },
            },
            service: ServiceFacts {
                name: "api".into(),
                ..Default::default()
            },
            instance: "api-dev".into(),
            inputs: serde_json::json!({}),
        };
        let out = render_text("{{ environment.outputs.Runtime }} {{ environment.outputs.VpcId }} {{ service_instance.components.default.outputs | length }}", &ctx).unwrap();
        assert_eq!(
            out,
            "python3.12 proctor-placeholder:environment.outputs.VpcId 0"
        );
    }

    #[test]
    fn source_map_is_exact_after_multi_line_filter_output() {
        let text = "Env:\n  {{ environment.inputs.vars | proton_cfn_ecs_task_definition_formatted_env_vars }}\nAfter: {{ environment.name }} here\n";
        let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
        let ctx = env_ctx(serde_json::json!({"vars": {"A": "1", "B": "2"}}));
        let renderer = Renderer::new(RenderLimits::default());
        let out = render(&renderer, &src, &Usage::default(), &ctx, None, "dev").unwrap();
        // Jinja drops the template's final newline.
        assert_eq!(
            out,
            "Env:\n  - Name: A\n    Value: 1\n  - Name: B\n    Value: 2\nAfter: dev here"
        );
        let map = source_map(&renderer, &src, &ctx).unwrap();
        // Literal text after the filter's (re-indented) output maps byte for byte.
        let at = out.find("here").unwrap();
        let span = map.template_span(&(at..at + 4)).unwrap();
        assert_eq!(src.slice(&span), "here");
        // Text an expression printed maps to the expression.
        let at = out.find("dev").unwrap();
        assert_eq!(
            src.slice(&map.template_span(&(at..at + 3)).unwrap()),
            "environment.name"
        );
        let at = out.find("Value: 2").unwrap();
        assert!(
            src.slice(&map.template_span(&(at..at + 5)).unwrap())
                .contains("proton_cfn_ecs")
        );
    }

    #[test]
    fn a_range_over_several_pieces_maps_from_the_first_to_the_last() {
        let text = "Name: '{{ environment.name }}-x'\n{% for i in [1, 2] %}R{{ i }}: '{{ i }}'\n{% endfor %}";
        let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
        let ctx = env_ctx(serde_json::json!({}));
        let renderer = Renderer::new(RenderLimits::default());
        let out = render(&renderer, &src, &Usage::default(), &ctx, None, "dev").unwrap();
        assert_eq!(out, "Name: 'dev-x'\nR1: '1'\nR2: '2'\n");
        let map = source_map(&renderer, &src, &ctx).unwrap();
        let slice = |r: Range<usize>| src.slice(&map.template_span(&r).unwrap()).to_string();
        // Quote, expression, text and quote: the whole quoted scalar.
        let at = out.find("'dev-x'").unwrap();
        assert_eq!(slice(at..at + 7), "'{{ environment.name }}-x'");
        // Inside one loop turn: from its first piece to its last.
        let at = out.find("R2: '2'").unwrap();
        assert_eq!(slice(at..at + 7), "R{{ i }}: '{{ i }}'");
        // Across two turns the end lies before the start in the template: the first piece.
        let at = out.find("'1'").unwrap();
        assert_eq!(slice(at..at + 7), "'");
    }
}
