//! The keywords of a mapping: its properties (known, patterned, additional), the keys it
//! must have (`required`, `requiredXor`, `requiredOr`, `dependentRequired`), the keys that
//! exclude each other (`dependentExcluded`) and how many it has.

use super::{Finding, Seg, Site, Walk, is_intrinsic, is_no_value};
use crate::diag::codes;
use crate::schema::{Additional, SchemaNode};
use crate::text::{did_you_mean, list};
use crate::yaml::Node;

impl<'a, 'n> Walk<'a, 'n> {
    pub(super) fn object(
        &mut self,
        node: &'a SchemaNode,
        site: Site<'n>,
        entries: &'n [(Node, Node)],
        out: &mut Vec<Finding>,
    ) {
        let mut present = smallvec::SmallVec::<[&str; 12]>::new();
        let undecided = present_keys(entries, &mut present);
        let misspelled = self.object_keys(node, entries, out);
        // Which keys are present is undecided: the keywords about it are not checked.
        if undecided {
            self.unknown = true;
            return;
        }
        self.required_keys(node, site, &present, &misspelled, out);
        self.key_sets(node, site, entries, &present, out);
        self.exclusions(node, entries, &present, out);
        self.property_count(node, site, present.len() as u64, out);
    }

    /// Each key's value against its property, and the keys the object does not have. Returns
    /// the names the unknown keys look like misspellings of: a required key written `Statuz`
    /// is one mistake (the unknown key), not also a missing `Status`.
    fn object_keys(
        &mut self,
        node: &'a SchemaNode,
        entries: &'n [(Node, Node)],
        out: &mut Vec<Finding>,
    ) -> Vec<&'a str> {
        let mut misspelled: Vec<&'a str> = Vec::new();
        for (k, val) in entries {
            let Some(name) = k.as_str() else { continue };
            if name == "Fn::Transform" || is_no_value(val) {
                continue;
            }
            let site = Site {
                key: Some(k),
                value: val,
            };
            let mut matched = false;
            if let Some(p) = node.property(name) {
                matched = true;
                self.descend(Seg::Key(name), p, site, out);
            }
            for (pattern, p) in &node.pattern_properties {
                if pattern.is_match(name) != Some(false) {
                    matched = true;
                    self.descend(Seg::Key(name), *p, site, out);
                }
            }
            if matched {
                continue;
            }
            match node.additional {
                Additional::Allowed => {}
                Additional::Schema(p) => self.descend(Seg::Key(name), p, site, out),
                Additional::Forbidden => {
                    if let Some(s) = self.unknown_key(node, k, name, out) {
                        misspelled.push(s);
                    }
                }
            }
        }
        misspelled
    }

    /// Reports a key the object does not allow; returns the property it looks like.
    fn unknown_key(
        &self,
        node: &'a SchemaNode,
        k: &Node,
        name: &str,
        out: &mut Vec<Finding>,
    ) -> Option<&'a str> {
        let suggestion = did_you_mean(name, node.properties.iter().map(|(n, _)| &**n));
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None if node.properties.is_empty() => "remove it".to_string(),
            None => {
                let names: Vec<&str> = node.properties.iter().take(12).map(|(n, _)| &**n).collect();
                let more = if node.properties.len() > 12 {
                    ", ..."
                } else {
                    ""
                };
                format!("the properties here are {}{more}", list(&names))
            }
        };
        let message = if self.path.is_empty() {
            format!("`{}` has no property `{name}`", self.type_name)
        } else {
            format!("{} has no property `{name}`", self.subject())
        };
        self.push(out, codes::C017, k.span.clone(), message, help);
        suggestion
    }

    fn required_keys(
        &self,
        node: &SchemaNode,
        site: Site<'_>,
        present: &[&str],
        misspelled: &[&str],
        out: &mut Vec<Finding>,
    ) {
        let has = |n: &str| present.contains(&n);
        for req in &node.required {
            if !has(req) && !misspelled.contains(&&**req) {
                let (message, help) = if self.path.is_empty() {
                    (
                        format!(
                            "resource `{}` (`{}`) is missing the required property `{req}`",
                            self.resource, self.type_name
                        ),
                        format!("add `{req}` under `Properties`"),
                    )
                } else {
                    (
                        format!(
                            "{} is missing the required property `{req}`",
                            self.subject()
                        ),
                        format!("add `{req}` to `{}`", self.path_text()),
                    )
                };
                self.push(out, codes::C018, self.object_span(site), message, help);
            }
        }
    }

    /// `requiredXor`, `requiredOr` and `dependentRequired`.
    fn key_sets(
        &self,
        node: &SchemaNode,
        site: Site<'_>,
        entries: &[(Node, Node)],
        present: &[&str],
        out: &mut Vec<Finding>,
    ) {
        let has = |n: &str| present.contains(&n);
        let names = |set: &[Box<str>]| list(&set.iter().map(|s| &**s).collect::<Vec<_>>());
        if !node.required_xor.is_empty() {
            let set: Vec<&Box<str>> = node.required_xor.iter().filter(|n| has(n)).collect();
            if set.is_empty() {
                self.push(
                    out,
                    codes::C018,
                    self.object_span(site),
                    format!(
                        "{} needs exactly one of {}",
                        self.subject(),
                        names(&node.required_xor)
                    ),
                    format!("set one of {}", names(&node.required_xor)),
                );
            } else if set.len() > 1 {
                // One conflict, one finding: at the second key of the set, naming the first.
                let keys: Vec<&Node> = entries
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|k| k.as_str().is_some_and(|n| set.iter().any(|s| &***s == n)))
                    .collect();
                if let [first, second, ..] = keys.as_slice() {
                    self.push(
                        out,
                        codes::C025,
                        second.span.clone(),
                        format!(
                            "{} takes only one of {}, but sets `{}` and `{}`",
                            self.subject(),
                            names(&node.required_xor),
                            first.as_str().unwrap_or_default(),
                            second.as_str().unwrap_or_default()
                        ),
                        "keep one of them and remove the others".to_string(),
                    );
                }
            }
        }
        if !node.required_or.is_empty() && !node.required_or.iter().any(|n| has(n)) {
            self.push(
                out,
                codes::C018,
                self.object_span(site),
                format!(
                    "{} needs at least one of {}",
                    self.subject(),
                    names(&node.required_or)
                ),
                format!("set one of {}", names(&node.required_or)),
            );
        }
        for (prop, deps) in &node.dependent_required {
            if !has(prop) {
                continue;
            }
            for dep in deps.iter().filter(|d| !has(d)) {
                self.push(
                    out,
                    codes::C018,
                    self.object_span(site),
                    format!("{} sets `{prop}`, which needs `{dep}`", self.subject()),
                    format!("add `{dep}`, or remove `{prop}`"),
                );
            }
        }
    }

    /// `dependentExcluded`.
    fn exclusions(
        &self,
        node: &SchemaNode,
        entries: &[(Node, Node)],
        present: &[&str],
        out: &mut Vec<Finding>,
    ) {
        let has = |n: &str| present.contains(&n);
        // Exclusions are usually written both ways (`A` excludes `B`, `B` excludes `A`): one
        // finding per pair, at the key written second.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for (prop, excluded) in &node.dependent_excluded {
            let Some(a) = entries.iter().position(|(k, _)| k.as_str() == Some(prop)) else {
                continue;
            };
            if !has(prop) {
                continue;
            }
            for (b, (k, _)) in entries.iter().enumerate() {
                if b != a
                    && k.as_str()
                        .is_some_and(|n| excluded.iter().any(|e| &**e == n))
                {
                    let pair = (a.min(b), a.max(b));
                    if !pairs.contains(&pair) {
                        pairs.push(pair);
                    }
                }
            }
        }
        for (a, b) in pairs {
            let (first, second) = (&entries[a].0, &entries[b].0);
            let (x, y) = (
                first.as_str().unwrap_or_default(),
                second.as_str().unwrap_or_default(),
            );
            self.push(
                out,
                codes::C025,
                second.span.clone(),
                format!(
                    "{} sets both `{x}` and `{y}`, which exclude each other",
                    self.subject()
                ),
                format!("remove `{x}` or `{y}`"),
            );
        }
    }

    /// `minProperties` and `maxProperties`.
    fn property_count(
        &self,
        node: &SchemaNode,
        site: Site<'_>,
        count: u64,
        out: &mut Vec<Finding>,
    ) {
        if let Some(min) = node.min_properties.filter(|m| count < *m) {
            self.push(
                out,
                codes::C023,
                self.object_span(site),
                format!(
                    "{} has {count} properties; it needs at least {min}",
                    self.subject()
                ),
                format!("set at least {min}"),
            );
        }
        if let Some(max) = node.max_properties.filter(|m| count > *m) {
            self.push(
                out,
                codes::C023,
                self.object_span(site),
                format!(
                    "{} has {count} properties; it takes at most {max}",
                    self.subject()
                ),
                format!("keep at most {max}"),
            );
        }
    }
}

/// The keys present in an object, `!Ref AWS::NoValue` ones left out; and whether that set is
/// undecided (an `Fn::If` value may be absent, `Fn::Transform` may add keys). Held inline:
/// most objects of a template have a few keys, and every one was an allocation.
fn present_keys<'n>(
    entries: &'n [(Node, Node)],
    present: &mut smallvec::SmallVec<[&'n str; 12]>,
) -> bool {
    let mut undecided = false;
    for (k, val) in entries {
        let Some(name) = k.as_str() else { continue };
        if name == "Fn::Transform" {
            undecided = true;
            continue;
        }
        if is_no_value(val) {
            continue;
        }
        if is_intrinsic(val) && val.get("Fn::If").is_some() {
            undecided = true;
        }
        present.push(name);
    }
    undecided
}
