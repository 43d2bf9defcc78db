//! Human output through miette: source snippets, labels, help. Labels in other files than the
//! primary one (the schema property behind a spec error) are shown as notes with their own
//! snippet.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, SourceCode, SourceSpan,
    SpanContents,
};

use crate::diag::{Diagnostic, Label, Severity};
use crate::source::{Source, SourceFile};

/// A source file as miette reads it.
struct Snippet(Source);

impl std::ops::Deref for Snippet {
    type Target = SourceFile;
    fn deref(&self) -> &SourceFile {
        &self.0
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // Read from a window of the lines around the span, found with the line index: miette
        // reading the whole text would scan it from the start for every label, which makes a
        // report quadratic (20,000 findings in a large policy file took 23 s).
        let start = self.clamp(span.offset());
        let end = self.clamp(span.offset() + span.len()).max(start);
        let first = self.line_col(start).0 - 1;
        let last = self.line_col(end).0 - 1;
        let window = self.lines_range(first.saturating_sub(before), last.saturating_add(after));
        let local = SourceSpan::new((start - window.start).into(), end - start);
        let inner = self.display_text()[window.clone()].read_span(&local, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name().to_string(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + window.start).into(),
                inner.span().len(),
            ),
            inner.line() + first.saturating_sub(before),
            inner.column(),
            // miette's own reader counts lines from the start of the text to the end of the
            // snippet, and its merging of nearby snippets relies on that: keep it.
            inner.line_count() + first.saturating_sub(before),
        )))
    }
}

/// Lines longer than this (in bytes) are not shown as snippets.
const MAX_SNIPPET_LINE: usize = 400;

fn line_length(source: &SourceFile, offset: usize) -> usize {
    let text = source.display_text();
    let offset = source.clamp(offset);
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    end - start
}

/// Options for human output.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders diagnostics, one after another, separated by blank lines.
pub fn render(diags: &[Diagnostic], opts: HumanOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false)
        .with_context_lines(1)
        .with_show_related_as_nested(true);
    let mut out = String::new();
    for d in diags {
        let view = View::new(d);
        if handler.render_report(&mut out, &view).is_err() {
            // Rendering cannot really fail on a String; keep the message at least.
            out.push_str(&d.message);
        }
        out.push('\n');
    }
    out
}

/// A diagnostic as miette sees it: the diagnostic itself, or a note for one of its labels
/// that lies in another file.
struct View<'a> {
    d: &'a Diagnostic,
    note: bool,
    /// The file whose snippet is shown, if any.
    source: Option<Snippet>,
    /// Where the problem is when there is no snippet to show it in.
    location: Option<String>,
    labels: Vec<&'a Label>,
    related: Vec<View<'a>>,
}

impl<'a> View<'a> {
    fn new(d: &'a Diagnostic) -> Self {
        let primary = d.primary.as_ref();
        // No snippet for an empty file, or for a line too long to show (hostile inputs):
        // the location alone, as `file:line:col`.
        let source = primary
            .map(|p| p.at.source.clone())
            .filter(|s| !s.text().is_empty())
            .filter(|s| {
                primary.is_some_and(|p| line_length(s, p.at.span.start) <= MAX_SNIPPET_LINE)
            });
        let source = source.map(Snippet);
        let location = match (primary, &source) {
            (Some(p), None) if p.at.source.text().is_empty() => {
                Some(p.at.source.name().to_string())
            }
            (Some(p), None) => {
                let (line, col) = p.at.source.line_col(p.at.span.start);
                Some(format!("{}:{line}:{col}", p.at.source.name()))
            }
            _ => None,
        };
        let same = |l: &&Label| {
            source
                .as_ref()
                .is_some_and(|s| std::sync::Arc::ptr_eq(&s.0, &l.at.source))
        };
        let labels = d.labels.iter().filter(same).collect();
        let mut related: Vec<View<'a>> = d
            .labels
            .iter()
            .filter(|l| !same(l))
            .map(|l| View::note(d, l))
            .collect();
        related.extend(d.related.iter().map(View::new));
        View {
            d,
            note: false,
            source,
            location,
            labels,
            related,
        }
    }

    fn note(d: &'a Diagnostic, l: &'a Label) -> Self {
        let source = Some(l.at.source.clone())
            .filter(|s| !s.text().is_empty())
            .map(Snippet);
        let location = source.is_none().then(|| l.at.source.name().to_string());
        View {
            d,
            note: true,
            source,
            location,
            labels: vec![l],
            related: Vec::new(),
        }
    }

    fn is_note(&self) -> bool {
        self.note
    }
}

impl fmt::Debug for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for View<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_note() {
            let text = self.labels[0].message.as_deref().unwrap_or("see here");
            return match &self.location {
                Some(loc) => write!(f, "note: {text}\n  --> {loc}"),
                None => write!(f, "note: {text}"),
            };
        }
        write!(f, "{}: {}", self.d.code.id, self.d.message)?;
        if let Some(loc) = &self.location {
            write!(f, "\n  --> {loc}")?;
        }
        Ok(())
    }
}

impl std::error::Error for View<'_> {}

impl miette::Diagnostic for View<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        if self.is_note() {
            return Some(miette::Severity::Advice);
        }
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if self.is_note() {
            return None;
        }
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let source = self.source.as_ref()?;
        let span = |l: &Label| {
            let start = source.clamp(l.at.span.start);
            let end = source.clamp(l.at.span.end.max(start));
            SourceSpan::from(start..end)
        };
        let mut out = Vec::new();
        if !self.is_note()
            && let Some(p) = &self.d.primary
        {
            out.push(LabeledSpan::new_primary_with_span(
                p.message.clone(),
                span(p),
            ));
        }
        for l in &self.labels {
            // A note's text is its header; its label only underlines.
            let text = if self.is_note() {
                None
            } else {
                l.message.clone()
            };
            out.push(LabeledSpan::new_with_span(text, span(l)));
        }
        Some(Box::new(out.into_iter()))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}
