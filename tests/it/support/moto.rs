//! What the apply tests share: a moto server per test, a copy of a fixture workspace, the
//! proctor binary run with test credentials, and small local endpoints (one that only counts
//! connections, one that always throttles).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

pub use super::{Run, python, root};

/// A port nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn closed_port_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// moto's server, started for one test and stopped by its process id when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
    _log: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Moto {
        let log = tempfile::tempdir().unwrap();
        for _ in 0..3 {
            let port = free_port();
            let out = std::fs::File::create(log.path().join("moto.log")).unwrap();
            let mut child = Command::new(python())
                .arg(root().join("tests/moto/server.py"))
                .arg(port.to_string())
                .stdin(Stdio::null())
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .expect("start moto's server");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost the port to another process: try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Moto {
                        child,
                        url: format!("http://127.0.0.1:{port}"),
                        _log: log,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "moto's server did not start: {}",
            std::fs::read_to_string(log.path().join("moto.log")).unwrap_or_default()
        );
    }

    fn boto(&self, script: &str) -> Json {
        let out = Command::new(python())
            .arg("-c")
            .arg(format!(
                "import boto3, json, sys\n\
                 kw = dict(endpoint_url='{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n\
                 {script}",
                self.url
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "boto3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The stack as moto describes it: Status, Outputs and Tags as maps; null when none.
    pub fn describe(&self, stack: &str) -> Json {
        self.boto(&format!(
            "cf = boto3.client('cloudformation', **kw)\n\
             try:\n    s = cf.describe_stacks(StackName='{stack}')['Stacks'][0]\n\
             except cf.exceptions.ClientError:\n    print('null'); sys.exit(0)\n\
             print(json.dumps({{'Status': s['StackStatus'], \
             'Outputs': {{o['OutputKey']: o['OutputValue'] for o in s.get('Outputs', [])}}, \
             'Tags': {{t['Key']: t['Value'] for t in s.get('Tags', [])}}}}))"
        ))
    }

    /// Creates a stack directly (as AWS Proton did), waits until it is complete, and returns
    /// its stack id.
    pub fn create_stack(&self, name: &str, body: &str, tags: &[(&str, &str)]) -> String {
        let tags: Vec<Json> = tags
            .iter()
            .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
            .collect();
        let args = serde_json::json!({"StackName": name, "TemplateBody": body, "Tags": tags});
        self.boto(&format!(
            "cf = boto3.client('cloudformation', **kw)\n\
             r = cf.create_stack(**json.loads({args:?}))\n\
             cf.get_waiter('stack_create_complete').wait(StackName='{name}', WaiterConfig={{'Delay': 1}})\n\
             print(json.dumps(r['StackId']))",
            args = args.to_string()
        ))
        .as_str()
        .unwrap()
        .to_string()
    }

    /// The id of a stack, and its status.
    pub fn stack_id(&self, name: &str) -> (String, String) {
        let s = self.boto(&format!(
            "s = boto3.client('cloudformation', **kw).describe_stacks(StackName='{name}')['Stacks'][0]\n\
             print(json.dumps([s['StackId'], s['StackStatus']]))"
        ));
        (
            s[0].as_str().unwrap().to_string(),
            s[1].as_str().unwrap().to_string(),
        )
    }

    /// The names of the stacks that exist (not deleted).
    pub fn stack_names(&self) -> Vec<String> {
        let names = self.boto(
            "cf = boto3.client('cloudformation', **kw)\n\
             print(json.dumps(sorted(s['StackName'] for s in cf.describe_stacks()['Stacks'])))",
        );
        names
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    }

    /// An SSM parameter's value.
    pub fn parameter(&self, name: &str) -> String {
        self.boto(&format!(
            "print(json.dumps(boto3.client('ssm', **kw).get_parameter(Name='{name}')['Parameter']['Value']))"
        ))
        .as_str()
        .unwrap()
        .to_string()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fixture workspace copied into a temporary folder.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    pub fn copy(fixture: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        super::copy_dir_skipping(&root().join(fixture), dir.path(), &[".proctor"]);
        Workspace { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} has no `{from}`");
        std::fs::write(self.path(rel), text.replace(from, to)).unwrap();
    }

    pub fn state(&self) -> Json {
        serde_json::from_str(&self.read(".proctor/state.json")).unwrap()
    }

    pub fn command(&self, args: &[&str], endpoint: Option<&str>, env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_proctor"));
        cmd.args(args).current_dir(self.dir.path());
        if let Some(url) = endpoint {
            cmd.args(["--endpoint-url", url]);
        }
        // Only what the test gives: no profile, config file or instance metadata of the machine.
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_CLOUDFORMATION",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", self.path("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path("no-aws-credentials"),
            )
            .env("PROCTOR_POLL_MS", "20")
            .env("NO_COLOR", "1");
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        cmd
    }

    pub fn run_env(&self, args: &[&str], endpoint: Option<&str>, env: &[(&str, &str)]) -> Run {
        Run::of(self.command(args, endpoint, env).output().unwrap())
    }

    pub fn run(&self, args: &[&str], endpoint: Option<&str>) -> Run {
        self.run_env(args, endpoint, &[])
    }
}

/// Reads one HTTP request (headers and a Content-Length body); returns its body.
pub fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(String::from_utf8_lossy(&body).into_owned())
}

pub fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// An endpoint that counts connections and answers none: proof that no call was made.
pub struct Listener {
    pub url: String,
    count: Arc<AtomicUsize>,
}

impl Listener {
    pub fn start() -> Listener {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let url = serve(move |s| {
            c.fetch_add(1, Ordering::SeqCst);
            drop(s);
        });
        Listener { url, count }
    }

    pub fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// Serves 127.0.0.1 on a free port, handing each connection to `handle` on a thread of its
/// own (for the test's lifetime); returns the endpoint's URL.
pub fn serve(handle: impl Fn(TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            handle(s);
        }
    });
    url
}

/// An endpoint that answers every request as a throttled CloudFormation does.
pub struct Throttling {
    pub url: String,
    count: Arc<AtomicUsize>,
}

impl Throttling {
    pub fn start() -> Throttling {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let url = serve(move |mut s| {
            if read_request(&mut s).is_some() {
                c.fetch_add(1, Ordering::SeqCst);
                respond(
                    &mut s,
                    "400 Bad Request",
                    "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>7d0b5b9e-0000-4000-8000-000000000001</RequestId></ErrorResponse>",
                );
            }
        });
        Throttling { url, count }
    }

    pub fn requests(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}
