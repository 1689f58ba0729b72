//! MediaPackage v2 as a user meets it: a new LiveStream gets HLS, low-latency HLS and DASH URLs
//! from one channel in a shared channel group, plays them, sits beside a v1 stream, moves that
//! one from v1 to v2 while stopped, and on delete leaves nothing — the group going with its last
//! channel. AWS is read back through the AWS CLI; the operator runs under the shipped IAM policy.

use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::{
    support::cloud::{LocalCloud, eventually, http_get, shipped_policy},
    support::cluster::{kubectl_apply, kubectl_ok, namespace, repo_root},
    support::operator::{Operator, go_live, kubectl_wait, patch, status},
    support::tools::Cli,
    support::tools::probe_streams,
    website::{BUCKET, allow_public_pages, check_player},
};

const GROUP: &str = "livestream";

/// The stream the players watch asks for a light two-rung ladder: five players in headless
/// Chromium decode it on 2 cores beside the encoder and the other stories, and dash.js, which
/// plays at the wall clock, stalls as soon as a 1080p+720p encode falls behind real time.
pub const LIGHT_LADDER: &str = "\n  encoding:\n    renditions:\n    - {name: 360p, width: 640, height: 360, bitsPerSecond: 800000}\n    - {name: 270p, width: 480, height: 270, bitsPerSecond: 400000}";

/// Waits up to `within` for the master playlist at `hls` to list both rungs of [`LIGHT_LADDER`],
/// then has ffprobe read them.
pub async fn serves_the_light_ladder(hls: &str, within: Duration) {
    eventually("the HLS URL to serve both renditions", within, || async {
        let (code, body) = http_get(hls).await;
        (code == 200 && body.matches("#EXT-X-STREAM-INF").count() == 2).then_some(())
    })
    .await;
    assert_eq!(
        probe_streams(hls).await,
        ["aac nullxnull", "h264 480x270", "h264 640x360"]
    );
}

fn stream(ns: &str, name: &str, version: Option<&str>, extra: &str) -> String {
    let packaging = version.map_or(String::new(), |v| format!("\n  packaging:\n    version: {v}"));
    format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  input:\n    streamName: live/{name}{packaging}{extra}\n"
    )
}

/// The names of the v2 channels in the group, through the AWS CLI.
async fn v2_channels(cli: &Cli<'_>) -> Vec<String> {
    let listed = cli
        .ok(&["mediapackagev2", "list-channels", "--channel-group-name", GROUP])
        .await;
    let items = listed["Items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|c| c["ChannelName"].as_str().unwrap().to_owned())
        .collect()
}

/// The first variant playlist of a master playlist, as an absolute URL.
pub async fn first_variant(master_url: &str) -> String {
    let (_, master) = http_get(master_url).await;
    variant_url(master_url, &master).unwrap_or_else(|| panic!("no variant in {master}"))
}

/// The URL of the first variant `master` (served at `master_url`) lists, if it lists one.
pub fn variant_url(master_url: &str, master: &str) -> Option<String> {
    let variant = master.lines().find(|l| !l.is_empty() && !l.starts_with('#'))?;
    Some(format!("{}/{variant}", master_url.rsplit_once('/').unwrap().0))
}

/// Plays `url` with a third-party player (website/test/play-outputs.mjs: hls.js, Shaka Player or
/// dash.js in headless Chromium) for 15 s: it must start, stall at most `max_stalls` times, and
/// report its own latency within `max_latency` seconds. Up to three viewers join one after another until one passes (on 2
/// cores shared with the encoder and the other stories, a browser can miss a deadline); returns the
/// passing report, or fails with every report.
async fn plays(player: &str, url: &str, low_latency: bool, (max_latency, max_stalls): (f64, u32)) -> Value {
    let mut reports = Vec::new();
    for _ in 0..3 {
        let mut command = Command::new("node");
        command
            .arg(repo_root().join("website/test/play-outputs.mjs"))
            .args(["--player", player, "--url", url, "--watch-s", "15"])
            .args(["--timeout-ms", "45000", "--max-latency-s", &max_latency.to_string()])
            .args(["--max-stalls", &max_stalls.to_string()]);
        if low_latency {
            command.arg("--low-latency");
        }
        let out = command.output().await.expect("node runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: Value = (stdout.lines().rev())
            .find_map(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("no JSON report: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
        if out.status.success() {
            return report;
        }
        reports.push(report);
    }
    panic!("{player} on {url}: {reports:?}");
}

#[tokio::test]
async fn a_v2_stream_plays_hls_low_latency_hls_and_dash_beside_a_v1_stream_that_then_moves_to_v2() {
    let cloud = LocalCloud::start_with_policy(&[], &shipped_policy()).await;
    let cli = Cli { cloud: &cloud };
    let ns = namespace("packaging-v2");
    // A real install's default: new streams get v2.
    let _operator = Operator::start_with(&cloud, &ns, &["--packaging-version", "v2", "--website-bucket", BUCKET]).await;
    allow_public_pages(&cloud.aws.s3, BUCKET).await;

    // A stream that says nothing of packaging gets v2; one that asks for v1 gets v1.
    kubectl_apply(&format!(
        "{}---\n{}",
        stream(&ns, "show", None, LIGHT_LADDER),
        stream(&ns, "classic", Some("v1"), "")
    ));
    for name in ["show", "classic"] {
        kubectl_wait(&ns, "condition=Ready", name, Duration::from_secs(60));
    }
    let show = status(&ns, "show");
    assert_eq!(show["packagingVersion"], "v2");
    let url = |key: &str| {
        show[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {show}"))
            .to_owned()
    };
    let (hls, low_latency, dash) = (url("playbackUrl"), url("lowLatencyPlaybackUrl"), url("dashPlaybackUrl"));
    assert!(hls.ends_with(&format!("/out/v1/{GROUP}/show/hls/index.m3u8")), "{hls}");
    assert!(low_latency.ends_with("/show/llhls/index.m3u8"), "{low_latency}");
    assert!(dash.ends_with("/show/dash/index.mpd"), "{dash}");
    assert_eq!(show["aws"]["originEndpointArns"].as_array().unwrap().len(), 3, "{show}");
    assert!(show["aws"]["mediaPackageChannelId"].is_null(), "nothing of v1: {show}");
    let wide = kubectl_ok(&["get", "lvs", "-n", &ns, "-o", "wide"]);
    assert!(wide.contains(&low_latency) && wide.contains(&dash), "{wide}");
    let classic = status(&ns, "classic");
    assert_eq!(classic["packagingVersion"], "v1");
    assert!(
        classic["playbackUrl"]
            .as_str()
            .unwrap()
            .ends_with("/out/v1/classic-hls/index.m3u8"),
        "{classic}"
    );

    // What the AWS CLI sees: the channel in the group, CMAF ingest, one endpoint per manifest kind.
    let channel = cli
        .ok(&[
            "mediapackagev2",
            "get-channel",
            "--channel-group-name",
            GROUP,
            "--channel-name",
            "show",
        ])
        .await;
    assert_eq!(channel["InputType"], "CMAF");
    let endpoints = cli
        .ok(&[
            "mediapackagev2",
            "list-origin-endpoints",
            "--channel-group-name",
            GROUP,
            "--channel-name",
            "show",
        ])
        .await;
    let mut kinds: Vec<(String, String)> = endpoints["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["OriginEndpointName"].as_str().unwrap().to_owned(),
                e["ContainerType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    let expected = [("dash", "CMAF"), ("hls", "TS"), ("llhls", "CMAF")].map(|(n, c)| (n.to_owned(), c.to_owned()));
    assert_eq!(kinds, expected);

    // Start it and push: every URL plays.
    // Long enough for the player matrix below (killed once it is done).
    let mut publisher = go_live(&ns, "show", 300);
    serves_the_light_ladder(&hls, Duration::from_secs(40)).await;
    let parts = eventually("low-latency HLS parts", Duration::from_secs(30), || async {
        let (code, body) = http_get(&first_variant(&low_latency).await).await;
        (code == 200 && body.contains("#EXT-X-PART:") && body.contains("#EXT-X-PRELOAD-HINT")).then_some(body)
    })
    .await;
    assert!(parts.contains("CAN-BLOCK-RELOAD=YES"), "{parts}");
    // The player page plays the low-latency URL with hls.js in low-latency mode.
    let page = status(&ns, "show")["websiteUrl"].as_str().unwrap().to_owned();
    let playing = check_player(&page, "playing", &[]).await;
    assert_eq!(playing["protocol"], "ll-hls", "{playing}");
    let latency: f64 = playing["latency"]
        .as_str()
        .and_then(|l| l.trim_end_matches(" s").parse().ok())
        .unwrap_or(f64::NAN);
    assert!(latency.is_finite() && latency < 10.0, "seconds behind live: {playing}");
    let mpd = eventually("the DASH manifest", Duration::from_secs(30), || async {
        let (code, body) = http_get(&dash).await;
        (code == 200 && body.contains("<SegmentTimeline")).then_some(body)
    })
    .await;
    assert!(mpd.contains(r#"type="dynamic""#), "{mpd}");
    assert!(!probe_streams(&dash).await.is_empty(), "ffprobe reads the MPD");
    // Every output plays in the players people use: hls.js (HLS, low-latency HLS), Shaka Player
    // (HLS, DASH) and dash.js (DASH), each started, without a stall, at its own latency figure.
    // DASH first: its players hold a latency from the wall clock, so an encoder that falls behind
    // real time on a loaded machine (HLS players follow the playlist's edge) shows there first.
    // dash.js plays at the wall clock minus the MPD's suggestedPresentationDelay: MediaPackage's
    // 10 s leaves room for that (the 6 s livestream-local wrote had it stall 2-5 times in 15 s).
    let matrix = [
        ("dashjs", &dash, false, (30.0, 0)),
        ("shaka", &dash, false, (30.0, 0)),
        ("hlsjs", &low_latency, true, (10.0, 0)),
        ("hlsjs", &hls, false, (30.0, 0)),
        ("shaka", &hls, false, (30.0, 0)),
    ];
    for (player, url, low_latency, bound) in matrix {
        let report = plays(player, url, low_latency, bound).await;
        println!("{player} {url}: {report}");
    }
    patch(&ns, "show", r#"{"running":false}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "show", Duration::from_secs(30));
    let _ = publisher.kill().await;

    // Move the v1 stream to v2 while stopped: v2 serves, then v1 is gone.
    patch(&ns, "classic", r#"{"packaging":{"version":"v2"}}"#);
    eventually("classic to move to v2", Duration::from_secs(60), || async {
        let s = status(&ns, "classic");
        let moved = s["packagingVersion"] == "v2"
            && s["lowLatencyPlaybackUrl"].is_string()
            && s["aws"]["mediaPackageChannelId"].is_null();
        moved.then_some(())
    })
    .await;
    let v1: Value = cli.ok(&["mediapackage", "list-channels"]).await;
    assert_eq!(v1["Channels"].as_array().map_or(0, Vec::len), 0, "v1 left behind: {v1}");
    let channel_id = status(&ns, "classic")["aws"]["channelId"].as_str().unwrap().to_owned();
    let described = cli
        .ok(&["medialive", "describe-channel", "--channel-id", &channel_id])
        .await;
    let destination = &described["Destinations"][0]["MediaPackageSettings"][0];
    assert_eq!(
        (&destination["ChannelGroup"], &destination["ChannelName"]),
        (&Value::from(GROUP), &Value::from("classic"))
    );
    let mut both = v2_channels(&cli).await;
    both.sort();
    assert_eq!(both, ["classic", "show"]);

    // Delete one: its channel goes, the group stays for the other; delete the other: all gone.
    kubectl_ok(&["delete", "lvs", "show", "-n", &ns, "--wait=true", "--timeout=90s"]);
    assert_eq!(v2_channels(&cli).await, ["classic"]);
    kubectl_ok(&["delete", "lvs", "classic", "-n", &ns, "--wait=true", "--timeout=90s"]);
    let gone = cli
        .fails(&["mediapackagev2", "get-channel-group", "--channel-group-name", GROUP])
        .await;
    assert!(gone.contains("ResourceNotFoundException"), "{gone}");
    let channels = cli.ok(&["medialive", "list-channels"]).await;
    assert_eq!(channels["Channels"].as_array().map_or(0, Vec::len), 0, "{channels}");
}
