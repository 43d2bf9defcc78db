//! Where Python Jinja2 and minijinja differ, Python wins: how values print (`None`, `True`,
//! `1e+16`, `['a', 1]`), and the filters whose Python signature or output real bundles rely
//! on (`truncate` with positional arguments, `tojson`, `string`, `join`).

use std::fmt::Write as _;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Error, ErrorKind, State, Value};

/// Python's `str()` of a value, as Jinja2 prints it.
pub fn py_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        _ => py_repr(v),
    }
}

/// Python's `repr()`: strings quoted, containers recursively.
pub fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v, 0);
    out
}

fn write_repr(out: &mut String, v: &Value, depth: usize) {
    if depth > 64 {
        out.push_str("...");
        return;
    }
    match v.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => out.push_str(&py_number(v)),
        ValueKind::String => out.push_str(&py_quote(v.as_str().unwrap_or_default())),
        ValueKind::Seq | ValueKind::Iterable => {
            let (open, close) = if v.is_tuple() { ("(", ")") } else { ("[", "]") };
            out.push_str(open);
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item, depth + 1);
                }
            }
            out.push_str(close);
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, key) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key, depth + 1);
                    out.push_str(": ");
                    let value = v.get_item(&key).unwrap_or_default();
                    write_repr(out, &value, depth + 1);
                }
            }
            out.push('}');
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// A number as Python prints it: integers plainly, floats with `repr` (`1.0`, `0.1`,
/// `1e+16`, `inf`).
pub fn py_number(v: &Value) -> String {
    if v.is_integer() {
        return v.to_string();
    }
    match f64::try_from(v.clone()) {
        Ok(f) => py_float(f),
        Err(_) => v.to_string(),
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the
/// exponent is in [-4, 16), else in exponent notation with at least two exponent digits.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.5e16", "-3e-5".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`.
fn py_quote(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Set (as a temp of the render's state) when an undefined value was printed.
pub const PRINTED_UNDEFINED: &str = "__proctor_printed_undefined";

/// The formatter: `{{ x }}` prints Python's `str(x)`.
///
/// An undefined value prints as nothing and is flagged: Jinja2 prints an `if` without `else`
/// as nothing, but a missing name under `StrictUndefined` is an error, and minijinja tells
/// the two apart only inside its own formatter. The renderer re-renders flagged templates
/// with that formatter to find out which it was.
pub fn format(out: &mut minijinja::Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if value.is_undefined() {
        state.set_temp(PRINTED_UNDEFINED, Value::from(true));
        return Ok(());
    }
    // A string (most of what a template prints) is written as it is, not copied first.
    if value.kind() == ValueKind::String {
        return out
            .write_str(value.as_str().unwrap_or_default())
            .map_err(Error::from);
    }
    out.write_str(&py_str(value)).map_err(Error::from)
}

/// Python Jinja2's `truncate(s, length=255, killwords=False, end='...', leeway=None)`, with
/// the default leeway of 5.
pub fn truncate(
    value: &Value,
    length: Option<usize>,
    killwords: Option<bool>,
    end: Option<String>,
    leeway: Option<usize>,
) -> Result<String, Error> {
    let s = py_str(value);
    let length = length.unwrap_or(255);
    let killwords = killwords.unwrap_or(false);
    let end = end.unwrap_or_else(|| "...".to_string());
    let leeway = leeway.unwrap_or(5);
    let chars: Vec<char> = s.chars().collect();
    let end_len = end.chars().count();
    if length < end_len {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("expected length >= {end_len}, got {length}"),
        ));
    }
    if chars.len() <= length + leeway {
        return Ok(s);
    }
    let head: String = chars[..length - end_len].iter().collect();
    if killwords {
        return Ok(head + &end);
    }
    // Python: s[:length - len(end)].rsplit(" ", 1)[0]
    let kept = match head.rfind(' ') {
        Some(i) => head[..i].to_string(),
        None => head,
    };
    Ok(kept + &end)
}

/// Python Jinja2's `tojson`: `json.dumps(value, sort_keys=True)` with HTML-safe escapes of
/// `<`, `>`, `&` and `'`, marked safe. `indent` as in Python.
pub fn tojson(value: &Value, indent: Option<usize>) -> Result<Value, Error> {
    let mut out = String::new();
    write_json(&mut out, value, indent, 0)?;
    let safe = out
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027");
    Ok(Value::from_safe_string(safe))
}

fn write_json(
    out: &mut String,
    v: &Value,
    indent: Option<usize>,
    level: usize,
) -> Result<(), Error> {
    if level > 128 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "value nested too deeply for tojson",
        ));
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    let item_sep = if indent.is_some() { "," } else { ", " };
    match v.kind() {
        ValueKind::Undefined => {
            return Err(Error::new(
                ErrorKind::UndefinedError,
                "tojson of an undefined value",
            ));
        }
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            let n = py_number(v);
            out.push_str(match n.as_str() {
                "nan" => "NaN",
                "inf" => "Infinity",
                "-inf" => "-Infinity",
                _ => &n,
            });
        }
        ValueKind::String => json_string(out, v.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = v.try_iter()?.collect();
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, level + 1);
                write_json(out, item, indent, level + 1)?;
            }
            if !items.is_empty() {
                newline(out, level);
            }
            out.push(']');
        }
        ValueKind::Map => {
            let mut keys: Vec<(String, Value)> = v.try_iter()?.map(|k| (py_str(&k), k)).collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (name, key)) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, level + 1);
                json_string(out, name);
                out.push_str(": ");
                write_json(out, &v.get_item(key)?, indent, level + 1)?;
            }
            if !keys.is_empty() {
                newline(out, level);
            }
            out.push('}');
        }
        _ => json_string(out, &v.to_string()),
    }
    Ok(())
}

/// A JSON string with `ensure_ascii`: non-ASCII as `\uXXXX` (surrogate pairs above the BMP).
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `string` filter: `str(value)`.
pub fn string(value: &Value) -> Value {
    if value.is_safe() {
        return value.clone();
    }
    Value::from(py_str(value))
}

/// Python's `join(value, d='')`: `str()` of each item.
pub fn join(value: &Value, sep: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let sep = sep.unwrap_or_default();
    let mut parts = Vec::new();
    for item in value.try_iter()? {
        let item = match &attribute {
            Some(a) => item.get_attr(a)?,
            None => item,
        };
        parts.push(py_str(&item));
    }
    Ok(parts.join(&sep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (1000.0, "1000.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"),
            (-2.5, "-2.5"),
            (f64::INFINITY, "inf"),
        ];
        for (f, want) in cases {
            assert_eq!(py_float(f), want, "{f}");
        }
    }

    #[test]
    fn truncate_matches_python() {
        let s = Value::from("The quick brown fox jumps over the lazy dog");
        assert_eq!(
            truncate(&s, Some(29), Some(true), Some("zzz".into()), Some(0)).unwrap(),
            "The quick brown fox jumps zzz"
        );
        assert_eq!(
            truncate(&s, Some(20), None, None, None).unwrap(),
            "The quick brown..."
        );
        assert_eq!(
            truncate(&Value::from("short"), Some(3), None, Some("".into()), None).unwrap(),
            "short"
        );
    }

    #[test]
    fn repr_and_json() {
        let v = Value::from(minijinja::value::Serde(
            serde_json::json!({"b": [1, "x'y", null, true], "a": 1.0}),
        ));
        assert_eq!(py_str(&v), "{'b': [1, \"x'y\", None, True], 'a': 1.0}");
        assert_eq!(
            tojson(&v, None).unwrap().to_string(),
            "{\"a\": 1.0, \"b\": [1, \"x\\u0027y\", null, true]}"
        );
    }
}
