//! HLS media playlists over CMAF endpoint segments, plain and low-latency (RFC 8216bis: parts,
//! preload hints and blocking playlist reload), and the names of the files they list.

use std::fmt::Write;
use std::time::SystemTime;

use super::index::Segment;

/// Low-latency playlists list the parts of this many complete segments before the live edge.
const SEGMENTS_WITH_PARTS: usize = 2;
/// How far past the next part a client may ask (RFC 8216bis's Advance Part Limit).
const ADVANCE_PART_LIMIT: usize = 3;

/// A file under a rendition's folder of an endpoint, named after the endpoint's SegmentName.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The init segment of an ffmpeg run.
    Init(u32),
    Segment(u64),
    /// Part `.1` of segment `.0`.
    Part(u64, usize),
}

impl Resource {
    pub fn uri(self, segment_name: &str) -> String {
        match self {
            Self::Init(run) => format!("{segment_name}_init_{run}.mp4"),
            Self::Segment(seq) => format!("{segment_name}_{seq}.mp4"),
            Self::Part(seq, part) => format!("{segment_name}_{seq}_{part}.mp4"),
        }
    }

    pub fn parse(file: &str, segment_name: &str) -> Option<Self> {
        let rest = file
            .strip_prefix(segment_name)?
            .strip_prefix('_')?
            .strip_suffix(".mp4")?;
        if let Some(run) = rest.strip_prefix("init_") {
            return Some(Self::Init(run.parse().ok()?));
        }
        match rest.split_once('_') {
            Some((seq, part)) => Some(Self::Part(seq.parse().ok()?, part.parse().ok()?)),
            None => Some(Self::Segment(rest.parse().ok()?)),
        }
    }
}

/// What a media playlist shows.
#[derive(Clone, Copy, Debug)]
pub struct PlaylistOptions<'a> {
    pub window_seconds: u32,
    /// k GOPs: the nominal endpoint segment.
    pub nominal_segment: f64,
    /// Low-latency HLS: the longest part, in seconds.
    pub part_target: Option<f64>,
    pub segment_name: &'a str,
}

/// The PART-TARGET as written: rounded up to the millisecond so no part exceeds it.
pub fn part_target_attribute(part_target: f64) -> f64 {
    (part_target * 1000.0 - 1e-6).ceil() / 1000.0
}

pub fn date_time(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// The media playlist of one rendition; None while it has nothing to list.
pub fn render_media_playlist(segments: &[Segment], o: &PlaylistOptions) -> Option<String> {
    let count = (f64::from(o.window_seconds) / o.nominal_segment).ceil().max(1.0) as usize;
    let complete: Vec<&Segment> = segments.iter().filter(|s| s.complete).collect();
    let window = &complete[complete.len().saturating_sub(count)..];
    let in_progress = segments
        .last()
        .filter(|s| !s.complete && o.part_target.is_some() && !s.parts.is_empty());
    let first = window.first().copied().or(in_progress)?;
    let longest = window
        .iter()
        .map(|s| (s.duration_seconds() * 1000.0).round() / 1000.0)
        .fold(0.0, f64::max);
    let target = longest.ceil().max(o.nominal_segment.round()) as u64;
    let mut out = format!("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:{target}\n");
    if let Some(part_target) = o.part_target.map(part_target_attribute) {
        let hold_back = 3.0 * part_target;
        let _ = writeln!(
            out,
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={hold_back:.3}\n#EXT-X-PART-INF:PART-TARGET={part_target:.3}"
        );
    }
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{}", first.sequence);
    let disc_seq = first.discontinuity_sequence - u64::from(first.discontinuity);
    if disc_seq > 0 {
        let _ = writeln!(out, "#EXT-X-DISCONTINUITY-SEQUENCE:{disc_seq}");
    }
    let with_parts = window.len().saturating_sub(SEGMENTS_WITH_PARTS);
    let mut run = None;
    for (i, segment) in window.iter().chain(in_progress.as_ref()).enumerate() {
        if segment.discontinuity {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if run != Some(segment.run.run_id) {
            run = Some(segment.run.run_id);
            let init = Resource::Init(segment.run.run_id).uri(o.segment_name);
            let _ = writeln!(out, "#EXT-X-MAP:URI=\"{init}\"");
        }
        if let Some(t) = segment.program_date_time() {
            let _ = writeln!(out, "#EXT-X-PROGRAM-DATE-TIME:{}", date_time(t));
        }
        if o.part_target.is_some() && i >= with_parts {
            for (n, part) in segment.parts.iter().enumerate() {
                let uri = Resource::Part(segment.sequence, n).uri(o.segment_name);
                let independent = if part.independent { ",INDEPENDENT=YES" } else { "" };
                let duration = segment.seconds(part.duration);
                let _ = writeln!(out, "#EXT-X-PART:DURATION={duration:.5},URI=\"{uri}\"{independent}");
            }
        }
        if segment.complete {
            let uri = Resource::Segment(segment.sequence).uri(o.segment_name);
            let _ = writeln!(out, "#EXTINF:{:.5},\n{uri}", segment.duration_seconds());
        }
    }
    if o.part_target.is_some()
        && let Some(next) = next_part(segments)
    {
        let uri = Resource::Part(next.0, next.1).uri(o.segment_name);
        let _ = writeln!(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{uri}\"");
    }
    Some(out)
}

/// The part ffmpeg writes next (segment, part); None once the run ended.
pub fn next_part(segments: &[Segment]) -> Option<(u64, usize)> {
    let last = segments.last()?;
    if last.run.ended {
        None
    } else if last.complete {
        Some((last.sequence + 1, 0))
    } else {
        Some((last.sequence, last.parts.len()))
    }
}

/// What a blocking playlist reload (`_HLS_msn`, `_HLS_part`) does now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reload {
    /// The playlist has what was asked for (or never will: the run ended): answer.
    Ready,
    /// Hold the request until the index changes.
    Wait,
    /// Too far ahead of the live edge: 400.
    BadRequest,
}

pub fn reload(segments: &[Segment], msn: u64, part: Option<u64>) -> Reload {
    let Some(last) = segments.last() else {
        return Reload::Wait;
    };
    let last_complete = segments.iter().rev().find(|s| s.complete).map(|s| s.sequence);
    let edge = last_complete.unwrap_or(last.sequence.saturating_sub(1));
    if msn > edge + 2 {
        return Reload::BadRequest;
    }
    let ready = match part {
        None => last_complete.is_some_and(|c| c >= msn),
        // Part P of segment M "or later": any part at or after (M, P).
        Some(p) => segments
            .iter()
            .any(|s| (s.sequence > msn && !s.parts.is_empty()) || (s.sequence == msn && s.parts.len() as u64 > p)),
    };
    if ready || last.run.ended {
        return Reload::Ready;
    }
    if let (Some(p), Some((seq, next))) = (part, next_part(segments))
        && msn == seq
        && p >= (next + ADVANCE_PART_LIMIT) as u64
    {
        return Reload::BadRequest;
    }
    Reload::Wait
}

/// What a request for part (seq, n) finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartState {
    Ready(std::path::PathBuf),
    /// It is the next part (or one of the few after it): hold the request.
    Wait,
    Gone,
}

pub fn part_state(segments: &[Segment], seq: u64, n: usize) -> PartState {
    if let Some(s) = segments.iter().find(|s| s.sequence == seq)
        && let Some(part) = s.parts.get(n)
    {
        return PartState::Ready(part.path.clone());
    }
    match next_part(segments) {
        Some((next_seq, next)) if seq == next_seq && n >= next && n < next + ADVANCE_PART_LIMIT => PartState::Wait,
        Some((next_seq, _)) if seq == next_seq + 1 && n == 0 => PartState::Wait,
        _ => PartState::Gone,
    }
}

#[cfg(test)]
#[path = "hls_tests.rs"]
mod tests;
