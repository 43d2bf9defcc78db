//! proctor's pipeline: a run of `proctor check` from the command line's paths to findings
//! ([`check`]), in stages: configuration ([`config`]), bundle discovery and loading, spec
//! checking, rendering ([`stage`]), CloudFormation and policy validation, suppressions. Above
//! it: build records ([`build`]), deployed state ([`state`]), template versions
//! ([`versions`], [`diff`]) and bundle documentation ([`docs`]).
//!
//! It knows nothing of the command line, the terminal or AWS: the CLI crate drives it and
//! reports what it returns.

// No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
// `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod adopt;
pub mod build;
pub mod cache;
pub mod check;
pub mod config;
pub mod diff;
pub mod docs;
pub mod graph;
pub mod stage;
pub mod state;
pub mod unit;
pub mod versions;

// The modules of the crates below, under the names every crate of the workspace uses.
use proctor_cfn as cfn;
use proctor_core::{diag, files, limits, paths, source, yaml};
use proctor_guard as policy;
use proctor_model::{bundle, schema, spec};
use proctor_template as template;
