//! The MediaLive channel: its request as a document (the ladder, the overrides), validated by a
//! dry run before every create and update, read back as the document AWS describes for drift;
//! started and stopped from spec.running.

use aws_sdk_medialive::{
    operation::{create_channel::CreateChannelError, update_channel::UpdateChannelError},
    types::{ChannelClass, ChannelState, ChannelSummary},
};
use serde_json::{Value, json};

use super::channel_wire::{Answer, body, refusal, validation_errors};
use super::{AwsClients, Kind, Listed, Managed, Owner, PAGE, Teardown, owner_of};
use crate::{
    desired::{
        medialive::ChannelSettings,
        overlay::{drift, from_wire, request_to_wire, to_wire, wire_name},
    },
    error::{Error, Result, found},
};

/// The request members a channel's answer describes back, in the request's names.
const DESCRIBED: [&str; 9] = [
    "Name",
    "ChannelClass",
    "InputSpecification",
    "InputAttachments",
    "Destinations",
    "EncoderSettings",
    "RoleArn",
    "ChannelEngineVersion",
    "LogLevel",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Channel {
    pub id: String,
    pub arn: Option<String>,
    pub owner: Option<String>,
    pub state: ChannelState,
    /// The request's members as AWS describes them (`DESCRIBED`); `None` in a List summary, which
    /// lacks the encoder settings.
    pub settings: Option<Value>,
    /// After an update: the first member it changed (a JSON pointer), for the event.
    pub corrected: Option<String>,
}

impl Channel {
    /// It attaches the input `id` (an answer without settings, a List summary, may: assumed so).
    pub fn reads_from(&self, id: &str) -> bool {
        self.settings.as_ref().is_none_or(|s| {
            (s["InputAttachments"].as_array().into_iter().flatten()).any(|a| a["InputId"].as_str() == Some(id))
        })
    }

    /// The engine version it runs and when that expires (ISO 8601), as described.
    pub fn engine_version(&self) -> Option<(String, Option<String>)> {
        let engine = &self.settings.as_ref()?["ChannelEngineVersion"];
        let version = engine["Version"].as_str()?.to_owned();
        Some((version, engine["ExpirationDate"].as_str().map(str::to_owned)))
    }

    /// Where it differs from `desired` first, a JSON pointer into the request.
    pub fn drift(&self, desired: &ChannelSettings) -> Option<String> {
        let Some(described) = &self.settings else {
            return Some("/".into());
        };
        let mut asked = desired.request.clone();
        // DEFAULT resets the pin: the channel then runs whatever version AWS names.
        if asked["ChannelEngineVersion"]["Version"] == "DEFAULT"
            && let Some(members) = asked.as_object_mut()
        {
            members.remove("ChannelEngineVersion");
        }
        drift(&asked, described)
    }

    fn new(
        id: Option<String>,
        arn: Option<String>,
        tags: Option<&std::collections::HashMap<String, String>>,
        state: Option<ChannelState>,
        answer: Option<&Value>,
    ) -> Self {
        let settings = answer.map(|wire| {
            let members = (DESCRIBED.iter())
                .filter_map(|name| Some(((*name).to_owned(), from_wire(wire.get(wire_name(name))?))))
                .collect();
            Value::Object(members)
        });
        Self {
            id: id.unwrap_or_default(),
            arn,
            owner: owner_of(tags),
            state: state.unwrap_or(ChannelState::Creating),
            settings,
            corrected: None,
        }
    }

    /// An update's answer: the typed fields and the document (`answer`, the channel's JSON in
    /// wire names); without a channel in it, `current` as UPDATING.
    fn updated(typed: Option<aws_sdk_medialive::types::Channel>, answer: Option<Value>, current: &Self) -> Self {
        match typed {
            Some(c) => Self::new(c.id, c.arn, c.tags.as_ref(), c.state, answer.as_ref()),
            None => Self {
                state: ChannelState::Updating,
                ..current.clone()
            },
        }
    }
}

impl From<ChannelSummary> for Channel {
    fn from(c: ChannelSummary) -> Self {
        Self::new(c.id, c.arn, c.tags.as_ref(), c.state, None)
    }
}

/// The request's wire body for UpdateChannel (which has no class member).
fn update_body(desired: &ChannelSettings) -> Value {
    let mut wire = to_wire(&desired.request);
    if let Some(members) = wire.as_object_mut() {
        members.remove("channelClass");
    }
    wire
}

/// The body as a dry run: validated, nothing made, and no idempotency token to remember.
fn dry(mut wire: Value) -> Value {
    if let Some(members) = wire.as_object_mut() {
        members.remove("requestId");
    }
    wire["dryRun"] = json!(true);
    wire
}

fn create_refusal<'a>(operation: &'static str, settings: &'a ChannelSettings) -> impl Fn(CreateError) -> Error + 'a {
    move |e| {
        let errors = match e.as_service_error() {
            Some(CreateChannelError::UnprocessableEntityException(u)) => validation_errors(u.validation_errors()),
            _ => Vec::new(),
        };
        with_role_hint(refusal(operation, e, errors), settings)
    }
}

fn update_refusal<'a>(operation: &'static str, settings: &'a ChannelSettings) -> impl Fn(UpdateError) -> Error + 'a {
    move |e| {
        let errors = match e.as_service_error() {
            Some(UpdateChannelError::UnprocessableEntityException(u)) => validation_errors(u.validation_errors()),
            _ => Vec::new(),
        };
        with_role_hint(refusal(operation, e, errors), settings)
    }
}

type CreateError = aws_sdk_medialive::error::SdkError<CreateChannelError, aws_smithy_runtime_api::http::Response>;
type UpdateError = aws_sdk_medialive::error::SdkError<UpdateChannelError, aws_smithy_runtime_api::http::Response>;

/// Asks MediaLive whether it would take `desired` as an update of channel `id`, changing nothing.
async fn dry_run_update(aws: &AwsClients, id: &str, desired: &ChannelSettings) -> Result<()> {
    let call = aws.medialive.update_channel().channel_id(id).customize();
    let sent = call.mutate_request(body(&dry(update_body(desired)))).send().await;
    sent.map_err(update_refusal("UpdateChannel (dry run)", desired))
        .map(drop)
}

impl Managed for Channel {
    const KIND: Kind = Kind::Channel;
    type Desired = ChannelSettings;

    fn id(&self) -> &str {
        &self.id
    }

    fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Only what the request asks is compared: members AWS fills with its defaults are no drift.
    fn differs(&self, desired: &ChannelSettings) -> bool {
        self.drift(desired).is_some()
    }

    /// AWS deletes only a channel that is not running: a running one stops first.
    fn teardown(&self) -> Teardown {
        match &self.state {
            ChannelState::Running | ChannelState::Starting | ChannelState::Recovering => Teardown::Stop,
            ChannelState::Idle | ChannelState::CreateFailed | ChannelState::UpdateFailed => {
                Teardown::Delete { settles: true }
            }
            other => Teardown::Wait(format!("the channel is {other}")),
        }
    }

    async fn stop(aws: &AwsClients, current: &Self) -> Result<Self> {
        let stopped = aws.medialive.stop_channel().channel_id(&current.id).send().await;
        stopped.map_err(|e| Error::aws("StopChannel", e))?;
        Ok(Self {
            state: ChannelState::Stopping,
            ..current.clone()
        })
    }

    /// Billing starts.
    async fn start(aws: &AwsClients, current: &Self) -> Result<Self> {
        let started = aws.medialive.start_channel().channel_id(&current.id).send().await;
        started.map_err(|e| Error::aws("StartChannel", e))?;
        Ok(Self {
            state: ChannelState::Starting,
            ..current.clone()
        })
    }

    /// A dry run first: a request AWS refuses is reported with its validation errors and nothing
    /// is made.
    async fn create(aws: &AwsClients, desired: &ChannelSettings, owner: &Owner<'_>) -> Result<Self> {
        let wire = request_to_wire(&desired.create_request(owner.tags, owner.uid));
        let checked = aws.medialive.create_channel().customize();
        let checked = checked.mutate_request(body(&dry(wire.clone()))).send().await;
        checked.map_err(create_refusal("CreateChannel (dry run)", desired))?;
        let answer = Answer::default();
        let call = aws.medialive.create_channel().customize();
        let created = (call
            .interceptor(answer.clone())
            .mutate_request(body(&wire))
            .send()
            .await)
            .map_err(create_refusal("CreateChannel", desired))?;
        let c = (created.channel).ok_or_else(|| Error::Waiting("CreateChannel returned no channel".into()))?;
        let document = answer.take().map(|mut a| a["channel"].take());
        Ok(Self::new(c.id, c.arn, c.tags.as_ref(), c.state, document.as_ref()))
    }

    /// A class change (redundancy Single ⇄ Standard) is its own call, made first: UpdateChannel
    /// has no class member, and the destinations must suit the new class. Every other change is
    /// dry-run first.
    async fn update(aws: &AwsClients, current: &Self, desired: &ChannelSettings) -> Result<Self> {
        let answer = Answer::default();
        if current.class_differs(desired) {
            let wire = to_wire(&json!({
                "ChannelClass": desired.channel_class.as_str(),
                "Destinations": desired.request["Destinations"],
            }));
            let call = aws.medialive.update_channel_class().channel_id(&current.id).customize();
            let changed = (call
                .interceptor(answer.clone())
                .mutate_request(body(&wire))
                .send()
                .await)
                .map_err(|e| Error::aws("UpdateChannelClass", e))?;
            // The channel is UPDATING until the class is changed: the rest waits for the next round.
            let document = answer.take().map(|mut a| a["channel"].take());
            return Ok(Self::updated(changed.channel, document, current));
        }
        dry_run_update(aws, &current.id, desired).await?;
        let call = aws.medialive.update_channel().channel_id(&current.id).customize();
        let updated = (call
            .interceptor(answer.clone())
            .mutate_request(body(&update_body(desired)))
            .send()
            .await)
            .map_err(update_refusal("UpdateChannel", desired))?;
        let document = answer.take().map(|mut a| a["channel"].take());
        Ok(Self {
            corrected: current.drift(desired),
            ..Self::updated(updated.channel, document, current)
        })
    }

    /// Before a running channel is stopped to apply a change: AWS would take it (a dry run). A
    /// class change has no dry run; it is checked when it is made.
    async fn validate_update(aws: &AwsClients, current: &Self, desired: &ChannelSettings) -> Result<()> {
        if current.class_differs(desired) {
            return Ok(());
        }
        dry_run_update(aws, &current.id, desired).await
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let deleted = aws.medialive.delete_channel().channel_id(&current.id).send().await;
        found(deleted.map_err(|e| Error::aws("DeleteChannel", e))).map(drop)
    }
}

impl Channel {
    /// The class differs: MediaLive changes it with UpdateChannelClass, not UpdateChannel.
    fn class_differs(&self, desired: &ChannelSettings) -> bool {
        let described = self.settings.as_ref().and_then(|s| s["ChannelClass"].as_str());
        // MediaLive describes STANDARD when the create named none.
        ChannelClass::from(described.unwrap_or("STANDARD")) != desired.channel_class
    }
}

impl Listed for Channel {
    const LISTING_IS_COMPLETE: bool = false;

    fn settling(&self) -> bool {
        !matches!(self.state, ChannelState::Idle | ChannelState::Running)
    }

    /// A summary carries the state and tags, not the encoder settings: those are read again at
    /// the full-read bound.
    fn summary_agrees(&self, summary: &Self) -> bool {
        self.id == summary.id && self.state == summary.state && self.owner == summary.owner
    }

    async fn describe(aws: &AwsClients, id: &str) -> Result<Option<Self>> {
        let answer = Answer::default();
        let call = aws.medialive.describe_channel().channel_id(id).customize();
        let described = call.interceptor(answer.clone()).send().await;
        let channel = found(described.map_err(|e| Error::aws("DescribeChannel", e)))?;
        let document = answer.take();
        let channel = channel.map(|c| Self::new(c.id, c.arn, c.tags.as_ref(), c.state, document.as_ref()));
        Ok(channel.filter(|c| c.state != ChannelState::Deleted))
    }

    async fn list(aws: &AwsClients) -> Result<Vec<Self>> {
        let mut all = Vec::new();
        let mut pages = aws.medialive.list_channels().max_results(PAGE).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| Error::aws("ListChannels", e))?;
            let channels = page.channels.unwrap_or_default().into_iter().map(Self::from);
            all.extend(channels.filter(|c| c.state != ChannelState::Deleted));
        }
        Ok(all)
    }
}

/// CreateChannel with `request` (in AWS's names, `Tags` included) as it is, without a dry run:
/// AWS's answer in wire names. For tests and tools that send a channel request themselves.
pub async fn create_as_is(aws: &AwsClients, request: &Value) -> Result<Value> {
    let wire = request_to_wire(request);
    let answer = Answer::default();
    let call = aws.medialive.create_channel().customize().interceptor(answer.clone());
    call.mutate_request(body(&wire)).send().await.map_err(|e| {
        let errors = match e.as_service_error() {
            Some(CreateChannelError::UnprocessableEntityException(u)) => validation_errors(u.validation_errors()),
            _ => Vec::new(),
        };
        refusal("CreateChannel", e, errors)
    })?;
    Ok(answer.take().unwrap_or_default())
}

/// The engine versions MediaLive offers this account (ListVersions): (version, expires).
pub async fn engine_versions(aws: &AwsClients) -> Result<Vec<(String, Option<String>)>> {
    let listed = aws.medialive.list_versions().send().await;
    let listed = listed.map_err(|e| Error::aws("ListVersions", e))?;
    Ok((listed.versions.unwrap_or_default().into_iter())
        .filter_map(|v| {
            let expires = v
                .expiration_date
                .and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
            Some((v.version?, expires))
        })
        .collect())
}

/// MediaLive refuses a channel whose role the caller may not pass with a 422 like any other
/// validation failure; the condition names the role and what to grant, whatever the cause.
fn with_role_hint(error: Error, settings: &ChannelSettings) -> Error {
    match error {
        Error::Aws {
            operation,
            code,
            message,
            source,
        } if code == "UnprocessableEntityException" && message.contains("PassRole") => Error::Aws {
            operation,
            code,
            source,
            message: format!(
                "{message} (the channel's role is {role}: the operator's IAM policy must allow iam:PassRole on {role} with iam:PassedToService medialive.amazonaws.com, as deploy/iam-policy.json does for spec.roleArn / --medialive-role-arn)",
                role = settings.role_arn()
            ),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{
        api::LiveStreamSpec,
        desired::{
            Names,
            medialive::{PackageTarget, channel_settings},
        },
    };

    fn names() -> Names {
        Names {
            protocol: "rtmp",
            passphrase_secret: String::new(),
            channel: "c".into(),
            endpoint: "c-hls".into(),
        }
    }

    #[test]
    fn a_changed_rendition_is_drift_but_identical_settings_are_not() {
        let spec = |v| serde_json::from_value::<LiveStreamSpec>(v).unwrap();
        let base = channel_settings(
            &spec(json!({})),
            &names(),
            &[(crate::aws::Role::Primary, "1")],
            "arn:aws:iam::1:role/r",
            PackageTarget::V1,
        );
        let mut bigger = spec(json!({}));
        bigger.encoding.renditions[1].bits_per_second = 3_500_000;
        let changed = channel_settings(
            &bigger,
            &names(),
            &[(crate::aws::Role::Primary, "1")],
            "arn:aws:iam::1:role/r",
            PackageTarget::V1,
        );
        let described = |settings: &ChannelSettings| Channel {
            id: "1".into(),
            arn: None,
            owner: None,
            state: ChannelState::Idle,
            settings: Some(settings.request.clone()),
            corrected: None,
        };
        assert!(!described(&base).differs(&base));
        assert_eq!(
            described(&base).drift(&changed).as_deref(),
            Some("/EncoderSettings/VideoDescriptions/1/CodecSettings/H264Settings/Bitrate")
        );
        let mut reset = base.clone();
        reset.request["ChannelEngineVersion"] = json!({"Version": "DEFAULT"});
        assert!(!described(&base).differs(&reset), "DEFAULT pins nothing");
        let summary = Channel {
            settings: None,
            ..described(&base)
        };
        assert!(
            summary.differs(&base) && summary.reads_from("any"),
            "a summary says nothing of settings"
        );
        assert!(described(&base).reads_from("1") && !described(&base).reads_from("2"));
    }
}
