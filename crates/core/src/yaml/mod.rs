//! The YAML front end: every YAML file proctor reads goes through [`parse`], which builds a
//! tree of [`Node`]s with byte spans into the named source, keeps tags (`!Ref`), reports
//! duplicate keys, and bounds nesting depth and alias expansion so that hostile files end in
//! a diagnostic, never in a crash.
//!
//! Scalars are resolved with the YAML 1.2 core schema. Where YAML 1.1 would read a plain
//! scalar differently (`yes`, `on`, `0644`), [`ParseOptions::warn_yaml11`] adds a warning.

mod fast;
pub mod scalar;
pub mod shape;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YSpan};

use crate::diag::{Diagnostic, codes};
use crate::source::Source;

pub use scalar::resolve_plain;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Inline when short (most keys and values of a template): no allocation of its own.
    String(compact_str::CompactString),
    Seq(Vec<Node>),
    /// Entries in document order. Keys are usually strings but may be any node.
    Map(Vec<(Node, Node)>),
}

/// Whether `tag` is one of YAML's own (`!!str`, `tag:yaml.org,2002:int`), not a local one.
pub fn is_standard_tag(tag: &str) -> bool {
    tag.starts_with("!!") || tag.starts_with("tag:yaml.org,2002:")
}

/// A tagged node a reader of the tree rewrote as a one-key mapping (CloudFormation's `!Sub x`
/// as `Fn::Sub: x`), noted so that another reader of the same tree can undo it: where the node
/// starts (the mapping and its value start there too), its tag, whether it was a plain scalar,
/// and whether it was a string split at its first dot into a list of two (`!GetAtt A.B`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewritten {
    pub start: usize,
    pub tag: String,
    pub plain: bool,
    pub split: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Byte range in the source the node came from.
    pub span: Range<usize>,
    /// A local or core tag as written, e.g. `!Ref` or `!!str` (boxed: most nodes have none,
    /// and a node is a word smaller than with a `String`).
    pub tag: Option<Box<str>>,
    /// True for a plain (unquoted, non-block) scalar.
    pub plain: bool,
    pub value: Value,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a string key in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and the value of a string key in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// "a mapping", "a string", ...: for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// A scalar's value as text, for keys and messages (`None` for collections).
    pub fn scalar_text(&self) -> Option<String> {
        Some(match &self.value {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float(*f),
            Value::String(s) => s.as_str().to_owned(),
            Value::Seq(_) | Value::Map(_) => return None,
        })
    }

    /// [`Node::scalar_text`], empty for collections, without copying a string's text: what
    /// keys are compared as.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match &self.value {
            Value::String(s) => std::borrow::Cow::Borrowed(s),
            _ => std::borrow::Cow::Owned(self.scalar_text().unwrap_or_default()),
        }
    }

    /// Follows a JSON pointer's segments (object keys, list indexes) down the tree.
    pub fn pointer<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Option<&Node> {
        let mut node = self;
        for seg in segments {
            node = match &node.value {
                Value::Map(m) => m
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(seg))
                    .map(|(_, v)| v)?,
                Value::Seq(s) => s.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The node as JSON, for validators and later stages. Non-string keys become their text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.as_str().to_owned()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }

    fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(s) => s.iter().map(Node::size).sum(),
            Value::Map(m) => m.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }
}

pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        }
    } else {
        let mut s = String::new();
        let _ = write!(s, "{f}");
        s
    }
}

#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// Deepest nesting of collections allowed.
    pub max_depth: usize,
    /// Most nodes that alias expansion may create in one document.
    pub max_alias_nodes: usize,
    /// Warn on plain scalars that YAML 1.1 reads differently.
    pub warn_yaml11: bool,
    /// Resolve plain scalars as cfn-guard does (policy data), not with YAML 1.2.
    pub guard_scalars: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_depth: 256,
            max_alias_nodes: 100_000,
            warn_yaml11: false,
            guard_scalars: false,
        }
    }
}

enum Frame {
    Seq {
        start: usize,
        tag: Option<Box<str>>,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        tag: Option<Box<str>>,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// First occurrence of each scalar key, for duplicate detection.
        seen: KeyIndex,
    },
}

/// Maps the parser's character indexes to byte offsets.
struct Offsets {
    /// Byte offset of each char, only for non-ASCII text (ASCII maps 1:1).
    table: Option<Vec<usize>>,
    base: usize,
    len: usize,
}

impl Offsets {
    fn new(text: &str, base: usize) -> Self {
        let table = (!text.is_ascii()).then(|| {
            let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            t.push(text.len());
            t
        });
        Offsets {
            table,
            base,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.base
            + match &self.table {
                None => char_index.min(self.len),
                Some(t) => t.get(char_index).copied().unwrap_or(self.len),
            }
    }

    fn span(&self, s: &YSpan) -> Range<usize> {
        self.byte(s.start.index())..self.byte(s.end.index())
    }
}

/// Parses one YAML document. Returns `None` when the file cannot be used; the reasons are in
/// `diags` (at least one error). Warnings may be added on success too.
pub fn parse(source: &Source, opts: &ParseOptions, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let full = source.text();
    let (text, base) = match full.strip_prefix('\u{feff}') {
        Some(rest) => {
            diags.push(
                Diagnostic::new(codes::F005, "file starts with a UTF-8 byte-order mark")
                    .at(source, 0..3)
                    .help("save the file as UTF-8 without a BOM"),
            );
            (rest, 3)
        }
        None => (full, 0),
    };
    let mut cx = Cx {
        source,
        opts,
        diags,
    };
    // Most files are in the subset the fast reader knows; it gives up on the rest (and on
    // every error), which saphyr-parser then reads and reports on. What the fast reader
    // found before giving up is dropped with its tree.
    if base == 0 {
        let mark = cx.diags.len();
        if let Some(root) = fast::read(text, &mut cx) {
            return Some(root);
        }
        cx.diags.truncate(mark);
    }
    read_with_saphyr(cx, text, base)
}

/// Reads `text` (the source's text from byte `base`) with saphyr-parser's events.
fn read_with_saphyr(cx: Cx<'_>, text: &str, base: usize) -> Option<Node> {
    let source = cx.source;
    let mut builder = Builder {
        cx,
        frames: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        documents: 0,
    };
    let offsets = Offsets::new(text, base);
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => match builder.event(event, offsets.span(&span)) {
                Flow::Continue => {}
                Flow::Stop => return None,
                Flow::Done => break,
            },
            Err(e) => {
                let mut d = syntax_error(source, &offsets, &e);
                // An unclosed `[` or `{` is reported by the parser where it gives up, often
                // lines later: show where it was opened.
                if d.code == codes::Y001
                    && let Some(start) = builder.innermost_flow_start()
                {
                    d = d.label(source, start..start + 1, "this bracket is never closed").help("close the bracket opened here, or quote the value if the bracket is part of it");
                }
                builder.cx.diags.push(d);
                return None;
            }
        }
    }
    builder.finish()
}

fn syntax_error(source: &Source, offsets: &Offsets, e: &ScanError) -> Diagnostic {
    let at = offsets.byte(e.marker().index());
    let info = e.info();
    let end = source.clamp(at + 1).max(at);
    if info.contains("recursion limit") {
        // The scanner's own guard against deep flow nesting.
        return Diagnostic::new(codes::Y003, "nesting deeper than the YAML parser allows")
            .at(source, at..end)
            .primary_message("the limit is reached here")
            .help("flatten the document");
    }
    let help = if info.contains("tab") {
        "YAML indentation must use spaces; replace the tabs with spaces"
    } else if info.contains("mapping values are not allowed") {
        "a value containing `: ` must be quoted, or the line is indented wrongly"
    } else if info.contains("did not find expected") || info.contains("unclosed") {
        "close the bracket or quote that was opened before this point"
    } else {
        "correct the YAML at this point (check indentation and quoting)"
    };
    Diagnostic::new(codes::Y001, format!("invalid YAML: {info}"))
        .at(source, at..end)
        .primary_message("the parser stopped here")
        .help(help)
}

enum Flow {
    Continue,
    Stop,
    Done,
}

/// What both readers share: the options, the source, and where findings go.
struct Cx<'a> {
    source: &'a Source,
    opts: &'a ParseOptions,
    diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    /// A scalar's node: `text` is its value as written (quotes and escapes undone), `span`
    /// starts at its tag when it has one.
    fn scalar(
        &mut self,
        text: &str,
        plain: bool,
        tag: Option<Box<str>>,
        span: Range<usize>,
    ) -> Node {
        let value = if plain && tag.is_none() {
            if self.opts.warn_yaml11 {
                self.check_yaml11(text, &span);
            }
            if self.opts.guard_scalars {
                scalar::resolve_guard(text)
            } else {
                resolve_plain(text)
            }
        } else {
            scalar::resolve_tagged(text, tag.as_deref(), plain)
        };
        Node {
            span,
            tag,
            plain,
            value,
        }
    }

    /// Reports `key` if the mapping's `entries` (indexed in `seen` once large) already have
    /// it.
    fn key(&mut self, entries: &[(Node, Node)], seen: &mut KeyIndex, key: &Node) {
        if let Some(first) = earlier_key(entries, seen, key) {
            let shown = key.scalar_text().unwrap_or_default();
            self.diags.push(
                Diagnostic::new(codes::Y002, format!("duplicate key `{shown}`"))
                    .at(self.source, key.span.clone())
                    .primary_message("defined again here")
                    .label(self.source, first, "first defined here")
                    .help("delete one of the two entries"),
            );
        }
    }

    fn check_yaml11(&mut self, raw: &str, range: &Range<usize>) {
        if let Some((yaml11, yaml12)) = scalar::yaml11_difference(raw) {
            self.diags.push(
                Diagnostic::new(
                    codes::Y006,
                    format!("`{raw}` is {yaml12} in YAML 1.2 but {yaml11} in YAML 1.1"),
                )
                .at(self.source, range.clone())
                .primary_message(format!("proctor reads this as {yaml12}"))
                .help(scalar::yaml11_help(raw)),
            );
        }
    }
}

struct Builder<'a> {
    cx: Cx<'a>,
    frames: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    /// Where the innermost open flow collection (`[` or `{`) starts, if the innermost open
    /// collection is one.
    fn innermost_flow_start(&self) -> Option<usize> {
        let start = match self.frames.last()? {
            Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
        };
        matches!(
            self.cx.source.text().as_bytes().get(start),
            Some(b'[' | b'{')
        )
        .then_some(start)
    }

    /// The document's root, or F004 when it has none.
    fn finish(mut self) -> Option<Node> {
        let root = self.root.take();
        if root.is_none() {
            self.cx.diags.push(
                Diagnostic::new(codes::F004, "the file has no content")
                    .at_file(self.cx.source)
                    .help("write the document's content, or delete the file"),
            );
        }
        root
    }

    /// Takes the next event, at `range` (bytes in the source).
    fn event(&mut self, event: Event<'_>, range: Range<usize>) -> Flow {
        match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => Flow::Continue,
            Event::StreamEnd => Flow::Done,
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    self.cx.diags.push(
                        Diagnostic::new(codes::Y005, "the file has more than one YAML document")
                            .at(self.cx.source, range)
                            .primary_message("a second document starts here")
                            .help("keep one document per file"),
                    );
                    return Flow::Stop;
                }
                Flow::Continue
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.map(|t| t.to_string().into_boxed_str());
                let node = self
                    .cx
                    .scalar(&value, style == ScalarStyle::Plain, tag, range);
                self.complete(node, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                if !self.check_depth(&range) {
                    return Flow::Stop;
                }
                self.frames.push(Frame::Seq {
                    start: range.start,
                    tag: tag.map(|t| t.to_string().into_boxed_str()),
                    anchor,
                    items: Vec::new(),
                });
                Flow::Continue
            }
            Event::MappingStart(anchor, tag) => {
                if !self.check_depth(&range) {
                    return Flow::Stop;
                }
                self.frames.push(Frame::Map {
                    start: range.start,
                    tag: tag.map(|t| t.to_string().into_boxed_str()),
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    seen: None,
                });
                Flow::Continue
            }
            Event::SequenceEnd => match self.frames.pop() {
                Some(Frame::Seq {
                    start,
                    tag,
                    anchor,
                    items,
                }) => {
                    let end = collection_end(&range, items.last().map(|n| n.span.end));
                    self.complete(collection(start, end, tag, Value::Seq(items)), anchor)
                }
                _ => Flow::Stop,
            },
            Event::MappingEnd => match self.frames.pop() {
                Some(Frame::Map {
                    start,
                    tag,
                    anchor,
                    entries,
                    ..
                }) => {
                    let end = collection_end(&range, entries.last().map(|(_, v)| v.span.end));
                    self.complete(collection(start, end, tag, Value::Map(entries)), anchor)
                }
                _ => Flow::Stop,
            },
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    self.cx.diags.push(
                        Diagnostic::new(codes::Y001, "invalid YAML: alias to an unknown anchor")
                            .at(self.cx.source, range)
                            .help("define the anchor (`&name`) before using it"),
                    );
                    return Flow::Stop;
                };
                self.alias_nodes += size;
                if self.alias_nodes > self.cx.opts.max_alias_nodes {
                    self.cx.diags.push(
                        Diagnostic::new(
                            codes::Y004,
                            format!(
                                "alias expansion would create more than {} nodes",
                                self.cx.opts.max_alias_nodes
                            ),
                        )
                        .at(self.cx.source, range)
                        .primary_message("the limit is reached at this alias")
                        .help("write the values out instead of nesting aliases, or raise `limits.max_alias_nodes` in proctor.toml"),
                    );
                    return Flow::Stop;
                }
                let mut node = node.clone();
                node.span = range;
                self.complete(node, 0)
            }
        }
    }

    fn check_depth(&mut self, range: &Range<usize>) -> bool {
        if self.frames.len() >= self.cx.opts.max_depth {
            self.cx.diags.push(
                Diagnostic::new(
                    codes::Y003,
                    format!("nesting deeper than {} levels", self.cx.opts.max_depth),
                )
                .at(self.cx.source, range.clone())
                .primary_message("the limit is reached here")
                .help("flatten the document, or raise `limits.max_yaml_depth` in proctor.toml"),
            );
            return false;
        }
        true
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Flow {
        if anchor != 0 {
            let size = node.size();
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.frames.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, key, seen, ..
            }) => match key.take() {
                None => {
                    self.cx.key(entries, seen, &node);
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Flow::Continue
    }
}

/// A collection's node, from `start` to `end` (never before `start`).
fn collection(start: usize, end: usize, tag: Option<Box<str>>, value: Value) -> Node {
    Node {
        span: start..end.max(start),
        tag,
        plain: false,
        value,
    }
}

/// Where a collection ends: at its closing bracket for flow collections, else at the end of
/// its last child (block collections' end events sit at the next token, lines later).
fn collection_end(end_event: &Range<usize>, last_child_end: Option<usize>) -> usize {
    if !end_event.is_empty() {
        end_event.end
    } else {
        last_child_end.unwrap_or(end_event.start)
    }
}

/// Mappings up to this many entries find duplicate keys by scanning them; larger ones keep
/// an index (a template's `Resources` can hold hundreds).
const SCAN_KEYS: usize = 24;

/// A large mapping's keys by identity, each at its first occurrence: made when the mapping
/// grows past [`SCAN_KEYS`] (most never do, and an empty map would still cost its hasher's
/// set-up).
type KeyIndex = Option<HashMap<String, Range<usize>>>;

/// Where an earlier key of this mapping equal to `key` is. Keys compare by resolved scalar
/// value: `1` and `"1"` are different keys, `1` and `0x1` the same.
fn earlier_key(entries: &[(Node, Node)], index: &mut KeyIndex, key: &Node) -> Option<Range<usize>> {
    if entries.len() < SCAN_KEYS {
        return entries
            .iter()
            .find(|(k, _)| same_key(k, key))
            .map(|(k, _)| k.span.clone());
    }
    let index = index.get_or_insert_with(|| {
        let mut index = HashMap::new();
        for (k, _) in entries {
            if let Some(id) = key_identity(k) {
                index.entry(id).or_insert_with(|| k.span.clone());
            }
        }
        index
    });
    let id = key_identity(key)?;
    match index.entry(id) {
        std::collections::hash_map::Entry::Occupied(first) => Some(first.get().clone()),
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(key.span.clone());
            None
        }
    }
}

/// Whether two keys are the same scalar (what [`key_identity`] compares), without allocating
/// for the common kinds.
fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Float(_), Value::Float(_)) => key_identity(a) == key_identity(b),
        _ => false,
    }
}

fn key_identity(node: &Node) -> Option<String> {
    let kind = match node.value {
        Value::Null => 'n',
        Value::Bool(_) => 'b',
        Value::Int(_) => 'i',
        Value::Float(_) => 'f',
        Value::String(_) => 's',
        Value::Seq(_) | Value::Map(_) => return None,
    };
    let mut id = String::new();
    id.push(kind);
    match &node.value {
        Value::String(s) => id.push_str(s),
        _ => id.push_str(&node.scalar_text()?),
    }
    Some(id)
}

#[cfg(test)]
mod tests;
