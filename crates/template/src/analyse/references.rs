//! References into the Proton namespaces: each chain resolved through local aliases and
//! followed along the model of its root, with unknown names, attributes, inputs and outputs
//! reported, and the inputs and outputs used recorded.

use std::ops::Range;

use minijinja::machinery::Span;

use super::names::{ALL_ROOTS, GLOBALS, MAP_METHODS, Model};
use super::{Alias, Walker, bytes};
use crate::bundle::Role;
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::yaml::shape::list;

impl Walker<'_> {
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
    pub(super) fn mark_used(&mut self, root: &str, path: &[String]) {
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

    pub(super) fn reference(&mut self, local_root: &str, local_path: &[String], spans: &[Span]) {
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
