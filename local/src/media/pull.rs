//! Pull inputs (RTMP pull, URL pull, MP4 and TS files): a reader ffmpeg fetches the input's source
//! URL in real time and remuxes it (no re-encode) as FLV, whose tags feed the same transcoder run
//! as an RTMP publisher's. The channel's slot holds it as its publisher until the channel stops.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::{mpsc, watch};

use super::flv::{Tag, TagKind};
use super::{ActivePublisher, IngestClock, Media, TranscodeJob, transcoder};

/// Tags buffered between the reader and the transcoder (as for an RTMP publisher).
const FEED_CAPACITY: usize = 1024;

/// Where and how a pull input is read.
#[derive(Clone, Debug)]
pub struct PullSource {
    pub url: String,
    /// `inputSettings.sourceEndBehavior: LOOP`: a file starts again at its end.
    pub looping: bool,
}

/// The reader's command line: real-time (`-re`), stream copy into FLV on stdout.
pub fn reader_args(source: &PullSource) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-re"]
        .map(String::from)
        .into();
    if source.looping {
        args.extend(["-stream_loop".into(), "-1".into()]);
    }
    args.extend(["-i".into(), source.url.clone()]);
    args.extend(["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-f", "flv", "pipe:1"].map(String::from));
    args
}

impl Media {
    /// Starts reading a running channel's pull input, unless the channel already has its publisher
    /// (a reader started earlier, kept until stop_channel). Returns whether it started one.
    pub fn start_pull(&self, job: TranscodeJob, mut source: PullSource) -> bool {
        if job.validate().is_err() {
            return false;
        }
        match self.readable(&source.url) {
            Some(url) => source.url = url,
            None => {
                tracing::debug!(
                    channel_id = job.channel_id,
                    url = source.url,
                    "no such S3 object to pull"
                );
                return false;
            }
        }
        let slot = self.slot(&job.channel_id);
        let kick = Arc::new(watch::channel(false).0);
        let clock = Arc::new(IngestClock::new());
        {
            let mut active = slot.active.lock().unwrap();
            if active.is_some() {
                return false;
            }
            *active = Some(ActivePublisher {
                kick: kick.clone(),
                clock: clock.clone(),
            });
        }
        self.inner.counters.publishes.fetch_add(1, Ordering::Relaxed);
        tracing::info!(channel_id = job.channel_id, url = source.url, "pulling the input");
        let (feed, rx) = mpsc::channel(FEED_CAPACITY);
        let mut kicked = kick.subscribe();
        tokio::spawn(transcoder::supervise(
            self.clone(),
            slot,
            job.clone(),
            rx,
            kick.subscribe(),
        ));
        let media = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = read(&media, &job.channel_id, &source, feed, &clock) => {
                    // The source ended (a file without LOOP) or failed: input loss until the stop.
                    stopped(&mut kicked).await;
                }
                () = stopped(&mut kicked) => {}
            }
            tracing::info!(channel_id = job.channel_id, "pull reader ended");
        });
        true
    }
}

impl Media {
    /// What ffmpeg reads for a source URL: an `s3://bucket/key` or `s3ssl://bucket/key` source (how
    /// MediaLive's MP4_FILE and TS_FILE inputs name S3 objects, per the MediaLive user guide's
    /// file-input setup) is the object's file in livestream-local's own S3, read in place; any
    /// other URL as it is. None: no such object.
    fn readable(&self, url: &str) -> Option<String> {
        let Some(path) = url.strip_prefix("s3ssl://").or_else(|| url.strip_prefix("s3://")) else {
            return Some(url.to_owned());
        };
        let (bucket, key) = path.split_once('/')?;
        let store = self.inner.object_store.get()?;
        Some(store.object_file(bucket, key)?.display().to_string())
    }
}

/// Resolves once stop_channel kicks the reader (or its sender is gone).
async fn stopped(kick: &mut watch::Receiver<bool>) {
    let _ = kick.wait_for(|k| *k).await.map(|_| ());
}

/// Runs the reader ffmpeg and sends its FLV tags until it ends or the transcoder is gone.
async fn read(media: &Media, channel_id: &str, source: &PullSource, feed: mpsc::Sender<Tag>, clock: &IngestClock) {
    let mut command = Command::new(&media.inner.ffmpeg);
    command
        .args(reader_args(source))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return tracing::error!(channel_id, error = %e, "cannot start the pull reader"),
    };
    let mut stdout = child.stdout.take().expect("stdout is piped");
    if let Some(mut stderr) = child.stderr.take() {
        let channel_id = channel_id.to_owned();
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            for line in text.lines().filter(|l| !l.is_empty()) {
                tracing::warn!(channel_id, "pull reader: {line}");
            }
        });
    }
    let mut header = [0u8; 13];
    if stdout.read_exact(&mut header).await.is_err() || &header[..3] != b"FLV" {
        return tracing::warn!(
            channel_id,
            url = source.url,
            "the pull source gave no FLV (unreadable URL?)"
        );
    }
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
    let _ = child.kill().await;
}

/// One FLV tag (header, body, previous-tag-size trailer); None at the end or on a short read.
pub(super) async fn next_tag(reader: &mut (impl AsyncRead + Unpin)) -> Option<Tag> {
    loop {
        let mut head = [0u8; 11];
        reader.read_exact(&mut head).await.ok()?;
        let size = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
        let timestamp = u32::from_be_bytes([head[7], head[4], head[5], head[6]]);
        let mut data = vec![0u8; size + 4];
        reader.read_exact(&mut data).await.ok()?;
        data.truncate(size);
        let kind = match head[0] & 0x1f {
            8 => TagKind::Audio,
            9 => TagKind::Video,
            18 => TagKind::Script,
            _ => continue,
        };
        return Some(Tag::new(kind, timestamp, Bytes::from(data)));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::media::flv;

    #[tokio::test]
    async fn flv_tags_read_back_as_written() {
        let mut bytes = Vec::new();
        flv::write_tag(&mut bytes, TagKind::Video, 0x0102_0304, &[0x17, 0, 1, 2]);
        flv::write_tag(&mut bytes, TagKind::Audio, 7, &[0xaf, 1]);
        let mut reader = bytes.as_slice();
        let video = next_tag(&mut reader).await.unwrap();
        assert_eq!(
            (video.kind, video.timestamp, &video.data[..]),
            (TagKind::Video, 0x0102_0304, &[0x17, 0, 1, 2][..])
        );
        assert_eq!(next_tag(&mut reader).await.unwrap().timestamp, 7);
        assert!(next_tag(&mut reader).await.is_none());
    }

    #[test]
    fn a_looping_file_is_read_again_at_its_end() {
        let args = reader_args(&PullSource {
            url: "http://127.0.0.1:1/a.mp4".into(),
            looping: true,
        });
        assert_eq!(
            args.join(" ").split(" -i ").next().unwrap(),
            "-hide_banner -nostdin -loglevel error -re -stream_loop -1"
        );
        assert!(args.ends_with(&["flv".into(), "pipe:1".into()]));
    }

    /// Serves `dir`'s files over HTTP on 127.0.0.1 (one request per connection), as an origin would.
    async fn serve(dir: std::path::PathBuf) -> u16 {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut peer, _)) = listener.accept().await {
                let dir = dir.clone();
                tokio::spawn(async move {
                    let mut request = vec![0u8; 4096];
                    let n = peer.read(&mut request).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&request[..n]).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
                    let answer = match std::fs::read(dir.join(path)) {
                        Ok(body) => {
                            let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                            [head.into_bytes(), body].concat()
                        }
                        Err(_) => b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                    };
                    let _ = peer.write_all(&answer).await;
                });
            }
        });
        port
    }

    /// How many segments the rendition has once it has `wanted`, or when `limit` has passed.
    async fn segments_within(rendition: &std::path::Path, wanted: usize, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let count = std::fs::read_dir(rendition)
                .map(|d| {
                    (d.flatten())
                        .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                        .count()
                })
                .unwrap_or(0);
            if count >= wanted || Instant::now() > deadline {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A URL pull input of an HLS stream served over 127.0.0.1 (MPEG-TS segments: H.264 in Annex B
    /// and ADTS AAC, remuxed into FLV) feeds the ladder too.
    #[tokio::test]
    async fn a_url_pull_input_of_local_hls_streams_into_the_ladder() {
        let ffmpeg = std::path::Path::new(crate::media::e2e::FFMPEG);
        if !ffmpeg.exists() {
            return eprintln!("skipped: no {}", ffmpeg.display());
        }
        let dir = std::env::temp_dir().join(format!("ll-pull-hls-{}", std::process::id()));
        let origin = dir.join("origin");
        std::fs::create_dir_all(&origin).unwrap();
        let index = origin.join("index.m3u8");
        let hls = [
            "-f",
            "hls",
            "-hls_time",
            "1",
            "-hls_playlist_type",
            "vod",
            index.to_str().unwrap(),
        ];
        test_pattern(ffmpeg, 4, &hls).await;
        let port = serve(origin).await;
        let media = Media::new(dir.join("data"), ffmpeg.to_path_buf());
        let mut job = crate::media::e2e::job();
        job.channel_id = "hlsch".into();
        job.package_channel_id = Some("hlspkg".into());
        job.renditions.truncate(1);
        let url = format!("http://127.0.0.1:{port}/index.m3u8");
        assert!(media.start_pull(job, PullSource { url, looping: false }));
        let rendition = dir.join("data/mediapackage/hlspkg/360p");
        let segments = segments_within(&rendition, 3, Duration::from_secs(40)).await;
        media.stop_channel("hlsch");
        assert!(segments >= 3, "{segments} segments from the 4 s HLS source");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `seconds` of a 320x180 test pattern with a tone, H.264 and AAC, written as `output` says.
    async fn test_pattern(ffmpeg: &std::path::Path, seconds: u32, output: &[&str]) {
        let made = tokio::process::Command::new(ffmpeg)
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(["-f", "lavfi", "-i", "testsrc=size=320x180:rate=30"])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
            .args(["-t", &seconds.to_string()])
            .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac"])
            .args(output)
            .status()
            .await
            .unwrap();
        assert!(made.success());
    }

    /// An MP4 file input: the channel's ladder gets segments from it within a bounded time.
    #[tokio::test]
    async fn an_mp4_file_input_streams_into_the_ladder() {
        let ffmpeg = std::path::Path::new(crate::media::e2e::FFMPEG);
        if !ffmpeg.exists() {
            return eprintln!("skipped: no {}", ffmpeg.display());
        }
        let dir = std::env::temp_dir().join(format!("ll-pull-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("source.mp4");
        test_pattern(ffmpeg, 3, &[file.to_str().unwrap()]).await;
        let media = Media::new(dir.join("data"), ffmpeg.to_path_buf());
        let mut job = crate::media::e2e::job();
        job.channel_id = "pullch".into();
        job.package_channel_id = Some("pullpkg".into());
        job.renditions.truncate(1);
        let source = PullSource {
            url: file.display().to_string(),
            looping: true,
        };
        assert!(media.start_pull(job.clone(), source.clone()));
        assert!(!media.start_pull(job, source), "one reader per channel");
        let rendition = dir.join("data/mediapackage/pullpkg/360p");
        // More segments than the 3 s file holds: the looping file kept feeding the ladder.
        let segments = segments_within(&rendition, 4, Duration::from_secs(40)).await;
        assert!(
            media.ingest("pullch").is_some(),
            "the reader is the channel's publisher"
        );
        media.stop_channel("pullch");
        assert!(segments >= 4, "{segments} segments in {}", rendition.display());
        assert!(media.ingest("pullch").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
