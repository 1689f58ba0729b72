//! Running channels whose input is not an RTMP push: pull inputs ffmpeg can read are pulled into
//! the channel's ladder; other types run without media and say so in an alert.

use std::time::Duration;

use super::alerts::{self, INITIAL_PROBE, UNSUPPORTED_INPUT};
use super::channels::Channel;
use super::inputs::Input;
use super::{Inner, MediaLive};
use crate::media::Ingest;
use crate::media::pull::PullSource;

impl MediaLive {
    /// The alerts of a running channel with a non-RTMP-push input, starting its pull reader once.
    pub(super) fn pull_alerts(
        inner: &Inner,
        channel: &Channel,
        input: &Input,
        ingest: Option<Ingest>,
        running_for: Duration,
    ) -> Vec<(&'static str, String)> {
        if input.input_type.starts_with("SRT_") {
            return Self::srt_alerts(inner, channel, input, running_for);
        }
        let Some(url) = input.pull_url() else {
            let message = format!(
                "livestream-local cannot receive {} inputs: the channel runs without input",
                input.input_type
            );
            return vec![(UNSUPPORTED_INPUT, message)];
        };
        if ingest.is_none() {
            match Self::channel_job(inner, channel) {
                Ok(job) => {
                    let looping = channel.settings["inputAttachments"][0]["inputSettings"]["sourceEndBehavior"]
                        .as_str()
                        == Some("LOOP");
                    inner.media.start_pull(job, PullSource { url, looping });
                }
                Err(reason) => tracing::debug!(channel_id = channel.id, reason, "nothing to encode"),
            }
        }
        match ingest {
            // Media that pauses (or a file that ended) raises the same alerts as a quiet publisher.
            Some(ingest) => alerts::wanted(Some(ingest), true, running_for, ""),
            None if running_for >= alerts::PROBE_SLOW => {
                vec![(INITIAL_PROBE, "Waiting for an input that can be decoded".into())]
            }
            None => Vec::new(),
        }
    }
}
