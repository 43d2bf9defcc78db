fn parses(text: &str) -> Result<(), String> {
    super::lower::parse_bounded(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn the_reference_examples_parse() {
    let files = [
        "",
        "# only a comment\n",
        "let buckets = Resources.*[ Type == 'AWS::S3::Bucket' ]\nrule s3_versioned when %buckets !empty {\n  %buckets.Properties.VersioningConfiguration.Status == 'Enabled'\n    << S3 buckets must keep versions >>\n}\nrule s3_encrypted when s3_versioned { %buckets.Properties.BucketEncryption exists }\nResources exists        # part of rule \"default\"\n",
        "rule ports_ok(ports) { %ports[*] IN r[1024, 65535] }\nrule uses { ports_ok(%x) }\n",
        "AWS::S3::Bucket Properties.X == 1\nAWS::S3::Bucket when Properties.Y exists { Properties.Y == 'a' or Properties.Y == 'b' }\n",
        "rule r1 { Resources.*[ keys == /^Bucket/ ] { Type == 'AWS::S3::Bucket' } }\n",
        "rule r2 { some Resources.*.Properties.Tags[*].Key == 'owner' }\n",
        "rule r3 { Resources.*['Bucket'].Properties.'Fn::GetAtt' !exists\n Resources.*[ name ] { %name IN ['A', 'B'] }\n Resources.*[ v | Type == 'X' ].Properties not empty }\n",
        "let x := count(Resources.*)\nrule r4 { %x >= 1 << at least one resource, found %x >> \n Resources.*.Properties.Port IN r(0, 65535] \n Resources.*.Type !IN [/^Custom::/, 'AWS::CloudFormation::Stack'] }\n",
        "rule r5 when not r4 { this.Resources is_struct\n Parameters.*.Default is_string or Parameters.*.Default is_null |OR| Parameters.*.Default NOT IN [1, 2.5, -3, 1e5, true, NULL] }\n",
        "rule r6 { Resources.%names.Type == 'x'\n Resources.*.Properties.List[0] == { a: 1, \"b-c\": [1, 2] }\n Resources.*.Properties.List[-1] < 'z' }\n",
    ];
    for f in files {
        if let Err(e) = parses(f) {
            panic!("{f}\n{e}");
        }
    }
}

#[test]
fn syntax_errors_are_errors() {
    assert!(parses("rule r { Resources.* == }\n").is_err());
    assert!(parses("rule r { \n").is_err());
}

mod lowering {
    use crate::ast::*;
    use crate::lower::parse;
    use crate::source::SourceFile;

    fn lower(text: &str) -> PolicyFile {
        let src = SourceFile::new("p.guard", "p.guard", text.to_string());
        let mut diags = Vec::new();
        let f = parse(&src, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        f.unwrap()
    }

    #[test]
    fn rules_lets_and_the_default_rule() {
        let f = lower(
            "let buckets = Resources.*[ Type == 'AWS::S3::Bucket' ]\n# @id: PROCTOR-S3-001\n# @severity: warning\nrule s3_versioned when %buckets !empty {\n  %buckets.Properties.VersioningConfiguration.Status == 'Enabled' << keep versions >>\n}\nResources exists\n",
        );
        assert_eq!(f.lets.len(), 1);
        assert_eq!(f.rules.len(), 2);
        let r = &f.rules[0];
        assert_eq!(r.name, "s3_versioned");
        assert_eq!(r.meta.id.as_deref(), Some("PROCTOR-S3-001"));
        assert_eq!(r.meta.severity.as_deref(), Some("warning"));
        assert!(r.conditions.is_some());
        match &r.body.clauses[0][0] {
            Clause::Access {
                query,
                op:
                    AccessOp::Binary {
                        op: CmpOp::Eq,
                        rhs: Rhs::Literal(Literal::String(s), _),
                    },
                message,
                ..
            } => {
                assert_eq!(query.parts[0], Part::Variable("buckets".into()));
                assert_eq!(s, "Enabled");
                assert_eq!(message.as_deref(), Some("keep versions"));
            }
            other => panic!("{other:?}"),
        }
        assert!(f.rules[1].implicit && f.rules[1].name == "default");
    }

    #[test]
    fn annotations_take_a_colon_or_a_space() {
        let f = lower(
            "# Buckets.\n\n# @id ORG-1\n# @docs https://wiki.example.com/s3#rules\n# @description: Buckets are encrypted\nrule a { Resources exists }\n\n# @severity: warning\n\n# not an annotation\nrule b { Resources exists }\n",
        );
        let (a, b) = (&f.rules[0].meta, &f.rules[1].meta);
        assert_eq!(a.id.as_deref(), Some("ORG-1"));
        assert_eq!(a.docs.as_deref(), Some("https://wiki.example.com/s3#rules"));
        assert_eq!(a.description.as_deref(), Some("Buckets are encrypted"));
        assert_eq!(a.severity, None);
        // A blank line ends the annotation block.
        assert_eq!(b.severity, None);
    }

    #[test]
    fn literals_and_query_parts() {
        let f = lower(
            "rule r { Resources.*['B'].Properties.'Fn::GetAtt'[-1] IN r(1, 10.5] \n x.y == [1, -2, 3.5, 'a\\'b', /a\\/b/, true, NULL, {k: 'v'}] }\n",
        );
        let clauses = &f.rules[0].body.clauses;
        let Clause::Access {
            query,
            op:
                AccessOp::Binary {
                    rhs: Rhs::Literal(Literal::Range(r), _),
                    ..
                },
            ..
        } = &clauses[0][0]
        else {
            panic!()
        };
        assert_eq!(
            query.parts,
            [
                Part::Key("Resources".into()),
                Part::All,
                Part::Key("B".into()),
                Part::Key("Properties".into()),
                Part::Key("Fn::GetAtt".into()),
                Part::Index(-1)
            ]
        );
        assert!(!r.lower_inclusive && r.upper_inclusive);
        let Clause::Access {
            op:
                AccessOp::Binary {
                    rhs: Rhs::Literal(Literal::List(items), _),
                    ..
                },
            ..
        } = &clauses[1][0]
        else {
            panic!()
        };
        assert_eq!(items[3], Literal::String("a'b".into()));
        assert_eq!(items[4], Literal::Regex("a/b".into()));
        assert_eq!(items[6], Literal::Null);
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let src = SourceFile::new(
            "p.guard",
            "p.guard",
            "rule r {\n  Resources.*.Type ==\n}\n".to_string(),
        );
        let mut diags = Vec::new();
        assert!(parse(&src, &mut diags).is_none());
        assert_eq!(diags[0].code.id, "P001");
        assert!(diags[0].message.contains("a value"), "{}", diags[0].message);
        assert_eq!(
            src.line_col(diags[0].primary.as_ref().unwrap().at.span.start),
            (3, 1)
        );
    }
}

#[test]
fn a_filter_may_start_with_a_quoted_key() {
    assert!(
        parses("rule r { %resources[ 'Fn::Sub' is_string\n 'Fn::Sub' == /x/ ] !empty }\n").is_ok()
    );
    assert!(parses("rule r { Resources['Bucket'] exists }\n").is_ok());
}

#[test]
fn messages_interpolate_the_failing_value_and_variables() {
    use crate::source::SourceFile;
    let rules = SourceFile::new(
        "p.guard",
        "p.guard",
        "let allowed = ['small', 'large']\nrule sizes {\n  Resources.*.Properties.Size IN %allowed\n    << {{value}} is not one of {{%allowed}}; {{resolve:ssm:x}} and {{%unknown}} stay >>\n}\n".to_string(),
    );
    let mut diags = Vec::new();
    let file = crate::lower::parse(&rules, &mut diags).unwrap();
    let data = SourceFile::new(
        "t.yaml",
        "t.yaml",
        "Resources:\n  A:\n    Properties:\n      Size: huge\n".to_string(),
    );
    let root = crate::data::parse(&data, &mut diags).unwrap();
    let policy = crate::Policy::new(rules, file, &crate::limits::Limits::default());
    let (_, failures) = crate::evaluate(&policy, &root);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        failures[0].message.as_deref().map(str::trim),
        Some("huge is not one of [\"small\", \"large\"]; {{resolve:ssm:x}} and {{%unknown}} stay")
    );
    assert_eq!(failures[0].value.as_deref(), Some("huge"));
}

#[test]
fn a_variable_used_only_in_a_message_is_used() {
    use crate::source::SourceFile;
    let src = SourceFile::new(
        "p.guard",
        "p.guard",
        "let env = proctor.deployment.environment\nlet unused = Resources\nrule r {\n  Resources exists << in {{%env}} >>\n}\n".to_string(),
    );
    let mut diags = Vec::new();
    let file = crate::lower::parse(&src, &mut diags).unwrap();
    let found: Vec<String> = crate::lints::check(&file, &src)
        .iter()
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(found, ["`unused` is never used"]);
}

fn parse_source(text: &str) -> (Option<super::ast::PolicyFile>, Vec<crate::diag::Diagnostic>) {
    let src = crate::source::SourceFile::new("rules.guard", "rules.guard", text.to_string());
    let mut diags = Vec::new();
    let file = super::lower::parse(&src, &mut diags);
    (file, diags)
}

#[test]
fn a_file_that_makes_the_parser_backtrack_for_minutes_is_refused_at_once() {
    // Found by the `policy` fuzz target: 3 KB that took 7 minutes to parse.
    let text = include_str!("../../../fuzz/regressions/policy/timeout-unclosed-brackets.guard");
    let started = std::time::Instant::now();
    let (file, diags) = parse_source(text);
    assert!(file.is_none());
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code.id, "P001");
    assert!(
        diags[0].message.contains("too broken"),
        "{}",
        diags[0].message
    );
    // Not a timing test: a bound far above the ~40 ms it takes, far below the 7 minutes.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

#[test]
fn deeply_nested_well_formed_files_stay_within_the_parse_budget() {
    let n = super::lower::MAX_NESTING - 2;
    let blocks = format!(
        "rule deep {{\n{}Type exists\n{}}}\n",
        "Resources.* {\n".repeat(n),
        "}\n".repeat(n)
    );
    let filters = format!(
        "rule deep {{\n  Resources{} exists\n}}\n",
        ".*[ Properties".repeat(n / 2) + &" exists ]".repeat(n / 2)
    );
    let whens = format!(
        "{}rule last when Resources exists {{ Resources exists }}\n",
        (0..2000)
            .map(|i| format!("rule r{i} when Resources.*[ Type == 'A' ].Properties.X exists {{\n  Resources.*.Properties.Tags[*].Key == /^a/ or Resources.*.Type IN ['a', 'b']\n}}\n"))
            .collect::<String>()
    );
    for text in [blocks, filters, whens] {
        let (file, diags) = parse_source(&text);
        assert!(
            diags.is_empty(),
            "{:?}\n{}",
            diags.first().map(|d| &d.message),
            &text[..200.min(text.len())]
        );
        assert!(file.is_some());
    }
}
