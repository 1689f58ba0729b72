//! The RTMP front door against what encoders really do, with the scripted publisher and real
//! ffmpeg transcoders: OBS's command sequence answered as RTMP servers answer it, chunk sizes 4096
//! and 60000, metadata updates and audio-only / video-only stretches mid-stream, a quick reconnect,
//! a TCP reset in the middle of a chunk, and a half-open connection replaced by a reconnecting
//! encoder. Skipped (with a printed reason) without /usr/bin/ffmpeg.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::e2e::{FFMPEG, Gate, job, test_pattern, wait_until};
use super::scripted::{FlvTag, Publisher, read_flv};
use super::*;
use scuffle_amf0::Amf0Value;

/// 12 s of 640x360 test pattern with AAC audio, keyframe every second, as an FLV file.
fn source_flv(dir: &Path) -> Vec<FlvTag> {
    let path = dir.join("source.flv");
    let status = std::process::Command::new(FFMPEG)
        .args(test_pattern(12, "640x360", false))
        .arg(&path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg wrote the source FLV");
    read_flv(&path)
}

/// Sends the tags in `[from, to)` ms at about twice real time, leaving out audio or video in the
/// given windows, with a metadata update at `meta_at`.
async fn stream(
    p: &mut Publisher,
    tags: &[FlvTag],
    (from, to): (u32, u32),
    no_audio: (u32, u32),
    no_video: (u32, u32),
    meta_at: Option<u32>,
) {
    let start = tokio::time::Instant::now();
    let mut meta_at = meta_at;
    for tag in tags.iter().filter(|t| (from..to).contains(&t.timestamp)) {
        let t = tag.timestamp;
        if (tag.kind == 8 && (no_audio.0..no_audio.1).contains(&t))
            || (tag.kind == 9 && (no_video.0..no_video.1).contains(&t))
        {
            continue;
        }
        if meta_at.is_some_and(|m| t >= m) {
            p.metadata(t, 1280.0).await.unwrap();
            meta_at = None;
        }
        tokio::time::sleep_until(start + Duration::from_millis(u64::from(t - from) / 2)).await;
        p.tag(tag).await.unwrap();
    }
}

/// Segments ffmpeg wrote for run `run` of rendition 360p.
fn segments(pkg: &Path, run: usize) -> usize {
    std::fs::read_to_string(pkg.join(format!("360p/run-{run}.m3u8")))
        .map(|m| m.matches("#EXTINF").count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obs_sequence_chunk_sizes_gaps_reconnects_and_resets() {
    if !Path::new(FFMPEG).exists() {
        eprintln!("skipping the RTMP robustness test: {FFMPEG} not found");
        return;
    }
    let data: PathBuf = std::env::temp_dir().join(format!("media-robust-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&data).unwrap();
    let tags = source_flv(&data);
    let media = Media::new(data.clone(), FFMPEG.into());
    let gate = Arc::new(Gate {
        job: job(),
        refuse_admit: false,
    });
    let port = media.open_input("in1", 0, gate).await.unwrap();
    let pkg = data.join("mediapackage/pkg1");

    // OBS: chunk size 4096 before connect, its command sequence, metadata, then 8 s of media with
    // a metadata update at 4 s, video only from 2 to 4 s and audio only from 5 to 7 s.
    let mut obs = Publisher::connect(port).await.unwrap();
    obs.set_chunk_size(4096).await.unwrap();
    let started = obs.obs_publish(port, "live", "key").await;
    assert_eq!(
        started.code().as_deref(),
        Some("NetStream.Publish.Start"),
        "{started:?}"
    );
    assert_eq!(
        started.stream_id, obs.stream_id,
        "onStatus comes on the publishing stream"
    );
    obs.metadata(0, 640.0).await.unwrap();
    stream(&mut obs, &tags, (0, 8000), (2000, 4000), (5000, 7000), Some(4000)).await;
    wait_until("OBS's media in the ladder", Duration::from_secs(10), || {
        segments(&pkg, 0) >= 3
    })
    .await;
    // OBS stops: FCUnpublish, deleteStream, close.
    obs.call("FCUnpublish", &[Amf0Value::Null, scripted::string("key")], false)
        .await
        .unwrap();
    let unpublished = obs.expect("onFCUnpublish").await;
    assert_eq!(unpublished.code().as_deref(), Some("NetStream.Unpublish.Success"));
    let id = f64::from(obs.stream_id);
    obs.call("deleteStream", &[Amf0Value::Null, Amf0Value::Number(id)], false)
        .await
        .unwrap();
    drop(obs);

    // A quick reconnect with chunk size 60000 is accepted at once and reaches the ladder.
    let mut again = Publisher::connect(port).await.unwrap();
    again.set_chunk_size(60_000).await.unwrap();
    let started = again.obs_publish(port, "live", "key").await;
    assert_eq!(
        started.code().as_deref(),
        Some("NetStream.Publish.Start"),
        "{started:?}"
    );
    stream(&mut again, &tags, (0, 4000), (0, 0), (0, 0), None).await;
    wait_until("the reconnected media in the ladder", Duration::from_secs(10), || {
        segments(&pkg, 1) >= 2
    })
    .await;

    // A TCP reset halfway through a video message: the session ends, nothing is wedged.
    let video = tags.iter().find(|t| t.kind == 9 && t.data.len() > 1000).unwrap();
    let half = &video.data[..video.data.len() / 2];
    // A type 0 header announcing the whole message, then only half of its first chunks.
    let mut header = vec![6u8];
    header.extend_from_slice(&[0, 0x10, 0]);
    header.extend_from_slice(&(video.data.len() as u32).to_be_bytes()[1..]);
    header.push(9);
    header.extend_from_slice(&again.stream_id.to_le_bytes());
    header.extend_from_slice(half);
    use tokio::io::AsyncWriteExt;
    again.tcp.write_all(&header).await.unwrap();
    #[allow(deprecated)] // SO_LINGER 0 is how to send a RST
    again.tcp.set_linger(Some(Duration::ZERO)).unwrap();
    drop(again);

    // The next publisher is accepted, goes silent with its connection open (a half-open TCP
    // after a network drop), and the encoder's reconnect takes over after 2 s of silence.
    let mut silent = Publisher::connect(port).await.unwrap();
    let started = silent.obs_publish(port, "live", "key").await;
    assert_eq!(
        started.code().as_deref(),
        Some("NetStream.Publish.Start"),
        "after a reset: {started:?}"
    );
    stream(&mut silent, &tags, (0, 3000), (0, 0), (0, 0), None).await;
    let mut early = Publisher::connect(port).await.unwrap();
    let refused = early.obs_publish(port, "live", "key").await;
    assert_eq!(
        refused.code().as_deref(),
        Some("NetStream.Publish.Denied"),
        "a second encoder is refused while the first sends: {refused:?}"
    );
    drop(early);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut reconnect = Publisher::connect(port).await.unwrap();
    let started = reconnect.obs_publish(port, "live", "key").await;
    assert_eq!(
        started.code().as_deref(),
        Some("NetStream.Publish.Start"),
        "takeover: {started:?}"
    );
    // The server closes the stale connection: reading it reaches end of stream (or a reset).
    let drained = tokio::time::timeout(Duration::from_secs(3), async {
        let mut sink = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut silent.tcp, &mut sink).await
    })
    .await;
    assert!(drained.is_ok(), "the stale connection was dropped within 3 s");
    stream(&mut reconnect, &tags, (0, 4000), (0, 0), (0, 0), None).await;
    wait_until("the takeover's media in the ladder", Duration::from_secs(10), || {
        (2..6).any(|run| segments(&pkg, run) >= 2)
    })
    .await;

    let stats = media.stats();
    assert_eq!(stats.transcoder_restarts, 0, "no ffmpeg crashed: {stats:?}");
    assert!(stats.publishes >= 4, "{stats:?}");
    media.stop_channel("ch1");
    let _ = std::fs::remove_dir_all(&data);
}
