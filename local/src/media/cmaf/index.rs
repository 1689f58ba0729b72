//! The in-memory index of one rendition's CMAF parts (fragments ffmpeg wrote, on disk), and the
//! endpoint segments an origin endpoint cuts them into.
//!
//! - A GOP is a run of parts starting at a part whose first video sample is a sync sample.
//! - An endpoint segment is `k` consecutive GOPs of one ffmpeg run, aligned on the GOP numbers
//!   from the run's start (so every request cuts the same segments); a run's last segment may be
//!   short. Sequence numbers are contiguous over runs: each run adds `ceil(gops / k)`.
//! - A new run is a discontinuity (timestamps restart, a new init segment).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// One fragment (moof+mdat) on disk.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub path: PathBuf,
    /// Video decode time of the first sample and duration, in the run's timescale.
    pub start: u64,
    pub duration: u64,
    pub independent: bool,
    /// When the whole part had arrived.
    pub arrived: SystemTime,
    /// The audio track's decode time of its first sample and duration, in the audio timescale.
    pub audio: Option<(u64, u64)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gop {
    pub parts: Vec<Part>,
}

impl Gop {
    fn duration(&self) -> u64 {
        self.parts.iter().map(|p| p.duration).sum()
    }
}

/// A track of the muxed CMAF: its id and timescale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Track {
    pub id: u32,
    pub timescale: u32,
}

/// What a run's init segment says, and when its first frame was ingested.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStart {
    pub run_id: u32,
    /// ftyp+moov.
    pub init: Bytes,
    pub video: Track,
    pub audio: Option<Track>,
    /// When the frame at media time 0 reached the server (None: unknown).
    pub ingested: Option<SystemTime>,
}

impl RunStart {
    /// A run with video only (track 1) and no ingest time.
    pub fn video(run_id: u32, init: Bytes, timescale: u32) -> Self {
        Self {
            run_id,
            init,
            video: Track { id: 1, timescale },
            audio: None,
            ingested: None,
        }
    }
}

/// What one ffmpeg run wrote for a rendition.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMedia {
    pub run_id: u32,
    /// ftyp+moov.
    pub init: Bytes,
    /// The video timescale.
    pub timescale: u32,
    pub video_track: u32,
    pub audio: Option<Track>,
    /// GOPs pruned from the front (they still count for the numbering).
    pub first_gop: u64,
    pub gops: VecDeque<Gop>,
    pub ended: bool,
    /// The wall-clock time of media time 0: when that frame was ingested, but never later than
    /// any part's arrival minus its end time, so no media is dated after it existed (a run's
    /// first parts come out of ffmpeg later than the ones after them).
    pub epoch: Option<SystemTime>,
}

impl RunMedia {
    fn total_gops(&self) -> u64 {
        self.first_gop + self.gops.len() as u64
    }

    /// The wall-clock time of a media time (PROGRAM-DATE-TIME, DASH availability).
    pub fn wall_clock(&self, ticks: u64) -> Option<SystemTime> {
        Some(self.epoch? + self::ticks(ticks, self.timescale))
    }
}

/// A media time as a Duration (integer nanoseconds, so a run's dates do not drift by rounding).
fn ticks(ticks: u64, timescale: u32) -> Duration {
    let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(timescale.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// A rendition's runs, oldest first, and the nominal GOP that tells when a GOP is complete.
#[derive(Clone, Debug, PartialEq)]
pub struct RenditionMedia {
    pub runs: Vec<RunMedia>,
    pub gop_seconds: f64,
    pub fps: f64,
}

impl RenditionMedia {
    pub fn new(gop_seconds: f64, fps: f64) -> Self {
        Self {
            runs: Vec::new(),
            gop_seconds,
            fps,
        }
    }

    pub fn begin_run(&mut self, start: RunStart) {
        self.runs.push(RunMedia {
            run_id: start.run_id,
            init: start.init,
            timescale: start.video.timescale,
            video_track: start.video.id,
            audio: start.audio,
            first_gop: 0,
            gops: VecDeque::new(),
            ended: false,
            epoch: start.ingested,
        });
    }

    /// Adds a part to the run; a part before the run's first sync sample cannot start a
    /// decodable segment and is dropped (returned in the paths to delete). Returns the files of
    /// the parts pruned beyond `retention_seconds`.
    pub fn add_part(&mut self, run_id: u32, part: Part, retention_seconds: f64) -> Vec<PathBuf> {
        let Some(run) = self.runs.iter_mut().rev().find(|r| r.run_id == run_id) else {
            return vec![part.path];
        };
        let bound = (part.arrived).checked_sub(ticks(part.start + part.duration, run.timescale));
        run.epoch = match (run.epoch, bound) {
            (Some(epoch), Some(bound)) => Some(epoch.min(bound)),
            (epoch, bound) => epoch.or(bound),
        };
        match run.gops.back_mut() {
            Some(gop) if !part.independent => gop.parts.push(part),
            None if !part.independent => return vec![part.path],
            _ => run.gops.push_back(Gop { parts: vec![part] }),
        }
        self.prune(retention_seconds)
    }

    pub fn end_run(&mut self, run_id: u32) {
        if let Some(run) = self.runs.iter_mut().find(|r| r.run_id == run_id) {
            run.ended = true;
        }
    }

    /// Drops the oldest GOPs while the rest still covers the retention.
    fn prune(&mut self, retention_seconds: f64) -> Vec<PathBuf> {
        let seconds = |r: &RunMedia, g: &Gop| g.duration() as f64 / f64::from(r.timescale.max(1));
        let mut kept: f64 = self
            .runs
            .iter()
            .flat_map(|r| r.gops.iter().map(move |g| seconds(r, g)))
            .sum();
        let mut removed = Vec::new();
        for run in &mut self.runs {
            while let Some(oldest) = run.gops.front() {
                let length = seconds(run, oldest);
                if kept - length < retention_seconds {
                    return removed;
                }
                kept -= length;
                removed.extend(run.gops.pop_front().into_iter().flat_map(|g| g.parts).map(|p| p.path));
                run.first_gop += 1;
            }
        }
        removed
    }

    /// A GOP is complete once the next one started, its run ended, or it is as long as a GOP
    /// (within half a frame): then its last part has arrived.
    fn gop_complete(&self, run: &RunMedia, index: usize) -> bool {
        let nominal = self.gop_seconds - 0.5 / self.fps.max(1.0);
        index + 1 < run.gops.len()
            || run.ended
            || run.gops[index].duration() as f64 / f64::from(run.timescale.max(1)) >= nominal
    }

    /// The endpoint segments of `k` GOPs each, oldest first; the last one may be in progress.
    pub fn segments(&self, k: u64) -> Vec<Segment<'_>> {
        let k = k.max(1);
        let (mut base, mut nonempty_before) = (0u64, 0u64);
        let mut out = Vec::new();
        for run in &self.runs {
            let total = run.total_gops();
            if total == 0 {
                continue;
            }
            for group in run.first_gop.div_ceil(k)..total.div_ceil(k) {
                let (from, to) = (group * k, ((group + 1) * k).min(total));
                let gops = (from - run.first_gop) as usize..(to - run.first_gop) as usize;
                let last_complete = self.gop_complete(run, gops.end - 1);
                let complete = last_complete && (to - from == k || run.ended);
                let parts = run.gops.range(gops).flat_map(|g| g.parts.iter()).collect();
                out.push(Segment {
                    sequence: base + group,
                    run,
                    discontinuity: group == 0 && nonempty_before > 0,
                    discontinuity_sequence: nonempty_before,
                    parts,
                    complete,
                });
            }
            base += total.div_ceil(k);
            nonempty_before += 1;
        }
        out
    }
}

/// One endpoint segment: the parts of its GOPs.
#[derive(Clone, Debug)]
pub struct Segment<'a> {
    pub sequence: u64,
    pub run: &'a RunMedia,
    /// The first segment of a run after another run.
    pub discontinuity: bool,
    /// How many runs with media came before this segment's run.
    pub discontinuity_sequence: u64,
    pub parts: Vec<&'a Part>,
    /// All its parts are there (it is listed as a segment, not only as parts).
    pub complete: bool,
}

impl Segment<'_> {
    pub fn start(&self) -> u64 {
        self.parts.first().map_or(0, |p| p.start)
    }

    pub fn duration(&self) -> u64 {
        self.parts.iter().map(|p| p.duration).sum()
    }

    pub fn seconds(&self, ticks: u64) -> f64 {
        ticks as f64 / f64::from(self.run.timescale.max(1))
    }

    pub fn duration_seconds(&self) -> f64 {
        self.seconds(self.duration())
    }

    pub fn program_date_time(&self) -> Option<SystemTime> {
        self.run.wall_clock(self.start())
    }

    /// The audio start and duration (audio timescale); None when a part has no audio.
    pub fn audio(&self) -> Option<(u64, u64)> {
        let first = self.parts.first()?.audio?.0;
        let duration = self.parts.iter().map(|p| p.audio.map(|a| a.1)).sum::<Option<u64>>()?;
        Some((first, duration))
    }
}

/// The number of GOPs per endpoint segment (as the TS path's [`crate::media::origin`] groups).
pub fn group_size(segment_duration_seconds: u32, gop_seconds: f64) -> u64 {
    crate::media::origin::group_size(segment_duration_seconds, gop_seconds)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// 30 fps in a 15360 timescale: 512 ticks a frame; parts of 10 frames, 2 s GOPs.
    pub fn part(start_frame: u64, frames: u64, independent: bool) -> Part {
        Part {
            path: PathBuf::from(format!("/p/{start_frame}.m4s")),
            start: start_frame * 512,
            duration: frames * 512,
            independent,
            arrived: SystemTime::UNIX_EPOCH
                + Duration::from_secs(1000)
                + Duration::from_nanos((start_frame + frames) * 1_000_000_000 / 30),
            audio: Some((start_frame * 1600, frames * 1600)),
        }
    }

    /// A rendition with `parts` parts of 10 frames (6 per 2 s GOP) in run 0.
    pub fn rendition(parts: u64) -> RenditionMedia {
        let mut r = RenditionMedia::new(2.0, 30.0);
        r.begin_run(RunStart::video(0, Bytes::from_static(b"init"), 15360));
        for i in 0..parts {
            assert!(r.add_part(0, part(i * 10, 10, i % 6 == 0), 600.0).is_empty());
        }
        r
    }

    #[test]
    fn gops_are_cut_at_sync_samples_and_segments_complete_with_their_last_part() {
        // 2 GOPs per 4 s segment; 15 parts = GOPs 0, 1 (complete) and half of GOP 2.
        let r = rendition(15);
        let segments = r.segments(2);
        let shape: Vec<_> = segments
            .iter()
            .map(|s| (s.sequence, s.parts.len(), s.complete))
            .collect();
        assert_eq!(shape, [(0, 12, true), (1, 3, false)]);
        assert_eq!(segments[0].duration_seconds(), 4.0);
        // The 12th part completes segment 0 before any part of GOP 2 arrived.
        let shape: Vec<_> = rendition(12)
            .segments(2)
            .iter()
            .map(|s| (s.sequence, s.complete))
            .collect();
        assert_eq!(shape, [(0, true)]);
        assert!(!rendition(11).segments(2)[0].complete);
        // The epoch is the arrival of the first part minus its end: PDT of segment 0 = 1000 s.
        let pdt = segments[0].program_date_time().unwrap();
        let from_1000 = pdt.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64() - 1000.0;
        assert!(from_1000.abs() < 0.001, "{from_1000}");
    }

    #[test]
    fn runs_continue_sequences_and_mark_discontinuities() {
        let mut r = rendition(18); // 3 GOPs: segments 0 (2 GOPs) and 1 (1 GOP, in progress)
        r.end_run(0);
        r.begin_run(RunStart::video(3, Bytes::from_static(b"init3"), 15360));
        for i in 0..7 {
            r.add_part(3, part(i * 10, 10, i % 6 == 0), 600.0);
        }
        let segments = r.segments(2);
        let shape: Vec<_> = segments
            .iter()
            .map(|s| {
                (
                    s.sequence,
                    s.run.run_id,
                    s.complete,
                    s.discontinuity,
                    s.discontinuity_sequence,
                )
            })
            .collect();
        assert_eq!(
            shape,
            [(0, 0, true, false, 0), (1, 0, true, false, 0), (2, 3, false, true, 1)]
        );
        assert_eq!(segments[1].parts.len(), 6);
    }

    #[test]
    fn parts_before_the_first_sync_sample_are_dropped() {
        let mut r = RenditionMedia::new(2.0, 30.0);
        r.begin_run(RunStart::video(0, Bytes::new(), 15360));
        assert_eq!(r.add_part(0, part(0, 10, false), 600.0), [PathBuf::from("/p/0.m4s")]);
        assert!(r.segments(1).is_empty());
        assert_eq!(r.add_part(9, part(0, 10, true), 600.0).len(), 1, "unknown run");
    }

    #[test]
    fn pruning_keeps_the_retention_and_the_numbering() {
        // 10 GOPs of 2 s with a 9 s retention: the 5 newest GOPs (10 s) stay.
        let mut r = rendition(0);
        let mut removed = Vec::new();
        for i in 0..60 {
            removed.extend(r.add_part(0, part(i * 10, 10, i % 6 == 0), 9.0));
        }
        assert_eq!(removed.len(), 30);
        assert_eq!(r.runs[0].first_gop, 5);
        // Segments of 2 GOPs: group 2 (GOPs 4, 5) lost GOP 4, so it is not served.
        let seqs: Vec<_> = r.segments(2).iter().map(|s| s.sequence).collect();
        assert_eq!(seqs, [3, 4]);
    }

    /// The newest media is never dated after the moment it is served, whether the first part
    /// came out of ffmpeg late (before the fix its lag dated every later part in the future) or
    /// the ingest time is known.
    #[test]
    fn no_media_is_dated_after_it_arrived() {
        for ingested in [None, Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1000))] {
            let mut r = RenditionMedia::new(2.0, 30.0);
            let mut start = RunStart::video(0, Bytes::new(), 15360);
            start.ingested = ingested;
            r.begin_run(start);
            for i in 0..30 {
                let mut p = part(i * 10, 10, i % 6 == 0);
                // 0.2 s out of the encoder, the first part 1.2 s.
                p.arrived += Duration::from_millis(if i == 0 { 1200 } else { 200 });
                let now = p.arrived;
                r.add_part(0, p, 600.0);
                let segments = r.segments(2);
                let newest = segments.last().unwrap();
                assert!(newest.program_date_time().unwrap() < now);
                let end = newest.run.wall_clock(newest.start() + newest.duration()).unwrap();
                assert!(end <= now, "part {i}: {end:?} after {now:?} ({ingested:?})");
                // Dated by the ingest time, or by the earliest arrival: 0.2 s after capture.
                let first = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
                let lag = r.runs[0]
                    .epoch
                    .unwrap()
                    .duration_since(first)
                    .map_or(0.0, |d| d.as_secs_f64());
                assert!(lag <= if ingested.is_some() { 0.0 } else { 0.2001 } || i == 0, "{lag}");
            }
        }
    }
}
