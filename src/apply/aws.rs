//! [`Api`] on the AWS SDK for Rust: the standard credential chain and region, an optional
//! endpoint (`--endpoint-url`, or `AWS_ENDPOINT_URL` which the SDK reads itself), and the SDK's
//! standard retries (throttling included; `AWS_MAX_ATTEMPTS` changes how many). Each call runs
//! to completion on a single-threaded tokio runtime: apply makes one call at a time.

use aws_config::BehaviorVersion;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::config::{ProvideCredentials, Region};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Tag};

use super::{Api, ApiError, Change, ChangeSet, ChangeSetKind, ChangeSetRequest, Event, Stack};

pub struct Sdk {
    rt: tokio::runtime::Runtime,
    client: Client,
    endpoint: String,
}

impl Sdk {
    /// Loads the configuration and resolves credentials now, so that missing credentials are
    /// reported before anything else happens.
    pub fn connect(region: Option<String>, endpoint: Option<String>) -> Result<Sdk, ApiError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ApiError::Other(format!("cannot start the async runtime: {e}")))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(Region::new(r));
        }
        if let Some(e) = &endpoint {
            loader = loader.endpoint_url(e);
        }
        let conf = rt.block_on(loader.load());
        let Some(region) = conf.region().map(ToString::to_string) else {
            return Err(ApiError::NoRegion);
        };
        let provider = conf.credentials_provider().ok_or_else(|| {
            ApiError::NoCredentials("no credential provider is configured".to_string())
        })?;
        rt.block_on(provider.provide_credentials())
            .map_err(|e| ApiError::NoCredentials(chain(&e)))?;
        let endpoint = endpoint
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .unwrap_or_else(|| format!("CloudFormation in {region}"));
        Ok(Sdk {
            client: Client::new(&conf),
            rt,
            endpoint,
        })
    }

    fn error<E, R>(&self, e: SdkError<E, R>) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        match &e {
            SdkError::ServiceError(s) => {
                let code = s.err().code().unwrap_or_default();
                let message = s.err().message().unwrap_or_default().to_string();
                let text = if message.is_empty() {
                    chain(&e)
                } else {
                    format!("{code}: {message}")
                };
                match code {
                    "Throttling"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "TooManyRequestsException" => ApiError::Throttled(text),
                    "AccessDenied"
                    | "AccessDeniedException"
                    | "ExpiredToken"
                    | "ExpiredTokenException"
                    | "InvalidClientTokenId"
                    | "SignatureDoesNotMatch"
                    | "UnrecognizedClientException" => ApiError::Denied(text),
                    _ => ApiError::Other(format!("CloudFormation refused: {text}")),
                }
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
                ApiError::Unreachable(format!("{}: {}", self.endpoint, chain(&e)))
            }
            SdkError::ResponseError(_) => ApiError::Other(format!(
                "{} answered with something that is not a CloudFormation response: {}",
                self.endpoint,
                chain(&e)
            )),
            _ => ApiError::Other(chain(&e)),
        }
    }
}

/// An error and its causes, as `a: b: c`, leaving out levels that only repeat another.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !text.is_empty()
            && !parts
                .iter()
                .any(|p| p.contains(&text) || text.contains(p.as_str()))
        {
            parts.push(text);
        } else if let Some(last) = parts.last_mut()
            && text.len() > last.len()
            && text.contains(last.as_str())
        {
            *last = text;
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// A stack's status as CloudFormation names it.
fn status(s: &aws_sdk_cloudformation::types::Stack) -> String {
    s.stack_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

/// A stack's outputs, by key.
fn outputs(s: &aws_sdk_cloudformation::types::Stack) -> Vec<(String, String)> {
    s.outputs()
        .iter()
        .filter_map(|o| {
            Some((
                o.output_key()?.to_string(),
                o.output_value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// A stack's own tags.
fn tags(s: &aws_sdk_cloudformation::types::Stack) -> Vec<(String, String)> {
    s.tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn time(t: Option<&aws_sdk_cloudformation::primitives::DateTime>) -> String {
    let Some(t) = t else {
        return "--:--:--".to_string();
    };
    let secs = t.secs().rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

impl Api for Sdk {
    fn describe_stack(&self, stack: &str) -> Result<Option<Stack>, ApiError> {
        let r = self
            .rt
            .block_on(self.client.describe_stacks().stack_name(stack).send());
        let out = match r {
            Ok(o) => o,
            Err(SdkError::ServiceError(s))
                if s.err().code() == Some("ValidationError")
                    && s.err()
                        .message()
                        .is_some_and(|m| m.contains("does not exist")) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(self.error(e)),
        };
        Ok(out.stacks().first().map(|s| Stack {
            id: s.stack_id().unwrap_or_default().to_string(),
            status: status(s),
            reason: s.stack_status_reason().map(str::to_string),
            outputs: outputs(s),
            tags: tags(s),
        }))
    }

    fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, ApiError> {
        let mut call = self
            .client
            .create_change_set()
            .stack_name(&req.stack)
            .change_set_name(&req.name)
            .change_set_type(match req.kind {
                ChangeSetKind::Create => ChangeSetType::Create,
                ChangeSetKind::Update => ChangeSetType::Update,
            })
            .template_body(&req.template_body)
            .description(&req.description)
            // Proton deployed templates that create IAM roles and use macros.
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .capabilities(Capability::CapabilityAutoExpand);
        for (k, v) in &req.tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        let out = self.rt.block_on(call.send()).map_err(|e| self.error(e))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    fn describe_change_set(&self, stack: &str, id: &str) -> Result<ChangeSet, ApiError> {
        let mut cs = ChangeSet::default();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .rt
                .block_on(
                    self.client
                        .describe_change_set()
                        .stack_name(stack)
                        .change_set_name(id)
                        .set_next_token(token.take())
                        .send(),
                )
                .map_err(|e| self.error(e))?;
            cs.status = out
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            cs.reason = out.status_reason().map(str::to_string);
            cs.changes.extend(
                out.changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(|r| Change {
                        action: r
                            .action()
                            .map(|a| a.as_str().to_string())
                            .unwrap_or_default(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                        resource_type: r.resource_type().unwrap_or_default().to_string(),
                        replacement: r.replacement().map(|x| x.as_str().to_string()),
                    }),
            );
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(cs)
    }

    fn execute_change_set(&self, stack: &str, id: &str) -> Result<(), ApiError> {
        self.rt
            .block_on(
                self.client
                    .execute_change_set()
                    .stack_name(stack)
                    .change_set_name(id)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    fn delete_change_set(&self, stack: &str, id: &str) -> Result<(), ApiError> {
        self.rt
            .block_on(
                self.client
                    .delete_change_set()
                    .stack_name(stack)
                    .change_set_name(id)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    fn delete_stack(&self, stack: &str) -> Result<(), ApiError> {
        self.rt
            .block_on(self.client.delete_stack().stack_name(stack).send())
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    fn stack_events(&self, stack: &str) -> Result<Vec<Event>, ApiError> {
        let out = match self
            .rt
            .block_on(self.client.describe_stack_events().stack_name(stack).send())
        {
            Ok(o) => o,
            Err(SdkError::ServiceError(s))
                if s.err().code() == Some("ValidationError")
                    && s.err()
                        .message()
                        .is_some_and(|m| m.contains("does not exist")) =>
            {
                return Ok(Vec::new());
            }
            Err(e) => return Err(self.error(e)),
        };
        Ok(out
            .stack_events()
            .iter()
            .map(|e| Event {
                id: e.event_id().unwrap_or_default().to_string(),
                time: time(e.timestamp()),
                logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: e.resource_type().unwrap_or_default().to_string(),
                status: e
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_string),
            })
            .collect())
    }
    fn list_stacks(&self) -> Result<Vec<crate::adopt::LiveStack>, ApiError> {
        let mut stacks = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .rt
                .block_on(
                    self.client
                        .describe_stacks()
                        .set_next_token(token.take())
                        .send(),
                )
                .map_err(|e| self.error(e))?;
            for s in out.stacks() {
                stacks.push(crate::adopt::LiveStack {
                    name: s.stack_name().unwrap_or_default().to_string(),
                    id: s.stack_id().unwrap_or_default().to_string(),
                    status: status(s),
                    tags: tags(s),
                    outputs: outputs(s),
                });
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(stacks)
    }

    fn get_template(&self, stack: &str) -> Result<String, ApiError> {
        let out = self
            .rt
            .block_on(
                self.client
                    .get_template()
                    .stack_name(stack)
                    .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
                    .send(),
            )
            .map_err(|e| self.error(e))?;
        Ok(out.template_body().unwrap_or_default().to_string())
    }
}
