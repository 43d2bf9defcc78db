//! Scalar resolution with the YAML 1.2 core schema, and the places where YAML 1.1 differs.

use super::Value;

/// Resolves an untagged plain scalar (YAML 1.2 core schema).
pub fn resolve_plain(s: &str) -> Value {
    // Most plain scalars of a template are names (`Type`, `AWS::S3::Bucket`): a letter no
    // null, boolean or number starts with makes one a string at once.
    if only_a_string(s, b"nNtTfF") {
        return Value::String(s.into());
    }
    resolve_plain_in_full(s)
}

/// [`resolve_plain`] without its shortcut for names.
fn resolve_plain_in_full(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(v) = parse_int(s) {
        return v;
    }
    if is_float(s)
        && let Ok(f) = s.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(s.into())
}

/// Whether a plain scalar starts with a letter, other than the first letters of the words
/// that resolve to something else (`special`): numbers start with a digit, a sign or a dot.
fn only_a_string(s: &str, special: &[u8]) -> bool {
    s.as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() && !special.contains(b))
}

fn parse_int(s: &str) -> Option<Value> {
    let radix_digits = |digits: &str, radix: u32| -> Option<Value> {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        Some(match i64::from_str_radix(digits, radix) {
            Ok(i) => Value::Int(i),
            // Too large for i64: keep it as a number rather than reading it as a string.
            Err(_) => Value::Float(u128::from_str_radix(digits, radix).ok()? as f64),
        })
    };
    if let Some(oct) = s.strip_prefix("0o") {
        return radix_digits(oct, 8);
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return radix_digits(hex, 16);
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match s.parse::<i64>() {
        Ok(i) => Value::Int(i),
        Err(_) => Value::Float(s.parse::<f64>().ok()?),
    })
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

/// Resolves an untagged plain scalar as cfn-guard 3.2.1's YAML reader does (for policy data):
/// lowercase YAML 1.1 booleans (`yes`, `off`, `y`, `n`), `True` and `TRUE` as strings, decimal
/// integers only (hex, octal, `1_000` and `.inf` stay strings), and an empty value as `''`.
pub fn resolve_guard(s: &str) -> Value {
    guard_non_string(s).unwrap_or_else(|| Value::String(s.into()))
}

/// [`resolve_guard`] when it is not a string (`None` then, without copying the text).
pub fn guard_non_string(s: &str) -> Option<Value> {
    if only_a_string(s, b"nNtyof") {
        return None;
    }
    guard_non_string_in_full(s)
}

/// [`guard_non_string`] without its shortcut for names.
fn guard_non_string_in_full(s: &str) -> Option<Value> {
    match s {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "yes" | "on" | "y" => return Some(Value::Bool(true)),
        "false" | "no" | "off" | "n" => return Some(Value::Bool(false)),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<i64>() {
            Ok(i) => Some(Value::Int(i)),
            Err(_) => s.parse::<f64>().ok().map(Value::Float),
        };
    }
    if is_float(s)
        && let Ok(f) = s.parse::<f64>()
    {
        return Some(Value::Float(f));
    }
    None
}

/// Resolves a quoted, block or tagged scalar. Core-schema tags (`!!int`) convert; local tags
/// (`!Ref`) keep the text, resolved as a plain scalar would be when it was written plain.
pub fn resolve_tagged(s: &str, tag: Option<&str>, plain: bool) -> Value {
    let core = tag.and_then(|t| {
        t.strip_prefix("tag:yaml.org,2002:")
            .or_else(|| t.strip_prefix("!!"))
    });
    match core {
        Some("str") => Value::String(s.into()),
        Some("null") => Value::Null,
        Some("bool" | "int" | "float") => match resolve_plain(s) {
            v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => v,
            _ => Value::String(s.into()),
        },
        _ if plain => match resolve_plain(s) {
            // `!Ref` with no value is an empty string, not null, for CloudFormation.
            Value::Null => Value::String(s.into()),
            v => v,
        },
        _ => Value::String(s.into()),
    }
}

/// Whether YAML 1.1 (CloudFormation's reader) reads this plain scalar as a boolean: `yes`,
/// `On`, `OFF`... as well as `true` and `false`.
pub fn is_yaml11_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// If YAML 1.1 reads this plain scalar differently from YAML 1.2, returns how each reads it.
pub fn yaml11_difference(s: &str) -> Option<(&'static str, &'static str)> {
    match s {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Some(("the boolean true", "a string"));
        }
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Some(("the boolean false", "a string"));
        }
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Some(("an octal integer", "a decimal integer"));
    }
    if let Some(o) = s.strip_prefix("0o")
        && !o.is_empty()
        && o.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Some(("a string", "an octal integer"));
    }
    if let Some(b) = s.strip_prefix("0b")
        && !b.is_empty()
        && b.bytes().all(|c| c == b'0' || c == b'1' || c == b'_')
    {
        return Some(("a binary integer", "a string"));
    }
    // 1_000 and sexagesimal 1:30 are integers in YAML 1.1 only.
    let first_digit = digits.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if first_digit
        && digits.contains('_')
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return Some(("an integer", "a string"));
    }
    if first_digit && digits.contains(':') && is_sexagesimal(digits) {
        return Some(("a base-60 integer", "a string"));
    }
    None
}

fn is_sexagesimal(s: &str) -> bool {
    let mut parts = s.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    if head.is_empty() || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return false;
    }
    let mut any = false;
    for p in parts {
        any = true;
        let ok = (1..=2).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n < 60);
        if !ok {
            return false;
        }
    }
    any
}

pub fn yaml11_help(s: &str) -> String {
    match yaml11_difference(s) {
        Some((_, "a string")) if s.bytes().all(|b| b.is_ascii_alphabetic()) => {
            format!("write `\"{s}\"` if you mean the text, or `true`/`false` for a boolean")
        }
        Some((_, "a decimal integer")) => {
            format!(
                "write `\"{s}\"` for the text, or drop the leading zero for the number; write `0o…` for an octal number"
            )
        }
        _ => format!("quote the value (`\"{s}\"`) so that every YAML reader agrees on it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema() {
        assert_eq!(resolve_plain("80"), Value::Int(80));
        assert_eq!(resolve_plain("-3"), Value::Int(-3));
        assert_eq!(resolve_plain("0x1F"), Value::Int(31));
        assert_eq!(resolve_plain("0o17"), Value::Int(15));
        assert_eq!(resolve_plain("0644"), Value::Int(644));
        assert_eq!(resolve_plain("1.5"), Value::Float(1.5));
        assert_eq!(resolve_plain("1e3"), Value::Float(1000.0));
        assert_eq!(resolve_plain("yes"), Value::String("yes".into()));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(
            resolve_plain("10.0.0.0/16"),
            Value::String("10.0.0.0/16".into())
        );
        assert_eq!(resolve_plain("1.2.3"), Value::String("1.2.3".into()));
        assert_eq!(resolve_plain("."), Value::String(".".into()));
    }

    #[test]
    fn names_read_at_once_are_read_as_in_full() {
        let rests = [
            "",
            "rue",
            "RUE",
            "ull",
            "ULL",
            "alse",
            "ALSE",
            "es",
            "n",
            "ff",
            "o",
            "x1f",
            "o17",
            "1",
            "2.5",
            ".5",
            "e3",
            "nf",
            "an",
            "ype",
            "WS::S3::Bucket",
            " x",
        ];
        let firsts = (0u8..128).filter(|b| b.is_ascii_graphic()).map(char::from);
        let mut shortcut = 0;
        for first in firsts {
            for rest in rests {
                let s = format!("{first}{rest}");
                let text = |v: Value| format!("{v:?}");
                assert_eq!(
                    text(resolve_plain(&s)),
                    text(resolve_plain_in_full(&s)),
                    "{s}"
                );
                let guard = |v: Option<Value>| v.map(text);
                assert_eq!(
                    guard(guard_non_string(&s)),
                    guard(guard_non_string_in_full(&s)),
                    "{s}"
                );
                shortcut += usize::from(only_a_string(&s, b"nNtTfF"));
            }
        }
        assert!(shortcut > 1000, "{shortcut}");
    }

    #[test]
    fn yaml11_differences() {
        assert!(yaml11_difference("yes").is_some());
        assert!(yaml11_difference("Off").is_some());
        assert!(yaml11_difference("0644").is_some());
        assert!(yaml11_difference("1_000").is_some());
        assert!(yaml11_difference("1:30").is_some());
        assert!(yaml11_difference("0").is_none());
        assert!(yaml11_difference("10").is_none());
        assert!(yaml11_difference("0.5").is_none());
        assert!(yaml11_difference("payments").is_none());
        assert!(yaml11_difference("arn:aws:iam::1").is_none());
    }
}
