//! Where the control plane meets the media path: the RTMP front door asks whether a connection and a
//! publish are allowed (channel RUNNING, peer in a security group CIDR, stream name a destination),
//! and gets the encoding job read from the channel's encoder settings.

use std::net::IpAddr;

use serde_json::Value;

use super::{ChannelState, MediaLive, State};
use crate::media::{AudioRendition, InputGate, TranscodeJob, VideoRendition};

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

impl InputGate for MediaLive {
    fn admit(&self, input_id: &str, peer: IpAddr) -> Result<(), String> {
        Self::admit_checks(&mut self.state(), input_id, peer).map(|_| ())
    }

    fn publish(&self, input_id: &str, app: &str, stream: &str) -> Result<TranscodeJob, String> {
        let mut state = self.state();
        let name = format!("{app}/{stream}");
        let input = state.inputs.get(input_id).ok_or("input deleted")?;
        if !input.stream_names.contains(&name) {
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
        let destinations = channel.settings.get("destinations").cloned().unwrap_or_default();
        transcode_job(&channel_id, &channel.settings["encoderSettings"], &destinations)
    }
}

/// Validation of the parts of EncoderSettings the local cloud acts on (references between them
/// are MediaLive's rules, in `rules`).
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

/// Reads the encoding job of the channel's MediaPackage output group.
pub fn transcode_job(channel_id: &str, encoder: &Value, destinations: &Value) -> Result<TranscodeJob, String> {
    let groups = encoder["outputGroups"].as_array().cloned().unwrap_or_default();
    let group = groups
        .iter()
        .find(|g| !g["outputGroupSettings"]["mediaPackageGroupSettings"].is_null())
        .ok_or("channel has no MediaPackage output group")?;
    let reference = group["outputGroupSettings"]["mediaPackageGroupSettings"]["destination"]["destinationRefId"]
        .as_str()
        .unwrap_or_default();
    let package_channel_id = destinations
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["id"].as_str() == Some(reference))
        .and_then(|d| d["mediaPackageSettings"][0]["channelId"].as_str())
        .ok_or("MediaPackage destination has no channel id")?
        .to_owned();
    let description = |kind: &str, name: &str| {
        encoder[kind]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["name"].as_str() == Some(name))
            .cloned()
    };
    let mut renditions = Vec::new();
    let mut audio = AudioRendition {
        bitrate: 192_000,
        sample_rate: 48_000,
    };
    let mut gop_seconds: f64 = 1.0;
    for output in group["outputs"].as_array().into_iter().flatten() {
        if let Some(audio_name) = output["audioDescriptionNames"][0].as_str()
            && let Some(aac) =
                description("audioDescriptions", audio_name).map(|a| a["codecSettings"]["aacSettings"].clone())
        {
            audio.bitrate = aac["bitrate"].as_f64().unwrap_or(192_000.0) as u64;
            audio.sample_rate = aac["sampleRate"].as_f64().unwrap_or(48_000.0) as u32;
        }
        let Some(video) = output["videoDescriptionName"]
            .as_str()
            .and_then(|n| description("videoDescriptions", n))
        else {
            continue;
        };
        let h264 = &video["codecSettings"]["h264Settings"];
        let numerator = h264["framerateNumerator"].as_u64().unwrap_or(30) as u32;
        let denominator = h264["framerateDenominator"].as_u64().unwrap_or(1).max(1) as u32;
        if let Some(size) = h264["gopSize"].as_f64() {
            gop_seconds = match h264["gopSizeUnits"].as_str() {
                Some("SECONDS") => size,
                _ => size * f64::from(denominator) / f64::from(numerator.max(1)),
            };
        }
        let name: String = video["name"]
            .as_str()
            .unwrap_or("video")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        renditions.push(VideoRendition {
            name,
            width: video["width"].as_u64().unwrap_or(1280) as u32,
            height: video["height"].as_u64().unwrap_or(720) as u32,
            bitrate: h264["bitrate"].as_u64().unwrap_or(3_000_000),
            framerate_numerator: numerator,
            framerate_denominator: denominator,
        });
    }
    if renditions.is_empty() {
        return Err("the MediaPackage output group has no video outputs".into());
    }
    Ok(TranscodeJob {
        channel_id: channel_id.to_owned(),
        package_channel_id,
        renditions,
        audio,
        gop_seconds,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_ladder_of_the_mediapackage_output_group() {
        let encoder = json!({
            "videoDescriptions": [
                {"name": "video_1080p", "width": 1920, "height": 1080, "codecSettings": {"h264Settings": {
                    "bitrate": 5000000, "framerateNumerator": 30, "framerateDenominator": 1, "gopSize": 1, "gopSizeUnits": "SECONDS"}}},
                {"name": "video_720p", "width": 1280, "height": 720, "codecSettings": {"h264Settings": {"bitrate": 3000000}}}
            ],
            "audioDescriptions": [{"name": "audio_aac", "audioSelectorName": "default",
                "codecSettings": {"aacSettings": {"bitrate": 128000.0, "sampleRate": 44100.0}}}],
            "outputGroups": [{"outputGroupSettings": {"mediaPackageGroupSettings": {"destination": {"destinationRefId": "mp"}}},
                "outputs": [
                    {"outputName": "1080p", "videoDescriptionName": "video_1080p", "audioDescriptionNames": ["audio_aac"]},
                    {"outputName": "720p", "videoDescriptionName": "video_720p", "audioDescriptionNames": ["audio_aac"]}
                ]}]
        });
        let destinations = json!([{"id": "mp", "mediaPackageSettings": [{"channelId": "launch"}]}]);
        assert!(encoder_errors(&encoder).is_empty());
        let job = transcode_job("42", &encoder, &destinations).unwrap();
        assert_eq!(job.package_channel_id, "launch");
        assert_eq!(
            job.renditions.iter().map(|r| (r.width, r.bitrate)).collect::<Vec<_>>(),
            [(1920, 5_000_000), (1280, 3_000_000)]
        );
        assert_eq!((job.audio.bitrate, job.audio.sample_rate), (128_000, 44_100));
        assert_eq!(job.gop_seconds, 1.0);
    }
}
