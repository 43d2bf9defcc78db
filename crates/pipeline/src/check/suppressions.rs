//! Where a run looks for inline suppressions: the specs and templates it read or reported
//! on, each once, without reading again what it already holds or knows to have none.

use std::collections::HashMap;

use rayon::prelude::*;

use super::Outcome;
use crate::config;
use crate::limits::Limits;
use crate::source::Source;

/// The files a run read, by name as shown; and the specs it knows have no inline
/// suppressions without reading them.
pub(super) type Known<'a> = (&'a HashMap<String, Source>, &'a foldhash::HashSet<String>);

/// The specs and templates a run read (or reported on), each once: where inline
/// suppressions may be.
pub(super) fn suppression_files(
    out: &Outcome,
    limits: &Limits,
    buffers: &crate::files::Buffers,
    (read, unread): Known,
) -> Vec<Source> {
    let mut files: Vec<Source> = Vec::new();
    // 10,000 deployments name their specs and a few templates 20,000 times.
    let mut names: foldhash::HashSet<&str> = foldhash::HashSet::default();
    let wanted = |name: &str| {
        !name.is_empty()
            && !name.contains(" [rendered for ")
            && !name.ends_with(".guard")
            && !name.ends_with(config::FILE_NAME)
            && !name.starts_with(crate::state::DIR)
    };
    for d in &out.diagnostics {
        if let Some(p) = &d.primary
            && names.insert(p.at.source.name())
            && wanted(p.at.source.name())
        {
            files.push(p.at.source.clone());
        }
    }
    // The specs of the deployments given back that the run read: those given back without
    // their units are not among the units (`CheckOptions::cached_units`), and one given
    // back without units is not passed here.
    let mut given: Vec<&str> = read.keys().map(String::as_str).collect();
    given.sort_unstable();
    let more = out
        .units
        .iter()
        .map(|u| u.spec.as_str())
        .chain(given)
        .chain(out.rendered.iter().map(|r| r.template.as_str()));
    // Settled specs first: a warm run knows most of its 10,000 unread, and one lookup each
    // is cheaper than an insert.
    let more: Vec<&str> = more
        .filter(|name| !unread.contains(*name) && names.insert(name) && wanted(name))
        .collect();
    // A cold run reads every spec again here (10,000 of them): in parallel, in order.
    let root = &out.root;
    let found: Vec<Option<Source>> = more
        .par_iter()
        .map(|name| match read.get(*name) {
            Some(s) => Some(s.clone()),
            None => {
                let path = root.join(name);
                crate::files::read_in(buffers, &path, name, limits.max_file_bytes).ok()
            }
        })
        .collect();
    files.extend(found.into_iter().flatten());
    files
}
