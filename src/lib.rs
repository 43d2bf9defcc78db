//! proctor: compile, check and deploy AWS Proton-format template bundles.
//!
//! The library is the whole pipeline; the binary (`main.rs`) only calls [`cli::main`].
//! Checking code never prints: it returns [`diag::Diagnostic`]s, which [`report`] renders.

pub mod diag;
pub mod schema;
pub mod source;
pub mod yaml;
pub mod bundle;
pub mod check;
pub mod cli;
pub mod config;
pub mod limits;
pub mod paths;
pub mod report;
pub mod spec;
