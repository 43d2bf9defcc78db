//! `docs/rules.md` is generated from the code registry. This test fails when it is stale;
//! run with `PROCTOR_BLESS=1` to rewrite it.

use std::fmt::Write;

fn render() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\nGenerated from `crates/core/src/diag/codes.rs` by `tests/docs.rs`; do not edit by hand.\n\
         `proctor explain CODE` prints the same text.\n\n| code | name | severity | what it checks |\n|---|---|---|---|\n",
    );
    for c in proctor::diag::codes::ALL {
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} |",
            c.id,
            c.id.to_lowercase(),
            c.name,
            c.severity.as_str(),
            c.what
        );
    }
    for c in proctor::diag::codes::ALL {
        let _ = write!(
            out,
            "\n## {}\n\n`{}` · {} · stage: {}\n\n**What it checks.** {}\n\n**Why it matters.** {}\n\n**Example.** {}\n\n**How to fix it.** {}\n",
            c.id,
            c.name,
            c.severity.as_str(),
            c.stage,
            c.what,
            c.why,
            c.example,
            c.fix
        );
    }
    out
}

#[test]
fn rules_page_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let want = render();
    if std::env::var_os("PROCTOR_BLESS").is_some() {
        std::fs::write(&path, &want).expect("docs/rules.md is writable");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is stale: run `PROCTOR_BLESS=1 cargo test --test it docs::`"
    );
}
