//! The dependency graph among resources: the edges `DependsOn` and references add, and the
//! circular dependencies among them.

use std::collections::BTreeSet;

use super::{Checker, Ctx};
use crate::diag::codes;
use crate::yaml::{Node, Value};

impl Checker<'_> {
    pub(super) fn depends_on(&mut self, id: &str, d: &Node) {
        let items: Vec<&Node> = match &d.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![d],
        };
        for item in items {
            let Some(target) = item.as_str() else {
                self.report(
                    codes::C015,
                    "`DependsOn` takes logical ids (strings)".into(),
                    item.span.clone(),
                    "write the logical id of a resource",
                );
                continue;
            };
            if target == id {
                self.report(
                    codes::C011,
                    format!("resource `{id}` depends on itself"),
                    item.span.clone(),
                    "remove it from its own `DependsOn`",
                );
            } else if self.names.resources.contains_key(target) {
                self.edge(id, target);
            } else if !self.transformed {
                let help = self.suggest(target, self.names.resources.keys());
                self.report(
                    codes::C008,
                    format!("`DependsOn` names `{target}`, which is not a resource"),
                    item.span.clone(),
                    &help,
                );
            }
        }
    }

    pub(super) fn depend(&mut self, ctx: Ctx<'_>, target: &str) {
        if let Ctx::Resource(from) = ctx
            && self.names.resources.contains_key(target)
        {
            self.edge(from, target);
        }
    }

    /// Adds the edge `from` → `to`. A resource refers to the same few others again and
    /// again: names are copied only for an edge not there yet.
    fn edge(&mut self, from: &str, to: &str) {
        match self.uses.edges.get_mut(from) {
            Some(targets) if !targets.contains(to) => {
                targets.insert(to.to_string());
            }
            Some(_) => {}
            None => {
                let targets = BTreeSet::from([to.to_string()]);
                self.uses.edges.insert(from.to_string(), targets);
            }
        }
    }

    /// Circular dependencies among resources, each cycle reported once.
    pub(super) fn cycles(&mut self) {
        let edges = std::mem::take(&mut self.uses.edges);
        let mut state: foldhash::HashMap<&str, u8> = Default::default(); // 1 = on the stack, 2 = done
        let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
        for start in edges.keys() {
            if state.contains_key(start.as_str()) {
                continue;
            }
            // Iterative depth-first search: hostile templates have thousands of resources.
            let mut stack: Vec<(&str, Vec<&str>)> =
                vec![(start, edges[start].iter().map(String::as_str).collect())];
            let mut path: Vec<&str> = vec![start];
            state.insert(start, 1);
            while let Some((_, next)) = stack.last_mut() {
                match next.pop() {
                    Some(n) => match state.get(n) {
                        Some(1) => {
                            let from = path.iter().position(|p| *p == n).unwrap_or(0);
                            let mut cycle: Vec<String> =
                                path[from..].iter().map(|s| s.to_string()).collect();
                            let rot = cycle
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, s)| s.as_str())
                                .map_or(0, |(i, _)| i);
                            cycle.rotate_left(rot);
                            if reported.insert(cycle.clone()) {
                                // Reported at every resource of the cycle (as cfn-lint does):
                                // the fix may belong to any of them. A huge cycle (a hostile
                                // template) is reported once, abbreviated.
                                let members = if cycle.len() <= 50 { cycle.len() } else { 1 };
                                for (i, member) in cycle.iter().take(members).enumerate() {
                                    let mut order = cycle.clone();
                                    order.rotate_left(i);
                                    let shown = if order.len() <= 10 {
                                        format!("{} → {member}", order.join(" → "))
                                    } else {
                                        format!(
                                            "{} → … ({} resources) → {member}",
                                            order[..5].join(" → "),
                                            order.len()
                                        )
                                    };
                                    let span =
                                        self.names.resources.get(member).cloned().unwrap_or(0..0);
                                    self.report(codes::C011, format!("circular dependency: {shown}"), span, "break the cycle: one of these resources must not reference the next (`Ref`, `Fn::GetAtt`, `Fn::Sub` or `DependsOn`)");
                                }
                            }
                        }
                        Some(_) => {}
                        None => {
                            state.insert(n, 1);
                            path.push(n);
                            let succ = edges
                                .get(n)
                                .map(|s| s.iter().map(String::as_str).collect())
                                .unwrap_or_default();
                            stack.push((n, succ));
                        }
                    },
                    None => {
                        if let Some((done, _)) = stack.pop() {
                            state.insert(done, 2);
                            path.pop();
                        }
                    }
                }
            }
        }
        self.uses.edges = edges;
    }
}
