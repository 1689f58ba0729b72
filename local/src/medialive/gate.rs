//! Where the control plane meets the media path: the RTMP front door asks whether a connection and a
//! publish are allowed (channel RUNNING, peer in a security group CIDR, stream name a destination),
//! and gets the encoding job read from the channel's encoder settings.

use std::net::IpAddr;

use serde_json::Value;

use super::job::transcode_job;
use super::{ChannelState, MediaLive, State};
use crate::media::pipeline::Route;
use crate::media::recorder::resolve_identifiers;
use crate::media::{InputGate, TranscodeJob, layout};

impl MediaLive {
    /// Checks shared by accept and publish; returns the attached channel's id.
    fn admit_checks(state: &mut State, input_id: &str, peer: IpAddr) -> Result<String, String> {
        let input = state.inputs.get_mut(input_id).ok_or("input deleted")?;
        if !input.is_live() {
            return Err("input is being deleted".into());
        }
        let groups = input.security_groups.clone();
        let allowed = groups
            .iter()
            .filter_map(|g| state.groups.get(g))
            .any(|g| g.allows(peer));
        if !allowed {
            return Err(format!(
                "{peer} is not in input security group(s) {}",
                groups.join(", ")
            ));
        }
        let channel = state
            .attached_channel(input_id)
            .ok_or("input is not attached to a channel")?;
        match channel.state() {
            ChannelState::Running => Ok(channel.id.clone()),
            other => Err(format!("channel {} is {other:?}, not RUNNING", channel.id)),
        }
    }
}

impl MediaLive {
    /// The encoding job of a running channel, read from its settings.
    pub(super) fn channel_job(
        inner: &super::Inner,
        channel: &super::channels::Channel,
    ) -> Result<TranscodeJob, String> {
        let destinations = channel.settings.get("destinations").cloned().unwrap_or_default();
        let started = channel.started_at.unwrap_or_else(jiff::Timestamp::now);
        let mut job = transcode_job(&channel.id, &channel.settings["encoderSettings"], &destinations)?;
        for group in &mut job.s3_groups {
            group.base_key = resolve_identifiers(&group.base_key, started);
        }
        // A MediaPackage v2 channel keeps its segments for its endpoints' startover windows.
        if let Some((group, channel)) = job.package_channel_id.as_deref().and_then(layout::v2_group_channel) {
            let window = inner.packages_v2.longest_startover_window(group, channel);
            job.retention_seconds = layout::retention_for(window, job.gop_seconds);
        }
        Ok(job)
    }
}

impl InputGate for MediaLive {
    fn admit(&self, input_id: &str, peer: IpAddr) -> Result<(), String> {
        Self::admit_checks(&mut self.state(), input_id, peer).map(|_| ())
    }

    fn publish(&self, input_id: &str, app: &str, stream: &str) -> Result<TranscodeJob, String> {
        self.route(input_id, 0, app, stream).map(|r| r.job)
    }

    fn route(&self, input_id: &str, leg: usize, app: &str, stream: &str) -> Result<Route, String> {
        let mut state = self.state();
        // A destination without an application part is published as the application alone.
        let name = if stream.is_empty() {
            app.to_owned()
        } else {
            format!("{app}/{stream}")
        };
        let input = state.inputs.get(input_id).ok_or("input deleted")?;
        // Each destination is its own listener (its own IP address on AWS): it takes its own name.
        if input.stream_names.get(leg) != Some(&name) {
            return Err(format!("stream {name:?} is not a destination of input {input_id}"));
        }
        // The peer was admitted at accept; the channel must still be running at publish.
        let channel_id = state
            .attached_channel(input_id)
            .map(|c| c.id.clone())
            .ok_or("input is not attached to a channel")?;
        let channel = state.channels.get_mut(&channel_id).expect("found above");
        if channel.state() != ChannelState::Running {
            return Err(format!("channel {channel_id} is not RUNNING"));
        }
        let (redundancy, inputs) = super::redundancy::redundancy(&channel.settings);
        // A SINGLE_PIPELINE channel ingests a standard-class input's first destination only.
        if leg >= usize::from(redundancy.pipelines) {
            return Err(format!(
                "channel {channel_id} is SINGLE_PIPELINE: it ingests destination 0 of input {input_id} only"
            ));
        }
        let source = (inputs.iter().position(|i| i == input_id)).ok_or("input is not attached to the channel")?;
        Ok(Route {
            job: Self::channel_job(&self.inner, channel)?,
            pipeline: leg as u8,
            source,
            redundancy,
        })
    }
}

/// Validation of the parts of EncoderSettings the local cloud acts on (references between them
/// are MediaLive's rules, in `rules`): the model requires VideoDescription.name and
/// EncoderSettings.outputGroups (an empty list: no public answer found; kept, nothing to encode).
pub fn encoder_errors(encoder: &Value) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let videos = encoder["videoDescriptions"].as_array().cloned().unwrap_or_default();
    for (n, video) in videos.iter().enumerate() {
        if video["name"].as_str().is_none() {
            errors.push((format!("videoDescriptions[{n}].name"), "name is required".into()));
        }
    }
    if encoder["outputGroups"].as_array().is_none_or(Vec::is_empty) {
        errors.push(("outputGroups".into(), "at least one output group is required".into()));
    }
    errors
}
