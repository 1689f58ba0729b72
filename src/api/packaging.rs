//! `spec.packaging`: which MediaPackage packages the stream (v1 or v2) and its origin endpoints.
//!
//! v1 has one HLS endpoint (`hls`). v2 has a channel in a shared channel group and one origin
//! endpoint per manifest kind: HLS (`hls`, TS or CMAF), low-latency HLS (`lowLatencyHls`, CMAF)
//! and DASH (`dash`, CMAF), each with its own segment duration.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::spec::{HlsSpec, StreamOrder, default_max_video_bits, default_true};

/// Packaging settings for MediaPackage.
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[x_kube(
    validation = Rule::new("!has(self.version) || self.version == 'v1' || self.hls.streamOrder == 'ORIGINAL'")
        .message("MediaPackage v2 has no stream order: its manifests list the renditions in the order of spec.encoding.renditions; set streamOrder to ORIGINAL and order the ladder instead")
        .field_path(".hls.streamOrder"),
    validation = Rule::new("!has(self.version) || self.version == 'v1' || self.hls.playlistWindowSeconds >= 30")
        .message("MediaPackage v2 manifests hold at least 30 seconds: set playlistWindowSeconds to 30 or more")
        .field_path(".hls.playlistWindowSeconds")
)]
#[serde(rename_all = "camelCase")]
pub struct PackagingSpec {
    /// MediaPackage version: v2 (channel groups, HLS, low-latency HLS and DASH) or v1 (HLS).
    /// Unset: a stream that already owns MediaPackage resources keeps their version (recorded in
    /// status.packagingVersion); a new stream gets the operator's default (--packaging-version,
    /// v2). Changing it moves the stream: the new resources are created, the channel is pointed at
    /// them (a running channel follows updatePolicy), and only then are the old ones deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<PackagingVersion>,

    /// v2: the channel group the stream's channel joins. Unset: the operator's --channel-group.
    /// Created if missing and shared by every stream in it; deleted only once no channel is left
    /// in it, and only if the operator created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[a-zA-Z0-9_-]{1,256}$"))]
    pub channel_group: Option<String>,

    /// The HLS origin endpoint (v1 and v2).
    #[serde(default)]
    pub hls: HlsSpec,

    /// v2: the HLS endpoint's segments, MPEG-TS or CMAF (fragmented MP4). Default TS.
    #[serde(default)]
    pub hls_container: Container,

    /// v2: a low-latency HLS origin endpoint (CMAF, parts and blocking playlist reload).
    #[serde(default)]
    pub low_latency_hls: CmafEndpointSpec,

    /// v2: a DASH origin endpoint (CMAF, dynamic MPD).
    #[serde(default)]
    pub dash: CmafEndpointSpec,

    /// v2: how far back a viewer can start watching (MediaPackage's startover window), in seconds
    /// (60 to 1209600); unset: no startover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 1209600))]
    pub startover_window_seconds: Option<i32>,
}

/// The MediaPackage version that packages a stream.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum PackagingVersion {
    /// AWS Elemental MediaPackage (v1): a channel and an HLS origin endpoint.
    V1,
    /// AWS Elemental MediaPackage v2: a channel in a channel group, and origin endpoints.
    #[default]
    V2,
}

impl PackagingVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// The container of an HLS endpoint's segments.
#[derive(JsonSchema, Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Container {
    /// MPEG-2 transport stream segments: every HLS player.
    #[default]
    Ts,
    /// CMAF (fragmented MP4) segments.
    Cmaf,
}

/// A CMAF origin endpoint of MediaPackage v2 (low-latency HLS or DASH).
#[derive(KubeSchema, Deserialize, Serialize, Clone, Debug, PartialEq)]
#[x_kube(
    validation = Rule::new("self.playlistWindowSeconds >= self.segmentDurationSeconds")
        .message("playlistWindowSeconds must be at least segmentDurationSeconds")
        .field_path(".playlistWindowSeconds"),
    validation = Rule::new("self.minVideoBitsPerSecond <= self.maxVideoBitsPerSecond")
        .message("minVideoBitsPerSecond must not exceed maxVideoBitsPerSecond")
        .field_path(".minVideoBitsPerSecond")
)]
#[serde(rename_all = "camelCase")]
pub struct CmafEndpointSpec {
    /// Whether the endpoint exists. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,

    /// Duration of each segment, in seconds (1–30). Default 2.
    #[serde(default = "default_cmaf_segment")]
    #[schemars(range(min = 1, max = 30))]
    pub segment_duration_seconds: i32,

    /// Time window the live manifest holds, in seconds (30–86400). Default 60.
    #[serde(default = "default_cmaf_window")]
    #[schemars(range(min = 30, max = 86400))]
    pub playlist_window_seconds: i32,

    /// Renditions below this video bitrate are left out of the manifest. Default 0.
    #[serde(default)]
    #[schemars(range(min = 0, max = 2147483647))]
    pub min_video_bits_per_second: i32,

    /// Renditions above this video bitrate are left out of the manifest. Default 2147483647.
    #[serde(default = "default_max_video_bits")]
    #[schemars(range(min = 0, max = 2147483647))]
    pub max_video_bits_per_second: i32,
}

fn default_cmaf_segment() -> i32 {
    2
}
fn default_cmaf_window() -> i32 {
    60
}

impl Default for CmafEndpointSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            segment_duration_seconds: default_cmaf_segment(),
            playlist_window_seconds: default_cmaf_window(),
            min_video_bits_per_second: 0,
            max_video_bits_per_second: default_max_video_bits(),
        }
    }
}

impl PackagingSpec {
    /// The version this stream is packaged with: the spec's; else the one it owns resources of
    /// (`recorded`, or v1 for a stream an operator before v2 support made, which has a v1 channel
    /// id in status); else the operator's default. A default that changes never moves a stream.
    pub fn effective_version(
        &self,
        recorded: Option<PackagingVersion>,
        owns_v1: bool,
        default: PackagingVersion,
    ) -> PackagingVersion {
        self.version
            .or(recorded)
            .or(owns_v1.then_some(PackagingVersion::V1))
            .unwrap_or(default)
    }

    /// What v2 cannot do of this spec, naming the field (the admission rules cover an explicit
    /// `version: v2`; this covers a stream that gets v2 as the operator's default).
    pub fn v2_problem(&self) -> Option<String> {
        if self.hls.stream_order != StreamOrder::Original {
            return Some("spec.packaging.hls.streamOrder: MediaPackage v2 has no stream order; set it to ORIGINAL and order spec.encoding.renditions instead, or set spec.packaging.version: v1".into());
        }
        if self.hls.playlist_window_seconds < 30 {
            return Some("spec.packaging.hls.playlistWindowSeconds: MediaPackage v2 manifests hold at least 30 seconds; set it to 30 or more, or set spec.packaging.version: v1".into());
        }
        None
    }

    /// Every segment duration the channel's keyframes must divide.
    pub fn segment_durations(&self, version: PackagingVersion) -> Vec<i32> {
        let mut all = vec![self.hls.segment_duration_seconds];
        if version == PackagingVersion::V2 {
            for cmaf in [&self.low_latency_hls, &self.dash] {
                if cmaf.enabled {
                    all.push(cmaf.segment_duration_seconds);
                }
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_that_changes_never_moves_a_stream() {
        let spec = PackagingSpec::default();
        let (v1, v2) = (PackagingVersion::V1, PackagingVersion::V2);
        assert_eq!(
            spec.effective_version(None, false, v2),
            v2,
            "a new stream gets the default"
        );
        assert_eq!(spec.effective_version(None, true, v2), v1, "made before v2 support");
        assert_eq!(spec.effective_version(Some(v1), false, v2), v1, "recorded in status");
        assert_eq!(spec.effective_version(Some(v2), false, v1), v2);
        let explicit = PackagingSpec {
            version: Some(v2),
            ..PackagingSpec::default()
        };
        assert_eq!(explicit.effective_version(Some(v1), true, v1), v2, "the spec decides");
    }

    #[test]
    fn v2_refuses_a_stream_order_and_a_short_window_naming_the_field() {
        let mut spec = PackagingSpec::default();
        assert_eq!(spec.v2_problem(), None);
        spec.hls.stream_order = StreamOrder::VideoBitrateDescending;
        assert!(spec.v2_problem().unwrap().starts_with("spec.packaging.hls.streamOrder"));
        spec.hls.stream_order = StreamOrder::Original;
        spec.hls.playlist_window_seconds = 20;
        assert!(
            spec.v2_problem()
                .unwrap()
                .starts_with("spec.packaging.hls.playlistWindowSeconds")
        );
    }

    #[test]
    fn keyframes_serve_every_enabled_endpoint() {
        let mut spec = PackagingSpec::default();
        assert_eq!(spec.segment_durations(PackagingVersion::V1), [5]);
        assert_eq!(spec.segment_durations(PackagingVersion::V2), [5, 2, 2]);
        spec.dash.enabled = false;
        assert_eq!(spec.segment_durations(PackagingVersion::V2), [5, 2]);
    }
}
