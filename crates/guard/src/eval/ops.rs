//! Binary comparisons with cfn-guard 3.2.1's results: how each left-hand value meets the
//! right-hand side (one value, a literal list, or the values of a query), how `!=` and `NOT IN`
//! invert those outcomes, and which values pass or fail.

use super::compare::{compare_eq, compare_values, loose_eq};
use super::regex::Search;
use super::value::{Kind, Val, View};
use super::{Few, QR, Unres};
use crate::ast::CmpOp;
use std::cmp::Ordering;

/// The comparison family of an operator; `!=` is `==` negated, `NOT IN` is `IN` negated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    In,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// The family and the operator's own negation.
    pub fn of(op: CmpOp) -> (Op, bool) {
        match op {
            CmpOp::Eq => (Op::Eq, false),
            CmpOp::Ne => (Op::Eq, true),
            CmpOp::In => (Op::In, false),
            CmpOp::NotIn => (Op::In, true),
            CmpOp::Lt => (Op::Lt, false),
            CmpOp::Le => (Op::Le, false),
            CmpOp::Gt => (Op::Gt, false),
            CmpOp::Ge => (Op::Ge, false),
        }
    }
}

/// How a comparison came out, before `not` is applied.
enum Cmp<'d> {
    /// One left value against one right value (or against a list holding it).
    Value(Val<'d>),
    /// Several left values against several right values, as sets; `diff` are the values that
    /// made it fail.
    Set {
        diff: Vec<Val<'d>>,
        lhs: Vec<Val<'d>>,
        rhs: Vec<Val<'d>>,
    },
    /// A left list against a right list: `diff` are the items not found.
    ListIn { diff: Vec<Val<'d>>, lhs: Val<'d> },
}

enum Outcome<'d> {
    LhsUnresolved(Unres<'d>),
    RhsUnresolved(Val<'d>),
    NotComparable(Val<'d>),
    Pass(Cmp<'d>),
    Fail(Cmp<'d>),
}

/// The result of a binary clause's comparison.
pub enum Compared<'d> {
    /// The left side selected nothing.
    EmptyLhs,
    /// The right side selected nothing.
    EmptyRhs,
    /// Each compared left value (or unresolved entry) with whether it passed; the node for
    /// the report.
    Values(Few<(bool, Option<&'d crate::yaml::Node>)>),
}

/// Compares the left values with the right ones; `negated` is `!=`/`NOT IN` and a clause's
/// leading `not`, combined.
pub fn compare<'d>(
    op: Op,
    negated: bool,
    lhs: &[QR<'d>],
    rhs: &[QR<'d>],
    re: &Search,
) -> Compared<'d> {
    if lhs.is_empty() {
        return Compared::EmptyLhs;
    }
    if rhs.is_empty() {
        return Compared::EmptyRhs;
    }
    let outcomes = match op {
        Op::Eq => eq_operation(lhs, rhs, re),
        Op::In => in_operation(lhs, rhs, re),
        _ => common(op, lhs, rhs),
    };
    let outcomes: Few<Outcome<'d>> = if negated {
        outcomes
            .into_iter()
            .map(|o| invert(o, op, lhs.len(), rhs.len(), re))
            .collect()
    } else {
        outcomes
    };
    let mut values = Few::with_capacity(outcomes.len());
    for o in outcomes {
        match o {
            Outcome::LhsUnresolved(u) => values.push((false, u.at)),
            Outcome::RhsUnresolved(v) | Outcome::NotComparable(v) => values.push((false, v.node())),
            Outcome::Pass(Cmp::Set { lhs, .. }) => {
                values.extend(lhs.iter().map(|v| (true, v.node())));
            }
            Outcome::Pass(Cmp::Value(v) | Cmp::ListIn { lhs: v, .. }) => {
                values.push((true, v.node()))
            }
            Outcome::Fail(Cmp::Set { diff, .. }) => {
                values.extend(diff.iter().map(|v| (false, v.node())));
            }
            Outcome::Fail(Cmp::Value(v) | Cmp::ListIn { lhs: v, .. }) => {
                values.push((false, v.node()))
            }
        }
    }
    Compared::Values(values)
}

fn invert<'d>(o: Outcome<'d>, op: Op, lhs_len: usize, rhs_len: usize, re: &Search) -> Outcome<'d> {
    match o {
        Outcome::Fail(Cmp::Set { diff, lhs, rhs }) => {
            // cfn-guard keeps the values that were not in the difference; for `!=` between two
            // queries with at least as many right entries, it takes them from the right side.
            let from = if rhs_len >= lhs_len && op == Op::Eq {
                &rhs
            } else {
                &lhs
            };
            let reverse: Vec<Val<'d>> = from
                .iter()
                .filter(|v| !diff.iter().any(|d| loose_eq(d.view(), v.view(), re)))
                .cloned()
                .collect();
            if reverse.is_empty() {
                Outcome::Pass(Cmp::Set {
                    diff: reverse,
                    lhs,
                    rhs,
                })
            } else {
                Outcome::Fail(Cmp::Set {
                    diff: reverse,
                    lhs,
                    rhs,
                })
            }
        }
        Outcome::Fail(Cmp::ListIn { diff, lhs }) => {
            let reverse: Vec<Val<'d>> = lhs
                .items()
                .into_iter()
                .filter(|v| !diff.iter().any(|d| loose_eq(d.view(), v.view(), re)))
                .collect();
            if reverse.is_empty() {
                Outcome::Pass(Cmp::ListIn { diff: reverse, lhs })
            } else {
                Outcome::Fail(Cmp::ListIn { diff: reverse, lhs })
            }
        }
        Outcome::Fail(c) => Outcome::Pass(c),
        Outcome::Pass(Cmp::Set { lhs, rhs, .. }) => Outcome::Fail(Cmp::Set {
            diff: lhs.clone(),
            lhs,
            rhs,
        }),
        Outcome::Pass(Cmp::ListIn { lhs, .. }) => Outcome::Fail(Cmp::ListIn {
            diff: lhs.items(),
            lhs,
        }),
        Outcome::Pass(c) => Outcome::Fail(c),
        rest => rest,
    }
}

/// A set comparison: it passes when nothing is left in `diff`.
fn set_outcome<'d>(diff: Vec<Val<'d>>, lhs: Vec<Val<'d>>, rhs: Vec<Val<'d>>) -> Outcome<'d> {
    if diff.is_empty() {
        Outcome::Pass(Cmp::Set { diff, lhs, rhs })
    } else {
        Outcome::Fail(Cmp::Set { diff, lhs, rhs })
    }
}

/// The single literal of a side (a rule's literal, or a variable bound to one), if that is
/// all it holds.
fn single_literal<'a, 'd>(side: &'a [QR<'d>]) -> Option<&'a Val<'d>> {
    match side {
        [QR::Lit(v)] => Some(v),
        _ => None,
    }
}

/// The resolved values of a side; each unresolved entry is reported through `unresolved`.
fn selected<'d>(side: &[QR<'d>], mut unresolved: impl FnMut(&Unres<'d>)) -> Few<Val<'d>> {
    let mut out = Few::with_capacity(side.len());
    for r in side {
        match r {
            QR::Lit(v) | QR::Res(v) => out.push(v.clone()),
            QR::Unres(u) => unresolved(u),
        }
    }
    out
}

fn match_value<'d>(
    l: &Val<'d>,
    r: &Val<'d>,
    cmp: impl Fn(&Val<'d>, &Val<'d>) -> Result<bool, super::compare::NotComparable>,
) -> Outcome<'d> {
    match cmp(l, r) {
        Ok(true) => Outcome::Pass(Cmp::Value(l.clone())),
        Ok(false) => Outcome::Fail(Cmp::Value(l.clone())),
        Err(_) => Outcome::NotComparable(l.clone()),
    }
}

fn eq<'d>(l: &Val<'d>, r: &Val<'d>, re: &Search) -> Result<bool, super::compare::NotComparable> {
    compare_eq(l.view(), r.view(), re)
}

fn eq_operation<'d>(lhs: &[QR<'d>], rhs: &[QR<'d>], re: &Search) -> Few<Outcome<'d>> {
    let mut out = Few::with_capacity(lhs.len());
    match (single_literal(lhs), single_literal(rhs)) {
        (Some(l), Some(r)) => out.push(match_value(l, r, |l, r| eq(l, r, re))),
        (Some(l), None) => {
            let right = selected(rhs, |_| out.push(Outcome::RhsUnresolved(l.clone())));
            if l.is_list() {
                for r in &right {
                    out.push(match_value(l, r, |l, r| eq(l, r, re)));
                }
            } else {
                for r in &right {
                    if r.is_list() {
                        for item in r.items() {
                            out.push(match_value(l, &item, |l, r| eq(l, r, re)));
                        }
                    } else {
                        out.push(match_value(l, r, |l, r| eq(l, r, re)));
                    }
                }
            }
        }
        (None, Some(r)) => {
            let left = selected(lhs, |u| out.push(Outcome::LhsUnresolved(u.clone())));
            if r.is_list() {
                let items = r.items();
                for l in &left {
                    if l.view().is_scalar() && items.len() == 1 {
                        out.push(match_value(l, &items[0], |l, r| eq(l, r, re)));
                    } else {
                        out.push(match_value(l, r, |l, r| eq(l, r, re)));
                    }
                }
            } else {
                for l in &left {
                    if l.is_list() {
                        for item in l.items() {
                            out.push(match_value(&item, r, |l, r| eq(l, r, re)));
                        }
                    } else {
                        out.push(match_value(l, r, |l, r| eq(l, r, re)));
                    }
                }
            }
        }
        (None, None) => {
            let left = selected(lhs, |u| out.push(Outcome::LhsUnresolved(u.clone())));
            let right = selected(rhs, |_| {
                // cfn-guard reports each left value against an unresolved right entry.
            });
            for _ in rhs.iter().filter(|r| matches!(r, QR::Unres(_))) {
                out.extend(left.iter().map(|l| Outcome::RhsUnresolved(l.clone())));
            }
            let contains =
                |set: &[Val<'d>], v: &Val<'d>| set.iter().any(|x| loose_eq(x.view(), v.view(), re));
            let diff: Vec<Val<'d>> = if left.len() > right.len() {
                left.iter()
                    .filter(|v| !contains(&right, v))
                    .cloned()
                    .collect()
            } else {
                right
                    .iter()
                    .filter(|v| !contains(&left, v))
                    .cloned()
                    .collect()
            };
            out.push(set_outcome(diff, left.into_vec(), right.into_vec()));
        }
    }
    out
}

/// `l IN r` for one pair: a list on the left must be contained in a list on the right; a
/// value must be an element of a list; otherwise equality.
fn contained_in<'d>(l: &Val<'d>, r: &Val<'d>, re: &Search) -> Outcome<'d> {
    // The right-hand list is read in place: its items are compared, never copied.
    let contains = |list: &[View<'_>], v: &Val<'d>| list.iter().any(|x| loose_eq(*x, v.view(), re));
    if l.is_list() {
        if !r.is_list() {
            return Outcome::NotComparable(l.clone());
        }
        let right = r.view().items();
        if right.first().is_some_and(|x| x.is_list()) {
            return if contains(&right, l) {
                Outcome::Pass(Cmp::ListIn {
                    diff: Vec::new(),
                    lhs: l.clone(),
                })
            } else {
                Outcome::Fail(Cmp::ListIn {
                    diff: vec![l.clone()],
                    lhs: l.clone(),
                })
            };
        }
        let diff: Vec<Val<'d>> = l
            .items()
            .into_iter()
            .filter(|v| !contains(&right, v))
            .collect();
        return if diff.is_empty() {
            Outcome::Pass(Cmp::ListIn {
                diff,
                lhs: l.clone(),
            })
        } else {
            Outcome::Fail(Cmp::ListIn {
                diff,
                lhs: l.clone(),
            })
        };
    }
    if r.is_list() {
        return if contains(&r.view().items(), l) {
            Outcome::Pass(Cmp::Value(l.clone()))
        } else {
            Outcome::Fail(Cmp::Value(l.clone()))
        };
    }
    match_value(l, r, |l, r| eq(l, r, re))
}

/// A string is `IN` a string that contains it.
fn string_in<'d>(l: &Val<'d>, r: &Val<'d>) -> Outcome<'d> {
    match (l.view().kind(), r.view().kind()) {
        (Kind::Str(a), Kind::Str(b)) => {
            if b.contains(a) {
                Outcome::Pass(Cmp::Value(l.clone()))
            } else {
                Outcome::Fail(Cmp::Value(l.clone()))
            }
        }
        _ => Outcome::NotComparable(l.clone()),
    }
}

fn in_operation<'d>(lhs: &[QR<'d>], rhs: &[QR<'d>], re: &Search) -> Few<Outcome<'d>> {
    let mut out = Few::with_capacity(lhs.len());
    match (single_literal(lhs), single_literal(rhs)) {
        (Some(l), Some(r)) => {
            let first = string_in(l, r);
            out.push(match first {
                Outcome::Pass(_) => first,
                _ => contained_in(l, r, re),
            });
        }
        (Some(l), None) => {
            let right = selected(rhs, |_| out.push(Outcome::RhsUnresolved(l.clone())));
            if right.iter().any(Val::is_list) {
                for r in &right {
                    out.push(contained_in(l, r, re));
                }
            } else if l.is_list() {
                let diff: Vec<Val<'d>> = l
                    .items()
                    .into_iter()
                    .filter(|v| !right.iter().any(|x| loose_eq(x.view(), v.view(), re)))
                    .collect();
                out.push(set_outcome(diff, vec![l.clone()], right.into_vec()));
            } else {
                for r in &right {
                    out.push(contained_in(l, r, re));
                }
            }
        }
        (None, Some(r)) => {
            let left = selected(lhs, |u| out.push(Outcome::LhsUnresolved(u.clone())));
            for l in &left {
                if matches!(r.view().kind(), Kind::Str(_)) {
                    if l.is_list() {
                        for item in l.items() {
                            out.push(string_in(&item, r));
                        }
                    } else {
                        out.push(string_in(l, r));
                    }
                } else {
                    out.push(contained_in(l, r, re));
                }
            }
        }
        (None, None) => {
            let left = selected(lhs, |u| out.push(Outcome::LhsUnresolved(u.clone())));
            let right = selected(rhs, |_| {});
            for _ in rhs.iter().filter(|r| matches!(r, QR::Unres(_))) {
                out.extend(left.iter().map(|l| Outcome::RhsUnresolved(l.clone())));
            }
            let diff: Vec<Val<'d>> = left
                .iter()
                .filter(|l| {
                    !right
                        .iter()
                        .any(|r| matches!(contained_in(l, r, re), Outcome::Pass(_)))
                })
                .cloned()
                .collect();
            out.push(set_outcome(diff, left.into_vec(), right.into_vec()));
        }
    }
    out
}

/// `<`, `<=`, `>`, `>=`: every left value (lists flattened) against every right value.
fn common<'d>(op: Op, lhs: &[QR<'d>], rhs: &[QR<'d>]) -> Few<Outcome<'d>> {
    let mut out = Few::with_capacity(lhs.len());
    let flatten = |v: &Val<'d>, into: &mut Vec<Val<'d>>| {
        if v.is_list() {
            into.extend(v.items());
        } else {
            into.push(v.clone());
        }
    };
    let mut left = Vec::new();
    for r in lhs {
        match r {
            QR::Lit(v) | QR::Res(v) => flatten(v, &mut left),
            QR::Unres(u) => out.push(Outcome::LhsUnresolved(u.clone())),
        }
    }
    let mut right = Vec::new();
    for r in rhs {
        match r {
            QR::Lit(v) | QR::Res(v) => flatten(v, &mut right),
            QR::Unres(_) => out.extend(left.iter().map(|l| Outcome::RhsUnresolved(l.clone()))),
        }
    }
    let holds = |o: Ordering| match op {
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Gt => o == Ordering::Greater,
        _ => o != Ordering::Less,
    };
    for l in &left {
        for r in &right {
            out.push(match compare_values(l.view(), r.view()) {
                Ok(o) if holds(o) => Outcome::Pass(Cmp::Value(l.clone())),
                Ok(_) => Outcome::Fail(Cmp::Value(l.clone())),
                Err(_) => Outcome::NotComparable(l.clone()),
            });
        }
    }
    out
}

/// Whether a map key passes a key filter (`[ keys == /re/ ]`, `[ keys IN [...] ]`): `==` and
/// `!=` against several right values become `IN` and `NOT IN`.
pub fn key_selected<'d>(op: CmpOp, key: &Val<'d>, right: &[QR<'d>], re: &Search) -> bool {
    let op = match op {
        CmpOp::Eq if right.len() > 1 => CmpOp::In,
        CmpOp::Ne if right.len() > 1 => CmpOp::NotIn,
        o => o,
    };
    let one = |r: &Val<'d>| -> Result<bool, super::compare::NotComparable> {
        match op {
            CmpOp::Eq => compare_eq(key.view(), r.view(), re),
            CmpOp::Ne => compare_eq(key.view(), r.view(), re).map(|b| !b),
            _ => {
                let not_in = op == CmpOp::NotIn;
                let found = match (key.view().kind(), r.view().kind()) {
                    (Kind::Str(a), Kind::Str(b)) => b.contains(a),
                    (_, Kind::List) => {
                        let mut any = false;
                        for item in r.items() {
                            any |= compare_eq(key.view(), item.view(), re)?;
                        }
                        any
                    }
                    _ => compare_eq(key.view(), r.view(), re)?,
                };
                Ok(found != not_in)
            }
        }
    };
    let mut pass = false;
    for r in right {
        let (QR::Lit(v) | QR::Res(v)) = r else {
            continue;
        };
        let outcome = match one(v) {
            Ok(b) => b,
            Err(_) => {
                // A scalar against a one-item literal list compares with the item.
                let items = v.items();
                match (r, items.as_slice()) {
                    (QR::Lit(_), [single]) if key.view().is_scalar() => {
                        one(single).unwrap_or(false)
                    }
                    _ => false,
                }
            }
        };
        match op {
            CmpOp::Eq | CmpOp::Ne => {
                if outcome {
                    pass = true;
                }
            }
            _ => pass |= outcome,
        }
    }
    pass
}

/// cfn-guard 3.2.1's operator rules on whole sides (lists of query results).
#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::ast::Literal as L;
    use crate::eval::regex::Regexes;

    fn lit(l: L) -> QR<'static> {
        QR::Lit(Val::Data(Rc::new(l)))
    }

    /// Whether each left value passed, or what stopped the comparison.
    fn run(op: Op, negated: bool, lhs: Vec<L>, rhs: Vec<L>) -> Result<Vec<bool>, &'static str> {
        let regexes = Regexes::default();
        let search = Search::new(&regexes);
        let lhs: Vec<QR> = lhs.into_iter().map(lit).collect();
        let rhs: Vec<QR> = rhs.into_iter().map(lit).collect();
        match compare(op, negated, &lhs, &rhs, &search) {
            Compared::EmptyLhs => Err("empty left side"),
            Compared::EmptyRhs => Err("empty right side"),
            Compared::Values(v) => Ok(v.into_iter().map(|(pass, _)| pass).collect()),
        }
    }

    fn s(text: &str) -> L {
        L::String(text.to_string())
    }

    #[test]
    fn in_on_two_strings_is_a_substring_test() {
        assert_eq!(
            run(Op::In, false, vec![s("log")], vec![s("my-logs")]),
            Ok(vec![true])
        );
        assert_eq!(
            run(Op::In, false, vec![s("x")], vec![s("my-logs")]),
            Ok(vec![false])
        );
    }

    #[test]
    fn in_a_list_is_membership_and_not_in_its_inverse() {
        let list = || L::List(vec![s("a"), s("b")]);
        assert_eq!(
            run(Op::In, false, vec![s("b")], vec![list()]),
            Ok(vec![true])
        );
        assert_eq!(
            run(Op::In, true, vec![s("b")], vec![list()]),
            Ok(vec![false])
        );
        assert_eq!(
            run(Op::In, true, vec![s("c")], vec![list()]),
            Ok(vec![true])
        );
    }

    #[test]
    fn empty_sides_are_not_comparisons() {
        assert_eq!(
            run(Op::Eq, false, vec![], vec![s("a")]),
            Err("empty left side")
        );
        assert_eq!(
            run(Op::Eq, false, vec![s("a")], vec![]),
            Err("empty right side")
        );
    }

    #[test]
    fn values_of_different_kinds_fail_both_equal_and_not_equal() {
        assert_eq!(
            run(Op::Eq, false, vec![L::Int(1)], vec![s("1")]),
            Ok(vec![false])
        );
        assert_eq!(
            run(Op::Eq, true, vec![L::Int(1)], vec![s("1")]),
            Ok(vec![false])
        );
    }

    #[test]
    fn each_left_value_is_judged_on_its_own() {
        let got = run(Op::Eq, false, vec![s("a"), s("b")], vec![s("a")]);
        assert_eq!(got, Ok(vec![true, false]));
    }
}
