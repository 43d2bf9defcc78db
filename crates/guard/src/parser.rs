//! The pest parser generated from grammar/policy.pest.

#[derive(pest_derive::Parser)]
#[grammar = "../../../grammar/policy.pest"]
pub struct PolicyParser;
