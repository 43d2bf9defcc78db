//! Guard's built-in functions. Each maps its query arguments' values; a value a function
//! cannot take is left out, except that a `parse_*` function that cannot convert a value
//! makes the clause unevaluatable, as in Guard.

use std::rc::Rc;

use super::{Halt, QR, Val};
use crate::ast::Literal;

/// The functions and their arity, for load-time checks.
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("count", 1),
    ("json_parse", 1),
    ("regex_replace", 3),
    ("substring", 3),
    ("to_upper", 1),
    ("to_lower", 1),
    ("join", 2),
    ("url_decode", 1),
    ("parse_int", 1),
    ("parse_float", 1),
    ("parse_string", 1),
    ("parse_boolean", 1),
    ("parse_char", 1),
    ("parse_epoch", 1),
    ("now", 0),
];

/// A function's result: it behaves like data (`[*]` expands it).
fn lit<'d>(l: Literal) -> QR<'d> {
    QR::Res(Val::Data(Rc::new(l)))
}

fn values<'a, 'd>(arg: Option<&'a Vec<QR<'d>>>) -> impl Iterator<Item = Rc<Literal>> + 'a {
    arg.into_iter().flatten().filter_map(|r| match r {
        QR::Lit(v) | QR::Res(v) => Some(v.literal()),
        QR::Unres(_) => None,
    })
}

fn strings<'a, 'd>(arg: Option<&'a Vec<QR<'d>>>) -> impl Iterator<Item = String> + 'a {
    values(arg).filter_map(|l| match l.as_ref() {
        Literal::String(s) => Some(s.clone()),
        _ => None,
    })
}

fn first_string(arg: Option<&Vec<QR<'_>>>) -> Option<String> {
    strings(arg).next()
}

fn first_int(arg: Option<&Vec<QR<'_>>>) -> Option<i64> {
    values(arg).find_map(|l| match l.as_ref() {
        Literal::Int(i) => Some(*i),
        _ => None,
    })
}

pub fn call<'d>(name: &str, args: &[Vec<QR<'d>>]) -> Result<Vec<QR<'d>>, Halt> {
    let out = call_inner(name, args);
    // A value a `parse_*` function cannot convert makes the clause unevaluatable: it FAILs
    // as an assertion (as in cfn-guard 3.2.1) instead of skipping.
    if name.starts_with("parse_") {
        let given = args.first().map_or(0, |a| {
            a.iter().filter(|r| !matches!(r, QR::Unres(_))).count()
        });
        if out.len() < given {
            return Err(Halt::Unevaluatable(format!(
                "`{name}` cannot convert a value"
            )));
        }
    }
    Ok(out)
}

fn call_inner<'d>(name: &str, args: &[Vec<QR<'d>>]) -> Vec<QR<'d>> {
    let a0 = args.first();
    match name {
        "count" => vec![lit(Literal::Int(a0.map_or(0, |v| {
            v.iter().filter(|r| !matches!(r, QR::Unres(_))).count()
        }) as i64))],
        "to_upper" => strings(a0)
            .map(|s| lit(Literal::String(s.to_uppercase())))
            .collect(),
        "to_lower" => strings(a0)
            .map(|s| lit(Literal::String(s.to_lowercase())))
            .collect(),
        "join" => {
            let delim = first_string(args.get(1)).unwrap_or_default();
            let parts: Vec<String> = values(a0)
                .flat_map(|l| match l.as_ref() {
                    Literal::List(items) => {
                        items.iter().filter_map(scalar_text).collect::<Vec<_>>()
                    }
                    other => scalar_text(other).into_iter().collect(),
                })
                .collect();
            vec![lit(Literal::String(parts.join(&delim)))]
        }
        "substring" => {
            let (Some(start), Some(end)) = (first_int(args.get(1)), first_int(args.get(2))) else {
                return Vec::new();
            };
            strings(a0)
                .filter_map(|s| {
                    let chars: Vec<char> = s.chars().collect();
                    let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
                    (start <= end && end <= chars.len())
                        .then(|| lit(Literal::String(chars[start..end].iter().collect())))
                })
                .collect()
        }
        "regex_replace" => {
            let (Some(pattern), Some(replacement)) =
                (first_string(args.get(1)), first_string(args.get(2)))
            else {
                return Vec::new();
            };
            let Ok(re) = regex::Regex::new(&pattern) else {
                return Vec::new();
            };
            // As cfn-guard 3.2.1: the result is the replacement expanded for the first match
            // (not the whole string with the match replaced); no match leaves the string.
            strings(a0)
                .map(|s| match re.captures(&s) {
                    Some(caps) => {
                        let mut out = String::new();
                        caps.expand(&replacement, &mut out);
                        lit(Literal::String(out))
                    }
                    None => lit(Literal::String(s)),
                })
                .collect()
        }
        "url_decode" => strings(a0)
            .filter_map(|s| url_decode(&s).map(|d| lit(Literal::String(d))))
            .collect(),
        // A string that is not JSON comes back unchanged.
        "json_parse" => strings(a0)
            .map(|s| match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(j) => lit(json_literal(&j)),
                Err(_) => lit(Literal::String(s)),
            })
            .collect(),
        "parse_int" => values(a0)
            .filter_map(|l| match l.as_ref() {
                Literal::Int(i) => Some(*i),
                Literal::Float(f) => Some(*f as i64),
                Literal::String(s) => s.trim().parse().ok(),
                Literal::Char(c) => c.to_digit(10).map(i64::from),
                _ => None,
            })
            .map(|i| lit(Literal::Int(i)))
            .collect(),
        "parse_float" => values(a0)
            .filter_map(|l| match l.as_ref() {
                Literal::Int(i) => Some(*i as f64),
                Literal::Float(f) => Some(*f),
                Literal::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .map(|f| lit(Literal::Float(f)))
            .collect(),
        "parse_string" => values(a0)
            .filter_map(|l| scalar_text(&l))
            .map(|s| lit(Literal::String(s)))
            .collect(),
        "parse_boolean" => values(a0)
            .filter_map(|l| match l.as_ref() {
                Literal::Bool(b) => Some(*b),
                Literal::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
                Literal::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            })
            .map(|b| lit(Literal::Bool(b)))
            .collect(),
        "parse_char" => values(a0)
            .filter_map(|l| match l.as_ref() {
                Literal::Char(c) => Some(*c),
                Literal::String(s) if s.chars().count() == 1 => s.chars().next(),
                Literal::Int(i) if (0..10).contains(i) => char::from_digit(*i as u32, 10),
                _ => None,
            })
            .map(|c| lit(Literal::Char(c)))
            .collect(),
        "parse_epoch" => strings(a0)
            .filter_map(|s| parse_epoch(&s))
            .map(|e| lit(Literal::Int(e)))
            .collect(),
        "now" => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            vec![lit(Literal::Int(secs))]
        }
        _ => Vec::new(),
    }
}

fn scalar_text(l: &Literal) -> Option<String> {
    Some(match l {
        Literal::String(s) => s.clone(),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Char(c) => c.to_string(),
        _ => return None,
    })
}

fn json_literal(j: &serde_json::Value) -> Literal {
    match j {
        serde_json::Value::Null => Literal::Null,
        serde_json::Value::Bool(b) => Literal::Bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Literal::Int)
            .unwrap_or_else(|| Literal::Float(n.as_f64().unwrap_or(0.0))),
        serde_json::Value::String(s) => Literal::String(s.clone()),
        serde_json::Value::Array(a) => Literal::List(a.iter().map(json_literal).collect()),
        serde_json::Value::Object(o) => Literal::Map(
            o.iter()
                .map(|(k, v)| (k.clone(), json_literal(v)))
                .collect(),
        ),
    }
}

fn url_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// RFC 3339 timestamps (`2024-01-02T03:04:05Z`, with an offset or fractional seconds) to
/// seconds since the epoch.
fn parse_epoch(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (time, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "Z"),
    };
    let mut t = time.split(':');
    let (hh, mm): (i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    let ss: f64 = t.next().unwrap_or("0").parse().ok()?;
    let offset_secs = match offset {
        "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss as i64 - offset_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_and_url_decoding() {
        assert_eq!(parse_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_epoch("2024-03-01T12:00:00+01:00"),
            Some(1_709_290_800)
        );
        assert_eq!(url_decode("a%20b+c"), Some("a b c".into()));
    }
}
