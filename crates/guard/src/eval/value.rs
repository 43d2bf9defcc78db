//! The values a policy works on: document nodes and values a rule or a function made, and the
//! views comparisons read them through (`compare`).

use std::borrow::Cow;
use std::rc::Rc;

use crate::ast::{Literal, RangeLit};
use crate::yaml::{Node, Value as Y};

/// A value: a node of the data, or one a rule or a function made.
#[derive(Clone, Debug)]
pub enum Val<'d> {
    Doc(&'d Node),
    Data(Rc<Literal>),
    /// A literal written in the rules, borrowed from them: comparing every resource with
    /// `Type == 'AWS::S3::Bucket'` copied the literal (and `IN [...]` its whole list) each
    /// time.
    Rule(&'d Literal),
}

/// A borrowed view of a value, so that comparisons need not copy documents.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    N(&'a Node),
    L(&'a Literal),
}

/// What a value is, for the comparisons.
pub enum Kind<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Char(char),
    Regex(&'a str),
    Range(&'a RangeLit),
    List,
    Map,
}

impl<'d> Val<'d> {
    pub fn view(&self) -> View<'_> {
        match self {
            Val::Doc(n) => View::N(n),
            Val::Data(l) => View::L(l),
            Val::Rule(l) => View::L(l),
        }
    }

    /// The literal this value is, when it is not a node of the data.
    pub fn as_literal(&self) -> Option<&Literal> {
        match self {
            Val::Doc(_) => None,
            Val::Data(l) => Some(l),
            Val::Rule(l) => Some(l),
        }
    }

    pub fn node(&self) -> Option<&'d Node> {
        match self {
            Val::Doc(n) => Some(n),
            Val::Data(_) | Val::Rule(_) => None,
        }
    }

    pub fn literal(&self) -> Rc<Literal> {
        match self {
            Val::Data(l) => l.clone(),
            Val::Rule(l) => Rc::new((*l).clone()),
            Val::Doc(n) => Rc::new(node_literal(n)),
        }
    }

    pub fn is_list(&self) -> bool {
        matches!(self.view().kind(), Kind::List)
    }

    pub fn is_map(&self) -> bool {
        matches!(self.view().kind(), Kind::Map)
    }

    /// A list's items.
    pub fn items(&self) -> Vec<Val<'d>> {
        match self {
            Val::Doc(n) => match &n.value {
                Y::Seq(s) => s.iter().map(Val::Doc).collect(),
                _ => Vec::new(),
            },
            Val::Data(l) => match l.as_ref() {
                Literal::List(items) => items
                    .iter()
                    .map(|i| Val::Data(Rc::new(i.clone())))
                    .collect(),
                _ => Vec::new(),
            },
            Val::Rule(l) => match l {
                Literal::List(items) => items.iter().map(Val::Rule).collect(),
                _ => Vec::new(),
            },
        }
    }

    /// A map's entries: the key (as a value) and the value.
    pub fn entries(&self) -> Vec<(Val<'d>, Val<'d>)> {
        match self {
            Val::Doc(n) => match &n.value {
                Y::Map(m) => m.iter().map(|(k, v)| (Val::Doc(k), Val::Doc(v))).collect(),
                _ => Vec::new(),
            },
            Val::Data(l) => match l.as_ref() {
                Literal::Map(m) => m
                    .iter()
                    .map(|(k, v)| {
                        (
                            Val::Data(Rc::new(Literal::String(k.clone()))),
                            Val::Data(Rc::new(v.clone())),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            },
            Val::Rule(l) => match l {
                Literal::Map(m) => m
                    .iter()
                    .map(|(k, v)| (Val::Data(Rc::new(Literal::String(k.clone()))), Val::Rule(v)))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// The value under a string key of a map.
    pub fn get(&self, key: &str) -> Option<Val<'d>> {
        match self {
            Val::Doc(n) => n
                .as_map()?
                .iter()
                .find(|(k, _)| key_is(k, key))
                .map(|(_, v)| Val::Doc(v)),
            Val::Data(l) => match l.as_ref() {
                Literal::Map(m) => m
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| Val::Data(Rc::new(v.clone()))),
                _ => None,
            },
            Val::Rule(l) => match l {
                Literal::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| Val::Rule(v)),
                _ => None,
            },
        }
    }

    /// Whether a map or list has no entries (a scalar has none).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of entries of a map or items of a list.
    pub fn len(&self) -> usize {
        match self.view() {
            View::N(n) => match &n.value {
                Y::Seq(s) => s.len(),
                Y::Map(m) => m.len(),
                _ => 0,
            },
            View::L(l) => match l {
                Literal::List(s) => s.len(),
                Literal::Map(m) => m.len(),
                _ => 0,
            },
        }
    }
}

/// Whether a map key node is the string `key` (keys are compared as text, as Guard does).
fn key_is(k: &Node, key: &str) -> bool {
    match &k.value {
        Y::String(s) => s == key,
        _ => k.scalar_text().as_deref() == Some(key),
    }
}

impl<'a> View<'a> {
    pub fn kind(self) -> Kind<'a> {
        match self {
            View::N(n) => match &n.value {
                Y::Null => Kind::Null,
                Y::Bool(b) => Kind::Bool(*b),
                Y::Int(i) => Kind::Int(*i),
                Y::Float(f) => Kind::Float(*f),
                Y::String(s) => Kind::Str(s),
                Y::Seq(_) => Kind::List,
                Y::Map(_) => Kind::Map,
            },
            View::L(l) => match l {
                Literal::Null => Kind::Null,
                Literal::Bool(b) => Kind::Bool(*b),
                Literal::Int(i) => Kind::Int(*i),
                Literal::Float(f) => Kind::Float(*f),
                Literal::String(s) => Kind::Str(s),
                Literal::Char(c) => Kind::Char(*c),
                Literal::Regex(r) => Kind::Regex(r),
                Literal::Range(r) => Kind::Range(r),
                Literal::List(_) => Kind::List,
                Literal::Map(_) => Kind::Map,
            },
        }
    }

    pub fn is_list(self) -> bool {
        matches!(self.kind(), Kind::List)
    }

    pub fn is_scalar(self) -> bool {
        !matches!(self.kind(), Kind::List | Kind::Map)
    }

    pub fn items(self) -> Vec<View<'a>> {
        match self {
            View::N(n) => match &n.value {
                Y::Seq(s) => s.iter().map(View::N).collect(),
                _ => Vec::new(),
            },
            View::L(Literal::List(items)) => items.iter().map(View::L).collect(),
            View::L(_) => Vec::new(),
        }
    }

    pub(super) fn entries(self) -> Vec<(Cow<'a, str>, View<'a>)> {
        match self {
            View::N(n) => match &n.value {
                Y::Map(m) => m.iter().map(|(k, v)| (k.text(), View::N(v))).collect(),
                _ => Vec::new(),
            },
            View::L(Literal::Map(m)) => m
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), View::L(v)))
                .collect(),
            View::L(_) => Vec::new(),
        }
    }
}

/// A document node as a literal (structurally; tags are already long forms).
pub fn node_literal(n: &Node) -> Literal {
    match &n.value {
        Y::Null => Literal::Null,
        Y::Bool(b) => Literal::Bool(*b),
        Y::Int(i) => Literal::Int(*i),
        Y::Float(f) => Literal::Float(*f),
        Y::String(s) => Literal::String(s.to_string()),
        Y::Seq(items) => Literal::List(items.iter().map(node_literal).collect()),
        Y::Map(m) => Literal::Map(
            m.iter()
                .map(|(k, v)| (k.scalar_text().unwrap_or_default(), node_literal(v)))
                .collect(),
        ),
    }
}

/// A short one-line rendering of a node, for messages.
pub fn node_text(n: &Node) -> String {
    fn write(n: &Node, out: &mut String) {
        if out.len() > 80 {
            return;
        }
        match &n.value {
            Y::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&k.scalar_text().unwrap_or_default());
                    out.push_str(": ");
                    write(v, out);
                    if out.len() > 80 {
                        break;
                    }
                }
                out.push('}');
            }
            Y::Seq(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write(v, out);
                    if out.len() > 80 {
                        break;
                    }
                }
                out.push(']');
            }
            _ => out.push_str(&n.scalar_text().unwrap_or_default()),
        }
    }
    let mut out = String::new();
    write(n, &mut out);
    if out.chars().count() > 80 {
        out = out.chars().take(79).collect::<String>() + "…";
    }
    out
}
