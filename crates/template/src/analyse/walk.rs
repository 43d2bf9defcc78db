//! The walk over the syntax tree: statements and the scopes and local names they bring,
//! expressions down to the chains (`a.b['c']`) that reference a namespace, and unknown filters
//! and tests.

use std::collections::HashMap;

use minijinja::machinery::Span;
use minijinja::machinery::ast::{CallArg, Expr, Stmt};

use super::names::{FILTERS, TESTS};
use super::{Alias, Walker, bytes, join};
use crate::diag::{Diagnostic, codes, did_you_mean};

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

    pub(super) fn lookup(&self, name: &str) -> Option<&Option<Alias>> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    pub(super) fn stmt(&mut self, stmt: &Stmt<'_>) {
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
}
