//! The operator as a platform team runs it: its image (hack/image.sh, from the repository's
//! Dockerfile) as two pods of the Helm chart on a real node (hack/node.sh: kubelet, containerd,
//! runc, CNI), read-only root, non-root, in-cluster config, leader election between the pods.
//! A stream converges and plays; the leader pod is deleted and the standby takes over within the
//! lease duration; `helm upgrade` rolls one pod at a time while the stream plays and a change made
//! mid-rollout is applied once; `kubectl livestream` drives it; pod logs are JSON; `/metrics` is
//! scraped through the Service; `helm uninstall`, in the documented order, leaves nothing in AWS.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{
    event_ops::plugin_ok,
    packaging_v2::{LIGHT_LADDER, first_variant, serves_the_light_ladder},
    support::checks::{assert_exactly_one_each_v2, inventory},
    support::cloud::{LocalCloud, OPERATOR_KEY, ROLE, eventually, http_get, publish, shipped_policy},
    support::node::Node,
    support::tools::Cli,
};

const SYSTEM: &str = "livestream-system";
const NS: &str = "stage";
/// The chart's default lease (`--lease-duration-seconds`).
const LEASE_SECONDS: u64 = 15;

fn show(window: u32) -> String {
    format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: show\n  namespace: {NS}\nspec:\n  running: true\n  website: {{enabled: false}}{LIGHT_LADDER}\n  packaging:\n    hls: {{segmentDurationSeconds: 2, playlistWindowSeconds: {window}}}\n  input:\n    streamName: live/show\n"
    )
}

fn status(node: &Node) -> Value {
    let out = node.kubectl_ok(&["get", "lvs", "show", "-n", NS, "-o", "json"]);
    serde_json::from_str::<Value>(&out).unwrap()["status"].clone()
}

/// The operator pods: (name, ready, image).
fn pods(node: &Node) -> Vec<(String, bool, String)> {
    let out = node.kubectl_ok(&[
        "get",
        "pods",
        "-n",
        SYSTEM,
        "-l",
        "app.kubernetes.io/name=livestream-operator",
        "-o",
        "json",
    ]);
    let list: Value = serde_json::from_str(&out).unwrap();
    (list["items"].as_array().unwrap().iter())
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let ready = (p["status"]["conditions"].as_array().into_iter().flatten())
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            let name = p["metadata"]["name"].as_str().unwrap().to_owned();
            (
                name,
                ready,
                p["spec"]["containers"][0]["image"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn lease_holder(node: &Node) -> String {
    node.kubectl_ok(&[
        "get",
        "lease",
        "livestream-operator",
        "-n",
        SYSTEM,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ])
}

/// How many times the operator updated origin endpoint `endpoint` (its Normal events).
fn endpoint_updates(node: &Node, endpoint: &str) -> u64 {
    let out = node.kubectl_ok(&["get", "events", "-n", NS, "-o", "json"]);
    let events: Value = serde_json::from_str(&out).unwrap();
    let note = format!("origin endpoint {endpoint} to the spec");
    (events["items"].as_array().unwrap().iter())
        .filter(|e| e["reason"] == "UpdatedOriginEndpoint" && e["message"].as_str().unwrap_or("").contains(&note))
        .map(|e| e["count"].as_u64().unwrap_or(1))
        .sum()
}

async fn manifest_window(cli: &Cli<'_>, endpoint: &str) -> i64 {
    let described = cli
        .ok(&[
            "mediapackagev2",
            "get-origin-endpoint",
            "--channel-group-name",
            "livestream",
            "--channel-name",
            "show",
            "--origin-endpoint-name",
            endpoint,
        ])
        .await;
    described["HlsManifests"][0]["ManifestWindowSeconds"]
        .as_i64()
        .unwrap_or_default()
}

/// The newest segment of a media playlist.
async fn newest_segment(media_playlist: &str) -> Option<String> {
    let (code, body) = http_get(media_playlist).await;
    (code == 200).then(|| {
        body.lines()
            .rev()
            .find(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_owned)
    })?
}

#[tokio::test]
async fn helm_installs_two_pods_that_fail_over_roll_and_uninstall_leaving_nothing_in_aws() {
    let node = Node::start();
    let cloud = LocalCloud::start_with_policy(&[], &shipped_policy()).await;
    let cli = Cli { cloud: &cloud };
    let port: u16 = cloud
        .endpoint
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let endpoint = node.expose(port);
    let (repository, tag) = node.import_operator_image(&["next"]);

    // Install as the README says, with the keys in a Secret and the endpoint of livestream-local.
    node.kubectl_ok(&["create", "namespace", SYSTEM]);
    node.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "aws-credentials",
        "-n",
        SYSTEM,
        &format!("--from-literal=AWS_ACCESS_KEY_ID={}", OPERATOR_KEY.0),
        &format!("--from-literal=AWS_SECRET_ACCESS_KEY={}", OPERATOR_KEY.1),
    ]);
    let installing = Instant::now();
    node.helm_ok(&[
        "install",
        "livestream-operator",
        "deploy/helm/livestream-operator",
        "-n",
        SYSTEM,
        "--set",
        &format!("image.repository={repository},image.tag={tag},image.pullPolicy=Never"),
        "--set",
        &format!("aws.endpointUrl={endpoint},aws.credentialsSecret=aws-credentials"),
        "--set",
        &format!("mediaLiveRoleArn={ROLE},websiteBucket=,delivery=Direct"),
    ]);
    let ready = eventually(
        "two operator pods Running and Ready",
        Duration::from_secs(120),
        || async {
            let pods = pods(&node);
            (pods.len() == 2 && pods.iter().all(|p| p.1)).then_some(pods)
        },
    )
    .await;
    println!(
        "helm install -> 2 pods Ready: {:.1} s",
        installing.elapsed().as_secs_f64()
    );
    let leader = lease_holder(&node);
    assert!(
        ready.iter().any(|p| p.0 == leader),
        "the lease is held by one of {ready:?}: {leader}"
    );
    let standby = ready.iter().find(|p| p.0 != leader).unwrap().0.clone();
    let standby_log = node.kubectl_ok(&["logs", "-n", SYSTEM, &standby]);
    assert!(
        standby_log.contains("standing by until this replica holds the lease")
            && !standby_log.contains("holding the lease: reconciling"),
        "only the lease holder reconciles: {standby_log}"
    );

    // A stream converges, starts and plays.
    node.kubectl_ok(&["create", "namespace", NS]);
    node.apply(&show(30));
    let ingest = eventually(
        "the stream RUNNING with an ingest URL",
        Duration::from_secs(90),
        || async {
            let s = status(&node);
            (s["state"] == "RUNNING").then(|| s["ingestUrl"].as_str().map(str::to_owned))?
        },
    )
    .await;
    let mut encoder = publish(&ingest, 900);
    let hls = status(&node)["playbackUrl"].as_str().unwrap().to_owned();
    serves_the_light_ladder(&hls, Duration::from_secs(60)).await;
    let uid = node.kubectl_ok(&["get", "lvs", "show", "-n", NS, "-o", "jsonpath={.metadata.uid}"]);
    assert_exactly_one_each_v2(&cloud.aws, std::slice::from_ref(&uid)).await;

    // The leader pod goes (a drain, a node failure); the standby takes over and applies a change
    // made at that moment, within the lease duration.
    let gone = Instant::now();
    node.kubectl_ok(&["delete", "pod", &leader, "-n", SYSTEM, "--wait=false"]);
    node.apply(&show(40));
    eventually(
        "the standby to apply the change",
        Duration::from_secs(LEASE_SECONDS + 15),
        || async {
            let holder = lease_holder(&node);
            (holder != leader && !holder.is_empty() && manifest_window(&cli, "hls").await == 40).then_some(())
        },
    )
    .await;
    let failover = gone.elapsed();
    println!(
        "leader pod deleted -> standby applied a change: {:.1} s",
        failover.as_secs_f64()
    );
    assert!(
        failover < Duration::from_secs(LEASE_SECONDS),
        "failover took {failover:?}"
    );
    // No duplicate AWS resource: one of each kind, all the stream's.
    assert_exactly_one_each_v2(&cloud.aws, std::slice::from_ref(&uid)).await;
    assert_eq!(endpoint_updates(&node, "hls"), 1);

    // `helm upgrade` to another tag: one pod at a time (the PodDisruptionBudget's one), the stream
    // plays throughout, and a change made mid-rollout is applied once.
    eventually("two pods Ready again", Duration::from_secs(90), || async {
        let pods = pods(&node);
        (pods.len() == 2 && pods.iter().all(|p| p.1)).then_some(())
    })
    .await;
    let media = first_variant(&hls).await;
    node.helm_ok(&[
        "upgrade",
        "livestream-operator",
        "deploy/helm/livestream-operator",
        "-n",
        SYSTEM,
        "--reuse-values",
        "--set",
        "image.tag=next",
    ]);
    // Watched through the rollout and for 20 s from the upgrade at least, sampling about once a
    // second: 2 s segments must keep coming.
    let (mut changed, mut last_segment, mut last_new) = (false, None, Instant::now());
    let (mut longest_still, mut new_segments, mut rollout) = (Duration::ZERO, 0, None);
    let upgrading = Instant::now();
    while rollout.is_none() || upgrading.elapsed() < Duration::from_secs(20) {
        let pods = pods(&node);
        let ready = pods.iter().filter(|p| p.1).count();
        // One pod at a time: at most one surge pod, at most one not Ready, never none Ready.
        assert!(
            ready >= 1 && pods.len() - ready <= 1 && pods.len() <= 3,
            "one pod at a time: {pods:?}"
        );
        let upgraded = pods.iter().filter(|p| p.2.ends_with(":next")).count();
        if upgraded >= 1 && !changed {
            node.apply(&show(50));
            changed = true;
        }
        if rollout.is_none() && upgraded == 2 && pods.len() == 2 && ready == 2 {
            rollout = Some(upgrading.elapsed());
        }
        let segment = newest_segment(&media).await;
        if segment.is_some() && segment != last_segment {
            (last_segment, last_new, new_segments) = (segment, Instant::now(), new_segments + 1);
        }
        longest_still = longest_still.max(last_new.elapsed());
        assert_eq!(
            status(&node)["state"],
            "RUNNING",
            "the channel runs through the rollout"
        );
        assert!(
            upgrading.elapsed() < Duration::from_secs(180),
            "rollout stuck: {pods:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let rollout = rollout.unwrap();
    println!(
        "helm upgrade rolled 2 pods in {:.1} s; in {:.0} s the playlist gained {new_segments} segments, none older than {:.1} s",
        rollout.as_secs_f64(),
        upgrading.elapsed().as_secs_f64(),
        longest_still.as_secs_f64()
    );
    assert!(
        longest_still < Duration::from_secs(8) && new_segments >= 5,
        "the stream kept playing"
    );
    eventually("the mid-rollout change applied", Duration::from_secs(30), || async {
        (manifest_window(&cli, "hls").await == 50).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(endpoint_updates(&node, "hls"), 2, "each change applied once");
    assert_exactly_one_each_v2(&cloud.aws, std::slice::from_ref(&uid)).await;

    // `/metrics` through the Service: the leader's reconciles among what the replicas expose.
    let metrics = eventually(
        "the leader's metrics through the Service",
        Duration::from_secs(30),
        || async {
            let path =
                format!("/api/v1/namespaces/{SYSTEM}/services/livestream-operator-metrics:http-metrics/proxy/metrics");
            let body = node.kubectl_ok(&["get", "--raw", &path]);
            body.contains("livestream_operator_reconciles_total{").then_some(body)
        },
    )
    .await;
    assert!(metrics.contains("livestream_operator_aws_calls_total{"), "{metrics}");
    assert!(metrics.contains("livestream_operator_channels_running 1"), "{metrics}");

    // Pod logs are JSON, one object a line.
    let logs = node.kubectl_ok(&[
        "logs",
        "-n",
        SYSTEM,
        "-l",
        "app.kubernetes.io/name=livestream-operator",
        "--tail=-1",
    ]);
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "the pods log");
    for line in &lines {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(entry["level"].is_string() && entry["fields"].is_object(), "{line}");
    }
    assert!(!logs.contains(OPERATOR_KEY.1), "no secret in the logs");

    // kubectl livestream, against the pods: stop, wait, status.
    let env = [("KUBECONFIG", node.kubeconfig())];
    plugin_ok(&["stop", "show", "-n", NS], &env);
    plugin_ok(
        &["wait", "show", "-n", NS, "--for", "stopped", "--timeout", "60s"],
        &env,
    );
    let screen = plugin_ok(&["status", "show", "-n", NS], &env);
    assert!(screen.contains("IDLE"), "{screen}");
    let _ = encoder.kill().await;

    // Uninstall in the documented order: the streams (their finalizers stop and delete the AWS
    // resources), then the release, then the CRDs.
    node.kubectl_ok(&["delete", "lvs", "--all", "-n", NS, "--wait=true", "--timeout=120s"]);
    node.helm_ok(&["uninstall", "livestream-operator", "-n", SYSTEM, "--wait"]);
    node.kubectl_ok(&["delete", "-f", "crds/livestream.yaml", "--wait=true"]);
    for (kind, owners) in inventory(&cloud.aws).await {
        assert!(owners.is_empty(), "{kind} left in AWS: {owners:?}");
    }
    let groups = cli.ok(&["mediapackagev2", "list-channel-groups"]).await;
    assert_eq!(groups["Items"].as_array().map_or(0, Vec::len), 0, "{groups}");
    eventually("no operator pod left", Duration::from_secs(60), || async {
        pods(&node).is_empty().then_some(())
    })
    .await;
}
