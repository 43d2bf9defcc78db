//! YAML, written by hand for the example spec: block style, with strings quoted only where a
//! YAML reader would read them as something else.

use serde_json::{Map, Value as Json};

use crate::yaml;

/// A JSON value as a block YAML document.
pub(super) fn to_yaml(value: &Json) -> String {
    let mut out = String::new();
    match value {
        Json::Object(m) if !m.is_empty() => write_map(&mut out, m, 0, false),
        Json::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        _ => {
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
    out
}

/// Writes a mapping's entries at `indent`; `inline_first`: the cursor is already where the
/// first key goes (after a `- `).
pub(super) fn write_map(
    out: &mut String,
    m: &Map<String, Json>,
    indent: usize,
    inline_first: bool,
) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline_first {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&yaml_string(k));
        out.push(':');
        write_after(out, v, indent);
    }
}

pub(super) fn write_seq(out: &mut String, a: &[Json], indent: usize) {
    for v in a {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match v {
            Json::Object(m) if !m.is_empty() => {
                out.push(' ');
                write_map(out, m, indent + 2, true);
            }
            _ => write_after(out, v, indent),
        }
    }
}

/// Writes a value after `key:` or `-`, whose line is indented by `indent`.
pub(super) fn write_after(out: &mut String, v: &Json, indent: usize) {
    match v {
        Json::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2, false);
        }
        Json::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent + 2);
        }
        _ => {
            out.push(' ');
            out.push_str(&inline(v));
            out.push('\n');
        }
    }
}

/// A value on one line, as YAML (flow style for lists and mappings).
pub(super) fn inline(v: &Json) -> String {
    match v {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => number(n),
        Json::String(s) => yaml_string(s),
        Json::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        Json::Object(m) => {
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", flow(&Json::String(k.clone())), flow(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// A value inside a flow collection, where `,[]{}` end a plain scalar too.
pub(super) fn flow(v: &Json) -> String {
    match v {
        Json::String(s) if s.contains([',', '[', ']', '{', '}']) => quoted(s),
        _ => inline(v),
    }
}

/// A number that reads back as the same JSON number: a float keeps its `.0`.
pub(super) fn number(n: &serde_json::Number) -> String {
    if n.is_f64()
        && let Some(f) = n.as_f64()
    {
        let s = yaml::format_float(f);
        return if s.contains(['.', 'e', 'E', 'n', 'i']) {
            s
        } else {
            format!("{s}.0")
        };
    }
    n.to_string()
}

/// A string as a YAML scalar: plain when every YAML reader (1.1 or 1.2) reads it back as this
/// string, double-quoted otherwise.
pub(super) fn yaml_string(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// JSON's string escapes are all valid in a YAML double-quoted scalar.
pub(super) fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
}

pub(super) fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    // YAML 1.2 reads these as null, booleans or numbers.
    if !matches!(yaml::resolve_plain(s), yaml::Value::String(_)) {
        return false;
    }
    // YAML 1.1 booleans (`y`/`n` included: some readers still take them), merge and value keys.
    let yaml11_words = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", "<<", "=",
    ];
    if yaml11_words.contains(&s) {
        return false;
    }
    // YAML 1.1 numbers: octal `0644`, `1_000`, base 60 `1:30`, `0b101`, `.5`. Anything
    // number-like is quoted, which costs nothing.
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let number_like = body
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.')
        && body
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "_:.+-xXoObB".contains(c));
    if number_like {
        return false;
    }
    // Indicators that start something else, and text that would end or split the scalar.
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || s.starts_with("...") {
        return false;
    }
    if first.is_whitespace()
        || s.ends_with(char::is_whitespace)
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains('#')
    {
        return false;
    }
    !s.chars()
        .any(|c| c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'))
}
