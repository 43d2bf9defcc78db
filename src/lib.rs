//! proctor: compile, check and deploy AWS Proton-format template bundles.
//!
//! This root crate is the command line: argument parsing and commands ([`cli`]), the
//! reporters that turn diagnostics into text, JSON, SARIF and JUnit ([`report`]), and
//! `proctor apply` on the AWS SDK ([`apply`]). The binary (`main.rs`) only calls
//! [`cli::main`]. The checking pipeline is in the workspace's other crates, re-exported here
//! under the module names the tests, benchmarks and fuzz targets use.

// No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
// `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// Only `cli` writes to the terminal, and allows it; the reporters return text.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod apply;
pub mod cli;
pub mod report;

pub use proctor_cfn as cfn;
pub use proctor_core::{diag, files, limits, paths, source, text, yaml};
pub use proctor_guard as policy;
pub use proctor_model::{bundle, schema, spec};
pub use proctor_pipeline::{
    adopt, build, cache, check, config, diff, docs, graph, stage, state, unit, versions,
};
pub use proctor_template as template;
