//! End-to-end check of the media path with real ffmpeg processes: publish, refuse, crash and
//! restart, reconnect, package, stop. Skipped (with a printed reason) without /usr/bin/ffmpeg.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::*;

pub(super) const FFMPEG: &str = "/usr/bin/ffmpeg";

pub(super) struct Gate {
    pub(super) job: TranscodeJob,
    pub(super) refuse_admit: bool,
}

impl InputGate for Gate {
    fn admit(&self, _input_id: &str, peer: std::net::IpAddr) -> Result<(), String> {
        if self.refuse_admit {
            Err(format!("{peer} not in input security group"))
        } else {
            Ok(())
        }
    }
    fn publish(&self, _input_id: &str, app: &str, stream: &str) -> Result<TranscodeJob, String> {
        if format!("{app}/{stream}") == "live/key" {
            Ok(self.job.clone())
        } else {
            Err(format!("{app}/{stream} is not a destination"))
        }
    }
}

pub(super) fn job() -> TranscodeJob {
    let v = VideoRendition::at_30fps;
    TranscodeJob {
        channel_id: "ch1".into(),
        package_channel_id: Some("pkg1".into()),
        renditions: vec![v("360p", 640, 360, 800_000), v("180p", 320, 180, 300_000)],
        s3_groups: Vec::new(),
        audio: AudioRendition {
            bitrate: 96_000,
            sample_rate: 48_000,
        },
        gop_seconds: 1.0,
        thumbnails: false,
        retention_seconds: super::layout::RETENTION_SECONDS,
    }
}

/// ffmpeg's arguments for `seconds` of a test pattern with a tone, as H.264 + AAC in FLV (keyframe
/// every second), up to the output; `-re` paces it as a live encoder would.
pub(super) fn test_pattern(seconds: u32, size: &str, realtime: bool) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-loglevel", "error"].map(String::from).into();
    if realtime {
        args.push("-re".into());
    }
    let source = format!("testsrc2=size={size}:rate=30");
    for arg in [
        "-f",
        "lavfi",
        "-i",
        &source,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
    ] {
        args.push(arg.into());
    }
    args.extend(["-t".to_owned(), seconds.to_string()]);
    for arg in [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "30",
        "-c:a",
        "aac",
        "-f",
        "flv",
    ] {
        args.push(arg.into());
    }
    args
}

fn push(port: u16, seconds: u32, key: &str) -> Child {
    Command::new(FFMPEG)
        .args(test_pattern(seconds, "1280x720", true))
        .arg(format!("rtmp://127.0.0.1:{port}/live/{key}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ffmpeg publisher")
}

pub(super) async fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

/// Pids of the transcoder ffmpeg writing under `dir`.
fn transcoder_pids(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("pipe:0") && cmdline.contains(&needle)
        })
        .collect()
}

fn packaging() -> Packaging {
    Packaging {
        segment_duration_seconds: 2,
        playlist_window_seconds: 60,
        min_video_bits_per_second: 0,
        max_video_bits_per_second: 2_147_483_647,
        stream_order: StreamOrder::VideoBitrateAscending,
    }
}

async fn stderr_of(child: Child) -> (bool, String) {
    let out = child.wait_with_output().await.expect("publisher output");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_crash_reconnect_package_and_stop() {
    if !Path::new(FFMPEG).exists() {
        eprintln!("skipping the media end-to-end test: {FFMPEG} not found");
        return;
    }
    let data: PathBuf = std::env::temp_dir().join(format!("media-e2e-{}", uuid::Uuid::new_v4()));
    let media = Media::new(data.clone(), FFMPEG.into());
    let gate = Arc::new(Gate {
        job: TranscodeJob {
            thumbnails: true,
            ..job()
        },
        refuse_admit: false,
    });
    let port = media.open_input("in1", 0, gate).await.unwrap();
    let pkg = data.join("mediapackage/pkg1");
    let p = packaging();

    let first = push(port, 14, "key");
    wait_until("the publish", Duration::from_secs(5), || media.stats().publishes == 1).await;
    let run0 = pkg.join("360p/run-0.m3u8");
    let input = wait_until("a first input segment", Duration::from_secs(8), || run0.exists()).await;
    let endpoint = wait_until("a first endpoint segment", Duration::from_secs(8), || {
        media.media_playlist("pkg1", "360p", &p).is_ok()
    })
    .await;
    println!(
        "publish -> first 1 s input segment: {input:?}; first 2 s endpoint segment: {:?}",
        input + endpoint
    );

    // What the channel's alerts read: video and audio arriving; and a thumbnail of the input.
    let ingest = media.ingest("ch1").expect("a publisher");
    assert!(
        ingest.since_video.is_some_and(|d| d < Duration::from_secs(1)),
        "{ingest:?}"
    );
    assert!(
        ingest.since_audio.is_some_and(|d| d < Duration::from_secs(1)),
        "{ingest:?}"
    );
    wait_until("a thumbnail", Duration::from_secs(8), || {
        media.thumbnail("ch1").is_some()
    })
    .await;
    let (jpeg, _) = media.thumbnail("ch1").unwrap();
    assert_eq!(&jpeg[..3], [0xFF, 0xD8, 0xFF], "a JPEG");
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(layout::thumbnail(&data, "ch1").unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "mjpeg,480,270");

    // A second publisher on the same channel, and a wrong stream name, are refused.
    let (ok, err) = stderr_of(push(port, 2, "key")).await;
    assert!(!ok && err.contains("already has an active publisher"), "{err}");
    let (ok, err) = stderr_of(push(port, 2, "nope")).await;
    assert!(!ok && err.contains("live/nope is not a destination"), "{err}");

    // Crash: the transcoder is restarted while the publisher stays connected.
    let pids = transcoder_pids(&data);
    assert_eq!(pids.len(), 1, "{pids:?}");
    std::process::Command::new("kill")
        .args(["-9", &pids[0].to_string()])
        .status()
        .unwrap();
    wait_until("the restart", Duration::from_secs(6), || {
        media.stats().transcoder_starts == 2
    })
    .await;
    let (ok, err) = stderr_of(first).await;
    assert!(ok, "{err}");
    // The publisher left: ffmpeg flushes and writes ENDLIST.
    let ended = |run: u32| {
        std::fs::read_to_string(pkg.join(format!("180p/run-{run}.m3u8"))).is_ok_and(|t| t.contains("ENDLIST"))
    };
    wait_until("the end of run 1", Duration::from_secs(10), || ended(1)).await;

    // Reconnect: same channel, sequence numbers continue after a discontinuity.
    let (ok, err) = stderr_of(push(port, 4, "key")).await;
    assert!(ok, "{err}");
    wait_until("the end of run 2", Duration::from_secs(10), || ended(2)).await;
    let stats = media.stats();
    assert_eq!(
        (
            stats.transcoder_starts,
            stats.transcoder_restarts,
            stats.refused_publishers
        ),
        (3, 1, 2)
    );

    let master = media.master_playlist("pkg1", &p).unwrap();
    println!("{master}");
    let lines: Vec<&str> = master.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.starts_with("#EXT-X-STREAM-INF")).count(), 2);
    // Ascending: 180p first. BANDWIDTH = (video + audio) * 1.1; Main (MediaLive's default
    // profile) even at ultrafast: the CODECS ffmpeg writes from what x264 signals.
    assert!(
        lines[3].contains("BANDWIDTH=435600,") && lines[3].contains("RESOLUTION=320x180"),
        "{master}"
    );
    assert!(lines[3].contains("CODECS=\"avc1.4d40"), "{master}");
    assert_eq!((lines[4], lines[6]), ("180p/index.m3u8", "360p/index.m3u8"));

    let playlist = media.media_playlist("pkg1", "360p", &p).unwrap();
    println!("{playlist}");
    assert!(playlist.contains("#EXT-X-TARGETDURATION:2\n"), "{playlist}");
    assert_eq!(playlist.matches("#EXT-X-DISCONTINUITY\n").count(), 2, "{playlist}");
    let seqs: Vec<u64> = playlist
        .lines()
        .filter_map(|l| l.strip_suffix(".ts")?.parse().ok())
        .collect();
    assert!(
        seqs.len() >= 5 && seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "{playlist}"
    );

    // A full endpoint segment is two concatenated input segments: 2 s of H.264 + AAC. (A run's
    // last segment may be shorter: the first one the playlist lists at 2 s is probed.)
    let lines: Vec<&str> = playlist.lines().collect();
    let full = (lines.windows(2))
        .find_map(|w| {
            let seconds: f64 = w[0].strip_prefix("#EXTINF:")?.trim_end_matches(',').parse().ok()?;
            (seconds >= 1.9)
                .then(|| w[1].strip_suffix(".ts")?.parse::<u64>().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no 2 s segment in\n{playlist}"));
    let bytes = media.segment("pkg1", "360p", full, &p).unwrap();
    let file = data.join("probe.ts");
    std::fs::write(&file, &bytes).unwrap();
    let probe = std::process::Command::new("/usr/bin/ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration:stream=codec_name,width,height",
            "-of",
            "compact",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let probe = String::from_utf8_lossy(&probe.stdout);
    println!("{probe}");
    assert!(
        probe.contains("codec_name=h264|width=640|height=360") && probe.contains("codec_name=aac"),
        "{probe}"
    );
    let duration: f64 = probe
        .split("duration=")
        .nth(1)
        .and_then(|d| d.trim().parse().ok())
        .unwrap();
    assert!((1.8..2.3).contains(&duration), "{probe}");
    assert!(matches!(
        media.segment("pkg1", "360p", 999, &p),
        Err(OriginError::NotFound(_))
    ));

    // Stop: the publisher is disconnected and ffmpeg killed.
    let long = push(port, 30, "key");
    wait_until("the third publish", Duration::from_secs(5), || {
        media.stats().transcoder_starts == 4
    })
    .await;
    media.stop_channel("ch1");
    let (ok, _) = tokio::time::timeout(Duration::from_secs(5), stderr_of(long))
        .await
        .expect("publisher disconnected");
    assert!(!ok);
    wait_until("ffmpeg to be gone", Duration::from_secs(5), || {
        transcoder_pids(&data).is_empty()
    })
    .await;

    media.close_input("in1");
    media.remove_package_channel("pkg1");
    assert!(!pkg.exists());
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn refused_connection_is_closed_before_the_handshake() {
    let media = Media::new(std::env::temp_dir(), FFMPEG.into());
    let gate = Arc::new(Gate {
        job: job(),
        refuse_admit: true,
    });
    let port = media.open_input("in2", 0, gate).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::io::AsyncReadExt::read(&mut stream, &mut buf),
    )
    .await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    assert_eq!(media.stats().refused_publishers, 1);
    media.close_input("in2");
}

#[tokio::test]
async fn taken_port_moves_to_the_next_one() {
    let media = Media::new(std::env::temp_dir(), FFMPEG.into());
    let gate = Arc::new(Gate {
        job: job(),
        refuse_admit: true,
    });
    let first = media.open_input("a", 0, gate.clone()).await.unwrap();
    let second = media.open_input("b", first, gate).await.unwrap();
    assert_ne!(first, second);
    assert!(second > first && second <= first.saturating_add(100));
    media.close_input("a");
    media.close_input("b");
}

/// CPU ticks (user + system) of a process.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// By hand: `cargo test -p livestream-local self_check -- --ignored --nocapture`. Pushes the
/// reference 720p30 test stream for 12 s into the default 1080p + 720p ladder (GOP 2 s, 6 s
/// endpoint segments) and prints the latency to the first segments and ffmpeg's CPU use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "by hand: 12 s of real encoding, prints measurements"]
async fn self_check_default_ladder() {
    let data = std::env::temp_dir().join(format!("media-check-{}", uuid::Uuid::new_v4()));
    let media = Media::new(data.clone(), FFMPEG.into());
    let v = VideoRendition::at_30fps;
    let job = TranscodeJob {
        renditions: vec![v("1080p", 1920, 1080, 5_000_000), v("720p", 1280, 720, 3_000_000)],
        audio: AudioRendition {
            bitrate: 128_000,
            sample_rate: 48_000,
        },
        gop_seconds: 2.0,
        ..job()
    };
    let port = media
        .open_input(
            "in",
            0,
            Arc::new(Gate {
                job,
                refuse_admit: false,
            }),
        )
        .await
        .unwrap();
    let p = Packaging {
        segment_duration_seconds: 6,
        stream_order: StreamOrder::Original,
        ..packaging()
    };
    let publisher = push(port, 12, "key");
    wait_until("the publish", Duration::from_secs(5), || media.stats().publishes == 1).await;
    let run0 = data.join("mediapackage/pkg1/1080p/run-0.m3u8");
    let input = wait_until("an input segment", Duration::from_secs(10), || run0.exists()).await;
    let pid = transcoder_pids(&data)[0];
    let (t0, c0) = (Instant::now(), cpu_ticks(pid).unwrap());
    let more = wait_until("an endpoint segment", Duration::from_secs(10), || {
        media.media_playlist("pkg1", "1080p", &p).is_ok()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(t0.elapsed())).await;
    let cores = (cpu_ticks(pid).unwrap() - c0) as f64 / 100.0 / t0.elapsed().as_secs_f64();
    println!(
        "preset {}: publish -> first 2 s input segment {input:?}, first 6 s endpoint segment {:?}; \
         ffmpeg uses {cores:.2} cores in steady state",
        media.x264_preset(),
        input + more
    );
    assert!(stderr_of(publisher).await.0);
    let run0 = data.join("mediapackage/pkg1/720p/run-0.m3u8");
    let ended = || std::fs::read_to_string(&run0).is_ok_and(|t| t.contains("ENDLIST"));
    wait_until("the end of the run", Duration::from_secs(10), ended).await;
    println!("{}", media.master_playlist("pkg1", &p).unwrap());
    println!("{}", media.media_playlist("pkg1", "720p", &p).unwrap());
    let _ = std::fs::remove_dir_all(&data);
}
