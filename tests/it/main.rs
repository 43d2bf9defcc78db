//! proctor's integration tests, in one binary: each module is one area, and every helper they
//! share is in `support` (the repository root, running the real binary, copying fixtures,
//! git, the public corpus, the cfn-guard oracle, a moto server for apply).
//!
//! The end-to-end tests run the real `proctor` binary; the differential ones run the
//! reference tools (cfn-guard 3.2.1, cfn-lint 1.58, Python Jinja2) beside it in the same run.

mod support;

mod apply;
mod apply_fake;
mod architecture;
mod buffers;
mod build;
mod cache;
mod cases;
mod cfnlint_diff;
mod config_schema;
mod docs;
mod docs_cmd;
mod formats;
mod gen_workspace;
mod graph;
mod guard_diff;
mod guard_registry;
mod guard_test_diff;
mod hostile;
mod hostile_corpus;
mod lint_control;
mod lsp;
mod precommit;
mod property;
mod render_diff;
mod selection;
mod versions;
