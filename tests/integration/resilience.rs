//! Crashes and a hostile AWS: the operator is killed right after each mutating AWS call in turn
//! (the call took effect, its answer never arrived), and 50 streams converge through injected
//! throttling and 5xx errors. Afterwards there is exactly one of each resource, and after delete none.

use std::time::Duration;

use kube::{Api, ResourceExt, api::PostParams};
use livestream_operator::api::{LiveStream, LiveStreamSpec};
use serde_json::json;

use crate::{
    support::checks::{assert_exactly_one_each, assert_exactly_one_each_cloudfront, assert_exactly_one_each_v2},
    support::cloud::{LocalCloud, eventually},
    support::cluster::{kubectl_ok, namespace},
    support::operator::{Operator, kubectl_wait, streams},
};

/// The mutating calls of one stream's life: create five resources (the channel after a dry run of
/// its create, which livestream-local counts like any CreateChannel) and start; stop and delete five.
const APPLY_MUTATIONS: u64 = 7;
const DELETE_MUTATIONS: u64 = 6;
/// With MediaPackage v2: the group, the channel, three endpoints, the security group, input and
/// channel (and its dry run), and start; stop, delete the channel, input, group, three endpoints, v2 channel, group.
const APPLY_MUTATIONS_V2: u64 = 10;
const DELETE_MUTATIONS_V2: u64 = 9;
/// v1 through CloudFront with a player page: the origin access control and the distribution
/// besides the v1 calls; on delete, disable the distribution, then (once deployed) delete it and the
/// origin access control besides the six.
const APPLY_MUTATIONS_CDN: u64 = 9;
const DELETE_MUTATIONS_CDN: u64 = 9;
/// v1 with an SRT input: the passphrase's secret besides the v1 calls, created before the input and
/// deleted after it.
const APPLY_MUTATIONS_SRT: u64 = 8;
const DELETE_MUTATIONS_SRT: u64 = 7;

async fn faults(cloud: &LocalCloud, body: serde_json::Value) {
    let (status, answer) = cloud.admin("PUT", "/_local/faults", &body).await;
    assert_eq!(status, 200, "{answer}");
}

async fn wait_held(cloud: &LocalCloud, n: u64) {
    eventually(
        &format!("mutating call {n} to be held"),
        Duration::from_secs(30),
        || async {
            let (_, body) = cloud.get("/_local/hold").await;
            let hold: serde_json::Value = serde_json::from_str(&body).ok()?;
            (hold["held"] == true).then_some(())
        },
    )
    .await;
}

async fn create(api: &Api<LiveStream>, name: &str, running: bool) -> String {
    create_packaged(api, name, running, "v1").await
}

/// `version` v1, v2, or cdn: v1 delivered through CloudFront.
async fn create_packaged(api: &Api<LiveStream>, name: &str, running: bool, version: &str) -> String {
    let srt = version == "srt";
    let (version, delivery) = match version {
        "cdn" => ("v1", "CloudFront"),
        "srt" => ("v1", "Direct"),
        other => (other, "Direct"),
    };
    let mut input = json!({"allowedCidrs": ["127.0.0.0/8"]});
    if srt {
        input["protocol"] = json!("SRT");
        input["srt"] = json!({"passphraseSecretRef": {"name": "srt-passphrase"}});
    }
    let spec: LiveStreamSpec = serde_json::from_value(json!({
        "running": running,
        "input": input,
        "packaging": {"version": version},
        "delivery": {"mode": delivery}
    }))
    .unwrap();
    api.create(&PostParams::default(), &LiveStream::new(name, spec))
        .await
        .unwrap()
        .uid()
        .unwrap()
}

/// Exactly one of each of `version`'s resources per uid, and nothing else.
async fn assert_one_each(cloud: &LocalCloud, version: &str, uids: &[String]) {
    match version {
        "v2" => assert_exactly_one_each_v2(&cloud.aws, uids).await,
        "cdn" => assert_exactly_one_each_cloudfront(&cloud.aws, uids).await,
        "srt" => crate::support::checks::assert_exactly_one_each_srt(&cloud.aws, uids).await,
        _ => assert_exactly_one_each(&cloud.aws, uids).await,
    }
}

/// Kills the operator right after each mutating call of a stream's apply, then of its delete, in
/// turn; a restarted operator finishes the job, with exactly one of each and then nothing left.
async fn crash_after_each_call(cloud: &LocalCloud, ns: &str, version: &str, apply: u64, delete: u64) {
    let api = streams(ns).await;
    // Through CloudFront, with a player page: its bucket origin signs with an origin access control.
    let extra: &[&str] = if version == "cdn" {
        &["--website-bucket", crate::website::BUCKET]
    } else {
        &[]
    };
    let start = || Operator::start_with(cloud, ns, extra);
    if version == "srt" {
        crate::least_privilege::passphrase(ns, "crash-passphrase-1");
    }
    for n in 1..=apply {
        let name = format!("apply-crash-{n}");
        faults(cloud, json!({"holdAfterMutations": n})).await;
        let mut operator = start().await;
        let uid = create_packaged(&api, &name, true, version).await;
        wait_held(cloud, n).await;
        operator.kill().await;
        faults(cloud, json!({})).await;
        let _restarted = start().await;
        kubectl_wait(ns, "jsonpath={.status.state}=RUNNING", &name, Duration::from_secs(60));
        assert_one_each(cloud, version, std::slice::from_ref(&uid)).await;
        kubectl_ok(&["delete", "lvs", &name, "-n", ns, "--timeout", "60s"]);
        assert_one_each(cloud, version, &[]).await;
    }
    for n in 1..=delete {
        let name = format!("delete-crash-{n}");
        let mut operator = start().await;
        create_packaged(&api, &name, true, version).await;
        kubectl_wait(ns, "jsonpath={.status.state}=RUNNING", &name, Duration::from_secs(60));
        faults(cloud, json!({"holdAfterMutations": n})).await;
        kubectl_ok(&["delete", "lvs", &name, "-n", ns, "--wait=false"]);
        wait_held(cloud, n).await;
        operator.kill().await;
        faults(cloud, json!({})).await;
        let _restarted = start().await;
        kubectl_ok(&[
            "wait",
            "--for=delete",
            &format!("lvs/{name}"),
            "-n",
            ns,
            "--timeout",
            "60s",
        ]);
        assert_one_each(cloud, version, &[]).await;
    }
}

#[tokio::test]
async fn a_crash_after_any_mutating_call_leaves_no_duplicate_and_no_orphan() {
    let cloud = LocalCloud::start(&[]).await;
    crash_after_each_call(&cloud, &namespace("crash"), "v1", APPLY_MUTATIONS, DELETE_MUTATIONS).await;
}

#[tokio::test]
async fn a_crash_after_any_cloudfront_call_leaves_no_duplicate_and_no_orphan() {
    let cloud = LocalCloud::start(&["--cloudfront-deploy-seconds", "1"]).await;
    let ns = namespace("crash-cdn");
    crash_after_each_call(&cloud, &ns, "cdn", APPLY_MUTATIONS_CDN, DELETE_MUTATIONS_CDN).await;
}

#[tokio::test]
async fn a_crash_after_any_srt_stream_call_leaves_no_duplicate_and_no_orphan_secret() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("crash-srt");
    crash_after_each_call(&cloud, &ns, "srt", APPLY_MUTATIONS_SRT, DELETE_MUTATIONS_SRT).await;
}

#[tokio::test]
async fn a_crash_after_any_mediapackage_v2_call_leaves_no_duplicate_and_no_orphan() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("crash-v2");
    crash_after_each_call(&cloud, &ns, "v2", APPLY_MUTATIONS_V2, DELETE_MUTATIONS_V2).await;
    // The group went with the last channel.
    let group = cloud
        .aws
        .mediapackagev2
        .get_channel_group()
        .channel_group_name("livestream")
        .send()
        .await;
    assert!(group.is_err(), "the channel group is left: {group:?}");
}

#[tokio::test]
async fn fifty_streams_converge_through_throttling_and_errors_without_duplicates() {
    // Fifty streams are over MediaLive's default quotas (5 channels, push inputs and input
    // security groups) and MediaPackage v1's (30 channels): raised, as one asks AWS to.
    let quotas = "channels=60,pushInputs=60,inputSecurityGroups=60";
    let cloud = LocalCloud::start(&[
        "--error-rate",
        "0.2",
        "--throttle",
        "*=40",
        "--medialive-quotas",
        quotas,
        "--mediapackage-quotas",
        "channels=50",
    ])
    .await;
    let ns = namespace("fifty");
    let api = streams(&ns).await;
    let _operator = Operator::start(&cloud, &ns).await;
    let mut uids = Vec::new();
    for i in 0..50 {
        uids.push(create(&api, &format!("stream-{i:02}"), false).await);
    }
    eventually("all 50 streams Ready", Duration::from_secs(180), || async {
        let list = api.list(&Default::default()).await.ok()?;
        let ready = list
            .items
            .iter()
            .filter(|s| {
                s.status.as_ref().is_some_and(|st| {
                    st.conditions.iter().any(|c| {
                        c.type_ == "Ready" && c.status == "True" && c.observed_generation == s.metadata.generation
                    })
                })
            })
            .count();
        (ready == 50).then_some(())
    })
    .await;
    // Count with faults off, so the test's own reads are exact.
    faults(&cloud, json!({})).await;
    assert_exactly_one_each(&cloud.aws, &uids).await;
    let (_, calls) = cloud.get("/_local/calls").await;
    assert!(
        calls.contains("TooManyRequestsException") || calls.contains("InternalServerErrorException"),
        "faults were injected: {calls}"
    );

    faults(&cloud, json!({"errorRate": 0.2})).await;
    kubectl_ok(&["delete", "lvs", "--all", "-n", &ns, "--timeout", "180s"]);
    faults(&cloud, json!({})).await;
    assert_exactly_one_each(&cloud.aws, &[]).await;
}
