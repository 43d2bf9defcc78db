//! The arguments of the functions that take or give lists (`Fn::Join`, `Fn::Select`,
//! `Fn::Split`, `Fn::Cidr`) and of `Fn::Base64`: their kinds, and literal indexes and counts
//! against their ranges.

use super::{Checker, is_intrinsic};
use crate::diag::codes;
use crate::yaml::{Node, Value};

impl Checker<'_> {
    /// The arguments of the functions that take or give lists: `Fn::Join`, `Fn::Select`,
    /// `Fn::Split`, `Fn::Cidr`, `Fn::Base64`. `at` is where a malformed call is reported.
    pub(super) fn list_function(&mut self, key: &str, v: &Node, at: &Node) {
        let items = v.as_seq();
        match key {
            "Fn::Join" => match items {
                Some([delimiter, values]) if delimiter.as_str().is_some() => {
                    self.list_argument("Fn::Join", values, "a list of the values to join");
                    for item in values.as_seq().unwrap_or_default() {
                        if !is_intrinsic(item)
                            && matches!(item.value, Value::Map(_) | Value::Seq(_))
                        {
                            self.argument(
                                "Fn::Join",
                                item,
                                format!("joins text, not {}", item.kind_name()),
                                "write a string or a function that gives one",
                            );
                        }
                    }
                }
                _ => self.shape(
                    "Fn::Join",
                    at,
                    "a list of two: a delimiter string and a list of values",
                ),
            },
            "Fn::Select" => match items {
                Some([index, list]) => {
                    let n = literal_int(index);
                    if n == Some(None) {
                        self.argument(
                            "Fn::Select",
                            index,
                            format!(
                                "takes an index (an integer), not `{}`",
                                index
                                    .scalar_text()
                                    .unwrap_or_else(|| index.kind_name().to_string())
                            ),
                            "write the position of the item, from 0",
                        );
                    }
                    self.list_argument("Fn::Select", list, "a list to select from");
                    if let (Some(Some(i)), Some(values)) = (n, list.as_seq())
                        && (i < 0 || i as usize >= values.len())
                    {
                        self.argument(
                            "Fn::Select",
                            index,
                            format!(
                                "index {i} is outside the list, which has {} item{}",
                                values.len(),
                                if values.len() == 1 { "" } else { "s" }
                            ),
                            &format!(
                                "write an index from 0 to {}",
                                values.len().saturating_sub(1)
                            ),
                        );
                    }
                }
                _ => self.shape("Fn::Select", at, "a list of two: an index and a list"),
            },
            "Fn::Split" => match items {
                Some([delimiter, source]) => {
                    if delimiter.as_str().is_none() {
                        self.argument(
                            "Fn::Split",
                            delimiter,
                            format!(
                                "splits on a delimiter string, not {}",
                                delimiter.kind_name()
                            ),
                            "write the delimiter as a string",
                        );
                    }
                    if !is_intrinsic(source)
                        && matches!(source.value, Value::Map(_) | Value::Seq(_))
                    {
                        self.argument(
                            "Fn::Split",
                            source,
                            format!("splits a string, not {}", source.kind_name()),
                            "write a string or a function that gives one",
                        );
                    }
                }
                _ => self.shape("Fn::Split", at, "a list of two: a delimiter and a string"),
            },
            "Fn::Cidr" => match items {
                Some([_, count, bits]) => {
                    if let Some(Some(c)) =
                        literal_int(count).filter(|c| !c.is_some_and(|c| (1..=256).contains(&c)))
                    {
                        self.argument(
                            "Fn::Cidr",
                            count,
                            format!("makes 1 to 256 CIDR blocks, not {c}"),
                            "write a count from 1 to 256",
                        );
                    } else if literal_int(count) == Some(None) {
                        self.argument(
                            "Fn::Cidr",
                            count,
                            "takes a count (an integer)".to_string(),
                            "write a count from 1 to 256",
                        );
                    }
                    if let Some(Some(b)) =
                        literal_int(bits).filter(|b| !b.is_some_and(|b| (1..=128).contains(&b)))
                    {
                        self.argument(
                            "Fn::Cidr",
                            bits,
                            format!("takes 1 to 128 subnet bits, not {b}"),
                            "write the number of host bits of each block (8 for a /24 in IPv4)",
                        );
                    } else if literal_int(bits) == Some(None) {
                        self.argument(
                            "Fn::Cidr",
                            bits,
                            "takes the subnet bits (an integer)".to_string(),
                            "write the number of host bits of each block (8 for a /24 in IPv4)",
                        );
                    }
                }
                _ => self.shape(
                    "Fn::Cidr",
                    at,
                    "a list of three: an IP block, a count and the CIDR bits",
                ),
            },
            "Fn::Base64"
                if !is_intrinsic(v) && matches!(v.value, Value::Map(_) | Value::Seq(_)) =>
            {
                self.argument(
                    "Fn::Base64",
                    v,
                    format!("encodes a string, not {}", v.kind_name()),
                    "write a string or a function that gives one (`!Sub`, `!Join`)",
                );
            }
            _ => {}
        }
    }

    /// An argument of a function that is wrong in itself (a type, a range).
    fn argument(&mut self, name: &str, node: &Node, what: String, help: &str) {
        self.report(
            codes::C015,
            format!("`{name}` {what}"),
            node.span.clone(),
            help,
        );
    }

    /// An argument that must be a list: a literal list or a function that can give one.
    fn list_argument(&mut self, name: &str, node: &Node, what: &str) {
        // Functions that only ever give text.
        let text_function = node
            .as_map()
            .and_then(|m| m.first())
            .and_then(|(k, _)| k.as_str())
            .is_some_and(|k| matches!(k, "Fn::Sub" | "Fn::Join" | "Fn::Base64"));
        let wrong = if is_intrinsic(node) {
            text_function
        } else {
            !matches!(node.value, Value::Seq(_))
        };
        if wrong {
            self.argument(
                name,
                node,
                format!("takes {what}, not {}", if is_intrinsic(node) { "a string" } else { node.kind_name() }),
                "write a list (`[a, b]`), or a function that gives one (`!Ref` of a list parameter, `!Split`, `!GetAZs`)",
            );
        }
    }
}

/// An integer argument: `Some(Some(n))` for a literal integer (or digits in a string),
/// `Some(None)` for a literal that is not one, `None` for a function (unknown).
fn literal_int(node: &Node) -> Option<Option<i64>> {
    if is_intrinsic(node) {
        return None;
    }
    Some(match &node.value {
        Value::Int(i) => Some(*i),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}
