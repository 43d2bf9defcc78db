//! The stages of `proctor check` after the specs: what the checked bundles' templates say
//! ([`analyse`]: static reference checks and template lints), what each deployment unit
//! renders to ([`render`]), and whether that CloudFormation is valid and passes the policies
//! ([`validate`]). `check::run` calls them in this order; each takes what the previous one
//! returned.

pub mod analyse;
pub mod render;
pub mod synthesized;
pub mod validate;

use std::collections::HashSet;

use crate::config::Config;
use crate::diag::Diagnostic;
use crate::unit::{Unit, UnitKind};

/// A template line that fails for every loop iteration and every deployment is one finding:
/// keeps the first of each (code, place, message).
pub fn dedup(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    diagnostics.retain(|d| {
        let at = d.primary.as_ref().map(|p| {
            (
                p.at.source.name().to_string(),
                p.at.span.start,
                p.at.span.end,
            )
        });
        seen.insert((d.code.id, at, d.message.clone()))
    });
}

pub(crate) fn short_label(u: &Unit) -> String {
    match u.kind {
        UnitKind::Pipeline => format!(
            "the pipeline of {}",
            u.service.as_deref().unwrap_or_default()
        ),
        _ => u.name.clone(),
    }
}

pub(crate) fn unit_label(u: &Unit) -> String {
    let synthesized = u.origin.as_ref().is_some_and(|o| o.synthesized);
    match (u.kind, synthesized) {
        (UnitKind::Environment, false) => format!("environment `{}` ({})", u.name, u.spec),
        (UnitKind::ServiceInstance, false) => format!(
            "instance `{}` of service `{}` ({})",
            u.name,
            u.service.as_deref().unwrap_or(""),
            u.spec
        ),
        (UnitKind::Pipeline, false) => format!(
            "the pipeline of service `{}` ({})",
            u.service.as_deref().unwrap_or(""),
            u.spec
        ),
        (UnitKind::Environment, true) => format!("`{}`", u.bundle),
        (UnitKind::ServiceInstance, true) => format!("`{}` (instance)", u.bundle),
        (UnitKind::Pipeline, true) => format!("`{}` (pipeline)", u.bundle),
        (UnitKind::Component, _) => format!("`{}` (component)", u.bundle),
    }
}

/// A unit's template name and version: from the bundle's `name/vN` folder, with the minor
/// version when proctor.toml's reference gives one (`fargate-env:1.2` → `1.2`).
pub(crate) fn template_identity(u: &Unit, config: Option<&Config>) -> (String, String) {
    let mut parts = u.bundle.rsplit('/').filter(|p| !p.is_empty() && *p != ".");
    let last = parts.next().unwrap_or_default();
    let (name, major) = match last.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()) {
        Some(major) => (parts.next().unwrap_or(last).to_string(), major),
        None => (last.to_string(), 1),
    };
    let reference = config.and_then(|c| match u.kind {
        UnitKind::Environment => c.environment(&u.name).map(|e| &e.template.value),
        _ => c.service(u.service.as_deref()?).map(|s| &s.template.value),
    });
    let minor = match reference {
        Some(crate::config::TemplateRef::Version {
            major: m,
            minor: Some(minor),
            ..
        }) if *m == major => Some(*minor),
        _ => None,
    };
    let version = minor.map_or_else(|| major.to_string(), |minor| format!("{major}.{minor}"));
    (name, version)
}

pub(crate) fn account_id(config: Option<&Config>, env: &str) -> Option<String> {
    config?.environment(env)?.account_id.clone()
}
