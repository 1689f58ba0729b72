//! SRT inputs through ffmpeg's libsrt (no SRT code of our own): a listener that waits for one
//! publisher at a time and arms again when it leaves, or a caller that dials an encoder which
//! listens and dials again when the connection ends. Each connection's MPEG-TS is remuxed into
//! FLV (no re-encode) and feeds a fresh transcoder run of the channel, as a reconnecting RTMP
//! publisher does. The URL — passphrase included — is asked for again before every arm, so a
//! rotated secret is what the next publisher needs. libsrt refuses a wrong passphrase itself
//! during the handshake (`BADSECRET`); its log line is how the refusal is seen.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, watch};

use super::flv::TagKind;
use super::pull::next_tag;
use super::{ActivePublisher, IngestClock, Media, TranscodeJob, transcoder};

/// How long a caller waits before dialling again, and a listener before retrying a secret.
const RETRY: Duration = Duration::from_secs(1);

/// The ffmpeg URL of the next arm (it reads the passphrase anew), or why there is none.
pub type ArmUrl = Box<dyn Fn() -> Result<String, String> + Send + Sync>;

/// What a channel's SRT reader has seen, for its alerts.
#[derive(Default)]
pub struct SrtStatus {
    connected: AtomicBool,
    sessions: AtomicU64,
    rejected_at: Arc<Mutex<Option<Instant>>>,
    arm_error: Mutex<Option<String>>,
}

impl SrtStatus {
    /// A publisher (listener) or the remote listener (caller) is connected now.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Connections made since the channel started.
    pub fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Relaxed)
    }

    /// When libsrt last refused a handshake for its passphrase.
    pub fn rejected_at(&self) -> Option<Instant> {
        *self.rejected_at.lock().unwrap()
    }

    /// Why the reader could not arm (the passphrase could not be read), while that lasts.
    pub fn arm_error(&self) -> Option<String> {
        self.arm_error.lock().unwrap().clone()
    }
}

/// `passphrase=...` of an ffmpeg URL replaced, so a log line never carries it.
pub fn redacted(line: &str) -> String {
    let re = regex::Regex::new(r"passphrase=[^&\s]*").expect("a valid pattern");
    re.replace_all(line, "passphrase=***").into_owned()
}

/// A handshake libsrt refused for its passphrase (`SRT_REJ_BADSECRET`, "Incorrect passphrase";
/// a caller without one when encryption is enforced: `SRT_REJ_UNSECURE`).
fn is_rejection(line: &str) -> bool {
    ["BADSECRET", "Incorrect passphrase", "UNSECURE"]
        .iter()
        .any(|w| line.contains(w))
}

impl Media {
    /// Starts a running channel's SRT reader, unless the channel already has one. The returned
    /// status lives as long as the reader.
    pub fn start_srt(&self, job: TranscodeJob, url: ArmUrl) -> Option<Arc<SrtStatus>> {
        job.validate().ok()?;
        let slot = self.slot(&job.channel_id);
        let kick = Arc::new(watch::channel(false).0);
        {
            let mut active = slot.active.lock().unwrap();
            if active.is_some() {
                return None;
            }
            *active = Some(ActivePublisher {
                kick: kick.clone(),
                clock: Arc::new(IngestClock::new()),
            });
        }
        let status = Arc::new(SrtStatus::default());
        tracing::info!(channel_id = job.channel_id, "SRT input armed");
        let media = self.clone();
        let (seen, mut stopped) = (status.clone(), kick.subscribe());
        tokio::spawn(async move {
            loop {
                let session = media.srt_session(&job, &url, &seen, &kick);
                tokio::select! {
                    () = session => {}
                    _ = stopped.wait_for(|k| *k) => break,
                }
                // Between sessions: a caller dials again, a listener re-arms, after a pause.
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    _ = stopped.wait_for(|k| *k) => break,
                }
            }
            seen.connected.store(false, Ordering::Relaxed);
            tracing::info!(channel_id = job.channel_id, "SRT reader ended");
        });
        Some(status)
    }

    /// One arm: ffmpeg waits (listener) or dials (caller); a connection feeds one transcoder run.
    async fn srt_session(&self, job: &TranscodeJob, url: &ArmUrl, status: &SrtStatus, kick: &Arc<watch::Sender<bool>>) {
        let channel_id = job.channel_id.as_str();
        let armed = url();
        let url_now = |now: &str| url().is_ok_and(|u| u == now);
        let url = match armed {
            Ok(url) => {
                *status.arm_error.lock().unwrap() = None;
                url
            }
            Err(why) => {
                tracing::warn!(channel_id, why, "the SRT input cannot arm");
                *status.arm_error.lock().unwrap() = Some(why);
                return;
            }
        };
        let mut command = Command::new(&self.inner.ffmpeg);
        command
            .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-i", &url])
            .args(["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-f", "flv", "pipe:1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return tracing::error!(channel_id, error = %e, "cannot start the SRT reader"),
        };
        if let Some(stderr) = child.stderr.take() {
            let (rejected, channel_id) = (status.rejected_at.clone(), channel_id.to_owned());
            let mut lines = BufReader::new(stderr).lines();
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    if is_rejection(&line) {
                        *rejected.lock().unwrap() = Some(Instant::now());
                    }
                    tracing::warn!(channel_id, "SRT reader: {}", redacted(&line));
                }
            });
        }
        self.srt_feed(job, &mut child, status, kick, || url_now(&url)).await;
        status.connected.store(false, Ordering::Relaxed);
        let _ = child.kill().await;
    }

    /// Reads the FLV of one connection into a new transcoder run of the channel.
    async fn srt_feed(
        &self,
        job: &TranscodeJob,
        child: &mut tokio::process::Child,
        status: &SrtStatus,
        kick: &Arc<watch::Sender<bool>>,
        armed_with: impl Fn() -> bool,
    ) {
        let Some(mut stdout) = child.stdout.take() else {
            return;
        };
        let mut header = [0u8; 13];
        // While no one is connected, a rotated passphrase re-arms the reader at once, so the next
        // publisher needs the new one.
        let rotated = async {
            while armed_with() {
                tokio::time::sleep(RETRY).await;
            }
        };
        tokio::select! {
            read = stdout.read_exact(&mut header) => {
                if read.is_err() || &header[..3] != b"FLV" {
                    return;
                }
            }
            () = rotated => return,
        }
        status.connected.store(true, Ordering::Relaxed);
        status.sessions.fetch_add(1, Ordering::Relaxed);
        self.inner.counters.publishes.fetch_add(1, Ordering::Relaxed);
        tracing::info!(channel_id = job.channel_id, "SRT connection up");
        let slot = self.slot(&job.channel_id);
        let clock = Arc::new(IngestClock::new());
        if let Some(active) = slot.active.lock().unwrap().as_mut() {
            active.clock = clock.clone();
        }
        let (feed, rx) = mpsc::channel(1024);
        tokio::spawn(transcoder::supervise(
            self.clone(),
            slot,
            job.clone(),
            rx,
            kick.subscribe(),
        ));
        while let Some(tag) = next_tag(&mut stdout).await {
            match tag.kind {
                TagKind::Video => clock.saw_video(),
                TagKind::Audio => clock.saw_audio(),
                TagKind::Script => {}
            }
            if feed.send(tag).await.is_err() {
                break;
            }
        }
        tracing::info!(channel_id = job.channel_id, "SRT connection ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrases_never_reach_the_log_and_refusals_are_recognised() {
        let line = "srt://127.0.0.1:9555?mode=listener&passphrase=s3cr3t%20pass&pbkeylen=16: Input/output error";
        assert_eq!(
            redacted(line),
            "srt://127.0.0.1:9555?mode=listener&passphrase=***&pbkeylen=16: Input/output error"
        );
        assert!(is_rejection(
            "processConnectRequest: rsp(REJECT): 1010 - Incorrect passphrase"
        ));
        assert!(!is_rejection("Input/output error"));
    }
}
