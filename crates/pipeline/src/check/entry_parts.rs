//! Parts of the cache's entry format (`super::incremental`): policy verdicts grouped by
//! document and policy, an environment's outputs, and units (as checked, failed, rendered)
//! without their inputs and texts.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::template::render::StackOutputs;
use crate::unit::{Failed, GivenTemplate, Rendered, Unit, UnitKind};

/// A unit's verdicts of one policy on one document: (rule, status) pairs. Its names are
/// borrowed: from the verdicts when an entry is written, from the entry's bytes when it is
/// read.
#[derive(Serialize, Deserialize)]
pub(super) struct VerdictGroup<'a> {
    data: &'a str,
    deployment: &'a str,
    policy: &'a str,
    #[serde(borrow)]
    rules: Vec<(&'a str, char)>,
}

/// The names verdicts share: each policy's and each of its rules', made once per run, so
/// that the verdicts given back point at them instead of holding copies.
pub(super) type Names = foldhash::HashSet<Arc<str>>;

thread_local! {
    /// This thread's copy of each shared name: the verdicts a thread gives back point at its
    /// own, so that counting their references does not bounce between cores (120,000
    /// verdicts share a dozen names).
    static LOCAL: std::cell::RefCell<foldhash::HashMap<String, Arc<str>>> =
        std::cell::RefCell::new(foldhash::HashMap::default());
}

fn status_letter(s: crate::policy::eval::Status) -> char {
    use crate::policy::eval::Status;
    match s {
        Status::Pass => 'P',
        Status::Fail => 'F',
        Status::Skip => 'S',
    }
}

/// The status `letter` stands for.
fn status_of(letter: char) -> Option<crate::policy::eval::Status> {
    use crate::policy::eval::Status;
    [Status::Pass, Status::Fail, Status::Skip]
        .into_iter()
        .find(|s| status_letter(*s) == letter)
}

impl<'a> VerdictGroup<'a> {
    pub(super) fn of(verdicts: &'a [crate::policy::RuleVerdict]) -> Vec<VerdictGroup<'a>> {
        let mut groups: Vec<VerdictGroup> = Vec::new();
        for v in verdicts {
            let rule = (&*v.rule, status_letter(v.status));
            match groups.last_mut() {
                Some(g)
                    if g.data == &*v.data
                        && g.deployment == &*v.deployment
                        && g.policy == &*v.policy =>
                {
                    g.rules.push(rule)
                }
                _ => groups.push(VerdictGroup {
                    data: &v.data,
                    deployment: &v.deployment,
                    policy: &v.policy,
                    rules: vec![rule],
                }),
            }
        }
        groups
    }

    /// How many verdicts the group holds.
    pub(super) fn len(&self) -> usize {
        self.rules.len()
    }

    /// Counts the group's verdicts by status.
    pub(super) fn count(&self, into: &mut crate::policy::VerdictCounts) -> Option<()> {
        for (_, letter) in &self.rules {
            into.add(status_of(*letter)?);
        }
        Some(())
    }

    pub(super) fn decode(
        self,
        names: &Names,
        into: &mut Vec<crate::policy::RuleVerdict>,
    ) -> Option<()> {
        // The thread's copy first: one lookup for the names seen before.
        let name = |n: &str| -> Arc<str> {
            LOCAL.with(|local| {
                let mut local = local.borrow_mut();
                match local.get(n) {
                    Some(shared) => shared.clone(),
                    None if names.contains(n) => {
                        local.entry(n.into()).or_insert_with(|| n.into()).clone()
                    }
                    None => n.into(),
                }
            })
        };
        // A unit's groups (one a policy file) share its document and deployment names.
        let same = |a: &Arc<str>, b: &str| (&**a == b).then(|| a.clone());
        let previous = into.last();
        let data = previous
            .and_then(|v| same(&v.data, self.data))
            .unwrap_or_else(|| self.data.into());
        let deployment = previous
            .and_then(|v| same(&v.deployment, self.deployment))
            .unwrap_or_else(|| self.deployment.into());
        let policy = name(self.policy);
        for (rule, letter) in self.rules {
            let status = status_of(letter)?;
            into.push(crate::policy::RuleVerdict {
                data: data.clone(),
                deployment: deployment.clone(),
                policy: policy.clone(),
                rule: name(rule),
                status,
            });
        }
        Some(())
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct OutputsRec {
    path: String,
    known: Vec<(String, String)>,
    declared: Option<Vec<String>>,
}

impl OutputsRec {
    pub(super) fn of(o: &StackOutputs) -> OutputsRec {
        OutputsRec {
            path: o.path.clone(),
            known: o.known.clone(),
            declared: o.declared.clone(),
        }
    }

    pub(super) fn decode(self) -> StackOutputs {
        StackOutputs {
            path: self.path,
            known: self.known,
            declared: self.declared,
        }
    }
}

pub(super) fn kind_of(s: &str) -> Option<UnitKind> {
    [
        UnitKind::Environment,
        UnitKind::ServiceInstance,
        UnitKind::Pipeline,
        UnitKind::Component,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
}

/// A unit without its inputs: a cached unit is neither rendered nor validated again. Read,
/// its names are borrowed from the entry's bytes (a deployment given back without its units
/// listed copies none of them).
#[derive(Serialize, Deserialize)]
pub(super) struct UnitRec<'a> {
    #[serde(borrow)]
    kind: &'a str,
    pub(super) name: &'a str,
    pub(super) service: Option<&'a str>,
    pub(super) bundle: &'a str,
    pub(super) spec: &'a str,
    environment: Option<&'a str>,
    stack: Option<&'a str>,
}

impl<'a> UnitRec<'a> {
    pub(super) fn of(u: &'a Unit) -> UnitRec<'a> {
        UnitRec {
            kind: u.kind.as_str(),
            name: &u.name,
            service: u.service.as_deref(),
            bundle: &u.bundle,
            spec: &u.spec,
            environment: u.environment.as_deref(),
            stack: u.stack.as_deref(),
        }
    }

    /// The unit's kind, when it is one.
    pub(super) fn kind(&self) -> Option<UnitKind> {
        kind_of(self.kind)
    }

    pub(super) fn decode(&self) -> Option<Unit> {
        Some(Unit {
            kind: self.kind()?,
            name: self.name.to_string(),
            service: self.service.map(str::to_string),
            bundle: self.bundle.to_string(),
            spec: self.spec.to_string(),
            inputs: serde_json::Value::Null,
            environment: self.environment.map(str::to_string),
            origin: None,
            stack: self.stack.map(str::to_string),
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct FailedRec<'a> {
    #[serde(borrow)]
    kind: &'a str,
    name: &'a str,
    service: Option<&'a str>,
    environment: Option<&'a str>,
    spec: &'a str,
}

impl<'a> FailedRec<'a> {
    pub(super) fn of(f: &'a Failed) -> FailedRec<'a> {
        FailedRec {
            kind: f.kind.as_str(),
            name: &f.name,
            service: f.service.as_deref(),
            environment: f.environment.as_deref(),
            spec: &f.spec,
        }
    }

    pub(super) fn decode(self) -> Option<Failed> {
        Some(Failed {
            kind: kind_of(self.kind)?,
            name: self.name.to_string(),
            service: self.service.map(str::to_string),
            environment: self.environment.map(str::to_string),
            spec: self.spec.to_string(),
        })
    }
}

/// A unit's rendering. Read, its names are borrowed from the entry's bytes: all but the
/// template's are the unit's own, and the template's are shared by its units (`TEMPLATES`).
#[derive(Serialize, Deserialize)]
pub(super) struct RenderedRec<'a> {
    #[serde(borrow)]
    kind: &'a str,
    name: &'a str,
    service: Option<&'a str>,
    template: &'a str,
    synthesized: bool,
    spec: &'a str,
    template_name: &'a str,
    template_version: &'a str,
}

thread_local! {
    /// The templates the units this thread gave back rendered from, by file: each made once
    /// and shared by their units (a warm run gives back 30,000 units of a few dozen).
    static TEMPLATES: std::cell::RefCell<foldhash::HashMap<String, Arc<GivenTemplate>>> =
        std::cell::RefCell::new(foldhash::HashMap::default());
    /// The same, their files' names alone.
    static PATHS: std::cell::RefCell<foldhash::HashMap<String, Arc<str>>> =
        std::cell::RefCell::new(foldhash::HashMap::default());
}

/// `path`, shared with the other units this thread gave back that rendered from it.
pub(super) fn shared_path(path: &str) -> Arc<str> {
    PATHS.with(|paths| {
        let mut paths = paths.borrow_mut();
        if let Some(p) = paths.get(path) {
            return p.clone();
        }
        let p: Arc<str> = path.into();
        paths.insert(path.to_string(), p.clone());
        p
    })
}

impl<'a> RenderedRec<'a> {
    /// The template file `unit`, the unit it was recorded for, rendered from; `None` when it
    /// names another unit.
    pub(super) fn template_of(&self, unit: &UnitRec) -> Option<&'a str> {
        let same = self.kind == unit.kind
            && self.name == unit.name
            && self.service == unit.service
            && self.spec == unit.spec;
        same.then_some(self.template)
    }

    pub(super) fn of(r: &'a Rendered) -> RenderedRec<'a> {
        RenderedRec {
            kind: r.kind.as_str(),
            name: &r.name,
            service: r.service.as_deref(),
            template: &r.template,
            synthesized: r.synthesized,
            spec: &r.spec,
            template_name: &r.template_name,
            template_version: &r.template_version,
        }
    }

    /// What `unit`, the unit it was recorded for, rendered from; `None` when it names
    /// another unit.
    pub(super) fn decode(self, unit: &UnitRec) -> Option<Arc<GivenTemplate>> {
        self.template_of(unit)?;
        TEMPLATES.with(|templates| {
            let mut templates = templates.borrow_mut();
            if let Some(t) = templates.get(self.template)
                && t.synthesized == self.synthesized
                && t.template_name == self.template_name
                && t.template_version == self.template_version
            {
                return Some(t.clone());
            }
            let shared = Arc::new(GivenTemplate {
                template: self.template.to_string(),
                synthesized: self.synthesized,
                template_name: self.template_name.to_string(),
                template_version: self.template_version.to_string(),
            });
            templates.insert(self.template.to_string(), shared.clone());
            Some(shared)
        })
    }
}
