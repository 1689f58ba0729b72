//! The pure parts of harvest jobs: what CreateHarvestJob must satisfy beyond the model, which
//! retained segments a range cuts, and the HLS VOD playlists a job writes.
//!
//! Rules, from the MediaPackage v2 user guide ("Creating live-to-VOD assets with MediaPackage":
//! "The start time of the harvest job must be in the past", "The maximum job duration is 24
//! hours", "Any harvested manifest must not include start, end, or clip start time in the
//! manifest filter configuration"; v1's "Live-to-VOD requirements": startover must be enabled and
//! the job must fall within the endpoint's startover window) and the model's
//! `ValidationExceptionType` names (`HARVESTED_MANIFEST_NOT_FOUND_ON_ENDPOINT`,
//! `HARVESTED_MANIFEST_HAS_START_END_FILTER_CONFIGURATION`, `END_TIME_EARLIER_THAN_START_TIME`,
//! `INVALID_HARVEST_JOB_DURATION`). The messages are ours: AWS's wording is not published.

use std::fmt::Write as _;

use serde_json::Value;

use super::{ManifestKind, errors::validation};
use crate::media::origin::Group;
use crate::protocol::ApiResult;

/// The longest harvest: 24 hours.
pub(super) const MAX_DURATION_SECONDS: f64 = 24.0 * 3600.0;

/// The harvested manifest kinds (the members of `HarvestedManifests`), with the endpoint's.
pub(super) const HARVESTED: [ManifestKind; 3] = [ManifestKind::Hls, ManifestKind::LowLatencyHls, ManifestKind::Dash];

/// `(kind, name)` of every manifest a job harvests.
pub(super) fn harvested(body: &Value) -> Vec<(ManifestKind, String)> {
    let manifests = &body["HarvestedManifests"];
    HARVESTED
        .into_iter()
        .flat_map(|kind| {
            let list = manifests[kind.member()].as_array().cloned().unwrap_or_default();
            list.into_iter()
                .filter_map(move |m| Some((kind, m["ManifestName"].as_str()?.to_owned())))
        })
        .collect()
}

/// CreateHarvestJob against the endpoint as GetOriginEndpoint describes it, at `now` (epoch
/// seconds): the manifests exist on the endpoint and carry no Start/End/ClipStartTime filter;
/// the range ends after it starts, lasts at most 24 hours, starts in the past and within the
/// endpoint's startover window. Returns (start, end).
pub(super) fn check_create(body: &Value, endpoint: &Value, now: f64) -> ApiResult<(f64, f64)> {
    let manifests = harvested(body);
    if manifests.is_empty() {
        return Err(validation(
            "NUM_MANIFESTS_LOW",
            "HarvestedManifests must name at least one HLS, low-latency HLS or DASH manifest of the origin endpoint",
        ));
    }
    for (kind, name) in &manifests {
        let found = endpoint[kind.member()]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["ManifestName"] == name.as_str());
        let Some(found) = found else {
            return Err(validation(
                "HARVESTED_MANIFEST_NOT_FOUND_ON_ENDPOINT",
                format!(
                    "The harvested manifest {name} isn't one of the origin endpoint's {}",
                    kind.member()
                ),
            ));
        };
        let filter = &found["FilterConfiguration"];
        if ["Start", "End", "ClipStartTime"].iter().any(|m| !filter[m].is_null()) {
            return Err(validation(
                "HARVESTED_MANIFEST_HAS_START_END_FILTER_CONFIGURATION",
                format!(
                    "The harvested manifest {name} has a Start, End or ClipStartTime in its FilterConfiguration; \
                     a harvested manifest can't have them"
                ),
            ));
        }
    }
    let schedule = &body["ScheduleConfiguration"];
    let (Some(start), Some(end)) = (
        super::rules::seconds(&schedule["StartTime"]),
        super::rules::seconds(&schedule["EndTime"]),
    ) else {
        return Err(validation(
            "MEMBER_INVALID",
            "ScheduleConfiguration needs a StartTime and an EndTime",
        ));
    };
    if end <= start {
        return Err(validation(
            "END_TIME_EARLIER_THAN_START_TIME",
            "ScheduleConfiguration.EndTime must be later than ScheduleConfiguration.StartTime",
        ));
    }
    if end - start > MAX_DURATION_SECONDS {
        return Err(validation(
            "INVALID_HARVEST_JOB_DURATION",
            format!(
                "A harvest job can last at most 24 hours; this one lasts {:.0} seconds",
                end - start
            ),
        ));
    }
    if start >= now {
        return Err(validation(
            "MEMBER_INVALID",
            "ScheduleConfiguration.StartTime must be in the past",
        ));
    }
    let Some(window) = endpoint["StartoverWindowSeconds"].as_f64() else {
        return Err(validation(
            "MEMBER_INVALID",
            "The origin endpoint has no startover window (StartoverWindowSeconds): only an endpoint with a startover \
             window can be harvested",
        ));
    };
    if start < now - window {
        return Err(validation(
            "MEMBER_INVALID",
            format!(
                "ScheduleConfiguration.StartTime is outside the origin endpoint's startover window of {window:.0} \
                 seconds: the harvest job must fall within it"
            ),
        ));
    }
    Ok((start, end))
}

/// The endpoint segments a range [start, end) cuts: those whose first frame is in it (segments
/// without a program date-time cannot be placed in time and are left out).
pub(super) fn cut(groups: &[Group], start: f64, end: f64) -> Vec<Group> {
    groups
        .iter()
        .filter(|g| g.program_date_time.is_some_and(|t| t >= start && t < end))
        .cloned()
        .collect()
}

/// `2026-03-04T05:06:07.890Z`.
pub(super) fn date_time(seconds: f64) -> String {
    let t = jiff::Timestamp::from_millisecond((seconds * 1000.0).round() as i64).unwrap_or_default();
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A VOD media playlist of `segments`, each at `uri(segment)`: PLAYLIST-TYPE VOD, a
/// PROGRAM-DATE-TIME on every segment, a DISCONTINUITY wherever the sequence breaks or a new
/// encoder run starts, ENDLIST. With `map`, the segments are fragmented MP4 and their init
/// segment (`EXT-X-MAP`, version 6) is named before the first one and after each discontinuity.
pub(super) fn vod_media_playlist(
    segments: &[Group],
    uri: impl Fn(&Group) -> String,
    map: Option<impl Fn(&Group) -> String>,
) -> String {
    let longest = segments
        .iter()
        .map(|g| (g.duration * 1000.0).round() / 1000.0)
        .fold(1.0, f64::max);
    let first = segments.first().map_or(0, |g| g.sequence);
    let version = if map.is_some() { 6 } else { 3 };
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:{first}\n#EXT-X-PLAYLIST-TYPE:VOD\n",
        longest.ceil() as u64
    );
    for (i, g) in segments.iter().enumerate() {
        let broken = i > 0 && (g.discontinuity || segments[i - 1].sequence + 1 != g.sequence);
        if broken {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if let Some(map) = map.as_ref().filter(|_| i == 0 || broken) {
            let _ = writeln!(out, "#EXT-X-MAP:URI=\"{}\"", map(g));
        }
        if let Some(t) = g.program_date_time {
            let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", date_time(t));
        }
        let _ = writeln!(out, "#EXTINF:{:.3},\n{}", g.duration, uri(g));
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

/// The multivariant playlist of a harvested manifest: the live master's variants, each pointing
/// at `variant(rendition)` instead of `{rendition}/index.m3u8`.
pub(super) fn vod_master(live_master: &str, variant: impl Fn(&str) -> String) -> String {
    let lines = live_master.lines().map(|l| match l.strip_suffix("/index.m3u8") {
        Some(rendition) if !l.starts_with('#') => variant(rendition),
        _ => l.to_owned(),
    });
    lines.collect::<Vec<_>>().join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group(sequence: u64, at: Option<f64>) -> Group {
        Group {
            sequence,
            duration: 6.0,
            discontinuity: false,
            discontinuity_sequence: 0,
            uris: vec![format!("{sequence}.ts")],
            program_date_time: at,
        }
    }

    fn endpoint() -> Value {
        json!({
            "StartoverWindowSeconds": 300,
            "HlsManifests": [{"ManifestName": "index"}, {"ManifestName": "clip", "FilterConfiguration": {"Start": 1}}],
            "LowLatencyHlsManifests": [{"ManifestName": "ll"}],
        })
    }

    fn request(manifest: &str, start: f64, end: f64) -> Value {
        json!({
            "HarvestedManifests": {"HlsManifests": [{"ManifestName": manifest}]},
            "ScheduleConfiguration": {"StartTime": start, "EndTime": end},
        })
    }

    fn refusal(body: Value) -> String {
        let e = check_create(&body, &endpoint(), 10_000.0).unwrap_err();
        format!("{e:?}")
    }

    #[test]
    fn a_range_in_the_startover_window_of_a_manifest_on_the_endpoint_is_accepted() {
        assert_eq!(
            check_create(&request("index", 9_900.0, 9_920.0), &endpoint(), 10_000.0).unwrap(),
            (9_900.0, 9_920.0)
        );
        // The end may still be ahead: the job waits for it.
        assert!(check_create(&request("index", 9_990.0, 10_030.0), &endpoint(), 10_000.0).is_ok());
        // Timestamps also come as ISO 8601 text.
        let iso = json!({
            "HarvestedManifests": {"LowLatencyHlsManifests": [{"ManifestName": "ll"}]},
            "ScheduleConfiguration": {"StartTime": "1970-01-01T02:45:00Z", "EndTime": "1970-01-01T02:46:00Z"},
        });
        assert!(check_create(&iso, &endpoint(), 10_000.0).is_ok());
    }

    #[test]
    fn the_documented_refusals() {
        assert!(refusal(request("nope", 9_900.0, 9_920.0)).contains("HARVESTED_MANIFEST_NOT_FOUND_ON_ENDPOINT"));
        // An LL-HLS manifest named as an HLS one is not on the endpoint.
        assert!(refusal(request("ll", 9_900.0, 9_920.0)).contains("HARVESTED_MANIFEST_NOT_FOUND_ON_ENDPOINT"));
        assert!(refusal(request("clip", 9_900.0, 9_920.0)).contains("HARVESTED_MANIFEST_HAS_START_END_FILTER"));
        assert!(refusal(request("index", 9_920.0, 9_900.0)).contains("END_TIME_EARLIER_THAN_START_TIME"));
        assert!(refusal(request("index", 9_920.0, 9_920.0)).contains("END_TIME_EARLIER_THAN_START_TIME"));
        assert!(refusal(request("index", 0.0, 90_000.0)).contains("INVALID_HARVEST_JOB_DURATION"));
        assert!(refusal(request("index", 10_001.0, 10_020.0)).contains("must be in the past"));
        assert!(refusal(request("index", 9_600.0, 9_620.0)).contains("startover window of 300"));
        assert!(refusal(json!({"HarvestedManifests": {}, "ScheduleConfiguration": {}})).contains("NUM_MANIFESTS_LOW"));
        let no_window = json!({"HlsManifests": [{"ManifestName": "index"}]});
        let e = check_create(&request("index", 9_900.0, 9_920.0), &no_window, 10_000.0).unwrap_err();
        assert!(format!("{e:?}").contains("no startover window"));
    }

    #[test]
    fn a_range_cuts_the_segments_that_start_in_it() {
        let groups: Vec<Group> = (0..10).map(|i| group(i, Some(100.0 + 6.0 * i as f64))).collect();
        let cut = cut(&groups, 110.0, 130.0);
        assert_eq!(cut.iter().map(|g| g.sequence).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(super::cut(&[group(0, None)], 0.0, 1e12).is_empty());
    }

    #[test]
    fn vod_playlists_end_and_carry_date_times() {
        let mut segments = vec![group(4, Some(1.5)), group(5, Some(7.5)), group(7, Some(19.5))];
        segments[1].duration = 5.5;
        let text = vod_media_playlist(
            &segments,
            |g| format!("720p/segment_{}.ts", g.sequence),
            None::<fn(&Group) -> String>,
        );
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:4\n#EXT-X-PLAYLIST-TYPE:VOD\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:01.500Z\n#EXTINF:6.000,\n720p/segment_4.ts\n\
             #EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:07.500Z\n#EXTINF:5.500,\n720p/segment_5.ts\n\
             #EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:19.500Z\n#EXTINF:6.000,\n720p/segment_7.ts\n\
             #EXT-X-ENDLIST\n"
        );
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n";
        assert_eq!(
            vod_master(master, |r| format!("index_{r}.m3u8")),
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nindex_720p.m3u8\n"
        );
    }

    #[test]
    fn fragmented_mp4_playlists_name_their_init_segment_again_after_a_discontinuity() {
        let mut segments = vec![group(4, Some(1.5)), group(5, Some(7.5)), group(6, Some(19.5))];
        segments[2].discontinuity = true;
        let init = |g: &Group| format!("720p/segment_init_{}.mp4", u64::from(g.sequence >= 6));
        let text = vod_media_playlist(&segments, |g| format!("720p/segment_{}.mp4", g.sequence), Some(init));
        assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:6\n"), "{text}");
        let maps: Vec<&str> = text.lines().filter(|l| l.starts_with("#EXT-X-MAP:")).collect();
        assert_eq!(
            maps,
            [
                "#EXT-X-MAP:URI=\"720p/segment_init_0.mp4\"",
                "#EXT-X-MAP:URI=\"720p/segment_init_1.mp4\""
            ]
        );
        let after_break = text.split("#EXT-X-DISCONTINUITY\n").nth(1).unwrap();
        assert!(after_break.starts_with("#EXT-X-MAP:"), "{text}");
    }
}
