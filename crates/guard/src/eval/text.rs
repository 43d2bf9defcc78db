//! Rules' clauses and values in Guard's own words, for labels and messages.

use crate::ast::*;

pub fn query_text(q: &Query) -> String {
    let mut s = String::new();
    for (i, p) in q.parts.iter().enumerate() {
        match p {
            Part::Key(k) => {
                if i > 0 {
                    s.push('.');
                }
                s.push_str(k);
            }
            Part::All => s.push_str(if i == 0 { "*" } else { ".*" }),
            Part::AllItems => s.push_str("[*]"),
            Part::Index(n) => s.push_str(&format!("[{n}]")),
            Part::Variable(v) => s.push_str(&format!("{}%{v}", if i > 0 { "." } else { "" })),
            Part::This => s.push_str("this"),
            Part::Bind(b) => s.push_str(&format!("[ {b} ]")),
            Part::Filter { .. } => s.push_str("[ ... ]"),
            Part::KeysFilter { .. } => s.push_str("[ keys ... ]"),
        }
    }
    s
}

/// The clause in Guard's own words, for the label at a failing node:
/// `` `Properties.Tags[*].Key` == "owner" ``, `` `Properties.KmsMasterKeyId` exists ``.
pub fn clause_text(q: &Query, op: &AccessOp) -> String {
    let op = match op {
        AccessOp::Unary { not, op } => {
            let name = match op {
                UnaryOp::Exists => "exists",
                UnaryOp::Empty => "empty",
                UnaryOp::IsString => "is_string",
                UnaryOp::IsList => "is_list",
                UnaryOp::IsStruct => "is_struct",
                UnaryOp::IsBool => "is_bool",
                UnaryOp::IsInt => "is_int",
                UnaryOp::IsFloat => "is_float",
                UnaryOp::IsNull => "is_null",
            };
            format!("{}{name}", if *not { "!" } else { "" })
        }
        AccessOp::Binary { op, rhs } => {
            let op = match op {
                CmpOp::Eq => "==",
                CmpOp::Ne => "!=",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
                CmpOp::In => "IN",
                CmpOp::NotIn => "NOT IN",
            };
            format!("{op} {}", rhs_text(rhs))
        }
    };
    format!("`{}` {op}", query_text(q))
}

fn rhs_text(rhs: &Rhs) -> String {
    match rhs {
        Rhs::Literal(l, _) => literal_text(l),
        Rhs::Query(q) => query_text(q),
        Rhs::Call(c) => format!("{}(...)", c.name),
    }
}

pub fn literal_text(l: &Literal) -> String {
    let list = |items: Vec<String>| {
        // Long lists are cut: the label is one line.
        let shown: Vec<String> = items.iter().take(4).cloned().collect();
        let more = if items.len() > 4 { ", ..." } else { "" };
        format!("[{}{more}]", shown.join(", "))
    };
    match l {
        Literal::Null => "null".into(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(n) => n.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::String(s) => format!("{s:?}"),
        Literal::Char(c) => format!("{:?}", c.to_string()),
        Literal::Regex(r) => format!("/{r}/"),
        Literal::Range(r) => format!(
            "r{}{}, {}{}",
            if r.lower_inclusive { "[" } else { "(" },
            literal_text(&r.lower),
            literal_text(&r.upper),
            if r.upper_inclusive { "]" } else { ")" }
        ),
        Literal::List(items) => list(items.iter().map(literal_text).collect()),
        Literal::Map(entries) => {
            let shown: Vec<String> = entries
                .iter()
                .take(3)
                .map(|(k, v)| format!("{k}: {}", literal_text(v)))
                .collect();
            format!(
                "{{{}{}}}",
                shown.join(", "),
                if entries.len() > 3 { ", ..." } else { "" }
            )
        }
    }
}
