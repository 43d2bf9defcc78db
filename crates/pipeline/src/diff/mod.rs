//! Comparing two versions of a bundle: its input schema (`schema`: which changes need a new
//! major version) and what it renders to (`resources`: resources added, removed, modified,
//! and which changes replace a resource).

pub mod resources;
pub mod schema;
