//! `proctor docs BUNDLE`: a Markdown reference of a bundle's inputs for developers.
//! (Being written: see `run`.)

use std::path::PathBuf;

pub struct DocsOptions {
    /// The bundle folder, as given.
    pub bundle: String,
    /// `--output FILE`: write there (between the markers when the file has them).
    pub output: Option<String>,
    /// `--check`: compare with the file instead of writing it.
    pub check: bool,
    pub cwd: PathBuf,
}

/// What `proctor docs` did.
#[derive(Debug, PartialEq, Eq)]
pub enum DocsResult {
    /// No --output: the Markdown, to print.
    Printed(String),
    /// Written to this file.
    Written(String),
    /// `--check`: the file is current.
    UpToDate(String),
    /// `--check`: the file is stale; the message says how to update it.
    Stale(String),
}

/// Runs `proctor docs`; `Err` is a message for a usage problem (no bundle there, unreadable
/// output file, an invalid bundle).
pub fn run(_opts: &DocsOptions) -> Result<DocsResult, String> {
    Err("not yet".to_string())
}
