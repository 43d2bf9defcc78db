//! A language-server client for tests: starts `proctor lsp` and speaks JSON-RPC over its
//! standard input and output, as an editor does.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

/// How long any one answer may take (a debug build on a 2-core machine).
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Lsp {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Json>,
    next_id: i64,
    /// Notifications read while waiting for something else, in order.
    pub notifications: Vec<Json>,
}

/// `file://` and the path.
pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Lsp {
    /// Starts `proctor lsp` in `dir` and initializes it with `dir` as the workspace folder.
    pub fn start(dir: &Path) -> Lsp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_proctor"))
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("proctor lsp starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        length = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                stdout.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut lsp = Lsp {
            child,
            stdin,
            incoming,
            next_id: 0,
            notifications: Vec::new(),
        };
        let folder = json!([{ "uri": uri(dir), "name": "ws" }]);
        let init = lsp.request(
            "initialize",
            json!({ "processId": null, "capabilities": {}, "workspaceFolders": folder }),
        );
        assert!(
            init["capabilities"]["completionProvider"].is_object(),
            "{init}"
        );
        lsp.notify("initialized", json!({}));
        lsp
    }

    pub fn send(&mut self, msg: Json) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Json) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn next(&mut self, deadline: Instant) -> Option<Json> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("proctor lsp closed its output"),
        }
    }

    /// Sends a request and returns its result (panics on an error response).
    pub fn request(&mut self, method: &str, params: Json) -> Json {
        let answer = self.request_raw(method, params);
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    }

    /// Sends a request and returns the whole response.
    pub fn request_raw(&mut self, method: &str, params: Json) -> Json {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + WAIT;
        loop {
            let m = self
                .next(deadline)
                .unwrap_or_else(|| panic!("no answer to {method}"));
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            self.notifications.push(m);
        }
    }

    /// Opens a document with its text.
    pub fn open(&mut self, path: &Path, text: &str) {
        let doc = json!({ "uri": uri(path), "languageId": "yaml", "version": 1, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": doc }));
    }

    /// Replaces a document's text (full sync).
    pub fn change(&mut self, path: &Path, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri(path), "version": version },
                "contentChanges": [{ "text": text }],
            }),
        );
    }

    /// The next diagnostics published for `path` (at `version`, when given), skipping others.
    pub fn diagnostics(&mut self, path: &Path, version: Option<i32>) -> Vec<Json> {
        let want = uri(path);
        let matches = |m: &Json| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == want.as_str()
                && version.is_none_or(|v| m["params"]["version"] == v)
        };
        if let Some(i) = self.notifications.iter().position(matches) {
            let m = self.notifications.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let m = self
                .next(deadline)
                .unwrap_or_else(|| panic!("no diagnostics for {want} (version {version:?})"));
            if matches(&m) {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    /// A request at a position of a document.
    pub fn at(&mut self, method: &str, path: &Path, line: u32, character: u32) -> Json {
        self.request(
            method,
            json!({
                "textDocument": { "uri": uri(path) },
                "position": { "line": line, "character": character },
            }),
        )
    }

    /// `shutdown`, then `exit`; returns the exit status.
    pub fn shutdown(mut self) -> i32 {
        assert_eq!(self.request("shutdown", Json::Null), Json::Null);
        self.notify("exit", Json::Null);
        self.wait()
    }

    /// Waits for the server to end (at most `WAIT`); returns its exit status.
    pub fn wait(mut self) -> i32 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("proctor lsp did not exit");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
