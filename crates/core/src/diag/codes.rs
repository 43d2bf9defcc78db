//! The registry of diagnostic codes. Every code proctor can emit is defined here, once, with
//! its documentation; `proctor explain` and the rules page are generated from this table.
//!
//! Codes are stable: a code is never reused for a different check. The letter names the
//! stage: F files, Y YAML and document shape, W workspace configuration, B bundles,
//! S input schemas, I developer specs (inputs), T templates, C CloudFormation, P policies.

use super::Severity;

#[derive(Debug)]
pub struct Code {
    pub id: &'static str,
    /// A short kebab-case name, for people.
    pub name: &'static str,
    pub severity: Severity,
    pub stage: &'static str,
    pub what: &'static str,
    pub why: &'static str,
    pub example: &'static str,
    pub fix: &'static str,
}

/// Codes are identified by their id.
impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Code {}

/// Where the rule documentation lives: `docs/rules.md` in the repository that Cargo.toml's
/// `repository` names (change it there if the project moves).
pub const DOCS_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules.md");

impl Code {
    /// The link to this code's entry in docs/rules.md (its heading's anchor).
    pub fn docs_url(&self) -> String {
        format!("{DOCS_BASE}#{}", self.id.to_ascii_lowercase())
    }
}

macro_rules! codes {
    ($( $id:ident $name:literal $sev:ident $stage:literal {
        what: $what:literal, why: $why:literal, example: $example:literal, fix: $fix:literal $(,)?
    } )*) => {
        $( pub const $id: &Code = &Code {
            id: stringify!($id), name: $name, severity: Severity::$sev, stage: $stage,
            what: $what, why: $why, example: $example, fix: $fix,
        }; )*
        /// Every code, in registry order.
        pub const ALL: &[&Code] = &[$($id),*];
    };
}

codes! {
    E001 "internal-error" Error "internal" {
        what: "proctor hit a bug while working on one deployment unit, bundle or file; the rest of the run went on.",
        why: "A bug in proctor must not hide the findings of the other units, nor pass silently: the unit it hit is reported, and the run exits with code 3.",
        example: "`internal error in proctor while rendering service instance `api-dev`: ...`",
        fix: "Nothing in your files to fix: report it with the message (and, if you can, the files of that unit). The other units' findings stand.",
    }
    F001 "file-unreadable" Error "files" {
        what: "A file proctor needs could not be read (missing, a directory, or no permission).",
        why: "A bundle or spec that cannot be read cannot be checked, and Proton would not have deployed it.",
        example: "instance_infrastructure/manifest.yaml names `cloudformation.yaml`, which does not exist.",
        fix: "Create the file, fix its path, or fix its permissions.",
    }
    F002 "not-utf8" Error "files" {
        what: "A text file is not valid UTF-8 (or contains a NUL byte).",
        why: "YAML and templates are UTF-8 text; a binary or mis-encoded file is almost always a mistake and is read differently by different tools.",
        example: "A spec saved as UTF-16 or Latin-1 from a Windows editor.",
        fix: "Re-save the file as UTF-8.",
    }
    F003 "file-too-large" Error "files" {
        what: "A file is larger than proctor's limit (5 MiB by default).",
        why: "Bounded inputs keep proctor fast and safe on hostile pull requests; no real bundle file is this large.",
        example: "A 50 MB spec.yaml.",
        fix: "Shrink the file, or raise `limits.max_file_bytes` in proctor.toml if it is really needed.",
    }
    F004 "empty-file" Error "files" {
        what: "A manifest, schema or spec is empty (or only comments).",
        why: "An empty document has none of the keys the file must have.",
        example: "An empty schema/schema.yaml.",
        fix: "Write the document's content, or delete the file.",
    }
    F005 "byte-order-mark" Warning "files" {
        what: "A file starts with a UTF-8 byte-order mark.",
        why: "The mark is invisible and some YAML tools read it as part of the first key.",
        example: "A spec saved by an editor set to 'UTF-8 with BOM'.",
        fix: "Save the file as UTF-8 without a BOM.",
    }
    F006 "too-many-files" Error "files" {
        what: "Finding bundles and policy files visited more folders and files than proctor's limit (100,000 by default); the search stopped there.",
        why: "A template folder holding a dependency tree or a generated maze would make every run slow; bounded inputs keep proctor fast on hostile pull requests, and a gate must not pass having looked at part of the tree.",
        example: "`templates/` holding a vendored `node_modules` of 300,000 files under another name.",
        fix: "Keep generated and vendored files out of the template and policy folders, point proctor at a narrower folder, or raise `limits.max_files` in proctor.toml.",
    }
    Y001 "yaml-syntax" Error "yaml" {
        what: "The file is not well-formed YAML.",
        why: "Proton rejected such files; nothing else can be checked in them.",
        example: "`port: [80` (an unclosed flow sequence), or a tab used for indentation.",
        fix: "Correct the YAML at the location shown.",
    }
    Y002 "duplicate-key" Error "yaml" {
        what: "A mapping has the same key twice.",
        why: "YAML forbids it, and tools disagree on which value wins: the spec may not mean what it says.",
        example: "`port: 80` and, further down the same mapping, `port: 8080`.",
        fix: "Delete one of the two entries.",
    }
    Y003 "nesting-too-deep" Error "yaml" {
        what: "The document nests more deeply than proctor's limit (256 levels by default).",
        why: "Real bundles nest a few levels; extreme nesting is a hostile input that would exhaust the stack.",
        example: "`[[[[[[ ... ]]]]]]` ten thousand levels deep.",
        fix: "Flatten the document, or raise `limits.max_yaml_depth` in proctor.toml.",
    }
    Y004 "alias-expansion-limit" Error "yaml" {
        what: "Expanding the document's aliases (`*name`) would create more nodes than proctor's limit.",
        why: "Nested aliases grow exponentially (the 'billion laughs' attack) and would exhaust memory.",
        example: "`a: &a [x, x]`, `b: &b [*a, *a]`, ... repeated twenty times.",
        fix: "Write the values out, or raise `limits.max_alias_nodes` in proctor.toml.",
    }
    Y005 "multiple-documents" Error "yaml" {
        what: "The file has more than one YAML document (`---` separators).",
        why: "Manifests, schemas and specs are one document each; Proton read only one.",
        example: "Two specs pasted into one file with `---` between them.",
        fix: "Keep one document per file.",
    }
    Y006 "yaml-1-1-ambiguity" Warning "yaml" {
        what: "A plain scalar that YAML 1.1 and YAML 1.2 read differently.",
        why: "proctor reads YAML 1.2 (the core schema): `yes`, `on` and `no` are strings and `0644` is the integer 644. Tools built on YAML 1.1 read them as booleans and octal numbers, so the value may not be what the author meant.",
        example: "`public: yes` (a string in YAML 1.2, `true` in YAML 1.1).",
        fix: "Write the value unambiguously: `true`/`false`, a quoted string such as `\"yes\"`, or `0o644` for an octal number.",
    }
    Y007 "unexpected-type" Error "yaml" {
        what: "A value has the wrong kind of structure for where it stands in a manifest, schema, spec or registration file.",
        why: "proctor and Proton read these files by their shape; a list where a mapping belongs means nothing can be read there.",
        example: "`spec:` followed by a list of inputs instead of a mapping of them.",
        fix: "Write the value in the shape the help shows.",
    }
    Y008 "unknown-key" Error "yaml" {
        what: "A key that this kind of file does not have.",
        why: "Proton rejected unknown keys in these files; usually the key is misspelled and the value is silently ignored.",
        example: "`instance:` instead of `instances:` in a ServiceSpec.",
        fix: "Correct the key (the help suggests the closest one) or delete it.",
    }
    Y009 "missing-key" Error "yaml" {
        what: "A key that this kind of file must have is missing.",
        why: "Without it the file cannot be understood.",
        example: "A spec without `proton: EnvironmentSpec` or `proton: ServiceSpec`.",
        fix: "Add the key shown in the help.",
    }
    W001 "config-invalid" Error "workspace" {
        what: "proctor.toml is not valid TOML, or has a key or value proctor does not know.",
        why: "The configuration declares the deployments; a mistake in it would check the wrong things.",
        example: "`[[enviroment]]` instead of `[[environment]]`.",
        fix: "Correct proctor.toml at the location shown; the README documents the format.",
    }
    W002 "unresolved-template" Error "workspace" {
        what: "A deployment's `template` names no bundle in the workspace.",
        why: "The deployment's spec cannot be checked without its bundle.",
        example: "`template = \"fargate-env:3\"` when only `fargate-env/v1` and `fargate-env/v2` exist.",
        fix: "Name an existing template and major version, or a path to a bundle folder.",
    }
    W003 "duplicate-deployment" Error "workspace" {
        what: "Two environments, or two services, in proctor.toml have the same name.",
        why: "Names identify deployments (and their stacks); two with one name would overwrite each other.",
        example: "Two `[[environment]]` tables with `name = \"dev\"`.",
        fix: "Rename one of them.",
    }
    W004 "invalid-template-ref" Error "workspace" {
        what: "A `template` reference is neither `name:major`, `name:major.minor`, nor a path to a folder.",
        why: "proctor cannot tell which bundle and version is meant.",
        example: "`template = \"fargate-env\"` (no major version).",
        fix: "Write `fargate-env:1`, `fargate-env:1.2`, or a path such as `templates/fargate-env/v1`.",
    }
    W005 "missing-folder" Error "workspace" {
        what: "A `[workspace] templates` or `policies` entry names no folder.",
        why: "A mistyped folder would silently check nothing: no bundles found, or no policies enforced.",
        example: "`policies = [\"polices\"]` when the folder is `policies`.",
        fix: "Create the folder, or correct the path (relative to the folder of proctor.toml).",
    }
    W006 "unreadable-state" Error "workspace" {
        what: "The deployment state file (`.proctor/state.json`) cannot be used: it is not valid JSON, not in the state format, or from a newer proctor.",
        why: "`proctor apply` records each deployed stack's outputs there, and service instances are rendered with their environment's outputs from it; a broken file would render them with wrong or missing values.",
        example: "A merge conflict left `<<<<<<<` lines in `.proctor/state.json`.",
        fix: "Resolve the conflict or restore the file from version control; deleting it is safe too: the next `proctor apply` of each environment records its outputs again.",
    }
    B001 "missing-bundle-file" Error "bundle" {
        what: "A file or folder that the bundle must have is missing.",
        why: "Proton refused to register a bundle without its schema, manifest or template.",
        example: "An environment bundle with `infrastructure/manifest.yaml` but no `schema/schema.yaml`.",
        fix: "Add the missing file, or fix the manifest's `file` entry.",
    }
    B002 "file-outside-bundle" Error "bundle" {
        what: "A manifest names a file outside the bundle (`..`, an absolute path, or a symlink that leads out).",
        why: "Proton bundles are self-contained archives; a path that leaves the bundle reads files nobody reviewed as part of it.",
        example: "`file: ../../shared/cloudformation.yaml`.",
        fix: "Copy the file into the bundle's infrastructure folder and name it relative to the manifest.",
    }
    B003 "engine-not-compiled" Info "bundle" {
        what: "The manifest uses a rendering engine or template language that proctor does not compile (Terraform/HCL, CodeBuild).",
        why: "proctor renders and checks Jinja-templated CloudFormation only; it still checks the schema and specs of such bundles.",
        example: "`rendering_engine: hcl` with `template_language: terraform`.",
        fix: "Nothing to fix; this is information.",
    }
    B004 "deprecated-engine-key" Warning "bundle" {
        what: "The manifest uses the old `engine:` key instead of `rendering_engine:`.",
        why: "`engine` is the pre-release form of the manifest; current tools expect `rendering_engine`.",
        example: "`engine: jinja`.",
        fix: "Rename the key to `rendering_engine`.",
    }
    B005 "pipeline-mismatch" Error "bundle" {
        what: "A service bundle's schema and folders disagree about the pipeline.",
        why: "A service bundle with `pipeline_infrastructure/` must declare `pipeline_input_type`, and one without it must not; Proton refused both mismatches.",
        example: "`pipeline_input_type: PipelineInput` in a bundle with no `pipeline_infrastructure/` folder.",
        fix: "Add the `pipeline_infrastructure/` folder, or delete `pipeline_input_type`.",
    }
    B006 "unknown-input-type" Error "bundle" {
        what: "`environment_input_type`, `service_input_type` or `pipeline_input_type` names a type that is not under `types`.",
        why: "Specs are checked against that type; without it nothing can be checked.",
        example: "`service_input_type: ServiceInputs` with `types: {ServiceInput: ...}`.",
        fix: "Correct the name (the help suggests the closest) or add the type.",
    }
    B007 "proton-limit" Error "bundle" {
        what: "A bundle or spec exceeds one of Proton's limits: bundle size 5 MB or 10 files; manifest and schema 50 KB; other files 200 KB; spec 51,200 characters.",
        why: "Proton refused such bundles and specs; proctor keeps bundles portable to the same limits.",
        example: "A schema.yaml of 80 KB.",
        fix: "Make the file smaller (move long descriptions into documentation) or split the template.",
    }
    B008 "invalid-name" Error "bundle" {
        what: "A template, environment, service or instance name does not match Proton's rule: `[0-9A-Za-z]+[0-9A-Za-z_-]*`, 1 to 100 characters.",
        why: "Names become stack names and resource names; Proton refused others.",
        example: "`name: payments.dev` (a dot is not allowed).",
        fix: "Use letters, digits, `-` and `_`, starting with a letter or digit.",
    }
    B009 "invalid-registration" Error "bundle" {
        what: "`.template-registration.yaml` or `.compatible-envs` is malformed.",
        why: "These files say which environment templates a service template works with; a malformed entry registers nothing.",
        example: "`compatible_environments: [fargate-env]` (no `:major`).",
        fix: "Write each entry as `environment-template-name:major`; the only component source is `DIRECTLY_DEFINED`.",
    }
    B010 "no-bundle-found" Warning "bundle" {
        what: "A path given to `proctor check` contains no bundle, spec or configuration to check.",
        why: "The command would otherwise succeed while checking nothing.",
        example: "`proctor check templates/` when the bundles live in `infra/`.",
        fix: "Point proctor at the folder that holds the bundles.",
    }
    B011 "invalid-manifest" Error "bundle" {
        what: "A manifest's templates are not what Proton accepts: an unknown rendering engine, or a CloudFormation manifest that does not name exactly one file.",
        why: "Proton deployed exactly one CloudFormation template per infrastructure folder; anything else was refused at registration.",
        example: "Two `- file:` entries with `rendering_engine: jinja`.",
        fix: "Keep one `file` entry with `rendering_engine: jinja` and `template_language: cloudformation`.",
    }
    S001 "type-list" Error "schema" {
        what: "A schema property's `type` is a list.",
        why: "OpenAPI 3.0 allows exactly one type; nullable values are written `nullable: true`.",
        example: "`type: [string, \"null\"]`.",
        fix: "Write `type: string` with `nullable: true`.",
    }
    S002 "invalid-default" Error "schema" {
        what: "A property's `default` violates the property's own constraints (type, enum, pattern, bounds).",
        why: "Specs that omit the input get this default, so they would fail, or render values the schema forbids.",
        example: "`port: {type: number, default: 80000, maximum: 65535}`.",
        fix: "Change the default or the constraint so that they agree.",
    }
    S003 "invalid-pattern" Error "schema" {
        what: "A `pattern` is not a valid regular expression for proctor's linear-time engine.",
        why: "A pattern that does not compile cannot check anything; look-around and back-references are not supported because they can take exponential time.",
        example: "`pattern: '([0-9]{1,3}'` (unclosed group).",
        fix: "Correct the regular expression; replace look-around with an explicit alternative.",
    }
    S004 "required-not-property" Error "schema" {
        what: "`required` names a property that the type does not declare.",
        why: "No spec can provide an undeclared input, so every spec would fail.",
        example: "`required: [cluster_nmae]` with a property `cluster_name`.",
        fix: "Correct the name or declare the property.",
    }
    S005 "unknown-keyword" Warning "schema" {
        what: "A schema object has a keyword that OpenAPI 3.0 Schema Objects do not have.",
        why: "Unknown keywords are ignored, so a misspelled constraint (`maxLenght`) silently checks nothing.",
        example: "`maxLenght: 40`.",
        fix: "Correct the keyword (the help suggests the closest) or delete it.",
    }
    S006 "invalid-keyword-value" Error "schema" {
        what: "A schema keyword has a value of the wrong kind, or an unknown `type`.",
        why: "The constraint cannot be applied, and Proton rejected such schemas.",
        example: "`type: strng`, `minLength: -1`, or `enum: small`.",
        fix: "Give the keyword a value of the kind shown in the help.",
    }
    S007 "customer-managed-not-string" Error "schema" {
        what: "A property of a customer-managed environment's input type is not `type: string`.",
        why: "A customer-managed environment's inputs are the outputs of infrastructure made elsewhere, which are always strings.",
        example: "`vpc_count: {type: number}` in an environment bundle with only `schema/`.",
        fix: "Make the property `type: string`.",
    }
    T001 "template-syntax" Error "templates" {
        what: "A template is not valid Jinja, or uses a filter or test that does not exist.",
        why: "Proton failed to render such a template; nothing in it can be checked or deployed.",
        example: "`{% if service_instance.inputs.public %}` with no `{% endif %}`, or `{{ name | uper }}`.",
        fix: "Correct the template at the location shown; the help names the closest filter or test.",
    }
    T002 "unknown-input" Error "templates" {
        what: "A template reads an input that the bundle's schema does not declare.",
        why: "The value is undefined when rendered, so rendering fails for every spec: usually a misspelled name.",
        example: "`{{ service_instance.inputs.prot }}` when the schema declares `port`.",
        fix: "Correct the name (the help suggests the closest) or declare the input in schema/schema.yaml.",
    }
    T003 "unknown-name" Error "templates" {
        what: "A template uses a name, or an attribute of a Proton namespace, that its role cannot see.",
        why: "Each kind of template sees different namespaces (an environment template has no `environment.outputs`, an instance template has no `pipeline`); anything else is undefined when rendered.",
        example: "`{{ pipeline.inputs.unit_test_command }}` in `instance_infrastructure/cloudformation.yaml`, or `{{ service_instance.input.port }}`.",
        fix: "Use a name the role can see (the help lists them), or move the reference to the template that has it.",
    }
    T004 "unused-input" Warning "templates" {
        what: "The schema declares an input that no template of the bundle uses.",
        why: "Developers set a value that changes nothing; often the template misspells it or reads another one.",
        example: "`desired_count` declared in the schema, never read by `instance_infrastructure/cloudformation.yaml`.",
        fix: "Use the input in a template, or remove it from the schema (in a new major version if specs set it).",
    }
    T005 "unknown-output" Error "templates" {
        what: "A template reads a stack output that the template producing that stack does not declare.",
        why: "`environment.outputs.X` is the Output `X` of the environment's stack; if the environment template declares none, rendering fails on every deployment.",
        example: "`{{ environment.outputs.VpcID }}` when the compatible environment template declares `VpcId`.",
        fix: "Correct the name, or add the Output to the environment (or instance) template.",
    }
    T006 "consumed-dynamic-reference" Error "templates" {
        what: "A CloudFormation dynamic reference `{{resolve:...}}` stands in a template where Jinja would read it as an expression.",
        why: "Jinja consumes the braces: Proton rendered such references as empty strings (even inside YAML comments), so the secret or parameter silently went missing.",
        example: "`Password: '{{resolve:secretsmanager:db-password}}'`.",
        fix: "Wrap it: `{% raw %}{{resolve:secretsmanager:db-password}}{% endraw %}`.",
    }
    T007 "jinja-in-yaml-comment" Info "templates" {
        what: "A Jinja expression or statement stands inside a YAML comment.",
        why: "Jinja runs over the whole file as text, comments included: the expression is evaluated (and can fail the render) although the comment looks inert.",
        example: "`# Port: {{ service_instance.inputs.port }}`.",
        fix: "Use a Jinja comment `{# ... #}` instead, or wrap the text in `{% raw %}`.",
    }
    T008 "unquoted-string-input" Warning "templates" {
        what: "A string input is pasted as an unquoted YAML value.",
        why: "Values are pasted as text: an input with `: `, a leading `*`, `&`, `!` or `{`, or a value like `yes` or `0644` changes the YAML's shape or type.",
        example: "`Description: {{ service_instance.inputs.description }}` with the input `a: b`.",
        fix: "Quote the value (`'{{ x }}'`, doubling `'` in the input) or emit JSON: `{{ x | tojson }}`.",
    }
    T009 "render-error" Error "templates" {
        what: "Rendering a template with a deployment's inputs failed: an undefined value, a filter that rejected its input, a type error.",
        why: "Proton would have failed this deployment.",
        example: "`{{ service_instance.inputs.name | proton_cfn_sanitize }}` with the input `payments api`.",
        fix: "Change the input the help names, or make the template handle it (`default`, `is defined`).",
    }
    T010 "render-limit" Error "templates" {
        what: "Rendering used more work, recursion or output than proctor allows.",
        why: "A template that loops without end or builds enormous output would hang or exhaust memory; real templates stay far below the limits.",
        example: "`{% for i in range(100000) %}{% for j in range(100000) %}...`.",
        fix: "Bound the loops; if the template is legitimate, raise the limit in proctor.toml.",
    }
    T011 "needs-deployed-output" Warning "templates" {
        what: "A template could not be rendered because it needs a stack output that is not known until that stack is deployed.",
        why: "Before the environment is deployed, proctor renders its outputs as placeholders; a template that branches on or indexes with such a value cannot be checked yet.",
        example: "`{{ {'a': 1}[environment.outputs.Mode] }}` before the environment's first deployment.",
        fix: "Deploy (or record) the stack the output comes from, then check again.",
    }
    T013 "legacy-output-alias" Warning "templates" {
        what: "A template reads `service_instance.environment.outputs`, the pre-2021 form of `environment.outputs`.",
        why: "proctor accepts it as an alias, but current Proton documentation and tooling use `environment.outputs`.",
        example: "`{{ service_instance.environment.outputs.ClusterName }}`.",
        fix: "Write `{{ environment.outputs.ClusterName }}`.",
    }
    C001 "template-structure" Error "cloudformation" {
        what: "The CloudFormation template's top level is wrong: not a mapping, an unknown section, a section of the wrong shape, or a version other than `2010-09-09`.",
        why: "CloudFormation rejects the whole template; a misspelled section (`Output:`) is silently ignored by some tools and fails the deployment.",
        example: "`Output:` instead of `Outputs:`, or `Resources:` written as a list.",
        fix: "Correct the section's name or shape (the help suggests the closest name).",
    }
    C002 "no-resources" Error "cloudformation" {
        what: "The template has no `Resources`, or an empty one.",
        why: "A stack must have at least one resource; CloudFormation rejects the template.",
        example: "A template whose resources are all inside an `{% if %}` that is false for this deployment.",
        fix: "Add a resource, or make sure the template's conditions leave at least one.",
    }
    C003 "invalid-resource" Error "cloudformation" {
        what: "A resource is malformed: not a mapping, no `Type`, an unknown resource attribute, `Properties` that are not a mapping, or an unknown deletion policy.",
        why: "CloudFormation rejects the template, or silently ignores the misspelled attribute (`Propertes:`) and creates the resource without its properties.",
        example: "`Propertes:` under a resource.",
        fix: "Correct the attribute (the help suggests the closest).",
    }
    C004 "invalid-logical-id" Error "cloudformation" {
        what: "A logical id is not alphanumeric, or is used both as a parameter and as a resource.",
        why: "CloudFormation accepts only letters and digits in logical ids, and `Ref` cannot tell a parameter from a resource of the same name.",
        example: "`Public-Subnet-1:` (generated by a loop that pastes a name with dashes).",
        fix: "Use only letters and digits; in loops, strip other characters (`| replace('-', '')`).",
    }
    C005 "unresolved-ref" Error "cloudformation" {
        what: "`Ref` names something the template does not define: no parameter, resource or pseudo parameter of that name (or a resource, from a condition).",
        why: "CloudFormation rejects the template before creating anything.",
        example: "`!Ref LoadBalancer` when the resource is named `LoadBalancerV2`.",
        fix: "Correct the name (the help suggests the closest) or define it.",
    }
    C006 "unresolved-getatt" Error "cloudformation" {
        what: "`Fn::GetAtt` names a resource that does not exist (or a parameter), or an attribute its resource type does not have.",
        why: "CloudFormation rejects the template.",
        example: "`!GetAtt LoadBalancer.DNSNam`.",
        fix: "Correct the resource or attribute name (the help suggests the closest).",
    }
    C007 "unresolved-sub-variable" Error "cloudformation" {
        what: "A `${...}` variable in `Fn::Sub` names no parameter, resource, pseudo parameter or local variable.",
        why: "CloudFormation rejects the template.",
        example: "`!Sub 'arn:aws:s3:::${BucketName}/*'` when the parameter is `Bucket`.",
        fix: "Correct the name, add it to the `Fn::Sub` variable map, or write `${!Name}` for a literal.",
    }
    C008 "unresolved-depends-on" Error "cloudformation" {
        what: "`DependsOn` names a resource that does not exist.",
        why: "CloudFormation rejects the template.",
        example: "`DependsOn: Listner`.",
        fix: "Correct the name (the help suggests the closest).",
    }
    C009 "unresolved-condition" Error "cloudformation" {
        what: "A resource's or output's `Condition`, an `Fn::If`, or a `Condition` function names a condition that is not defined.",
        why: "CloudFormation rejects the template.",
        example: "`Condition: IsProd` with only `IsProduction` under `Conditions`.",
        fix: "Correct the name or define the condition.",
    }
    C010 "unresolved-mapping" Error "cloudformation" {
        what: "`Fn::FindInMap` names a mapping that is not defined.",
        why: "CloudFormation rejects the template.",
        example: "`!FindInMap [TaskSizes, small, cpu]` with a mapping named `TaskSize`.",
        fix: "Correct the name or define the mapping.",
    }
    C011 "circular-dependency" Error "cloudformation" {
        what: "Resources depend on each other in a cycle, through `Ref`, `Fn::GetAtt`, `Fn::Sub` or `DependsOn`.",
        why: "CloudFormation cannot order the creation and rejects the template.",
        example: "A security group whose ingress rule references the instance that uses the group.",
        fix: "Break the cycle, often by moving a rule into its own resource (`AWS::EC2::SecurityGroupIngress`).",
    }
    C012 "unused-definition" Warning "cloudformation" {
        what: "A parameter, condition or mapping that nothing in the template uses.",
        why: "Dead definitions usually mean a misspelled reference elsewhere, or a value that developers set for nothing.",
        example: "A `Mappings` entry left over after a refactor.",
        fix: "Use it, or remove it.",
    }
    C013 "invalid-output" Error "cloudformation" {
        what: "An output is malformed (no `Value`, an unknown key, a list value, an `Export` without `Name`) or two outputs export the same name.",
        why: "CloudFormation rejects the template; duplicate export names also fail across stacks at deployment.",
        example: "Two instances' templates exporting `payments-url`.",
        fix: "Give each output a `Value`, and make export names unique (prefix with `${AWS::StackName}`).",
    }
    C014 "template-limit" Error "cloudformation" {
        what: "The template exceeds one of CloudFormation's quotas: 1 MB body, 500 resources, 200 parameters, 200 outputs, 200 mappings, 255-character logical ids, 1,024-byte description.",
        why: "CloudFormation rejects the template.",
        example: "A loop over inputs that generates 600 resources.",
        fix: "Split the template into nested stacks, or bound the loop.",
    }
    C015 "invalid-intrinsic" Error "cloudformation" {
        what: "An intrinsic function is unknown or has the wrong number or shape of arguments, or a YAML tag is not a CloudFormation short form.",
        why: "CloudFormation rejects the template.",
        example: "`!If [IsProd, 3]` (two items instead of three), or `!Reff Bucket`.",
        fix: "Write the function with the arguments the help describes.",
    }
    C016 "unknown-resource-type" Error "cloudformation" {
        what: "A resource's `Type` is not a CloudFormation resource type (AWS and Alexa namespaces; custom resources, SAM and modules are not checked).",
        why: "CloudFormation rejects the template; usually the type is misspelled.",
        example: "`Type: AWS::S3::Buckets`.",
        fix: "Correct the type (the help suggests the closest).",
    }
    C017 "unknown-property" Error "cloudformation" {
        what: "A resource has a property its type does not have.",
        why: "CloudFormation rejects the template; usually the property is misspelled or belongs one level deeper.",
        example: "`VersioningConfig:` on an `AWS::S3::Bucket`.",
        fix: "Correct the name (the help suggests the closest).",
    }
    C018 "missing-required-property" Error "cloudformation" {
        what: "A resource lacks a property its type requires.",
        why: "CloudFormation rejects the template.",
        example: "An `AWS::IAM::Role` without `AssumeRolePolicyDocument`.",
        fix: "Add the property.",
    }
    C019 "wrong-property-type" Error "cloudformation" {
        what: "A property's value is of the wrong kind: a list where a string belongs, text where a number belongs. Intrinsic functions count as any kind they can produce; values of outputs not yet deployed are never reported.",
        why: "CloudFormation rejects the template, or fails the resource at deploy time.",
        example: "`DesiredCount: two`, or `Subnets: subnet-0a` (a string where a list belongs).",
        fix: "Write a value of the kind the help names.",
    }
    C020 "invalid-enum-value" Error "cloudformation" {
        what: "A property's value is not one of the values its type allows.",
        why: "CloudFormation rejects the resource at deploy time.",
        example: "`RetentionInDays: 45` on an `AWS::Logs::LogGroup` (allowed: 1, 3, 5, 7, 14, 30, 60, ...).",
        fix: "Use one of the allowed values (the help lists them).",
    }
    C021 "invalid-parameter" Error "cloudformation" {
        what: "A template parameter is malformed: an unknown attribute, no `Type` or one CloudFormation does not know, or a `Default` outside its own `AllowedValues`, lengths or values.",
        why: "CloudFormation rejects the template, or the stack, before any resource is made.",
        example: "`Type: Strng`; `Default: xlarge` with `AllowedValues: [small, large]`.",
        fix: "Correct the type (the help suggests the closest) or the default.",
    }
    C022 "transform-not-run" Info "cloudformation" {
        what: "A template declares a transform proctor does not run (a macro such as `PyPlate`, or a transform from an account): the resource properties it may rewrite are not checked.",
        why: "A macro rewrites the template before CloudFormation reads it; checking the text before it would report what the macro fixes.",
        example: "`Transform: [PyPlate]` with `Tags: |- #!PyPlate ...`.",
        fix: "Nothing is wrong; to check what CloudFormation receives, check the processed template (from the change set).",
    }
    C023 "value-out-of-range" Error "cloudformation" {
        what: "A property's value breaks a bound its type sets: a string too short or too long, a number out of its range, a list with too few or too many items or the same item twice, a mapping with too many keys.",
        why: "CloudFormation passes the value to the resource's service, which rejects it: the stack fails and rolls back at deploy time.",
        example: "`MemorySize: 100000` on an `AWS::Lambda::Function` (at most 32768).",
        fix: "Bring the value within the bound the message names.",
    }
    C024 "value-does-not-match-pattern" Error "cloudformation" {
        what: "A property's value does not have the shape its type requires: it fails the property's pattern, or is not the IP address, network (CIDR with zero host bits) or date the property takes.",
        why: "The resource's service rejects the value at deploy time.",
        example: "`CidrIp: 10.0.0.1/8` (a network is written with its first address: `10.0.0.0/8`).",
        fix: "Write the value in the shape the help shows.",
    }
    C025 "conflicting-properties" Error "cloudformation" {
        what: "A value matches none of the alternative forms its property accepts, or more than one where exactly one is allowed; or it sets properties that exclude each other.",
        why: "The resource's schema says the forms are exclusive; CloudFormation rejects the resource.",
        example: "An `AWS::EC2::NetworkInterface` with both `Ipv6AddressCount` and `Ipv6Addresses`.",
        fix: "Keep one of the alternatives; the help names the closest form's first mistake.",
    }
    P001 "policy-syntax" Error "policies" {
        what: "A policy file is not valid in the Guard policy language.",
        why: "The file's rules cannot run; the other policy files still do.",
        example: "`rule r { Resources.*.Type == }` (a comparison without a value).",
        fix: "Correct the rule at the location shown; the message says what was expected there.",
    }
    P002 "unknown-rule" Error "policies" {
        what: "A rule references a rule, or calls a parameterized rule, that the file does not define.",
        why: "cfn-guard stops with an error on such a file; proctor does not run it, so that a typo cannot turn a check off.",
        example: "`s3_encryptd` in a rule body when the rule is named `s3_encrypted`.",
        fix: "Correct the name (the help suggests the nearest one), or define the rule in the same file.",
    }
    P003 "unknown-function" Error "policies" {
        what: "A call names no built-in function, or passes a function or parameterized rule the wrong number of arguments.",
        why: "The call cannot be evaluated; the file does not run.",
        example: "`to_uppercase(%names)` instead of `to_upper(%names)`; `join(%names)` without a delimiter.",
        fix: "Use one of the 15 functions (`proctor explain P003` lists them in the policy language reference) with its arguments.",
    }
    P004 "invalid-regex" Error "policies" {
        what: "A `/regex/` does not compile.",
        why: "A clause with a broken pattern could never match; the file does not run.",
        example: "`/[a-z/` (an unclosed class).",
        fix: "Correct the pattern; inside `/.../`, write `/` as `\\/`.",
    }
    P005 "regex-too-costly" Warning "policies" {
        what: "A regex with look-around or back-references took more than its backtracking budget (`limits.regex_backtrack_limit`, 100,000 steps by default) on a value; the search counted as no match.",
        why: "Backtracking can take exponential time; proctor bounds every search so that no pattern can hang a run, and says when the bound decided a result.",
        example: "`/^(a+)+$/` with a look-ahead, searched in a long string of `a`s followed by `b`.",
        fix: "Rewrite the pattern without nested repetition (or without look-around), so that it runs on the linear-time engine.",
    }
    P006 "unused-variable" Warning "policies" {
        what: "A `let` variable is never used.",
        why: "It is dead code, or the clause meant to use it reads something else (a typo in `%name`).",
        example: "`let buckets = ...` and then `%bucket.Properties...`.",
        fix: "Use the variable, or delete the `let`.",
    }
    P007 "rule-cycle" Error "policies" {
        what: "A rule references itself, directly or through other rules.",
        why: "Its result would depend on itself (cfn-guard overflows its stack on such files); the file does not run.",
        example: "`rule a { b }` and `rule b { a }`.",
        fix: "Remove one reference of the cycle, or split the shared checks into a third rule.",
    }
    P008 "policy-budget" Error "policies" {
        what: "Evaluating one policy file on one document took more than its budget of query steps and clauses (`limits.policy_steps`, 10,000,000 by default); the rule being evaluated and those after it were not decided.",
        why: "Nested blocks over wildcards multiply (every resource × every property × ...); proctor bounds the work so that no policy can hang a run, and a gate must not pass on rules it never finished.",
        example: "Five nested `Resources.*` blocks on a template of 1,000 resources.",
        fix: "Narrow the queries with filters (`Resources.*[ Type == 'AWS::S3::Bucket' ]`) or `let` variables instead of nesting wildcards, or raise `limits.policy_steps` in proctor.toml.",
    }
    P009 "policy-unevaluable" Error "policies" {
        what: "A rule could not be evaluated on a document: a variable used as a key (`Parameters.%refs`) holds a value that is not a string, or a variable or rule the evaluation reached does not exist there.",
        why: "cfn-guard stops the whole rule file with an error at such a rule; proctor counts that rule as failing, says why, and still evaluates the file's other rules.",
        example: "`let refs = Resources.*.Properties.Password` (maps, not names) and then `Parameters.%refs`.",
        fix: "Make the query select the values the rule means (`.Password.Ref`), or guard the clause with `when %refs !empty` and a type check.",
    }
    P100 "policy-violation" Error "policies" {
        what: "A rule of an organisational policy FAILs on a deployment's rendered CloudFormation (or a plain template). The rule's own annotation (`# @severity: warning`) can make it a warning.",
        why: "Platform teams encode what every stack must satisfy (encryption, no public access, tags); a violation is reported before anything is deployed.",
        example: "`s3_bucket_encryption_at_rest` failing on a bucket without `BucketEncryption`.",
        fix: "Change the template or the spec as the rule's message says, or record a waiver with a reason, an owner and an expiry date.",
    }
    P101 "waived-finding" Info "policies" {
        what: "A policy finding that a waiver in proctor.toml accepts, until its expiry date.",
        why: "Waived findings stay visible (with the reason, the owner and the date) so that exceptions are reviewed, not forgotten.",
        example: "A `[[waiver]]` with `rule = \"PROCTOR-S3-004\"`, `deployment = \"dev\"` and `expires = 2027-03-31`.",
        fix: "Nothing is needed until the waiver expires; fix the finding and delete the waiver when you can.",
    }
    P102 "waiver-expired" Error "policies" {
        what: "A `[[waiver]]` in proctor.toml is past its `expires` date; it waives nothing any more.",
        why: "An exception was granted for a limited time; after it, the finding must be fixed or the exception decided again, by its owner.",
        example: "`expires = 2026-09-30` on a run after that day.",
        fix: "Fix the finding and delete the waiver, or have its owner renew it with a new date and reason.",
    }
    P103 "waiver-unused" Warning "policies" {
        what: "A `[[waiver]]` matches no finding on a deployment that was checked.",
        why: "The rule passes there now (the waiver can go) or the waiver names the rule, the deployment or the resource wrongly (and waives nothing).",
        example: "A waiver of `PROCTOR-S3-004` on `dev` after versioning was enabled on every bucket of `dev`.",
        fix: "Delete the waiver, or correct its `rule`, `deployment` or `resource`.",
    }
    I001 "unknown-input" Warning "inputs" {
        what: "A spec sets an input that the template's schema does not declare.",
        why: "The value has no effect, and usually the name is misspelled. A warning, not an error: Proton accepted and ignored inputs its schema does not declare (AWS's own sample specs set some), so such a spec deploys; `--deny-warnings` makes it fail a gate.",
        example: "`prot: 8080` when the schema declares `port`.",
        fix: "Correct the name (the help suggests the closest) or delete the input.",
    }
    I002 "missing-required-input" Error "inputs" {
        what: "A spec omits an input that the schema requires and that has no default.",
        why: "The template cannot be rendered without it.",
        example: "An EnvironmentSpec without `cluster_name`.",
        fix: "Add the input to the spec.",
    }
    I003 "wrong-type" Error "inputs" {
        what: "An input's value has a different type from the one the schema declares.",
        why: "Templates use inputs as typed values; Proton rejected such specs.",
        example: "`port: eighty` when the schema says `type: number`.",
        fix: "Write a value of the declared type; quote numbers that must be strings.",
    }
    I004 "not-in-enum" Error "inputs" {
        what: "An input's value is not one of the schema's allowed values.",
        why: "Templates often map these values to resources or sizes; others would fail to render or deploy.",
        example: "`task_size: huge` when the schema allows `small`, `medium`, `large`.",
        fix: "Use one of the allowed values listed in the help.",
    }
    I005 "pattern-mismatch" Error "inputs" {
        what: "A string input does not match the schema's `pattern` (searched anywhere in the value, as in JSON Schema).",
        why: "The platform team constrained the value's format; others would fail at deploy time.",
        example: "`vpc_cidr: 10.0.0/16` against `([0-9]{1,3}\\.){3}[0-9]{1,3}`.",
        fix: "Write a value in the format the pattern describes.",
    }
    I006 "length-out-of-range" Error "inputs" {
        what: "A string input is shorter than `minLength` or longer than `maxLength`.",
        why: "Names and identifiers have length limits in AWS; too long a value fails at deploy time.",
        example: "A 60-character `cluster_name` with `maxLength: 40`.",
        fix: "Shorten or lengthen the value to fit the bounds in the help.",
    }
    I007 "number-out-of-range" Error "inputs" {
        what: "A numeric input is outside `minimum`/`maximum` (or their exclusive forms), or not a multiple of `multipleOf`.",
        why: "The platform team bounded the value; others would fail at deploy time or cost more than intended.",
        example: "`port: 70000` with `maximum: 65535`.",
        fix: "Use a value within the bounds in the help.",
    }
    I008 "array-constraint" Error "inputs" {
        what: "A list input has too few or too many items, or repeated items where they must be unique.",
        why: "The template expects a bounded, possibly distinct, list (for example subnets in distinct zones).",
        example: "`subnets: [a]` with `minItems: 2`.",
        fix: "Add or remove items as the help says.",
    }
    I009 "wrong-spec-kind" Error "inputs" {
        what: "The spec's `proton:` kind does not fit the bundle, or is not `EnvironmentSpec` or `ServiceSpec`.",
        why: "An environment spec cannot deploy a service template, nor the reverse.",
        example: "`proton: ServiceSpec` for an environment template.",
        fix: "Use `proton: EnvironmentSpec` for environment templates and `proton: ServiceSpec` for service templates.",
    }
    I010 "duplicate-instance" Error "inputs" {
        what: "Two service instances in one spec have the same name.",
        why: "Instance names are unique within a service; each becomes a stack.",
        example: "Two instances named `payments-dev`.",
        fix: "Rename one of them.",
    }
    I011 "unexpected-pipeline" Error "inputs" {
        what: "A ServiceSpec has a `pipeline:` section, but the service template has no pipeline.",
        why: "Proton rejected pipeline inputs for a template without `pipeline_infrastructure/`; the values would be ignored.",
        example: "`pipeline: {unit_test_command: make test}` for a template without a pipeline.",
        fix: "Delete the `pipeline:` section, or use a template version that has a pipeline.",
    }
    I012 "unknown-environment" Error "inputs" {
        what: "A service instance names an environment that proctor.toml does not declare.",
        why: "The instance would be deployed into an environment that does not exist.",
        example: "`environment: prod` when proctor.toml declares only `dev` and `staging`.",
        fix: "Declare the environment in proctor.toml or correct the name (the help suggests the closest).",
    }
    I013 "incompatible-environment" Error "inputs" {
        what: "A service instance's environment uses a template that the service template does not list as compatible.",
        why: "The service template reads that environment's outputs; Proton refused incompatible pairs.",
        example: "An instance in an environment of `ec2-env:1` when `.template-registration.yaml` lists only `fargate-env:1`.",
        fix: "Deploy the instance to a compatible environment, or add the environment template to `compatible_environments`.",
    }
    I014 "no-bundle-for-spec" Error "inputs" {
        what: "A spec found on its own (given with `--spec`, or in a project's `specs/` folder) matches no bundle: none of its kind is there, or its inputs fit none of their schemas (the message says why each was rejected).",
        why: "A spec is checked against its template's schema; with no candidate, proctor cannot check it at all.",
        example: "`proton: ServiceSpec` in `specs/` of a project that holds only an environment template.",
        fix: "Name the bundle folder alone on the command line, or declare the deployment in proctor.toml.",
    }
    I015 "ambiguous-spec-bundle" Info "inputs" {
        what: "A spec found on its own (in a project's `specs/` folder, or given with `--spec`) satisfies the schemas of several bundles of its kind; it is checked against each.",
        why: "Proton took the template as an API argument, so a repository does not say which template a spec is for; proctor checks every candidate rather than guess.",
        example: "`specs/svc-spec.yaml` in a project with two service templates whose schemas both accept its inputs.",
        fix: "Declare the deployment in proctor.toml with its `template` (the help shows the lines); then only that template checks the spec.",
    }
    V001 "breaking-change" Error "versions" {
        what: "A schema change inside an existing major version that a spec valid before may fail: an input removed, a required input added without a default, a type changed, enum values removed, a pattern or bound tightened, `nullable` made false, a pipeline added, a compatible environment dropped.",
        why: "Deployments pin a major version and take its minors automatically; a minor must keep every spec that was valid valid (Proton's versioning rule), or deployments break on the next update.",
        example: "Removing `retention_days` from `queue-env/v1/schema/schema.yaml` while `specs/dev.yaml` sets it.",
        fix: "Undo the change in `vN/` and make it in a new major version folder `v(N+1)/` (copy the bundle, then change it); move deployments to it when they are ready.",
    }
    V002 "compatible-change" Info "versions" {
        what: "A schema change a minor version may make: an optional input added, a bound or enum widened, a description edited, a compatible environment added.",
        why: "Listed so a reviewer sees every change to what developers can write, even when nothing breaks.",
        example: "Adding an optional `log_level` input with a default.",
        fix: "Nothing to fix; publish it as a new minor version.",
    }
    V003 "default-changed" Warning "versions" {
        what: "An input's `default` changed.",
        why: "Specs stay valid, but every deployment that leaves the input out renders differently on its next update.",
        example: "`desired_count` default going from 1 to 2: every service instance that omits it doubles its tasks.",
        fix: "Check that every deployment relying on the default wants the new value, or set the old value explicitly in their specs first.",
    }
    V004 "pattern-changed" Warning "versions" {
        what: "An input's `pattern` changed in a way proctor cannot prove only widens it.",
        why: "A new pattern that rejects a value the old one accepted breaks specs; proctor proves widening only when the new pattern keeps the old one as an alternative.",
        example: "`^[a-z]+$` becoming `^[a-z][a-z0-9]*$`.",
        fix: "Write the new pattern as an alternation that keeps the old one (`^(?:[a-z]+|new)$`), or treat the change as breaking and make a new major version.",
    }
    V005 "resource-replaced" Warning "versions" {
        what: "A template change makes CloudFormation replace a resource of a deployment: a property that cannot be updated in place changed (or the resource's type did).",
        why: "Replacement creates a new resource and deletes the old one: data in it is lost, and anything that names it outside the stack breaks.",
        example: "Changing `QueueName` of an `AWS::SQS::Queue`: messages in the old queue are gone after the update.",
        fix: "Avoid changing the property, or plan the replacement: move the data, or make it a new resource beside the old one and retire the old one later.",
    }
    X001 "invalid-suppression" Error "suppressions" {
        what: "An inline suppression (`# proctor: ignore[CODE] reason`) is malformed: no brackets, no reason, a code that does not exist, or a policy code.",
        why: "A suppression silences a finding for good; it must say which finding and why, so that a reviewer can judge it. Policy findings are accepted with a `[[waiver]]` in proctor.toml instead, which has an owner and an expiry.",
        example: "`port: 99999  # proctor: ignore[I007]` (no reason), or `# proctor: ignore[P100] accepted` (a policy finding).",
        fix: "Write `# proctor: ignore[CODE] reason` with the code the finding shows; for a policy finding, add a `[[waiver]]` to proctor.toml.",
    }
    X002 "unused-suppression" Warning "suppressions" {
        what: "An inline suppression names a code that has no finding on the line it covers.",
        why: "The finding it was written for is gone (fixed, or moved to another line); a stale suppression would silently hide a new finding there later.",
        example: "`# proctor: ignore[I007] legacy port` above a line whose port is now in range.",
        fix: "Remove the suppression, or move it to the line the finding is on (a trailing comment covers its own line; a comment alone on a line covers the next line).",
    }
}

/// Looks a code up by id, case-insensitively (`i003` finds `I003`).
pub fn find(id: &str) -> Option<&'static Code> {
    ALL.iter().copied().find(|c| c.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in ALL {
            assert!(seen.insert(c.id), "duplicate code {}", c.id);
            assert_eq!(c.id.len(), 4, "{}", c.id);
            assert!(c.id[1..].chars().all(|ch| ch.is_ascii_digit()), "{}", c.id);
            assert!(!c.what.is_empty() && !c.fix.is_empty());
        }
    }
}
