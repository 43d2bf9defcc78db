//! Values as CloudFormation converts them and cfn-lint compares them: a scalar's type, the
//! text of numbers and booleans, and the equality of a template value and a schema value.

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
    let fold = |s: &str| {
        if case_insensitive {
            s.to_lowercase()
        } else {
            s.to_string()
        }
    };
    let bool_text = |s: &str| match s.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    match (&v.value, e) {
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Bool(a), J::String(s)) => bool_text(s) == Some(*a),
        (Value::String(s), J::Bool(b)) => bool_text(s) == Some(*b),
        (Value::String(s), J::String(t)) => match (bool_text(s), bool_text(t)) {
            (Some(a), Some(b)) => a == b,
            _ => fold(s) == fold(t),
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
pub(super) fn pattern_text(v: &Node) -> String {
    match &v.value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| f.to_string(), |n| n.to_string())
        }
        _ => String::new(),
    }
}

/// An item's identity for `uniqueItems`: numbers and booleans as text, like cfn-lint.
pub(super) fn canonical(v: &Node) -> String {
    match &v.value {
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => v.to_json().to_string(),
        _ => v.scalar_text().unwrap_or_default(),
    }
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
}
