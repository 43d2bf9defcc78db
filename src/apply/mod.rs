//! `proctor apply`: deploys a verified build through CloudFormation change sets.
//!
//! The steps for each unit (environments first, then service instances, pipelines and
//! components, as the build record orders them):
//! 1. the build is verified before any AWS call (`build::verify`);
//! 2. the stack's lock is taken (`.proctor/locks/STACK.lock`), so a second apply of the same
//!    stack is refused;
//! 3. a change set is created (CREATE for a new stack, UPDATE otherwise) and its changes are
//!    printed as a table; an empty one is "no changes" and succeeds; `--dry-run` stops here
//!    and removes what it created;
//! 4. with `--yes`, or after confirmation, it is executed, and stack events are printed as
//!    they arrive until the stack settles;
//! 5. only a stack that ended complete is recorded in the state file, with its outputs.
//!
//! The CloudFormation calls go through the [`Api`] trait: the AWS SDK implements it
//! (`aws.rs`, behind the `aws` cargo feature), and tests script it to reach the paths an
//! emulator does not (failures and rollbacks, outputs after a change set).

pub mod adopt;
#[cfg(feature = "aws")]
pub mod aws;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::build::{Verified, VerifiedUnit};
use crate::state::{self, Lock, StackRecord};

/// A stack as CloudFormation describes it.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub outputs: Vec<(String, String)>,
    /// The stack's own tags (not its resources').
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSetKind {
    Create,
    Update,
}

#[derive(Debug, Clone)]
pub struct ChangeSetRequest {
    pub stack: String,
    pub name: String,
    pub kind: ChangeSetKind,
    pub template_body: String,
    pub description: String,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE` or `FAILED`.
    pub status: String,
    pub reason: Option<String>,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// `True`, `False` or `Conditional` for modifications.
    pub replacement: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Event {
    pub id: String,
    /// `HH:MM:SS` (UTC).
    pub time: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// Why a CloudFormation call failed, in terms a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    NoRegion,
    NoCredentials(String),
    /// The endpoint did not answer (connection refused, DNS, timeout).
    Unreachable(String),
    /// Still throttled after the SDK's retries.
    Throttled(String),
    /// The credentials were refused or lack a permission.
    Denied(String),
    Other(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::NoRegion => write!(
                f,
                "no AWS region: set AWS_REGION (or a profile's region), or pass --region"
            ),
            ApiError::NoCredentials(why) => write!(
                f,
                "no AWS credentials: {why}\n  help: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or log in with `aws sso login`"
            ),
            ApiError::Unreachable(why) => write!(
                f,
                "cannot reach CloudFormation: {why}\n  help: check the network, or the --endpoint-url / AWS_ENDPOINT_URL you gave"
            ),
            ApiError::Throttled(why) => write!(
                f,
                "CloudFormation throttled the requests, still after retries: {why}\n  help: wait and apply again, or allow more retries with AWS_MAX_ATTEMPTS"
            ),
            ApiError::Denied(why) => write!(
                f,
                "AWS refused the credentials or the permission: {why}\n  help: check which identity runs (`aws sts get-caller-identity`) and that it may use CloudFormation"
            ),
            ApiError::Other(why) => write!(f, "{why}"),
        }
    }
}

/// The CloudFormation calls apply makes.
pub trait Api {
    /// The stack, or `None` when there is none by that name.
    fn describe_stack(&self, stack: &str) -> Result<Option<Stack>, ApiError>;
    /// Creates a change set; returns its id.
    fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, ApiError>;
    fn describe_change_set(&self, stack: &str, id: &str) -> Result<ChangeSet, ApiError>;
    fn execute_change_set(&self, stack: &str, id: &str) -> Result<(), ApiError>;
    fn delete_change_set(&self, stack: &str, id: &str) -> Result<(), ApiError>;
    fn delete_stack(&self, stack: &str) -> Result<(), ApiError>;
    /// The stack's most recent events, newest first.
    fn stack_events(&self, stack: &str) -> Result<Vec<Event>, ApiError>;
    /// Every stack of the account and region that is not deleted, with its tags and outputs.
    fn list_stacks(&self) -> Result<Vec<crate::adopt::LiveStack>, ApiError>;
    /// The stack's template as CloudFormation holds it (the original, before transforms).
    fn get_template(&self, stack: &str) -> Result<String, ApiError>;
}

pub struct Options<'a> {
    pub dry_run: bool,
    pub yes: bool,
    /// Only this unit (its name, `service/instance`, or its stack name).
    pub unit: Option<String>,
    /// Time between polls of a change set or a stack.
    pub poll: Duration,
    /// Asks whether to execute (`--yes` not given); `None` when there is no terminal.
    pub confirm: Option<&'a mut dyn FnMut(&str) -> bool>,
}

/// What happened to one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Deployed { status: String },
    NoChanges,
    DryRun,
    Declined,
    Failed { status: String },
}

/// Why apply stopped before deploying: the build or the selection is refused (nothing was
/// called), or a CloudFormation call failed.
#[derive(Debug)]
pub enum Error {
    Refused(String),
    Api(ApiError),
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Refused(m) => write!(f, "{m}"),
            Error::Api(e) => write!(f, "{e}"),
        }
    }
}

/// The units of a verified build that `unit` selects (all when `None`).
pub fn select<'v>(
    verified: &'v Verified,
    unit: Option<&str>,
) -> Result<Vec<&'v VerifiedUnit>, Error> {
    let Some(want) = unit else {
        if verified.units.is_empty() {
            let waiting: Vec<String> = verified
                .waiting
                .iter()
                .map(|(u, why)| format!("{u} waits: {why}"))
                .collect();
            return Err(Error::Refused(if waiting.is_empty() {
                "the build has no units to apply".to_string()
            } else {
                format!("the build has no units to apply ({})", waiting.join("; "))
            }));
        }
        return Ok(verified.units.iter().collect());
    };
    let chosen: Vec<&VerifiedUnit> = verified
        .units
        .iter()
        .filter(|u| {
            u.name == want
                || u.stack == want
                || u.service
                    .as_deref()
                    .is_some_and(|s| format!("{s}/{}", u.name) == want)
        })
        .collect();
    if chosen.len() > 1 {
        let names: Vec<String> = chosen.iter().map(|u| unit_label(u)).collect();
        return Err(Error::Refused(format!(
            "--unit `{want}` names {} units ({}); name one by its stack: {}",
            chosen.len(),
            names.join(", "),
            chosen
                .iter()
                .map(|u| u.stack.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(u) = chosen.first() {
        return Ok(vec![*u]);
    }
    if let Some((u, why)) = verified
        .waiting
        .iter()
        .find(|(u, _)| u.contains(&format!("`{want}`")))
    {
        return Err(Error::Refused(format!(
            "{u} is not in this build: it waits ({why}); apply that, build again, then apply it"
        )));
    }
    let known: Vec<String> = verified.units.iter().map(unit_label).collect();
    Err(Error::Refused(format!(
        "--unit `{want}`: no such unit in this build (it has: {})",
        known.join(", ")
    )))
}

fn unit_label(u: &VerifiedUnit) -> String {
    match &u.service {
        Some(s) if u.kind == "service_instance" => format!("{}/{}", s, u.name),
        _ => u.name.clone(),
    }
}

/// The folder holding per-stack locks, beside the state file.
fn lock_path(state_file: &Path, stack: &str) -> PathBuf {
    state_file
        .parent()
        .unwrap_or(Path::new("."))
        .join("locks")
        .join(format!("{stack}.lock"))
}

/// What a Ctrl-C handler needs to know: the stack being worked on, whether its change set
/// is executing, and the lock to release.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    pub stack: String,
    pub executing: bool,
    pub lock: PathBuf,
}

pub static IN_FLIGHT: std::sync::Mutex<Option<InFlight>> = std::sync::Mutex::new(None);

fn set_in_flight(v: Option<InFlight>) {
    if let Ok(mut g) = IN_FLIGHT.lock() {
        *g = v;
    }
}

/// What to tell a user who pressed Ctrl-C, given what was in flight.
pub fn interrupted_message(f: Option<&InFlight>) -> String {
    match f {
        Some(f) if f.executing => format!(
            "interrupted: proctor stopped watching, but CloudFormation goes on with the operation on stack `{}`.\n  Follow it with `aws cloudformation describe-stack-events --stack-name {}`; when it has finished, run `proctor apply` again to record the stack's outputs.",
            f.stack, f.stack
        ),
        Some(f) => format!(
            "interrupted before anything was executed on stack `{}`; a change set proctor created may be left on it (CloudFormation keeps unexecuted change sets; they change nothing).",
            f.stack
        ),
        None => "interrupted".to_string(),
    }
}

/// Applies the selected units of a verified build, in order, stopping at the first that
/// fails. Writes progress to `out`.
pub fn apply(
    verified: &Verified,
    api: &dyn Api,
    opts: &mut Options,
    out: &mut dyn Write,
) -> Result<Vec<(String, Outcome)>, Error> {
    let units = select(verified, opts.unit.as_deref())?;
    let mut results = Vec::new();
    for u in units {
        let lock = Lock::acquire(
            &lock_path(&verified.state, &u.stack),
            &format!("stack `{}`", u.stack),
        )
        .map_err(Error::Refused)?;
        set_in_flight(Some(InFlight {
            stack: u.stack.clone(),
            executing: false,
            lock: lock.path().to_path_buf(),
        }));
        let r = apply_unit(u, &verified.state, api, opts, out);
        set_in_flight(None);
        drop(lock);
        let outcome = r?;
        let failed = matches!(outcome, Outcome::Failed { .. } | Outcome::Declined);
        results.push((u.stack.clone(), outcome));
        if failed {
            break;
        }
    }
    Ok(results)
}

fn is_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

fn apply_unit(
    u: &VerifiedUnit,
    state_file: &Path,
    api: &dyn Api,
    opts: &mut Options,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let stack = u.stack.as_str();
    let _ = writeln!(
        out,
        "{} `{}` → stack {stack}",
        u.kind.replace('_', " "),
        unit_label(u)
    );
    let existing = api.describe_stack(stack)?;
    let kind = change_set_kind(stack, existing.as_ref())?;
    let mut req = change_set_request(u, kind);
    if kind == ChangeSetKind::Update
        && let Some(s) = &existing
    {
        req.tags = kept_tags(&s.tags, req.tags);
    }
    let id = api.create_change_set(&req)?;
    // Leaves no trace of a change set that will not run: deletes it, and the empty stack
    // CloudFormation made for it when the stack is new.
    let discard = || -> Result<(), ApiError> {
        api.delete_change_set(stack, &id)?;
        if kind == ChangeSetKind::Create {
            api.delete_stack(stack)?;
        }
        Ok(())
    };
    let cs = loop {
        let cs = api.describe_change_set(stack, &id)?;
        match cs.status.as_str() {
            "CREATE_COMPLETE" | "FAILED" => break cs,
            _ => std::thread::sleep(opts.poll),
        }
    };
    if cs.status == "FAILED" {
        let reason = cs.reason.clone().unwrap_or_default();
        if kind == ChangeSetKind::Update && is_no_changes(&reason) {
            let _ = writeln!(out, "  no changes: stack {stack} is up to date");
            api.delete_change_set(stack, &id)?;
            if let Some(s) = api.describe_stack(stack)? {
                record(state_file, u, &s)?;
            }
            return Ok(Outcome::NoChanges);
        }
        discard()?;
        let _ = writeln!(out, "  CloudFormation refused the change set: {reason}");
        return Ok(Outcome::Failed {
            status: "change set FAILED".to_string(),
        });
    }
    let _ = write!(out, "{}", change_table(&cs.changes));
    if opts.dry_run {
        discard()?;
        let _ = writeln!(out, "  dry run: nothing executed");
        return Ok(Outcome::DryRun);
    }
    if !opts.yes {
        let go = match opts.confirm.as_mut() {
            Some(ask) => ask(&format!("Execute this change set on stack {stack}?")),
            None => {
                discard()?;
                return Err(Error::Refused(
                    "not a terminal, so proctor cannot ask: pass --yes to execute, or --dry-run to only show the changes".to_string(),
                ));
            }
        };
        if !go {
            discard()?;
            let _ = writeln!(out, "  not executed");
            return Ok(Outcome::Declined);
        }
    }
    let seen: HashSet<String> = api.stack_events(stack)?.into_iter().map(|e| e.id).collect();
    set_in_flight(
        IN_FLIGHT
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .map(|f| InFlight {
                executing: true,
                ..f
            }),
    );
    api.execute_change_set(stack, &id)?;
    let (last, failures) = watch(api, stack, seen, opts.poll, out)?;
    finished(state_file, u, last, &failures, out)
}

/// How to change `stack`, given what CloudFormation has: create it, update it, or refuse (a
/// stack that cannot be updated, or one that is busy).
fn change_set_kind(stack: &str, existing: Option<&Stack>) -> Result<ChangeSetKind, Error> {
    Ok(match existing {
        None => ChangeSetKind::Create,
        // A stack created by a change set that was never executed.
        Some(s) if s.status == "REVIEW_IN_PROGRESS" => ChangeSetKind::Create,
        Some(s) if s.status == "ROLLBACK_COMPLETE" || s.status == "ROLLBACK_FAILED" => {
            return Err(Error::Refused(format!(
                "stack `{stack}` is {} after a failed first deployment and cannot be updated; delete it (`aws cloudformation delete-stack --stack-name {stack}`) and apply again",
                s.status
            )));
        }
        Some(s) if s.status.ends_with("_IN_PROGRESS") => {
            return Err(Error::Refused(format!(
                "stack `{stack}` is busy ({}); wait until CloudFormation has finished, then apply again",
                s.status
            )));
        }
        Some(_) => ChangeSetKind::Update,
    })
}

/// The change set for unit `u`: named after its artifact's hash, described with the template
/// version it was built from, tagged for tracing.
fn change_set_request(u: &VerifiedUnit, kind: ChangeSetKind) -> ChangeSetRequest {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    ChangeSetRequest {
        stack: u.stack.clone(),
        name: format!("proctor-{}-{millis}", &u.sha256[..12.min(u.sha256.len())]),
        kind,
        template_body: u.text.clone(),
        description: format!(
            "proctor {}: {} {} {}",
            env!("CARGO_PKG_VERSION"),
            u.template,
            u.template_version,
            &u.sha256[..12.min(u.sha256.len())]
        ),
        tags: tags(u),
    }
}

/// The tags of an update: proctor's, and the stack's own that proctor does not set. A change
/// set's tags replace the stack's, so without this an adopted Proton stack would lose the
/// `proton:` tags its owners may bill and search by. `aws:` tags are CloudFormation's to keep.
fn kept_tags(
    existing: &[(String, String)],
    proctor: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = existing
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !proctor.iter().any(|(p, _)| p == k))
        .cloned()
        .collect();
    out.extend(proctor);
    out
}

/// Follows the stack until CloudFormation is done with it, printing each new event; returns
/// the stack as it ended and the failures that carry a reason.
fn watch(
    api: &dyn Api,
    stack: &str,
    mut seen: HashSet<String>,
    poll: std::time::Duration,
    out: &mut dyn Write,
) -> Result<(Stack, Vec<Event>), Error> {
    let mut failures: Vec<Event> = Vec::new();
    let last = loop {
        let s = api.describe_stack(stack)?;
        let events = api.stack_events(stack)?;
        for e in events
            .into_iter()
            .rev()
            .filter(|e| !seen.contains(&e.id))
            .collect::<Vec<_>>()
        {
            seen.insert(e.id.clone());
            let _ = writeln!(
                out,
                "  {}  {:<28} {} ({}){}",
                e.time,
                e.status,
                e.logical_id,
                e.resource_type,
                e.reason
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
            if e.status.ends_with("_FAILED") && e.reason.as_deref().is_some_and(|r| !r.is_empty()) {
                failures.push(e);
            }
        }
        match s {
            Some(s) if s.status.ends_with("_IN_PROGRESS") => std::thread::sleep(poll),
            Some(s) => break s,
            None => {
                break Stack {
                    status: "DELETE_COMPLETE".to_string(),
                    ..Stack::default()
                };
            }
        }
    };
    Ok((last, failures))
}

/// Records a deployed stack's outputs and says how it ended; a failed one with its first
/// failures.
fn finished(
    state_file: &Path,
    u: &VerifiedUnit,
    last: Stack,
    failures: &[Event],
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let stack = u.stack.as_str();
    if matches!(
        last.status.as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
    ) {
        record(state_file, u, &last)?;
        let outputs = if last.outputs.is_empty() {
            String::new()
        } else {
            format!(
                "; outputs {} recorded",
                last.outputs
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(out, "  {}: {}{outputs}", stack, last.status);
        return Ok(Outcome::Deployed {
            status: last.status,
        });
    }
    let _ = writeln!(out, "  {stack}: {} (failed)", last.status);
    if let Some(r) = last.reason.as_deref().filter(|r| !r.is_empty()) {
        let _ = writeln!(out, "  reason: {r}");
    }
    // The first failure is the cause; the rest are usually cancellations it set off.
    for e in failures {
        let _ = writeln!(
            out,
            "  failed: {} ({}): {}",
            e.logical_id,
            e.resource_type,
            e.reason.as_deref().unwrap_or_default()
        );
    }
    Ok(Outcome::Failed {
        status: last.status,
    })
}
/// The tags every stack gets: what it was built from, so that a stack in the console can be
/// traced back to a template version and a deployment.
fn tags(u: &VerifiedUnit) -> Vec<(String, String)> {
    let mut deployment = format!("{}/{}", u.kind, u.name);
    if let Some(s) = &u.service {
        deployment = format!("{}/{s}/{}", u.kind, u.name);
    }
    let mut t = vec![
        ("proctor:template".to_string(), u.template.clone()),
        (
            "proctor:template-version".to_string(),
            u.template_version.clone(),
        ),
        ("proctor:deployment".to_string(), deployment),
    ];
    if let Some(e) = &u.environment {
        t.push(("proctor:environment".to_string(), e.clone()));
    }
    t
}

fn record(state_file: &Path, u: &VerifiedUnit, s: &Stack) -> Result<(), Error> {
    state::record(
        state_file,
        &u.stack,
        StackRecord {
            kind: u.kind.clone(),
            name: u.name.clone(),
            service: u.service.clone(),
            stack_id: s.id.clone(),
            status: s.status.clone(),
            template: u.template.clone(),
            template_version: u.template_version.clone(),
            artifact_sha256: u.sha256.clone(),
            outputs: s.outputs.iter().cloned().collect(),
        },
    )
    .map_err(|e| {
        Error::Refused(format!(
            "the stack `{}` is {}, but recording it failed: {e}",
            u.stack, s.status
        ))
    })
}

/// The change set as a table: action, logical id, type, replacement.
pub fn change_table(changes: &[Change]) -> String {
    let head = ["Action", "Logical ID", "Type", "Replacement"];
    let rows: Vec<[String; 4]> = changes
        .iter()
        .map(|c| {
            [
                c.action.clone(),
                c.logical_id.clone(),
                c.resource_type.clone(),
                c.replacement.clone().unwrap_or_else(|| "-".to_string()),
            ]
        })
        .collect();
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| -> String {
        let mut s = String::from("  ");
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if i < 3 {
                s.push_str(&format!("{c:<w$}  "));
            } else {
                s.push_str(c);
            }
        }
        format!("{}\n", s.trim_end())
    };
    let mut out = line(head);
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3]]));
    }
    out
}

#[cfg(test)]
mod tests {
    //! The apply steps against a scripted [`Api`] (the SDK boundary): the answers a real
    //! CloudFormation gives in cases the end-to-end tests do not reach.
    use super::*;
    use std::cell::RefCell;

    #[derive(Default)]
    struct Script {
        stack: Option<Stack>,
        change_set: ChangeSet,
        fail_execute: Option<ApiError>,
        calls: RefCell<Vec<String>>,
    }

    impl Api for Script {
        fn describe_stack(&self, _: &str) -> Result<Option<Stack>, ApiError> {
            self.calls.borrow_mut().push("describe_stack".into());
            Ok(self.stack.clone())
        }
        fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, ApiError> {
            self.calls
                .borrow_mut()
                .push(format!("create_change_set {:?}", req.kind));
            Ok("cs-1".into())
        }
        fn describe_change_set(&self, _: &str, _: &str) -> Result<ChangeSet, ApiError> {
            Ok(self.change_set.clone())
        }
        fn execute_change_set(&self, _: &str, _: &str) -> Result<(), ApiError> {
            self.calls.borrow_mut().push("execute".into());
            match &self.fail_execute {
                Some(e) => Err(e.clone()),
                None => Ok(()),
            }
        }
        fn delete_change_set(&self, _: &str, _: &str) -> Result<(), ApiError> {
            self.calls.borrow_mut().push("delete_change_set".into());
            Ok(())
        }
        fn delete_stack(&self, _: &str) -> Result<(), ApiError> {
            self.calls.borrow_mut().push("delete_stack".into());
            Ok(())
        }
        fn stack_events(&self, _: &str) -> Result<Vec<Event>, ApiError> {
            Ok(Vec::new())
        }
        fn list_stacks(&self) -> Result<Vec<crate::adopt::LiveStack>, ApiError> {
            Ok(Vec::new())
        }
        fn get_template(&self, _: &str) -> Result<String, ApiError> {
            Ok(String::new())
        }
    }

    fn unit(name: &str, kind: &str, service: Option<&str>) -> VerifiedUnit {
        VerifiedUnit {
            kind: kind.into(),
            name: name.into(),
            service: service.map(str::to_string),
            environment: None,
            stack: state::stack_name(kind, name, service),
            template: "queue-env".into(),
            template_version: "1".into(),
            artifact: PathBuf::from("build/environments/dev.yaml"),
            sha256: "ab".repeat(32),
            text: "Resources: {}\n".into(),
        }
    }

    fn verified(dir: &Path, units: Vec<VerifiedUnit>) -> Verified {
        Verified {
            units,
            state: dir.join(".proctor/state.json"),
            waiting: vec![(
                "service_instance `api-dev`".into(),
                "apply environment `dev` first".into(),
            )],
        }
    }

    fn ready() -> ChangeSet {
        ChangeSet {
            status: "CREATE_COMPLETE".into(),
            reason: None,
            changes: vec![Change {
                action: "Add".into(),
                logical_id: "Bucket".into(),
                resource_type: "AWS::S3::Bucket".into(),
                replacement: None,
            }],
        }
    }

    fn run(
        api: &Script,
        v: &Verified,
        yes: bool,
        answer: Option<bool>,
    ) -> (Result<Vec<(String, Outcome)>, Error>, String) {
        let mut ask = |_: &str| answer.unwrap_or(false);
        let mut opts = Options {
            dry_run: false,
            yes,
            unit: None,
            poll: Duration::ZERO,
            confirm: if answer.is_some() {
                Some(&mut ask)
            } else {
                None
            },
        };
        let mut out = Vec::new();
        let r = apply(v, api, &mut opts, &mut out);
        (r, String::from_utf8(out).unwrap())
    }

    #[test]
    fn an_update_keeps_the_stacks_own_tags_and_sets_proctors() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        let existing = vec![
            pair("CostCenter", "42"),
            pair(
                "proton:environment",
                "arn:aws:proton:us-east-1:1:environment/dev",
            ),
            pair("aws:cloudformation:stack-name", "x"),
            pair("proctor:template", "old"),
        ];
        let kept = kept_tags(&existing, vec![pair("proctor:template", "queue-env")]);
        assert_eq!(
            kept,
            [
                pair("CostCenter", "42"),
                pair(
                    "proton:environment",
                    "arn:aws:proton:us-east-1:1:environment/dev"
                ),
                pair("proctor:template", "queue-env"),
            ]
        );
    }

    #[test]
    fn declining_removes_the_change_set_and_the_empty_new_stack() {
        let dir = tempfile::tempdir().unwrap();
        let v = verified(dir.path(), vec![unit("dev", "environment", None)]);
        let api = Script {
            change_set: ready(),
            ..Script::default()
        };
        let (r, out) = run(&api, &v, false, Some(false));
        assert_eq!(r.unwrap()[0].1, Outcome::Declined);
        assert!(out.contains("not executed"), "{out}");
        assert_eq!(
            *api.calls.borrow(),
            [
                "describe_stack",
                "create_change_set Create",
                "delete_change_set",
                "delete_stack"
            ]
        );
        assert!(!v.state.exists());
    }

    #[test]
    fn stacks_that_cannot_be_updated_are_refused_before_a_change_set() {
        let dir = tempfile::tempdir().unwrap();
        let v = verified(dir.path(), vec![unit("dev", "environment", None)]);
        for (status, says) in [
            ("ROLLBACK_COMPLETE", "delete it"),
            ("UPDATE_IN_PROGRESS", "is busy"),
        ] {
            let api = Script {
                stack: Some(Stack {
                    status: status.into(),
                    ..Stack::default()
                }),
                ..Script::default()
            };
            let (r, _) = run(&api, &v, true, None);
            let e = r.unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
            assert_eq!(*api.calls.borrow(), ["describe_stack"]);
        }
        // A stack left in review by an earlier change set is created, not updated.
        let api = Script {
            stack: Some(Stack {
                status: "REVIEW_IN_PROGRESS".into(),
                ..Stack::default()
            }),
            change_set: ChangeSet {
                status: "FAILED".into(),
                reason: Some(
                    "Template format error: At least one Resources member must be defined.".into(),
                ),
                changes: Vec::new(),
            },
            ..Script::default()
        };
        let (r, out) = run(&api, &v, true, None);
        assert!(matches!(r.unwrap()[0].1, Outcome::Failed { .. }));
        assert!(
            out.contains("CloudFormation refused the change set: Template format error"),
            "{out}"
        );
        assert!(
            api.calls
                .borrow()
                .contains(&"create_change_set Create".to_string())
        );
        assert!(api.calls.borrow().contains(&"delete_stack".to_string()));
    }

    #[test]
    fn an_error_while_executing_records_nothing_and_releases_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let v = verified(dir.path(), vec![unit("dev", "environment", None)]);
        let api = Script {
            change_set: ready(),
            fail_execute: Some(ApiError::Throttled("Throttling: Rate exceeded".into())),
            ..Script::default()
        };
        let (r, _) = run(&api, &v, true, None);
        assert!(r.unwrap_err().to_string().contains("throttled"));
        assert!(!v.state.exists());
        assert!(!lock_path(&v.state, "proctor-env-dev").exists());
    }

    #[test]
    fn units_are_selected_by_name_service_and_instance_or_stack() {
        let dir = tempfile::tempdir().unwrap();
        let v = verified(
            dir.path(),
            vec![
                unit("dev", "environment", None),
                unit("dev", "service_instance", Some("api")),
            ],
        );
        let e = select(&v, Some("dev")).unwrap_err().to_string();
        assert!(
            e.contains("names 2 units") && e.contains("proctor-svc-api-dev"),
            "{e}"
        );
        assert_eq!(
            select(&v, Some("api/dev")).unwrap()[0].kind,
            "service_instance"
        );
        assert_eq!(
            select(&v, Some("proctor-env-dev")).unwrap()[0].kind,
            "environment"
        );
        let e = select(&v, Some("api-dev")).unwrap_err().to_string();
        assert!(e.contains("waits (apply environment `dev` first)"), "{e}");
        let e = select(&v, Some("nope")).unwrap_err().to_string();
        assert!(e.contains("it has: dev, api/dev"), "{e}");
        let empty = verified(dir.path(), Vec::new());
        let e = select(&empty, None).unwrap_err().to_string();
        assert!(
            e.contains("no units to apply (service_instance `api-dev` waits: apply environment `dev` first)"),
            "{e}"
        );
    }

    #[test]
    fn the_interrupt_message_depends_on_what_was_in_flight() {
        let mut f = InFlight {
            stack: "proctor-env-dev".into(),
            executing: false,
            lock: PathBuf::new(),
        };
        assert!(interrupted_message(Some(&f)).contains("before anything was executed"));
        f.executing = true;
        assert!(interrupted_message(Some(&f)).contains("CloudFormation goes on"));
    }
}
