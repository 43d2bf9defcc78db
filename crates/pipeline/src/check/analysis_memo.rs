//! The incremental check remembers each template's analysis (`stage::analyse::Memo`): a
//! warm run given back every deployment but one analysed a hundred templates again for the
//! findings and usage they had the run before (a tenth of its time).
//!
//! - **The key** starts from the run's common key (this build, proctor.toml, the policies,
//!   the selection) and covers the template's name, path and text, its role, its bundle's
//!   folder, name and hash (every file: the schema whose inputs it reads, the instance
//!   template whose outputs a pipeline reads), and the same of each environment bundle the
//!   bundle declares compatible (whose outputs it reads), or that one is not loaded. The
//!   namespaces a template is checked against are made of those files alone, so they are
//!   made only when its analysis is not recalled. A template of a bundle that cannot be
//!   hashed is not remembered.
//! - **The entry** holds the usage (inputs read, outputs referenced, with their byte
//!   ranges) and the findings, whose files are held by name when the run has them (the
//!   template itself, proctor.toml, the bundles' schemas and manifests), else with their
//!   text. An entry that does not decode, or whose ranges do not fit the template, is a
//!   miss.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use super::entry_diags::{DiagRec, SourceRec, Table, decode_all, sources_of};
use super::incremental::Session;
use crate::bundle::{Bundle, Role};
use crate::cache::Key;
use crate::diag::Diagnostic;
use crate::source::Source;
use crate::template::analyse::Usage;

/// The input types a template's usage names.
const INPUT_KINDS: [&str; 3] = ["environment", "service", "pipeline"];

#[derive(Serialize, Deserialize)]
struct AnalysisRec {
    sources: Vec<SourceRec>,
    usage: Option<UsageRec>,
    diagnostics: Vec<DiagRec>,
}

#[derive(Serialize, Deserialize)]
struct UsageRec {
    inputs: Vec<(String, String)>,
    dynamic: Vec<String>,
    output_refs: Vec<(usize, usize, String)>,
    input_refs: Vec<(usize, usize, String)>,
}

impl UsageRec {
    fn of(u: &Usage) -> UsageRec {
        let refs = |rs: &[(std::ops::Range<usize>, String)]| {
            rs.iter()
                .map(|(r, n)| (r.start, r.end, n.clone()))
                .collect()
        };
        UsageRec {
            inputs: (u.inputs.iter())
                .map(|(k, n)| (k.to_string(), n.clone()))
                .collect(),
            dynamic: u.dynamic.iter().map(|k| k.to_string()).collect(),
            output_refs: refs(&u.output_refs),
            input_refs: refs(&u.input_refs),
        }
    }

    /// The usage, when every input type is one a template names and every range fits a
    /// template `len` bytes long.
    fn decode(self, len: usize) -> Option<Usage> {
        let kind = |k: &str| INPUT_KINDS.into_iter().find(|known| *known == k);
        let refs = |rs: Vec<(usize, usize, String)>| {
            rs.into_iter()
                .map(|(start, end, n)| (start <= end && end <= len).then_some((start..end, n)))
                .collect::<Option<Vec<_>>>()
        };
        Some(Usage {
            inputs: (self.inputs.into_iter())
                .map(|(k, n)| Some((kind(&k)?, n)))
                .collect::<Option<BTreeSet<_>>>()?,
            dynamic: (self.dynamic.iter())
                .map(|k| kind(k))
                .collect::<Option<BTreeSet<_>>>()?,
            output_refs: refs(self.output_refs)?,
            input_refs: refs(self.input_refs)?,
        })
    }
}

impl Session {
    /// The key of `source`'s analysis; `None` when its bundle, or one it reads, is not to
    /// be cached.
    fn analysis_key(
        &self,
        b: &Bundle,
        (role, source): (Role, &Source),
        reads: &[Option<&Bundle>],
    ) -> Option<Key> {
        let bundle = |b: &Bundle| -> Option<String> {
            let hash = self.bundle_hashes.get(&b.dir)?.as_deref()?;
            Some(format!("{} {} {hash}", b.display, b.dir.display()))
        };
        let mut about = format!(
            "template analysis\nrole {role:?}\nbundle {}\ntemplate {} {}",
            bundle(b)?,
            source.name(),
            source.path().display(),
        );
        for read in reads {
            let read = match read {
                Some(r) => bundle(r)?,
                None => "(not loaded)".into(),
            };
            about.push_str("\nreads ");
            about.push_str(&read);
        }
        let parts = [
            self.common.hex().as_bytes(),
            about.as_bytes(),
            source.text().as_bytes(),
        ];
        Some(Key::of(parts))
    }
}

impl crate::stage::analyse::Memo for Session {
    fn recall(
        &self,
        b: &Bundle,
        template: (Role, &Source),
        reads: &[Option<&Bundle>],
    ) -> Option<(Option<Usage>, Vec<Diagnostic>)> {
        let key = self.analysis_key(b, template, reads)?;
        let source = template.1;
        let rec: AnalysisRec = postcard::from_bytes(self.cache.get(&key)?).ok()?;
        let sources = sources_of(rec.sources, &self.root, |name| {
            match name == source.name() {
                true => Some(source.clone()),
                false => self.known.get(name).cloned(),
            }
        })?;
        let diagnostics = decode_all(rec.diagnostics, &sources)?;
        let usage = match rec.usage {
            Some(u) => Some(u.decode(source.text().len())?),
            None => None,
        };
        self.analyses.0.fetch_add(1, Ordering::Relaxed);
        Some((usage, diagnostics))
    }

    fn keep(
        &self,
        b: &Bundle,
        template: (Role, &Source),
        reads: &[Option<&Bundle>],
        (usage, diagnostics): (Option<&Usage>, &[Diagnostic]),
    ) {
        let Some(key) = self.analysis_key(b, template, reads) else {
            return;
        };
        let mut table = Table::new(&self.root, &self.known, None, Some(template.1));
        let diagnostics = table.diags(diagnostics);
        let rec = AnalysisRec {
            sources: table.into_sources(),
            usage: usage.map(UsageRec::of),
            diagnostics,
        };
        if let Ok(bytes) = postcard::to_stdvec(&rec) {
            self.cache.put(&key, &bytes);
            self.analyses.1.fetch_add(1, Ordering::Relaxed);
        }
    }
}
