//! The walk over a template's values, and the intrinsic functions met on the way: which
//! function a one-key mapping names, and whether its arguments have the right shape.

use super::{Checker, Ctx, is_intrinsic};
use crate::diag::{codes, did_you_mean};
use crate::yaml::{Node, Value};

impl Checker<'_> {
    /// Walks a value, checking every intrinsic function in it.
    pub(super) fn walk(&mut self, node: &Node, ctx: Ctx<'_>) {
        match &node.value {
            Value::Seq(items) => {
                for i in items {
                    self.walk(i, ctx);
                }
            }
            Value::Map(entries) => {
                if entries.len() == 1 {
                    let (k, v) = &entries[0];
                    let key = k.text();
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

    pub(super) fn shape(&mut self, name: &str, node: &Node, expected: &str) {
        self.report(
            codes::C015,
            format!("`{name}` takes {expected}"),
            node.span.clone(),
            &format!("write `{name}` with {expected}"),
        );
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
}
