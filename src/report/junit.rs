//! `--format junit`: JUnit XML, the test report format CI systems (GitLab, Jenkins, Azure
//! Pipelines) display. One `<testsuite>` per checked file with a diagnostic, one `<testcase>`
//! per diagnostic: errors and warnings fail, infos pass with their text as output. A clean run
//! is one passing test case, so that CI shows proctor as passed rather than as missing.
//!
//! Times are `0` and there are no timestamps or host names: the report is deterministic.

use std::collections::HashMap;

use crate::diag::{Diagnostic, Label, Severity};

/// The suite and class of diagnostics that have no file, and of the clean run's test case.
const TOOL: &str = "proctor";

pub fn render(diags: &[Diagnostic]) -> String {
    // Suites in the order their files first appear (the input is sorted by file already).
    let mut suites: Vec<(&str, Vec<&Diagnostic>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for d in diags {
        let file = file_of(d).unwrap_or(TOOL);
        let i = *index.entry(file).or_insert_with(|| {
            suites.push((file, Vec::new()));
            suites.len() - 1
        });
        suites[i].1.push(d);
    }

    let tests = diags.len().max(1);
    let failures = diags.iter().filter(|d| fails(d)).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"{TOOL}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"0\">\n"
    ));
    if suites.is_empty() {
        out.push_str(&format!(
            "  <testsuite name=\"{TOOL}\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\">\n    <testcase name=\"{TOOL}\" classname=\"{TOOL}\" time=\"0\"/>\n  </testsuite>\n"
        ));
    }
    for (file, members) in &suites {
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"0\">\n",
            escape_attr(file),
            members.len(),
            members.iter().filter(|d| fails(d)).count()
        ));
        // CI systems key test cases by class and name: number repeats so none is merged away.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for d in members {
            let mut name = test_name(d);
            let n = seen.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                name.push_str(&format!(" ({n})"));
            }
            out.push_str(&test_case(d, &name, file));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Errors and warnings fail their test case; infos pass.
fn fails(d: &Diagnostic) -> bool {
    d.severity != Severity::Info
}

fn file_of(d: &Diagnostic) -> Option<&str> {
    d.primary
        .as_ref()
        .map(|p| p.at.source.name())
        .filter(|n| !n.is_empty())
}

/// `CODE file:line:col`, or the code alone when there is no file.
fn test_name(d: &Diagnostic) -> String {
    match d
        .primary
        .as_ref()
        .filter(|p| !p.at.source.name().is_empty())
    {
        Some(p) => format!("{} {}", d.code.id, position(p)),
        None => d.code.id.to_string(),
    }
}

fn position(label: &Label) -> String {
    let (line, col) = label.at.source.line_col(label.at.span.start);
    format!("{}:{line}:{col}", label.at.source.name())
}

fn test_case(d: &Diagnostic, name: &str, class: &str) -> String {
    let open = format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"0\">\n",
        escape_attr(name),
        escape_attr(class)
    );
    let body = if fails(d) {
        format!(
            "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
            escape_attr(&d.message),
            escape_attr(d.code.id),
            escape(&full_text(d))
        )
    } else {
        format!("      <system-out>{}</system-out>\n", escape(&full_text(d)))
    };
    format!("{open}{body}    </testcase>\n")
}

/// What a person reading the CI page needs: the message, where, the related places, the help
/// and the rule's documentation.
fn full_text(d: &Diagnostic) -> String {
    let mut text = format!("{} {}: {}", d.severity.as_str(), d.code.id, d.message);
    if let Some(p) = d
        .primary
        .as_ref()
        .filter(|p| !p.at.source.name().is_empty())
    {
        text.push_str(&format!("\n  --> {}", position(p)));
        if let Some(m) = &p.message {
            text.push_str(&format!(": {m}"));
        }
    }
    for l in d.labels.iter().filter(|l| !l.at.source.name().is_empty()) {
        let note = l.message.as_deref().unwrap_or("see here");
        text.push_str(&format!("\n  note: {note}: {}", position(l)));
    }
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    text.push_str(&format!("\ndocs: {}", d.code.docs_url()));
    text
}

/// Escapes an attribute value: as element text, and tab and newline as references too, which
/// attribute-value normalisation would otherwise turn into spaces.
fn escape_attr(text: &str) -> String {
    escape(text).replace('\t', "&#9;").replace('\n', "&#10;")
}

/// Escapes text for XML 1.0 element content. Characters XML 1.0 does not allow at all
/// (control characters other than tab, newline and carriage return, U+FFFE, U+FFFF) are left
/// out; a carriage return is written as a reference, which line-end normalisation keeps.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `proctor policy test --format junit`: a suite per test file, a test case per expectation
/// (`case: rule`), failing where the rule's status is not the expected one; files that could
/// not be read or parsed fail in a suite of their own.
pub fn render_policy_tests(
    results: &[crate::policy::unit_test::Expectation],
    diags: &[Diagnostic],
) -> String {
    let mut files: Vec<&str> = Vec::new();
    for r in results {
        if !files.contains(&r.test_file.as_str()) {
            files.push(&r.test_file);
        }
    }
    let failed = results.iter().filter(|r| !r.held()).count() + diags.len();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"proctor policy test\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" time=\"0\">\n",
        results.len() + diags.len()
    );
    for file in files {
        let here: Vec<_> = results.iter().filter(|r| r.test_file == file).collect();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"0\">\n",
            escape_attr(file),
            here.len(),
            here.iter().filter(|r| !r.held()).count()
        ));
        for r in here {
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
                escape_attr(&format!("{}: {}", r.case, r.rule)),
                escape_attr(file)
            ));
            if r.held() {
                out.push_str("/>\n");
            } else {
                let text = format!(
                    "case `{}`: rule `{}` expected {}, got {}",
                    r.case,
                    r.rule,
                    r.expected,
                    r.got.as_str()
                );
                out.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>\n",
                    escape_attr(&text),
                    escape(&text)
                ));
            }
        }
        out.push_str("  </testsuite>\n");
    }
    if !diags.is_empty() {
        let broken = render(diags);
        // The diagnostics' own suites, without the document's head and tail.
        let inner: String = broken
            .lines()
            .filter(|l| {
                !l.starts_with("<?xml")
                    && !l.starts_with("<testsuites")
                    && !l.starts_with("</testsuites")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        out.push_str(&inner);
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_what_xml_forbids() {
        let text = "a<b & \"c\" 'd'>\u{1}\u{1b}[0m\u{FFFF}\t\u{e9}\r\n";
        assert_eq!(
            escape(text),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;[0m\t\u{e9}&#13;\n"
        );
        assert_eq!(
            escape_attr(text),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;[0m&#9;\u{e9}&#13;&#10;"
        );
    }
}
