//! Deployments given back without their units: a warm `proctor check` whose reports do not
//! list units (all but the HTML report) needs of a cached service deployment only what it
//! found and its counts, not a `Unit`, a record and the paths of each of its units. Decoding
//! those was most of a warm run's work per deployment.

use super::{Entry, Head, Job, Session};
use crate::check::entry_diags::decode_all;
use crate::check::entry_parts::{kind_of, shared_path};
use crate::diag::Diagnostic;
use crate::source::Source;
use crate::stage::render::GivenUnit;
use crate::unit::{Rendered, Rendition};

/// A deployment the cache gave back without its units: what its spec stage found, its
/// counts, its units' policy verdicts, and what rendering and validating each unit found.
pub(in crate::check) struct GivenHit {
    pub(in crate::check) diagnostics: Vec<Diagnostic>,
    pub(in crate::check) files: usize,
    pub(in crate::check) specs: usize,
    pub(in crate::check) units: Vec<GivenUnit>,
    pub(in crate::check) verdicts: Vec<crate::policy::RuleVerdict>,
    pub(in crate::check) counts: crate::policy::VerdictCounts,
}

impl Session {
    /// `job`'s entry as a deployment given back without its units (`find` otherwise), with
    /// its spec when the run read it. `bundle`: the folder, as shown, of the bundle its units
    /// must use; their spec must be the one its key covers. Both stand in for its units in
    /// the run (the bundles units use; the specs searched for inline suppressions).
    pub(in crate::check) fn find_given(
        &self,
        job: Job,
        bundle: &str,
    ) -> Option<(GivenHit, Option<Source>)> {
        let bytes = self.bytes_of(job)?;
        if let Some(found) = self.clean(job, bundle, bytes)? {
            return Some(found);
        }
        let (mut entry, spec) = self.entry_in(job, bytes)?;
        let (name, ..) = self.specs.get(&job)?;
        let units = &entry.spec.units;
        if !units.iter().all(|u| u.bundle == bundle && u.spec == name) {
            return None;
        }
        let sources = self.sources(spec.as_ref(), std::mem::take(&mut entry.sources))?;
        let diags = |ds| decode_all(ds, &sources);
        let (verdicts, counts) = self.verdicts_of(&mut entry.units)?;
        let Entry { spec: s, units, .. } = entry;
        let units = (units.into_iter().zip(&s.units)).map(|(r, u)| {
            Some(GivenUnit {
                kind: u.kind()?,
                render: diags(r.render)?,
                validation: diags(r.validation)?,
                template: match r.rendered {
                    Some(x) => Some(shared_path(x.template_of(u)?)),
                    None => None,
                },
            })
        });
        let hit = GivenHit {
            units: units.collect::<Option<_>>()?,
            diagnostics: diags(s.diagnostics)?,
            files: s.files,
            specs: s.specs,
            verdicts,
            counts,
        };
        Some((hit, spec))
    }

    /// `job`'s entry as `find_given` gives it, read from its head alone, when no stage found
    /// anything in the deployment, the run only counts verdicts and no waiver names any
    /// deployment (`Some(None)` otherwise: the whole entry is read). `None`: a miss. Most
    /// deployments of a workspace are such, and their entries are mostly what only a
    /// finding needs.
    fn clean(
        &self,
        job: Job,
        bundle: &str,
        bytes: &[u8],
    ) -> Option<Option<(GivenHit, Option<Source>)>> {
        let (head, _) = postcard::take_from_bytes::<Head>(bytes).ok()?;
        if !self.same_environments(&head) {
            return None;
        }
        if !(head.clean && self.counting && self.waived.is_empty()) {
            return Some(None);
        }
        let (name, ..) = self.specs.get(&job)?;
        let units = head.units.iter().map(|u| {
            if u.bundle != bundle || u.spec != name {
                return None;
            }
            Some(GivenUnit {
                kind: kind_of(u.kind)?,
                render: Vec::new(),
                validation: Vec::new(),
                template: u.template.map(shared_path),
            })
        });
        let [passed, failed, skipped] = head.counts;
        let hit = GivenHit {
            units: units.collect::<Option<_>>()?,
            diagnostics: Vec::new(),
            files: head.files,
            specs: head.specs,
            verdicts: Vec::new(),
            counts: crate::policy::VerdictCounts {
                passed,
                failed,
                skipped,
            },
        };
        // A spec read for its key is searched for inline suppressions (a settled one has
        // none, and no finding points into it).
        Some(Some((hit, self.read.get(&job).cloned())))
    }

    /// What unit `k` of `job`'s entry, given back without its units, rendered to (the
    /// first of its template, which a slim run keeps): read from the pack again.
    pub(in crate::check) fn rendering_of(&self, job: Job, k: usize) -> Option<Rendered> {
        let mut entry: Entry<'_> = postcard::from_bytes(self.bytes_of(job)?).ok()?;
        let unit = entry.spec.units.get(k)?;
        let rendered = entry.units.get_mut(k)?.rendered.take()?;
        let template = rendered.decode(unit)?;
        Some(Rendition::Given(template).rendered(&unit.decode()?))
    }
}
