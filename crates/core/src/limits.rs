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
    /// minijinja instructions one render may execute (T010 beyond).
    pub template_fuel: u64,
    /// Deepest nesting of template macro calls and recursive loops (T010 beyond).
    pub template_recursion: usize,
    /// Largest rendered template, in bytes (T010 beyond).
    pub max_rendered_bytes: usize,
    /// Backtracking steps one policy regex match may take (P005 beyond).
    pub regex_backtrack_limit: usize,
    /// Query steps and clauses one policy file may evaluate on one document (P008 beyond).
    pub policy_steps: u64,
    /// Folder entries one run may read while finding bundles and policy files (F006 beyond).
    pub max_files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 5 * 1024 * 1024,
            max_yaml_depth: 256,
            max_alias_nodes: 100_000,
            template_fuel: 5_000_000,
            template_recursion: 64,
            max_rendered_bytes: 10 * 1024 * 1024,
            regex_backtrack_limit: 100_000,
            policy_steps: 10_000_000,
            max_files: 100_000,
        }
    }
}

/// Work limits for one template render.
#[derive(Clone, Copy, Debug)]
pub struct RenderLimits {
    /// minijinja instructions one render may execute.
    pub fuel: u64,
    /// Deepest nesting of macro calls and recursive loops.
    pub recursion: usize,
    /// Largest rendered output, in bytes.
    pub max_output_bytes: usize,
}

impl Default for RenderLimits {
    fn default() -> Self {
        Limits::default().render()
    }
}

impl Limits {
    /// The limits of one template render.
    pub fn render(&self) -> RenderLimits {
        RenderLimits {
            fuel: self.template_fuel,
            recursion: self.template_recursion,
            max_output_bytes: self.max_rendered_bytes,
        }
    }

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
