//! Evaluation with cfn-guard 3.2.1's PASS/FAIL/SKIP results (policy-language.md §5). The
//! data is a YAML tree in CloudFormation long form, so every failure can point at the
//! offending node.
//!
//! The structure follows Guard's own: a stack of scopes (the file, each rule body and block,
//! parameterized-rule arguments) whose `let`s are evaluated lazily in the scope that declares
//! them; clauses evaluated in one of two roles (an assertion in a body, or a gate: a `when`
//! condition or a filter), which decides what a clause that cannot be evaluated becomes.

pub mod compare;
pub mod functions;
mod ops;
mod query;
pub mod regex;
mod text;
pub mod value;

use foldhash::HashMap;

use super::ast::*;
use crate::yaml::{Node, Value as Y};
pub use regex::{Regexes, Search};
pub use text::{literal_text, query_text};
pub use value::{Val, node_literal, node_text};

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
}

/// An entry a query did not resolve: a missing key, an index out of range, a wildcard on an
/// empty list. `at` is the nearest node that exists.
#[derive(Clone, Debug)]
pub struct Unres<'d> {
    pub at: Option<&'d Node>,
    pub why: String,
}

/// A query's results, a comparison's values and outcomes: most hold one or two (a value
/// compared with one literal), kept inline.
pub type Few<T> = smallvec::SmallVec<[T; 2]>;

/// One entry of a query's result: a rule's literal (or a variable bound to one), a resolved
/// value, or an unresolved entry.
#[derive(Clone, Debug)]
pub enum QR<'d> {
    Lit(Val<'d>),
    Res(Val<'d>),
    Unres(Unres<'d>),
}

/// Why an evaluation stopped early.
#[derive(Debug)]
pub enum Halt {
    /// A clause cannot be evaluated (`empty` on a number, a failed `parse_int`...): an
    /// assertion over it fails; a condition passes the question up.
    Unevaluatable(String),
    /// The rule file cannot be evaluated on this data (a missing rule or variable, a key
    /// that is not a string): Guard stops the file.
    Error(String),
    /// The evaluation budget ran out.
    Budget,
}

type Eval<T> = Result<T, Halt>;

/// Why a clause is evaluated: as an assertion in a body, or as a gate (a `when` condition, a
/// filter). An unevaluatable assertion fails; an unevaluatable gate is passed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Role {
    Assertion,
    Gate,
}

/// A failed clause, for the report.
#[derive(Clone, Debug)]
pub struct Failure {
    pub rule: String,
    /// The offending node, when it is in the data.
    pub node: Option<(usize, usize)>,
    pub message: Option<String>,
    pub value: Option<String>,
    pub detail: String,
}

/// A failure found, its detail not written yet.
struct Pending<'p> {
    failure: Failure,
    detail: Detail<'p>,
}

enum Detail<'p> {
    Text(String),
    /// The text of a clause, then `suffix`.
    Clause {
        query: &'p Query,
        op: ClauseOp<'p>,
        suffix: &'static str,
    },
}

enum ClauseOp<'p> {
    Of(&'p AccessOp),
    Unary { not: bool, op: UnaryOp },
}

impl ClauseOp<'_> {
    fn access(&self) -> std::borrow::Cow<'_, AccessOp> {
        match self {
            ClauseOp::Of(op) => std::borrow::Cow::Borrowed(*op),
            ClauseOp::Unary { not, op } => {
                std::borrow::Cow::Owned(AccessOp::Unary { not: *not, op: *op })
            }
        }
    }
}

/// A scope: the file, a rule body, a block, or a parameterized rule's arguments.
struct Frame<'p, 'd> {
    /// The value the scope's own `let` queries start from.
    root: Val<'d>,
    lets: &'p [Let],
    /// Evaluated `let`s, keys bound by `[ name ]` and filters, or arguments.
    values: HashMap<String, Vec<QR<'d>>>,
    /// A parameterized rule's arguments: looked up first, and no bindings land here.
    params: bool,
}

pub struct Evaluator<'p, 'd> {
    pub file: &'p PolicyFile,
    root: &'d Node,
    frames: Vec<Frame<'p, 'd>>,
    statuses: HashMap<(String, Role), Status>,
    in_progress: Vec<String>,
    /// `let`s being evaluated (scope depth, name): one that needs itself is an error.
    lets_in_progress: Vec<(usize, String)>,
    /// The failures of the clauses that failed, their texts not written yet: most are
    /// dropped (a disjunction, a `when`, a rule that passes in the end). See
    /// [`Evaluator::failures`].
    pending: Vec<Pending<'p>>,
    current_rule: Vec<String>,
    quiet: usize,
    steps_left: u64,
    /// The rule the budget ran out in (empty: the file's own `let`s).
    pub exhausted: Option<String>,
    /// Rules that could not be evaluated on this data, with why (Guard stops the file).
    pub errors: Vec<(String, String)>,
    /// The file's regexes, and the searches that went over their budget.
    pub search: Search<'p>,
}

impl<'p: 'd, 'd> Evaluator<'p, 'd> {
    /// An evaluation of `file` on `root` that may take `steps` query steps and clauses
    /// (`[limits] policy_steps`), with the file's compiled `regexes`.
    pub fn new(file: &'p PolicyFile, root: &'d Node, steps: u64, regexes: &'p Regexes) -> Self {
        Evaluator {
            file,
            root,
            frames: vec![Frame {
                root: Val::Doc(root),
                lets: &file.lets,
                values: HashMap::default(),
                params: false,
            }],
            statuses: HashMap::default(),
            in_progress: Vec::new(),
            lets_in_progress: Vec::new(),
            pending: Vec::new(),
            current_rule: Vec::new(),
            quiet: 0,
            steps_left: steps.max(1),
            exhausted: None,
            errors: Vec::new(),
            search: Search::new(regexes),
        }
    }

    /// Every rule's status, in file order.
    pub fn run(&mut self) -> Vec<(String, Status)> {
        let rules = &self.file.rules;
        let mut out = Vec::with_capacity(rules.len());
        for rule in rules {
            if self.exhausted.is_some() {
                out.push((rule.name.clone(), Status::Skip));
                continue;
            }
            self.current_rule.push(rule.name.clone());
            let mark = self.pending.len();
            let status = match self.rule(rule, Role::Assertion) {
                Ok(s) => s,
                Err(Halt::Budget) => {
                    self.exhausted = Some(rule.name.clone());
                    Status::Skip
                }
                Err(Halt::Error(why) | Halt::Unevaluatable(why)) => {
                    self.errors.push((rule.name.clone(), why));
                    Status::Fail
                }
            };
            self.current_rule.pop();
            if status != Status::Fail {
                self.pending.truncate(mark);
            }
            // Scopes a halted evaluation left behind.
            self.frames.truncate(1);
            self.lets_in_progress.clear();
            self.in_progress.clear();
            self.quiet = 0;
            out.push((rule.name.clone(), status));
        }
        out
    }

    fn tick(&mut self) -> Eval<()> {
        if self.steps_left == 0 {
            return Err(Halt::Budget);
        }
        self.steps_left -= 1;
        Ok(())
    }

    /// A rule: its conditions (as gates), then its body in a scope of its own.
    fn rule(&mut self, rule: &'p Rule, role: Role) -> Eval<Status> {
        let this = Val::Doc(self.root);
        if let Some(c) = &rule.conditions {
            match self.gate(c, &this) {
                Ok(Status::Pass) => {}
                Ok(_) => return Ok(Status::Skip),
                Err(Halt::Unevaluatable(_)) if role == Role::Assertion => return Ok(Status::Fail),
                Err(e) => return Err(e),
            }
        }
        self.block(&rule.body, &this, role)
    }

    /// Conditions, evaluated as gates and never reported.
    fn gate(&mut self, c: &'p Conjunction, this: &Val<'d>) -> Eval<Status> {
        self.quiet += 1;
        let s = self.conjunction(c, this, Role::Gate);
        self.quiet -= 1;
        s
    }

    /// A block's clauses in a new scope rooted at `this`.
    fn block(&mut self, block: &'p Block, this: &Val<'d>, role: Role) -> Eval<Status> {
        self.frames.push(Frame {
            root: this.clone(),
            lets: &block.lets,
            values: HashMap::default(),
            params: false,
        });
        let s = self.conjunction(&block.clauses, this, role);
        self.frames.pop();
        s
    }

    /// Clauses ANDed, each a disjunction: a disjunction fails when one of its clauses failed
    /// and none passed; any failed disjunction fails the whole; else any pass passes.
    fn conjunction(&mut self, c: &'p Conjunction, this: &Val<'d>, role: Role) -> Eval<Status> {
        let (mut passes, mut fails) = (0, 0);
        for disjunction in c {
            let mark = self.pending.len();
            let mut failed = false;
            let mut passed = false;
            for clause in disjunction {
                match self.clause(clause, this, role)? {
                    Status::Pass => {
                        passed = true;
                        break;
                    }
                    Status::Fail => failed = true,
                    Status::Skip => {}
                }
            }
            if passed {
                passes += 1;
                self.pending.truncate(mark);
            } else if failed {
                fails += 1;
            }
        }
        Ok(all_of(passes, fails))
    }

    fn clause(&mut self, c: &'p Clause, this: &Val<'d>, role: Role) -> Eval<Status> {
        self.tick()?;
        match c {
            Clause::Access {
                not,
                query,
                op,
                message,
                ..
            } => match self.access(*not, query, op, message, this, role) {
                Err(Halt::Unevaluatable(_)) if role == Role::Assertion => Ok(Status::Fail),
                other => other,
            },
            Clause::Block {
                query,
                not_empty,
                body,
                ..
            } => self.block_clause(query, *not_empty, body, this, role),
            Clause::RuleRef {
                not, name, message, ..
            } => {
                let s = self.rule_status(name, role)?;
                let s = referenced(s, *not, role);
                if s == Status::Fail {
                    self.record(
                        None,
                        message,
                        format!(
                            "rule `{name}` {}",
                            if *not { "passed" } else { "did not pass" }
                        ),
                    );
                }
                Ok(s)
            }
            Clause::ParamCall {
                not,
                name,
                args,
                message,
                ..
            } => {
                let s = self.param_call(name, args, this, role)?;
                let s = referenced(s, *not, role);
                if s == Status::Fail {
                    self.record(None, message, format!("`{name}(...)` did not pass"));
                }
                Ok(s)
            }
            Clause::When {
                conditions, body, ..
            } => match self.gate(conditions, this) {
                Ok(Status::Pass) => self.block(body, this, role),
                Ok(_) => Ok(Status::Skip),
                Err(Halt::Unevaluatable(_)) if role == Role::Assertion => Ok(Status::Fail),
                Err(e) => Err(e),
            },
            Clause::TypeBlock {
                type_name,
                conditions,
                body,
                ..
            } => self.type_block(type_name, conditions.as_ref(), body, this, role),
        }
    }

    /// `QUERY { ... }`: the block once per value; an unresolved value fails.
    fn block_clause(
        &mut self,
        query: &'p Query,
        not_empty: bool,
        body: &'p Block,
        this: &Val<'d>,
        role: Role,
    ) -> Eval<Status> {
        let values = self.query(query, this)?;
        if values.is_empty() {
            return Ok(if not_empty {
                Status::Fail
            } else {
                Status::Skip
            });
        }
        let mark = self.pending.len();
        let (mut passes, mut fails) = (0, 0);
        for v in values {
            match v {
                QR::Unres(u) => {
                    fails += 1;
                    self.record(u.at, &None, format!("`{}`: {}", query_text(query), u.why));
                }
                QR::Lit(v) | QR::Res(v) => match self.block(body, &v, role)? {
                    Status::Pass => passes += 1,
                    Status::Fail => fails += 1,
                    Status::Skip => {}
                },
            }
        }
        let status = if query.some {
            some_of(passes, fails)
        } else {
            all_of(passes, fails)
        };
        if status != Status::Fail {
            self.pending.truncate(mark);
        }
        Ok(status)
    }

    /// `AWS::S3::Bucket [when ...] { ... }`: the block once per resource of that type.
    fn type_block(
        &mut self,
        type_name: &'p str,
        conditions: Option<&'p Conjunction>,
        body: &'p Block,
        this: &Val<'d>,
        role: Role,
    ) -> Eval<Status> {
        let Some(resources) = this.get("Resources") else {
            return Ok(Status::Skip);
        };
        let mark = self.pending.len();
        let (mut passes, mut fails) = (0, 0);
        for (_, r) in resources.entries() {
            self.tick()?;
            // Only mappings whose `Type` equals the name are selected.
            if !r.is_map() {
                continue;
            }
            let Some(t) = r.get("Type") else { continue };
            if !matches!(t.view().kind(), value::Kind::Str(s) if s == type_name) {
                continue;
            }
            if let Some(c) = conditions {
                match self.gate(c, &r) {
                    Ok(Status::Pass) => {}
                    Ok(_) => continue,
                    Err(Halt::Unevaluatable(_)) if role == Role::Assertion => {
                        fails += 1;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            match self.block(body, &r, role)? {
                Status::Pass => passes += 1,
                Status::Fail => fails += 1,
                Status::Skip => {}
            }
        }
        let status = all_of(passes, fails);
        if status != Status::Fail {
            self.pending.truncate(mark);
        }
        Ok(status)
    }

    /// A named rule's status, evaluated once per role at the document's root and cached.
    fn rule_status(&mut self, name: &str, role: Role) -> Eval<Status> {
        if let Some(s) = self.statuses.get(&(name.to_string(), role)) {
            return Ok(*s);
        }
        let file = self.file;
        let rules: Vec<&'p Rule> = file.rules.iter().filter(|r| r.name == name).collect();
        if rules.is_empty() {
            return Err(Halt::Error(format!("no rule named `{name}`")));
        }
        if self.in_progress.iter().any(|n| n == name) {
            return Err(Halt::Error(format!("rule `{name}` depends on itself")));
        }
        self.in_progress.push(name.to_string());
        let outer = self.frames.split_off(1);
        // Depths of `let`s in progress refer to the outer scopes; those above the file's own
        // scope are set aside with them.
        let outer_lets: Vec<(usize, String)> = self
            .lets_in_progress
            .iter()
            .filter(|(d, _)| *d >= 1)
            .cloned()
            .collect();
        self.lets_in_progress.retain(|(d, _)| *d == 0);
        self.quiet += 1;
        let mut result = Ok(Status::Skip);
        for r in rules {
            result = self.rule(r, role);
            if !matches!(result, Ok(Status::Skip)) {
                break;
            }
        }
        self.quiet -= 1;
        self.frames.truncate(1);
        self.frames.extend(outer);
        self.lets_in_progress.retain(|(d, _)| *d == 0);
        self.lets_in_progress.extend(outer_lets);
        self.in_progress.pop();
        let s = result?;
        self.statuses.insert((name.to_string(), role), s);
        Ok(s)
    }

    /// A parameterized rule called with arguments; its body sees the caller's context.
    fn param_call(
        &mut self,
        name: &str,
        args: &'p [Rhs],
        this: &Val<'d>,
        role: Role,
    ) -> Eval<Status> {
        let file = self.file;
        let Some(pr) = file.param_rules.iter().find(|p| p.name == name) else {
            return Err(Halt::Error(format!("no parameterized rule named `{name}`")));
        };
        if pr.params.len() != args.len() {
            return Err(Halt::Unevaluatable(format!(
                "`{name}` takes {} arguments, given {}",
                pr.params.len(),
                args.len()
            )));
        }
        let mut values = HashMap::default();
        for (param, arg) in pr.params.iter().zip(args) {
            let v = match arg {
                Rhs::Literal(l, _) => vec![QR::Res(Val::Rule(l))],
                Rhs::Query(q) => self.query(q, this)?.into_vec(),
                Rhs::Call(c) => self.call(c, this)?,
            };
            values.insert(param.clone(), v);
        }
        self.frames.push(Frame {
            root: this.clone(),
            lets: &[],
            values,
            params: true,
        });
        let s = self.block(&pr.body, this, role);
        self.frames.pop();
        s
    }

    /// A variable's values, from the innermost scope that has it; a `let` is evaluated
    /// once, in the scope that declares it.
    fn variable(&mut self, name: &str) -> Eval<Vec<QR<'d>>> {
        for idx in (0..self.frames.len()).rev() {
            let frame = &self.frames[idx];
            if !frame.params
                && let Some(l) = frame.lets.iter().find(|l| l.name == name)
                && let Rhs::Literal(lit, _) = &l.value
            {
                return Ok(vec![QR::Lit(Val::Rule(lit))]);
            }
            if let Some(v) = frame.values.get(name) {
                return Ok(v.clone());
            }
            if frame.params {
                continue;
            }
            let Some(l) = frame.lets.iter().find(|l| l.name == name) else {
                continue;
            };
            if self
                .lets_in_progress
                .iter()
                .any(|(d, n)| *d == idx && n == name)
            {
                return Err(Halt::Error(format!("`%{name}` is defined by itself")));
            }
            self.lets_in_progress.push((idx, name.to_string()));
            let root = frame.root.clone();
            let above = self.frames.split_off(idx + 1);
            let result = match &l.value {
                Rhs::Query(q) => self.query(q, &root).map(|r| {
                    if q.some {
                        r.into_iter().filter(|x| matches!(x, QR::Res(_))).collect()
                    } else {
                        r.into_vec()
                    }
                }),
                Rhs::Call(c) => self.call(c, &root),
                Rhs::Literal(..) => Ok(Vec::new()),
            };
            self.frames.truncate(idx + 1);
            self.frames.extend(above);
            self.lets_in_progress.pop();
            let result = result?;
            self.frames[idx]
                .values
                .insert(name.to_string(), result.clone());
            return Ok(result);
        }
        Err(Halt::Error(format!("`%{name}` is not defined here")))
    }

    /// Binds a key selected by `[ name ]` or `[ name | ... ]` in the innermost scope.
    fn capture(&mut self, name: &str, key: Val<'d>) {
        if let Some(f) = self.frames.iter_mut().rev().find(|f| !f.params) {
            f.values
                .entry(name.to_string())
                .or_default()
                .push(QR::Res(key));
        }
    }

    fn call(&mut self, c: &'p FnCall, this: &Val<'d>) -> Eval<Vec<QR<'d>>> {
        let mut args = Vec::with_capacity(c.args.len());
        for a in &c.args {
            args.push(match a {
                Rhs::Literal(l, _) => vec![QR::Lit(Val::Rule(l))],
                Rhs::Query(q) => self.query(q, this)?.into_vec(),
                Rhs::Call(inner) => self.call(inner, this)?,
            });
        }
        functions::call(&c.name, &args)
    }

    /// `[not] QUERY OP [RHS]`.
    fn access(
        &mut self,
        not: bool,
        query: &'p Query,
        op: &'p AccessOp,
        message: &Option<String>,
        this: &Val<'d>,
        role: Role,
    ) -> Eval<Status> {
        let lone_variable = matches!(query.parts.as_slice(), [Part::Variable(_)]);
        let statuses: Few<(bool, Option<&'d Node>)> = match op {
            AccessOp::Unary { not: op_not, op } => {
                let lhs = self.query(query, this)?;
                let selection = matches!(
                    query.parts.last(),
                    Some(Part::Filter { .. } | Part::KeysFilter { .. })
                );
                if (selection || lone_variable) && *op == UnaryOp::Empty {
                    if lhs.is_empty() {
                        let holds = *op_not == not;
                        if !holds {
                            self.record_detail(
                                None,
                                message,
                                Detail::Clause {
                                    query,
                                    op: ClauseOp::Unary {
                                        not: *op_not,
                                        op: *op,
                                    },
                                    suffix: "",
                                },
                            );
                        }
                        return Ok(if holds { Status::Pass } else { Status::Fail });
                    }
                    let mut out = Few::with_capacity(lhs.len());
                    for r in &lhs {
                        let empty = if lone_variable {
                            empty_of(r)
                        } else {
                            Ok(
                                !matches!(r, QR::Lit(v) | QR::Res(v) if !matches!(v.view().kind(), value::Kind::Null)),
                            )
                        };
                        match empty {
                            Ok(e) => out.push(((e != *op_not) != not, at_of(r))),
                            // `empty` on a number: an assertion fails, a gate passes it up.
                            Err(_) if role == Role::Assertion => out.push((false, at_of(r))),
                            Err(e) => return Err(e),
                        }
                    }
                    out
                } else {
                    if lhs.is_empty() {
                        return Ok(Status::Skip);
                    }
                    let mut out = Few::with_capacity(lhs.len());
                    for r in &lhs {
                        match unary(r, *op) {
                            Ok(h) => out.push(((h != *op_not) != not, at_of(r))),
                            Err(_) if role == Role::Assertion => out.push((false, at_of(r))),
                            Err(e) => return Err(e),
                        }
                    }
                    out
                }
            }
            AccessOp::Binary { op: cmp, rhs } => {
                // A literal is compared in place, without a list made for it.
                let (literal, queried);
                let right: &[QR<'d>] = match rhs {
                    Rhs::Literal(l, _) => {
                        literal = [QR::Lit(Val::Rule(l))];
                        &literal
                    }
                    Rhs::Query(q) => {
                        queried = self.query(q, this)?;
                        &queried
                    }
                    Rhs::Call(c) => {
                        queried = self.call(c, this)?.into();
                        &queried
                    }
                };
                let lhs = self.query(query, this)?;
                let (family, negated) = ops::Op::of(*cmp);
                match ops::compare(family, negated != not, &lhs, right, &self.search) {
                    ops::Compared::EmptyLhs => {
                        if lone_variable && role == Role::Assertion {
                            self.record_detail(
                                None,
                                message,
                                Detail::Clause {
                                    query,
                                    op: ClauseOp::Of(op),
                                    suffix: ": the variable holds no values",
                                },
                            );
                            return Ok(Status::Fail);
                        }
                        return Ok(Status::Skip);
                    }
                    ops::Compared::EmptyRhs => {
                        if role == Role::Assertion {
                            self.record_detail(
                                None,
                                message,
                                Detail::Clause {
                                    query,
                                    op: ClauseOp::Of(op),
                                    suffix: ": the right-hand side selected nothing",
                                },
                            );
                            return Ok(Status::Fail);
                        }
                        return Ok(Status::Skip);
                    }
                    ops::Compared::Values(v) => v,
                }
            }
        };
        let overall = if query.some {
            if statuses.iter().any(|(p, _)| *p) {
                Status::Pass
            } else {
                Status::Fail
            }
        } else if statuses.iter().any(|(p, _)| !*p) {
            Status::Fail
        } else {
            Status::Pass
        };
        if overall == Status::Fail {
            for (_, n) in statuses.iter().filter(|(p, _)| !*p) {
                let detail = Detail::Clause {
                    query,
                    op: ClauseOp::Of(op),
                    suffix: "",
                };
                self.record_detail(*n, message, detail);
            }
        }
        Ok(overall)
    }

    fn record(&mut self, node: Option<&Node>, message: &Option<String>, detail: String) {
        self.record_detail(node, message, Detail::Text(detail));
    }

    fn record_detail(&mut self, node: Option<&Node>, message: &Option<String>, detail: Detail<'p>) {
        if self.quiet > 0 {
            return;
        }
        let message = message.as_ref().map(|m| self.interpolate(m, node));
        self.pending.push(Pending {
            failure: Failure {
                rule: self.current_rule.last().cloned().unwrap_or_default(),
                node: node.map(|n| (n.span.start, n.span.end)),
                message,
                value: node
                    .filter(|n| !matches!(n.value, Y::Map(_) | Y::Seq(_)))
                    .map(node_text),
                detail: String::new(),
            },
            detail,
        });
    }

    /// The failures of the rules that failed, in the order found, their texts written.
    pub fn failures(&mut self) -> Vec<Failure> {
        std::mem::take(&mut self.pending)
            .into_iter()
            .map(|p| {
                let detail = match p.detail {
                    Detail::Text(text) => text,
                    Detail::Clause { query, op, suffix } => {
                        format!("{}{suffix}", clause_text(query, &op.access()))
                    }
                };
                Failure {
                    detail,
                    ..p.failure
                }
            })
            .collect()
    }

    /// `{{value}}` and `{{%var}}` in a message (proctor's extension; Guard prints them as
    /// written).
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
                self.frames
                    .iter()
                    .rev()
                    .find_map(|f| {
                        let literal = f.lets.iter().find_map(|l| match &l.value {
                            Rhs::Literal(lit, _) if l.name == var && !f.params => {
                                Some(vec![QR::Lit(Val::Rule(lit))])
                            }
                            _ => None,
                        });
                        literal.or_else(|| f.values.get(var).cloned())
                    })
                    .map(|vals| {
                        vals.iter()
                            .filter_map(|r| match r {
                                QR::Lit(v) | QR::Res(v) => Some(match v {
                                    Val::Doc(n) => node_text(n),
                                    Val::Data(_) | Val::Rule(_) => match v.as_literal() {
                                        Some(Literal::String(s)) => s.clone(),
                                        Some(other) => literal_text(other),
                                        None => String::new(),
                                    },
                                }),
                                QR::Unres(_) => None,
                            })
                            .take(10)
                            .collect::<Vec<_>>()
                            .join(", ")
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
}

/// All must hold: any failure fails; else any pass passes; else nothing applied (SKIP).
fn all_of(passes: usize, fails: usize) -> Status {
    if fails > 0 {
        Status::Fail
    } else if passes > 0 {
        Status::Pass
    } else {
        Status::Skip
    }
}

/// One must hold (`some`): any pass passes; else any failure fails; else SKIP.
fn some_of(passes: usize, fails: usize) -> Status {
    if passes > 0 {
        Status::Pass
    } else if fails > 0 {
        Status::Fail
    } else {
        Status::Skip
    }
}

/// A referenced rule's (or parameterized rule's) status seen from the referring clause: a
/// SKIP fails an assertion; in a condition it stays SKIP, or passes when negated.
fn referenced(s: Status, not: bool, role: Role) -> Status {
    match s {
        Status::Pass => {
            if not {
                Status::Fail
            } else {
                Status::Pass
            }
        }
        Status::Skip if role == Role::Assertion => Status::Fail,
        Status::Skip if !not => Status::Skip,
        _ => {
            if not {
                Status::Pass
            } else {
                Status::Fail
            }
        }
    }
}

fn at_of<'d>(r: &QR<'d>) -> Option<&'d Node> {
    match r {
        QR::Lit(v) | QR::Res(v) => v.node(),
        QR::Unres(u) => u.at,
    }
}

/// `empty` of one value: lists, mappings and strings have emptiness; a missing value is
/// empty; anything else cannot be asked.
fn empty_of(r: &QR<'_>) -> Eval<bool> {
    match r {
        QR::Unres(_) => Ok(true),
        QR::Lit(v) | QR::Res(v) => match v.view().kind() {
            value::Kind::List | value::Kind::Map => Ok(v.is_empty()),
            value::Kind::Str(s) => Ok(s.is_empty()),
            _ => Err(Halt::Unevaluatable(
                "`empty` on a value that is not a list, mapping or string".into(),
            )),
        },
    }
}

/// A unary operator on one value (before `not`).
fn unary(r: &QR<'_>, op: UnaryOp) -> Eval<bool> {
    use value::Kind as K;
    let kind = match r {
        QR::Unres(_) => {
            return Ok(matches!(op, UnaryOp::Empty));
        }
        QR::Lit(v) | QR::Res(v) => v.view().kind(),
    };
    Ok(match op {
        UnaryOp::Exists => true,
        UnaryOp::Empty => return empty_of(r),
        UnaryOp::IsString => matches!(kind, K::Str(_)),
        UnaryOp::IsList => matches!(kind, K::List),
        UnaryOp::IsStruct => matches!(kind, K::Map),
        UnaryOp::IsBool => matches!(kind, K::Bool(_)),
        UnaryOp::IsInt => matches!(kind, K::Int(_)),
        UnaryOp::IsFloat => matches!(kind, K::Float(_)),
        UnaryOp::IsNull => matches!(kind, K::Null),
    })
}

pub use text::clause_text;
