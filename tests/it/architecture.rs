//! The workspace's shape, as ARCHITECTURE.md states it: each crate depends only on the
//! crates below it, the policy engine's closure has no CLI, Jinja or AWS crate, and every
//! library crate denies printing. Read from `cargo metadata`, offline.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value as Json;

use crate::support::root;

/// Each workspace crate, and the workspace crates it may depend on (everything below it).
const LAYERS: &[(&str, &[&str])] = &[
    ("proctor-core", &[]),
    ("proctor-guard", &["proctor-core"]),
    ("proctor-cfn", &["proctor-core"]),
    ("proctor-model", &["proctor-core"]),
    (
        "proctor-template",
        &["proctor-core", "proctor-cfn", "proctor-model"],
    ),
    (
        "proctor-pipeline",
        &[
            "proctor-core",
            "proctor-guard",
            "proctor-cfn",
            "proctor-model",
            "proctor-template",
        ],
    ),
    (
        "proctor-lsp",
        &[
            "proctor-core",
            "proctor-guard",
            "proctor-cfn",
            "proctor-model",
            "proctor-template",
            "proctor-pipeline",
        ],
    ),
];

fn metadata() -> Json {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// Package id → name, and package id → the ids of its normal (not dev, not build)
/// dependencies, with default features as the workspace resolves them.
fn graph(meta: &Json) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let names = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let deps = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let normal = n["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null())
                })
                .map(|d| d["pkg"].as_str().unwrap().to_string())
                .collect();
            (n["id"].as_str().unwrap().to_string(), normal)
        })
        .collect();
    (names, deps)
}

fn id_of<'a>(names: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    names
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(id, _)| id.as_str())
        .unwrap_or_else(|| panic!("{name} is not in the workspace"))
}

#[test]
fn each_crate_depends_only_on_the_crates_below_it() {
    let meta = metadata();
    let (names, deps) = graph(&meta);
    let workspace: BTreeSet<&str> = LAYERS.iter().map(|(n, _)| *n).collect();
    for (krate, allowed) in LAYERS {
        let direct: BTreeSet<&str> = deps[id_of(&names, krate)]
            .iter()
            .map(|id| names[id].as_str())
            .filter(|n| workspace.contains(n) || *n == "proctor")
            .collect();
        let extra: Vec<&&str> = direct.iter().filter(|n| !allowed.contains(n)).collect();
        assert!(
            extra.is_empty(),
            "{krate} depends on {extra:?}, which are not below it"
        );
    }
}

#[test]
fn the_policy_engine_needs_no_cli_jinja_or_aws_crate() {
    let meta = metadata();
    let (names, deps) = graph(&meta);
    let mut seen = BTreeSet::new();
    let mut stack = vec![id_of(&names, "proctor-guard").to_string()];
    while let Some(id) = stack.pop() {
        if seen.insert(id.clone()) {
            stack.extend(deps[&id].iter().cloned());
        }
    }
    let closure: BTreeSet<&str> = seen.iter().map(|id| names[id].as_str()).collect();
    let banned: Vec<&&str> = closure
        .iter()
        .filter(|n| {
            n.starts_with("clap")
                || n.starts_with("minijinja")
                || n.starts_with("aws-")
                || **n == "tokio"
                || **n == "miette"
        })
        .collect();
    assert!(banned.is_empty(), "proctor-guard pulls in {banned:?}");
    assert!(
        closure.contains("pest"),
        "the closure was not read: {closure:?}"
    );
}

#[test]
fn every_library_crate_denies_printing() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let lints = manifest
        .split("[workspace.lints.clippy]")
        .nth(1)
        .expect("the workspace declares clippy lints");
    for lint in ["print_stdout = \"deny\"", "print_stderr = \"deny\""] {
        assert!(
            lints.contains(lint),
            "[workspace.lints.clippy] lacks {lint}"
        );
    }
    for (krate, _) in LAYERS {
        let dir = krate.trim_start_matches("proctor-");
        let toml = std::fs::read_to_string(root().join("crates").join(dir).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{krate}: {e}"));
        assert!(
            toml.contains("[lints]\nworkspace = true"),
            "{krate} does not take the workspace's lints"
        );
    }
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    assert!(lib.contains("#![deny(clippy::print_stdout, clippy::print_stderr)]"));
}

/// Every crate's `src` folder: the root crate's, then the workspace crates'.
fn crate_sources() -> Vec<std::path::PathBuf> {
    let mut crates = vec![root().join("src")];
    crates.extend(LAYERS.iter().map(|(n, _)| {
        root()
            .join("crates")
            .join(n.trim_start_matches("proctor-"))
            .join("src")
    }));
    crates
}

/// The `.rs` files of a crate's `src`, each with its module path (`a/b.rs` and `a/b/mod.rs`
/// are `[a, b]`; `lib.rs` and `main.rs` are `[]`).
fn modules(src: &std::path::Path) -> Vec<(Vec<String>, std::path::PathBuf)> {
    crate::support::files_under(src, |p| p.extension().is_some_and(|e| e == "rs"))
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut path: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                path.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                path.pop();
            }
            (path, p)
        })
        .collect()
}

/// The text without comments and without the contents of string literals (so that braces
/// and paths in them do not count).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Brace characters (`'{'`, `'}'`) are not braces.
    let text = text.replace("'{'", "'_'").replace("'}'", "'_'");
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if !in_str && c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' && !(prev == '\'' && chars.peek() == Some(&'\'')) {
                in_str = !in_str;
                out.push('"');
            } else if !in_str {
                out.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
        }
        out.push('\n');
    }
    out
}

/// The top-level modules of its crate that a file names: `crate::x`, the names in
/// `crate::{x, y::z}`, and `super::x` that climbs to the crate root.
fn top_level_uses(module: &[String], text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => {
                        out.insert(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 {
                    item.push(c);
                }
            }
            out.insert(ident(item.trim()));
        } else {
            out.insert(ident(rest));
        }
    }
    // `super::` from module `a::b` (file a/b.rs) is `a`; from a top-level file, the root.
    for (at, _) in text.match_indices("super::") {
        if text[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &text[at..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        if ups == module.len() {
            out.insert(ident(rest));
        }
    }
    out
}

#[test]
fn no_import_cycle_between_the_top_level_modules_of_any_crate() {
    let crates = crate_sources();
    for src in crates {
        let files = modules(&src);
        let tops: BTreeSet<String> = files
            .iter()
            .filter_map(|(m, _)| m.first().cloned())
            .collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (module, file) in &files {
            let Some(top) = module.first() else { continue };
            let text = code_only(&std::fs::read_to_string(file).unwrap());
            let used = top_level_uses(module, &text);
            let entry = edges.entry(top.clone()).or_default();
            entry.extend(used.into_iter().filter(|u| tops.contains(u) && u != top));
        }
        // A cycle is an edge a -> b with a reachable from b.
        let reaches = |from: &str, to: &str| {
            let mut seen = BTreeSet::new();
            let mut stack = vec![from.to_string()];
            while let Some(m) = stack.pop() {
                if m == to {
                    return true;
                }
                if seen.insert(m.clone()) {
                    stack.extend(edges.get(&m).into_iter().flatten().cloned());
                }
            }
            false
        };
        let cycles: Vec<String> = edges
            .iter()
            .flat_map(|(a, bs)| bs.iter().map(move |b| (a, b)))
            .filter(|(a, b)| reaches(b, a))
            .map(|(a, b)| format!("{a} -> {b}"))
            .collect();
        assert!(cycles.is_empty(), "{}: cycles {cycles:?}", src.display());
        assert!(!edges.is_empty(), "{}: no module read", src.display());
    }
}

/// Functions over 150 lines and files over 1,000 lines (outside test modules), per the
/// workspace's rule.
#[test]
fn no_function_over_150_lines_and_no_file_over_1000() {
    let crates = crate_sources();
    let mut long = Vec::new();
    for src in crates {
        for (_, file) in modules(&src) {
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = code_only(&std::fs::read_to_string(&file).unwrap());
            let lines: Vec<&str> = text.lines().collect();
            let end = lines
                .iter()
                .position(|l| l.starts_with("mod tests"))
                .map_or(lines.len(), |i| i.saturating_sub(1));
            let shown = file.strip_prefix(root()).unwrap().display().to_string();
            if end > 1_000 {
                long.push(format!("{shown}: {end} lines"));
            }
            let mut i = 0;
            while i < end {
                let t = lines[i].trim_start();
                let is_fn = [
                    "fn ",
                    "pub fn ",
                    "pub(crate) fn ",
                    "pub(super) fn ",
                    "const fn ",
                    "pub const fn ",
                ]
                .iter()
                .any(|p| t.starts_with(p));
                if is_fn {
                    let (mut depth, mut opened, mut j) = (0i32, false, i);
                    while j < lines.len() {
                        for c in lines[j].chars() {
                            match c {
                                '{' => {
                                    depth += 1;
                                    opened = true;
                                }
                                '}' => depth -= 1,
                                _ => {}
                            }
                        }
                        if (opened && depth <= 0) || (!opened && lines[j].trim_end().ends_with(';'))
                        {
                            break;
                        }
                        j += 1;
                    }
                    if j - i + 1 > 150 {
                        long.push(format!(
                            "{shown}:{}: a function of {} lines",
                            i + 1,
                            j - i + 1
                        ));
                    }
                }
                i += 1;
            }
        }
    }
    assert!(long.is_empty(), "{long:#?}");
}
