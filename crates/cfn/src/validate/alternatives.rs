//! `oneOf` and `anyOf`: each alternative tried silently, and what to report when none fits,
//! or more than one.

use serde_json::Value as J;

use super::convert::matches_type;
use super::{Finding, MAX_HOPS, Site, Trial, Walk};
use crate::diag::codes;
use crate::schema::Id;
use crate::yaml::Node;

impl<'a, 'n> Walk<'a, 'n> {
    /// `oneOf` (`exactly`) or `anyOf`: each alternative is tried silently; as in cfn-lint, an
    /// alternative that meets an unknown value leaves the outcome undecided.
    pub(super) fn alternatives(
        &mut self,
        alts: &[Id],
        exactly: bool,
        site: Site<'n>,
        hops: u8,
        out: &mut Vec<Finding>,
    ) {
        let mut valid = 0;
        let mut unknown = false;
        let mut failures: Vec<(Id, Vec<Finding>)> = Vec::new();
        for &alt in alts {
            match self.trial(alt, site, hops) {
                Trial::Valid => {
                    valid += 1;
                    if !exactly {
                        return;
                    }
                }
                Trial::Unknown => unknown = true,
                Trial::Invalid(f) => failures.push((alt, f)),
            }
        }
        if valid == 1 || (unknown && valid < 2) {
            if unknown {
                self.unknown = true;
            }
            return;
        }
        if !self.key_set_alternatives(alts, exactly, valid, site, out) {
            self.no_alternative(alts, failures, site, hops, out);
        }
    }

    /// Alternatives that only differ in which keys are required (`oneOf` of `required` sets):
    /// reported as keys to add or to remove. Returns false when the alternatives are not such
    /// sets and nothing was reported.
    fn key_set_alternatives(
        &self,
        alts: &[Id],
        exactly: bool,
        valid: usize,
        site: Site<'_>,
        out: &mut Vec<Finding>,
    ) -> bool {
        // Alternatives that only differ in which keys are required.
        let key_sets: Option<Vec<&[Box<str>]>> = alts
            .iter()
            .map(|&a| {
                let n = self.schema.node(a);
                (n.types == 0
                    && n.reference.is_none()
                    && n.properties.is_empty()
                    && !n.required.is_empty()
                    && n.one_of.is_empty()
                    && n.any_of.is_empty())
                .then_some(&n.required[..])
            })
            .collect();
        let describe = |sets: &[&[Box<str>]]| {
            let parts: Vec<String> = sets
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" with ")
                })
                .collect();
            match parts.len() {
                0 | 1 => parts.concat(),
                n => format!("{} or {}", parts[..n - 1].join(", "), parts[n - 1]),
            }
        };
        if valid >= 2 {
            let (message, help) = match &key_sets {
                Some(sets) => (
                    format!("{} takes only one of {}", self.subject(), describe(sets)),
                    "keep one of them and remove the others".to_string(),
                ),
                None => (
                    format!(
                        "{} matches {valid} of the forms it accepts; exactly one must match",
                        self.subject()
                    ),
                    "remove the properties that make it match more than one form".to_string(),
                ),
            };
            self.push(out, codes::C025, self.object_span(site), message, help);
            return true;
        }
        if let Some(sets) = &key_sets {
            self.push(
                out,
                codes::C018,
                self.object_span(site),
                format!(
                    "{} needs {}{}",
                    self.subject(),
                    if exactly {
                        "exactly one of "
                    } else {
                        "one of "
                    },
                    describe(sets)
                ),
                format!("add {}", describe(sets)),
            );
            return true;
        }
        false
    }

    /// No alternative fits: the mistakes of the one the value names (by its `Type`) or whose
    /// kind it has, else one finding naming the closest form's first mistake.
    fn no_alternative(
        &self,
        alts: &[Id],
        mut failures: Vec<(Id, Vec<Finding>)>,
        site: Site<'_>,
        hops: u8,
        out: &mut Vec<Finding>,
    ) {
        // The alternatives whose type fits the value: when only one does, its mistakes are
        // the value's mistakes.
        let mut fitting: Vec<&(Id, Vec<Finding>)> = failures
            .iter()
            .filter(|(alt, _)| {
                let t = self.resolved_types(self.schema.node(*alt), hops);
                t == 0 || matches_type(t, site.value)
            })
            .collect();
        // Alternatives told apart by a `Type` key (SAM's event sources: `Type: S3`, `Type:
        // Schedule`...): the one the value names is the one it meant.
        if let Some(kind) = site.value.get("Type").and_then(Node::as_str) {
            let named: Vec<&(Id, Vec<Finding>)> = fitting
                .iter()
                .copied()
                .filter(|(alt, _)| self.names_type(*alt, kind, hops))
                .collect();
            if named.len() == 1 {
                // Named by the value itself: its mistakes are reported where they are.
                let fit = named[0].0;
                if let Some(index) = failures.iter().position(|(alt, _)| *alt == fit) {
                    out.extend(failures.swap_remove(index).1);
                }
                return;
            }
            if !named.is_empty() {
                fitting = named;
            }
        }
        if fitting.len() == 1 {
            // The value's mistakes in the one form its kind fits, reported on the line of the
            // property that has the alternatives (where cfn-lint reports a failed `oneOf`).
            let at = self.value_span(site);
            let fit = fitting[0].0;
            let Some(index) = failures.iter().position(|(alt, _)| *alt == fit) else {
                return;
            };
            for mut f in failures.swap_remove(index).1 {
                f.span = at.clone();
                out.push(f);
            }
            return;
        }
        let best = failures
            .iter()
            .min_by_key(|(_, f)| f.len())
            .and_then(|(_, f)| f.first());
        let help = match best {
            Some(f) => format!("the closest form fails with: {}", f.message),
            None => "write a value of one of the accepted forms".to_string(),
        };
        self.push(
            out,
            codes::C025,
            self.value_span(site),
            format!(
                "{} matches none of the {} forms it accepts",
                self.subject(),
                alts.len()
            ),
            help,
        );
    }

    /// Whether an alternative's `Type` property allows exactly `kind` (through `$ref`s).
    fn names_type(&self, id: Id, kind: &str, hops: u8) -> bool {
        if hops > MAX_HOPS {
            return false;
        }
        let node = self.schema.node(id);
        if let Some(t) = node.property("Type") {
            let t = self.schema.node(t);
            let t = t.reference.map_or(t, |r| self.schema.node(r));
            return t
                .enumeration
                .as_deref()
                .is_some_and(|e| e.iter().any(|v| v.as_str() == Some(kind)))
                || t.constant.as_ref().and_then(J::as_str) == Some(kind);
        }
        node.reference
            .is_some_and(|r| self.names_type(r, kind, hops + 1))
    }

    fn trial(&mut self, id: Id, site: Site<'n>, hops: u8) -> Trial {
        let saved = std::mem::replace(&mut self.unknown, false);
        let mut found = Vec::new();
        self.check(id, site, hops + 1, &mut found);
        let unknown = std::mem::replace(&mut self.unknown, saved);
        if !found.is_empty() {
            Trial::Invalid(found)
        } else if unknown {
            Trial::Unknown
        } else {
            Trial::Valid
        }
    }
}
