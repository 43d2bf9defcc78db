//! The one diagnostic type. Checking code builds [`Diagnostic`]s and returns them; only the
//! reporters in `report` turn them into text.

pub mod codes;
pub mod filter;
pub mod isolate;
pub mod suppress;

use std::ops::Range;

pub use codes::Code;

use crate::source::{Located, Source};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Label {
    pub at: Located,
    pub message: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: &'static Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is. `None` only for problems that have no file at all.
    pub primary: Option<Label>,
    /// Further places worth showing (the schema property behind a spec error, the first of
    /// two duplicate keys).
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub related: Vec<Diagnostic>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity and no location yet.
    pub fn new(code: &'static Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity,
            message: message.into(),
            primary: None,
            labels: Vec::new(),
            help: None,
            related: Vec::new(),
        }
    }

    /// Sets the primary location.
    pub fn at(mut self, source: &Source, span: Range<usize>) -> Self {
        self.primary = Some(Label {
            at: Located {
                source: source.clone(),
                span,
            },
            message: None,
        });
        self
    }

    /// Sets the primary location at the start of a file (problems with the file as a whole).
    pub fn at_file(self, source: &Source) -> Self {
        self.at(source, 0..0)
    }

    /// The text shown under the primary location.
    pub fn primary_message(mut self, message: impl Into<String>) -> Self {
        if let Some(p) = &mut self.primary {
            p.message = Some(message.into());
        }
        self
    }

    pub fn label(mut self, source: &Source, span: Range<usize>, msg: impl Into<String>) -> Self {
        self.labels.push(Label {
            at: Located {
                source: source.clone(),
                span,
            },
            message: Some(msg.into()),
        });
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn related(mut self, other: Diagnostic) -> Self {
        self.related.push(other);
        self
    }

    /// Sort key: file, position, code; so that output is deterministic across threads.
    pub fn sort_key(&self) -> (String, usize, &'static str) {
        match &self.primary {
            Some(l) => (
                l.at.source.name().to_string(),
                l.at.span.start,
                self.code.id,
            ),
            None => (String::new(), 0, self.code.id),
        }
    }
}

/// Counts by severity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of(diags: &[Diagnostic]) -> Self {
        let mut s = Summary::default();
        for d in diags {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }
}

pub use crate::text::did_you_mean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["port", "task_size", "vpc_cidr"];
        assert_eq!(did_you_mean("prot", names), Some("port"));
        assert_eq!(did_you_mean("tasksize", names), Some("task_size"));
        assert_eq!(did_you_mean("memory", names), None);
    }
}
