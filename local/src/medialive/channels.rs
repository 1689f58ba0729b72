//! Channels: CREATING → IDLE → STARTING → RUNNING → STOPPING → IDLE → DELETING → DELETED, moved by
//! time. Start only from IDLE, update and delete only when stopped, with the error types and status
//! codes the real service returns (a running channel cannot be deleted: ConflictException).

use std::time::{Duration, Instant};

use axum::{http::StatusCode, response::Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::versions::EngineVersion;
use super::{DELETED_RETENTION, MediaLive, State, Tags, tags_member};
use crate::{
    config::Delays,
    lifecycle::Lifecycle,
    protocol::{ApiError, ApiResult, parse_body},
    protocol::{ApiRequest, json_response, page_response},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChannelState {
    Creating,
    Idle,
    Starting,
    Running,
    Stopping,
    Updating,
    Deleting,
    Deleted,
}

impl ChannelState {
    fn name(self) -> Value {
        serde_json::to_value(self).expect("enum serializes")
    }
}

/// Members of CreateChannel / UpdateChannel that the channel keeps and describes back as sent.
const SETTINGS: &[&str] = &[
    "anywhereSettings",
    "cdiInputSpecification",
    "channelClass",
    "channelEngineVersion",
    "channelSecurityGroups",
    "destinations",
    "encoderSettings",
    "inferenceSettings",
    "inputAttachments",
    "inputSpecification",
    "linkedChannelSettings",
    "logLevel",
    "maintenance",
    "name",
    "roleArn",
    "vpc",
];

pub struct Channel {
    pub id: String,
    pub arn: String,
    pub settings: Map<String, Value>,
    pub tags: Tags,
    pub(super) lifecycle: Lifecycle<ChannelState>,
    pub alerts: super::alerts::Alerts,
    /// When the last StartChannel was accepted: what `$dt$`, `$d$` and `$t$` in S3 destinations
    /// resolve to.
    pub started_at: Option<jiff::Timestamp>,
    /// The engine version it runs, resolved from its `channelEngineVersion` when it was created or
    /// last updated (see [`super::versions`]).
    pub engine: Option<EngineVersion>,
}

impl Channel {
    pub fn state(&self) -> ChannelState {
        self.lifecycle.now()
    }

    pub fn gone(&self, now: Instant) -> bool {
        self.lifecycle.at(now) == ChannelState::Deleted
            && self
                .lifecycle
                .entered_at(now)
                .is_some_and(|t| now.duration_since(t) >= DELETED_RETENTION)
    }

    pub fn input_ids(&self) -> Vec<String> {
        input_ids(&self.settings)
    }

    /// When the channel entered its current state (after a timed transition).
    pub fn lifecycle_entered(&self, at: Instant) -> Option<Instant> {
        self.lifecycle.entered_at(at)
    }

    pub(super) fn to_json(&self) -> Value {
        self.describe(&self.settings, self.engine.as_ref())
    }

    /// The channel as it would be with `settings` and `engine` (a dry run describes an update
    /// that does not happen).
    pub(super) fn describe(&self, settings: &Map<String, Value>, engine: Option<&EngineVersion>) -> Value {
        let state = self.state();
        let mut value = Value::Object(settings.clone());
        let running = u8::from(state == ChannelState::Running) * super::redundancy::pipelines(settings);
        value["arn"] = json!(self.arn);
        value["id"] = json!(self.id);
        value["state"] = state.name();
        value["tags"] = json!(self.tags);
        value["pipelinesRunningCount"] = json!(running);
        value["egressEndpoints"] = json!([{ "sourceIp": "127.0.0.1" }]);
        value["pipelineDetails"] = (0..running).map(|p| json!({ "pipelineId": p.to_string() })).collect();
        let object = value.as_object_mut().unwrap();
        object.entry("channelClass").or_insert(json!("STANDARD"));
        // What was asked ({version}) is described as the version run, with its expiry.
        match engine {
            Some(engine) => object.insert("channelEngineVersion".into(), engine.to_json()),
            None => object.remove("channelEngineVersion"),
        };
        with_engine(&mut value, engine);
        value
    }
}

/// Each running pipeline's `channelEngineVersion` (the model's PipelineDetail: "current engine
/// version of the encoder for this pipeline"): the channel's, as it cannot change while running.
fn with_engine(value: &mut Value, engine: Option<&EngineVersion>) {
    let Some(engine) = engine else { return };
    for detail in value["pipelineDetails"].as_array_mut().into_iter().flatten() {
        detail["channelEngineVersion"] = engine.to_json();
    }
}

fn input_ids(settings: &Map<String, Value>) -> Vec<String> {
    settings
        .get("inputAttachments")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x["inputId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn settings_of(body: &Value) -> Map<String, Value> {
    super::input_kinds::members(body, SETTINGS)
}

impl MediaLive {
    /// What would make the channel unusable, as the service's 422 validation errors.
    pub(super) fn validate(
        &self,
        state: &mut State,
        settings: &Map<String, Value>,
        channel_id: Option<&str>,
        req: &ApiRequest,
    ) -> ApiResult<()> {
        let mut errors: Vec<(String, String)> = Vec::new();
        if let Err(message) = self.resolve_engine(settings) {
            errors.push(("channelEngineVersion.version".into(), message));
        }
        let inputs = input_ids(settings);
        // No public AWS answer found either way (kept: a channel here encodes its first input).
        if inputs.is_empty() {
            errors.push((
                "inputAttachments".into(),
                "at least one input attachment is required".into(),
            ));
        }
        for input in &inputs {
            match state.inputs.get_mut(input) {
                Some(i) if i.is_live() => {}
                _ => errors.push(("inputAttachments".into(), format!("input {input} does not exist"))),
            }
            // The model's Input.attachedChannels: "currently an input can only be attached to one
            // channel".
            if let Some(other) = state.attached_channel(input)
                && Some(other.id.as_str()) != channel_id
            {
                errors.push((
                    "inputAttachments".into(),
                    format!("input {input} is already attached to channel {}", other.id),
                ));
            }
        }
        let destinations = super::rules::destinations(settings);
        // A MediaPackage channel that does not exist (yet) fails the create (eventual consistency as
        // in https://github.com/aws/aws-cdk/issues/13835); AWS's wording is not known: ours.
        for (n, destination) in destinations.iter().enumerate() {
            for package in destination["mediaPackageSettings"].as_array().into_iter().flatten() {
                let missing = match (package["channelId"].as_str(), super::job::package_v2(package)) {
                    (Some(id), _) => (!self.inner.packages.channel_visible(id))
                        .then(|| format!("MediaPackage channel {id} does not exist")),
                    (None, Some((group, channel))) => (!self.inner.packages_v2.channel_exists(group, channel))
                        .then(|| format!("MediaPackage v2 channel {channel} does not exist in channel group {group}")),
                    (None, None) => Some(
                        "a MediaPackage destination names a channelId (v1), or a channelGroup and channelName (v2)"
                            .into(),
                    ),
                };
                if let Some(message) = missing {
                    errors.push((format!("destinations[{n}].mediaPackageSettings"), message));
                }
            }
        }
        if let Some(message) = super::rules::destination_kinds(&destinations) {
            return Err(ApiError::bad_request(message));
        }
        // No public AWS answer found for a channel without encoder settings (kept: nothing to run).
        match settings.get("encoderSettings") {
            None => errors.push(("encoderSettings".into(), "encoderSettings is required".into())),
            Some(encoder) => errors.extend(super::gate::encoder_errors(encoder)),
        }
        errors.extend(super::rules::channel_errors(settings, |id| {
            state.inputs.get(id).map(|i| i.input_class().to_owned())
        }));
        errors.extend(super::redundancy::channel_errors(settings, |id| {
            state.inputs.get(id).map(|i| super::redundancy::InputFacts {
                input_type: i.input_type.clone(),
                input_class: i.input_class().to_owned(),
            })
        }));
        if !errors.is_empty() {
            // MediaLive's message lists every error, `path message; path message`.
            let all: Vec<String> = errors
                .iter()
                .map(|(path, message)| format!("{path} {message}"))
                .collect();
            let mut error = ApiError::unprocessable(all.join("; "));
            error.validation_errors = errors;
            return Err(error);
        }
        // The caller must be allowed to hand the role to MediaLive (iam:PassRole).
        let role = settings.get("roleArn").and_then(Value::as_str);
        if let Some(role) = role
            && !req.may_pass_role(role, "medialive.amazonaws.com")
        {
            let operation = if channel_id.is_some() {
                "UpdateChannel"
            } else {
                "CreateChannel"
            };
            return Err(ApiError::unprocessable(format!(
                "Please check your IAM User permissions the following permissions are needed for this call \"medialive:{operation}\",\"iam:PassRole\""
            )));
        }
        Ok(())
    }

    /// The engine version `settings` ask for, resolved against the served versions now.
    pub(super) fn resolve_engine(&self, settings: &Map<String, Value>) -> Result<Option<EngineVersion>, String> {
        let versions = &self.inner.config.medialive_engine_versions;
        versions.resolve(settings.get("channelEngineVersion"), jiff::Timestamp::now())
    }

    pub(super) fn create_channel(&self, req: &ApiRequest) -> ApiResult<Response> {
        let body: Value = parse_body(&req.body)?;
        let settings = settings_of(&body);
        let tags = tags_member(&body)?;
        let dry_run = super::dry_run::asked(&body);
        // A dry run neither answers for nor remembers a request id (see `dry_run`).
        let request = (body["requestId"].as_str().map(str::to_owned)).filter(|_| !dry_run);
        let mut state = self.state();
        if let Some(existing) = request.as_ref().and_then(|r| state.requests.get(r))
            && let Some(channel) = state.channels.get(existing)
            // A deleted resource no longer answers for its request id; a new one may be created.
            && !matches!(channel.state(), ChannelState::Deleting | ChannelState::Deleted)
        {
            return Ok(json_response(
                StatusCode::CREATED,
                json!({ "channel": channel.to_json() }),
            ));
        }
        self.validate(&mut state, &settings, None, req)?;
        let quota = self.inner.config.medialive_quotas.channels;
        let channels = (state.channels.values())
            .filter(|c| c.state() != ChannelState::Deleted)
            .count();
        if channels >= quota {
            return Err(super::quotas::exceeded("channels", quota));
        }
        let engine = self.resolve_engine(&settings).ok().flatten();
        let new = |id: String| Channel {
            arn: self.inner.config.arn("medialive", "channel", &id),
            id,
            settings,
            tags,
            lifecycle: Lifecycle::transition(
                ChannelState::Creating,
                ChannelState::Idle,
                self.delay(|d| d.channel_create_ms),
            ),
            alerts: Default::default(),
            started_at: None,
            engine,
        };
        if dry_run {
            return Ok(super::dry_run::created(&new(String::new())));
        }
        let id = state.new_id();
        let channel = new(id.clone());
        let value = channel.to_json();
        if let Some(request) = request {
            state.requests.insert(request, id.clone());
        }
        state.channels.insert(id, channel);
        Ok(json_response(StatusCode::CREATED, json!({ "channel": value })))
    }

    pub(super) fn list_channels(&self, req: &ApiRequest) -> ApiResult<Response> {
        let (max, token) = req.page()?;
        let state = self.state();
        let all = state
            .channels
            .iter()
            .filter_map(|(id, c)| {
                let mut summary = c.to_json();
                (c.state() != ChannelState::Deleted).then(|| {
                    self.pipeline_details(c, &state.inputs, &mut summary);
                    // Summaries leave out the (large) encoder settings, as the service does.
                    summary.as_object_mut().unwrap().remove("encoderSettings");
                    // The model's ChannelSummary: "the engine version that the running pipelines
                    // are using".
                    if let (ChannelState::Running, Some(engine)) = (c.state(), &c.engine) {
                        summary["usedChannelEngineVersions"] = json!([engine.to_json()]);
                    }
                    (id.clone(), summary)
                })
            })
            .collect();
        Ok(page_response("channels", all, max, token.as_deref()))
    }

    pub(super) fn describe_channel(&self, id: &str) -> ApiResult<Response> {
        let state = self.state();
        let channel = state.channels.get(id).ok_or_else(|| not_found(id))?;
        let mut value = channel.to_json();
        self.pipeline_details(channel, &state.inputs, &mut value);
        Ok(json_response(StatusCode::OK, value))
    }

    /// A running RTMP push channel's pipelines as the media path runs them: the attachment each
    /// pipeline ingests now, and how many are healthy (the model's `pipelinesRunningCount`: "the
    /// number of currently healthy pipelines"; here a pipeline whose active input sends media).
    fn pipeline_details(
        &self,
        channel: &Channel,
        inputs: &std::collections::BTreeMap<String, super::inputs::Input>,
        value: &mut Value,
    ) {
        if channel.state() != ChannelState::Running {
            return;
        }
        let (redundancy, input_ids) = super::redundancy::redundancy(&channel.settings);
        let rtmp = (input_ids.first().and_then(|i| inputs.get(i))).is_some_and(|i| i.input_type == "RTMP_PUSH");
        if !rtmp {
            return;
        }
        let views = self.inner.media.pipelines(&channel.id);
        let mut healthy = 0;
        let details: Vec<Value> = (0..redundancy.pipelines)
            .map(|p| {
                let mut detail = json!({ "pipelineId": p.to_string() });
                let view = views.iter().find(|v| v.pipeline == p);
                if let Some(active) = view.and_then(|v| v.active) {
                    detail["activeInputAttachmentName"] = json!(redundancy.sources[active]);
                    let ingest = view.and_then(|v| v.sources.get(active).copied().flatten());
                    healthy += u8::from(ingest.is_some_and(|i| i.silent_for() < super::alerts::MEDIA_GAP));
                }
                detail
            })
            .collect();
        value["pipelineDetails"] = json!(details);
        value["pipelinesRunningCount"] = json!(healthy);
        with_engine(value, channel.engine.as_ref());
    }

    pub(super) fn update_channel(&self, req: &ApiRequest) -> ApiResult<Response> {
        let id = req.segments[2].clone();
        let body: Value = parse_body(&req.body)?;
        let change = |settings: &mut Map<String, Value>| settings.extend(settings_of(&body));
        if super::dry_run::asked(&body) {
            return self.dry_run_update(req, &id, change);
        }
        // A running channel is not updated: Terraform's provider stops it first for that reason
        // (hashicorp/terraform-provider-aws, `aws_medialive_channel` update).
        self.update_idle(req, &id, "updated", change)
    }

    /// Changes an IDLE channel's settings with `change`: validated as a whole, then UPDATING and
    /// IDLE again (UpdateChannel, UpdateChannelClass). Any other state is a ConflictException
    /// saying the channel can only be `what` while IDLE.
    pub(super) fn update_idle(
        &self,
        req: &ApiRequest,
        id: &str,
        what: &str,
        change: impl FnOnce(&mut Map<String, Value>),
    ) -> ApiResult<Response> {
        let mut state = self.state();
        let channel = state.channels.get_mut(id).ok_or_else(|| not_found(id))?;
        let current = channel.state();
        if current != ChannelState::Idle {
            return Err(not_idle(id, current, what));
        }
        let mut settings = channel.settings.clone();
        change(&mut settings);
        self.validate(&mut state, &settings, Some(id), req)?;
        let delay = self.delay(|d| d.channel_update_ms);
        let engine = self.resolve_engine(&settings).ok().flatten();
        let channel = state.channels.get_mut(id).expect("checked");
        channel.settings = settings;
        channel.engine = engine;
        channel
            .lifecycle
            .begin(ChannelState::Updating, ChannelState::Idle, delay);
        Ok(json_response(StatusCode::OK, json!({ "channel": channel.to_json() })))
    }

    pub(super) fn delete_channel(&self, id: &str) -> ApiResult<Response> {
        let delay = self.delay(|d| d.channel_delete_ms);
        let mut state = self.state();
        let channel = state.channels.get_mut(id).ok_or_else(|| not_found(id))?;
        match channel.state() {
            ChannelState::Idle => {}
            // AWS's words, quoted by users deleting a running channel (see the user guide's
            // teardown order: stop, then delete).
            ChannelState::Starting | ChannelState::Running | ChannelState::Stopping => {
                return Err(ApiError::conflict(
                    "Cannot delete a channel that has not been stopped yet. Please stop the channel before deleting it.",
                ));
            }
            other => {
                return Err(ApiError::conflict(format!(
                    "Channel {id} is {} and cannot be deleted now",
                    other.name().as_str().unwrap_or_default()
                )));
            }
        }
        channel
            .lifecycle
            .begin(ChannelState::Deleting, ChannelState::Deleted, delay);
        Ok(json_response(StatusCode::OK, channel.to_json()))
    }

    pub(super) fn start_channel(&self, id: &str) -> ApiResult<Response> {
        let delay = self.delay(|d| d.channel_start_ms);
        let mut state = self.state();
        let channel = state.channels.get_mut(id).ok_or_else(|| not_found(id))?;
        match channel.state() {
            ChannelState::Idle => {}
            // A channel still being created cannot start (400, seen by users starting right after
            // CreateChannel); from other states the wording and type are ours (no public answer).
            ChannelState::Creating => {
                return Err(ApiError::bad_request(format!(
                    "Channel {id} is still being created; start it once it is IDLE"
                )));
            }
            other => {
                return Err(ApiError::conflict(format!(
                    "Channel {id} is {} and can only be started from IDLE",
                    other.name().as_str().unwrap_or_default()
                )));
            }
        }
        channel
            .lifecycle
            .begin(ChannelState::Starting, ChannelState::Running, delay);
        channel.started_at = Some(jiff::Timestamp::now());
        Ok(json_response(StatusCode::OK, channel.to_json()))
    }

    pub(super) fn stop_channel(&self, id: &str) -> ApiResult<Response> {
        let delay = self.delay(|d| d.channel_stop_ms);
        let mut state = self.state();
        let channel = state.channels.get_mut(id).ok_or_else(|| not_found(id))?;
        match channel.state() {
            ChannelState::Starting | ChannelState::Running => {}
            other => {
                return Err(ApiError::conflict(format!(
                    "Channel {id} is {} and can only be stopped while STARTING or RUNNING",
                    other.name().as_str().unwrap_or_default()
                )));
            }
        }
        channel
            .lifecycle
            .begin(ChannelState::Stopping, ChannelState::Idle, delay);
        let value = channel.to_json();
        drop(state);
        self.inner.media.stop_channel(id);
        Ok(json_response(StatusCode::OK, value))
    }

    pub(super) fn delay(&self, pick: impl Fn(&crate::config::Delays) -> u64) -> Duration {
        Delays::of(pick(&self.inner.config.delays))
    }
}

/// UpdateChannel / UpdateChannelClass on a channel that is not IDLE.
pub(super) fn not_idle(id: &str, current: ChannelState, what: &str) -> ApiError {
    ApiError::conflict(format!(
        "Channel {id} is {}; it can only be {what} while IDLE (stop it first)",
        current.name().as_str().unwrap_or_default()
    ))
}

pub(super) fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Channel {id} not found"))
}
