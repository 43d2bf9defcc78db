//! Query resolution as cfn-guard 3.2.1 does it: keys, wildcards, indexes, filters, key
//! filters and variables, each step keeping entries that did not resolve, so that clauses can
//! tell "missing" from "selected nothing".
//!
//! Two values travel down a query: `current`, the value the next part applies to, and `root`,
//! the value that clauses inside a filter see as `this`. cfn-guard re-roots a filter only where
//! it iterates a map or filters a list's items directly; after `[*]` on a list the filter's
//! clauses still see the enclosing value (a quirk kept for identical verdicts).

use super::value::{Kind, Val};
use super::{Eval, Evaluator, Few, Halt, QR, Role, Status, Unres};
use crate::ast::{Part, Query, Rhs};

/// The part before the one being resolved, as far as filters care.
#[derive(Clone, Copy, PartialEq)]
enum Prev {
    /// `.*`: a filter on a mapping keeps or drops the mapping itself.
    AllValues,
    /// `[*]`, `[name]`, or the variable a query starts with: a filter keeps or drops the
    /// value itself, a mapping or a scalar.
    AllIndices,
    /// A key or anything else: a filter on a map selects among its values.
    Other,
}

fn prev_of(p: &Part) -> Prev {
    match p {
        Part::All => Prev::AllValues,
        Part::AllItems | Part::Bind(_) => Prev::AllIndices,
        _ => Prev::Other,
    }
}

impl<'p: 'd, 'd> Evaluator<'p, 'd> {
    /// Resolves a query against `root` (the current context's value).
    pub(super) fn query(&mut self, q: &'p Query, root: &Val<'d>) -> Eval<Few<QR<'d>>> {
        let parts = q.parts.as_slice();
        let mut out = Few::new();
        match parts.first() {
            Some(Part::Variable(name)) => {
                let values = self.variable(name)?;
                // A wildcard right after the variable is implied and not applied again.
                let next = match parts.get(1) {
                    Some(Part::AllItems | Part::Bind(_)) => 2,
                    _ => 1,
                };
                for v in values {
                    match v {
                        QR::Unres(_) => out.push(v),
                        QR::Lit(ref x) | QR::Res(ref x) => {
                            if next < parts.len() {
                                let x = x.clone();
                                self.retrieve(
                                    parts,
                                    next,
                                    Prev::AllIndices,
                                    x.clone(),
                                    &x,
                                    &mut out,
                                )?;
                            } else {
                                out.push(v);
                            }
                        }
                    }
                }
            }
            Some(Part::This) => {
                self.retrieve(parts, 1, Prev::Other, root.clone(), root, &mut out)?;
            }
            _ => self.retrieve(parts, 0, Prev::Other, root.clone(), root, &mut out)?,
        }
        Ok(out)
    }

    fn unres(&self, at: &Val<'d>, why: String) -> QR<'d> {
        QR::Unres(Unres { at: at.node(), why })
    }

    /// Resolves `parts[i..]` from `current`, appending to `out`.
    fn retrieve(
        &mut self,
        parts: &'p [Part],
        i: usize,
        prev: Prev,
        current: Val<'d>,
        root: &Val<'d>,
        out: &mut Few<QR<'d>>,
    ) -> Eval<()> {
        self.tick()?;
        let Some(part) = parts.get(i) else {
            out.push(QR::Res(current));
            return Ok(());
        };
        let here = prev_of(part);
        match part {
            Part::This => self.retrieve(parts, i + 1, prev, current, root, out),
            Part::Key(k) => {
                if let Ok(idx) = k.parse::<i64>() {
                    return if current.is_list() {
                        self.index(parts, i, idx, current, root, out)
                    } else {
                        out.push(self.unres(&current, format!("no index {idx}: not a list")));
                        Ok(())
                    };
                }
                if !current.is_map() {
                    out.push(self.unres(&current, format!("no key `{k}`: not a mapping")));
                    return Ok(());
                }
                match current.get(k) {
                    Some(v) => self.retrieve(parts, i + 1, here, v, root, out),
                    None => match self.converted_key(&current, k) {
                        Some(v) => self.retrieve(parts, i + 1, here, v, root, out),
                        None => {
                            out.push(self.unres(&current, format!("no key `{k}`")));
                            Ok(())
                        }
                    },
                }
            }
            Part::Index(idx) => {
                if current.is_list() {
                    self.index(parts, i, *idx, current, root, out)
                } else {
                    out.push(self.unres(&current, format!("no index {idx}: not a list")));
                    Ok(())
                }
            }
            Part::AllItems | Part::Bind(_) | Part::All => {
                let name = match part {
                    Part::Bind(n) => Some(n.as_str()),
                    _ => None,
                };
                if current.is_list() {
                    let items = current.items();
                    if items.is_empty() {
                        out.push(self.unres(&current, "an empty list".into()));
                        return Ok(());
                    }
                    for item in items {
                        self.retrieve(parts, i + 1, here, item, root, out)?;
                    }
                    Ok(())
                } else if current.is_map() && (name.is_some() || matches!(part, Part::All)) {
                    let entries = current.entries();
                    if entries.is_empty() {
                        out.push(self.unres(&current, "an empty mapping".into()));
                        return Ok(());
                    }
                    for (key, value) in entries {
                        if let Some(n) = name {
                            self.capture(n, key);
                        }
                        self.retrieve(parts, i + 1, here, value.clone(), &value, out)?;
                    }
                    Ok(())
                } else {
                    // `[*]` keeps a mapping or a scalar as it is; `.*` keeps a scalar.
                    self.retrieve(parts, i + 1, here, current, root, out)
                }
            }
            Part::Variable(name) => self.interpolated_keys(parts, i, name, current, root, out),
            Part::Filter { bind, conditions } => {
                if current.is_map() {
                    if prev != Prev::Other {
                        // The value itself is kept or dropped, judged in the context as it is.
                        if self.filter_passes(conditions, root)? {
                            self.retrieve(parts, i + 1, here, current, root, out)?;
                        }
                        return Ok(());
                    }
                    for (key, value) in current.entries() {
                        if self.filter_passes(conditions, &value)? {
                            if let Some(n) = bind {
                                self.capture(n, key);
                            }
                            self.retrieve(parts, i + 1, here, value.clone(), &value, out)?;
                        }
                    }
                    Ok(())
                } else if current.is_list() {
                    for item in current.items() {
                        if self.filter_passes(conditions, &item)? {
                            self.retrieve(parts, i + 1, here, item.clone(), root, out)?;
                        }
                    }
                    Ok(())
                } else if prev == Prev::AllIndices {
                    if self.filter_passes(conditions, &current)? {
                        self.retrieve(parts, i + 1, here, current.clone(), root, out)?;
                    }
                    Ok(())
                } else {
                    out.push(self.unres(
                        &current,
                        "a filter on a value that is not a list or mapping".into(),
                    ));
                    Ok(())
                }
            }
            Part::KeysFilter { op, rhs } => {
                if !current.is_map() {
                    out.push(self.unres(
                        &current,
                        "a key filter on a value that is not a mapping".into(),
                    ));
                    return Ok(());
                }
                let right = match rhs.as_ref() {
                    Rhs::Literal(l, _) => vec![QR::Lit(Val::Data(std::rc::Rc::new(l.clone())))],
                    Rhs::Query(q) => self.query(q, &current)?.into_vec(),
                    Rhs::Call(c) => self.call(c, root)?,
                };
                for (key, value) in current.entries() {
                    if super::ops::key_selected(*op, &key, &right, &self.search) {
                        self.retrieve(parts, i + 1, here, value, root, out)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn index(
        &mut self,
        parts: &'p [Part],
        i: usize,
        idx: i64,
        current: Val<'d>,
        root: &Val<'d>,
        out: &mut Few<QR<'d>>,
    ) -> Eval<()> {
        let items = current.items();
        match index_offset(idx, items.len()) {
            Some(k) => self.retrieve(parts, i + 1, Prev::Other, items[k].clone(), root, out),
            None => {
                out.push(self.unres(&current, format!("no index {idx}")));
                Ok(())
            }
        }
    }

    /// `.%name`: the variable's string values (or lists of strings) used as keys.
    fn interpolated_keys(
        &mut self,
        parts: &'p [Part],
        i: usize,
        name: &'p str,
        current: Val<'d>,
        root: &Val<'d>,
        out: &mut Few<QR<'d>>,
    ) -> Eval<()> {
        if !current.is_map() {
            out.push(self.unres(&current, format!("no key `%{name}`: not a mapping")));
            return Ok(());
        }
        let mut keys = self.variable(name)?;
        let mut next = i + 1;
        match parts.get(i + 1) {
            None | Some(Part::AllItems | Part::Bind(_) | Part::Key(_)) => {}
            Some(Part::Index(n)) => match index_offset(*n, keys.len()) {
                Some(k) => {
                    keys = vec![keys[k].clone()];
                    next = i + 2;
                }
                None => {
                    out.push(self.unres(&current, format!("no value {n} of `%{name}`")));
                    return Ok(());
                }
            },
            Some(_) => {
                return Err(Halt::Unevaluatable(format!(
                    "`.%{name}` followed by this kind of query part is not supported"
                )));
            }
        }
        for key in keys {
            match key {
                QR::Unres(u) => out.push(QR::Unres(Unres {
                    at: current.node().or(u.at),
                    why: format!("a key from `%{name}` did not resolve: {}", u.why),
                })),
                QR::Lit(k) | QR::Res(k) => {
                    let names: Vec<Val<'d>> = if k.is_list() { k.items() } else { vec![k] };
                    for n in names {
                        self.tick()?;
                        let Kind::Str(s) = n.view().kind() else {
                            return Err(Halt::Error(format!(
                                "`%{name}` holds a value that is not a string, used as a key"
                            )));
                        };
                        match current.get(s) {
                            Some(v) => self.retrieve(parts, next, Prev::Other, v, root, out)?,
                            None => out.push(self.unres(&current, format!("no key `{s}`"))),
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A filter's clauses on one candidate, judged as conditions.
    fn filter_passes(&mut self, conditions: &'p super::Conjunction, this: &Val<'d>) -> Eval<bool> {
        self.quiet += 1;
        let s = self.conjunction(conditions, this, Role::Gate);
        self.quiet -= 1;
        Ok(s? == Status::Pass)
    }

    /// cfn-guard looks a missing key up again in other spellings (camelCase, snake_case,
    /// kebab-case, PascalCase, Title Case, Train-Case), for data written in another case.
    fn converted_key(&self, current: &Val<'d>, key: &str) -> Option<Val<'d>> {
        let words = words(key);
        if words.is_empty() {
            return None;
        }
        let cap = |w: &str| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase())
                .unwrap_or_default()
        };
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let caps: Vec<String> = words.iter().map(|w| cap(w)).collect();
        let camel = lower[0].clone() + &caps[1..].concat();
        let candidates = [
            camel,
            caps.concat(),
            lower.join("-"),
            lower.join("_"),
            caps.join(" "),
            caps.join("-"),
        ];
        candidates
            .iter()
            .filter(|c| c.as_str() != key)
            .find_map(|c| current.get(c))
    }
}

/// The words of an identifier: split at anything not a letter or digit, and at case changes.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = i > 0
            && c.is_uppercase()
            && (chars[i - 1].is_lowercase()
                || chars[i - 1].is_ascii_digit()
                || (chars[i - 1].is_uppercase()
                    && chars.get(i + 1).is_some_and(|n| n.is_lowercase())));
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// An index into a list of `len` items, negative from the end.
pub fn index_offset(index: i64, len: usize) -> Option<usize> {
    let magnitude = usize::try_from(index.unsigned_abs()).ok()?;
    let offset = if index < 0 {
        len.checked_sub(magnitude)?
    } else {
        magnitude
    };
    (offset < len).then_some(offset)
}
