//! `.template-registration.yaml` (and the older `.compatible-envs`): the environment
//! templates a service template works with.

use std::ops::Range;
use std::path::Path;

use crate::diag::{Diagnostic, codes};
use crate::files::read_in;
use crate::source::Source;
use crate::yaml::shape::{check_keys, expect_map};

/// `fargate-env:1` as written in a registration file.
#[derive(Clone, Debug)]
pub struct EnvTemplateRef {
    pub name: String,
    pub major: u32,
    pub source: Source,
    pub span: Range<usize>,
}

impl std::fmt::Display for EnvTemplateRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.major)
    }
}

const EXAMPLE: &str = "compatible_environments:\n  - fargate-env:1\nsupported_component_sources:\n  - DIRECTLY_DEFINED";

/// Returns the compatible environments and how many registration files were read.
pub fn read(
    root: &Path,
    display: &str,
    reading: super::Reading,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<EnvTemplateRef>, usize) {
    let (limits, buffers) = reading;
    let mut out = Vec::new();
    let rel = ".template-registration.yaml";
    if root.join(rel).exists() || buffers.has(&root.join(rel)) {
        let (src, node) = match super::load_yaml(
            root,
            display,
            rel,
            super::OTHER_FILE_MAX_BYTES,
            reading,
            diags,
        ) {
            super::Loaded::Ok(src, node) => (src, node),
            _ => return (out, 1),
        };
        let Some(entries) = expect_map(&node, &src, "a registration file", EXAMPLE, diags) else {
            return (out, 1);
        };
        check_keys(
            entries,
            &["compatible_environments", "supported_component_sources"],
            &src,
            "a registration file",
            diags,
        );
        if let Some(envs) = node.get("compatible_environments") {
            match envs.as_seq() {
                Some(items) => {
                    for item in items {
                        let text = item.scalar_text().unwrap_or_default();
                        if let Some(r) = parse_ref(&text, &src, item.span.clone(), diags) {
                            out.push(r);
                        }
                    }
                }
                None => diags.push(invalid(
                    &src,
                    envs.span.clone(),
                    "`compatible_environments` must be a list",
                )),
            }
        }
        if let Some(sources) = node.get("supported_component_sources") {
            let items = sources.as_seq().unwrap_or_default();
            if sources.as_seq().is_none() {
                diags.push(invalid(
                    &src,
                    sources.span.clone(),
                    "`supported_component_sources` must be a list",
                ));
            }
            for item in items {
                if item.as_str() != Some("DIRECTLY_DEFINED") {
                    diags.push(invalid(
                        &src,
                        item.span.clone(),
                        "the only component source is `DIRECTLY_DEFINED`",
                    ));
                }
            }
        }
        return (out, 1);
    }
    let legacy = root.join(".compatible-envs");
    if legacy.exists() || buffers.has(&legacy) {
        let name = crate::paths::join_display(display, ".compatible-envs");
        let src = match read_in(buffers, &legacy, &name, limits.max_file_bytes) {
            Ok(s) => s,
            Err(d) => {
                diags.push(*d);
                return (out, 1);
            }
        };
        let mut offset = 0;
        for line in src.text().split_inclusive('\n') {
            let content = line.trim_end_matches(['\n', '\r']);
            let trimmed = content.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                let start = offset + (content.len() - content.trim_start().len());
                if let Some(r) = parse_ref(trimmed, &src, start..start + trimmed.len(), diags) {
                    out.push(r);
                }
            }
            offset += line.len();
        }
        return (out, 1);
    }
    (out, 0)
}

fn invalid(src: &Source, span: Range<usize>, message: &str) -> Diagnostic {
    Diagnostic::new(codes::B009, message.to_string())
        .at(src, span)
        .help(format!("a registration file looks like:\n{EXAMPLE}"))
}

fn parse_ref(
    text: &str,
    src: &Source,
    span: Range<usize>,
    diags: &mut Vec<Diagnostic>,
) -> Option<EnvTemplateRef> {
    let parsed = text
        .split_once(':')
        .and_then(|(name, major)| Some((name, major.parse::<u32>().ok()?)));
    match parsed {
        Some((name, major)) if !name.is_empty() => Some(EnvTemplateRef {
            name: name.to_string(),
            major,
            source: src.clone(),
            span,
        }),
        _ => {
            diags.push(
                Diagnostic::new(
                    codes::B009,
                    format!("`{text}` is not `environment-template-name:major`"),
                )
                .at(src, span)
                .help(format!(
                    "write the environment template's name and major version, e.g. `{}:1`",
                    text.split(':').next().unwrap_or("fargate-env")
                )),
            );
            None
        }
    }
}
