//! MediaPackage HLS endpoint semantics over the channel's input segments (one per GOP).
//!
//! - An endpoint segment is `k = round(segment_duration / gop)` consecutive input segments of one
//!   run, concatenated (MPEG-TS concatenates byte-wise). Groups are aligned on the input sequence
//!   numbers from the run's start, so they are the same on every request; a run's last group may
//!   be short. Endpoint sequence numbers are contiguous over all runs (each run adds
//!   `ceil(len / k)`), and the first group of every run after the first is a discontinuity.
//! - The media playlist lists the last `ceil(window / segment)` complete groups.
//! - The master lists the renditions whose video bitrate is within the selection, in its order.
//!
//! Served paths and relative URIs are documented in [`super`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::Media;
use super::layout::{self, InputPlaylist, Ladder, LadderRendition, Run};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamOrder {
    Original,
    VideoBitrateAscending,
    VideoBitrateDescending,
}

/// What an origin endpoint asks for.
#[derive(Clone, Debug)]
pub struct Packaging {
    pub segment_duration_seconds: u32,
    pub playlist_window_seconds: u32,
    pub min_video_bits_per_second: u64,
    pub max_video_bits_per_second: u64,
    pub stream_order: StreamOrder,
}

#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

fn io_error(e: std::io::Error, what: impl FnOnce() -> String) -> OriginError {
    if e.kind() == std::io::ErrorKind::NotFound {
        OriginError::NotFound(what())
    } else {
        OriginError::Io(e)
    }
}

/// One endpoint segment.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub sequence: u64,
    pub duration: f64,
    pub discontinuity: bool,
    /// Discontinuity sequence number of this group (tags up to and including its own).
    pub discontinuity_sequence: u64,
    /// Input segment file names, in order.
    pub uris: Vec<String>,
    /// Wall-clock time of the group's first frame (epoch seconds), when ffmpeg wrote it.
    pub program_date_time: Option<f64>,
}

/// Input segments per endpoint segment.
pub fn group_size(segment_duration_seconds: u32, gop_seconds: f64) -> u64 {
    let gop = if gop_seconds > 0.0 { gop_seconds } else { 1.0 };
    (f64::from(segment_duration_seconds) / gop).round().max(1.0) as u64
}

/// The complete groups of one rendition. `playlists[i]` is run `runs[i]`'s playlist (None when
/// it has not been written yet or was pruned).
pub fn group_segments(runs: &[Run], playlists: &[Option<InputPlaylist>], k: u64) -> Vec<Group> {
    let k = k.max(1);
    let mut groups = Vec::new();
    let (mut base, mut nonempty_before) = (0u64, 0u64);
    for (i, run) in runs.iter().enumerate() {
        let playlist = playlists.get(i).and_then(Option::as_ref);
        // A run ends where the next starts, or at ENDLIST; the open run's last group must be full.
        let end = match runs.get(i + 1) {
            Some(next) => Some(next.start_seq),
            None => playlist.filter(|p| p.ended).and_then(InputPlaylist::next_seq),
        };
        if let Some(p) = playlist {
            let by_seq: HashMap<u64, &layout::InputSegment> = p.segments.iter().map(|s| (s.seq, s)).collect();
            let mut last_j = None;
            for seg in p
                .segments
                .iter()
                .filter(|s| s.seq >= run.start_seq && end.is_none_or(|e| s.seq < e))
            {
                let j = (seg.seq - run.start_seq) / k;
                if last_j == Some(j) {
                    continue;
                }
                last_j = Some(j);
                let lo = run.start_seq + j * k;
                let hi = end.map_or(lo + k, |e| e.min(lo + k));
                let members: Option<Vec<_>> = (lo..hi).map(|s| by_seq.get(&s)).collect();
                let Some(members) = members else { continue };
                groups.push(Group {
                    sequence: base + j,
                    duration: members.iter().map(|s| s.duration).sum(),
                    discontinuity: j == 0 && nonempty_before > 0,
                    discontinuity_sequence: nonempty_before,
                    uris: members.iter().map(|s| s.uri.clone()).collect(),
                    program_date_time: members.first().and_then(|s| s.program_date_time),
                });
            }
        }
        let len = end.map_or(0, |e| e.saturating_sub(run.start_seq));
        base += len.div_ceil(k);
        nonempty_before += u64::from(len > 0);
    }
    groups
}

/// The endpoint media playlist: the last `ceil(window / segment)` groups of the contiguous tail.
pub fn render_media_playlist(groups: &[Group], p: &Packaging, gop_seconds: f64) -> Option<String> {
    let k = group_size(p.segment_duration_seconds, gop_seconds);
    let nominal = k as f64 * gop_seconds;
    let count = (f64::from(p.playlist_window_seconds) / nominal).ceil().max(1.0) as usize;
    // Sequence numbers are implicit in HLS, so a hole (a group some rendition lost) cuts the list.
    let mut tail_start = groups.len();
    while tail_start > 0
        && (tail_start == groups.len() || groups[tail_start - 1].sequence + 1 == groups[tail_start].sequence)
    {
        tail_start -= 1;
    }
    let tail = &groups[tail_start..];
    let window = &tail[tail.len().saturating_sub(count)..];
    let first = window.first()?;
    // Rounded to the millisecond first so float sums like 6.0000001 do not become 7; never below
    // the nominal duration so the target stays constant between refreshes.
    let longest = window
        .iter()
        .map(|g| (g.duration * 1000.0).round() / 1000.0)
        .fold(0.0, f64::max);
    let target = longest.ceil().max(nominal.round()) as u64;
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:{}\n",
        first.sequence
    );
    let disc_seq = first.discontinuity_sequence - u64::from(first.discontinuity);
    if disc_seq > 0 {
        let _ = writeln!(out, "#EXT-X-DISCONTINUITY-SEQUENCE:{disc_seq}");
    }
    for g in window {
        if g.discontinuity {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        let _ = writeln!(out, "#EXTINF:{:.3},\n{}.ts", g.duration, g.sequence);
    }
    Some(out)
}

/// The renditions an endpoint's stream selection keeps, in its order.
pub fn select_renditions<'a>(ladder: &'a Ladder, p: &Packaging) -> Vec<&'a LadderRendition> {
    let mut selected: Vec<_> = ladder
        .renditions
        .iter()
        .filter(|r| (p.min_video_bits_per_second..=p.max_video_bits_per_second).contains(&r.video_bitrate))
        .collect();
    match p.stream_order {
        StreamOrder::Original => {}
        StreamOrder::VideoBitrateAscending => selected.sort_by_key(|r| r.video_bitrate),
        StreamOrder::VideoBitrateDescending => selected.sort_by_key(|r| std::cmp::Reverse(r.video_bitrate)),
    }
    selected
}

/// The endpoint master playlist. `codecs` (from ffmpeg) overrides the ladder's derived codecs.
pub fn render_master(renditions: &[&LadderRendition], codecs: &HashMap<String, String>) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for r in renditions {
        let average = r.video_bitrate + r.audio_bitrate;
        let peak = (average as f64 * 1.1).round() as u64;
        let codecs = layout::served_codecs(r, codecs);
        let fps = f64::from(r.framerate_numerator) / f64::from(r.framerate_denominator.max(1));
        let _ = writeln!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},RESOLUTION={}x{},CODECS=\"{codecs}\",FRAME-RATE={fps:.3}\n{}/index.m3u8",
            r.width, r.height, r.name
        );
    }
    out
}

impl Media {
    /// Master playlist of a MediaPackage HLS endpoint (NotFound until the channel has produced
    /// output in a selected rendition).
    pub fn master_playlist(&self, package_channel_id: &str, p: &Packaging) -> Result<String, OriginError> {
        let (dir, ladder) = self.ladder(package_channel_id)?;
        let selected = select_renditions(&ladder, p);
        if selected.is_empty() {
            return Err(OriginError::NotFound(format!(
                "no rendition of {package_channel_id} is within the stream selection"
            )));
        }
        let mut produced = false;
        for r in &selected {
            produced |= !rendition_groups(
                &dir,
                &r.name,
                group_size(p.segment_duration_seconds, ladder.gop_seconds),
            )?
            .is_empty();
        }
        if !produced {
            return Err(OriginError::NotFound(format!(
                "{package_channel_id} has not produced output yet"
            )));
        }
        let codecs = std::fs::read_to_string(dir.join(layout::FFMPEG_MASTER))
            .map(|t| layout::ffmpeg_codecs(&t))
            .unwrap_or_default();
        Ok(render_master(&selected, &codecs))
    }

    /// Media playlist of one rendition; segment URIs are `{sequence}.ts`.
    pub fn media_playlist(
        &self,
        package_channel_id: &str,
        rendition: &str,
        p: &Packaging,
    ) -> Result<String, OriginError> {
        let (_, ladder, groups) = self.selected_groups(package_channel_id, rendition, p)?;
        render_media_playlist(&groups, p, ladder.gop_seconds)
            .ok_or_else(|| OriginError::NotFound(format!("{package_channel_id}/{rendition} has no segments yet")))
    }

    /// One endpoint segment (MPEG-TS bytes).
    pub fn segment(
        &self,
        package_channel_id: &str,
        rendition: &str,
        sequence: u64,
        p: &Packaging,
    ) -> Result<Bytes, OriginError> {
        let (dir, _, groups) = self.selected_groups(package_channel_id, rendition, p)?;
        let missing = || format!("segment {sequence} of {package_channel_id}/{rendition}");
        let group = groups
            .iter()
            .find(|g| g.sequence == sequence)
            .ok_or_else(|| OriginError::NotFound(missing()))?;
        let mut out = Vec::new();
        for uri in &group.uris {
            if !layout::is_safe_name(uri) {
                return Err(OriginError::NotFound(missing()));
            }
            out.extend(std::fs::read(dir.join(rendition).join(uri)).map_err(|e| io_error(e, missing))?);
        }
        Ok(Bytes::from(out))
    }

    /// The endpoint segments of one rendition the endpoint's stream selection lets through, with
    /// the folder their input segments are in (`{dir}/{rendition}/{uri}`) and the ladder.
    pub fn selected_groups(
        &self,
        package_channel_id: &str,
        rendition: &str,
        p: &Packaging,
    ) -> Result<(PathBuf, Ladder, Vec<Group>), OriginError> {
        let (dir, ladder) = self.ladder(package_channel_id)?;
        Self::selected(&ladder, rendition, p)?;
        let groups = rendition_groups(
            &dir,
            rendition,
            group_size(p.segment_duration_seconds, ladder.gop_seconds),
        )?;
        Ok((dir, ladder, groups))
    }

    fn ladder(&self, package_channel_id: &str) -> Result<(PathBuf, Ladder), OriginError> {
        let missing = || format!("MediaPackage channel {package_channel_id} has no media");
        let dir = layout::channel_dir(&self.inner.data_dir, package_channel_id)
            .ok_or_else(|| OriginError::NotFound(missing()))?;
        let ladder = layout::read_json(&dir.join(layout::LADDER_FILE)).map_err(|e| io_error(e, missing))?;
        Ok((dir, ladder))
    }

    fn selected(ladder: &Ladder, rendition: &str, p: &Packaging) -> Result<(), OriginError> {
        if select_renditions(ladder, p).iter().any(|r| r.name == rendition) {
            Ok(())
        } else {
            Err(OriginError::NotFound(format!(
                "rendition {rendition} is not served by this endpoint"
            )))
        }
    }
}

/// Reads runs.json and the run playlists still on disk, newest first until a pruned run.
fn rendition_groups(dir: &Path, rendition: &str, k: u64) -> Result<Vec<Group>, OriginError> {
    let runs = layout::read_runs(dir)?;
    let mut playlists = vec![None; runs.len()];
    for (i, run) in runs.iter().enumerate().rev() {
        let playlist = InputPlaylist::read(&layout::run_playlist(dir, rendition, run.id))?;
        let closed_nonempty = runs.get(i + 1).is_some_and(|next| next.start_seq > run.start_seq);
        if playlist.is_none() && closed_nonempty {
            break;
        }
        playlists[i] = playlist;
    }
    Ok(group_segments(&runs, &playlists, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playlist(first: u64, durations: &[f64], ended: bool) -> Option<InputPlaylist> {
        let mut text = format!("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:{first}\n");
        for (i, d) in durations.iter().enumerate() {
            text += &format!("#EXTINF:{d},\n{}.ts\n", first + i as u64);
        }
        if ended {
            text += "#EXT-X-ENDLIST\n";
        }
        Some(InputPlaylist::parse(&text))
    }

    fn packaging(segment: u32, window: u32) -> Packaging {
        Packaging {
            segment_duration_seconds: segment,
            playlist_window_seconds: window,
            min_video_bits_per_second: 0,
            max_video_bits_per_second: u64::MAX,
            stream_order: StreamOrder::Original,
        }
    }

    #[test]
    fn group_size_rounds_to_whole_gops() {
        assert_eq!(group_size(6, 2.0), 3);
        assert_eq!(group_size(6, 1.0), 6);
        assert_eq!(group_size(1, 2.0), 1);
        assert_eq!(group_size(5, 2.0), 3);
    }

    #[test]
    fn groups_are_aligned_complete_and_stable() {
        let runs = [Run { id: 0, start_seq: 0 }];
        // ffmpeg already deleted 0 and 1; 2 belongs to the incomplete group 0..3.
        let groups = group_segments(&runs, &[playlist(2, &[2.0; 6], false)], 3);
        assert_eq!(groups.iter().map(|g| g.sequence).collect::<Vec<_>>(), vec![1]);
        assert_eq!(groups[0].uris, ["3.ts", "4.ts", "5.ts"]);
        assert_eq!(groups[0].duration, 6.0);
        assert!(!groups[0].discontinuity);
        // 6..=7 wait for 8; once it exists the earlier group is unchanged.
        let more = group_segments(&runs, &[playlist(2, &[2.0; 7], false)], 3);
        assert_eq!(more.iter().map(|g| g.sequence).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(more[0], groups[0]);
    }

    #[test]
    fn runs_continue_sequences_and_mark_discontinuities() {
        // Run 0: 0..=4 (last group short); run 1 crashed before any segment and was replaced by
        // run 2 (5..=8, closed by run 3); run 3 is open.
        let runs = [
            Run { id: 0, start_seq: 0 },
            Run { id: 2, start_seq: 5 },
            Run { id: 3, start_seq: 9 },
        ];
        let playlists = [
            playlist(0, &[2.0; 5], true),
            playlist(5, &[2.0; 4], false),
            playlist(9, &[2.0; 3], false),
        ];
        let groups = group_segments(&runs, &playlists, 3);
        let seqs: Vec<_> = groups
            .iter()
            .map(|g| (g.sequence, g.uris.len(), g.discontinuity, g.discontinuity_sequence))
            .collect();
        assert_eq!(
            seqs,
            vec![
                (0, 3, false, 0),
                (1, 2, false, 0),
                (2, 3, true, 1),
                (3, 1, false, 1),
                (4, 3, true, 2)
            ]
        );
        assert_eq!(groups[1].uris, ["3.ts", "4.ts"]);
        assert_eq!(groups[3].uris, ["8.ts"]);
    }

    #[test]
    fn media_playlist_window_and_tags() {
        let runs = [Run { id: 0, start_seq: 0 }, Run { id: 1, start_seq: 12 }];
        let playlists = [playlist(0, &[2.0; 12], true), playlist(12, &[2.0; 9], false)];
        let groups = group_segments(&runs, &playlists, 3);
        // 60 s window of 6 s segments = 10 groups; only 7 exist.
        let text = render_media_playlist(&groups, &packaging(6, 60), 2.0).unwrap();
        assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n"));
        assert_eq!(text.matches("#EXTINF:6.000,").count(), 7);
        assert!(text.contains("3.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:6.000,\n4.ts\n"));
        // 12 s window: the last 2 groups; the discontinuity before them is counted.
        let text = render_media_playlist(&groups, &packaging(6, 12), 2.0).unwrap();
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:5\n\
             #EXT-X-DISCONTINUITY-SEQUENCE:1\n#EXTINF:6.000,\n5.ts\n#EXTINF:6.000,\n6.ts\n"
        );
        assert!(render_media_playlist(&[], &packaging(6, 60), 2.0).is_none());
    }

    #[test]
    fn a_hole_cuts_the_playlist() {
        let runs = [Run { id: 0, start_seq: 0 }];
        let mut p = playlist(0, &[1.0; 6], false).unwrap();
        p.segments.remove(2);
        let groups = group_segments(&runs, &[Some(p)], 2);
        assert_eq!(groups.iter().map(|g| g.sequence).collect::<Vec<_>>(), vec![0, 2]);
        let text = render_media_playlist(&groups, &packaging(2, 60), 1.0).unwrap();
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:2\n") && !text.contains("0.ts"));
    }

    fn ladder() -> Ladder {
        let r = |name: &str, w, h, v| LadderRendition {
            name: name.into(),
            width: w,
            height: h,
            video_bitrate: v,
            audio_bitrate: 128_000,
            framerate_numerator: 30000,
            framerate_denominator: 1001,
            codecs: "avc1.42c01f,mp4a.40.2".into(),
        };
        Ladder {
            gop_seconds: 2.0,
            renditions: vec![
                r("720p", 1280, 720, 3_000_000),
                r("1080p", 1920, 1080, 5_000_000),
                r("360p", 640, 360, 800_000),
            ],
        }
    }

    #[test]
    fn selection_filters_and_orders() {
        let ladder = ladder();
        let names = |p: &Packaging| {
            select_renditions(&ladder, p)
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
        };
        let mut p = packaging(6, 60);
        assert_eq!(names(&p), ["720p", "1080p", "360p"]);
        p.stream_order = StreamOrder::VideoBitrateAscending;
        assert_eq!(names(&p), ["360p", "720p", "1080p"]);
        p.stream_order = StreamOrder::VideoBitrateDescending;
        assert_eq!(names(&p), ["1080p", "720p", "360p"]);
        p.min_video_bits_per_second = 800_001;
        p.max_video_bits_per_second = 3_000_000;
        assert_eq!(names(&p), ["720p"]);
    }

    #[test]
    fn master_entries() {
        let ladder = ladder();
        let selected = select_renditions(&ladder, &packaging(6, 60));
        let codecs = HashMap::from([("1080p".to_owned(), "avc1.42c028,mp4a.40.2".to_owned())]);
        let text = render_master(&selected[..2], &codecs);
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-STREAM-INF:BANDWIDTH=3440800,AVERAGE-BANDWIDTH=3128000,RESOLUTION=1280x720,CODECS=\"avc1.42c01f,mp4a.40.2\",FRAME-RATE=29.970\n\
             720p/index.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=5640800,AVERAGE-BANDWIDTH=5128000,RESOLUTION=1920x1080,CODECS=\"avc1.42c028,mp4a.40.2\",FRAME-RATE=29.970\n\
             1080p/index.m3u8\n"
        );
    }
}
