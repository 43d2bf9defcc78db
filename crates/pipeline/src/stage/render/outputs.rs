//! What the render stage reads of rendered templates' Outputs: the values known before
//! deployment (a plain string), which an environment's services and an instance's pipeline
//! see, and the values a deployed stack reported in their place.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{RenderedUnit, UnitRecord, record_of};
use crate::template::render;
use crate::unit::Unit;

/// What a pipeline reads of its service's instances: their Outputs, by (service, name), as
/// rendered (`rendered`: the fresh instances that rendered) or as cached. Owned, so that
/// each batch of pipelines is validated (and dropped) before the next renders.
pub(super) fn instance_outputs(
    cached_records: &[Option<Arc<UnitRecord>>],
    units: &[Unit],
    instances: &[usize],
    rendered: &[RenderedUnit],
) -> InstanceOutputs {
    let by_index: HashMap<usize, &RenderedUnit> = rendered.iter().map(|r| (r.index, r)).collect();
    instances
        .iter()
        .filter_map(|&i| {
            let known = match record_of(cached_records, i) {
                Some(record) => record.rendered.as_ref().map(|_| record.known.clone())?,
                None => by_index.get(&i)?.known.clone(),
            };
            Some(((units[i].service.clone(), units[i].name.clone()), known))
        })
        .collect()
}

/// Each rendered instance's Outputs (name, value), by (service, instance name).
pub(super) type InstanceOutputs = BTreeMap<(Option<String>, String), Vec<(String, String)>>;

/// The outputs known from the rendered template, with the values a deployed stack reported
/// taking their place (a deployed stack's outputs are the truth).
pub(super) fn with_deployed(
    mut known: Vec<(String, String)>,
    deployed: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<(String, String)> {
    if let Some(d) = deployed {
        known.retain(|(k, _)| !d.contains_key(k));
        known.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    known
}

/// Outputs whose `Value` rendered to a plain string are known before deployment.
pub(in crate::stage) fn known_outputs(rendered: &str) -> Vec<(String, String)> {
    let source = crate::source::SourceFile::new("rendered", "rendered", rendered.to_string());
    let Some(root) = crate::yaml::parse(
        &source,
        &crate::yaml::ParseOptions::default(),
        &mut Vec::new(),
    ) else {
        return Vec::new();
    };
    stated_outputs(&root)
}

/// The outputs of a parsed template whose `Value` is a plain string (untagged: a short form,
/// or its long form, is not known before deployment).
pub(crate) fn stated_outputs(root: &crate::yaml::Node) -> Vec<(String, String)> {
    let Some(outputs) = root.get("Outputs").and_then(crate::yaml::Node::as_map) else {
        return Vec::new();
    };
    outputs
        .iter()
        .filter_map(|(k, v)| {
            let value = v.get("Value")?;
            let text = value.as_str().filter(|_| value.tag.is_none())?;
            let name = k.scalar_text()?;
            (!text.starts_with(render::PLACEHOLDER_PREFIX)).then(|| (name, text.to_string()))
        })
        .collect()
}
