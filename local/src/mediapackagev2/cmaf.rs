//! What a CMAF origin endpoint's URLs serve, from the channel's CMAF parts
//! ([`crate::media::cmaf`]). Under `/out/v1/{group}/{channel}/{endpoint}/`:
//!
//! - `{manifest}.m3u8` (HLS or low-latency HLS): the master, variants `{manifest}/{rendition}/index.m3u8`;
//! - `{manifest}/{rendition}/index.m3u8`: the media playlist; for low-latency HLS, with
//!   `_HLS_msn=M[&_HLS_part=P]` it is held until that segment or part exists (blocking reload);
//! - `{manifest}.mpd` (DASH): the MPD, a video and an audio AdaptationSet whose media (one track
//!   each, split out of the muxed parts) are under `{manifest}/{rendition}/video/` and `.../audio/`;
//! - `{manifest}/{rendition}/{SegmentName}_init_{run}.mp4`, `..._{seq}.mp4` (a segment) and
//!   `..._{seq}_{part}.mp4` (a part; the hinted next part is held until it is written).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use tokio::time::Instant;

use super::manifests::{ManifestKind, ManifestSettings};
use super::origin::{not_found, packaging, under};
use crate::{
    media::Media,
    media::cmaf::{
        CmafChannel, dash,
        hls::{self, PartState, PlaylistOptions, Reload, Resource},
        index::{RenditionMedia, RunMedia, group_size},
        ingest::part_target,
        split,
    },
    media::layout::{self, Ladder, LadderRendition},
    media::origin::{Packaging, render_master, select_renditions},
    protocol::hls::{playlist, playlist_for, with_cors},
};

/// Everything a CMAF manifest's requests need.
struct Endpoint {
    manifest: ManifestSettings,
    name: String,
    packaging: Packaging,
    segment_name: String,
    ladder: Ladder,
    codecs: HashMap<String, String>,
    channel: std::sync::Arc<CmafChannel>,
}

impl Endpoint {
    fn k(&self) -> u64 {
        group_size(self.packaging.segment_duration_seconds, self.ladder.gop_seconds)
    }

    fn nominal_segment(&self) -> f64 {
        self.k() as f64 * self.ladder.gop_seconds
    }

    fn selected(&self) -> Vec<&LadderRendition> {
        select_renditions(&self.ladder, &self.packaging)
    }

    fn rendition(&self, name: &str) -> Option<&LadderRendition> {
        self.selected().into_iter().find(|r| r.name == name)
    }

    /// A request waits at most this long: 3 target durations (RFC 8216bis 6.2.5.2).
    fn hold(&self) -> Duration {
        Duration::from_secs_f64(3.0 * self.nominal_segment().ceil())
    }
}

/// The answer to `file` of a CMAF endpoint of the channel whose media key is `key`; `manifest`
/// is the one named `name` by the first path element.
pub(super) async fn serve(
    pipeline: &Media,
    key: &str,
    (manifest, name): (ManifestSettings, &str),
    file: &[&str],
    query: Option<&str>,
) -> Response {
    let (Some(channel), Some((dir, ladder))) = (pipeline.cmaf(key), pipeline.package_ladder(key)) else {
        return not_found("the channel has not produced CMAF media yet");
    };
    let codecs = std::fs::read_to_string(dir.join(layout::FFMPEG_MASTER))
        .map(|t| layout::ffmpeg_codecs(&t))
        .unwrap_or_default();
    let e = Endpoint {
        packaging: packaging(&manifest),
        segment_name: (manifest.endpoint["Segment"]["SegmentName"].as_str())
            .unwrap_or("segment")
            .to_owned(),
        manifest,
        name: name.to_owned(),
        ladder,
        codecs,
        channel,
    };
    let kind = e.manifest.kind;
    let response = match (file, kind) {
        ([_], ManifestKind::Hls | ManifestKind::LowLatencyHls) => master(&e),
        ([_], ManifestKind::Dash) => mpd(&e),
        ([_, rendition, "index.m3u8"], ManifestKind::Hls | ManifestKind::LowLatencyHls) => {
            media_playlist(&e, rendition, query).await
        }
        ([_, rendition, file], _) => match Resource::parse(file, &e.segment_name) {
            Some(resource) if e.rendition(rendition).is_some() => media(&e, rendition, resource, None).await,
            _ => not_found("not found"),
        },
        ([_, rendition, folder, file], ManifestKind::Dash) => {
            match (Resource::parse(file, &e.segment_name), TrackKind::parse(folder)) {
                (Some(resource), Some(track)) if e.rendition(rendition).is_some() => {
                    media(&e, rendition, resource, Some(track)).await
                }
                _ => not_found("not found"),
            }
        }
        _ => not_found("not found"),
    };
    with_cors(response)
}

fn master(e: &Endpoint) -> Response {
    let k = e.k();
    let selected = e.selected();
    let produced = e.channel.with_renditions(|all| {
        selected.iter().any(|r| {
            all.get(&r.name)
                .is_some_and(|m| m.segments(k).iter().any(|s| s.complete))
        })
    });
    if !produced {
        return not_found("the channel has not produced a CMAF segment yet");
    }
    playlist_for(
        under(&render_master(&selected, &e.codecs), &e.name),
        e.nominal_segment(),
    )
}

fn playlist_options<'a>(e: &'a Endpoint, rendition: &LadderRendition) -> PlaylistOptions<'a> {
    let fps = f64::from(rendition.framerate_numerator) / f64::from(rendition.framerate_denominator.max(1));
    PlaylistOptions {
        window_seconds: e.packaging.playlist_window_seconds,
        nominal_segment: e.nominal_segment(),
        part_target: (e.manifest.kind == ManifestKind::LowLatencyHls).then(|| part_target(fps)),
        segment_name: &e.segment_name,
    }
}

/// `_HLS_msn` and `_HLS_part`; Err: a malformed directive (400).
fn delivery_directives(query: Option<&str>) -> Result<Option<(u64, Option<u64>)>, &'static str> {
    let (mut msn, mut part) = (None, None);
    for (key, value) in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|kv| kv.split_once('='))
    {
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| "_HLS_msn and _HLS_part are decimal integers")
        };
        match key {
            "_HLS_msn" => msn = Some(number()?),
            "_HLS_part" => part = Some(number()?),
            _ => {}
        }
    }
    match (msn, part) {
        (None, Some(_)) => Err("_HLS_part needs _HLS_msn"),
        (Some(m), p) => Ok(Some((m, p))),
        (None, None) => Ok(None),
    }
}

async fn media_playlist(e: &Endpoint, rendition: &str, query: Option<&str>) -> Response {
    let Some(r) = e.rendition(rendition) else {
        return not_found("the rendition is not served by this manifest");
    };
    let o = playlist_options(e, r);
    let k = e.k();
    if o.part_target.is_some() {
        match delivery_directives(query) {
            Err(why) => return bad_request(why),
            Ok(Some((msn, part))) => {
                let decide = |m: &RenditionMedia| hls::reload(&m.segments(k), msn, part);
                if wait(e, rendition, decide, |d| *d != Reload::Wait).await == Some(Reload::BadRequest) {
                    return bad_request("the requested segment or part is too far ahead of the live edge");
                }
            }
            Ok(None) => {}
        }
    }
    let text = e
        .channel
        .with_rendition(rendition, |m| hls::render_media_playlist(&m.segments(k), &o));
    match text.flatten() {
        // LL-HLS media playlists a second, HLS ones half a segment.
        Some(text) if o.part_target.is_some() => playlist(text),
        Some(text) => playlist_for(text, e.nominal_segment()),
        None => not_found("the rendition has no CMAF segments yet"),
    }
}

/// Re-decides on every change of the index until `done` or the hold ends; the last decision.
async fn wait<T>(
    e: &Endpoint,
    rendition: &str,
    decide: impl Fn(&RenditionMedia) -> T,
    done: impl Fn(&T) -> bool,
) -> Option<T> {
    let deadline = Instant::now() + e.hold();
    let mut changes = e.channel.subscribe();
    loop {
        changes.borrow_and_update();
        let decision = e.channel.with_rendition(rendition, &decide);
        if decision.as_ref().is_some_and(&done) {
            return decision;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            _ => return decision,
        }
    }
}

/// One track of the muxed CMAF (DASH's AdaptationSets); None: the muxed media (HLS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrackKind {
    Video,
    Audio,
}

impl TrackKind {
    fn parse(folder: &str) -> Option<Self> {
        match folder {
            "video" => Some(Self::Video),
            "audio" => Some(Self::Audio),
            _ => None,
        }
    }

    fn id(self, run: &RunMedia) -> Option<u32> {
        match self {
            Self::Video => Some(run.video_track),
            Self::Audio => run.audio.map(|a| a.id),
        }
    }
}

async fn media(e: &Endpoint, rendition: &str, resource: Resource, track: Option<TrackKind>) -> Response {
    let k = e.k();
    let track_of = |run: &RunMedia| track.map(|t| t.id(run));
    let files = match resource {
        Resource::Init(run) => {
            let init = e.channel.with_rendition(rendition, |m| {
                let r = m.runs.iter().find(|r| r.run_id == run)?;
                Some((r.init.clone(), track_of(r)))
            });
            return match init.flatten() {
                Some((bytes, None)) => mp4(bytes),
                Some((bytes, Some(Some(id)))) => match split::init(&bytes, id) {
                    Ok(b) => mp4(b.into()),
                    Err(_) => not_found("no such init segment"),
                },
                _ => not_found("no such init segment"),
            };
        }
        Resource::Segment(seq) => e.channel.with_rendition(rendition, |m| {
            let segments = m.segments(k);
            let segment = segments.iter().find(|s| s.sequence == seq && s.complete)?;
            let paths = segment.parts.iter().map(|p| p.path.clone()).collect::<Vec<_>>();
            Some((paths, track_of(segment.run)))
        }),
        Resource::Part(seq, n) => {
            let decide = |m: &RenditionMedia| {
                let segments = m.segments(k);
                let run = segments.iter().find(|s| s.sequence == seq).map(|s| track_of(s.run));
                (hls::part_state(&segments, seq, n), run.flatten())
            };
            match wait(e, rendition, decide, |s| s.0 != PartState::Wait).await {
                Some((PartState::Ready(path), id)) => Some(Some((vec![path], id))),
                _ => None,
            }
        }
    };
    let Some(Some((paths, id))) = files else {
        return not_found("no such segment or part");
    };
    let mut bytes = Vec::new();
    for path in paths {
        match tokio::fs::read(&path).await {
            Ok(b) => bytes.extend(b),
            // Pruned between the lookup and the read.
            Err(_) => return not_found("no such segment or part"),
        }
    }
    match (track, id) {
        (None, _) => mp4(bytes.into()),
        (Some(_), Some(Some(id))) => match split::fragments(&bytes, id) {
            Ok(b) => mp4(b.into()),
            Err(_) => not_found("no such segment or part"),
        },
        (Some(_), _) => not_found("the run has no such track"),
    }
}

fn mpd(e: &Endpoint) -> Response {
    let k = e.k();
    let selected = e.selected();
    let text = e.channel.with_renditions(|all| {
        let representations: Vec<dash::Representation> = (selected.iter())
            .filter_map(|r| {
                Some(dash::Representation {
                    rendition: r,
                    codecs: layout::served_codecs(r, &e.codecs),
                    segments: all.get(&r.name)?.segments(k),
                })
            })
            .collect();
        let options = dash::MpdOptions {
            window_seconds: e.packaging.playlist_window_seconds,
            nominal_segment: e.nominal_segment(),
            timing: player_timing(&e.manifest.manifest),
            now: SystemTime::now(),
            media_folder: &e.name,
            segment_name: &e.segment_name,
        };
        dash::render_mpd(&representations, &options)
    });
    match text {
        Some(text) => {
            let headers = [
                (header::CONTENT_TYPE, "application/dash+xml"),
                (header::CACHE_CONTROL, "max-age=1"),
            ];
            (headers, text).into_response()
        }
        None => not_found("the channel has not produced a CMAF segment yet"),
    }
}

/// The DASH manifest's `MinUpdatePeriodSeconds`, `MinBufferTimeSeconds` and
/// `SuggestedPresentationDelaySeconds`, MediaPackage's values where it sets none.
fn player_timing(manifest: &serde_json::Value) -> dash::PlayerTiming {
    let default = dash::PlayerTiming::default();
    let seconds = |member: &str, default: f64| manifest[member].as_f64().unwrap_or(default);
    dash::PlayerTiming {
        min_update_period: seconds("MinUpdatePeriodSeconds", default.min_update_period),
        min_buffer_time: seconds("MinBufferTimeSeconds", default.min_buffer_time),
        presentation_delay: seconds("SuggestedPresentationDelaySeconds", default.presentation_delay),
    }
}

/// CMAF media (init segment, segment or part): immutable once written, cached long.
fn mp4(bytes: bytes::Bytes) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "video/mp4"),
        (header::CACHE_CONTROL, crate::protocol::hls::SEGMENT_CACHE_CONTROL),
    ];
    (headers, bytes).into_response()
}

fn bad_request(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, why.to_owned()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_directives_are_decimal_and_need_the_msn() {
        assert_eq!(delivery_directives(None), Ok(None));
        assert_eq!(delivery_directives(Some("a=b")), Ok(None));
        assert_eq!(delivery_directives(Some("_HLS_msn=12")), Ok(Some((12, None))));
        assert_eq!(
            delivery_directives(Some("_HLS_msn=12&_HLS_part=3")),
            Ok(Some((12, Some(3))))
        );
        assert!(delivery_directives(Some("_HLS_part=3")).is_err());
        assert!(delivery_directives(Some("_HLS_msn=-1")).is_err());
    }

    #[test]
    fn the_mpd_timing_is_the_manifests_else_mediapackages() {
        assert_eq!(
            player_timing(&serde_json::json!({"ManifestName": "d"})),
            dash::PlayerTiming::default()
        );
        let set = serde_json::json!({
            "ManifestName": "d",
            "MinUpdatePeriodSeconds": 4,
            "MinBufferTimeSeconds": 8,
            "SuggestedPresentationDelaySeconds": 20
        });
        let expected = dash::PlayerTiming {
            min_update_period: 4.0,
            min_buffer_time: 8.0,
            presentation_delay: 20.0,
        };
        assert_eq!(player_timing(&set), expected);
    }
}
