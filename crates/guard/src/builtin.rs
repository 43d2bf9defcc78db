//! The built-in policy pack (`policies/*.guard`), embedded in the binary and enabled with
//! `[policies] builtin = true` in proctor.toml.

use super::{Policy, lower};
use crate::source::SourceFile;

const PACK: &[(&str, &str)] = &[
    (
        "databases.guard",
        include_str!("../../../policies/databases.guard"),
    ),
    (
        "encryption.guard",
        include_str!("../../../policies/encryption.guard"),
    ),
    ("iam.guard", include_str!("../../../policies/iam.guard")),
    (
        "lambda.guard",
        include_str!("../../../policies/lambda.guard"),
    ),
    (
        "logging.guard",
        include_str!("../../../policies/logging.guard"),
    ),
    (
        "network.guard",
        include_str!("../../../policies/network.guard"),
    ),
    ("s3.guard", include_str!("../../../policies/s3.guard")),
    (
        "secrets.guard",
        include_str!("../../../policies/secrets.guard"),
    ),
    (
        "tagging.guard",
        include_str!("../../../policies/tagging.guard"),
    ),
];

/// The pack, parsed, with the run's `limits`. Its files are tested to parse (a failure here
/// is a bug, so such a file is left out rather than reported as the user's mistake).
pub fn load(limits: &crate::limits::Limits) -> Vec<Policy> {
    PACK.iter()
        .filter_map(|(name, text)| {
            let source = SourceFile::new(format!("<builtin>/{name}"), *name, (*text).to_string());
            let file = lower::parse(&source, &mut Vec::new())?;
            Some(Policy::new(source, file, limits))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_of_the_pack_parses_without_findings() {
        for (name, text) in super::PACK {
            let src = crate::source::SourceFile::new(*name, *name, (*text).to_string());
            let mut diags = Vec::new();
            let file = super::lower::parse(&src, &mut diags);
            assert!(file.is_some(), "{name}: {diags:?}");
            // No load-time finding either, not even a warning: the pack is the example.
            let lints = crate::lints::check(&file.unwrap(), &src);
            assert!(lints.is_empty(), "{name}: {lints:?}");
        }
        assert_eq!(
            super::load(&crate::limits::Limits::default()).len(),
            super::PACK.len()
        );
    }
}
