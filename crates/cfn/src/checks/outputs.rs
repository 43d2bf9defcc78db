//! Outputs: their keys, their `Value`, their `Export` and export names used twice.

use std::ops::Range;

use super::{Checker, Ctx, is_intrinsic};
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::yaml::shape::list;
use crate::yaml::{Node, Value};

const OUTPUT_KEYS: &[&str] = &["Value", "Description", "Export", "Condition"];

impl Checker<'_> {
    pub(super) fn outputs(&mut self, root: &Node) {
        let Some(outputs) = root.get("Outputs").and_then(Node::as_map) else {
            return;
        };
        let mut exports: foldhash::HashMap<String, Range<usize>> = Default::default();
        for (k, o) in outputs {
            let id = k.text();
            if self.is_for_each(&id) {
                continue;
            }
            let Some(attrs) = o.as_map() else {
                self.report(
                    codes::C013,
                    format!("output `{id}` must be a mapping with a `Value`"),
                    o.span.clone(),
                    "write `Value:` under the output's logical id",
                );
                continue;
            };
            for (ak, _) in attrs {
                let a = ak.text();
                if !OUTPUT_KEYS.contains(&&*a) {
                    let help = match did_you_mean(&a, OUTPUT_KEYS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("an output has {}", list(OUTPUT_KEYS)),
                    };
                    self.report(
                        codes::C013,
                        format!("output `{id}` has an unknown key `{a}`"),
                        ak.span.clone(),
                        &help,
                    );
                }
            }
            match o.get("Value") {
                None => self.report(
                    codes::C013,
                    format!("output `{id}` has no `Value`"),
                    k.span.clone(),
                    "add `Value:` with what the output returns",
                ),
                Some(v) => {
                    if matches!(v.value, Value::Seq(_) | Value::Map(_)) && !is_intrinsic(v) {
                        self.report(codes::C013, format!("the `Value` of output `{id}` must be a string or an intrinsic function"), v.span.clone(), "join lists with `!Join`; outputs are strings");
                    }
                    self.walk(v, Ctx::Other);
                }
            }
            if let Some(e) = o.get("Export") {
                match e.get("Name") {
                    None => self.report(
                        codes::C013,
                        format!("the `Export` of output `{id}` has no `Name`"),
                        e.span.clone(),
                        "add `Name:` under `Export`",
                    ),
                    Some(n) => {
                        if let Some(name) = n.as_str() {
                            if let Some(first) = exports.get(name) {
                                let first = first.clone();
                                self.diags.push(
                                    Diagnostic::new(codes::C013, format!("export name `{name}` is used twice"))
                                        .at(self.source, n.span.clone())
                                        .label(self.source, first, "first exported here")
                                        .help("export names are unique in a region: rename one of them (e.g. prefix with `${AWS::StackName}`)"),
                                );
                            } else {
                                exports.insert(name.to_string(), n.span.clone());
                            }
                        }
                        self.walk(n, Ctx::Other);
                    }
                }
            }
            if let Some(c) = o.get("Condition") {
                self.condition_name(c, "output condition");
            }
        }
    }
}
