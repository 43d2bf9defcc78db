//! Guard's comparisons between values: equality (with regex search and range membership),
//! ordering (integers against floats exactly), and the looser equality Guard uses for list
//! membership.

use std::cmp::Ordering;

use super::regex::Search;
use super::value::{Kind, View};
use crate::ast::{Literal, RangeLit};

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

/// cfn-guard 3.2.1's comparison rules, one by one (the differential tests check them against
/// cfn-guard itself on whole rule files; these say what each rule is).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Literal as L;
    use crate::eval::regex::Regexes;

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
        assert_eq!(
            eq(map(&[("a", 1), ("b", 2)]), map(&[("b", 2), ("a", 1)])),
            Ok(true)
        );
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
