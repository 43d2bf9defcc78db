//! Resource-level difference between two rendered CloudFormation templates: which resources a
//! template change adds, removes or modifies in one deployment's stack, which of their paths
//! change, and whether CloudFormation would replace the resource (from the createOnly
//! properties in the embedded resource dataset, `cfn::types`).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::cfn;
use crate::source::SourceFile;

/// Most paths listed for one resource; the rest are counted in [`ResourceChange::omitted`].
const MAX_PATHS: usize = 20;

/// How many levels below a section (`Properties`, `Metadata`, ...) a path goes: the property
/// and two levels inside it (`Properties.Tags[2].Value`). Deeper changes are reported there.
const MAX_DEPTH: usize = 3;

/// Sections whose content is compared level by level; a missing section counts as empty.
/// Other keys of a resource are compared as a whole.
const NESTED_SECTIONS: &[&str] = &["Properties", "CreationPolicy", "UpdatePolicy", "Metadata"];

/// The order in which a resource's changes are listed, after `Type`; other keys follow.
const KEY_ORDER: &[&str] = &[
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "UpdatePolicy",
    "Metadata",
];

/// One resource that differs between the old and the new template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    pub logical_id: String,
    /// The type in the new template (in the old one for a removed resource); empty when the
    /// resource has no `Type` string.
    pub resource_type: String,
    /// The type in the old template, when a modification changed it.
    pub previous_type: Option<String>,
    pub change: ChangeKind,
    /// The changed paths of a modified resource (empty for added and removed ones), in
    /// template order, at most [`MAX_PATHS`] of them.
    pub properties: Vec<PropertyChange>,
    /// Changed paths left out of `properties` (replacing ones are kept first).
    pub omitted: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

/// One changed path inside a modified resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PropertyChange {
    /// Where, from the resource: `Properties.BucketName`, `Properties.Tags[2].Value`,
    /// `DependsOn`, `Type`. Keys that are not plain names are quoted: `Metadata["a.b"]`.
    pub path: String,
    /// Whether the value at `path` was added, removed or changed.
    pub change: ChangeKind,
    pub replacement: Replacement,
}

/// Whether a change makes CloudFormation replace the resource (create a new physical
/// resource and delete the old one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Replacement {
    Never,
    Always,
    /// The dataset does not know the type or the property (custom resources).
    Unknown,
}

impl ResourceChange {
    /// Whether the change replaces the resource: a `Type` change or a createOnly property.
    pub fn replaces(&self) -> bool {
        self.previous_type.is_some()
            || self
                .properties
                .iter()
                .any(|p| p.replacement == Replacement::Always || p.path == "Type")
    }

    /// Whether the change may replace the resource, as far as the dataset can tell.
    pub fn may_replace(&self) -> bool {
        !self.replaces()
            && self
                .properties
                .iter()
                .any(|p| p.replacement == Replacement::Unknown)
    }
}

/// The resources of `new` that differ from `old` (both rendered CloudFormation, YAML or JSON),
/// sorted by logical id. `Err` says why a template could not be read (so that "cannot tell"
/// is never shown as "no changes").
pub fn diff(old: &str, new: &str) -> Result<Vec<ResourceChange>, String> {
    let old = resources("old template", old)?;
    let new = resources("new template", new)?;
    let ids: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut changes = Vec::new();
    for id in ids {
        let change = match (old.get(id), new.get(id)) {
            (None, Some(n)) => ResourceChange {
                logical_id: id.clone(),
                resource_type: type_of(n),
                previous_type: None,
                change: ChangeKind::Added,
                properties: Vec::new(),
                omitted: 0,
            },
            (Some(o), None) => ResourceChange {
                logical_id: id.clone(),
                resource_type: type_of(o),
                previous_type: None,
                change: ChangeKind::Removed,
                properties: Vec::new(),
                omitted: 0,
            },
            (Some(o), Some(n)) => match modification(id, o, n) {
                Some(change) => change,
                None => continue,
            },
            (None, None) => continue,
        };
        changes.push(change);
    }
    Ok(changes)
}

/// A template's `Resources` entries as JSON (long forms, so `!Ref X` equals `{"Ref": "X"}`).
fn resources(name: &str, text: &str) -> Result<Map<String, Json>, String> {
    let source = SourceFile::new(name, name, text.to_string());
    let mut diags = Vec::new();
    let Some(root) = cfn::parse(&source, &mut diags) else {
        let reason = diags
            .iter()
            .find(|d| d.severity == crate::diag::Severity::Error)
            .or(diags.first())
            .map_or_else(
                || "it is not YAML or JSON".to_string(),
                |d| match &d.primary {
                    // `0..0` is a problem with the file as a whole (`at_file`).
                    Some(label) if label.at.span != (0..0) => {
                        let (line, col) = source.line_col(label.at.span.start);
                        format!("line {line}, column {col}: {}", d.message)
                    }
                    _ => d.message.clone(),
                },
            );
        return Err(format!("cannot read the {name}: {reason}"));
    };
    let Json::Object(mut top) = root.to_json() else {
        return Err(format!(
            "cannot read the {name}: it is {}, not a mapping of template sections",
            root.kind_name()
        ));
    };
    match top.remove("Resources") {
        None | Some(Json::Null) => Ok(Map::new()),
        Some(Json::Object(resources)) => Ok(resources),
        Some(_) => Err(format!(
            "cannot read the {name}: `Resources` is not a mapping of logical ids to resources"
        )),
    }
}

fn type_of(resource: &Json) -> String {
    resource
        .get("Type")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

/// A changed path, before its replacement is judged.
struct Found {
    path: String,
    change: ChangeKind,
    in_properties: bool,
    /// The top-level property it is in, for paths under `Properties`.
    property: Option<String>,
}

impl Found {
    fn at(path: &[Segment], change: ChangeKind) -> Found {
        let property = match path {
            [Segment::Key("Properties"), Segment::Key(p), ..] => Some((*p).to_string()),
            _ => None,
        };
        Found {
            path: path_text(path),
            change,
            in_properties: matches!(path, [Segment::Key("Properties"), ..]),
            property,
        }
    }
}

/// The change to one resource present in both templates, `None` when it is the same.
fn modification(id: &str, old: &Json, new: &Json) -> Option<ResourceChange> {
    let empty = Map::new();
    let empty_object = Json::Object(Map::new());
    let old_map = old.as_object().unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    let (old_type, new_type) = (type_of(old), type_of(new));

    let mut found = Vec::new();
    let type_changed = !same(old_map.get("Type"), new_map.get("Type"));
    if type_changed {
        found.push(Found::at(&[Segment::Key("Type")], ChangeKind::Modified));
    }
    for key in resource_keys(old_map, new_map) {
        let (o, n) = (old_map.get(key), new_map.get(key));
        if key == "Type" {
            continue;
        }
        if NESTED_SECTIONS.contains(&key) {
            // A missing (or null) section is an empty one, so that its first property is
            // reported as `Properties.X` added rather than `Properties` as a whole.
            let (o, n) = (o.filter(|v| !v.is_null()), n.filter(|v| !v.is_null()));
            let o = o.or_else(|| n.filter(|v| v.is_object()).map(|_| &empty_object));
            let n = n.or_else(|| o.filter(|v| v.is_object()).map(|_| &empty_object));
            let mut path = vec![Segment::Key(key)];
            compare(o, n, &mut path, MAX_DEPTH, &mut found);
        } else if key == "DependsOn" {
            if depends_on(o) != depends_on(n) {
                found.push(Found::at(&[Segment::Key(key)], change_kind(o, n)));
            }
        } else if !same(o, n) {
            found.push(Found::at(&[Segment::Key(key)], change_kind(o, n)));
        }
    }
    if found.is_empty() {
        return None;
    }

    let (old_kind, new_kind) = (cfn::types::lookup(&old_type), cfn::types::lookup(&new_type));
    let all: Vec<PropertyChange> = found
        .into_iter()
        .map(|f| {
            let replacement = if f.path == "Type" {
                Replacement::Always
            } else if !f.in_properties {
                Replacement::Never
            } else {
                // A removed property is judged by the type that had it (they differ only
                // when `Type` changes too).
                let kind = if f.change == ChangeKind::Removed {
                    &old_kind
                } else {
                    &new_kind
                };
                match (kind, &f.property) {
                    (Some(t), Some(p)) if t.create_only.contains(p) => Replacement::Always,
                    (Some(t), Some(p)) if t.properties.contains_key(p) => Replacement::Never,
                    // Custom resources' own properties, unknown types and properties, and
                    // `Properties` that is not a mapping: only the provider knows.
                    _ => Replacement::Unknown,
                }
            };
            PropertyChange {
                path: f.path,
                change: f.change,
                replacement,
            }
        })
        .collect();
    let (properties, omitted) = keep_most_telling(all);
    Some(ResourceChange {
        logical_id: id.to_string(),
        resource_type: new_type,
        previous_type: type_changed.then_some(old_type),
        change: ChangeKind::Modified,
        properties,
        omitted,
    })
}

/// The resource's keys in report order: [`KEY_ORDER`], then any other key (the new
/// template's order, then keys only the old one has).
fn resource_keys<'a>(old: &'a Map<String, Json>, new: &'a Map<String, Json>) -> Vec<&'a str> {
    let mut keys: Vec<&str> = Vec::new();
    for key in KEY_ORDER {
        if old.contains_key(*key) || new.contains_key(*key) {
            keys.push(key);
        }
    }
    for key in new.keys().chain(old.keys()) {
        if !keys.contains(&key.as_str()) {
            keys.push(key);
        }
    }
    keys
}

/// At most [`MAX_PATHS`] changes, replacing ones first, kept in their original order; and how
/// many were left out.
fn keep_most_telling(all: Vec<PropertyChange>) -> (Vec<PropertyChange>, usize) {
    if all.len() <= MAX_PATHS {
        return (all, 0);
    }
    let omitted = all.len() - MAX_PATHS;
    let rank = |p: &PropertyChange| match p.replacement {
        Replacement::Always => 0,
        Replacement::Unknown => 1,
        Replacement::Never => 2,
    };
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| (rank(&all[i]), i));
    let keep: BTreeSet<usize> = order.into_iter().take(MAX_PATHS).collect();
    let kept = all
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, p)| p)
        .collect();
    (kept, omitted)
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_text(path: &[Segment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) if is_plain_key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Key(k) => {
                out.push('[');
                out.push_str(&Json::String((*k).to_string()).to_string());
                out.push(']');
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Keys that read unambiguously after a dot (`AWS::CloudFormation::Init` is one).
fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | '@'))
}

fn change_kind(old: Option<&Json>, new: Option<&Json>) -> ChangeKind {
    match (old, new) {
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        _ => ChangeKind::Modified,
    }
}

/// Records where `old` and `new` differ, as deep as `depth` more levels allow. The recursion
/// is bounded by `depth`, and `same` by the YAML front end's depth limit.
fn compare<'a>(
    old: Option<&'a Json>,
    new: Option<&'a Json>,
    path: &mut Vec<Segment<'a>>,
    depth: usize,
    found: &mut Vec<Found>,
) {
    if same(old, new) {
        return;
    }
    let into = depth > 0 && !old.is_some_and(is_intrinsic) && !new.is_some_and(is_intrinsic);
    match (old, new) {
        (Some(Json::Object(o)), Some(Json::Object(n))) if into => {
            let keys = n.keys().chain(o.keys().filter(|k| !n.contains_key(*k)));
            for key in keys {
                path.push(Segment::Key(key));
                compare(o.get(key), n.get(key), path, depth - 1, found);
                path.pop();
            }
        }
        (Some(Json::Array(o)), Some(Json::Array(n))) if into => {
            let common = o.len().min(n.len());
            let prefix_same = o[..common]
                .iter()
                .zip(&n[..common])
                .all(|(a, b)| same(Some(a), Some(b)));
            if o.len() == n.len() || prefix_same {
                // Same length: element by element. Items appended or dropped at the end:
                // those items. (Anything else shifts indexes, and is the list as a whole.)
                for i in 0..o.len().max(n.len()) {
                    path.push(Segment::Index(i));
                    compare(o.get(i), n.get(i), path, depth - 1, found);
                    path.pop();
                }
            } else {
                found.push(Found::at(path, ChangeKind::Modified));
            }
        }
        _ => found.push(Found::at(path, change_kind(old, new))),
    }
}

/// `{"Ref": ..}`, `{"Fn::Sub": ..}`, ...: one value to the reader, so a change inside one is
/// reported at the path that holds it (`Properties.BucketName`, not `...BucketName.Fn::Sub`).
fn is_intrinsic(value: &Json) -> bool {
    value.as_object().is_some_and(|m| {
        m.len() == 1
            && m.keys()
                .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
    })
}

/// Whether two values deploy the same. Mapping order does not matter, and a scalar equals a
/// string with its text (`30` and `"30"`, `true` and `"true"`): CloudFormation converts
/// property values to the type the resource's schema declares (and hands custom resources
/// strings), so quoting a value in a template changes nothing in the stack.
fn same(old: Option<&Json>, new: Option<&Json>) -> bool {
    match (old, new) {
        (None, None) => true,
        (Some(a), Some(b)) => same_value(a, b),
        _ => false,
    }
}

fn same_value(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_value(v, w))
        }
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Json::Number(n), Json::String(s)) | (Json::String(s), Json::Number(n)) => {
            *s == n.to_string()
        }
        (Json::Bool(v), Json::String(s)) | (Json::String(s), Json::Bool(v)) => *s == v.to_string(),
        _ => a == b,
    }
}

/// `DependsOn` as a set: one name or a list of names, in any order, mean the same.
fn depends_on(value: Option<&Json>) -> Option<BTreeSet<String>> {
    let value = value?;
    let names = match value {
        Json::Array(items) => items.iter().map(scalar_text).collect(),
        other => BTreeSet::from([scalar_text(other)]),
    };
    Some(names)
}

fn scalar_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The changes as text for people: one block per resource (`+` added, `-` removed, `~`
/// modified), a modified resource's changed paths below it with what they do to it, and a
/// closing count.
pub fn render(changes: &[ResourceChange]) -> String {
    if changes.is_empty() {
        return "no resource changes\n".to_string();
    }
    let mut out = String::new();
    for change in changes {
        let sign = match change.change {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Modified => '~',
        };
        let shown_type = match (&change.previous_type, change.resource_type.as_str()) {
            (Some(old), new) => format!("{} -> {}", type_or_none(old), type_or_none(new)),
            (None, t) => type_or_none(t).to_string(),
        };
        let mut head = format!("{sign} {} ({shown_type})", change.logical_id);
        if change.replaces() {
            head.push_str("  replaces the resource");
        } else if change.may_replace() {
            head.push_str("  may replace the resource");
        }
        out.push_str(&head);
        out.push('\n');

        let width = change
            .properties
            .iter()
            .map(|p| p.path.chars().count())
            .max()
            .unwrap_or(0);
        for p in &change.properties {
            let sign = match p.change {
                ChangeKind::Added => '+',
                ChangeKind::Removed => '-',
                ChangeKind::Modified => '~',
            };
            let note = match p.replacement {
                Replacement::Always => "replacement",
                Replacement::Unknown => "replacement unknown",
                Replacement::Never => "",
            };
            let line = format!("    {sign} {:width$}  {note}", p.path);
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if change.omitted > 0 {
            let s = if change.omitted == 1 { "" } else { "s" };
            out.push_str(&format!("    ... and {} more change{s}\n", change.omitted));
        }
    }
    let count = |kind| changes.iter().filter(|c| c.change == kind).count();
    let replaced = changes.iter().filter(|c| c.replaces()).count();
    out.push_str(&format!(
        "\n{} added, {} removed, {} modified ({replaced} replaced)\n",
        count(ChangeKind::Added),
        count(ChangeKind::Removed),
        count(ChangeKind::Modified),
    ));
    out
}

fn type_or_none(t: &str) -> &str {
    if t.is_empty() { "no Type" } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(old: &str, new: &str) -> Vec<ResourceChange> {
        diff(old, new).expect("both templates parse")
    }

    /// The changed paths of the only changed resource, with their replacement.
    fn paths(old: &str, new: &str) -> Vec<(String, Replacement)> {
        let c = changes(old, new);
        assert_eq!(c.len(), 1, "{c:#?}");
        c[0].properties
            .iter()
            .map(|p| (p.path.clone(), p.replacement))
            .collect()
    }

    fn p(path: &str, r: Replacement) -> (String, Replacement) {
        (path.to_string(), r)
    }

    const QUEUE: &str = "
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: orders
      VisibilityTimeout: 30
";

    #[test]
    fn added_removed_and_modified_resources_sorted_by_logical_id() {
        let old = "
Resources:
  Topic: {Type: AWS::SNS::Topic}
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: a}}
  Same: {Type: AWS::SNS::Topic, Properties: {TopicName: t}}
";
        let new = "
Resources:
  Same: {Type: AWS::SNS::Topic, Properties: {TopicName: t}}
  Queue: {Type: AWS::SQS::Queue}
  Bucket: {Type: AWS::S3::Bucket, Properties: {BucketName: b}}
";
        let c = changes(old, new);
        let summary: Vec<_> = c
            .iter()
            .map(|c| (c.logical_id.as_str(), c.resource_type.as_str(), c.change))
            .collect();
        assert_eq!(
            summary,
            [
                ("Bucket", "AWS::S3::Bucket", ChangeKind::Modified),
                ("Queue", "AWS::SQS::Queue", ChangeKind::Added),
                ("Topic", "AWS::SNS::Topic", ChangeKind::Removed),
            ]
        );
        assert!(c[1].properties.is_empty() && c[2].properties.is_empty());
        assert!(!c[1].replaces() && !c[2].replaces());
    }

    #[test]
    fn create_only_properties_replace_and_mutable_ones_do_not() {
        // The dataset lists FifoQueue and QueueName as createOnly for AWS::SQS::Queue.
        let q = cfn::types::lookup("AWS::SQS::Queue").expect("known type");
        assert_eq!(q.create_only, ["FifoQueue", "QueueName"]);

        let new = QUEUE.replace("orders", "orders-v2");
        assert_eq!(
            paths(QUEUE, &new),
            [p("Properties.QueueName", Replacement::Always)]
        );
        assert!(changes(QUEUE, &new)[0].replaces());

        let new = QUEUE.replace("30", "60");
        assert_eq!(
            paths(QUEUE, &new),
            [p("Properties.VisibilityTimeout", Replacement::Never)]
        );
        assert!(!changes(QUEUE, &new)[0].replaces());

        // Adding a createOnly property replaces too.
        let new = format!("{QUEUE}      FifoQueue: true\n");
        let c = changes(QUEUE, &new);
        assert_eq!(c[0].properties[0].change, ChangeKind::Added);
        assert_eq!(c[0].properties[0].replacement, Replacement::Always);

        let bucket = "Resources:\n  B: {Type: AWS::S3::Bucket, Properties: {BucketName: a}}\n";
        assert_eq!(
            paths(bucket, &bucket.replace("BucketName: a", "BucketName: b")),
            [p("Properties.BucketName", Replacement::Always)]
        );
    }

    #[test]
    fn custom_and_unknown_types_have_unknown_replacement() {
        for ty in ["Custom::Seeder", "AWS::Nope::Thing"] {
            let old = format!("Resources:\n  R: {{Type: '{ty}', Properties: {{Size: 1}}}}\n");
            let new = old.replace("Size: 1", "Size: 2");
            assert_eq!(
                paths(&old, &new),
                [p("Properties.Size", Replacement::Unknown)]
            );
            let c = changes(&old, &new);
            assert!(!c[0].replaces() && c[0].may_replace());
        }
        // AWS::CloudFormation::CustomResource is in the dataset, but only for its own
        // properties: the provider's properties are unknown.
        let old = "Resources:\n  R: {Type: AWS::CloudFormation::CustomResource, Properties: {ServiceToken: a, Size: 1}}\n";
        let new = old.replace("ServiceToken: a, Size: 1", "ServiceToken: b, Size: 2");
        assert_eq!(
            paths(old, &new),
            [
                p("Properties.ServiceToken", Replacement::Always),
                p("Properties.Size", Replacement::Unknown),
            ]
        );
    }

    #[test]
    fn a_type_change_replaces() {
        let old = "Resources:\n  R: {Type: AWS::SNS::Topic}\n";
        let new = "Resources:\n  R: {Type: AWS::SQS::Queue}\n";
        let c = changes(old, new);
        assert_eq!(c[0].change, ChangeKind::Modified);
        assert_eq!(c[0].resource_type, "AWS::SQS::Queue");
        assert_eq!(c[0].previous_type.as_deref(), Some("AWS::SNS::Topic"));
        assert_eq!(
            c[0].properties,
            [PropertyChange {
                path: "Type".into(),
                change: ChangeKind::Modified,
                replacement: Replacement::Always
            }]
        );
        assert!(c[0].replaces());
    }

    #[test]
    fn nested_changes_are_reported_at_their_path_within_two_levels() {
        let old = "
Resources:
  B:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: a, Value: '1'}, {Key: b, Value: '2'}, {Key: c, Value: '3'}]
      VersioningConfiguration: {Status: Enabled}
      LifecycleConfiguration:
        Rules: [{Id: r, Status: Enabled, Transitions: [{StorageClass: GLACIER, TransitionInDays: 30}]}]
";
        let new = old
            .replace("Value: '3'", "Value: '4'")
            .replace("Status: Enabled}", "Status: Suspended}")
            .replace("TransitionInDays: 30", "TransitionInDays: 60");
        assert_eq!(
            paths(old, &new),
            [
                p("Properties.Tags[2].Value", Replacement::Never),
                p(
                    "Properties.VersioningConfiguration.Status",
                    Replacement::Never
                ),
                // Deeper than the property's second level: reported there.
                p(
                    "Properties.LifecycleConfiguration.Rules[0]",
                    Replacement::Never
                ),
            ]
        );
    }

    #[test]
    fn list_items_appended_or_dropped_are_reported_as_items() {
        let old =
            "Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {Tags: [{Key: a, Value: b}]}}\n";
        let appended = old.replace("Value: b}]", "Value: b}, {Key: c, Value: d}]");
        let c = changes(old, &appended);
        assert_eq!(c[0].properties[0].path, "Properties.Tags[1]");
        assert_eq!(c[0].properties[0].change, ChangeKind::Added);
        let c = changes(&appended, old);
        assert_eq!(c[0].properties[0].path, "Properties.Tags[1]");
        assert_eq!(c[0].properties[0].change, ChangeKind::Removed);
        // Inserted at the front: the indexes shift, so the list is reported as a whole.
        let inserted = old.replace("[{Key: a", "[{Key: c, Value: d}, {Key: a");
        assert_eq!(
            paths(old, &inserted),
            [p("Properties.Tags", Replacement::Never)]
        );
    }

    #[test]
    fn attributes_outside_properties_never_replace() {
        let old = "
Resources:
  A: {Type: AWS::SNS::Topic}
  Q:
    Type: AWS::SQS::Queue
    DependsOn: [A, B]
    Metadata: {Owner: x}
";
        let new = "
Resources:
  A: {Type: AWS::SNS::Topic}
  Q:
    Type: AWS::SQS::Queue
    DependsOn: A
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Condition: IsProd
    Metadata: {Owner: y, 'cfn.lint': {ignore: [E1]}}
";
        assert_eq!(
            paths(old, new),
            [
                p("DependsOn", Replacement::Never),
                p("Condition", Replacement::Never),
                p("DeletionPolicy", Replacement::Never),
                p("UpdateReplacePolicy", Replacement::Never),
                p("Metadata.Owner", Replacement::Never),
                p("Metadata[\"cfn.lint\"]", Replacement::Never),
            ]
        );
        // A single name and a list of names, in any order, are the same dependencies.
        let a = "Resources:\n  Q: {Type: AWS::SQS::Queue, DependsOn: [A, B]}\n";
        assert!(changes(a, &a.replace("[A, B]", "[B, A]")).is_empty());
        assert_eq!(changes(a, &a.replace("[A, B]", "[A]")).len(), 1);
        let one = "Resources:\n  Q: {Type: AWS::SQS::Queue, DependsOn: A}\n";
        assert!(changes(one, &one.replace("DependsOn: A", "DependsOn: [A]")).is_empty());
    }

    #[test]
    fn short_and_long_forms_and_yaml_and_json_are_the_same() {
        let yaml = "
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub '${AWS::StackName}-orders'
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 5
      KmsMasterKeyId: !Ref Key
  Dlq: {Type: AWS::SQS::Queue}
  Key: {Type: AWS::KMS::Key}
";
        let json = r#"{
  "Resources": {
    "Dlq": {"Type": "AWS::SQS::Queue"},
    "Key": {"Type": "AWS::KMS::Key"},
    "Queue": {
      "Type": "AWS::SQS::Queue",
      "Properties": {
        "KmsMasterKeyId": {"Ref": "Key"},
        "RedrivePolicy": {"maxReceiveCount": "5", "deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
        "QueueName": {"Fn::Sub": "${AWS::StackName}-orders"}
      }
    }
  }
}"#;
        assert_eq!(changes(yaml, json), []);
        assert_eq!(changes(json, yaml), []);
        assert_eq!(changes(yaml, yaml), []);
        // A real difference inside an intrinsic is still seen.
        let other = yaml.replace("!Ref Key", "!Ref OtherKey");
        assert_eq!(
            paths(yaml, &other),
            [p("Properties.KmsMasterKeyId", Replacement::Never)]
        );
    }

    #[test]
    fn many_changes_are_capped_keeping_the_replacing_ones() {
        let props = |v: &str| {
            (0..30)
                .map(|i| format!("      Tag{i}: {v}\n"))
                .collect::<String>()
        };
        let old = format!(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n{}      QueueName: a\n",
            props("x")
        );
        let new = format!(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n{}      QueueName: b\n",
            props("y")
        );
        let c = changes(&old, &new);
        assert_eq!(c[0].properties.len(), MAX_PATHS);
        assert_eq!(c[0].omitted, 31 - MAX_PATHS);
        // The one replacing change (last in the template) is kept, in template order.
        assert_eq!(c[0].properties.last().unwrap().path, "Properties.QueueName");
        assert!(c[0].replaces());
        assert!(render(&c).contains("    ... and 11 more changes\n"));
    }

    #[test]
    fn unparsable_templates_are_errors_not_empty_differences() {
        let err = diff(QUEUE, "Resources:\n  Q: [unclosed\n").unwrap_err();
        assert!(
            err.starts_with("cannot read the new template: line "),
            "{err}"
        );
        let err = diff("", QUEUE).unwrap_err();
        assert!(err.starts_with("cannot read the old template"), "{err}");
        let err = diff("- a\n- b\n", QUEUE).unwrap_err();
        assert!(err.contains("not a mapping"), "{err}");
        let err = diff("Resources: [a]\n", QUEUE).unwrap_err();
        assert!(err.contains("`Resources` is not a mapping"), "{err}");
        // A template without resources is a valid side: everything is added.
        let c = changes("AWSTemplateFormatVersion: '2010-09-09'\n", QUEUE);
        assert_eq!(c[0].change, ChangeKind::Added);
    }

    #[test]
    fn no_changes_render_as_such() {
        assert_eq!(render(&[]), "no resource changes\n");
    }

    #[test]
    fn render_shows_a_realistic_template_change() {
        let old = r#"
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${AWS::StackName}-assets'
      VersioningConfiguration: {Status: Suspended}
      Tags:
        - {Key: team, Value: payments}
        - {Key: env, Value: dev}
  Notifications:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub '${AWS::StackName}-events'
  Service:
    Type: AWS::ECS::Service
    Properties:
      Cluster: !Ref Cluster
      DesiredCount: 1
      TaskDefinition: !Ref Task
  Seed:
    Type: Custom::Seeder
    Properties:
      ServiceToken: !GetAtt SeedFunction.Arn
      Rows: 10
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7}
  Jobs:
    Type: AWS::SNS::Topic
    Properties: {TopicName: jobs}
"#;
        let new = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Bucket": {
      "Type": "AWS::S3::Bucket",
      "DeletionPolicy": "Retain",
      "Properties": {
        "BucketName": {"Fn::Sub": "${AWS::StackName}-assets-v2"},
        "VersioningConfiguration": {"Status": "Enabled"},
        "Tags": [{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}]
      }
    },
    "Queue": {
      "Type": "AWS::SQS::Queue",
      "Properties": {"VisibilityTimeout": 60}
    },
    "Service": {
      "Type": "AWS::ECS::Service",
      "DependsOn": "Queue",
      "Properties": {"Cluster": {"Ref": "Cluster"}, "DesiredCount": 2, "TaskDefinition": {"Ref": "Task"}}
    },
    "Seed": {
      "Type": "Custom::Seeder",
      "Properties": {"ServiceToken": {"Fn::GetAtt": ["SeedFunction", "Arn"]}, "Rows": 20}
    },
    "Logs": {
      "Type": "AWS::Logs::LogGroup",
      "Properties": {"RetentionInDays": "7"}
    },
    "Jobs": {
      "Type": "AWS::SQS::Queue",
      "Properties": {"QueueName": "jobs"}
    }
  }
}"#;
        let text = render(&changes(old, new));
        insta::with_settings!({snapshot_path => "../../../../tests/snapshots/resources", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("render_realistic", text);
        });
    }
}
