//! What keeps one RTMP peer from holding an input: connection caps (per input and for the whole
//! server) and a watchdog that closes a connection which has not published in time or sends too
//! little per window ([`LIMITS`]: a port scan, a TCP health check, a trickling client). The handshake itself has its own deadline in the
//! scuffle-rtmp fork.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Connections one input holds at once (a publisher, its reconnect, a probe or two).
pub const PER_INPUT: usize = 16;
/// Connections all inputs hold at once.
pub const PER_SERVER: usize = 256;
/// The handshake, from the first byte to C2.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(5);

/// When the watchdog closes a connection.
#[derive(Clone, Copy)]
pub struct Limits {
    /// From accept to an accepted publish (handshake, connect, createStream, publish: well under
    /// a second for every encoder we test).
    pub publish_deadline: Duration,
    /// How often the byte rate is checked.
    pub window: Duration,
    /// The least a live connection sends per window.
    pub min_bytes: u64,
}

/// An audio-only 32 kb/s stream sends 40 KB in 10 s: 1 KiB is far below any live stream.
pub const LIMITS: Limits = Limits {
    publish_deadline: Duration::from_secs(10),
    window: Duration::from_secs(10),
    min_bytes: 1024,
};

/// Bytes read and whether the connection publishes, shared by the stream and the watchdog.
#[derive(Default)]
pub struct Meter {
    bytes: AtomicU64,
    publishing: AtomicBool,
}

impl Meter {
    pub fn published(&self) {
        self.publishing.store(true, Ordering::Relaxed);
    }
}

/// Resolves with the reason when the connection should be closed.
pub async fn watchdog(meter: &Meter, limits: Limits) -> &'static str {
    let mut seen = 0;
    let mut waited = Duration::ZERO;
    loop {
        tokio::time::sleep(limits.window).await;
        waited += limits.window;
        if !meter.publishing.load(Ordering::Relaxed) && waited >= limits.publish_deadline {
            return "no publish within the deadline";
        }
        let now = meter.bytes.load(Ordering::Relaxed);
        if now - seen < limits.min_bytes {
            return "too little data (a stalled or trickling peer)";
        }
        seen = now;
    }
}

/// A stream that counts what it reads into a [`Meter`].
pub struct Metered<S> {
    inner: S,
    meter: Arc<Meter>,
}

impl<S> Metered<S> {
    pub fn new(inner: S, meter: Arc<Meter>) -> Self {
        Self { inner, meter }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        self.meter.bytes.fetch_add(read, Ordering::Relaxed);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Limits = Limits {
        publish_deadline: Duration::from_millis(100),
        window: Duration::from_millis(50),
        min_bytes: 100,
    };

    #[tokio::test]
    async fn a_connection_that_never_publishes_is_closed_at_the_deadline() {
        let meter = Meter::default();
        meter.bytes.store(1 << 20, Ordering::Relaxed);
        let started = std::time::Instant::now();
        assert_eq!(watchdog(&meter, FAST).await, "no publish within the deadline");
        assert!(started.elapsed() >= FAST.publish_deadline);
    }

    #[tokio::test]
    async fn a_publisher_that_stops_sending_is_closed_within_a_window() {
        let meter = Arc::new(Meter::default());
        meter.published();
        let feeding = meter.clone();
        // 1 KB every 10 ms for 300 ms, then a byte every 10 ms.
        let feed = tokio::spawn(async move {
            for tick in 0..100u64 {
                let bytes = if tick < 30 { 1000 } else { 1 };
                feeding.bytes.fetch_add(bytes, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let started = std::time::Instant::now();
        assert_eq!(
            watchdog(&meter, FAST).await,
            "too little data (a stalled or trickling peer)"
        );
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );
        feed.abort();
    }
}
