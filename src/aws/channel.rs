//! The MediaLive channel: the encoding ladder into MediaPackage, reading the RTMP input, started
//! and stopped from spec.running.

use aws_sdk_medialive::{
    operation::describe_channel::DescribeChannelOutput,
    types::{
        AutomaticInputFailoverSettings, ChannelClass, ChannelState, ChannelSummary, EncoderSettings, InputAttachment,
        OutputDestination,
    },
};

use super::{AwsClients, Kind, Listed, Managed, Owner, PAGE, Teardown, owner_of};
use crate::{
    desired::medialive::ChannelSettings,
    error::{Error, Result, found},
};

#[derive(Clone, Debug, PartialEq)]
pub struct Channel {
    pub id: String,
    pub arn: Option<String>,
    pub owner: Option<String>,
    pub state: ChannelState,
    /// The settings the operator owns; `None` in a List summary, which lacks the encoder settings.
    pub settings: Option<ChannelFingerprint>,
}

impl Channel {
    /// It attaches the input `id` (an answer without settings, a List summary, may: assumed so).
    pub fn reads_from(&self, id: &str) -> bool {
        self.settings.as_ref().is_none_or(|s| s.inputs.iter().any(|i| i == id))
    }

    fn new(
        id: Option<String>,
        arn: Option<String>,
        tags: Option<&std::collections::HashMap<String, String>>,
        state: Option<ChannelState>,
        settings: Option<ChannelFingerprint>,
    ) -> Self {
        Self {
            id: id.unwrap_or_default(),
            arn,
            owner: owner_of(tags),
            state: state.unwrap_or(ChannelState::Creating),
            settings,
        }
    }
}

/// A create or update answer and a Describe answer carry the same fields.
macro_rules! channel_from {
    ($($answer:ty),+) => {$(
        impl From<$answer> for Channel {
            fn from(c: $answer) -> Self {
                let settings = ChannelFingerprint::of(
                    c.encoder_settings.as_ref(),
                    c.destinations(),
                    c.input_attachments(),
                    c.role_arn.as_deref(),
                    c.channel_class.as_ref(),
                );
                Self::new(c.id, c.arn, c.tags.as_ref(), c.state, Some(settings))
            }
        }
    )+};
}
channel_from!(aws_sdk_medialive::types::Channel, DescribeChannelOutput);

impl From<ChannelSummary> for Channel {
    fn from(c: ChannelSummary) -> Self {
        Self::new(c.id, c.arn, c.tags.as_ref(), c.state, None)
    }
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

    fn differs(&self, desired: &ChannelSettings) -> bool {
        self.settings.as_ref() != Some(&ChannelFingerprint::desired(desired))
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

    async fn create(aws: &AwsClients, desired: &ChannelSettings, owner: &Owner<'_>) -> Result<Self> {
        let created = aws
            .medialive
            .create_channel()
            .name(&desired.name)
            .channel_class(desired.channel_class.clone())
            .input_specification(desired.input_specification.clone())
            .set_input_attachments(Some(desired.input_attachments.clone()))
            .set_destinations(Some(desired.destinations.clone()))
            .encoder_settings(desired.encoder_settings.clone())
            .role_arn(&desired.role_arn)
            .request_id(format!("{}-channel", owner.uid))
            .set_tags(Some(owner.tags.clone()))
            .send()
            .await
            .map_err(|e| with_role_hint(Error::aws("CreateChannel", e), desired))?;
        let channel = created
            .channel
            .ok_or_else(|| Error::Waiting("CreateChannel returned no channel".into()))?;
        Ok(Self::from(channel))
    }

    /// A class change (redundancy Single ⇄ Standard) is its own call, made first: UpdateChannel
    /// has no class member, and the destinations must suit the new class.
    async fn update(aws: &AwsClients, current: &Self, desired: &ChannelSettings) -> Result<Self> {
        if current.settings.as_ref().is_some_and(|s| s.class_differs(desired)) {
            let changed = aws
                .medialive
                .update_channel_class()
                .channel_id(&current.id)
                .channel_class(desired.channel_class.clone())
                .set_destinations(Some(desired.destinations.clone()))
                .send()
                .await
                .map_err(|e| Error::aws("UpdateChannelClass", e))?;
            // The channel is UPDATING until the class is changed: the rest waits for the next round.
            return Ok(changed.channel.map_or_else(
                || Self {
                    state: ChannelState::Updating,
                    ..current.clone()
                },
                Self::from,
            ));
        }
        let updated = aws
            .medialive
            .update_channel()
            .channel_id(&current.id)
            .name(&desired.name)
            .input_specification(desired.input_specification.clone())
            .set_input_attachments(Some(desired.input_attachments.clone()))
            .set_destinations(Some(desired.destinations.clone()))
            .encoder_settings(desired.encoder_settings.clone())
            .role_arn(&desired.role_arn)
            .send()
            .await
            .map_err(|e| with_role_hint(Error::aws("UpdateChannel", e), desired))?;
        Ok(updated.channel.map_or_else(
            || Self {
                state: ChannelState::Updating,
                ..current.clone()
            },
            Self::from,
        ))
    }

    async fn delete(aws: &AwsClients, current: &Self) -> Result<()> {
        let deleted = aws.medialive.delete_channel().channel_id(&current.id).send().await;
        found(deleted.map_err(|e| Error::aws("DeleteChannel", e))).map(drop)
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
        let described = aws.medialive.describe_channel().channel_id(id).send().await;
        let channel = found(described.map_err(|e| Error::aws("DescribeChannel", e)))?;
        Ok(channel.map(Self::from).filter(|c| c.state != ChannelState::Deleted))
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

/// MediaLive refuses a channel whose role the caller may not pass with a 422 like any other
/// validation failure; the condition names the role and what to grant, whatever the cause.
fn with_role_hint(error: Error, settings: &ChannelSettings) -> Error {
    match error {
        Error::Aws {
            operation,
            code,
            message,
            source,
        } if code == "UnprocessableEntityException" => Error::Aws {
            operation,
            code,
            source,
            message: format!(
                "{message} (the channel's role is {role}: if the refusal is about iam:PassRole, the operator's IAM policy must allow iam:PassRole on {role} with iam:PassedToService medialive.amazonaws.com, as deploy/iam-policy.json does for spec.roleArn / --medialive-role-arn)",
                role = settings.role_arn
            ),
        },
        other => other,
    }
}

/// Name, width, height, bitrate, frame rate and GOP of one video description.
type RenditionFingerprint = (
    Option<String>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<f64>,
);

/// The parts of a channel the operator sets: the ladder, audio, destination, input and role.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelFingerprint {
    renditions: Vec<RenditionFingerprint>,
    audio: Vec<(Option<f64>, Option<f64>)>,
    outputs: Vec<Option<String>>,
    package_channels: Vec<String>,
    inputs: Vec<String>,
    /// Each attachment's failover to the backup input.
    failover: Vec<Option<AutomaticInputFailoverSettings>>,
    /// STANDARD or SINGLE_PIPELINE; MediaLive describes STANDARD when the create named none.
    class: ChannelClass,
    role_arn: Option<String>,
    thumbnails: Option<String>,
    /// S3 destinations (the recording's) and the Archive groups' rollover intervals.
    s3_destinations: Vec<String>,
    rollovers: Vec<Option<i32>>,
}

impl ChannelFingerprint {
    pub fn of(
        encoder: Option<&EncoderSettings>,
        destinations: &[OutputDestination],
        inputs: &[InputAttachment],
        role_arn: Option<&str>,
        class: Option<&ChannelClass>,
    ) -> Self {
        let renditions = encoder
            .and_then(|e| e.video_descriptions.as_ref())
            .into_iter()
            .flatten()
            .map(|v| {
                let h264 = v.codec_settings.as_ref().and_then(|c| c.h264_settings.as_ref());
                (
                    v.name.clone(),
                    v.width,
                    v.height,
                    h264.and_then(|h| h.bitrate),
                    h264.and_then(|h| h.framerate_numerator),
                    h264.and_then(|h| h.gop_size),
                )
            })
            .collect();
        let audio = encoder
            .and_then(|e| e.audio_descriptions.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|a| a.codec_settings.as_ref()?.aac_settings.as_ref())
            .map(|aac| (aac.bitrate, aac.sample_rate))
            .collect();
        let outputs = encoder
            .and_then(|e| e.output_groups.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|g| g.outputs.iter().flatten())
            .map(|o| o.video_description_name.clone())
            .collect();
        let package_channels = destinations
            .iter()
            .flat_map(|d| d.media_package_settings.iter().flatten())
            .filter_map(|m| m.channel_id.clone())
            .collect();
        let failover = inputs
            .iter()
            .map(|a| a.automatic_input_failover_settings.clone())
            .collect();
        let inputs = inputs.iter().filter_map(|a| a.input_id.clone()).collect();
        let s3_destinations = (destinations.iter().flat_map(|d| d.settings.iter().flatten()))
            .filter_map(|s| s.url.clone())
            .collect();
        let rollovers = (encoder.and_then(|e| e.output_groups.as_ref()).into_iter().flatten())
            .filter_map(|g| g.output_group_settings.as_ref()?.archive_group_settings.as_ref())
            .map(|a| a.rollover_interval)
            .collect();
        let thumbnails = encoder
            .and_then(|e| e.thumbnail_configuration.as_ref())
            .and_then(|t| t.state.as_ref())
            .map(|s| s.as_str().to_owned());
        Self {
            renditions,
            audio,
            outputs,
            package_channels,
            inputs,
            failover,
            class: class.cloned().unwrap_or(ChannelClass::Standard),
            role_arn: role_arn.map(str::to_owned),
            thumbnails,
            s3_destinations,
            rollovers,
        }
    }

    pub fn desired(settings: &ChannelSettings) -> Self {
        Self::of(
            Some(&settings.encoder_settings),
            &settings.destinations,
            &settings.input_attachments,
            Some(&settings.role_arn),
            Some(&settings.channel_class),
        )
    }

    /// The class differs: MediaLive changes it with UpdateChannelClass, not UpdateChannel.
    fn class_differs(&self, desired: &ChannelSettings) -> bool {
        self.class != desired.channel_class
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
        assert_eq!(
            ChannelFingerprint::desired(&base),
            ChannelFingerprint::desired(&base.clone())
        );
        assert_ne!(
            ChannelFingerprint::desired(&base),
            ChannelFingerprint::desired(&changed)
        );
    }
}
