//! Source files and byte spans. Every location proctor reports is a byte range into a
//! [`SourceFile`]; lines and columns are computed only at the edges (reporters).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One file's text, under the name users see (relative to the workspace root, or as given).
pub struct SourceFile {
    name: String,
    path: PathBuf,
    text: String,
    /// Byte offset of the start of each line: worked out the first time a location in the
    /// file is shown (most files read in a run, 10,000 specs of a warm run among them, never
    /// are).
    line_starts: std::sync::OnceLock<Vec<usize>>,
    /// The text with each lone CR (a line break of its own) written as LF, for reporters that
    /// only know LF; the same length, so spans stay valid. `None` when there is no lone CR.
    /// Worked out when first shown, as `line_starts` (most texts never are: a cold run reads
    /// every rendered template once more for it).
    display: std::sync::OnceLock<Option<String>>,
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .finish()
    }
}

/// A shared handle to a source file; cheap to clone and safe to send between threads.
pub type Source = Arc<SourceFile>;

impl SourceFile {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, text: String) -> Source {
        Arc::new(SourceFile {
            display: std::sync::OnceLock::new(),
            name: name.into(),
            path: path.into(),
            text,
            line_starts: std::sync::OnceLock::new(),
        })
    }

    /// The name shown to users.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the file is on disk (for reading siblings), not for display.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte offset where each line starts (the first is 0). Line breaks are LF, CRLF
    /// and a lone CR.
    pub fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// The text as reporters show it: lone CRs written as LF (same length, same spans).
    pub fn display_text(&self) -> &str {
        let display = self.display.get_or_init(|| lone_crs_as_lf(&self.text));
        display.as_deref().unwrap_or(&self.text)
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let starts = self.line_starts();
        let line = match starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = starts[line];
        let col = self.text[start..offset].chars().count();
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and a 0-based character column.
    pub fn offset_of(&self, line: usize, col_chars: usize) -> usize {
        let Some(&start) = self.line_starts().get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let stop = rest.find(['\n', '\r']).unwrap_or(rest.len());
        rest[..stop]
            .char_indices()
            .nth(col_chars)
            .map_or(start + stop, |(i, _)| start + i)
    }

    /// The byte range of 0-based lines `first..=last` (clamped), with their line breaks.
    pub fn lines_range(&self, first: usize, last: usize) -> Range<usize> {
        let starts = self.line_starts();
        let n = starts.len();
        let start = starts[first.min(n - 1)];
        let end = starts
            .get(last.saturating_add(1))
            .copied()
            .unwrap_or(self.text.len());
        start..end.max(start)
    }

    /// The nearest char boundary at or before `offset`, within the text.
    pub fn clamp(&self, offset: usize) -> usize {
        let mut o = offset.min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o
    }

    pub fn slice(&self, span: &Range<usize>) -> &str {
        let start = self.clamp(span.start);
        let end = self.clamp(span.end.max(start));
        &self.text[start..end]
    }
}

/// `text` with each lone CR written as LF; `None` when it has none.
fn lone_crs_as_lf(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let lone_cr = text.contains('\r')
        && bytes
            .iter()
            .enumerate()
            .any(|(i, b)| *b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    lone_cr.then(|| {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            out.push(if c == '\r' && chars.peek() != Some(&'\n') {
                '\n'
            } else {
                c
            });
        }
        out
    })
}

/// The byte offset where each line of `text` starts (the first is 0). A lone CR ends a line
/// too (YAML, and the language server protocol, treat it as a break); CRLF is one break.
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
            _ => {}
        }
    }
    starts
}

/// A byte range in one source file.
#[derive(Clone, Debug)]
pub struct Located {
    pub source: Source,
    pub span: Range<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_all_line_breaks() {
        let f = SourceFile::new("a", "a", "ab\r\nçd\re\nf".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 1));
        // 'd' comes after a two-byte 'ç': byte 6, column 2.
        assert_eq!(f.line_col(6), (2, 2));
        assert_eq!(f.line_col(8), (3, 1));
        assert_eq!(f.line_col(10), (4, 1));
        assert_eq!(f.offset_of(2, 1), 6);
        assert_eq!(f.line_col(999), (4, 2));
    }

    #[test]
    fn digests_are_lower_case_hex() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

/// A value with where it was written (in proctor.toml, a spec...).
#[derive(Clone, Debug)]
pub struct At<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> At<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        At { value, span }
    }
}

/// The SHA-256 of some bytes, in lowercase hex (build records, the inputs a check read).
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Bytes in lower-case hexadecimal (a digest as shown): a table look-up per half byte, since
/// formatting each byte cost a warm run on 10,000 specs more than hashing them did.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
