//! Graphs for people: a workspace's deployments and the outputs they read from one another,
//! and one deployment's resources with the references between them. Built from what a check
//! run returns; drawn by the reporters (Mermaid, DOT, SVG). Node and edge order is stable
//! (sorted), so that diffs of a drawing mean something.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::Outcome;
use crate::diag::Severity;
use crate::unit::{Rendered, UnitKind};
use crate::yaml::{Node as Yaml, Value};

/// At most this many nodes are drawn; past it the graph says what it left out.
pub const MAX_NODES: usize = 400;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Environment,
    ServiceInstance,
    Pipeline,
    Component,
    Resource,
    Output,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// A deployment reads another's outputs (or deploys into an environment).
    Reads,
    Ref,
    GetAtt,
    Sub,
    DependsOn,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Reads => "reads",
            EdgeKind::Ref => "Ref",
            EdgeKind::GetAtt => "GetAtt",
            EdgeKind::Sub => "Sub",
            EdgeKind::DependsOn => "DependsOn",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    pub kind: NodeKind,
    /// Unique within the graph: `environment:dev`, `resource:Bucket`.
    pub id: String,
    /// The name shown first: `dev`, `Bucket`.
    pub label: String,
    /// The line below it: a template and version, a resource type.
    pub detail: String,
    /// The deployment has errors (or the resource is in a reference cycle).
    pub error: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    /// What flows along it: output names, an attribute.
    pub label: String,
    /// Part of a reference cycle.
    pub cycle: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub title: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Said in the drawing: what was left out, cycles found.
    pub notes: Vec<String>,
}

impl Graph {
    /// Sorts nodes and edges, drops edges to nodes not drawn, and keeps at most
    /// `MAX_NODES` nodes (saying how many were left out).
    fn finish(mut self, what: &str) -> Graph {
        self.nodes.sort();
        self.nodes.dedup_by(|a, b| a.id == b.id);
        if self.nodes.len() > MAX_NODES {
            let left = self.nodes.len() - MAX_NODES;
            self.nodes.truncate(MAX_NODES);
            self.notes.push(format!(
                "{left} more {what} not drawn: a drawing shows at most {MAX_NODES}"
            ));
        }
        let ids: BTreeSet<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
        self.edges
            .retain(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str()));
        self.edges.sort();
        self.edges.dedup();
        self
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Each edge as the positions of its two nodes in `nodes`, in the order of `edges`
    /// (`None` for an edge whose nodes are not both drawn).
    pub fn edge_positions(&self) -> Vec<Option<(usize, usize)>> {
        let index: BTreeMap<&str, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        self.edges
            .iter()
            .map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?)))
            .collect()
    }
}

fn unit_id(kind: UnitKind, name: &str, service: Option<&str>) -> String {
    match kind {
        UnitKind::Environment => format!("environment:{name}"),
        UnitKind::ServiceInstance => format!("instance:{}/{name}", service.unwrap_or_default()),
        UnitKind::Pipeline => format!("pipeline:{}", service.unwrap_or(name)),
        UnitKind::Component => format!("component:{name}"),
    }
}

fn node_kind(kind: UnitKind) -> NodeKind {
    match kind {
        UnitKind::Environment => NodeKind::Environment,
        UnitKind::ServiceInstance => NodeKind::ServiceInstance,
        UnitKind::Pipeline => NodeKind::Pipeline,
        UnitKind::Component => NodeKind::Component,
    }
}

/// The workspace's deployments, with an edge from each environment to the service instances
/// deployed into it (labelled with the outputs their template reads) and from each instance
/// to its service's pipeline (the instance outputs the pipeline reads).
pub fn workspace(outcome: &Outcome) -> Graph {
    let mut g = Graph {
        title: "deployments".to_string(),
        ..Graph::default()
    };
    // Files with errors: a deployment whose spec or bundle has one is marked.
    let mut broken: BTreeSet<String> = BTreeSet::new();
    for d in &outcome.diagnostics {
        if d.severity == Severity::Error
            && let Some(p) = &d.primary
        {
            broken.insert(p.at.source.name().to_string());
        }
    }
    let bundle_broken = |bundle: &str| {
        let prefix = format!("{}/", bundle.trim_end_matches('/'));
        broken.iter().any(|f| f.starts_with(&prefix))
    };
    let rendered: BTreeMap<String, &Rendered> = outcome
        .rendered
        .iter()
        .map(|r| (unit_id(r.kind, &r.name, r.service.as_deref()), r))
        .collect();
    let reads: BTreeMap<&str, Vec<&str>> = outcome
        .output_refs
        .iter()
        .map(|(t, names)| (t.as_str(), names.iter().map(String::as_str).collect()))
        .collect();
    let mut instances: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pipelines: Vec<(String, String, Vec<String>)> = Vec::new();
    for u in &outcome.units {
        let id = unit_id(u.kind, &u.name, u.service.as_deref());
        let r = rendered.get(&id);
        let detail = match r {
            Some(r) => format!("{}:{}", r.template_name, r.template_version),
            None => u.bundle.clone(),
        };
        let error = r.is_none() || broken.contains(&u.spec) || bundle_broken(&u.bundle);
        let label = match u.kind {
            UnitKind::Pipeline => format!("{} pipeline", u.service.as_deref().unwrap_or_default()),
            _ => u.name.clone(),
        };
        g.nodes.push(Node {
            kind: node_kind(u.kind),
            id: id.clone(),
            label,
            detail,
            error,
        });
        let template_reads = r
            .and_then(|r| reads.get(r.template.as_str()))
            .cloned()
            .unwrap_or_default();
        match u.kind {
            UnitKind::ServiceInstance => {
                if let Some(env) = &u.environment {
                    let names = after(&template_reads, "environment.outputs.");
                    g.edges.push(Edge {
                        from: format!("environment:{env}"),
                        to: id.clone(),
                        kind: EdgeKind::Reads,
                        label: names.join(", "),
                        cycle: false,
                    });
                }
                let service = u.service.clone().unwrap_or_default();
                instances.entry(service).or_default().push(id);
            }
            UnitKind::Pipeline => {
                let names = after(&template_reads, ".outputs.");
                let service = u.service.clone().unwrap_or_default();
                pipelines.push((service, id, names));
            }
            _ => {}
        }
    }
    // A pipeline reads its service's instances (`service_instances[i].outputs.X`).
    for (service, pipeline, names) in pipelines {
        for inst in instances.get(&service).into_iter().flatten() {
            g.edges.push(Edge {
                from: inst.clone(),
                to: pipeline.clone(),
                kind: EdgeKind::Reads,
                label: names.join(", "),
                cycle: false,
            });
        }
    }
    // Rendered units with no spec of their own (a component, a bundle no spec uses).
    for r in &outcome.rendered {
        let id = unit_id(r.kind, &r.name, r.service.as_deref());
        if !g.nodes.iter().any(|n| n.id == id) {
            g.nodes.push(Node {
                kind: node_kind(r.kind),
                id,
                label: r.name.clone(),
                detail: format!("{}:{}", r.template_name, r.template_version),
                error: false,
            });
        }
    }
    // Deployments whose inputs did not check: drawn, marked.
    for f in &outcome.failed {
        let id = unit_id(f.kind, &f.name, f.service.as_deref());
        g.nodes.push(Node {
            kind: node_kind(f.kind),
            id: id.clone(),
            label: f.name.clone(),
            detail: "inputs do not check".to_string(),
            error: true,
        });
        if let Some(env) = &f.environment {
            g.edges.push(Edge {
                from: format!("environment:{env}"),
                to: id,
                kind: EdgeKind::Reads,
                label: String::new(),
                cycle: false,
            });
        }
    }
    g.finish("deployments")
}

/// The names after `marker` in dotted references (`environment.outputs.VpcId` → `VpcId`),
/// sorted, each once.
fn after(refs: &[&str], marker: &str) -> Vec<String> {
    let mut out: Vec<String> = refs
        .iter()
        .filter_map(|r| r.split_once(marker).map(|(_, n)| n.to_string()))
        .filter(|n| !n.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One deployment's rendered template: its resources (logical id and type), its Outputs,
/// and an edge for every `Ref`, `Fn::GetAtt`, `Fn::Sub` reference and `DependsOn`. Resources
/// in a reference cycle are marked, and the cycle is named in the notes.
pub fn deployment(r: &Rendered) -> Graph {
    let title = match r.kind {
        UnitKind::Pipeline => format!("{} pipeline", r.service.as_deref().unwrap_or_default()),
        _ => r.name.clone(),
    };
    let mut g = Graph {
        title: format!("{title} ({}:{})", r.template_name, r.template_version),
        ..Graph::default()
    };
    let src =
        crate::source::SourceFile::new(r.template.clone(), r.template.clone(), r.text.clone());
    let Some(root) = crate::cfn::parse(&src, &mut Vec::new()) else {
        g.notes
            .push("the rendered template is not valid YAML or JSON: nothing to draw".into());
        return g;
    };
    let resources: BTreeMap<&str, &Yaml> = root
        .get("Resources")
        .and_then(Yaml::as_map)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect();
    for (id, def) in &resources {
        let ty = def
            .get("Type")
            .and_then(Yaml::as_str)
            .unwrap_or("(no Type)");
        g.nodes.push(Node {
            kind: NodeKind::Resource,
            id: format!("resource:{id}"),
            label: (*id).to_string(),
            detail: ty.to_string(),
            error: false,
        });
        let from = format!("resource:{id}");
        if let Some(props) = def.get("Properties") {
            references(props, &from, &resources, &mut g.edges);
        }
        if let Some(d) = def.get("DependsOn") {
            let targets: Vec<&Yaml> = match &d.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![d],
            };
            for t in targets.iter().filter_map(|t| t.as_str()) {
                if resources.contains_key(t) {
                    g.edges.push(edge(&from, t, EdgeKind::DependsOn, ""));
                }
            }
        }
    }
    for (name, out) in root
        .get("Outputs")
        .and_then(Yaml::as_map)
        .into_iter()
        .flatten()
    {
        let Some(name) = name.as_str() else { continue };
        let id = format!("output:{name}");
        g.nodes.push(Node {
            kind: NodeKind::Output,
            id: id.clone(),
            label: name.to_string(),
            detail: "Output".to_string(),
            error: false,
        });
        references(out, &id, &resources, &mut g.edges);
    }
    mark_cycles(&mut g);
    g.finish("resources and outputs")
}

fn edge(from: &str, to: &str, kind: EdgeKind, label: &str) -> Edge {
    Edge {
        from: from.to_string(),
        to: format!("resource:{to}"),
        kind,
        label: label.to_string(),
        cycle: false,
    }
}

/// The references to resources under a node, without recursion (a rendered template may
/// be deep).
fn references(node: &Yaml, from: &str, resources: &BTreeMap<&str, &Yaml>, out: &mut Vec<Edge>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match &n.value {
            Value::Map(m) => {
                if let [(k, v)] = m.as_slice() {
                    match k.as_str() {
                        Some("Ref") => {
                            if let Some(t) = v.as_str().filter(|t| resources.contains_key(t)) {
                                out.push(edge(from, t, EdgeKind::Ref, ""));
                            }
                        }
                        Some("Fn::GetAtt") => {
                            let (target, attr) = match &v.value {
                                Value::Seq(s) => (
                                    s.first().and_then(Yaml::as_str),
                                    s.get(1).and_then(Yaml::scalar_text),
                                ),
                                Value::String(s) => match s.split_once('.') {
                                    Some((t, a)) => (Some(t), Some(a.to_string())),
                                    None => (Some(s.as_str()), None),
                                },
                                _ => (None, None),
                            };
                            if let Some(t) = target.filter(|t| resources.contains_key(t)) {
                                out.push(edge(
                                    from,
                                    t,
                                    EdgeKind::GetAtt,
                                    &attr.unwrap_or_default(),
                                ));
                            }
                        }
                        Some("Fn::Sub") => {
                            let (text, locals) = match &v.value {
                                Value::String(s) => (Some(s.as_str()), None),
                                Value::Seq(s) => (s.first().and_then(Yaml::as_str), s.get(1)),
                                _ => (None, None),
                            };
                            for t in text.map(sub_names).unwrap_or_default() {
                                let local = locals.is_some_and(|l| l.get(&t).is_some());
                                if !local && resources.contains_key(t.as_str()) {
                                    out.push(edge(from, &t, EdgeKind::Sub, ""));
                                }
                            }
                            if let Some(l) = locals {
                                stack.push(l);
                            }
                            continue;
                        }
                        _ => {}
                    }
                }
                stack.extend(m.iter().map(|(_, v)| v));
            }
            Value::Seq(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}

/// The logical ids a `Fn::Sub` string names: `${Bucket}`, `${Bucket.Arn}`; `${!Literal}` is
/// text.
fn sub_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find('}') else { break };
        let inner = &rest[..end];
        if !inner.starts_with('!') {
            let id = inner.split('.').next().unwrap_or(inner).trim();
            if !id.is_empty() {
                out.push(id.to_string());
            }
        }
        rest = &rest[end + 1..];
    }
    out
}

/// Marks the resources and edges in reference cycles (strongly connected components of more
/// than one node, or a node that references itself), iteratively, and names each cycle.
fn mark_cycles(g: &mut Graph) {
    let n = g.nodes.len();
    let positions = g.edge_positions();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in positions.iter().flatten() {
        succ[a].push(b);
    }
    let comp = components(&succ);
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (v, c) in comp.iter().enumerate() {
        members.entry(*c).or_default().push(v);
    }
    let mut in_cycle = vec![false; n];
    for vs in members.values() {
        let self_loop = vs.len() == 1 && succ[vs[0]].contains(&vs[0]);
        if vs.len() > 1 || self_loop {
            for &v in vs {
                in_cycle[v] = true;
            }
            let mut names: Vec<&str> = vs.iter().map(|&v| g.nodes[v].label.as_str()).collect();
            names.sort();
            g.notes.push(format!(
                "reference cycle (CloudFormation refuses it, C011): {}",
                names.join(", ")
            ));
        }
    }
    for (e, at) in g.edges.iter_mut().zip(&positions) {
        if let Some((a, b)) = *at {
            e.cycle = in_cycle[a] && in_cycle[b] && comp[a] == comp[b];
        }
    }
    for (v, node) in g.nodes.iter_mut().enumerate() {
        node.error |= in_cycle[v];
    }
}

/// Tarjan's strongly connected components, with an explicit stack: each node's component.
fn components(succ: &[Vec<usize>]) -> Vec<usize> {
    let n = succ.len();
    let (mut index, mut low) = (vec![usize::MAX; n], vec![0; n]);
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut comp = vec![usize::MAX; n];
    let (mut next, mut next_comp) = (0, 0);
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = succ[v].get(*i) {
                *i += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_names_skip_literals_and_attributes() {
        assert_eq!(
            sub_names("arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Role.Arn}"),
            ["AWS::Partition", "Bucket", "Role"]
        );
    }

    #[test]
    fn components_find_cycles_without_recursion() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3, 4 alone; a long chain does not overflow.
        let succ = vec![vec![1], vec![2], vec![0], vec![3], vec![]];
        let c = components(&succ);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[3], c[0]);
        assert_ne!(c[4], c[3]);
        let chain: Vec<Vec<usize>> = (0..200_000).map(|i| vec![i + 1]).chain([vec![]]).collect();
        assert_eq!(components(&chain).len(), 200_001);
    }
}
