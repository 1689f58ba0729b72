//! Recording as a user meets it: a LiveStream with `recording.enabled` runs, a test pattern with a
//! clock burnt in is pushed for a known time, the channel stops, and the run's recording is in the
//! bucket under its own start time — downloaded with the AWS CLI, played by ffprobe (the top
//! rendition and AAC), as long as the push, its first and last frames' clocks the push's first and
//! last moments. Deleting the LiveStream keeps the recording. Under the shipped IAM policy.

use std::time::Duration;

use serde_json::Value;

use crate::{
    support::clock,
    support::cloud::{LocalCloud, eventually, shipped_policy},
    support::cluster::{kubectl_apply, kubectl_ok, namespace},
    support::operator::{Operator, kubectl_wait, patch, status},
    support::tools::Cli,
    support::tools::ffprobe,
};

/// The recordings bucket deploy/iam-policy.json and deploy/medialive-role.json name.
const RECORDINGS: &str = "example-livestream-recordings";
const ROLLOVER: u64 = 10;
const PUSH: u32 = 24;

#[tokio::test]
async fn a_run_is_recorded_to_s3_plays_and_lasts_as_long_as_the_push() {
    let cloud = LocalCloud::start_with_policy(&[], &shipped_policy()).await;
    let cli = Cli { cloud: &cloud };
    let ns = namespace("recording");
    let _operator = Operator::start_with(&cloud, &ns, &["--recording-bucket", RECORDINGS]).await;
    kubectl_apply(&format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: show\n  namespace: {ns}\nspec:\n  input:\n    streamName: live/show\n  recording:\n    enabled: true\n    rolloverSeconds: {ROLLOVER}\n"
    ));
    kubectl_wait(&ns, "condition=Ready", "show", Duration::from_secs(60));
    let channel = status(&ns, "show")["aws"]["channelId"].as_str().unwrap().to_owned();
    let described = cli
        .ok(&["medialive", "describe-channel", "--channel-id", &channel])
        .await;
    let archive = described["EncoderSettings"]["OutputGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["OutputGroupSettings"]["ArchiveGroupSettings"].is_object())
        .cloned()
        .unwrap_or_else(|| panic!("no Archive output group: {described}"));
    assert_eq!(
        archive["OutputGroupSettings"]["ArchiveGroupSettings"]["RolloverInterval"],
        ROLLOVER
    );

    // One run: start, push a test pattern for PUSH seconds, stop.
    patch(&ns, "show", r#"{"running":true}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=RUNNING", "show", Duration::from_secs(30));
    let ingest = status(&ns, "show")["ingestUrl"].as_str().unwrap().to_owned();
    let pushed_at = clock::now_ms();
    let mut publisher = clock::publish_with_clock(&ingest, PUSH);
    assert!(publisher.wait().await.unwrap().success(), "the push went through");
    patch(&ns, "show", r#"{"running":false}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "show", Duration::from_secs(30));

    // Status names the run's prefix; its files are the push, in order, each playable.
    let run = eventually("status to list the run", Duration::from_secs(30), || async {
        let recordings = status(&ns, "show")["recordings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (recordings.len() == 1).then(|| recordings[0].as_str().unwrap().to_owned())
    })
    .await;
    let prefix = format!("s3://{RECORDINGS}/recordings/{ns}/show/");
    let started = run.strip_prefix(&prefix).unwrap_or_else(|| panic!("{run}"));
    assert_eq!(started.len(), "20261203T071500/".len(), "MediaLive's $dt$: {run}");
    // The last, partial file is written when the channel stops: it may land after status lists
    // the run.
    let expected = (PUSH as usize).div_ceil(ROLLOVER as usize);
    eventually("the run's last file", Duration::from_secs(20), || async {
        let listed = cli.command(&["s3", "ls", "--recursive", &run]).output().await.ok()?;
        let files = String::from_utf8_lossy(&listed.stdout).lines().count();
        (files >= expected).then_some(())
    })
    .await;
    let dir = tempfile_dir(&ns);
    cli.ok(&["s3", "cp", "--recursive", &run, dir.to_str().unwrap()]).await;
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= (PUSH as usize).div_ceil(ROLLOVER as usize), "{files:?}");
    let mut total = 0.0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("recording_1080p.") && name.ends_with(".ts"), "{name}");
        let probe: Value = ffprobe(&[
            "-show_entries",
            "format=duration:stream=codec_name,width,height",
            file.to_str().unwrap(),
        ])
        .await;
        let codecs: Vec<String> = (probe["streams"].as_array().unwrap().iter())
            .map(|s| format!("{} {}x{}", s["codec_name"].as_str().unwrap(), s["width"], s["height"]))
            .collect();
        assert!(
            codecs.contains(&"h264 1920x1080".to_owned()),
            "the top rendition: {codecs:?}"
        );
        assert!(codecs.iter().any(|c| c.starts_with("aac")), "{codecs:?}");
        total += probe["format"]["duration"].as_str().unwrap().parse::<f64>().unwrap();
    }
    // As long as the media pushed (ffmpeg -re -t PUSH), which on a loaded machine takes longer than
    // PUSH seconds of wall clock to arrive.
    assert!(
        (total - f64::from(PUSH)).abs() <= 4.0,
        "recorded {total:.1} s of a {PUSH} s push ({} files)",
        files.len()
    );
    // The clock burnt into the push: the recording begins with the push's first moments and holds
    // all of it.
    let first = clock::clock_in(&files[0], false)
        .await
        .expect("the clock in the first frame");
    let last = (clock::clock_in(files.last().unwrap(), true).await).expect("the clock in the last frame");
    let late = clock::elapsed_ms(pushed_at, first);
    let held = clock::elapsed_ms(first, last) as f64 / 1000.0;
    let clocks =
        format!("pushed at {pushed_at}, first frame {first} ({late} ms later), last {last} ({held:.1} s held)");
    // ffmpeg's start-up is in `late` (0.2 s here unloaded, seconds on a busy machine); media lost at
    // the start would shorten `held`.
    assert!(late < 10_000, "the recording begins late: {clocks}");
    assert!(
        held >= f64::from(PUSH) - 2.0 && held <= f64::from(PUSH) + 5.0,
        "the recording holds {held:.1} s of the push's clock: {clocks}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // Deleting the LiveStream keeps the recording.
    kubectl_ok(&["delete", "lvs", "show", "-n", &ns, "--wait=true", "--timeout=90s"]);
    let kept = cli
        .ok(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            RECORDINGS,
            "--prefix",
            &format!("recordings/{ns}/show/"),
        ])
        .await;
    assert_eq!(kept["Contents"].as_array().map_or(0, Vec::len), files.len(), "{kept}");
}

fn tempfile_dir(ns: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("livestream-recording-{ns}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
