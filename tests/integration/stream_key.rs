//! A stream key kept in a Secret: the namespace grants the operator that one Secret (following the
//! operator's own instructions), the encoder publishes with it, it is rotated, and it shows up in
//! no status, event, log line or metric.

use std::time::Duration;

use serde_json::Value;

use crate::{
    support::checks::{assert_exactly_one_each, inventory},
    support::cloud::{LocalCloud, eventually, http_get, publish},
    support::cluster::{admin_kubeconfig, kubectl_apply, kubectl_ok, namespace},
    support::operator::{Operator, kubectl_wait, patch, status},
};

fn manifest(ns: &str) -> String {
    format!(
        r#"apiVersion: media.livestream.io/v1alpha1
kind: LiveStream
metadata:
  name: keyed
  namespace: {ns}
spec:
  input:
    streamName: live/not-the-key
    streamKeySecretRef:
      name: obs-key
  packaging:
    hls: {{ segmentDurationSeconds: 2, playlistWindowSeconds: 10 }}
  encoding:
    renditions:
      - {{ name: 360p, width: 640, height: 360, bitsPerSecond: 800000 }}
"#
    )
}

/// A key like a user would generate, different in every run.
fn random_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Waits until the Degraded condition has `reason`; returns its message.
async fn degraded_with(ns: &str, reason: &str) -> String {
    eventually(&format!("Degraded={reason}"), Duration::from_secs(30), || async {
        let s = status(ns, "keyed");
        let conditions = s["conditions"].as_array()?.clone();
        let degraded = conditions.iter().find(|c| c["type"] == "Degraded")?;
        (degraded["status"] == "True" && degraded["reason"] == reason)
            .then(|| degraded["message"].as_str().unwrap().to_owned())
    })
    .await
}

/// The shell commands a condition message quotes between backticks, run as the namespace admin.
pub(crate) fn run_quoted_commands(message: &str, key: &str) -> usize {
    let commands: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    for command in &commands {
        let command = command.replace("<stream key>", key);
        let out = std::process::Command::new("sh")
            .args(["-c", &command])
            .env("KUBECONFIG", admin_kubeconfig())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    commands.len()
}

fn operator_can(verb: &str, resource: &str, ns: &str) -> bool {
    crate::support::checks::can_i(verb, resource, &["-n", ns])
}

#[tokio::test]
async fn a_stream_key_from_a_secret_is_granted_used_rotated_and_never_shown() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("stream-key");
    // Every log line on, the AWS SDK's and kube's included: none may print the key.
    let operator = Operator::start_tracing(&cloud, &ns).await;
    let (key, rotated) = (random_key(), random_key());

    // The operator holds no Secret access: the condition gives the Role and RoleBinding for
    // exactly the named Secret, and no input is created meanwhile.
    kubectl_apply(&manifest(&ns));
    let forbidden = degraded_with(&ns, "StreamKeyForbidden").await;
    assert!(forbidden.contains("--resource-name=obs-key"), "{forbidden}");
    assert!(
        inventory(&cloud.aws).await["inputs"].is_empty(),
        "no input without the key"
    );
    assert!(!operator_can("get", "secret/obs-key", &ns));
    assert_eq!(run_quoted_commands(&forbidden, &key), 2);
    assert!(operator_can("get", "secret/obs-key", &ns));
    assert!(!operator_can("get", "secret/another", &ns), "only the named Secret");
    assert!(!operator_can("list", "secrets", &ns), "no listing");
    assert!(!operator_can("watch", "secrets", &ns), "no watching");
    assert!(!operator_can("get", "secret/obs-key", "default"), "no other namespace");

    // Now it may look, and the Secret is not there yet: the condition says how to create it.
    let missing = degraded_with(&ns, "StreamKeySecretNotFound").await;
    assert!(missing.contains("create secret generic obs-key"), "{missing}");
    // A Secret without the key, then with a value that is no stream key: each is named, the
    // value is not quoted.
    kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "obs-key",
        "-n",
        &ns,
        "--from-literal=other=x",
    ]);
    let no_key = degraded_with(&ns, "StreamKeyMissing").await;
    assert!(no_key.contains(r#"has no key "streamKey""#), "{no_key}");
    run_quoted_commands(
        &format!(
            "`kubectl -n {ns} create secret generic obs-key --from-literal=streamKey='not a key' --dry-run=client -o yaml | kubectl apply -f -`"
        ),
        &key,
    );
    let invalid = degraded_with(&ns, "StreamKeyInvalid").await;
    assert!(
        invalid.contains("may contain only") && !invalid.contains("not a key"),
        "{invalid}"
    );
    kubectl_ok(&["delete", "secret", "obs-key", "-n", &ns]);
    assert_eq!(run_quoted_commands(&missing, &key), 1);
    kubectl_wait(&ns, "condition=Ready", "keyed", Duration::from_secs(60));

    // Status gives the server without the key: what OBS calls "Server"; the key is the Stream Key.
    let ingest = status(&ns, "keyed")["ingestUrl"].as_str().unwrap().to_owned();
    assert!(
        ingest.starts_with("rtmp://127.0.0.1:") && ingest.ends_with("/live"),
        "{ingest}"
    );
    let playback = status(&ns, "keyed")["playbackUrl"].as_str().unwrap().to_owned();
    patch(&ns, "keyed", r#"{"running":true}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "keyed",
        Duration::from_secs(30),
    );

    // An encoder with the spec's placeholder instance is turned away (the channel runs and nobody
    // else publishes, so the key is the only reason); the encoder with the key plays.
    let refused = tokio::time::timeout(
        Duration::from_secs(20),
        publish(&format!("{ingest}/not-the-key"), 10).wait(),
    )
    .await
    .expect("a wrong key is refused promptly")
    .unwrap();
    assert!(!refused.success(), "publishing without the key fails");
    let mut publisher = publish(&format!("{ingest}/{key}"), 60);
    eventually("HLS from the keyed stream", Duration::from_secs(40), || async {
        let (code, body) = http_get(&playback).await;
        (code == 200 && body.contains("#EXT-X-STREAM-INF")).then_some(())
    })
    .await;

    // The channel-seconds counter bills this stream while it runs, and stops when it stops.
    let series = format!("livestream_operator_channel_running_seconds_total{{namespace=\"{ns}\",name=\"keyed\"}} ");
    let seconds = |metrics: String| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&series))
            .unwrap_or_else(|| panic!("no {series} in {metrics}"))
            .parse()
            .unwrap()
    };
    assert!(seconds(operator.metrics().await) > 1.0);

    // Rotation while live: AWS cannot change a running channel's input, so it waits, and says so
    // without the key; stopping the channel lets the new key reach the input.
    let rotate = format!(
        "kubectl -n {ns} create secret generic obs-key --from-literal=streamKey={rotated} --dry-run=client -o yaml | kubectl apply -f -"
    );
    run_quoted_commands(&format!("`{rotate}`"), &rotated);
    let pending = eventually("Ready=False/UpdatePending", Duration::from_secs(30), || async {
        let s = status(&ns, "keyed");
        let ready = s["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == "Ready")?
            .clone();
        (ready["reason"] == "UpdatePending").then(|| ready["message"].as_str().unwrap().to_owned())
    })
    .await;
    assert!(pending.contains("live/<key from Secret obs-key>"), "{pending}");
    let _ = publisher.kill().await;
    patch(&ns, "keyed", r#"{"running":false}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "keyed", Duration::from_secs(30));
    let billed = seconds(operator.metrics().await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        seconds(operator.metrics().await),
        billed,
        "an idle channel is not billed"
    );

    let input_id = status(&ns, "keyed")["aws"]["inputId"].as_str().unwrap().to_owned();
    eventually("the input to take the rotated key", Duration::from_secs(30), || async {
        let input = cloud
            .aws
            .medialive
            .describe_input()
            .input_id(&input_id)
            .send()
            .await
            .ok()?;
        let url = input.destinations()[0].url.clone()?;
        url.ends_with(&format!("/live/{rotated}")).then_some(())
    })
    .await;
    assert_eq!(status(&ns, "keyed")["ingestUrl"].as_str(), Some(ingest.as_str()));

    // The Secret is deleted by mistake: that is reported, but the input stays and the channel can
    // still be started and, above all, stopped.
    kubectl_ok(&["delete", "secret", "obs-key", "-n", &ns]);
    degraded_with(&ns, "StreamKeySecretNotFound").await;
    patch(&ns, "keyed", r#"{"running":true}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "keyed",
        Duration::from_secs(30),
    );
    patch(&ns, "keyed", r#"{"running":false}"#);
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "keyed", Duration::from_secs(30));
    assert_eq!(
        status(&ns, "keyed")["aws"]["inputId"].as_str(),
        Some(input_id.as_str()),
        "the same input"
    );

    // What a user, a log pipeline or Prometheus sees holds neither key.
    let seen = [
        ("status", kubectl_ok(&["get", "lvs", "keyed", "-n", &ns, "-o", "yaml"])),
        ("events", kubectl_ok(&["get", "events", "-n", &ns, "-o", "yaml"])),
        ("metrics", operator.metrics().await),
        ("logs", operator.log_text()),
    ];
    let events = &seen[1].1;
    assert!(
        events.contains("CreatedInput") && events.contains("UpdatedInput") && events.contains("StreamKeyForbidden"),
        "{events}"
    );
    for (what, text) in &seen {
        for secret in [&key, &rotated] {
            assert!(!text.contains(secret.as_str()), "the stream key leaked into {what}");
        }
    }
    assert_logs_are_json_with_the_stream_span(&operator.log_text(), &format!("{ns}/keyed"));

    kubectl_ok(&["delete", "lvs", "keyed", "-n", &ns, "--timeout", "60s"]);
    assert_exactly_one_each(&cloud.aws, &[]).await;
}

/// Every line is one JSON object; the reconcile's lines carry the LiveStream as a span field.
fn assert_logs_are_json_with_the_stream_span(log: &str, stream: &str) {
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let in_span: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["name"] == "reconcile" && l["span"]["livestream"] == stream)
        .collect();
    assert!(
        in_span.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Created RTMP input"))),
        "the AWS actions are logged inside the LiveStream's span"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
}
