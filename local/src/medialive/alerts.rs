//! Channel alerts as MediaLive raises them for an RTMP push input (pull inputs and the types that
//! carry no media here: `pull`), in AWS's wording ("Alerts for
//! channels" in the MediaLive user guide): set and cleared from what the media path sees, listed
//! by ListAlerts until about 5 minutes after they clear. Stopping a channel clears its alerts, and
//! their ids count again from the next start, as on AWS.

use std::time::{Duration, SystemTime};

use axum::{http::StatusCode, response::Response};
use serde_json::{Value, json};

use super::{ChannelState, MediaLive};
use crate::{
    media::Ingest,
    protocol::{ApiError, ApiResult},
    protocol::{ApiRequest, json_response, page_response},
};

/// 5305: nothing has published to the input since the channel started.
pub const RTMP_STREAM_NOT_FOUND: &str = "RTMP Stream Not Found";
/// 5307: the publisher that was there is gone.
pub const RTMP_HAS_NO_AUDIO_VIDEO: &str = "RTMP Has No Audio/Video";
/// 5007: no decodable input yet, a while after the start.
pub const INITIAL_PROBE: &str = "Initial Probe is Taking Longer Than Expected";
/// 5201 and 5101: the input carries no video, or no audio.
pub const VIDEO_NOT_DETECTED: &str = "Video Not Detected";
pub const AUDIO_NOT_DETECTED: &str = "Audio Not Detected";
/// 5601 (the wording NOTES.md took from the MediaLive user guide's alert list; the public pages
/// found in this session did not show the list again): automatic input failover switched the
/// pipeline to the other input of the pair. Set while the pipeline runs on the input it failed
/// over to; cleared when it is back on the primary (when it clears on AWS is not documented).
pub const INPUT_FAILED_OVER: &str = "Input Failed Over";
/// An input type livestream-local accepts but cannot receive media from (RTP, MediaConnect, SRT,
/// Link devices…): the channel runs without input. Not an AWS alert type: ours, to say so.
pub const UNSUPPORTED_INPUT: &str = "Input Type Not Streamed Locally";

/// How long media may pause before its alert is raised (MediaLive reacts within a few frames;
/// a little slack keeps a hiccup of the local encoder from flapping it).
pub const MEDIA_GAP: Duration = Duration::from_secs(3);
/// How long after the start the initial probe is considered slow.
pub const PROBE_SLOW: Duration = Duration::from_secs(10);
/// Cleared alerts are listed this long ("approximately 5 minutes").
const CLEARED_RETENTION: Duration = Duration::from_secs(300);

struct Alert {
    id: String,
    /// "0" or "1": input loss is raised per pipeline.
    pipeline: u8,
    alert_type: &'static str,
    message: String,
    set_at: SystemTime,
    cleared_at: Option<SystemTime>,
}

/// One channel's alerts.
#[derive(Default)]
pub struct Alerts {
    list: Vec<Alert>,
    /// Alerts set since the channel started: the id series.
    count: u64,
    /// A publisher was seen on each pipeline since the channel started.
    had_publisher: [bool; 2],
}

/// The alerts a running channel has now, from what its publisher sends.
pub fn wanted(
    ingest: Option<Ingest>,
    had_publisher: bool,
    running_for: Duration,
    stream: &str,
) -> Vec<(&'static str, String)> {
    let mut want = Vec::new();
    let Some(ingest) = ingest else {
        if had_publisher {
            want.push((
                RTMP_HAS_NO_AUDIO_VIDEO,
                format!("RTMP stream [{stream}] is no longer present"),
            ));
            want.push((VIDEO_NOT_DETECTED, "Video not detected on the active input".into()));
            want.push((AUDIO_NOT_DETECTED, "Audio not detected on the active input".into()));
        } else {
            want.push((RTMP_STREAM_NOT_FOUND, format!("RTMP stream [{stream}] not found")));
            if running_for >= PROBE_SLOW {
                want.push((INITIAL_PROBE, "Waiting for an input that can be decoded".into()));
            }
        }
        return want;
    };
    let silent = |since: Option<Duration>| since.unwrap_or(ingest.publishing_for) >= MEDIA_GAP;
    if silent(ingest.since_video) {
        want.push((VIDEO_NOT_DETECTED, "Video not detected on the active input".into()));
    }
    if silent(ingest.since_audio) {
        want.push((AUDIO_NOT_DETECTED, "Audio not detected on the active input".into()));
    }
    want
}

impl Alerts {
    /// Sets what is wanted and not set, clears what is set and no longer wanted.
    pub fn update(
        &mut self,
        channel_id: &str,
        pipeline: u8,
        want: &[(&'static str, String)],
        ingest_seen: bool,
        now: SystemTime,
    ) {
        self.had_publisher[usize::from(pipeline.min(1))] |= ingest_seen;
        let mine = |a: &&mut Alert| a.pipeline == pipeline && a.cleared_at.is_none();
        for alert in self.list.iter_mut().filter(mine) {
            if !want.iter().any(|(t, _)| *t == alert.alert_type) {
                alert.cleared_at = Some(now);
            }
        }
        for (alert_type, message) in want {
            let set = (self.list.iter())
                .any(|a| a.pipeline == pipeline && a.cleared_at.is_none() && a.alert_type == *alert_type);
            if !set {
                self.count += 1;
                self.list.push(Alert {
                    id: alert_id(channel_id, self.count),
                    pipeline,
                    alert_type,
                    message: message.clone(),
                    set_at: now,
                    cleared_at: None,
                });
            }
        }
        self.expire(now);
    }

    /// The channel stopped: every alert clears, and the next start begins a new id series.
    pub fn stopped(&mut self, now: SystemTime) {
        for alert in self.list.iter_mut().filter(|a| a.cleared_at.is_none()) {
            alert.cleared_at = Some(now);
        }
        self.count = 0;
        self.had_publisher = [false; 2];
        self.expire(now);
    }

    pub fn had_publisher(&self, pipeline: u8) -> bool {
        self.had_publisher[usize::from(pipeline.min(1))]
    }

    fn expire(&mut self, now: SystemTime) {
        self.list.retain(|a| {
            a.cleared_at
                .is_none_or(|t| now.duration_since(t).unwrap_or_default() < CLEARED_RETENTION)
        });
    }

    fn listed(&self, filter: &str) -> Vec<(String, Value)> {
        (self.list.iter().enumerate())
            .filter(|(_, a)| match filter {
                "SET" => a.cleared_at.is_none(),
                "CLEARED" => a.cleared_at.is_some(),
                _ => true,
            })
            .map(|(n, a)| {
                let mut value = json!({
                    "alertType": a.alert_type,
                    "id": a.id,
                    "message": a.message,
                    "pipelineId": a.pipeline.to_string(),
                    "setTimestamp": iso8601(a.set_at),
                    "state": if a.cleared_at.is_some() { "CLEARED" } else { "SET" },
                });
                if let Some(cleared) = a.cleared_at {
                    value["clearedTimestamp"] = json!(iso8601(cleared));
                }
                // Pages in the order alerts were set.
                (format!("{n:08}"), value)
            })
            .collect()
    }
}

/// "A hash of a monotonically increasing count", per channel.
fn alert_id(channel_id: &str, count: u64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{channel_id}/{count}"));
    hex::encode(&digest[..20])
}

fn iso8601(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t).map(|t| t.to_string()).unwrap_or_default()
}

impl MediaLive {
    /// Moves every channel's alerts to what its media path shows now.
    pub(super) fn refresh_alerts(&self, state: &mut super::State) {
        let now = SystemTime::now();
        let instant = std::time::Instant::now();
        let super::State { inputs, channels, .. } = state;
        for channel in channels.values_mut() {
            if channel.state() != ChannelState::Running {
                if channel.alerts.list.iter().any(|a| a.cleared_at.is_none()) || channel.alerts.count > 0 {
                    channel.alerts.stopped(now);
                }
                continue;
            }
            let running_for = (channel.lifecycle_entered(instant)).map_or(Duration::ZERO, |t| instant - t);
            let (redundancy, input_ids) = super::redundancy::redundancy(&channel.settings);
            let id = channel.id.clone();
            match input_ids.first().and_then(|i| inputs.get(i)) {
                Some(input) if input.input_type != "RTMP_PUSH" => {
                    let ingest = self.inner.media.ingest(&channel.id);
                    let want = Self::pull_alerts(&self.inner, channel, input, ingest, running_for);
                    channel.alerts.update(&id, 0, &want, ingest.is_some(), now);
                }
                _ => {
                    let views = self.inner.media.pipelines(&channel.id);
                    for p in 0..redundancy.pipelines {
                        let view = views.iter().find(|v| v.pipeline == p);
                        // The input the pipeline ingests now (its primary before any).
                        let source = view.and_then(|v| v.active).unwrap_or(0);
                        let ingest = view.and_then(|v| v.sources.get(source).copied().flatten());
                        let input = input_ids.get(source).and_then(|i| inputs.get(i));
                        let stream =
                            (input.and_then(|i| i.stream_names.get(usize::from(p)).cloned())).unwrap_or_default();
                        let had = channel.alerts.had_publisher(p) || ingest.is_some();
                        let mut want = wanted(ingest, had, running_for, &stream);
                        if let Some(failover) = view.and_then(|v| v.failed_over.as_ref()) {
                            let name = |i: usize| redundancy.sources.get(i).cloned().unwrap_or_default();
                            want.push((
                                INPUT_FAILED_OVER,
                                format!(
                                    "Input failed over from [{}] to [{}]",
                                    name(failover.from),
                                    name(failover.to)
                                ),
                            ));
                        }
                        channel.alerts.update(&id, p, &want, ingest.is_some(), now);
                    }
                }
            }
        }
    }

    /// ListAlerts: the channel's alerts, filtered by state (SET, CLEARED or ALL).
    pub(super) fn list_alerts(&self, req: &ApiRequest) -> ApiResult<Response> {
        let id = &req.segments[2];
        let (max, token) = req.page()?;
        // The model documents SET and CLEARED (ALL: every alert, as the console asks).
        let filter = req.query_one("stateFilter").unwrap_or("ALL").to_owned();
        if !matches!(filter.as_str(), "SET" | "CLEARED" | "ALL") {
            return Err(ApiError::bad_request(format!(
                "stateFilter must be SET, CLEARED or ALL, got {filter}"
            )));
        }
        let state = self.state();
        let channel = state.channels.get(id).ok_or_else(|| super::channels::not_found(id))?;
        Ok(page_response(
            "alerts",
            channel.alerts.listed(&filter),
            max,
            token.as_deref(),
        ))
    }

    /// DescribeThumbnails: the latest JPEG of the running channel's input, base64 in `body`.
    pub(super) fn describe_thumbnails(&self, req: &ApiRequest) -> ApiResult<Response> {
        let id = &req.segments[2];
        // The model: `Pipeline ID ("0" or "1")`.
        let pipeline = req.query_one("pipelineId").unwrap_or_default().to_owned();
        if !matches!(pipeline.as_str(), "0" | "1") {
            return Err(ApiError::bad_request(format!(
                "pipelineId must be 0 or 1, got {pipeline:?}"
            )));
        }
        let state = self.state();
        let channel = state.channels.get(id).ok_or_else(|| super::channels::not_found(id))?;
        // Thumbnails exist while a channel with `thumbnailConfiguration.state: AUTO` runs. No AWS
        // refusal of the other cases was found: they answer no thumbnails.
        let enabled = channel.settings["encoderSettings"]["thumbnailConfiguration"]["state"].as_str() == Some("AUTO");
        let live = enabled && channel.state() == ChannelState::Running;
        // A single-pipeline channel has pipeline 0 only.
        let thumbnail = (live && pipeline == "0")
            .then(|| self.inner.media.thumbnail(id))
            .flatten();
        let thumbnails: Vec<Value> = thumbnail
            .into_iter()
            .map(|(jpeg, at)| {
                json!({
                    "body": base64(&jpeg),
                    "contentType": "image/jpeg",
                    "thumbnailType": "CURRENT_ACTIVE",
                    "timeStamp": iso8601(at),
                })
            })
            .collect();
        Ok(json_response(
            StatusCode::OK,
            json!({ "thumbnailDetails": [{ "pipelineId": pipeline, "thumbnails": thumbnails }] }),
        ))
    }
}

/// Standard base64 with padding, as the JSON protocol carries blobs.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest(video: Option<u64>, audio: Option<u64>) -> Option<Ingest> {
        Some(Ingest {
            publishing_for: Duration::from_secs(20),
            since_video: video.map(Duration::from_secs),
            since_audio: audio.map(Duration::from_secs),
        })
    }

    fn types(want: &[(&'static str, String)]) -> Vec<&'static str> {
        want.iter().map(|(t, _)| *t).collect()
    }

    #[test]
    fn a_channel_nobody_publishes_to_says_the_stream_is_not_found_then_that_probing_is_slow() {
        assert_eq!(
            types(&wanted(None, false, Duration::from_secs(1), "live/key")),
            [RTMP_STREAM_NOT_FOUND]
        );
        assert_eq!(
            types(&wanted(None, false, Duration::from_secs(12), "live/key")),
            [RTMP_STREAM_NOT_FOUND, INITIAL_PROBE]
        );
    }

    #[test]
    fn a_publisher_that_left_or_went_quiet_raises_input_loss() {
        assert_eq!(
            types(&wanted(None, true, Duration::from_secs(60), "live/key")),
            [RTMP_HAS_NO_AUDIO_VIDEO, VIDEO_NOT_DETECTED, AUDIO_NOT_DETECTED]
        );
        assert!(wanted(ingest(Some(0), Some(0)), true, Duration::from_secs(60), "").is_empty());
        assert_eq!(
            types(&wanted(ingest(Some(0), None), true, Duration::from_secs(60), "")),
            [AUDIO_NOT_DETECTED]
        );
        assert_eq!(
            types(&wanted(ingest(Some(5), Some(0)), true, Duration::from_secs(60), "")),
            [VIDEO_NOT_DETECTED]
        );
    }

    #[test]
    fn alerts_set_clear_expire_and_restart_their_ids_with_the_channel() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut alerts = Alerts::default();
        let lost = wanted(None, false, Duration::ZERO, "live/key");
        alerts.update("1", 0, &lost, false, t0);
        alerts.update("1", 0, &lost, false, t0 + Duration::from_secs(1));
        assert_eq!(alerts.listed("SET").len(), 1, "set once, however often it is seen");
        let first_id = alerts.listed("ALL")[0].1["id"].clone();
        alerts.update("1", 0, &[], true, t0 + Duration::from_secs(2));
        let cleared = alerts.listed("CLEARED");
        assert_eq!(cleared.len(), 1);
        assert_eq!(cleared[0].1["state"], "CLEARED");
        assert!(cleared[0].1["clearedTimestamp"].is_string());
        assert!(alerts.had_publisher(0));
        alerts.update("1", 0, &[], true, t0 + Duration::from_secs(303));
        assert!(alerts.listed("ALL").is_empty(), "gone 5 minutes after clearing");
        alerts.stopped(t0 + Duration::from_secs(304));
        alerts.update("1", 0, &lost, false, t0 + Duration::from_secs(400));
        assert_eq!(
            alerts.listed("SET")[0].1["id"],
            first_id,
            "a restart starts the id series again"
        );
    }
}
