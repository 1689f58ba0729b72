//! The media path of the local cloud: RTMP ingest → one supervised ffmpeg per channel → HLS origin.
//!
//! - [`rtmp`]: the RTMP front door of each MediaLive input (scuffle-rtmp). The [`InputGate`] decides
//!   on every TCP accept (before the handshake) and on every publish.
//! - [`flv`]: RTMP audio/video/data message payloads are FLV tag bodies, so the publisher's stream is
//!   re-muxed as FLV into ffmpeg's stdin.
//! - [`transcoder`]: builds the ffmpeg ladder command and supervises the process (restart on crash).
//! - [`layout`]: on-disk layout shared by the transcoder and the origin.
//! - [`origin`]: MediaPackage HLS endpoint semantics over ffmpeg's input segments.
//! - [`pull`]: pull inputs (RTMP / URL pull, MP4 and TS files) read by ffmpeg into the same runs.
//! - [`recorder`]: HLS and Archive output groups with S3 destinations, copied into S3.
//! - [`cmaf`]: for MediaPackage v2 channels, a fragmented-MP4 output per rendition too, indexed
//!   in memory part by part for CMAF HLS, low-latency HLS and DASH endpoints.
//!
//! On disk, under `{data_dir}/mediapackage/{package_channel_id}/`:
//! - `ladder.json`: the renditions (name, size, bitrates, codecs) and the GOP length;
//! - `runs.json`: one entry per ffmpeg run (publisher session or restart after a crash) with the
//!   input sequence number it starts at; a new run is an `EXT-X-DISCONTINUITY` at the endpoint;
//! - `{rendition}/run-{id}.m3u8` and `{rendition}/{sequence}.ts`: ffmpeg's own HLS output, one
//!   input segment per GOP;
//! - `ffmaster.m3u8`: ffmpeg's master playlist, read only for the CODECS it reports.
//!
//! HTTP mapping (mounted by the lead under one prefix, all URIs in playlists are relative):
//! - `GET /out/v1/{endpointId}/{manifestName}.m3u8` → [`Media::master_playlist`]; entries are
//!   `{rendition}/index.m3u8`;
//! - `GET /out/v1/{endpointId}/{rendition}/index.m3u8` → [`Media::media_playlist`]; entries are
//!   `{sequence}.ts`;
//! - `GET /out/v1/{endpointId}/{rendition}/{sequence}.ts` → [`Media::segment`] (MPEG-TS bytes).

pub mod cmaf;
pub mod codec;
pub mod failover;
// The CMAF path end to end through `Media`, beside `cmaf` rather than in it: it drives the whole
// pipeline, which `cmaf` is one part of.
#[cfg(test)]
mod cmaf_e2e;
pub mod flv;
pub mod h264;
pub mod h265;
pub mod job;
pub mod layout;
pub mod origin;
pub mod pipeline;
pub mod pull;
pub mod recorder;
pub mod rtmp;
mod rtmp_guard;
pub mod srt;
pub mod tee;
pub mod transcoder;

#[cfg(test)]
mod e2e;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod scripted;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tokio::sync::watch;

// The origin types are part of the interface; callers may name them either way.
pub use job::{AudioRendition, InputGate, TranscodeJob, VideoRendition};
#[allow(unused_imports)]
pub use origin::{OriginError, Packaging, StreamOrder};

/// Counters for the admin/metrics view.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MediaStats {
    /// ffmpeg processes started (first start of a publish and every restart).
    pub transcoder_starts: u64,
    /// ffmpeg processes that exited while their publisher was still connected.
    pub transcoder_restarts: u64,
    /// Connections or publishes refused (gate said no, or the channel already has a publisher).
    pub refused_publishers: u64,
    /// Publishes accepted.
    pub publishes: u64,
    /// Objects written to S3 by HLS and Archive output groups.
    pub recorded_objects: u64,
    /// Writes to S3 the bucket refused.
    pub recording_errors: u64,
}

#[derive(Default)]
struct Counters {
    transcoder_starts: AtomicU64,
    transcoder_restarts: AtomicU64,
    refused_publishers: AtomicU64,
    publishes: AtomicU64,
    recorded_objects: AtomicU64,
    recording_errors: AtomicU64,
}

/// An input's open RTMP listeners, one per destination; dropping `closed` (or sending true) ends
/// them and their connections.
struct InputHandle {
    closed: watch::Sender<bool>,
}

/// Per MediaLive channel: who publishes, and the lock that serializes ffmpeg runs.
#[derive(Default)]
struct ChannelSlot {
    /// Held by a transcoder for its whole life so a reconnecting publisher's ffmpeg starts only
    /// after the previous one has flushed its last segment.
    run_lock: Arc<tokio::sync::Mutex<()>>,
    active: Mutex<Option<ActivePublisher>>,
}

struct ActivePublisher {
    /// stop_channel sends true: the reader and ffmpeg are ended.
    kick: Arc<watch::Sender<bool>>,
    /// When this publisher last sent audio and video.
    clock: Arc<IngestClock>,
}

/// When a publisher started and last sent video and audio, in `rtmp::now_ms` milliseconds (0:
/// never): what the channel's alerts and a takeover by a reconnecting encoder are decided on.
#[derive(Debug)]
pub struct IngestClock {
    started: u64,
    video: AtomicU64,
    audio: AtomicU64,
}

impl Ingest {
    /// Since the last audio or video (or since the publish, before any).
    pub fn silent_for(&self) -> std::time::Duration {
        match (self.since_video, self.since_audio) {
            (Some(v), Some(a)) => v.min(a),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => self.publishing_for,
        }
    }
}

impl IngestClock {
    fn new() -> Self {
        Self {
            started: rtmp::now_ms(),
            video: AtomicU64::new(0),
            audio: AtomicU64::new(0),
        }
    }

    fn saw_video(&self) {
        self.video.store(rtmp::now_ms(), Ordering::Relaxed);
    }

    fn saw_audio(&self) {
        self.audio.store(rtmp::now_ms(), Ordering::Relaxed);
    }

    /// Time since the last audio or video (or since the publish, before any).
    fn silent_for(&self) -> std::time::Duration {
        let last = (self.video.load(Ordering::Relaxed))
            .max(self.audio.load(Ordering::Relaxed))
            .max(self.started);
        std::time::Duration::from_millis(rtmp::now_ms().saturating_sub(last))
    }

    fn health(&self) -> Ingest {
        let now = rtmp::now_ms();
        let since = |stamp: &AtomicU64| {
            let at = stamp.load(Ordering::Relaxed);
            (at > 0).then(|| std::time::Duration::from_millis(now.saturating_sub(at)))
        };
        Ingest {
            publishing_for: std::time::Duration::from_millis(now.saturating_sub(self.started)),
            since_video: since(&self.video),
            since_audio: since(&self.audio),
        }
    }
}

/// What a channel's publisher is sending, as its alerts see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ingest {
    /// Since the publish was accepted.
    pub publishing_for: std::time::Duration,
    /// Since the last video message; None: none yet.
    pub since_video: Option<std::time::Duration>,
    /// Since the last audio message; None: none yet.
    pub since_audio: Option<std::time::Duration>,
}

struct Inner {
    data_dir: PathBuf,
    ffmpeg: PathBuf,
    x264_preset: String,
    /// Keyed by input id and destination index.
    inputs: Mutex<HashMap<(String, usize), InputHandle>>,
    channels: Mutex<HashMap<String, Arc<ChannelSlot>>>,
    /// RTMP push channels' pipelines ([`pipeline`]).
    pipelines: Mutex<HashMap<String, Arc<pipeline::ChannelPipelines>>>,
    next_id: AtomicU64,
    counters: Counters,
    object_store: OnceLock<Arc<dyn recorder::ObjectStore>>,
    cmaf: cmaf::CmafStore,
    /// RTMP connections all inputs may hold at once.
    rtmp_connections: Arc<tokio::sync::Semaphore>,
}

/// The media path; cheap to clone.
#[derive(Clone)]
pub struct Media {
    inner: Arc<Inner>,
}

impl Media {
    /// data_dir: root of local state; ffmpeg: path of the ffmpeg binary. The x264 preset is
    /// `LIVESTREAM_LOCAL_X264_PRESET` (default `ultrafast`: the 1080p+720p ladder then costs about
    /// half a core, superfast about a full core).
    pub fn new(data_dir: PathBuf, ffmpeg: PathBuf) -> Self {
        let x264_preset = std::env::var("LIVESTREAM_LOCAL_X264_PRESET")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "ultrafast".to_owned());
        Media {
            inner: Arc::new(Inner {
                data_dir,
                ffmpeg,
                x264_preset,
                inputs: Mutex::default(),
                channels: Mutex::default(),
                pipelines: Mutex::default(),
                next_id: AtomicU64::new(1),
                counters: Counters::default(),
                object_store: OnceLock::new(),
                cmaf: cmaf::CmafStore::default(),
                rtmp_connections: Arc::new(tokio::sync::Semaphore::new(rtmp_guard::PER_SERVER)),
            }),
        }
    }

    /// Where HLS and Archive output groups with S3 destinations write (set once, at startup).
    pub fn set_object_store(&self, store: Arc<dyn recorder::ObjectStore>) {
        let _ = self.inner.object_store.set(store);
    }

    /// The x264 preset every ladder is encoded with.
    pub fn x264_preset(&self) -> &str {
        &self.inner.x264_preset
    }

    /// Open the RTMP listener of a MediaLive input's first destination on 127.0.0.1:`port` (0 =
    /// any free port; if `port` is taken, try port+1.. up to +100). Returns the bound port. The
    /// listener lives until close_input.
    pub async fn open_input(&self, input_id: &str, port: u16, gate: Arc<dyn InputGate>) -> std::io::Result<u16> {
        rtmp::open_input(self, input_id, 0, port, gate).await
    }

    /// [`Media::open_input`] for destination `leg` (each destination has its own port, as each
    /// has its own IP address on AWS).
    pub async fn open_input_leg(
        &self,
        input_id: &str,
        leg: usize,
        port: u16,
        gate: Arc<dyn InputGate>,
    ) -> std::io::Result<u16> {
        rtmp::open_input(self, input_id, leg, port, gate).await
    }

    /// Closes the listeners of destinations `from..` and every connection they accepted.
    pub fn close_input_legs(&self, input_id: &str, from: usize) {
        let mut inputs = self.inner.inputs.lock().unwrap();
        inputs.retain(|(id, leg), handle| {
            let close = id == input_id && *leg >= from;
            if close {
                handle.closed.send_replace(true);
            }
            !close
        });
    }

    /// Closes the listeners and every connection they accepted.
    pub fn close_input(&self, input_id: &str) {
        self.close_input_legs(input_id, 0);
    }

    /// Channel STOP (or delete): end the channel's ffmpeg and disconnect its publisher.
    pub fn stop_channel(&self, channel_id: &str) {
        let slot = self.inner.channels.lock().unwrap().get(channel_id).cloned();
        if let Some(active) = slot.and_then(|s| s.active.lock().unwrap().take()) {
            tracing::info!(channel_id, "stopping channel: disconnecting publisher, killing ffmpeg");
            active.kick.send_replace(true);
        }
        if let Some(pipelines) = self.inner.pipelines.lock().unwrap().remove(channel_id) {
            tracing::info!(
                channel_id,
                "stopping channel: disconnecting publishers, killing every pipeline's ffmpeg"
            );
            pipelines.stop();
        }
    }

    /// What the channel's publisher sends (pipeline 0's active source, or a pull input's reader);
    /// None while no one publishes.
    pub fn ingest(&self, channel_id: &str) -> Option<Ingest> {
        if let Some(view) = self.pipelines(channel_id).into_iter().find(|v| v.pipeline == 0) {
            let active = view.active.unwrap_or(0);
            return view.sources.get(active).copied().flatten();
        }
        let slot = self.inner.channels.lock().unwrap().get(channel_id).cloned()?;
        let active = slot.active.lock().unwrap();
        active.as_ref().map(|a| a.clock.health())
    }

    /// The pipelines of a running RTMP push channel that have seen a publisher.
    pub fn pipelines(&self, channel_id: &str) -> Vec<pipeline::PipelineView> {
        let pipelines = self.inner.pipelines.lock().unwrap().get(channel_id).cloned();
        pipelines.map(|p| p.views()).unwrap_or_default()
    }

    fn channel_pipelines(&self, channel_id: &str) -> Arc<pipeline::ChannelPipelines> {
        let mut all = self.inner.pipelines.lock().unwrap();
        all.entry(channel_id.to_owned()).or_default().clone()
    }

    /// The latest thumbnail of the channel's input (JPEG) and when it was written, while its
    /// ffmpeg writes one (`TranscodeJob::thumbnails`).
    pub fn thumbnail(&self, channel_id: &str) -> Option<(Vec<u8>, std::time::SystemTime)> {
        let path = layout::thumbnail(&self.inner.data_dir, channel_id)?;
        let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        Some((std::fs::read(&path).ok()?, written))
    }

    /// The CMAF parts of a MediaPackage v2 channel (by its media key), once its channel ran.
    pub fn cmaf(&self, package_channel_id: &str) -> Option<Arc<cmaf::CmafChannel>> {
        self.inner.cmaf.get(package_channel_id)
    }

    /// The folder and ladder of a MediaPackage channel's media, once a channel wrote to it.
    pub fn package_ladder(&self, package_channel_id: &str) -> Option<(PathBuf, layout::Ladder)> {
        let dir = layout::channel_dir(&self.inner.data_dir, package_channel_id)?;
        let ladder = layout::read_json(&dir.join(layout::LADDER_FILE)).ok()?;
        Some((dir, ladder))
    }

    /// MediaPackage channel DELETE: remove its files.
    pub fn remove_package_channel(&self, package_channel_id: &str) {
        self.inner.cmaf.remove(package_channel_id);
        let Some(dir) = layout::channel_dir(&self.inner.data_dir, package_channel_id) else {
            return;
        };
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => tracing::info!(package_channel_id, "removed packaged media"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(package_channel_id, error = %e, "cannot remove packaged media")
            }
        }
    }

    /// Counters for the admin/metrics view.
    pub fn stats(&self) -> MediaStats {
        let c = &self.inner.counters;
        MediaStats {
            transcoder_starts: c.transcoder_starts.load(Ordering::Relaxed),
            transcoder_restarts: c.transcoder_restarts.load(Ordering::Relaxed),
            refused_publishers: c.refused_publishers.load(Ordering::Relaxed),
            publishes: c.publishes.load(Ordering::Relaxed),
            recorded_objects: c.recorded_objects.load(Ordering::Relaxed),
            recording_errors: c.recording_errors.load(Ordering::Relaxed),
        }
    }

    fn slot(&self, channel_id: &str) -> Arc<ChannelSlot> {
        self.inner
            .channels
            .lock()
            .unwrap()
            .entry(channel_id.to_owned())
            .or_default()
            .clone()
    }
}
