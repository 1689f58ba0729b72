//! MediaLive requests: the input security group's rules, the RTMP input, and the channel (a
//! single-pipeline H.264 ladder + AAC into a MediaPackage output group).

use aws_sdk_medialive::types::{
    AacCodingMode, AacInputType, AacProfile, AacRateControlMode, AacRawFormat, AacSettings, AacSpec,
    AudioCodecSettings, AudioDescription, AudioDescriptionAudioTypeControl, AudioDescriptionLanguageCodeControl,
    AudioSelector, ChannelClass, EncoderSettings, H264FramerateControl, H264GopSizeUnits, H264Level, H264ParControl,
    H264Profile, H264RateControlMode, H264ScanType, H264Settings, InputAttachment, InputCodec, InputMaximumBitrate,
    InputResolution, InputSettings, InputSourceEndBehavior, InputSpecification, InputWhitelistRuleCidr,
    MediaPackageGroupSettings, MediaPackageOutputDestinationSettings, MediaPackageOutputSettings, Output,
    OutputDestination, OutputGroup, OutputGroupSettings, OutputLocationRef, OutputSettings, ThumbnailConfiguration,
    ThumbnailState, TimecodeConfig, TimecodeConfigSource, VideoCodecSettings, VideoDescription,
};

use super::names::Names;
use super::redundancy::{AUDIO_SELECTOR, Resilience};
use crate::api::{EncodingSpec, InputSpec, LiveStreamSpec, PackagingSpec, PackagingVersion, Rendition};
use crate::resource::Role;

const DESTINATION: &str = "mediapackage";
pub(super) const AUDIO: &str = "audio_aac";

/// The security group's allow-list, one rule per CIDR.
pub fn whitelist_rules(input: &InputSpec) -> Vec<InputWhitelistRuleCidr> {
    input
        .allowed_cidrs
        .iter()
        .map(|cidr| InputWhitelistRuleCidr::builder().cidr(cidr).build())
        .collect()
}

/// Everything CreateChannel and UpdateChannel send, except tags.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelSettings {
    pub name: String,
    pub channel_class: ChannelClass,
    pub input_specification: InputSpecification,
    pub input_attachments: Vec<InputAttachment>,
    pub destinations: Vec<OutputDestination>,
    pub encoder_settings: EncoderSettings,
    pub role_arn: String,
}

/// The MediaPackage channel the MediaPackage output group writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageTarget<'a> {
    /// MediaPackage v1: the channel's id.
    V1,
    /// MediaPackage v2 (CMAF ingest): the channel group and channel.
    V2 { group: &'a str },
}

/// The channel for `spec`, reading from `inputs` (by role, in attachment order) and writing to the
/// MediaPackage channel.
pub fn channel_settings(
    spec: &LiveStreamSpec,
    names: &Names,
    inputs: &[(Role, &str)],
    role_arn: &str,
    target: PackageTarget,
) -> ChannelSettings {
    let resilience = Resilience::of(spec);
    channel_settings_of(
        &spec.encoding,
        &spec.packaging,
        &resilience,
        names,
        inputs,
        role_arn,
        target,
    )
}

/// The channel for a ladder (`spec.encoding`) and its packaging (`spec.packaging`, for the
/// segment durations the keyframes follow).
pub fn channel_settings_of(
    encoding: &EncodingSpec,
    packaging: &PackagingSpec,
    resilience: &Resilience,
    names: &Names,
    inputs: &[(Role, &str)],
    role_arn: &str,
    target: PackageTarget,
) -> ChannelSettings {
    let (destination, version) = match target {
        PackageTarget::V1 => (
            MediaPackageOutputDestinationSettings::builder()
                .channel_id(&names.channel)
                .build(),
            PackagingVersion::V1,
        ),
        PackageTarget::V2 { group } => (
            MediaPackageOutputDestinationSettings::builder()
                .channel_group(group)
                .channel_name(&names.channel)
                .build(),
            PackagingVersion::V2,
        ),
    };
    let segments = packaging.segment_durations(version);
    // The primary fails over to the backup, when the spec has one.
    let backup = inputs.iter().find(|(role, _)| *role == Role::Backup);
    let failover = backup.and_then(|(_, id)| resilience.failover(id));
    ChannelSettings {
        name: names.channel.clone(),
        channel_class: resilience.channel_class(),
        input_specification: InputSpecification::builder()
            .codec(InputCodec::Avc)
            .maximum_bitrate(InputMaximumBitrate::Max20Mbps)
            .resolution(InputResolution::Hd)
            .build(),
        input_attachments: (inputs.iter())
            .map(|&(role, id)| {
                InputAttachment::builder()
                    .input_id(id)
                    .input_attachment_name(names.input(role))
                    .set_automatic_input_failover_settings(failover.clone().filter(|_| role == Role::Primary))
                    .input_settings(
                        InputSettings::builder()
                            .source_end_behavior(InputSourceEndBehavior::Continue)
                            .audio_selectors(AudioSelector::builder().name(AUDIO_SELECTOR).build())
                            .build(),
                    )
                    .build()
            })
            .collect(),
        destinations: vec![
            OutputDestination::builder()
                .id(DESTINATION)
                .media_package_settings(destination)
                .build(),
        ],
        encoder_settings: encoder_settings(encoding, &segments),
        role_arn: role_arn.to_owned(),
    }
}

/// Keyframe interval: every segment of every endpoint must start on one, so it divides each
/// segment duration.
pub fn gop_seconds(segment_durations: &[i32]) -> f64 {
    if segment_durations.iter().all(|d| d % 2 == 0) {
        2.0
    } else {
        1.0
    }
}

/// The ladder: one video description and one output per rendition, all sharing the AAC track.
pub fn encoder_settings(encoding: &EncodingSpec, segment_durations: &[i32]) -> EncoderSettings {
    let gop = gop_seconds(segment_durations);
    EncoderSettings::builder()
        // Thumbnails of the input, for `kubectl livestream thumbnail` (DescribeThumbnails).
        .thumbnail_configuration(ThumbnailConfiguration::builder().state(ThumbnailState::Auto).build())
        .set_video_descriptions(Some(
            encoding.renditions.iter().map(|r| video_description(r, gop)).collect(),
        ))
        .audio_descriptions(
            AudioDescription::builder()
                .name(AUDIO)
                .audio_selector_name(AUDIO_SELECTOR)
                .audio_type_control(AudioDescriptionAudioTypeControl::FollowInput)
                .language_code_control(AudioDescriptionLanguageCodeControl::FollowInput)
                .codec_settings(
                    AudioCodecSettings::builder()
                        .aac_settings(
                            AacSettings::builder()
                                .bitrate(f64::from(encoding.audio.bits_per_second))
                                .sample_rate(f64::from(encoding.audio.sample_rate))
                                .coding_mode(AacCodingMode::CodingMode20)
                                .profile(AacProfile::Lc)
                                .rate_control_mode(AacRateControlMode::Cbr)
                                .raw_format(AacRawFormat::None)
                                .spec(AacSpec::Mpeg4)
                                .input_type(AacInputType::Normal)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .output_groups(
            OutputGroup::builder()
                .name("hls")
                .output_group_settings(
                    OutputGroupSettings::builder()
                        .media_package_group_settings(
                            MediaPackageGroupSettings::builder()
                                .destination(OutputLocationRef::builder().destination_ref_id(DESTINATION).build())
                                .build(),
                        )
                        .build(),
                )
                .set_outputs(Some(encoding.renditions.iter().map(output).collect()))
                .build(),
        )
        .timecode_config(
            TimecodeConfig::builder()
                .source(TimecodeConfigSource::Systemclock)
                .build(),
        )
        .build()
}

pub(super) fn video_description_name(rendition: &Rendition) -> String {
    format!("video_{}", rendition.name)
}

fn video_description(rendition: &Rendition, gop_seconds: f64) -> VideoDescription {
    VideoDescription::builder()
        .name(video_description_name(rendition))
        .width(rendition.width)
        .height(rendition.height)
        .codec_settings(
            VideoCodecSettings::builder()
                .h264_settings(
                    H264Settings::builder()
                        .bitrate(rendition.bits_per_second)
                        .buf_size(rendition.bits_per_second.saturating_mul(2))
                        .rate_control_mode(H264RateControlMode::Cbr)
                        .framerate_control(H264FramerateControl::Specified)
                        .framerate_numerator(rendition.frames_per_second)
                        .framerate_denominator(1)
                        .gop_size(gop_seconds)
                        .gop_size_units(H264GopSizeUnits::Seconds)
                        .par_control(H264ParControl::Specified)
                        .par_numerator(1)
                        .par_denominator(1)
                        .profile(H264Profile::High)
                        .level(H264Level::H264LevelAuto)
                        .scan_type(H264ScanType::Progressive)
                        .build(),
                )
                .build(),
        )
        .build()
}

fn output(rendition: &Rendition) -> Output {
    Output::builder()
        .output_name(&rendition.name)
        .video_description_name(video_description_name(rendition))
        .audio_description_names(AUDIO)
        .output_settings(
            OutputSettings::builder()
                .media_package_output_settings(MediaPackageOutputSettings::builder().build())
                .build(),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> LiveStreamSpec {
        serde_json::from_value(json!({"input": {"allowedCidrs": ["203.0.113.0/24", "2001:db8::/32"]}})).unwrap()
    }

    #[test]
    fn one_rule_per_cidr() {
        let rules: Vec<_> = whitelist_rules(&spec().input)
            .into_iter()
            .map(|r| r.cidr.unwrap())
            .collect();
        assert_eq!(rules, ["203.0.113.0/24", "2001:db8::/32"]);
    }

    #[test]
    fn default_ladder_is_two_hd_renditions_into_mediapackage() {
        let names = Names {
            protocol: "rtmp",
            passphrase_secret: String::new(),
            channel: "launch".into(),
            endpoint: "launch-hls".into(),
        };
        let settings = channel_settings(
            &spec(),
            &names,
            &[(Role::Primary, "1234567")],
            "arn:aws:iam::123456789012:role/MediaLiveAccessRole",
            PackageTarget::V1,
        );
        assert_eq!(settings.channel_class, ChannelClass::SinglePipeline);
        assert_eq!(settings.input_attachments[0].input_id.as_deref(), Some("1234567"));
        assert_eq!(
            settings.destinations[0].media_package_settings.as_ref().unwrap()[0]
                .channel_id
                .as_deref(),
            Some("launch")
        );
        let encoder = &settings.encoder_settings;
        let ladder: Vec<_> = encoder
            .video_descriptions
            .as_ref()
            .unwrap()
            .iter()
            .map(|v| {
                let h264 = v.codec_settings.as_ref().unwrap().h264_settings.as_ref().unwrap();
                (
                    v.width.unwrap(),
                    v.height.unwrap(),
                    h264.bitrate.unwrap(),
                    h264.framerate_numerator.unwrap(),
                    h264.gop_size.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ladder,
            [(1920, 1080, 5_000_000, 30, 1.0), (1280, 720, 3_000_000, 30, 1.0)]
        );
        let aac = encoder.audio_descriptions.as_ref().unwrap()[0]
            .codec_settings
            .as_ref()
            .unwrap()
            .aac_settings
            .clone()
            .unwrap();
        assert_eq!((aac.bitrate, aac.sample_rate), (Some(192_000.0), Some(48_000.0)));
        let group = &encoder.output_groups.as_ref().unwrap()[0];
        let outputs: Vec<_> = group
            .outputs
            .as_ref()
            .unwrap()
            .iter()
            .map(|o| o.video_description_name.clone().unwrap())
            .collect();
        assert_eq!(outputs, ["video_1080p", "video_720p"]);
    }

    #[test]
    fn keyframes_divide_the_segment() {
        for segment in 1..=30 {
            assert_eq!(f64::from(segment) % gop_seconds(&[segment]), 0.0, "segment {segment}");
        }
        assert_eq!(gop_seconds(&[6, 2, 4]), 2.0);
        assert_eq!(gop_seconds(&[5, 2, 2]), 1.0, "5 s HLS beside 2 s low-latency segments");
    }

    #[test]
    fn a_v2_stream_writes_to_its_channel_in_the_group() {
        let names = Names {
            protocol: "rtmp",
            passphrase_secret: String::new(),
            channel: "launch".into(),
            endpoint: "launch-hls".into(),
        };
        let role = "arn:aws:iam::123456789012:role/MediaLiveAccessRole";
        let settings = channel_settings(
            &spec(),
            &names,
            &[(Role::Primary, "1")],
            role,
            PackageTarget::V2 { group: "live" },
        );
        let destination = &settings.destinations[0].media_package_settings.as_ref().unwrap()[0];
        assert_eq!(destination.channel_id, None);
        assert_eq!(destination.channel_group.as_deref(), Some("live"));
        assert_eq!(destination.channel_name.as_deref(), Some("launch"));
        let video = &settings.encoder_settings.video_descriptions.as_ref().unwrap()[0];
        let gop = video
            .codec_settings
            .as_ref()
            .unwrap()
            .h264_settings
            .as_ref()
            .unwrap()
            .gop_size;
        assert_eq!(gop, Some(1.0), "keyframes every second serve 5 s and 2 s segments");
    }
}
