//! ffmpeg's CMAF outputs of a run and the server side of them: one TCP listener per packaged
//! rendition on 127.0.0.1, a fragmented-MP4 output of ffmpeg connected to it, and a task splitting
//! the box stream into the init segment and parts.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use super::boxes::{self, VideoFragment, VideoTrack};
use super::index::Part;
use super::{CmafChannel, CmafStore};
use crate::media::{TranscodeJob, VideoRendition};

/// A part is about this long (LL-HLS's PART-TARGET is its exact frame count).
const PART_SECONDS: f64 = 1.0 / 3.0;
/// How long ffmpeg may take to connect once started.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

fn fps(r: &VideoRendition) -> f64 {
    f64::from(r.framerate_numerator) / f64::from(r.framerate_denominator.max(1))
}

/// The frames of one part at this frame rate.
pub fn frames_per_part(fps: f64) -> u64 {
    (fps * PART_SECONDS).round().max(1.0) as u64
}

/// The longest part, in seconds: every part has at most [`frames_per_part`] frames.
pub fn part_target(fps: f64) -> f64 {
    frames_per_part(fps) as f64 / fps.max(1.0)
}

/// The listener of one packaged rendition's CMAF output.
pub struct RenditionOutput {
    /// Index of the rendition in the job (its `[c{i}]` filter output).
    pub index: usize,
    pub port: u16,
    listener: TcpListener,
}

/// One listener per packaged rendition of a v2 channel's job (none for other channels, nor when
/// they cannot be opened: the TS output goes on without CMAF).
pub async fn open(job: &TranscodeJob) -> Vec<RenditionOutput> {
    match listen(job).await {
        Ok(outputs) => outputs,
        Err(e) => {
            tracing::error!(channel_id = job.channel_id, error = %e, "cannot listen for CMAF outputs");
            Vec::new()
        }
    }
}

async fn listen(job: &TranscodeJob) -> std::io::Result<Vec<RenditionOutput>> {
    let is_v2 = job
        .package_channel_id
        .as_deref()
        .is_some_and(crate::media::layout::is_v2_channel_key);
    let mut outputs = Vec::new();
    for (index, _) in job.renditions.iter().enumerate().filter(|(_, r)| r.packaged && is_v2) {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        outputs.push(RenditionOutput { index, port, listener });
    }
    Ok(outputs)
}

/// ffmpeg's outputs after its HLS output: per rendition, its own encode of the `[c{i}]` branch
/// (an encoder's packets go to one output only) and the shared audio, as fragmented MP4.
pub fn ffmpeg_outputs(job: &TranscodeJob, outputs: &[(usize, u16)], preset: &str, has_audio: bool) -> Vec<String> {
    let gop = job.gop_seconds;
    let audio = if has_audio { "0:a:0" } else { "1:a:0" };
    let (ab, ar) = (job.audio.bitrate, job.audio.sample_rate);
    let mut a = Vec::new();
    for &(i, port) in outputs {
        let v = &job.renditions[i];
        let (bitrate, frames) = (v.bitrate, (fps(v) * gop).round().max(1.0));
        // Cut a fragment at the part's last frame: 1 ms short of the exact duration so the video
        // track reaches it first (an AAC frame is 21 ms; the audio track cutting first would end
        // parts a frame early).
        let micros = (part_target(fps(v)) * 1e6 - 1000.0).max(1.0).round();
        let shortest = if has_audio { "" } else { "-shortest" };
        let words = format!(
            "-map [c{i}] -map {audio} -c:v libx264 -preset {preset} {tune} -sc_threshold 0 \
             -force_key_frames expr:gte(t,n_forced*{gop}) -b:v {bitrate} -maxrate {bitrate} \
             -bufsize {} -g {frames} -c:a aac -b:a {ab} -ar {ar} -ac 2 {shortest} -f mp4 \
             -movflags +frag_keyframe+empty_moov+default_base_moof+cmaf -frag_duration {micros} \
             -flush_packets 1 tcp://127.0.0.1:{port}",
            bitrate * 2,
            tune = crate::media::transcoder::X264_TUNE,
        );
        a.extend(words.split_whitespace().map(str::to_owned));
    }
    a
}

/// Accepts ffmpeg's connection on each listener and indexes what it sends until it closes.
pub fn spawn_readers(
    store: &CmafStore,
    job: &TranscodeJob,
    channel_dir: &Path,
    run_id: u32,
    outputs: Vec<RenditionOutput>,
) {
    let (false, Some(key)) = (outputs.is_empty(), job.package_channel_id.as_deref()) else {
        return;
    };
    let channel = store.get_or_create(key, channel_dir);
    for output in outputs {
        let rendition = &job.renditions[output.index];
        let stream = StreamOf {
            channel: channel.clone(),
            rendition: rendition.name.clone(),
            gop_seconds: job.gop_seconds,
            fps: fps(rendition),
            run_id,
        };
        let channel_id = job.channel_id.clone();
        tokio::spawn(async move {
            let accepted = tokio::time::timeout(CONNECT_TIMEOUT, output.listener.accept()).await;
            let Ok(Ok((socket, _))) = accepted else {
                return tracing::warn!(
                    channel_id,
                    rendition = stream.rendition,
                    "ffmpeg did not connect its CMAF output"
                );
            };
            if let Err(e) = stream.read(socket).await {
                tracing::warn!(channel_id, rendition = stream.rendition, error = %e, "CMAF output unreadable");
            }
            stream.channel.end_run(&stream.rendition, run_id);
        });
    }
}

/// One rendition's box stream of one run.
struct StreamOf {
    channel: Arc<CmafChannel>,
    rendition: String,
    gop_seconds: f64,
    fps: f64,
    run_id: u32,
}

impl StreamOf {
    async fn read(&self, mut socket: TcpStream) -> anyhow::Result<()> {
        let dir = self.channel.rendition_dir(&self.rendition);
        tokio::fs::create_dir_all(&dir).await?;
        let mut buf = BytesMut::with_capacity(1 << 20);
        let mut init = Vec::new();
        let mut track: Option<VideoTrack> = None;
        // The boxes of the part being read (styp, moof ...) and its moof's video run.
        let mut pending = Vec::new();
        let mut fragment: Option<Option<VideoFragment>> = None;
        let mut written = 0u64;
        loop {
            while let Some(h) = boxes::header(&buf)?.filter(|h| h.len <= buf.len()) {
                let b = buf.split_to(h.len).freeze();
                let body = &b[h.header_len..];
                match &h.kind {
                    b"ftyp" => init = b.to_vec(),
                    b"moov" => {
                        let video = boxes::video_track(body)?;
                        init.extend_from_slice(&b);
                        let init = std::mem::take(&mut init).into();
                        let (gop, fps) = (self.gop_seconds, self.fps);
                        (self.channel).begin_run(&self.rendition, gop, fps, self.run_id, init, video.timescale);
                        track = Some(video);
                    }
                    b"moof" => {
                        let video = track.as_ref().ok_or_else(|| anyhow::anyhow!("moof before moov"))?;
                        fragment = Some(boxes::video_fragment(body, video)?);
                        pending.extend_from_slice(&b);
                    }
                    b"mdat" => {
                        pending.extend_from_slice(&b);
                        if let Some(Some(video)) = fragment.take() {
                            let path = dir.join(format!("{}-{written}.m4s", self.run_id));
                            tokio::fs::write(&path, &pending).await?;
                            written += 1;
                            let part = Part {
                                path,
                                start: video.start,
                                duration: video.duration,
                                independent: video.independent,
                                arrived: SystemTime::now(),
                            };
                            self.channel.add_part(&self.rendition, self.run_id, part);
                        }
                        pending.clear();
                    }
                    b"styp" | b"sidx" | b"prft" | b"emsg" => pending.extend_from_slice(&b),
                    _ => {} // free, mfra ...
                }
            }
            if socket.read_buf(&mut buf).await? == 0 {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::transcoder::{FfmpegRun, ffmpeg_args};
    use crate::media::{AudioRendition, layout::Run};

    #[test]
    fn a_v2_channel_sends_each_packaged_rendition_as_fragmented_mp4_too() {
        let mut recorded_only = VideoRendition::at_30fps("360p", 640, 360, 800_000);
        recorded_only.packaged = false;
        let job = TranscodeJob {
            channel_id: "ch".into(),
            package_channel_id: Some("v2.live.main".into()),
            renditions: vec![VideoRendition::at_30fps("720p", 1280, 720, 3_000_000), recorded_only],
            s3_groups: Vec::new(),
            audio: AudioRendition {
                bitrate: 128_000,
                sample_rate: 48_000,
            },
            gop_seconds: 2.0,
            thumbnails: false,
            retention_seconds: crate::media::layout::RETENTION_SECONDS,
        };
        let args = ffmpeg_args(&FfmpegRun {
            job: &job,
            channel_dir: std::path::Path::new("/d"),
            run: Run { id: 0, start_seq: 0 },
            preset: "ultrafast",
            has_audio: true,
            thumbnail: None,
            cmaf_outputs: &[(0, 4000)],
        });
        let graph = &args[args.iter().position(|a| a == "-filter_complex").unwrap() + 1];
        assert!(graph.contains("format=yuv420p,split=2[v0][c0];[s1]"), "{graph}");
        assert!(graph.ends_with("format=yuv420p[v1]"), "{graph}");
        let hls_end = args.iter().position(|a| a == "/d/%v/run-0.m3u8").unwrap();
        let cmaf = args[hls_end + 1..].join(" ");
        assert!(
            cmaf.starts_with("-map [c0] -map 0:a:0 -c:v libx264 -preset ultrafast -tune zerolatency"),
            "{cmaf}"
        );
        assert!(
            cmaf.contains(" -force_key_frames expr:gte(t,n_forced*2) -b:v 3000000 "),
            "{cmaf}"
        );
        assert!(cmaf.contains(" -g 60 "), "{cmaf}");
        assert!(cmaf.ends_with(
            "-f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof+cmaf -frag_duration 332333 \
             -flush_packets 1 tcp://127.0.0.1:4000"
        ));
    }

    #[test]
    fn parts_are_a_third_of_a_second_of_whole_frames() {
        assert_eq!(frames_per_part(30.0), 10);
        assert_eq!(frames_per_part(25.0), 8);
        assert_eq!(frames_per_part(60.0), 20);
        assert!((part_target(30.0) - 1.0 / 3.0).abs() < 1e-9);
        assert!((part_target(30000.0 / 1001.0) - 10.0 * 1001.0 / 30000.0).abs() < 1e-9);
    }
}
