//! Static analysis of a template, with no spec needed: parse it with minijinja's parser, walk
//! the syntax tree with scopes (loop variables, `set`), and check every reference into a
//! Proton namespace against what the template's role can see and what the schema declares.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use minijinja::machinery::ast::{CallArg, Expr, Stmt};
use minijinja::machinery::{self, Span};
use minijinja::syntax::SyntaxConfig;

use crate::bundle::Role;
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::source::Source;
use crate::yaml::shape::list;

/// What a template may reference, for one bundle: the inputs each input type declares and the
/// outputs the related templates declare (`None`: unknown, so not checked).
#[derive(Clone, Debug, Default)]
pub struct Namespaces {
    /// The inputs each input type declares; `None` when the type is missing (reported by the
    /// bundle's lint), so that references to it are not reported again.
    pub environment_inputs: Option<Vec<String>>,
    pub service_inputs: Option<Vec<String>>,
    pub pipeline_inputs: Option<Vec<String>>,
    /// Outputs of the compatible environment templates (union), if any was found.
    pub environment_outputs: Option<OutputNames>,
    /// Outputs of the service's instance template (for pipelines).
    pub instance_outputs: Option<OutputNames>,
}

/// Output names a template declares, and whether some are generated (then unknown names are
/// not reported).
#[derive(Clone, Debug, Default)]
pub struct OutputNames {
    pub names: BTreeSet<String>,
    pub dynamic: bool,
    /// Where they come from, for messages (`fargate-env:1`).
    pub from: String,
}

/// What the analysis found, besides diagnostics.
#[derive(Debug, Default)]
pub struct Usage {
    /// Inputs used, as (input type kind, name): kind is `environment`, `service`, `pipeline`.
    pub inputs: BTreeSet<(&'static str, String)>,
    /// Some inputs are reached dynamically (`inputs[key]`, `inputs.items()`, `inputs | tojson`):
    /// every input of that kind counts as used.
    pub dynamic: BTreeSet<&'static str>,
    /// Byte spans of references to outputs, with the output's dotted name.
    pub output_refs: Vec<(Range<usize>, String)>,
    /// Byte spans of references to inputs, with the input's name.
    pub input_refs: Vec<(Range<usize>, String)>,
}

/// The shape of what a name refers to.
#[derive(Clone, Debug)]
enum Model {
    /// A mapping with fixed fields.
    Fields(Vec<(&'static str, Model)>),
    /// An input type's inputs.
    Inputs(&'static str),
    /// A stack's outputs: `environment` or `instance`.
    Outputs(&'static str),
    /// A list of `service_instances` entries.
    Seq(Box<Model>),
    /// A value with no further structure to check (a string, a number).
    Leaf,
    /// A mapping whose keys are unknown (a component's outputs).
    Open,
}

/// The roots a role can see, each with its model.
fn roots(role: Role) -> Vec<(&'static str, Model)> {
    use Model::*;
    let service = || {
        Fields(vec![
            ("name", Leaf),
            ("branch_name", Leaf),
            ("repository_connection_arn", Leaf),
            ("repository_id", Leaf),
        ])
    };
    match role {
        Role::Environment => vec![(
            "environment",
            Fields(vec![("name", Leaf), ("inputs", Inputs("environment"))]),
        )],
        Role::ServiceInstance => vec![
            (
                "environment",
                Fields(vec![
                    ("name", Leaf),
                    ("account_id", Leaf),
                    ("outputs", Outputs("environment")),
                ]),
            ),
            ("service", service()),
            (
                "service_instance",
                Fields(vec![
                    ("name", Leaf),
                    ("inputs", Inputs("service")),
                    (
                        "components",
                        Fields(vec![(
                            "default",
                            Fields(vec![("name", Leaf), ("outputs", Open)]),
                        )]),
                    ),
                    // Pre-2021 alias of `environment.outputs` (reported as deprecated).
                    (
                        "environment",
                        Fields(vec![("outputs", Outputs("environment"))]),
                    ),
                ]),
            ),
        ],
        Role::Pipeline => vec![
            ("pipeline", Fields(vec![("inputs", Inputs("pipeline"))])),
            ("service", service()),
            (
                "service_instances",
                Seq(Box::new(Fields(vec![
                    ("name", Leaf),
                    ("inputs", Inputs("service")),
                    ("outputs", Outputs("instance")),
                    (
                        "environment",
                        Fields(vec![
                            ("name", Leaf),
                            ("account_id", Leaf),
                            ("outputs", Outputs("environment")),
                        ]),
                    ),
                ]))),
            ),
        ],
        Role::Component => vec![
            ("component", Fields(vec![("name", Leaf)])),
            (
                "environment",
                Fields(vec![("name", Leaf), ("outputs", Outputs("environment"))]),
            ),
            ("service", Fields(vec![("name", Leaf)])),
            (
                "service_instance",
                Fields(vec![("name", Leaf), ("inputs", Inputs("service"))]),
            ),
        ],
    }
}

const ALL_ROOTS: &[&str] = &[
    "environment",
    "service",
    "service_instance",
    "service_instances",
    "pipeline",
    "component",
];

/// Names every template can use: Jinja's globals and loop helpers.
const GLOBALS: &[&str] = &[
    "range",
    "dict",
    "namespace",
    "debug",
    "loop",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
];

/// Methods of a mapping that pycompat provides; after an inputs or outputs mapping they are
/// dynamic uses, not names.
const MAP_METHODS: &[&str] = &["items", "keys", "values", "get"];

pub const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "zip",
    "proton_cfn_sanitize",
    "proton_cfn_ecs_task_definition_formatted_env_vars",
    "proton_cfn_lambda_function_formatted_env_vars",
    "proton_cfn_iam_policy_arns",
];

const TESTS: &[&str] = &[
    "boolean",
    "defined",
    "undefined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "upper",
];

/// Converts a minijinja span (line 1-based, column 0-based in characters) to bytes.
fn bytes(source: &Source, span: Span) -> Range<usize> {
    let start = source.offset_of(span.start_line as usize, span.start_col as usize);
    let end = source.offset_of(span.end_line as usize, span.end_col as usize);
    start..end.max(start)
}

/// From the start of `a` to the end of `b`.
fn join(a: Span, b: Span) -> Span {
    Span {
        end_line: b.end_line,
        end_col: b.end_col,
        end_offset: b.end_offset,
        ..a
    }
}

/// How deep one Jinja expression may nest, counted by [`expression_depth`]. minijinja's
/// parser bounds bracket and block nesting (150) but builds chains such as `a.b.c...`,
/// `x|e|e...`, `1+1+...` or `not not ...` in loops, and its later passes (and dropping the
/// tree) recurse once per link: about 1,600 links overflow a 2 MiB thread stack in a debug
/// build. Real templates stay far below this; it is fixed, not configurable, because the
/// stack is the real limit.
pub const MAX_EXPRESSION_DEPTH: usize = 250;

/// The first place where an expression inside `{{ }}` or `{% %}` nests more than
/// [`MAX_EXPRESSION_DEPTH`] deep, or `None`. The estimate is an upper bound of the depth of
/// minijinja's syntax tree: every open bracket counts one, and so does every operator,
/// attribute, filter, test, call or keyword operator in the current element of every open
/// bracket (a `,` or `:` starts a new element, so long lists and dicts are not deep).
pub fn expression_depth(text: &str) -> Option<Span> {
    use machinery::Token;
    // Per open bracket (the tag itself is the first): links in its current element; and
    // their sum plus the number of open levels, kept as it changes.
    let mut links: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    for token in machinery::tokenize(text, false, SyntaxConfig::default()) {
        let Ok((token, span)) = token else {
            return None; // the parser reports it
        };
        let link = matches!(
            token,
            Token::Plus
                | Token::Minus
                | Token::Mul
                | Token::Div
                | Token::FloorDiv
                | Token::Pow
                | Token::Mod
                | Token::Dot
                | Token::Tilde
                | Token::Assign
                | Token::Pipe
                | Token::Eq
                | Token::Ne
                | Token::Gt
                | Token::Gte
                | Token::Lt
                | Token::Lte
                | Token::BracketOpen
                | Token::ParenOpen
                | Token::BraceOpen
                | Token::Ident("not" | "if" | "else" | "is" | "in" | "and" | "or")
        );
        if link && let Some(current) = links.last_mut() {
            *current += 1;
            depth += 1;
        }
        match token {
            Token::VariableStart | Token::BlockStart => {
                links = vec![0];
                depth = 1;
            }
            Token::VariableEnd | Token::BlockEnd | Token::TemplateData(_) => {
                links.clear();
                depth = 0;
            }
            Token::Comma | Token::Colon => {
                if let Some(current) = links.last_mut() {
                    depth -= *current;
                    *current = 0;
                }
            }
            Token::BracketOpen | Token::ParenOpen | Token::BraceOpen => {
                links.push(0);
                depth += 1;
            }
            Token::BracketClose | Token::ParenClose | Token::BraceClose if links.len() > 1 => {
                depth -= links.pop().unwrap_or(0) + 1;
            }
            _ => {}
        }
        if depth > MAX_EXPRESSION_DEPTH + 1 {
            return Some(span);
        }
    }
    None
}

/// Parses a template; a syntax error is a T001 diagnostic at its exact span.
pub fn parse<'s>(source: &'s Source, diags: &mut Vec<Diagnostic>) -> Option<Stmt<'s>> {
    if let Some(span) = expression_depth(source.text()) {
        diags.push(
            Diagnostic::new(
                codes::T001,
                format!(
                    "Jinja syntax error: expression nested more than {MAX_EXPRESSION_DEPTH} \
                     operators deep"
                ),
            )
            .at(source, bytes(source, span))
            .help(
                "split the expression into steps with `{% set %}`; proctor refuses \
                 expressions this deep because compiling them could exhaust the stack",
            ),
        );
        return None;
    }
    match machinery::parse(source.text(), source.name(), SyntaxConfig::default()) {
        Ok(ast) => Some(ast),
        Err(e) => {
            let span = e.range().unwrap_or_else(|| {
                let line = e.line().unwrap_or(1);
                let start = source.offset_of(line, 0);
                start..start
            });
            let detail = e.detail().unwrap_or("syntax error").to_string();
            diags.push(
                Diagnostic::new(codes::T001, format!("Jinja syntax error: {detail}"))
                    .at(source, span)
                    .help(syntax_help(&detail)),
            );
            None
        }
    }
}

fn syntax_help(detail: &str) -> String {
    if detail.contains("unexpected end of input")
        || detail.contains("missing end")
        || detail.contains("expected end")
    {
        "close the block: every `{% if %}` needs `{% endif %}`, every `{% for %}` needs `{% endfor %}`".into()
    } else if detail.contains("unknown statement") {
        "Proton's Jinja has `if`, `for`, `set`, `raw` and `macro`; check the statement's spelling"
            .into()
    } else if detail.contains("recursion") {
        "the template nests expressions or blocks more deeply than proctor allows; flatten it"
            .into()
    } else {
        "correct the Jinja at this point; text that only looks like Jinja (`{{`, `{%`) must be wrapped in `{% raw %}...{% endraw %}`".into()
    }
}

/// What a local name stands for: a namespace path (`service_instance.inputs`), when known.
type Alias = (String, Vec<String>);

struct Walker<'a> {
    source: &'a Source,
    role: Role,
    ns: &'a Namespaces,
    roots: Vec<(&'static str, Model)>,
    /// Scopes of local names; a name may alias a namespace path (`{% set i = service_instance.inputs %}`).
    scopes: Vec<HashMap<String, Option<Alias>>>,
    usage: Usage,
    diags: &'a mut Vec<Diagnostic>,
}

/// Checks every reference in a parsed template.
pub fn check(
    source: &Source,
    ast: &Stmt<'_>,
    role: Role,
    ns: &Namespaces,
    diags: &mut Vec<Diagnostic>,
) -> Usage {
    let mut w = Walker {
        source,
        role,
        ns,
        roots: roots(role),
        scopes: vec![HashMap::new()],
        usage: Usage::default(),
        diags,
    };
    w.stmt(ast);
    w.usage
}

impl Walker<'_> {
    fn stmts(&mut self, body: &[Stmt<'_>]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(HashMap::new());
        f(self);
        self.scopes.pop();
    }

    fn bind(&mut self, target: &Expr<'_>, alias: Option<Alias>) {
        match target {
            Expr::Var(v) => {
                if let Some(scope) = self.scopes.last_mut() {
                    scope.insert(v.id.to_string(), alias);
                }
            }
            Expr::Tuple(t) => {
                for item in &t.items {
                    self.bind(item, None);
                }
            }
            Expr::List(l) => {
                for item in &l.items {
                    self.bind(item, None);
                }
            }
            _ => {}
        }
    }

    fn lookup(&self, name: &str) -> Option<&Option<Alias>> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn stmt(&mut self, stmt: &Stmt<'_>) {
        match stmt {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr),
            Stmt::EmitRaw(_) | Stmt::Continue(_) | Stmt::Break(_) => {}
            Stmt::ForLoop(f) => {
                self.expr(&f.iter);
                // `for instance in service_instances` makes `instance` an entry of the list.
                let alias = self.chain(&f.iter).map(|(root, mut path, _)| {
                    path.push("*".to_string());
                    (root, path)
                });
                self.scoped(|w| {
                    w.bind(&f.target, alias);
                    if let Some(cond) = &f.filter_expr {
                        w.expr(cond);
                    }
                    w.stmts(&f.body);
                });
                self.stmts(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr);
                self.stmts(&i.true_body);
                self.stmts(&i.false_body);
            }
            Stmt::WithBlock(w) => {
                for (_, value) in &w.assignments {
                    self.expr(value);
                }
                self.scoped(|walker| {
                    for (target, value) in &w.assignments {
                        let alias = walker.chain(value).map(|(r, p, _)| (r, p));
                        walker.bind(target, alias);
                    }
                    walker.stmts(&w.body);
                });
            }
            Stmt::Set(s) => {
                self.expr(&s.expr);
                let alias = self.chain(&s.expr).map(|(r, p, _)| (r, p));
                self.bind(&s.target, alias);
            }
            Stmt::SetBlock(s) => {
                if let Some(f) = &s.filter {
                    self.expr(f);
                }
                self.stmts(&s.body);
                self.bind(&s.target, None);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled);
                self.stmts(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter);
                self.stmts(&f.body);
            }
            Stmt::Macro(m) => {
                if let Some(scope) = self.scopes.last_mut() {
                    scope.insert(m.name.to_string(), None);
                }
                for d in &m.defaults {
                    self.expr(d);
                }
                self.scoped(|w| {
                    for a in &m.args {
                        w.bind(a, None);
                    }
                    for name in ["caller", "varargs", "kwargs"] {
                        if let Some(scope) = w.scopes.last_mut() {
                            scope.insert(name.to_string(), None);
                        }
                    }
                    w.stmts(&m.body);
                });
            }
            Stmt::CallBlock(c) => {
                self.call_args(&c.call.args);
                self.expr(&c.call.expr);
                self.stmts(&c.macro_decl.body);
            }
            Stmt::Do(d) => {
                self.call_args(&d.call.args);
                self.expr(&d.call.expr);
            }
            Stmt::Block(b) => self.stmts(&b.body),
            // No loader: these fail at render time; nothing to check statically.
            Stmt::Import(_) | Stmt::FromImport(_) | Stmt::Extends(_) | Stmt::Include(_) => {}
        }
    }

    fn call_args(&mut self, args: &[CallArg<'_>]) {
        for a in args {
            match a {
                CallArg::Pos(e)
                | CallArg::Kwarg(_, e)
                | CallArg::PosSplat(e)
                | CallArg::KwargSplat(e) => self.expr(e),
            }
        }
    }

    /// The root name, attribute path and spans of a `a.b['c'].d` chain: `spans[0]` covers the
    /// root, `spans[i]` the chain up to and including segment `i`.
    fn chain(&self, expr: &Expr<'_>) -> Option<(String, Vec<String>, Vec<Span>)> {
        match expr {
            Expr::Var(v) => Some((v.id.to_string(), Vec::new(), vec![v.span()])),
            Expr::GetAttr(g) => {
                let (root, mut path, mut spans) = self.chain(&g.expr)?;
                path.push(g.name.to_string());
                spans.push(join(spans[0], g.span()));
                Some((root, path, spans))
            }
            Expr::GetItem(g) => {
                let (root, mut path, mut spans) = self.chain(&g.expr)?;
                match &g.subscript_expr {
                    Expr::Const(c) => match c.value.as_str() {
                        Some(s) => path.push(s.to_string()),
                        None if c.value.is_integer() => path.push("*".to_string()),
                        None => path.push("?".to_string()),
                    },
                    _ => path.push("?".to_string()),
                }
                spans.push(join(spans[0], g.span()));
                Some((root, path, spans))
            }
            _ => None,
        }
    }

    fn expr(&mut self, expr: &Expr<'_>) {
        match expr {
            Expr::Var(_) | Expr::GetAttr(_) | Expr::GetItem(_) => {
                // Dynamic subscripts are expressions of their own.
                self.subscripts(expr);
                if let Some((root, path, spans)) = self.chain(expr) {
                    self.reference(&root, &path, &spans);
                }
            }
            Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr);
                for e in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(e);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr),
            Expr::BinOp(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr);
                for op in &c.ops {
                    self.expr(&op.expr);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr);
                self.expr(&i.true_expr);
                if let Some(f) = &i.false_expr {
                    self.expr(f);
                }
            }
            Expr::Filter(f) => {
                if !FILTERS.contains(&f.name) {
                    self.unknown("filter", f.name, FILTERS, f.span());
                }
                if let Some(e) = &f.expr {
                    self.expr(e);
                }
                self.call_args(&f.args);
            }
            Expr::Test(t) => {
                if !TESTS.contains(&t.name) {
                    self.unknown("test", t.name, TESTS, t.span());
                }
                // `x is defined` on a namespace path is how templates test optional inputs:
                // a use of the input, never an unknown one.
                if matches!(t.name, "defined" | "undefined")
                    && let Some((root, path, _)) = self.chain(&t.expr)
                {
                    self.mark_used(&root, &path);
                } else {
                    self.expr(&t.expr);
                }
                self.call_args(&t.args);
            }
            Expr::Call(c) => {
                self.expr(&c.expr);
                self.call_args(&c.args);
            }
            Expr::List(l) => {
                for e in &l.items {
                    self.expr(e);
                }
            }
            Expr::Tuple(t) => {
                for e in &t.items {
                    self.expr(e);
                }
            }
            Expr::Map(m) => {
                for e in m.keys.iter().chain(&m.values) {
                    self.expr(e);
                }
            }
        }
    }

    /// Walks the non-constant subscripts inside a chain (`inputs[key]`: `key` is an
    /// expression of its own).
    fn subscripts(&mut self, expr: &Expr<'_>) {
        match expr {
            Expr::GetAttr(g) => self.subscripts(&g.expr),
            Expr::GetItem(g) => {
                self.subscripts(&g.expr);
                if !matches!(g.subscript_expr, Expr::Const(_)) {
                    self.expr(&g.subscript_expr);
                }
            }
            _ => {}
        }
    }

    fn unknown(&mut self, what: &str, name: &str, known: &[&str], span: Span) {
        let range = bytes(self.source, span);
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "proctor renders like Python Jinja2 with Proton's filters; `{name}` is not one of them"
            ),
        };
        self.diags.push(
            Diagnostic::new(codes::T001, format!("unknown {what} `{name}`"))
                .at(self.source, range)
                .help(help),
        );
    }

    /// Expands a local alias into the namespace path it stands for.
    fn resolve(&self, root: &str, path: &[String]) -> Option<Alias> {
        match self.lookup(root) {
            Some(Some((r, p))) => {
                let mut full = p.clone();
                full.extend(path.iter().cloned());
                Some((r.clone(), full))
            }
            Some(None) => None,
            None => Some((root.to_string(), path.to_vec())),
        }
    }

    /// Marks inputs used by an `is defined` test, without reporting anything.
    fn mark_used(&mut self, root: &str, path: &[String]) {
        let Some((root, path)) = self.resolve(root, path) else {
            return;
        };
        let Some(model) = self
            .roots
            .iter()
            .find(|(r, _)| *r == root)
            .map(|(_, m)| m.clone())
        else {
            return;
        };
        let mut node = &model;
        for seg in &path {
            node = match node {
                Model::Fields(f) => match f.iter().find(|(n, _)| n == seg) {
                    Some((_, m)) => m,
                    None => return,
                },
                Model::Seq(inner) => inner,
                Model::Inputs(kind) => {
                    self.usage.inputs.insert((kind, seg.clone()));
                    return;
                }
                _ => return,
            };
        }
    }

    fn reference(&mut self, local_root: &str, local_path: &[String], spans: &[Span]) {
        let Some((root, path)) = self.resolve(local_root, local_path) else {
            return;
        };
        // Segments that came from an alias have no span of their own: point at the alias.
        let offset = path.len() - local_path.len();
        let at = |i: usize| {
            bytes(
                self.source,
                spans[i.saturating_sub(offset).min(spans.len() - 1)],
            )
        };
        let range = at(path.len());
        let Some(model) = self
            .roots
            .iter()
            .find(|(r, _)| *r == root)
            .map(|(_, m)| m.clone())
        else {
            if GLOBALS.contains(&root.as_str()) || self.lookup(&root).is_some() {
                return;
            }
            self.unknown_root(&root, at(0));
            return;
        };
        let mut node = &model;
        let mut walked = root.clone();
        for (i, seg) in path.iter().enumerate() {
            match node {
                Model::Fields(fields) => match fields.iter().find(|(n, _)| n == seg) {
                    Some((name, m)) => {
                        if root == "service_instance" && *name == "environment" {
                            self.diags.push(
                                Diagnostic::new(codes::T013, "`service_instance.environment.outputs` is the pre-2021 form")
                                    .at(self.source, range.clone())
                                    .help("write `environment.outputs.<name>`; proctor accepts the old form as an alias"),
                            );
                        }
                        node = m;
                    }
                    None => {
                        let names: Vec<&str> = fields
                            .iter()
                            .map(|(n, _)| *n)
                            .filter(|n| !(root == "service_instance" && *n == "environment"))
                            .collect();
                        let help = match did_you_mean(seg, names.iter().copied()) {
                            Some(s) => format!("did you mean `{walked}.{s}`?"),
                            None => format!("`{walked}` has {}", list(&names)),
                        };
                        self.diags.push(
                            Diagnostic::new(codes::T003, format!("`{walked}` has no `{seg}`"))
                                .at(self.source, at(i + 1))
                                .primary_message("undefined when rendered")
                                .help(help),
                        );
                        return;
                    }
                },
                Model::Seq(inner) => {
                    if seg == "*" || seg == "?" {
                        node = inner;
                    } else {
                        return;
                    }
                }
                Model::Inputs(kind) => {
                    self.input(kind, seg, &walked, at(i + 1));
                    return;
                }
                Model::Outputs(kind) => {
                    self.output(kind, seg, &walked, at(i + 1));
                    return;
                }
                Model::Leaf | Model::Open => return,
            }
            walked = if seg == "*" {
                format!("{walked}[i]")
            } else {
                format!("{walked}.{seg}")
            };
        }
        // The chain ends at a whole mapping of inputs: every input may be used.
        if let Model::Inputs(kind) = node {
            self.usage.dynamic.insert(kind);
        }
    }

    fn unknown_root(&mut self, root: &str, range: Range<usize>) {
        let visible: Vec<&str> = self.roots.iter().map(|(r, _)| *r).collect();
        let role = match self.role {
            Role::Environment => "an environment template",
            Role::ServiceInstance => "a service instance template",
            Role::Pipeline => "a pipeline template",
            Role::Component => "a component template",
        };
        let d = if ALL_ROOTS.contains(&root) {
            Diagnostic::new(codes::T003, format!("`{root}` is not available in {role}"))
                .at(self.source, range)
                .primary_message("undefined when rendered")
                .help(format!("{role} can use {}", list(&visible)))
        } else {
            let help = match did_you_mean(root, visible.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "{role} can use {}, and names it sets itself",
                    list(&visible)
                ),
            };
            Diagnostic::new(codes::T003, format!("unknown name `{root}`"))
                .at(self.source, range)
                .primary_message("undefined when rendered")
                .help(help)
        };
        self.diags.push(d);
    }

    fn input(&mut self, kind: &'static str, name: &str, walked: &str, range: Range<usize>) {
        if name == "?" || MAP_METHODS.contains(&name) {
            self.usage.dynamic.insert(kind);
            return;
        }
        let declared = match kind {
            "environment" => &self.ns.environment_inputs,
            "service" => &self.ns.service_inputs,
            _ => &self.ns.pipeline_inputs,
        };
        let Some(declared) = declared else {
            self.usage.inputs.insert((kind, name.to_string()));
            return;
        };
        if declared.iter().any(|d| d == name) {
            self.usage.inputs.insert((kind, name.to_string()));
            self.usage.input_refs.push((range, name.to_string()));
            return;
        }
        let help = match did_you_mean(name, declared.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if declared.is_empty() => {
                "the schema declares no inputs of this kind; declare it in schema/schema.yaml"
                    .to_string()
            }
            None => format!(
                "the schema declares {}",
                list(&declared.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        };
        self.diags.push(
            Diagnostic::new(
                codes::T002,
                format!("`{walked}.{name}` is not an input the schema declares"),
            )
            .at(self.source, range)
            .primary_message("undefined when rendered")
            .help(help),
        );
    }

    fn output(&mut self, kind: &'static str, name: &str, walked: &str, range: Range<usize>) {
        if name == "?" || MAP_METHODS.contains(&name) {
            return;
        }
        self.usage
            .output_refs
            .push((range.clone(), format!("{walked}.{name}")));
        let known = match kind {
            "environment" => &self.ns.environment_outputs,
            _ => &self.ns.instance_outputs,
        };
        let Some(known) = known else { return };
        if known.dynamic || known.names.contains(name) {
            return;
        }
        let names: Vec<&str> = known.names.iter().map(String::as_str).collect();
        let help = match did_you_mean(name, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => format!(
                "`{}` declares no Outputs; add `{name}` to its `Outputs`",
                known.from
            ),
            None => format!(
                "`{}` declares {}; add `{name}` to its `Outputs`",
                known.from,
                list(&names)
            ),
        };
        self.diags.push(
            Diagnostic::new(
                codes::T005,
                format!(
                    "`{walked}.{name}`: `{}` declares no Output `{name}`",
                    known.from
                ),
            )
            .at(self.source, range)
            .primary_message("never deployed, so undefined when rendered")
            .help(help),
        );
    }
}

/// The `Outputs` a CloudFormation template declares, read from its text without rendering:
/// the keys one level below a top-level `Outputs:`. A key made by Jinja makes the set dynamic.
pub fn declared_outputs(text: &str, from: &str) -> OutputNames {
    let mut out = OutputNames {
        from: from.to_string(),
        ..OutputNames::default()
    };
    let mut in_outputs = false;
    let mut child_indent: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("{%") || trimmed.starts_with("{#") {
            if in_outputs
                && trimmed.starts_with("{%")
                && (trimmed.contains(" for ") || trimmed.contains("for "))
            {
                out.dynamic = true;
            }
            continue;
        }
        if indent == 0 {
            in_outputs = trimmed.starts_with("Outputs:");
            child_indent = None;
            continue;
        }
        if !in_outputs {
            continue;
        }
        let indent_of_key = *child_indent.get_or_insert(indent);
        if indent != indent_of_key {
            continue;
        }
        if let Some((key, _)) = trimmed.split_once(':') {
            let key = key.trim().trim_matches(['"', '\'']);
            if key.contains("{{") || key.contains("{%") {
                out.dynamic = true;
            } else {
                out.names.insert(key.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
