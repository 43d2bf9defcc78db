//! The fast reader against saphyr-parser: wherever the fast reader reads a text, it must
//! produce saphyr's events with saphyr's spans (those `parse` reads), and it must give up on
//! every text saphyr rejects.

use std::ops::Range;
use std::path::{Path, PathBuf};

use saphyr_parser::{Event, Parser};

use super::events;

/// An event as `parse` sees it: the spans it reads, and the rest left out.
fn describe(event: &Event<'_>, span: Range<usize>) -> String {
    let tag = |t: &Option<std::borrow::Cow<'_, saphyr_parser::Tag>>| {
        t.as_ref().map(|t| t.to_string()).unwrap_or_default()
    };
    match event {
        Event::Scalar(value, style, anchor, t) => {
            format!("scalar {value:?} {style:?} &{anchor} {} {span:?}", tag(t))
        }
        Event::SequenceStart(anchor, t) => format!("seq &{anchor} {} at {}", tag(t), span.start),
        Event::MappingStart(anchor, t) => format!("map &{anchor} {} at {}", tag(t), span.start),
        Event::SequenceEnd | Event::MappingEnd if span.is_empty() => "end".to_string(),
        Event::SequenceEnd | Event::MappingEnd => format!("end {span:?}"),
        Event::DocumentStart(explicit) => format!("document {explicit}"),
        other => format!("{other:?}"),
    }
}

/// saphyr's events, or its error.
fn reference(text: &str) -> Result<Vec<String>, String> {
    let mut parser = Parser::new_from_str(text);
    let mut out = Vec::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| e.to_string())?;
        // Only ASCII texts are read fast, where characters are bytes.
        out.push(describe(&event, span.start.index()..span.end.index()));
    }
    Ok(out)
}

/// Whether the fast reader read `text` (`Ok(true)`), gave up (`Ok(false)`), or disagreed
/// with saphyr (`Err`, saying where).
fn agree(text: &str) -> Result<bool, String> {
    let Some(fast) = events(text) else {
        return Ok(false);
    };
    let fast: Vec<String> = fast.iter().map(|(e, s)| describe(e, s.clone())).collect();
    let reference = reference(text)
        .map_err(|e| format!("the fast reader read a text saphyr rejects ({e}):\n{text}"))?;
    if fast == reference {
        return Ok(true);
    }
    let at = fast
        .iter()
        .zip(&reference)
        .position(|(a, b)| a != b)
        .unwrap_or(fast.len().min(reference.len()));
    Err(format!(
        "event {at} differs:\n fast:   {:?}\n saphyr: {:?}\ntext:\n{}",
        fast.get(at),
        reference.get(at),
        near(text, fast.get(at).or(reference.get(at)))
    ))
}

/// The lines of `text` around the first span in `event`, for messages.
fn near(text: &str, event: Option<&String>) -> String {
    let at = event
        .and_then(|e| e.rsplit(' ').next())
        .and_then(|s| s.split("..").next())
        .and_then(|s| s.trim_start_matches("at ").parse::<usize>().ok())
        .unwrap_or(0)
        .min(text.len());
    let line = text[..at].matches('\n').count();
    let lines: Vec<&str> = text.lines().collect();
    let from = line.saturating_sub(4);
    let to = (line + 4).min(lines.len());
    format!("(line {})\n{}", line + 1, lines[from..to].join("\n"))
}

const READ: &[&str] = &[
    "a: 1\n",
    "a: 1",
    "---\na: 1\n",
    "# c\n\na: 1 # c\nb:   x   \n",
    "A:\n  B: |\n    text\n  # comment\n  C: x\n",
    "D: |+\n  a\n\n\nE: >\n  a\n  b\n\n  c\n    d\n  e\nF: |\n\n  x\nH: >-\n   x\n",
    "- |\n  a\n- b\n- c: |\n    x\n  d: 1\n",
    "K: |\n  a\n  b",
    "a:\n- x\n- y\nb: # c\nc: !Ref x\nd: [a, b,\n  c]\n",
    "E: !If\n  - x\n  - y\nF: !Sub\n  x: 1\n\"G\": {\"a\":1, b: [ ], 'c': d}\n",
    "H:\n  - [1, 2]\n  - {}\nI: v # c\nJ:\n",
    "Tags:\n- Key: a\n  Value: b\n- - nested\n  - more\n",
    "Name: !Sub \"${AWS::StackName}-x\"\nArn: !GetAtt [Role, Arn]\n",
    "s: 'it''s'\nd: \"tab\\there \\u00e9 \\x41\"\n",
    "{\n  \"a\": [1, 2, {\"b\": null}],\n  \"c\": \"d\"\n}\n",
    "list:\n  - arn:aws:s3:::bucket/*\n  - a#b\n  - -1\n",
    "m: [arn:aws:s3:::b, x]\n",
    "a:\n  - b\n  -\n  - c\n",
];

/// Texts saphyr reads that the fast reader must leave to it, or read the same way.
const OTHER: &[&str] = &[
    "a: &x 1\nb: *x\n",
    "? a\n: b\n",
    "a: b\n  c\n",
    "a: \"b\n  c\"\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: !!str 1\n",
    "a:\tb\n",
    "a: é\n",
    "a: |2\n   x\n",
    "a: [b, ]\n",
    "a: {b}\n",
    "a: [b: c]\n",
    "a: b: c\n",
    "a:\n  - b\n c: d\n",
    "a: 'x' y\n",
    "a: [1,\n2]\n",
    "- a\n  b\n",
    "a:\n- b\nc:\n  - d\n  e: f\n",
    "\"a\" : 1\n",
    "a : 1\n",
    "a: |\nb: 1\n",
    "a: |\n  x\n   \n  y\n",
    "a: >\n  x\n\n   y\n  z\n",
    "a: !Ref\nb: 1\n",
    "a: !If\n- x\n",
    "",
    "# only a comment\n",
    "a: \"\\q\"\n",
    "a: [x\n  y]\n",
    "a: {x: 1,\n  y: 2}\n",
];

#[test]
fn reads_the_common_forms_as_saphyr_does() {
    for text in READ {
        match agree(text) {
            Ok(true) => {}
            Ok(false) => panic!("the fast reader gave up on a common form:\n{text}"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn leaves_the_rest_to_saphyr_or_agrees() {
    for text in OTHER {
        if let Err(e) = agree(text) {
            panic!("{e}");
        }
    }
}

#[test]
fn deep_nesting_is_left_to_saphyr() {
    let deep = format!("a: {}1{}\n", "[".repeat(500), "]".repeat(500));
    assert!(events(&deep).is_none());
    let mut block = String::new();
    for i in 0..200 {
        block.push_str(&" ".repeat(i));
        block.push_str("a:\n");
    }
    assert!(events(&block).is_none());
}

/// The YAML and JSON files of the fixtures and of the public corpus (`../shared/corpus`, or
/// `PROCTOR_CORPUS`), when it is there.
fn yaml_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let corpus = std::env::var_os("PROCTOR_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("fixtures"), corpus];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json" | "template" | "j2"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn agrees_with_saphyr_on_every_fixture_and_corpus_file() {
    let files = yaml_files();
    let mut read = 0;
    let mut failures = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        match agree(&text) {
            Ok(true) => read += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files differ; the first:\n{}",
        failures.len(),
        files.len(),
        failures[0]
    );
    // Most of them are in the subset (the fixtures alone have a few hundred).
    assert!(
        read * 2 > files.len(),
        "the fast reader read only {read} of {} files",
        files.len()
    );
}

/// Small random edits of real files (characters that matter to YAML inserted, deleted or
/// replaced; lines indented or dedented, duplicated, swapped): the fast reader reads the
/// result as saphyr does, or gives up.
#[test]
fn agrees_with_saphyr_on_mutated_files() {
    let files: Vec<String> = yaml_files()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|t| t.len() < 6_000 && events(t).is_some())
        .collect();
    assert!(!files.is_empty());
    // More rounds and another seed from the environment, for a longer search by hand.
    let rounds: usize = std::env::var("PROCTOR_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(12_000);
    let mut state = std::env::var("PROCTOR_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15_u64)
        | 1;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    const CHARS: &[u8] = b" \n:-#'\"[]{},!|>&*?x1\\";
    let mut checked = 0;
    for round in 0..rounds {
        let text = &files[round % files.len()];
        let mut bytes = text.as_bytes().to_vec();
        for _ in 0..1 + next(3) {
            let at = next(bytes.len() + 1);
            match next(6) {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, CHARS[next(CHARS.len())]),
                2 if at < bytes.len() => bytes[at] = CHARS[next(CHARS.len())],
                3 => {
                    // Indent or dedent the line `at` is on.
                    let start = bytes[..at.min(bytes.len())]
                        .iter()
                        .rposition(|&c| c == b'\n')
                        .map_or(0, |p| p + 1);
                    if next(2) == 0 {
                        bytes.insert(start, b' ');
                    } else if bytes.get(start) == Some(&b' ') {
                        bytes.remove(start);
                    }
                }
                _ => {
                    // Duplicate or swap whole lines.
                    let mut lines: Vec<&[u8]> = bytes.split(|&c| c == b'\n').collect();
                    let i = next(lines.len());
                    let j = next(lines.len());
                    if next(2) == 0 {
                        lines.insert(j, lines[i]);
                    } else {
                        lines.swap(i, j);
                    }
                    bytes = lines.join(&b'\n');
                }
            }
        }
        let Ok(mutated) = String::from_utf8(bytes) else {
            continue;
        };
        if let Err(e) = agree(&mutated) {
            panic!("round {round}: {e}");
        }
        checked += 1;
    }
    assert!(checked > rounds * 4 / 5);
}
