//! Where things are, as the protocol counts: byte offsets to and from LSP positions (0-based
//! lines; columns in UTF-16 code units, the encoding every client supports), and `file:` URIs
//! to and from paths.

use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

use lsp_types::{Position, Uri};
use proctor_core::source::{SourceFile, line_starts};

/// A text's line starts, to turn byte offsets into positions and back. Line breaks are LF,
/// CRLF and a lone CR, as the protocol and proctor's sources both count them: an editor's
/// buffer is read as a `SourceFile`, and a diagnostic's source already is one.
pub struct Lines<'a> {
    text: &'a str,
    starts: Cow<'a, [usize]>,
}

impl<'a> Lines<'a> {
    /// The lines of a source file, from the line starts it already holds.
    pub fn of(source: &'a SourceFile) -> Self {
        Lines {
            text: source.text(),
            starts: Cow::Borrowed(source.line_starts()),
        }
    }

    /// The lines of an editor's buffer.
    pub fn new(text: &'a str) -> Self {
        Lines {
            text,
            starts: Cow::Owned(line_starts(text)),
        }
    }

    /// The position of a byte offset (clamped to the text and to a character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let col: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(col))
    }

    pub fn range(&self, span: &Range<usize>) -> lsp_types::Range {
        lsp_types::Range::new(self.position(span.start), self.position(span.end))
    }

    /// The byte offset of a position. A column past the end of its line is the line's end; a
    /// line past the end is the text's end.
    pub fn offset(&self, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let mut units = 0usize;
        for (i, c) in rest[..end].char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + end
    }

    /// The 0-based line of a byte offset, and the line's text (without its break).
    pub fn line_of(&self, offset: usize) -> (usize, &'a str) {
        let line = self.position(offset).line as usize;
        (line, self.line(line))
    }

    /// A 0-based line's text, without its break ("" past the end).
    pub fn line(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line) else {
            return "";
        };
        let rest = &self.text[start..];
        &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())]
    }

    /// The byte offset where a 0-based line starts.
    pub fn start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.text.len())
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The path of a `file:` URI (percent-decoded); `None` for other schemes.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file:///p` or `file://localhost/p`.
    let path = match rest.strip_prefix("localhost") {
        Some(p) if p.starts_with('/') => p,
        _ => rest,
    };
    if !path.starts_with('/') {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = bytes.get(i + 1..i + 3)
            && let Ok(h) = std::str::from_utf8(h)
            && let Ok(b) = u8::from_str_radix(h, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let decoded = String::from_utf8(out).ok()?;
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path, percent-encoding what a URI path cannot hold.
pub fn uri_of(path: &Path) -> Option<Uri> {
    let s = path.to_str()?;
    let mut out = String::from("file://");
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_every_line_break() {
        // 'é' is one UTF-16 unit and two bytes; '𝄞' is two units and four bytes.
        let text = "a: é𝄞x\r\nb\rc\n";
        let source = SourceFile::new("t", "t", text.to_string());
        let lines = Lines::of(&source);
        let x = text.find('x').unwrap();
        assert_eq!(lines.position(x), Position::new(0, 6));
        assert_eq!(lines.offset(Position::new(0, 6)), x);
        assert_eq!(lines.position(text.find('b').unwrap()), Position::new(1, 0));
        assert_eq!(lines.position(text.find('c').unwrap()), Position::new(2, 0));
        assert_eq!(lines.offset(Position::new(0, 99)), text.find('\r').unwrap());
        assert_eq!(lines.offset(Position::new(9, 0)), text.len());
        assert_eq!(lines.line(1), "b");
    }

    #[test]
    fn file_uris_round_trip_with_spaces_and_unicode() {
        let p = Path::new("/work/my specs/café#1.yaml");
        let uri = uri_of(p).unwrap();
        assert_eq!(uri.as_str(), "file:///work/my%20specs/caf%C3%A9%231.yaml");
        assert_eq!(path_of(&uri).unwrap(), p);
        let local: Uri = "file://localhost/a/b.yaml".parse().unwrap();
        assert_eq!(path_of(&local).unwrap(), Path::new("/a/b.yaml"));
        let other: Uri = "untitled:Untitled-1".parse().unwrap();
        assert_eq!(path_of(&other), None);
    }
}
