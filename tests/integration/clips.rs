//! Clips as a user meets them: while a MediaPackage v2 stream with a startover window runs, a
//! `LiveStreamClip` of 20 s of the push, once the stream is on air, becomes a harvest job,
//! COMPLETED, whose HLS VOD plays (ffprobe) through the stream's distribution, lasts 20 s ± a
//! segment, and whose program date-times fall in the range. A range ending before it starts is
//! refused at admission; a clip of a stream that does not exist says so, naming the field.
//! Deleting the clip keeps the VOD. Under the shipped IAM policy.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::{
    packaging_v2::{first_variant, variant_url},
    support::cloud::{LocalCloud, eventually, http_get, shipped_policy},
    support::cluster::{kubectl_apply, kubectl_apply_refused, kubectl_ok, namespace},
    support::operator::{Operator, go_live, kubectl_wait, patch, status},
    support::tools::ffprobe,
    website::BUCKET,
};

fn clip(ns: &str, name: &str, stream: &str, start: Timestamp, end: Timestamp) -> String {
    format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStreamClip\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  stream: {stream}\n  start: \"{start}\"\n  end: \"{end}\"\n"
    )
}

fn clip_status(ns: &str, name: &str) -> serde_json::Value {
    let out = kubectl_ok(&["get", "lvc", name, "-n", ns, "-o", "jsonpath={.status}"]);
    serde_json::from_str(&out).unwrap_or_default()
}

fn program_date_times(playlist: &str) -> Vec<Timestamp> {
    (playlist.lines())
        .filter_map(|l| l.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:"))
        .map(|t| t.trim().parse().unwrap())
        .collect()
}

/// The media sequence number of the newest segment of the first rendition of the live HLS at
/// `master_url`; none while it lists no segment.
async fn newest_segment(master_url: &str) -> Option<u64> {
    let (code, master) = http_get(master_url).await;
    let variant = variant_url(master_url, &master).filter(|_| code == 200)?;
    let (code, playlist) = http_get(&variant).await;
    let listed = playlist.lines().filter(|l| l.starts_with("#EXTINF:")).count() as u64;
    let sequence = (playlist.lines())
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:"))
        .and_then(|n| n.trim().parse::<u64>().ok())?;
    (code == 200 && listed > 0).then(|| sequence + listed - 1)
}

#[tokio::test]
async fn a_clip_of_a_live_moment_becomes_a_playable_vod_that_outlives_its_resource() {
    let cloud = LocalCloud::start_with_policy(&[], &shipped_policy()).await;
    let ns = namespace("clips");
    let args = ["--website-bucket", BUCKET, "--delivery", "CloudFront"];
    let _operator = Operator::start_with(&cloud, &ns, &args).await;
    kubectl_apply(&format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: keynote\n  namespace: {ns}\nspec:\n  input:\n    streamName: live/keynote\n  packaging:\n    version: v2\n    startoverWindowSeconds: 300\n    hls:\n      segmentDurationSeconds: 2\n      playlistWindowSeconds: 30\n"
    ));
    kubectl_wait(&ns, "condition=Ready", "keynote", Duration::from_secs(90));
    let mut publisher = go_live(&ns, "keynote", 120);

    // Refused at admission: a range that ends before it starts.
    let now = Timestamp::now();
    let backwards = kubectl_apply_refused(&clip(
        &ns,
        "backwards",
        "keynote",
        now,
        now - SignedDuration::from_secs(20),
    ));
    assert!(backwards.contains("end must be after start"), "{backwards}");

    // 20 s of the push, from just after the first segment the live playlist lists (a loaded
    // machine may take a while to bring the push on air); the clip is asked for once the playlist
    // lists the segments past its end (2 s each), whatever the encoder's pace.
    let playback = status(&ns, "keynote")["playbackUrl"].as_str().unwrap().to_owned();
    let first = eventually("the first live segment", Duration::from_secs(60), || async {
        newest_segment(&playback).await
    })
    .await;
    let start = Timestamp::now() + SignedDuration::from_secs(1);
    let end = start + SignedDuration::from_secs(20);
    eventually("live media past the clip's end", Duration::from_secs(90), || async {
        let newest = newest_segment(&playback).await?;
        (newest >= first + 13 && Timestamp::now() > end).then_some(())
    })
    .await;
    kubectl_apply(&clip(&ns, "goal", "keynote", start, end));
    kubectl_ok(&[
        "wait",
        "-n",
        &ns,
        "--for=condition=Ready",
        "lvc/goal",
        "--timeout",
        "90s",
    ]);
    let s = clip_status(&ns, "goal");
    assert_eq!(s["state"], "COMPLETED", "{s}");
    assert_eq!(
        s["manifest"],
        format!("s3://{BUCKET}/livestreams/{ns}/keynote-clips/goal/index.m3u8")
    );
    let url = s["playbackUrl"].as_str().unwrap().to_owned();
    let domain = status(&ns, "keynote")["cloudFront"]["domainName"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("http://{domain}/")),
        "through the distribution: {url}"
    );
    let probe = ffprobe(&["-show_entries", "format=duration", &url]).await;
    let seconds: f64 = probe["format"]["duration"].as_str().unwrap().parse().unwrap();
    let (code, media) = http_get(&first_variant(&url).await).await;
    assert_eq!(code, 200);
    assert!(media.contains("#EXT-X-ENDLIST"), "{media}");
    let times = program_date_times(&media);
    let slack = SignedDuration::from_secs(2);
    assert!(!times.is_empty(), "{media}");
    assert!(
        times.iter().all(|t| *t >= start - slack && *t < end),
        "{times:?} in {start}..{end}"
    );
    // The cut spans the 20 s asked for, to a segment (2 s); it holds 20 s of media unless
    // livestream-local's encoder fell behind real time on a loaded machine: then it holds what
    // was encoded in that span.
    let last = *times.last().unwrap() + SignedDuration::from_secs(2);
    let span = last.duration_since(times[0]).as_secs_f64();
    assert!(
        (span - 20.0).abs() <= 2.0,
        "the clip spans {span} s of the stream's clock"
    );
    assert!(
        seconds <= span + 2.0 && seconds >= 0.6 * span,
        "the clip lasts {seconds} s over a {span} s span"
    );

    // A clip of a stream that is not there says which field is wrong.
    kubectl_apply(&clip(&ns, "stray", "nope", start, end));
    let stray = eventually("the stray clip's condition", Duration::from_secs(30), || async {
        let s = clip_status(&ns, "stray");
        s["conditions"][0]["message"].as_str().map(str::to_owned)
    })
    .await;
    assert!(stray.starts_with("spec.stream:"), "{stray}");

    // Deleting the clip keeps its VOD.
    kubectl_ok(&[
        "delete",
        "lvc",
        "goal",
        "stray",
        "-n",
        &ns,
        "--wait=true",
        "--timeout=60s",
    ]);
    let (code, _) = http_get(&url).await;
    assert_eq!(code, 200, "the VOD outlives its LiveStreamClip");
    patch(&ns, "keynote", r#"{"running":false}"#);
    let _ = publisher.kill().await;
}
