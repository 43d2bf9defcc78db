//! Resource limits on inputs, configurable in proctor.toml's `[limits]` table.

use crate::yaml::ParseOptions;

#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest file proctor reads.
    pub max_file_bytes: u64,
    /// Deepest YAML nesting.
    pub max_yaml_depth: usize,
    /// Most nodes alias expansion may create in one document.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 5 * 1024 * 1024,
            max_yaml_depth: 256,
            max_alias_nodes: 100_000,
        }
    }
}

impl Limits {
    /// Options for the YAML files proctor reads as input (manifests, schemas, specs).
    pub fn yaml(&self) -> ParseOptions {
        ParseOptions {
            max_depth: self.max_yaml_depth,
            max_alias_nodes: self.max_alias_nodes,
            warn_yaml11: true,
            guard_scalars: false,
        }
    }
}
