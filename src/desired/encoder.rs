//! The channel's `EncoderSettings` from the typed ladder, in AWS's member names: one H.264 video
//! description and one MediaPackage output per rendition, all sharing the AAC track. What the
//! ladder cannot say comes from `spec.encoding.overrides` (see `overlay`).

use serde_json::{Value, json};

use super::redundancy::AUDIO_SELECTOR;
use crate::api::{EncodingSpec, Rendition};

/// The MediaPackage destination's id.
pub(super) const DESTINATION: &str = "mediapackage";
/// The AAC audio description every output names.
pub(super) const AUDIO: &str = "audio_aac";
/// The MediaPackage output group, first in `OutputGroups` (overrides address it as `/0`).
pub const PACKAGE_GROUP: &str = "hls";

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
pub fn encoder_settings(encoding: &EncodingSpec, segment_durations: &[i32]) -> Value {
    let gop = gop_seconds(segment_durations);
    let audio = &encoding.audio;
    json!({
        // Thumbnails of the input, for `kubectl livestream thumbnail` (DescribeThumbnails).
        "ThumbnailConfiguration": {"State": "AUTO"},
        "VideoDescriptions": encoding.renditions.iter().map(|r| video_description(r, gop)).collect::<Vec<_>>(),
        "AudioDescriptions": [{
            "Name": AUDIO,
            "AudioSelectorName": AUDIO_SELECTOR,
            "AudioTypeControl": "FOLLOW_INPUT",
            "LanguageCodeControl": "FOLLOW_INPUT",
            "CodecSettings": {"AacSettings": {
                "Bitrate": f64::from(audio.bits_per_second),
                "SampleRate": f64::from(audio.sample_rate),
                "CodingMode": "CODING_MODE_2_0",
                "Profile": "LC",
                "RateControlMode": "CBR",
                "RawFormat": "NONE",
                "Spec": "MPEG4",
                "InputType": "NORMAL",
            }},
        }],
        "OutputGroups": [{
            "Name": PACKAGE_GROUP,
            "OutputGroupSettings": {"MediaPackageGroupSettings": {"Destination": {"DestinationRefId": DESTINATION}}},
            "Outputs": encoding.renditions.iter().map(output).collect::<Vec<_>>(),
        }],
        "TimecodeConfig": {"Source": "SYSTEMCLOCK"},
    })
}

pub fn video_description_name(rendition: &Rendition) -> String {
    format!("video_{}", rendition.name)
}

fn video_description(rendition: &Rendition, gop_seconds: f64) -> Value {
    json!({
        "Name": video_description_name(rendition),
        "Width": rendition.width,
        "Height": rendition.height,
        "CodecSettings": {"H264Settings": {
            "Bitrate": rendition.bits_per_second,
            "BufSize": rendition.bits_per_second.saturating_mul(2),
            "RateControlMode": "CBR",
            "FramerateControl": "SPECIFIED",
            "FramerateNumerator": rendition.frames_per_second,
            "FramerateDenominator": 1,
            "GopSize": gop_seconds,
            "GopSizeUnits": "SECONDS",
            "ParControl": "SPECIFIED",
            "ParNumerator": 1,
            "ParDenominator": 1,
            "Profile": "HIGH",
            "Level": "H264_LEVEL_AUTO",
            "ScanType": "PROGRESSIVE",
        }},
    })
}

fn output(rendition: &Rendition) -> Value {
    json!({
        "OutputName": rendition.name,
        "VideoDescriptionName": video_description_name(rendition),
        "AudioDescriptionNames": [AUDIO],
        "OutputSettings": {"MediaPackageOutputSettings": {}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_divide_the_segment() {
        for segment in 1..=30 {
            assert_eq!(f64::from(segment) % gop_seconds(&[segment]), 0.0, "segment {segment}");
        }
        assert_eq!(gop_seconds(&[6, 2, 4]), 2.0);
        assert_eq!(gop_seconds(&[5, 2, 2]), 1.0, "5 s HLS beside 2 s low-latency segments");
    }

    #[test]
    fn every_rendition_is_an_h264_description_and_a_package_output_sharing_the_aac_track() {
        let encoder = encoder_settings(&EncodingSpec::default(), &[6]);
        let ladder: Vec<_> = (encoder["VideoDescriptions"].as_array().unwrap().iter())
            .map(|v| {
                let h264 = &v["CodecSettings"]["H264Settings"];
                (
                    v["Width"].clone(),
                    v["Height"].clone(),
                    h264["Bitrate"].clone(),
                    h264["GopSize"].clone(),
                )
            })
            .collect();
        assert_eq!(
            ladder,
            [
                (json!(1920), json!(1080), json!(5_000_000), json!(2.0)),
                (json!(1280), json!(720), json!(3_000_000), json!(2.0))
            ]
        );
        let aac = &encoder["AudioDescriptions"][0]["CodecSettings"]["AacSettings"];
        assert_eq!(
            (aac["Bitrate"].as_f64(), aac["SampleRate"].as_f64()),
            (Some(192_000.0), Some(48_000.0))
        );
        let outputs = &encoder["OutputGroups"][0]["Outputs"];
        assert_eq!(outputs[1]["VideoDescriptionName"], "video_720p");
        assert_eq!(outputs[1]["AudioDescriptionNames"], json!([AUDIO]));
    }
}
