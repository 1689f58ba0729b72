//! What a harvest job writes for one rendition of one harvested HLS manifest: the segments that
//! start in the range and the VOD media playlist naming them. A TS endpoint's segments are its TS
//! files; a CMAF endpoint's are fragmented MP4 (a segment's parts, joined) after their run's init
//! segment (`EXT-X-MAP`), named as the live endpoint names them.

use std::collections::{HashMap, HashSet};
use std::time::UNIX_EPOCH;

use super::harvest_rules::{cut, vod_media_playlist};
use crate::media::{
    Media,
    cmaf::index::group_size,
    origin::{Group, Packaging},
};

/// One rendition's share of the asset: objects (name under the destination, bytes, content
/// type), segments before their playlist.
pub(super) struct RenditionCut {
    pub objects: Vec<(String, Vec<u8>, &'static str)>,
    pub playlist: String,
}

/// Where the segments of one rendition are read from.
pub(super) struct Source<'a> {
    pub media: &'a Media,
    /// The channel's media key.
    pub key: &'a str,
    pub rendition: &'a str,
    pub packaging: &'a Packaging,
    pub segment_name: &'a str,
    /// Objects another harvested manifest already wrote: neither read nor written again.
    pub written: &'a HashSet<String>,
}

fn gone(sequence: u64, rendition: &str) -> String {
    format!("Segment {sequence} of {rendition} left the endpoint's retention before it was harvested")
}

/// A TS endpoint's segments in `start..end` (epoch seconds); `None` when there are none.
pub(super) async fn ts(s: &Source<'_>, start: f64, end: f64) -> Result<Option<RenditionCut>, String> {
    let (dir, _, groups) = (s.media.selected_groups(s.key, s.rendition, s.packaging))
        .map_err(|e| format!("Reading the retained segments failed: {e}"))?;
    let segments = cut(&groups, start, end);
    if segments.is_empty() {
        return Ok(None);
    }
    let uri = |g: &Group| format!("{}/{}_{}.ts", s.rendition, s.segment_name, g.sequence);
    let mut objects = Vec::new();
    for segment in segments.iter().filter(|g| !s.written.contains(&uri(g))) {
        let mut bytes = Vec::new();
        for file in &segment.uris {
            let read = tokio::fs::read(dir.join(s.rendition).join(file)).await;
            bytes.extend(read.map_err(|_| gone(segment.sequence, s.rendition))?);
        }
        objects.push((uri(segment), bytes, "video/MP2T"));
    }
    let playlist = vod_media_playlist(&segments, uri, None::<fn(&Group) -> String>);
    Ok(Some(RenditionCut { objects, playlist }))
}

/// A CMAF endpoint's complete segments in `start..end`, each run's init segment once before them.
pub(super) async fn cmaf(s: &Source<'_>, start: f64, end: f64) -> Result<Option<RenditionCut>, String> {
    let channel = (s.media.cmaf(s.key)).ok_or("The channel has no CMAF media to harvest")?;
    let (_, ladder) = (s.media.package_ladder(s.key)).ok_or("The channel has no media to harvest")?;
    let k = group_size(s.packaging.segment_duration_seconds, ladder.gop_seconds);
    // The complete segments, their part files as `uris`, and each one's run and its init segment.
    let mut runs: HashMap<u64, (u32, bytes::Bytes)> = HashMap::new();
    let groups = channel.with_rendition(s.rendition, |m| {
        let complete = m.segments(k).into_iter().filter(|seg| seg.complete);
        let group = |seg: crate::media::cmaf::index::Segment<'_>| {
            runs.insert(seg.sequence, (seg.run.run_id, seg.run.init.clone()));
            Group {
                sequence: seg.sequence,
                duration: seg.duration_seconds(),
                discontinuity: seg.discontinuity,
                discontinuity_sequence: seg.discontinuity_sequence,
                uris: seg.parts.iter().map(|p| p.path.display().to_string()).collect(),
                program_date_time: (seg.program_date_time())
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_secs_f64()),
            }
        };
        complete.map(group).collect::<Vec<_>>()
    });
    let segments = cut(&groups.unwrap_or_default(), start, end);
    if segments.is_empty() {
        return Ok(None);
    }
    let init = |run: u32| format!("{}/{}_init_{run}.mp4", s.rendition, s.segment_name);
    let uri = |g: &Group| format!("{}/{}_{}.mp4", s.rendition, s.segment_name, g.sequence);
    let mut objects = Vec::new();
    let mut inits_written = Vec::new();
    for segment in &segments {
        let (run, init_bytes) = &runs[&segment.sequence];
        if !inits_written.contains(run) && !s.written.contains(&init(*run)) {
            inits_written.push(*run);
            objects.push((init(*run), init_bytes.to_vec(), "video/mp4"));
        }
        if s.written.contains(&uri(segment)) {
            continue;
        }
        let mut bytes = Vec::new();
        for part in &segment.uris {
            let read = tokio::fs::read(part).await;
            bytes.extend(read.map_err(|_| gone(segment.sequence, s.rendition))?);
        }
        objects.push((uri(segment), bytes, "video/mp4"));
    }
    let map = |g: &Group| init(runs[&g.sequence].0);
    let playlist = vod_media_playlist(&segments, uri, Some(map));
    Ok(Some(RenditionCut { objects, playlist }))
}
