//! The names a template defines (parameters, resources, conditions, mappings): their logical
//! ids, the quotas on how many there are, a name that is both a parameter and a resource, and
//! definitions never used.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::{Checker, MAX_MAPPINGS, MAX_NAME, MAX_OUTPUTS, MAX_PARAMETERS, MAX_RESOURCES};
use crate::diag::codes;
use crate::yaml::Node;

impl Checker<'_> {
    pub(super) fn collect_names(&mut self, root: &Node) {
        let sections: [(&str, usize, &str); 5] = [
            ("Parameters", MAX_PARAMETERS, "parameters"),
            ("Resources", MAX_RESOURCES, "resources"),
            ("Conditions", usize::MAX, "conditions"),
            ("Mappings", MAX_MAPPINGS, "mappings"),
            ("Outputs", MAX_OUTPUTS, "outputs"),
        ];
        for (section, max, what) in sections {
            let Some(entries) = root.get(section).and_then(Node::as_map) else {
                continue;
            };
            if entries.len() > max {
                let span = root.entry(section).map_or(0..0, |(k, _)| k.span.clone());
                self.report(
                    codes::C014,
                    format!(
                        "{} {what}; CloudFormation allows at most {max}",
                        entries.len()
                    ),
                    span,
                    "split the template into nested stacks",
                );
            }
            for (k, v) in entries {
                let name = k.scalar_text().unwrap_or_default();
                if self.is_for_each(&name) {
                    continue;
                }
                self.logical_id(&name, k.span.clone(), what);
                let target = match section {
                    "Parameters" => &mut self.names.parameters,
                    "Resources" => &mut self.names.resources,
                    "Conditions" => &mut self.names.conditions,
                    "Mappings" => &mut self.names.mappings,
                    _ => continue,
                };
                target.insert(name.clone(), k.span.clone());
                if section == "Resources"
                    && let Some(t) = v.get("Type").and_then(Node::as_str)
                {
                    self.names.types.insert(name, t.to_string());
                }
            }
        }
        let both: Vec<(String, Range<usize>)> = self
            .names
            .resources
            .iter()
            .filter(|(n, _)| self.names.parameters.contains_key(*n))
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect();
        for (name, span) in both {
            self.report(
                codes::C004,
                format!("`{name}` is both a parameter and a resource"),
                span,
                "parameters and resources share one namespace: rename one of them",
            );
        }
    }

    /// `Fn::ForEach::Name` under a transform (AWS::LanguageExtensions expands it into
    /// resources or outputs before CloudFormation reads the template); not checked here.
    pub(super) fn is_for_each(&self, name: &str) -> bool {
        self.transformed && name.starts_with("Fn::ForEach::")
    }

    fn logical_id(&mut self, name: &str, span: Range<usize>, what: &str) {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.report(
                codes::C004,
                format!("logical id `{name}` of {what} must be alphanumeric"),
                span,
                "use only letters and digits (no `-`, `_` or `.`)",
            );
        } else if name.len() > MAX_NAME {
            self.report(
                codes::C014,
                format!(
                    "logical id `{}…` is longer than {MAX_NAME} characters",
                    &name[..32]
                ),
                span,
                "shorten it",
            );
        }
    }

    pub(super) fn unused(&mut self) {
        if self.transformed {
            return;
        }
        let unused = |defined: &BTreeMap<String, Range<usize>>,
                      used: &BTreeSet<String>|
         -> Vec<(String, Range<usize>)> {
            defined
                .iter()
                .filter(|(n, _)| !used.contains(*n))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect()
        };
        for (name, span) in unused(&self.names.parameters, &self.uses.parameters) {
            self.report(
                codes::C012,
                format!("parameter `{name}` is never used"),
                span,
                "reference it (`!Ref`, `${...}`), or remove it",
            );
        }
        for (name, span) in unused(&self.names.conditions, &self.uses.conditions) {
            self.report(
                codes::C012,
                format!("condition `{name}` is never used"),
                span,
                "use it (`Condition:`, `!If`), or remove it",
            );
        }
        for (name, span) in unused(&self.names.mappings, &self.uses.mappings) {
            self.report(
                codes::C012,
                format!("mapping `{name}` is never used"),
                span,
                "look it up with `!FindInMap`, or remove it",
            );
        }
    }
}
