//! The keywords of a scalar: allowed values (`enum`, `const`), `pattern`, `format`, lengths and
//! numeric bounds.

use serde_json::Value as J;

use super::convert::{pattern_text, py_equal, py_float};
use super::format::{format_help, format_name, format_ok};
use super::{Finding, Site, Walk, shorten};
use crate::diag::codes;
use crate::schema::SchemaNode;
use crate::text::{did_you_mean, list};
use crate::yaml::{Node, Value};

impl<'a, 'n> Walk<'a, 'n> {
    pub(super) fn scalar(&mut self, node: &SchemaNode, site: Site<'n>, out: &mut Vec<Finding>) {
        let v = site.value;
        // The value as messages show it: only a finding needs it.
        let text = || v.scalar_text().unwrap_or_default();
        if let Some(values) = &node.enumeration
            && !values.iter().any(|e| py_equal(v, e, false))
        {
            self.not_allowed(values, v, &text(), site, out);
            return;
        }
        if let Some(values) = &node.enum_case_insensitive
            && !values.iter().any(|e| py_equal(v, e, true))
        {
            self.not_allowed(values, v, &text(), site, out);
            return;
        }
        if let Some(c) = &node.constant
            && !py_equal(v, c, false)
        {
            self.not_allowed(std::slice::from_ref(c), v, &text(), site, out);
            return;
        }
        if let Some(p) = &node.pattern
            && !v.is_null()
            && p.is_match(&pattern_text(v)) == Some(false)
        {
            self.push(
                out,
                codes::C024,
                self.value_span(site),
                format!(
                    "`{}` does not match the pattern of {}",
                    shorten(&text()),
                    self.subject()
                ),
                format!("write a value that matches `{}`", shorten(&p.source)),
            );
            return;
        }
        if let (Some(f), Value::String(s)) = (node.format, &v.value)
            && !format_ok(f, s)
        {
            self.push(
                out,
                codes::C024,
                self.value_span(site),
                format!(
                    "`{}` is not {} ({})",
                    shorten(s),
                    format_name(f),
                    self.subject()
                ),
                format_help(f).to_string(),
            );
            return;
        }
        if let Value::String(s) = &v.value
            && (node.min_length.is_some() || node.max_length.is_some())
        {
            let len = s.chars().count() as u64;
            if let Some(min) = node.min_length.filter(|m| len < *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} is {len} characters long; it needs at least {min}",
                        self.subject()
                    ),
                    format!("write at least {min} characters"),
                );
            }
            if let Some(max) = node.max_length.filter(|m| len > *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} is {len} characters long; it takes at most {max}",
                        self.subject()
                    ),
                    format!("shorten it to {max} characters"),
                );
            }
        }
        let bounded = node.minimum.is_some()
            || node.maximum.is_some()
            || node.exclusive_minimum.is_some()
            || node.exclusive_maximum.is_some()
            || node.multiple_of.is_some();
        // Most scalars have no bounds: a string is read as a number only when one has.
        if !bounded {
            return;
        }
        let number = match &v.value {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::String(s) => py_float(s),
            _ => None,
        };
        if let Some(x) = number.filter(|x| !x.is_nan()) {
            let bound = |ok: bool, what: &str, m: f64| {
                (!ok).then(|| format!("{what} {}", crate::yaml::format_float(m)))
            };
            let broken = [
                node.minimum.and_then(|m| bound(x >= m, "at least", m)),
                node.maximum.and_then(|m| bound(x <= m, "at most", m)),
                node.exclusive_minimum
                    .and_then(|m| bound(x > m, "more than", m)),
                node.exclusive_maximum
                    .and_then(|m| bound(x < m, "less than", m)),
                node.multiple_of
                    .and_then(|m| bound((x / m).fract() == 0.0, "a multiple of", m)),
            ];
            if let Some(rule) = broken.into_iter().flatten().next() {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} is {}; it must be {rule}",
                        self.subject(),
                        shorten(&text())
                    ),
                    format!("write a number that is {rule}"),
                );
            }
        }
    }

    fn not_allowed(
        &self,
        values: &[J],
        v: &Node,
        text: &str,
        site: Site<'_>,
        out: &mut Vec<Finding>,
    ) {
        let shown: Vec<String> = values
            .iter()
            .map(|e| match e {
                J::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let refs: Vec<&str> = shown.iter().map(String::as_str).collect();
        let (listed, more) = if refs.len() > 20 {
            let head: Vec<String> = refs[..20].iter().map(|r| format!("`{r}`")).collect();
            (head.join(", "), format!(" and {} more", refs.len() - 20))
        } else {
            (list(&refs), String::new())
        };
        let help = match did_you_mean(text, refs.iter().copied()).filter(|_| !v.is_null()) {
            Some(s) => format!("did you mean `{s}`? The allowed values are {listed}{more}"),
            None => format!("the allowed values are {listed}{more}"),
        };
        let name = self.path_text();
        self.push(
            out,
            codes::C020,
            self.value_span(site),
            format!("`{}` is not an allowed value of `{name}`", shorten(text)),
            help,
        );
    }
}
