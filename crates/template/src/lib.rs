//! Templates: the Jinja environment faithful to Proton, rendering of deployment units, and
//! static analysis of the references templates make.

//!
//! It renders one template for one deployment at a time; which deployments exist, their
//! configuration and what is deployed are the pipeline's. It knows nothing of policies, the
//! CLI or AWS.

// No `unwrap` or `expect` outside tests: what a file can cause is a diagnostic. The few
// `expect`s on internal invariants (constant regexes) are allowed one by one, with a reason.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// The modules of the crates below, under the names every crate of the workspace uses.
use proctor_cfn as cfn;
use proctor_core::{diag, limits, source, yaml};
use proctor_model::bundle;

pub mod analyse;
pub mod env;
pub mod proton_filters;
pub mod python;
pub mod render;
