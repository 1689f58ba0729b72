//! The recording: an Archive output group added to the channel, writing the top rendition (the
//! ladder's highest bitrate, sharing its encode with the MediaPackage output, so recording costs no
//! second encode) and the AAC track as MPEG-TS files to S3, one per rollover interval, each run
//! under MediaLive's `$dt$` (the channel's start, `YYYYMMDDTHHMMSS` UTC).

use kube::ResourceExt;
use serde_json::json;

use super::encoder::{AUDIO, video_description_name};
use super::medialive::ChannelSettings;
use crate::api::{LiveStream, Rendition};

const DESTINATION: &str = "recording";

/// Where and how a stream records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    pub bucket: String,
    /// Ends in '/'.
    pub prefix: String,
    pub rollover_seconds: i32,
}

/// The recording `stream` asks for: None when off, or when no bucket is named by the spec or
/// the operator (reported by the caller).
pub fn of(stream: &LiveStream, default_bucket: Option<&str>) -> Option<Recording> {
    let spec = &stream.spec.recording;
    if !spec.enabled {
        return None;
    }
    let bucket = spec.bucket.as_deref().or(default_bucket)?;
    Some(Recording {
        bucket: bucket.to_owned(),
        prefix: spec.prefix.clone().unwrap_or_else(|| {
            format!(
                "recordings/{}/{}/",
                stream.namespace().unwrap_or_default(),
                stream.name_any()
            )
        }),
        rollover_seconds: spec.rollover_seconds,
    })
}

/// The rendition recorded: the highest bitrate.
pub fn top(renditions: &[Rendition]) -> Option<&Rendition> {
    renditions.iter().max_by_key(|r| r.bits_per_second)
}

/// `s3ssl://bucket/prefix$dt$/recording`: MediaLive appends the name modifier and
/// `.NNNNNN.ts`.
pub fn destination_url(recording: &Recording) -> String {
    format!("s3ssl://{}/{}$dt$/recording", recording.bucket, recording.prefix)
}

/// Adds the Archive output group and its destination to `channel`.
pub fn add_archive(channel: &mut ChannelSettings, renditions: &[Rendition], recording: &Recording) {
    let Some(top) = top(renditions) else {
        return;
    };
    let request = &mut channel.request;
    if let Some(destinations) = request["Destinations"].as_array_mut() {
        destinations.push(json!({"Id": DESTINATION, "Settings": [{"Url": destination_url(recording)}]}));
    }
    let group = json!({
        "Name": "recording",
        "OutputGroupSettings": {"ArchiveGroupSettings": {
            "Destination": {"DestinationRefId": DESTINATION},
            "RolloverInterval": recording.rollover_seconds,
        }},
        "Outputs": [{
            "OutputName": format!("recording_{}", top.name),
            "VideoDescriptionName": video_description_name(top),
            "AudioDescriptionNames": [AUDIO],
            "OutputSettings": {"ArchiveOutputSettings": {
                "NameModifier": format!("_{}", top.name),
                "Extension": "ts",
                "ContainerSettings": {"M2tsSettings": {}},
            }},
        }],
    });
    if let Some(groups) = request["EncoderSettings"]["OutputGroups"].as_array_mut() {
        groups.push(group);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::desired::{medialive, names::Names};

    #[test]
    fn the_top_rendition_is_archived_under_each_runs_start() {
        let mut stream = LiveStream::new(
            "launch",
            serde_json::from_value(json!({"recording": {"enabled": true, "rolloverSeconds": 60}})).unwrap(),
        );
        stream.metadata.namespace = Some("events".into());
        assert_eq!(of(&stream, None), None, "no bucket, no recording");
        let recording = of(&stream, Some("archive")).unwrap();
        assert_eq!(recording.prefix, "recordings/events/launch/");
        assert_eq!(
            destination_url(&recording),
            "s3ssl://archive/recordings/events/launch/$dt$/recording"
        );
        let names = Names::of(&stream);
        let role = "arn:aws:iam::123456789012:role/MediaLiveAccessRole";
        let mut channel = medialive::channel_settings(
            &stream.spec,
            &names,
            &[(crate::resource::Role::Primary, "1")],
            role,
            medialive::PackageTarget::V1,
        );
        add_archive(&mut channel, &stream.spec.encoding.renditions, &recording);
        let groups = &channel.request["EncoderSettings"]["OutputGroups"];
        assert_eq!(
            groups[1]["OutputGroupSettings"]["ArchiveGroupSettings"]["RolloverInterval"],
            60
        );
        let output = &groups[1]["Outputs"][0];
        assert_eq!(output["VideoDescriptionName"], "video_1080p", "shares the top encode");
        assert_eq!(channel.request["Destinations"].as_array().unwrap().len(), 2);
        let off = LiveStream::new("off", serde_json::from_value(json!({})).unwrap());
        assert_eq!(of(&off, Some("archive")), None);
    }
}
