//! Where the cursor is in a YAML file that may be half-typed: the keys above it, by
//! indentation, and whether it is on a key or a value. A parser would give up on the text an
//! editor holds between two keystrokes; indentation is there all along.

use crate::text::Lines;

/// The cursor's place in a YAML mapping.
#[derive(Debug, PartialEq, Eq)]
pub struct Place {
    /// The keys of the enclosing mappings, outermost first; `-` for a sequence item.
    pub parents: Vec<String>,
    /// The key on the cursor's line, when the line has one (`port` in `port: 80`).
    pub key: Option<String>,
    /// The key's byte range in the text.
    pub key_span: Option<std::ops::Range<usize>>,
    /// Whether the cursor is after the key's colon (on the value).
    pub on_value: bool,
    /// What is typed of the word at the cursor, before it.
    pub prefix: String,
}

/// The indentation of a line's content: a `- ` item marker counts as indentation of the
/// item's first key.
fn content(line: &str) -> (usize, &str) {
    let trimmed = line.trim_start();
    let mut indent = line.len() - trimmed.len();
    let mut rest = trimmed;
    while let Some(r) = rest.strip_prefix("- ") {
        let r2 = r.trim_start();
        indent += rest.len() - r2.len();
        rest = r2;
    }
    (indent, rest)
}

/// The key a line's content starts with (`port` in `port: 80`, `"a b"` unquoted).
fn key_of(content: &str) -> Option<&str> {
    if content.starts_with('#') {
        return None;
    }
    let colon = content
        .find(": ")
        .or_else(|| content.strip_suffix(':').map(str::len))?;
    let key = content[..colon].trim().trim_matches(['"', '\'']);
    (!key.is_empty() && !key.contains(['{', '[', '#'])).then_some(key)
}

/// The cursor's place at byte `offset`.
pub fn place(text: &str, offset: usize) -> Place {
    let lines = Lines::new(text);
    let (line_no, line) = lines.line_of(offset);
    let line_start = lines.start(line_no);
    let col = offset.saturating_sub(line_start).min(line.len());
    let before = line.get(..col).unwrap_or(line);
    let (indent, rest) = content(line);
    let blank = rest.trim().is_empty();
    let cursor_indent = if blank { col } else { indent };
    let key = if blank { None } else { key_of(rest) };
    let key_span = key.and_then(|k| {
        let at = line.find(k)?;
        Some(line_start + at..line_start + at + k.len())
    });
    let on_value = key.is_some() && before.trim_start().contains(':');
    let prefix: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    // Parents: walking up, each line indented less than the current level.
    let mut parents = Vec::new();
    let mut level = cursor_indent;
    // An item marker on the cursor's own line puts the cursor inside a sequence item.
    let own = line.trim_start();
    if own.starts_with("- ") || own == "-" {
        parents.push("-".to_string());
        level = line.len() - own.len();
    }
    for n in (0..line_no).rev() {
        let l = lines.line(n);
        let (ind, c) = content(l);
        if c.trim().is_empty() || c.starts_with('#') {
            continue;
        }
        let dash = l.trim_start().starts_with("- ");
        let dash_at = l.len() - l.trim_start().len();
        if ind < level {
            if let Some(k) = key_of(c) {
                parents.push(k.to_string());
            }
            if dash {
                parents.push("-".to_string());
                level = dash_at;
            } else {
                level = ind;
            }
        } else if dash && dash_at < level {
            parents.push("-".to_string());
            level = dash_at;
        }
        if level == 0 {
            break;
        }
    }
    parents.reverse();
    Place {
        parents,
        key: key.map(str::to_string),
        key_span,
        on_value,
        prefix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "proton: ServiceSpec\ninstances:\n  - name: api\n    environment: dev\n    spec:\n      port: 80\n      \npipeline:\n  x: 1\n";

    fn at(text: &str, line: usize, col: usize) -> Place {
        let lines = Lines::new(text);
        place(
            text,
            lines.offset(lsp_types::Position::new(line as u32, col as u32)),
        )
    }

    #[test]
    fn keys_in_an_instance_spec() {
        let p = at(SPEC, 5, 8);
        assert_eq!(p.parents, ["instances", "-", "spec"]);
        assert_eq!(p.key.as_deref(), Some("port"));
        assert!(!p.on_value);
        assert_eq!(p.prefix, "po");
        let v = at(SPEC, 5, 12);
        assert!(v.on_value);
    }

    #[test]
    fn a_blank_line_in_a_mapping() {
        let p = at(SPEC, 6, 6);
        assert_eq!(p.parents, ["instances", "-", "spec"]);
        assert_eq!(p.key, None);
        let item = at(SPEC, 3, 4);
        assert_eq!(item.parents, ["instances", "-"]);
        assert_eq!(item.key.as_deref(), Some("environment"));
        let top = at(SPEC, 8, 2);
        assert_eq!(top.parents, ["pipeline"]);
    }

    #[test]
    fn the_first_key_of_an_item() {
        let p = at(SPEC, 2, 5);
        assert_eq!(p.parents, ["instances", "-"]);
        assert_eq!(p.key.as_deref(), Some("name"));
    }

    #[test]
    fn half_typed_text() {
        let text = "proton: EnvironmentSpec\nspec:\n  vpc_ci";
        let p = at(text, 2, 8);
        assert_eq!(p.parents, ["spec"]);
        assert_eq!(p.prefix, "vpc_ci");
        assert_eq!(p.key, None);
    }
}
