//! The deployment units a run checks, and what each renders to: the types every stage after
//! spec checking shares (rendering, validation, build, apply), below all of them.

use serde_json::Value as Json;

/// What a deployment unit is, for later stages (rendering, policies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitKind {
    Environment,
    ServiceInstance,
    Pipeline,
    Component,
}

impl UnitKind {
    /// The kind as the build record and proctor.toml's bindings name it.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Environment => "environment",
            UnitKind::ServiceInstance => "service_instance",
            UnitKind::Pipeline => "pipeline",
            UnitKind::Component => "component",
        }
    }
}

/// One deployment unit whose inputs were checked: what later stages render.
#[derive(Clone, Debug)]
pub struct Unit {
    pub kind: UnitKind,
    /// The environment, instance or service name.
    pub name: String,
    /// The service, for instances and pipelines.
    pub service: Option<String>,
    /// The bundle folder, as shown.
    pub bundle: String,
    /// The spec, as shown.
    pub spec: String,
    /// Spec values with the schema's defaults filled in.
    pub inputs: Json,
    /// A service instance's environment.
    pub environment: Option<String>,
    /// Where each input's value was written, to name it in render errors.
    pub origin: Option<crate::template::render::InputOrigin>,
    /// The existing stack proctor.toml binds the unit to (`stack`, `stacks`,
    /// `pipeline_stack`), in place of the stack proctor would name.
    pub stack: Option<String>,
}

/// A deployment unit whose inputs did not check: not rendered, but still a deployment of the
/// workspace (drawn, marked, by `proctor graph`).
#[derive(Clone, Debug)]
pub struct Failed {
    pub kind: UnitKind,
    pub name: String,
    pub service: Option<String>,
    pub environment: Option<String>,
    /// The spec, as shown.
    pub spec: String,
}

/// A unit's rendered CloudFormation.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub kind: UnitKind,
    /// Environment, instance or service name.
    pub name: String,
    pub service: Option<String>,
    /// The template file, as shown.
    pub template: String,
    pub text: String,
    /// The inputs were synthesized (no spec uses the bundle).
    pub synthesized: bool,
    /// The spec, as shown (empty when synthesized).
    pub spec: String,
    /// The context the template saw, as JSON (outputs not yet deployed are placeholders).
    pub context: Json,
    /// The template's name and version (`fargate-env`, `1` or `1.2`).
    pub template_name: String,
    pub template_version: String,
}
