//! The deployment state file (`.proctor/state.json` at the workspace root): what `proctor
//! apply` deployed, one entry per stack, with the stack's outputs. `build`, `check` and
//! `render` read it so that a service instance sees its environment's real outputs.
//!
//! Only `apply` writes it, and only after CloudFormation reported the stack complete: nothing
//! is recorded as deployed that was not. Writes are atomic (a sibling temporary file renamed
//! over the old one) and serialised by a short-lived lock file, so two applies of different
//! stacks do not lose each other's entries. Keys are sorted and there are no timestamps, so
//! the file diffs well when a team commits it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The state format; a file with a higher version is from a newer proctor.
pub const STATE_VERSION: u64 = 1;
/// The folder, at the workspace root, that holds the state file and the locks.
pub const DIR: &str = ".proctor";
pub const FILE: &str = "state.json";
/// Stack names start with this (see [`stack_name`]).
pub const STACK_PREFIX: &str = "proctor";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub state_version: u64,
    /// By stack name.
    #[serde(default)]
    pub stacks: BTreeMap<String, StackRecord>,
}

/// One deployed stack, as of the last apply that completed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StackRecord {
    /// `environment`, `service_instance`, `pipeline` or `component`.
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub stack_id: String,
    pub status: String,
    pub template: String,
    pub template_version: String,
    /// The sha256 of the artifact that was deployed.
    pub artifact_sha256: String,
    #[serde(default)]
    pub outputs: BTreeMap<String, String>,
}

/// Where the state file of a workspace rooted at `root` lives.
pub fn default_path(root: &Path) -> PathBuf {
    root.join(DIR).join(FILE)
}

/// The CloudFormation stack name of a deployment unit: `proctor-env-NAME`,
/// `proctor-svc-SERVICE-INSTANCE`, `proctor-pipeline-SERVICE`, `proctor-component-NAME`.
/// Proton names may hold `_`, which stack names may not: it becomes `-`.
pub fn stack_name(kind: &str, name: &str, service: Option<&str>) -> String {
    let clean = |s: &str| s.replace('_', "-");
    match (kind, service) {
        ("environment", _) => format!("{STACK_PREFIX}-env-{}", clean(name)),
        ("service_instance", Some(s)) => {
            format!("{STACK_PREFIX}-svc-{}-{}", clean(s), clean(name))
        }
        ("pipeline", _) => format!("{STACK_PREFIX}-pipeline-{}", clean(name)),
        ("component", _) => format!("{STACK_PREFIX}-component-{}", clean(name)),
        _ => format!("{STACK_PREFIX}-{}-{}", clean(kind), clean(name)),
    }
}

/// Whether CloudFormation accepts `name` as a stack name.
pub fn valid_stack_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Why a state file cannot be used, with the place in it when the JSON is broken.
#[derive(Debug)]
pub struct StateError {
    pub message: String,
    /// 1-based line and column, for syntax and shape errors.
    pub at: Option<(usize, usize)>,
}

impl State {
    /// Reads the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<State, StateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => {
                return Err(StateError {
                    message: format!("cannot be read: {e}"),
                    at: None,
                });
            }
        };
        let state: State = serde_json::from_str(&text).map_err(|e| {
            // serde_json ends its message with the place, which the diagnostic shows anyway.
            let text = e.to_string();
            let what = text
                .rfind(" at line ")
                .map_or(text.as_str(), |i| &text[..i]);
            StateError {
                message: format!("is not a proctor state file: {what}"),
                at: Some((e.line().max(1), e.column().max(1))),
            }
        })?;
        if state.state_version > STATE_VERSION {
            return Err(StateError {
                message: format!(
                    "was written by a newer proctor (state version {}; this proctor reads {STATE_VERSION})",
                    state.state_version
                ),
                at: None,
            });
        }
        Ok(state)
    }

    /// The deployed outputs of environment `name`.
    pub fn environment_outputs(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.stacks
            .values()
            .find(|s| s.kind == "environment" && s.name == name)
            .map(|s| &s.outputs)
    }

    /// The deployed outputs of service instance `instance` of `service`.
    pub fn instance_outputs(
        &self,
        service: &str,
        instance: &str,
    ) -> Option<&BTreeMap<String, String>> {
        self.stacks
            .values()
            .find(|s| {
                s.kind == "service_instance"
                    && s.name == instance
                    && s.service.as_deref() == Some(service)
            })
            .map(|s| &s.outputs)
    }
}

/// Records `record` under `stack` in the state file at `path`: read, change, write back
/// atomically, all under the state lock.
pub fn record(path: &Path, stack: &str, record: StackRecord) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let _lock = Lock::acquire_waiting(
        &dir.join("state.lock"),
        Duration::from_secs(10),
        "the state file",
    )?;
    let mut state = State::load(path).map_err(|e| format!("`{}` {}", path.display(), e.message))?;
    state.state_version = STATE_VERSION;
    state.stacks.insert(stack.to_string(), record);
    let mut text = serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a sibling temporary file and a rename, so that a reader
/// sees the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write `{}`: {e}", path.display())
    })
}

/// A lock file, created exclusively and removed on drop. It holds the owner's process id,
/// so that a lock left by a process that no longer runs can be taken over.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock, or says who holds it.
    pub fn acquire(path: &Path, what: &str) -> Result<Lock, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
        }
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    let _ = writeln!(f, "{}", std::process::id());
                    return Ok(Lock {
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if !process_alive(pid) => {
                            // Left by a process that is gone: take it over.
                            let _ = std::fs::remove_file(path);
                        }
                        Some(pid) => {
                            return Err(format!(
                                "another proctor (process {pid}) is working on {what}; wait for it to finish (lock `{}`)",
                                path.display()
                            ));
                        }
                        None => {
                            return Err(format!(
                                "{what} is locked by `{}`; if no proctor is running, delete that file",
                                path.display()
                            ));
                        }
                    }
                }
                Err(e) => return Err(format!("cannot create `{}`: {e}", path.display())),
            }
        }
        Err(format!("cannot take the lock `{}`", path.display()))
    }

    /// Takes the lock, waiting up to `patience` for a live holder to let go.
    pub fn acquire_waiting(path: &Path, patience: Duration, what: &str) -> Result<Lock, String> {
        let start = Instant::now();
        loop {
            match Lock::acquire(path, what) {
                Ok(l) => return Ok(l),
                Err(e) if start.elapsed() >= patience => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether a process with this id runs (Linux: `/proc/PID`; elsewhere assumed alive, so a
/// lock is never taken from a live process).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: &str, name: &str, outputs: &[(&str, &str)]) -> StackRecord {
        StackRecord {
            kind: kind.into(),
            name: name.into(),
            service: None,
            stack_id: "arn:aws:cloudformation:us-east-1:1:stack/x/1".into(),
            status: "CREATE_COMPLETE".into(),
            template: "t".into(),
            template_version: "1".into(),
            artifact_sha256: "00".into(),
            outputs: outputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn record_merges_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = default_path(dir.path());
        assert_eq!(State::load(&path).unwrap(), State::default());
        record(
            &path,
            "proctor-env-dev",
            rec("environment", "dev", &[("Vpc", "v-1")]),
        )
        .unwrap();
        record(&path, "proctor-env-prod", rec("environment", "prod", &[])).unwrap();
        record(
            &path,
            "proctor-env-dev",
            rec("environment", "dev", &[("Vpc", "v-2")]),
        )
        .unwrap();
        let s = State::load(&path).unwrap();
        assert_eq!(s.stacks.len(), 2);
        assert_eq!(s.environment_outputs("dev").unwrap()["Vpc"], "v-2");
        assert!(!dir.path().join(DIR).join("state.lock").exists());
    }

    #[test]
    fn broken_and_newer_files_are_refused_with_a_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{\n  \"state_version\": 1,\n  \"stacks\": [}\n").unwrap();
        let e = State::load(&path).unwrap_err();
        assert_eq!(e.at.map(|(l, _)| l), Some(3));
        std::fs::write(&path, "{\"state_version\": 9, \"stacks\": {}}").unwrap();
        assert!(
            State::load(&path)
                .unwrap_err()
                .message
                .contains("newer proctor")
        );
    }

    #[test]
    fn a_held_lock_is_refused_and_a_dead_holders_lock_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/s.lock");
        let held = Lock::acquire(&path, "stack `s`").unwrap();
        let e = Lock::acquire(&path, "stack `s`").unwrap_err();
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        drop(held);
        assert!(!path.exists());
        // A process id that cannot be running (above Linux's pid_max).
        std::fs::write(&path, "4194304999\n").unwrap();
        if cfg!(target_os = "linux") {
            Lock::acquire(&path, "stack `s`").unwrap();
        }
    }

    #[test]
    fn stack_names_follow_the_convention_and_are_valid() {
        assert_eq!(
            stack_name("environment", "dev_1", None),
            "proctor-env-dev-1"
        );
        assert_eq!(
            stack_name("service_instance", "api", Some("payments")),
            "proctor-svc-payments-api"
        );
        assert_eq!(
            stack_name("pipeline", "payments", Some("payments")),
            "proctor-pipeline-payments"
        );
        assert!(valid_stack_name("proctor-env-dev"));
        assert!(!valid_stack_name("1abc"));
        assert!(!valid_stack_name("a_b"));
    }
}
