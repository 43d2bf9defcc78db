//! The render stage's findings and renderings put in the order a run without the cache
//! gives them, with what the cache gave back in place of rendering: records of units that
//! are listed, and deployments whose units are not ([`GivenUnits`]).

use std::sync::Arc;

use super::{PHASES, Rendering, UnitRecord};
use crate::diag::Diagnostic;
use crate::unit::{Rendered, Unit, UnitKind};

/// A deployment the cache gave back without listing its units in the stage's units (a
/// warm `proctor check` gives back thousands, and makes a `Unit` of none of them): what
/// it found, put where its units would have been.
pub struct GivenUnits {
    /// How many of the stage's units come before the deployment's.
    pub at: usize,
    /// Which deployment it is, for the caller's `Rendered` of one of its units (the first
    /// of a template, in a slim run; `Stream::finish`).
    pub id: usize,
    pub units: Vec<GivenUnit>,
}

/// A unit of a [`GivenUnits`]: what rendering and validating it found.
pub struct GivenUnit {
    pub kind: UnitKind,
    pub render: Vec<Diagnostic>,
    pub validation: Vec<Diagnostic>,
    /// The template it rendered from (its file, as shown), when it rendered.
    pub template: Option<Arc<str>>,
}

/// What a given deployment's unit (by its place in the deployment) rendered to: the caller
/// reads it from the cache again, for the few that are wanted.
pub type GivenRendering<'r> = dyn Fn(usize, usize) -> Option<Rendered> + 'r;

impl Rendering {
    /// Puts every unit's findings and rendering in the order a run without the cache gives
    /// them (environments, instances, pipelines, components, each in the units' order),
    /// cached units' from their records (their renderings moved out when nothing else
    /// holds the record), and given deployments' (`given`, in the order of their places)
    /// where their units would have been.
    pub(super) fn in_order(
        &mut self,
        units: &[Unit],
        cached: &mut [Option<Arc<UnitRecord>>],
        (given, rendering): (&mut [GivenUnits], &GivenRendering),
        slim: bool,
    ) {
        let n = units.len();
        let mut render: Vec<Vec<Diagnostic>> = (0..n).map(|_| Vec::new()).collect();
        for (i, d) in std::mem::take(&mut self.render_by_unit) {
            render[i].extend(d);
        }
        let mut validation: Vec<Vec<Diagnostic>> = (0..n).map(|_| Vec::new()).collect();
        for (i, d) in std::mem::take(&mut self.validation_by_unit) {
            validation[i].extend(d);
        }
        // Where each unit's rendering is in `kept` (a slot per unit, not a rendering: a warm
        // run renders a few of 20,000 units).
        let mut slot: Vec<Option<u32>> = vec![None; n];
        let mut kept: Vec<Option<Rendered>> = Vec::with_capacity(self.done.len());
        for (index, rendered) in std::mem::take(&mut self.done) {
            slot[index] = u32::try_from(kept.len()).ok();
            kept.push(Some(rendered));
        }
        // A slim run's templates that already have their rendering.
        // Hashed fast: a warm run looks up 30,000 units' templates here, on the serial path.
        let mut listed: foldhash::HashSet<String> = foldhash::HashSet::default();
        let mut first = |template: &str| {
            !slim || (!listed.contains(template) && listed.insert(template.into()))
        };
        self.rendered.reserve(if slim { kept.len() } else { n });
        for kind in PHASES {
            // The given deployments not yet passed, in the order of their places.
            let mut next = 0;
            for i in (0..n).filter(|&i| units[i].kind == kind) {
                while let Some(g) = given.get_mut(next).filter(|g| g.at <= i) {
                    self.given(g, kind, &mut first, rendering);
                    next += 1;
                }
                match cached.get_mut(i).and_then(Option::as_mut) {
                    Some(record) => {
                        self.diagnostics.extend(record.render.iter().cloned());
                        self.validation.extend(record.validation.iter().cloned());
                        let wanted =
                            (record.rendered.as_ref()).is_some_and(|r| first(r.template()));
                        // One rendering per template is wanted; the others stay in their
                        // records, freed with the run's outcome (not one at a time here).
                        let rendered = match Arc::get_mut(record) {
                            Some(only) if wanted => only.rendered.take(),
                            None if wanted => record.rendered.clone(),
                            _ => None,
                        };
                        self.rendered
                            .extend(rendered.map(|r| r.rendered(&units[i])));
                    }
                    None => {
                        self.diagnostics.append(&mut render[i]);
                        self.validation.append(&mut validation[i]);
                        let at = slot[i].map(|k| k as usize);
                        let rendered = at.and_then(|k| kept[k].take());
                        self.rendered
                            .extend(rendered.filter(|r| first(&r.template)));
                    }
                }
            }
            for g in given.iter_mut().skip(next) {
                self.given(g, kind, &mut first, rendering);
            }
        }
    }

    /// The findings of `g`'s units of `kind`, moved out, and the rendering of each that is
    /// the first of its template.
    fn given(
        &mut self,
        g: &mut GivenUnits,
        kind: UnitKind,
        first: &mut impl FnMut(&str) -> bool,
        rendering: &GivenRendering,
    ) {
        for (k, u) in g.units.iter_mut().enumerate() {
            if u.kind != kind {
                continue;
            }
            self.diagnostics.append(&mut u.render);
            self.validation.append(&mut u.validation);
            if u.template.as_ref().is_some_and(|t| first(t)) {
                self.rendered.extend(rendering(g.id, k));
            }
        }
    }
}
