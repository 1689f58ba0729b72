//! Pure comparisons of what AWS describes with what the spec wants. They compare the settings the
//! operator owns, not whole documents: AWS fills in defaults the operator never sent, and those must
//! not look like drift.

use aws_sdk_medialive::types::{EncoderSettings, InputWhitelistRule};
use aws_sdk_mediapackage::types::HlsPackage;

use crate::desired::medialive::ChannelSettings;

/// The allow-list differs as a set of CIDRs.
pub fn cidrs_differ(described: &[InputWhitelistRule], desired: &[String]) -> bool {
    let mut now: Vec<&str> = described.iter().filter_map(|r| r.cidr.as_deref()).collect();
    let mut want: Vec<&str> = desired.iter().map(String::as_str).collect();
    now.sort_unstable();
    want.sort_unstable();
    now != want
}

/// Segment, window, bitrate filter or order differ.
pub fn hls_differs(described: Option<&HlsPackage>, desired: &HlsPackage) -> bool {
    let Some(now) = described else { return true };
    let selection = |p: &HlsPackage| {
        p.stream_selection.as_ref().map(|s| {
            (
                s.min_video_bits_per_second,
                s.max_video_bits_per_second,
                s.stream_order.clone(),
            )
        })
    };
    (
        now.segment_duration_seconds,
        now.playlist_window_seconds,
        selection(now),
    ) != (
        desired.segment_duration_seconds,
        desired.playlist_window_seconds,
        selection(desired),
    )
}

/// Name, width, height, bitrate, frame rate and GOP of one video description.
type RenditionFingerprint = (
    Option<String>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<f64>,
);

/// The parts of a channel the operator sets: the ladder, audio, destination, input and role.
#[derive(Debug, PartialEq)]
pub struct ChannelFingerprint {
    renditions: Vec<RenditionFingerprint>,
    audio: Vec<(Option<f64>, Option<f64>)>,
    outputs: Vec<Option<String>>,
    package_channels: Vec<String>,
    inputs: Vec<String>,
    role_arn: Option<String>,
}

impl ChannelFingerprint {
    pub fn of(
        encoder: Option<&EncoderSettings>,
        destinations: &[aws_sdk_medialive::types::OutputDestination],
        inputs: &[aws_sdk_medialive::types::InputAttachment],
        role_arn: Option<&str>,
    ) -> Self {
        let renditions = encoder
            .and_then(|e| e.video_descriptions.as_ref())
            .into_iter()
            .flatten()
            .map(|v| {
                let h264 = v.codec_settings.as_ref().and_then(|c| c.h264_settings.as_ref());
                (
                    v.name.clone(),
                    v.width,
                    v.height,
                    h264.and_then(|h| h.bitrate),
                    h264.and_then(|h| h.framerate_numerator),
                    h264.and_then(|h| h.gop_size),
                )
            })
            .collect();
        let audio = encoder
            .and_then(|e| e.audio_descriptions.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|a| a.codec_settings.as_ref()?.aac_settings.as_ref())
            .map(|aac| (aac.bitrate, aac.sample_rate))
            .collect();
        let outputs = encoder
            .and_then(|e| e.output_groups.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|g| g.outputs.iter().flatten())
            .map(|o| o.video_description_name.clone())
            .collect();
        let package_channels = destinations
            .iter()
            .flat_map(|d| d.media_package_settings.iter().flatten())
            .filter_map(|m| m.channel_id.clone())
            .collect();
        let inputs = inputs.iter().filter_map(|a| a.input_id.clone()).collect();
        Self {
            renditions,
            audio,
            outputs,
            package_channels,
            inputs,
            role_arn: role_arn.map(str::to_owned),
        }
    }

    pub fn desired(settings: &ChannelSettings) -> Self {
        Self::of(
            Some(&settings.encoder_settings),
            &settings.destinations,
            &settings.input_attachments,
            Some(&settings.role_arn),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{
        api::LiveStreamSpec,
        desired::{Names, medialive::channel_settings, mediapackage::hls_package},
    };

    fn spec(value: serde_json::Value) -> LiveStreamSpec {
        serde_json::from_value(value).unwrap()
    }

    fn names() -> Names {
        Names {
            channel: "c".into(),
            endpoint: "c-hls".into(),
            input: "c-rtmp".into(),
        }
    }

    #[test]
    fn cidr_order_is_not_drift() {
        let rules = ["10.0.0.0/8", "192.168.0.0/16"].map(|c| InputWhitelistRule::builder().cidr(c).build());
        assert!(!cidrs_differ(&rules, &["192.168.0.0/16".into(), "10.0.0.0/8".into()]));
        assert!(cidrs_differ(&rules, &["10.0.0.0/8".into()]));
    }

    #[test]
    fn hls_window_change_is_drift() {
        let before = hls_package(&spec(json!({})).packaging.hls);
        let after = hls_package(
            &spec(json!({"packaging": {"hls": {"playlistWindowSeconds": 120}}}))
                .packaging
                .hls,
        );
        assert!(!hls_differs(Some(&before), &before));
        assert!(hls_differs(Some(&before), &after));
        assert!(hls_differs(None, &after));
    }

    #[test]
    fn a_changed_rendition_is_drift_but_identical_settings_are_not() {
        let base = channel_settings(&spec(json!({})), &names(), "1", "arn:aws:iam::1:role/r");
        let mut bigger = spec(json!({}));
        bigger.encoding.renditions[1].bits_per_second = 3_500_000;
        let changed = channel_settings(&bigger, &names(), "1", "arn:aws:iam::1:role/r");
        assert_eq!(
            ChannelFingerprint::desired(&base),
            ChannelFingerprint::desired(&base.clone())
        );
        assert_ne!(
            ChannelFingerprint::desired(&base),
            ChannelFingerprint::desired(&changed)
        );
    }
}
