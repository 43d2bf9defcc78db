//! `--select` / `--ignore` (and `[check] select` / `ignore` in proctor.toml): which codes a
//! run reports. An entry is a code (`I003`) or a prefix of codes (`I`, `C0`). A code is
//! enabled when `select` is empty or one of its entries matches, and no `ignore` entry does.
//! Whole stages whose codes are all disabled do not run (policies, CloudFormation checks).

use super::codes::{ALL, Code};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeFilter {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl CodeFilter {
    fn matches(entries: &[String], id: &str) -> bool {
        entries.iter().any(|e| id.starts_with(e.as_str()))
    }

    pub fn enabled(&self, code: &Code) -> bool {
        self.enabled_id(code.id)
    }

    pub fn enabled_id(&self, id: &str) -> bool {
        (self.select.is_empty() || Self::matches(&self.select, id))
            && !Self::matches(&self.ignore, id)
    }

    /// Whether any code starting with `prefix` (a stage letter) is enabled.
    pub fn any_enabled(&self, prefix: &str) -> bool {
        ALL.iter()
            .any(|c| c.id.starts_with(prefix) && self.enabled(c))
    }

    /// This filter with `other`'s entries on top: a non-empty `select` of `other` replaces
    /// ours (the command line narrows the configuration), `ignore` entries add up.
    pub fn overlay(&self, other: &CodeFilter) -> CodeFilter {
        CodeFilter {
            select: if other.select.is_empty() {
                self.select.clone()
            } else {
                other.select.clone()
            },
            ignore: self.ignore.iter().chain(&other.ignore).cloned().collect(),
        }
    }
}

/// Why an entry names no code, with a suggestion; `None` when it is a code or a prefix of one.
pub fn check_entry(entry: &str) -> Option<String> {
    if !entry.is_empty() && ALL.iter().any(|c| c.id.starts_with(entry)) {
        return None;
    }
    let upper = entry.to_ascii_uppercase();
    if upper != entry && ALL.iter().any(|c| c.id.starts_with(upper.as_str())) {
        return Some(format!(
            "`{entry}` names no code; codes are upper case: `{upper}`"
        ));
    }
    let ids: Vec<&str> = ALL.iter().map(|c| c.id).collect();
    Some(match super::did_you_mean(entry, ids.iter().copied()) {
        Some(s) => format!("`{entry}` names no code; did you mean `{s}`?"),
        None => format!(
            "`{entry}` names no code; a code is a letter and three digits (`I003`), or a prefix of codes (`I`, `C0`); `proctor explain` lists them"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::codes;

    fn f(select: &[&str], ignore: &[&str]) -> CodeFilter {
        CodeFilter {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn select_narrows_and_ignore_removes() {
        assert!(f(&[], &[]).enabled(codes::I003));
        assert!(f(&["I"], &[]).enabled(codes::I003));
        assert!(!f(&["I"], &[]).enabled(codes::Y001));
        assert!(!f(&["I"], &["I003"]).enabled(codes::I003));
        assert!(!f(&[], &["P"]).any_enabled("P"));
        assert!(f(&[], &["P001"]).any_enabled("P"));
    }

    #[test]
    fn the_command_line_replaces_select_and_adds_ignores() {
        let cfg = f(&["I", "S"], &["S001"]);
        let cli = f(&["Y"], &["Y006"]);
        assert_eq!(cfg.overlay(&cli), f(&["Y"], &["S001", "Y006"]));
        assert_eq!(cfg.overlay(&f(&[], &[])), cfg);
    }

    #[test]
    fn entries_that_name_no_code_are_explained() {
        assert_eq!(check_entry("I00"), None);
        assert!(check_entry("i003").unwrap().contains("upper case: `I003`"));
        assert!(check_entry("I930").unwrap().contains("names no code"));
        assert!(check_entry("").is_some());
    }
}
