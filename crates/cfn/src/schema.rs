//! Validation schemas of CloudFormation resource types: `data/cfn/schemas.bin` (generated
//! from cfn-lint's copy of the resource provider schemas, MIT-0, by `scripts/gen-cfn-data`),
//! embedded in the binary. The file holds a sorted text index and one zlib-compressed JSON
//! document per type; a type is found by binary search over the index, and only its document
//! is inflated and compiled, once per run, when a template uses it. A template with three
//! resource types costs three small inflations, not the 4 MB of all of them.
//!
//! The compiled form is an arena of [`SchemaNode`]s: node 0 is the type's `Properties`
//! object, nodes `1..=n` its definitions (so a `$ref` is an index, and recursive definitions
//! stay finite), then every nested subschema.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value as J;

static BLOB: &[u8] = include_bytes!("../../../data/cfn/schemas.bin");
const MAGIC: &[u8] = b"proctor-cfn-schemas 1\n";

/// Index of a node in a [`Schema`]'s arena.
pub type Id = usize;

/// JSON Schema's value types, as a bit set (empty: any).
pub mod ty {
    pub const STRING: u8 = 1;
    pub const INTEGER: u8 = 2;
    pub const NUMBER: u8 = 4;
    pub const BOOLEAN: u8 = 8;
    pub const ARRAY: u8 = 16;
    pub const OBJECT: u8 = 32;
    pub const NULL: u8 = 64;
}

/// What an object may hold beyond `properties` and `patternProperties`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Additional {
    #[default]
    Allowed,
    Forbidden,
    Schema(Id),
}

/// The `format`s proctor checks (the generator keeps only these).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    Ipv4,
    Ipv4Network,
    Ipv6,
    Ipv6Network,
    Date,
    DateTime,
}

/// A regular expression of a schema, compiled on first use. Schemas are written for
/// ECMAScript and Python's `regex`; a pattern neither `regex` nor `fancy-regex` accepts is
/// never checked (no false error from a dialect difference).
#[derive(Debug)]
pub struct Pattern {
    pub source: Box<str>,
    compiled: OnceLock<Arc<Compiled>>,
}

#[derive(Debug)]
enum Matcher {
    Plain(regex::Regex),
    Fancy(fancy_regex::Regex),
}

/// A pattern's compiled forms: for ASCII text, the pattern with Unicode classes narrowed
/// to ASCII (`\p{L}` is `A-Za-z` there), which builds in a fraction of the time; the full
/// pattern is compiled only when a value has other characters. Shared by every schema node
/// and type with the same pattern text.
#[derive(Debug)]
struct Compiled {
    ascii: Option<regex::Regex>,
    full: OnceLock<Option<Matcher>>,
    source: Box<str>,
}

impl Compiled {
    fn search(&self, text: &str) -> Option<bool> {
        if text.is_ascii()
            && let Some(re) = &self.ascii
        {
            return Some(re.is_match(text));
        }
        match self.full.get_or_init(|| compile(&self.source)).as_ref()? {
            Matcher::Plain(re) => Some(re.is_match(text)),
            Matcher::Fancy(re) => re.is_match(text).ok(),
        }
    }
}

fn compiled(source: &str) -> Arc<Compiled> {
    type Patterns = Mutex<HashMap<Box<str>, Arc<Compiled>>>;
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(p) = patterns.lock()
        && let Some(hit) = p.get(source)
    {
        return hit.clone();
    }
    let ascii = ascii_version(source).and_then(|src| {
        regex::RegexBuilder::new(&relax_counts(&src))
            .unicode(false)
            .size_limit(1 << 20)
            .build()
            .ok()
    });
    let made = Arc::new(Compiled {
        ascii,
        full: OnceLock::new(),
        source: source.into(),
    });
    if let Ok(mut p) = patterns.lock() {
        p.insert(source.into(), made.clone());
    }
    made
}

/// The pattern for ASCII text: `\p{L}`, `\p{N}`, `\p{Z}`, `\p{Lu}`, `\p{Ll}` as their ASCII
/// members, `\Z` as `\z`. `None` when the pattern has another Unicode property (it is then
/// always matched in full).
fn ascii_version(src: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len());
    let mut in_class = false;
    let mut rest = src;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let after = &rest[1..];
            if let Some(body) = after
                .strip_prefix("p{")
                .or_else(|| after.strip_prefix("P{"))
            {
                if after.starts_with('P') {
                    return None;
                }
                let end = body.find('}')?;
                let members = match &body[..end] {
                    "L" => "A-Za-z",
                    "Lu" => "A-Z",
                    "Ll" => "a-z",
                    "N" | "Nd" => "0-9",
                    "Z" | "Zs" => " ",
                    _ => return None,
                };
                if in_class {
                    out.push_str(members);
                } else {
                    out.push('[');
                    out.push_str(members);
                    out.push(']');
                }
                rest = &body[end + 1..];
                continue;
            }
            if let Some(tail) = after.strip_prefix('Z') {
                out.push_str("\\z");
                rest = tail;
                continue;
            }
            let next = after.chars().next().map_or(0, char::len_utf8);
            out.push_str(&rest[..1 + next]);
            rest = &after[next..];
            continue;
        }
        if c == '[' {
            in_class = true;
        } else if c == ']' {
            in_class = false;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

impl Pattern {
    fn new(source: &str) -> Pattern {
        Pattern {
            source: source.into(),
            compiled: OnceLock::new(),
        }
    }

    /// Whether `text` matches somewhere (JSON Schema's `pattern` is a search). Python's `$`
    /// also matches before a final newline, which block scalars end with. `None` when the
    /// pattern cannot be compiled or the match gives up (backtracking limit).
    pub fn is_match(&self, text: &str) -> Option<bool> {
        let compiled = self.compiled.get_or_init(|| compiled(&self.source));
        let search = |t: &str| compiled.search(t);
        match search(text)? {
            false if text.ends_with('\n') => search(&text[..text.len() - 1]),
            found => Some(found),
        }
    }
}

/// Compiles a schema pattern. Counted repetitions above 16 (`[a-z]{1,255}`) are relaxed to
/// `{m,}` with `m` at most 16: they are what makes a regex expensive to build (one copy of
/// the repeated part per count), and the relaxed pattern accepts more, so a value it rejects
/// is rejected by the schema too: a relaxation can hide a too-long value, never invent an
/// error. Lengths are also checked by `maxLength`.
fn compile(source: &str) -> Option<Matcher> {
    let src = relax_counts(&source.replace("\\Z", "\\z"));
    if let Ok(re) = regex::RegexBuilder::new(&src).size_limit(1 << 20).build() {
        return Some(Matcher::Plain(re));
    }
    fancy_regex::RegexBuilder::new(&src)
        .backtrack_limit(100_000)
        .build()
        .ok()
        .map(Matcher::Fancy)
}

/// `{m,n}`, `{m,}` and `{m}` with a count above 16 become `{min(m, 16),}`; escaped braces
/// (`\{`) and braces inside a class (`[{}]`) are left alone.
fn relax_counts(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let (mut i, mut in_class) = (0, false);
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            // An escape: copied as is (one char after the backslash, which may be multi-byte).
            let next = src[i + 1..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&src[i..i + 1 + next]);
            i += 1 + next;
            continue;
        }
        if c == b'[' {
            in_class = true;
        } else if c == b']' {
            in_class = false;
        } else if c == b'{' && !in_class {
            let close = src[i..].find('}').map(|j| i + j);
            if let Some(end) = close {
                let inner = &src[i + 1..end];
                let (lo, hi) = inner.split_once(',').unwrap_or((inner, inner));
                let digits = |t: &str| !t.is_empty() && t.bytes().all(|d| d.is_ascii_digit());
                if digits(lo) && (hi.is_empty() || digits(hi)) {
                    let m: usize = lo.parse().unwrap_or(0);
                    let n: usize = if hi.is_empty() {
                        m
                    } else {
                        hi.parse().unwrap_or(usize::MAX)
                    };
                    if m > 16 || n > 16 {
                        out.push_str(&format!("{{{},}}", m.min(16)));
                    } else {
                        out.push_str(&src[i..=end]);
                    }
                    i = end + 1;
                    continue;
                }
            }
        }
        let ch = src[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&src[i..i + ch]);
        i += ch;
    }
    out
}

/// One subschema, reduced to the keywords proctor validates.
#[derive(Debug, Default)]
pub struct SchemaNode {
    /// Allowed types ([`ty`] bits); 0 when the schema does not say.
    pub types: u8,
    pub reference: Option<Id>,
    /// Sorted by name.
    pub properties: Vec<(Box<str>, Id)>,
    /// Each property's [`fingerprint`] and index in `properties`, sorted: a lookup compares
    /// integers, and one name at the end (property lookups were a tenth of checking
    /// properties, mostly comparing names).
    by_fingerprint: Vec<(u64, u32)>,
    pub pattern_properties: Vec<(Pattern, Id)>,
    pub additional: Additional,
    pub required: Vec<Box<str>>,
    pub enumeration: Option<Vec<J>>,
    pub enum_case_insensitive: Option<Vec<J>>,
    pub constant: Option<J>,
    pub pattern: Option<Pattern>,
    pub format: Option<Format>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: Option<f64>,
    pub exclusive_maximum: Option<f64>,
    pub multiple_of: Option<f64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub items: Option<Id>,
    pub one_of: Vec<Id>,
    pub any_of: Vec<Id>,
    pub all_of: Vec<Id>,
    pub required_xor: Vec<Box<str>>,
    pub required_or: Vec<Box<str>>,
    pub dependent_required: Vec<(Box<str>, Vec<Box<str>>)>,
    pub dependent_excluded: Vec<(Box<str>, Vec<Box<str>>)>,
}

impl SchemaNode {
    pub fn property(&self, name: &str) -> Option<Id> {
        let f = fingerprint(name);
        let first = self.by_fingerprint.partition_point(|(g, _)| *g < f);
        self.by_fingerprint[first..]
            .iter()
            .take_while(|(g, _)| *g == f)
            .map(|(_, i)| &self.properties[*i as usize])
            .find(|(k, _)| **k == *name)
            .map(|(_, id)| *id)
    }
}

/// A property name's 64-bit hash, eight bytes at a time (FNV-1a's multiplier on words, the
/// length mixed in). Names that share one are told apart by comparing them.
fn fingerprint(name: &str) -> u64 {
    const K: u64 = 0x0100_0000_01b3;
    let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let bytes = name.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    let mut h = 0xcbf2_9ce4_8422_2325 ^ bytes.len() as u64;
    for word in &mut chunks {
        h = mix(h, u64::from_le_bytes(word.try_into().unwrap_or_default()));
    }
    // The tail as the low bytes of a word, byte by byte: `copy_from_slice` into a zeroed
    // word called `memcpy`.
    let tail = chunks.remainder().iter().rev();
    h = mix(h, tail.fold(0, |w, &b| (w << 8) | u64::from(b)));
    h ^ (h >> 32)
}

/// A resource type's compiled schema.
#[derive(Debug)]
pub struct Schema {
    pub nodes: Vec<SchemaNode>,
}

impl Schema {
    pub const ROOT: Id = 0;

    pub fn node(&self, id: Id) -> &SchemaNode {
        &self.nodes[id]
    }

    /// Compiles the generator's document `{"s": root, "d": [definitions]}`.
    fn compile(doc: &J) -> Option<Schema> {
        let defs = doc.get("d")?.as_array()?;
        let mut c = Compiler {
            nodes: Vec::with_capacity(defs.len() + 16),
            defs: defs.len(),
        };
        c.nodes.resize_with(1 + defs.len(), SchemaNode::default);
        let root = c.node(doc.get("s")?);
        c.nodes[0] = root;
        for (i, d) in defs.iter().enumerate() {
            c.nodes[1 + i] = c.node(d);
        }
        Some(Schema { nodes: c.nodes })
    }
}

struct Compiler {
    nodes: Vec<SchemaNode>,
    defs: usize,
}

fn names(v: Option<&J>) -> Vec<Box<str>> {
    v.and_then(J::as_array)
        .into_iter()
        .flatten()
        .filter_map(J::as_str)
        .map(Box::from)
        .collect()
}

fn dependents(v: Option<&J>) -> Vec<(Box<str>, Vec<Box<str>>)> {
    v.and_then(J::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (Box::from(k.as_str()), names(Some(v))))
        .collect()
}

fn type_bits(name: &str) -> u8 {
    match name {
        "string" => ty::STRING,
        "integer" => ty::INTEGER,
        "number" => ty::NUMBER,
        "boolean" => ty::BOOLEAN,
        "array" => ty::ARRAY,
        "object" => ty::OBJECT,
        "null" => ty::NULL,
        _ => 0,
    }
}

impl Compiler {
    /// Compiles a subschema in place and returns it (the caller stores it).
    fn node(&mut self, s: &J) -> SchemaNode {
        let mut n = SchemaNode::default();
        let Some(obj) = s.as_object() else {
            return n;
        };
        let num = |k: &str| obj.get(k).and_then(J::as_f64);
        let count = |k: &str| obj.get(k).and_then(J::as_u64);
        n.types = match obj.get("type") {
            Some(J::String(t)) => type_bits(t),
            Some(J::Array(ts)) => ts
                .iter()
                .filter_map(J::as_str)
                .map(type_bits)
                .fold(0, |a, b| a | b),
            _ => 0,
        };
        n.reference = obj
            .get("$ref")
            .and_then(J::as_u64)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < self.defs)
            .map(|i| i + 1);
        if let Some(props) = obj.get("properties").and_then(J::as_object) {
            let mut list: Vec<(Box<str>, Id)> = props
                .iter()
                .map(|(k, v)| (Box::from(k.as_str()), self.push(v)))
                .collect();
            list.sort_by(|a, b| a.0.cmp(&b.0));
            let mut by_fingerprint: Vec<(u64, u32)> = (0..list.len())
                .map(|i| (fingerprint(&list[i].0), i as u32))
                .collect();
            by_fingerprint.sort_unstable();
            n.properties = list;
            n.by_fingerprint = by_fingerprint;
        }
        if let Some(props) = obj.get("patternProperties").and_then(J::as_object) {
            n.pattern_properties = props
                .iter()
                .map(|(k, v)| (Pattern::new(k), self.push(v)))
                .collect();
        }
        n.additional = match obj.get("additionalProperties") {
            Some(J::Bool(false)) => Additional::Forbidden,
            Some(v @ J::Object(_)) => Additional::Schema(self.push(v)),
            _ => Additional::Allowed,
        };
        n.required = names(obj.get("required"));
        n.enumeration = obj.get("enum").and_then(J::as_array).cloned();
        n.enum_case_insensitive = obj
            .get("enumCaseInsensitive")
            .and_then(J::as_array)
            .cloned();
        n.constant = obj.get("const").cloned();
        n.pattern = obj.get("pattern").and_then(J::as_str).map(Pattern::new);
        n.format = obj.get("format").and_then(J::as_str).and_then(|f| match f {
            "ipv4" => Some(Format::Ipv4),
            "ipv4-network" => Some(Format::Ipv4Network),
            "ipv6" => Some(Format::Ipv6),
            "ipv6-network" => Some(Format::Ipv6Network),
            "date" => Some(Format::Date),
            "date-time" => Some(Format::DateTime),
            _ => None,
        });
        n.min_length = count("minLength");
        n.max_length = count("maxLength");
        n.minimum = num("minimum");
        n.maximum = num("maximum");
        n.exclusive_minimum = num("exclusiveMinimum");
        n.exclusive_maximum = num("exclusiveMaximum");
        n.multiple_of = num("multipleOf").filter(|m| *m > 0.0);
        n.min_items = count("minItems");
        n.max_items = count("maxItems");
        n.unique_items = obj.get("uniqueItems") == Some(&J::Bool(true));
        n.min_properties = count("minProperties");
        n.max_properties = count("maxProperties");
        n.items = obj
            .get("items")
            .filter(|v| v.is_object())
            .map(|v| self.push(v));
        let all = |k: &str, this: &mut Compiler| -> Vec<Id> {
            obj.get(k)
                .and_then(J::as_array)
                .into_iter()
                .flatten()
                .map(|v| this.push(v))
                .collect()
        };
        n.one_of = all("oneOf", self);
        n.any_of = all("anyOf", self);
        n.all_of = all("allOf", self);
        n.required_xor = names(obj.get("requiredXor"));
        n.required_or = names(obj.get("requiredOr"));
        n.dependent_required = dependents(obj.get("dependentRequired"));
        n.dependent_excluded = dependents(obj.get("dependentExcluded"));
        n
    }

    fn push(&mut self, s: &J) -> Id {
        let n = self.node(s);
        self.nodes.push(n);
        self.nodes.len() - 1
    }
}

/// The index part of the blob (after the magic line): the header line, then sorted
/// `TYPE<TAB>OFFSET<TAB>LEN` lines; and the compressed documents after the empty line.
fn parts() -> Option<(&'static str, &'static [u8])> {
    let rest = BLOB.strip_prefix(MAGIC)?;
    let end = rest.windows(2).position(|w| w == b"\n\n")?;
    let index = std::str::from_utf8(&rest[..end]).ok()?;
    Some((index, &rest[end + 2..]))
}

fn index() -> Option<(&'static str, &'static [u8])> {
    static PARTS: OnceLock<Option<(&'static str, &'static [u8])>> = OnceLock::new();
    *PARTS.get_or_init(parts)
}

/// The compressed document of a type, by binary search over the index lines.
fn find(type_name: &str) -> Option<&'static [u8]> {
    let (index, blobs) = index()?;
    let mut fields = super::types::sorted_line(index, type_name)?
        .split('\t')
        .skip(1);
    let offset: usize = fields.next()?.parse().ok()?;
    let len: usize = fields.next()?.parse().ok()?;
    blobs.get(offset..offset.checked_add(len)?)
}

static SCHEMAS: std::sync::LazyLock<crate::interned::Global<Schema>> =
    std::sync::LazyLock::new(Default::default);

thread_local! {
    static LOCAL: crate::interned::Local<Schema> = Default::default();
}

/// The compiled schema of a resource type, `None` when the dataset does not know it.
pub fn lookup(type_name: &str) -> Option<&'static Schema> {
    crate::interned::get((&*SCHEMAS, &LOCAL), type_name, || {
        let packed = find(type_name)?;
        let json =
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(packed, 16 << 20).ok()?;
        let doc: J = serde_json::from_slice(&json).ok()?;
        Schema::compile(&doc)
    })
}

/// Every type the dataset holds (for tests).
pub fn type_names() -> impl Iterator<Item = &'static str> {
    index()
        .map(|(i, _)| i)
        .unwrap_or("")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_inflates_and_compiles() {
        let mut n = 0;
        let mut properties = 0;
        for name in type_names() {
            let s = lookup(name).unwrap_or_else(|| panic!("{name}"));
            assert!(!s.nodes.is_empty());
            n += 1;
            // Every property is found by its name, and a name that differs by a letter is not.
            for node in &s.nodes {
                for (p, id) in &node.properties {
                    assert_eq!(node.property(p), Some(*id), "{name}: {p}");
                    assert_eq!(node.property(&format!("{p}x")), None, "{name}: {p}x");
                    properties += 1;
                }
            }
        }
        assert!(properties > 10_000, "{properties} properties");
        assert!(n > 1800, "{n} types");
        // The provider types, and SAM's (which the summary leaves out).
        let sam = type_names()
            .filter(|t| t.starts_with("AWS::Serverless::"))
            .count();
        assert!(sam >= 10, "{sam} SAM types");
        assert_eq!(
            type_names().count() - sam,
            super::super::types::names().count()
        );
    }

    #[test]
    fn nested_properties_are_reachable() {
        let s = lookup("AWS::S3::Bucket").unwrap();
        let root = s.node(Schema::ROOT);
        assert_eq!(root.additional, Additional::Forbidden);
        let vc = root.property("VersioningConfiguration").unwrap();
        let target = s.node(vc).reference.unwrap();
        assert!(s.node(target).property("Status").is_some());
        assert_eq!(&*s.node(target).required[0], "Status");
        assert!(lookup("AWS::S3::Buckett").is_none());
    }

    #[test]
    fn large_counts_are_relaxed_to_a_superset() {
        assert_eq!(relax_counts("^[a-z]{1,255}$"), "^[a-z]{1,}$");
        assert_eq!(relax_counts("^[0-9]{12}$"), "^[0-9]{12}$");
        assert_eq!(relax_counts("^a{20}$"), "^a{16,}$");
        assert_eq!(relax_counts("^x{2,}$"), "^x{2,}$");
        assert_eq!(relax_counts(r"^\{100}[{]{300}$"), r"^\{100}[{]{16,}$");
        assert_eq!(relax_counts("é{1,64}"), "é{1,}");
        assert_eq!(
            ascii_version(r"^[\p{L}\p{Z}_]+\Z").as_deref(),
            Some(r"^[A-Za-z _]+\z")
        );
        assert_eq!(ascii_version(r"\p{N}+").as_deref(), Some("[0-9]+"));
        assert_eq!(ascii_version(r"\p{Greek}"), None);
        let p = Pattern::new(r"^[\p{L}\p{N}]+$");
        assert_eq!(p.is_match("abc9"), Some(true));
        assert_eq!(p.is_match("ab-c"), Some(false));
        assert_eq!(p.is_match("Ωmega"), Some(true));
        assert_eq!(p.is_match("Ω-mega"), Some(false));
        let p = Pattern::new("^[a-z]{1,3}$");
        assert_eq!(p.is_match("abcd"), Some(false));
        let p = Pattern::new("^[a-z]{1,64}$");
        assert_eq!(p.is_match("ABC"), Some(false));
    }

    #[test]
    fn patterns_search_like_python() {
        let p = Pattern::new("^[a-z]+$");
        assert_eq!(p.is_match("abc"), Some(true));
        assert_eq!(p.is_match("abc\n"), Some(true));
        assert_eq!(p.is_match("ab1"), Some(false));
        assert_eq!(Pattern::new("b").is_match("abc"), Some(true));
        assert_eq!(Pattern::new("(?<=a)b").is_match("ab"), Some(true));
        assert_eq!(Pattern::new("(unclosed").is_match("x"), None);
    }
}
