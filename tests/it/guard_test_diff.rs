//! `proctor policy test` against `cfn-guard test -d` (cfn-guard 3.2.1, built by scripts/guard):
//! on the built-in pack, the passing unit-test corpus and the corpus with two wrong
//! expectations, both tools must count the same expectations, report the same failing ones
//! (case, rule, expected, evaluated) and agree on success or failure.

use crate::support::oracle::{guard_outcome, proctor_outcome};

#[test]
fn policy_test_agrees_with_cfn_guard_test() {
    for (dir, should_pass) in [
        ("policies", true),
        ("fixtures/policy/tests", true),
        ("fixtures/workspace/policies", true),
        ("fixtures/policy/tests-failing", false),
    ] {
        let (guard, guard_ok) = guard_outcome(dir);
        let (ours, ours_ok) = proctor_outcome(dir);
        assert_eq!(
            ours, guard,
            "{dir}: (failing expectations, expectation count) differ from cfn-guard test"
        );
        assert_eq!(
            ours_ok, guard_ok,
            "{dir}: success differs from cfn-guard test"
        );
        assert_eq!(
            ours_ok,
            should_pass,
            "{dir}: the corpus is meant to {}",
            if should_pass { "pass" } else { "fail" }
        );
        assert!(guard.1 > 0, "{dir}: no expectations were checked");
    }
}
