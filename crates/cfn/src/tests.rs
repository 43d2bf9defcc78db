use super::*;
use crate::source::SourceFile;

fn check_text(text: &str) -> Vec<(&'static str, String)> {
    let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
    let mut diags = Vec::new();
    if let Some(root) = parse(&src, &mut diags) {
        checks::check(&src, &root, &mut diags);
    }
    diags
        .iter()
        .map(|d| {
            (
                d.code.id,
                src.slice(&d.primary.as_ref().unwrap().at.span).to_string(),
            )
        })
        .collect()
}

#[test]
fn short_forms_become_long_forms_with_spans() {
    let src = SourceFile::new(
        "t.yaml",
        "t.yaml",
        "A: !GetAtt LB.DNSName\nB: !Sub '${X}'\n".to_string(),
    );
    let root = parse(&src, &mut Vec::new()).unwrap();
    let a = root.get("A").unwrap();
    let args = a.get("Fn::GetAtt").unwrap().as_seq().unwrap();
    assert_eq!(args[0].as_str(), Some("LB"));
    assert_eq!(args[1].as_str(), Some("DNSName"));
    assert_eq!(src.slice(&a.span), "!GetAtt LB.DNSName");
    assert!(root.get("B").unwrap().get("Fn::Sub").is_some());
}

#[test]
fn references_are_resolved() {
    let text = r#"
Parameters:
  Env: {Type: String}
  Unused: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Mappings:
  Sizes: {small: {cpu: 256}}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${Env}-${AWS::Region}-${Bukcet}'
      Tags:
        - Key: size
          Value: !FindInMap [Size, small, cpu]
  Topic:
    Type: AWS::SNS::Topic
    DependsOn: Buckt
    Condition: IsPrd
    Properties:
      DisplayName: !GetAtt Bucket.Arn
      TopicName: !Ref Bucke
Outputs:
  Url:
    Value: !If [IsProd, !GetAtt Bukt.Arn]
"#;
    assert_eq!(
        check_text(text),
        [
            ("C007", "${Bukcet}".to_string()),
            ("C010", "Size".to_string()),
            ("C005", "!Ref Bucke".to_string()),
            ("C008", "Buckt".to_string()),
            ("C009", "IsPrd".to_string()),
            ("C015", "!If [IsProd, !GetAtt Bukt.Arn]".to_string()),
            ("C012", "Unused".to_string()),
            ("C012", "Sizes".to_string()),
        ]
    );
}

#[test]
fn cycles_are_reported_once() {
    let text = "Resources:\n  A:\n    Type: X::Y::Z\n    Properties: {P: !Ref B}\n  B:\n    Type: X::Y::Z\n    Properties: {P: !GetAtt C.Arn}\n  C:\n    Type: X::Y::Z\n    DependsOn: A\n";
    let found = check_text(text);
    // One cycle, reported at each of its three resources.
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|(c, _)| *c == "C011"));
}

#[test]
fn structure_and_outputs() {
    let text = "AWSTemplateFormatVersion: 2010-09-10\nOutput:\n  X: {Value: 1}\nResources:\n  My-Bucket:\n    Type: AWS::S3::Bucket\n    Propertes: {}\n  NoType: {}\nOutputs:\n  A: {Value: a, Export: {Name: n}}\n  B: {Value: b, Export: {Name: n}}\n  C: {Description: x}\n";
    let codes: Vec<&str> = check_text(text).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        codes,
        ["C001", "C001", "C004", "C003", "C003", "C013", "C013"]
    );
}

#[test]
fn ten_thousand_resources_in_a_chain_are_bounded() {
    let mut text = String::from("Resources:\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "  R{i}:\n    Type: X::Y::Z\n    DependsOn: R{}\n",
            (i + 1) % 10_000
        ));
    }
    let found = check_text(&text);
    let codes: BTreeSet<&str> = found.iter().map(|(c, _)| *c).collect();
    assert_eq!(codes.into_iter().collect::<Vec<_>>(), ["C011", "C014"]);
}

use std::collections::BTreeSet;

#[test]
fn cfn_lint_ignore_checks_silence_the_matching_codes() {
    let resource = |metadata: &str| {
        format!(
            r#"
Resources:
  Queue:
    Type: AWS::SQS::Queue{metadata}
    Properties:
      VisibilityTimeout: soon
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      FifoTopic: maybe
"#
        )
    };
    let codes = |text: &str| -> Vec<(&'static str, String)> {
        check_text(text)
            .into_iter()
            .filter(|(c, _)| *c == "C019")
            .collect()
    };
    // Without configuration: both wrong values.
    assert_eq!(codes(&resource("")).len(), 2);
    // The queue silences E3012 (cfn-lint's property types): only the topic's value is left.
    let silenced = resource(
        "\n    Metadata:\n      cfn-lint:\n        config:\n          ignore_checks: [E3012]",
    );
    assert_eq!(codes(&silenced), vec![("C019", "maybe".to_string())]);
    // A prefix at the top level silences the whole family everywhere.
    let top = format!(
        "Metadata:\n  cfn-lint:\n    config:\n      ignore_checks:\n        - E3\n{}",
        resource("")
    );
    assert!(codes(&top).is_empty());
    // Another rule silences nothing here.
    let other = format!(
        "Metadata:\n  cfn-lint:\n    config:\n      ignore_checks: [W2001]\n{}",
        resource("")
    );
    assert_eq!(codes(&other).len(), 2);
}
