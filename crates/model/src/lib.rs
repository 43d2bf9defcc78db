//! Proton bundles and what developers write against them: input schemas ([`schema`]),
//! bundles with their manifests and templates ([`bundle`]), and specs, typed and checked
//! against a bundle's schema ([`spec`]).
//!
//! It knows nothing of Jinja rendering, CloudFormation, policies, the CLI or AWS.

// No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
// `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bundle;
pub mod schema;
pub mod spec;

// The core modules, under the names every crate of the workspace uses.
use proctor_core::{diag, files, limits, paths, source, yaml};
