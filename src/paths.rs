//! Display names for paths: what users see in diagnostics, with `/` separators.

/// `dir` + `/` + `rel`, without a leading `./`.
pub fn join_display(dir: &str, rel: &str) -> String {
    if dir.is_empty() || dir == "." {
        rel.to_string()
    } else {
        format!("{}/{rel}", dir.trim_end_matches('/'))
    }
}

/// The folder part of a display name (`.` when there is none).
pub fn parent_display(name: &str) -> String {
    match name.rfind('/') {
        Some(i) => name[..i].to_string(),
        None => ".".to_string(),
    }
}
