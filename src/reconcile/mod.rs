//! The reconcile pipeline for one LiveStream: validate → build the desired requests (pure, in
//! `desired`) → bring each AWS resource in dependency order to them → start or stop the channel →
//! write status. Every step re-reads AWS first and is idempotent, so a crash anywhere is repaired by
//! the next run: deterministic names and MediaLive request ids prevent duplicates, owner tags let a
//! restarted operator adopt what it had created.

mod cleanup;
mod drift;
mod observe;
mod status;

use std::{collections::HashMap, sync::Arc, time::Duration};

use aws_sdk_medialive::types::{ChannelState, InputState};
use k8s_openapi::jiff::Timestamp;
use kube::{
    Resource, ResourceExt,
    runtime::{
        controller::Action,
        events::{Event, EventType},
    },
};
use tracing::info;

pub use cleanup::cleanup;

use crate::{
    api::{LiveStream, LiveStreamStatus, UpdatePolicy},
    controller::Context,
    desired::{
        Names,
        medialive::{channel_settings, input_destinations, whitelist_rules},
        mediapackage::hls_package,
        owner_tags,
    },
    error::{Error, Result},
};

/// Where a successful pass left the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Everything matches the spec; nothing is moving.
    Steady,
    /// AWS is carrying out a change (creating, updating, starting, stopping).
    Transition(String),
}

/// One reconcile of one LiveStream.
pub struct Run<'a> {
    stream: &'a LiveStream,
    ctx: &'a Context,
    uid: String,
    tags: HashMap<String, String>,
    status: LiveStreamStatus,
    /// A change that waits for the user to stop the channel (updatePolicy: Manual).
    update_pending: Option<String>,
}

pub async fn apply(stream: Arc<LiveStream>, ctx: &Context) -> Result<Action> {
    let mut run = Run {
        stream: &stream,
        ctx,
        uid: stream.uid().unwrap_or_default(),
        tags: owner_tags(&stream),
        status: stream.status.clone().unwrap_or_default(),
        update_pending: None,
    };
    let outcome = run.converge().await;
    status::write(
        &stream,
        ctx,
        run.status,
        &outcome,
        run.update_pending.as_deref(),
    )
    .await?;
    let progress = outcome?;
    let mut action = match progress {
        Progress::Steady => ctx.settings.resync,
        Progress::Transition(_) => ctx.settings.transition_requeue,
    };
    // Wake up when the cost guard is due.
    if let (Some(max), Some(since)) = (
        &stream.spec.max_run_duration,
        stream
            .status
            .as_ref()
            .and_then(|s| s.running_since.as_ref()),
    ) {
        let due = Duration::from(*max).saturating_sub(elapsed(since));
        action = action.min(due.max(Duration::from_secs(1)));
    }
    Ok(Action::requeue(action))
}

fn elapsed(since: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> Duration {
    let seconds = Timestamp::now().as_second() - since.0.as_second();
    Duration::from_secs(seconds.max(0) as u64)
}

impl Run<'_> {
    async fn event(&self, reason: &str, note: String) {
        info!(reason, "{note}");
        publish(self.ctx, self.stream, EventType::Normal, reason, note).await;
    }

    fn aws(&self) -> &crate::aws::AwsClients {
        &self.ctx.aws
    }

    fn cached(&self, pick: impl Fn(&crate::api::AwsResources) -> Option<String>) -> Option<String> {
        self.status.aws.as_ref().and_then(pick)
    }

    fn ids(&mut self) -> &mut crate::api::AwsResources {
        self.status.aws.get_or_insert_with(Default::default)
    }

    async fn converge(&mut self) -> Result<Progress> {
        let spec = &self.stream.spec;
        let role = spec
            .role_arn
            .clone()
            .or_else(|| self.ctx.settings.role_arn.clone())
            .ok_or_else(|| Error::Invalid("no IAM role for MediaLive: set spec.roleArn or the operator's --medialive-role-arn".into()))?;
        let names = Names::of(self.stream);
        self.ensure_package_channel(&names).await?;
        self.ensure_endpoint(&names).await?;
        let group = self.ensure_security_group().await?;
        let (input_id, input_state) = self.ensure_input(&names, &group).await?;
        if input_state == Some(InputState::Creating) {
            return Ok(Progress::Transition(
                "the MediaLive input is being created".into(),
            ));
        }
        let desired = channel_settings(spec, &names, &input_id, &role);
        self.ensure_channel(&names, desired, &input_id).await
    }

    async fn ensure_package_channel(&mut self, names: &Names) -> Result<()> {
        match observe::package_channel(self.aws(), &names.channel).await? {
            Some(channel) => observe::check_owner(
                "MediaPackage channel",
                &names.channel,
                channel.tags.as_ref(),
                &self.uid,
            )?,
            None => {
                self.aws()
                    .mediapackage
                    .create_channel()
                    .id(&names.channel)
                    .description(format!(
                        "LiveStream {}/{}",
                        self.stream.namespace().unwrap_or_default(),
                        self.stream.name_any()
                    ))
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateChannel", e))?;
                self.event(
                    "CreatedPackageChannel",
                    format!("Created MediaPackage channel {}", names.channel),
                )
                .await;
            }
        }
        self.ids().media_package_channel_id = Some(names.channel.clone());
        Ok(())
    }

    async fn ensure_endpoint(&mut self, names: &Names) -> Result<()> {
        let hls = hls_package(&self.stream.spec.packaging.hls);
        let url = match observe::endpoint(self.aws(), &names.endpoint).await? {
            Some(endpoint) => {
                observe::check_owner(
                    "MediaPackage endpoint",
                    &names.endpoint,
                    endpoint.tags.as_ref(),
                    &self.uid,
                )?;
                if drift::hls_differs(endpoint.hls_package.as_ref(), &hls) {
                    self.aws()
                        .mediapackage
                        .update_origin_endpoint()
                        .id(&names.endpoint)
                        .hls_package(hls)
                        .send()
                        .await
                        .map_err(|e| Error::aws("UpdateOriginEndpoint", e))?;
                    self.event(
                        "UpdatedEndpoint",
                        format!(
                            "Updated the HLS settings of MediaPackage endpoint {}",
                            names.endpoint
                        ),
                    )
                    .await;
                }
                endpoint.url
            }
            None => {
                let created = self
                    .aws()
                    .mediapackage
                    .create_origin_endpoint()
                    .id(&names.endpoint)
                    .channel_id(&names.channel)
                    .manifest_name("index")
                    .hls_package(hls)
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateOriginEndpoint", e));
                let created = match created {
                    // Eventual consistency: the channel created a moment ago may not be visible yet.
                    Err(e) if e.is_not_found() => {
                        return Err(Error::Waiting(format!(
                            "MediaPackage channel {} is not visible yet",
                            names.channel
                        )));
                    }
                    other => other?,
                };
                self.event(
                    "CreatedEndpoint",
                    format!("Created MediaPackage HLS endpoint {}", names.endpoint),
                )
                .await;
                created.url
            }
        };
        self.ids().origin_endpoint_id = Some(names.endpoint.clone());
        self.status.playback_url = url;
        Ok(())
    }

    async fn ensure_security_group(&mut self) -> Result<String> {
        let cidrs = &self.stream.spec.input.allowed_cidrs;
        let cached = self.cached(|a| a.input_security_group_id.clone());
        let id = match observe::security_group(self.aws(), cached.as_deref(), &self.uid).await? {
            Some(group) => {
                let id = group.id.clone().unwrap_or_default();
                if drift::cidrs_differ(group.whitelist_rules(), cidrs) {
                    self.aws()
                        .medialive
                        .update_input_security_group()
                        .input_security_group_id(&id)
                        .set_whitelist_rules(Some(whitelist_rules(&self.stream.spec.input)))
                        .send()
                        .await
                        .map_err(|e| Error::aws("UpdateInputSecurityGroup", e))?;
                    self.event(
                        "UpdatedSecurityGroup",
                        format!("Set input security group {id} to {}", cidrs.join(", ")),
                    )
                    .await;
                }
                id
            }
            None => {
                let created = self
                    .aws()
                    .medialive
                    .create_input_security_group()
                    .set_whitelist_rules(Some(whitelist_rules(&self.stream.spec.input)))
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateInputSecurityGroup", e))?;
                let id = created
                    .security_group
                    .and_then(|g| g.id)
                    .unwrap_or_default();
                self.event(
                    "CreatedSecurityGroup",
                    format!("Created input security group {id} for {}", cidrs.join(", ")),
                )
                .await;
                id
            }
        };
        self.ids().input_security_group_id = Some(id.clone());
        Ok(id)
    }

    /// The input; its stream name and group are brought up to date only while no channel runs on it.
    async fn ensure_input(
        &mut self,
        names: &Names,
        group: &str,
    ) -> Result<(String, Option<InputState>)> {
        let stream_name = &self.stream.spec.input.stream_name;
        let cached = self.cached(|a| a.input_id.clone());
        let (id, state, url) = match observe::input(self.aws(), cached.as_deref(), &self.uid)
            .await?
        {
            Some(input) => {
                let id = input.id.clone().unwrap_or_default();
                let url = input.destinations().first().and_then(|d| d.url.clone());
                let name_differs = !url
                    .as_deref()
                    .is_some_and(|u| u.ends_with(&format!("/{stream_name}")));
                let group_differs = input.security_groups() != [group.to_owned()];
                if !(name_differs || group_differs) {
                    (id, input.state, url)
                } else {
                    let updated = self
                        .aws()
                        .medialive
                        .update_input()
                        .input_id(&id)
                        .input_security_groups(group)
                        .set_destinations(Some(input_destinations(&self.stream.spec.input)))
                        .send()
                        .await
                        .map_err(|e| Error::aws("UpdateInput", e));
                    match updated {
                        Ok(updated) => {
                            self.event(
                                "UpdatedInput",
                                format!("Updated input {id} to stream name {stream_name}"),
                            )
                            .await;
                            let url = updated
                                .input
                                .and_then(|i| i.destinations?.first()?.url.clone());
                            (id, input.state, url)
                        }
                        // AWS refuses to change the input of a running channel.
                        Err(e) if e.code() == Some("ConflictException") => {
                            self.update_pending = Some(format!(
                                "input {id} needs stream name {stream_name}, which can change only while the channel is stopped"
                            ));
                            (id, input.state, url)
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            None => {
                let created = self
                    .aws()
                    .medialive
                    .create_input()
                    .name(&names.input)
                    .r#type(aws_sdk_medialive::types::InputType::RtmpPush)
                    .input_security_groups(group)
                    .set_destinations(Some(input_destinations(&self.stream.spec.input)))
                    .request_id(format!("{}-input", self.uid))
                    .set_tags(Some(self.tags.clone()))
                    .send()
                    .await
                    .map_err(|e| Error::aws("CreateInput", e))?;
                let input = created
                    .input
                    .ok_or_else(|| Error::Waiting("CreateInput returned no input".into()))?;
                let id = input.id.clone().unwrap_or_default();
                self.event(
                    "CreatedInput",
                    format!("Created RTMP input {id} ({stream_name})"),
                )
                .await;
                (
                    id,
                    input.state,
                    input.destinations.and_then(|d| d.first()?.url.clone()),
                )
            }
        };
        self.ids().input_id = Some(id.clone());
        self.status.ingest_url = url;
        Ok((id, state))
    }

    async fn ensure_channel(
        &mut self,
        names: &Names,
        desired: crate::desired::medialive::ChannelSettings,
        input_id: &str,
    ) -> Result<Progress> {
        let cached = self.cached(|a| a.channel_id.clone());
        let Some(channel) = observe::channel(self.aws(), cached.as_deref(), &self.uid).await?
        else {
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
            let channel = match created {
                Err(e)
                    if e.code() == Some("UnprocessableEntityException")
                        && e.to_string().contains("does not exist") =>
                {
                    return Err(Error::Waiting(format!(
                        "MediaPackage channel {} is not visible to MediaLive yet",
                        names.channel
                    )));
                }
                other => other?
                    .channel
                    .ok_or_else(|| Error::Waiting("CreateChannel returned no channel".into()))?,
            };
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
        let differs = fingerprint != drift::ChannelFingerprint::desired(&desired)
            || self.update_pending.is_some();
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
                self.event(
                    "UpdatedChannel",
                    format!("Updated MediaLive channel {id} to the spec"),
                )
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
            ChannelState::Running | ChannelState::Starting => {
                self.running(&id, &state, differs, input_id).await
            }
            ChannelState::CreateFailed | ChannelState::UpdateFailed => {
                Err(Error::Invalid(format!(
                    "MediaLive channel {id} is {state}: check the channel in the MediaLive console and fix the spec"
                )))
            }
            other => Ok(Progress::Transition(format!("the channel is {other}"))),
        }
    }

    /// A running channel: stop it when asked, when the cost guard fires, or to apply an update.
    async fn running(
        &mut self,
        id: &str,
        state: &ChannelState,
        differs: bool,
        _input_id: &str,
    ) -> Result<Progress> {
        let medialive = &self.ctx.aws.medialive;
        if *state == ChannelState::Running {
            self.status.running_since.get_or_insert_with(|| {
                k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now())
            });
        }
        let over_limit = match (
            &self.stream.spec.max_run_duration,
            &self.status.running_since,
        ) {
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
                format!(
                    "Stopping MediaLive channel {id} to apply a spec change (updatePolicy: Restart)"
                ),
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
    fn guarded(&self) -> bool {
        self.status.max_run_duration_stopped_generation.is_some()
            && self.status.max_run_duration_stopped_generation == self.stream.meta().generation
    }

    fn record_channel(&mut self, id: &str, arn: Option<String>, state: Option<ChannelState>) {
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

/// Publishes a Kubernetes event about the stream; a failure to publish is logged, not fatal.
pub async fn publish(
    ctx: &Context,
    stream: &LiveStream,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(note),
        action: reason.into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &stream.object_ref(&())).await {
        tracing::warn!(error = %e, "cannot publish event");
    }
}
