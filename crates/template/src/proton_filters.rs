//! Proton's own filters, as proton-format.md §3 describes them. The multi-line ones indent
//! their continuation lines to the column where their output starts in the rendered line; a
//! filter cannot know that column, so it marks its output and [`indent_markers`] fixes the
//! indentation after rendering.

use std::sync::LazyLock;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Error, ErrorKind, Value};
use regex::Regex;

use super::python::py_str;

/// Marks where a multi-line filter's output starts (private-use characters: they cannot
/// appear in a template or input by accident in practice).
pub const START: char = '\u{F8F0}';
/// Marks each continuation line of a multi-line filter's output.
pub const CONT: char = '\u{F8F1}';

// Constant patterns: `expect` cannot fail on any input.
#[allow(clippy::expect_used)]
static SAFE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_-]*$").expect("valid regex"));
#[allow(clippy::expect_used)]
static ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}|aws)?:[^\s]+$")
        .expect("valid regex")
});
#[allow(clippy::expect_used)]
static POLICY_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:[a-z0-9-]+:iam::[0-9]{12}:policy/.+$").expect("valid regex")
});

fn illegal(filter: &str, value: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!(
            "{filter}: `{value}` contains illegal characters (allowed: letters, digits, `_` and `-`)"
        ),
    )
}

pub fn sanitize(value: &Value) -> Result<Value, Error> {
    let s = py_str(value);
    if SAFE.is_match(&s) || ARN.is_match(&s) {
        Ok(Value::from(s))
    } else {
        Err(illegal("proton_cfn_sanitize", &s))
    }
}

fn entries(filter: &str, value: &Value) -> Result<Vec<(String, String)>, Error> {
    if value.kind() != ValueKind::Map {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{filter} expects a mapping, got {}", value.kind()),
        ));
    }
    let mut out = Vec::new();
    for key in value.try_iter()? {
        let v = value.get_item(&key)?;
        out.push((py_str(&key), py_str(&v)));
    }
    Ok(out)
}

fn raw_flag(raw: Option<bool>, kwargs: &Kwargs) -> Result<bool, Error> {
    let kw: Option<bool> = kwargs.get("raw")?;
    kwargs.assert_all_used()?;
    Ok(kw.or(raw).unwrap_or(true))
}

/// Joins lines with the markers that [`indent_markers`] turns into indentation.
fn marked(lines: Vec<String>) -> Value {
    if lines.is_empty() {
        return Value::from("");
    }
    let mut out = String::new();
    out.push(START);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push(CONT);
        }
        out.push_str(line);
    }
    Value::from_safe_string(out)
}

pub fn ecs_env_vars(value: &Value, raw: Option<bool>, kwargs: Kwargs) -> Result<Value, Error> {
    const NAME: &str = "proton_cfn_ecs_task_definition_formatted_env_vars";
    let raw = raw_flag(raw, &kwargs)?;
    let mut lines = Vec::new();
    for (k, v) in entries(NAME, value)? {
        if !raw && !SAFE.is_match(&v) {
            return Err(illegal(NAME, &v));
        }
        lines.push(format!("- Name: {k}"));
        lines.push(format!("  Value: {v}"));
    }
    Ok(marked(lines))
}

pub fn lambda_env_vars(value: &Value, raw: Option<bool>, kwargs: Kwargs) -> Result<Value, Error> {
    const NAME: &str = "proton_cfn_lambda_function_formatted_env_vars";
    let raw = raw_flag(raw, &kwargs)?;
    let mut lines = Vec::new();
    for (k, v) in entries(NAME, value)? {
        if !raw && !SAFE.is_match(&v) {
            return Err(illegal(NAME, &v));
        }
        lines.push(format!("{k}: {v}"));
    }
    Ok(marked(lines))
}

pub fn iam_policy_arns(value: &Value) -> Result<Value, Error> {
    let lines = entries("proton_cfn_iam_policy_arns", value)?
        .into_iter()
        .filter(|(_, v)| POLICY_ARN.is_match(v))
        .map(|(_, v)| format!("- {v}"))
        .collect();
    Ok(marked(lines))
}

/// Replaces the markers: each continuation line is indented by the column (in characters)
/// at which its filter output started.
pub fn indent_markers(rendered: String) -> String {
    if has_markers(&rendered) {
        replace_markers(&rendered).0
    } else {
        rendered
    }
}

/// Whether a render has markers. Both markers are three bytes in UTF-8 with the same first
/// byte, which a render (mostly ASCII) seldom holds: one `memchr` for it, not a search that
/// decodes characters.
fn has_markers(rendered: &str) -> bool {
    const fn utf8(c: char) -> [u8; 3] {
        let mut b = [0; 3];
        c.encode_utf8(&mut b);
        b
    }
    const START_UTF8: [u8; 3] = utf8(START);
    const CONT_UTF8: [u8; 3] = utf8(CONT);
    const _: () = assert!(START_UTF8[0] == CONT_UTF8[0]);
    let bytes = rendered.as_bytes();
    memchr::memchr_iter(START_UTF8[0], bytes).any(|i| {
        let next = bytes.get(i..i + 3);
        next == Some(&START_UTF8[..]) || next == Some(&CONT_UTF8[..])
    })
}

/// Like [`indent_markers`], also returning `(new offset, old offset)` checkpoints after every
/// marker, so that offsets in the result can be mapped back to the raw render.
pub fn indent_markers_mapped(rendered: &str) -> (String, Vec<(usize, usize)>) {
    if !has_markers(rendered) {
        return (rendered.to_string(), Vec::new());
    }
    replace_markers(rendered)
}

/// [`indent_markers_mapped`] of a render known to have markers.
fn replace_markers(rendered: &str) -> (String, Vec<(usize, usize)>) {
    let mut out = String::with_capacity(rendered.len());
    let mut shifts = Vec::new();
    let mut indent = 0usize;
    let mut column = 0usize;
    for (old, c) in rendered.char_indices() {
        match c {
            START => {
                indent = column;
                shifts.push((out.len(), old + c.len_utf8()));
            }
            CONT => {
                out.extend(std::iter::repeat_n(' ', indent));
                column += indent;
                shifts.push((out.len(), old + c.len_utf8()));
            }
            '\n' => {
                out.push(c);
                column = 0;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    (out, shifts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_follow_the_starting_column() {
        let text =
            format!("  Environment:\n    {START}- Name: A\n{CONT}  Value: 1\n{CONT}- Name: B\n");
        assert_eq!(
            indent_markers(text),
            "  Environment:\n    - Name: A\n      Value: 1\n    - Name: B\n"
        );
    }

    #[test]
    fn markers_are_told_from_characters_that_share_their_first_byte() {
        for marked in [
            format!("a{START}b"),
            format!("a\n{CONT}"),
            format!("\u{FEFF}x{CONT}"),
        ] {
            assert!(has_markers(&marked), "{marked:?}");
        }
        // U+F8F2 and U+FEFF start with the markers' first byte; U+E8F0 and U+F8EF differ
        // from a marker in one byte.
        for plain in ["", "plain: yes\n", "\u{F8F2}\u{FEFF}\u{E8F0}", "é\u{F8EF}"] {
            assert!(!has_markers(plain), "{plain:?}");
        }
    }
}
