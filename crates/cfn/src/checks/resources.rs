//! Resources: their attributes, `Type` and policies, the transforms a template declares, and
//! each resource's `Properties` against the schema of its type.

use super::{Checker, Ctx, is_intrinsic};
use crate::diag::{Diagnostic, codes, did_you_mean};
use crate::yaml::shape::list;
use crate::yaml::{Node, Value};
use crate::{schema, types, validate};

/// Transforms CloudFormation runs itself and whose effect proctor's checks allow for.
const KNOWN_TRANSFORMS: &[&str] = &[
    "AWS::Serverless-2016-10-31",
    "AWS::LanguageExtensions",
    "AWS::Include",
    "AWS::CodeDeployBlueGreen",
    "AWS::SecretsManager-2020-07-23",
];

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

impl Checker<'_> {
    pub(super) fn resources(&mut self, root: &Node) {
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
            let id = k.text();
            if self.is_for_each(&id) {
                continue;
            }
            self.uses.edges.entry(id.to_string()).or_default();
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
                let a = ak.text();
                if !RESOURCE_KEYS.contains(&&*a) {
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
    pub(super) fn transforms(&mut self, root: &Node) {
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
        let findings = validate::properties(self.source.text(), schema, type_name, id, at, props);
        for f in findings {
            self.report(f.code, f.message, f.span, &f.help);
        }
    }
}
