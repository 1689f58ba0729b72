//! The recording: an Archive output group added to the channel, writing the top rendition (the
//! ladder's highest bitrate, sharing its encode with the MediaPackage output, so recording costs no
//! second encode) and the AAC track as MPEG-TS files to S3, one per rollover interval, each run
//! under MediaLive's `$dt$` (the channel's start, `YYYYMMDDTHHMMSS` UTC).

use aws_sdk_medialive::types::{
    ArchiveContainerSettings, ArchiveGroupSettings, ArchiveOutputSettings, M2tsSettings, Output, OutputDestination,
    OutputDestinationSettings, OutputGroup, OutputGroupSettings, OutputLocationRef, OutputSettings,
};
use kube::ResourceExt;

use super::medialive::{AUDIO, ChannelSettings, video_description_name};
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
    channel.destinations.push(
        OutputDestination::builder()
            .id(DESTINATION)
            .settings(
                OutputDestinationSettings::builder()
                    .url(destination_url(recording))
                    .build(),
            )
            .build(),
    );
    let output = Output::builder()
        .output_name(format!("recording_{}", top.name))
        .video_description_name(video_description_name(top))
        .audio_description_names(AUDIO)
        .output_settings(
            OutputSettings::builder()
                .archive_output_settings(
                    ArchiveOutputSettings::builder()
                        .name_modifier(format!("_{}", top.name))
                        .extension("ts")
                        .container_settings(
                            ArchiveContainerSettings::builder()
                                .m2ts_settings(M2tsSettings::builder().build())
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build();
    let group = OutputGroup::builder()
        .name("recording")
        .output_group_settings(
            OutputGroupSettings::builder()
                .archive_group_settings(
                    ArchiveGroupSettings::builder()
                        .destination(OutputLocationRef::builder().destination_ref_id(DESTINATION).build())
                        .rollover_interval(recording.rollover_seconds)
                        .build(),
                )
                .build(),
        )
        .outputs(output)
        .build();
    let groups = channel.encoder_settings.output_groups.get_or_insert_with(Vec::new);
    groups.push(group);
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
        let groups = channel.encoder_settings.output_groups.as_ref().unwrap();
        let archive = groups[1]
            .output_group_settings
            .as_ref()
            .unwrap()
            .archive_group_settings
            .as_ref()
            .unwrap();
        assert_eq!(archive.rollover_interval, Some(60));
        let output = &groups[1].outputs.as_ref().unwrap()[0];
        assert_eq!(
            output.video_description_name.as_deref(),
            Some("video_1080p"),
            "shares the top encode"
        );
        assert_eq!(channel.destinations.len(), 2);
        let off = LiveStream::new("off", serde_json::from_value(json!({})).unwrap());
        assert_eq!(of(&off, Some("archive")), None);
    }
}
