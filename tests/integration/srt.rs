//! SRT contribution: a stream whose encoder pushes encrypted SRT, the passphrase in a Kubernetes
//! Secret. The operator copies it into AWS Secrets Manager (where MediaLive reads it with the
//! shipped role's grant), the encoder's push plays, a rotated Secret is what the next push needs,
//! and deleting the stream leaves no input, channel or AWS secret. The passphrase never shows.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::checks::assert_exactly_one_each;
use crate::support::cloud::{LocalCloud, ROLE, eventually, http_get, key_file, shipped_policy};
use crate::support::cluster::{kubectl, kubectl_apply, kubectl_ok, namespace};
use crate::support::operator::{Operator, condition, kubectl_wait, status};
use crate::support::tools::{Cli, probe_streams};

const FIRST: &str = "first-passphrase-1";
const SECOND: &str = "second-passphrase-2";

/// livestream-local whose MediaLive role is held to deploy/medialive-role.json's policy: the
/// shipped role must grant what MediaLive needs to read the passphrase.
async fn cloud() -> LocalCloud {
    let role = crate::support::files::read("deploy/medialive-role.json");
    let role: Value = serde_json::from_str(&role).unwrap();
    let mut keys = key_file(&shipped_policy(), &[]);
    keys["roles"] = json!([{
        "name": ROLE.rsplit('/').next().unwrap(),
        "policy": role["PermissionsPolicy"],
    }]);
    LocalCloud::start_with_keys(&[], &keys).await
}

fn set_passphrase(ns: &str, value: &str) {
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: srt-passphrase\n  namespace: {ns}\nstringData:\n  passphrase: {value}\n"
    );
    kubectl_apply(&secret);
}

fn manifest(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  running: true\n  delivery: {{mode: Direct}}\n  website: {{enabled: false}}\n  encoding:\n    renditions: [{{name: 360p, width: 640, height: 360, bitsPerSecond: 800000}}]\n  packaging:\n    hls: {{segmentDurationSeconds: 2, playlistWindowSeconds: 12}}\n  input:\n    allowedCidrs: [127.0.0.0/8]\n    protocol: SRT\n    srt:\n      passphraseSecretRef: {{name: srt-passphrase}}\n      streamId: stage-left\n      minimumLatencyMsec: 500\n"
    )
}

/// ffmpeg as the encoder: MPEG-TS over SRT to `ingest` (status.ingestUrl, which carries the
/// stream id), AES-256 with `passphrase`, for `seconds`.
fn srt_encoder(ingest: &str, passphrase: &str, seconds: u32) -> Child {
    let url = format!("{ingest}&passphrase={passphrase}&pbkeylen=32");
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &seconds.to_string()])
        .args(crate::support::cloud::X264)
        .args(["-c:a", "aac", "-b:a", "64k", "-f", "mpegts", &url])
        .kill_on_drop(true)
        .spawn()
        .expect("ffmpeg starts")
}

/// The media sequence number of the first rendition's newest segment.
async fn newest_sequence(playback: &str) -> Option<u64> {
    let (code, master) = http_get(playback).await;
    let media = (code == 200).then(|| master.lines().find(|l| !l.is_empty() && !l.starts_with('#')))??;
    let media = format!("{}/{media}", &playback[..playback.rfind('/')?]);
    let (code, playlist) = http_get(&media).await;
    let first: u64 = (code == 200)
        .then(|| playlist.lines().find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:")))??
        .trim()
        .parse()
        .ok()?;
    let segments = playlist
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count() as u64;
    (segments > 0).then(|| first + segments - 1)
}

/// New segments keep coming while this encoder pushes: it got in.
async fn plays_past(playback: &str, after: u64, within: Duration) -> u64 {
    eventually("new segments from the SRT push", within, || async {
        newest_sequence(playback).await.filter(|s| *s >= after + 2)
    })
    .await
}

async fn degraded_with(ns: &str, name: &str, reason: &str) -> String {
    eventually(&format!("Degraded={reason}"), Duration::from_secs(30), || async {
        let degraded = condition(ns, name, "Degraded");
        (degraded["status"] == "True" && degraded["reason"] == reason)
            .then(|| degraded["message"].as_str().unwrap_or_default().to_owned())
    })
    .await
}

/// Every AWS secret, scheduled for deletion or not (ListSecrets with IncludePlannedDeletion).
async fn secrets(cloud: &LocalCloud) -> Vec<Value> {
    let cli = Cli { cloud };
    let listed = cli
        .ok(&["secretsmanager", "list-secrets", "--include-planned-deletion"])
        .await;
    listed["SecretList"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_srt_push_with_the_secrets_passphrase_plays_and_a_rotated_secret_locks_the_old_one_out() {
    let cloud = cloud().await;
    let ns = namespace("srt");
    let operator = Operator::start(&cloud, &ns).await;
    let name = "stage";
    // The operator may read no Secret until the namespace lets it read this one: the condition
    // gives the commands. Then the Secret is missing: the condition says how to make it.
    kubectl_apply(&manifest(&ns, name));
    let forbidden = degraded_with(&ns, name, "PassphraseForbidden").await;
    assert_eq!(crate::stream_key::run_quoted_commands(&forbidden, ""), 2);
    let missing = degraded_with(&ns, name, "PassphraseSecretNotFound").await;
    assert!(missing.contains("create secret generic srt-passphrase"), "{missing}");
    assert!(secrets(&cloud).await.is_empty(), "no AWS secret without the passphrase");
    set_passphrase(&ns, FIRST);
    kubectl_wait(&ns, "jsonpath={.status.state}=RUNNING", name, Duration::from_secs(90));

    // The ingest URL is SRT, with the stream id and without the passphrase.
    let ingest = status(&ns, name)["ingestUrl"].as_str().unwrap().to_owned();
    assert!(
        ingest.starts_with("srt://127.0.0.1:") && ingest.ends_with("?streamid=stage-left"),
        "{ingest}"
    );
    let [secret] = &secrets(&cloud).await[..] else {
        panic!("one AWS secret: {:?}", secrets(&cloud).await)
    };
    let arn = secret["ARN"].as_str().unwrap().to_owned();
    assert_eq!(status(&ns, name)["aws"]["srtPassphraseSecretArn"], arn.as_str());

    // The encoder pushes: the stream plays.
    let mut encoder = srt_encoder(&ingest, FIRST, 600);
    let playback = status(&ns, name)["playbackUrl"].as_str().unwrap().to_owned();
    let first = eventually("segments from the SRT push", Duration::from_secs(60), || {
        newest_sequence(&playback)
    })
    .await;
    let played = plays_past(&playback, first, Duration::from_secs(30)).await;
    let streams = probe_streams(&playback).await;
    assert!(streams.contains(&"h264 640x360".to_owned()), "{streams:?}");
    eventually("InputConnected", Duration::from_secs(30), || async {
        (condition(&ns, name, "InputConnected")["status"] == "True").then_some(())
    })
    .await;

    // The Secret changes: the operator puts the new passphrase into Secrets Manager.
    set_passphrase(&ns, SECOND);
    eventually(
        "a new current version of the AWS secret",
        Duration::from_secs(30),
        || async {
            let events = kubectl_ok(&["get", "events", "-n", &ns, "-o", "json"]);
            events.contains("RotatedPassphrase").then_some(())
        },
    )
    .await;
    encoder.kill().await.unwrap();
    // The next push with the old passphrase is refused by SRT's handshake: ffmpeg gives up.
    let mut old = srt_encoder(&ingest, FIRST, 30);
    let refused = tokio::time::timeout(Duration::from_secs(25), old.wait()).await;
    assert!(
        refused.is_ok_and(|exit| !exit.unwrap().success()),
        "the old passphrase is refused"
    );
    // With the new one it plays on.
    let _encoder = srt_encoder(&ingest, SECOND, 600);
    plays_past(&playback, played, Duration::from_secs(60)).await;

    // The passphrase never shows: not in status, events or the operator's log.
    let shown = [
        kubectl_ok(&["get", "lvs", name, "-n", &ns, "-o", "json"]),
        kubectl_ok(&["get", "events", "-n", &ns, "-o", "json"]),
        operator.log_text(),
    ];
    for text in shown {
        assert!(!text.contains(FIRST) && !text.contains(SECOND), "a passphrase shows");
    }

    // Deleting the stream stops the channel and leaves nothing: no input, channel or AWS secret.
    kubectl_ok(&["delete", "lvs", name, "-n", &ns, "--timeout", "90s"]);
    assert!(!kubectl(&["get", "lvs", name, "-n", &ns]).status.success());
    assert_exactly_one_each(&cloud.aws, &[]).await;
    assert!(
        secrets(&cloud).await.is_empty(),
        "the AWS secret is deleted without recovery"
    );
}
