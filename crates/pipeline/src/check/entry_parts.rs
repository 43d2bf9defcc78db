//! Parts of the cache's entry format (`super::incremental`): policy verdicts grouped by
//! document and policy, and an environment's outputs.

use serde::{Deserialize, Serialize};

use crate::template::render::StackOutputs;

/// A unit's verdicts of one policy on one document: (rule, status) pairs.
#[derive(Serialize, Deserialize)]
pub(super) struct VerdictGroup {
    data: String,
    deployment: String,
    policy: String,
    rules: Vec<(String, char)>,
}

fn status_letter(s: crate::policy::eval::Status) -> char {
    use crate::policy::eval::Status;
    match s {
        Status::Pass => 'P',
        Status::Fail => 'F',
        Status::Skip => 'S',
    }
}

impl VerdictGroup {
    pub(super) fn of(verdicts: &[crate::policy::RuleVerdict]) -> Vec<VerdictGroup> {
        let mut groups: Vec<VerdictGroup> = Vec::new();
        for v in verdicts {
            let rule = (v.rule.clone(), status_letter(v.status));
            match groups.last_mut() {
                Some(g)
                    if *g.data == *v.data
                        && *g.deployment == *v.deployment
                        && *g.policy == *v.policy =>
                {
                    g.rules.push(rule)
                }
                _ => groups.push(VerdictGroup {
                    data: v.data.to_string(),
                    deployment: v.deployment.to_string(),
                    policy: v.policy.to_string(),
                    rules: vec![rule],
                }),
            }
        }
        groups
    }

    /// How many verdicts the group holds.
    pub(super) fn len(&self) -> usize {
        self.rules.len()
    }

    pub(super) fn decode(self, into: &mut Vec<crate::policy::RuleVerdict>) -> Option<()> {
        use crate::policy::eval::Status;
        let data: std::sync::Arc<str> = self.data.into();
        let deployment: std::sync::Arc<str> = self.deployment.into();
        let policy: std::sync::Arc<str> = self.policy.into();
        for (rule, letter) in self.rules {
            let status = [Status::Pass, Status::Fail, Status::Skip]
                .into_iter()
                .find(|s| status_letter(*s) == letter)?;
            into.push(crate::policy::RuleVerdict {
                data: data.clone(),
                deployment: deployment.clone(),
                policy: policy.clone(),
                rule,
                status,
            });
        }
        Some(())
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct OutputsRec {
    path: String,
    known: Vec<(String, String)>,
    declared: Option<Vec<String>>,
}

impl OutputsRec {
    pub(super) fn of(o: &StackOutputs) -> OutputsRec {
        OutputsRec {
            path: o.path.clone(),
            known: o.known.clone(),
            declared: o.declared.clone(),
        }
    }

    pub(super) fn decode(self) -> StackOutputs {
        StackOutputs {
            path: self.path,
            known: self.known,
            declared: self.declared,
        }
    }
}
