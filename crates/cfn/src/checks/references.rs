//! References from one part of a template to another: `Ref`, `Fn::GetAtt` and the attribute
//! it names, the variables of `Fn::Sub`, `Fn::FindInMap`, and condition names.

use std::collections::BTreeSet;
use std::ops::Range;

use super::{Checker, Ctx, is_intrinsic};
use crate::diag::{codes, did_you_mean};
use crate::types;
use crate::yaml::shape::list;
use crate::yaml::{Node, Value};

pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

impl Checker<'_> {
    pub(super) fn condition_name(&mut self, node: &Node, what: &str) {
        let Some(name) = node.as_str() else {
            self.report(
                codes::C015,
                format!("a {what} must be a condition's name"),
                node.span.clone(),
                "write the name of a condition from `Conditions`",
            );
            return;
        };
        if self.names.conditions.contains_key(name) {
            self.uses.conditions.insert(name.to_string());
        } else if !self.transformed {
            let help = self.suggest(name, self.names.conditions.keys());
            self.report(
                codes::C009,
                format!("condition `{name}` is not defined"),
                node.span.clone(),
                &help,
            );
        }
    }

    pub(super) fn conditions_section(&mut self, root: &Node) {
        let Some(conds) = root.get("Conditions").and_then(Node::as_map) else {
            return;
        };
        for (_, c) in conds {
            self.walk(c, Ctx::Conditions);
        }
    }

    pub(super) fn reference(&mut self, target: &str, span: Range<usize>, ctx: Ctx<'_>) {
        if self.names.parameters.contains_key(target) {
            self.uses.parameters.insert(target.to_string());
        } else if self.names.resources.contains_key(target) {
            if ctx == Ctx::Conditions {
                self.report(
                    codes::C005,
                    format!("conditions cannot reference resource `{target}`"),
                    span,
                    "conditions are evaluated before resources exist: reference parameters only",
                );
                return;
            }
            self.depend(ctx, target);
        } else if !PSEUDO_PARAMETERS.contains(&target) && !self.transformed {
            let candidates: Vec<String> = self
                .names
                .parameters
                .keys()
                .chain(self.names.resources.keys())
                .cloned()
                .chain(PSEUDO_PARAMETERS.iter().map(|s| s.to_string()))
                .collect();
            let help = self.suggest(target, candidates.iter());
            self.report(
                codes::C005,
                format!(
                    "`Ref` to `{target}`, which is not a parameter, resource or pseudo parameter"
                ),
                span,
                &help,
            );
        }
    }

    pub(super) fn get_att(&mut self, v: &Node, ctx: Ctx<'_>) {
        let (resource, attr) = match &v.value {
            Value::Seq(items) if items.len() == 2 => (&items[0], &items[1]),
            Value::String(s) if s.contains('.') => {
                // Long form written as a string: `Fn::GetAtt: A.B`.
                let (r, a) = s.split_once('.').unwrap_or((s, ""));
                self.get_att_target(r, v.span.clone(), ctx);
                self.attribute(r, a, v.span.clone());
                return;
            }
            _ => {
                self.shape(
                    "Fn::GetAtt",
                    v,
                    "a logical id and an attribute name (`!GetAtt Resource.Attribute`)",
                );
                return;
            }
        };
        match resource.as_str() {
            Some(r) => {
                self.get_att_target(r, resource.span.clone(), ctx);
                if let Some(a) = attr.as_str() {
                    self.attribute(r, a, attr.span.clone());
                }
            }
            None => self.shape(
                "Fn::GetAtt",
                resource,
                "a resource's logical id as its first item",
            ),
        }
        if attr.as_str().is_none() && !is_intrinsic(attr) {
            self.shape("Fn::GetAtt", attr, "an attribute name as its second item");
        }
        self.walk(attr, ctx);
    }

    /// An attribute name against the resource's type. Older types accept any property as an
    /// attribute (as cfn-lint does), so property names count too.
    fn attribute(&mut self, resource: &str, attr: &str, span: Range<usize>) {
        let Some(type_name) = self.names.types.get(resource).cloned() else {
            return;
        };
        if !types::is_checked_namespace(&type_name) {
            return;
        }
        let Some(ty) = types::lookup(&type_name) else {
            return;
        };
        let top = attr.split('.').next().unwrap_or(attr);
        // A nested stack's outputs: `!GetAtt Stack.Outputs.Name`, any name.
        let nested_output = (type_name == "AWS::CloudFormation::Stack"
            || type_name == "AWS::Serverless::Application")
            && attr.strip_prefix("Outputs.").is_some_and(|n| !n.is_empty());
        if nested_output
            || ty
                .attributes
                .iter()
                .any(|a| a == attr || a.starts_with(&format!("{attr}.")))
            || ty.properties.contains_key(attr)
            || ty.properties.contains_key(top)
        {
            return;
        }
        let help = match did_you_mean(attr, ty.attributes.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if ty.attributes.is_empty() => format!("`{type_name}` has no attributes"),
            None => format!(
                "`{type_name}` has {}",
                list(
                    &ty.attributes
                        .iter()
                        .map(String::as_str)
                        .take(20)
                        .collect::<Vec<_>>()
                )
            ),
        };
        self.report(
            codes::C006,
            format!("`{resource}` (`{type_name}`) has no attribute `{attr}`"),
            span,
            &help,
        );
    }

    fn get_att_target(&mut self, r: &str, span: Range<usize>, ctx: Ctx<'_>) {
        if self.names.resources.contains_key(r) {
            self.depend(ctx, r);
        } else if !self.transformed {
            let what = if self.names.parameters.contains_key(r) {
                "a parameter, not a resource"
            } else {
                "not a resource"
            };
            let help = self.suggest(r, self.names.resources.keys());
            self.report(
                codes::C006,
                format!("`Fn::GetAtt` on `{r}`, which is {what}"),
                span,
                &help,
            );
        }
    }

    pub(super) fn sub(&mut self, v: &Node, ctx: Ctx<'_>) {
        let (template, vars): (&Node, Option<&Node>) = match &v.value {
            Value::String(_) => (v, None),
            Value::Seq(items) if items.len() == 2 => (&items[0], Some(&items[1])),
            _ => {
                self.shape(
                    "Fn::Sub",
                    v,
                    "a string, or a list of a string and a mapping of variables",
                );
                return;
            }
        };
        let local: BTreeSet<String> = match vars {
            Some(m) => match m.as_map() {
                Some(entries) => {
                    for (_, val) in entries {
                        self.walk(val, ctx);
                    }
                    entries
                        .iter()
                        .filter_map(|(k, _)| k.scalar_text())
                        .collect()
                }
                None => {
                    self.shape("Fn::Sub", m, "a mapping of variables as its second item");
                    BTreeSet::new()
                }
            },
            None => BTreeSet::new(),
        };
        let Some(text) = template.as_str() else {
            if !is_intrinsic(template) {
                self.shape("Fn::Sub", template, "a string to substitute into");
            }
            return;
        };
        let at = self.text_at(template);
        for (var, offset) in sub_variables(text) {
            // Point into the string when it is written plainly; else at the whole value.
            let span = match at {
                Some(at) => at + offset..at + offset + var.len() + 3,
                None => template.span.clone(),
            };
            let name = var.split_once('.').map_or(var.as_str(), |(r, _)| r);
            if local.contains(&var) || local.contains(name) {
                continue;
            }
            if var.contains('.') {
                if self.names.resources.contains_key(name) {
                    self.depend(ctx, name);
                    let attr = var.split_once('.').map_or("", |(_, a)| a);
                    self.attribute(name, attr, span.clone());
                } else if !self.transformed {
                    let help = self.suggest(name, self.names.resources.keys());
                    self.report(
                        codes::C007,
                        format!("`${{{var}}}`: `{name}` is not a resource"),
                        span,
                        &help,
                    );
                }
            } else {
                self.reference_in_sub(&var, span, ctx);
            }
        }
    }

    fn reference_in_sub(&mut self, var: &str, span: Range<usize>, ctx: Ctx<'_>) {
        if self.names.parameters.contains_key(var) {
            self.uses.parameters.insert(var.to_string());
        } else if self.names.resources.contains_key(var) {
            self.depend(ctx, var);
        } else if !PSEUDO_PARAMETERS.contains(&var) && !self.transformed {
            let candidates: Vec<String> = self
                .names
                .parameters
                .keys()
                .chain(self.names.resources.keys())
                .cloned()
                .collect();
            let help = self.suggest(var, candidates.iter());
            self.report(
                codes::C007,
                format!("`${{{var}}}` is not a parameter, resource or pseudo parameter"),
                span,
                &format!("{help} (write `${{!{var}}}` for a literal `${{{var}}}`)"),
            );
        }
    }

    /// Where a string node's text starts in the source, when the node is written as the
    /// string (a plain or single-line quoted scalar); `None` when it is not (escapes, a
    /// block scalar), and a `${var}` in it is shown at the whole value.
    fn text_at(&self, node: &Node) -> Option<usize> {
        let written = self.source.slice(&node.span);
        let text = node.as_str().filter(|t| !t.is_empty())?;
        // A plain scalar ends with its text, a quoted one with its text and the quote: found
        // at once, without setting up a search for the whole text.
        let body = written.strip_suffix(['\'', '"']).unwrap_or(written);
        if body.ends_with(text) {
            return Some(node.span.start + body.len() - text.len());
        }
        memchr::memmem::find(written.as_bytes(), text.as_bytes()).map(|i| node.span.start + i)
    }

    pub(super) fn find_in_map(&mut self, v: &Node, ctx: Ctx<'_>) {
        let Some(items) = v.as_seq().filter(|i| i.len() == 3 || i.len() == 4) else {
            self.shape(
                "Fn::FindInMap",
                v,
                "a list of three: a map name, a top-level key and a second-level key",
            );
            return;
        };
        if let Some(map) = items[0].as_str() {
            if self.names.mappings.contains_key(map) {
                self.uses.mappings.insert(map.to_string());
            } else if !self.transformed {
                let help = self.suggest(map, self.names.mappings.keys());
                self.report(
                    codes::C010,
                    format!("`Fn::FindInMap` on `{map}`, which is not a mapping"),
                    items[0].span.clone(),
                    &help,
                );
            }
        }
        for i in items {
            self.walk(i, ctx);
        }
    }
}

/// `${Name}` and `${Res.Attr}` in a `Fn::Sub` string, with their byte offsets; `${!x}` is a
/// literal and skipped.
pub fn sub_variables(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            if let Some(end) = text[i + 2..].find('}') {
                let var = &text[i + 2..i + 2 + end];
                if !var.starts_with('!') {
                    out.push((var.trim().to_string(), i));
                }
                i += 3 + end;
                continue;
            }
            break;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::source::SourceFile;

    /// What each C007 of `body` (a resource's `Value:` property) points at.
    fn shown(body: &str) -> Vec<String> {
        let text = format!(
            "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Properties:\n      Value: {body}\n"
        );
        let source = SourceFile::new("t.yaml", "t.yaml", text.clone());
        let mut diags = Vec::new();
        let root = crate::parse(&source, &mut diags).unwrap_or_else(|| panic!("{body}: {diags:?}"));
        super::super::check(&source, &root, &mut diags);
        diags
            .iter()
            .filter(|d| d.code.id == "C007")
            .filter_map(|d| Some(text[d.primary.as_ref()?.at.span.clone()].to_string()))
            .collect()
    }

    #[test]
    fn a_sub_variable_is_shown_where_it_is_written() {
        let both = ["${Gone}", "${Lost}"];
        for body in [
            "!Sub a-${Gone}-${Lost}",
            "!Sub 'a-${Gone}-${Lost}'",
            "!Sub \"a-${Gone}-${Lost}\"",
            "\n        Fn::Sub: a-${Gone}-${Lost}",
            "\n        Fn::Sub:\n          - '${Gone}${Lost}'\n          - {}",
            // Its text ends with a quote, which is not the scalar's.
            "!Sub ${Gone}-${Lost}'",
        ] {
            assert_eq!(shown(body), both, "{body}");
        }
        // Written otherwise than as its text (an escape): the whole value.
        assert_eq!(shown("!Sub \"\\x61${Gone}\""), ["!Sub \"\\x61${Gone}\""]);
    }
}
