//! What an origin endpoint's URLs serve, from the channel's media (what MediaLive's MediaPackage
//! output group writes for the channel group and channel), packaged as v1 packages: the
//! endpoint's segment duration, the manifest's window and its `video_bitrate` filter. The master
//! lists `{manifest}/{rendition}/index.m3u8`, so each manifest keeps its own window.
//!
//! - TS endpoints: HLS manifests over the MPEG-TS input segments (low-latency HLS: 404).
//! - CMAF endpoints: HLS, low-latency HLS and DASH over the CMAF parts, see [`super::cmaf`].
//! - MSS is not packaged: 404 saying so.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::MediaPackageV2;
use super::manifests::{ManifestKind, ManifestSettings};
use crate::{
    media::{Media, Packaging, StreamOrder, layout},
    protocol::hls::{playlist_for, ts_segment, with_cors},
};

/// The answer to `file` (the path after the endpoint) of endpoint g/c/e.
pub(super) async fn serve(
    v2: &MediaPackageV2,
    media: &Media,
    (g, c, e): (&str, &str, &str),
    file: &[&str],
    query: Option<&str>,
) -> Response {
    let key = layout::v2_channel_key(g, c);
    // The first path element names the manifest: `{name}.m3u8`, `{name}.mpd` or `{name}/...`.
    let manifest = match file {
        [top] => ManifestKind::ALL.into_iter().find_map(|kind| {
            let name = top.strip_suffix(kind.suffix())?;
            v2.manifest(g, c, e, name).filter(|m| m.kind == kind).map(|m| (m, name))
        }),
        [name, ..] => v2.manifest(g, c, e, name).map(|m| (m, *name)),
        [] => None,
    };
    let Some((manifest, name)) = manifest else {
        return not_found("not found");
    };
    match (manifest.endpoint["ContainerType"].as_str(), manifest.kind) {
        (Some("CMAF"), ManifestKind::Hls | ManifestKind::LowLatencyHls | ManifestKind::Dash) => {
            super::cmaf::serve(media, &key, (manifest, name), file, query).await
        }
        (Some("TS"), ManifestKind::Hls) => serve_ts(media, &key, &manifest, name, file),
        (Some("TS"), ManifestKind::LowLatencyHls) => {
            not_found("livestream-local packages low-latency HLS on CMAF endpoints only: no media here")
        }
        _ => not_found("livestream-local does not package MSS: no media here"),
    }
}

/// HLS over MPEG-TS: the master, a rendition's media playlist, a segment.
fn serve_ts(media: &Media, key: &str, manifest: &ManifestSettings, name: &str, file: &[&str]) -> Response {
    let p = packaging(manifest);
    let result = match file {
        [_] => (media.master_playlist(key, &p))
            .map(|text| playlist_for(under(&text, name), f64::from(p.segment_duration_seconds))),
        [_, rendition, "index.m3u8"] => (media.media_playlist(key, rendition, &p))
            .map(|text| playlist_for(text, f64::from(p.segment_duration_seconds))),
        [_, rendition, segment] => {
            let Some(sequence) = segment.strip_suffix(".ts").and_then(|s| s.parse::<u64>().ok()) else {
                return not_found("not found");
            };
            media.segment(key, rendition, sequence, &p).map(ts_segment)
        }
        _ => return not_found("not found"),
    };
    result.map(with_cors).unwrap_or_else(|e| not_found(&e.to_string()))
}

/// How a manifest packages the media: the endpoint's segment duration, the manifest's window
/// and bitrate filter.
pub(super) fn packaging(m: &ManifestSettings) -> Packaging {
    let number = |v: &Value, default: u64| v.as_u64().unwrap_or(default);
    let (min, max) = video_bitrate_filter(m.manifest["FilterConfiguration"]["ManifestFilter"].as_str());
    Packaging {
        segment_duration_seconds: number(&m.endpoint["Segment"]["SegmentDurationSeconds"], 6) as u32,
        playlist_window_seconds: number(&m.manifest["ManifestWindowSeconds"], 60) as u32,
        min_video_bits_per_second: min,
        max_video_bits_per_second: max,
        stream_order: StreamOrder::Original,
    }
}

/// The `video_bitrate:MIN-MAX` term of a manifest filter (MediaPackage v2's filter syntax:
/// `;`-separated `key:values` terms); no such term: everything.
fn video_bitrate_filter(filter: Option<&str>) -> (u64, u64) {
    let range = filter
        .into_iter()
        .flat_map(|f| f.split(';'))
        .find_map(|term| term.trim().strip_prefix("video_bitrate:"))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
    range.unwrap_or((0, u64::MAX))
}

/// The master playlist's variant URIs, under the manifest's own folder.
pub(super) fn under(master: &str, manifest: &str) -> String {
    let lines = master.lines().map(|l| {
        if l.is_empty() || l.starts_with('#') {
            l.to_owned()
        } else {
            format!("{manifest}/{l}")
        }
    });
    lines.collect::<Vec<_>>().join("\n") + "\n"
}

pub(super) fn not_found(why: &str) -> Response {
    with_cors((StatusCode::NOT_FOUND, why.to_owned()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_video_bitrate_term_of_a_manifest_filter_bounds_the_renditions() {
        assert_eq!(video_bitrate_filter(None), (0, u64::MAX));
        assert_eq!(
            video_bitrate_filter(Some("audio_language:eng;video_bitrate:1000000-4000000")),
            (1_000_000, 4_000_000)
        );
        assert_eq!(video_bitrate_filter(Some("video_height:720")), (0, u64::MAX));
    }

    #[test]
    fn variants_are_listed_under_their_manifest() {
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n";
        assert_eq!(
            under(master, "index"),
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nindex/720p/index.m3u8\n"
        );
    }
}
