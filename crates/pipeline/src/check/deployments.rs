//! proctor.toml's deployments in the spec stage: which a run checks, and each one's spec
//! checked against its bundle or its result given back by the cache.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::incremental::{self, GivenHit, Job, Session, Stored};
use super::specs::{ServiceContext, SpecResult, check_deployment_spec, isolated_spec};
use super::{Loaded, Outcome, Run, jobs};
use crate::stage::render::GivenUnits;

/// proctor.toml's deployments a run checks (see `Run::deployment_jobs`).
pub(super) struct DeploymentJobs {
    /// Each deployment and its bundle, the environments first.
    pub(super) jobs: Vec<(Job, usize)>,
    /// How many of `jobs` are environments.
    pub(super) environments: usize,
    /// Each environment's bundle, by name.
    pub(super) env_bundles: BTreeMap<String, Option<usize>>,
    /// Whether proctor.toml binds any deployment to an existing stack.
    pub(super) binds: bool,
    /// No two `[[service]]` tables have the same name.
    pub(super) services_unique: bool,
}

/// A deployment as the spec stage has it: checked now, given back by the cache with its
/// units, or without them (`CheckOptions::cached_units`).
enum Found {
    Checked(SpecResult),
    Cached(SpecResult, incremental::GivenBack),
    Given(GivenHit, Option<crate::source::Source>),
}

/// Deployments through the spec stage, not yet added to the run (`Run::deployments_found`),
/// and whether proctor.toml binds any deployment to an existing stack.
pub(super) struct DeploymentsFound(Vec<(Job, usize, Found)>, bool);

impl Found {
    /// The spec stage's result, with the units it lists.
    fn listed(&self) -> Option<&SpecResult> {
        match self {
            Found::Checked(r) | Found::Cached(r, _) => Some(r),
            Found::Given(..) => None,
        }
    }
}

impl Run<'_> {
    /// proctor.toml's deployments that this run checks, environments first, with what
    /// checking them reads. `None` without proctor.toml.
    pub(super) fn deployment_jobs(&self, loaded: &Loaded) -> Option<DeploymentJobs> {
        let cfg = self.config?;
        let env_bundles: BTreeMap<String, Option<usize>> = cfg
            .environments
            .iter()
            .zip(&loaded.deployments.environments)
            .map(|(e, b)| (e.name.value.clone(), *b))
            .collect();
        let environments = jobs(&loaded.deployments.env_jobs);
        let services = jobs(&loaded.deployments.svc_jobs);
        let mut all: Vec<(Job, usize)> = Vec::with_capacity(environments.len() + services.len());
        all.extend(environments.iter().map(|&(i, b)| (Job::Environment(i), b)));
        all.extend(services.iter().map(|&(i, b)| (Job::Service(i), b)));
        // Most workspaces bind no stack: then there is nothing to look up per unit.
        let binds = cfg.environments.iter().any(|e| e.stack.is_some())
            || cfg
                .services
                .iter()
                .any(|s| !s.stacks.is_empty() || s.pipeline_stack.is_some());
        let mut names = foldhash::HashSet::default();
        let services_unique = cfg.services.iter().all(|s| names.insert(&s.name.value));
        Some(DeploymentJobs {
            jobs: all,
            environments: environments.len(),
            env_bundles,
            binds,
            services_unique,
        })
    }

    /// Some of proctor.toml's deployments (`jobs`, of `all`): each spec against its bundle,
    /// or its result given back by the cache. Their units are added to `out.units`, but
    /// those of the services given back without their units (`given`: the caller streams
    /// them, and the run does not list cached units), which are returned with their places
    /// and bundles.
    pub(super) fn deployment_specs(
        &self,
        loaded: &Loaded,
        (all, jobs, given): (&DeploymentJobs, &[(Job, usize)], bool),
        out: &mut Outcome,
        session: Option<&mut Session>,
    ) -> Vec<(GivenUnits, Job, usize)> {
        let found = self.deployments_found(loaded, (all, jobs, given), session.as_deref(), None);
        self.absorb_deployments(found, out, session)
    }

    /// The spec stage of some of proctor.toml's deployments, as `deployment_specs`, without
    /// adding them to the run: that is `absorb_deployments`, in order. Reads the session
    /// only, so that a batch's specs can be checked while the batch before renders.
    /// `texts`: the specs' texts when they were read ahead (`read_ahead`), by place in `jobs`.
    pub(super) fn deployments_found(
        &self,
        loaded: &Loaded,
        (all, jobs, given): (&DeploymentJobs, &[(Job, usize)], bool),
        session: Option<&Session>,
        texts: Option<&[Option<crate::source::Source>]>,
    ) -> DeploymentsFound {
        let Some(cfg) = self.config else {
            return DeploymentsFound(Vec::new(), false);
        };
        let env_bundles = &all.env_bundles;
        let reading = (&self.limits, &self.opts.buffers);
        let bundle = |b: usize| &loaded.bundles[&b].0;
        // Each deployment the cache has is given back, decoded here, a batch at a time.
        let cached = session;
        let lean = given && !self.opts.cached_units;
        let results: Vec<(Job, usize, Found)> = jobs
            .par_iter()
            .enumerate()
            .map(|(at, &(job, b))| {
                if let Some(s) = cached {
                    if lean && matches!(job, Job::Service(_)) {
                        let hit = s.find_given(job, &bundle(b).display);
                        if let Some((hit, spec)) = hit {
                            return (job, b, Found::Given(hit, spec));
                        }
                    } else if let Some((hit, spec)) = s.find(job) {
                        let given = (hit.records, hit.verdicts, hit.counts);
                        return (job, b, Found::Cached(hit.spec, (given, spec)));
                    }
                }
                // The spec as read for its key, when the cache kept it, or read ahead.
                let read = cached.and_then(|s| s.spec_read(job));
                let read = read.or_else(|| texts?.get(at)?.clone());
                let r = match job {
                    Job::Environment(i) => {
                        let e = &cfg.environments[i];
                        isolated_spec(cfg, &e.spec.value, || {
                            let env = Some(e.name.value.as_str());
                            let spec = (&e.spec, read);
                            check_deployment_spec(cfg, spec, reading, bundle(b), env, None)
                        })
                    }
                    Job::Service(i) => {
                        let s = &cfg.services[i];
                        let ctx = ServiceContext {
                            cfg,
                            env_bundles,
                            loaded: &loaded.bundles,
                            service: &s.name.value,
                        };
                        isolated_spec(cfg, &s.spec.value, || {
                            check_deployment_spec(
                                cfg,
                                (&s.spec, read),
                                reading,
                                bundle(b),
                                None,
                                Some(&ctx),
                            )
                        })
                    }
                };
                (job, b, Found::Checked(r))
            })
            .collect();
        DeploymentsFound(results, all.binds)
    }

    /// Adds the deployments `deployments_found` gave to the run (`deployment_specs`).
    pub(super) fn absorb_deployments(
        &self,
        DeploymentsFound(results, binds): DeploymentsFound,
        out: &mut Outcome,
        mut session: Option<&mut Session>,
    ) -> Vec<(GivenUnits, Job, usize)> {
        let Some(cfg) = self.config else {
            return Vec::new();
        };
        // Room for the batch's results at once: grown one at a time, the lists are copied
        // over and over (10,000 deployments' units are megabytes).
        let listed = || results.iter().filter_map(|(_, _, f)| f.listed());
        let units: usize = listed().map(|r| r.units.len()).sum();
        out.units.reserve(units);
        out.checked_by
            .reserve(listed().map(|r| r.checked_by.len()).sum());
        if let Some(s) = session.as_deref_mut() {
            s.cached.reserve(units);
            s.verdicts.reserve(results.len());
        }
        let mut given = Vec::new();
        for (job, b, found) in results {
            let (mut r, records) = match found {
                Found::Checked(r) => (r, None),
                Found::Cached(r, records) => (r, Some(records)),
                Found::Given(hit, spec) => {
                    if let Some(s) = session.as_deref_mut() {
                        // A spec read for a deployment without units is not searched for
                        // inline suppressions (a run without the cache would not).
                        let spec = spec.filter(|_| !hit.units.is_empty());
                        s.given_back(job, spec, (hit.verdicts, hit.counts));
                    }
                    out.diagnostics.extend(hit.diagnostics);
                    (out.files, out.specs) = (out.files + hit.files, out.specs + hit.specs);
                    let (at, units) = (out.units.len(), hit.units);
                    given.push((GivenUnits { at, id: 0, units }, job, b));
                    continue;
                }
            };
            for u in r.units.iter_mut().filter(|_| binds) {
                let stack = cfg.bound_stack(u.kind.as_str(), &u.name, u.service.as_deref());
                u.stack = stack.map(str::to_string);
            }
            if let Some(s) = session.as_deref_mut() {
                let units = out.units.len()..out.units.len() + r.units.len();
                match records {
                    Some(((records, verdicts, counts), spec)) => {
                        s.given_back(job, spec, (verdicts, counts));
                        s.cached.extend(records.into_iter().map(Some));
                    }
                    None => {
                        s.cached.extend(units.clone().map(|_| None));
                        s.checked(job, units, Stored::of(&r));
                    }
                }
            }
            out.absorb(r);
        }
        given
    }
}
