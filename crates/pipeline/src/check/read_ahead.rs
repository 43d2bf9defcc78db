//! The specs of the batches ahead of the spec stage, read by threads that do nothing else.
//!
//! A spec the page cache holds is read in microseconds; one it does not waits for the disk,
//! and the spec stage's two threads wait for one file each at a time. At 100,000
//! deployments whose files had left the page cache, a cold check spent a third of its time
//! so. Threads that only read keep many reads in flight, a batch ahead, and hand the texts
//! to the spec stage, which reads nothing twice: the work is the same, only where it waits
//! changes. A spec these threads cannot read is left to the spec stage, which reports why.

use std::thread::{Scope, ScopedJoinHandle};

use super::incremental::Job;
use crate::config::Config;
use crate::files::{Buffers, read_regular};
use crate::source::Source;

/// How many threads read a batch's specs: enough reads in flight for a disk, few enough to
/// start a handful of threads per batch of thousands of specs.
const READERS: usize = 8;

/// A reader's share of a batch's specs, by place in the batch.
type Share = Vec<(usize, Option<Source>)>;

/// A batch's specs being read: each reader's share.
pub(super) struct Pending<'scope>(Vec<ScopedJoinHandle<'scope, Share>>);

impl Pending<'_> {
    /// The batch's specs by place in it (`None`: not read, for the spec stage to try).
    pub(super) fn wait(self, len: usize) -> Vec<Option<Source>> {
        let mut texts = vec![None; len];
        for (at, text) in self
            .0
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
        {
            if let Some(slot) = texts.get_mut(at) {
                *slot = text;
            }
        }
        texts
    }
}

/// Starts reading the specs of `batch` (deployments of `cfg`), as the spec stage would read
/// them (the run's `buffers` and limit), on threads of `scope`.
pub(super) fn start<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    cfg: &'env Config,
    batch: &'env [(Job, usize)],
    (buffers, max_bytes): (&'env Buffers, u64),
) -> Pending<'scope> {
    let readers = READERS.min(batch.len());
    let handles = (0..readers)
        .map(|first| {
            scope.spawn(move || {
                (first..batch.len())
                    .step_by(readers)
                    .map(|at| {
                        let spec = match batch[at].0 {
                            Job::Environment(i) => &cfg.environments[i].spec.value,
                            Job::Service(i) => &cfg.services[i].spec.value,
                        };
                        let (path, shown) = super::specs::spec_file(cfg, spec);
                        (at, read_regular(buffers, &path, &shown, max_bytes).ok())
                    })
                    .collect()
            })
        })
        .collect();
    Pending(handles)
}
