//! Completion, hover and go to definition, by the kind of file the cursor is in: a spec, a
//! template, a policy. Each answer is read from the files themselves (the editor's buffers
//! first) and from what the last run learnt (which bundle checks a spec, which environments a
//! service template may read).

use std::ops::Range;
use std::path::{Path, PathBuf};

use lsp_types::{
    CompletionItem, CompletionItemKind, Location, MarkupContent, MarkupKind, Position,
};
use regex::Regex;

use crate::checker::{Index, spec_kind_line};
use crate::inputs::{self, Inputs};
use crate::text::{Lines, uri_of};
use crate::yaml_context::{Place, place};
use proctor_core::files::Buffers;
use proctor_core::limits::Limits;
use proctor_model::bundle::{self, Bundle, BundleDir, Role};
use proctor_pipeline::config;

/// What the handlers read: the buffers, the workspace's root and what runs learnt of it.
pub struct Context<'a> {
    pub buffers: &'a Buffers,
    pub root: &'a Path,
    pub index: Option<&'a Index>,
}

/// The kinds of file proctor knows.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    Spec,
    Template(PathBuf),
    Policy,
    Config,
    Other,
}

impl Context<'_> {
    pub fn text(&self, path: &Path) -> String {
        match self.buffers.get(path) {
            Some(t) => t.to_string(),
            None => std::fs::read_to_string(path).unwrap_or_default(),
        }
    }

    pub fn kind(&self, path: &Path, text: &str) -> Kind {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == config::FILE_NAME {
            return Kind::Config;
        }
        if name.ends_with(".guard") {
            return Kind::Policy;
        }
        if spec_kind_line(text).is_some() {
            return Kind::Spec;
        }
        match bundle_of(path) {
            Some(dir) if !path.starts_with(dir.join("schema")) && name != "manifest.yaml" => {
                Kind::Template(dir)
            }
            _ => Kind::Other,
        }
    }

    fn load(&self, dir: &Path) -> Bundle {
        let display = dir
            .strip_prefix(self.root)
            .unwrap_or(dir)
            .to_string_lossy()
            .into_owned();
        let d = BundleDir {
            path: dir.to_path_buf(),
            display,
        };
        bundle::load_in(&d, &Limits::default(), self.buffers, &mut Vec::new())
    }

    /// The bundle the last run checked a spec against.
    fn spec_bundle(&self, spec: &Path) -> Option<Bundle> {
        let dir = self
            .index?
            .spec_bundles
            .get(&proctor_core::paths::identity(spec))?;
        Some(self.load(dir))
    }
}

/// The nearest folder at or above a file that is a bundle's root.
pub fn bundle_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .take(4)
        .find(|d| bundle::discover::is_bundle(d))
        .map(Path::to_path_buf)
}

fn markdown(value: String) -> lsp_types::Hover {
    lsp_types::Hover {
        contents: lsp_types::HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: None,
    }
}

fn location(path: &Path, text: &str, span: &Range<usize>) -> Option<Location> {
    Some(Location::new(uri_of(path)?, Lines::new(text).range(span)))
}

// ---------------------------------------------------------------------------------- specs

/// Which inputs a place in a spec writes, by the keys above it.
fn spec_inputs(text: &str, p: &Place) -> Option<Inputs> {
    let service = spec_kind_line(text).is_some_and(|r| text[r].starts_with("Service"));
    let parents: Vec<&str> = p.parents.iter().map(String::as_str).collect();
    match (service, parents.as_slice()) {
        (false, ["spec"]) => Some(Inputs::Environment),
        (true, ["instances", "-", "spec"]) => Some(Inputs::ServiceInstance),
        (true, ["pipeline"]) => Some(Inputs::Pipeline),
        _ => None,
    }
}

/// Keys already written in the mapping the cursor is in (its siblings), to leave out.
fn siblings(text: &str, offset: usize) -> Vec<String> {
    let lines = Lines::new(text);
    let (line, here) = lines.line_of(offset);
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(here);
    let mut out = Vec::new();
    let same = |l: &str| !l.trim().is_empty() && indent(l) == own;
    let key = |l: &str| l.trim().split_once(':').map(|(k, _)| k.trim().to_string());
    for n in (0..line).rev() {
        let l = lines.line(n);
        if !l.trim().is_empty() && indent(l) < own {
            break;
        }
        if same(l) {
            out.extend(key(l));
        }
    }
    for n in line + 1.. {
        let l = lines.line(n);
        if lines.start(n) >= text.len() || !l.trim().is_empty() && indent(l) < own {
            break;
        }
        if same(l) {
            out.extend(key(l));
        }
    }
    out
}

pub fn spec_completion(
    cx: &Context,
    path: &Path,
    text: &str,
    offset: usize,
) -> Vec<CompletionItem> {
    let p = place(text, offset);
    let parents: Vec<&str> = p.parents.iter().map(String::as_str).collect();
    if parents == ["instances", "-"] {
        if p.on_value && p.key.as_deref() == Some("environment") {
            return environments(cx);
        }
        if !p.on_value {
            return keywords(&["name", "environment", "spec"]);
        }
    }
    if parents.is_empty() && !p.on_value {
        return keywords(&["proton", "spec", "instances", "pipeline"]);
    }
    if parents.is_empty() && p.key.as_deref() == Some("proton") {
        let mut k = keywords(&["EnvironmentSpec", "ServiceSpec"]);
        k.iter_mut().for_each(|i| i.insert_text = None);
        return k;
    }
    let Some(which) = spec_inputs(text, &p) else {
        return Vec::new();
    };
    let Some(b) = cx.spec_bundle(path) else {
        return Vec::new();
    };
    let Some(ty) = which.of(&b) else {
        return Vec::new();
    };
    match (&p.key, p.on_value) {
        (Some(k), true) => inputs::value_items(ty, k),
        _ => {
            let mut written = siblings(text, offset);
            written.retain(|w| Some(w) != p.key.as_ref());
            inputs::items(&b, ty, &written, p.key.is_none())
        }
    }
}

fn keywords(words: &[&str]) -> Vec<CompletionItem> {
    words
        .iter()
        .map(|w| CompletionItem {
            label: (*w).to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            insert_text: Some(format!("{w}: ")),
            ..CompletionItem::default()
        })
        .collect()
}

/// The environments proctor.toml declares, for an instance's `environment:`.
fn environments(cx: &Context) -> Vec<CompletionItem> {
    let path = cx.root.join(config::FILE_NAME);
    let text = cx.text(&path);
    let src = proctor_core::source::SourceFile::new(config::FILE_NAME, &path, text);
    let Some(cfg) = config::parse(&src, cx.root, &mut Vec::new()) else {
        return Vec::new();
    };
    cfg.environments
        .iter()
        .map(|e| CompletionItem {
            label: e.name.value.clone(),
            kind: Some(CompletionItemKind::VALUE),
            detail: Some(format!("environment ({})", e.spec.value.display())),
            ..CompletionItem::default()
        })
        .collect()
}

pub fn spec_hover(cx: &Context, path: &Path, text: &str, offset: usize) -> Option<String> {
    let p = place(text, offset);
    let which = spec_inputs(text, &p)?;
    let key = p.key.as_deref()?;
    let b = cx.spec_bundle(path)?;
    inputs::hover(&b, which.of(&b)?, key)
}

pub fn spec_definition(cx: &Context, path: &Path, text: &str, offset: usize) -> Option<Location> {
    let p = place(text, offset);
    let b = cx.spec_bundle(path)?;
    let schema = b.schema.as_ref()?;
    let at = spec_inputs(text, &p)
        .zip(p.key.as_deref())
        .and_then(|(which, key)| inputs::declared_at(which.of(&b)?, key))
        .unwrap_or(0..0);
    location(schema.source.path(), schema.source.text(), &at)
}

// ------------------------------------------------------------------------------ templates

/// `environment.inputs.vpc_cidr`: a namespace, a part and a name.
fn reference() -> Regex {
    #[allow(clippy::expect_used)] // a constant pattern
    Regex::new(r"\b(environment|service_instance|pipeline)\.(inputs|outputs)\.([A-Za-z0-9_]*)")
        .expect("a valid pattern")
}

/// The reference the cursor is on (or at the end of), with the name's byte range.
fn reference_at(text: &str, offset: usize) -> Option<(String, String, String, Range<usize>)> {
    let lines = Lines::new(text);
    let (line, l) = lines.line_of(offset);
    let start = lines.start(line);
    let col = offset - start;
    reference().captures_iter(l).find_map(|c| {
        let all = c.get(0)?;
        if col < all.start() || col > all.end() {
            return None;
        }
        let name = c.get(3)?;
        Some((
            c[1].to_string(),
            c[2].to_string(),
            name.as_str().to_string(),
            start + name.start()..start + name.end(),
        ))
    })
}

fn namespace(ns: &str) -> Option<Inputs> {
    match ns {
        "environment" => Some(Inputs::Environment),
        "service_instance" => Some(Inputs::ServiceInstance),
        "pipeline" => Some(Inputs::Pipeline),
        _ => None,
    }
}

/// The outputs of the environment templates a service bundle may deploy into: each name
/// with the template file, its text and the key's range.
fn environment_outputs(cx: &Context, dir: &Path) -> Vec<(String, PathBuf, String, Range<usize>)> {
    let key = proctor_core::paths::identity(dir);
    let envs: Vec<PathBuf> = match cx.index.and_then(|i| i.environments_of.get(&key)) {
        Some(e) => e.clone(),
        // The bundle is an environment's own: its outputs are what services read.
        None => vec![dir.to_path_buf()],
    };
    let mut out = Vec::new();
    for env in envs {
        let b = cx.load(&env);
        for infra in b
            .infrastructure
            .iter()
            .filter(|i| i.role == Role::Environment)
        {
            for t in infra.templates.iter().filter_map(|t| t.path.as_ref()) {
                let text = cx.text(t);
                for (name, span) in proctor_template::analyse::output_keys(&text).0 {
                    out.push((name, t.clone(), text.clone(), span));
                }
            }
        }
    }
    out
}

pub fn template_completion(
    cx: &Context,
    dir: &Path,
    text: &str,
    offset: usize,
) -> Vec<CompletionItem> {
    let Some((ns, part, _, span)) = reference_at(text, offset) else {
        return Vec::new();
    };
    // On the namespace (`environment.inp|uts`), not the name: nothing to offer.
    if offset < span.start {
        return Vec::new();
    }
    if part == "outputs" {
        return environment_outputs(cx, dir)
            .into_iter()
            .map(|(name, file, _, _)| CompletionItem {
                label: name,
                kind: Some(CompletionItemKind::FIELD),
                detail: Some(format!("output of {}", file.display())),
                ..CompletionItem::default()
            })
            .collect();
    }
    let b = cx.load(dir);
    match namespace(&ns).and_then(|n| n.of(&b)) {
        Some(ty) => inputs::items(&b, ty, &[], false),
        None => Vec::new(),
    }
}

pub fn template_hover(cx: &Context, dir: &Path, text: &str, offset: usize) -> Option<String> {
    let (ns, part, name, _) = reference_at(text, offset)?;
    if part == "outputs" {
        let (_, file, _, _) = environment_outputs(cx, dir)
            .into_iter()
            .find(|(n, ..)| *n == name)?;
        return Some(format!("**{name}**: an output of `{}`", file.display()));
    }
    let b = cx.load(dir);
    inputs::hover(&b, namespace(&ns)?.of(&b)?, &name)
}

pub fn template_definition(
    cx: &Context,
    dir: &Path,
    text: &str,
    offset: usize,
) -> Option<Location> {
    let (ns, part, name, _) = reference_at(text, offset)?;
    if part == "outputs" {
        let (_, file, text, span) = environment_outputs(cx, dir)
            .into_iter()
            .find(|(n, ..)| *n == name)?;
        return location(&file, &text, &span);
    }
    let b = cx.load(dir);
    let schema = b.schema.as_ref()?;
    let span = inputs::declared_at(namespace(&ns)?.of(&b)?, &name)?;
    location(schema.source.path(), schema.source.text(), &span)
}

// ------------------------------------------------------------------------------- policies

/// Names defined in a file, each with the range of its definition.
type Names = Vec<(String, Range<usize>)>;

/// Rules and variables a policy file defines, each with its name's range.
fn policy_names(text: &str) -> (Names, Names) {
    #[allow(clippy::expect_used)] // constant patterns
    let rule = Regex::new(r"(?m)^[ \t]*rule[ \t]+([A-Za-z_][A-Za-z0-9_]*)").expect("valid");
    #[allow(clippy::expect_used)]
    let var = Regex::new(r"\blet[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(=|:=)").expect("valid");
    let code = without_comments(text);
    let grab = |re: &Regex| -> Vec<(String, Range<usize>)> {
        re.captures_iter(&code)
            .filter_map(|c| c.get(1))
            .map(|m| (m.as_str().to_string(), m.range()))
            .collect()
    };
    (grab(&rule), grab(&var))
}

/// The text with `#` comments blanked (same length, so ranges stay valid). Strings keep
/// their `#`.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut comment = false;
    for c in text.chars() {
        match c {
            '\n' => {
                comment = false;
                quote = None;
                out.push(c);
                continue;
            }
            _ if comment => {}
            '"' | '\'' if quote == Some(c) => quote = None,
            '"' | '\'' if quote.is_none() => quote = Some(c),
            '#' if quote.is_none() => comment = true,
            _ => {}
        }
        if comment {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}

/// The word at a byte offset (letters, digits, `_`), its range, and the character before.
fn word_at(text: &str, offset: usize) -> Option<(String, Range<usize>, Option<char>)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    let before = text[..start].chars().next_back();
    Some((text[start..end].to_string(), start..end, before))
}

pub fn policy_completion(text: &str, offset: usize) -> Vec<CompletionItem> {
    let (rules, vars) = policy_names(text);
    let after_percent = word_at(text, offset).is_some_and(|(_, _, b)| b == Some('%'));
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut push = |name: &str, kind, detail: &str| {
        if !items.iter().any(|i| i.label == name) {
            items.push(CompletionItem {
                label: name.to_string(),
                kind: Some(kind),
                detail: Some(detail.to_string()),
                ..CompletionItem::default()
            });
        }
    };
    for (v, _) in &vars {
        push(v, CompletionItemKind::VARIABLE, "variable");
    }
    if !after_percent {
        for (r, _) in &rules {
            push(r, CompletionItemKind::FUNCTION, "rule");
        }
    }
    items
}

pub fn policy_definition(path: &Path, text: &str, offset: usize) -> Option<Location> {
    let (word, _, before) = word_at(text, offset)?;
    if word.is_empty() {
        return None;
    }
    let (rules, vars) = policy_names(text);
    let span = if before == Some('%') {
        // The nearest `let` above the use (a rule's own), else any in the file.
        let mut named = vars.iter().filter(|(n, _)| *n == word);
        let above = vars.iter().rfind(|(n, s)| *n == word && s.start <= offset);
        above.or_else(|| named.next())?.1.clone()
    } else {
        rules.iter().find(|(n, _)| *n == word)?.1.clone()
    };
    location(path, text, &span)
}

// ------------------------------------------------------------------------------ any file

/// The explanation of a diagnostic code, as `proctor explain` gives it, in Markdown.
pub fn explain(id: &str) -> Option<String> {
    let c = proctor_core::diag::codes::find(id)?;
    Some(format!(
        "**{}** {} ({}, stage: {})\n\n**What it checks** {}\n\n**Why it matters** {}\n\n**Example** {}\n\n**How to fix it** {}\n\n[Documentation]({})",
        c.id,
        c.name,
        c.severity.as_str(),
        c.stage,
        c.what,
        c.why,
        c.example,
        c.fix,
        c.docs_url()
    ))
}

/// A code written in the text at the cursor (`# proctor: ignore[I003]`).
pub fn code_at(text: &str, offset: usize) -> Option<String> {
    let (word, _, _) = word_at(text, offset)?;
    let b = word.as_bytes();
    let looks = b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit);
    looks.then_some(word)
}

pub fn hover(text: String) -> lsp_types::Hover {
    markdown(text)
}

/// The position's byte offset in a text.
pub fn offset(text: &str, pos: Position) -> usize {
    Lines::new(text).offset(pos)
}
