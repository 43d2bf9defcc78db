//! Units for the bundles no spec uses, with inputs synthesized from their schemas: so that a
//! template pull request is rendered (and validated) before any spec uses the template.

use serde_json::Value as Json;

use crate::bundle::{Bundle, BundleKind};
use crate::schema::InputType;
use crate::schema::sample::synthesize;
use crate::template::render::InputOrigin;
use crate::unit::{Unit, UnitKind};

/// Units for bundles no spec uses (none of `used`, the bundles the run's units use, by folder
/// as shown): inputs synthesized from the schema, so that a template pull request is
/// rendered (and later validated) too.
pub(crate) fn synthesized_units(bundles: &[&Bundle], used: &foldhash::HashSet<&str>) -> Vec<Unit> {
    let mut out = Vec::new();
    for b in bundles {
        if used.contains(b.display.as_str()) {
            continue;
        }
        let origin = Some(InputOrigin {
            spec: b.schema.as_ref().map_or_else(
                || crate::source::SourceFile::new("", "", String::new()),
                |s| s.source.clone(),
            ),
            values: Vec::new(),
            synthesized: true,
        });
        let unit = |kind,
                    name: &str,
                    service: Option<String>,
                    env: Option<String>,
                    ty: Option<&InputType>| Unit {
            kind,
            name: name.to_string(),
            service,
            bundle: b.display.clone(),
            spec: String::new(),
            inputs: ty.map_or(Json::Object(Default::default()), synthesize),
            environment: env,
            origin: origin.clone(),
            stack: None,
        };
        match b.kind {
            // Without its input type (reported) there is nothing to synthesize from.
            BundleKind::Environment if b.environment_type().is_none() => {}
            BundleKind::Service if b.service_type().is_none() => {}
            BundleKind::Environment => out.push(unit(
                UnitKind::Environment,
                &format!("{}-sample", b.template_name),
                None,
                None,
                b.environment_type(),
            )),
            BundleKind::Component => out.push(unit(
                UnitKind::Component,
                &format!("{}-sample", b.template_name),
                Some("sample-service".into()),
                Some("sample-environment".into()),
                None,
            )),
            BundleKind::Service => {
                let service = Some(format!("{}-sample", b.template_name));
                out.push(unit(
                    UnitKind::ServiceInstance,
                    &format!("{}-sample-instance", b.template_name),
                    service.clone(),
                    Some("sample-environment".into()),
                    b.service_type(),
                ));
                if b.has_pipeline() {
                    out.push(unit(
                        UnitKind::Pipeline,
                        &format!("{}-sample", b.template_name),
                        service,
                        None,
                        b.pipeline_type(),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `render::run` would synthesize an environment: one of `bundles` is an environment bundle
/// with an input type that none of `units` uses.
pub fn synthesizes_environments(bundles: &[&Bundle], units: &[Unit]) -> bool {
    let used: std::collections::HashSet<&str> = units.iter().map(|u| u.bundle.as_str()).collect();
    bundles.iter().any(|b| {
        b.kind == BundleKind::Environment
            && b.environment_type().is_some()
            && !used.contains(b.display.as_str())
    })
}
