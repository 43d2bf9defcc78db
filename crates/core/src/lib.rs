//! proctor's core, below every other crate: source files and byte spans ([`source`]), reading
//! files for checking ([`files`]), YAML with a span on every node ([`yaml`]), the one
//! diagnostic type and the registry of codes ([`diag`]), per-run limits ([`limits`]), path
//! helpers ([`paths`]) and list/did-you-mean text ([`text`]).
//!
//! It knows nothing of bundles, templates, CloudFormation, policies, the CLI or AWS.

// No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
// `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod diag;
pub mod files;
pub mod limits;
pub mod paths;
pub mod phase;
pub mod source;
pub mod text;
pub mod yaml;
