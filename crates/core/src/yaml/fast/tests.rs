//! The fast reader against saphyr-parser: wherever the fast reader reads a text, it must
//! build the tree, with its spans and tags, and the findings that [`super::super::Builder`]
//! makes of saphyr's events, under each set of options; and it must give up on every text
//! saphyr rejects.

use std::path::{Path, PathBuf};

use super::super::{Cx, Node, ParseOptions, read_with_saphyr};
use super::read;
use crate::diag::Diagnostic;
use crate::source::SourceFile;

/// The options templates, specs and policy data are read with, and a low depth limit.
fn option_sets() -> [ParseOptions; 3] {
    [
        ParseOptions::default(),
        ParseOptions {
            warn_yaml11: true,
            guard_scalars: true,
            ..ParseOptions::default()
        },
        ParseOptions {
            max_depth: 3,
            warn_yaml11: true,
            ..ParseOptions::default()
        },
    ]
}

/// A reading: the tree (`None` when the text is rejected or, for the fast reader, left to
/// saphyr) and the findings, both as their debug text (a `.nan` equals itself there).
type Reading = (Option<String>, Vec<String>);

fn reading(node: Option<Node>, diags: &[Diagnostic]) -> Reading {
    (
        node.map(|n| format!("{n:#?}")),
        diags.iter().map(|d| format!("{d:?}")).collect(),
    )
}

/// The fast reader's reading of `text`.
fn fast(text: &str, opts: &ParseOptions) -> Reading {
    let source = SourceFile::new("t.yaml", "t.yaml", text.to_string());
    let mut diags = Vec::new();
    let mut cx = Cx {
        source: &source,
        opts,
        diags: &mut diags,
    };
    let node = read(text, &mut cx);
    reading(node, &diags)
}

/// saphyr's reading of `text`.
fn reference(text: &str, opts: &ParseOptions) -> Reading {
    let source = SourceFile::new("t.yaml", "t.yaml", text.to_string());
    let mut diags = Vec::new();
    let cx = Cx {
        source: &source,
        opts,
        diags: &mut diags,
    };
    let node = read_with_saphyr(cx, text, 0);
    reading(node, &diags)
}

/// Whether the fast reader read `text` with the default options (`Ok(true)`) or gave up
/// (`Ok(false)`), or disagreed with saphyr under some set of options (`Err`, saying where).
fn agree(text: &str) -> Result<bool, String> {
    let mut read_default = false;
    for (i, opts) in option_sets().iter().enumerate() {
        let (Some(tree), findings) = fast(text, opts) else {
            continue;
        };
        read_default |= i == 0;
        let (reference_tree, reference_findings) = reference(text, opts);
        let Some(reference_tree) = reference_tree else {
            return Err(format!(
                "the fast reader read a text saphyr rejects ({reference_findings:?}):\n{text}"
            ));
        };
        if tree != reference_tree {
            return Err(first_difference("tree", &tree, &reference_tree, text));
        }
        if findings != reference_findings {
            return Err(format!(
                "the findings differ:\n fast:   {findings:?}\n saphyr: {reference_findings:?}\ntext:\n{text}"
            ));
        }
    }
    Ok(read_default)
}

/// The first line where two debug texts differ, with the text around it.
fn first_difference(what: &str, fast: &str, reference: &str, text: &str) -> String {
    let at = fast
        .lines()
        .zip(reference.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(0);
    let context = |s: &str| {
        s.lines()
            .skip(at.saturating_sub(6))
            .take(8)
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "the {what} differs:\n fast:\n{}\n saphyr:\n{}\n{}",
        context(fast),
        context(reference),
        near(text, fast, at)
    )
}

/// The lines of `text` around the node whose debug text holds line `at` of `tree`, for
/// messages.
fn near(text: &str, tree: &str, at: usize) -> String {
    let offset = tree
        .lines()
        .take(at + 1)
        .filter_map(|l| l.trim().strip_prefix("span: "))
        .last()
        .and_then(|s| s.split("..").next())
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0)
        .min(text.len());
    let line = text[..offset].matches('\n').count();
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
    let opts = ParseOptions::default();
    let deep = format!("a: {}1{}\n", "[".repeat(500), "]".repeat(500));
    assert!(fast(&deep, &opts).0.is_none());
    let mut block = String::new();
    for i in 0..200 {
        block.push_str(&" ".repeat(i));
        block.push_str("a:\n");
    }
    assert!(fast(&block, &opts).0.is_none());
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
        .filter(|t| t.len() < 6_000 && fast(t, &ParseOptions::default()).0.is_some())
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
