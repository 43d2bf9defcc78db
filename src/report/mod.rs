//! Reporters: the only code that turns diagnostics into text. Checking code never prints.

pub mod github;
pub mod graph;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use std::time::Duration;

use serde::Serialize;

use crate::diag::Summary;

/// What a run looked at, for the closing line.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunStats {
    pub files: usize,
    pub bundles: usize,
    pub specs: usize,
    pub elapsed: Duration,
}

/// `checked 9 files (2 bundles, 3 specs) in 4 ms: 1 error, 2 warnings`
pub fn summary_line(stats: &RunStats, summary: &Summary) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut counts = vec![
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
    ];
    if summary.infos > 0 {
        counts.push(plural(summary.infos, "info"));
    }
    format!(
        "checked {} ({}, {}) in {} ms: {}",
        plural(stats.files, "file"),
        plural(stats.bundles, "bundle"),
        plural(stats.specs, "spec"),
        stats.elapsed.as_millis(),
        counts.join(", ")
    )
}

/// Policy rules' verdicts counted over every document.
#[derive(Serialize, Default, Clone, Copy, Debug)]
pub struct RuleCounts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl RuleCounts {
    /// The counts of `verdicts` and of those `counted` (given back by the cache, counted
    /// only); `None` when there are none.
    pub fn of(
        verdicts: &[crate::policy::RuleVerdict],
        counted: crate::policy::VerdictCounts,
    ) -> Option<RuleCounts> {
        let mut c = counted;
        verdicts.iter().for_each(|v| c.add(v.status));
        (c.total() > 0).then_some(RuleCounts {
            passed: c.passed,
            failed: c.failed,
            skipped: c.skipped,
        })
    }
}
