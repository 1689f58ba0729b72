//! Events that matter: a stream on two pipelines with two encoders stays on air when one encoder
//! dies, and a stream with a backup encoder fails over to it and back. Each encoder paints its own
//! colour, so what viewers see is read back from the newest segment of the playback URL.

use std::time::Duration;

use crate::support::checks::assert_exactly_one_each;
use crate::support::cloud::{LocalCloud, eventually, http_get};
use crate::support::cluster::{kubectl, kubectl_apply, kubectl_ok, namespace};
use crate::support::operator::{Operator, condition, kubectl_wait, status};
use crate::support::tools::{colour_encoder, colour_of};

const RED: u32 = 0xFF0000;
const BLUE: u32 = 0x0000FF;

/// The manifest of a stream `name` in `ns` with `extra` spec lines: one 360p rendition, 2 s
/// segments, viewers straight at the origin.
fn manifest(ns: &str, name: &str, extra: &str) -> String {
    format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  running: true\n  delivery: {{mode: Direct}}\n  website: {{enabled: false}}\n  encoding:\n    renditions: [{{name: 360p, width: 640, height: 360, bitsPerSecond: 800000}}]\n  packaging:\n    hls: {{segmentDurationSeconds: 2, playlistWindowSeconds: 12}}\n{extra}"
    )
}

/// `status.ingest`'s URL for `input` on `pipeline`.
fn ingest_url(ns: &str, name: &str, input: &str, pipeline: i64) -> String {
    let points = status(ns, name)["ingest"].as_array().cloned().unwrap_or_default();
    let point = points.iter().find(|p| p["input"] == input && p["pipeline"] == pipeline);
    let url = point.and_then(|p| p["url"].as_str());
    url.unwrap_or_else(|| panic!("no {input} URL for pipeline {pipeline} in {points:?}"))
        .to_owned()
}

async fn redundant(ns: &str, name: &str, value: &str, reason: &str, within: Duration) {
    eventually(&format!("Redundant={value} ({reason})"), within, || async {
        let c = condition(ns, name, "Redundant");
        (c["status"] == value && c["reason"] == reason).then_some(())
    })
    .await;
}

/// The newest segment of the playback URL's first rendition: its URL and media sequence number,
/// and whether a discontinuity came before it in the playlist.
async fn newest_segment(playback: &str) -> Option<(String, u64, bool)> {
    let (code, master) = http_get(playback).await;
    let media = (code == 200).then(|| master.lines().find(|l| !l.is_empty() && !l.starts_with('#')))??;
    let media_url = join(playback, media);
    let (code, playlist) = http_get(&media_url).await;
    if code != 200 {
        return None;
    }
    let first: u64 = playlist
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))?
        .trim()
        .parse()
        .ok()?;
    let segments: Vec<&str> = playlist
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let newest = segments.last()?;
    Some((
        join(&media_url, newest),
        first + segments.len() as u64 - 1,
        playlist.contains("#EXT-X-DISCONTINUITY"),
    ))
}

fn join(base: &str, relative: &str) -> String {
    if relative.contains("://") {
        return relative.to_owned();
    }
    format!("{}/{relative}", &base[..base.rfind('/').unwrap()])
}

/// What viewers see now: the colour of the newest segment, with its sequence number.
async fn on_air(playback: &str) -> Option<(u32, u64, bool)> {
    let (segment, sequence, discontinuity) = newest_segment(playback).await?;
    Some((colour_of(&segment, &[RED, BLUE]).await?, sequence, discontinuity))
}

async fn shows(playback: &str, want: u32, within: Duration) -> (u64, bool) {
    eventually(&format!("the stream to show 0x{want:06X}"), within, || async {
        let (colour, sequence, discontinuity) = on_air(playback).await?;
        (colour == want).then_some((sequence, discontinuity))
    })
    .await
}

async fn delete_and_check_nothing_left(cloud: &LocalCloud, ns: &str, name: &str) {
    kubectl_ok(&["delete", "lvs", name, "-n", ns, "--timeout", "90s"]);
    assert!(!kubectl(&["get", "lvs", name, "-n", ns]).status.success());
    assert_exactly_one_each(&cloud.aws, &[]).await;
}

#[tokio::test]
async fn a_standard_stream_stays_on_air_when_one_of_its_two_encoders_dies() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("redundancy");
    let _operator = Operator::start(&cloud, &ns).await;
    let name = "final";
    kubectl_apply(&manifest(
        &ns,
        name,
        "  redundancy: Standard\n  input: {allowedCidrs: [127.0.0.0/8], streamName: live/final}\n",
    ));
    kubectl_wait(&ns, "jsonpath={.status.state}=RUNNING", name, Duration::from_secs(60));
    // Two URLs, one per pipeline: two encoders (or one pushing twice).
    let urls = [ingest_url(&ns, name, "primary", 0), ingest_url(&ns, name, "primary", 1)];
    assert_ne!(urls[0], urls[1], "each pipeline has its own URL");
    let mut encoders = [colour_encoder(&urls[0], RED), colour_encoder(&urls[1], BLUE)];
    redundant(&ns, name, "True", "AllLegsUp", Duration::from_secs(60)).await;
    let playback = status(&ns, name)["playbackUrl"].as_str().unwrap().to_owned();
    // MediaPackage serves one pipeline's ingest: whichever produced first.
    let (on_air, first) = eventually("a pipeline on air", Duration::from_secs(60), || async {
        let (colour, sequence, _) = on_air(&playback).await?;
        Some((colour, sequence))
    })
    .await;
    let (down, survivor) = if on_air == RED { (0, BLUE) } else { (1, RED) };

    // The served pipeline's encoder dies: the playback URL goes on from the other pipeline,
    // numbers continuing.
    encoders[down].kill().await.unwrap();
    let (after, discontinuity) = shows(&playback, survivor, Duration::from_secs(30)).await;
    assert!(after > first, "sequence numbers go on: {first} then {after}");
    assert!(discontinuity, "the source changed: a discontinuity is marked");
    redundant(&ns, name, "False", "PipelineDown", Duration::from_secs(30)).await;
    let message = condition(&ns, name, "Redundant")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains(&format!("pipeline {down}")), "{message}");
    assert_eq!(condition(&ns, name, "InputConnected")["status"], "True", "still on air");
    assert_eq!(condition(&ns, name, "Ready")["status"], "True");

    // The encoder comes back: both legs up again.
    encoders[down] = colour_encoder(&urls[down], on_air);
    redundant(&ns, name, "True", "AllLegsUp", Duration::from_secs(60)).await;
    delete_and_check_nothing_left(&cloud, &ns, name).await;
}

#[tokio::test]
async fn a_backup_encoder_takes_over_when_the_primary_dies_and_hands_back_when_it_returns() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("failover");
    let _operator = Operator::start(&cloud, &ns).await;
    let name = "keynote";
    kubectl_apply(&manifest(
        &ns,
        name,
        "  input:\n    allowedCidrs: [127.0.0.0/8]\n    streamName: live/keynote\n    backup: {inputLossThresholdMsec: 1000, errorClearTimeMsec: 4000}\n",
    ));
    kubectl_wait(&ns, "jsonpath={.status.state}=RUNNING", name, Duration::from_secs(60));
    let (primary, backup) = (ingest_url(&ns, name, "primary", 0), ingest_url(&ns, name, "backup", 0));
    assert_ne!(primary, backup);
    let mut red = colour_encoder(&primary, RED);
    let _blue = colour_encoder(&backup, BLUE);
    let playback = status(&ns, name)["playbackUrl"].as_str().unwrap().to_owned();
    shows(&playback, RED, Duration::from_secs(60)).await;
    redundant(&ns, name, "True", "AllLegsUp", Duration::from_secs(30)).await;

    // The primary encoder dies: the backup's picture is on air within the threshold and a
    // segment or two, and status says the stream runs on the backup.
    red.kill().await.unwrap();
    shows(&playback, BLUE, Duration::from_secs(20)).await;
    redundant(&ns, name, "False", "OnBackupInput", Duration::from_secs(30)).await;
    let pipelines = status(&ns, name)["pipelines"].clone();
    assert_eq!(pipelines[0]["activeInput"], "backup", "{pipelines}");
    assert_eq!(condition(&ns, name, "InputConnected")["status"], "True");

    // The primary returns: after the error clear time the stream is back on it.
    let _red = colour_encoder(&primary, RED);
    shows(&playback, RED, Duration::from_secs(40)).await;
    redundant(&ns, name, "True", "AllLegsUp", Duration::from_secs(30)).await;
    let events = kubectl_ok(&["get", "events", "-n", &ns, "-o", "jsonpath={.items[*].reason}"]);
    for reason in ["FailedOver", "InputRestored"] {
        assert!(events.contains(reason), "{reason} in {events}");
    }
    delete_and_check_nothing_left(&cloud, &ns, name).await;
}
