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

/// The files directly in `dir` whose names `keep` accepts, with their names, sorted by path;
/// none when the folder cannot be read.
pub fn files_named(
    dir: &std::path::Path,
    keep: impl Fn(&str) -> bool,
) -> Vec<(std::path::PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (keep(&name) && e.path().is_file()).then(|| (e.path(), name))
        })
        .collect();
    out.sort();
    out
}
