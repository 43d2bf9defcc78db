//! `Fn::ForEach` of the `AWS::LanguageExtensions` transform, expanded before the checks, so
//! that the resources, outputs and conditions a loop makes are checked like written ones.
//!
//! `Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]` makes one copy of
//! the fragment per item of the collection: `${Identifier}` and `&{Identifier}` (the item
//! without its non-alphanumeric characters) in keys, `!Ref Identifier` and `${Identifier}`
//! in `Fn::Sub` strings in values. A collection proctor cannot know (a parameter without a
//! default, a function) leaves the loop as written, and the checks skip it as before.
//! Copies keep the fragment's spans, so a mistake in the fragment is reported once, at the
//! fragment, with the logical ids written as in the fragment (`${Name}Queue`).

use crate::yaml::{Node, Value};

/// Copies made by all the loops of one template, at most (a hostile template could nest
/// loops over long lists); past it, the remaining loops stay as written.
const MAX_COPIES: usize = 5_000;

/// The expanded template, and each made key with the key as the fragment writes it.
pub struct Expanded {
    pub root: Node,
    pub names: Vec<(String, String)>,
}

/// Expands the loops of a template that declares `AWS::LanguageExtensions`; `None` when
/// there is nothing to expand.
pub fn expand(root: &Node) -> Option<Expanded> {
    let declared = super::declares_transform(root, "AWS::LanguageExtensions");
    if !declared || !has_loop(root, 0) {
        return None;
    }
    let mut x = Expander {
        defaults: parameter_defaults(root),
        copies: 0,
        names: Vec::new(),
    };
    let root = x.node(root.clone(), 0);
    Some(Expanded {
        root,
        names: x.names,
    })
}

fn has_loop(node: &Node, depth: usize) -> bool {
    depth < 64
        && match &node.value {
            Value::Map(m) => m.iter().any(|(k, v)| {
                k.as_str().is_some_and(|k| k.starts_with("Fn::ForEach::")) || has_loop(v, depth + 1)
            }),
            Value::Seq(s) => s.iter().any(|v| has_loop(v, depth + 1)),
            _ => false,
        }
}

/// Each parameter's default as a list (a `CommaDelimitedList` default is split).
fn parameter_defaults(root: &Node) -> Vec<(String, Vec<String>)> {
    root.get("Parameters")
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, p)| {
            let name = k.as_str()?.to_string();
            let items = match &p.get("Default")?.value {
                Value::Seq(items) => items
                    .iter()
                    .map(|i| i.scalar_text())
                    .collect::<Option<Vec<_>>>()?,
                Value::String(s) => s.split(',').map(|i| i.trim().to_string()).collect(),
                _ => return None,
            };
            Some((name, items))
        })
        .collect()
}

struct Expander {
    defaults: Vec<(String, Vec<String>)>,
    copies: usize,
    names: Vec<(String, String)>,
}

impl Expander {
    fn node(&mut self, node: Node, depth: usize) -> Node {
        if depth > 64 {
            return node;
        }
        let Node {
            span,
            tag,
            plain,
            value,
        } = node;
        let value = match value {
            Value::Map(entries) => Value::Map(self.entries(entries, depth)),
            Value::Seq(items) => {
                Value::Seq(items.into_iter().map(|i| self.node(i, depth + 1)).collect())
            }
            v => v,
        };
        Node {
            span,
            tag,
            plain,
            value,
        }
    }

    fn entries(&mut self, entries: Vec<(Node, Node)>, depth: usize) -> Vec<(Node, Node)> {
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let is_loop = k.as_str().is_some_and(|k| k.starts_with("Fn::ForEach::"));
            match is_loop.then(|| self.copies(&v)).flatten() {
                Some(made) => {
                    // Loops inside the copies (nested loops, loops in properties) expand too.
                    let made = self.entries(made, depth + 1);
                    out.extend(made);
                }
                None => out.push((k, self.node(v, depth + 1))),
            }
        }
        out
    }

    /// The entries one loop makes, or `None` when it cannot be expanded.
    fn copies(&mut self, v: &Node) -> Option<Vec<(Node, Node)>> {
        let [identifier, collection, fragment] = v.as_seq()? else {
            return None;
        };
        let id = identifier.as_str()?;
        let items: Vec<String> = match &collection.value {
            Value::Seq(items) => items.iter().map(Node::scalar_text).collect::<Option<_>>()?,
            Value::Map(_) => {
                let name = collection.get("Ref")?.as_str()?;
                self.defaults.iter().find(|(n, _)| n == name)?.1.clone()
            }
            _ => return None,
        };
        let fragment = fragment.as_map()?;
        if self.copies + items.len() * fragment.len() > MAX_COPIES {
            return None;
        }
        self.copies += items.len() * fragment.len();
        let mut made = Vec::new();
        for item in &items {
            for (fk, fv) in fragment {
                let written = fk.scalar_text().unwrap_or_default();
                let key_text = substitute_key(&written, id, item);
                if key_text != written {
                    self.names.push((key_text.clone(), written.clone()));
                }
                let key = Node {
                    value: Value::String(key_text.into()),
                    ..fk.clone()
                };
                made.push((key, substitute(fv, id, item, false)));
            }
        }
        Some(made)
    }
}

/// `${id}` and `&{id}` in a key.
fn substitute_key(text: &str, id: &str, item: &str) -> String {
    let alnum: String = item.chars().filter(char::is_ascii_alphanumeric).collect();
    text.replace(&format!("${{{id}}}"), item)
        .replace(&format!("&{{{id}}}"), &alnum)
}

/// The identifier in a value: `!Ref id`, and `${id}` in `Fn::Sub` strings (and keys).
fn substitute(node: &Node, id: &str, item: &str, in_sub: bool) -> Node {
    let value = match &node.value {
        Value::Map(m)
            if m.len() == 1 && m[0].0.as_str() == Some("Ref") && m[0].1.as_str() == Some(id) =>
        {
            Value::String(item.into())
        }
        // `!Sub S3Bucket${Id}` left with no variable is its text (the transform resolves it, so
        // it can name a resource in `Fn::GetAtt`).
        Value::Map(m)
            if m.len() == 1
                && m[0].0.as_str() == Some("Fn::Sub")
                && m[0].1.as_str().is_some_and(|t| {
                    t.contains(&format!("${{{id}}}"))
                        && !t.replace(&format!("${{{id}}}"), item).contains("${")
                }) =>
        {
            Value::String(
                m[0].1
                    .as_str()
                    .unwrap_or_default()
                    .replace(&format!("${{{id}}}"), item)
                    .into(),
            )
        }
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| {
                    let sub = k.as_str() == Some("Fn::Sub");
                    let key = match k.as_str() {
                        Some(t) if t.contains('{') => Node {
                            value: Value::String(substitute_key(t, id, item).into()),
                            ..k.clone()
                        },
                        _ => k.clone(),
                    };
                    (key, substitute(v, id, item, sub))
                })
                .collect(),
        ),
        Value::Seq(items) => Value::Seq(
            items
                .iter()
                .enumerate()
                // In `Fn::Sub: [text, {vars}]` only the text is a template.
                .map(|(i, v)| substitute(v, id, item, in_sub && i == 0))
                .collect(),
        ),
        Value::String(s) if in_sub => Value::String(s.replace(&format!("${{{id}}}"), item).into()),
        v => v.clone(),
    };
    Node {
        value,
        ..node.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn parse(text: &str) -> Node {
        let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
        crate::parse(&src, &mut Vec::new()).unwrap()
    }

    #[test]
    fn loops_make_one_copy_per_item_with_the_identifier_replaced() {
        let root = parse(
            "Transform: AWS::LanguageExtensions\nParameters:\n  Names:\n    Type: CommaDelimitedList\n    Default: a-1,b\nResources:\n  Fn::ForEach::Q:\n    - N\n    - !Ref Names\n    - '&{N}Queue':\n        Type: AWS::SQS::Queue\n        Properties:\n          QueueName: !Sub '${N}-${AWS::StackName}'\n          Tag: !Ref N\n",
        );
        let x = expand(&root).unwrap();
        let res = x.root.get("Resources").unwrap();
        let a = res.get("a1Queue").unwrap();
        assert_eq!(
            a.pointer(["Properties", "Tag"]).unwrap().as_str(),
            Some("a-1")
        );
        let sub = a.pointer(["Properties", "QueueName", "Fn::Sub"]).unwrap();
        assert_eq!(sub.as_str(), Some("a-1-${AWS::StackName}"));
        assert!(res.get("bQueue").is_some());
        // A `!Sub` the identifier fully resolves is plain text.
        let root = parse(
            "Transform: AWS::LanguageExtensions\nResources:\n  B:\n    Type: AWS::SNS::Topic\nOutputs:\n  Fn::ForEach::O:\n    - Id\n    - [B]\n    - ${Id}Arn:\n        Value: !GetAtt [!Sub '${Id}', TopicArn]\n",
        );
        let y = expand(&root).unwrap();
        let first = y
            .root
            .pointer(["Outputs", "BArn", "Value", "Fn::GetAtt", "0"])
            .unwrap();
        assert_eq!(first.as_str(), Some("B"));
        assert!(
            x.names
                .contains(&("bQueue".to_string(), "&{N}Queue".to_string()))
        );
    }

    #[test]
    fn an_unknown_collection_leaves_the_loop_as_written() {
        let root = parse(
            "Transform: AWS::LanguageExtensions\nParameters:\n  Names:\n    Type: CommaDelimitedList\nResources:\n  Fn::ForEach::Q:\n    - N\n    - !Ref Names\n    - ${N}:\n        Type: AWS::SQS::Queue\n",
        );
        let x = expand(&root).unwrap();
        assert!(x.root.pointer(["Resources", "Fn::ForEach::Q"]).is_some());
        assert!(expand(&parse("Resources:\n  A:\n    Type: AWS::SQS::Queue\n")).is_none());
    }
}
