//! The values a policy works on (document nodes and values a rule or a function made), and
//! Guard's comparisons between them: equality (with regex search and range membership),
//! ordering, and the looser equality Guard uses for list membership.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::ast::{Literal, RangeLit};
use crate::yaml::{Node, Value as Y};

/// A value: a node of the data, or one a rule or a function made.
#[derive(Clone, Debug)]
pub enum Val<'d> {
    Doc(&'d Node),
    Data(Rc<Literal>),
}

/// A borrowed view of a value, so that comparisons need not copy documents.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    N(&'a Node),
    L(&'a Literal),
}

/// What a value is, for the comparisons.
pub enum Kind<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Char(char),
    Regex(&'a str),
    Range(&'a RangeLit),
    List,
    Map,
}

impl<'d> Val<'d> {
    pub fn view(&self) -> View<'_> {
        match self {
            Val::Doc(n) => View::N(n),
            Val::Data(l) => View::L(l),
        }
    }

    pub fn node(&self) -> Option<&'d Node> {
        match self {
            Val::Doc(n) => Some(n),
            Val::Data(_) => None,
        }
    }

    pub fn literal(&self) -> Rc<Literal> {
        match self {
            Val::Data(l) => l.clone(),
            Val::Doc(n) => Rc::new(node_literal(n)),
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self.view().kind(), Kind::List)
    }

    pub fn is_map(&self) -> bool {
        matches!(self.view().kind(), Kind::Map)
    }

    /// A list's items.
    pub fn items(&self) -> Vec<Val<'d>> {
        match self {
            Val::Doc(n) => match &n.value {
                Y::Seq(s) => s.iter().map(Val::Doc).collect(),
                _ => Vec::new(),
            },
            Val::Data(l) => match l.as_ref() {
                Literal::List(items) => items
                    .iter()
                    .map(|i| Val::Data(Rc::new(i.clone())))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// A map's entries: the key (as a value) and the value.
    pub fn entries(&self) -> Vec<(Val<'d>, Val<'d>)> {
        match self {
            Val::Doc(n) => match &n.value {
                Y::Map(m) => m.iter().map(|(k, v)| (Val::Doc(k), Val::Doc(v))).collect(),
                _ => Vec::new(),
            },
            Val::Data(l) => match l.as_ref() {
                Literal::Map(m) => m
                    .iter()
                    .map(|(k, v)| {
                        (
                            Val::Data(Rc::new(Literal::String(k.clone()))),
                            Val::Data(Rc::new(v.clone())),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// The value under a string key of a map.
    pub fn get(&self, key: &str) -> Option<Val<'d>> {
        match self {
            Val::Doc(n) => n
                .as_map()?
                .iter()
                .find(|(k, _)| key_is(k, key))
                .map(|(_, v)| Val::Doc(v)),
            Val::Data(l) => match l.as_ref() {
                Literal::Map(m) => m
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| Val::Data(Rc::new(v.clone()))),
                _ => None,
            },
        }
    }

    /// Whether a map or list has no entries (a scalar has none).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of entries of a map or items of a list.
    pub fn len(&self) -> usize {
        match self.view() {
            View::N(n) => match &n.value {
                Y::Seq(s) => s.len(),
                Y::Map(m) => m.len(),
                _ => 0,
            },
            View::L(l) => match l {
                Literal::List(s) => s.len(),
                Literal::Map(m) => m.len(),
                _ => 0,
            },
        }
    }
}

/// Whether a map key node is the string `key` (keys are compared as text, as Guard does).
fn key_is(k: &Node, key: &str) -> bool {
    match &k.value {
        Y::String(s) => s == key,
        _ => k.scalar_text().as_deref() == Some(key),
    }
}

impl<'a> View<'a> {
    pub fn kind(self) -> Kind<'a> {
        match self {
            View::N(n) => match &n.value {
                Y::Null => Kind::Null,
                Y::Bool(b) => Kind::Bool(*b),
                Y::Int(i) => Kind::Int(*i),
                Y::Float(f) => Kind::Float(*f),
                Y::String(s) => Kind::Str(s),
                Y::Seq(_) => Kind::List,
                Y::Map(_) => Kind::Map,
            },
            View::L(l) => match l {
                Literal::Null => Kind::Null,
                Literal::Bool(b) => Kind::Bool(*b),
                Literal::Int(i) => Kind::Int(*i),
                Literal::Float(f) => Kind::Float(*f),
                Literal::String(s) => Kind::Str(s),
                Literal::Char(c) => Kind::Char(*c),
                Literal::Regex(r) => Kind::Regex(r),
                Literal::Range(r) => Kind::Range(r),
                Literal::List(_) => Kind::List,
                Literal::Map(_) => Kind::Map,
            },
        }
    }

    pub fn is_list(self) -> bool {
        matches!(self.kind(), Kind::List)
    }

    pub fn is_scalar(self) -> bool {
        !matches!(self.kind(), Kind::List | Kind::Map)
    }

    pub fn items(self) -> Vec<View<'a>> {
        match self {
            View::N(n) => match &n.value {
                Y::Seq(s) => s.iter().map(View::N).collect(),
                _ => Vec::new(),
            },
            View::L(Literal::List(items)) => items.iter().map(View::L).collect(),
            View::L(_) => Vec::new(),
        }
    }

    fn entries(self) -> Vec<(Cow<'a, str>, View<'a>)> {
        match self {
            View::N(n) => match &n.value {
                Y::Map(m) => m
                    .iter()
                    .map(|(k, v)| {
                        let key = match &k.value {
                            Y::String(s) => Cow::Borrowed(s.as_str()),
                            _ => Cow::Owned(k.scalar_text().unwrap_or_default()),
                        };
                        (key, View::N(v))
                    })
                    .collect(),
                _ => Vec::new(),
            },
            View::L(Literal::Map(m)) => m
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), View::L(v)))
                .collect(),
            View::L(_) => Vec::new(),
        }
    }
}

/// Two values that Guard cannot compare (a string and a number, two booleans ordered...).
#[derive(Debug)]
pub struct NotComparable;

/// Guard's ordering: numbers (integers and floats together), strings, characters and nulls.
pub fn compare_values(a: View, b: View) -> Result<Ordering, NotComparable> {
    match (a.kind(), b.kind()) {
        (Kind::Null, Kind::Null) => Ok(Ordering::Equal),
        (Kind::Int(x), Kind::Int(y)) => Ok(x.cmp(&y)),
        (Kind::Str(x), Kind::Str(y)) => Ok(x.cmp(y)),
        (Kind::Float(x), Kind::Float(y)) => x.partial_cmp(&y).ok_or(NotComparable),
        (Kind::Int(x), Kind::Float(y)) => int_float(x, y).ok_or(NotComparable),
        (Kind::Float(x), Kind::Int(y)) => {
            int_float(y, x).map(Ordering::reverse).ok_or(NotComparable)
        }
        (Kind::Char(x), Kind::Char(y)) => Ok(x.cmp(&y)),
        _ => Err(NotComparable),
    }
}

/// An integer against a float, exactly (no rounding of large integers).
fn int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => {
            let frac = f - whole;
            Some(if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            })
        }
        o => Some(o),
    }
}

/// Guard's `==`: strings against a regex are a search, numbers against a range are
/// membership, lists and maps compare structurally (an incomparable pair inside makes the whole
/// pair incomparable).
pub fn compare_eq(a: View, b: View, re: &Search) -> Result<bool, NotComparable> {
    match (a.kind(), b.kind()) {
        (Kind::Str(s), Kind::Regex(r)) | (Kind::Regex(r), Kind::Str(s)) => Ok(re.is_match(r, s)),
        (Kind::Str(x), Kind::Str(y)) => Ok(x == y),
        (Kind::Map, Kind::Map) => {
            let (x, y) = (a.entries(), b.entries());
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, v) in &x {
                match y.iter().find(|(k2, _)| k2 == k) {
                    Some((_, v2)) => {
                        if !compare_eq(*v, *v2, re)? {
                            return Ok(false);
                        }
                    }
                    None => return Ok(false),
                }
            }
            Ok(true)
        }
        (Kind::List, Kind::List) => {
            let (x, y) = (a.items(), b.items());
            if x.len() != y.len() {
                return Ok(false);
            }
            for (l, r) in x.iter().zip(&y) {
                if !compare_eq(*l, *r, re)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (Kind::Bool(x), Kind::Bool(y)) => Ok(x == y),
        (Kind::Regex(x), Kind::Regex(y)) => Ok(x == y),
        (Kind::Int(_) | Kind::Float(_) | Kind::Char(_), Kind::Range(r)) => {
            in_range(a, r).ok_or(NotComparable)
        }
        _ => Ok(compare_values(a, b)? == Ordering::Equal),
    }
}

/// Membership of a number or character in a range literal; `None` when the kinds differ.
fn in_range(v: View, r: &RangeLit) -> Option<bool> {
    let bound = |l: &Literal| -> Option<Ordering> {
        // The value against the bound.
        compare_values(v, View::L(l)).ok()
    };
    let char_range = matches!(r.lower, Literal::Char(_)) && matches!(r.upper, Literal::Char(_));
    let is_char = matches!(v.kind(), Kind::Char(_));
    if char_range != is_char {
        return None;
    }
    let lo = bound(&r.lower)?;
    let hi = bound(&r.upper)?;
    let lower_ok = if r.lower_inclusive {
        lo != Ordering::Less
    } else {
        lo == Ordering::Greater
    };
    let upper_ok = if r.upper_inclusive {
        hi != Ordering::Greater
    } else {
        hi == Ordering::Less
    };
    Some(lower_ok && upper_ok)
}

/// The looser equality Guard uses to find a value in a list (`IN`, set differences): regex
/// search both ways, ranges equal only to the same range, structural lists and maps, and an
/// incomparable pair is simply unequal.
pub fn loose_eq(a: View, b: View, re: &Search) -> bool {
    match (a.kind(), b.kind()) {
        (Kind::Map, Kind::Map) => {
            let (x, y) = (a.entries(), b.entries());
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| k2 == k)
                        .is_some_and(|(_, v2)| loose_eq(*v, *v2, re))
                })
        }
        (Kind::List, Kind::List) => {
            let (x, y) = (a.items(), b.items());
            x.len() == y.len() && x.iter().zip(&y).all(|(l, r)| loose_eq(*l, *r, re))
        }
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Str(s), Kind::Regex(r)) | (Kind::Regex(r), Kind::Str(s)) => re.is_match(r, s),
        (Kind::Regex(x), Kind::Regex(y)) => x == y,
        (Kind::Range(x), Kind::Range(y)) => x == y,
        _ => compare_values(a, b) == Ok(Ordering::Equal),
    }
}

impl PartialEq for NotComparable {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A document node as a literal (structurally; tags are already long forms).
pub fn node_literal(n: &Node) -> Literal {
    match &n.value {
        Y::Null => Literal::Null,
        Y::Bool(b) => Literal::Bool(*b),
        Y::Int(i) => Literal::Int(*i),
        Y::Float(f) => Literal::Float(*f),
        Y::String(s) => Literal::String(s.clone()),
        Y::Seq(items) => Literal::List(items.iter().map(node_literal).collect()),
        Y::Map(m) => Literal::Map(
            m.iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), node_literal(v)))
                .collect(),
        ),
    }
}

/// A short one-line rendering of a node, for messages.
pub fn node_text(n: &Node) -> String {
    fn write(n: &Node, out: &mut String) {
        if out.len() > 80 {
            return;
        }
        match &n.value {
            Y::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&k.scalar_text().unwrap_or_default());
                    out.push_str(": ");
                    write(v, out);
                    if out.len() > 80 {
                        break;
                    }
                }
                out.push('}');
            }
            Y::Seq(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(v, out);
                    if out.len() > 80 {
                        break;
                    }
                }
                out.push(']');
            }
            _ => out.push_str(&n.scalar_text().unwrap_or_default()),
        }
    }
    let mut out = String::new();
    write(n, &mut out);
    if out.chars().count() > 80 {
        out = out.chars().take(79).collect::<String>() + "…";
    }
    out
}

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

/// cfn-guard 3.2.1's comparison rules, one by one (the differential tests check them against
/// cfn-guard itself on whole rule files; these say what each rule is).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Literal as L;

    fn eq(a: L, b: L) -> Result<bool, NotComparable> {
        let regexes = Regexes::default();
        compare_eq(View::L(&a), View::L(&b), &Search::new(&regexes))
    }

    fn ord(a: L, b: L) -> Result<Ordering, NotComparable> {
        compare_values(View::L(&a), View::L(&b))
    }

    fn s(text: &str) -> L {
        L::String(text.to_string())
    }

    #[test]
    fn a_string_against_a_regex_is_a_search_not_a_whole_match() {
        let re = || L::Regex("s3:::".to_string());
        assert_eq!(eq(s("arn:aws:s3:::logs"), re()), Ok(true));
        assert_eq!(eq(re(), s("arn:aws:s3:::logs")), Ok(true));
        assert_eq!(eq(s("arn:aws:sqs:x"), re()), Ok(false));
    }

    #[test]
    fn values_of_different_kinds_never_compare() {
        assert_eq!(eq(L::Int(1), s("1")), Err(NotComparable));
        assert_eq!(eq(L::Bool(true), s("true")), Err(NotComparable));
        assert_eq!(ord(s("10"), L::Int(9)), Err(NotComparable));
    }

    #[test]
    fn integers_and_floats_compare_exactly() {
        assert_eq!(ord(L::Int(1), L::Float(1.0)), Ok(Ordering::Equal));
        assert_eq!(ord(L::Int(2), L::Float(1.5)), Ok(Ordering::Greater));
        assert_eq!(ord(L::Float(-0.5), L::Int(0)), Ok(Ordering::Less));
        // No rounding of large integers: 2^53 + 1 is above the float 2^53.
        assert_eq!(
            ord(L::Int((1 << 53) + 1), L::Float(9_007_199_254_740_992.0)),
            Ok(Ordering::Greater)
        );
    }

    #[test]
    fn strings_order_by_bytes() {
        assert_eq!(ord(s("a"), s("b")), Ok(Ordering::Less));
        assert_eq!(ord(s("B"), s("a")), Ok(Ordering::Less));
    }

    #[test]
    fn lists_compare_in_order_and_maps_by_key() {
        let list = |items: &[i64]| L::List(items.iter().map(|i| L::Int(*i)).collect());
        assert_eq!(eq(list(&[1, 2]), list(&[1, 2])), Ok(true));
        assert_eq!(eq(list(&[1, 2]), list(&[2, 1])), Ok(false));
        assert_eq!(eq(list(&[1]), list(&[1, 1])), Ok(false));
        let map = |entries: &[(&str, i64)]| {
            L::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), L::Int(*v)))
                    .collect(),
            )
        };
        assert_eq!(eq(map(&[("a", 1), ("b", 2)]), map(&[("b", 2), ("a", 1)])), Ok(true));
        assert_eq!(eq(map(&[("a", 1)]), map(&[("a", 2)])), Ok(false));
    }

    #[test]
    fn an_incomparable_pair_inside_makes_the_whole_pair_incomparable() {
        let a = L::List(vec![L::Int(1), s("x")]);
        let b = L::List(vec![L::Int(1), L::Int(2)]);
        assert_eq!(eq(a, b), Err(NotComparable));
    }

    #[test]
    fn a_search_over_the_backtracking_budget_is_no_match_and_is_reported() {
        // A back-reference needs the backtracking engine; nested repetition before it makes
        // a failing search exponential.
        let pattern = r"^(?!x)((\w+-?)+)\2$";
        let regexes = Regexes::compile([pattern], 1_000);
        let search = Search::new(&regexes);
        let text = format!("{}!", "a".repeat(40));
        assert!(!search.is_match(pattern, &text));
        assert!(!search.is_match(pattern, &text));
        assert_eq!(search.into_too_costly(), vec![pattern.to_string()]);
        // Within the budget, the same engine answers.
        let regexes = Regexes::compile(["(?=ab)a"], 1_000);
        let search = Search::new(&regexes);
        assert!(search.is_match("(?=ab)a", "xab"));
        assert!(search.into_too_costly().is_empty());
    }
}
