//! proctor's diagnostics as the protocol's: the same code, place, message and help, with the
//! code's documentation linked, labels as related information, and the quick fix a diagnostic
//! has (a did-you-mean rename, `{% raw %}` around a dynamic reference) in its `data`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
};
use serde::{Deserialize, Serialize};

use crate::text::{Lines, uri_of};
use proctor_core::diag::{Diagnostic, Severity, codes};

/// A text edit that fixes a diagnostic, carried in the diagnostic's `data` so that a code
/// action request (which sends the diagnostic back) needs nothing else.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fix {
    pub title: String,
    pub range: lsp_types::Range,
    pub new_text: String,
}

/// The file a diagnostic belongs to, or `None` when it has no place in a file an editor can
/// open (no location, or only a rendering).
pub fn file_of(d: &Diagnostic, root: &Path) -> Option<PathBuf> {
    let p = d.primary.as_ref()?;
    let path = p.at.source.path();
    if path.as_os_str().is_empty() {
        return None;
    }
    Some(root.join(path))
}

/// The protocol's form of one of proctor's diagnostics.
pub fn diagnostic(d: &Diagnostic, root: &Path) -> lsp_types::Diagnostic {
    let (range, fix) = match &d.primary {
        Some(p) if !rendering(p.at.source.name()) => {
            let lines = Lines::of(&p.at.source);
            let range = lines.range(&p.at.span);
            (range, fix(d, p.at.source.text(), &p.at.span, &lines))
        }
        // A finding left on a rendering (no template line maps to it): the file's start.
        _ => (lsp_types::Range::default(), None),
    };
    let mut message = d.message.clone();
    if let Some(label) = d.primary.as_ref().and_then(|p| p.message.as_ref()) {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    // Secondary labels, and the notes (related diagnostics) with a place of their own.
    let notes = d.related.iter().filter_map(|r| {
        let p = r.primary.as_ref()?;
        Some((&p.at, r.message.clone()))
    });
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .map(|l| (&l.at, l.message.clone().unwrap_or_default()))
        .chain(notes)
        .filter(|(at, _)| !rendering(at.source.name()))
        .filter_map(|(at, message)| {
            let path = root.join(at.source.path());
            let lines = Lines::of(&at.source);
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri_of(&path)?, lines.range(&at.span)),
                message,
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.id.to_string())),
        code_description: d
            .code
            .docs_url()
            .parse()
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("proctor".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: fix.and_then(|f| serde_json::to_value(f).ok()),
    }
}

fn rendering(name: &str) -> bool {
    name.contains(" [rendered for ")
}

/// The obvious fix of a diagnostic, when it has one.
fn fix(d: &Diagnostic, text: &str, span: &Range<usize>, lines: &Lines) -> Option<Fix> {
    let written = text.get(span.clone())?;
    if d.code.id == codes::T006.id {
        return Some(Fix {
            title: "wrap the dynamic reference in `{% raw %}`".to_string(),
            range: lines.range(span),
            new_text: format!("{{% raw %}}{written}{{% endraw %}}"),
        });
    }
    let help = d.help.as_deref()?;
    let suggestion = help
        .strip_prefix("did you mean `")?
        .split_once("`?")
        .map(|(s, _)| s)?;
    if suggestion.is_empty() || suggestion.contains('\n') {
        return None;
    }
    // `service_instance.inputs.prot`: the last part is the name to replace.
    let target = match written.rfind('.') {
        Some(dot) if !suggestion.contains('.') => span.start + dot + 1..span.end,
        _ => span.clone(),
    };
    let old = text.get(target.clone())?.trim_matches(['"', '\'']);
    if old.is_empty() || old == suggestion {
        return None;
    }
    // Keep quotes the author wrote around the name.
    let inner = match text.get(target.clone()) {
        Some(t) if t.len() >= 2 && (t.starts_with('"') || t.starts_with('\'')) => {
            target.start + 1..target.end - 1
        }
        _ => target,
    };
    Some(Fix {
        title: format!("replace `{old}` with `{suggestion}`"),
        range: lines.range(&inner),
        new_text: suggestion.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proctor_core::source::SourceFile;

    fn diag(
        code: &'static proctor_core::diag::Code,
        text: &str,
        at: &str,
        help: &str,
    ) -> Diagnostic {
        let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
        let start = text.find(at).unwrap();
        Diagnostic::new(code, "m")
            .at(&src, start..start + at.len())
            .help(help)
    }

    #[test]
    fn did_you_mean_replaces_the_last_part_of_a_reference() {
        let text = "Port: {{ service_instance.inputs.prot }}\n";
        let d = diag(
            codes::T002,
            text,
            "service_instance.inputs.prot",
            "did you mean `port`?",
        );
        let lsp = diagnostic(&d, Path::new("/w"));
        let fix: Fix = serde_json::from_value(lsp.data.unwrap()).unwrap();
        assert_eq!(fix.new_text, "port");
        assert_eq!(fix.range.start.character, 33);
        assert_eq!(fix.range.end.character, 37);
        assert_eq!(lsp.message, "m\nhelp: did you mean `port`?");
    }

    #[test]
    fn dynamic_references_are_wrapped_in_raw() {
        let text = "P: '{{resolve:ssm:/x}}'\n";
        let d = diag(codes::T006, text, "{{resolve:ssm:/x}}", "wrap it");
        let fix: Fix =
            serde_json::from_value(diagnostic(&d, Path::new("/w")).data.unwrap()).unwrap();
        assert_eq!(fix.new_text, "{% raw %}{{resolve:ssm:/x}}{% endraw %}");
    }

    #[test]
    fn help_without_a_suggestion_has_no_fix() {
        let d = diag(
            codes::I001,
            "replicas: 2\n",
            "replicas",
            "the inputs of `X` are `a`",
        );
        assert!(diagnostic(&d, Path::new("/w")).data.is_none());
    }
}
