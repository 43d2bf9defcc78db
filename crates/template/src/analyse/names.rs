//! The names a template can use: the roots each role sees, with the shape of what they hold,
//! and Jinja's globals, filters and tests.

use crate::bundle::Role;

/// The shape of what a name refers to.
#[derive(Clone, Debug)]
pub(super) enum Model {
    /// A mapping with fixed fields.
    Fields(Vec<(&'static str, Model)>),
    /// An input type's inputs.
    Inputs(&'static str),
    /// A stack's outputs: `environment` or `instance`.
    Outputs(&'static str),
    /// A list of `service_instances` entries.
    Seq(Box<Model>),
    /// A value with no further structure to check (a string, a number).
    Leaf,
    /// A mapping whose keys are unknown (a component's outputs).
    Open,
}

/// The roots a role can see, each with its model.
pub(super) fn roots(role: Role) -> Vec<(&'static str, Model)> {
    use Model::*;
    let service = || {
        Fields(vec![
            ("name", Leaf),
            ("branch_name", Leaf),
            ("repository_connection_arn", Leaf),
            ("repository_id", Leaf),
        ])
    };
    match role {
        Role::Environment => vec![(
            "environment",
            Fields(vec![("name", Leaf), ("inputs", Inputs("environment"))]),
        )],
        Role::ServiceInstance => vec![
            (
                "environment",
                Fields(vec![
                    ("name", Leaf),
                    ("account_id", Leaf),
                    ("outputs", Outputs("environment")),
                ]),
            ),
            ("service", service()),
            (
                "service_instance",
                Fields(vec![
                    ("name", Leaf),
                    ("inputs", Inputs("service")),
                    (
                        "components",
                        Fields(vec![(
                            "default",
                            Fields(vec![("name", Leaf), ("outputs", Open)]),
                        )]),
                    ),
                    // Pre-2021 alias of `environment.outputs` (reported as deprecated).
                    (
                        "environment",
                        Fields(vec![("outputs", Outputs("environment"))]),
                    ),
                ]),
            ),
        ],
        Role::Pipeline => vec![
            ("pipeline", Fields(vec![("inputs", Inputs("pipeline"))])),
            ("service", service()),
            (
                "service_instances",
                Seq(Box::new(Fields(vec![
                    ("name", Leaf),
                    ("inputs", Inputs("service")),
                    ("outputs", Outputs("instance")),
                    (
                        "environment",
                        Fields(vec![
                            ("name", Leaf),
                            ("account_id", Leaf),
                            ("outputs", Outputs("environment")),
                        ]),
                    ),
                ]))),
            ),
        ],
        Role::Component => vec![
            ("component", Fields(vec![("name", Leaf)])),
            (
                "environment",
                Fields(vec![("name", Leaf), ("outputs", Outputs("environment"))]),
            ),
            ("service", Fields(vec![("name", Leaf)])),
            (
                "service_instance",
                Fields(vec![("name", Leaf), ("inputs", Inputs("service"))]),
            ),
        ],
    }
}

pub(super) const ALL_ROOTS: &[&str] = &[
    "environment",
    "service",
    "service_instance",
    "service_instances",
    "pipeline",
    "component",
];

/// Names every template can use: Jinja's globals and loop helpers.
pub(super) const GLOBALS: &[&str] = &[
    "range",
    "dict",
    "namespace",
    "debug",
    "loop",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
];

/// Methods of a mapping that pycompat provides; after an inputs or outputs mapping they are
/// dynamic uses, not names.
pub(super) const MAP_METHODS: &[&str] = &["items", "keys", "values", "get"];

pub const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "zip",
    "proton_cfn_sanitize",
    "proton_cfn_ecs_task_definition_formatted_env_vars",
    "proton_cfn_lambda_function_formatted_env_vars",
    "proton_cfn_iam_policy_arns",
];

pub(super) const TESTS: &[&str] = &[
    "boolean",
    "defined",
    "undefined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "upper",
];
