//! The MediaLive channel: create, update to the spec (now, or per updatePolicy when running),
//! start and stop it from spec.running, and the maxRunDuration cost guard.

use std::time::Duration;

use aws_sdk_medialive::types::ChannelState;
use k8s_openapi::jiff::Timestamp;
use kube::{Resource, runtime::events::EventType};
use tracing::info;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::{
    Progress, Run, drift, elapsed,
    listings::Kind,
    observe,
    plan::{ChannelFacts, ChannelStep, StopReason, channel_step},
    publish,
};
use crate::{
    desired::medialive::ChannelSettings,
    error::{Error, Result},
};

impl Run<'_> {
    pub(super) async fn ensure_channel(&mut self, desired: ChannelSettings) -> Result<Progress> {
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
        let differs = fingerprint != drift::ChannelFingerprint::desired(&desired);
        if state == ChannelState::Running {
            self.status.running_since.get_or_insert_with(|| Time(Timestamp::now()));
        }
        let over_limit = match (&self.stream.spec.max_run_duration, &self.status.running_since) {
            (Some(max), Some(since)) if matches!(state, ChannelState::Running | ChannelState::Starting) => {
                elapsed(since) >= Duration::from(*max)
            }
            _ => false,
        };
        let step = channel_step(&ChannelFacts {
            state: Some(state),
            differs,
            pending_elsewhere: self.update_pending.is_some(),
            running: self.stream.spec.running,
            guarded: self.guarded(),
            over_limit,
            update_policy: self.stream.spec.update_policy,
        });
        let medialive = &self.ctx.aws.medialive;
        match step {
            ChannelStep::Create => unreachable!("the channel exists"),
            ChannelStep::Update => {
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
            ChannelStep::Start => {
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
            ChannelStep::Stop(why) => self.stop(&id, why).await,
            ChannelStep::Steady { update_pending } => {
                self.note_pending(update_pending);
                Ok(Progress::Steady)
            }
            ChannelStep::Wait { what, update_pending } => {
                self.note_pending(update_pending);
                Ok(Progress::Transition(what))
            }
            ChannelStep::Failed(state) => Err(Error::Invalid(format!(
                "MediaLive channel {id} is {state}: check the channel in the MediaLive console and fix the spec"
            ))),
        }
    }

    fn note_pending(&mut self, pending: bool) {
        if pending {
            self.update_pending.get_or_insert_with(|| "the spec changed while the channel runs; stop it (running: false) or set updatePolicy: Restart to apply".into());
        }
    }

    /// Stops a running channel: when asked, when the cost guard fires, or to apply an update.
    async fn stop(&mut self, id: &str, why: StopReason) -> Result<Progress> {
        let (event, kind, note) = match why {
            StopReason::NotRunning => (
                "StoppingChannel",
                EventType::Normal,
                format!("Stopping MediaLive channel {id} (spec.running is false)"),
            ),
            StopReason::MaxRunDuration => {
                self.status.max_run_duration_stopped_generation = self.stream.meta().generation;
                (
                    "MaxRunDurationExceeded",
                    EventType::Warning,
                    format!("Stopping MediaLive channel {id}: it ran longer than spec.maxRunDuration"),
                )
            }
            StopReason::Restart => (
                "RestartingChannel",
                EventType::Normal,
                format!("Stopping MediaLive channel {id} to apply a spec change (updatePolicy: Restart)"),
            ),
        };
        self.ctx
            .aws
            .medialive
            .stop_channel()
            .channel_id(id)
            .send()
            .await
            .map_err(|e| Error::aws("StopChannel", e))?;
        info!(event, "{note}");
        publish(self.ctx, self.stream, kind, event, note).await;
        Ok(Progress::Transition("the channel is stopping".into()))
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
