//! `proctor adopt`: binds proctor.toml's deployments to the CloudFormation stacks AWS Proton
//! deployed, by the tags Proton put on them, so that `apply` updates those stacks in place.
//!
//! This module is the decision, with no AWS call: which live stacks Proton made, which
//! deployment each one is, whether every binding is certain, and the edit to proctor.toml
//! (comments and layout kept). The CLI lists the stacks and writes the file.

use std::collections::BTreeMap;

use crate::config::Config;

/// The tags Proton put on the stacks it provisioned: its AWS-managed keys, and the customer
/// keys they propagate as (the Proton user guide, "AWS Proton resources and tagging").
const ENVIRONMENT_TAGS: [&str; 2] = ["aws:proton:environment", "proton:environment"];
const SERVICE_TAGS: [&str; 2] = ["aws:proton:service", "proton:service"];
const INSTANCE_TAGS: [&str; 2] = ["aws:proton:service-instance", "proton:service-instance"];
const TEMPLATE_TAGS: [&str; 2] = ["aws:proton:template", "proton:template"];

/// A stack as CloudFormation lists it.
#[derive(Clone, Debug, Default)]
pub struct LiveStack {
    pub name: String,
    pub id: String,
    pub status: String,
    pub tags: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
}

/// What a Proton stack deployed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deployment {
    Environment { name: String },
    Instance { service: String, instance: String },
    Pipeline { service: String },
}

impl Deployment {
    /// As the user would say it.
    pub fn describe(&self) -> String {
        match self {
            Deployment::Environment { name } => format!("environment `{name}`"),
            Deployment::Instance { service, instance } => {
                format!("instance `{instance}` of service `{service}`")
            }
            Deployment::Pipeline { service } => format!("the pipeline of service `{service}`"),
        }
    }

    /// The deployment unit it is, as units and bindings name one: (kind, name, service).
    pub fn unit(&self) -> (&'static str, &str, Option<&str>) {
        match self {
            Deployment::Environment { name } => ("environment", name, None),
            Deployment::Instance { service, instance } => {
                ("service_instance", instance, Some(service))
            }
            Deployment::Pipeline { service } => ("pipeline", service, Some(service)),
        }
    }

    /// The proctor.toml array of tables that declares it, and the entry's name.
    fn declared_in(&self) -> (&'static str, &str) {
        match self {
            Deployment::Environment { name } => ("environment", name),
            Deployment::Instance { service, .. } | Deployment::Pipeline { service } => {
                ("service", service)
            }
        }
    }
}

/// A Proton stack: what it deployed, and from which template (its name, when the tag says).
#[derive(Clone, Debug)]
pub struct ProtonStack {
    pub stack: LiveStack,
    pub deployment: Deployment,
    pub template: Option<String>,
}

/// One binding adopt would write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub deployment: Deployment,
    pub stack: String,
}

/// What adopt found: the bindings to write, the Proton stacks proctor.toml does not declare,
/// and the problems that keep it from writing anything.
#[derive(Debug, Default)]
pub struct Plan {
    pub bindings: Vec<Binding>,
    /// Already bound to the same stack in proctor.toml: nothing to write.
    pub already: Vec<Binding>,
    pub undeclared: Vec<ProtonStack>,
    pub problems: Vec<String>,
}

fn tag<'a>(stack: &'a LiveStack, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| {
        stack
            .tags
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    })
}

/// The resource part of a Proton ARN (`arn:PARTITION:proton:REGION:ACCOUNT:RESOURCE`), split
/// at `/`; `None` when it is not one.
fn proton_resource(arn: &str) -> Option<Vec<&str>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("proton"), Some(_region), Some(_account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let resource: Vec<&str> = rest.split('/').collect();
    (!partition.is_empty() && resource.iter().all(|p| !p.is_empty())).then_some(resource)
}

/// What a stack deployed, from its Proton tags: `Ok(None)` when it has none (not Proton's),
/// `Err` when a tag is not the ARN Proton writes.
pub fn proton_stack(stack: &LiveStack) -> Result<Option<ProtonStack>, String> {
    let bad = |key: &str, value: &str, want: &str| {
        format!(
            "stack `{}`: tag `{key}` is `{value}`, not {want}",
            stack.name
        )
    };
    let instance = tag(stack, &INSTANCE_TAGS);
    let service = tag(stack, &SERVICE_TAGS);
    let environment = tag(stack, &ENVIRONMENT_TAGS);
    let deployment = if let Some(arn) = instance {
        match proton_resource(arn).as_deref() {
            Some(["service", service, "service-instance", instance]) => Deployment::Instance {
                service: service.to_string(),
                instance: instance.to_string(),
            },
            _ => {
                return Err(bad(
                    INSTANCE_TAGS[0],
                    arn,
                    "a service instance's ARN (`arn:aws:proton:REGION:ACCOUNT:service/SERVICE/service-instance/NAME`)",
                ));
            }
        }
    } else if let Some(arn) = service {
        // A service's stack without an instance is its pipeline.
        match proton_resource(arn).as_deref() {
            Some(["service", service]) => Deployment::Pipeline {
                service: service.to_string(),
            },
            _ => {
                return Err(bad(
                    SERVICE_TAGS[0],
                    arn,
                    "a service's ARN (`arn:aws:proton:REGION:ACCOUNT:service/NAME`)",
                ));
            }
        }
    } else if let Some(arn) = environment {
        match proton_resource(arn).as_deref() {
            Some(["environment", name]) => Deployment::Environment {
                name: name.to_string(),
            },
            _ => {
                return Err(bad(
                    ENVIRONMENT_TAGS[0],
                    arn,
                    "an environment's ARN (`arn:aws:proton:REGION:ACCOUNT:environment/NAME`)",
                ));
            }
        }
    } else {
        return Ok(None);
    };
    let template = match tag(stack, &TEMPLATE_TAGS) {
        None => None,
        Some(arn) => match proton_resource(arn).as_deref() {
            Some(["environment-template" | "service-template", name]) => Some(name.to_string()),
            _ => {
                return Err(bad(
                    TEMPLATE_TAGS[0],
                    arn,
                    "a template's ARN (`arn:aws:proton:REGION:ACCOUNT:environment-template/NAME` or `service-template/NAME`)",
                ));
            }
        },
    };
    Ok(Some(ProtonStack {
        stack: stack.clone(),
        deployment,
        template,
    }))
}

/// Whether a stack can be taken over as it is: complete, not failed, rolled back or busy.
fn usable(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

/// The deployment proctor.toml declares for a Proton stack, if it declares it.
fn declared(config: &Config, d: &Deployment) -> bool {
    match d {
        Deployment::Environment { name } => {
            config.environments.iter().any(|e| &e.name.value == name)
        }
        Deployment::Instance { service, .. } | Deployment::Pipeline { service } => {
            config.services.iter().any(|s| &s.name.value == service)
        }
    }
}

fn bound_now<'c>(config: &'c Config, d: &Deployment) -> Option<&'c str> {
    let (kind, name, service) = d.unit();
    config.bound_stack(kind, name, service)
}

/// Decides the bindings from the account's stacks. Stacks without Proton's tags are left
/// alone and never named. Every problem is collected; the caller writes nothing if there is
/// one.
pub fn plan(config: &Config, stacks: &[LiveStack]) -> Plan {
    let mut out = Plan::default();
    let mut claims: BTreeMap<Deployment, Vec<ProtonStack>> = BTreeMap::new();
    for s in stacks {
        match proton_stack(s) {
            Ok(Some(p)) => claims.entry(p.deployment.clone()).or_default().push(p),
            Ok(None) => {}
            Err(e) => out.problems.push(e),
        }
    }
    for (deployment, mut found) in claims {
        if found.len() > 1 {
            let names: Vec<&str> = found.iter().map(|p| p.stack.name.as_str()).collect();
            out.problems.push(format!(
                "{} is claimed by {} stacks ({}); delete or untag the stale one, or bind one by hand in proctor.toml",
                deployment.describe(),
                names.len(),
                names.join(", ")
            ));
            continue;
        }
        let Some(p) = found.pop() else { continue };
        if !declared(config, &deployment) {
            out.undeclared.push(p);
            continue;
        }
        if !usable(&p.stack.status) {
            out.problems.push(format!(
                "stack `{}` ({}) is {}; bring it to a complete state in CloudFormation (or delete it) before adopting it",
                p.stack.name,
                deployment.describe(),
                p.stack.status
            ));
            continue;
        }
        let binding = Binding {
            deployment: deployment.clone(),
            stack: p.stack.name.clone(),
        };
        match bound_now(config, &deployment) {
            Some(s) if s == p.stack.name => out.already.push(binding),
            Some(s) => out.problems.push(format!(
                "{} is bound to stack `{s}` in proctor.toml, but Proton deployed it to `{}`; remove one of them",
                deployment.describe(),
                p.stack.name
            )),
            None => out.bindings.push(binding),
        }
    }
    out
}

/// The proctor.toml lines that would declare an undeclared Proton stack's deployment.
pub fn declaration(p: &ProtonStack) -> String {
    let template = p.template.as_deref().unwrap_or("TEMPLATE");
    match &p.deployment {
        Deployment::Environment { name } => format!(
            "[[environment]]\nname = \"{name}\"\ntemplate = \"{template}:1\"\nspec = \"specs/{name}.yaml\"\nstack = \"{}\"\n",
            p.stack.name
        ),
        Deployment::Instance { service, instance } => format!(
            "[[service]]\nname = \"{service}\"\ntemplate = \"{template}:1\"\nspec = \"specs/{service}.yaml\"\nstacks = {{ {} = \"{}\" }}\n",
            toml_key(instance),
            p.stack.name
        ),
        Deployment::Pipeline { service } => format!(
            "[[service]]\nname = \"{service}\"\ntemplate = \"{template}:1\"\nspec = \"specs/{service}.yaml\"\npipeline_stack = \"{}\"\n",
            p.stack.name
        ),
    }
}

/// A TOML key: bare when it can be, else quoted.
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        format!("{k:?}")
    }
}

/// proctor.toml's text with `bindings` written in: `stack` in an `[[environment]]`,
/// `stacks.INSTANCE` and `pipeline_stack` in a `[[service]]`. Everything else (comments,
/// order, layout) stays as it was.
pub fn edit(text: &str, bindings: &[Binding]) -> Result<String, String> {
    let mut doc = parse_toml(text)?;
    for b in bindings {
        let table = declaration_table(&mut doc, &b.deployment)?;
        match &b.deployment {
            Deployment::Environment { .. } => {
                table.insert("stack", toml_edit::value(b.stack.as_str()));
            }
            Deployment::Pipeline { .. } => {
                table.insert("pipeline_stack", toml_edit::value(b.stack.as_str()));
            }
            Deployment::Instance { instance, .. } => {
                let stacks = table
                    .entry("stacks")
                    .or_insert_with(|| toml_edit::Item::Value(toml_edit::InlineTable::new().into()))
                    .as_table_like_mut()
                    .ok_or_else(|| "a service's `stacks` is not a table".to_string())?;
                stacks.insert(instance, toml_edit::value(b.stack.as_str()));
            }
        }
    }
    Ok(doc.to_string())
}

/// proctor.toml's text with the template of `deployment`'s `[[environment]]` or
/// `[[service]]` set to `template` (`name:major`): a probe of another version.
pub fn with_template(
    text: &str,
    deployment: &Deployment,
    template: &str,
) -> Result<String, String> {
    let mut doc = parse_toml(text)?;
    declaration_table(&mut doc, deployment)?.insert("template", toml_edit::value(template));
    Ok(doc.to_string())
}

fn parse_toml(text: &str) -> Result<toml_edit::DocumentMut, String> {
    text.parse()
        .map_err(|e| format!("proctor.toml is not valid TOML: {e}"))
}

/// The `[[environment]]` or `[[service]]` table that declares `deployment`.
fn declaration_table<'d>(
    doc: &'d mut toml_edit::DocumentMut,
    deployment: &Deployment,
) -> Result<&'d mut toml_edit::Table, String> {
    let (array, name) = deployment.declared_in();
    doc.get_mut(array)
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .and_then(|tables| {
            tables
                .iter_mut()
                .find(|t| t.get("name").and_then(toml_edit::Item::as_str) == Some(name))
        })
        .ok_or_else(|| format!("proctor.toml has no [[{array}]] named `{name}`"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::source::SourceFile;

    fn config(text: &str) -> Config {
        let src = SourceFile::new("proctor.toml", "proctor.toml", text.to_string());
        let mut diags = Vec::new();
        let cfg = crate::config::parse(&src, Path::new("/ws"), &mut diags).unwrap();
        assert!(diags.is_empty(), "{:?}", diags[0].message);
        cfg
    }

    fn stack(name: &str, status: &str, tags: &[(&str, &str)]) -> LiveStack {
        LiveStack {
            name: name.to_string(),
            id: format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{name}/1"),
            status: status.to_string(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            outputs: Vec::new(),
        }
    }

    const ARN: &str = "arn:aws:proton:us-east-1:123456789012";

    const TOML: &str = "# The platform team's workspace.\n[[environment]]\nname = \"staging\"   # the shared one\ntemplate = \"fargate-env:1\"\nspec = \"specs/staging.yaml\"\n\n[[service]]\nname = \"api\"\ntemplate = \"web-svc:1\"\nspec = \"specs/api.yaml\"\n";

    #[test]
    fn proton_tags_say_what_each_stack_deployed() {
        let env = stack(
            "AWSProton-staging-cf-1",
            "CREATE_COMPLETE",
            &[
                (
                    "aws:proton:environment",
                    &format!("{ARN}:environment/staging"),
                ),
                (
                    "aws:proton:template",
                    &format!("{ARN}:environment-template/fargate-env"),
                ),
            ],
        );
        let p = proton_stack(&env).unwrap().unwrap();
        assert_eq!(
            p.deployment,
            Deployment::Environment {
                name: "staging".into()
            }
        );
        assert_eq!(p.template.as_deref(), Some("fargate-env"));
        // The propagated customer keys count too; a service tag without an instance is the
        // pipeline.
        let instance = stack(
            "s1",
            "UPDATE_COMPLETE",
            &[
                ("proton:service", &format!("{ARN}:service/api")),
                (
                    "proton:service-instance",
                    &format!("{ARN}:service/api/service-instance/web"),
                ),
            ],
        );
        assert_eq!(
            proton_stack(&instance).unwrap().unwrap().deployment,
            Deployment::Instance {
                service: "api".into(),
                instance: "web".into()
            }
        );
        let pipeline = stack(
            "s2",
            "CREATE_COMPLETE",
            &[("aws:proton:service", &format!("{ARN}:service/api"))],
        );
        assert_eq!(
            proton_stack(&pipeline).unwrap().unwrap().deployment,
            Deployment::Pipeline {
                service: "api".into()
            }
        );
        assert!(
            proton_stack(&stack("mine", "CREATE_COMPLETE", &[("team", "x")]))
                .unwrap()
                .is_none()
        );
        let bad = stack(
            "odd",
            "CREATE_COMPLETE",
            &[("aws:proton:environment", "arn:aws:s3:::bucket")],
        );
        assert!(
            proton_stack(&bad)
                .unwrap_err()
                .contains("not an environment's ARN")
        );
    }

    #[test]
    fn bindings_are_certain_or_nothing_is_written() {
        let cfg = config(TOML);
        let env = |name: &str, status: &str| {
            stack(
                name,
                status,
                &[(
                    "aws:proton:environment",
                    &format!("{ARN}:environment/staging"),
                )],
            )
        };
        let other = stack("unrelated", "CREATE_COMPLETE", &[]);
        let web = stack(
            "AWSProton-api-web",
            "CREATE_COMPLETE",
            &[
                ("aws:proton:service", &format!("{ARN}:service/api")),
                (
                    "aws:proton:service-instance",
                    &format!("{ARN}:service/api/service-instance/web"),
                ),
            ],
        );
        let orphan = stack(
            "AWSProton-prod",
            "CREATE_COMPLETE",
            &[("aws:proton:environment", &format!("{ARN}:environment/prod"))],
        );

        let p = plan(
            &cfg,
            &[
                env("AWSProton-staging", "UPDATE_COMPLETE"),
                other.clone(),
                web.clone(),
                orphan,
            ],
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(
            p.bindings,
            [
                Binding {
                    deployment: Deployment::Environment {
                        name: "staging".into()
                    },
                    stack: "AWSProton-staging".into()
                },
                Binding {
                    deployment: Deployment::Instance {
                        service: "api".into(),
                        instance: "web".into()
                    },
                    stack: "AWSProton-api-web".into()
                },
            ]
        );
        assert_eq!(p.undeclared.len(), 1);
        assert!(
            declaration(&p.undeclared[0]).contains("name = \"prod\"\ntemplate = \"TEMPLATE:1\"")
        );

        let p = plan(
            &cfg,
            &[
                env("AWSProton-staging", "UPDATE_COMPLETE"),
                env("AWSProton-staging-old", "CREATE_COMPLETE"),
            ],
        );
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert!(
            p.problems[0]
                .contains("claimed by 2 stacks (AWSProton-staging, AWSProton-staging-old)")
        );

        let p = plan(&cfg, &[env("AWSProton-staging", "UPDATE_ROLLBACK_FAILED")]);
        assert!(
            p.problems[0].contains("is UPDATE_ROLLBACK_FAILED"),
            "{:?}",
            p.problems
        );
        assert!(p.bindings.is_empty());
    }

    #[test]
    fn the_edit_keeps_comments_and_layout() {
        let bindings = [
            Binding {
                deployment: Deployment::Environment {
                    name: "staging".into(),
                },
                stack: "AWSProton-staging".into(),
            },
            Binding {
                deployment: Deployment::Instance {
                    service: "api".into(),
                    instance: "web".into(),
                },
                stack: "AWSProton-api-web".into(),
            },
            Binding {
                deployment: Deployment::Pipeline {
                    service: "api".into(),
                },
                stack: "AWSProton-api-pipeline".into(),
            },
        ];
        let text = edit(TOML, &bindings).unwrap();
        assert_eq!(
            text,
            "# The platform team's workspace.\n[[environment]]\nname = \"staging\"   # the shared one\ntemplate = \"fargate-env:1\"\nspec = \"specs/staging.yaml\"\nstack = \"AWSProton-staging\"\n\n[[service]]\nname = \"api\"\ntemplate = \"web-svc:1\"\nspec = \"specs/api.yaml\"\nstacks = { web = \"AWSProton-api-web\" }\npipeline_stack = \"AWSProton-api-pipeline\"\n"
        );
        // What was written reads back as the bindings.
        let cfg = config(&text);
        assert_eq!(
            cfg.bound_stack("service_instance", "web", Some("api")),
            Some("AWSProton-api-web")
        );
        assert_eq!(
            cfg.bound_stack("environment", "staging", None),
            Some("AWSProton-staging")
        );
    }
}
