//! MediaPackage v2 requests: the stream's channel in its channel group and one origin endpoint per
//! manifest kind the spec enables, each with one manifest named [`MANIFEST`].

use crate::{
    api::{CmafEndpointSpec, Container, HlsSpec, PackagingSpec},
    resource::Role,
};

/// Every endpoint's manifest name: URLs end in `/{endpoint}/index.m3u8` or `/dash/index.mpd`.
pub const MANIFEST: &str = "index";

/// The kinds of manifest the operator puts on an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    Hls,
    LowLatencyHls,
    Dash,
}

impl ManifestKind {
    /// The origin endpoint's name for this kind, under the stream's channel.
    pub fn endpoint_name(self) -> &'static str {
        match self {
            Self::Hls => "hls",
            Self::LowLatencyHls => "llhls",
            Self::Dash => "dash",
        }
    }

    pub const ALL: [ManifestKind; 3] = [Self::Hls, Self::LowLatencyHls, Self::Dash];

    /// The endpoint's role among the stream's origin endpoints.
    pub fn role(self) -> Role {
        match self {
            Self::Hls => Role::Hls,
            Self::LowLatencyHls => Role::LowLatencyHls,
            Self::Dash => Role::Dash,
        }
    }

    /// The kind of the endpoint named `name` (endpoint names are the manifest kinds').
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.endpoint_name() == name)
    }
}

/// One origin endpoint as the spec asks for it, in the terms GetOriginEndpoint answers in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRequest {
    /// The channel group and the channel it belongs to.
    pub group: String,
    pub channel: String,
    pub name: String,
    pub kind: ManifestKind,
    pub container: Container,
    pub segment_duration_seconds: i32,
    pub startover_window_seconds: Option<i32>,
    pub manifest_window_seconds: i32,
    /// MediaPackage v2's manifest filter (`video_bitrate:MIN-MAX`), or None for every rendition.
    pub manifest_filter: Option<String>,
}

/// The stream's v2 channel: its group and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRequest {
    pub group: String,
    pub name: String,
    pub description: String,
}

/// The endpoints the spec enables on `channel`: HLS always, low-latency HLS and DASH unless
/// turned off.
pub fn endpoints(packaging: &PackagingSpec, channel: &ChannelRequest) -> Vec<EndpointRequest> {
    let startover = packaging.startover_window_seconds;
    let hls = |h: &HlsSpec| EndpointRequest {
        group: channel.group.clone(),
        channel: channel.name.clone(),
        name: ManifestKind::Hls.endpoint_name().into(),
        kind: ManifestKind::Hls,
        container: packaging.hls_container,
        segment_duration_seconds: h.segment_duration_seconds,
        startover_window_seconds: startover,
        manifest_window_seconds: h.playlist_window_seconds,
        manifest_filter: bitrate_filter(h.min_video_bits_per_second, h.max_video_bits_per_second),
    };
    let cmaf = |kind: ManifestKind, c: &CmafEndpointSpec| {
        c.enabled.then(|| EndpointRequest {
            group: channel.group.clone(),
            channel: channel.name.clone(),
            name: kind.endpoint_name().into(),
            kind,
            container: Container::Cmaf,
            segment_duration_seconds: c.segment_duration_seconds,
            startover_window_seconds: startover,
            manifest_window_seconds: c.playlist_window_seconds,
            manifest_filter: bitrate_filter(c.min_video_bits_per_second, c.max_video_bits_per_second),
        })
    };
    let mut all = vec![hls(&packaging.hls)];
    all.extend(cmaf(ManifestKind::LowLatencyHls, &packaging.low_latency_hls));
    all.extend(cmaf(ManifestKind::Dash, &packaging.dash));
    all
}

/// The v1 fields' bitrate bounds in v2's filter syntax; the full range is no filter at all.
fn bitrate_filter(min: i32, max: i32) -> Option<String> {
    (min > 0 || max < i32::MAX).then(|| format!("video_bitrate:{min}-{max}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn channel() -> ChannelRequest {
        ChannelRequest {
            group: "live".into(),
            name: "a".into(),
            description: String::new(),
        }
    }

    use super::*;

    fn packaging(value: serde_json::Value) -> PackagingSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_default_stream_gets_hls_low_latency_hls_and_dash() {
        let all = endpoints(&packaging(json!({})), &channel());
        let summary: Vec<_> = all
            .iter()
            .map(|e| {
                (
                    e.name.as_str(),
                    e.container,
                    e.segment_duration_seconds,
                    e.manifest_window_seconds,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("hls", Container::Ts, 5, 60),
                ("llhls", Container::Cmaf, 2, 60),
                ("dash", Container::Cmaf, 2, 60)
            ]
        );
        assert!(
            all.iter()
                .all(|e| e.manifest_filter.is_none() && e.startover_window_seconds.is_none())
        );
    }

    #[test]
    fn carries_bitrate_bounds_startover_and_turned_off_kinds() {
        let all = endpoints(
            &packaging(json!({
                "hlsContainer": "CMAF",
                "startoverWindowSeconds": 3600,
                "hls": {"minVideoBitsPerSecond": 1000000, "maxVideoBitsPerSecond": 4000000},
                "lowLatencyHls": {"enabled": false},
                "dash": {"segmentDurationSeconds": 4, "maxVideoBitsPerSecond": 3000000}
            })),
            &channel(),
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].container, Container::Cmaf);
        assert_eq!(all[0].manifest_filter.as_deref(), Some("video_bitrate:1000000-4000000"));
        assert_eq!(all[1].kind, ManifestKind::Dash);
        assert_eq!(all[1].segment_duration_seconds, 4);
        assert_eq!(all[1].manifest_filter.as_deref(), Some("video_bitrate:0-3000000"));
        assert!(all.iter().all(|e| e.startover_window_seconds == Some(3600)));
    }
}
