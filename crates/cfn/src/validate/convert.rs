//! Values as CloudFormation converts them and cfn-lint compares them: a scalar's type, the
//! text of numbers and booleans, and the equality of a template value and a schema value.

use std::borrow::Cow;

use serde_json::Value as J;

use crate::schema::ty;
use crate::yaml::{Node, Value};

/// Whether a value is of one of the types, converting scalars as CloudFormation does.
pub(super) fn matches_type(bits: u8, v: &Node) -> bool {
    let has = |b: u8| bits & b != 0;
    match &v.value {
        Value::Map(_) => has(ty::OBJECT),
        Value::Seq(_) => has(ty::ARRAY),
        Value::Null => has(ty::NULL),
        Value::Bool(_) => has(ty::STRING | ty::BOOLEAN),
        Value::Int(_) => has(ty::STRING | ty::INTEGER | ty::NUMBER),
        Value::Float(f) => has(ty::STRING | ty::NUMBER) || (has(ty::INTEGER) && f.is_finite()),
        Value::String(s) => {
            has(ty::STRING)
                || (has(ty::NUMBER) && py_float(s).is_some())
                || (has(ty::INTEGER) && py_int(s))
                || (has(ty::BOOLEAN)
                    && (["true", "True", "TRUE", "false", "False", "FALSE"].contains(&s.as_str())
                        // CloudFormation reads YAML 1.1, where a plain `Yes`, `off`... is a boolean.
                        || (v.plain && crate::yaml::scalar::is_yaml11_bool(s))))
        }
    }
}

pub(super) fn type_names(bits: u8) -> String {
    let names: Vec<&str> = [
        (ty::OBJECT, "a mapping"),
        (ty::ARRAY, "a list"),
        (ty::STRING, "a string"),
        (ty::INTEGER, "an integer"),
        (ty::NUMBER, "a number"),
        (ty::BOOLEAN, "a boolean"),
        (ty::NULL, "null"),
    ]
    .into_iter()
    .filter(|(b, _)| bits & b != 0)
    .filter(|(b, _)| !(*b == ty::INTEGER && bits & ty::NUMBER != 0))
    .map(|(_, n)| n)
    .collect();
    match names.len() {
        0 => "any value".to_string(),
        1 => names[0].to_string(),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// Python's `int(text)`: optional sign, digits with single underscores between them.
fn py_int(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    !t.is_empty()
        && !t.starts_with('_')
        && !t.ends_with('_')
        && !t.contains("__")
        && t.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Python's `float(text)`.
pub(super) fn py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.contains('_') {
        let b = t.as_bytes();
        let ok = b.iter().enumerate().all(|(i, &c)| {
            c != b'_'
                || (i > 0
                    && i + 1 < b.len()
                    && b[i - 1].is_ascii_digit()
                    && b[i + 1].is_ascii_digit())
        });
        return if ok {
            t.replace('_', "").parse().ok()
        } else {
            None
        };
    }
    t.parse().ok()
}

/// Python's `str()` of a JSON number (as cfn-lint compares enum values).
fn py_number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// cfn-lint's equality of a template value and a schema value: booleans and their strings
/// compare as booleans, a string and a number as text, numbers as numbers.
pub(super) fn py_equal(v: &Node, e: &J, case_insensitive: bool) -> bool {
    let same_text = |s: &str, t: &str| {
        if case_insensitive {
            s.to_lowercase() == t.to_lowercase()
        } else {
            s == t
        }
    };
    let bool_text = |s: &str| {
        if s.eq_ignore_ascii_case("true") {
            Some(true)
        } else if s.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    };
    match (&v.value, e) {
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Bool(a), J::String(s)) => bool_text(s) == Some(*a),
        (Value::String(s), J::Bool(b)) => bool_text(s) == Some(*b),
        (Value::String(s), J::String(t)) => match (bool_text(s), bool_text(t)) {
            (Some(a), Some(b)) => a == b,
            _ => same_text(s, t),
        },
        (Value::String(s), J::Number(n)) => *s == py_number_text(n),
        (Value::Int(i), J::String(t)) => i.to_string() == *t,
        (Value::Float(f), J::String(t)) => {
            serde_json::Number::from_f64(*f).is_some_and(|n| py_number_text(&n) == *t)
        }
        (Value::Int(i), J::Number(n)) => n.as_f64() == Some(*i as f64),
        (Value::Float(f), J::Number(n)) => n.as_f64() == Some(*f),
        (Value::Null, J::Null) => true,
        _ => false,
    }
}

/// The text `pattern` is matched against: strings as they are, other scalars as JSON writes
/// them.
pub(super) fn pattern_text(v: &Node) -> Cow<'_, str> {
    Cow::Owned(match &v.value {
        Value::String(s) => return Cow::Borrowed(s),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| f.to_string(), |n| n.to_string())
        }
        _ => String::new(),
    })
}

/// An item's identity for `uniqueItems`: numbers and booleans as text, like cfn-lint.
fn canonical(v: &Node) -> String {
    match &v.value {
        Value::String(s) => s.to_string(),
        Value::Seq(_) | Value::Map(_) => v.to_json().to_string(),
        _ => v.scalar_text().unwrap_or_default(),
    }
}

/// Whether two items of a `uniqueItems` list are the same: whether their [`canonical`]
/// texts are equal, decided without writing them for the common kinds (strings, and
/// mappings and lists, compared as their JSON).
pub(super) fn same_item(a: &Node, b: &Node) -> bool {
    let collection = |v: &Node| matches!(v.value, Value::Seq(_) | Value::Map(_));
    match (&a.value, &b.value) {
        (Value::String(x), Value::String(y)) => x == y,
        _ if collection(a) && collection(b) => {
            same_json(a, b).unwrap_or_else(|| canonical(a) == canonical(b))
        }
        _ => canonical(a) == canonical(b),
    }
}

/// Whether two nodes' JSON texts ([`Node::to_json`]) are equal (a key as its text,
/// [`Node::text`]); `None` when a mapping has two keys of the same text (JSON keeps one of
/// them), which the caller decides on the texts.
fn same_json(a: &Node, b: &Node) -> Option<bool> {
    Some(match (&a.value, &b.value) {
        (Value::Seq(x), Value::Seq(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            for (i, j) in x.iter().zip(y) {
                if !same_json(i, j)? {
                    return Some(false);
                }
            }
            true
        }
        (Value::Map(x), Value::Map(y)) => {
            if repeats_a_key(x) || repeats_a_key(y) {
                return None;
            }
            if x.len() != y.len() {
                return Some(false);
            }
            for ((k, v), (l, w)) in x.iter().zip(y) {
                if k.text() != l.text() || !same_json(v, w)? {
                    return Some(false);
                }
            }
            true
        }
        (Value::Seq(_) | Value::Map(_), _) | (_, Value::Seq(_) | Value::Map(_)) => false,
        _ => json_atom(a) == json_atom(b),
    })
}

/// A scalar as its JSON text distinguishes it: finite numbers by their bits (each double
/// has its own shortest text, and an integer's text has no `.`), the others as `null`.
#[derive(PartialEq)]
enum Atom<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(&'a str),
}

fn json_atom(v: &Node) -> Atom<'_> {
    match &v.value {
        Value::Bool(b) => Atom::Bool(*b),
        Value::Int(i) => Atom::Int(*i),
        Value::Float(f) if f.is_finite() => Atom::Float(f.to_bits()),
        Value::String(s) => Atom::Str(s),
        _ => Atom::Null,
    }
}

fn repeats_a_key(entries: &[(Node, Node)]) -> bool {
    (1..entries.len()).any(|i| {
        entries[..i]
            .iter()
            .any(|(k, _)| k.text() == entries[i].0.text())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_convert_as_cloudformation_converts_them() {
        assert!(
            py_int(" 12 ")
                && py_int("-3")
                && py_int("1_000")
                && !py_int("1.0")
                && !py_int("")
                && !py_int("1__0")
        );
        assert_eq!(py_float("1e3"), Some(1000.0));
        assert_eq!(py_float(" .5 "), Some(0.5));
        assert_eq!(py_float("1_0.5"), Some(10.5));
        assert_eq!(py_float("abc"), None);
    }

    /// `same_item` decides as comparing the canonical texts would, on every pair of a set
    /// of items that differ in kind, order, number form and repeated keys.
    #[test]
    fn same_item_agrees_with_the_canonical_texts() {
        let text = r#"
- {Key: a, Value: b}
- {Value: b, Key: a}
- {Key: a, Value: b}
- {Key: a, Value: 1}
- {Key: a, Value: "1"}
- {Key: a, Value: 1.0}
- {Key: a, Value: 1.5}
- {Key: a, Value: .nan}
- {Key: a, Value: null}
- {Key: a, Value: [1, 2]}
- {Key: a, Value: [1, 2.0]}
- {1: a}
- {"1": a}
- {Key: a, Key: b}
- {Key: b}
- [a, b]
- [a, b]
- [b, a]
- '{"Key":"a","Value":"b"}'
- 1
- "1"
- true
- "true"
- null
- "null"
- -0.0
- 0.0
"#;
        let source = crate::source::SourceFile::new("t.yaml", "t.yaml", text.to_string());
        let root = crate::yaml::parse(&source, &Default::default(), &mut Vec::new()).unwrap();
        let items = root.as_seq().unwrap();
        let mut equal = 0;
        for a in items {
            for b in items {
                let expected = canonical(a) == canonical(b);
                assert_eq!(same_item(a, b), expected, "{:?} and {:?}", a.value, b.value);
                equal += usize::from(expected);
            }
        }
        // The pairs of an item with itself, and the few equal pairs of different items.
        assert!(equal > items.len(), "{equal}");
    }
}
