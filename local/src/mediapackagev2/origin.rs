//! What an origin endpoint's URLs serve. A TS endpoint's HLS manifests serve HLS from the
//! channel's media (what MediaLive's MediaPackage output group writes for the channel group and
//! channel), packaged as v1 packages: the endpoint's segment duration, the manifest's window and
//! its `video_bitrate` filter. The master lists `{manifest}/{rendition}/index.m3u8`, so each
//! manifest keeps its own window. CMAF endpoints, low-latency HLS and DASH are not packaged yet:
//! 404 saying so.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::manifests::{ManifestKind, ManifestSettings};
use crate::{
    Cloud,
    media::{Packaging, StreamOrder, layout},
    mediapackage::{playlist, ts_segment, with_cors},
};

/// The answer to `file` (the path after the endpoint) of endpoint g/c/e.
pub(super) fn serve(cloud: &Cloud, (g, c, e): (&str, &str, &str), file: &[&str]) -> Response {
    let v2 = &cloud.mediapackagev2;
    let media = &cloud.media;
    let key = layout::v2_channel_key(g, c);
    let hls = |name: &str| v2.manifest(g, c, e, name).filter(|m| m.kind == ManifestKind::Hls);
    let result = match file {
        [top] => {
            let found = ManifestKind::ALL.into_iter().find_map(|kind| {
                v2.manifest(g, c, e, top.strip_suffix(kind.suffix())?)
                    .filter(|m| m.kind == kind)
            });
            let Some(manifest) = found else {
                return not_found("not found");
            };
            match packaging(&manifest) {
                Err(why) => return not_found(why),
                Ok(p) => {
                    let name = top.trim_end_matches(".m3u8");
                    media.master_playlist(&key, &p).map(|text| playlist(under(&text, name)))
                }
            }
        }
        [name, rendition, "index.m3u8"] => match hls(name).as_ref().map(packaging) {
            Some(Ok(p)) => media.media_playlist(&key, rendition, &p).map(playlist),
            Some(Err(why)) => return not_found(why),
            None => return not_found("not found"),
        },
        [name, rendition, segment] => {
            let (Some(Ok(p)), Some(sequence)) = (
                hls(name).as_ref().map(packaging),
                segment.strip_suffix(".ts").and_then(|s| s.parse::<u64>().ok()),
            ) else {
                return not_found("not found");
            };
            media.segment(&key, rendition, sequence, &p).map(ts_segment)
        }
        _ => return not_found("not found"),
    };
    result.map(with_cors).unwrap_or_else(|e| not_found(&e.to_string()))
}

/// How a manifest packages the media; Err says what is not served yet.
fn packaging(m: &ManifestSettings) -> Result<Packaging, &'static str> {
    match (m.endpoint["ContainerType"].as_str(), m.kind) {
        (Some("TS"), ManifestKind::Hls) => {}
        (_, ManifestKind::Hls) => return Err("livestream-local packages TS endpoints only so far: no CMAF media here"),
        _ => return Err("livestream-local does not package low-latency HLS, DASH or MSS yet: no media here"),
    }
    let number = |v: &Value, default: u64| v.as_u64().unwrap_or(default);
    let (min, max) = video_bitrate_filter(m.manifest["FilterConfiguration"]["ManifestFilter"].as_str());
    Ok(Packaging {
        segment_duration_seconds: number(&m.endpoint["Segment"]["SegmentDurationSeconds"], 6) as u32,
        playlist_window_seconds: number(&m.manifest["ManifestWindowSeconds"], 60) as u32,
        min_video_bits_per_second: min,
        max_video_bits_per_second: max,
        stream_order: StreamOrder::Original,
    })
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
fn under(master: &str, manifest: &str) -> String {
    let lines = master.lines().map(|l| {
        if l.is_empty() || l.starts_with('#') {
            l.to_owned()
        } else {
            format!("{manifest}/{l}")
        }
    });
    lines.collect::<Vec<_>>().join("\n") + "\n"
}

fn not_found(why: &str) -> Response {
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
