//! Regex literals of a policy: compiled once when the file loads, with the run's
//! backtracking budget, and searched during an evaluation that records the searches that
//! went over it.

use std::cell::RefCell;
use std::collections::HashMap;

/// The regexes of a policy file, compiled once when the file is loaded, with the run's
/// backtracking budget (`[limits] regex_backtrack_limit`): by the linear-time engine where
/// possible, look-around and back-references by a backtracking engine with a step limit.
pub struct Regexes {
    limit: usize,
    compiled: HashMap<String, Option<Matcher>>,
}

impl Regexes {
    pub fn compile<'a>(patterns: impl IntoIterator<Item = &'a str>, limit: usize) -> Self {
        let limit = limit.max(1);
        let compiled = patterns
            .into_iter()
            .map(|p| (p.to_string(), Matcher::new(p, limit)))
            .collect();
        Regexes { limit, compiled }
    }

    /// The backtracking steps one search may take.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl Default for Regexes {
    fn default() -> Self {
        Regexes::compile([], crate::limits::Limits::default().regex_backtrack_limit)
    }
}

impl std::fmt::Debug for Regexes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Regexes")
            .field("limit", &self.limit)
            .field("patterns", &self.compiled.len())
            .finish()
    }
}

/// The regex searches of one evaluation: the policy's compiled regexes, and the patterns
/// whose search went over the backtracking budget (each counts as no match, and is reported).
pub struct Search<'p> {
    regexes: &'p Regexes,
    too_costly: RefCell<Vec<String>>,
}

impl<'p> Search<'p> {
    pub fn new(regexes: &'p Regexes) -> Self {
        Search {
            regexes,
            too_costly: RefCell::new(Vec::new()),
        }
    }

    /// Whether `pattern` matches somewhere in `text`. A pattern the file did not declare (none
    /// should reach here) is compiled for this search.
    pub fn is_match(&self, pattern: &str, text: &str) -> bool {
        let found = match self.regexes.compiled.get(pattern) {
            Some(m) => m.as_ref().map(|m| m.is_match(text)),
            None => Matcher::new(pattern, self.regexes.limit).map(|m| m.is_match(text)),
        };
        match found {
            Some(Ok(found)) => found,
            Some(Err(TooCostly)) => {
                self.too_costly.borrow_mut().push(pattern.to_string());
                false
            }
            None => false,
        }
    }

    /// The patterns that went over the budget, sorted, each once.
    pub fn into_too_costly(self) -> Vec<String> {
        let mut costly = self.too_costly.into_inner();
        costly.sort();
        costly.dedup();
        costly
    }
}

/// A search that went over the backtracking budget.
struct TooCostly;

enum Matcher {
    Linear(regex::Regex),
    Backtracking(fancy_regex::Regex),
}

impl Matcher {
    fn new(pattern: &str, backtrack_limit: usize) -> Option<Matcher> {
        if let Ok(r) = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 22)
            .build()
        {
            return Some(Matcher::Linear(r));
        }
        fancy_regex::RegexBuilder::new(pattern)
            .backtrack_limit(backtrack_limit)
            .build()
            .ok()
            .map(Matcher::Backtracking)
    }

    fn is_match(&self, text: &str) -> Result<bool, TooCostly> {
        match self {
            Matcher::Linear(r) => Ok(r.is_match(text)),
            Matcher::Backtracking(r) => r.is_match(text).map_err(|_| TooCostly),
        }
    }
}
