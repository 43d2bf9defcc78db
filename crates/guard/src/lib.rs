//! Organisational policies in the Guard-compatible language: parse (pest), lower to a typed
//! syntax tree, check at load time, evaluate with Guard's PASS/FAIL/SKIP semantics.

//!
//! A third party can use this crate alone: it knows nothing of bundles, templates, the CLI or
//! AWS, and reads its data documents itself ([`data`]).

// No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
// `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The core modules, under the names every crate of the workspace uses.
use proctor_core::{diag, files, limits, paths, source, yaml};

pub mod ast;
pub mod builtin;
pub mod data;
pub mod eval;
pub mod lints;
pub mod lower;
pub mod parser;
pub mod unit_test;
pub mod waiver;

pub use waiver::{Verdict, Waivers};

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::files::read_in;
use crate::limits::Limits;
use crate::source::Source;

/// A loaded policy file: its source and its lowered rules.
#[derive(Debug)]
pub struct Policy {
    pub source: Source,
    pub file: ast::PolicyFile,
    /// Query steps and clauses the file may take on one document (`[limits] policy_steps`).
    pub steps: u64,
    /// The file's regex literals, compiled with `[limits] regex_backtrack_limit`.
    pub regexes: eval::Regexes,
}

impl Policy {
    /// A lowered file, ready to run within `limits`.
    pub fn new(source: Source, file: ast::PolicyFile, limits: &Limits) -> Self {
        let patterns = lints::regex_literals(&file, &source);
        let regexes = eval::Regexes::compile(
            patterns.iter().map(String::as_str),
            limits.regex_backtrack_limit,
        );
        Policy {
            source,
            file,
            steps: limits.policy_steps,
            regexes,
        }
    }
}

/// Loads policy files in parallel. A file with a syntax error is reported and left out; the
/// others still load.
pub fn load_all(files: &[(PathBuf, String)], limits: &Limits) -> (Vec<Policy>, Vec<Diagnostic>) {
    load_all_in(files, limits, &crate::files::Buffers::default())
}

/// [`load_all`], reading the files `buffers` holds from there instead of the disk.
pub fn load_all_in(
    files: &[(PathBuf, String)],
    limits: &Limits,
    buffers: &crate::files::Buffers,
) -> (Vec<Policy>, Vec<Diagnostic>) {
    let results: Vec<(Option<Policy>, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|(path, shown)| {
            let mut diags = Vec::new();
            let policy = match read_in(buffers, path, shown, limits.max_file_bytes) {
                Ok(source) => lower::parse(&source, &mut diags).and_then(|file| {
                    let found = lints::check(&file, &source);
                    let runs = !found
                        .iter()
                        .any(|d| d.severity == crate::diag::Severity::Error);
                    diags.extend(found);
                    runs.then(|| Policy::new(source, file, limits))
                }),
                Err(d) => {
                    diags.push(*d);
                    None
                }
            };
            (policy, diags)
        })
        .collect();
    let mut policies = Vec::new();
    let mut diags = Vec::new();
    for (p, d) in results {
        policies.extend(p);
        diags.extend(d);
    }
    (policies, diags)
}

/// `*.guard` files in a folder (not in its `tests/` folders), sorted.
pub fn files_in(
    dir: &Path,
    shown: &str,
    walk: &crate::paths::WalkBudget,
) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), shown.to_string(), 0)];
    while let Some((d, s, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if !walk.visit(&s) {
                break;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let shown = crate::paths::join_display(&s, &name);
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && depth < 8 && name != "tests" && !name.starts_with('.') {
                stack.push((e.path(), shown, depth + 1));
            } else if kind.is_file() && name.ends_with(".guard") {
                out.push((e.path(), shown));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests;

/// Evaluates every rule of a policy against a document: each rule's status and the failures.
pub fn evaluate(
    policy: &Policy,
    root: &crate::yaml::Node,
) -> (Vec<(String, eval::Status)>, Vec<eval::Failure>) {
    let e = evaluate_bounded(policy, root);
    (e.statuses, e.failures)
}

/// One policy file evaluated on one document.
pub struct Evaluation {
    /// Every rule's status, in file order.
    pub statuses: Vec<(String, eval::Status)>,
    pub failures: Vec<eval::Failure>,
    /// The rule the evaluation budget ran out in, if it did: that rule and the ones after it
    /// are undecided (they SKIP).
    pub exhausted: Option<String>,
    /// Rules that could not be evaluated on the document (they FAIL), with why.
    pub errors: Vec<(String, String)>,
    /// Regexes whose search went over the backtracking budget (each counted as no match).
    pub too_costly: Vec<String>,
}

/// [`evaluate`], with what stopped the evaluation early.
pub fn evaluate_bounded(policy: &Policy, root: &crate::yaml::Node) -> Evaluation {
    let mut e = eval::Evaluator::new(&policy.file, root, policy.steps, &policy.regexes);
    let statuses = e.run();
    Evaluation {
        statuses,
        failures: e.failures(),
        exhausted: e.exhausted,
        errors: e.errors,
        too_costly: e.search.into_too_costly(),
    }
}

/// P009: a rule could not be evaluated on the document `on`.
pub fn unevaluable(policy: &Policy, rule: &str, why: &str, on: &str) -> Diagnostic {
    let at = policy
        .file
        .rules
        .iter()
        .find(|r| r.name == rule)
        .map_or(0..0, |r| r.name_span.clone());
    Diagnostic::new(
        crate::diag::codes::P009,
        format!("rule `{rule}` could not be evaluated on `{on}`: {why}"),
    )
    .at(&policy.source, at)
    .primary_message("counted as FAIL")
    .help("cfn-guard stops the rule file here; make the rule's queries select the values it compares (a variable used as a key must hold strings)")
}

/// P008: evaluating `policy` on the document `on` spent its budget in `rule` (empty: in the
/// file's own `let`s).
pub fn over_budget(policy: &Policy, rule: &str, on: &str) -> Diagnostic {
    let (at, what) = match policy.file.rules.iter().find(|r| r.name == rule) {
        Some(r) => (r.name_span.clone(), format!("rule `{rule}`")),
        None => (0..0, "the file's `let` variables".to_string()),
    };
    Diagnostic::new(
        crate::diag::codes::P008,
        format!(
            "evaluating `{}` on `{on}` stopped after {} steps, in {what}; it and the rules after it are undecided",
            policy.source.name(),
            policy.steps
        ),
    )
    .at(&policy.source, at)
    .primary_message("the budget ran out here")
    .help("narrow the queries with filters (`Resources.*[ Type == '...' ]`) instead of nesting wildcard blocks, or raise `limits.policy_steps` in proctor.toml")
}

/// One rule's verdict on one document, as cfn-guard's `validate` reports it (for the JSON
/// report and the closing line). The document, deployment and policy are shared by every
/// rule's verdict on the document: a large workspace has a million verdicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleVerdict {
    /// The document: a template as shown, or a deployment's rendered template.
    pub data: std::sync::Arc<str>,
    /// The deployment the document belongs to (the template itself for a plain one).
    pub deployment: std::sync::Arc<str>,
    /// The policy file, as shown.
    pub policy: std::sync::Arc<str>,
    /// The rule's name (shared by the verdicts a cache gives back).
    pub rule: std::sync::Arc<str>,
    pub status: eval::Status,
}

/// Policy rules' verdicts by status, without saying which rule said what.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl VerdictCounts {
    pub fn add(&mut self, status: crate::eval::Status) {
        use crate::eval::Status;
        match status {
            Status::Pass => self.passed += 1,
            Status::Fail => self.failed += 1,
            Status::Skip => self.skipped += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

impl std::ops::AddAssign for VerdictCounts {
    fn add_assign(&mut self, other: VerdictCounts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// By document, deployment, policy, rule, then status; a shared name is equal without
/// comparing its text (sorting a large workspace's verdicts compares mostly names shared by
/// one document's verdicts).
impl Ord for RuleVerdict {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let shared = |a: &std::sync::Arc<str>, b: &std::sync::Arc<str>| {
            if std::sync::Arc::ptr_eq(a, b) {
                std::cmp::Ordering::Equal
            } else {
                a.cmp(b)
            }
        };
        shared(&self.data, &other.data)
            .then_with(|| shared(&self.deployment, &other.deployment))
            .then_with(|| shared(&self.policy, &other.policy))
            .then_with(|| shared(&self.rule, &other.rule))
            .then_with(|| self.status.cmp(&other.status))
    }
}

impl PartialOrd for RuleVerdict {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Where the verdicts of a run (or of one document) go, from every thread: each one listed,
/// or only counted by status, for a caller whose reports only count them (a large workspace
/// has a million verdicts).
#[derive(Debug)]
pub enum Verdicts {
    Listed(std::sync::Mutex<Vec<RuleVerdict>>),
    Counted(std::sync::Mutex<VerdictCounts>),
}

impl Default for Verdicts {
    fn default() -> Self {
        Verdicts::Listed(Default::default())
    }
}

impl Verdicts {
    /// Verdicts only counted.
    pub fn counted() -> Self {
        Verdicts::Counted(Default::default())
    }

    /// Each rule's status on the document `data` of `deployment`, for the policy file
    /// `policy`: listed, or counted.
    fn add(
        &self,
        (data, deployment, policy): (&str, &str, &str),
        statuses: Vec<(String, eval::Status)>,
    ) {
        match self {
            Verdicts::Counted(counts) => {
                if let Ok(mut c) = counts.lock() {
                    statuses.iter().for_each(|(_, status)| c.add(*status));
                }
            }
            Verdicts::Listed(list) => {
                let Ok(mut v) = list.lock() else { return };
                let data: std::sync::Arc<str> = data.into();
                let deployment: std::sync::Arc<str> = deployment.into();
                let policy: std::sync::Arc<str> = policy.into();
                v.extend(statuses.into_iter().map(|(rule, status)| RuleVerdict {
                    data: data.clone(),
                    deployment: deployment.clone(),
                    policy: policy.clone(),
                    rule: rule.into(),
                    status,
                }));
            }
        }
    }

    /// The verdicts listed, and those only counted.
    pub fn into_parts(self) -> (Vec<RuleVerdict>, VerdictCounts) {
        match self {
            Verdicts::Listed(v) => (v.into_inner().unwrap_or_default(), VerdictCounts::default()),
            Verdicts::Counted(c) => (Vec::new(), c.into_inner().unwrap_or_default()),
        }
    }
}

/// The policies of a run and its waivers.
pub struct Enforcement<'a> {
    pub policies: &'a [Policy],
    pub waivers: &'a Waivers,
    /// Where each rule's verdict on each document goes.
    pub verdicts: &'a Verdicts,
    /// Whether CloudFormation checks (C codes) run: not when `--ignore`/`--select` leave
    /// none of them enabled.
    pub cfn_checks: bool,
}

/// Maps a span outside the checked file to a place in another file.
pub type Locate<'a> =
    dyn Fn(&std::ops::Range<usize>) -> Option<(Source, std::ops::Range<usize>)> + 'a;

/// What a document is, for its findings: the deployment it belongs to (for waivers), and where
/// findings on nodes outside the checked file go (`locate` maps such a span to a place in
/// another file, a spec; `fallback` is the file named when it cannot).
pub struct Target<'a> {
    pub deployment: &'a str,
    pub waivers: &'a Waivers,
    /// Where each rule's verdict goes, when the run reports verdicts.
    pub verdicts: Option<&'a Verdicts>,
    pub locate: &'a Locate<'a>,
    pub fallback: Option<Source>,
}

/// Evaluates every policy on a document and turns each failure into a diagnostic at the
/// offending node of `source` (the document's text). Resources that name a rule in
/// `Metadata.guard.SuppressedRules` are not reported for it, as in Guard; findings a live
/// waiver matches are reported as waived (info).
pub fn check_document(
    policies: &[Policy],
    source: &Source,
    root: &crate::yaml::Node,
    target: &Target,
) -> Vec<Diagnostic> {
    use crate::diag::{Severity, codes};
    let mut out = Vec::new();
    if !policies.is_empty() {
        target.waivers.checked(target.deployment);
    }
    let suppressed = suppressions(root);
    let mut keys: Option<std::collections::HashMap<(usize, usize), std::ops::Range<usize>>> = None;
    for policy in policies {
        let Evaluation {
            statuses,
            failures,
            exhausted,
            errors,
            too_costly,
        } = evaluate_bounded(policy, root);
        if let Some(verdicts) = target.verdicts {
            let on = (source.name(), target.deployment, policy.source.name());
            verdicts.add(on, statuses);
        }
        if let Some(rule) = exhausted {
            out.push(over_budget(policy, &rule, source.name()));
        }
        for (rule, why) in &errors {
            out.push(unevaluable(policy, rule, why, source.name()));
        }
        for re in too_costly {
            let text = policy.source.text();
            let at = text
                .find(&format!("/{re}/"))
                .map_or(0..0, |i| i..i + re.len() + 2);
            out.push(
                crate::diag::Diagnostic::new(
                    codes::P005,
                    format!("`/{re}/` gave up after {} backtracking steps on `{}`; counted as no match", policy.regexes.limit(), source.name()),
                )
                .at(&policy.source, at)
                .primary_message("too costly on this input")
                .help("rewrite the pattern without nested repetition or look-around, so that it runs in linear time"),
            );
        }
        if failures.is_empty() {
            continue;
        }
        let mut rules: foldhash::HashMap<&str, &ast::Rule> = Default::default();
        for r in &policy.file.rules {
            rules.entry(r.name.as_str()).or_insert(r);
        }
        // A rule whose failures have places is reported there; its failures without one (a
        // referenced or parameterized rule that failed as a whole) would only repeat them.
        let located: foldhash::HashSet<&str> = failures
            .iter()
            .filter(|f| f.node.is_some())
            .map(|f| f.rule.as_str())
            .collect();
        let failures: Vec<&eval::Failure> = failures
            .iter()
            .filter(|f| f.node.is_some() || !located.contains(f.rule.as_str()))
            .collect();
        let mut seen = foldhash::HashSet::default();
        for f in failures {
            let Some(rule) = rules.get(f.rule.as_str()).copied() else {
                continue;
            };
            // A map or list value is shown by its key: one line, not the whole block.
            let span = f.node.map(|(s, e)| {
                if e > source.text().len() {
                    return s..e;
                }
                let keys = keys.get_or_insert_with(|| key_spans(root));
                keys.get(&(s, e)).cloned().unwrap_or(s..e)
            });
            if span.as_ref().is_some_and(|s| {
                suppressed.iter().any(|(at, rules)| {
                    at.start <= s.start && s.end <= at.end && rules.contains(&rule.name)
                })
            }) {
                continue;
            }
            if !seen.insert((rule.name.clone(), span.clone(), f.message.clone())) {
                continue;
            }
            let id = rule
                .meta
                .id
                .as_deref()
                .map(|i| format!("{i} "))
                .unwrap_or_default();
            let what = f
                .message
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map_or_else(|| f.detail.clone(), str::to_string);
            let resource = span
                .as_ref()
                .filter(|s| s.end <= source.text().len())
                .and_then(|s| waiver::resource_at(root, s));
            let verdict = target.waivers.judge(
                &rule.name,
                rule.meta.id.as_deref(),
                target.deployment,
                resource,
            );
            let mut d = match verdict {
                Verdict::Waived(..) => crate::diag::Diagnostic::new(
                    codes::P101,
                    format!("waived: {id}`{}`: {what}", rule.name),
                ),
                _ => crate::diag::Diagnostic::new(
                    codes::P100,
                    format!("{id}`{}`: {what}", rule.name),
                ),
            };
            let label = match &f.value {
                Some(v) => format!("fails {}: found `{v}`", f.detail),
                None => format!("fails {}", f.detail),
            };
            let inside = span.as_ref().filter(|s| s.end <= source.text().len());
            d = match (inside, &span) {
                (Some(s), _) => d.at(source, s.clone()).primary_message(label.clone()),
                (None, Some(s)) => match (target.locate)(s) {
                    Some((file, at)) => d.at(&file, at).primary_message(label.clone()),
                    None => d.at_file(target.fallback.as_ref().unwrap_or(source)),
                },
                (None, None) => d.at_file(source),
            };
            if rule.meta.severity.as_deref() == Some("warning")
                && !matches!(verdict, Verdict::Waived(..))
            {
                d = d.severity(Severity::Warning);
            }
            let mut help = format!("policy `{}`, rule `{}`", policy.source.name(), rule.name);
            if let Some(desc) = &rule.meta.description {
                help = format!("{desc} ({help})");
            }
            if let Some(docs) = &rule.meta.docs {
                help.push_str(&format!("; see {docs}"));
            }
            match verdict {
                Verdict::Waived(w, config) => {
                    help = format!(
                        "waived until {} (owner: {}): {}; {help}",
                        w.expires.value, w.owner, w.reason
                    );
                    d = d.label(config, w.rule.span.clone(), "waived here");
                }
                Verdict::Expired(w) => {
                    help.push_str(&format!(
                        "; its waiver expired on {} (owner: {})",
                        w.expires.value, w.owner
                    ));
                }
                Verdict::Stands => {}
            }
            d = d
                .help(help)
                .label(&policy.source, rule.name_span.clone(), "rule defined here");
            out.push(d);
        }
    }
    out
}

/// The key's span of every map or list value that is the value of a map entry.
fn key_spans(
    root: &crate::yaml::Node,
) -> std::collections::HashMap<(usize, usize), std::ops::Range<usize>> {
    use crate::yaml::Value;
    let mut out = std::collections::HashMap::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match &node.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    if matches!(v.value, Value::Map(_) | Value::Seq(_)) {
                        out.insert((v.span.start, v.span.end), k.span.clone());
                    }
                    stack.push(v);
                }
            }
            Value::Seq(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

/// The resources that suppress rules (`Metadata.guard.SuppressedRules`): their extent and
/// the rule names, so that each finding is matched against these few, not every resource.
fn suppressions(root: &crate::yaml::Node) -> Vec<(std::ops::Range<usize>, Vec<String>)> {
    let Some(resources) = root.get("Resources").and_then(crate::yaml::Node::as_map) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter_map(|(k, r)| {
            let rules = r
                .pointer(["Metadata", "guard", "SuppressedRules"])
                .and_then(crate::yaml::Node::as_seq)?;
            let names = rules
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            // From the logical id (a finding on the whole resource is shown there) to the end.
            Some((k.span.start..r.span.end, names))
        })
        .collect()
}
