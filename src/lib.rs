//! proctor: compile, check and deploy AWS Proton-format template bundles.
//!
//! The library is the whole pipeline; the binary (`main.rs`) only calls [`cli::main`].
//! Checking code never prints: it returns [`diag::Diagnostic`]s, which [`report`] renders.
//!
//! No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
//! `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// Checking never prints, and the compiler (clippy) holds every module to it; `cli` is the
// one module that writes to the terminal, and allows it.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod apply;
pub mod build;
pub mod bundle;
pub mod cfn;
pub mod check;
pub mod cli;
pub mod config;
pub mod diag;
pub mod diff;
pub mod docs;
pub mod files;
pub mod limits;
pub mod paths;
pub mod policy;
pub mod report;
pub mod schema;
pub mod source;
pub mod spec;
pub mod stage;
pub mod state;
pub mod template;
pub mod text;
pub mod unit;
pub mod versions;
pub mod yaml;
