//! Knowledge of CloudFormation resource types: the dataset in `data/cfn/resources.tsv`
//! (generated from cfn-lint's provider schemas, MIT-0), embedded in the binary. Lines are
//! sorted by type name, so a lookup is a binary search over the text that decodes only the
//! one line it finds; types are cached for the rest of the run.

use std::collections::BTreeMap;

use serde::Deserialize;

static DATA: &str = include_str!("../../../data/cfn/resources.tsv");

/// The kind of a property's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
    Any,
}

impl Kind {
    fn parse(s: &str) -> Kind {
        match s {
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "number" => Kind::Number,
            "boolean" => Kind::Boolean,
            "array" => Kind::Array,
            "object" => Kind::Object,
            _ => Kind::Any,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Integer => "an integer",
            Kind::Number => "a number",
            Kind::Boolean => "a boolean",
            Kind::Array => "a list",
            Kind::Object => "a mapping",
            Kind::Any => "any value",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Property {
    pub kind: Kind,
    /// Allowed values, as text.
    pub allowed: Option<Vec<String>>,
    /// The kind of a list's items, when primitive.
    pub items: Option<Kind>,
}

#[derive(Clone, Debug)]
pub struct ResourceType {
    pub properties: BTreeMap<String, Property>,
    pub required: Vec<String>,
    /// `Fn::GetAtt` attribute names.
    pub attributes: Vec<String>,
    /// Properties whose change replaces the resource.
    pub create_only: Vec<String>,
}

#[derive(Deserialize)]
struct RawType {
    p: BTreeMap<String, RawProperty>,
    #[serde(default)]
    r: Vec<String>,
    #[serde(default)]
    a: Vec<String>,
    #[serde(default)]
    c: Vec<String>,
}

#[derive(Deserialize)]
struct RawProperty {
    t: String,
    #[serde(default)]
    e: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    i: Option<String>,
}

/// The dataset's provenance (its header line).
pub fn provenance() -> &'static str {
    DATA.lines().next().unwrap_or("").trim_start_matches("# ")
}

/// Whether the dataset describes this type (and so whether an unknown type is a mistake):
/// AWS and Alexa types, except SAM's (expanded by a transform) and custom resources.
pub fn is_checked_namespace(type_name: &str) -> bool {
    (type_name.starts_with("AWS::") || type_name.starts_with("Alexa::"))
        && !type_name.starts_with("AWS::Serverless::")
        && type_name != "AWS::CloudFormation::CustomResource"
        && !type_name.ends_with("::MODULE")
}

/// The line of a type, by binary search over the sorted text (the header line excluded).
fn find_line(type_name: &str) -> Option<&'static str> {
    sorted_line(DATA, type_name)
}

/// The line of `text` whose first tab-separated field is `name`, by binary search: the lines
/// after the first (a header) are sorted by that field in byte order. Shared by the summary
/// (`resources.tsv`) and the schemas' index (`schemas.bin`).
pub(super) fn sorted_line<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let body_start = text.find('\n').map_or(text.len(), |i| i + 1);
    let (mut lo, mut hi) = (body_start, text.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        // The start of the line containing `mid`.
        let start = text[lo..mid].rfind('\n').map_or(lo, |i| lo + i + 1);
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = &text[start..end];
        let first = line.split('\t').next().unwrap_or("");
        match first.as_bytes().cmp(name.as_bytes()) {
            std::cmp::Ordering::Equal => return Some(line),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

static TYPES: std::sync::LazyLock<crate::interned::Global<ResourceType>> =
    std::sync::LazyLock::new(Default::default);

thread_local! {
    static LOCAL: crate::interned::Local<ResourceType> = Default::default();
}

/// Looks a type up. `None` when the dataset does not know it.
pub fn lookup(type_name: &str) -> Option<&'static ResourceType> {
    crate::interned::get((&*TYPES, &LOCAL), type_name, || parse(type_name))
}

fn parse(type_name: &str) -> Option<ResourceType> {
    find_line(type_name).and_then(|line| {
        let json = line.split_once('\t')?.1;
        let raw: RawType = serde_json::from_str(json).ok()?;
        Some(ResourceType {
            properties: raw
                .p
                .into_iter()
                .map(|(name, p)| {
                    let allowed = p.e.map(|values| {
                        values
                            .into_iter()
                            .map(|v| match v {
                                serde_json::Value::String(s) => s,
                                other => other.to_string(),
                            })
                            .collect()
                    });
                    (
                        name,
                        Property {
                            kind: Kind::parse(&p.t),
                            allowed,
                            items: p.i.as_deref().map(Kind::parse),
                        },
                    )
                })
                .collect(),
            required: raw.r,
            attributes: raw.a,
            create_only: raw.c,
        })
    })
}

/// Every type name, for suggestions (only on the error path: it scans the dataset).
pub fn names() -> impl Iterator<Item = &'static str> {
    DATA.lines().skip(1).filter_map(|l| l.split('\t').next())
}

/// The date of the embedded resource dataset (`schema_date` in its header line), for
/// `proctor --version`.
pub fn dataset_date() -> &'static str {
    let header = DATA.lines().next().unwrap_or_default();
    header
        .split("schema_date ")
        .nth(1)
        .and_then(|rest| rest.get(..10))
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_types_up_by_binary_search() {
        let lb = lookup("AWS::ElasticLoadBalancingV2::LoadBalancer").expect("known type");
        assert!(lb.attributes.iter().any(|a| a == "DNSName"));
        let role = lookup("AWS::IAM::Role").expect("known type");
        assert_eq!(role.required, ["AssumeRolePolicyDocument"]);
        let logs = lookup("AWS::Logs::LogGroup").expect("known type");
        assert_eq!(logs.properties["RetentionInDays"].kind, Kind::Integer);
        assert!(
            logs.properties["RetentionInDays"]
                .allowed
                .as_ref()
                .is_some_and(|a| a.contains(&"30".to_string()))
        );
        assert!(lookup("AWS::S3::Buckett").is_none());
        assert!(lookup("AAA").is_none() && lookup("ZZZ").is_none());
        // Every line can be found: the file is sorted as the search assumes.
        for name in names() {
            assert!(find_line(name).is_some(), "{name}");
        }
    }
}
