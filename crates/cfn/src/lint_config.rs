//! Templates that silence cfn-lint (`Metadata: cfn-lint: config: ignore_checks: [E3012]`) are
//! silenced for proctor's matching checks too: at the top level for the whole template, in
//! a resource's `Metadata` for that resource. A team that has decided a check does not apply
//! to a template should not have to decide it twice.

use crate::diag::Diagnostic;
use crate::yaml::Node;

/// cfn-lint rules and the proctor code that checks the same thing.
const RULES: &[(&str, &str)] = &[
    ("E1001", "C001"),
    ("E1002", "C014"),
    ("E1003", "C014"),
    ("E1004", "C001"),
    ("E1010", "C006"),
    ("E1011", "C010"),
    ("E1012", "C005"),
    ("E1015", "C015"),
    ("E1017", "C015"),
    ("E1018", "C015"),
    ("E1019", "C007"),
    ("E1020", "C015"),
    ("E1021", "C015"),
    ("E1022", "C015"),
    ("E1024", "C015"),
    ("E1027", "C015"),
    ("E1028", "C015"),
    ("E1029", "C007"),
    ("E1032", "C015"),
    ("E2001", "C021"),
    ("E2002", "C021"),
    ("E2003", "C004"),
    ("E2010", "C014"),
    ("E2011", "C014"),
    ("E2015", "C021"),
    ("E3001", "C003"),
    ("E3002", "C017"),
    ("E3003", "C018"),
    ("E3004", "C011"),
    ("E3005", "C008"),
    ("E3006", "C016"),
    ("E3012", "C019"),
    ("E3030", "C020"),
    ("E3035", "C003"),
    ("E3036", "C003"),
    ("E6001", "C013"),
    ("E6002", "C013"),
    ("E6003", "C013"),
    ("E6101", "C013"),
    ("E6102", "C013"),
    ("E7001", "C010"),
    ("E7010", "C014"),
    ("E8001", "C009"),
    ("E8002", "C009"),
    ("W2001", "C012"),
    ("W3001", "C003"),
    ("W7001", "C012"),
    ("W8001", "C012"),
];

/// The proctor codes an `ignore_checks` list silences (entries may be prefixes: `E3`).
fn silenced(node: Option<&Node>) -> Vec<&'static str> {
    let ignore = node
        .and_then(|m| m.pointer(["cfn-lint", "config", "ignore_checks"]))
        .and_then(Node::as_seq)
        .unwrap_or_default();
    let mut codes: Vec<&'static str> = Vec::new();
    for entry in ignore.iter().filter_map(Node::as_str) {
        for (rule, code) in RULES {
            if rule.starts_with(entry) && !codes.contains(code) {
                codes.push(code);
            }
        }
    }
    codes
}

/// Drops, from `diags[from..]` (one template's findings), those its cfn-lint configuration
/// silences.
pub fn apply(root: &Node, diags: &mut Vec<Diagnostic>, from: usize) {
    let whole = silenced(root.get("Metadata"));
    let mut per_resource: Vec<(std::ops::Range<usize>, Vec<&'static str>)> = Vec::new();
    for (_, r) in root
        .get("Resources")
        .and_then(Node::as_map)
        .unwrap_or_default()
    {
        let codes = silenced(r.get("Metadata"));
        if !codes.is_empty() {
            per_resource.push((r.span.clone(), codes));
        }
    }
    if whole.is_empty() && per_resource.is_empty() {
        return;
    }
    let mut i = from;
    while i < diags.len() {
        let d = &diags[i];
        let at = d.primary.as_ref().map(|p| p.at.span.clone());
        let drop = whole.contains(&d.code.id)
            || at.is_some_and(|s| {
                per_resource.iter().any(|(r, codes)| {
                    r.start <= s.start && s.end <= r.end && codes.contains(&d.code.id)
                })
            });
        if drop {
            diags.remove(i);
        } else {
            i += 1;
        }
    }
}
