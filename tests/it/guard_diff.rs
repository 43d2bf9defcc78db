//! Differential test against cfn-guard 3.2.1 (built once by scripts/guard into a cache
//! folder): on every rule file of fixtures/policy/diff/*/ and each data file beside it, the
//! per-rule PASS/FAIL/SKIP of proctor's evaluator must equal cfn-guard's
//! `validate --structured -o json`. Deliberate differences are listed in `DELIBERATE`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proctor::limits::Limits;
use proctor::policy::eval::Status;

use crate::support::oracle::root;

/// (folder, rule, data file, reason) where proctor differs from cfn-guard on purpose, named one
/// by one so that any other difference fails the test. Empty: every result matches.
const DELIBERATE: &[(&str, &str, &str, &str)] = &[];

/// cfn-guard's per-rule statuses for one data file (rule names without the file's prefix).
fn guard_statuses(rules: &Path, data: &Path) -> Option<BTreeMap<String, Status>> {
    let all = crate::support::oracle::guard_validate(rules, data);
    let file = all.into_values().next()?;
    let name = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    Some(file.into_iter().map(|(rule, s)| (name(&rule), s)).collect())
}

fn proctor_statuses(rules: &Path, data: &Path) -> Result<BTreeMap<String, Status>, String> {
    let shown = rules.display().to_string();
    let (policies, diags) =
        proctor::policy::load_all(&[(rules.to_path_buf(), shown)], &Limits::default());
    if let Some(d) = diags.first() {
        return Err(d.message.clone());
    }
    let text = std::fs::read_to_string(data).map_err(|e| e.to_string())?;
    let src = proctor::source::SourceFile::new("data", data, text);
    let mut diags = Vec::new();
    let doc = proctor::policy::data::parse(&src, &mut diags)
        .ok_or_else(|| format!("data does not parse: {diags:?}"))?;
    let (statuses, _) = proctor::policy::evaluate(&policies[0], &doc);
    Ok(statuses.into_iter().collect())
}

fn cases() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let dir = root().join("fixtures/policy/diff");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let folder = e.path();
        let rules = folder.join("rules.guard");
        if !rules.exists()
            || folder
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("99-"))
        {
            continue;
        }
        let mut data: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .map(|d| d.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("data"))
            })
            .collect();
        data.sort();
        out.push((rules, data));
    }
    out.sort();
    out
}

#[test]
fn per_rule_results_equal_cfn_guard() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "the differential corpus is missing ({} folders)",
        cases.len()
    );
    let mut differences = Vec::new();
    let mut compared = 0;
    for (rules, datas) in &cases {
        let folder = rules
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for data in datas {
            let file = data
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(want) = guard_statuses(rules, data) else {
                continue;
            };
            let got = match proctor_statuses(rules, data) {
                Ok(g) => g,
                Err(e) => {
                    differences.push(format!("{folder}/{file}: proctor could not run: {e}"));
                    continue;
                }
            };
            for (rule, w) in &want {
                compared += 1;
                let g = got.get(rule);
                if g != Some(w)
                    && !DELIBERATE
                        .iter()
                        .any(|(f, r, d, _)| *f == folder && r == rule && *d == file)
                {
                    differences.push(format!(
                        "{folder}/{file}: rule `{rule}`: cfn-guard {} proctor {}",
                        w.as_str(),
                        g.map_or("missing", |s| s.as_str())
                    ));
                }
            }
        }
    }
    assert!(compared > 50, "too few rule results compared ({compared})");
    assert!(
        differences.is_empty(),
        "{} of {compared} results differ:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
