//! The minijinja environment that renders templates exactly as Proton's Python Jinja2 did:
//! strict undefined values, Python printing, Python string methods, Proton's filters, and
//! limits on work. Templates can load nothing: `include`, `import` and `extends` find no
//! template (the only loader, [`crate::render::Renderer::prepare`]'s, serves the run's own
//! templates under names no template can guess), and no function reads files, the network
//! or the environment.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use super::{proton_filters as proton, python};

pub use crate::limits::RenderLimits;

/// Every filter name templates may use, for static checks (minijinja's builtins plus ours).
pub const PROTON_FILTERS: &[&str] = &[
    "proton_cfn_sanitize",
    "proton_cfn_ecs_task_definition_formatted_env_vars",
    "proton_cfn_lambda_function_formatted_env_vars",
    "proton_cfn_iam_policy_arns",
];

/// The rendering environment, printing values as Python does.
pub fn environment(limits: &RenderLimits) -> Environment<'static> {
    let mut env = strict_environment(limits);
    env.set_formatter(python::format);
    env
}

/// The same environment with minijinja's own formatter, which knows a missing value (an
/// error under strict rules) from the silent undefined of an `if` without `else`.
pub fn strict_environment(limits: &RenderLimits) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.set_fuel(Some(limits.fuel));
    env.set_recursion_limit(limits.recursion);
    env.set_debug(false);
    // Python's signatures and output where they differ from minijinja's.
    env.add_filter("truncate", python::truncate);
    env.add_filter("tojson", python::tojson);
    env.add_filter("string", python::string);
    env.add_filter("join", python::join);
    // Proton's own.
    env.add_filter("proton_cfn_sanitize", proton::sanitize);
    env.add_filter(
        "proton_cfn_ecs_task_definition_formatted_env_vars",
        proton::ecs_env_vars,
    );
    env.add_filter(
        "proton_cfn_lambda_function_formatted_env_vars",
        proton::lambda_env_vars,
    );
    env.add_filter("proton_cfn_iam_policy_arns", proton::iam_policy_arns);
    env
}
