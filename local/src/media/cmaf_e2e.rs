//! End-to-end check of the CMAF path with real ffmpeg processes: a v2 channel's publish turns
//! into indexed parts of whole frames, GOPs starting at sync samples, segments ffprobe decodes.
//! Skipped (with a printed reason) without /usr/bin/ffmpeg.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;

use super::e2e::{FFMPEG, Gate, job, test_pattern, wait_until};
use super::{Media, TranscodeJob};
use crate::media::cmaf::index::RenditionMedia;

const KEY: &str = "v2.live.main";

fn complete_segments(media: &Media, rendition: &str) -> usize {
    let segments = |m: &RenditionMedia| m.segments(2).iter().filter(|s| s.complete).count();
    media
        .cmaf(KEY)
        .and_then(|c| c.with_rendition(rendition, segments))
        .unwrap_or(0)
}

/// Publishes 6 s of a 360p test pattern to a v2 channel encoding `job`'s ladder (`360p` and
/// `180p`) and waits until its run ended; the data directory and the media.
async fn publish_v2(job: TranscodeJob) -> (std::path::PathBuf, Media) {
    let data = std::env::temp_dir().join(format!("cmaf-e2e-{}", uuid::Uuid::new_v4()));
    let media = Media::new(data.clone(), FFMPEG.into());
    let job = TranscodeJob {
        package_channel_id: Some(KEY.into()),
        ..job
    };
    let gate = Arc::new(Gate {
        job,
        refuse_admit: false,
    });
    let port = media.open_input("in1", 0, gate).await.unwrap();
    let mut publisher = Command::new(FFMPEG)
        .args(test_pattern(6, "640x360", true))
        .arg(format!("rtmp://127.0.0.1:{port}/live/key"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ffmpeg publisher");
    let first = wait_until("a complete 2 s CMAF segment", Duration::from_secs(20), || {
        ["360p", "180p"].iter().all(|r| complete_segments(&media, r) >= 1)
    })
    .await;
    println!("publish -> first complete CMAF segment in both renditions: {first:?}");
    assert!(publisher.wait().await.unwrap().success());
    let channel = media.cmaf(KEY).unwrap();
    let ended = |r: &RenditionMedia| r.runs.iter().all(|run| run.ended);
    wait_until("the end of the run", Duration::from_secs(15), || {
        ["360p", "180p"]
            .iter()
            .all(|r| channel.with_rendition(r, ended) == Some(true))
    })
    .await;
    (data, media)
}

/// The init segment and segment 0 of `rendition` as one file, and what ffprobe reads in its video:
/// `codec,width,frames`.
async fn probe_first_segment(data: &Path, media: &Media, rendition: &str) -> String {
    let channel = media.cmaf(KEY).unwrap();
    let (init, segment) = channel
        .with_rendition(rendition, |m| {
            let paths: Vec<_> = m.segments(2)[0].parts.iter().map(|p| p.path.clone()).collect();
            (m.runs[0].init.clone(), paths)
        })
        .unwrap();
    let mut file = init.to_vec();
    for path in segment {
        file.extend(std::fs::read(path).unwrap());
    }
    let probe = data.join(format!("{rendition}-segment0.mp4"));
    std::fs::write(&probe, file).unwrap();
    let out = Command::new("ffprobe")
        .args(
            "-v error -count_frames -select_streams v -show_entries stream=codec_name,codec_tag_string,width,nb_read_frames -of csv=p=0"
                .split(' '),
        )
        .arg(&probe)
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_channel_writes_parts_of_whole_frames_that_decode() {
    if !Path::new(FFMPEG).exists() {
        return eprintln!("skipping the CMAF end-to-end test: {FFMPEG} not found");
    }
    let (data, media) = publish_v2(job()).await;
    let channel = media.cmaf(KEY).unwrap();
    channel
        .with_rendition("360p", |m| {
            let run = &m.runs[0];
            let frame = u64::from(run.timescale) / 30;
            // 1 s GOPs of 30 frames: 3 parts of 10 frames, only the first independent.
            let complete = &run.gops.as_slices().0[..run.gops.len() - 1];
            assert!(complete.len() >= 4, "{} GOPs", run.gops.len());
            for gop in complete {
                let frames: Vec<u64> = gop.parts.iter().map(|p| p.duration / frame).collect();
                let independent: Vec<bool> = gop.parts.iter().map(|p| p.independent).collect();
                assert_eq!((frames, independent), (vec![10, 10, 10], vec![true, false, false]));
            }
            let parts: Vec<_> = run.gops.iter().flat_map(|g| &g.parts).collect();
            for pair in parts.windows(2) {
                assert_eq!(pair[0].start + pair[0].duration, pair[1].start);
                assert!(pair[0].arrived <= pair[1].arrived);
            }
        })
        .unwrap();
    // The init segment and segment 0 (2 GOPs) decode to 60 frames.
    assert_eq!(probe_first_segment(&data, &media, "360p").await, "h264,avc1,640,60");
    std::fs::remove_dir_all(data).unwrap();
}

/// An H.265 rendition beside an H.264 one: its CMAF output is HEVC in an `hvc1` sample entry,
/// parts of whole frames, and decodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_channel_writes_hevc_renditions_in_hvc1_that_decode() {
    if !Path::new(FFMPEG).exists() {
        return eprintln!("skipping the CMAF end-to-end test: {FFMPEG} not found");
    }
    let mut job = job();
    job.renditions[1].codec = crate::media::codec::VideoCodec::from_settings(&serde_json::json!({"h265Settings": {
        "rateControlMode": "QVBR", "qvbrQualityLevel": 7, "maxBitrate": 300_000,
        "framerateNumerator": 30, "framerateDenominator": 1}}));
    let (data, media) = publish_v2(job).await;
    assert_eq!(probe_first_segment(&data, &media, "180p").await, "hevc,hvc1,320,60");
    assert_eq!(probe_first_segment(&data, &media, "360p").await, "h264,avc1,640,60");
    std::fs::remove_dir_all(data).unwrap();
}
