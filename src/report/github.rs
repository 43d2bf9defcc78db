//! `--format github`: GitHub Actions workflow commands, one line per diagnostic, which the
//! runner turns into annotations on the pull request:
//! `::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::message`.
//!
//! Paths are the display paths, relative to the workspace root; GitHub resolves them against
//! the repository root, so annotations land on the file when the two are the same folder.
//! Columns count characters and the end column is exclusive, as in the JSON report.

use crate::diag::{Diagnostic, Severity};

pub fn render(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&command(d));
        out.push('\n');
    }
    out
}

fn command(d: &Diagnostic) -> String {
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut properties = Vec::new();
    if let Some(p) = d
        .primary
        .as_ref()
        .filter(|p| !p.at.source.name().is_empty())
    {
        let src = &p.at.source;
        let (line, col) = src.line_col(p.at.span.start);
        let (end_line, end_column) = src.line_col(p.at.span.end.max(p.at.span.start));
        properties.push(format!("file={}", escape_property(src.name())));
        properties.push(format!("line={line}"));
        properties.push(format!("col={col}"));
        properties.push(format!("endLine={end_line}"));
        properties.push(format!("endColumn={end_column}"));
    }
    properties.push(format!("title={}", escape_property(d.code.id)));
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{kind} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

/// The message of a command: a newline would end the command, and `%` starts an escape.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as data, and `:` and `,`, which end a value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_line_breaks_only() {
        assert_eq!(
            escape_data("100% done\r\nnext: a, b"),
            "100%25 done%0D%0Anext: a, b"
        );
        // `%` first, so that the escapes themselves are not escaped again.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn properties_also_escape_colons_and_commas() {
        assert_eq!(escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
    }
}
