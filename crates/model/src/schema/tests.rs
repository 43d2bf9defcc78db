use super::*;
use crate::source::SourceFile;
use crate::yaml::{ParseOptions, parse};

fn read_schema(text: &str) -> (Option<InputSchema>, Vec<Diagnostic>) {
    let src = SourceFile::new("schema.yaml", "schema.yaml", text.to_string());
    let mut diags = Vec::new();
    let root = parse(&src, &ParseOptions::default(), &mut diags).expect("parses");
    let schema = read(&src, &root, &mut diags);
    (schema, diags)
}

fn codes_of(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code.id).collect()
}

const GOOD: &str = r#"
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "EnvInput"
  types:
    EnvInput:
      type: object
      required: [cluster_name]
      properties:
        cluster_name: {type: string, minLength: 1, maxLength: 40}
        size: {type: string, enum: [small, large], default: small, nullable: true}
        port: {type: number, default: 80, minimum: 0, maximum: 65535}
"#;

#[test]
fn converts_nullable_to_type_list_and_null_enum() {
    let (schema, diags) = read_schema(GOOD);
    assert!(diags.is_empty(), "{diags:?}");
    let schema = schema.unwrap();
    let t = schema
        .get_type(schema.environment_input_type.as_ref().unwrap())
        .unwrap();
    assert_eq!(t.properties, ["cluster_name", "size", "port"]);
    assert_eq!(
        t.json["properties"]["size"]["type"],
        serde_json::json!(["string", "null"])
    );
    assert_eq!(
        t.json["properties"]["size"]["enum"],
        serde_json::json!(["small", "large", null])
    );
    let v = t.validator.as_ref().unwrap();
    assert!(v.is_valid(&serde_json::json!({"cluster_name": "a", "size": null})));
    assert!(!v.is_valid(&serde_json::json!({"cluster_name": "a", "port": "eighty"})));
}

#[test]
fn patterns_are_searches() {
    let (schema, _) = read_schema(&GOOD.replace(
        "minLength: 1, maxLength: 40",
        "pattern: '([0-9]{1,3}\\.){3}[0-9]{1,3}'",
    ));
    let schema = schema.unwrap();
    let v = schema.types[0].validator.as_ref().unwrap();
    assert!(v.is_valid(&serde_json::json!({"cluster_name": "x10.0.0.0/16"})));
    assert!(!v.is_valid(&serde_json::json!({"cluster_name": "10.0.0/16"})));
}

#[test]
fn lints_the_schema_itself() {
    let text = r#"
schema:
  format: {openapi: "3.0.0"}
  service_input_type: SvcInputs
  types:
    SvcInput:
      type: object
      required: [prot]
      properties:
        port: {type: [number, "null"], default: 80000, maximum: 65535}
        name: {type: strng, maxLenght: 3}
        cidr: {type: string, pattern: '([0-9]'}
        look: {type: string, pattern: '(?=x)'}
"#;
    let (_, diags) = read_schema(text);
    let mut codes = codes_of(&diags);
    codes.sort();
    assert_eq!(
        codes,
        [
            "B006", "S001", "S002", "S003", "S003", "S004", "S005", "S006"
        ]
    );
    let b006 = diags.iter().find(|d| d.code.id == "B006").unwrap();
    assert_eq!(b006.help.as_deref(), Some("did you mean `SvcInput`?"));
}

/// A schema of two types, `A` and `B`, with these property lines (each indented by eight);
/// `A`'s first property is on line 9.
fn two_types(a: &str, b: &str) -> String {
    format!(
        r#"
schema:
  format: {{openapi: "3.0.0"}}
  service_input_type: A
  types:
    A:
      type: object
      properties:
{a}
    B:
      type: object
      properties:
{b}
"#
    )
}

#[test]
fn defaults_are_judged_by_their_constraints_and_values_only() {
    // The same constraints, described otherwise, in two types (as two bundles would have
    // them): each default is judged by its own value; what a default was found to break is
    // said the same way wherever it is remembered from.
    let text = &two_types(
        r#"        port: {type: integer, maximum: 65535, default: 80000, description: "the port"}
        size: {type: string, enum: [small, large], default: small, title: "Size"}"#,
        r#"        port: {type: integer, maximum: 65535, default: 8080, description: "another port"}
        other_port: {type: integer, maximum: 65535, default: 80000}
        size: {type: string, enum: [small, large], default: huge, title: "Other size"}"#,
    );
    for _ in 0..2 {
        let (_, diags) = read_schema(text);
        let found: Vec<(usize, String)> = diags
            .iter()
            .map(|d| {
                let at = d.primary.as_ref().unwrap();
                let line = at.at.source.line_col(at.at.span.start).0;
                (line, at.message.clone().unwrap_or_default())
            })
            .collect();
        assert_eq!(
            found,
            [
                (9, "80000 is greater than the maximum of 65535".to_string()),
                (15, "80000 is greater than the maximum of 65535".to_string()),
                (16, r#""huge" is not one of "small" or "large""#.to_string()),
            ],
            "{diags:?}"
        );
        assert!(diags.iter().all(|d| d.code.id == "S002"));
    }
}

#[test]
fn patterns_are_judged_by_their_own_text_each_time() {
    // The same patterns in two types (as two bundles would have them), read twice: each
    // broken one is reported wherever it is, the sound ones nowhere, the same way each time.
    let text = &two_types(
        r#"        owner: {type: string, pattern: "^team-[a-z]+$"}
        code: {type: string, pattern: "^CC-([0-9]{4}$"}"#,
        r#"        owner: {type: string, pattern: "^team-[a-z]+$"}
        code: {type: string, pattern: "^CC-([0-9]{4}$"}
        near: {type: string, pattern: "^CC-[0-9]{4}$"}"#,
    );
    for _ in 0..2 {
        let (_, diags) = read_schema(text);
        let found: Vec<(usize, &str)> = diags
            .iter()
            .map(|d| {
                let at = d.primary.as_ref().unwrap();
                (at.at.source.line_col(at.at.span.start).0, d.code.id)
            })
            .collect();
        assert_eq!(found, [(10, "S003"), (15, "S003")], "{diags:?}");
        assert!(diags[0].message.contains("unclosed group"), "{diags:?}");
        assert_eq!(diags[0].message, diags[1].message);
    }
}
