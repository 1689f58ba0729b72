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
use super::index::{Part, RunStart, Track};
use super::{CmafChannel, CmafStore};
use crate::media::job::{TranscodeJob, VideoRendition};

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
    /// Index of the rendition in the job.
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

/// The tee slaves beside the HLS one: per packaged rendition, its video and audio streams (the
/// tee output has a video and an audio stream per rendition, in ladder order) as fragmented MP4.
pub fn tee_slaves(job: &TranscodeJob, outputs: &[(usize, u16)]) -> Vec<String> {
    let slave = |&(i, port): &(usize, u16)| {
        // Cut a fragment at the part's last frame: 1 ms short of the exact duration so the video
        // track reaches it first (an AAC frame is 21 ms; the audio track cutting first would end
        // parts a frame early).
        let micros = (part_target(fps(&job.renditions[i])) * 1e6 - 1000.0).max(1.0).round();
        let options = [
            (
                "movflags",
                "+frag_keyframe+empty_moov+default_base_moof+cmaf".to_owned(),
            ),
            ("frag_duration", micros.to_string()),
            ("flush_packets", "1".to_owned()),
        ];
        let select = format!("v:{i},a:{i}");
        crate::media::tee::slave("mp4", Some(&select), &options, &format!("tcp://127.0.0.1:{port}"))
    };
    outputs.iter().map(slave).collect()
}

/// Accepts ffmpeg's connection on each listener and indexes what it sends until it closes.
pub fn spawn_readers(
    store: &CmafStore,
    job: &TranscodeJob,
    channel_dir: &Path,
    run_id: u32,
    ingested: SystemTime,
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
            ingested,
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
    /// When the run's first frame reached the server.
    ingested: SystemTime,
}

impl StreamOf {
    async fn read(&self, mut socket: TcpStream) -> anyhow::Result<()> {
        let dir = self.channel.rendition_dir(&self.rendition);
        tokio::fs::create_dir_all(&dir).await?;
        let mut buf = BytesMut::with_capacity(1 << 20);
        let mut init = Vec::new();
        let mut track: Option<(VideoTrack, Option<VideoTrack>)> = None;
        // The boxes of the part being read (styp, moof ...) and its moof's video and audio runs.
        let mut pending = Vec::new();
        let mut fragment: Option<(Option<VideoFragment>, Option<VideoFragment>)> = None;
        let mut written = 0u64;
        loop {
            while let Some(h) = boxes::header(&buf)?.filter(|h| h.len <= buf.len()) {
                let b = buf.split_to(h.len).freeze();
                let body = &b[h.header_len..];
                match &h.kind {
                    b"ftyp" => init = b.to_vec(),
                    b"moov" => {
                        let (video, audio) = (boxes::video_track(body)?, boxes::audio_track(body)?);
                        init.extend_from_slice(&b);
                        let as_track = |t: &VideoTrack| Track {
                            id: t.track_id,
                            timescale: t.timescale,
                        };
                        let start = RunStart {
                            run_id: self.run_id,
                            init: std::mem::take(&mut init).into(),
                            video: as_track(&video),
                            audio: audio.as_ref().map(as_track),
                            ingested: Some(self.ingested),
                        };
                        (self.channel).begin_run(&self.rendition, self.gop_seconds, self.fps, start);
                        track = Some((video, audio));
                    }
                    b"moof" => {
                        let (video, audio) = track.as_ref().ok_or_else(|| anyhow::anyhow!("moof before moov"))?;
                        let audio = audio.as_ref().map(|a| boxes::video_fragment(body, a)).transpose()?;
                        fragment = Some((boxes::video_fragment(body, video)?, audio.flatten()));
                        pending.extend_from_slice(&b);
                    }
                    b"mdat" => {
                        pending.extend_from_slice(&b);
                        if let Some((Some(video), audio)) = fragment.take() {
                            let path = dir.join(format!("{}-{written}.m4s", self.run_id));
                            tokio::fs::write(&path, &pending).await?;
                            written += 1;
                            let part = Part {
                                path,
                                start: video.start,
                                duration: video.duration,
                                independent: video.independent,
                                arrived: SystemTime::now(),
                                audio: audio.map(|a| (a.start, a.duration)),
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
    use crate::media::{job::AudioRendition, layout::Run};

    #[test]
    fn a_v2_channel_sends_each_packaged_rendition_as_fragmented_mp4_too() {
        let mut recorded_only = VideoRendition::at_30fps("360p", 640, 360, 800_000);
        recorded_only.packaged = false;
        let job = TranscodeJob {
            channel_id: "ch".into(),
            package_channel_id: Some("v2.live.main".into()),
            renditions: vec![VideoRendition::at_30fps("720p", 1280, 720, 3_000_000), recorded_only],
            audio: AudioRendition {
                bitrate: 128_000,
                sample_rate: 48_000,
            },
            gop_seconds: 2.0,
            ..crate::media::e2e::job()
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
        // One encode per rendition, written by the tee's HLS and MP4 slaves.
        let graph = &args[args.iter().position(|a| a == "-filter_complex").unwrap() + 1];
        assert_eq!(graph.matches("format=yuv420p[v").count(), 2, "{graph}");
        assert_eq!(args.iter().filter(|a| *a == "libx264").count(), 1, "{args:?}");
        let tee = args.iter().position(|a| a == "tee").unwrap();
        assert_eq!(args[tee - 3..tee - 1], ["-flags", "+global_header"]);
        let slaves: Vec<&str> = args[tee + 1].split(r"]").collect();
        assert!(slaves[0].starts_with(r"[f=hls:hls_time=\'2\'"), "{}", args[tee + 1]);
        assert!(
            args[tee + 1].contains(r"var_stream_map=\'v:0,a:0,name:720p v:1,a:1,name:360p\']/d/%v/run-0.m3u8|"),
            "{}",
            args[tee + 1]
        );
        assert!(
            args[tee + 1].ends_with(
                r"[f=mp4:select=\'v:0,a:0\':movflags=\'+frag_keyframe+empty_moov+default_base_moof+cmaf\':frag_duration=\'332333\':flush_packets=\'1\']tcp://127.0.0.1:4000"
            ),
            "{}",
            args[tee + 1]
        );
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
