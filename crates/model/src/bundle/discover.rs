//! Finding bundle folders under the paths a user gives.

use std::path::{Path, PathBuf};

/// A folder that holds a bundle, with the name users see.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BundleDir {
    pub path: PathBuf,
    pub display: String,
}

const INFRA_FOLDERS: &[&str] = &[
    "infrastructure",
    "instance_infrastructure",
    "pipeline_infrastructure",
];
const SKIP: &[&str] = &["target", "node_modules", "spec", "specs"];
const MAX_DEPTH: usize = 16;

/// Whether a folder is the root of a bundle.
pub fn is_bundle(dir: &Path) -> bool {
    if INFRA_FOLDERS.iter().any(|f| dir.join(f).is_dir()) || dir.join("schema").is_dir() {
        return true;
    }
    // A component: manifest.yaml at the root of its own folder.
    let leaf = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    dir.join("manifest.yaml").is_file() && !INFRA_FOLDERS.contains(&leaf)
}

/// Every bundle at or below `root`, in a stable order. Hidden folders, build output and
/// symlinked folders are not entered (a symlink loop cannot trap the walk).
pub fn discover(root: &Path, display: &str, walk: &crate::paths::WalkBudget) -> Vec<BundleDir> {
    // Given an infrastructure or schema folder, the bundle is its parent.
    let leaf = root.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if (INFRA_FOLDERS.contains(&leaf) || leaf == "schema")
        && let Some(parent) = root.parent()
        && is_bundle(parent)
    {
        let parent_display = Path::new(display).parent().map_or(".".to_string(), |p| {
            let s = p.to_string_lossy().into_owned();
            if s.is_empty() { ".".to_string() } else { s }
        });
        return vec![BundleDir {
            path: parent.to_path_buf(),
            display: parent_display,
        }];
    }
    let mut found = Vec::new();
    let mut stack = vec![(root.to_path_buf(), display.to_string(), 0usize)];
    while let Some((dir, shown, depth)) = stack.pop() {
        if is_bundle(&dir) {
            found.push(BundleDir {
                path: dir,
                display: shown,
            });
            continue;
        }
        if depth >= MAX_DEPTH {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut children: Vec<(PathBuf, String)> = entries
            .flatten()
            .take_while(|_| walk.visit(&shown))
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let is_real_dir = e.file_type().is_ok_and(|t| t.is_dir());
                (is_real_dir && !name.starts_with('.') && !SKIP.contains(&name.as_str()))
                    .then(|| (e.path(), crate::paths::join_display(&shown, &name)))
            })
            .collect();
        children.sort();
        for (p, s) in children.into_iter().rev() {
            stack.push((p, s, depth + 1));
        }
    }
    found.sort_by(|a, b| a.display.cmp(&b.display));
    found
}
