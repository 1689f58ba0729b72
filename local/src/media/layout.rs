//! The on-disk layout shared by the transcoder (writer) and the origin (reader), see [`super`].

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Input segments kept on disk, at least: MediaPackage keeps a long startover window; our
/// endpoints' playlist windows are shorter than this.
pub const RETENTION_SECONDS: f64 = 600.0;

/// The longest a channel's segments are kept for the startover windows of its MediaPackage v2
/// endpoints (harvest jobs cut from them): an hour, so a 14-day window does not fill the disk.
pub const MAX_RETENTION_SECONDS: f64 = 3600.0;

/// How long a channel keeps its segments for endpoints whose longest startover window is
/// `startover` seconds: at least [`RETENTION_SECONDS`], at most [`MAX_RETENTION_SECONDS`], plus a
/// segment's worth of slack so the oldest second of the window is still there.
pub fn retention_for(startover: Option<f64>, gop_seconds: f64) -> f64 {
    let window = startover.unwrap_or(0.0) + gop_seconds.max(1.0) * 2.0;
    window.clamp(RETENTION_SECONDS, MAX_RETENTION_SECONDS)
}

pub const LADDER_FILE: &str = "ladder.json";
pub const RUNS_FILE: &str = "runs.json";
pub const FFMPEG_MASTER: &str = "ffmaster.m3u8";
pub const THUMBNAIL_FILE: &str = "thumbnail.jpg";

/// A file or directory name that cannot escape its parent.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `{data_dir}/mediapackage/{package_channel_id}`, or None for an unsafe id.
pub fn channel_dir(data_dir: &Path, package_channel_id: &str) -> Option<PathBuf> {
    is_safe_name(package_channel_id).then(|| data_dir.join("mediapackage").join(package_channel_id))
}

/// The media folder name of a MediaPackage v2 channel (group and channel names hold no '.').
pub fn v2_channel_key(group: &str, channel: &str) -> String {
    format!("v2.{group}.{channel}")
}

/// The (group, channel) of a media key [`v2_channel_key`] made.
pub fn v2_group_channel(key: &str) -> Option<(&str, &str)> {
    key.strip_prefix("v2.")?.split_once('.')
}

/// A media key [`v2_channel_key`] made (v1 channel ids hold no '.').
pub fn is_v2_channel_key(key: &str) -> bool {
    key.starts_with("v2.")
}

/// Where a channel's ffmpeg writes: its MediaPackage channel's folder, or for a channel that only
/// records to S3, `{data_dir}/medialive/{channel_id}`.
pub fn work_dir(data_dir: &Path, job: &super::TranscodeJob) -> Option<PathBuf> {
    match &job.package_channel_id {
        Some(id) => channel_dir(data_dir, id),
        None => is_safe_name(&job.channel_id).then(|| data_dir.join("medialive").join(&job.channel_id)),
    }
}

/// The latest input thumbnail of a MediaLive channel: `{data_dir}/medialive/{channel_id}/thumbnail.jpg`.
pub fn thumbnail(data_dir: &Path, channel_id: &str) -> Option<PathBuf> {
    is_safe_name(channel_id).then(|| data_dir.join("medialive").join(channel_id).join(THUMBNAIL_FILE))
}

pub fn run_playlist(channel_dir: &Path, rendition: &str, run_id: u32) -> PathBuf {
    channel_dir.join(rendition).join(format!("run-{run_id}.m3u8"))
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Ladder {
    pub gop_seconds: f64,
    pub renditions: Vec<LadderRendition>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LadderRendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub video_bitrate: u64,
    pub audio_bitrate: u64,
    pub framerate_numerator: u32,
    pub framerate_denominator: u32,
    /// Derived from the preset and level; the origin prefers what ffmpeg reports.
    pub codecs: String,
}

/// One ffmpeg run: its segments are numbered from `start_seq`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Run {
    pub id: u32,
    pub start_seq: u64,
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> io::Result<T> {
    let text = std::fs::read(path)?;
    serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Write-then-rename, so the origin never reads half a file.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value).map_err(io::Error::other)?)?;
    std::fs::rename(tmp, path)
}

pub fn read_runs(channel_dir: &Path) -> io::Result<Vec<Run>> {
    match read_json(&channel_dir.join(RUNS_FILE)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        other => other,
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct InputSegment {
    pub seq: u64,
    pub duration: f64,
    pub uri: String,
    /// `#EXT-X-PROGRAM-DATE-TIME` (ffmpeg's `program_date_time` flag): the wall-clock time of the
    /// segment's first frame, in epoch seconds.
    pub program_date_time: Option<f64>,
}

/// One of ffmpeg's per-run media playlists.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputPlaylist {
    pub segments: Vec<InputSegment>,
    /// `#EXT-X-ENDLIST`: ffmpeg finished the run normally.
    pub ended: bool,
}

impl InputPlaylist {
    pub fn parse(text: &str) -> Self {
        let mut playlist = InputPlaylist::default();
        let (mut seq, mut duration, mut date_time) = (0u64, None, None);
        for line in text.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
                date_time = parse_date_time(v);
            } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                seq = v.parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("#EXTINF:") {
                duration = v.split(',').next().and_then(|d| d.parse::<f64>().ok());
            } else if line == "#EXT-X-ENDLIST" {
                playlist.ended = true;
            } else if !line.is_empty() && !line.starts_with('#') {
                playlist.segments.push(InputSegment {
                    seq,
                    duration: duration.take().unwrap_or(0.0),
                    uri: line.to_owned(),
                    program_date_time: date_time.take(),
                });
                seq += 1;
            }
        }
        playlist
    }

    pub fn read(path: &Path) -> io::Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(Self::parse(&text))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn next_seq(&self) -> Option<u64> {
        self.segments.last().map(|s| s.seq + 1)
    }
}

/// An HLS date-time (ISO 8601 with an offset, as ffmpeg writes `2026-05-01T10:00:00.000+0000`)
/// in epoch seconds.
pub fn parse_date_time(text: &str) -> Option<f64> {
    let text = text.trim();
    let parsed = text.parse::<jiff::Timestamp>().ok().or_else(|| {
        // ffmpeg writes the offset without a colon (`+0000`), which RFC 3339 parsers refuse.
        let (head, offset) = text.split_at(text.len().checked_sub(5)?);
        let colon = format!("{head}{}:{}", &offset[..3], &offset[3..]);
        colon.parse::<jiff::Timestamp>().ok()
    })?;
    Some(parsed.as_nanosecond() as f64 / 1e9)
}

/// Registers a new ffmpeg run: it starts right after the highest segment any rendition of the
/// previous run produced (a run without segments is replaced). Also deletes the files of old runs
/// beyond `retention` seconds (see [`retention_for`]); the entries stay in runs.json because the endpoint's sequence
/// numbers are derived from every run's length.
pub fn begin_run(channel_dir: &Path, renditions: &[String], retention: f64) -> io::Result<Run> {
    let mut runs = read_runs(channel_dir)?;
    let mut next = Run { id: 0, start_seq: 0 };
    if let Some(last) = runs.last().copied() {
        let mut end = None;
        for name in renditions {
            if let Some(p) = InputPlaylist::read(&run_playlist(channel_dir, name, last.id))? {
                end = end.max(p.next_seq());
            }
        }
        next = Run {
            id: last.id + 1,
            start_seq: end.unwrap_or(last.start_seq).max(last.start_seq),
        };
        if next.start_seq == last.start_seq {
            runs.pop();
        }
    }
    prune(channel_dir, &runs, next.start_seq, renditions, retention);
    runs.push(next);
    write_json(&channel_dir.join(RUNS_FILE), &runs)?;
    Ok(next)
}

/// Deletes segments and playlists of the runs older than the newest `retention` seconds.
fn prune(channel_dir: &Path, runs: &[Run], end_seq: u64, renditions: &[String], retention: f64) {
    let mut kept = 0.0;
    for (i, run) in runs.iter().enumerate().rev() {
        let end = runs.get(i + 1).map_or(end_seq, |r| r.start_seq);
        if kept < retention {
            let first = renditions.first().map(|n| run_playlist(channel_dir, n, run.id));
            if let Some(Ok(Some(p))) = first.map(|path| InputPlaylist::read(&path)) {
                kept += p.segments.iter().map(|s| s.duration).sum::<f64>();
            }
            continue;
        }
        for name in renditions {
            let dir = channel_dir.join(name);
            for seq in run.start_seq..end {
                let _ = std::fs::remove_file(dir.join(format!("{seq}.ts")));
            }
            let _ = std::fs::remove_file(run_playlist(channel_dir, name, run.id));
        }
    }
}

/// `CODECS` per rendition name from ffmpeg's master playlist (whose URIs are `{name}/run-N.m3u8`).
pub fn ffmpeg_codecs(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut pending = None;
    for line in text.lines().map(str::trim) {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            pending = attrs
                .split_once("CODECS=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(c, _)| c.to_owned());
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let (Some(codecs), Some((name, _))) = (pending.take(), line.split_once('/'))
        {
            out.insert(name.to_owned(), codecs);
        }
    }
    out
}

/// The CODECS a rendition is served with: what ffmpeg reported (`ffmpeg`, from its master
/// playlist) unless the rendition is H.265, whose attribute ffmpeg 5.1's HLS muxer writes with a
/// fixed compatibility field and constraint bytes (`hvc1.1.4.L63.B01` for a stream x265 wrote as
/// `hvc1.1.6.L63.90`): the ladder's own string, derived as x265 signals, is exact.
pub fn served_codecs<'a>(rendition: &'a LadderRendition, ffmpeg: &'a HashMap<String, String>) -> &'a str {
    match ffmpeg.get(&rendition.name) {
        Some(reported) if !rendition.codecs.starts_with("hvc1") => reported,
        _ => &rendition.codecs,
    }
}

/// The CODECS string x264 or x265 will signal for the rendition's profile and level
/// ([`super::h264`], [`super::h265`]).
pub fn derive_codecs(codec: &super::codec::VideoCodec, width: u32, height: u32, fps: f64, bitrate: u64) -> String {
    format!("{},mp4a.40.2", codec.codecs(width, height, fps, bitrate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffmpeg_playlist() {
        let p = InputPlaylist::parse(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:17\n\
             #EXTINF:2.000000,\n17.ts\n#EXTINF:1.033333,\n18.ts\n#EXT-X-ENDLIST\n",
        );
        assert!(p.ended);
        assert_eq!(p.segments.len(), 2);
        assert_eq!(
            p.segments[1],
            InputSegment {
                seq: 18,
                duration: 1.033333,
                uri: "18.ts".into(),
                program_date_time: None,
            }
        );
        assert_eq!(p.next_seq(), Some(19));
        assert_eq!(InputPlaylist::parse("#EXTM3U\n").next_seq(), None);
    }

    #[test]
    fn reads_codecs_from_ffmpeg_master() {
        let text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=3440800,RESOLUTION=1280x720,\
                    CODECS=\"avc1.42c01f,mp4a.40.2\"\nhi/run-3.m3u8\n\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlo/run-3.m3u8\n";
        let codecs = ffmpeg_codecs(text);
        assert_eq!(codecs.get("hi").map(String::as_str), Some("avc1.42c01f,mp4a.40.2"));
        assert!(!codecs.contains_key("lo"));
        let rendition = |name: &str, codecs: &str| LadderRendition {
            name: name.into(),
            width: 1280,
            height: 720,
            video_bitrate: 1,
            audio_bitrate: 1,
            framerate_numerator: 30,
            framerate_denominator: 1,
            codecs: codecs.into(),
        };
        assert_eq!(
            served_codecs(&rendition("hi", "avc1.4d401f,mp4a.40.2"), &codecs),
            "avc1.42c01f,mp4a.40.2"
        );
        assert_eq!(
            served_codecs(&rendition("lo", "avc1.4d401e,mp4a.40.2"), &codecs),
            "avc1.4d401e,mp4a.40.2"
        );
        // ffmpeg's HEVC attribute is not what x265 wrote: the derived one is served.
        let hevc = HashMap::from([("hi".to_owned(), "hvc1.1.4.L93.B01,mp4a.40.2".to_owned())]);
        assert_eq!(
            served_codecs(&rendition("hi", "hvc1.1.6.L93.90,mp4a.40.2"), &hevc),
            "hvc1.1.6.L93.90,mp4a.40.2"
        );
    }

    #[test]
    fn derives_codecs_like_x264() {
        use crate::media::codec::VideoCodec;
        use crate::media::h264::{H264, Profile};
        let high = VideoCodec::H264(H264 {
            profile: Profile::High,
            level: None,
        });
        assert_eq!(
            derive_codecs(&high, 1280, 720, 30.0, 3_000_000),
            "avc1.64001f,mp4a.40.2"
        );
        assert_eq!(
            derive_codecs(&VideoCodec::default(), 640, 360, 30.0, 1_000_000),
            "avc1.4d401e,mp4a.40.2"
        );
        let hevc = VideoCodec::from_settings(&serde_json::json!({"h265Settings": {
            "framerateNumerator": 30, "framerateDenominator": 1, "bitrate": 800000}}));
        assert_eq!(
            derive_codecs(&hevc, 640, 360, 30.0, 800_000),
            "hvc1.1.6.L63.90,mp4a.40.2"
        );
    }

    #[test]
    fn safe_names() {
        assert!(is_safe_name("abc-123_x.y"));
        for bad in ["", ".", "..", "a/b", "a\\b", "a b"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
        assert!(channel_dir(Path::new("/d"), "../x").is_none());
    }

    #[test]
    fn runs_continue_numbering_and_replace_empty_runs() {
        let dir = std::env::temp_dir().join(format!("media-layout-{}", uuid::Uuid::new_v4()));
        let names = vec!["hi".to_owned(), "lo".to_owned()];
        for n in &names {
            std::fs::create_dir_all(dir.join(n)).unwrap();
        }
        assert_eq!(
            begin_run(&dir, &names, RETENTION_SECONDS).unwrap(),
            Run { id: 0, start_seq: 0 }
        );
        // Run 0 produced 0..=4 in one rendition and 0..=3 in the other.
        std::fs::write(
            run_playlist(&dir, "hi", 0),
            "#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:1,\n3.ts\n#EXTINF:1,\n4.ts\n",
        )
        .unwrap();
        std::fs::write(
            run_playlist(&dir, "lo", 0),
            "#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:1,\n3.ts\n",
        )
        .unwrap();
        assert_eq!(
            begin_run(&dir, &names, RETENTION_SECONDS).unwrap(),
            Run { id: 1, start_seq: 5 }
        );
        // Run 1 crashed before its first segment: run 2 replaces it.
        assert_eq!(
            begin_run(&dir, &names, RETENTION_SECONDS).unwrap(),
            Run { id: 2, start_seq: 5 }
        );
        assert_eq!(
            read_runs(&dir).unwrap(),
            vec![Run { id: 0, start_seq: 0 }, Run { id: 2, start_seq: 5 }]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn old_runs_beyond_retention_are_pruned() {
        let dir = std::env::temp_dir().join(format!("media-prune-{}", uuid::Uuid::new_v4()));
        let names = vec!["hi".to_owned()];
        std::fs::create_dir_all(dir.join("hi")).unwrap();
        // Three runs of one 300 s segment each (seq 0, 1, 2).
        for seq in 0..3u64 {
            let run = begin_run(&dir, &names, RETENTION_SECONDS).unwrap();
            assert_eq!(
                run,
                Run {
                    id: seq as u32,
                    start_seq: seq
                }
            );
            let text = format!("#EXT-X-MEDIA-SEQUENCE:{seq}\n#EXTINF:300,\n{seq}.ts\n#EXT-X-ENDLIST\n");
            std::fs::write(run_playlist(&dir, "hi", run.id), text).unwrap();
            std::fs::write(dir.join(format!("hi/{seq}.ts")), b"ts").unwrap();
        }
        // The newest 600 s (runs 2 and 1) stay; run 0's files go, its entry stays.
        assert_eq!(
            begin_run(&dir, &names, RETENTION_SECONDS).unwrap(),
            Run { id: 3, start_seq: 3 }
        );
        assert!(!run_playlist(&dir, "hi", 0).exists() && !dir.join("hi/0.ts").exists());
        assert!(run_playlist(&dir, "hi", 1).exists() && dir.join("hi/1.ts").exists());
        assert_eq!(read_runs(&dir).unwrap().len(), 4);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
