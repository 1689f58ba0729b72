//! One supervised ffmpeg per publishing channel: FLV in on stdin, the HLS ladder out on disk.
//!
//! A run is one ffmpeg process. It starts at a video key frame (a restarted ffmpeg first gets the
//! cached metadata and decoder configuration, and timestamps rebased to 0), ends normally when
//! the publisher leaves (stdin EOF: ffmpeg flushes the last segment), is killed by stop_channel,
//! and is restarted with a bounded backoff when it exits while the publisher is still there.

use std::collections::VecDeque;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, watch};

use super::flv::{self, Tag, TagKind};
use super::layout::{self, Ladder, LadderRendition, Run};
use super::recorder::Recorder;
use super::tee;
use super::{ChannelSlot, Media, TranscodeJob};

const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A run that lasted this long was healthy: the next crash restarts quickly again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// How long ffmpeg may take to flush after stdin EOF before it is killed.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// What the origin (`ladder.json`, the renditions of the MediaPackage output group) or the
/// recorder (every rendition) needs to know about the renditions.
pub fn ladder(job: &TranscodeJob, packaged_only: bool) -> Ladder {
    let renditions = job
        .renditions
        .iter()
        .filter(|r| r.packaged || !packaged_only)
        .map(|r| LadderRendition {
            name: r.name.clone(),
            width: r.width,
            height: r.height,
            video_bitrate: r.bitrate,
            audio_bitrate: job.audio.bitrate,
            framerate_numerator: r.framerate_numerator,
            framerate_denominator: r.framerate_denominator,
            codecs: layout::derive_codecs(&r.codec, r.width, r.height, fps(r), r.bitrate),
        })
        .collect();
    Ladder {
        gop_seconds: job.gop_seconds,
        renditions,
    }
}

fn fps(r: &super::VideoRendition) -> f64 {
    f64::from(r.framerate_numerator) / f64::from(r.framerate_denominator.max(1))
}

/// Everything one ffmpeg command line depends on.
pub struct FfmpegRun<'a> {
    pub job: &'a TranscodeJob,
    pub channel_dir: &'a Path,
    pub run: Run,
    pub preset: &'a str,
    /// Without audio in the input, silence is encoded so every rendition still has AAC.
    pub has_audio: bool,
    /// Where the input's thumbnail is kept up to date, when the channel enables thumbnails.
    pub thumbnail: Option<&'a Path>,
    /// (rendition index, port): v2 channels' renditions also sent as fMP4 ([`super::cmaf`]).
    pub cmaf_outputs: &'a [(usize, u16)],
}

/// Thumbnails: one every 2 s, 480 pixels wide at the input's aspect ratio (an assumption: AWS
/// does not document the size of MediaLive's thumbnails).
pub const THUMBNAIL_WIDTH: u32 = 480;
const THUMBNAIL_EVERY: &str = "1/2";

/// x264 without frame threads and lookahead: every frame leaves the encoder as soon as it is
/// encoded (frame threads and the lookahead held ~0.2 s of frames before the muxer saw them).
pub const X264_TUNE: &str = "-tune zerolatency";

/// The ffmpeg command line (without the binary) of one run.
pub fn ffmpeg_args(r: &FfmpegRun) -> Vec<String> {
    let job = r.job;
    let gop = job.gop_seconds;
    let dir = r.channel_dir.display();
    let mut a: Vec<String> = Vec::new();
    // Space-separated words; only paths and the filter graph (pushed whole) may contain spaces.
    let mut words = |s: String| a.extend(s.split_whitespace().map(str::to_owned));
    words("-hide_banner -nostdin -loglevel warning -y".into());
    // Slice threads only: a frame-threaded decoder holds a frame per thread (latency).
    words("-thread_type slice -thread_queue_size 1024 -f flv -i pipe:0".into());
    if !r.has_audio {
        // Paced (-re) so it does not race ahead of the live video; -shortest ends it at EOF.
        let rate = job.audio.sample_rate;
        words(format!("-re -f lavfi -i anullsrc=r={rate}:cl=stereo -shortest"));
    }
    let audio = if r.has_audio { "0:a:0" } else { "1:a:0" };
    for i in 0..job.renditions.len() {
        words(format!("-map [v{i}] -map {audio}"));
    }
    let preset = r.preset;
    words(format!("-c:v libx264 -preset {preset} {X264_TUNE} -sc_threshold 0"));
    words(format!("-force_key_frames expr:gte(t,n_forced*{gop})"));
    for (i, v) in job.renditions.iter().enumerate() {
        let frames = (fps(v) * gop).round().max(1.0) as u64;
        // Per stream after the ladder's defaults: an H.265 rendition names its own encoder.
        words(v.codec.encoder_args(i, v.bitrate, frames));
    }
    let (ab, ar) = (job.audio.bitrate, job.audio.sample_rate);
    words(format!("-c:a aac -b:a {ab} -ar {ar} -ac 2"));
    let branches = job.renditions.len() + usize::from(r.thumbnail.is_some());
    let mut graph = format!("[0:v]split={branches}");
    for i in 0..branches {
        graph += &format!("[s{i}]");
    }
    for (i, v) in job.renditions.iter().enumerate() {
        let (num, den) = (v.framerate_numerator, v.framerate_denominator);
        let (w, h, pix_fmt) = (v.width, v.height, v.codec.pix_fmt());
        graph += &format!(";[s{i}]fps={num}/{den},scale={w}:{h},format={pix_fmt}[v{i}]");
    }
    if r.thumbnail.is_some() {
        // The decoded input, before the ladder's scaling: a thumbnail of what the encoder sends.
        let n = job.renditions.len();
        graph += &format!(";[s{n}]fps={THUMBNAIL_EVERY},scale={THUMBNAIL_WIDTH}:-2[thumb]");
    }
    a.extend(["-filter_complex".to_owned(), graph]);
    let playlist = format!("{dir}/%v/run-{}.m3u8", r.run.id);
    if r.cmaf_outputs.is_empty() {
        a.extend(["-f".to_owned(), "hls".to_owned()]);
        for (key, value) in hls_options(r) {
            a.extend([format!("-{key}"), value]);
        }
        a.push(playlist);
    } else {
        // One encode for the HLS ladder and the CMAF outputs. MP4 wants the codec headers out of
        // band; the TS muxer puts them back in band on every key frame.
        let mut words = |s: &str| a.extend(s.split_whitespace().map(str::to_owned));
        words("-flags +global_header -f tee");
        let mut slaves = vec![tee::slave("hls", None, &hls_options(r), &playlist)];
        slaves.extend(super::cmaf::ingest::tee_slaves(job, r.cmaf_outputs));
        a.push(tee::target(&slaves));
    }
    if let Some(path) = r.thumbnail {
        let mut words = |s: String| a.extend(s.split_whitespace().map(str::to_owned));
        words("-map [thumb] -c:v mjpeg -q:v 5 -f image2 -update 1 -atomic_writing 1".into());
        a.push(path.display().to_string());
    }
    a
}

/// The HLS muxer's options: the ladder's segments and playlists under the channel's folder.
fn hls_options(r: &FfmpegRun) -> Vec<(&'static str, String)> {
    let job = r.job;
    let gop = job.gop_seconds;
    let dir = r.channel_dir.display();
    let streams: Vec<String> = (job.renditions.iter().enumerate())
        .map(|(i, v)| format!("v:{i},a:{i},name:{}", v.name))
        .collect();
    vec![
        ("hls_time", gop.to_string()),
        (
            "hls_list_size",
            ((job.retention_seconds / gop).ceil() as u64 + 1).to_string(),
        ),
        ("hls_flags", "delete_segments+temp_file+program_date_time".to_owned()),
        ("start_number", r.run.start_seq.to_string()),
        ("master_pl_name", layout::FFMPEG_MASTER.to_owned()),
        ("hls_segment_filename", format!("{dir}/%v/%d.ts")),
        ("var_stream_map", streams.join(" ")),
    ]
}

/// What a restarted ffmpeg must see again before any frame.
#[derive(Default)]
struct Cache {
    metadata: Option<Tag>,
    video_config: Option<Tag>,
    audio_config: Option<Tag>,
    saw_audio: bool,
}

impl Cache {
    fn observe(&mut self, tag: &Tag) {
        if tag.is_metadata() {
            self.metadata = Some(tag.clone());
        } else if tag.is_sequence_header() {
            let slot = if tag.kind == TagKind::Video {
                &mut self.video_config
            } else {
                &mut self.audio_config
            };
            *slot = Some(tag.clone());
        }
        self.saw_audio |= tag.kind == TagKind::Audio;
    }
}

enum Outcome {
    PublisherLeft,
    Kicked,
    Crashed(std::io::Result<ExitStatus>),
}

/// Resolves once stop_channel kicked this publisher; never if the kick sender is gone unused.
async fn kicked(kick: &mut watch::Receiver<bool>) {
    if kick.wait_for(|k| *k).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The next tag, or None when the publisher left or was kicked (`kicked` says which).
async fn next(rx: &mut mpsc::Receiver<Tag>, kick: &mut watch::Receiver<bool>) -> Result<Tag, Outcome> {
    tokio::select! {
        biased;
        () = kicked(kick) => Err(Outcome::Kicked),
        tag = rx.recv() => tag.ok_or(Outcome::PublisherLeft),
    }
}

/// Runs the channel's transcoder until its publisher leaves or is kicked, and its recorder
/// (S3 output groups) until the last segment is copied.
pub(super) async fn supervise(
    media: Media,
    slot: Arc<ChannelSlot>,
    job: TranscodeJob,
    rx: mpsc::Receiver<Tag>,
    kick: watch::Receiver<bool>,
) {
    let Some(dir) = layout::work_dir(&media.inner.data_dir, &job) else {
        return;
    };
    supervise_into(media, slot.run_lock.clone(), dir, job, rx, kick).await;
}

/// [`supervise`] into `dir`, one run at a time under `run_lock` (a pipeline's runs: the package
/// folder's lock, or its scratch folder's).
pub(super) async fn supervise_into(
    media: Media,
    run_lock: Arc<tokio::sync::Mutex<()>>,
    dir: std::path::PathBuf,
    job: TranscodeJob,
    rx: mpsc::Receiver<Tag>,
    kick: watch::Receiver<bool>,
) {
    let channel_id = job.channel_id.as_str();
    // The previous run's ffmpeg must have flushed before this one numbers its run.
    let _run_guard = run_lock.lock().await;
    let names: Vec<String> = job.renditions.iter().map(|r| r.name.clone()).collect();
    let prepared = names
        .iter()
        .try_for_each(|n| std::fs::create_dir_all(dir.join(n)))
        .and_then(|()| {
            let served = ladder(&job, true);
            layout::write_json(&dir.join(layout::LADDER_FILE), &served)
        });
    if let Err(e) = prepared {
        tracing::error!(channel_id, dir = %dir.display(), error = %e, "cannot prepare the package directory");
        return;
    }
    let recorded = ladder(&job, false);
    let recorder = Recorder::start(&media, dir.clone(), job.s3_groups.clone(), recorded);
    transcode(&media, &job, &dir, &names, recorder.as_ref(), rx, kick).await;
    if let Some(recorder) = recorder {
        recorder.finish().await;
    }
}

/// One ffmpeg run after another (restarted after a crash) while the publisher stays.
async fn transcode(
    media: &Media,
    job: &TranscodeJob,
    dir: &Path,
    names: &[String],
    recorder: Option<&Recorder>,
    mut rx: mpsc::Receiver<Tag>,
    mut kick: watch::Receiver<bool>,
) {
    let inner = &media.inner;
    let channel_id = job.channel_id.as_str();
    let mut cache = Cache::default();
    let mut backoff = MIN_BACKOFF;
    loop {
        // A run starts with decodable video.
        let (first, ingested) = loop {
            match next(&mut rx, &mut kick).await {
                Ok(tag) => {
                    cache.observe(&tag);
                    if tag.is_keyframe() && !tag.is_sequence_header() {
                        break (tag, std::time::SystemTime::now());
                    }
                }
                Err(_) => return,
            }
        };
        let run = match layout::begin_run(dir, names, job.retention_seconds) {
            Ok(run) => run,
            Err(e) => {
                return tracing::error!(channel_id, error = %e, "cannot register an ffmpeg run");
            }
        };
        if let Some(recorder) = recorder {
            recorder.add_run(run);
        }
        let has_audio = cache.audio_config.is_some() || cache.saw_audio;
        let thumbnail = job
            .thumbnails
            .then(|| layout::thumbnail(&inner.data_dir, channel_id))
            .flatten()
            .filter(|path| path.parent().is_some_and(|dir| std::fs::create_dir_all(dir).is_ok()));
        let cmaf = super::cmaf::ingest::open(job).await;
        let cmaf_outputs: Vec<(usize, u16)> = cmaf.iter().map(|o| (o.index, o.port)).collect();
        let args = ffmpeg_args(&FfmpegRun {
            job,
            channel_dir: dir,
            run,
            preset: &inner.x264_preset,
            has_audio,
            thumbnail: thumbnail.as_deref(),
            cmaf_outputs: &cmaf_outputs,
        });
        let mut command = Command::new(&inner.ffmpeg);
        command
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // kill_on_drop: no ffmpeg outlives the server; own process group: a terminal's Ctrl-C
        // reaches the server, which then ends ffmpeg, instead of looking like a crash.
        command.kill_on_drop(true).process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                return tracing::error!(channel_id, ffmpeg = %inner.ffmpeg.display(), error = %e, "cannot start ffmpeg");
            }
        };
        super::cmaf::ingest::spawn_readers(&inner.cmaf, job, dir, run.id, ingested, cmaf);
        inner.counters.transcoder_starts.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            channel_id,
            run = run.id,
            start_seq = run.start_seq,
            pid = child.id(),
            "ffmpeg started"
        );
        let started = Instant::now();
        let stderr = log_stderr(&mut child, channel_id);
        let stdin = child.stdin.take().expect("stdin is piped");
        match pump(&mut child, stdin, &mut rx, &mut kick, &mut cache, first, has_audio).await {
            Outcome::PublisherLeft => {
                // stdin is closed: ffmpeg writes the last segment and ENDLIST.
                match tokio::time::timeout(FLUSH_TIMEOUT, child.wait()).await {
                    Ok(status) => {
                        tracing::info!(channel_id, ?status, "publisher left; ffmpeg finished")
                    }
                    Err(_) => {
                        tracing::warn!(channel_id, "ffmpeg did not finish after EOF; killing it");
                        let _ = child.kill().await;
                    }
                }
                return;
            }
            Outcome::Kicked => {
                let _ = child.kill().await;
                return tracing::info!(channel_id, "channel stopped; ffmpeg killed");
            }
            Outcome::Crashed(status) => {
                inner.counters.transcoder_restarts.fetch_add(1, Ordering::Relaxed);
                if started.elapsed() >= HEALTHY_RUN {
                    backoff = MIN_BACKOFF;
                }
                let tail = stderr.lock().unwrap().iter().cloned().collect::<Vec<_>>().join(" | ");
                tracing::error!(channel_id, ?status, stderr = %tail, retry_in = ?backoff, "ffmpeg exited while the publisher is connected; restarting");
            }
        }
        // Keep draining (the publisher must not stall) and caching until the retry.
        let retry = tokio::time::sleep(backoff);
        tokio::pin!(retry);
        loop {
            tokio::select! {
                () = &mut retry => break,
                tag = next(&mut rx, &mut kick) => match tag {
                    Ok(tag) => cache.observe(&tag),
                    Err(_) => return,
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Feeds FLV into ffmpeg until the publisher leaves, stop_channel kicks, or ffmpeg exits.
async fn pump(
    child: &mut Child,
    mut stdin: ChildStdin,
    rx: &mut mpsc::Receiver<Tag>,
    kick: &mut watch::Receiver<bool>,
    cache: &mut Cache,
    first: Tag,
    has_audio: bool,
) -> Outcome {
    // Timestamps are rebased so every run starts at 0, which the key-frame expression expects.
    let base = first.timestamp;
    let mut buf = flv::header(has_audio, true).to_vec();
    for tag in [&cache.metadata, &cache.video_config, &cache.audio_config]
        .into_iter()
        .flatten()
    {
        flv::write_tag(&mut buf, tag.kind, 0, &tag.data);
    }
    flv::write_tag(&mut buf, first.kind, 0, &first.data);
    loop {
        tokio::select! {
            biased;
            () = kicked(kick) => return Outcome::Kicked,
            result = stdin.write_all(&buf) => {
                if result.is_err() {
                    return Outcome::Crashed(child.wait().await);
                }
            }
        }
        buf.clear();
        let tag = tokio::select! {
            biased;
            () = kicked(kick) => return Outcome::Kicked,
            status = child.wait() => return Outcome::Crashed(status),
            tag = rx.recv() => match tag {
                Some(tag) => tag,
                None => return Outcome::PublisherLeft,
            },
        };
        cache.observe(&tag);
        flv::write_tag(&mut buf, tag.kind, tag.timestamp.saturating_sub(base), &tag.data);
    }
}

/// Logs ffmpeg's stderr at debug and keeps the last lines for the crash report.
fn log_stderr(child: &mut Child, channel_id: &str) -> Arc<Mutex<VecDeque<String>>> {
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    if let Some(stderr) = child.stderr.take() {
        let (tail, channel_id) = (tail.clone(), channel_id.to_owned());
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(channel_id, "ffmpeg: {line}");
                let mut tail = tail.lock().unwrap();
                if tail.len() == 8 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
    }
    tail
}

#[cfg(test)]
#[path = "transcoder_tests.rs"]
mod tests;
