//! A large proctor.toml read in pieces, in parallel; the deployments' tables, written as
//! tools and people write them, read by a line reader instead of the TOML parser.

use rayon::prelude::*;
use toml::Spanned;

use super::{RawConfig, RawEnvironment, RawService, RawWaiver};

/// A proctor.toml this large is parsed in pieces, in parallel (parsing 10,000
/// deployments' tables with the TOML parser took a warm check 40 ms on one core).
pub(super) const PIECES_FROM: usize = 512 * 1024;

/// About how large a piece is: a parse holds a document tree many times its text's size
/// (15 MB of text, 100,000 deployments, took 370 MB in one piece), so a piece's tree is
/// dropped before the next is parsed.
const PIECE_BYTES: usize = 256 * 1024;

/// The tables a piece after the first may hold: deployments, waivers and their sub-tables.
const PIECE_TABLES: [&str; 6] = [
    "[[environment]]",
    "[[service]]",
    "[[waiver]]",
    "[environment.",
    "[service.",
    "[waiver.",
];

/// A large proctor.toml parsed in pieces, in parallel: cut before the first `[[environment]]`,
/// `[[service]]` or `[[waiver]]` line and before such lines further on, each piece's spans
/// moved to its place in the file, and their deployments and waivers put together in order.
/// A piece after the first is read by `plain` when it can be, else by the TOML parser.
/// `None` (parse the whole file) unless the file is one such pieces can be read from
/// exactly: no multi-line strings, no CR, nothing but deployments, waivers and their
/// sub-tables from the first such line on, no top-level `environment`, `service` or
/// `waiver` key before it; and every piece parses (any error is the whole file's to
/// report).
pub(super) fn read_in_pieces(text: &str) -> Option<RawConfig> {
    let pieces = (text.len() / PIECE_BYTES).max(rayon::current_num_threads());
    if text.len() < PIECES_FROM
        || pieces < 2
        || memchr::memmem::find(text.as_bytes(), b"\"\"\"").is_some()
        || memchr::memmem::find(text.as_bytes(), b"'''").is_some()
        || memchr::memchr(b'\r', text.as_bytes()).is_some()
    {
        return None;
    }
    let header = |line: &str| {
        let line = line.trim_end();
        line == "[[environment]]" || line == "[[service]]" || line == "[[waiver]]"
    };
    // The cuts: the first header line, and the first at or after each even share.
    let mut before_tables = true;
    let mut cuts = vec![0];
    let mut first = None;
    let mut offset = 0;
    let next_table = memchr::memmem::Finder::new(b"\n[");
    // The lines that matter: each up to the first table (a top-level key there may name a
    // table array), then only those that start one.
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let line = &text[offset..end];
        let is_header = header(line);
        if first.is_none() && is_header {
            first = Some(offset);
        }
        if cuts.len() < pieces && offset >= cuts.len() * text.len() / pieces && is_header {
            cuts.push(offset);
        }
        let tail = first.is_some();
        if line.starts_with('[') && tail && !PIECE_TABLES.iter().any(|t| line.starts_with(t)) {
            return None;
        }
        before_tables &= !line.starts_with('[');
        if before_tables {
            let key = line.trim_start().trim_start_matches(['"', '\'']);
            let names_one = |k: &&str| {
                key.strip_prefix(*k).is_some_and(|r| {
                    r.trim_start_matches(['"', '\''])
                        .trim_start()
                        .starts_with(['=', '.'])
                })
            };
            if ["environment", "service", "waiver"].iter().any(names_one) {
                return None;
            }
        }
        offset = match before_tables {
            true => end,
            false => {
                let from = end - 1;
                next_table
                    .find(&text.as_bytes()[from..])
                    .map_or(text.len(), |i| from + i + 1)
            }
        };
    }
    if cuts.len() < 2 {
        return None;
    }
    // The settings before the deployments are a piece of their own, the TOML parser's.
    if let Some(first) = first.filter(|&f| f > 0 && f < cuts[1]) {
        cuts.insert(1, first);
    }
    cuts.push(text.len());
    let parsed: Vec<Option<RawConfig>> = (1..cuts.len())
        .into_par_iter()
        .map(|k| {
            let (start, end) = (cuts[k - 1], cuts[k]);
            if start > 0
                && let Some((environment, service)) = plain(&text[start..end], start)
            {
                return Some(RawConfig {
                    environment,
                    service,
                    ..Default::default()
                });
            }
            let mut raw: RawConfig = toml::from_str(&text[start..end]).ok()?;
            if start > 0 {
                raw.environment = shift_all(std::mem::take(&mut raw.environment), start);
                raw.service = shift_all(std::mem::take(&mut raw.service), start);
                raw.waiver = shift_all(std::mem::take(&mut raw.waiver), start);
            }
            Some(raw)
        })
        .collect();
    let pieces: Vec<RawConfig> = parsed.into_iter().collect::<Option<_>>()?;
    let mut parsed = pieces.into_iter();
    let mut raw = parsed.next()?;
    // Room for every piece's tables at once (10,000 services are megabytes, moved on the
    // serial path).
    let rest = parsed.as_slice();
    raw.environment
        .reserve(rest.iter().map(|p| p.environment.len()).sum());
    raw.service
        .reserve(rest.iter().map(|p| p.service.len()).sum());
    for piece in parsed {
        raw.environment.extend(piece.environment);
        raw.service.extend(piece.service);
        raw.waiver.extend(piece.waiver);
    }
    Some(raw)
}

/// `s`, read `by` bytes before its place in the file, at its place.
fn shifted<T>(s: Spanned<T>, by: usize) -> Spanned<T> {
    let span = s.span();
    Spanned::new(span.start + by..span.end + by, s.into_inner())
}

/// Tables read from a piece of proctor.toml that starts `by` bytes into the file, with their
/// spans moved to their places in the file.
pub(super) trait Shift: Sized {
    fn shift(self, by: usize) -> Self;
}

impl Shift for RawEnvironment {
    fn shift(self, by: usize) -> Self {
        RawEnvironment {
            name: shifted(self.name, by),
            template: shifted(self.template, by),
            spec: shifted(self.spec, by),
            account_id: self.account_id.map(|s| shifted(s, by)),
            stack: self.stack.map(|s| shifted(s, by)),
        }
    }
}

impl Shift for RawService {
    fn shift(self, by: usize) -> Self {
        RawService {
            name: shifted(self.name, by),
            template: shifted(self.template, by),
            spec: shifted(self.spec, by),
            stacks: self.stacks.map(|stacks| {
                let stacks = stacks.into_iter();
                stacks.map(|(k, v)| (k, shifted(v, by))).collect()
            }),
            pipeline_stack: self.pipeline_stack.map(|s| shifted(s, by)),
            ..self
        }
    }
}

impl Shift for RawWaiver {
    fn shift(self, by: usize) -> Self {
        RawWaiver {
            rule: shifted(self.rule, by),
            deployment: shifted(self.deployment, by),
            resource: self.resource.map(|s| shifted(s, by)),
            reason: shifted(self.reason, by),
            owner: shifted(self.owner, by),
            expires: shifted(self.expires, by),
        }
    }
}

/// Each of `tables`, shifted `by` bytes (in place: the list is not copied).
pub(super) fn shift_all<T: Shift>(tables: Vec<T>, by: usize) -> Vec<T> {
    tables.into_iter().map(|t| t.shift(by)).collect()
}

/// The `[[environment]]` and `[[service]]` tables of `piece` (which starts `at` bytes into
/// the file, with one of them), when each of its lines is blank, a comment, one of those
/// two headers, or a key of theirs set to a one-line string without escapes, with a comment
/// or not. `None` for anything else (other tables, inline tables, arrays, escapes, a key
/// written twice, a missing key), which the TOML parser reads or reports.
pub(super) fn plain(piece: &str, at: usize) -> Option<(Vec<RawEnvironment>, Vec<RawService>)> {
    // Room for the tables at once (grown one at a time, a piece's list was copied over and
    // over and took twice its room).
    let count = |header: &[u8]| memchr::memmem::find_iter(piece.as_bytes(), header).count();
    let (mut environments, mut services) = (
        Vec::with_capacity(count(b"[[environment]]")),
        Vec::with_capacity(count(b"[[service]]")),
    );
    let mut table: Option<Table> = None;
    let mut offset = at;
    for line in piece.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.strip_suffix('\n').unwrap_or(line);
        let rest = body.trim_start_matches([' ', '\t']);
        if rest.is_empty() || rest.starts_with('#') {
            comment(rest)?;
            continue;
        }
        if rest.starts_with('[') {
            let next = match body.trim_end_matches([' ', '\t']) {
                "[[environment]]" => Table::Environment(Fields::default()),
                "[[service]]" => Table::Service(Fields::default()),
                _ => return None,
            };
            if let Some(t) = table.replace(next) {
                t.finish(&mut environments, &mut services)?;
            }
            continue;
        }
        let key_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        let (key, after_key) = rest.split_at(key_len);
        let value = after_key
            .trim_start_matches([' ', '\t'])
            .strip_prefix('=')?
            .trim_start_matches([' ', '\t']);
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let close = value[1..].find(quote)? + 1;
        let text = &value[1..close];
        let escaped = quote == '"' && text.contains('\\');
        if key.is_empty() || escaped || has_control_but_tab(text) {
            return None;
        }
        comment(value[close + 1..].trim_start_matches([' ', '\t']))?;
        let from = start + (body.len() - value.len());
        let spanned = Spanned::new(from..from + close + 1, text.to_string());
        table.as_mut()?.set(key, spanned)?;
    }
    table?.finish(&mut environments, &mut services)?;
    Some((environments, services))
}

/// `Some` for nothing or a comment without control characters but tabs (the TOML parser
/// reports those).
fn comment(rest: &str) -> Option<()> {
    let fine = rest.is_empty() || rest.starts_with('#') && !has_control_but_tab(rest);
    fine.then_some(())
}

/// Whether `s` has a control character other than a tab (`char::is_control`: U+0000 to
/// U+001F and U+007F to U+009F), read as bytes: a search with a closure decodes every
/// character, and proctor.toml has a line per key.
fn has_control_but_tab(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        (c < 0x20 && c != b'\t')
            || c == 0x7f
            // U+0080 to U+009F are C2 80 to C2 9F in UTF-8.
            || (c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)))
    })
}

/// The keys of the table being read.
#[derive(Default)]
struct Fields(Vec<(&'static str, Spanned<String>)>);

enum Table {
    Environment(Fields),
    Service(Fields),
}

const ENVIRONMENT_KEYS: [&str; 5] = ["name", "template", "spec", "account_id", "stack"];
const SERVICE_KEYS: [&str; 7] = [
    "name",
    "template",
    "spec",
    "branch",
    "repository_id",
    "repository_connection_arn",
    "pipeline_stack",
];

impl Fields {
    /// Sets `key`, one of `keys`; `None` when it is not one or was set before.
    fn set(&mut self, keys: &[&'static str], key: &str, value: Spanned<String>) -> Option<()> {
        let key = *keys.iter().find(|k| **k == key)?;
        if self.0.iter().any(|(k, _)| *k == key) {
            return None;
        }
        self.0.push((key, value));
        Some(())
    }

    fn take(&mut self, key: &str) -> Option<Spanned<String>> {
        let i = self.0.iter().position(|(k, _)| *k == key)?;
        Some(self.0.swap_remove(i).1)
    }
}

impl Table {
    fn set(&mut self, key: &str, value: Spanned<String>) -> Option<()> {
        match self {
            Table::Environment(f) => f.set(&ENVIRONMENT_KEYS, key, value),
            Table::Service(f) => f.set(&SERVICE_KEYS, key, value),
        }
    }

    /// The table read, added to its list; `None` when a key it needs is missing.
    fn finish(
        self,
        environments: &mut Vec<RawEnvironment>,
        services: &mut Vec<RawService>,
    ) -> Option<()> {
        match self {
            Table::Environment(mut f) => environments.push(RawEnvironment {
                name: f.take("name")?,
                template: f.take("template")?,
                spec: f.take("spec")?,
                account_id: f.take("account_id"),
                stack: f.take("stack"),
            }),
            Table::Service(mut f) => services.push(RawService {
                name: f.take("name")?,
                template: f.take("template")?,
                spec: f.take("spec")?,
                branch: f.take("branch").map(Spanned::into_inner),
                repository_id: f.take("repository_id").map(Spanned::into_inner),
                repository_connection_arn: f
                    .take("repository_connection_arn")
                    .map(Spanned::into_inner),
                stacks: None,
                pipeline_stack: f.take("pipeline_stack"),
            }),
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::has_control_but_tab;

    /// The byte test agrees with `char::is_control` on every character up to U+0800 and on
    /// a few beyond, alone and between other text.
    #[test]
    fn control_characters_are_found_as_chars_would_find_them() {
        let chars = (0u32..0x800)
            .chain([0x2028, 0x200b, 0xfeff, 0x1f600])
            .filter_map(char::from_u32);
        for c in chars {
            for s in [c.to_string(), format!("ab{c}cd"), format!("é{c}")] {
                let by_chars = s.contains(|c: char| c.is_control() && c != '\t');
                assert_eq!(has_control_but_tab(&s), by_chars, "{:?}", c as u32);
            }
        }
    }
}
