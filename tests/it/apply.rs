//! `proctor build` then `proctor apply`, through the real binary and the AWS SDK, against
//! moto's CloudFormation server (`tests/moto/server.py`; one documented patch: outputs after a
//! change set). Each test starts its own server on 127.0.0.1 and a free port, and stops it by
//! its process id when done. The server's view is read back with boto3 from the same venv.
//!
//! Paths moto does not model (resource failures and rollbacks, a stack still in progress when
//! Ctrl-C comes) are in `tests/apply_fake.rs`, against a scripted endpoint.
//!
//! Needs the venv that `scripts/venv` creates (scripts/test runs it first).
#![cfg(feature = "aws")]

use crate::support::moto::*;

#[test]
fn deploys_an_environment_then_a_service_that_uses_its_outputs() {
    let moto = Moto::start();
    let ws = Workspace::copy("fixtures/deploy");

    // Before the environment is deployed, the service instance waits.
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    assert!(
        b.stdout
            .contains("waiting: service_instance `orders-dev`: apply environment `dev` first"),
        "{b}"
    );

    let a = ws.run(&["apply", "build", "--yes"], Some(&moto.url));
    assert_eq!(a.code, 0, "{a}");
    assert!(
        a.stdout
            .contains("environment `dev` → stack proctor-env-dev"),
        "{a}"
    );
    assert!(
        a.stdout
            .contains("Add     ArtifactBucket  AWS::S3::Bucket      -"),
        "{a}"
    );
    assert!(a.stdout.contains("CREATE_COMPLETE"), "{a}");
    let state = ws.state();
    let bucket = state["stacks"]["proctor-env-dev"]["outputs"]["ArtifactBucketName"]
        .as_str()
        .expect("the environment's outputs are recorded")
        .to_string();
    assert_eq!(
        state["stacks"]["proctor-env-dev"]["status"],
        "CREATE_COMPLETE"
    );
    // What moto holds agrees with the state file, and the stack carries proctor's tags.
    let stack = moto.describe("proctor-env-dev");
    assert_eq!(stack["Outputs"]["ArtifactBucketName"], bucket.as_str());
    assert_eq!(stack["Tags"]["proctor:template"], "queue-env");
    assert_eq!(stack["Tags"]["proctor:template-version"], "1");
    assert_eq!(stack["Tags"]["proctor:deployment"], "environment/dev");

    // The next build includes the service instance, rendered with the recorded bucket name.
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    assert!(!b.stdout.contains("waiting"), "{b}");
    let instance = ws.read("build/service-instances/orders-dev.yaml");
    assert!(
        instance.contains(&format!("Value: 's3://{bucket}/orders-dev/'")),
        "{instance}"
    );

    let a = ws.run(&["apply", "build", "--yes"], Some(&moto.url));
    assert_eq!(a.code, 0, "{a}");
    assert!(
        a.stdout
            .contains("no changes: stack proctor-env-dev is up to date"),
        "{a}"
    );
    assert!(
        a.stdout
            .contains("service instance `orders/orders-dev` → stack proctor-svc-orders-orders-dev"),
        "{a}"
    );
    let svc = moto.describe("proctor-svc-orders-orders-dev");
    assert_eq!(svc["Status"], "CREATE_COMPLETE");
    assert_eq!(svc["Tags"]["proctor:environment"], "dev");
    assert_eq!(
        moto.parameter("/orders/orders-dev/results"),
        format!("s3://{bucket}/orders-dev/")
    );
    let state = ws.state();
    assert!(
        state["stacks"]["proctor-svc-orders-orders-dev"]["outputs"]["QueueUrl"]
            .as_str()
            .is_some_and(|u| u.contains("WorkQueue")),
        "{state}"
    );
    assert!(
        !ws.path("build")
            .join("../.proctor/locks/proctor-env-dev.lock")
            .exists()
    );
}

#[test]
fn an_update_is_shown_then_executed_and_a_second_apply_has_no_changes() {
    let moto = Moto::start();
    let ws = Workspace::copy("fixtures/deploy");
    assert_eq!(ws.run(&["build"], None).code, 0);
    assert_eq!(
        ws.run(&["apply", "build", "--yes"], Some(&moto.url)).code,
        0
    );
    let first = ws.state()["stacks"]["proctor-env-dev"]["artifact_sha256"].clone();

    // No-op: nothing changed since.
    let a = ws.run(
        &["apply", "build", "--yes", "--unit", "dev"],
        Some(&moto.url),
    );
    assert_eq!(a.code, 0, "{a}");
    assert!(a.stdout.contains("no changes"), "{a}");

    // A spec change: the dry run shows the modification and changes nothing.
    ws.edit("specs/dev.yaml", "retention_days: 7", "retention_days: 14");
    assert_eq!(ws.run(&["build"], None).code, 0);
    let d = ws.run(
        &["apply", "build", "--unit", "dev", "--dry-run"],
        Some(&moto.url),
    );
    assert_eq!(d.code, 0, "{d}");
    assert!(
        d.stdout
            .contains("Modify  Settings    AWS::SSM::Parameter  -"),
        "{d}"
    );
    assert!(d.stdout.contains("dry run: nothing executed"), "{d}");
    assert_eq!(moto.parameter("/dev/settings"), "retention=7");
    assert_eq!(
        ws.state()["stacks"]["proctor-env-dev"]["artifact_sha256"],
        first
    );

    // Without --yes and without a terminal, proctor cannot ask: refused, nothing executed.
    let n = ws.run(&["apply", "build", "--unit", "dev"], Some(&moto.url));
    assert_eq!(n.code, 2, "{n}");
    assert!(n.stderr.contains("pass --yes"), "{n}");
    assert_eq!(moto.parameter("/dev/settings"), "retention=7");

    let u = ws.run(
        &["apply", "build", "--unit", "dev", "--yes"],
        Some(&moto.url),
    );
    assert_eq!(u.code, 0, "{u}");
    assert!(u.stdout.contains("proctor-env-dev: UPDATE_COMPLETE"), "{u}");
    assert_eq!(moto.parameter("/dev/settings"), "retention=14");
    let state = ws.state();
    assert_ne!(state["stacks"]["proctor-env-dev"]["artifact_sha256"], first);
    assert_eq!(
        state["stacks"]["proctor-env-dev"]["status"],
        "UPDATE_COMPLETE"
    );
}

#[test]
fn a_dry_run_of_a_new_stack_leaves_no_trace() {
    let moto = Moto::start();
    let ws = Workspace::copy("fixtures/deploy");
    assert_eq!(ws.run(&["build"], None).code, 0);
    let d = ws.run(&["apply", "build", "--dry-run"], Some(&moto.url));
    assert_eq!(d.code, 0, "{d}");
    assert!(
        d.stdout
            .contains("Add     Settings        AWS::SSM::Parameter  -"),
        "{d}"
    );
    // The empty stack CloudFormation made for the change set is gone too.
    assert_eq!(moto.describe("proctor-env-dev"), serde_json::Value::Null);
    assert!(!ws.path(".proctor/state.json").exists());
}

#[test]
fn a_one_byte_edit_of_an_artifact_is_refused_before_any_call() {
    let endpoint = Listener::start();
    let ws = Workspace::copy("fixtures/deploy");
    assert_eq!(ws.run(&["build"], None).code, 0);
    let artifact = ws.path("build/environments/dev.yaml");
    let mut bytes = std::fs::read(&artifact).unwrap();
    bytes[40] ^= 0x20;
    std::fs::write(&artifact, &bytes).unwrap();
    let a = ws.run(&["apply", "build", "--yes"], Some(&endpoint.url));
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr.contains(
            "unit `dev`: artifact `build/environments/dev.yaml` was changed after the build"
        ),
        "{a}"
    );
    assert_eq!(endpoint.connections(), 0, "no AWS call may be made");
    assert!(!ws.path(".proctor/state.json").exists());

    // A record from a newer proctor, too.
    bytes[40] ^= 0x20;
    std::fs::write(&artifact, &bytes).unwrap();
    ws.edit(
        "build/proctor-build.json",
        "\"record_version\": 1",
        "\"record_version\": 7",
    );
    let a = ws.run(&["apply", "build", "--yes"], Some(&endpoint.url));
    assert_eq!(a.code, 2, "{a}");
    assert!(a.stderr.contains("written by a newer proctor"), "{a}");
    assert_eq!(endpoint.connections(), 0);
}

#[test]
fn no_credentials_an_unreachable_endpoint_and_throttling_are_clear_and_record_nothing() {
    let ws = Workspace::copy("fixtures/deploy");
    assert_eq!(ws.run(&["build"], None).code, 0);

    let endpoint = Listener::start();
    let a = ws.run_env(
        &["apply", "build", "--yes"],
        Some(&endpoint.url),
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    );
    assert_eq!(a.code, 2, "{a}");
    assert!(a.stderr.contains("no AWS credentials"), "{a}");
    assert_eq!(endpoint.connections(), 0);

    let closed = closed_port_url();
    let a = ws.run(&["apply", "build", "--yes"], Some(&closed));
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr
            .contains(&format!("cannot reach CloudFormation: {closed}")),
        "{a}"
    );
    assert!(a.stderr.contains("Connection refused"), "{a}");

    let throttling = Throttling::start();
    let a = ws.run_env(
        &["apply", "build", "--yes"],
        Some(&throttling.url),
        &[("AWS_MAX_ATTEMPTS", "2")],
    );
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr.contains(
            "CloudFormation throttled the requests, still after retries: Throttling: Rate exceeded"
        ),
        "{a}"
    );
    assert_eq!(
        throttling.requests(),
        2,
        "the SDK retried once, then gave up"
    );
    assert!(!ws.path(".proctor/state.json").exists());
}

#[test]
fn a_second_apply_of_the_same_stack_is_refused() {
    let endpoint = Listener::start();
    let ws = Workspace::copy("fixtures/deploy");
    assert_eq!(ws.run(&["build"], None).code, 0);
    // This test process plays the other apply: it holds the lock and is alive.
    let lock = ws.path(".proctor/locks/proctor-env-dev.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, format!("{}\n", std::process::id())).unwrap();
    let a = ws.run(&["apply", "build", "--yes"], Some(&endpoint.url));
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr.contains(&format!(
            "another proctor (process {}) is working on stack `proctor-env-dev`",
            std::process::id()
        )),
        "{a}"
    );
    assert_eq!(endpoint.connections(), 0);
    assert!(lock.exists(), "the other apply's lock is left alone");
}

/// A deployment bound to a stack that already exists (one AWS Proton deployed, with its
/// tags) is updated in place: applying the same render changes nothing and creates no
/// stack; an input change updates that stack, keeping its id.
#[test]
fn a_bound_stack_is_updated_in_place_and_no_stack_is_created() {
    let moto = Moto::start();
    let ws = Workspace::copy("fixtures/deploy");
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let proton = "AWSProton-dev-cloudformation-Q2W3E4";
    let id = moto.create_stack(
        proton,
        &ws.read("build/environments/dev.yaml"),
        &[
            (
                "aws:proton:environment",
                "arn:aws:proton:us-east-1:123456789012:environment/dev",
            ),
            (
                "aws:proton:template",
                "arn:aws:proton:us-east-1:123456789012:environment-template/queue-env",
            ),
        ],
    );
    ws.edit(
        "proctor.toml",
        "spec = \"specs/dev.yaml\"\n",
        &format!("spec = \"specs/dev.yaml\"\nstack = \"{proton}\"\n"),
    );

    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let a = ws.run(
        &["apply", "build", "--yes", "--unit", "dev"],
        Some(&moto.url),
    );
    assert_eq!(a.code, 0, "{a}");
    assert!(
        a.stdout
            .contains(&format!("environment `dev` → stack {proton}")),
        "{a}"
    );
    assert!(
        a.stdout
            .contains(&format!("no changes: stack {proton} is up to date")),
        "{a}"
    );
    assert_eq!(moto.stack_names(), [proton], "no stack of proctor's own");
    assert_eq!(ws.state()["stacks"][proton]["name"], "dev");

    ws.edit("specs/dev.yaml", "retention_days: 7", "retention_days: 14");
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let a = ws.run(
        &["apply", "build", "--yes", "--unit", "dev"],
        Some(&moto.url),
    );
    assert_eq!(a.code, 0, "{a}");
    assert!(a.stdout.contains("UPDATE_COMPLETE"), "{a}");
    assert_eq!(moto.stack_id(proton), (id, "UPDATE_COMPLETE".to_string()));
    assert_eq!(moto.stack_names(), [proton]);
}

/// `proctor adopt` against stacks made as AWS Proton made them: it binds the environment and
/// the service instance by their Proton tags, keeps proctor.toml's comments, says both are in
/// sync and never names the unrelated stack; the next build and apply create no stack and
/// change nothing; an input change then updates Proton's stack in place.
#[test]
fn adopt_takes_over_protons_stacks_in_place() {
    let moto = Moto::start();
    let ws = Workspace::copy("fixtures/deploy");
    let arn = "arn:aws:proton:us-east-1:123456789012";
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let env_stack = "AWSProton-dev-cloudformation-K8L9M0";
    let env_id = moto.create_stack(
        env_stack,
        &ws.read("build/environments/dev.yaml"),
        &[
            ("aws:proton:environment", &format!("{arn}:environment/dev")),
            (
                "aws:proton:template",
                &format!("{arn}:environment-template/queue-env"),
            ),
        ],
    );
    moto.create_stack(
        "someone-elses-stack",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
        &[],
    );

    let before = ws.read("proctor.toml");
    let d = ws.run(&["adopt", "--dry-run"], Some(&moto.url));
    assert_eq!(d.code, 0, "{d}");
    assert!(
        d.stdout.contains("dry run: proctor.toml would become:"),
        "{d}"
    );
    assert!(
        d.stdout.contains(&format!("stack = \"{env_stack}\"")),
        "{d}"
    );
    assert_eq!(ws.read("proctor.toml"), before, "a dry run writes nothing");
    assert!(!ws.path(".proctor/state.json").exists());

    let a = ws.run(&["adopt"], Some(&moto.url));
    assert_eq!(a.code, 0, "{a}");
    assert!(
        a.stdout
            .contains(&format!("bind environment `dev` → stack {env_stack}")),
        "{a}"
    );
    assert!(
        a.stdout.contains(&format!(
            "environment `dev`: in sync with stack {env_stack}"
        )),
        "{a}"
    );
    assert!(!a.stdout.contains("someone-elses-stack"), "{a}");
    let toml = ws.read("proctor.toml");
    assert!(
        toml.starts_with("# A workspace that `proctor apply` deploys"),
        "{toml}"
    );
    assert!(
        toml.contains(&format!(
            "spec = \"specs/dev.yaml\"\nstack = \"{env_stack}\"\n"
        )),
        "{toml}"
    );

    // With the environment's live outputs recorded, the instance renders; Proton had
    // deployed it from the same render.
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let svc_stack = "AWSProton-orders-orders-dev-cloudformation-P1";
    let svc_id = moto.create_stack(
        svc_stack,
        &ws.read("build/service-instances/orders-dev.yaml"),
        &[
            ("aws:proton:service", &format!("{arn}:service/orders")),
            (
                "aws:proton:service-instance",
                &format!("{arn}:service/orders/service-instance/orders-dev"),
            ),
            (
                "aws:proton:template",
                &format!("{arn}:service-template/queue-svc"),
            ),
        ],
    );
    let a = ws.run(&["adopt"], Some(&moto.url));
    assert_eq!(a.code, 0, "{a}");
    assert!(
        a.stdout.contains(&format!(
            "environment `dev` is already bound to stack {env_stack}"
        )),
        "{a}"
    );
    assert!(
        a.stdout.contains(&format!(
            "instance `orders-dev` of service `orders`: in sync with stack {svc_stack}"
        )),
        "{a}"
    );
    assert!(
        ws.read("proctor.toml")
            .contains(&format!("stacks = {{ orders-dev = \"{svc_stack}\" }}"))
    );

    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let a = ws.run(&["apply", "build", "--yes"], Some(&moto.url));
    assert_eq!(a.code, 0, "{a}");
    assert!(
        a.stdout
            .contains(&format!("no changes: stack {env_stack} is up to date")),
        "{a}"
    );
    assert!(
        a.stdout
            .contains(&format!("no changes: stack {svc_stack} is up to date")),
        "{a}"
    );
    let mut names = moto.stack_names();
    names.sort();
    assert_eq!(names, [env_stack, svc_stack, "someone-elses-stack"]);

    ws.edit("specs/dev.yaml", "retention_days: 7", "retention_days: 30");
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let a = ws.run(
        &["apply", "build", "--yes", "--unit", "dev"],
        Some(&moto.url),
    );
    assert_eq!(a.code, 0, "{a}");
    assert_eq!(
        moto.stack_id(env_stack),
        (env_id, "UPDATE_COMPLETE".to_string())
    );
    assert_eq!(moto.stack_id(svc_stack).0, svc_id);
}

/// Two stacks that claim one deployment: adopt says which, and writes nothing.
#[test]
fn adopt_writes_nothing_unless_every_binding_is_certain() {
    let moto = Moto::start();
    let ws = Workspace::copy("fixtures/deploy");
    let env = "arn:aws:proton:us-east-1:123456789012:environment/dev";
    let body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";
    moto.create_stack("AWSProton-dev-a", body, &[("aws:proton:environment", env)]);
    moto.create_stack("AWSProton-dev-b", body, &[("aws:proton:environment", env)]);
    let before = ws.read("proctor.toml");
    let a = ws.run(&["adopt"], Some(&moto.url));
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr.contains(
            "environment `dev` is claimed by 2 stacks (AWSProton-dev-a, AWSProton-dev-b)"
        ),
        "{a}"
    );
    assert_eq!(ws.read("proctor.toml"), before);
    assert!(!ws.path(".proctor/state.json").exists());
}

/// adopt through an endpoint that throttles, one that is closed, and without credentials:
/// a clear message, exit 2, proctor.toml and the state file untouched.
#[test]
fn adopt_says_why_aws_cannot_be_used_and_writes_nothing() {
    let ws = Workspace::copy("fixtures/deploy");
    let before = ws.read("proctor.toml");
    let throttling = Throttling::start();
    let a = ws.run_env(
        &["adopt"],
        Some(&throttling.url),
        &[("AWS_MAX_ATTEMPTS", "2")],
    );
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr
            .contains("CloudFormation throttled the requests, still after retries"),
        "{a}"
    );
    let closed = closed_port_url();
    let a = ws.run(&["adopt"], Some(&closed));
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr
            .contains(&format!("cannot reach CloudFormation: {closed}")),
        "{a}"
    );
    let a = ws.run_env(
        &["adopt", "--dry-run"],
        Some(&closed),
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    );
    assert_eq!(a.code, 2, "{a}");
    assert!(a.stderr.contains("no AWS credentials"), "{a}");
    // An identity without cloudformation:DescribeStacks.
    let denied = serve(|mut s| {
        if read_request(&mut s).is_some() {
            respond(
                &mut s,
                "403 Forbidden",
                "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: cloudformation:DescribeStacks</Message></Error><RequestId>7d0b5b9e-0000-4000-8000-000000000002</RequestId></ErrorResponse>",
            );
        }
    });
    let a = ws.run(&["adopt"], Some(&denied));
    assert_eq!(a.code, 2, "{a}");
    assert!(
        a.stderr
            .contains("not authorized to perform: cloudformation:DescribeStacks"),
        "{a}"
    );
    assert_eq!(ws.read("proctor.toml"), before);
    assert!(!ws.path(".proctor/state.json").exists());
}

/// The template moved on since Proton deployed: adopt says the first apply will change the
/// stack, and which version of the template renders exactly what runs.
#[test]
fn adopt_names_the_template_version_that_matches_the_live_stack() {
    let moto = Moto::start();
    let ws = Workspace::copy("fixtures/deploy");
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    let stack = "AWSProton-dev-cloudformation-V1";
    moto.create_stack(
        stack,
        &ws.read("build/environments/dev.yaml"),
        &[(
            "aws:proton:environment",
            "arn:aws:proton:us-east-1:123456789012:environment/dev",
        )],
    );
    crate::support::copy_dir(
        &ws.path("templates/queue-env/v1"),
        &ws.path("templates/queue-env/v2"),
    );
    ws.edit(
        "templates/queue-env/v2/infrastructure/cloudformation.yaml",
        "'retention=",
        "'keep=",
    );
    ws.edit(
        "proctor.toml",
        "template = \"queue-env:1\"",
        "template = \"queue-env:2\"",
    );

    let a = ws.run(&["adopt"], Some(&moto.url));
    assert_eq!(a.code, 1, "{a}");
    assert!(
        a.stdout.contains(&format!(
            "environment `dev`: the first apply will change stack {stack} (template queue-env:2)"
        )),
        "{a}"
    );
    assert!(
        a.stdout
            .contains("the live stack matches the render of `queue-env:1`"),
        "{a}"
    );
}
