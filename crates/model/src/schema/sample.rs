//! Sample inputs from a schema: what `proctor check` renders a bundle with when no spec uses
//! it, and what `proctor docs` shows as an example spec.

use serde_json::Value as Json;

use super::InputType;

/// Inputs that satisfy the schema as far as it can be read: defaults, then for required inputs
/// an example, the first enum value, or a value within the bounds.
pub fn synthesize(ty: &InputType) -> Json {
    let mut obj = serde_json::Map::new();
    let required: Vec<&str> = ty.json["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = ty.json["properties"].as_object() {
        for (name, prop) in props {
            let example = ty
                .node
                .pointer(["properties", name.as_str(), "example"])
                .map(crate::yaml::Node::to_json);
            if let Some(d) = prop.get("default") {
                obj.insert(name.clone(), d.clone());
            } else if required.contains(&name.as_str()) {
                obj.insert(name.clone(), example.unwrap_or_else(|| sample(prop, 0)));
            }
        }
    }
    Json::Object(obj)
}

fn sample(prop: &Json, depth: usize) -> Json {
    if let Some(first) = prop["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(d) = prop.get("default") {
        return d.clone();
    }
    let ty = match &prop["type"] {
        Json::Array(ts) => ts
            .first()
            .and_then(Json::as_str)
            .unwrap_or("string")
            .to_string(),
        t => t.as_str().unwrap_or("string").to_string(),
    };
    match ty.as_str() {
        "number" | "integer" => {
            let min = prop["minimum"].as_f64().unwrap_or(1.0).max(1.0);
            let max = prop["maximum"].as_f64().unwrap_or(f64::MAX);
            Json::from(min.min(max) as i64)
        }
        "boolean" => Json::Bool(false),
        "array" if depth < 8 => {
            let n = prop["minItems"].as_u64().unwrap_or(0) as usize;
            Json::Array(
                (0..n.min(16))
                    .map(|_| sample(&prop["items"], depth + 1))
                    .collect(),
            )
        }
        "object" if depth < 8 => {
            let mut obj = serde_json::Map::new();
            if let (Some(props), Some(req)) =
                (prop["properties"].as_object(), prop["required"].as_array())
            {
                for r in req.iter().filter_map(Json::as_str) {
                    if let Some(p) = props.get(r) {
                        obj.insert(r.to_string(), sample(p, depth + 1));
                    }
                }
            }
            Json::Object(obj)
        }
        _ => Json::String(sample_string(prop)),
    }
}

/// A string within the property's lengths that matches its `pattern` when one of a few
/// usual shapes does (a word, digits, a name with a hyphen, an ARN, an email, a CIDR, ...);
/// otherwise `sample` of the right length (the caller's check reports the mismatch).
fn sample_string(prop: &Json) -> String {
    let min = prop["minLength"].as_u64().unwrap_or(0) as usize;
    let max = prop["maxLength"].as_u64().map_or(64, |m| m as usize).max(1);
    let fit = |base: &str| -> String {
        let mut s: String = base
            .chars()
            .cycle()
            .take(min.max(base.chars().count()).min(64))
            .collect();
        s.truncate(s.char_indices().nth(max).map_or(s.len(), |(i, _)| i));
        s
    };
    let Some(pattern) = prop["pattern"].as_str() else {
        return fit("sample");
    };
    let Ok(re) = regex::Regex::new(pattern) else {
        return fit("sample");
    };
    const CANDIDATES: &[&str] = &[
        "sample",
        "sample-1",
        "Sample",
        "SAMPLE",
        "1",
        "10",
        "0",
        "a",
        "sample_1",
        "sample.example",
        "sample@example.com",
        "https://example.com",
        "/sample",
        "10.0.0.0/16",
        "10.0.0.0",
        "us-east-1",
        "111122223333",
        "arn:aws:iam::111122223333:role/sample",
        "sample:1",
        "v1",
        "1.0.0",
        "t3.micro",
    ];
    CANDIDATES
        .iter()
        .map(|c| fit(c))
        .find(|c| re.is_match(c) && c.chars().count() >= min && c.chars().count() <= max)
        .unwrap_or_else(|| fit("sample"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn sample_strings_follow_patterns_and_lengths() {
        let s = |p: serde_json::Value| super::sample_string(&p);
        assert_eq!(s(json!({})), "sample");
        assert_eq!(s(json!({"pattern": "^[0-9]+$"})), "1");
        assert_eq!(s(json!({"pattern": "^[0-9]{12}$"})), "111122223333");
        assert_eq!(
            s(json!({"pattern": "^arn:aws:iam::"})),
            "arn:aws:iam::111122223333:role/sample"
        );
        assert_eq!(s(json!({"minLength": 8})), "samplesa");
        assert_eq!(s(json!({"maxLength": 3})), "sam");
        assert_eq!(s(json!({"pattern": "^[A-Z]+$", "maxLength": 4})), "SAMP");
    }
}
