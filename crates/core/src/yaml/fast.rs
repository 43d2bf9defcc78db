//! A fast reader for the YAML that CloudFormation templates and specs are written in: block
//! mappings and sequences, one-line plain and quoted scalars, block scalars, flow collections
//! and local tags (`!Ref`), in ASCII text.
//!
//! It builds the tree itself, exactly the tree (spans, tags, findings) that
//! [`super::Builder`] builds of saphyr-parser's events for the same text, several times
//! faster (rendered templates are most of what a check reads). On anything else (anchors,
//! aliases, multi-line plain or quoted scalars, explicit keys, directives, tabs, non-ASCII
//! text, nesting past [`super::ParseOptions::max_depth`], and every error) it gives up and
//! [`super::parse`] reads the text with saphyr-parser, which also reports any error. So it
//! never decides what a document means on its own: the tests compare the two on every YAML
//! file of the fixtures and corpora, and on mutations of them.
//!
//! Spans are saphyr's: a scalar's and a collection's start where saphyr's events put them, a
//! flow collection's end at its closing bracket (and the spaces and comment after it), a
//! block collection's at the end of its last entry, as [`super::Builder`] makes them.

use std::borrow::Cow;

use super::{Cx, Node, Value};

/// The tree of `text`, or `None` when the text is outside what this reader knows (what it
/// reported before giving up is the caller's to drop).
pub(super) fn read(text: &str, cx: &mut Cx<'_>) -> Option<Node> {
    let bytes = text.as_bytes();
    if !printable_ascii(bytes) {
        return None;
    }
    let mut r = Reader {
        s: text,
        b: bytes,
        pos: 0,
        depth: 0,
        max_depth: cx.opts.max_depth.min(MAX_DEPTH),
        cx,
    };
    r.document()
}

/// Whether `bytes` are all printable ASCII or line feeds. Chunks are tested whole, without
/// stopping at the first byte (which lets the compiler test many bytes at once).
fn printable_ascii(bytes: &[u8]) -> bool {
    bytes.chunks(64).all(|chunk| {
        chunk.iter().fold(true, |ok, &b| {
            ok & (((0x20..0x7f).contains(&b)) | (b == b'\n'))
        })
    })
}

/// A tag read before a node: the tag as written (`!Ref`) and where it starts.
type Tagged = Option<(Box<str>, usize)>;

struct Reader<'a, 'c, 'x> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Collections open: the reader recurses into each, so it gives up past `max_depth`.
    depth: usize,
    /// [`MAX_DEPTH`], or the options' limit when lower: saphyr's reading reports that one.
    max_depth: usize,
    cx: &'c mut Cx<'x>,
}

/// The deepest nesting this reader follows; saphyr-parser reads deeper documents (and
/// [`super::ParseOptions::max_depth`] bounds them).
const MAX_DEPTH: usize = 64;

/// What the node after an indicator belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Parent {
    /// The value of a key in a block mapping whose keys are at this column.
    Map(usize),
    /// An entry of a block sequence whose dashes are at this column.
    Seq(usize),
    /// The document's root.
    Root,
}

impl Parent {
    /// Lines of this node must be indented more than this (`None`: any indentation).
    fn indent(self) -> Option<usize> {
        match self {
            Parent::Map(n) | Parent::Seq(n) => Some(n),
            Parent::Root => None,
        }
    }
}

fn deeper(indent: usize, than: Option<usize>) -> bool {
    than.is_none_or(|n| indent > n)
}

impl Reader<'_, '_, '_> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    /// Enters a collection; `None` past the depth this reader follows.
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= self.max_depth).then_some(())
    }

    /// A collection's node, from `start` to `end`, one level less deep.
    fn close(&mut self, start: usize, end: usize, tag: Option<Box<str>>, value: Value) -> Node {
        self.depth -= 1;
        super::collection(start, end, tag, value)
    }

    /// A plain scalar from `start` to `end`, tagged or not.
    fn plain(&mut self, start: usize, end: usize, tag: Tagged) -> Node {
        let (tag, span_start) = split(tag, start);
        self.cx
            .scalar(&self.s[start..end], true, tag, span_start..end)
    }

    fn line_end(&self, from: usize) -> usize {
        self.b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |i| from + i)
    }

    /// Whether `i` is a space, a line break or the end of the text.
    fn blank_or_end(&self, i: usize) -> bool {
        matches!(self.at(i), b' ' | b'\n' | 0)
    }

    /// Where the spaces from `i` end.
    fn skip_spaces(&self, mut i: usize) -> usize {
        while self.at(i) == b' ' {
            i += 1;
        }
        i
    }

    /// Whether a block sequence entry's dash is at `i`.
    fn dash_at(&self, i: usize) -> bool {
        self.at(i) == b'-' && self.blank_or_end(i + 1)
    }

    /// Skips spaces and a comment to the end of the line, then past the line break. `None`
    /// when something else is on the line.
    fn end_line(&mut self) -> Option<()> {
        self.pos = self.skip_spaces(self.pos);
        match self.peek() {
            0 => Some(()),
            b'\n' => {
                self.pos += 1;
                Some(())
            }
            b'#' if self.pos > 0 && matches!(self.at(self.pos - 1), b' ' | b'\n') => {
                self.pos = self.line_end(self.pos);
                if self.pos < self.b.len() {
                    self.pos += 1;
                }
                Some(())
            }
            _ => None,
        }
    }

    /// The first line with content from the line start `from`, skipping blank and comment
    /// lines: its start and its indentation. `None` at the end of the text.
    fn content_line(&self, from: usize) -> Option<(usize, usize)> {
        let mut start = from;
        while start < self.b.len() {
            let i = self.skip_spaces(start);
            match self.at(i) {
                b'\n' => start = i + 1,
                0 => return None,
                b'#' => start = self.line_end(i) + 1,
                _ => return Some((start, i - start)),
            }
        }
        None
    }

    /// [`Reader::content_line`] from `self.pos`; gives up (`Err`) on a document marker.
    fn next_line(&self) -> Result<Option<(usize, usize)>, ()> {
        match self.content_line(self.pos) {
            Some((start, 0)) if self.document_marker(start) => Err(()),
            next => Ok(next),
        }
    }

    fn document_marker(&self, i: usize) -> bool {
        (self.b[i..].starts_with(b"---") || self.b[i..].starts_with(b"..."))
            && self.blank_or_end(i + 3)
    }

    fn document(&mut self) -> Option<Node> {
        // Blank and comment lines, then an optional `---`.
        let (start, _) = self.content_line(0)?;
        self.pos = start;
        if self.b[start..].starts_with(b"---") && self.blank_or_end(start + 3) {
            self.pos = start + 3;
            self.end_line()?;
        } else if matches!(self.at(start), b'%') {
            return None;
        }
        let (line, indent) = self.next_line().ok()??;
        let root = self.block_node_on_line(line, indent, Parent::Root, None)?;
        if self.next_line().ok()?.is_some() {
            return None;
        }
        Some(root)
    }

    /// A node that starts on a line of its own (at `line + indent`): a block collection,
    /// maybe tagged on the line before.
    fn block_node_on_line(
        &mut self,
        line: usize,
        indent: usize,
        parent: Parent,
        tag: Tagged,
    ) -> Option<Node> {
        let at = line + indent;
        self.pos = at;
        if self.dash_at(at) {
            return self.block_sequence(indent, at, tag, false);
        }
        if tag.is_none() && matches!(self.peek(), b'[' | b'{') && parent == Parent::Root {
            let node = self.flow(None, None)?;
            self.end_line()?;
            return Some(node);
        }
        if self.key_ahead(at) {
            return self.block_mapping(indent, at, tag);
        }
        None
    }

    /// Whether a block mapping's key starts at `i`: a one-line scalar followed by `:` and a
    /// space or the line's end.
    fn key_ahead(&self, i: usize) -> bool {
        match self.at(i) {
            b'"' | b'\'' => self
                .quoted_end(i)
                .is_some_and(|end| self.at(end) == b':' && self.blank_or_end(end + 1)),
            c if plain_start(c, self.at(i + 1)) => self.plain_block_end(i).1,
            _ => false,
        }
    }

    fn block_mapping(&mut self, indent: usize, first: usize, tag: Tagged) -> Option<Node> {
        self.enter()?;
        let (tag, start) = split(tag, first);
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut seen = None;
        self.pos = first;
        loop {
            // A key at `self.pos`, at column `indent`.
            let (key, colon) = match self.peek() {
                b'"' | b'\'' => {
                    let (key, end) = self.quoted(None)?;
                    (self.at(end) == b':' && self.blank_or_end(end + 1)).then_some((key, end))?
                }
                c if plain_start(c, self.at(self.pos + 1)) => {
                    let (end, is_key) = self.plain_block_end(self.pos);
                    if !is_key {
                        return None;
                    }
                    let key = self.plain(self.pos, end, None);
                    self.pos = end;
                    (key, end)
                }
                _ => return None,
            };
            self.cx.key(&entries, &mut seen, &key);
            self.pos = colon + 1;
            let value = self.node_after_indicator(Parent::Map(indent), colon)?;
            entries.push((key, value));
            match self.next_line().ok()? {
                Some((line, i)) if i == indent => {
                    self.pos = line + i;
                    if self.dash_at(self.pos) {
                        return None;
                    }
                }
                Some((_, i)) if i > indent => return None,
                _ => break,
            }
        }
        let end = entries.last().map_or(start, |(_, v)| v.span.end);
        Some(self.close(start, end, tag, Value::Map(entries)))
    }

    /// A block sequence whose dashes are at column `indent`, the first at `first`. An
    /// indentless one (the value of a key at the same column) ends at its mapping's next key.
    fn block_sequence(
        &mut self,
        indent: usize,
        first: usize,
        tag: Tagged,
        indentless: bool,
    ) -> Option<Node> {
        self.enter()?;
        // saphyr starts an indentless sequence at its first entry's token.
        let start = if indentless {
            let i = self.skip_spaces(first + 1);
            if matches!(self.at(i), b'\n' | 0 | b'#') {
                return None;
            }
            i
        } else {
            first
        };
        let (tag, start) = split(tag, start);
        let mut items = Vec::new();
        self.pos = first;
        loop {
            // A dash at `self.pos`, at column `indent`.
            let dash = self.pos;
            self.pos += 1;
            items.push(self.node_after_indicator(Parent::Seq(indent), dash)?);
            match self.next_line().ok()? {
                Some((line, i)) if i == indent => {
                    let at = line + i;
                    if self.dash_at(at) {
                        self.pos = at;
                    } else if indentless {
                        break;
                    } else {
                        return None;
                    }
                }
                Some((_, i)) if i > indent => return None,
                _ => break,
            }
        }
        let end = items.last().map_or(start, |n| n.span.end);
        Some(self.close(start, end, tag, Value::Seq(items)))
    }

    /// The node after a key's `:` or an entry's `-` at `indicator`; `self.pos` is just after
    /// the indicator. Ends at the start of a line (or the end of the text).
    fn node_after_indicator(&mut self, parent: Parent, indicator: usize) -> Option<Node> {
        let spaced = self.peek() == b' ';
        self.pos = self.skip_spaces(self.pos);
        let mut tag: Tagged = None;
        if self.peek() == b'!' {
            if !spaced {
                return None;
            }
            tag = Some(self.tag()?);
            if !self.blank_or_end(self.pos) {
                return None;
            }
            self.pos = self.skip_spaces(self.pos);
        }
        match self.peek() {
            b'\n' | 0 | b'#' => {
                if self.peek() == b'#' && !spaced {
                    return None;
                }
                self.end_line()?;
                self.node_on_next_lines(parent, indicator, tag)
            }
            b'[' | b'{' => {
                let node = self.flow(tag, parent.indent())?;
                self.end_line()?;
                Some(node)
            }
            b'"' | b'\'' => {
                let start = self.pos;
                let end = self.quoted_end(start)?;
                if self.at(end) == b':' && self.blank_or_end(end + 1) {
                    // A compact mapping in a sequence entry: `- "key": value`.
                    return match parent {
                        Parent::Seq(_) if tag.is_none() => self.compact_mapping(start),
                        _ => None,
                    };
                }
                let (node, _) = self.quoted(tag)?;
                self.end_line()?;
                Some(node)
            }
            b'|' | b'>' => self.block_scalar(parent.indent(), tag),
            b'-' if self.dash_at(self.pos) => match parent {
                Parent::Seq(_) if tag.is_none() => {
                    let col = self.pos - self.line_start(self.pos);
                    self.block_sequence(col, self.pos, None, false)
                }
                _ => None,
            },
            c if plain_start(c, self.at(self.pos + 1)) => {
                let start = self.pos;
                let (end, key) = self.plain_block_end(start);
                if key {
                    return match parent {
                        Parent::Seq(_) if tag.is_none() => self.compact_mapping(start),
                        _ => None,
                    };
                }
                let node = self.plain(start, end, tag);
                self.pos = end;
                self.end_line()?;
                Some(node)
            }
            _ => None,
        }
    }

    fn line_start(&self, i: usize) -> usize {
        self.b[..i]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1)
    }

    /// A mapping whose first key is on a sequence entry's line, at `first`.
    fn compact_mapping(&mut self, first: usize) -> Option<Node> {
        let col = first - self.line_start(first);
        self.block_mapping(col, first, None)
    }

    /// Nothing after the indicator on its line: a block collection on the next lines, an
    /// indentless sequence, or an empty value.
    fn node_on_next_lines(
        &mut self,
        parent: Parent,
        indicator: usize,
        tag: Tagged,
    ) -> Option<Node> {
        let next = self.next_line().ok()?;
        match (next, parent) {
            (Some((line, indent)), _) if deeper(indent, parent.indent()) => {
                self.block_node_on_line(line, indent, parent, tag)
            }
            (Some((line, indent)), Parent::Map(n)) if indent == n => {
                let at = line + indent;
                if self.dash_at(at) {
                    self.block_sequence(n, at, tag, true)
                } else {
                    self.empty(parent, indicator, tag)
                }
            }
            _ => self.empty(parent, indicator, tag),
        }
    }

    /// An empty value: saphyr puts it at a key's colon, or after an entry's dash and the
    /// spaces after it.
    fn empty(&mut self, parent: Parent, indicator: usize, tag: Tagged) -> Option<Node> {
        if tag.is_some() {
            return None;
        }
        let at = match parent {
            Parent::Map(_) => indicator,
            Parent::Seq(_) => {
                let i = self.skip_spaces(indicator + 1);
                if self.at(i) == b'#' {
                    return None;
                }
                i
            }
            Parent::Root => return None,
        };
        Some(self.cx.scalar("", true, None, at..at))
    }

    /// A local tag (`!Ref`) at `self.pos`.
    fn tag(&mut self) -> Option<(Box<str>, usize)> {
        let start = self.pos;
        let mut i = start + 1;
        while self.at(i).is_ascii_alphanumeric() || matches!(self.at(i), b'-' | b'_' | b'.' | b':')
        {
            i += 1;
        }
        if i == start + 1 {
            return None;
        }
        self.pos = i;
        // saphyr's tag: the handle `!` and the suffix, which `Builder` writes back as they are.
        Some((self.s[start..i].into(), start))
    }

    /// Where a plain scalar in a block that starts at `start` ends (trailing spaces left
    /// out), and whether a `:` that makes it a key follows.
    fn plain_block_end(&self, start: usize) -> (usize, bool) {
        // Only a line break, `: ` or ` #` ends it (the text is printable ASCII, no NUL): the
        // bytes between are skipped a vector at a time, then the trailing spaces trimmed.
        let mut from = start;
        let (stop, key) = loop {
            let Some(k) = memchr::memchr3(b'\n', b':', b'#', &self.b[from..]) else {
                break (self.b.len(), false);
            };
            let i = from + k;
            match self.b[i] {
                b'\n' => break (i, false),
                b':' if self.blank_or_end(i + 1) => break (i, true),
                b'#' if self.at(i - 1) == b' ' => break (i, false),
                _ => from = i + 1,
            }
        };
        let content = self.b[start..stop].iter().rposition(|&c| c != b' ');
        (content.map_or(start, |k| start + k + 1), key)
    }

    /// Where a one-line quoted scalar starting at `start` ends (just after its closing
    /// quote), without reading it.
    fn quoted_end(&self, start: usize) -> Option<usize> {
        self.quoted_scan(start).map(|(end, _)| end)
    }

    /// [`Reader::quoted_end`], and whether the scalar has an escape (`\\` in a double-quoted
    /// one, `''` in a single-quoted one): without one, its text is what is between the quotes.
    fn quoted_scan(&self, start: usize) -> Option<(usize, bool)> {
        let quote = self.at(start);
        let mut escaped = false;
        // A double-quoted scalar's escapes start with `\\`. A single-quoted one's only escape
        // is `''`, found as its quote: the line break stands in for the escape byte.
        let escape = if quote == b'"' { b'\\' } else { b'\n' };
        let mut i = start + 1;
        loop {
            i += memchr::memchr3(quote, escape, b'\n', self.b.get(i..)?)?;
            match self.b[i] {
                b'\n' => return None,
                b'\\' if quote == b'"' => {
                    if matches!(self.at(i + 1), b'\n' | 0) {
                        return None;
                    }
                    (i, escaped) = (i + 2, true);
                }
                b'\'' if quote == b'\'' && self.at(i + 1) == b'\'' => (i, escaped) = (i + 2, true),
                _ => return Some((i + 1, escaped)),
            }
        }
    }

    /// Where saphyr ends the span of a quoted scalar or a closing bracket that ends at `end`:
    /// it goes on over the spaces after it, and a comment.
    fn trailing(&self, end: usize) -> usize {
        let mut i = self.skip_spaces(end);
        if i > end && self.at(i) == b'#' {
            i = self.line_end(i);
        }
        i
    }

    /// Reads the one-line quoted scalar at `self.pos`: its node, and where it ends.
    fn quoted(&mut self, tag: Tagged) -> Option<(Node, usize)> {
        let start = self.pos;
        let (end, escaped) = self.quoted_scan(start)?;
        let inner = &self.s[start + 1..end - 1];
        let value = match (escaped, self.at(start)) {
            (false, _) => Cow::Borrowed(inner),
            (true, b'\'') => Cow::Owned(inner.replace("''", "'")),
            (true, _) => Cow::Owned(unescape(inner)?),
        };
        let span_end = self.trailing(end);
        let (tag, span_start) = split(tag, start);
        let node = self.cx.scalar(&value, false, tag, span_start..span_end);
        self.pos = end;
        Some((node, end))
    }

    /// A block scalar (`|` or `>`) whose header is at `self.pos`, in a node whose lines must
    /// be indented more than `parent`.
    fn block_scalar(&mut self, parent: Option<usize>, tag: Tagged) -> Option<Node> {
        let folded = self.peek() == b'>';
        self.pos += 1;
        let chomp = match self.peek() {
            b'-' => {
                self.pos += 1;
                Chomp::Strip
            }
            b'+' => {
                self.pos += 1;
                Chomp::Keep
            }
            _ => Chomp::Clip,
        };
        if !matches!(self.peek(), b' ' | b'\n' | 0) {
            return None;
        }
        self.end_line()?;
        let indent = self.block_indent(parent.map_or(0, |n| n + 1))?;
        let mut value = String::new();
        // Blank lines not yet added, whether the last content line started with a space, and
        // where the first one starts (after it, each content line ends with a break).
        let mut trailing = 0usize;
        let mut leading_blank = false;
        let mut content_start = None;
        let mut line = self.pos;
        let end = loop {
            // `line` is a line start: blank lines, then a content line or the end.
            let mut j = line;
            while self.at(j) == b' ' && j - line < indent {
                j += 1;
            }
            if j >= self.b.len() {
                break j;
            }
            if self.at(j) == b'\n' {
                trailing += 1;
                line = j + 1;
                continue;
            }
            if j - line < indent {
                break j;
            }
            let leading_break = content_start.is_some();
            content_start.get_or_insert(j);
            let blank_start = self.at(j) == b' ';
            if folded && leading_break && !leading_blank && !blank_start {
                if trailing == 0 {
                    value.push(' ');
                }
            } else if leading_break {
                value.push('\n');
            }
            value.extend(std::iter::repeat_n('\n', trailing));
            trailing = 0;
            leading_blank = blank_start;
            let eol = self.line_end(j);
            value.push_str(&self.s[j..eol]);
            if eol >= self.b.len() {
                break eol;
            }
            line = eol + 1;
        };
        let content_start = content_start?;
        // saphyr ends the last line with a break even at the end of the text.
        if chomp != Chomp::Strip {
            value.push('\n');
        }
        if chomp == Chomp::Keep {
            value.extend(std::iter::repeat_n('\n', trailing));
        }
        let (tag, start) = split(tag, content_start);
        let node = self.cx.scalar(&value, false, tag, start..end);
        // Continue from the line the scalar ended at.
        self.pos = if end >= self.b.len() {
            self.b.len()
        } else {
            self.line_start(end)
        };
        Some(node)
    }

    /// A block scalar's indentation, from `self.pos` (its first line): that of its first line
    /// with content, which must be at least `min` and than its leading blank lines.
    fn block_indent(&self, min: usize) -> Option<usize> {
        let mut line = self.pos;
        let mut leading = 0;
        while line < self.b.len() {
            let j = self.skip_spaces(line);
            if self.at(j) != b'\n' {
                let indent = j - line;
                return (indent >= min.max(leading).max(1)).then_some(indent);
            }
            leading = leading.max(j - line);
            line = j + 1;
        }
        None
    }

    /// A flow collection at `self.pos`; its lines after the first must be indented more than
    /// `parent`.
    fn flow(&mut self, tag: Tagged, parent: Option<usize>) -> Option<Node> {
        self.enter()?;
        let open = self.peek();
        let start = self.pos;
        let (tag, span_start) = split(tag, start);
        let close = if open == b'[' { b']' } else { b'}' };
        let mut items = Vec::new();
        let mut entries: Vec<(Node, Node)> = Vec::new();
        let mut seen = None;
        self.pos += 1;
        self.flow_space(parent)?;
        if self.peek() != close {
            loop {
                if open == b'{' {
                    let key = self.flow_key(parent)?;
                    self.cx.key(&entries, &mut seen, &key);
                    let value = self.flow_item(parent)?;
                    entries.push((key, value));
                } else {
                    items.push(self.flow_item(parent)?);
                }
                self.flow_space(parent)?;
                match self.peek() {
                    b',' => {
                        self.pos += 1;
                        self.flow_space(parent)?;
                        if matches!(self.peek(), b']' | b'}') {
                            return None;
                        }
                    }
                    c if c == close => break,
                    _ => return None,
                }
            }
        }
        let end = self.pos;
        self.pos += 1;
        let value = if open == b'[' {
            Value::Seq(items)
        } else {
            Value::Map(entries)
        };
        let span_end = self.trailing(end + 1);
        Some(self.close(span_start, span_end, tag, value))
    }

    /// A flow mapping's key and its `:`.
    fn flow_key(&mut self, parent: Option<usize>) -> Option<Node> {
        let key = match self.peek() {
            b'"' | b'\'' => {
                let (key, _) = self.quoted(None)?;
                self.pos = self.skip_spaces(self.pos);
                if self.peek() != b':' {
                    return None;
                }
                key
            }
            c if plain_start(c, self.at(self.pos + 1)) => {
                let start = self.pos;
                let end = self.plain_flow_end(start);
                if self.at(end) != b':' || !self.blank_or_end(end + 1) {
                    return None;
                }
                let key = self.plain(start, end, None);
                self.pos = end;
                key
            }
            _ => return None,
        };
        self.pos += 1;
        self.flow_space(parent)?;
        if matches!(self.peek(), b',' | b'}' | b']' | b':') {
            return None;
        }
        Some(key)
    }

    /// An entry of a flow collection (a mapping's value after its key).
    fn flow_item(&mut self, parent: Option<usize>) -> Option<Node> {
        let mut tag = None;
        if self.peek() == b'!' {
            tag = Some(self.tag()?);
            if self.peek() != b' ' {
                return None;
            }
            self.flow_space(parent)?;
        }
        match self.peek() {
            b'[' | b'{' => self.flow(tag, parent),
            b'"' | b'\'' => {
                let (node, _) = self.quoted(tag)?;
                if !matches!(self.peek(), b' ' | b'\n' | b',' | b']' | b'}') {
                    return None;
                }
                Some(node)
            }
            c if plain_start(c, self.at(self.pos + 1)) => {
                let start = self.pos;
                let end = self.plain_flow_end(start);
                if end == start {
                    return None;
                }
                let node = self.plain(start, end, tag);
                self.pos = end;
                // Whatever follows must end the entry; a plain scalar does not go on to the
                // next line here, and `:` would make it a key.
                let mut i = end;
                while matches!(self.at(i), b' ' | b'\n') {
                    i += 1;
                }
                (matches!(self.at(i), b',' | b']' | b'}') || (self.at(i) == b'#' && i > end))
                    .then_some(node)
            }
            _ => None,
        }
    }

    /// Where a plain scalar in a flow collection that starts at `start` ends (trailing
    /// spaces left out).
    fn plain_flow_end(&self, start: usize) -> usize {
        let mut i = start;
        let mut end = start;
        loop {
            match self.at(i) {
                b'\n' | 0 | b',' | b'[' | b']' | b'{' | b'}' => return end,
                b':' if matches!(
                    self.at(i + 1),
                    b' ' | b'\n' | 0 | b',' | b'[' | b']' | b'{' | b'}'
                ) =>
                {
                    return end;
                }
                b'#' if self.at(i - 1) == b' ' => return end,
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
    }

    /// Spaces, line breaks and comments inside a flow collection. Each new line must be
    /// indented more than `parent`.
    fn flow_space(&mut self, parent: Option<usize>) -> Option<()> {
        loop {
            match self.peek() {
                b' ' => self.pos += 1,
                b'#' if matches!(self.at(self.pos - 1), b' ' | b'\n') => {
                    self.pos = self.line_end(self.pos);
                }
                b'\n' => {
                    let line = self.pos + 1;
                    self.pos = self.skip_spaces(line);
                    if !matches!(self.peek(), b'\n' | b'#' | 0) {
                        if !deeper(self.pos - line, parent) {
                            return None;
                        }
                        if self.pos == line && self.document_marker(line) {
                            return None;
                        }
                    }
                }
                0 => return None,
                _ => return Some(()),
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// The tag of a node and where the node's span starts (at its tag, if it has one).
fn split(tag: Tagged, start: usize) -> (Option<Box<str>>, usize) {
    match tag {
        Some((tag, at)) => (Some(tag), at),
        None => (None, start),
    }
}

/// Whether a plain scalar can start with `c` followed by `next`.
fn plain_start(c: u8, next: u8) -> bool {
    // `-1` is a scalar, `- 1` an entry; `?` and `:` starts are left to saphyr.
    match c {
        b'-' => !matches!(next, b' ' | b'\n' | 0),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' | 0 => false,
        _ => true,
    }
}

/// The value of a double-quoted scalar's text with escapes; `None` for an escape this reader
/// does not know.
fn unescape(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let (digits, simple) = match e {
            '0' => (0, '\0'),
            'a' => (0, '\u{7}'),
            'b' => (0, '\u{8}'),
            't' => (0, '\t'),
            'n' => (0, '\n'),
            'v' => (0, '\u{b}'),
            'f' => (0, '\u{c}'),
            'r' => (0, '\r'),
            'e' => (0, '\u{1b}'),
            ' ' => (0, ' '),
            '"' => (0, '"'),
            '/' => (0, '/'),
            '\\' => (0, '\\'),
            'N' => (0, '\u{85}'),
            '_' => (0, '\u{a0}'),
            'L' => (0, '\u{2028}'),
            'P' => (0, '\u{2029}'),
            'x' => (2, ' '),
            'u' => (4, ' '),
            'U' => (8, ' '),
            _ => return None,
        };
        if digits == 0 {
            out.push(simple);
            continue;
        }
        let mut code = 0u32;
        for _ in 0..digits {
            code = code * 16 + chars.next()?.to_digit(16)?;
        }
        out.push(char::from_u32(code)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests;
