use super::*;
use crate::diag::Diagnostic;
use crate::source::SourceFile;

fn load(text: &str) -> (Option<Node>, Vec<Diagnostic>, Source) {
    let src = SourceFile::new("t.yaml", "t.yaml", text.to_string());
    let mut diags = Vec::new();
    let opts = ParseOptions {
        warn_yaml11: true,
        ..ParseOptions::default()
    };
    let node = parse(&src, &opts, &mut diags);
    (node, diags, src)
}

#[test]
fn spans_are_byte_ranges_of_values() {
    let (node, diags, src) = load("a: 1\nname: \"pé\"\nlist: [x, y]\n");
    assert!(diags.is_empty(), "{diags:?}");
    let node = node.unwrap();
    assert_eq!(src.slice(&node.get("a").unwrap().span), "1");
    assert_eq!(src.slice(&node.get("name").unwrap().span), "\"pé\"");
    let list = node.get("list").unwrap();
    assert_eq!(src.slice(&list.span), "[x, y]");
    assert_eq!(src.slice(&list.as_seq().unwrap()[1].span), "y");
}

#[test]
fn non_ascii_text_maps_characters_to_bytes() {
    let (node, _, src) = load("é: ü\nport: eighty\n");
    let port = node.unwrap().get("port").unwrap().clone();
    assert_eq!(src.slice(&port.span), "eighty");
    assert_eq!(src.line_col(port.span.start), (2, 7));
}

#[test]
fn tags_are_kept() {
    let (node, diags, _) = load("Value: !Ref Bucket\nList: !GetAZs ''\n");
    assert!(diags.is_empty());
    let node = node.unwrap();
    let v = node.get("Value").unwrap();
    assert_eq!(v.tag.as_deref(), Some("!Ref"));
    assert_eq!(v.as_str(), Some("Bucket"));
}

#[test]
fn duplicate_keys_name_both_places() {
    let (_, diags, src) = load("port: 80\nname: x\nport: 81\n");
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d.code.id, "Y002");
    assert_eq!(
        src.line_col(d.primary.as_ref().unwrap().at.span.start),
        (3, 1)
    );
    assert_eq!(src.line_col(d.labels[0].at.span.start), (1, 1));
}

/// Small mappings scan their keys and large ones index them; both find the same duplicates,
/// comparing resolved values (`1` and `0x1` are one key, `1` and `"1"` two).
#[test]
fn duplicate_keys_in_small_and_large_mappings() {
    for size in [3, SCAN_KEYS - 1, SCAN_KEYS, 200] {
        let mut text: String = (0..size).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("1: a\n\"1\": b\n0x1: c\nk0: again\n");
        let (_, diags, src) = load(&text);
        let found: Vec<_> = diags
            .iter()
            .filter(|d| d.code.id == "Y002")
            .map(|d| {
                let at = |s: &std::ops::Range<usize>| src.line_col(s.start).0;
                (
                    at(&d.primary.as_ref().unwrap().at.span),
                    at(&d.labels[0].at.span),
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![(size + 3, size + 1), (size + 4, 1)],
            "a mapping of {size} keys"
        );
    }
}

#[test]
fn deep_nesting_is_a_diagnostic() {
    let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (node, diags, _) = load(&text);
    assert!(node.is_none());
    assert_eq!(diags[0].code.id, "Y003", "{}", diags[0].message);
    let block: String = (0..5000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let (node, diags, _) = load(&block);
    assert!(node.is_none());
    assert_eq!(diags[0].code.id, "Y003", "{}", diags[0].message);
}

#[test]
fn alias_bombs_are_stopped() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..20 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let (node, diags, _) = load(&text);
    assert!(node.is_none());
    assert_eq!(diags[0].code.id, "Y004");
}

#[test]
fn yaml11_scalars_warn_but_quoted_ones_do_not() {
    let (node, diags, _) = load("public: yes\nmode: 0644\nquoted: \"yes\"\n");
    let codes: Vec<_> = diags.iter().map(|d| d.code.id).collect();
    assert_eq!(codes, ["Y006", "Y006"]);
    let node = node.unwrap();
    assert_eq!(node.get("public").unwrap().as_str(), Some("yes"));
    assert_eq!(node.get("mode").unwrap().value, Value::Int(644));
}

#[test]
fn syntax_errors_and_empty_files() {
    let (node, diags, _) = load("a: [1, 2\n");
    assert!(node.is_none());
    assert_eq!(diags[0].code.id, "Y001");
    let (node, diags, _) = load("# only a comment\n");
    assert!(node.is_none());
    assert_eq!(diags[0].code.id, "F004");
    let (node, diags, _) = load("a: 1\n---\nb: 2\n");
    assert!(node.is_none());
    assert_eq!(diags[0].code.id, "Y005");
}

#[test]
fn bom_and_crlf() {
    let (node, diags, src) = load("\u{feff}a: 1\r\nport: x\r\n");
    assert_eq!(diags[0].code.id, "F005");
    let port = node.unwrap().get("port").unwrap().clone();
    assert_eq!(src.slice(&port.span), "x");
    assert_eq!(src.line_col(port.span.start), (2, 7));
}

#[test]
fn block_mapping_span_ends_at_last_value() {
    let (node, _, src) = load("spec:\n  a: 1\n  b: two\n\n# trailing comment\n");
    let spec = node.unwrap().get("spec").unwrap().clone();
    assert_eq!(src.slice(&spec.span), "a: 1\n  b: two");
}
