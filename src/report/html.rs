//! `--format html`: one self-contained page (styles, script and the deployment graph inline;
//! nothing fetched to open it) with the summary, the findings grouped by deployment and
//! file, each with its code (linked to its documentation), place, message, help and the
//! same source snippet as the human report. Readable without JavaScript; with it, the
//! findings filter by severity and code.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::graph::{html_text, svg};
use super::human::{HumanOptions, render as human};
use crate::check::Outcome;
use crate::diag::{Diagnostic, Severity, Summary};
use crate::unit::UnitKind;

const STYLE: &str = r#"
:root { color-scheme: light; --err: #c62828; --warn: #b26a00; --info: #1565c0; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1.5rem; color: #1b1b1b; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
.summary { font-size: 1.1rem; margin: 0 0 1rem; }
.count-error { color: var(--err); font-weight: 600; }
.count-warning { color: var(--warn); font-weight: 600; }
.count-info { color: var(--info); font-weight: 600; }
.filters { display: none; gap: 1rem; align-items: center; padding: .6rem .8rem; background: #f4f4f4; border-radius: 6px; margin: 1rem 0; }
.js .filters { display: flex; flex-wrap: wrap; }
.graph-box { overflow: auto; border: 1px solid #ddd; border-radius: 6px; padding: .5rem; margin: 1rem 0; max-height: 36rem; }
section.group { margin: 1.5rem 0; }
section.group > h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3.file { font-size: 1rem; font-family: ui-monospace, monospace; margin: 1rem 0 .4rem; }
article.finding { border-left: 4px solid #999; padding: .3rem .8rem; margin: .6rem 0; background: #fafafa; }
article.error { border-color: var(--err); }
article.warning { border-color: var(--warn); }
article.info { border-color: var(--info); }
.head { font-weight: 600; }
.sev { text-transform: uppercase; font-size: .75rem; letter-spacing: .04em; margin-right: .4rem; }
.error .sev { color: var(--err); } .warning .sev { color: var(--warn); } .info .sev { color: var(--info); }
.code { font-family: ui-monospace, monospace; }
.place { font-family: ui-monospace, monospace; color: #444; font-size: .9rem; }
pre.snippet { background: #fff; border: 1px solid #e2e2e2; padding: .5rem; overflow-x: auto; font-size: .85rem; }
.help { color: #333; }
.notes { font-size: .9rem; color: #555; }
.clean { font-size: 1.1rem; color: #2e7d32; }
"#;

const SCRIPT: &str = r#"
document.documentElement.classList.add('js');
function applyFilters() {
  var shown = {};
  document.querySelectorAll('.filters input[type=checkbox]').forEach(function (b) { shown[b.value] = b.checked; });
  var code = document.getElementById('code-filter').value;
  var visible = 0;
  document.querySelectorAll('article.finding').forEach(function (f) {
    var on = shown[f.dataset.severity] && (code === '' || f.dataset.code === code);
    f.hidden = !on;
    if (on) { visible++; }
  });
  document.querySelectorAll('section.file').forEach(function (s) {
    s.hidden = s.querySelectorAll('article.finding:not([hidden])').length === 0;
  });
  document.querySelectorAll('section.group').forEach(function (s) {
    s.hidden = s.querySelectorAll('article.finding:not([hidden])').length === 0;
  });
  document.getElementById('visible').textContent = visible;
}
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('.filters input, .filters select').forEach(function (e) {
    e.addEventListener('change', applyFilters);
  });
  applyFilters();
});
"#;

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The groups findings go in: the deployments whose spec a finding is in, the template
/// bundle whose file it is in, or the file itself (proctor.toml, a policy). Built once per
/// report from the run's units.
struct Groups<'a> {
    /// Each spec, and the deployments it declares ("dev", "orders/orders-dev").
    by_spec: HashMap<&'a str, Vec<String>>,
    /// The bundles units use, as `bundle/` prefixes.
    bundles: Vec<(String, &'a str)>,
}

impl<'a> Groups<'a> {
    fn new(outcome: &'a Outcome) -> Self {
        let name = |kind: UnitKind, name: &str, service: Option<&str>| match (service, kind) {
            (Some(s), UnitKind::Pipeline) => format!("{s} pipeline"),
            (Some(s), _) => format!("{s}/{name}"),
            (None, _) => name.to_string(),
        };
        let mut by_spec: HashMap<&str, Vec<String>> = HashMap::new();
        let units = outcome
            .units
            .iter()
            .map(|u| (u.spec.as_str(), u.kind, &u.name, &u.service));
        let failed = outcome
            .failed
            .iter()
            .map(|f| (f.spec.as_str(), f.kind, &f.name, &f.service));
        for (spec, kind, n, service) in units.chain(failed) {
            by_spec
                .entry(spec)
                .or_default()
                .push(name(kind, n, service.as_deref()));
        }
        for names in by_spec.values_mut() {
            names.sort();
            names.dedup();
        }
        let mut bundles: Vec<(String, &str)> = outcome
            .units
            .iter()
            .map(|u| {
                (
                    format!("{}/", u.bundle.trim_end_matches('/')),
                    u.bundle.as_str(),
                )
            })
            .collect();
        bundles.sort();
        bundles.dedup();
        Groups { by_spec, bundles }
    }

    fn of(&self, d: &Diagnostic) -> String {
        let Some(p) = &d.primary else {
            return "the workspace".to_string();
        };
        let file = p.at.source.name();
        if let Some(names) = self.by_spec.get(file) {
            let word = if names.len() == 1 {
                "deployment"
            } else {
                "deployments"
            };
            return format!("{word} {}", names.join(", "));
        }
        if let Some((_, bundle)) = self
            .bundles
            .iter()
            .find(|(prefix, _)| file.starts_with(prefix))
        {
            return format!("template {bundle}");
        }
        let base = file.split(" [rendered for ").next().unwrap_or(file);
        match base
            .rsplit_once("/infrastructure/")
            .or_else(|| base.rsplit_once("/schema/"))
        {
            Some((bundle, _)) => format!("template {bundle}"),
            None => base.to_string(),
        }
    }
}

/// The page. `graph`: the workspace's deployments, drawn inline (none when it has none).
pub fn render(outcome: &Outcome, graph: Option<&crate::graph::Graph>) -> String {
    let diags = &outcome.diagnostics;
    let s = Summary::of(diags);
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>proctor check report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</head>\n<body>\n<header>\n<h1>proctor check</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"summary\"><span class=\"count-error\">{} error{}</span>, <span class=\"count-warning\">{} warning{}</span>, <span class=\"count-info\">{} info{}</span> in {} file{} ({} bundle{}, {} spec{})</p>",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        s.infos,
        plural(s.infos),
        outcome.files,
        plural(outcome.files),
        outcome.bundles,
        plural(outcome.bundles),
        outcome.specs,
        plural(outcome.specs),
    );
    out.push_str("</header>\n");
    if let Some(g) = graph.filter(|g| !g.nodes.is_empty()) {
        out.push_str(
            "<section class=\"deployments\">\n<h2>Deployments</h2>\n<div class=\"graph-box\">",
        );
        out.push_str(&svg(g));
        out.push_str("</div>\n");
        for note in &g.notes {
            let _ = writeln!(out, "<p class=\"notes\">{}</p>", html_text(note));
        }
        out.push_str("</section>\n");
    }
    if diags.is_empty() {
        out.push_str("<p class=\"clean\">No findings.</p>\n</body>\n</html>\n");
        return out;
    }
    filters(&mut out, diags);
    let grouping = Groups::new(outcome);
    let mut groups: BTreeMap<String, BTreeMap<String, Vec<&Diagnostic>>> = BTreeMap::new();
    for d in diags {
        let file = d
            .primary
            .as_ref()
            .map_or_else(String::new, |p| p.at.source.name().to_string());
        groups
            .entry(grouping.of(d))
            .or_default()
            .entry(file)
            .or_default()
            .push(d);
    }
    let mut n = 0;
    for (group, files) in &groups {
        let _ = writeln!(
            out,
            "<section class=\"group\">\n<h2>{}</h2>",
            html_text(group)
        );
        for (file, found) in files {
            out.push_str("<section class=\"file\">\n");
            if !file.is_empty() {
                let _ = writeln!(out, "<h3 class=\"file\">{}</h3>", html_text(file));
            }
            for d in found {
                n += 1;
                finding(&mut out, d, n);
            }
            out.push_str("</section>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn filters(out: &mut String, diags: &[Diagnostic]) {
    let mut codes: Vec<&str> = diags.iter().map(|d| d.code.id).collect();
    codes.sort();
    codes.dedup();
    out.push_str("<form class=\"filters\" aria-label=\"filters\">\n");
    for sev in ["error", "warning", "info"] {
        let _ = writeln!(
            out,
            "<label><input type=\"checkbox\" value=\"{sev}\" checked> {sev}s</label>"
        );
    }
    out.push_str("<label>code <select id=\"code-filter\"><option value=\"\">all</option>");
    for c in codes {
        let _ = write!(out, "<option value=\"{c}\">{c}</option>");
    }
    let _ = writeln!(
        out,
        "</select></label> <span><span id=\"visible\">{}</span> shown</span>\n</form>",
        diags.len()
    );
}

fn finding(out: &mut String, d: &Diagnostic, n: usize) {
    let sev = severity(d.severity);
    let _ = writeln!(
        out,
        "<article class=\"finding {sev}\" id=\"f{n}\" data-severity=\"{sev}\" data-code=\"{}\">",
        d.code.id
    );
    let _ = writeln!(
        out,
        "<p class=\"head\"><span class=\"sev\">{sev}</span><a class=\"code\" href=\"{}\">{}</a> {}</p>",
        html_text(&d.code.docs_url()),
        d.code.id,
        html_text(&d.message)
    );
    if let Some(p) = &d.primary {
        let (line, col) = p.at.source.line_col(p.at.span.start);
        let _ = writeln!(
            out,
            "<p class=\"place\">{}:{line}:{col}</p>",
            html_text(p.at.source.name())
        );
    }
    // The same snippet as the human report: its text, without colour.
    let text = human(
        std::slice::from_ref(d),
        HumanOptions {
            color: false,
            width: 100,
        },
    );
    let _ = writeln!(
        out,
        "<pre class=\"snippet\">{}</pre>",
        html_text(text.trim_end())
    );
    // The snippet ends with the help, as in the terminal.
    out.push_str("</article>\n");
}
