//! Evaluation with Guard's PASS/FAIL/SKIP semantics (policy-language.md §5). The data is a
//! YAML tree in CloudFormation long form, so every failure can point at the offending node.

use std::collections::HashMap;
use std::rc::Rc;

use super::ast::*;
use crate::yaml::{Node, Value as Y};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }

    fn not(self) -> Status {
        match self {
            Status::Pass => Status::Fail,
            Status::Fail => Status::Pass,
            Status::Skip => Status::Skip,
        }
    }
}

/// Conjunction: any FAIL → FAIL; else any PASS → PASS; else SKIP.
fn and(statuses: impl IntoIterator<Item = Status>) -> Status {
    let mut any_pass = false;
    for s in statuses {
        match s {
            Status::Fail => return Status::Fail,
            Status::Pass => any_pass = true,
            Status::Skip => {}
        }
    }
    if any_pass { Status::Pass } else { Status::Skip }
}

/// Disjunction: any PASS → PASS; else any FAIL → FAIL; else SKIP.
fn or(statuses: impl IntoIterator<Item = Status>) -> Status {
    let mut any_fail = false;
    for s in statuses {
        match s {
            Status::Pass => return Status::Pass,
            Status::Fail => any_fail = true,
            Status::Skip => {}
        }
    }
    if any_fail { Status::Fail } else { Status::Skip }
}

/// A value: a node of the data, or one a rule made (a literal, a function's result).
#[derive(Clone, Debug)]
pub enum Val<'d> {
    Doc(&'d Node),
    /// A literal written in the rule: `[*]` does not expand it.
    Lit(Rc<Literal>),
    /// A value a function made (`json_parse`, `to_upper`, ...): it behaves like data.
    Data(Rc<Literal>),
}

impl<'d> Val<'d> {
    fn node(&self) -> Option<&'d Node> {
        match self {
            Val::Doc(n) => Some(n),
            Val::Lit(_) | Val::Data(_) => None,
        }
    }

    /// The value as a literal, for comparisons (documents convert structurally).
    fn lit(&self) -> Rc<Literal> {
        match self {
            Val::Lit(l) | Val::Data(l) => l.clone(),
            Val::Doc(n) => Rc::new(node_literal(n)),
        }
    }

    /// Children for `.*` / `[*]`: map values with their keys, or list items with indexes.
    fn children(&self) -> Option<Vec<(Val<'d>, Literal)>> {
        match self {
            Val::Doc(n) => match &n.value {
                Y::Map(m) => Some(
                    m.iter()
                        .map(|(k, v)| {
                            (
                                Val::Doc(v),
                                Literal::String(k.scalar_text().unwrap_or_default()),
                            )
                        })
                        .collect(),
                ),
                Y::Seq(s) => Some(
                    s.iter()
                        .enumerate()
                        .map(|(i, v)| (Val::Doc(v), Literal::Int(i as i64)))
                        .collect(),
                ),
                _ => None,
            },
            Val::Lit(l) | Val::Data(l) => {
                let wrap = |v: &Literal| self.wrap(v);
                match l.as_ref() {
                    Literal::Map(m) => Some(
                        m.iter()
                            .map(|(k, v)| (wrap(v), Literal::String(k.clone())))
                            .collect(),
                    ),
                    Literal::List(items) => Some(
                        items
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (wrap(v), Literal::Int(i as i64)))
                            .collect(),
                    ),
                    _ => None,
                }
            }
        }
    }

    /// A part of this value, keeping whether it is a rule's literal or data.
    fn wrap(&self, v: &Literal) -> Val<'d> {
        match self {
            Val::Data(_) => Val::Data(Rc::new(v.clone())),
            _ => Val::Lit(Rc::new(v.clone())),
        }
    }

    fn is_map(&self) -> bool {
        match self {
            Val::Doc(n) => matches!(n.value, Y::Map(_)),
            Val::Lit(l) | Val::Data(l) => matches!(l.as_ref(), Literal::Map(_)),
        }
    }

    fn is_list(&self) -> bool {
        match self {
            Val::Doc(n) => matches!(n.value, Y::Seq(_)),
            Val::Lit(l) | Val::Data(l) => matches!(l.as_ref(), Literal::List(_)),
        }
    }

    fn get(&self, key: &str) -> Option<Val<'d>> {
        match self {
            Val::Doc(n) => n.get(key).map(Val::Doc),
            Val::Lit(l) | Val::Data(l) => match l.as_ref() {
                Literal::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| self.wrap(v)),
                _ => None,
            },
        }
    }
}

/// A document node as a literal (structurally; tags are already long forms).
pub fn node_literal(n: &Node) -> Literal {
    match &n.value {
        Y::Null => Literal::Null,
        Y::Bool(b) => Literal::Bool(*b),
        Y::Int(i) => Literal::Int(*i),
        Y::Float(f) => Literal::Float(*f),
        Y::String(s) => Literal::String(s.clone()),
        Y::Seq(items) => Literal::List(items.iter().map(node_literal).collect()),
        Y::Map(m) => Literal::Map(
            m.iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), node_literal(v)))
                .collect(),
        ),
    }
}

/// Names a query bound (`[ k ]`, `[ k | ... ]`), each to every key the step selected, as
/// cfn-guard binds them; visible to a block over the query's results.
pub type Binds<'d> = Rc<Vec<(String, Vec<Val<'d>>)>>;

/// One entry of a query's result.
#[derive(Clone, Debug)]
pub enum Res<'d> {
    Resolved(Val<'d>, Binds<'d>),
    /// Not there: a missing key, an index out of range, `[*]` on an empty list, a key on a
    /// non-map. `at` is the nearest node that exists.
    Unresolved {
        at: Option<&'d Node>,
        why: String,
    },
}

/// A failed clause, for the report.
#[derive(Clone, Debug)]
pub struct Failure {
    pub rule: String,
    /// The offending node, when it is in the data.
    pub node: Option<(usize, usize)>,
    pub message: Option<String>,
    /// The failing value, shortened, when it is a scalar.
    pub value: Option<String>,
    /// What the clause checked, in words (`Properties.X == "Enabled"`).
    pub detail: String,
}

/// A data node as one short line: scalars as written, maps and lists in flow style, cut at
/// 80 characters.
pub fn node_text(n: &Node) -> String {
    fn write(n: &Node, out: &mut String) {
        if out.len() > 80 {
            return;
        }
        match &n.value {
            Y::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&k.scalar_text().unwrap_or_default());
                    out.push_str(": ");
                    write(v, out);
                    if out.len() > 80 {
                        break;
                    }
                }
                out.push('}');
            }
            Y::Seq(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(v, out);
                    if out.len() > 80 {
                        break;
                    }
                }
                out.push(']');
            }
            _ => out.push_str(&n.scalar_text().unwrap_or_default()),
        }
    }
    let mut out = String::new();
    write(n, &mut out);
    if out.chars().count() > 80 {
        out = out.chars().take(79).collect::<String>() + "…";
    }
    out
}

type Scope<'d> = HashMap<String, Vec<Res<'d>>>;

pub struct Evaluator<'p, 'd> {
    pub file: &'p PolicyFile,
    root: &'d Node,
    results: HashMap<String, Status>,
    in_progress: Vec<String>,
    pub failures: Vec<Failure>,
    current_rule: Vec<String>,
    /// Suppress failure recording (inside conditions and filters).
    quiet: usize,
    /// Inside `when` conditions, where references to SKIPped rules count differently.
    in_condition: usize,
    /// A conversion failed (`parse_int` of text): the rule FAILs, even from a condition.
    conversion_failed: bool,
    /// The last query ran out of values before its end (a filter in the middle matched
    /// nothing): clauses over it SKIP.
    vanished: bool,
    scopes: Vec<Scope<'d>>,
    /// Rules by name (the first definition of a name, as before).
    by_name: HashMap<&'p str, &'p Rule>,
    /// Query steps and clauses this evaluation may still take (`limits.policy_steps`).
    steps_left: u64,
    /// The budget ran out while evaluating this rule (an empty name: in the file's own
    /// `let`s); from then on every clause SKIPs at once.
    pub exhausted: Option<String>,
}

impl<'p, 'd> Evaluator<'p, 'd> {
    pub fn new(file: &'p PolicyFile, root: &'d Node) -> Self {
        let mut e = Evaluator {
            file,
            root,
            results: HashMap::new(),
            in_progress: Vec::new(),
            failures: Vec::new(),
            current_rule: Vec::new(),
            quiet: 0,
            in_condition: 0,
            vanished: false,
            conversion_failed: false,
            scopes: vec![HashMap::new()],
            by_name: HashMap::new(),
            steps_left: step_budget(),
            exhausted: None,
        };
        for r in &file.rules {
            e.by_name.entry(r.name.as_str()).or_insert(r);
        }
        for l in &file.lets {
            let v = e.let_value(&l.value, &Val::Doc(root));
            if let Some(s) = e.scopes.last_mut() {
                s.insert(l.name.clone(), v);
            }
        }
        e
    }

    /// Every named rule's status, in file order.
    pub fn run(&mut self) -> Vec<(String, Status)> {
        let names: Vec<String> = self.file.rules.iter().map(|r| r.name.clone()).collect();
        names
            .into_iter()
            .map(|n| {
                let s = self.rule(&n);
                (n, s)
            })
            .collect()
    }

    /// Counts one unit of work; `false` once the budget is spent.
    fn tick(&mut self) -> bool {
        if self.exhausted.is_some() {
            return false;
        }
        if self.steps_left == 0 {
            self.exhausted = Some(self.in_progress.last().cloned().unwrap_or_default());
            return false;
        }
        self.steps_left -= 1;
        true
    }

    fn rule(&mut self, name: &str) -> Status {
        if let Some(s) = self.results.get(name) {
            return *s;
        }
        let Some(rule) = self.by_name.get(name).copied() else {
            return Status::Fail;
        };
        if self.in_progress.iter().any(|n| n == name) {
            // A cycle of rule references (reported when the file is loaded).
            return Status::Fail;
        }
        self.in_progress.push(name.to_string());
        let outer_conversion = std::mem::replace(&mut self.conversion_failed, false);
        let root = Val::Doc(self.root);
        let status = match &rule.conditions {
            Some(c) => {
                self.quiet += 1;
                self.in_condition += 1;
                let cond = self.conjunction(c, &root);
                self.in_condition -= 1;
                self.quiet -= 1;
                if cond != Status::Pass {
                    Status::Skip
                } else {
                    self.rule_body(rule, &root)
                }
            }
            None => self.rule_body(rule, &root),
        };
        self.in_progress.pop();
        let status = if self.conversion_failed {
            Status::Fail
        } else {
            status
        };
        self.conversion_failed = outer_conversion;
        self.results.insert(name.to_string(), status);
        status
    }

    fn rule_body(&mut self, rule: &'p Rule, this: &Val<'d>) -> Status {
        self.current_rule.push(rule.name.clone());
        let s = self.block(&rule.body, this);
        self.current_rule.pop();
        s
    }

    fn block(&mut self, block: &'p Block, this: &Val<'d>) -> Status {
        self.scopes.push(HashMap::new());
        for l in &block.lets {
            let v = self.let_value(&l.value, this);
            if let Some(s) = self.scopes.last_mut() {
                s.insert(l.name.clone(), v);
            }
        }
        let s = self.conjunction(&block.clauses, this);
        self.scopes.pop();
        s
    }

    fn conjunction(&mut self, c: &'p Conjunction, this: &Val<'d>) -> Status {
        let mut statuses = Vec::with_capacity(c.len());
        for disj in c {
            statuses.push(self.disjunction(disj, this));
        }
        and(statuses)
    }

    fn disjunction(&mut self, d: &'p [Clause], this: &Val<'d>) -> Status {
        if d.len() == 1 {
            return self.clause(&d[0], this);
        }
        // Failures of a disjunct that another disjunct satisfies are not failures.
        let mark = self.failures.len();
        let s = or(d.iter().map(|c| self.clause(c, this)).collect::<Vec<_>>());
        if s != Status::Fail {
            self.failures.truncate(mark);
        }
        s
    }

    fn record(&mut self, node: Option<&Node>, message: &Option<String>, detail: String) {
        if self.quiet > 0 {
            return;
        }
        let message = message.as_ref().map(|m| self.interpolate(m, node));
        self.failures.push(Failure {
            rule: self.current_rule.last().cloned().unwrap_or_default(),
            node: node.map(|n| (n.span.start, n.span.end)),
            message,
            value: node
                .filter(|n| !matches!(n.value, Y::Map(_) | Y::Seq(_)))
                .map(node_text),
            detail,
        });
    }

    /// proctor's extension to messages: `{{value}}` is the failing value, `{{%name}}` a
    /// variable's values. Anything else between braces (`{{resolve:...}}`) stays as written.
    fn interpolate(&self, message: &str, node: Option<&Node>) -> String {
        if !message.contains("{{") {
            return message.to_string();
        }
        let mut out = String::with_capacity(message.len());
        let mut rest = message;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(j) = after.find("}}") else {
                rest = &rest[i..];
                break;
            };
            let name = after[..j].trim();
            let value = if name == "value" {
                Some(node.map_or_else(|| "(no value)".to_string(), node_text))
            } else if let Some(var) = name.strip_prefix('%') {
                self.lookup(var).map(|vals| {
                    let texts: Vec<String> = vals
                        .iter()
                        .filter_map(|r| match r {
                            Res::Resolved(Val::Doc(n), _) => Some(node_text(n)),
                            Res::Resolved(Val::Lit(l) | Val::Data(l), _) => Some(match &**l {
                                Literal::String(s) => s.clone(),
                                other => literal_text(other),
                            }),
                            Res::Unresolved { .. } => None,
                        })
                        .take(10)
                        .collect();
                    texts.join(", ")
                })
            } else {
                None
            };
            match value {
                Some(v) => out.push_str(&v),
                None => out.push_str(&rest[i..i + 2 + j + 2]),
            }
            rest = &after[j + 2..];
        }
        out.push_str(rest);
        out
    }

    fn clause(&mut self, c: &'p Clause, this: &Val<'d>) -> Status {
        if !self.tick() {
            return Status::Skip;
        }
        match c {
            Clause::Access {
                not,
                query,
                op,
                message,
                ..
            } => self.access(*not, query, op, message, this),
            Clause::Block {
                query,
                not_empty,
                body,
                ..
            } => {
                let results = self.query(query, this);
                if results.is_empty() {
                    return if *not_empty {
                        Status::Fail
                    } else {
                        Status::Skip
                    };
                }
                let mut statuses = Vec::new();
                for r in results {
                    match r {
                        Res::Resolved(v, binds) => {
                            self.scopes.push(
                                binds
                                    .iter()
                                    .map(|(k, vals)| {
                                        (
                                            k.clone(),
                                            vals.iter()
                                                .map(|x| {
                                                    Res::Resolved(x.clone(), Rc::new(Vec::new()))
                                                })
                                                .collect(),
                                        )
                                    })
                                    .collect(),
                            );
                            statuses.push(self.block(body, &v));
                            self.scopes.pop();
                        }
                        Res::Unresolved { at, why } => {
                            self.record(at, &None, format!("`{}`: {why}", query_text(query)));
                            statuses.push(Status::Fail);
                        }
                    }
                }
                if query.some {
                    or(statuses)
                } else {
                    and(statuses)
                }
            }
            Clause::RuleRef {
                not, name, message, ..
            } => {
                // As cfn-guard 3.2.1: a referenced rule that SKIPs counts as FAIL in a body,
                // negated or not; in a `when` condition its negation holds.
                let s = match (self.rule(name), *not, self.in_condition > 0) {
                    (Status::Skip, true, true) => Status::Pass,
                    (Status::Skip, _, _) => Status::Fail,
                    (s, true, _) => s.not(),
                    (s, false, _) => s,
                };
                if s == Status::Fail {
                    self.record(
                        None,
                        message,
                        format!("rule `{name}` {}", if *not { "passed" } else { "failed" }),
                    );
                }
                s
            }
            Clause::ParamCall {
                not,
                name,
                args,
                message,
                ..
            } => {
                let Some(pr) = self.file.param_rules.iter().find(|p| &p.name == name) else {
                    return Status::Fail;
                };
                let mut scope = Scope::new();
                for (param, arg) in pr.params.iter().zip(args) {
                    let v = self.let_value(arg, this);
                    scope.insert(param.clone(), v);
                }
                self.scopes.push(scope);
                let s = self.block(&pr.body, this);
                self.scopes.pop();
                // A body that SKIPs makes the call FAIL, negated or not (cfn-guard 3.2.1).
                let s = match (s, *not) {
                    (Status::Skip, _) => Status::Fail,
                    (s, true) => s.not(),
                    (s, false) => s,
                };
                if s == Status::Fail {
                    self.record(None, message, format!("`{name}(...)` failed"));
                }
                s
            }
            Clause::When {
                conditions, body, ..
            } => {
                self.quiet += 1;
                self.in_condition += 1;
                let cond = self.conjunction(conditions, this);
                self.in_condition -= 1;
                self.quiet -= 1;
                if cond != Status::Pass {
                    Status::Skip
                } else {
                    self.block(body, this)
                }
            }
            Clause::TypeBlock {
                type_name,
                conditions,
                body,
                ..
            } => {
                let Some(resources) = self.root.get("Resources").and_then(Node::as_map) else {
                    return Status::Skip;
                };
                let matching: Vec<&'d Node> = resources
                    .iter()
                    .map(|(_, r)| r)
                    .filter(|r| r.get("Type").and_then(Node::as_str) == Some(type_name.as_str()))
                    .collect();
                if matching.is_empty() {
                    return Status::Skip;
                }
                let mut statuses = Vec::new();
                for r in matching {
                    let v = Val::Doc(r);
                    if let Some(c) = conditions {
                        self.quiet += 1;
                        self.in_condition += 1;
                        let cond = self.conjunction(c, &v);
                        self.in_condition -= 1;
                        self.quiet -= 1;
                        if cond != Status::Pass {
                            statuses.push(Status::Skip);
                            continue;
                        }
                    }
                    statuses.push(self.block(body, &v));
                }
                and(statuses)
            }
        }
    }

    fn access(
        &mut self,
        not: bool,
        query: &'p Query,
        op: &'p AccessOp,
        message: &Option<String>,
        this: &Val<'d>,
    ) -> Status {
        let results = self.query(query, this);
        if self.vanished {
            return Status::Skip;
        }
        let converted = results.iter().any(|r| matches!(r, Res::Unresolved { why, .. } if why.starts_with(super::functions::CONVERSION)));
        if converted {
            // A failed conversion FAILs the clause, negated or not, and the rule with it.
            self.conversion_failed = true;
            self.record(
                None,
                message,
                format!("`{}`: a value could not be converted", query_text(query)),
            );
            return Status::Fail;
        }
        let statuses: Vec<(Status, Option<&'d Node>)> = match op {
            AccessOp::Unary { not: negated, op } => {
                if results.is_empty() {
                    // Nothing selected: `empty` holds, `exists` does not.
                    // Nothing selected (a filter matched nothing): `empty` holds and `!empty`
                    // fails; everything else is SKIP, as in cfn-guard 3.2.1.
                    let s = match (op, *negated) {
                        (UnaryOp::Empty, false) => Status::Pass,
                        (UnaryOp::Empty, true) => Status::Fail,
                        _ => Status::Skip,
                    };
                    vec![(s, None)]
                } else if *op == UnaryOp::Empty && selects_a_set(query) {
                    // A query that ends in a filter (or is a variable) is a set: `empty` asks
                    // whether it has anything resolved in it, not whether each value is empty.
                    let any = results.iter().any(|r| matches!(r, Res::Resolved(..)));
                    if any == *negated {
                        vec![(Status::Pass, None)]
                    } else if any {
                        // Not empty: each value in the set is a finding, at its node.
                        let nodes: Vec<_> = results
                            .iter()
                            .filter_map(|r| match r {
                                Res::Resolved(v, _) => Some((Status::Fail, v.node())),
                                Res::Unresolved { .. } => None,
                            })
                            .collect();
                        if query.some {
                            // `some` ORs the statuses: one entry keeps the set's verdict.
                            vec![(Status::Fail, nodes.first().and_then(|(_, n)| *n))]
                        } else {
                            nodes
                        }
                    } else {
                        vec![(Status::Fail, None)]
                    }
                } else {
                    results
                        .iter()
                        .map(|r| (unary(r, *op, *negated), res_node(r)))
                        .collect()
                }
            }
            AccessOp::Binary { op, rhs } => {
                let (right, right_unresolved) = self.rhs_values(rhs, this);
                if results.is_empty() {
                    return Status::Skip;
                }
                if right.is_empty() {
                    // A right side with no values (missing, or emptied by a filter) fails, as
                    // in cfn-guard 3.2.1.
                    let _ = right_unresolved;
                    self.record(
                        None,
                        message,
                        format!(
                            "the right-hand side of `{}` has no values",
                            query_text(query)
                        ),
                    );
                    return if not { Status::Pass } else { Status::Fail };
                }
                // `==` against several values compares the two sides as sets (cfn-guard
                // 3.2.1): each left value is among the right's, and each right value among
                // the left's.
                let set_eq = *op == CmpOp::Eq && right.len() > 1;
                let covered = !set_eq
                    || right.iter().all(|r| {
                        results.iter().any(|x| {
                            matches!(x, Res::Resolved(v, _) if eq_value(&v.lit(), &r.lit()) == Some(true))
                        })
                    });
                results
                    .iter()
                    .map(|r| match r {
                        Res::Resolved(v, _) => {
                            let s = if covered {
                                binary(v, *op, &right)
                            } else {
                                Status::Fail
                            };
                            (if not { s.not() } else { s }, v.node())
                        }
                        // A value that is not there fails, `not` or no `not`.
                        Res::Unresolved { at, .. } => (Status::Fail, *at),
                    })
                    .collect()
            }
        };
        let statuses: Vec<(Status, Option<&'d Node>)> = match op {
            AccessOp::Unary { .. } if not => {
                statuses.into_iter().map(|(s, n)| (s.not(), n)).collect()
            }
            _ => statuses,
        };
        let overall = if query.some {
            or(statuses.iter().map(|(s, _)| *s))
        } else {
            and(statuses.iter().map(|(s, _)| *s))
        };
        if overall == Status::Fail {
            let detail = clause_text(query, op);
            let failing: Vec<Option<&Node>> = statuses
                .iter()
                .filter(|(s, _)| *s == Status::Fail)
                .map(|(_, n)| *n)
                .collect();
            for n in failing {
                self.record(n, message, detail.clone());
            }
        }
        overall
    }

    /// The resolved values of a right-hand side, and whether some of it was unresolved.
    fn rhs_values(&mut self, rhs: &'p Rhs, this: &Val<'d>) -> (Vec<Val<'d>>, bool) {
        let results = match rhs {
            Rhs::Literal(l, _) => return (vec![Val::Lit(Rc::new(l.clone()))], false),
            Rhs::Query(q) => self.query(q, this),
            Rhs::Call(c) => self.call(c, this),
        };
        let unresolved = results.iter().any(|r| matches!(r, Res::Unresolved { .. }));
        let values = results
            .into_iter()
            .filter_map(|r| match r {
                Res::Resolved(v, _) => Some(v),
                Res::Unresolved { .. } => None,
            })
            .collect();
        (values, unresolved)
    }

    fn let_value(&mut self, value: &'p Rhs, this: &Val<'d>) -> Vec<Res<'d>> {
        match value {
            Rhs::Literal(l, _) => vec![Res::Resolved(
                Val::Lit(Rc::new(l.clone())),
                Rc::new(Vec::new()),
            )],
            Rhs::Query(q) => self.query(q, this),
            Rhs::Call(c) => self.call(c, this),
        }
    }

    fn lookup(&self, name: &str) -> Option<Vec<Res<'d>>> {
        self.scopes.iter().rev().find_map(|s| s.get(name)).cloned()
    }

    fn call(&mut self, c: &'p FnCall, this: &Val<'d>) -> Vec<Res<'d>> {
        let args: Vec<Vec<Res<'d>>> = c.args.iter().map(|a| self.let_value(a, this)).collect();
        super::functions::call(&c.name, &args)
    }

    pub fn query(&mut self, q: &'p Query, this: &Val<'d>) -> Vec<Res<'d>> {
        self.vanished = false;
        let mut current: Vec<Res<'d>> = Vec::new();
        let mut i = 0;
        match q.parts.first() {
            Some(Part::Variable(v)) => {
                i = 1;
                // A name not in scope (a filter's binding outside its filter) is unresolved.
                current = self.lookup(v).unwrap_or_else(|| {
                    vec![Res::Unresolved {
                        at: None,
                        why: format!("`%{v}` is not defined here"),
                    }]
                });
            }
            Some(Part::This) => {
                i = 1;
                current.push(Res::Resolved(this.clone(), Rc::new(Vec::new())));
            }
            _ => current.push(Res::Resolved(this.clone(), Rc::new(Vec::new()))),
        }
        while i < q.parts.len() {
            // `.*[ filter ]` filters the collection's values, as `[ filter ]` on the collection
            // does: the filter takes the place of the `.*`.
            let part = match (&q.parts[i], q.parts.get(i + 1)) {
                (Part::All | Part::AllItems, Some(f @ Part::Filter { .. })) => {
                    i += 1;
                    f
                }
                (p, _) => p,
            };
            // The first step after `%variable` applies to the variable's values themselves.
            let on_variable = i == 1 && matches!(q.parts.first(), Some(Part::Variable(_)));
            i += 1;
            self.vanished = false;
            if current.is_empty() {
                // Out of values before the end of the query: clauses over it SKIP, unless the
                // query ends with a filter (then it is an emptiness test), as in cfn-guard.
                self.vanished = !matches!(
                    q.parts.last(),
                    Some(Part::Filter { .. } | Part::KeysFilter { .. })
                );
                break;
            }
            let mut next = Vec::new();
            for r in current {
                let (v, binds) = match r {
                    Res::Resolved(v, b) => (v, b),
                    unresolved => {
                        next.push(unresolved);
                        continue;
                    }
                };
                self.step(part, v, binds, &mut next, on_variable);
            }
            current = next;
        }
        current
    }

    /// Keeps the candidates for which the filter's conditions PASS; a binding (`[ k | ... ]`)
    /// holds every key kept, visible to what follows.
    fn filter_candidates(
        &mut self,
        candidates: Vec<(Val<'d>, Literal)>,
        bind: &Option<String>,
        conditions: &'p Conjunction,
        binds: &Binds<'d>,
        out: &mut Vec<Res<'d>>,
    ) {
        let mut kept = Vec::new();
        for (c, key) in candidates {
            let mut scope = Scope::new();
            if let Some(name) = bind {
                scope.insert(
                    name.clone(),
                    vec![Res::Resolved(
                        Val::Lit(Rc::new(key.clone())),
                        Rc::new(Vec::new()),
                    )],
                );
            }
            self.scopes.push(scope);
            self.quiet += 1;
            let s = self.conjunction(conditions, &c);
            self.quiet -= 1;
            self.scopes.pop();
            if s == Status::Pass {
                kept.push((c, key));
            }
        }
        let b = match bind {
            Some(name) => {
                let mut b = (**binds).clone();
                b.push((
                    name.clone(),
                    kept.iter()
                        .map(|(_, k)| Val::Lit(Rc::new(k.clone())))
                        .collect(),
                ));
                Rc::new(b)
            }
            None => binds.clone(),
        };
        for (c, _) in kept {
            out.push(Res::Resolved(c, b.clone()));
        }
    }

    /// One step of a query. `on_variable`: the step applies directly to a variable's values,
    /// so a filter selects among those values (lists still contribute their items).
    fn step(
        &mut self,
        part: &'p Part,
        v: Val<'d>,
        binds: Binds<'d>,
        out: &mut Vec<Res<'d>>,
        on_variable: bool,
    ) {
        if !self.tick() {
            return;
        }
        let at = v.node();
        match part {
            Part::Key(k) => match v.get(k) {
                Some(x) => out.push(Res::Resolved(x, binds)),
                None => out.push(Res::Unresolved {
                    at,
                    why: format!("no key `{k}`"),
                }),
            },
            // A literal list (a rule argument, a `let` literal) stays one value, as in Guard.
            Part::All | Part::AllItems if matches!(v, Val::Lit(_)) => {
                out.push(Res::Resolved(v, binds))
            }
            // `[*]` iterates lists only: a map or a scalar is kept as it is.
            Part::AllItems if !v.is_list() => out.push(Res::Resolved(v, binds)),
            Part::All | Part::AllItems | Part::Bind(_) => match v.children() {
                Some(children) if !children.is_empty() => {
                    let b = match part {
                        Part::Bind(name) => {
                            let keys = children
                                .iter()
                                .map(|(_, k)| Val::Lit(Rc::new(k.clone())))
                                .collect();
                            let mut b = (*binds).clone();
                            b.push((name.clone(), keys));
                            Rc::new(b)
                        }
                        _ => binds.clone(),
                    };
                    for (child, _) in children {
                        out.push(Res::Resolved(child, b.clone()));
                    }
                }
                _ => out.push(Res::Unresolved {
                    at,
                    why: "nothing to iterate".into(),
                }),
            },
            Part::Index(i) => {
                let children = if v.is_list() {
                    v.children().unwrap_or_default()
                } else {
                    Vec::new()
                };
                let idx = if *i < 0 {
                    children.len() as i64 + i
                } else {
                    *i
                };
                match usize::try_from(idx).ok().and_then(|i| children.get(i)) {
                    Some((child, _)) => out.push(Res::Resolved(child.clone(), binds)),
                    None => out.push(Res::Unresolved {
                        at,
                        why: format!("no index {i}"),
                    }),
                }
            }
            Part::Variable(name) => {
                // `.%var`: the variable's string values used as keys.
                let mut keys = Vec::new();
                for key in self.lookup(name).unwrap_or_default() {
                    if let Res::Resolved(k, _) = key {
                        match k.lit().as_ref() {
                            Literal::String(s) => keys.push(s.clone()),
                            // A literal list of keys: each of them.
                            Literal::List(items) => {
                                keys.extend(items.iter().filter_map(|i| match i {
                                    Literal::String(s) => Some(s.clone()),
                                    _ => None,
                                }))
                            }
                            _ => {}
                        }
                    }
                }
                for s in keys {
                    match v.get(&s) {
                        Some(x) => out.push(Res::Resolved(x, binds.clone())),
                        None => out.push(Res::Unresolved {
                            at,
                            why: format!("no key `{s}`"),
                        }),
                    }
                }
            }
            Part::This => out.push(Res::Resolved(v, binds)),
            Part::Filter { bind, conditions } => {
                // A filter selects among a list's items or a map's values; on a scalar there
                // is nothing to select from.
                if on_variable && !v.is_list() {
                    // A variable's value is itself the candidate.
                    let candidates = vec![(v.clone(), Literal::Null)];
                    self.filter_candidates(candidates, bind, conditions, &binds, out);
                    return;
                }
                if !(v.is_list() || v.is_map()) {
                    out.push(Res::Unresolved {
                        at,
                        why: "a filter on a value that is not a list or map".into(),
                    });
                    return;
                }
                let candidates: Vec<(Val<'d>, Literal)> = v.children().unwrap_or_default();
                self.filter_candidates(candidates, bind, conditions, &binds, out);
            }
            Part::KeysFilter { op, rhs } => {
                let (right, _) = self.rhs_values(rhs, &v);
                if v.is_map() {
                    for (child, key) in v.children().unwrap_or_default() {
                        if binary(&Val::Lit(Rc::new(key)), *op, &right) == Status::Pass {
                            out.push(Res::Resolved(child, binds.clone()));
                        }
                    }
                }
            }
        }
    }
}

/// Whether `empty` tests the query's result set rather than each value.
fn selects_a_set(q: &Query) -> bool {
    matches!(
        q.parts.last(),
        Some(Part::Filter { .. } | Part::KeysFilter { .. })
    ) || matches!(q.parts.as_slice(), [Part::Variable(_)])
}

fn res_node<'d>(r: &Res<'d>) -> Option<&'d Node> {
    match r {
        Res::Resolved(v, _) => v.node(),
        Res::Unresolved { at, .. } => *at,
    }
}

fn unary(r: &Res<'_>, op: UnaryOp, negated: bool) -> Status {
    // `empty` does not apply to numbers, booleans or null: both `empty` and `!empty` fail.
    if op == UnaryOp::Empty
        && let Res::Resolved(v, _) = r
        && matches!(
            v.lit().as_ref(),
            Literal::Int(_)
                | Literal::Float(_)
                | Literal::Bool(_)
                | Literal::Null
                | Literal::Char(_)
        )
    {
        return Status::Fail;
    }
    let holds = match r {
        Res::Unresolved { .. } => matches!(op, UnaryOp::Empty),
        Res::Resolved(v, _) => {
            let l = v.lit();
            match op {
                UnaryOp::Exists => true,
                // Collections and strings are empty when they have nothing in them; other
                // scalars (numbers, booleans, null) count as empty, as in cfn-guard 3.2.1.
                UnaryOp::Empty => match l.as_ref() {
                    Literal::List(x) => x.is_empty(),
                    Literal::Map(x) => x.is_empty(),
                    Literal::String(s) => s.is_empty(),
                    _ => true,
                },
                UnaryOp::IsString => matches!(l.as_ref(), Literal::String(_)),
                UnaryOp::IsList => matches!(l.as_ref(), Literal::List(_)),
                UnaryOp::IsStruct => matches!(l.as_ref(), Literal::Map(_)),
                UnaryOp::IsBool => matches!(l.as_ref(), Literal::Bool(_)),
                UnaryOp::IsInt => matches!(l.as_ref(), Literal::Int(_)),
                UnaryOp::IsFloat => matches!(l.as_ref(), Literal::Float(_)),
                UnaryOp::IsNull => matches!(l.as_ref(), Literal::Null),
            }
        }
    };
    let s = if holds { Status::Pass } else { Status::Fail };
    if negated { s.not() } else { s }
}

/// Compares one left value with the right-hand side's values.
fn binary(left: &Val<'_>, op: CmpOp, right: &[Val<'_>]) -> Status {
    let l = left.lit();
    let holds = match op {
        // Values of different types are neither equal nor unequal: both comparisons fail.
        // Against several right-hand values (a query), the left must equal every one.
        CmpOp::Eq if right.len() > 1 => right.iter().any(|r| eq_value(&l, &r.lit()) == Some(true)),
        CmpOp::Eq => right.iter().all(|r| eq_value(&l, &r.lit()) == Some(true)),
        CmpOp::Ne => right.iter().all(|r| ne_value(&l, &r.lit())),
        CmpOp::In => within(&l, right),
        CmpOp::NotIn => not_within(&l, right),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            right.iter().all(|r| ordered(&l, op, &r.lit()))
        }
    };
    if holds { Status::Pass } else { Status::Fail }
}

/// Equality as cfn-guard 3.2.1 reads it: `Some(equal?)`, or `None` when the two cannot be
/// compared (different types, also anywhere inside maps and lists).
fn eqv(l: &Literal, r: &Literal) -> Option<bool> {
    match (l, r) {
        (Literal::Map(a), Literal::Map(b)) => {
            if a.len() != b.len() || a.iter().any(|(k, _)| !b.iter().any(|(k2, _)| k == k2)) {
                return Some(false);
            }
            let mut all = true;
            for (k, v) in a {
                let (_, v2) = b.iter().find(|(k2, _)| k == k2)?;
                match eqv(v, v2) {
                    None => return None,
                    Some(false) => all = false,
                    Some(true) => {}
                }
            }
            Some(all)
        }
        (Literal::List(a), Literal::List(b)) => {
            if a.len() != b.len() {
                return Some(false);
            }
            let mut all = true;
            for (x, y) in a.iter().zip(b) {
                match eqv(x, y) {
                    None => return None,
                    Some(false) => all = false,
                    Some(true) => {}
                }
            }
            Some(all)
        }
        _ => same_type(l, r).then(|| equal(l, r)),
    }
}

/// `==`: a scalar against a one-element list compares with the element; a list of values
/// against a scalar compares every element; a value against a range is membership.
fn eq_value(l: &Literal, r: &Literal) -> Option<bool> {
    let scalar = |x: &Literal| !matches!(x, Literal::List(_) | Literal::Map(_));
    match (l, r) {
        (_, Literal::Range(range)) => Some(in_range(l, range)),
        (x, Literal::List(b)) if scalar(x) && b.len() == 1 => eq_value(x, &b[0]),
        (Literal::List(a), y) if scalar(y) => {
            // An empty list on the left holds vacuously.
            let mut all = true;
            for x in a {
                match eq_value(x, y) {
                    None => return None,
                    Some(false) => all = false,
                    Some(true) => {}
                }
            }
            Some(all)
        }
        _ => eqv(l, r),
    }
}

/// `!=`: the two are of comparable types and differ.
fn ne_value(l: &Literal, r: &Literal) -> bool {
    let scalar = |x: &Literal| !matches!(x, Literal::List(_) | Literal::Map(_));
    match (l, r) {
        (x, Literal::List(b)) if scalar(x) && b.len() == 1 => ne_value(x, &b[0]),
        (Literal::List(a), y) if scalar(y) => a.iter().all(|x| ne_value(x, y)),
        _ => eqv(l, r) == Some(false),
    }
}

fn same_type(l: &Literal, r: &Literal) -> bool {
    use Literal::*;
    matches!(
        (l, r),
        (Null, Null)
            | (Bool(_), Bool(_))
            | (Int(_) | Float(_), Int(_) | Float(_))
            | (
                String(_) | Regex(_) | Char(_),
                String(_) | Regex(_) | Char(_)
            )
    )
}

/// `IN`: a scalar in a list (regexes search), in a range, a substring of a string, or among a
/// query's values. A list on the left is IN when it is itself an element of a list of lists,
/// or when every element is in.
fn within(l: &Literal, right: &[Val<'_>]) -> bool {
    if let Literal::List(items) = l {
        if right
            .iter()
            .any(|r| matches!(r.lit().as_ref(), Literal::Range(_)))
        {
            return false;
        }
        let whole = right.iter().any(|r| match r.lit().as_ref() {
            Literal::List(options) => options
                .iter()
                .any(|o| matches!(o, Literal::List(_)) && eqv(l, o) == Some(true)),
            _ => false,
        });
        // Against a list of lists only membership counts: an empty list is not vacuously IN.
        let of_lists = right.iter().any(|r| match r.lit().as_ref() {
            Literal::List(options) => options.iter().any(|o| matches!(o, Literal::List(_))),
            _ => false,
        });
        return whole
            || (!(items.is_empty() && of_lists) && items.iter().all(|i| within(i, right)));
    }
    right.iter().any(|r| {
        let r = r.lit();
        match (l, r.as_ref()) {
            (_, Literal::List(options)) => options.iter().any(|o| equal(l, o)),
            (_, Literal::Range(range)) => in_range(l, range),
            (Literal::String(needle), Literal::String(hay)) => hay.contains(needle.as_str()),
            (_, other) => equal(l, other),
        }
    })
}

/// `NOT IN`: for a list on the left, none of its elements is in; an empty list FAILs (it is
/// vacuously IN), as in cfn-guard 3.2.1.
fn not_within(l: &Literal, right: &[Val<'_>]) -> bool {
    match l {
        Literal::List(items) => !items.is_empty() && items.iter().all(|i| !within(i, right)),
        _ => !within(l, right),
    }
}

/// `<`, `<=`, `>`, `>=`; a list on the left: every element.
fn ordered(l: &Literal, op: CmpOp, r: &Literal) -> bool {
    if let Literal::List(items) = l {
        return items.iter().all(|i| ordered(i, op, r));
    }
    // A scalar against a list: against every element.
    if let Literal::List(items) = r {
        return items.iter().all(|i| ordered(l, op, i));
    }
    match order(l, r) {
        Some(o) => match op {
            CmpOp::Lt => o.is_lt(),
            CmpOp::Le => o.is_le(),
            CmpOp::Gt => o.is_gt(),
            _ => o.is_ge(),
        },
        None => false,
    }
}

fn in_range(l: &Literal, r: &RangeLit) -> bool {
    let lo = order(l, &r.lower);
    let hi = order(l, &r.upper);
    match (lo, hi) {
        (Some(lo), Some(hi)) => {
            (if r.lower_inclusive {
                lo.is_ge()
            } else {
                lo.is_gt()
            }) && (if r.upper_inclusive {
                hi.is_le()
            } else {
                hi.is_lt()
            })
        }
        _ => false,
    }
}

fn number(l: &Literal) -> Option<f64> {
    match l {
        Literal::Int(i) => Some(*i as f64),
        Literal::Float(f) => Some(*f),
        _ => None,
    }
}

pub fn equal(l: &Literal, r: &Literal) -> bool {
    match (l, r) {
        (Literal::String(s), Literal::Regex(re)) => regex_search(re, s),
        (Literal::Regex(re), Literal::String(s)) => regex_search(re, s),
        (Literal::Int(_) | Literal::Float(_), Literal::Int(_) | Literal::Float(_)) => {
            number(l) == number(r)
        }
        (Literal::List(a), Literal::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y))
        }
        (Literal::Map(a), Literal::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && equal(v, v2)))
        }
        (Literal::Char(c), Literal::String(s)) | (Literal::String(s), Literal::Char(c)) => {
            s.chars().count() == 1 && s.starts_with(*c)
        }
        _ => l == r,
    }
}

fn order(l: &Literal, r: &Literal) -> Option<std::cmp::Ordering> {
    match (l, r) {
        (Literal::Int(_) | Literal::Float(_), Literal::Int(_) | Literal::Float(_)) => {
            number(l)?.partial_cmp(&number(r)?)
        }
        (Literal::String(a), Literal::String(b)) => Some(a.cmp(b)),
        // A string is not a character: it never falls in a character range.
        (Literal::Char(a), Literal::Char(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// A regex search, bounded: patterns are compiled by the linear-time engine where possible;
/// look-around falls back to a backtracking engine with a step limit.
pub fn regex_search(pattern: &str, text: &str) -> bool {
    thread_local! {
        static CACHE: std::cell::RefCell<HashMap<String, Option<Matcher>>> = std::cell::RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if !c.contains_key(pattern) {
            c.insert(pattern.to_string(), Matcher::new(pattern));
        }
        c[pattern].as_ref().is_some_and(|m| m.is_match(text))
    })
}

thread_local! {
    /// Patterns whose search went over the backtracking budget on this thread, since the last
    /// `take_too_costly`.
    static TOO_COSTLY: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The patterns whose search went over the backtracking budget since the last call.
pub fn take_too_costly() -> Vec<String> {
    TOO_COSTLY.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

enum Matcher {
    Linear(regex::Regex),
    Backtracking(fancy_regex::Regex),
}

/// Backtracking steps one regex match may take: `[limits] regex_backtrack_limit`, set once
/// per run before policies are compiled.
static BACKTRACK_LIMIT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(100_000);

pub fn set_backtrack_limit(steps: usize) {
    BACKTRACK_LIMIT.store(steps.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// The backtracking limit in force, for messages.
pub fn backtrack_limit() -> usize {
    BACKTRACK_LIMIT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Query steps and clauses one policy file may evaluate on one document: `[limits]
/// policy_steps`, set once per run before policies run.
static STEP_BUDGET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(10_000_000);

pub fn set_step_budget(steps: u64) {
    STEP_BUDGET.store(steps.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// The evaluation budget in force, for messages.
pub fn step_budget() -> u64 {
    STEP_BUDGET.load(std::sync::atomic::Ordering::Relaxed)
}

impl Matcher {
    fn new(pattern: &str) -> Option<Matcher> {
        if let Ok(r) = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 22)
            .build()
        {
            return Some(Matcher::Linear(r));
        }
        fancy_regex::RegexBuilder::new(pattern)
            .backtrack_limit(backtrack_limit())
            .build()
            .ok()
            .map(Matcher::Backtracking)
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::Linear(r) => r.is_match(text),
            // Over the backtracking budget counts as no match, and is reported (P005).
            Matcher::Backtracking(r) => r.is_match(text).unwrap_or_else(|_| {
                TOO_COSTLY.with(|t| t.borrow_mut().push(r.as_str().to_string()));
                false
            }),
        }
    }
}

fn query_text(q: &Query) -> String {
    let mut s = String::new();
    for (i, p) in q.parts.iter().enumerate() {
        match p {
            Part::Key(k) => {
                if i > 0 {
                    s.push('.');
                }
                s.push_str(k);
            }
            Part::All => s.push_str(if i == 0 { "*" } else { ".*" }),
            Part::AllItems => s.push_str("[*]"),
            Part::Index(n) => s.push_str(&format!("[{n}]")),
            Part::Variable(v) => s.push_str(&format!("{}%{v}", if i > 0 { "." } else { "" })),
            Part::This => s.push_str("this"),
            Part::Bind(b) => s.push_str(&format!("[ {b} ]")),
            Part::Filter { .. } => s.push_str("[ ... ]"),
            Part::KeysFilter { .. } => s.push_str("[ keys ... ]"),
        }
    }
    s
}

/// The clause in Guard's own words, for the label at a failing node:
/// `` `Properties.Tags[*].Key` == "owner" ``, `` `Properties.KmsMasterKeyId` exists ``.
fn clause_text(q: &Query, op: &AccessOp) -> String {
    let op = match op {
        AccessOp::Unary { not, op } => {
            let name = match op {
                UnaryOp::Exists => "exists",
                UnaryOp::Empty => "empty",
                UnaryOp::IsString => "is_string",
                UnaryOp::IsList => "is_list",
                UnaryOp::IsStruct => "is_struct",
                UnaryOp::IsBool => "is_bool",
                UnaryOp::IsInt => "is_int",
                UnaryOp::IsFloat => "is_float",
                UnaryOp::IsNull => "is_null",
            };
            format!("{}{name}", if *not { "!" } else { "" })
        }
        AccessOp::Binary { op, rhs } => {
            let op = match op {
                CmpOp::Eq => "==",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
                CmpOp::In => "IN",
                CmpOp::NotIn => "NOT IN",
            };
            format!("{op} {}", rhs_text(rhs))
        }
    };
    format!("`{}` {op}", query_text(q))
}

fn rhs_text(rhs: &Rhs) -> String {
    match rhs {
        Rhs::Literal(l, _) => literal_text(l),
        Rhs::Query(q) => query_text(q),
        Rhs::Call(c) => format!("{}(...)", c.name),
    }
}

fn literal_text(l: &Literal) -> String {
    let list = |items: Vec<String>| {
        // Long lists are cut: the label is one line.
        let shown: Vec<String> = items.iter().take(4).cloned().collect();
        let more = if items.len() > 4 { ", ..." } else { "" };
        format!("[{}{more}]", shown.join(", "))
    };
    match l {
        Literal::Null => "null".into(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(n) => n.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::String(s) => format!("{s:?}"),
        Literal::Char(c) => format!("{:?}", c.to_string()),
        Literal::Regex(r) => format!("/{r}/"),
        Literal::Range(r) => format!(
            "r{}{}, {}{}",
            if r.lower_inclusive { "[" } else { "(" },
            literal_text(&r.lower),
            literal_text(&r.upper),
            if r.upper_inclusive { "]" } else { ")" }
        ),
        Literal::List(items) => list(items.iter().map(literal_text).collect()),
        Literal::Map(entries) => {
            let shown: Vec<String> = entries
                .iter()
                .take(3)
                .map(|(k, v)| format!("{k}: {}", literal_text(v)))
                .collect();
            format!(
                "{{{}{}}}",
                shown.join(", "),
                if entries.len() > 3 { ", ..." } else { "" }
            )
        }
    }
}
