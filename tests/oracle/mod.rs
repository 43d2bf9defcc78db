//! The cfn-guard 3.2.1 test oracle, shared by the differential tests.

use std::path::PathBuf;
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cfn-guard binary, built once by scripts/guard into a cache folder.
pub fn guard() -> PathBuf {
    let out = Command::new(root().join("scripts/guard"))
        .output()
        .expect("scripts/guard runs");
    assert!(
        out.status.success(),
        "scripts/guard failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}
