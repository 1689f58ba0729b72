//! The RTMP front door of a MediaLive input: we own the TCP accept so the gate can refuse a peer
//! before the handshake; scuffle-rtmp (our fork in third_party/, see its FORK.md) drives the
//! session; a publish becomes a transcoder run.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use scuffle_rtmp::ServerSession;
use scuffle_rtmp::error::RtmpError;
use scuffle_rtmp::session::server::{ServerSessionError, SessionData, SessionHandler};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::flv::{Tag, TagKind};
use super::pipeline::{Pipeline, SourceConn};
use super::rtmp_guard::{self, Meter, Metered};
use super::{IngestClock, InputGate, InputHandle, Media};

/// A connection that sends nothing for this long is closed (a vanished encoder, a half-open TCP).
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A publisher that sent no media for this long may be replaced by a new, authorized one: an
/// encoder reconnecting after a network drop (OBS retries after 2 s by default) finds its old,
/// half-open connection in the channel's slot.
const STALE_PUBLISHER: Duration = Duration::from_secs(2);

/// Milliseconds on a process-wide monotonic clock, for the last-media stamp of each publisher.
pub(super) fn now_ms() -> u64 {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    START.elapsed().as_millis() as u64
}

pub(super) async fn open_input(
    media: &Media,
    input_id: &str,
    leg: usize,
    port: u16,
    gate: Arc<dyn InputGate>,
) -> io::Result<u16> {
    let listener = bind(port).await?;
    let bound = listener.local_addr()?.port();
    let (closed, closed_rx) = watch::channel(false);
    let previous = media
        .inner
        .inputs
        .lock()
        .unwrap()
        .insert((input_id.to_owned(), leg), InputHandle { closed });
    if let Some(previous) = previous {
        previous.closed.send_replace(true);
    }
    tracing::info!(input_id, leg, port = bound, "RTMP listener open");
    tokio::spawn(accept_loop(
        media.clone(),
        input_id.to_owned(),
        leg,
        listener,
        gate,
        closed_rx,
    ));
    Ok(bound)
}

/// 127.0.0.1:port, or the next free port up to port+100 (0: any free port).
async fn bind(port: u16) -> io::Result<TcpListener> {
    if port == 0 {
        return TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await;
    }
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no port");
    for p in port..=port.saturating_add(100) {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, p)).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Resolves once the flag is set, or its sender is gone (the input was closed or replaced).
async fn signaled(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|set| *set).await;
}

async fn accept_loop(
    media: Media,
    input_id: String,
    leg: usize,
    listener: TcpListener,
    gate: Arc<dyn InputGate>,
    mut closed: watch::Receiver<bool>,
) {
    let this_input = Arc::new(tokio::sync::Semaphore::new(rtmp_guard::PER_INPUT));
    loop {
        let (stream, peer) = tokio::select! {
            () = signaled(&mut closed) => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(input_id, error = %e, "RTMP accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        if let Err(reason) = gate.admit(&input_id, peer.ip()) {
            media.inner.counters.refused_publishers.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(input_id, %peer, reason, "RTMP connection refused");
            continue;
        }
        let held = (this_input.clone().try_acquire_owned())
            .and_then(|input| Ok((input, media.inner.rtmp_connections.clone().try_acquire_owned()?)));
        let Ok(permits) = held else {
            media.inner.counters.refused_publishers.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(input_id, %peer, "RTMP connection refused: too many connections");
            continue;
        };
        tracing::info!(input_id, %peer, "RTMP connection admitted");
        let (media, input_id, gate, closed) = (media.clone(), input_id.clone(), gate.clone(), closed.clone());
        tokio::spawn(async move {
            serve(media, input_id, leg, gate, stream, peer, closed).await;
            drop(permits);
        });
    }
    tracing::info!(input_id, "RTMP listener closed");
}

async fn serve(
    media: Media,
    input_id: String,
    leg: usize,
    gate: Arc<dyn InputGate>,
    stream: TcpStream,
    peer: SocketAddr,
    mut closed: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let kick = Arc::new(watch::channel(false).0);
    let mut kicked = kick.subscribe();
    let replace = Arc::new(watch::channel(false).0);
    let mut replaced = replace.subscribe();
    let meter = Arc::new(Meter::default());
    let handler = Handler {
        media,
        input_id: input_id.clone(),
        leg,
        gate,
        peer,
        kick,
        replace,
        clock: Arc::new(IngestClock::new()),
        publishing: None,
        meter: meter.clone(),
    };
    // Dropping the session closes the socket: that is how input close and channel stop disconnect.
    let session = ServerSession::new(Metered::new(stream, meter.clone()), handler)
        .with_read_timeout(IDLE_TIMEOUT)
        .with_handshake_timeout(rtmp_guard::HANDSHAKE_DEADLINE);
    tokio::select! {
        result = session.run() => {
            let outcome = session_outcome(&result);
            tracing::info!(input_id, %peer, outcome, "RTMP session ended");
        }
        reason = rtmp_guard::watchdog(&meter, rtmp_guard::LIMITS) => tracing::info!(input_id, %peer, reason, "RTMP connection closed"),
        () = signaled(&mut closed) => tracing::info!(input_id, %peer, "input closed; RTMP connection dropped"),
        () = signaled(&mut kicked) => tracing::info!(input_id, %peer, "channel stopped; publisher disconnected"),
        () = signaled(&mut replaced) => tracing::info!(input_id, %peer, "a new publisher took over; stale connection dropped"),
    }
}

/// Why a session ended, in a user's words (logged at info level).
fn session_outcome(result: &Result<bool, RtmpError>) -> String {
    match result {
        Ok(true) => "the publisher disconnected after unpublishing".into(),
        Ok(false) => "the client closed the connection".into(),
        Err(RtmpError::Session(ServerSessionError::Timeout(_))) => {
            format!(
                "timed out (nothing received for {} s, or a slow handshake)",
                IDLE_TIMEOUT.as_secs()
            )
        }
        Err(RtmpError::Session(ServerSessionError::PublishRefused(reason))) => format!("publish refused: {reason}"),
        Err(RtmpError::Session(ServerSessionError::PlayNotSupported)) => "playback is not offered on an input".into(),
        Err(e) => format!("protocol error: {e}"),
    }
}

struct Handler {
    media: Media,
    input_id: String,
    /// Which destination of the input this listener is.
    leg: usize,
    gate: Arc<dyn InputGate>,
    peer: SocketAddr,
    /// Shared with the channel slot (stop_channel) and the transcoder.
    kick: Arc<watch::Sender<bool>>,
    /// Shared with the channel slot: a newer publisher ends this connection (not its transcoder
    /// run, which finishes as if the publisher had left).
    replace: Arc<watch::Sender<bool>>,
    /// When the publisher last sent audio and video, shared with the channel slot.
    clock: Arc<IngestClock>,
    publishing: Option<Publishing>,
    /// What the connection has sent, read by its watchdog.
    meter: Arc<Meter>,
}

struct Publishing {
    stream_id: u32,
    channel_id: String,
    feed: mpsc::Sender<(usize, u64, Tag)>,
    source: usize,
    _slot: SourceGuard,
}

/// Frees the pipeline's source for the next publisher when this one unpublishes or disconnects.
struct SourceGuard {
    pipeline: Arc<Pipeline>,
    source: usize,
    id: u64,
}

impl Drop for SourceGuard {
    fn drop(&mut self) {
        let mut sources = self.pipeline.sources.lock().unwrap();
        if let Some(slot) = sources.get_mut(self.source)
            && slot.as_ref().is_some_and(|a| a.id == self.id)
        {
            *slot = None;
        }
    }
}

impl Handler {
    fn try_publish(&mut self, stream_id: u32, app: &str, stream: &str) -> Result<(), String> {
        if self.publishing.is_some() {
            return Err("this connection is already publishing".into());
        }
        let route = self.gate.route(&self.input_id, self.leg, app, stream)?;
        route.job.validate()?;
        let pipeline = self
            .media
            .channel_pipelines(&route.job.channel_id)
            .pipeline(&self.media, &route);
        let id = self.media.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let channel_id = route.job.channel_id.clone();
        {
            let mut sources = pipeline.sources.lock().unwrap();
            let slot = sources.get_mut(route.source).ok_or("no such source")?;
            if let Some(current) = slot.as_ref() {
                let silent = current.clock.silent_for();
                if silent < STALE_PUBLISHER {
                    return Err(format!("channel {channel_id} already has an active publisher"));
                }
                tracing::info!(
                    input_id = self.input_id,
                    peer = %self.peer,
                    channel_id,
                    silent_ms = silent.as_millis() as u64,
                    "taking over from a publisher that stopped sending"
                );
                current.replace.send_replace(true);
            }
            // This connection's clock starts at its publish.
            self.clock = Arc::new(IngestClock::new());
            *slot = Some(SourceConn {
                id,
                kick: self.kick.clone(),
                replace: self.replace.clone(),
                clock: self.clock.clone(),
            });
        }
        let guard = SourceGuard {
            pipeline: pipeline.clone(),
            source: route.source,
            id,
        };
        self.media.inner.counters.publishes.fetch_add(1, Ordering::Relaxed);
        self.meter.published();
        tracing::info!(input_id = self.input_id, peer = %self.peer, channel_id, pipeline = route.pipeline, source = route.source, app, stream, "RTMP publish accepted");
        self.publishing = Some(Publishing {
            stream_id,
            channel_id,
            feed: pipeline.tx.clone(),
            source: route.source,
            _slot: guard,
        });
        Ok(())
    }
}

impl SessionHandler for Handler {
    async fn on_publish(
        &mut self,
        stream_id: u32,
        app_name: &str,
        stream_name: &str,
    ) -> Result<(), ServerSessionError> {
        let Err(reason) = self.try_publish(stream_id, app_name, stream_name) else {
            return Ok(());
        };
        self.media
            .inner
            .counters
            .refused_publishers
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(input_id = self.input_id, peer = %self.peer, app = app_name, stream = stream_name, reason, "RTMP publish refused");
        // The session answers `onStatus NetStream.Publish.Denied` with the reason (ffmpeg prints
        // "Server error: ..."), then closes the connection.
        Err(ServerSessionError::PublishRefused(reason))
    }

    async fn on_unpublish(&mut self, stream_id: u32) -> Result<(), ServerSessionError> {
        if let Some(p) = self.publishing.take_if(|p| p.stream_id == stream_id) {
            tracing::info!(input_id = self.input_id, peer = %self.peer, channel_id = p.channel_id, "RTMP unpublish");
        }
        Ok(())
    }

    async fn on_data(&mut self, _stream_id: u32, data: SessionData) -> Result<(), ServerSessionError> {
        let Some(p) = &self.publishing else {
            return Ok(());
        };
        let tag = match data {
            SessionData::Video { timestamp, data } => Tag::new(TagKind::Video, timestamp, data),
            SessionData::Audio { timestamp, data } => Tag::new(TagKind::Audio, timestamp, data),
            SessionData::Amf0 { timestamp, data } => Tag::new(TagKind::Script, timestamp, data),
        };
        match tag.kind {
            TagKind::Video => self.clock.saw_video(),
            TagKind::Audio => self.clock.saw_audio(),
            TagKind::Script => {}
        }
        let id = p._slot.id;
        if p.feed.send((p.source, id, tag)).await.is_err() {
            // The pipeline is gone (the channel stopped): drop the publisher rather than
            // accept a stream that goes nowhere.
            tracing::warn!(
                input_id = self.input_id,
                channel_id = p.channel_id,
                "transcoder gone; disconnecting publisher"
            );
            self.publishing = None;
            return Err(ServerSessionError::PublishRefused(
                "the channel's encoder is not running".into(),
            ));
        }
        Ok(())
    }
}
