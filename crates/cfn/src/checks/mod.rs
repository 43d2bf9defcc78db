//! Structural checks of a CloudFormation template in long form: sections and their shapes,
//! resources, logical ids, every reference (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `DependsOn`,
//! conditions, mappings), circular dependencies, unused definitions, outputs, limits, and the
//! shape of intrinsic functions.
//!
//! The checks run in one pass of a `Checker` over the template; each submodule holds the
//! checks of one part of it.

mod definitions;
mod dependencies;
mod intrinsics;
mod list_functions;
mod outputs;
mod parameters;
mod references;
mod resources;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::diag::{Code, Diagnostic, codes, did_you_mean};
use crate::source::Source;
use crate::yaml::Node;
use crate::yaml::shape::list;

pub use crate::is_intrinsic;
pub use references::{PSEUDO_PARAMETERS, sub_variables};

const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Globals",
];

/// CloudFormation's quotas.
const MAX_BODY_BYTES: usize = 1_000_000;
const MAX_RESOURCES: usize = 500;
const MAX_PARAMETERS: usize = 200;
const MAX_OUTPUTS: usize = 200;
const MAX_MAPPINGS: usize = 200;
const MAX_NAME: usize = 255;

/// The names a template defines, each with the span of its key.
#[derive(Default)]
struct Names {
    parameters: BTreeMap<String, Range<usize>>,
    resources: BTreeMap<String, Range<usize>>,
    /// Resource logical id → its `Type`, when written as a string.
    types: foldhash::HashMap<String, String>,
    conditions: BTreeMap<String, Range<usize>>,
    mappings: BTreeMap<String, Range<usize>>,
}

/// Uses found while walking, for unused-definition warnings and the dependency graph.
#[derive(Default)]
struct Uses {
    parameters: BTreeSet<String>,
    conditions: BTreeSet<String>,
    mappings: BTreeSet<String>,
    /// Resource → resources it depends on (Ref, GetAtt, Sub, DependsOn).
    edges: BTreeMap<String, BTreeSet<String>>,
}

struct Checker<'a> {
    source: &'a Source,
    names: Names,
    uses: Uses,
    /// A transform (SAM, includes) rewrites the template: references cannot be checked.
    transformed: bool,
    /// A transform proctor does not run (a macro): what it rewrites is not checked.
    macro_transform: bool,
    /// The SAM transform is declared: `AWS::Serverless::*` resources are checked.
    sam_transform: bool,
    diags: &'a mut Vec<Diagnostic>,
}

/// Checks a parsed template (long form).
pub fn check(source: &Source, root: &Node, diags: &mut Vec<Diagnostic>) {
    let start = diags.len();
    match super::foreach::expand(root) {
        Some(expanded) => {
            check_template(source, &expanded.root, diags);
            fragment_findings(&expanded.names, diags, start);
        }
        None => check_template(source, root, diags),
    }
    super::lint_config::apply(root, diags, start);
}

/// The findings in an `Fn::ForEach` fragment, once: each copy's finding is at the same place,
/// so the copies' logical ids are written back as the fragment writes them (`${Name}Queue`)
/// and the repeats dropped.
fn fragment_findings(names: &[(String, String)], diags: &mut Vec<Diagnostic>, start: usize) {
    if names.is_empty() {
        return;
    }
    let mut seen: Vec<(&'static str, Option<Range<usize>>, String)> = Vec::new();
    let mut kept = Vec::with_capacity(diags.len() - start);
    for mut d in diags.drain(start..) {
        for (made, written) in names {
            let quoted = format!("`{made}`");
            if d.message.contains(&quoted) {
                d.message = d.message.replace(&quoted, &format!("`{written}`"));
            }
        }
        let key = (
            d.code.id,
            d.primary.as_ref().map(|l| l.at.span.clone()),
            d.message.clone(),
        );
        if !seen.contains(&key) {
            seen.push(key);
            kept.push(d);
        }
    }
    diags.extend(kept);
}

fn check_template(source: &Source, root: &Node, diags: &mut Vec<Diagnostic>) {
    let Some(top) = root.as_map() else {
        diags.push(
            Diagnostic::new(codes::C001, format!("a CloudFormation template must be a mapping, found {}", root.kind_name()))
                .at(source, root.span.clone())
                .help("a template is a mapping with `Resources` and optional `Parameters`, `Conditions`, `Outputs`, ..."),
        );
        return;
    };
    let mut c = Checker {
        source,
        names: Names::default(),
        uses: Uses::default(),
        transformed: root.get("Transform").is_some(),
        macro_transform: false,
        sam_transform: super::declares_transform(root, "AWS::Serverless-2016-10-31"),
        diags,
    };
    if source.text().len() > MAX_BODY_BYTES {
        c.report(
            codes::C014,
            format!(
                "the template is {} bytes; CloudFormation accepts at most {MAX_BODY_BYTES}",
                source.text().len()
            ),
            0..0,
            "split it into nested stacks, or move large inline content out",
        );
    }
    for (k, v) in top {
        let name = k.text();
        if !SECTIONS.contains(&&*name) {
            let help = match did_you_mean(&name, SECTIONS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the sections are {}", list(SECTIONS)),
            };
            c.report(
                codes::C001,
                format!("unknown top-level section `{name}`"),
                k.span.clone(),
                &help,
            );
            continue;
        }
        match &*name {
            "AWSTemplateFormatVersion" if v.scalar_text().as_deref() != Some("2010-09-09") => {
                c.report(codes::C001, "`AWSTemplateFormatVersion` must be `2010-09-09`".into(), v.span.clone(), "write `AWSTemplateFormatVersion: '2010-09-09'` (quoted, so YAML keeps it a string)");
            }
            "Description" => {
                if v.as_str().is_none() {
                    c.report(
                        codes::C001,
                        format!("`Description` must be a string, found {}", v.kind_name()),
                        v.span.clone(),
                        "quote the description",
                    );
                } else if v.as_str().is_some_and(|d| d.len() > 1024) {
                    c.report(
                        codes::C014,
                        "`Description` is longer than 1,024 bytes".into(),
                        v.span.clone(),
                        "shorten the description",
                    );
                }
            }
            "Metadata" | "Parameters" | "Rules" | "Mappings" | "Conditions" | "Resources"
            | "Outputs" | "Globals"
                if v.as_map().is_none() =>
            {
                c.report(
                    codes::C001,
                    format!("`{name}` must be a mapping, found {}", v.kind_name()),
                    v.span.clone(),
                    &format!("write `{name}` as a mapping of logical ids"),
                );
            }
            _ => {}
        }
    }
    c.transforms(root);
    c.collect_names(root);
    c.resources(root);
    c.conditions_section(root);
    c.outputs(root);
    if let Some(params) = root.get("Parameters").and_then(Node::as_map) {
        for (k, p) in params {
            c.parameter(&k.scalar_text().unwrap_or_default(), p);
            c.walk(p, Ctx::Other);
        }
    }
    c.cycles();
    c.unused();
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx<'r> {
    /// Inside a resource (its dependencies are recorded).
    Resource(&'r str),
    /// Inside `Conditions`: `Condition` is a function there.
    Conditions,
    Other,
}

impl Checker<'_> {
    fn report(&mut self, code: &'static Code, message: String, span: Range<usize>, help: &str) {
        self.diags.push(
            Diagnostic::new(code, message)
                .at(self.source, span)
                .help(help.to_string()),
        );
    }

    fn suggest<'n>(&self, name: &str, candidates: impl Iterator<Item = &'n String>) -> String {
        let candidates: Vec<&str> = candidates.map(String::as_str).collect();
        match did_you_mean(name, candidates.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if candidates.is_empty() => "the template defines none".to_string(),
            None => format!(
                "the template defines {}",
                list(&candidates[..candidates.len().min(12)])
            ),
        }
    }
}
