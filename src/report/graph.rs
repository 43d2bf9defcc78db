//! Drawing a `graph::Graph`: Mermaid (renders in GitHub Markdown and PR comments), DOT for
//! Graphviz, and a self-contained SVG for the HTML report. Node ids are given in the graph's
//! order (`n0`, `n1`...), so the text of a drawing changes only where the graph does.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::graph::{EdgeKind, Graph, NodeKind};

fn ids(g: &Graph) -> BTreeMap<&str, String> {
    g.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), format!("n{i}")))
        .collect()
}

fn edge_label(kind: EdgeKind, label: &str) -> String {
    match (kind, label.is_empty()) {
        (EdgeKind::Reads, _) => label.to_string(),
        (k, true) => k.as_str().to_string(),
        (k, false) => format!("{} {label}", k.as_str()),
    }
}

/// Mermaid text that Mermaid cannot misread: quotes and angle brackets as entities.
fn mermaid_text(s: &str) -> String {
    s.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

pub fn mermaid(g: &Graph) -> String {
    let ids = ids(g);
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(out, "  %% proctor graph: {}", g.title.replace('\n', " "));
    for note in &g.notes {
        let _ = writeln!(out, "  %% {}", note.replace('\n', " "));
    }
    for n in &g.nodes {
        let label = format!(
            "{}<br/><small>{}</small>",
            mermaid_text(&n.label),
            mermaid_text(&n.detail)
        );
        let (open, close) = match n.kind {
            NodeKind::Environment => ("[(", ")]"),
            NodeKind::Output => ("[/", "/]"),
            NodeKind::Pipeline => ("[[", "]]"),
            _ => ("[", "]"),
        };
        let _ = writeln!(out, "  {}{open}\"{label}\"{close}", ids[n.id.as_str()]);
    }
    for e in &g.edges {
        let arrow = match e.kind {
            EdgeKind::DependsOn => "-.->",
            _ if e.cycle => "==>",
            _ => "-->",
        };
        let label = edge_label(e.kind, &e.label);
        let (from, to) = (&ids[e.from.as_str()], &ids[e.to.as_str()]);
        if label.is_empty() {
            let _ = writeln!(out, "  {from} {arrow} {to}");
        } else {
            let _ = writeln!(out, "  {from} {arrow}|\"{}\"| {to}", mermaid_text(&label));
        }
    }
    let errors: Vec<&str> = g
        .nodes
        .iter()
        .filter(|n| n.error)
        .map(|n| ids[n.id.as_str()].as_str())
        .collect();
    if !errors.is_empty() {
        out.push_str("  classDef error stroke:#c62828,stroke-width:3px,color:#c62828\n");
        let _ = writeln!(out, "  class {} error", errors.join(","));
    }
    out
}

fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn dot(g: &Graph) -> String {
    let ids = ids(g);
    let mut out = String::from("digraph proctor {\n");
    let _ = writeln!(out, "  label=\"{}\";", dot_text(&g.title));
    for note in &g.notes {
        let _ = writeln!(out, "  // {}", note.replace('\n', " "));
    }
    out.push_str("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for n in &g.nodes {
        let shape = match n.kind {
            NodeKind::Environment => ", shape=cylinder, style=solid",
            NodeKind::Output => ", shape=parallelogram, style=solid",
            NodeKind::Pipeline => ", shape=box3d, style=solid",
            _ => "",
        };
        let error = if n.error {
            ", color=\"#c62828\", penwidth=2"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {} [label=\"{}\\n{}\"{shape}{error}];",
            ids[n.id.as_str()],
            dot_text(&n.label),
            dot_text(&n.detail)
        );
    }
    for e in &g.edges {
        let mut attrs = Vec::new();
        let label = edge_label(e.kind, &e.label);
        if !label.is_empty() {
            attrs.push(format!("label=\"{}\"", dot_text(&label)));
        }
        if e.kind == EdgeKind::DependsOn {
            attrs.push("style=dashed".to_string());
        }
        if e.cycle {
            attrs.push("color=\"#c62828\", penwidth=2".to_string());
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} -> {}{attrs};",
            ids[e.from.as_str()],
            ids[e.to.as_str()]
        );
    }
    out.push_str("}\n");
    out
}

pub fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const W: usize = 200;
const H: usize = 46;
const GAP_X: usize = 190;
const GAP_Y: usize = 24;

/// A layered drawing: each node in the column of its longest path from a source (cycles
/// broken where they close), columns in the graph's order. Edges are curves with arrows.
pub fn svg(g: &Graph) -> String {
    let n = g.nodes.len();
    let positions = g.edge_positions();
    let edges: Vec<(usize, usize)> = positions.iter().flatten().copied().collect();
    let layer = layers(n, &edges);
    let mut columns: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (v, l) in layer.iter().enumerate() {
        columns.entry(*l).or_default().push(v);
    }
    let mut pos = vec![(0usize, 0usize); n];
    let mut height = 0;
    for (l, vs) in &columns {
        for (row, v) in vs.iter().enumerate() {
            pos[*v] = (20 + l * (W + GAP_X), 40 + row * (H + GAP_Y));
            height = height.max(40 + (row + 1) * (H + GAP_Y));
        }
    }
    let width = 40 + columns.len().max(1) * (W + GAP_X) - GAP_X;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" font-family=\"system-ui, sans-serif\" font-size=\"12\">"
    );
    let _ = write!(out, "<title>{}</title>", html_text(&g.title));
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>");
    for (e, &(a, b)) in g
        .edges
        .iter()
        .zip(&positions)
        .filter_map(|(e, p)| Some((e, p.as_ref()?)))
    {
        let (x1, y1) = (pos[a].0 + W, pos[a].1 + H / 2);
        let (x2, y2) = (pos[b].0, pos[b].1 + H / 2);
        let bend = 60;
        let color = if e.cycle { "#c62828" } else { "#555" };
        let dash = if e.kind == EdgeKind::DependsOn {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<path d=\"M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.4\"{dash} marker-end=\"url(#arrow)\"/>",
            x1 + bend,
            x2.saturating_sub(bend)
        );
        let label = edge_label(e.kind, &e.label);
        if !label.is_empty() {
            // What fits between two columns; the whole label is the tooltip.
            let short: String = if label.chars().count() > 30 {
                label.chars().take(29).chain(['…']).collect()
            } else {
                label.clone()
            };
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" fill=\"#333\" font-size=\"10\"><title>{}</title>{}</text>",
                x1 + 6,
                y1 - 5,
                html_text(&label),
                html_text(&short)
            );
        }
    }
    for (v, node) in g.nodes.iter().enumerate() {
        let (x, y) = pos[v];
        let (fill, stroke) = match (node.error, node.kind) {
            (true, _) => ("#fdecea", "#c62828"),
            (_, NodeKind::Environment) => ("#e3f2fd", "#1565c0"),
            (_, NodeKind::Pipeline) => ("#f3e5f5", "#6a1b9a"),
            (_, NodeKind::Output) => ("#fff8e1", "#f9a825"),
            _ => ("#f5f5f5", "#555"),
        };
        let label: String = node.label.chars().take(30).collect();
        let detail: String = node.detail.chars().take(34).collect();
        let _ = write!(
            out,
            "<g class=\"node{}\"><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"600\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\" font-size=\"10\">{}</text></g>",
            if node.error { " error" } else { "" },
            if node.error { 2.5 } else { 1.2 },
            x + W / 2,
            y + 19,
            html_text(&label),
            x + W / 2,
            y + 35,
            html_text(&detail),
        );
    }
    out.push_str("</svg>");
    out
}

/// Each node's column: the longest path to it from a node with no incoming edge, over the
/// edges a depth-first walk does not find closing a cycle. Iterative.
fn layers(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        if a != b {
            succ[a].push(b);
        }
    }
    // Depth-first order, dropping back edges: what is left is acyclic.
    let mut state = vec![0u8; n]; // 0 new, 1 on the path, 2 done
    let mut order = Vec::with_capacity(n);
    let mut kept: Vec<Vec<usize>> = vec![Vec::new(); n];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if let Some(&w) = succ[v].get(*i) {
                *i += 1;
                match state[w] {
                    0 => {
                        kept[v].push(w);
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    2 => kept[v].push(w),
                    _ => {} // closes a cycle
                }
                continue;
            }
            state[v] = 2;
            order.push(v);
            stack.pop();
        }
    }
    let mut layer = vec![0usize; n];
    for &v in order.iter().rev() {
        for &w in &kept[v] {
            layer[w] = layer[w].max(layer[v] + 1);
        }
    }
    layer
}
