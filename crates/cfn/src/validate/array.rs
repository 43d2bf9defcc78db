//! The keywords of a list: its items' schema, how many items it has, and whether they are
//! unique.

use super::convert::same_item;
use super::{Finding, Seg, Site, Walk, is_intrinsic, is_no_value, plural};
use crate::diag::codes;
use crate::schema::SchemaNode;
use crate::yaml::Node;

impl<'a, 'n> Walk<'a, 'n> {
    pub(super) fn array(
        &mut self,
        node: &'a SchemaNode,
        site: Site<'n>,
        items: &'n [Node],
        out: &mut Vec<Finding>,
    ) {
        if let Some(item_schema) = node.items {
            for (i, item) in items.iter().enumerate() {
                if is_no_value(item) {
                    continue;
                }
                self.descend(
                    Seg::Index(i),
                    item_schema,
                    Site {
                        key: None,
                        value: item,
                    },
                    out,
                );
            }
        }
        // Counts are undecided when an item is a function (`Fn::If` may drop it, a `Ref` to a
        // list parameter may be many).
        if items.iter().any(is_intrinsic) {
            self.unknown = true;
        } else {
            let n = items.len() as u64;
            if let Some(min) = node.min_items.filter(|m| n < *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!(
                        "{} has {n} item{}; it needs at least {min}",
                        self.subject(),
                        plural(n)
                    ),
                    format!("give it at least {min}"),
                );
            }
            if let Some(max) = node.max_items.filter(|m| n > *m) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!("{} has {n} items; it takes at most {max}", self.subject()),
                    format!("keep at most {max}"),
                );
            }
        }
        if node.unique_items {
            let repeated = |i: usize| {
                items[..i]
                    .iter()
                    .any(|earlier| same_item(earlier, &items[i]))
            };
            if let Some(dup) = (1..items.len()).find(|&i| repeated(i)) {
                self.push(
                    out,
                    codes::C023,
                    self.value_span(site),
                    format!("{} lists the same item twice (item {dup})", self.subject()),
                    "remove the duplicate".to_string(),
                );
            }
        }
    }
}
