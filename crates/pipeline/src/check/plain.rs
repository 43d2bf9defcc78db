//! Plain CloudFormation templates named on the command line: validated and run through the
//! policies, each on its own.

use std::path::PathBuf;

use rayon::prelude::*;

use super::specs::SpecResult;
use crate::diag::Diagnostic;
use crate::limits::Limits;

/// Validates plain CloudFormation templates, each on its own, and runs the policies on them.
pub(super) fn check_plain_templates(
    templates: &[(PathBuf, String)],
    limits: &Limits,
    buffers: &crate::files::Buffers,
    enforce: &crate::policy::Enforcement,
) -> SpecResult {
    let (policies, waivers, cfn_checks) = (enforce.policies, enforce.waivers, enforce.cfn_checks);
    let results: Vec<Vec<Diagnostic>> = templates
        .par_iter()
        .map(|(path, shown)| {
            let mut diags = Vec::new();
            match crate::files::read_in(buffers, path, shown, limits.max_file_bytes) {
                Ok(source) => {
                    let data = crate::stage::validate::check_template(
                        &source,
                        (cfn_checks, !policies.is_empty()),
                        &mut diags,
                        |_| {},
                    );
                    if let Some(data) = data {
                        diags.extend(crate::policy::check_document(
                            policies,
                            &source,
                            &data,
                            &crate::policy::Target {
                                deployment: shown,
                                waivers,
                                verdicts: Some(enforce.verdicts),
                                locate: &|_| None,
                                fallback: None,
                            },
                        ));
                    }
                }
                Err(d) => diags.push(*d),
            }
            diags
        })
        .collect();
    SpecResult {
        diagnostics: results.into_iter().flatten().collect(),
        files: templates.len(),
        ..SpecResult::default()
    }
}
