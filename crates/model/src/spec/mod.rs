//! Developer specs (`proton: EnvironmentSpec` / `proton: ServiceSpec`): read their shape, then
//! type-check their inputs against the bundle's schema ([`typecheck`]).

pub mod typecheck;

use std::collections::HashMap;
use std::ops::Range;

use crate::bundle::check_name;
use crate::diag::{Diagnostic, codes};
use crate::limits::Limits;
use crate::source::Source;
use crate::yaml::shape::{check_keys, expect_map, expect_str, missing_key};
use crate::yaml::{self, Node};

/// Proton's limit on a spec's length, in characters.
pub const SPEC_MAX_CHARS: usize = 51_200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecKind {
    Environment,
    Service,
}

impl SpecKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SpecKind::Environment => "EnvironmentSpec",
            SpecKind::Service => "ServiceSpec",
        }
    }
}

/// Inputs written under some key (`spec:`, `pipeline:`), with where to point when one is
/// missing.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// `None` when the key is absent or empty.
    pub node: Option<Node>,
    /// The key (or, when absent, the place that should have it).
    pub anchor: Range<usize>,
    /// How to name the place in help text (`spec`, `pipeline`, `instances[0].spec`).
    pub place: String,
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub name: String,
    pub name_span: Range<usize>,
    pub environment: Option<(String, Range<usize>)>,
    pub inputs: Inputs,
}

#[derive(Debug)]
pub struct Spec {
    pub source: Source,
    pub kind: SpecKind,
    pub kind_span: Range<usize>,
    /// An EnvironmentSpec's `spec`.
    pub environment_inputs: Option<Inputs>,
    /// A ServiceSpec's `pipeline`, if written.
    pub pipeline: Option<Inputs>,
    pub instances: Vec<Instance>,
}

const ENV_EXAMPLE: &str = "proton: EnvironmentSpec\nspec:\n  cluster_name: payments-dev";
const SVC_EXAMPLE: &str = "proton: ServiceSpec\ninstances:\n  - name: payments-dev\n    environment: dev\n    spec:\n      port: 8080";

/// Reads a spec's shape. `None` when it is not a usable spec (reported).
pub fn read(source: &Source, limits: &Limits, diags: &mut Vec<Diagnostic>) -> Option<Spec> {
    let chars = source.text().chars().count();
    if chars > SPEC_MAX_CHARS {
        diags.push(
            Diagnostic::new(
                codes::B007,
                format!(
                    "the spec is {chars} characters long; Proton allows at most {SPEC_MAX_CHARS}"
                ),
            )
            .at_file(source)
            .help("shorten long values, or move them into the template's defaults"),
        );
    }
    let root = yaml::parse(source, &limits.yaml(), diags)?;
    let top = expect_map(&root, source, "a spec", ENV_EXAMPLE, diags)?;
    let Some((_, kind_node)) = root.entry("proton") else {
        diags.push(missing_key(
            source,
            root.span.start..root.span.start,
            "proton",
            "the spec",
            "proton: EnvironmentSpec    # or ServiceSpec",
        ));
        return None;
    };
    let kind = match kind_node.as_str() {
        Some("EnvironmentSpec") => SpecKind::Environment,
        Some("ServiceSpec") => SpecKind::Service,
        _ => {
            let shown = kind_node
                .scalar_text()
                .unwrap_or_else(|| kind_node.kind_name().to_string());
            diags.push(
                Diagnostic::new(codes::I009, format!("`proton: {shown}` is not a spec kind"))
                    .at(source, kind_node.span.clone())
                    .help("write `proton: EnvironmentSpec` or `proton: ServiceSpec`"),
            );
            return None;
        }
    };
    let mut spec = Spec {
        source: source.clone(),
        kind,
        kind_span: kind_node.span.clone(),
        environment_inputs: None,
        pipeline: None,
        instances: Vec::new(),
    };
    let whole_key = root.entry("proton").map_or(0..0, |(k, _)| k.span.clone());
    match kind {
        SpecKind::Environment => {
            check_keys(
                top,
                &["proton", "spec"],
                source,
                "an EnvironmentSpec",
                diags,
            );
            spec.environment_inputs = Some(inputs_under(&root, "spec", whole_key, "spec"));
        }
        SpecKind::Service => {
            check_keys(
                top,
                &["proton", "pipeline", "instances"],
                source,
                "a ServiceSpec",
                diags,
            );
            if root.get("pipeline").is_some() {
                spec.pipeline = Some(inputs_under(&root, "pipeline", whole_key, "pipeline"));
            }
            read_instances(source, &root, &mut spec, diags);
        }
    }
    Some(spec)
}

fn inputs_under(parent: &Node, key: &str, fallback: Range<usize>, place: &str) -> Inputs {
    match parent.entry(key) {
        Some((k, v)) => Inputs {
            node: (!v.is_null()).then(|| v.clone()),
            anchor: k.span.clone(),
            place: place.to_string(),
        },
        None => Inputs {
            node: None,
            anchor: fallback,
            place: place.to_string(),
        },
    }
}

fn read_instances(source: &Source, root: &Node, spec: &mut Spec, diags: &mut Vec<Diagnostic>) {
    let Some((key, list)) = root.entry("instances") else {
        diags.push(missing_key(
            source,
            spec.kind_span.clone(),
            "instances",
            "a ServiceSpec",
            SVC_EXAMPLE,
        ));
        return;
    };
    let Some(items) = list.as_seq() else {
        diags.push(
            Diagnostic::new(
                codes::Y007,
                format!("`instances` must be a list, found {}", list.kind_name()),
            )
            .at(source, list.span.clone())
            .help(format!("write one list item per instance:\n{SVC_EXAMPLE}")),
        );
        return;
    };
    if items.is_empty() {
        diags.push(
            Diagnostic::new(codes::Y009, "a ServiceSpec needs at least one instance")
                .at(source, key.span.clone())
                .help(format!("add an instance:\n{SVC_EXAMPLE}")),
        );
    }
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let Some(entries) = expect_map(item, source, "an instance", SVC_EXAMPLE, diags) else {
            continue;
        };
        check_keys(
            entries,
            &["name", "environment", "spec"],
            source,
            "an instance",
            diags,
        );
        let item_start = item.span.start..item.span.start;
        let Some(name_node) = item.get("name") else {
            diags.push(missing_key(
                source,
                item_start,
                "name",
                "the instance",
                "name: payments-dev",
            ));
            continue;
        };
        let Some(name) = expect_str(name_node, source, "an instance's `name`", diags) else {
            continue;
        };
        if let Some(d) = check_name(name, "instance name", source, name_node.span.clone()) {
            diags.push(d);
        }
        if let Some(first) = seen.get(name) {
            diags.push(
                Diagnostic::new(codes::I010, format!("two instances are named `{name}`"))
                    .at(source, name_node.span.clone())
                    .primary_message("second instance with this name")
                    .label(source, first.clone(), "first instance with this name")
                    .help("instance names are unique within a service: rename one of them"),
            );
        } else {
            seen.insert(name.to_string(), name_node.span.clone());
        }
        let environment = match item.get("environment") {
            None => {
                diags.push(missing_key(
                    source,
                    name_node.span.clone(),
                    "environment",
                    &format!("instance `{name}`"),
                    "environment: dev",
                ));
                None
            }
            Some(e) => expect_str(e, source, "`environment`", diags)
                .map(|s| (s.to_string(), e.span.clone())),
        };
        let inputs = inputs_under(
            item,
            "spec",
            name_node.span.clone(),
            &format!("instances[{i}].spec"),
        );
        spec.instances.push(Instance {
            name: name.to_string(),
            name_span: name_node.span.clone(),
            environment,
            inputs,
        });
    }
}
