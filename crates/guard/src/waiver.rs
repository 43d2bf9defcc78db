//! Waivers (`[[waiver]]` in proctor.toml): accepted policy findings. A finding that a live
//! waiver matches is reported as waived (P101, info); a waiver past its expiry date is an error
//! (P102) and waives nothing; a waiver whose deployment was checked but that matched no
//! finding is a warning (P103).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::diag::{Diagnostic, codes};
use crate::source::{At, Source};

/// `[[waiver]]`: an accepted policy finding, with who accepted it, why, and until when.
#[derive(Clone, Debug)]
pub struct Waiver {
    /// A rule's `@id` or its name.
    pub rule: At<String>,
    /// A deployment's name (environment, service instance, service for its pipeline, component), or
    /// a plain template's path as given.
    pub deployment: At<String>,
    /// A resource's logical id; without it, every finding of the rule on the deployment.
    pub resource: Option<At<String>>,
    pub reason: String,
    pub owner: String,
    /// The last day the waiver holds.
    pub expires: At<Date>,
}

/// A calendar date, ordered. The default (year 0) is before every waiver's date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Date {
    /// Today in UTC, or `PROCTOR_TODAY` (`YYYY-MM-DD`) when set, for reproducible runs.
    pub fn today() -> Date {
        if let Some(d) = std::env::var("PROCTOR_TODAY")
            .ok()
            .and_then(|v| Date::parse(&v))
        {
            return d;
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days((secs / 86_400) as i64)
    }

    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }

    /// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    pub(crate) fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

/// The waivers of a run, with what the run did with them (shared across threads).
#[derive(Debug, Default)]
pub struct Waivers {
    list: Vec<Waiver>,
    source: Option<Source>,
    /// Waivers expiring before this day are expired.
    today: Date,
    /// A finding matched the waiver.
    used: Vec<AtomicBool>,
    /// Policies ran on the waiver's deployment.
    seen: Vec<AtomicBool>,
}

/// What the waivers say about one finding.
pub enum Verdict<'a> {
    Stands,
    Waived(&'a Waiver, &'a Source),
    /// Only expired waivers match it.
    Expired(&'a Waiver),
}

impl Waivers {
    /// The waivers `list`, written in `source` (proctor.toml), judged on `today`.
    pub fn new(list: Vec<Waiver>, source: Option<Source>, today: Date) -> Waivers {
        Waivers {
            used: list.iter().map(|_| AtomicBool::new(false)).collect(),
            seen: list.iter().map(|_| AtomicBool::new(false)).collect(),
            source,
            today,
            list,
        }
    }

    fn expired(&self, w: &Waiver) -> bool {
        w.expires.value < self.today
    }

    /// Records that policies ran on `deployment`.
    pub fn checked(&self, deployment: &str) {
        for (w, seen) in self.list.iter().zip(&self.seen) {
            if w.deployment.value == deployment {
                seen.store(true, Ordering::Relaxed);
            }
        }
    }

    /// The verdict on a finding of the rule named `rule` (with `@id` `id`) on `deployment`,
    /// in the resource `resource` when the failing node is inside one.
    pub fn judge(
        &self,
        rule: &str,
        id: Option<&str>,
        deployment: &str,
        resource: Option<&str>,
    ) -> Verdict<'_> {
        let mut verdict = Verdict::Stands;
        for (i, w) in self.list.iter().enumerate() {
            let rule_matches = w.rule.value == rule || id.is_some_and(|id| w.rule.value == id);
            let resource_matches = w
                .resource
                .as_ref()
                .is_none_or(|r| Some(r.value.as_str()) == resource);
            if !(rule_matches && w.deployment.value == deployment && resource_matches) {
                continue;
            }
            self.used[i].store(true, Ordering::Relaxed);
            if self.expired(w) {
                verdict = Verdict::Expired(w);
            } else if let Some(source) = &self.source {
                return Verdict::Waived(w, source);
            }
        }
        verdict
    }

    /// P102 for every expired waiver, P103 for every unused one whose deployment was checked;
    /// when `everything` was checked (no path selection), also for waivers whose deployment
    /// no policy ran on (a misspelled deployment).
    pub fn report(&self, everything: bool, policies: &[super::Policy]) -> Vec<Diagnostic> {
        let Some(source) = &self.source else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, w) in self.list.iter().enumerate() {
            let target = match &w.resource {
                Some(r) => format!("`{}` in `{}`", r.value, w.deployment.value),
                None => format!("`{}`", w.deployment.value),
            };
            let known = policies.iter().flat_map(|p| &p.file.rules).any(|r| {
                !r.implicit
                    && (r.name == w.rule.value
                        || r.meta.id.as_deref() == Some(w.rule.value.as_str()))
            });
            if !known {
                let names: Vec<&str> = policies
                    .iter()
                    .flat_map(|p| &p.file.rules)
                    .filter(|r| !r.implicit)
                    .flat_map(|r| std::iter::once(r.name.as_str()).chain(r.meta.id.as_deref()))
                    .collect();
                let mut d = Diagnostic::new(
                    codes::P103,
                    format!(
                        "the waiver names `{}`, which is no rule of the policies that ran",
                        w.rule.value
                    ),
                )
                .at(source, w.rule.span.clone())
                .primary_message("no rule has this id or name");
                d = match crate::diag::did_you_mean(&w.rule.value, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "name a rule by its `@id` or its name; or delete the waiver (owner: {})",
                        w.owner
                    )),
                };
                out.push(d);
                continue;
            }
            if self.expired(w) {
                out.push(
                    Diagnostic::new(
                        codes::P102,
                        format!(
                            "the waiver of `{}` on {target} expired on {} (owner: {})",
                            w.rule.value, w.expires.value, w.owner
                        ),
                    )
                    .at(source, w.expires.span.clone())
                    .primary_message("expired")
                    .help(format!(
                        "ask {} to renew it with a new date and reason, or fix the finding and delete the waiver; it was granted because: {}",
                        w.owner, w.reason
                    )),
                );
            } else if everything && !self.seen[i].load(Ordering::Relaxed) {
                out.push(
                    Diagnostic::new(
                        codes::P103,
                        format!("the waiver of `{}` names `{}`, which is no checked deployment", w.rule.value, w.deployment.value),
                    )
                    .at(source, w.deployment.span.clone())
                    .primary_message("no deployment has this name")
                    .help(format!(
                        "name an environment, a service instance, a service (for its pipeline), a component, or a plain template's path as given; or delete the waiver (owner: {})",
                        w.owner
                    )),
                );
            } else if self.seen[i].load(Ordering::Relaxed) && !self.used[i].load(Ordering::Relaxed)
            {
                out.push(
                    Diagnostic::new(codes::P103, format!("the waiver of `{}` on {target} matches no finding", w.rule.value))
                        .at(source, w.rule.span.clone())
                        .primary_message("nothing to waive")
                        .help(format!(
                            "the rule passes there now (or the rule or resource is misspelled): delete the waiver (owner: {})",
                            w.owner
                        )),
                );
            }
        }
        out
    }
}

/// The logical id of the resource whose entry contains `span`.
pub fn resource_at<'a>(
    root: &'a crate::yaml::Node,
    span: &std::ops::Range<usize>,
) -> Option<&'a str> {
    let resources = root.get("Resources").and_then(crate::yaml::Node::as_map)?;
    resources
        .iter()
        .find(|(k, r)| k.span.start <= span.start && span.end <= r.span.end)
        .and_then(|(k, _)| k.as_str())
}

#[cfg(test)]
mod tests {
    use super::Date;

    #[test]
    fn civil_dates_from_day_counts() {
        let d = |y, m, day| Date {
            year: y,
            month: m,
            day,
        };
        assert_eq!(Date::from_days(0), d(1970, 1, 1));
        assert_eq!(Date::from_days(20_783), d(2026, 11, 26));
        assert_eq!(Date::from_days(11_016), d(2000, 2, 29));
        assert_eq!(Date::from_days(11_017), d(2000, 3, 1));
        assert_eq!(Date::from_days(19_782), d(2024, 2, 29));
        assert_eq!(Date::parse("2027-03-31"), Some(d(2027, 3, 31)));
        assert_eq!(Date::parse("2027-13-01"), None);
    }
}
