//! The MediaLive channel: create, update to the spec (now, or per updatePolicy when running),
//! start and stop it from spec.running, and the maxRunDuration cost guard.

use std::time::Duration;

use aws_sdk_medialive::types::ChannelState;
use k8s_openapi::jiff::Timestamp;
use kube::{Resource, runtime::events::EventType};
use tracing::info;

use super::{Progress, Run, drift, elapsed, listings::Kind, observe, publish};
use crate::{
    api::UpdatePolicy,
    desired::medialive::ChannelSettings,
    error::{Error, Result},
};

impl Run<'_> {
    pub(super) async fn ensure_channel(&mut self, desired: ChannelSettings, input_id: &str) -> Result<Progress> {
        let cached = self.cached(|a| a.channel_id.clone());
        let Some(channel) = observe::channel(self.aws(), &self.ctx.listings, cached.as_deref(), &self.uid).await?
        else {
            self.ctx.listings.creating(&self.uid, Kind::Channel);
            let created = self
                .aws()
                .medialive
                .create_channel()
                .name(&desired.name)
                .channel_class(desired.channel_class.clone())
                .input_specification(desired.input_specification.clone())
                .set_input_attachments(Some(desired.input_attachments.clone()))
                .set_destinations(Some(desired.destinations.clone()))
                .encoder_settings(desired.encoder_settings.clone())
                .role_arn(&desired.role_arn)
                .request_id(format!("{}-channel", self.uid))
                .set_tags(Some(self.tags.clone()))
                .send()
                .await
                .map_err(|e| Error::aws("CreateChannel", e));
            // A 422 here may be MediaLive not seeing the new MediaPackage channel yet: the error
            // is retried quietly with backoff and reported only if it persists (see `apply`).
            let channel = created?
                .channel
                .ok_or_else(|| Error::Waiting("CreateChannel returned no channel".into()))?;
            let id = channel.id.clone().unwrap_or_default();
            self.event(
                "CreatedChannel",
                format!(
                    "Created MediaLive channel {id} ({} renditions)",
                    self.stream.spec.encoding.renditions.len()
                ),
            )
            .await;
            self.record_channel(&id, channel.arn.clone(), channel.state.clone());
            return Ok(Progress::Transition("the channel is being created".into()));
        };
        let id = channel.id.clone().unwrap_or_default();
        let state = channel.state.clone().unwrap_or(ChannelState::Creating);
        self.record_channel(&id, channel.arn.clone(), Some(state.clone()));
        let fingerprint = drift::ChannelFingerprint::of(
            channel.encoder_settings.as_ref(),
            channel.destinations(),
            channel.input_attachments(),
            channel.role_arn.as_deref(),
        );
        let differs = fingerprint != drift::ChannelFingerprint::desired(&desired) || self.update_pending.is_some();
        let want_running = self.stream.spec.running && !self.guarded();
        let medialive = &self.ctx.aws.medialive;
        match state {
            ChannelState::Idle if differs && self.update_pending.is_none() => {
                medialive
                    .update_channel()
                    .channel_id(&id)
                    .name(&desired.name)
                    .input_specification(desired.input_specification)
                    .set_input_attachments(Some(desired.input_attachments))
                    .set_destinations(Some(desired.destinations))
                    .encoder_settings(desired.encoder_settings)
                    .role_arn(&desired.role_arn)
                    .send()
                    .await
                    .map_err(|e| Error::aws("UpdateChannel", e))?;
                self.event("UpdatedChannel", format!("Updated MediaLive channel {id} to the spec"))
                    .await;
                Ok(Progress::Transition("the channel is being updated".into()))
            }
            ChannelState::Idle if want_running => {
                medialive
                    .start_channel()
                    .channel_id(&id)
                    .send()
                    .await
                    .map_err(|e| Error::aws("StartChannel", e))?;
                self.event(
                    "StartingChannel",
                    format!("Starting MediaLive channel {id} (billing starts)"),
                )
                .await;
                Ok(Progress::Transition("the channel is starting".into()))
            }
            ChannelState::Idle => Ok(Progress::Steady),
            ChannelState::Running | ChannelState::Starting => self.running(&id, &state, differs, input_id).await,
            ChannelState::CreateFailed | ChannelState::UpdateFailed => Err(Error::Invalid(format!(
                "MediaLive channel {id} is {state}: check the channel in the MediaLive console and fix the spec"
            ))),
            other => Ok(Progress::Transition(format!("the channel is {other}"))),
        }
    }

    /// A running channel: stop it when asked, when the cost guard fires, or to apply an update.
    async fn running(&mut self, id: &str, state: &ChannelState, differs: bool, _input_id: &str) -> Result<Progress> {
        let medialive = &self.ctx.aws.medialive;
        if *state == ChannelState::Running {
            self.status
                .running_since
                .get_or_insert_with(|| k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now()));
        }
        let over_limit = match (&self.stream.spec.max_run_duration, &self.status.running_since) {
            (Some(max), Some(since)) => elapsed(since) >= Duration::from(*max),
            _ => false,
        };
        let reason = if !self.stream.spec.running || self.guarded() {
            Some((
                "StoppingChannel",
                format!("Stopping MediaLive channel {id} (spec.running is false)"),
            ))
        } else if over_limit {
            self.status.max_run_duration_stopped_generation = self.stream.meta().generation;
            Some((
                "MaxRunDurationExceeded",
                format!("Stopping MediaLive channel {id}: it ran longer than spec.maxRunDuration"),
            ))
        } else if differs && self.stream.spec.update_policy == UpdatePolicy::Restart {
            Some((
                "RestartingChannel",
                format!("Stopping MediaLive channel {id} to apply a spec change (updatePolicy: Restart)"),
            ))
        } else {
            None
        };
        if let Some((event, note)) = reason {
            medialive
                .stop_channel()
                .channel_id(id)
                .send()
                .await
                .map_err(|e| Error::aws("StopChannel", e))?;
            let kind = if event == "MaxRunDurationExceeded" {
                EventType::Warning
            } else {
                EventType::Normal
            };
            info!(event, "{note}");
            publish(self.ctx, self.stream, kind, event, note).await;
            return Ok(Progress::Transition("the channel is stopping".into()));
        }
        if differs {
            self.update_pending.get_or_insert_with(|| "the spec changed while the channel runs; stop it (running: false) or set updatePolicy: Restart to apply".into());
        }
        match state {
            ChannelState::Running => Ok(Progress::Steady),
            _ => Ok(Progress::Transition("the channel is starting".into())),
        }
    }

    /// The cost guard stopped the channel at the current generation.
    pub(super) fn guarded(&self) -> bool {
        self.status.max_run_duration_stopped_generation.is_some()
            && self.status.max_run_duration_stopped_generation == self.stream.meta().generation
    }

    pub(super) fn record_channel(&mut self, id: &str, arn: Option<String>, state: Option<ChannelState>) {
        let ids = self.ids();
        ids.channel_id = Some(id.to_owned());
        ids.channel_arn = arn;
        let state = state.map(|s| s.as_str().to_owned());
        if state.as_deref() != Some("RUNNING") {
            self.status.running_since = None;
        }
        self.status.state = state;
    }
}
