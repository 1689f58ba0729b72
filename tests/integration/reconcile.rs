//! The operator end to end, as a user drives it: apply, read the URLs, start, push a stream and play
//! it, edit, stop, delete — and AWS (livestream-local, read back through the AWS API) follows.

use std::{collections::HashMap, time::Duration};

use kube::ResourceExt;
use serde_json::Value;
use tokio::process::Command;

use crate::{
    support::checks::assert_exactly_one_each,
    support::cloud::{LocalCloud, eventually, http_get, publish},
    support::cluster::{kubectl, kubectl_ok, namespace},
    support::operator::{Operator, kubectl_wait, patch, status, streams},
};

#[tokio::test]
async fn apply_start_play_stop_and_delete_while_running() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("story");
    let operator = Operator::start(&cloud, &ns).await;

    // apply → Ready, with the URLs in `kubectl get lvs -o wide`.
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/livestream.yaml"]);
    kubectl_wait(&ns, "condition=Ready", "launch-event", Duration::from_secs(60));
    let wide = kubectl_ok(&["get", "lvs", "-n", &ns, "-o", "wide"]);
    let s = status(&ns, "launch-event");
    let (ingest, playback) = (
        s["ingestUrl"].as_str().unwrap().to_owned(),
        s["playbackUrl"].as_str().unwrap().to_owned(),
    );
    assert!(
        ingest.starts_with("rtmp://127.0.0.1:") && ingest.ends_with("/live/launch-event"),
        "{ingest}"
    );
    assert!(
        wide.contains(&ingest) && wide.contains(&playback) && wide.contains("IDLE"),
        "{wide}"
    );
    assert_eq!(s["state"], "IDLE");
    // Argo CD sees a stopped channel as Suspended, not Healthy.
    let object: serde_json::Value =
        serde_json::from_str(&kubectl_ok(&["get", "lvs", "launch-event", "-n", &ns, "-o", "json"])).unwrap();
    assert_eq!(crate::gitops::argocd_health(&object).0, "Suspended");

    // The resources exist in AWS with the spec's values.
    let aws = &cloud.aws;
    let uid = streams(&ns).await.get("launch-event").await.unwrap().uid().unwrap();
    assert_exactly_one_each(aws, std::slice::from_ref(&uid)).await;
    let endpoint = aws
        .mediapackage
        .describe_origin_endpoint()
        .id("launch-event-hls")
        .send()
        .await
        .unwrap();
    let hls = endpoint.hls_package.unwrap();
    assert_eq!(
        (hls.segment_duration_seconds, hls.playlist_window_seconds),
        (Some(5), Some(60))
    );
    let channel_id = s["aws"]["channelId"].as_str().unwrap();
    let channel = aws
        .medialive
        .describe_channel()
        .channel_id(channel_id)
        .send()
        .await
        .unwrap();
    let ladder: Vec<_> = channel
        .encoder_settings
        .unwrap()
        .video_descriptions
        .unwrap()
        .iter()
        .map(|v| (v.width.unwrap(), v.height.unwrap()))
        .collect();
    assert_eq!(ladder, [(1920, 1080), (1280, 720)]);

    // running: true → RUNNING; a pushed stream plays as two-rendition HLS.
    patch(&ns, "launch-event", r#"{"running":true}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "launch-event",
        Duration::from_secs(30),
    );
    assert!(status(&ns, "launch-event")["runningSince"].is_string());
    let mut publisher = publish(&ingest, 60);
    let master = eventually("the playback URL to serve HLS", Duration::from_secs(40), || async {
        let (code, body) = http_get(&playback).await;
        (code == 200 && body.matches("#EXT-X-STREAM-INF").count() == 2).then_some(body)
    })
    .await;
    // Running with an encoder pushing: Argo CD calls it Healthy.
    eventually("Argo CD's Healthy", Duration::from_secs(20), || async {
        let object: serde_json::Value =
            serde_json::from_str(&kubectl_ok(&["get", "lvs", "launch-event", "-n", &ns, "-o", "json"])).unwrap();
        (crate::gitops::argocd_health(&object).0 == "Healthy").then_some(())
    })
    .await;
    // VIDEO_BITRATE_DESCENDING in the example: 1080p first.
    let first = master.lines().find(|l| l.starts_with("#EXT-X-STREAM-INF")).unwrap();
    assert!(first.contains("RESOLUTION=1920x1080"), "{master}");
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width",
            "-of",
            "csv=p=0",
            &playback,
        ])
        .output()
        .await
        .unwrap();
    let widths = String::from_utf8_lossy(&probe.stdout);
    assert!(
        widths.contains("1920") && widths.contains("1280"),
        "ffprobe sees {widths}"
    );

    // running: false → IDLE.
    patch(&ns, "launch-event", r#"{"running":false}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=IDLE",
        "launch-event",
        Duration::from_secs(30),
    );
    let _ = publisher.kill().await;

    // Delete while RUNNING: the channel is stopped first, then everything goes.
    patch(&ns, "launch-event", r#"{"running":true}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "launch-event",
        Duration::from_secs(30),
    );
    kubectl_ok(&["delete", "lvs", "launch-event", "-n", &ns, "--timeout", "60s"]);
    assert_exactly_one_each(aws, &[]).await;
    // Everything the operator called is granted by the documented least-privilege IAM policy.
    crate::deploy::assert_policy_grants(&operator.metrics().await);
    let log = operator.log_text();
    let stop = log.find("Stopping MediaLive channel").expect("the channel was stopped");
    let delete = log.find("Deleting MediaLive channel").expect("the channel was deleted");
    assert!(stop < delete, "stopped before deleting");
    let events = kubectl_ok(&["get", "events", "-n", &ns, "-o", "jsonpath={.items[*].reason}"]);
    for reason in [
        "CreatedChannel",
        "StartingChannel",
        "StoppingChannel",
        "DeletingChannel",
    ] {
        assert!(events.contains(reason), "event {reason} missing: {events}");
    }
}

#[tokio::test]
async fn spec_edits_and_console_drift_are_applied_to_aws() {
    // New MediaPackage channels stay invisible to MediaLive for 1.5 s, as right after creation on AWS.
    let cloud = LocalCloud::start(&["--consistency-delay-ms", "1500"]).await;
    let ns = namespace("edits");
    let _operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
    let aws = &cloud.aws;
    let group_id = status(&ns, "minimal")["aws"]["inputSecurityGroupId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Window and CIDRs: edited in the spec, updated in AWS.
    patch(
        &ns,
        "minimal",
        r#"{"packaging":{"hls":{"playlistWindowSeconds":120}},"input":{"allowedCidrs":["203.0.113.0/24","127.0.0.0/8"]}}"#,
    );
    eventually("AWS to follow the edit", Duration::from_secs(20), || async {
        let hls = aws
            .mediapackage
            .describe_origin_endpoint()
            .id("minimal-hls")
            .send()
            .await
            .ok()?
            .hls_package?;
        let group = aws
            .medialive
            .describe_input_security_group()
            .input_security_group_id(&group_id)
            .send()
            .await
            .ok()?;
        let cidrs: Vec<_> = group.whitelist_rules().iter().filter_map(|r| r.cidr.clone()).collect();
        (hls.playlist_window_seconds == Some(120) && cidrs.len() == 2).then_some(())
    })
    .await;

    // Someone edits the endpoint in the console: corrected within the resync period.
    let drifted = aws_sdk_mediapackage::types::HlsPackage::builder()
        .segment_duration_seconds(5)
        .playlist_window_seconds(600)
        .build();
    aws.mediapackage
        .update_origin_endpoint()
        .id("minimal-hls")
        .hls_package(drifted)
        .send()
        .await
        .unwrap();
    eventually("the drift to be corrected", Duration::from_secs(20), || async {
        let hls = aws
            .mediapackage
            .describe_origin_endpoint()
            .id("minimal-hls")
            .send()
            .await
            .ok()?
            .hls_package?;
        (hls.playlist_window_seconds == Some(120)).then_some(())
    })
    .await;

    // A rendition change while running, updatePolicy Manual: reported, the channel keeps running.
    patch(&ns, "minimal", r#"{"running":true}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "minimal",
        Duration::from_secs(30),
    );
    let channel_id = status(&ns, "minimal")["aws"]["channelId"].as_str().unwrap().to_owned();
    let ladder = |id: String| async move {
        let channel = aws.medialive.describe_channel().channel_id(id).send().await.unwrap();
        channel
            .encoder_settings
            .unwrap()
            .video_descriptions
            .unwrap()
            .iter()
            .map(|v| v.width.unwrap())
            .collect::<Vec<_>>()
    };
    patch(
        &ns,
        "minimal",
        r#"{"encoding":{"renditions":[{"name":"720p","width":1280,"height":720,"bitsPerSecond":3000000}]}}"#,
    );
    eventually("the pending update to be reported", Duration::from_secs(20), || async {
        let conditions = status(&ns, "minimal")["conditions"].clone();
        let ready = conditions.as_array()?.iter().find(|c| c["type"] == "Ready")?.clone();
        (ready["reason"] == "UpdatePending").then_some(())
    })
    .await;
    assert_eq!(status(&ns, "minimal")["state"], "RUNNING");
    assert_eq!(
        ladder(channel_id.clone()).await,
        [1920, 1280],
        "Manual: not applied while running"
    );

    // updatePolicy Restart: stopped, updated, started again.
    patch(&ns, "minimal", r#"{"updatePolicy":"Restart"}"#);
    kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
    assert_eq!(status(&ns, "minimal")["state"], "RUNNING");
    assert_eq!(ladder(channel_id).await, [1280]);
    let events = kubectl_ok(&["get", "events", "-n", &ns, "-o", "jsonpath={.items[*].reason}"]);
    assert!(
        events.contains("RestartingChannel") && events.contains("UpdatedChannel"),
        "{events}"
    );

    kubectl_ok(&["delete", "lvs", "minimal", "-n", &ns, "--timeout", "60s"]);
    assert_exactly_one_each(aws, &[]).await;
}

#[tokio::test]
async fn max_run_duration_stops_a_forgotten_channel() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("guard");
    let _operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    patch(&ns, "minimal", r#"{"running":true,"maxRunDuration":"3s"}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "minimal",
        Duration::from_secs(60),
    );
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "minimal", Duration::from_secs(30));
    let stopped = status(&ns, "minimal")["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Stopped")
        .cloned()
        .unwrap();
    assert_eq!(
        (stopped["status"].as_str(), stopped["reason"].as_str()),
        (Some("True"), Some("MaxRunDurationExceeded"))
    );
    // It stays stopped although spec.running is still true.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(status(&ns, "minimal")["state"], "IDLE");
    let events = kubectl_ok(&[
        "get",
        "events",
        "-n",
        &ns,
        "--field-selector",
        "type=Warning",
        "-o",
        "jsonpath={.items[*].reason}",
    ]);
    assert!(events.contains("MaxRunDurationExceeded"), "{events}");
    // false → true starts it again.
    patch(&ns, "minimal", r#"{"running":false}"#);
    patch(&ns, "minimal", r#"{"running":true,"maxRunDuration":"1h"}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "minimal",
        Duration::from_secs(30),
    );
    kubectl_ok(&["delete", "lvs", "minimal", "-n", &ns, "--timeout", "60s"]);
    assert!(kubectl(&["get", "lvs", "minimal", "-n", &ns]).status.code() != Some(0));
}

#[tokio::test]
async fn a_steady_stream_costs_a_handful_of_reads_per_resync() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("budget");
    let operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
    tokio::time::sleep(Duration::from_secs(1)).await;

    let calls = || async {
        let (_, body) = cloud.get("/_local/calls").await;
        let rows: Vec<Value> = serde_json::from_str(&body).unwrap();
        rows.into_iter()
            .map(|r| {
                (
                    r["operation"].as_str().unwrap().to_owned(),
                    r["count"].as_u64().unwrap(),
                )
            })
            .fold(HashMap::new(), |mut all: HashMap<String, u64>, (op, n)| {
                *all.entry(op).or_default() += n;
                all
            })
    };
    let before = calls().await;
    // Resync is 3 s (±10 %) in the tests: about three steady passes.
    tokio::time::sleep(Duration::from_secs(9)).await;
    let after = calls().await;
    let spent: HashMap<&String, u64> = after
        .iter()
        .map(|(op, n)| (op, n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(
        spent
            .keys()
            .all(|op| op.starts_with("Describe") || op.starts_with("List")),
        "a steady pass only reads: {spent:?}"
    );
    // One stream alone: each pass lists the four kinds a List fully describes (a listing would
    // serve every other stream too) and describes its channel (summaries lack the ladder).
    let total: u64 = spent.values().sum();
    assert!(
        (5..=20).contains(&total),
        "five reads per pass, about three passes: {spent:?}"
    );
    let describes = spent.iter().filter(|(op, _)| op.starts_with("Describe"));
    assert!(
        describes.clone().all(|(op, _)| op.as_str() == "DescribeChannel"),
        "only the channel is described in steady state: {spent:?}"
    );

    // The operator's own metrics count the same calls, per operation and per reconcile.
    let metrics = operator.metrics().await;
    for needle in [
        r#"livestream_operator_aws_calls_total{service="medialive",operation="DescribeChannel",outcome="ok"}"#,
        "livestream_operator_aws_calls_per_reconcile_bucket",
        r#"livestream_operator_reconciles_total{outcome="ok"}"#,
        "livestream_operator_reconcile_duration_seconds_count",
    ] {
        assert!(metrics.contains(needle), "metrics lack {needle}:\n{metrics}");
    }
}

#[tokio::test]
async fn a_name_taken_in_aws_is_reported_and_never_adopted_or_deleted() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("clash");
    let _operator = Operator::start(&cloud, &ns).await;
    // Someone else's MediaPackage channel already uses the id.
    cloud
        .aws
        .mediapackage
        .create_channel()
        .id("minimal")
        .send()
        .await
        .unwrap();
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    let degraded = eventually("the clash to be reported", Duration::from_secs(20), || async {
        let conditions = status(&ns, "minimal")["conditions"].clone();
        conditions
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Degraded" && c["status"] == "True")
            .cloned()
    })
    .await;
    assert_eq!(degraded["reason"], "NameConflict");
    assert!(
        degraded["message"]
            .as_str()
            .unwrap()
            .contains("choose another spec.channelId"),
        "{degraded}"
    );
    let warnings = kubectl_ok(&[
        "get",
        "events",
        "-n",
        &ns,
        "--field-selector",
        "type=Warning",
        "-o",
        "jsonpath={.items[*].reason}",
    ]);
    assert!(warnings.contains("NameConflict"), "{warnings}");

    kubectl_ok(&["delete", "lvs", "minimal", "-n", &ns, "--timeout", "60s"]);
    let still = cloud.aws.mediapackage.describe_channel().id("minimal").send().await;
    assert!(still.is_ok(), "the foreign channel is left alone");
}

#[tokio::test]
async fn a_role_the_operator_may_not_pass_is_reported_with_the_role_and_the_permission() {
    // The operator's policy lets it pass only another role.
    let mut policy = crate::support::cloud::shipped_policy();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        if statement["Action"] == "iam:PassRole" {
            statement["Resource"] = "arn:aws:iam::123456789012:role/SomeOtherRole".into();
        }
    }
    let cloud = LocalCloud::start_with_policy(&[], &policy).await;
    let ns = namespace("passrole");
    let _operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    let degraded = eventually(
        "the PassRole refusal to be reported",
        Duration::from_secs(90),
        || async {
            let conditions = status(&ns, "minimal")["conditions"].clone();
            conditions
                .as_array()?
                .iter()
                .find(|c| c["type"] == "Degraded" && c["status"] == "True" && c["reason"] == "AwsError")
                .cloned()
        },
    )
    .await;
    let message = degraded["message"].as_str().unwrap();
    for part in [
        "\"iam:PassRole\"",
        "arn:aws:iam::123456789012:role/MediaLiveAccessRole",
        "iam:PassedToService medialive.amazonaws.com",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert!(
        status(&ns, "minimal")["aws"]["channelId"].is_null(),
        "no channel was created"
    );
}
