//! The validation stage: each rendered unit's CloudFormation is parsed and checked
//! (structure, references, resource schemas) and the policies are evaluated over it, with the
//! deployment's metadata and inputs under the `proctor` root key. A finding on rendered text
//! is moved to the template line that produced it, with the rendered line as a note.

use serde_json::Value as Json;

use super::render::RenderedUnit;
use super::{account_id, short_label, template_identity, unit_label};
use crate::config::Config;
use crate::diag::{Diagnostic, codes};
use crate::source::Source;
use crate::template::render::{self, Context};
use crate::unit::{Unit, UnitKind};

/// What validating one unit found: its findings, and each policy rule's verdict on it.
#[derive(Debug, Default)]
pub struct Validated {
    pub diagnostics: Vec<Diagnostic>,
    pub verdicts: Vec<crate::policy::RuleVerdict>,
    /// The verdicts only counted (`count`), not in `verdicts`.
    pub counted: crate::policy::VerdictCounts,
    /// The outputs whose values the rendered template states (`None` when it did not parse
    /// or was not validated), read from the parse validation made.
    pub outputs: Option<Vec<(String, String)>>,
}

/// Validates a unit that rendered: its findings and each policy rule's verdict on it
/// (nothing for a unit with nothing to validate). The render stage calls it on the thread
/// that rendered the unit, right after rendering, while its text is still in the processor's
/// caches. A bug while checking the unit is its E001. `unit` is the unit as given to the
/// render stage (with its inputs, which `r.unit` may not hold). `count`: its verdicts are
/// only counted.
pub fn one(
    renderer: &render::Renderer,
    (r, unit): (&RenderedUnit, &Unit),
    text: Option<String>,
    enforce: &crate::policy::Enforcement,
    config: Option<&Config>,
    count: bool,
) -> Validated {
    if !r.validate {
        return Validated::default();
    }
    // Each unit's verdicts are its own, so that a cache can keep them with it.
    let verdicts = match count {
        true => crate::policy::Verdicts::counted(),
        false => crate::policy::Verdicts::default(),
    };
    let enforce = crate::policy::Enforcement {
        verdicts: &verdicts,
        ..*enforce
    };
    let what = || format!("checking the CloudFormation of {}", unit_label(unit));
    let text = text.unwrap_or_else(|| r.rendered.text.clone());
    let check = || {
        validate(
            renderer,
            &r.template,
            &r.context,
            text,
            unit,
            &enforce,
            config,
        )
    };
    let (diagnostics, outputs) = crate::diag::isolate::isolated(what, check)
        .unwrap_or_else(|d| (vec![d.at(&r.template, 0..0)], None));
    let (verdicts, counted) = verdicts.into_parts();
    Validated {
        diagnostics,
        verdicts,
        counted,
        outputs,
    }
}

/// Validates a unit's rendered CloudFormation. Findings are moved to the template line the
/// rendered text came from, with the rendered line as a note.
fn validate(
    renderer: &render::Renderer,
    template: &Source,
    ctx: &Context,
    text: String,
    u: &Unit,
    enforce: &crate::policy::Enforcement,
    config: Option<&Config>,
) -> (Vec<Diagnostic>, Option<Vec<(String, String)>>) {
    let name = format!("{} [rendered for {}]", template.name(), short_label(u));
    let rendered = crate::source::SourceFile::new(name, template.path(), text);
    let mut diags = Vec::new();
    if rendered.text().trim().is_empty() {
        diags.push(
            Diagnostic::new(codes::C002, format!("the template renders to nothing for {}", unit_label(u)))
                .at(template, 0..0)
                .help("a stack needs at least one resource; check the template's conditions for this deployment"),
        );
        return (diags, None);
    }
    let mut outputs = None;
    let data = check_template(
        &rendered,
        (enforce.cfn_checks, !enforce.policies.is_empty()),
        &mut diags,
        |root| outputs = Some(super::render::stated_outputs(root)),
    );
    if outputs.is_none() {
        // Not parsed: its outputs as a reader of the text finds them (the text may be gone).
        outputs = Some(super::render::known_outputs(rendered.text()));
    }
    if let Some(data) = data {
        // The `proctor` nodes get spans past the end of the rendered text: input `i`'s value
        // (all of it) is at `base + i`, the rest at `base`; a finding there goes to the spec.
        let base = rendered.text().len() + 1;
        let (data, names) = with_proctor_root(data, u, config, base);
        let locate = |span: &std::ops::Range<usize>| {
            let origin = u.origin.as_ref().filter(|o| !o.synthesized)?;
            let name = names.get(span.start.checked_sub(base)?)?;
            let (_, at) = origin.values.iter().find(|(n, _)| n == name)?;
            Some((origin.spec.clone(), at.clone()))
        };
        let fallback = u
            .origin
            .as_ref()
            .filter(|o| !o.synthesized)
            .map(|o| o.spec.clone());
        diags.extend(crate::policy::check_document(
            enforce.policies,
            &rendered,
            &data,
            &crate::policy::Target {
                deployment: &u.name,
                waivers: enforce.waivers,
                verdicts: Some(enforce.verdicts),
                locate: &locate,
                fallback,
            },
        ));
    }
    if diags.is_empty() {
        return (diags, outputs);
    }
    let map = render::source_map(renderer, template, ctx);
    let diags = diags
        .into_iter()
        .map(|d| relocate(d, template, &rendered, map.as_ref()))
        .collect();
    (diags, outputs)
}

/// A template read once for both readers: CloudFormation's long form (its YAML errors and
/// malformed short forms reported), from which the policy data cfn-guard's reader would make
/// of the same text is made afterwards, in place ([`Parsed::policy_data`]).
pub(crate) fn parse_template(
    source: &crate::source::Source,
    diags: &mut Vec<Diagnostic>,
) -> Option<Parsed> {
    let tree = crate::cfn::parse_yaml(source, diags)?;
    let (root, rewritten) = crate::cfn::from_yaml_noting(source, tree, diags);
    Some(Parsed { root, rewritten })
}

/// A template parsed once ([`parse_template`]), its long form shown to `with_root`, checked
/// as CloudFormation when `cfn_checks`, then made the policy data when `data` is wanted.
pub(crate) fn check_template(
    source: &crate::source::Source,
    (cfn_checks, data): (bool, bool),
    diags: &mut Vec<Diagnostic>,
    with_root: impl FnOnce(&crate::yaml::Node),
) -> Option<crate::yaml::Node> {
    let parsed = parse_template(source, diags)?;
    with_root(&parsed.root);
    if cfn_checks {
        crate::cfn::checks::check(source, &parsed.root, diags);
    }
    data.then(|| parsed.policy_data(source)).flatten()
}

/// A template in CloudFormation's long form, with the short forms that were rewritten.
pub(crate) struct Parsed {
    pub(crate) root: crate::yaml::Node,
    rewritten: Vec<crate::yaml::Rewritten>,
}

impl Parsed {
    /// The data policies read, as cfn-guard's reader makes it of the same text (the tree is
    /// turned into it rather than copied).
    pub(crate) fn policy_data(self, source: &crate::source::Source) -> Option<crate::yaml::Node> {
        crate::policy::data::from_cfn_long_form(source, self.root, &self.rewritten)
            .or_else(|| crate::policy::data::parse(source, &mut Vec::new()))
    }
}

/// Adds the `proctor` root key that policies read beside the CloudFormation: the deployment's
/// metadata and the developer's effective inputs (policy-language.md §6).
fn with_proctor_root<'u>(
    mut data: crate::yaml::Node,
    u: &'u Unit,
    config: Option<&Config>,
    base: usize,
) -> (crate::yaml::Node, Vec<&'u str>) {
    let kind = match u.kind {
        UnitKind::Environment => "environment",
        UnitKind::ServiceInstance => "service_instance",
        UnitKind::Pipeline => "pipeline",
        UnitKind::Component => "component",
    };
    let environment = match u.kind {
        UnitKind::Environment => Some(u.name.clone()),
        _ => u.environment.clone(),
    };
    let mut deployment = serde_json::json!({
        "kind": kind,
        "name": u.name,
        "template": u.bundle,
    });
    if let Some(e) = &environment {
        deployment["environment"] = Json::String(e.clone());
        if let Some(a) = environment.as_deref().and_then(|e| account_id(config, e)) {
            deployment["account_id"] = Json::String(a);
        }
    }
    if let Some(s) = &u.service {
        deployment["service"] = Json::String(s.clone());
    }
    let (name, version) = template_identity(u, config);
    deployment["template_name"] = Json::String(name);
    deployment["template_version"] = Json::String(version);
    let at = |j: &Json| json_node(j, base..base);
    let key = |k: &str| str_node(k, base..base);
    let mut names = Vec::new();
    let inputs = match &u.inputs {
        Json::Object(o) => {
            let entries = o
                .iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    names.push(k.as_str());
                    (key(k), json_node(v, base + i..base + i + 1))
                })
                .collect();
            crate::yaml::Node {
                span: base..base,
                tag: None,
                plain: false,
                value: crate::yaml::Value::Map(entries),
            }
        }
        other => at(other),
    };
    let extra = crate::yaml::Node {
        span: base..base,
        tag: None,
        plain: false,
        value: crate::yaml::Value::Map(vec![
            (key("deployment"), at(&deployment)),
            (key("inputs"), inputs),
        ]),
    };
    if let crate::yaml::Value::Map(entries) = &mut data.value {
        entries.push((key("proctor"), extra));
    }
    (data, names)
}

/// A string as a YAML node with no place in any file.
fn str_node(s: &str, span: std::ops::Range<usize>) -> crate::yaml::Node {
    crate::yaml::Node {
        span,
        tag: None,
        plain: false,
        value: crate::yaml::Value::String(s.into()),
    }
}

/// A JSON value as a YAML node with no place in any file.
fn json_node(j: &Json, span: std::ops::Range<usize>) -> crate::yaml::Node {
    use crate::yaml::{Node, Value};
    let value = match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
        Json::String(s) => return str_node(s, span),
        Json::Array(a) => Value::Seq(a.iter().map(|v| json_node(v, span.clone())).collect()),
        Json::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| (str_node(k, span.clone()), json_node(v, span.clone())))
                .collect(),
        ),
    };
    Node {
        span,
        tag: None,
        plain: false,
        value,
    }
}

/// Moves a finding on rendered text to the template span it came from.
fn relocate(
    d: Diagnostic,
    template: &Source,
    rendered: &Source,
    map: Option<&render::SourceMap>,
) -> Diagnostic {
    let Some(primary) = d.primary.clone() else {
        return d;
    };
    if !std::sync::Arc::ptr_eq(&primary.at.source, rendered) {
        return d;
    }
    let Some(span) = map.and_then(|m| m.template_span(&primary.at.span)) else {
        return d;
    };
    let mut moved = Diagnostic {
        primary: None,
        labels: Vec::new(),
        ..d.clone()
    }
    .at(template, span);
    if let Some(m) = primary.message {
        moved = moved.primary_message(m);
    }
    moved = moved.label(rendered, primary.at.span, "rendered as");
    for l in d.labels {
        match (&l.message, map.and_then(|m| m.template_span(&l.at.span))) {
            (Some(msg), Some(s)) if std::sync::Arc::ptr_eq(&l.at.source, rendered) => {
                moved = moved.label(template, s, msg.clone())
            }
            _ => moved.labels.push(l),
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use std::path::{Path, PathBuf};

    /// The policy data as it was made before [`Parsed::policy_data`]: a reread copy of the
    /// tree before the long form. Compared by their debug text (NaN equals itself there).
    fn by_copy(source: &crate::source::Source) -> String {
        let tree = crate::cfn::parse_yaml(source, &mut Vec::new());
        let data = tree.and_then(|t| {
            crate::policy::data::from_cfn_yaml(source, &t)
                .or_else(|| crate::policy::data::parse(source, &mut Vec::new()))
        });
        format!("{data:#?}")
    }

    fn in_place(source: &crate::source::Source) -> String {
        let data = parse_template(source, &mut Vec::new()).and_then(|p| p.policy_data(source));
        format!("{data:#?}")
    }

    fn same(name: &str, text: String) {
        let source = SourceFile::new(name, name, text);
        let (a, b) = (by_copy(&source), in_place(&source));
        assert!(
            a == b,
            "{name}: the data differ\n--- copied\n{a}\n--- in place\n{b}"
        );
    }

    #[test]
    fn policy_data_made_in_place_is_the_reread_copy() {
        let text = r#"AWSTemplateFormatVersion: '2010-09-09'
Conditions:
  Prod: !Equals [!Ref Env, prod]
  Both: !And [!Condition Prod, !Not [!Equals [!Ref Env, dev]]]
Rules:
  Ok:
    Assertions:
      - Assert: !Contains [[a, b], !Ref Env]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '${AWS::StackName}-q'
      Plain: !Sub plain-${Env}
      Arn: !GetAtt Topic.Arn
      Deep: !GetAtt Stack.Outputs.Url
      Listed: !GetAtt [Topic, Arn]
      NoDot: !GetAtt Topic
      Cidrs: !Cidr [!GetAtt Vpc.CidrBlock, 6, 5]
      Count: !Length [1, 2]
      Json: !ToJsonString {a: yes, b: [on, 0123]}
      Macro: !Transform {Name: AWS::Include, Parameters: {Location: s3://x}}
      Zones: !Select [0, !GetAZs '']
      Joined: !Join ['', [!Ref A, ':', !ImportValue shared-vpc]]
      Found: !FindInMap [M, !Ref AWS::Region, ami]
      Either: !If [Prod, !Ref AWS::NoValue, !Base64 {Fn::Sub: x}]
      Number: !Ref 123
      Embedded: {"Rain::Embed": handler.py}
      Rained: !Rain::S3 ./dir
      Unknown: !Foo bar
      UnknownMap: !Bar {yes: no}
      Text: !!str 12
      Flags: [yes, no, on, Off, y, n, True, TRUE, ~, null, '', 0123, 1_000, .inf, -5, +7, 1e3, 0x1F]
      ? !Ref Key
      : value
      ? [!Sub k, yes]
      : v
      Anchored: &a yes
      Again: *a
      Empty:
      Block: |
        yes
"#;
        same("crafted.yaml", text.to_string());
    }

    /// Every template of the public CloudFormation corpus, and every YAML or JSON file of
    /// the fixtures: the two ways of making the policy data agree on all of them.
    #[test]
    fn policy_data_made_in_place_agrees_on_real_templates() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let corpus = std::env::var_os("PROCTOR_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| here.join("../../../shared/corpus"));
        let templates = corpus.join("cloudformation-templates");
        if !templates.is_dir() && std::env::var_os("CI").is_some() {
            panic!("the public corpus is not at {}", corpus.display());
        }
        let mut files = Vec::new();
        for dir in [templates, here.join("../../fixtures")] {
            let mut stack = vec![dir];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                    let p = e.path();
                    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                    if p.is_dir() {
                        stack.push(p);
                    } else if matches!(ext, "yaml" | "yml" | "json" | "template") {
                        files.push(p);
                    }
                }
            }
        }
        let mut compared = 0;
        for p in &files {
            if let Ok(text) = std::fs::read_to_string(p) {
                same(&p.display().to_string(), text);
                compared += 1;
            }
        }
        assert!(compared > 100, "only {compared} files compared");
    }
}
