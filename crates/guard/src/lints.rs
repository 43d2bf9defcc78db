//! Load-time checks of a lowered policy file: references to rules that do not exist, unknown
//! functions and wrong arity, regexes that do not compile, unused
//! variables, and rules that reference themselves (through any chain). Errors keep the file
//! from running (its other rules could not be trusted); warnings do not.

use std::collections::{HashMap, HashSet};

use super::ast::*;
use crate::diag::{Diagnostic, codes};
use crate::source::Source;

use crate::eval::functions::FUNCTIONS;

pub fn check(file: &PolicyFile, source: &Source) -> Vec<Diagnostic> {
    walk(file, source).diags
}

/// Every regex literal of the file, each once (compiled when the file is loaded).
pub fn regex_literals(file: &PolicyFile, source: &Source) -> Vec<String> {
    let mut patterns = walk(file, source).patterns;
    patterns.sort();
    patterns.dedup();
    patterns
}

/// Walks the whole file once, collecting the findings and the regex literals.
fn walk<'a>(file: &'a PolicyFile, source: &'a Source) -> Walker<'a> {
    let mut w = Walker {
        source,
        file,
        diags: Vec::new(),
        used_vars: HashSet::new(),
        refs: Vec::new(),
        lets: file.lets.iter().collect(),
        rule_names: file.rules.iter().map(|r| r.name.as_str()).collect(),
        patterns: Vec::new(),
    };
    for l in &file.lets {
        w.rhs(&l.value);
    }
    let mut graph: HashMap<&str, Vec<(String, Span)>> = HashMap::new();
    for r in &file.rules {
        w.refs.clear();
        if let Some(c) = &r.conditions {
            w.conjunction(c);
        }
        w.block(&r.body);
        graph
            .entry(r.name.as_str())
            .or_default()
            .append(&mut w.refs);
    }
    for p in &file.param_rules {
        w.refs.clear();
        w.block(&p.body);
        graph
            .entry(p.name.as_str())
            .or_default()
            .append(&mut w.refs);
        for param in &p.params {
            w.used_vars.insert(param.clone());
        }
    }
    for l in std::mem::take(&mut w.lets) {
        if !w.used_vars.contains(&l.name) {
            w.diags.push(
                Diagnostic::new(codes::P006, format!("`{}` is never used", l.name))
                    .at(source, l.span.clone())
                    .primary_message("defined here")
                    .help(format!("use it as `%{}`, or delete the `let`", l.name)),
            );
        }
    }
    cycles(source, &graph, &mut w.diags);
    w
}

struct Walker<'a> {
    source: &'a Source,
    file: &'a PolicyFile,
    diags: Vec<Diagnostic>,
    used_vars: HashSet<String>,
    /// Rules and parameterized rules referenced by the rule being walked.
    refs: Vec<(String, Span)>,
    /// Every `let` of the file, at any level.
    lets: Vec<&'a Let>,
    rule_names: HashSet<&'a str>,
    /// The regex literals met so far.
    patterns: Vec<String>,
}

impl<'a> Walker<'a> {
    fn block(&mut self, b: &'a Block) {
        self.lets.extend(&b.lets);
        for l in &b.lets {
            self.rhs(&l.value);
        }
        self.conjunction(&b.clauses);
    }

    fn conjunction(&mut self, c: &'a Conjunction) {
        for clause in c.iter().flatten() {
            self.clause(clause);
        }
    }

    /// `{{%name}}` in a message uses the variable.
    fn message(&mut self, m: &Option<String>) {
        let Some(m) = m else { return };
        let mut rest = m.as_str();
        while let Some(i) = rest.find("{{") {
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else { break };
            if let Some(var) = after[..j].trim().strip_prefix('%') {
                self.used_vars.insert(var.to_string());
            }
            rest = &after[j + 2..];
        }
    }

    fn clause(&mut self, c: &'a Clause) {
        match c {
            Clause::Access { message, .. }
            | Clause::RuleRef { message, .. }
            | Clause::ParamCall { message, .. } => self.message(message),
            _ => {}
        }
        match c {
            Clause::Access { query, op, .. } => {
                self.query(query);
                if let AccessOp::Binary { rhs, .. } = op {
                    self.rhs(rhs);
                }
            }
            Clause::Block { query, body, .. } => {
                self.query(query);
                self.block(body);
            }
            Clause::RuleRef { name, span, .. } => {
                self.refs.push((name.clone(), span.clone()));
                if !self.rule_names.contains(name.as_str()) {
                    let names = self.file.rules.iter().map(|r| r.name.as_str());
                    let mut d = Diagnostic::new(codes::P002, format!("no rule is named `{name}`"))
                        .at(self.source, span.clone())
                        .primary_message("referenced here");
                    d = match crate::diag::did_you_mean(name, names) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("reference a rule defined in the same file"),
                    };
                    self.diags.push(d);
                }
            }
            Clause::ParamCall {
                name, args, span, ..
            } => {
                self.refs.push((name.clone(), span.clone()));
                for a in args {
                    self.rhs(a);
                }
                match self.file.param_rules.iter().find(|p| &p.name == name) {
                    None => {
                        let names = self.file.param_rules.iter().map(|r| r.name.as_str());
                        let mut d = Diagnostic::new(
                            codes::P002,
                            format!("no parameterized rule is named `{name}`"),
                        )
                        .at(self.source, span.clone())
                        .primary_message("called here");
                        d = match crate::diag::did_you_mean(name, names) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => {
                                d.help("define it in the same file: `rule NAME(param) { ... }`")
                            }
                        };
                        self.diags.push(d);
                    }
                    Some(p) if p.params.len() != args.len() => self.diags.push(
                        Diagnostic::new(
                            codes::P003,
                            format!(
                                "`{name}` takes {} argument(s), given {}",
                                p.params.len(),
                                args.len()
                            ),
                        )
                        .at(self.source, span.clone())
                        .primary_message("called here")
                        .label(self.source, p.name_span.clone(), "defined here")
                        .help(format!("pass {}", p.params.join(", "))),
                    ),
                    Some(_) => {}
                }
            }
            Clause::When {
                conditions, body, ..
            } => {
                self.conjunction(conditions);
                self.block(body);
            }
            Clause::TypeBlock {
                conditions, body, ..
            } => {
                if let Some(c) = conditions {
                    self.conjunction(c);
                }
                self.block(body);
            }
        }
    }

    fn query(&mut self, q: &'a Query) {
        for p in &q.parts {
            match p {
                Part::Variable(v) => {
                    self.used_vars.insert(v.clone());
                }
                Part::Filter { conditions, .. } => self.conjunction(conditions),
                Part::KeysFilter { rhs, .. } => self.rhs(rhs),
                _ => {}
            }
        }
    }

    fn rhs(&mut self, r: &'a Rhs) {
        match r {
            Rhs::Literal(l, span) => self.literal(l, span),
            Rhs::Query(q) => self.query(q),
            Rhs::Call(c) => {
                for a in &c.args {
                    self.rhs(a);
                }
                match FUNCTIONS.iter().find(|(n, _)| *n == c.name) {
                    None => {
                        let mut d = Diagnostic::new(
                            codes::P003,
                            format!("no function is named `{}`", c.name),
                        )
                        .at(self.source, c.span.clone())
                        .primary_message("called here");
                        d = match crate::diag::did_you_mean(
                            &c.name,
                            FUNCTIONS.iter().map(|(n, _)| *n),
                        ) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(format!(
                                "the functions are {}",
                                FUNCTIONS
                                    .iter()
                                    .map(|(n, _)| *n)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        };
                        self.diags.push(d);
                    }
                    Some((name, arity)) if *arity != c.args.len() => self.diags.push(
                        Diagnostic::new(
                            codes::P003,
                            format!("`{name}` takes {arity} argument(s), given {}", c.args.len()),
                        )
                        .at(self.source, c.span.clone())
                        .primary_message("called here")
                        .help(format!("call it with {arity} argument(s)")),
                    ),
                    Some(_) => {}
                }
            }
        }
    }

    fn literal(&mut self, l: &Literal, span: &Span) {
        match l {
            Literal::Regex(re) => {
                self.patterns.push(re.clone());
                if regex::RegexBuilder::new(re)
                    .size_limit(1 << 22)
                    .build()
                    .is_ok()
                {
                    return;
                }
                if let Err(e) = fancy_regex::Regex::new(re) {
                    self.diags.push(
                        Diagnostic::new(codes::P004, format!("`/{re}/` is not a valid regex: {e}"))
                            .at(self.source, span.clone())
                            .primary_message("here")
                            .help("correct the pattern (Rust regex syntax, as in cfn-guard); escape `/` as `\\/`"),
                    );
                }
            }
            Literal::List(items) => {
                for i in items {
                    self.literal(i, span);
                }
            }
            Literal::Map(entries) => {
                for (_, v) in entries {
                    self.literal(v, span);
                }
            }
            Literal::Range(r) => {
                self.literal(&r.lower, span);
                self.literal(&r.upper, span);
            }
            _ => {}
        }
    }
}

/// P007 for every rule on a reference cycle (a rule that, through references, needs itself).
fn cycles(
    source: &Source,
    graph: &HashMap<&str, Vec<(String, Span)>>,
    diags: &mut Vec<Diagnostic>,
) {
    // Iterative depth-first search with colours; each back edge closes a cycle.
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1 = on the stack, 2 = done
    let mut reported: HashSet<String> = HashSet::new();
    let mut names: Vec<&str> = graph.keys().copied().collect();
    names.sort_unstable();
    for start in names {
        if state.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some((node, i)) = stack.last().cloned() {
            let edges = graph.get(node).map_or(&[][..], Vec::as_slice);
            if i >= edges.len() {
                state.insert(node, 2);
                stack.pop();
                continue;
            }
            let Some(top) = stack.last_mut() else { break };
            top.1 += 1;
            let (next, span) = &edges[i];
            let Some((next, _)) = graph.get_key_value(next.as_str()) else {
                continue;
            };
            match state.get(next) {
                None => {
                    state.insert(next, 1);
                    stack.push((next, 0));
                }
                Some(1) => {
                    let from = stack.iter().position(|(n, _)| n == next).unwrap_or(0);
                    let chain: Vec<&str> = stack[from..]
                        .iter()
                        .map(|(n, _)| *n)
                        .chain([*next])
                        .collect();
                    if reported.insert(node.to_string()) {
                        diags.push(
                            Diagnostic::new(codes::P007, format!("rule `{next}` depends on itself: {}", chain.join(" → ")))
                                .at(source, span.clone())
                                .primary_message("this reference closes the cycle")
                                .help("a rule cannot need its own result; remove the reference or split the rule"),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
