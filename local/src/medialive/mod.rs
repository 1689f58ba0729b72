//! AWS Elemental MediaLive (REST-JSON, `/prod/...`): input security groups, inputs of every type
//! (RTMP push listened on, pull inputs read by ffmpeg, the rest described as sent), quotas,
//! channels with time-driven states (dry runs of their creates and updates: [`dry_run`]; engine
//! versions: [`versions`]), and tags. Paths, member names, status codes and error types follow
//! the service model the AWS SDKs are generated from.

mod alerts;
mod channel_class;
mod channels;
mod dry_run;
mod gate;
pub mod iam;
mod input_kinds;
mod inputs;
mod job;
mod pull;
pub mod quotas;
mod redundancy;
mod rules;
mod security_groups;
mod srt;
pub mod versions;

use std::{
    collections::BTreeMap,
    pin::Pin,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{extract::Request, http::StatusCode, response::Response};
use serde_json::{Value, json};

pub use channels::ChannelState;

use crate::{
    chain::{self, Handled, RestJson},
    config::Config,
    destinations::{PackageV1, PackageV2, SecretsRead},
    iam::naming::RestJsonIam,
    media::Media,
    model::{ModelSpec, Violation},
    protocol::{ApiError, ApiRequest, ApiResult, Dialect, empty_response, json_response, parse_body},
    services::{Answer, Service, Shared},
};

/// The AWS model its requests are checked against (botocore's folder and API version).
pub const MODEL: ModelSpec = ModelSpec {
    service: "medialive",
    version: "2017-10-14",
    strict: false,
    amendments: &[],
};

/// MediaLive's errors are plain REST-JSON, but a model refusal lists every value out of bounds
/// in `validationErrors`.
pub const DIALECT: Dialect = Dialect {
    shape: std::convert::identity,
    refusal: model_refusal,
};

fn model_refusal(violations: &[Violation]) -> Option<ApiError> {
    let mut error = ApiError::from_violations(violations)?;
    if error.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY {
        error.validation_errors = violations.iter().map(|v| (v.path.clone(), v.message.clone())).collect();
    }
    Some(error)
}

pub type Tags = BTreeMap<String, String>;

/// How long a DELETED channel or input still answers Describe before it is gone (NotFound).
const DELETED_RETENTION: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct MediaLive {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    state: Mutex<State>,
    media: Media,
    packages: Arc<dyn PackageV1>,
    /// MediaPackage v2, for output groups that name a channel group and channel.
    packages_v2: Arc<dyn PackageV2>,
    /// Secrets Manager, for SRT inputs' passphrases.
    secrets: Arc<dyn SecretsRead>,
    /// Running channels' SRT readers, by channel id.
    srt: Mutex<std::collections::HashMap<String, Arc<crate::media::srt::SrtStatus>>>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    groups: BTreeMap<String, security_groups::SecurityGroup>,
    inputs: BTreeMap<String, inputs::Input>,
    channels: BTreeMap<String, channels::Channel>,
    /// CreateInput / CreateChannel `requestId` → the id created for it: a retried create returns
    /// the first resource instead of making a second one, as MediaLive does.
    requests: std::collections::HashMap<String, String>,
}

impl State {
    /// MediaLive ids are numeric strings.
    fn new_id(&mut self) -> String {
        if self.next_id == 0 {
            self.next_id = rand::random_range(1_000_000..8_000_000);
        }
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Applies due transitions and forgets resources deleted long enough ago.
    fn advance(&mut self) {
        let now = Instant::now();
        self.channels.retain(|_, c| !c.gone(now));
        self.inputs.retain(|_, i| !i.gone(now));
    }

    /// The channel (not deleted) that has `input_id` attached.
    fn attached_channel(&self, input_id: &str) -> Option<&channels::Channel> {
        self.channels
            .values()
            .find(|c| c.state() != ChannelState::Deleted && c.input_ids().iter().any(|i| i == input_id))
    }
}

impl MediaLive {
    pub fn new(
        config: Config,
        media: Media,
        packages: Arc<dyn PackageV1>,
        packages_v2: Arc<dyn PackageV2>,
        secrets: Arc<dyn SecretsRead>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::default()),
                media,
                packages,
                packages_v2,
                secrets,
                srt: Mutex::default(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.inner.state.lock().unwrap();
        state.advance();
        self.refresh_alerts(&mut state);
        state
    }

    /// Keeps every running channel's alerts current, once a second, whether or not anyone asks
    /// (so SetTimestamp is when it happened, not when it was listed).
    pub fn spawn_alert_watch(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                drop(this.state());
            }
        });
    }

    /// Forgets every resource (admin reset); media processes and listeners are closed.
    pub fn reset(&self) {
        let state = std::mem::take(&mut *self.inner.state.lock().unwrap());
        for id in state.channels.keys() {
            self.inner.media.stop_channel(id);
        }
        for id in state.inputs.keys() {
            self.inner.media.close_input(id);
        }
    }

    /// Runs `operation` (one of [`OPERATIONS`]; any other is not found).
    pub async fn handle(&self, operation: &str, req: ApiRequest) -> ApiResult<Response> {
        match operation {
            "CreateInputSecurityGroup" => self.create_security_group(&req),
            "ListInputSecurityGroups" => self.list_security_groups(&req),
            "DescribeInputSecurityGroup" => self.describe_security_group(&req.segments[2]),
            "UpdateInputSecurityGroup" => self.update_security_group(&req),
            "DeleteInputSecurityGroup" => self.delete_security_group(&req.segments[2]),
            "CreateInput" => self.create_input(&req).await,
            "ListInputs" => self.list_inputs(&req),
            "DescribeInput" => self.describe_input(&req.segments[2]),
            "UpdateInput" => self.update_input(&req).await,
            "DeleteInput" => self.delete_input(&req.segments[2]),
            "CreateChannel" => self.create_channel(&req),
            "ListChannels" => self.list_channels(&req),
            "DescribeChannel" => self.describe_channel(&req.segments[2]),
            "UpdateChannel" => self.update_channel(&req),
            "UpdateChannelClass" => self.update_channel_class(&req),
            "DeleteChannel" => self.delete_channel(&req.segments[2]),
            "StartChannel" => self.start_channel(&req.segments[2]),
            "StopChannel" => self.stop_channel(&req.segments[2]),
            "ListAlerts" => self.list_alerts(&req),
            "DescribeThumbnails" => self.describe_thumbnails(&req),
            "ListVersions" => Ok(self.list_versions()),
            "ListTagsForResource" => self.list_tags(&req.segments[2]),
            "CreateTags" => self.create_tags(&req),
            "DeleteTags" => self.delete_tags(&req),
            _ => Err(ApiError::not_found(format!(
                "no MediaLive operation at {} /{}",
                req.method,
                req.segments.join("/")
            ))),
        }
    }

    /// ListVersions: the engine versions not expired yet, as configured (see [`versions`]).
    fn list_versions(&self) -> Response {
        let versions = self
            .inner
            .config
            .medialive_engine_versions
            .available(jiff::Timestamp::now());
        let versions: Vec<Value> = versions.iter().map(|v| v.to_json()).collect();
        json_response(StatusCode::OK, json!({ "versions": versions }))
    }

    fn list_tags(&self, arn: &str) -> ApiResult<Response> {
        let mut state = self.state();
        let tags = tags_of(&mut state, arn)?;
        Ok(json_response(StatusCode::OK, json!({ "tags": tags })))
    }

    fn create_tags(&self, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        let new: Tags =
            serde_json::from_value(body["tags"].clone()).map_err(|e| ApiError::bad_request(format!("tags: {e}")))?;
        let mut state = self.state();
        tags_of(&mut state, &req.segments[2])?.extend(new);
        Ok(empty_response(StatusCode::NO_CONTENT))
    }

    fn delete_tags(&self, req: &ApiRequest) -> ApiResult<Response> {
        let keys = req.query.get("tagKeys").cloned().unwrap_or_default();
        let mut state = self.state();
        let tags = tags_of(&mut state, &req.segments[2])?;
        for key in keys {
            tags.remove(&key);
        }
        Ok(empty_response(StatusCode::NO_CONTENT))
    }
}

fn tags_of<'a>(state: &'a mut State, arn: &str) -> ApiResult<&'a mut Tags> {
    if let Some(g) = state.groups.values_mut().find(|g| g.arn == arn) {
        return Ok(&mut g.tags);
    }
    if let Some(i) = state.inputs.values_mut().find(|i| i.arn == arn) {
        return Ok(&mut i.tags);
    }
    if let Some(c) = state.channels.values_mut().find(|c| c.arn == arn) {
        return Ok(&mut c.tags);
    }
    Err(ApiError::not_found(format!("Resource {arn} not found")))
}

/// The operations it serves, routed by the model's `requestUri`s (`/prod/channels/{channelId}/start` ...).
pub const OPERATIONS: &[&str] = &[
    "CreateInputSecurityGroup",
    "ListInputSecurityGroups",
    "DescribeInputSecurityGroup",
    "UpdateInputSecurityGroup",
    "DeleteInputSecurityGroup",
    "CreateInput",
    "ListInputs",
    "DescribeInput",
    "UpdateInput",
    "DeleteInput",
    "CreateChannel",
    "ListChannels",
    "DescribeChannel",
    "UpdateChannel",
    "UpdateChannelClass",
    "DeleteChannel",
    "StartChannel",
    "StopChannel",
    "ListAlerts",
    "DescribeThumbnails",
    "ListVersions",
    "ListTagsForResource",
    "CreateTags",
    "DeleteTags",
];

/// Reads an optional string-to-string `tags` member.
fn tags_member(body: &Value) -> ApiResult<Tags> {
    match &body["tags"] {
        Value::Null => Ok(Tags::new()),
        tags => serde_json::from_value(tags.clone()).map_err(|e| ApiError::bad_request(format!("tags: {e}"))),
    }
}

/// MediaLive: REST-JSON, signed `medialive`.
impl Service for MediaLive {
    fn signing_name(&self) -> &'static str {
        "medialive"
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn call<'a>(&'a self, shared: &'a Shared, req: Request) -> Answer<'a> {
        Box::pin(chain::rest_json(shared, self, req))
    }
    fn reset(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        MediaLive::reset(self);
        Box::pin(std::future::ready(()))
    }
}

impl RestJson for MediaLive {
    fn dialect(&self) -> Dialect {
        DIALECT
    }

    fn handle(&self, operation: &'static str, req: ApiRequest) -> Handled<'_> {
        Box::pin(MediaLive::handle(self, operation, req))
    }

    fn iam(&self) -> RestJsonIam {
        iam::IAM
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::*;
    use crate::protocol::Routes;

    #[test]
    fn operations_are_routed_by_the_model() {
        let models =
            crate::model::Models::load(None, &[MODEL]).expect("botocore's models (hack/setup.sh installs them)");
        let routes = Routes::new(models.service("medialive").unwrap(), OPERATIONS);
        let op = |method: Method, path: &str| {
            routes
                .route(&ApiRequest::new(method, path, "", Default::default()))
                .map(|r| r.operation)
        };
        assert_eq!(op(Method::POST, "/prod/channels/42/start"), Some("StartChannel"));
        assert_eq!(op(Method::GET, "/prod/channels/42/start"), None);
        assert_eq!(op(Method::GET, "/prod/channels/42"), Some("DescribeChannel"));
        assert_eq!(op(Method::GET, "/prod/channels"), Some("ListChannels"));
        assert_eq!(op(Method::GET, "/prod/versions"), Some("ListVersions"));
        assert_eq!(
            op(Method::DELETE, "/prod/inputSecurityGroups/7"),
            Some("DeleteInputSecurityGroup")
        );
        assert_eq!(
            op(
                Method::POST,
                "/prod/tags/arn%3Aaws%3Amedialive%3Aus-east-1%3A1%3Achannel%3A7"
            ),
            Some("CreateTags")
        );
        assert_eq!(
            op(Method::GET, "/prod/multiplexes"),
            None,
            "served by the model, not by livestream-local"
        );
        assert_eq!(op(Method::GET, "/channels"), None);
    }
}
