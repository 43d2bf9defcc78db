//! A fast reader for the YAML that CloudFormation templates and specs are written in: block
//! mappings and sequences, one-line plain and quoted scalars, block scalars, flow collections
//! and local tags (`!Ref`), in ASCII text.
//!
//! It produces exactly the events, with the same spans, that saphyr-parser produces for the
//! same text, several times faster (rendered templates are most of what a check reads). On
//! anything else (anchors, aliases, multi-line plain or quoted scalars, explicit keys,
//! directives, tabs, non-ASCII text, and every error) it gives up and [`super::parse`] reads
//! the text with saphyr-parser, which also reports any error. So it never decides what a
//! document means on its own: the tests compare the two on every YAML file of the fixtures
//! and corpora, and on mutations of them.
//!
//! Only the spans that [`super::parse`] reads are produced as saphyr produces them: every
//! scalar's, where each collection starts, and a flow collection's closing bracket. A block
//! collection's end is an empty span (saphyr puts it at the next token; nothing reads it).

use std::borrow::Cow;
use std::ops::Range;

use saphyr_parser::{Event, ScalarStyle, Tag};

/// The events of `text`, or `None` when the text is outside what this reader knows.
pub(super) fn events(text: &str) -> Option<Vec<(Event<'_>, Range<usize>)>> {
    let bytes = text.as_bytes();
    if bytes.iter().any(|&b| b >= 0x7f || (b < 0x20 && b != b'\n')) {
        return None;
    }
    let mut r = Reader {
        s: text,
        b: bytes,
        pos: 0,
        depth: 0,
        out: Vec::with_capacity(text.len() / 8),
    };
    r.document()?;
    Some(r.out)
}

/// A tag read before a node: the tag and where it starts.
type Tagged<'a> = Option<(Cow<'a, Tag>, usize)>;

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Collections open: the reader recurses into each, so it gives up past [`MAX_DEPTH`].
    depth: usize,
    out: Vec<(Event<'a>, Range<usize>)>,
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

impl<'a> Reader<'a> {
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    fn emit(&mut self, event: Event<'a>, span: Range<usize>) {
        self.out.push((event, span));
    }

    /// Ends a block collection: its end event (an empty span) and one level less deep.
    fn close_block(&mut self, end: Event<'a>) -> Option<()> {
        let at = self.pos;
        self.emit(end, at..at);
        self.depth -= 1;
        Some(())
    }

    /// Enters a collection; `None` past [`MAX_DEPTH`].
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
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

    fn document(&mut self) -> Option<()> {
        self.emit(Event::StreamStart, 0..0);
        // Blank and comment lines, then an optional `---`.
        let (start, _) = self.content_line(0)?;
        self.pos = start;
        if self.b[start..].starts_with(b"---") && self.blank_or_end(start + 3) {
            self.emit(Event::DocumentStart(true), start..start + 3);
            self.pos = start + 3;
            self.end_line()?;
        } else if matches!(self.at(start), b'%') {
            return None;
        } else {
            self.emit(Event::DocumentStart(false), start..start);
        }
        let (line, indent) = self.next_line().ok()??;
        self.block_node_on_line(line, indent, Parent::Root, None)?;
        if self.next_line().ok()?.is_some() {
            return None;
        }
        let end = self.b.len();
        self.emit(Event::DocumentEnd, end..end);
        self.emit(Event::StreamEnd, end..end);
        Some(())
    }

    /// A node that starts on a line of its own (at `line + indent`): a block collection,
    /// maybe tagged on the line before.
    fn block_node_on_line(
        &mut self,
        line: usize,
        indent: usize,
        parent: Parent,
        tag: Tagged<'a>,
    ) -> Option<()> {
        let at = line + indent;
        self.pos = at;
        if self.dash_at(at) {
            return self.block_sequence(indent, at, tag, false);
        }
        if tag.is_none() && matches!(self.peek(), b'[' | b'{') && parent == Parent::Root {
            self.flow(None, None)?;
            return self.end_line();
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

    fn block_mapping(&mut self, indent: usize, first: usize, tag: Tagged<'a>) -> Option<()> {
        self.enter()?;
        let (tag, start) = split(tag, first);
        self.emit(Event::MappingStart(0, tag), start..start);
        self.pos = first;
        loop {
            // A key at `self.pos`, at column `indent`.
            let colon = match self.peek() {
                b'"' | b'\'' => {
                    let end = self.quoted(None)?;
                    (self.at(end) == b':' && self.blank_or_end(end + 1)).then_some(end)?
                }
                c if plain_start(c, self.at(self.pos + 1)) => {
                    let (end, key) = self.plain_block_end(self.pos);
                    if !key {
                        return None;
                    }
                    let start = self.pos;
                    self.emit_plain(start, end, None);
                    self.pos = end;
                    end
                }
                _ => return None,
            };
            self.pos = colon + 1;
            self.node_after_indicator(Parent::Map(indent), colon)?;
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
        self.close_block(Event::MappingEnd)
    }

    /// A block sequence whose dashes are at column `indent`, the first at `first`. An
    /// indentless one (the value of a key at the same column) ends at its mapping's next key.
    fn block_sequence(
        &mut self,
        indent: usize,
        first: usize,
        tag: Tagged<'a>,
        indentless: bool,
    ) -> Option<()> {
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
        self.emit(Event::SequenceStart(0, tag), start..start);
        self.pos = first;
        loop {
            // A dash at `self.pos`, at column `indent`.
            let dash = self.pos;
            self.pos += 1;
            self.node_after_indicator(Parent::Seq(indent), dash)?;
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
        self.close_block(Event::SequenceEnd)
    }

    /// The node after a key's `:` or an entry's `-` at `indicator`; `self.pos` is just after
    /// the indicator. Ends at the start of a line (or the end of the text).
    fn node_after_indicator(&mut self, parent: Parent, indicator: usize) -> Option<()> {
        let spaced = self.peek() == b' ';
        self.pos = self.skip_spaces(self.pos);
        let mut tag: Tagged<'a> = None;
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
                self.flow(tag, parent.indent())?;
                self.end_line()
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
                self.quoted(tag)?;
                self.end_line()
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
                self.emit_plain(start, end, tag);
                self.pos = end;
                self.end_line()
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
    fn compact_mapping(&mut self, first: usize) -> Option<()> {
        let col = first - self.line_start(first);
        self.block_mapping(col, first, None)
    }

    /// Nothing after the indicator on its line: a block collection on the next lines, an
    /// indentless sequence, or an empty value.
    fn node_on_next_lines(
        &mut self,
        parent: Parent,
        indicator: usize,
        tag: Tagged<'a>,
    ) -> Option<()> {
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
    fn empty(&mut self, parent: Parent, indicator: usize, tag: Tagged<'a>) -> Option<()> {
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
        self.emit(
            Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None),
            at..at,
        );
        Some(())
    }

    /// A local tag (`!Ref`) at `self.pos`.
    fn tag(&mut self) -> Option<(Cow<'a, Tag>, usize)> {
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
        let tag = Tag {
            handle: "!".to_string(),
            suffix: self.s[start + 1..i].to_string(),
        };
        Some((Cow::Owned(tag), start))
    }

    /// Where a plain scalar in a block that starts at `start` ends (trailing spaces left
    /// out), and whether a `:` that makes it a key follows.
    fn plain_block_end(&self, start: usize) -> (usize, bool) {
        let mut i = start;
        let mut end = start;
        loop {
            match self.at(i) {
                b'\n' | 0 => return (end, false),
                b':' if self.blank_or_end(i + 1) => return (end, true),
                b'#' if self.at(i - 1) == b' ' => return (end, false),
                b' ' => {}
                _ => end = i + 1,
            }
            i += 1;
        }
    }

    fn emit_plain(&mut self, start: usize, end: usize, tag: Tagged<'a>) {
        let value = Cow::Borrowed(&self.s[start..end]);
        let (tag, span_start) = split(tag, start);
        self.emit(
            Event::Scalar(value, ScalarStyle::Plain, 0, tag),
            span_start..end,
        );
    }

    /// Where a one-line quoted scalar starting at `start` ends (just after its closing
    /// quote), without reading it.
    fn quoted_end(&self, start: usize) -> Option<usize> {
        let quote = self.at(start);
        let mut i = start + 1;
        loop {
            match self.at(i) {
                0 | b'\n' => return None,
                b'\\' if quote == b'"' => {
                    if matches!(self.at(i + 1), b'\n' | 0) {
                        return None;
                    }
                    i += 2;
                }
                b'\'' if quote == b'\'' && self.at(i + 1) == b'\'' => i += 2,
                c if c == quote => return Some(i + 1),
                _ => i += 1,
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

    /// Reads the one-line quoted scalar at `self.pos` and emits it; returns its end.
    fn quoted(&mut self, tag: Tagged<'a>) -> Option<usize> {
        let start = self.pos;
        let end = self.quoted_end(start)?;
        let inner = &self.s[start + 1..end - 1];
        let (value, style) = if self.at(start) == b'\'' {
            let value = if inner.contains("''") {
                Cow::Owned(inner.replace("''", "'"))
            } else {
                Cow::Borrowed(inner)
            };
            (value, ScalarStyle::SingleQuoted)
        } else {
            let value = if inner.contains('\\') {
                Cow::Owned(unescape(inner)?)
            } else {
                Cow::Borrowed(inner)
            };
            (value, ScalarStyle::DoubleQuoted)
        };
        let span_end = self.trailing(end);
        let (tag, span_start) = split(tag, start);
        self.emit(Event::Scalar(value, style, 0, tag), span_start..span_end);
        self.pos = end;
        Some(end)
    }

    /// A block scalar (`|` or `>`) whose header is at `self.pos`, in a node whose lines must
    /// be indented more than `parent`.
    fn block_scalar(&mut self, parent: Option<usize>, tag: Tagged<'a>) -> Option<()> {
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
        let style = if folded {
            ScalarStyle::Folded
        } else {
            ScalarStyle::Literal
        };
        let (tag, start) = split(tag, content_start);
        self.emit(Event::Scalar(Cow::Owned(value), style, 0, tag), start..end);
        // Continue from the line the scalar ended at.
        self.pos = if end >= self.b.len() {
            self.b.len()
        } else {
            self.line_start(end)
        };
        Some(())
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
    fn flow(&mut self, tag: Tagged<'a>, parent: Option<usize>) -> Option<()> {
        self.enter()?;
        let open = self.peek();
        let start = self.pos;
        let (tag, span_start) = split(tag, start);
        let close = if open == b'[' { b']' } else { b'}' };
        let event = if open == b'[' {
            Event::SequenceStart(0, tag)
        } else {
            Event::MappingStart(0, tag)
        };
        self.emit(event, span_start..start + 1);
        self.pos += 1;
        self.flow_space(parent)?;
        if self.peek() != close {
            loop {
                if open == b'{' {
                    self.flow_key(parent)?;
                }
                self.flow_item(parent)?;
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
        let event = if open == b'[' {
            Event::SequenceEnd
        } else {
            Event::MappingEnd
        };
        let span_end = self.trailing(end + 1);
        self.emit(event, end..span_end);
        self.depth -= 1;
        Some(())
    }

    /// A flow mapping's key and its `:`.
    fn flow_key(&mut self, parent: Option<usize>) -> Option<()> {
        match self.peek() {
            b'"' | b'\'' => {
                self.quoted(None)?;
                self.pos = self.skip_spaces(self.pos);
                if self.peek() != b':' {
                    return None;
                }
            }
            c if plain_start(c, self.at(self.pos + 1)) => {
                let start = self.pos;
                let end = self.plain_flow_end(start);
                if self.at(end) != b':' || !self.blank_or_end(end + 1) {
                    return None;
                }
                self.emit_plain(start, end, None);
                self.pos = end;
            }
            _ => return None,
        }
        self.pos += 1;
        self.flow_space(parent)?;
        if matches!(self.peek(), b',' | b'}' | b']' | b':') {
            return None;
        }
        Some(())
    }

    /// An entry of a flow collection (a mapping's value after its key).
    fn flow_item(&mut self, parent: Option<usize>) -> Option<()> {
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
                self.quoted(tag)?;
                if !matches!(self.peek(), b' ' | b'\n' | b',' | b']' | b'}') {
                    return None;
                }
                Some(())
            }
            c if plain_start(c, self.at(self.pos + 1)) => {
                let start = self.pos;
                let end = self.plain_flow_end(start);
                if end == start {
                    return None;
                }
                self.emit_plain(start, end, tag);
                self.pos = end;
                // Whatever follows must end the entry; a plain scalar does not go on to the
                // next line here, and `:` would make it a key.
                let mut i = end;
                while matches!(self.at(i), b' ' | b'\n') {
                    i += 1;
                }
                if matches!(self.at(i), b',' | b']' | b'}') || (self.at(i) == b'#' && i > end) {
                    Some(())
                } else {
                    None
                }
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
fn split(tag: Tagged<'_>, start: usize) -> (Option<Cow<'_, Tag>>, usize) {
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
