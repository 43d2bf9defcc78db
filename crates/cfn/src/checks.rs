//! Structural checks of a CloudFormation template in long form: sections and their shapes,
//! resources, logical ids, every reference (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `DependsOn`,
//! conditions, mappings), circular dependencies, unused definitions, outputs, limits, and the
//! shape of intrinsic functions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use super::types;
use super::{schema, validate};
use crate::diag::{Code, Diagnostic, codes, did_you_mean};
use crate::source::Source;
use crate::yaml::shape::list;
use crate::yaml::{Node, Value};

const SECTIONS: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Globals",
];

/// Transforms CloudFormation runs itself and whose effect proctor's checks allow for.
const KNOWN_TRANSFORMS: &[&str] = &[
    "AWS::Serverless-2016-10-31",
    "AWS::LanguageExtensions",
    "AWS::Include",
    "AWS::CodeDeployBlueGreen",
    "AWS::SecretsManager-2020-07-23",
];

const PARAMETER_KEYS: &[&str] = &[
    "Type",
    "Default",
    "AllowedValues",
    "AllowedPattern",
    "ConstraintDescription",
    "Description",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "NoEcho",
];

/// Parameter types: the plain ones and the AWS-specific ones (which also come as `List<...>`).
const PARAMETER_TYPES: &[&str] = &[
    "String",
    "Number",
    "List<Number>",
    "CommaDelimitedList",
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::Volume::Id",
    "AWS::EC2::VPC::Id",
    "AWS::Route53::HostedZone::Id",
    "AWS::SSM::Parameter::Name",
];

/// Whether `t` is a parameter type CloudFormation knows: one of [`PARAMETER_TYPES`], a
/// `List<...>` of `String`, `Number` or an AWS-specific type, or
/// `AWS::SSM::Parameter::Value<...>` of any of those.
fn parameter_type_ok(t: &str) -> bool {
    let t = t.trim();
    let list_of = |t: &str| {
        t.strip_prefix("List<")
            .and_then(|r| r.strip_suffix('>'))
            .is_some_and(|inner| {
                let inner = inner.trim();
                inner == "String"
                    || (inner.starts_with("AWS::") && PARAMETER_TYPES.contains(&inner))
                    || inner == "Number"
            })
    };
    if PARAMETER_TYPES.contains(&t) || list_of(t) {
        return true;
    }
    t.strip_prefix("AWS::SSM::Parameter::Value<")
        .and_then(|r| r.strip_suffix('>'))
        .is_some_and(|inner| {
            let inner = inner.trim();
            PARAMETER_TYPES.contains(&inner) || list_of(inner)
        })
}

const RESOURCE_KEYS: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
    "Version",
];

const OUTPUT_KEYS: &[&str] = &["Value", "Description", "Export", "Condition"];

pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// CloudFormation's quotas.
const MAX_BODY_BYTES: usize = 1_000_000;
const MAX_RESOURCES: usize = 500;
const MAX_PARAMETERS: usize = 200;
const MAX_OUTPUTS: usize = 200;
const MAX_MAPPINGS: usize = 200;
const MAX_NAME: usize = 255;

/// The names a template defines, each with the span of its key.
#[derive(Default)]
struct Names {
    parameters: BTreeMap<String, Range<usize>>,
    resources: BTreeMap<String, Range<usize>>,
    /// Resource logical id → its `Type`, when written as a string.
    types: HashMap<String, String>,
    conditions: BTreeMap<String, Range<usize>>,
    mappings: BTreeMap<String, Range<usize>>,
}

/// Uses found while walking, for unused-definition warnings and the dependency graph.
#[derive(Default)]
struct Uses {
    parameters: BTreeSet<String>,
    conditions: BTreeSet<String>,
    mappings: BTreeSet<String>,
    /// Resource → resources it depends on (Ref, GetAtt, Sub, DependsOn).
    edges: BTreeMap<String, BTreeSet<String>>,
}

struct Checker<'a> {
    source: &'a Source,
    names: Names,
    uses: Uses,
    /// A transform (SAM, includes) rewrites the template: references cannot be checked.
    transformed: bool,
    /// A transform proctor does not run (a macro): what it rewrites is not checked.
    macro_transform: bool,
    /// The SAM transform is declared: `AWS::Serverless::*` resources are checked.
    sam_transform: bool,
    diags: &'a mut Vec<Diagnostic>,
}

/// Checks a parsed template (long form).
pub fn check(source: &Source, root: &Node, diags: &mut Vec<Diagnostic>) {
    let start = diags.len();
    match super::foreach::expand(root) {
        Some(expanded) => {
            check_template(source, &expanded.root, diags);
            fragment_findings(&expanded.names, diags, start);
        }
        None => check_template(source, root, diags),
    }
    super::lint_config::apply(root, diags, start);
}

/// The findings in an `Fn::ForEach` fragment, once: each copy's finding is at the same place,
/// so the copies' logical ids are written back as the fragment writes them (`${Name}Queue`)
/// and the repeats dropped.
fn fragment_findings(names: &[(String, String)], diags: &mut Vec<Diagnostic>, start: usize) {
    if names.is_empty() {
        return;
    }
    let mut seen: Vec<(&'static str, Option<Range<usize>>, String)> = Vec::new();
    let mut kept = Vec::with_capacity(diags.len() - start);
    for mut d in diags.drain(start..) {
        for (made, written) in names {
            let quoted = format!("`{made}`");
            if d.message.contains(&quoted) {
                d.message = d.message.replace(&quoted, &format!("`{written}`"));
            }
        }
        let key = (
            d.code.id,
            d.primary.as_ref().map(|l| l.at.span.clone()),
            d.message.clone(),
        );
        if !seen.contains(&key) {
            seen.push(key);
            kept.push(d);
        }
    }
    diags.extend(kept);
}

fn check_template(source: &Source, root: &Node, diags: &mut Vec<Diagnostic>) {
    let Some(top) = root.as_map() else {
        diags.push(
            Diagnostic::new(codes::C001, format!("a CloudFormation template must be a mapping, found {}", root.kind_name()))
                .at(source, root.span.clone())
                .help("a template is a mapping with `Resources` and optional `Parameters`, `Conditions`, `Outputs`, ..."),
        );
        return;
    };
    let mut c = Checker {
        source,
        names: Names::default(),
        uses: Uses::default(),
        transformed: root.get("Transform").is_some(),
        macro_transform: false,
        sam_transform: super::declares_transform(root, "AWS::Serverless-2016-10-31"),
        diags,
    };
    if source.text().len() > MAX_BODY_BYTES {
        c.report(
            codes::C014,
            format!(
                "the template is {} bytes; CloudFormation accepts at most {MAX_BODY_BYTES}",
                source.text().len()
            ),
            0..0,
            "split it into nested stacks, or move large inline content out",
        );
    }
    for (k, v) in top {
        let name = k.scalar_text().unwrap_or_default();
        if !SECTIONS.contains(&name.as_str()) {
            let help = match did_you_mean(&name, SECTIONS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the sections are {}", list(SECTIONS)),
            };
            c.report(
                codes::C001,
                format!("unknown top-level section `{name}`"),
                k.span.clone(),
                &help,
            );
            continue;
        }
        match name.as_str() {
            "AWSTemplateFormatVersion" if v.scalar_text().as_deref() != Some("2010-09-09") => {
                c.report(codes::C001, "`AWSTemplateFormatVersion` must be `2010-09-09`".into(), v.span.clone(), "write `AWSTemplateFormatVersion: '2010-09-09'` (quoted, so YAML keeps it a string)");
            }
            "Description" => {
                if v.as_str().is_none() {
                    c.report(
                        codes::C001,
                        format!("`Description` must be a string, found {}", v.kind_name()),
                        v.span.clone(),
                        "quote the description",
                    );
                } else if v.as_str().is_some_and(|d| d.len() > 1024) {
                    c.report(
                        codes::C014,
                        "`Description` is longer than 1,024 bytes".into(),
                        v.span.clone(),
                        "shorten the description",
                    );
                }
            }
            "Metadata" | "Parameters" | "Rules" | "Mappings" | "Conditions" | "Resources"
            | "Outputs" | "Globals"
                if v.as_map().is_none() =>
            {
                c.report(
                    codes::C001,
                    format!("`{name}` must be a mapping, found {}", v.kind_name()),
                    v.span.clone(),
                    &format!("write `{name}` as a mapping of logical ids"),
                );
            }
            _ => {}
        }
    }
    c.transforms(root);
    c.collect_names(root);
    c.resources(root);
    c.conditions_section(root);
    c.outputs(root);
    if let Some(params) = root.get("Parameters").and_then(Node::as_map) {
        for (k, p) in params {
            c.parameter(&k.scalar_text().unwrap_or_default(), p);
            c.walk(p, Ctx::Other);
        }
    }
    c.cycles();
    c.unused();
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx<'r> {
    /// Inside a resource (its dependencies are recorded).
    Resource(&'r str),
    /// Inside `Conditions`: `Condition` is a function there.
    Conditions,
    Other,
}

impl Checker<'_> {
    fn report(&mut self, code: &'static Code, message: String, span: Range<usize>, help: &str) {
        self.diags.push(
            Diagnostic::new(code, message)
                .at(self.source, span)
                .help(help.to_string()),
        );
    }

    fn collect_names(&mut self, root: &Node) {
        let sections: [(&str, usize, &str); 5] = [
            ("Parameters", MAX_PARAMETERS, "parameters"),
            ("Resources", MAX_RESOURCES, "resources"),
            ("Conditions", usize::MAX, "conditions"),
            ("Mappings", MAX_MAPPINGS, "mappings"),
            ("Outputs", MAX_OUTPUTS, "outputs"),
        ];
        for (section, max, what) in sections {
            let Some(entries) = root.get(section).and_then(Node::as_map) else {
                continue;
            };
            if entries.len() > max {
                let span = root.entry(section).map_or(0..0, |(k, _)| k.span.clone());
                self.report(
                    codes::C014,
                    format!(
                        "{} {what}; CloudFormation allows at most {max}",
                        entries.len()
                    ),
                    span,
                    "split the template into nested stacks",
                );
            }
            for (k, v) in entries {
                let name = k.scalar_text().unwrap_or_default();
                if self.is_for_each(&name) {
                    continue;
                }
                self.logical_id(&name, k.span.clone(), what);
                let target = match section {
                    "Parameters" => &mut self.names.parameters,
                    "Resources" => &mut self.names.resources,
                    "Conditions" => &mut self.names.conditions,
                    "Mappings" => &mut self.names.mappings,
                    _ => continue,
                };
                target.insert(name.clone(), k.span.clone());
                if section == "Resources"
                    && let Some(t) = v.get("Type").and_then(Node::as_str)
                {
                    self.names.types.insert(name, t.to_string());
                }
            }
        }
        let both: Vec<(String, Range<usize>)> = self
            .names
            .resources
            .iter()
            .filter(|(n, _)| self.names.parameters.contains_key(*n))
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect();
        for (name, span) in both {
            self.report(
                codes::C004,
                format!("`{name}` is both a parameter and a resource"),
                span,
                "parameters and resources share one namespace: rename one of them",
            );
        }
    }

    /// A parameter: its keys, its `Type`, and its `Default` against its own constraints.
    fn parameter(&mut self, id: &str, p: &Node) {
        let Some(attrs) = p.as_map() else {
            self.report(
                codes::C021,
                format!("parameter `{id}` must be a mapping with a `Type`"),
                p.span.clone(),
                "write `Type: String` (or another parameter type) under the parameter",
            );
            return;
        };
        for (k, _) in attrs {
            let key = k.scalar_text().unwrap_or_default();
            if !PARAMETER_KEYS.contains(&key.as_str()) {
                let help = match did_you_mean(&key, PARAMETER_KEYS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("a parameter has {}", list(PARAMETER_KEYS)),
                };
                self.report(
                    codes::C021,
                    format!("parameter `{id}` has an unknown attribute `{key}`"),
                    k.span.clone(),
                    &help,
                );
            }
        }
        let Some(ty) = p.get("Type") else {
            self.report(
                codes::C021,
                format!("parameter `{id}` has no `Type`"),
                p.span.clone(),
                "add `Type: String`, `Number`, `CommaDelimitedList` or an AWS-specific type",
            );
            return;
        };
        let Some(type_name) = ty.as_str() else {
            return;
        };
        if !parameter_type_ok(type_name) {
            let help = match did_you_mean(type_name, PARAMETER_TYPES.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "use `String`, `Number`, `List<Number>`, `CommaDelimitedList`, an AWS-specific type such as `AWS::EC2::VPC::Id` (or a `List<...>` of one), or `AWS::SSM::Parameter::Value<...>`".to_string(),
            };
            self.report(
                codes::C021,
                format!("parameter `{id}` has an unknown type `{type_name}`"),
                ty.span.clone(),
                &help,
            );
            return;
        }
        let Some(default) = p.get("Default") else {
            return;
        };
        let Some(text) = default.scalar_text() else {
            return;
        };
        if let Some(allowed) = p.get("AllowedValues").and_then(Node::as_seq) {
            let values: Vec<String> = allowed.iter().filter_map(Node::scalar_text).collect();
            let listed = type_name.contains("List") || type_name == "CommaDelimitedList";
            let all_in = |t: &str| {
                if listed {
                    t.split(',').all(|x| values.iter().any(|v| v == x.trim()))
                } else {
                    values.iter().any(|v| v == t)
                }
            };
            if values.len() == allowed.len() && !all_in(&text) {
                self.report(
                    codes::C021,
                    format!("the `Default` of parameter `{id}` is not one of its `AllowedValues`"),
                    default.span.clone(),
                    &format!(
                        "use one of {}",
                        list(&values.iter().map(String::as_str).collect::<Vec<_>>())
                    ),
                );
            }
        }
        if type_name == "String" {
            let len = text.chars().count() as f64;
            let bound = |k: &str| {
                p.get(k)
                    .and_then(Node::scalar_text)
                    .and_then(|t| t.parse::<f64>().ok())
            };
            if bound("MinLength").is_some_and(|m| len < m)
                || bound("MaxLength").is_some_and(|m| len > m)
            {
                self.report(
                    codes::C021,
                    format!(
                        "the `Default` of parameter `{id}` is outside its `MinLength`/`MaxLength`"
                    ),
                    default.span.clone(),
                    "change the default, or the bounds",
                );
            }
        }
        if type_name == "Number"
            && let Ok(n) = text.trim().parse::<f64>()
        {
            let bound = |k: &str| {
                p.get(k)
                    .and_then(Node::scalar_text)
                    .and_then(|t| t.parse::<f64>().ok())
            };
            if bound("MinValue").is_some_and(|m| n < m) || bound("MaxValue").is_some_and(|m| n > m)
            {
                self.report(
                    codes::C021,
                    format!(
                        "the `Default` of parameter `{id}` is outside its `MinValue`/`MaxValue`"
                    ),
                    default.span.clone(),
                    "change the default, or the bounds",
                );
            }
        }
    }

    /// `Fn::ForEach::Name` under a transform (AWS::LanguageExtensions expands it into
    /// resources or outputs before CloudFormation reads the template); not checked here.
    fn is_for_each(&self, name: &str) -> bool {
        self.transformed && name.starts_with("Fn::ForEach::")
    }

    fn logical_id(&mut self, name: &str, span: Range<usize>, what: &str) {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.report(
                codes::C004,
                format!("logical id `{name}` of {what} must be alphanumeric"),
                span,
                "use only letters and digits (no `-`, `_` or `.`)",
            );
        } else if name.len() > MAX_NAME {
            self.report(
                codes::C014,
                format!(
                    "logical id `{}…` is longer than {MAX_NAME} characters",
                    &name[..32]
                ),
                span,
                "shorten it",
            );
        }
    }

    fn resources(&mut self, root: &Node) {
        let Some(resources) = root.get("Resources") else {
            if !self.transformed {
                self.report(
                    codes::C002,
                    "the template has no `Resources`".into(),
                    0..0,
                    "a CloudFormation stack needs at least one resource",
                );
            }
            return;
        };
        let Some(entries) = resources.as_map() else {
            return;
        };
        if entries.is_empty() {
            let span = root
                .entry("Resources")
                .map_or(0..0, |(k, _)| k.span.clone());
            self.report(
                codes::C002,
                "`Resources` is empty".into(),
                span,
                "a CloudFormation stack needs at least one resource",
            );
        }
        for (k, r) in entries {
            let id = k.scalar_text().unwrap_or_default();
            if self.is_for_each(&id) {
                continue;
            }
            self.uses.edges.entry(id.clone()).or_default();
            let Some(attrs) = r.as_map() else {
                self.report(
                    codes::C003,
                    format!("resource `{id}` must be a mapping, found {}", r.kind_name()),
                    r.span.clone(),
                    "write `Type:` and `Properties:` under the resource's logical id",
                );
                continue;
            };
            for (ak, _) in attrs {
                let a = ak.scalar_text().unwrap_or_default();
                if !RESOURCE_KEYS.contains(&a.as_str()) {
                    let help = match did_you_mean(&a, RESOURCE_KEYS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("a resource has {}", list(RESOURCE_KEYS)),
                    };
                    let is_sam = r
                        .get("Type")
                        .and_then(Node::as_str)
                        .is_some_and(|t| t.starts_with("AWS::Serverless::"));
                    if self.transformed && is_sam {
                        // The SAM transform rewrites its resources and drops what it does not
                        // know (cfn-lint only warns); the stack still deploys.
                        self.diags.push(
                            Diagnostic::new(
                                codes::C003,
                                format!("resource `{id}` has an attribute `{a}` that the SAM transform ignores"),
                            )
                            .at(self.source, ak.span.clone())
                            .severity(crate::diag::Severity::Warning)
                            .help(format!("{help} (for a function's description, use `Properties.Description`)")),
                        );
                        continue;
                    }
                    self.report(
                        codes::C003,
                        format!("resource `{id}` has an unknown attribute `{a}`"),
                        ak.span.clone(),
                        &help,
                    );
                }
            }
            match r.get("Type") {
                None => self.report(
                    codes::C003,
                    format!("resource `{id}` has no `Type`"),
                    k.span.clone(),
                    "add `Type: AWS::Service::Resource`",
                ),
                Some(t) if t.as_str().is_none() => self.report(
                    codes::C003,
                    format!("the `Type` of `{id}` must be a string"),
                    t.span.clone(),
                    "write the type as a string, e.g. `AWS::S3::Bucket`",
                ),
                _ => {}
            }
            if let Some(t) = r.get("Type").and_then(Node::as_str) {
                self.resource_type(&id, k, t, r);
            }
            if let Some(props) = r.get("Properties") {
                if props.as_map().is_none() && !is_intrinsic(props) {
                    self.report(
                        codes::C003,
                        format!(
                            "the `Properties` of `{id}` must be a mapping, found {}",
                            props.kind_name()
                        ),
                        props.span.clone(),
                        "write the properties as a mapping",
                    );
                }
                self.walk(props, Ctx::Resource(&id));
            }
            for key in ["Metadata", "CreationPolicy", "UpdatePolicy"] {
                if let Some(v) = r.get(key) {
                    self.walk(v, Ctx::Resource(&id));
                }
            }
            if let Some(d) = r.get("DependsOn") {
                self.depends_on(&id, d);
            }
            if let Some(c) = r.get("Condition") {
                self.condition_name(c, "resource condition");
            }
            for key in ["DeletionPolicy", "UpdateReplacePolicy"] {
                if let Some(p) = r.get(key)
                    && let Some(s) = p.as_str()
                    && !["Delete", "Retain", "RetainExceptOnCreate", "Snapshot"].contains(&s)
                {
                    self.report(
                        codes::C003,
                        format!("`{key}: {s}` is not a policy"),
                        p.span.clone(),
                        "write `Delete`, `Retain`, `RetainExceptOnCreate` or `Snapshot`",
                    );
                }
            }
        }
    }

    /// The template's transforms: one proctor does not run (a macro) is named in an info, and
    /// what it may rewrite (resource properties) is not checked.
    fn transforms(&mut self, root: &Node) {
        let Some(t) = root.get("Transform") else {
            return;
        };
        let names: Vec<&Node> = match &t.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![t],
        };
        for n in names {
            // `{Name: AWS::Include, Parameters: ...}` and plain names.
            let name = n.get("Name").unwrap_or(n).as_str().unwrap_or_default();
            if KNOWN_TRANSFORMS.contains(&name) || name.is_empty() {
                continue;
            }
            self.macro_transform = true;
            self.diags.push(
                Diagnostic::new(
                    codes::C022,
                    format!("transform `{name}` is not run by proctor: the resource properties it may rewrite are not checked"),
                )
                .at(self.source, n.span.clone())
                .help("proctor expands no macros; check the template CloudFormation receives after the macro (for example from the change set), or ignore C022 for this template"),
            );
        }
    }

    /// Checks a resource against its type: the type exists, its properties exist and have the
    /// right kind and allowed values, and the required ones are there.
    fn resource_type(&mut self, id: &str, key: &Node, type_name: &str, r: &Node) {
        if self.macro_transform {
            return;
        }
        // Custom resources follow `AWS::CloudFormation::CustomResource` (a `ServiceToken`,
        // then any properties the provider reads).
        if type_name.starts_with("Custom::") || type_name == "AWS::CloudFormation::CustomResource" {
            self.properties(id, key, "AWS::CloudFormation::CustomResource", type_name, r);
            return;
        }
        // SAM's resources, as the SAM translator's schema defines them, where the template
        // declares the transform that expands them.
        if type_name.starts_with("AWS::Serverless::") {
            if self.sam_transform {
                self.properties(id, key, type_name, type_name, r);
            }
            return;
        }
        if !types::is_checked_namespace(type_name) {
            return;
        }
        let type_node = r.get("Type").unwrap_or(key);
        if types::lookup(type_name).is_none() {
            let help = match did_you_mean(type_name, types::names()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "see the CloudFormation resource type reference".to_string(),
            };
            self.report(
                codes::C016,
                format!("`{type_name}` is not a CloudFormation resource type"),
                type_node.span.clone(),
                &help,
            );
            return;
        }
        self.properties(id, key, type_name, type_name, r);
    }

    /// Validates a resource's `Properties` against the schema of `schema_type`.
    fn properties(&mut self, id: &str, key: &Node, schema_type: &str, type_name: &str, r: &Node) {
        let Some(schema) = schema::lookup(schema_type) else {
            return;
        };
        let props = r.get("Properties");
        let at = props
            .and_then(|_| r.entry("Properties"))
            .map_or(key, |(k, _)| k);
        let findings = validate::properties(self.source.text(), &schema, type_name, id, at, props);
        for f in findings {
            self.report(f.code, f.message, f.span, &f.help);
        }
    }

    fn depends_on(&mut self, id: &str, d: &Node) {
        let items: Vec<&Node> = match &d.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![d],
        };
        for item in items {
            let Some(target) = item.as_str() else {
                self.report(
                    codes::C015,
                    "`DependsOn` takes logical ids (strings)".into(),
                    item.span.clone(),
                    "write the logical id of a resource",
                );
                continue;
            };
            if target == id {
                self.report(
                    codes::C011,
                    format!("resource `{id}` depends on itself"),
                    item.span.clone(),
                    "remove it from its own `DependsOn`",
                );
            } else if self.names.resources.contains_key(target) {
                self.uses
                    .edges
                    .entry(id.to_string())
                    .or_default()
                    .insert(target.to_string());
            } else if !self.transformed {
                let help = self.suggest(target, self.names.resources.keys());
                self.report(
                    codes::C008,
                    format!("`DependsOn` names `{target}`, which is not a resource"),
                    item.span.clone(),
                    &help,
                );
            }
        }
    }

    fn suggest<'n>(&self, name: &str, candidates: impl Iterator<Item = &'n String>) -> String {
        let candidates: Vec<&str> = candidates.map(String::as_str).collect();
        match did_you_mean(name, candidates.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if candidates.is_empty() => "the template defines none".to_string(),
            None => format!(
                "the template defines {}",
                list(&candidates[..candidates.len().min(12)])
            ),
        }
    }

    fn condition_name(&mut self, node: &Node, what: &str) {
        let Some(name) = node.as_str() else {
            self.report(
                codes::C015,
                format!("a {what} must be a condition's name"),
                node.span.clone(),
                "write the name of a condition from `Conditions`",
            );
            return;
        };
        if self.names.conditions.contains_key(name) {
            self.uses.conditions.insert(name.to_string());
        } else if !self.transformed {
            let help = self.suggest(name, self.names.conditions.keys());
            self.report(
                codes::C009,
                format!("condition `{name}` is not defined"),
                node.span.clone(),
                &help,
            );
        }
    }

    fn conditions_section(&mut self, root: &Node) {
        let Some(conds) = root.get("Conditions").and_then(Node::as_map) else {
            return;
        };
        for (_, c) in conds {
            self.walk(c, Ctx::Conditions);
        }
    }

    fn outputs(&mut self, root: &Node) {
        let Some(outputs) = root.get("Outputs").and_then(Node::as_map) else {
            return;
        };
        let mut exports: HashMap<String, Range<usize>> = HashMap::new();
        for (k, o) in outputs {
            let id = k.scalar_text().unwrap_or_default();
            if self.is_for_each(&id) {
                continue;
            }
            let Some(attrs) = o.as_map() else {
                self.report(
                    codes::C013,
                    format!("output `{id}` must be a mapping with a `Value`"),
                    o.span.clone(),
                    "write `Value:` under the output's logical id",
                );
                continue;
            };
            for (ak, _) in attrs {
                let a = ak.scalar_text().unwrap_or_default();
                if !OUTPUT_KEYS.contains(&a.as_str()) {
                    let help = match did_you_mean(&a, OUTPUT_KEYS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("an output has {}", list(OUTPUT_KEYS)),
                    };
                    self.report(
                        codes::C013,
                        format!("output `{id}` has an unknown key `{a}`"),
                        ak.span.clone(),
                        &help,
                    );
                }
            }
            match o.get("Value") {
                None => self.report(
                    codes::C013,
                    format!("output `{id}` has no `Value`"),
                    k.span.clone(),
                    "add `Value:` with what the output returns",
                ),
                Some(v) => {
                    if matches!(v.value, Value::Seq(_) | Value::Map(_)) && !is_intrinsic(v) {
                        self.report(codes::C013, format!("the `Value` of output `{id}` must be a string or an intrinsic function"), v.span.clone(), "join lists with `!Join`; outputs are strings");
                    }
                    self.walk(v, Ctx::Other);
                }
            }
            if let Some(e) = o.get("Export") {
                match e.get("Name") {
                    None => self.report(
                        codes::C013,
                        format!("the `Export` of output `{id}` has no `Name`"),
                        e.span.clone(),
                        "add `Name:` under `Export`",
                    ),
                    Some(n) => {
                        if let Some(name) = n.as_str() {
                            if let Some(first) = exports.get(name) {
                                let first = first.clone();
                                self.diags.push(
                                    Diagnostic::new(codes::C013, format!("export name `{name}` is used twice"))
                                        .at(self.source, n.span.clone())
                                        .label(self.source, first, "first exported here")
                                        .help("export names are unique in a region: rename one of them (e.g. prefix with `${AWS::StackName}`)"),
                                );
                            } else {
                                exports.insert(name.to_string(), n.span.clone());
                            }
                        }
                        self.walk(n, Ctx::Other);
                    }
                }
            }
            if let Some(c) = o.get("Condition") {
                self.condition_name(c, "output condition");
            }
        }
    }

    /// Walks a value, checking every intrinsic function in it.
    fn walk(&mut self, node: &Node, ctx: Ctx<'_>) {
        match &node.value {
            Value::Seq(items) => {
                for i in items {
                    self.walk(i, ctx);
                }
            }
            Value::Map(entries) => {
                if entries.len() == 1 {
                    let (k, v) = &entries[0];
                    let key = k.scalar_text().unwrap_or_default();
                    if key == "Ref"
                        || key.starts_with("Fn::")
                        || (key == "Condition" && ctx == Ctx::Conditions)
                    {
                        self.intrinsic(&key, k, v, node, ctx);
                        return;
                    }
                }
                for (_, v) in entries {
                    self.walk(v, ctx);
                }
            }
            _ => {}
        }
    }

    fn shape(&mut self, name: &str, node: &Node, expected: &str) {
        self.report(
            codes::C015,
            format!("`{name}` takes {expected}"),
            node.span.clone(),
            &format!("write `{name}` with {expected}"),
        );
    }

    /// The arguments of the functions that take or give lists: `Fn::Join`, `Fn::Select`,
    /// `Fn::Split`, `Fn::Cidr`, `Fn::Base64`. `at` is where a malformed call is reported.
    fn list_function(&mut self, key: &str, v: &Node, at: &Node) {
        let items = v.as_seq();
        match key {
            "Fn::Join" => match items {
                Some([delimiter, values]) if delimiter.as_str().is_some() => {
                    self.list_argument("Fn::Join", values, "a list of the values to join");
                    for item in values.as_seq().unwrap_or_default() {
                        if !is_intrinsic(item)
                            && matches!(item.value, Value::Map(_) | Value::Seq(_))
                        {
                            self.argument(
                                "Fn::Join",
                                item,
                                format!("joins text, not {}", item.kind_name()),
                                "write a string or a function that gives one",
                            );
                        }
                    }
                }
                _ => self.shape(
                    "Fn::Join",
                    at,
                    "a list of two: a delimiter string and a list of values",
                ),
            },
            "Fn::Select" => match items {
                Some([index, list]) => {
                    let n = literal_int(index);
                    if n == Some(None) {
                        self.argument(
                            "Fn::Select",
                            index,
                            format!(
                                "takes an index (an integer), not `{}`",
                                index
                                    .scalar_text()
                                    .unwrap_or_else(|| index.kind_name().to_string())
                            ),
                            "write the position of the item, from 0",
                        );
                    }
                    self.list_argument("Fn::Select", list, "a list to select from");
                    if let (Some(Some(i)), Some(values)) = (n, list.as_seq())
                        && (i < 0 || i as usize >= values.len())
                    {
                        self.argument(
                            "Fn::Select",
                            index,
                            format!(
                                "index {i} is outside the list, which has {} item{}",
                                values.len(),
                                if values.len() == 1 { "" } else { "s" }
                            ),
                            &format!(
                                "write an index from 0 to {}",
                                values.len().saturating_sub(1)
                            ),
                        );
                    }
                }
                _ => self.shape("Fn::Select", at, "a list of two: an index and a list"),
            },
            "Fn::Split" => match items {
                Some([delimiter, source]) => {
                    if delimiter.as_str().is_none() {
                        self.argument(
                            "Fn::Split",
                            delimiter,
                            format!(
                                "splits on a delimiter string, not {}",
                                delimiter.kind_name()
                            ),
                            "write the delimiter as a string",
                        );
                    }
                    if !is_intrinsic(source)
                        && matches!(source.value, Value::Map(_) | Value::Seq(_))
                    {
                        self.argument(
                            "Fn::Split",
                            source,
                            format!("splits a string, not {}", source.kind_name()),
                            "write a string or a function that gives one",
                        );
                    }
                }
                _ => self.shape("Fn::Split", at, "a list of two: a delimiter and a string"),
            },
            "Fn::Cidr" => match items {
                Some([_, count, bits]) => {
                    if let Some(Some(c)) =
                        literal_int(count).filter(|c| !c.is_some_and(|c| (1..=256).contains(&c)))
                    {
                        self.argument(
                            "Fn::Cidr",
                            count,
                            format!("makes 1 to 256 CIDR blocks, not {c}"),
                            "write a count from 1 to 256",
                        );
                    } else if literal_int(count) == Some(None) {
                        self.argument(
                            "Fn::Cidr",
                            count,
                            "takes a count (an integer)".to_string(),
                            "write a count from 1 to 256",
                        );
                    }
                    if let Some(Some(b)) =
                        literal_int(bits).filter(|b| !b.is_some_and(|b| (1..=128).contains(&b)))
                    {
                        self.argument(
                            "Fn::Cidr",
                            bits,
                            format!("takes 1 to 128 subnet bits, not {b}"),
                            "write the number of host bits of each block (8 for a /24 in IPv4)",
                        );
                    } else if literal_int(bits) == Some(None) {
                        self.argument(
                            "Fn::Cidr",
                            bits,
                            "takes the subnet bits (an integer)".to_string(),
                            "write the number of host bits of each block (8 for a /24 in IPv4)",
                        );
                    }
                }
                _ => self.shape(
                    "Fn::Cidr",
                    at,
                    "a list of three: an IP block, a count and the CIDR bits",
                ),
            },
            "Fn::Base64"
                if !is_intrinsic(v) && matches!(v.value, Value::Map(_) | Value::Seq(_)) =>
            {
                self.argument(
                    "Fn::Base64",
                    v,
                    format!("encodes a string, not {}", v.kind_name()),
                    "write a string or a function that gives one (`!Sub`, `!Join`)",
                );
            }
            _ => {}
        }
    }

    /// An argument of a function that is wrong in itself (a type, a range).
    fn argument(&mut self, name: &str, node: &Node, what: String, help: &str) {
        self.report(
            codes::C015,
            format!("`{name}` {what}"),
            node.span.clone(),
            help,
        );
    }

    /// An argument that must be a list: a literal list or a function that can give one.
    fn list_argument(&mut self, name: &str, node: &Node, what: &str) {
        // Functions that only ever give text.
        let text_function = node
            .as_map()
            .and_then(|m| m.first())
            .and_then(|(k, _)| k.as_str())
            .is_some_and(|k| matches!(k, "Fn::Sub" | "Fn::Join" | "Fn::Base64"));
        let wrong = if is_intrinsic(node) {
            text_function
        } else {
            !matches!(node.value, Value::Seq(_))
        };
        if wrong {
            self.argument(
                name,
                node,
                format!("takes {what}, not {}", if is_intrinsic(node) { "a string" } else { node.kind_name() }),
                "write a list (`[a, b]`), or a function that gives one (`!Ref` of a list parameter, `!Split`, `!GetAZs`)",
            );
        }
    }

    fn depend(&mut self, ctx: Ctx<'_>, target: &str) {
        if let Ctx::Resource(from) = ctx
            && self.names.resources.contains_key(target)
        {
            self.uses
                .edges
                .entry(from.to_string())
                .or_default()
                .insert(target.to_string());
        }
    }

    fn intrinsic(&mut self, key: &str, key_node: &Node, v: &Node, whole: &Node, ctx: Ctx<'_>) {
        // A malformed call is reported at the function's name when its arguments start on a
        // later line (`Fn::Join:` then a block list), where cfn-lint reports it.
        let below = self
            .source
            .text()
            .get(key_node.span.end..v.span.start)
            .is_some_and(|t| t.contains('\n'));
        let at = if below { key_node } else { v };
        let items = v.as_seq();
        let arity = |n: usize| items.is_some_and(|i| i.len() == n);
        match key {
            "Ref" => match v.as_str() {
                Some(target) => self.reference(target, v.span.clone(), ctx),
                None => self.shape("Ref", at, "a logical id or pseudo parameter (a string)"),
            },
            "Fn::GetAtt" => self.get_att(v, ctx),
            "Fn::Sub" => self.sub(v, ctx),
            "Fn::If" => {
                if !arity(3) {
                    self.shape(
                        "Fn::If",
                        at,
                        "a list of three: a condition name, the value if true, the value if false",
                    );
                    if let Some(first) = items
                        .and_then(|i| i.first())
                        .filter(|f| f.as_str().is_some())
                    {
                        self.condition_name(first, "`Fn::If` condition");
                    }
                } else if let Some(items) = items {
                    self.condition_name(&items[0], "`Fn::If` condition");
                    self.walk(&items[1], ctx);
                    self.walk(&items[2], ctx);
                }
                return;
            }
            "Condition" => {
                self.condition_name(v, "`Condition` function");
                return;
            }
            "Fn::FindInMap" => self.find_in_map(v, ctx),
            "Fn::Join" | "Fn::Select" | "Fn::Split" | "Fn::Cidr" | "Fn::Base64" => {
                self.list_function(key, v, at);
            }
            "Fn::Equals" => {
                if !arity(2) {
                    self.shape("Fn::Equals", at, "a list of two values to compare");
                }
            }
            "Fn::And" | "Fn::Or" => {
                if !items.is_some_and(|i| (2..=10).contains(&i.len())) {
                    self.shape(key, at, "a list of 2 to 10 conditions");
                }
            }
            "Fn::Not" => {
                if !arity(1) {
                    self.shape("Fn::Not", at, "a list of one condition");
                }
            }
            "Fn::GetAZs" => {
                if v.as_str().is_none() && !is_intrinsic(v) {
                    self.shape(
                        "Fn::GetAZs",
                        at,
                        "a region name (a string; `\"\"` for the stack's region) or `!Ref AWS::Region`",
                    );
                    return;
                }
            }
            "Fn::ImportValue" | "Fn::Transform" | "Fn::ToJsonString" | "Fn::Length"
            | "Fn::ForEach" => {}
            // The functions of template `Rules`.
            "Fn::Contains"
            | "Fn::EachMemberEquals"
            | "Fn::EachMemberIn"
            | "Fn::RefAll"
            | "Fn::ValueOf"
            | "Fn::ValueOfAll" => {}
            _ => {
                let known = [
                    "Fn::GetAtt",
                    "Fn::Sub",
                    "Fn::If",
                    "Fn::Join",
                    "Fn::Select",
                    "Fn::Split",
                    "Fn::FindInMap",
                    "Fn::GetAZs",
                    "Fn::ImportValue",
                    "Fn::Base64",
                    "Fn::Cidr",
                    "Fn::Equals",
                    "Fn::And",
                    "Fn::Or",
                    "Fn::Not",
                    "Fn::Transform",
                    "Fn::ToJsonString",
                    "Fn::Length",
                    "Fn::ForEach",
                    "Fn::Contains",
                    "Fn::EachMemberEquals",
                    "Fn::EachMemberIn",
                    "Fn::RefAll",
                    "Fn::ValueOf",
                    "Fn::ValueOfAll",
                ];
                let help = match did_you_mean(key, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "see CloudFormation's list of intrinsic functions".to_string(),
                };
                self.report(
                    codes::C015,
                    format!("unknown intrinsic function `{key}`"),
                    key_node.span.clone(),
                    &help,
                );
                return;
            }
        }
        let _ = whole;
        self.walk(v, ctx);
    }

    fn reference(&mut self, target: &str, span: Range<usize>, ctx: Ctx<'_>) {
        if self.names.parameters.contains_key(target) {
            self.uses.parameters.insert(target.to_string());
        } else if self.names.resources.contains_key(target) {
            if ctx == Ctx::Conditions {
                self.report(
                    codes::C005,
                    format!("conditions cannot reference resource `{target}`"),
                    span,
                    "conditions are evaluated before resources exist: reference parameters only",
                );
                return;
            }
            self.depend(ctx, target);
        } else if !PSEUDO_PARAMETERS.contains(&target) && !self.transformed {
            let candidates: Vec<String> = self
                .names
                .parameters
                .keys()
                .chain(self.names.resources.keys())
                .cloned()
                .chain(PSEUDO_PARAMETERS.iter().map(|s| s.to_string()))
                .collect();
            let help = self.suggest(target, candidates.iter());
            self.report(
                codes::C005,
                format!(
                    "`Ref` to `{target}`, which is not a parameter, resource or pseudo parameter"
                ),
                span,
                &help,
            );
        }
    }

    fn get_att(&mut self, v: &Node, ctx: Ctx<'_>) {
        let (resource, attr) = match &v.value {
            Value::Seq(items) if items.len() == 2 => (&items[0], &items[1]),
            Value::String(s) if s.contains('.') => {
                // Long form written as a string: `Fn::GetAtt: A.B`.
                let (r, a) = s.split_once('.').unwrap_or((s, ""));
                self.get_att_target(r, v.span.clone(), ctx);
                self.attribute(r, a, v.span.clone());
                return;
            }
            _ => {
                self.shape(
                    "Fn::GetAtt",
                    v,
                    "a logical id and an attribute name (`!GetAtt Resource.Attribute`)",
                );
                return;
            }
        };
        match resource.as_str() {
            Some(r) => {
                self.get_att_target(r, resource.span.clone(), ctx);
                if let Some(a) = attr.as_str() {
                    self.attribute(r, a, attr.span.clone());
                }
            }
            None => self.shape(
                "Fn::GetAtt",
                resource,
                "a resource's logical id as its first item",
            ),
        }
        if attr.as_str().is_none() && !is_intrinsic(attr) {
            self.shape("Fn::GetAtt", attr, "an attribute name as its second item");
        }
        self.walk(attr, ctx);
    }

    /// An attribute name against the resource's type. Older types accept any property as an
    /// attribute (as cfn-lint does), so property names count too.
    fn attribute(&mut self, resource: &str, attr: &str, span: Range<usize>) {
        let Some(type_name) = self.names.types.get(resource).cloned() else {
            return;
        };
        if !types::is_checked_namespace(&type_name) {
            return;
        }
        let Some(ty) = types::lookup(&type_name) else {
            return;
        };
        let top = attr.split('.').next().unwrap_or(attr);
        // A nested stack's outputs: `!GetAtt Stack.Outputs.Name`, any name.
        let nested_output = (type_name == "AWS::CloudFormation::Stack"
            || type_name == "AWS::Serverless::Application")
            && attr.strip_prefix("Outputs.").is_some_and(|n| !n.is_empty());
        if nested_output
            || ty
                .attributes
                .iter()
                .any(|a| a == attr || a.starts_with(&format!("{attr}.")))
            || ty.properties.contains_key(attr)
            || ty.properties.contains_key(top)
        {
            return;
        }
        let help = match did_you_mean(attr, ty.attributes.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if ty.attributes.is_empty() => format!("`{type_name}` has no attributes"),
            None => format!(
                "`{type_name}` has {}",
                list(
                    &ty.attributes
                        .iter()
                        .map(String::as_str)
                        .take(20)
                        .collect::<Vec<_>>()
                )
            ),
        };
        self.report(
            codes::C006,
            format!("`{resource}` (`{type_name}`) has no attribute `{attr}`"),
            span,
            &help,
        );
    }

    fn get_att_target(&mut self, r: &str, span: Range<usize>, ctx: Ctx<'_>) {
        if self.names.resources.contains_key(r) {
            self.depend(ctx, r);
        } else if !self.transformed {
            let what = if self.names.parameters.contains_key(r) {
                "a parameter, not a resource"
            } else {
                "not a resource"
            };
            let help = self.suggest(r, self.names.resources.keys());
            self.report(
                codes::C006,
                format!("`Fn::GetAtt` on `{r}`, which is {what}"),
                span,
                &help,
            );
        }
    }

    fn sub(&mut self, v: &Node, ctx: Ctx<'_>) {
        let (template, vars): (&Node, Option<&Node>) = match &v.value {
            Value::String(_) => (v, None),
            Value::Seq(items) if items.len() == 2 => (&items[0], Some(&items[1])),
            _ => {
                self.shape(
                    "Fn::Sub",
                    v,
                    "a string, or a list of a string and a mapping of variables",
                );
                return;
            }
        };
        let local: BTreeSet<String> = match vars {
            Some(m) => match m.as_map() {
                Some(entries) => {
                    for (_, val) in entries {
                        self.walk(val, ctx);
                    }
                    entries
                        .iter()
                        .filter_map(|(k, _)| k.scalar_text())
                        .collect()
                }
                None => {
                    self.shape("Fn::Sub", m, "a mapping of variables as its second item");
                    BTreeSet::new()
                }
            },
            None => BTreeSet::new(),
        };
        let Some(text) = template.as_str() else {
            if !is_intrinsic(template) {
                self.shape("Fn::Sub", template, "a string to substitute into");
            }
            return;
        };
        for (var, offset) in sub_variables(text) {
            // Point into the string when it is written plainly; else at the whole value.
            let span = self.sub_span(template, offset, var.len());
            let name = var.split_once('.').map_or(var.as_str(), |(r, _)| r);
            if local.contains(&var) || local.contains(name) {
                continue;
            }
            if var.contains('.') {
                if self.names.resources.contains_key(name) {
                    self.depend(ctx, name);
                    let attr = var.split_once('.').map_or("", |(_, a)| a);
                    self.attribute(name, attr, span.clone());
                } else if !self.transformed {
                    let help = self.suggest(name, self.names.resources.keys());
                    self.report(
                        codes::C007,
                        format!("`${{{var}}}`: `{name}` is not a resource"),
                        span,
                        &help,
                    );
                }
            } else {
                self.reference_in_sub(&var, span, ctx);
            }
        }
    }

    fn reference_in_sub(&mut self, var: &str, span: Range<usize>, ctx: Ctx<'_>) {
        if self.names.parameters.contains_key(var) {
            self.uses.parameters.insert(var.to_string());
        } else if self.names.resources.contains_key(var) {
            self.depend(ctx, var);
        } else if !PSEUDO_PARAMETERS.contains(&var) && !self.transformed {
            let candidates: Vec<String> = self
                .names
                .parameters
                .keys()
                .chain(self.names.resources.keys())
                .cloned()
                .collect();
            let help = self.suggest(var, candidates.iter());
            self.report(
                codes::C007,
                format!("`${{{var}}}` is not a parameter, resource or pseudo parameter"),
                span,
                &format!("{help} (write `${{!{var}}}` for a literal `${{{var}}}`)"),
            );
        }
    }

    /// The span of a `${var}` inside a string node, when the node's text is the string as
    /// written (a plain or single-line quoted scalar); else the node's span.
    fn sub_span(&self, node: &Node, offset: usize, len: usize) -> Range<usize> {
        let written = self.source.slice(&node.span);
        let text = node.as_str().unwrap_or_default();
        let start = match written.find(text) {
            Some(i) if !text.is_empty() => node.span.start + i + offset,
            _ => return node.span.clone(),
        };
        start..start + len + 3
    }

    fn find_in_map(&mut self, v: &Node, ctx: Ctx<'_>) {
        let Some(items) = v.as_seq().filter(|i| i.len() == 3 || i.len() == 4) else {
            self.shape(
                "Fn::FindInMap",
                v,
                "a list of three: a map name, a top-level key and a second-level key",
            );
            return;
        };
        if let Some(map) = items[0].as_str() {
            if self.names.mappings.contains_key(map) {
                self.uses.mappings.insert(map.to_string());
            } else if !self.transformed {
                let help = self.suggest(map, self.names.mappings.keys());
                self.report(
                    codes::C010,
                    format!("`Fn::FindInMap` on `{map}`, which is not a mapping"),
                    items[0].span.clone(),
                    &help,
                );
            }
        }
        for i in items {
            self.walk(i, ctx);
        }
    }

    /// Circular dependencies among resources, each cycle reported once.
    fn cycles(&mut self) {
        let edges = std::mem::take(&mut self.uses.edges);
        let mut state: HashMap<&str, u8> = HashMap::new(); // 1 = on the stack, 2 = done
        let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
        for start in edges.keys() {
            if state.contains_key(start.as_str()) {
                continue;
            }
            // Iterative depth-first search: hostile templates have thousands of resources.
            let mut stack: Vec<(&str, Vec<&str>)> =
                vec![(start, edges[start].iter().map(String::as_str).collect())];
            let mut path: Vec<&str> = vec![start];
            state.insert(start, 1);
            while let Some((_, next)) = stack.last_mut() {
                match next.pop() {
                    Some(n) => match state.get(n) {
                        Some(1) => {
                            let from = path.iter().position(|p| *p == n).unwrap_or(0);
                            let mut cycle: Vec<String> =
                                path[from..].iter().map(|s| s.to_string()).collect();
                            let rot = cycle
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, s)| s.as_str())
                                .map_or(0, |(i, _)| i);
                            cycle.rotate_left(rot);
                            if reported.insert(cycle.clone()) {
                                // Reported at every resource of the cycle (as cfn-lint does):
                                // the fix may belong to any of them. A huge cycle (a hostile
                                // template) is reported once, abbreviated.
                                let members = if cycle.len() <= 50 { cycle.len() } else { 1 };
                                for (i, member) in cycle.iter().take(members).enumerate() {
                                    let mut order = cycle.clone();
                                    order.rotate_left(i);
                                    let shown = if order.len() <= 10 {
                                        format!("{} → {member}", order.join(" → "))
                                    } else {
                                        format!(
                                            "{} → … ({} resources) → {member}",
                                            order[..5].join(" → "),
                                            order.len()
                                        )
                                    };
                                    let span =
                                        self.names.resources.get(member).cloned().unwrap_or(0..0);
                                    self.report(codes::C011, format!("circular dependency: {shown}"), span, "break the cycle: one of these resources must not reference the next (`Ref`, `Fn::GetAtt`, `Fn::Sub` or `DependsOn`)");
                                }
                            }
                        }
                        Some(_) => {}
                        None => {
                            state.insert(n, 1);
                            path.push(n);
                            let succ = edges
                                .get(n)
                                .map(|s| s.iter().map(String::as_str).collect())
                                .unwrap_or_default();
                            stack.push((n, succ));
                        }
                    },
                    None => {
                        if let Some((done, _)) = stack.pop() {
                            state.insert(done, 2);
                            path.pop();
                        }
                    }
                }
            }
        }
        self.uses.edges = edges;
    }

    fn unused(&mut self) {
        if self.transformed {
            return;
        }
        let unused = |defined: &BTreeMap<String, Range<usize>>,
                      used: &BTreeSet<String>|
         -> Vec<(String, Range<usize>)> {
            defined
                .iter()
                .filter(|(n, _)| !used.contains(*n))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect()
        };
        for (name, span) in unused(&self.names.parameters, &self.uses.parameters) {
            self.report(
                codes::C012,
                format!("parameter `{name}` is never used"),
                span,
                "reference it (`!Ref`, `${...}`), or remove it",
            );
        }
        for (name, span) in unused(&self.names.conditions, &self.uses.conditions) {
            self.report(
                codes::C012,
                format!("condition `{name}` is never used"),
                span,
                "use it (`Condition:`, `!If`), or remove it",
            );
        }
        for (name, span) in unused(&self.names.mappings, &self.uses.mappings) {
            self.report(
                codes::C012,
                format!("mapping `{name}` is never used"),
                span,
                "look it up with `!FindInMap`, or remove it",
            );
        }
    }
}

/// An integer argument: `Some(Some(n))` for a literal integer (or digits in a string),
/// `Some(None)` for a literal that is not one, `None` for a function (unknown).
fn literal_int(node: &Node) -> Option<Option<i64>> {
    if is_intrinsic(node) {
        return None;
    }
    Some(match &node.value {
        Value::Int(i) => Some(*i),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Whether a node is a one-key mapping naming an intrinsic function.
pub fn is_intrinsic(node: &Node) -> bool {
    node.as_map().is_some_and(|m| {
        m.len() == 1
            && m[0]
                .0
                .as_str()
                .is_some_and(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    })
}

/// `${Name}` and `${Res.Attr}` in a `Fn::Sub` string, with their byte offsets; `${!x}` is a
/// literal and skipped.
pub fn sub_variables(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' {
            if let Some(end) = text[i + 2..].find('}') {
                let var = &text[i + 2..i + 2 + end];
                if !var.starts_with('!') {
                    out.push((var.trim().to_string(), i));
                }
                i += 3 + end;
                continue;
            }
            break;
        }
        i += 1;
    }
    out
}
