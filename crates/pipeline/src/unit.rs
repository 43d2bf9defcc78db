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

impl Unit {
    /// The unit without its inputs and where they were written: what a slim run keeps of a
    /// unit that rendered (the stage reads the inputs from the unit it was given).
    pub fn without_inputs(&self) -> Unit {
        Unit {
            kind: self.kind,
            name: self.name.clone(),
            service: self.service.clone(),
            bundle: self.bundle.clone(),
            spec: self.spec.clone(),
            inputs: Json::Null,
            environment: self.environment.clone(),
            origin: None,
            stack: self.stack.clone(),
        }
    }
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

/// The template a unit given back by the cache rendered from: with the unit, what makes its
/// [`Rendered`] ([`Rendition::rendered`]). One is shared by the units of a template, rather
/// than every unit holding its own copy of these names (a warm run gives back 30,000).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GivenTemplate {
    /// The template file, as shown.
    pub template: String,
    pub synthesized: bool,
    pub template_name: String,
    pub template_version: String,
}

/// What a recorded unit rendered to.
#[derive(Clone, Debug)]
pub enum Rendition {
    /// Rendered this run (its text and context dropped). Boxed: most records a run holds
    /// are given back, and a record is held per unit.
    Made(Box<Rendered>),
    /// Given back by the cache.
    Given(std::sync::Arc<GivenTemplate>),
}

impl Rendition {
    /// The template file, as shown.
    pub fn template(&self) -> &str {
        match self {
            Rendition::Made(r) => &r.template,
            Rendition::Given(g) => &g.template,
        }
    }

    /// What `unit`, the unit recorded, rendered to (without its text and context).
    pub fn rendered(self, unit: &Unit) -> Rendered {
        let given = match self {
            Rendition::Made(r) => return *r,
            Rendition::Given(g) => g,
        };
        let GivenTemplate {
            template,
            synthesized,
            template_name,
            template_version,
        } = std::sync::Arc::unwrap_or_clone(given);
        Rendered {
            kind: unit.kind,
            name: unit.name.clone(),
            service: unit.service.clone(),
            template,
            text: String::new(),
            synthesized,
            spec: unit.spec.clone(),
            context: Json::Null,
            template_name,
            template_version,
        }
    }
}
