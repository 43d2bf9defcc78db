//! `proctor apply` against a scripted CloudFormation endpoint, for the paths moto does not
//! model: a resource that fails and the stack that rolls back (moto answers HTTP 500 and never
//! rolls back), an update that rolls back, and Ctrl-C while a stack is still in progress.
//! The endpoint speaks CloudFormation's query protocol (form-encoded requests, XML answers)
//! to the real AWS SDK inside the real binary; each DescribeStacks after the change set is
//! executed moves the script one step on, and the stack's events grow with it.
#![cfg(feature = "aws")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::moto::*;

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/proctor-env-dev/0d6a1f30-0000-4000-8000-000000000001";

/// One step of a scripted deployment: the stack's status then, and the events it added.
struct Step {
    status: &'static str,
    reason: Option<&'static str>,
    events: Vec<(
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    )>,
}

#[derive(Default)]
struct Fake {
    /// The stack's status before anything is executed (`None`: there is no stack).
    initial: Option<&'static str>,
    steps: Vec<Step>,
    executed: bool,
    step: usize,
    actions: Vec<String>,
}

struct Endpoint {
    url: String,
    fake: Arc<Mutex<Fake>>,
}

fn member(fields: &[(&str, String)]) -> String {
    let mut s = String::from("<member>");
    for (k, v) in fields {
        s.push_str(&format!("<{k}>{v}</{k}>"));
    }
    s.push_str("</member>");
    s
}

fn ok(action: &str, result: &str) -> (String, String) {
    (
        "200 OK".to_string(),
        format!(
            "<{action}Response xmlns=\"{NS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></{action}Response>"
        ),
    )
}

impl Fake {
    fn answer(&mut self, body: &str) -> (String, String) {
        let action = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or_default()
            .to_string();
        self.actions.push(action.clone());
        match action.as_str() {
            "DescribeStacks" => {
                let (status, reason) = if self.executed {
                    let i = self.step.min(self.steps.len() - 1);
                    self.step += 1;
                    (Some(self.steps[i].status), self.steps[i].reason)
                } else {
                    (self.initial, None)
                };
                let Some(status) = status else {
                    return (
                        "400 Bad Request".to_string(),
                        format!(
                            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id proctor-env-dev does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                        ),
                    );
                };
                let mut fields = vec![
                    ("StackName", "proctor-env-dev".to_string()),
                    ("StackId", STACK_ID.to_string()),
                    ("CreationTime", "2026-11-26T10:00:00Z".to_string()),
                    ("StackStatus", status.to_string()),
                ];
                if let Some(r) = reason {
                    fields.push(("StackStatusReason", r.to_string()));
                }
                ok(
                    "DescribeStacks",
                    &format!("<Stacks>{}</Stacks>", member(&fields)),
                )
            }
            "DescribeStackEvents" => {
                let upto = if self.executed {
                    self.step.min(self.steps.len())
                } else {
                    0
                };
                let mut events = Vec::new();
                for (i, step) in self.steps[..upto].iter().enumerate() {
                    for (j, (logical, ty, status, reason)) in step.events.iter().enumerate() {
                        let mut fields = vec![
                            ("StackId", STACK_ID.to_string()),
                            ("EventId", format!("event-{i}-{j}")),
                            ("StackName", "proctor-env-dev".to_string()),
                            ("LogicalResourceId", logical.to_string()),
                            ("ResourceType", ty.to_string()),
                            ("Timestamp", format!("2026-11-26T10:00:{:02}Z", i * 10 + j)),
                            ("ResourceStatus", status.to_string()),
                        ];
                        if let Some(r) = reason {
                            fields.push(("ResourceStatusReason", r.to_string()));
                        }
                        events.push(member(&fields));
                    }
                }
                events.reverse(); // newest first, as CloudFormation lists them
                ok(
                    "DescribeStackEvents",
                    &format!("<StackEvents>{}</StackEvents>", events.concat()),
                )
            }
            "CreateChangeSet" => ok(
                "CreateChangeSet",
                &format!(
                    "<Id>arn:aws:cloudformation:us-east-1:111122223333:changeSet/proctor-1/1</Id><StackId>{STACK_ID}</StackId>"
                ),
            ),
            "DescribeChangeSet" => ok(
                "DescribeChangeSet",
                &format!(
                    "<ChangeSetName>proctor-1</ChangeSetName><StackName>proctor-env-dev</StackName><StackId>{STACK_ID}</StackId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes>{}{}</Changes>",
                    "<member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>ArtifactBucket</LogicalResourceId><ResourceType>AWS::S3::Bucket</ResourceType></ResourceChange></member>",
                    "<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>Settings</LogicalResourceId><ResourceType>AWS::SSM::Parameter</ResourceType><Replacement>True</Replacement></ResourceChange></member>"
                ),
            ),
            "ExecuteChangeSet" => {
                self.executed = true;
                ok("ExecuteChangeSet", "")
            }
            "DeleteChangeSet" | "DeleteStack" => ok(&action, ""),
            _ => (
                "400 Bad Request".to_string(),
                format!(
                    "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>{action}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                ),
            ),
        }
    }
}

impl Endpoint {
    fn start(fake: Fake) -> Endpoint {
        let fake = Arc::new(Mutex::new(fake));
        let f = fake.clone();
        let url = serve(move |mut s| {
            if let Some(body) = read_request(&mut s) {
                let (status, xml) = f.lock().unwrap().answer(&body);
                respond(&mut s, &status, &xml);
            }
        });
        Endpoint { url, fake }
    }

    fn actions(&self) -> Vec<String> {
        self.fake.lock().unwrap().actions.clone()
    }
}

fn built() -> Workspace {
    let ws = Workspace::copy("fixtures/deploy");
    let b = ws.run(&["build"], None);
    assert_eq!(b.code, 0, "{b}");
    ws
}

#[test]
fn a_failed_create_prints_the_failing_resources_and_records_nothing() {
    let endpoint = Endpoint::start(Fake {
        steps: vec![
            Step {
                status: "CREATE_IN_PROGRESS",
                reason: None,
                events: vec![
                    (
                        "proctor-env-dev",
                        "AWS::CloudFormation::Stack",
                        "CREATE_IN_PROGRESS",
                        Some("User Initiated"),
                    ),
                    (
                        "ArtifactBucket",
                        "AWS::S3::Bucket",
                        "CREATE_IN_PROGRESS",
                        None,
                    ),
                ],
            },
            Step {
                status: "ROLLBACK_IN_PROGRESS",
                reason: Some(
                    "The following resource(s) failed to create: [Settings, ArtifactBucket]. Rollback requested by user.",
                ),
                events: vec![
                    (
                        "Settings",
                        "AWS::SSM::Parameter",
                        "CREATE_FAILED",
                        Some(
                            "Resource handler returned message: \"Parameter /dev/settings already exists.\"",
                        ),
                    ),
                    (
                        "ArtifactBucket",
                        "AWS::S3::Bucket",
                        "CREATE_FAILED",
                        Some("Resource creation cancelled"),
                    ),
                    (
                        "proctor-env-dev",
                        "AWS::CloudFormation::Stack",
                        "ROLLBACK_IN_PROGRESS",
                        None,
                    ),
                ],
            },
            Step {
                status: "ROLLBACK_COMPLETE",
                reason: None,
                events: vec![
                    ("ArtifactBucket", "AWS::S3::Bucket", "DELETE_COMPLETE", None),
                    (
                        "proctor-env-dev",
                        "AWS::CloudFormation::Stack",
                        "ROLLBACK_COMPLETE",
                        None,
                    ),
                ],
            },
        ],
        ..Fake::default()
    });
    let ws = built();
    let a = ws.run(&["apply", "build", "--yes"], Some(&endpoint.url));
    assert_eq!(a.code, 1, "{a}");
    // Replacement is shown for modifications.
    assert!(
        a.stdout
            .contains("Modify  Settings        AWS::SSM::Parameter  True"),
        "{a}"
    );
    // Every event once, oldest first, with its time.
    let expected = [
        "10:00:00  CREATE_IN_PROGRESS           proctor-env-dev (AWS::CloudFormation::Stack): User Initiated",
        "10:00:01  CREATE_IN_PROGRESS           ArtifactBucket (AWS::S3::Bucket)",
        "10:00:10  CREATE_FAILED                Settings (AWS::SSM::Parameter): Resource handler returned message: \"Parameter /dev/settings already exists.\"",
        "10:00:11  CREATE_FAILED                ArtifactBucket (AWS::S3::Bucket): Resource creation cancelled",
        "10:00:12  ROLLBACK_IN_PROGRESS         proctor-env-dev (AWS::CloudFormation::Stack)",
        "10:00:20  DELETE_COMPLETE              ArtifactBucket (AWS::S3::Bucket)",
        "10:00:21  ROLLBACK_COMPLETE            proctor-env-dev (AWS::CloudFormation::Stack)",
    ];
    let mut at = 0;
    for e in expected {
        let i = a.stdout[at..]
            .find(e)
            .unwrap_or_else(|| panic!("missing or out of order: {e}\n{a}"));
        at += i + e.len();
    }
    assert_eq!(
        a.stdout
            .matches("CREATE_FAILED                Settings")
            .count(),
        1,
        "{a}"
    );
    assert!(
        a.stdout
            .contains("proctor-env-dev: ROLLBACK_COMPLETE (failed)"),
        "{a}"
    );
    assert!(
        a.stdout.contains(
            "failed: Settings (AWS::SSM::Parameter): Resource handler returned message: \"Parameter /dev/settings already exists.\""
        ),
        "{a}"
    );
    assert!(
        !ws.path(".proctor/state.json").exists(),
        "nothing recorded as deployed"
    );
    assert!(!ws.path(".proctor/locks/proctor-env-dev.lock").exists());
    assert_eq!(
        endpoint
            .actions()
            .iter()
            .filter(|a| *a == "ExecuteChangeSet")
            .count(),
        1
    );
}

#[test]
fn a_rolled_back_update_keeps_the_previous_record() {
    let endpoint = Endpoint::start(Fake {
        initial: Some("CREATE_COMPLETE"),
        steps: vec![
            Step {
                status: "UPDATE_IN_PROGRESS",
                reason: None,
                events: vec![(
                    "proctor-env-dev",
                    "AWS::CloudFormation::Stack",
                    "UPDATE_IN_PROGRESS",
                    None,
                )],
            },
            Step {
                status: "UPDATE_ROLLBACK_COMPLETE",
                reason: None,
                events: vec![
                    (
                        "Settings",
                        "AWS::SSM::Parameter",
                        "UPDATE_FAILED",
                        Some("Access denied for operation 'ssm:PutParameter'"),
                    ),
                    (
                        "proctor-env-dev",
                        "AWS::CloudFormation::Stack",
                        "UPDATE_ROLLBACK_COMPLETE",
                        None,
                    ),
                ],
            },
        ],
        ..Fake::default()
    });
    let ws = built();
    let previous = r#"{
  "state_version": 1,
  "stacks": {
    "proctor-env-dev": {
      "kind": "environment",
      "name": "dev",
      "stack_id": "arn:aws:cloudformation:us-east-1:111122223333:stack/proctor-env-dev/0d6a1f30-0000-4000-8000-000000000001",
      "status": "CREATE_COMPLETE",
      "template": "queue-env",
      "template_version": "1",
      "artifact_sha256": "0000000000000000000000000000000000000000000000000000000000000000",
      "outputs": {
        "ArtifactBucketName": "proctor-env-dev-artifactbucket-old"
      }
    }
  }
}
"#;
    std::fs::create_dir_all(ws.path(".proctor")).unwrap();
    std::fs::write(ws.path(".proctor/state.json"), previous).unwrap();
    let a = ws.run(
        &["apply", "build", "--yes", "--unit", "dev"],
        Some(&endpoint.url),
    );
    assert_eq!(a.code, 1, "{a}");
    assert!(
        a.stdout
            .contains("proctor-env-dev: UPDATE_ROLLBACK_COMPLETE (failed)"),
        "{a}"
    );
    assert!(
        a.stdout
            .contains("failed: Settings (AWS::SSM::Parameter): Access denied"),
        "{a}"
    );
    assert_eq!(ws.read(".proctor/state.json"), previous);
    // An update, since the stack exists.
    assert!(endpoint.actions().contains(&"ExecuteChangeSet".to_string()));
}

#[test]
fn ctrl_c_while_a_stack_is_in_progress_says_cloudformation_goes_on() {
    let endpoint = Endpoint::start(Fake {
        steps: vec![Step {
            status: "CREATE_IN_PROGRESS",
            reason: None,
            events: vec![(
                "proctor-env-dev",
                "AWS::CloudFormation::Stack",
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            )],
        }],
        ..Fake::default()
    });
    let ws = built();
    let child = ws
        .command(&["apply", "build", "--yes"], Some(&endpoint.url), &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !endpoint.actions().contains(&"ExecuteChangeSet".to_string()) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "apply never executed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it watch a few polls, then interrupt it as a terminal's Ctrl-C does.
    std::thread::sleep(Duration::from_millis(200));
    assert!(ws.path(".proctor/locks/proctor-env-dev.lock").exists());
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(
            "proctor stopped watching, but CloudFormation goes on with the operation on stack `proctor-env-dev`"
        ),
        "{stderr}"
    );
    assert!(
        !ws.path(".proctor/locks/proctor-env-dev.lock").exists(),
        "the lock is released"
    );
    assert!(!ws.path(".proctor/state.json").exists());
}
