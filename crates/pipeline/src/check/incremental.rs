//! The incremental check: each proctor.toml deployment's result is kept in the cache
//! ([`crate::cache`]) under a key that covers everything it depends on, and a later run
//! gives it back instead of checking, rendering and validating the deployment again.
//!
//! - **When.** Full `proctor check` runs of a workspace with proctor.toml (no paths, no
//!   `--base`, no editor buffers). Bundles are always loaded afresh; their templates'
//!   analyses are kept too (`super::analysis_memo`). Specs beside bundles and units
//!   synthesized for unused bundles are always checked afresh.
//! - **What.** One entry per `[[environment]]` and `[[service]]`: the spec stage's result
//!   (findings, units, units that failed, counts) and, for each unit, what rendering and
//!   validating it found ([`UnitRecord`]). The render stage puts a cached unit's findings
//!   back at the unit's place, so a warm run reports exactly what a cold run reports, in
//!   the same order.
//! - **The key** covers this build of proctor, proctor.toml's text (deployments, selection,
//!   waivers, limits), the date when a waiver expires, `.proctor/state.json`, the policies
//!   that run, `--select`/`--ignore`, the specs beside bundles, the bundles' names, the
//!   deployment's spec, every file of its bundle, and, for a service, every environment's
//!   key and every environment bundle. Editing one spec re-checks its deployment; editing an
//!   environment re-checks the services too (they read its outputs).
//! - **Never trusted blindly.** An entry that does not decode, names an unknown code,
//!   points outside its file or does not match the spec's units is a miss. A deployment
//!   that a waiver names is never cached (a waiver's use is the run's, not the unit's).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::entry_diags::{DiagRec, SourceRec, Table, below, decode_all, sources_of};
use super::entry_parts::{FailedRec, Names, OutputsRec, RenderedRec, UnitRec, VerdictGroup};
use super::keys::{bundle_hash, common_key};
use super::settled::{Settled, Stat};
use super::specs::SpecResult;
use crate::bundle::Bundle;
use crate::cache::{Cache, Key};
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::source::Source;
use crate::stage::render::UnitRecord;
use crate::unit::{Failed, Rendition, Unit, UnitKind};
pub(super) use given::GivenHit;

mod given;

/// What an environment that cannot be cached is keyed as: a deployment that reads it is not
/// stored.
const UNKEYED: &str = "unkeyed";

/// How large the cache may grow before the least recently used entries are removed.
pub const MAX_BYTES: u64 = 1 << 30;

/// Whether a run uses the cache, and where it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CacheUse {
    /// No cache (`--no-cache`; and everything but `proctor check`).
    #[default]
    Off,
    /// `.proctor/cache` under the workspace root.
    Default,
    /// This folder (`--cache-dir`, `PROCTOR_CACHE_DIR`).
    Dir(PathBuf),
}

/// What the cache did in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheReport {
    pub dir: PathBuf,
    /// Deployments given back from the cache.
    pub reused: usize,
    /// Deployments checked (and stored).
    pub checked: usize,
    /// Template analyses given back from the cache, and made afresh (and stored).
    pub analyses: (usize, usize),
    /// Why the cache was turned off during the run, to say once.
    pub problem: Option<String>,
}

/// A deployment of proctor.toml: its place among the environments or the services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Job {
    Environment(usize),
    Service(usize),
}

/// Maps by deployment (hashed fast: 10,000 of each are made in a warm run).
type JobMap<V> = foldhash::HashMap<Job, V>;

/// Each environment's key by name (`unkeyed` for a name one of whose deployments cannot be
/// cached); looked up for every deployment a warm run gives back.
type EnvKeys = foldhash::HashMap<String, String>;

/// The cache as one run uses it.
pub(super) struct Session {
    pub(super) cache: Cache,
    /// The workspace root: paths in entries are relative to it, so that a cache made in one
    /// checkout serves another (a CI runner's).
    pub(super) root: PathBuf,
    /// Each deployment's key, when it can be cached.
    keys: JobMap<Key>,
    /// Each cacheable deployment's spec as read for its key: its name, path and SHA-256.
    specs: JobMap<(String, PathBuf, String)>,
    /// The specs of the deployments given back, as read for their keys (a run reads them
    /// again for inline suppressions).
    pub(super) spec_sources: HashMap<String, Source>,
    /// The specs of deployments given back that were not read (settled: no inline
    /// suppressions either), by name.
    pub(super) unread: foldhash::HashSet<String>,
    /// The files entries point into by name instead of holding their text.
    pub(super) known: HashMap<String, Source>,
    /// Deployment, instance and service names that waivers name.
    waived: Vec<String>,
    /// Each environment's key (the keys of all, for a name given twice), by name.
    env_keys: EnvKeys,
    /// The policies' and their rules' names, which verdicts given back share.
    names: Names,
    /// The deployments this run checks afresh, with what to store for them: where their
    /// units are in `Outcome::units`, and their spec stage's result.
    fresh: Vec<(Job, std::ops::Range<usize>, Stored)>,
    reused: usize,
    /// What the cache holds for each unit of `Outcome::units` so far, by position.
    pub(super) cached: Vec<Option<Arc<UnitRecord>>>,
    /// The policy verdicts of the cached units, and of the fresh ones whose records were
    /// stored and freed (`store_ready`), a deployment's at a time.
    pub(super) verdicts: Vec<Vec<crate::policy::RuleVerdict>>,
    /// Whether the cached units' verdicts are only counted, and their counts so far.
    counting: bool,
    pub(super) counted: crate::policy::VerdictCounts,
    /// The run's common key, which every key of the pack starts from.
    pub(super) common: Key,
    /// Each loaded bundle's hash (`None`: not to be cached), by folder.
    pub(super) bundle_hashes: HashMap<PathBuf, Option<String>>,
    /// The specs read for their keys, by deployment, until the spec stage reaches it (one
    /// given back keeps its spec from here).
    read: JobMap<Source>,
    /// Template analyses given back, and made afresh and kept.
    pub(super) analyses: (AtomicUsize, AtomicUsize),
    /// Deployments checked afresh and stored before the end (`store_ready`).
    stored_early: usize,
}

/// A deployment the cache had: its spec stage's result, its units' records, and its units'
/// policy verdicts.
pub(super) struct Hit {
    pub(super) spec: SpecResult,
    pub(super) records: Vec<Arc<UnitRecord>>,
    pub(super) verdicts: Vec<crate::policy::RuleVerdict>,
    /// Its units' verdicts counted instead, when the run only counts them.
    pub(super) counts: crate::policy::VerdictCounts,
}

/// What a deployment given back brings beside its spec stage's result: its units' records
/// and their policy verdicts.
pub(super) type Given = (
    Vec<Arc<UnitRecord>>,
    Vec<crate::policy::RuleVerdict>,
    crate::policy::VerdictCounts,
);

/// A deployment given back, as the spec stage holds it: what it brings, and its spec when
/// the run read it (`Session::find`).
pub(super) type GivenBack = (Given, Option<Source>);

/// What the spec stage gave for a deployment, kept to be stored with its units' records.
pub(super) struct Stored {
    diagnostics: Vec<Diagnostic>,
    files: usize,
    specs: usize,
    checked_by: Vec<(PathBuf, PathBuf)>,
    failed: Vec<Failed>,
}

impl Stored {
    pub(super) fn of(r: &SpecResult) -> Stored {
        Stored {
            diagnostics: r.diagnostics.clone(),
            files: r.files,
            specs: r.specs,
            checked_by: r.checked_by.clone(),
            failed: r.failed.clone(),
        }
    }
}

/// A deployment as looked up: its spec, and its key, when it has them.
type Looked = (Job, Option<SpecRead>, Option<Key>);

/// A deployment's spec as its key covers it: its name and path, the SHA-256 of its text,
/// and the text when it was read (a settled spec is not: [`super::settled`]).
struct SpecRead {
    name: String,
    path: PathBuf,
    /// As proctor.toml gives it.
    given: PathBuf,
    digest: String,
    source: Option<Source>,
    stat: Option<Stat>,
}

/// What a run's keys are made of, besides each deployment's own files.
pub(super) struct Inputs<'a> {
    pub(super) config: &'a Config,
    pub(super) policies: &'a [(String, String)],
    pub(super) filter: &'a crate::diag::filter::CodeFilter,
    pub(super) limits: &'a crate::limits::Limits,
    pub(super) bundles: &'a HashMap<usize, (Bundle, Vec<Diagnostic>)>,
    /// The bundle (catalog index) of each deployment this run checks.
    pub(super) env_jobs: &'a [Option<usize>],
    pub(super) svc_jobs: &'a [Option<usize>],
    pub(super) loaded: &'a [crate::policy::Policy],
    /// The SHA-256 of proctor.toml's text.
    pub(super) config_sha256: &'a str,
    /// The verdicts given back are only counted (`CheckOptions::count_verdicts`).
    pub(super) count_verdicts: bool,
}

impl Session {
    /// Opens the cache for a run and makes every deployment's key, in parallel; the
    /// deployments are looked up as the spec stage reaches them (`find`), once the
    /// templates are analysed (`look_up`).
    pub(super) fn open(dir: PathBuf, inputs: &Inputs) -> Session {
        let cfg = inputs.config;
        let mut known: HashMap<String, Source> = HashMap::new();
        let mut know = |s: &Source| {
            known.insert(s.name().to_string(), s.clone());
        };
        know(&cfg.source);
        inputs.loaded.iter().for_each(|p| know(&p.source));
        for (b, _) in inputs.bundles.values() {
            if let Some(s) = &b.schema {
                know(&s.source);
            }
            b.infrastructure.iter().for_each(|i| know(&i.manifest));
            b.compatible_environments
                .iter()
                .for_each(|e| know(&e.source));
        }

        let hashes: HashMap<usize, Option<String>> = inputs
            .bundles
            .par_iter()
            .map(|(ix, (b, _))| (*ix, bundle_hash(&b.dir, inputs.limits)))
            .collect();
        let common = common_key(inputs);
        let bundle_hashes = (inputs.bundles.iter())
            .map(|(ix, (b, _))| (b.dir.clone(), hashes.get(ix).cloned().flatten()))
            .collect();
        let now = std::time::SystemTime::now();
        // Every key of the run starts with `common`: its entries share one pack, read while
        // the specs' identities and times are.
        let given: Vec<&PathBuf> = (cfg.environments.iter().map(|e| &e.spec.value))
            .chain(cfg.services.iter().map(|s| &s.spec.value))
            .collect();
        let (cache, stats) = rayon::join(
            || Cache::open(dir, MAX_BYTES, &common),
            || -> Vec<Option<Stat>> {
                let stat = |p: &&PathBuf| super::settled::stat(&cfg.root.join(p));
                given.par_iter().map(stat).collect()
            },
        );
        let settled_key = Key::of([common.hex().as_bytes(), b"settled specs"]);
        let settled = super::settled::index(cache.get(&settled_key));
        let (envs, env_keys, services) =
            look_up_specs(inputs, &common, &hashes, (&stats, &settled));
        // The record is made again when specs read this run settle (the first run's, or ones
        // written more than two seconds ago), of the specs not read and those read that
        // settle: when they are a hundredth of the specs at least (every one, below a
        // hundred). Otherwise it stays as it is (a record of a spec written since never
        // matches again): a run after an edit reads the few specs edited since the record
        // was made, not a record of every spec written again (1.2 MB at 10,000, and the
        // pack grown by as much) to spare reading one.
        let settles = |r: &SpecRead| match (&r.stat, &r.source) {
            (Some(stat), Some(s)) => super::settled::settles(stat, s.text(), now),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let looked = || (envs.iter().chain(&services)).filter_map(|(_, spec, _)| spec.as_ref());
        let settling = looked()
            .filter(|r| r.source.is_some() && settles(r))
            .count();
        if settling > 0 && settling * 100 >= looked().count() {
            let records = looked()
                .filter(|r| settles(r))
                .filter_map(|r| Some((r.given.clone(), r.stat.clone()?, r.digest.clone())))
                .collect();
            if let Some(bytes) = Settled::of(records).encode() {
                cache.put(&settled_key, &bytes);
            }
        }
        let mut waived: Vec<String> = cfg
            .waivers
            .iter()
            .map(|w| w.deployment.value.clone())
            .collect();
        waived.sort();
        waived.dedup();
        let mut session = Session {
            cache,
            root: cfg.root.clone(),
            keys: JobMap::default(),
            specs: JobMap::default(),
            spec_sources: HashMap::new(),
            unread: Default::default(),
            known,
            waived,
            env_keys,
            names: names_of(inputs.loaded),
            fresh: Vec::new(),
            reused: 0,
            cached: Vec::new(),
            verdicts: Vec::new(),
            counting: inputs.count_verdicts,
            counted: Default::default(),
            common,
            bundle_hashes,
            read: JobMap::default(),
            analyses: Default::default(),
            stored_early: 0,
        };
        let mut read: JobMap<Source> = JobMap::default();
        for (job, spec, key) in envs.into_iter().chain(services) {
            let name = match job {
                Job::Environment(i) => &cfg.environments[i].name.value,
                Job::Service(i) => &cfg.services[i].name.value,
            };
            if let (Some(spec), Some(key)) = (spec, key)
                && !session.is_waived(name)
            {
                session
                    .specs
                    .insert(job, (spec.name, spec.path, spec.digest));
                session.keys.insert(job, key);
                if let Some(source) = spec.source {
                    read.insert(job, source);
                }
            }
        }
        session.read = read;
        session
    }

    /// Learns the files that entries' findings may point into besides the ones it knew when
    /// it opened: the templates, once they are read. Deployments are looked up as the spec
    /// stage reaches them, a batch at a time (`find`).
    pub(super) fn look_up(&mut self, templates: &[crate::stage::analyse::Analysed]) {
        for t in templates {
            self.known
                .insert(t.source.name().to_string(), t.source.clone());
        }
        // A first run gives nothing back: the specs it read for their keys are not kept
        // (100,000 of them are 100 MB). A later run lets go of each as its deployment is
        // given back or checked (`given_back`, `checked`).
        if !self.cache.has_entries() {
            self.read = JobMap::default();
        }
    }

    /// The key of the environment `name` (`unkeyed` when it cannot be cached, which no
    /// entry matches; `none` when proctor.toml has no such environment).
    fn env_key(&self, name: &str) -> &str {
        self.env_keys.get(name).map_or("none", String::as_str)
    }

    /// Whether a deployment whose units are `units` can be stored: no waiver names it, and
    /// every environment it reads can be cached.
    fn storable(&self, units: &[Unit]) -> bool {
        let waived = units
            .iter()
            .flat_map(|u| std::iter::once(&u.name).chain(u.service.as_ref()))
            .any(|n| self.is_waived(n));
        let unkeyed = units
            .iter()
            .filter_map(|u| u.environment.as_deref())
            .any(|e| self.env_key(e) == UNKEYED);
        !waived && !unkeyed
    }

    /// `job`'s entry, read, when the cache has one whose environments are as they were,
    /// whose units no waiver names and that has a record per unit; with its spec when the
    /// run read it (for its key, or now: a settled spec that findings point into). Called
    /// from every thread of the spec stage, a batch of deployments at a time: a warm run
    /// holds a batch's entries decoded, not all of them, and works on each while it is in
    /// the processor's caches.
    fn entry_of(&self, job: Job) -> Option<(Entry<'_>, Option<Source>)> {
        self.entry_in(job, self.bytes_of(job)?)
    }

    /// `job`'s spec as read for its key, when the session still holds it.
    pub(super) fn spec_read(&self, job: Job) -> Option<Source> {
        self.read.get(&job).cloned()
    }

    /// `job`'s entry's bytes, when the pack has them whole and intact.
    fn bytes_of(&self, job: Job) -> Option<&[u8]> {
        if !self.cache.has_entries() {
            return None;
        }
        self.cache.get(self.keys.get(&job)?)
    }

    /// `job`'s entry read from `bytes`, as `entry_of` gives it.
    fn entry_in<'b>(&self, job: Job, bytes: &'b [u8]) -> Option<(Entry<'b>, Option<Source>)> {
        let entry: Entry<'_> = postcard::from_bytes(bytes).ok()?;
        // The environments the deployment read must be as they were.
        let same = self.same_environments(&entry.head);
        let names =
            (entry.spec.units.iter()).flat_map(|u| std::iter::once(u.name).chain(u.service));
        let waived = names.into_iter().any(|n| self.is_waived(n));
        if !same || waived || entry.spec.units.len() != entry.units.len() {
            return None;
        }
        let read = self.read.get(&job);
        let lazily = match read {
            Some(_) => None,
            None => self.spec_for(job, &entry)?,
        };
        Some((entry, read.cloned().or(lazily)))
    }

    /// `job`'s entry, decoded (`entry_of`), with its spec when the run read it.
    pub(super) fn find(&self, job: Job) -> Option<(Hit, Option<Source>)> {
        let (entry, spec) = self.entry_of(job)?;
        let hit = self.decode(spec.as_ref(), entry)?;
        Some((hit, spec))
    }

    /// Notes a deployment given back (`find`, `find_given`). Its spec, when the run read it (`spec`), is
    /// handed to the search for inline suppressions instead of being read again; a spec the
    /// run did not read is settled, so known to have none.
    /// Its units' policy verdicts (listed, or counted when the run only counts them) join
    /// the run's.
    pub(super) fn given_back(
        &mut self,
        job: Job,
        spec: Option<Source>,
        (verdicts, counts): (
            Vec<crate::policy::RuleVerdict>,
            crate::policy::VerdictCounts,
        ),
    ) {
        self.reused += 1;
        self.verdicts.push(verdicts);
        self.counted += counts;
        self.read.remove(&job);
        match spec {
            Some(spec) => {
                self.spec_sources.insert(spec.name().to_string(), spec);
            }
            None => {
                let name = self.specs.get(&job).map(|s| s.0.clone());
                self.unread.extend(name);
            }
        }
    }

    /// A settled spec that `entry`'s findings point into, read now (`Some(None)` when they
    /// point into none); `None` when it no longer is what the key covers.
    fn spec_for(&self, job: Job, entry: &Entry) -> Option<Option<Source>> {
        let (name, path, digest) = self.specs.get(&job)?;
        if !entry
            .sources
            .iter()
            .any(|s| s.text.is_none() && s.name == *name)
        {
            return Some(None);
        }
        let none = crate::files::Buffers::default();
        let source = crate::files::read_in(&none, path, name, u64::MAX).ok()?;
        let same = crate::source::sha256(source.text().as_bytes()) == *digest;
        same.then_some(Some(source))
    }

    fn is_waived(&self, name: &str) -> bool {
        self.waived
            .binary_search_by(|w| w.as_str().cmp(name))
            .is_ok()
    }

    /// Makes room in the run's lists for a unit of every deployment the cache may give back
    /// (each has one at least): grown batch by batch from nothing, they were copied several
    /// times (megabytes of units on 10,000 deployments, on the serial path). When services
    /// are given back without their units, most of the room is reserved and never touched.
    pub(super) fn make_room(&mut self, units: &mut Vec<Unit>) {
        let deployments = if self.cache.has_entries() {
            self.keys.len()
        } else {
            0
        };
        units.reserve(deployments);
        self.cached.reserve(deployments);
        self.verdicts.reserve(deployments);
    }

    /// Notes a deployment checked afresh: its units are `units` of `Outcome::units`, and
    /// `stored` what its spec stage found.
    pub(super) fn checked(&mut self, job: Job, units: std::ops::Range<usize>, stored: Stored) {
        self.read.remove(&job);
        if self.keys.contains_key(&job) {
            self.fresh.push((job, units, stored));
        }
    }

    /// Stores the deployments checked afresh whose units' records (`records`, by position
    /// in `Outcome::units`) are all made, in parallel, and frees those records but their
    /// verdicts (kept for the run in `verdicts`): a first run on 100,000 deployments held
    /// every record until its end. A deployment with components is left to `store` (they
    /// render last).
    pub(super) fn store_ready(&mut self, units: &[Unit], records: &mut [Option<Box<UnitRecord>>]) {
        let ready = |range: &std::ops::Range<usize>| {
            let (Some(us), Some(rs)) = (units.get(range.clone()), records.get(range.clone()))
            else {
                return false;
            };
            us.iter().all(|u| u.kind != UnitKind::Component) && rs.iter().all(Option::is_some)
        };
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.fresh)
            .into_iter()
            .partition(|(_, range, _)| ready(range));
        self.fresh = later;
        if now.is_empty() {
            return;
        }
        self.encode_all(&now, units, records);
        for (_, range, _) in &now {
            let verdicts = records[range.clone()]
                .iter_mut()
                .filter_map(Option::take)
                .flat_map(|r| r.verdicts);
            self.verdicts.push(verdicts.collect());
        }
        self.stored_early += now.len();
    }

    /// Stores every deployment checked afresh and not stored yet, with its units' records
    /// (`records`, by position in `Outcome::units`), in parallel; then says what the cache
    /// did.
    pub(super) fn store(&self, units: &[Unit], records: &[Option<Box<UnitRecord>>]) -> CacheReport {
        let checked = self.fresh.len() + self.stored_early;
        self.encode_all(&self.fresh, units, records);
        self.cache.finish();
        CacheReport {
            dir: self.cache.dir().to_path_buf(),
            reused: self.reused,
            checked,
            analyses: (
                self.analyses.0.load(std::sync::atomic::Ordering::Relaxed),
                self.analyses.1.load(std::sync::atomic::Ordering::Relaxed),
            ),
            problem: self.cache.problem(),
        }
    }

    /// Encodes `fresh`'s deployments with their units' records, in parallel, into the pack.
    fn encode_all(
        &self,
        fresh: &[(Job, std::ops::Range<usize>, Stored)],
        units: &[Unit],
        records: &[Option<Box<UnitRecord>>],
    ) {
        fresh.par_iter().for_each(|(job, range, stored)| {
            let Some(units) = units.get(range.clone()) else {
                return;
            };
            let records = records.get(range.clone()).and_then(|rs| {
                rs.iter()
                    .map(Option::as_deref)
                    .collect::<Option<Vec<&UnitRecord>>>()
            });
            let (Some(records), Some(key)) = (records, self.keys.get(job)) else {
                return;
            };
            if !self.storable(units) {
                return;
            }
            let entry = self.encode(self.specs.get(job), stored, units, &records);
            if let Some(Ok(bytes)) = entry.map(|e| postcard::to_stdvec(&e)) {
                self.cache.put(key, &bytes);
            }
        });
    }

    fn encode<'r>(
        &'r self,
        spec: Option<&(String, PathBuf, String)>,
        stored: &'r Stored,
        units_of: &'r [Unit],
        records: &[&'r UnitRecord],
    ) -> Option<Entry<'r>> {
        let mut table = Table::new(&self.root, &self.known, spec, None);
        let spec_part = SpecRec {
            diagnostics: table.diags(&stored.diagnostics),
            units: units_of.iter().map(UnitRec::of).collect(),
            files: stored.files,
            specs: stored.specs,
            checked_by: stored
                .checked_by
                .iter()
                .map(|(a, b)| (below(&self.root, a), below(&self.root, b)))
                .collect(),
            failed: stored.failed.iter().map(FailedRec::of).collect(),
        };
        let units = records
            .iter()
            .map(|r| {
                // Only what rendered this run is stored (a record given back is not).
                let rendered = match &r.rendered {
                    Some(Rendition::Made(made)) => Some(RenderedRec::of(made)),
                    Some(Rendition::Given(_)) => return None,
                    None => None,
                };
                Some(RecordRec {
                    rendered,
                    render: table.diags(&r.render),
                    validation: table.diags(&r.validation),
                    verdicts: VerdictGroup::of(&r.verdicts),
                    known: r.known.clone(),
                    outputs: r.outputs.as_deref().map(OutputsRec::of),
                })
            })
            .collect::<Option<_>>()?;
        let mut environments: Vec<(&str, &str)> = units_of
            .iter()
            .filter(|u| u.kind != UnitKind::Environment)
            .filter_map(|u| u.environment.as_deref())
            .map(|name| (name, self.env_key(name)))
            .collect();
        environments.sort();
        environments.dedup();
        let mut counts = crate::policy::VerdictCounts::default();
        records
            .iter()
            .flat_map(|r| &r.verdicts)
            .for_each(|v| counts.add(v.status));
        let clean = stored.diagnostics.is_empty()
            && stored.failed.is_empty()
            && (records.iter()).all(|r| r.render.is_empty() && r.validation.is_empty());
        let head = Head {
            environments,
            clean,
            files: stored.files,
            specs: stored.specs,
            counts: [counts.passed, counts.failed, counts.skipped],
            units: (units_of.iter().zip(records))
                .map(|(u, r)| HeadUnit {
                    kind: u.kind.as_str(),
                    bundle: &u.bundle,
                    spec: &u.spec,
                    template: r.rendered.as_ref().map(Rendition::template),
                })
                .collect(),
        };
        Some(Entry {
            head,
            sources: table.into_sources(),
            spec: spec_part,
            units,
        })
    }

    /// Whether the environments a deployment's entry read (`head`) are as they were.
    fn same_environments(&self, head: &Head) -> bool {
        (head.environments.iter()).all(|(name, key)| self.env_key(name) == *key)
    }

    /// An entry as the run's values, when every part of it makes sense here.
    fn decode(&self, spec: Option<&Source>, mut entry: Entry<'_>) -> Option<Hit> {
        let sources = self.sources(spec, std::mem::take(&mut entry.sources))?;
        let diags = |ds: Vec<DiagRec>| decode_all(ds, &sources);
        let (verdicts, counts) = self.verdicts_of(&mut entry.units)?;
        let s = entry.spec;
        let units: Vec<Unit> = s.units.iter().map(UnitRec::decode).collect::<Option<_>>()?;
        let mut records = Vec::with_capacity(entry.units.len());
        for (r, unit) in entry.units.into_iter().zip(&s.units) {
            records.push(Arc::new(UnitRecord {
                rendered: match r.rendered {
                    Some(x) => Some(Rendition::Given(x.decode(unit)?)),
                    None => None,
                },
                render: diags(r.render)?,
                validation: diags(r.validation)?,
                // A cached unit's verdicts go straight to the run's (their order does not
                // matter: the run sorts them), not through the render stage.
                verdicts: Vec::new(),
                known: r.known,
                outputs: r.outputs.map(|o| Box::new(o.decode())),
            }));
        }
        // Its spec, when read, is handed on by `given_back`.
        let result = SpecResult {
            read: None,
            diagnostics: diags(s.diagnostics)?,
            units,
            files: s.files,
            specs: s.specs,
            checked_by: s
                .checked_by
                .into_iter()
                .map(|(a, b)| (self.root.join(a), self.root.join(b)))
                .collect(),
            failed: s
                .failed
                .into_iter()
                .map(FailedRec::decode)
                .collect::<Option<_>>()?,
        };
        Some(Hit {
            spec: result,
            records,
            verdicts,
            counts,
        })
    }

    /// The files an entry's findings point into (`recs`), as this run has them.
    fn sources(&self, spec: Option<&Source>, recs: Vec<SourceRec>) -> Option<Vec<Source>> {
        sources_of(recs, &self.root, |name| match spec {
            Some(sp) if sp.name() == name => Some(sp.clone()),
            _ => self.known.get(name).cloned(),
        })
    }

    /// The policy verdicts of an entry's units (taken from `records`): listed, or counted
    /// when the run only counts them.
    fn verdicts_of(
        &self,
        records: &mut [RecordRec],
    ) -> Option<(
        Vec<crate::policy::RuleVerdict>,
        crate::policy::VerdictCounts,
    )> {
        let listed = match self.counting {
            true => 0,
            false => records
                .iter()
                .flat_map(|r| &r.verdicts)
                .map(VerdictGroup::len)
                .sum(),
        };
        let mut verdicts = Vec::with_capacity(listed);
        let mut counts = crate::policy::VerdictCounts::default();
        for g in records
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.verdicts))
        {
            match self.counting {
                true => g.count(&mut counts)?,
                false => g.decode(&self.names, &mut verdicts)?,
            }
        }
        Some((verdicts, counts))
    }
}

/// Every deployment's spec as read and its key, when it can be cached (environments, then
/// services), with each environment's key by name.
fn look_up_specs(
    inputs: &Inputs,
    common: &Key,
    hashes: &HashMap<usize, Option<String>>,
    (stats, settled): (&[Option<Stat>], &super::settled::Index),
) -> (Vec<Looked>, EnvKeys, Vec<Looked>) {
    let cfg = inputs.config;
    // A spec with the SHA-256 of its text (what its key covers): as recorded when it is
    // settled and its identity and times are as recorded, else as read. `at` is its place
    // among the environments' specs, then the services'.
    let reading = |spec: &crate::source::At<PathBuf>, at: usize| -> Option<SpecRead> {
        let (path, name) = super::specs::spec_file(cfg, &spec.value);
        let stat = stats.get(at).cloned().flatten();
        let recorded = spec.value.to_str().and_then(|p| settled.get(p));
        let (digest, source) = match (&stat, recorded) {
            (Some(now), Some((then, digest))) if now == then => (digest.to_string(), None),
            _ => {
                let none = crate::files::Buffers::default();
                let max = inputs.limits.max_file_bytes;
                let source = crate::files::read_in(&none, &path, &name, max).ok()?;
                (
                    crate::source::sha256(source.text().as_bytes()),
                    Some(source),
                )
            }
        };
        let given = spec.value.clone();
        Some(SpecRead {
            name,
            path,
            given,
            digest,
            source,
            stat,
        })
    };
    // A deployment's key: the run's part, its kind and name, its spec, its bundle's files,
    // and `more` (a service's: the environment bundles').
    let key_of = |kind: &[u8], name: &str, spec: &Option<SpecRead>, bundle, more: Option<&str>| {
        let spec = spec.as_ref()?;
        let bundle: String = hashes.get(&bundle?)?.clone()?;
        let parts = [
            common.hex().as_bytes(),
            kind,
            name.as_bytes(),
            spec.name.as_bytes(),
            spec.digest.as_bytes(),
            bundle.as_bytes(),
        ];
        Some(Key::of(parts.into_iter().chain(more.map(str::as_bytes))))
    };
    let envs: Vec<Looked> = (0..cfg.environments.len())
        .into_par_iter()
        .map(|i| {
            let e = &cfg.environments[i];
            let spec = reading(&e.spec, i);
            let key = key_of(
                b"environment",
                &e.name.value,
                &spec,
                inputs.env_jobs[i],
                None,
            );
            (Job::Environment(i), spec, key)
        })
        .collect();
    // What a service reads of the environments: the outputs every environment bundle
    // declares (in its key), and the rendered outputs of the environments its instances
    // are in (recorded in its entry with their keys, and compared when it is read).
    let env_keys = env_keys_by_name(cfg, &envs);
    let mut env_parts: Vec<String> = vec!["environment bundles".into()];
    let mut env_bundles: Vec<String> = inputs
        .bundles
        .iter()
        .filter(|(_, (b, _))| b.kind.is_environment())
        .map(|(ix, (b, _))| {
            let h = hashes
                .get(ix)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "-".into());
            format!("{} {h}", b.display)
        })
        .collect();
    env_bundles.sort();
    env_parts.extend(env_bundles);
    let env_bundles = Key::of(env_parts.iter().map(|p| p.as_bytes()));
    let services: Vec<Looked> = (0..cfg.services.len())
        .into_par_iter()
        .map(|i| {
            let s = &cfg.services[i];
            let spec = reading(&s.spec, cfg.environments.len() + i);
            let more = Some(env_bundles.hex());
            let key = key_of(b"service", &s.name.value, &spec, inputs.svc_jobs[i], more);
            (Job::Service(i), spec, key)
        })
        .collect();

    (envs, env_keys, services)
}

/// The names of the policies and of their rules.
fn names_of(policies: &[crate::policy::Policy]) -> Names {
    let mut names = Names::default();
    for p in policies {
        names.insert(p.source.name().into());
        names.extend(
            p.file
                .rules
                .iter()
                .map(|r| Arc::<str>::from(r.name.as_str())),
        );
    }
    names
}

/// Each environment's key by name (the keys of all, for a name given twice).
fn env_keys_by_name(cfg: &Config, envs: &[Looked]) -> EnvKeys {
    let mut env_keys = EnvKeys::default();
    for (job, _, key) in envs {
        let Job::Environment(i) = job else { continue };
        let k = key.as_ref().map_or(UNKEYED, |k| k.hex());
        env_keys
            .entry(cfg.environments[*i].name.value.clone())
            .and_modify(|all| all.push_str(&format!(" {k}")))
            .or_insert_with(|| k.to_string());
    }
    // A name given twice one of whose deployments cannot be cached cannot be either.
    for k in env_keys.values_mut() {
        if k.split(' ').any(|k| k == UNKEYED) {
            *k = UNKEYED.to_string();
        }
    }
    env_keys
}

// --- The entry format (postcard; the key and the store's header say which build wrote it) ----

#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    head: Head<'a>,
    sources: Vec<SourceRec>,
    #[serde(borrow)]
    spec: SpecRec<'a>,
    /// One per unit of `spec.units`, in order.
    #[serde(borrow)]
    units: Vec<RecordRec<'a>>,
}

/// What an entry says first: all that a deployment given back without its units needs when
/// nothing was found in it, read without the rest (`Session::find_given`).
#[derive(Serialize, Deserialize)]
struct Head<'a> {
    /// The environments the deployment's units are in, with their keys when it was stored.
    #[serde(borrow)]
    environments: Vec<(&'a str, &'a str)>,
    /// No stage found anything, and no unit failed.
    clean: bool,
    /// The spec stage's counts of files and specs.
    files: usize,
    specs: usize,
    /// Its units' policy verdicts by status: passed, failed, skipped.
    counts: [usize; 3],
    /// Each unit, as in `SpecRec::units`.
    #[serde(borrow)]
    units: Vec<HeadUnit<'a>>,
}

/// A unit as an entry's head has it: its kind, bundle and spec, and the template it rendered
/// from, when it rendered.
#[derive(Serialize, Deserialize)]
struct HeadUnit<'a> {
    kind: &'a str,
    bundle: &'a str,
    spec: &'a str,
    template: Option<&'a str>,
}

#[derive(Serialize, Deserialize)]
struct SpecRec<'a> {
    diagnostics: Vec<DiagRec>,
    #[serde(borrow)]
    units: Vec<UnitRec<'a>>,
    files: usize,
    specs: usize,
    /// Relative to the workspace root when under it.
    #[serde(borrow)]
    checked_by: Vec<(&'a Path, &'a Path)>,
    #[serde(borrow)]
    failed: Vec<FailedRec<'a>>,
}

#[derive(Serialize, Deserialize)]
struct RecordRec<'a> {
    #[serde(borrow)]
    rendered: Option<RenderedRec<'a>>,
    render: Vec<DiagRec>,
    validation: Vec<DiagRec>,
    #[serde(borrow)]
    verdicts: Vec<VerdictGroup<'a>>,
    known: Vec<(String, String)>,
    outputs: Option<OutputsRec>,
}
