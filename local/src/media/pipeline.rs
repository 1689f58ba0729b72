//! A MediaLive channel's pipelines as the media path runs them: one task per pipeline takes the
//! media of every source (input attachment) that publishes to it, encodes the active one and
//! reads and drops the others (their clocks still tell their health), and switches source by the
//! pure decision of [`super::failover`]. A switch ends the ffmpeg run and starts a new one from
//! the new source's cached GOP (decoder configuration and the frames since its last key frame),
//! so the first segment does not wait for the next key frame; the new run is an
//! `EXT-X-DISCONTINUITY` at the endpoint and its segment numbers continue.
//!
//! A STANDARD channel has two pipelines, each fed by its own destination of the inputs. Both
//! encode (the CPU cost is real), but MediaPackage serves one at a time: the first that produces
//! writes into the package folder, the other into `{data_dir}/medialive/{channel}/pipeline-{n}/`
//! (pruned like the served folder, never served). When the served pipeline's input is lost for
//! [`SERVED_LOSS`] and the other pipeline is live, the other takes over the package folder and
//! keeps it. Promotion restarts the standby's ffmpeg into the package folder from its cached GOP:
//! the gap is the old run's flush plus the new ffmpeg's first segment (about a GOP, measured
//! 1-2 s at a 1 s GOP), where AWS's two encoders are already in sync.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, watch};

use super::failover::{Decider, Policy, Seen};
use super::flv::{Tag, TagKind};
use super::{IngestClock, Media, TranscodeJob, layout, rtmp, transcoder};

/// How long the served pipeline's active input may be lost before MediaPackage switches to the
/// other pipeline's ingest. AWS does not document it; a second, as a player barely notices.
pub const SERVED_LOSS: Duration = Duration::from_secs(1);
/// How often a pipeline looks at its sources' clocks.
const TICK: Duration = Duration::from_millis(100);
/// Tags between the publishers and the pipeline, and between the pipeline and its ffmpeg run.
const FEED_CAPACITY: usize = 1024;
/// A GOP longer than this many tags is not cached (a source without key frames).
const MAX_GOP_TAGS: usize = 4096;
/// Tags a run may fall behind (about 30 s of a stream) before it is restarted.
const MAX_BACKLOG: usize = 2400;
/// The standby pipeline's scratch folder keeps a minute of segments.
const SCRATCH_RETENTION_SECONDS: f64 = 60.0;

/// How a channel's inputs map onto its pipelines, from its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Redundancy {
    /// 2 for STANDARD, 1 for SINGLE_PIPELINE.
    pub pipelines: u8,
    /// The input attachment names, in attachment order (a failover pair's primary first).
    pub sources: Vec<String>,
    /// The primary attachment's `AutomaticInputFailoverSettings`.
    pub failover: Option<Policy>,
}

/// Where a publish goes: the job, and which pipeline and source it feeds.
#[derive(Clone, Debug)]
pub struct Route {
    pub job: TranscodeJob,
    pub pipeline: u8,
    /// Index into [`Redundancy::sources`].
    pub source: usize,
    pub redundancy: Redundancy,
}

/// A connected publisher of one source.
pub(super) struct SourceConn {
    pub id: u64,
    /// stop_channel: the connection drops.
    pub kick: Arc<watch::Sender<bool>>,
    /// A newer publisher of the same source: the connection drops.
    pub replace: Arc<watch::Sender<bool>>,
    pub clock: Arc<IngestClock>,
}

/// An automatic switch of a pipeline's source.
#[derive(Clone, Debug)]
pub struct Failover {
    pub at: SystemTime,
    pub from: usize,
    pub to: usize,
}

/// One pipeline of a channel, as DescribeChannel and ListAlerts see it.
#[derive(Clone, Debug)]
pub struct PipelineView {
    pub pipeline: u8,
    /// The source it encodes now.
    pub active: Option<usize>,
    /// Each source's publisher, if one is connected.
    pub sources: Vec<Option<super::Ingest>>,
    /// MediaPackage serves this pipeline's output.
    pub served: bool,
    /// The last automatic failover, while the pipeline is still on the input it failed over to.
    pub failed_over: Option<Failover>,
}

pub(super) struct Pipeline {
    index: u8,
    pub sources: Mutex<Vec<Option<SourceConn>>>,
    pub tx: mpsc::Sender<(usize, u64, Tag)>,
    kick: watch::Sender<bool>,
    view: Mutex<PipelineView>,
    /// Serializes the runs writing to this pipeline's scratch folder.
    scratch_lock: Arc<tokio::sync::Mutex<()>>,
}

/// A channel's pipelines and which one MediaPackage serves.
#[derive(Default)]
pub(super) struct ChannelPipelines {
    pipelines: Mutex<BTreeMap<u8, Arc<Pipeline>>>,
    served: Mutex<Option<u8>>,
    /// Serializes the runs writing to the package folder (a demoted pipeline's last run flushes
    /// before the promoted one numbers its first).
    served_lock: Arc<tokio::sync::Mutex<()>>,
}

impl ChannelPipelines {
    /// The pipeline, its task started on first use.
    pub fn pipeline(self: &Arc<Self>, media: &Media, route: &Route) -> Arc<Pipeline> {
        let mut pipelines = self.pipelines.lock().unwrap();
        if let Some(p) = pipelines.get(&route.pipeline) {
            return p.clone();
        }
        let (tx, rx) = mpsc::channel(FEED_CAPACITY);
        let (kick, kicked) = watch::channel(false);
        let pipeline = Arc::new(Pipeline {
            index: route.pipeline,
            sources: Mutex::new((0..route.redundancy.sources.len()).map(|_| None).collect()),
            tx,
            kick,
            view: Mutex::new(PipelineView {
                pipeline: route.pipeline,
                active: None,
                sources: Vec::new(),
                served: false,
                failed_over: None,
            }),
            scratch_lock: Arc::default(),
        });
        pipelines.insert(route.pipeline, pipeline.clone());
        let task = Task {
            media: media.clone(),
            channel: self.clone(),
            pipeline: pipeline.clone(),
            route: route.clone(),
            caches: Vec::new(),
            decider: Decider::default(),
            current: None,
        };
        tokio::spawn(task.run(rx, kicked));
        pipeline
    }

    /// Channel stop: every publisher disconnects, every run's ffmpeg is killed.
    pub fn stop(&self) {
        for pipeline in self.pipelines.lock().unwrap().values() {
            for conn in pipeline.sources.lock().unwrap().iter_mut().filter_map(Option::take) {
                conn.kick.send_replace(true);
            }
            pipeline.kick.send_replace(true);
        }
    }

    pub fn views(&self) -> Vec<PipelineView> {
        let pipelines = self.pipelines.lock().unwrap();
        pipelines.values().map(|p| p.view()).collect()
    }

    /// Whether the pipeline produces: its active source sent media within [`SERVED_LOSS`].
    fn producing(&self, index: u8) -> bool {
        let pipeline = self.pipelines.lock().unwrap().get(&index).cloned();
        pipeline.is_some_and(|p| {
            let view = p.view();
            let active = view.active.and_then(|a| view.sources.get(a).copied().flatten());
            active.is_some_and(|i| i.silent_for() < SERVED_LOSS)
        })
    }
}

impl Pipeline {
    fn view(&self) -> PipelineView {
        let mut view = self.view.lock().unwrap().clone();
        view.sources = (self.sources.lock().unwrap().iter())
            .map(|s| s.as_ref().map(|c| c.clock.health()))
            .collect();
        view
    }
}

/// Decoder configuration and the tags since the last key frame of one publisher connection.
#[derive(Default)]
struct GopCache {
    conn: u64,
    metadata: Option<Tag>,
    video_config: Option<Tag>,
    audio_config: Option<Tag>,
    gop: Vec<Tag>,
    /// When the source last sent audio or video (`rtmp::now_ms`; 0: never), kept after its
    /// publisher leaves: a failover waits out the input-loss threshold whether the encoder went
    /// silent or dropped the connection (MediaLive sees no input either way).
    last_media_ms: u64,
}

impl GopCache {
    fn observe(&mut self, conn: u64, tag: &Tag) {
        if conn != self.conn {
            *self = GopCache {
                conn,
                ..Default::default()
            };
        }
        if tag.kind != TagKind::Script {
            self.last_media_ms = rtmp::now_ms();
        }
        if tag.is_metadata() {
            self.metadata = Some(tag.clone());
        } else if tag.is_sequence_header() {
            match tag.kind {
                TagKind::Video => self.video_config = Some(tag.clone()),
                _ => self.audio_config = Some(tag.clone()),
            }
        } else if tag.is_keyframe() {
            self.gop.clear();
            self.gop.push(tag.clone());
        } else if !self.gop.is_empty() {
            self.gop.push(tag.clone());
            if self.gop.len() > MAX_GOP_TAGS {
                self.gop.clear();
            }
        }
    }

    /// What a new run is fed first: configuration, then the GOP from its key frame.
    fn replay(&self) -> impl Iterator<Item = &Tag> {
        [&self.metadata, &self.video_config, &self.audio_config]
            .into_iter()
            .flatten()
            .chain(&self.gop)
    }
}

/// The ffmpeg run a pipeline feeds now.
struct Current {
    source: usize,
    conn: u64,
    served: bool,
    feed: mpsc::Sender<Tag>,
    /// Tags the run has not taken yet. The pipeline never waits on ffmpeg: a publisher held
    /// back by a busy encoder would look silent and fail over.
    backlog: VecDeque<Tag>,
}

impl Current {
    /// Hands the run what it can take now; false when the run is gone or hopelessly behind.
    fn drain(&mut self) -> bool {
        while let Some(tag) = self.backlog.pop_front() {
            match self.feed.try_send(tag) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(tag)) => {
                    self.backlog.push_front(tag);
                    return self.backlog.len() < MAX_BACKLOG;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        true
    }
}

struct Task {
    media: Media,
    channel: Arc<ChannelPipelines>,
    pipeline: Arc<Pipeline>,
    route: Route,
    caches: Vec<GopCache>,
    decider: Decider,
    current: Option<Current>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<(usize, u64, Tag)>, mut kicked: watch::Receiver<bool>) {
        self.caches = (0..self.route.redundancy.sources.len())
            .map(|_| GopCache::default())
            .collect();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stopped(&mut kicked) => break,
                message = rx.recv() => {
                    let Some((source, conn, tag)) = message else { break };
                    self.media_in(source, conn, tag);
                }
                _ = tick.tick() => self.evaluate(),
            }
        }
        let mut served = self.channel.served.lock().unwrap();
        if *served == Some(self.pipeline.index) {
            *served = None;
        }
    }

    fn media_in(&mut self, source: usize, conn: u64, tag: Tag) {
        let Some(cache) = self.caches.get_mut(source) else {
            return;
        };
        cache.observe(conn, &tag);
        let Some(current) = self.current.as_mut().filter(|c| c.source == source && c.conn == conn) else {
            // Not the active source: read and dropped.
            return;
        };
        current.backlog.push_back(tag);
        if !current.drain() {
            // The transcoder gave up (ffmpeg cannot start) or cannot keep up: a new run is tried
            // on the next tick.
            tracing::warn!(
                channel_id = self.route.job.channel_id,
                "the pipeline's run is gone or too far behind"
            );
            self.current = None;
        }
    }

    /// Looks at the sources' clocks: failover, MediaPackage's choice of pipeline, runs.
    fn evaluate(&mut self) {
        let me = self.pipeline.index;
        if self.current.as_mut().is_some_and(|c| !c.drain()) {
            self.current = None;
        }
        let (seen, conns): (Vec<Seen>, Vec<Option<u64>>) = {
            let sources = self.pipeline.sources.lock().unwrap();
            sources
                .iter()
                .map(|s| match s {
                    Some(c) => {
                        let health = c.clock.health();
                        let seen = Seen {
                            connected: true,
                            has_video: health.since_video.is_some(),
                            silent_for: health.silent_for(),
                        };
                        (seen, Some(c.id))
                    }
                    None => (Seen::default(), None),
                })
                .unzip()
        };
        // With failover settings, a source whose publisher left is lost only once it has been
        // silent for the threshold, as a silent one is.
        let policy = self.route.redundancy.failover;
        let now = rtmp::now_ms();
        let seen: Vec<Seen> = (seen.into_iter().enumerate())
            .map(|(i, seen)| match (&policy, self.caches.get(i)) {
                (Some(_), Some(cache)) if conns[i].is_none() && cache.last_media_ms > 0 => Seen {
                    connected: true,
                    has_video: true,
                    silent_for: std::time::Duration::from_millis(now.saturating_sub(cache.last_media_ms)),
                },
                _ => seen,
            })
            .collect();
        // A reconnect of the active source: its new connection starts a new run.
        if let Some(c) = &self.current
            && conns[c.source].is_some_and(|conn| conn != c.conn)
        {
            self.current = None;
            self.decider.active = None;
        }
        let before = self.decider.active;
        if let Some(now) = self.decider.step(now, &seen, policy.as_ref()) {
            self.current = None;
            let mut view = self.pipeline.view.lock().unwrap();
            view.active = now;
            match (before, now, policy) {
                (Some(from), Some(to), Some(_)) => {
                    tracing::info!(
                        channel_id = self.route.job.channel_id,
                        pipeline = me,
                        from,
                        to,
                        "input failed over"
                    );
                    view.failed_over = (to != 0).then_some(Failover {
                        at: SystemTime::now(),
                        from,
                        to,
                    });
                }
                (_, Some(0), _) => view.failed_over = None,
                _ => {}
            }
        }
        let serve = self.serving(&seen);
        if self.current.as_ref().is_some_and(|c| c.served != serve) {
            // Promoted or demoted: the run moves to the other folder.
            self.current = None;
        }
        self.pipeline.view.lock().unwrap().served = serve;
        if self.current.is_none()
            && let Some(active) = self.decider.active
            && let Some(conn) = conns[active]
            && !self.caches[active].gop.is_empty()
            && self.caches[active].conn == conn
        {
            self.start_run(active, conn, serve);
        }
    }

    /// Whether MediaPackage serves this pipeline: the first to produce claims the package folder;
    /// a live pipeline takes it over from one whose input is lost.
    fn serving(&self, seen: &[Seen]) -> bool {
        let me = self.pipeline.index;
        let live = self
            .decider
            .active
            .and_then(|a| seen.get(a))
            .is_some_and(|s| s.connected && s.has_video && s.silent_for < SERVED_LOSS);
        let mut served = self.channel.served.lock().unwrap();
        match *served {
            Some(p) if p == me => true,
            Some(other) if live && !self.channel.producing(other) => {
                tracing::info!(
                    channel_id = self.route.job.channel_id,
                    from = other,
                    to = me,
                    "MediaPackage switches to the other pipeline's ingest"
                );
                *served = Some(me);
                true
            }
            Some(_) => false,
            None if live => {
                *served = Some(me);
                true
            }
            None => false,
        }
    }

    fn start_run(&mut self, source: usize, conn: u64, served: bool) {
        let media = &self.media;
        let (feed, rx) = mpsc::channel(FEED_CAPACITY);
        let backlog = self.caches[source].replay().cloned().collect();
        let mut job = self.route.job.clone();
        let (lock, dir) = if served {
            (
                self.channel.served_lock.clone(),
                layout::work_dir(&media.inner.data_dir, &job),
            )
        } else {
            let channel = &job.channel_id;
            let dir = (layout::is_safe_name(channel))
                .then(|| scratch_dir(&media.inner.data_dir, channel, self.pipeline.index));
            // The standby encodes for real but is neither packaged nor recorded.
            job.package_channel_id = None;
            job.s3_groups.clear();
            job.thumbnails = false;
            job.retention_seconds = SCRATCH_RETENTION_SECONDS;
            (self.pipeline.scratch_lock.clone(), dir)
        };
        let Some(dir) = dir else {
            return;
        };
        tracing::info!(
            channel_id = job.channel_id,
            pipeline = self.pipeline.index,
            source,
            served,
            "pipeline starts a run"
        );
        tokio::spawn(transcoder::supervise_into(
            media.clone(),
            lock,
            dir,
            job,
            rx,
            self.pipeline.kick.subscribe(),
        ));
        self.current = Some(Current {
            source,
            conn,
            served,
            feed,
            backlog,
        });
        if let Some(current) = self.current.as_mut() {
            current.drain();
        }
    }
}

/// Resolves once the pipeline is kicked (or its sender is gone).
async fn stopped(kick: &mut watch::Receiver<bool>) {
    let _ = kick.wait_for(|k| *k).await.map(|_| ());
}

/// The scratch folder of a channel's standby pipeline.
pub fn scratch_dir(data_dir: &std::path::Path, channel_id: &str, pipeline: u8) -> PathBuf {
    data_dir
        .join("medialive")
        .join(channel_id)
        .join(format!("pipeline-{pipeline}"))
}
