//! The CRD at the API server: it becomes Established, accepts every example, fills in defaults and
//! refuses every invalid manifest with a message that names the offending field.

use kube::{Api, api::PostParams};
use livestream_operator::api::{LiveStream, LiveStreamSpec};
use serde_json::{Value, json};

use crate::{
    support::cluster::{self, kubectl, kubectl_ok},
    support::operator::patch,
};

#[tokio::test]
async fn crd_becomes_established_with_its_names_accepted() {
    cluster::install_crd().await;
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(cluster::client().await);
    let crd = crds.get(cluster::CRD_NAME).await.unwrap();
    let conditions = crd.status.unwrap().conditions.unwrap();
    for wanted in ["Established", "NamesAccepted"] {
        let condition = conditions.iter().find(|c| c.type_ == wanted).unwrap();
        assert_eq!(condition.status, "True", "{wanted}: {:?}", condition.message);
    }
}

#[tokio::test]
async fn every_example_applies_and_reads_back_unchanged() {
    cluster::install_crd().await;
    let ns = cluster::namespace("examples");
    let streams: Api<LiveStream> = Api::namespaced(cluster::client().await, &ns);
    let mut examples: Vec<_> = std::fs::read_dir(cluster::repo_root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 3, "examples/ holds the documented manifests");
    for path in examples {
        kubectl_ok(&["apply", "-n", &ns, "-f", path.to_str().unwrap()]);
        // An example may carry the RBAC its LiveStream needs; the LiveStream is the last document.
        let text = std::fs::read_to_string(&path).unwrap();
        let document = text.rsplit("\n---\n").next().unwrap();
        let written: LiveStream = serde_saphyr::from_str(document).unwrap();
        let stored = streams.get(&written.metadata.name.clone().unwrap()).await.unwrap();
        assert_eq!(stored.spec, written.spec, "{} round-trips", path.display());
    }
}

#[tokio::test]
async fn minimal_manifest_gets_the_pattern_defaults_from_the_api_server() {
    cluster::install_crd().await;
    let ns = cluster::namespace("defaults");
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    // Read the raw JSON: these values were filled in by the API server, not by our serde defaults.
    let stored: Value = serde_json::from_str(&kubectl_ok(&["get", "lvs", "minimal", "-n", &ns, "-o", "json"])).unwrap();
    let spec = &stored["spec"];
    assert_eq!(spec["running"], json!(false));
    assert_eq!(
        spec["input"],
        json!({"allowedCidrs": ["0.0.0.0/0"], "protocol": "RTMP", "streamName": "test/channel"})
    );
    assert_eq!(
        spec["packaging"]["hls"],
        json!({
            "segmentDurationSeconds": 5, "playlistWindowSeconds": 60,
            "minVideoBitsPerSecond": 0, "maxVideoBitsPerSecond": 2147483647,
            "streamOrder": "ORIGINAL"
        })
    );
    assert_eq!(
        spec["encoding"]["renditions"],
        json!([
            {"name": "1080p", "width": 1920, "height": 1080, "framesPerSecond": 30, "bitsPerSecond": 5000000},
            {"name": "720p", "width": 1280, "height": 720, "framesPerSecond": 30, "bitsPerSecond": 3000000}
        ])
    );
    assert_eq!(
        spec["encoding"]["audio"],
        json!({"bitsPerSecond": 192000, "sampleRate": 48000})
    );
    assert_eq!(spec["website"], json!({"enabled": true}));
    // And the operator's own defaults agree with the server's, field for field.
    let operator_view: LiveStreamSpec = serde_json::from_value(json!({})).unwrap();
    assert_eq!(*spec, serde_json::to_value(operator_view).unwrap());
}

/// Each file in tests/fixtures/invalid is a manifest a user might write by mistake; its `# expect:`
/// lines are what kubectl must print (the field path first).
#[tokio::test]
async fn every_invalid_manifest_is_refused_naming_the_field() {
    cluster::install_crd().await;
    let ns = cluster::namespace("invalid");
    let dir = cluster::repo_root().join("tests/fixtures/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(
        cases.len() >= 20,
        "the catalogue holds at least 20 mistakes, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for path in &cases {
        let text = std::fs::read_to_string(path).unwrap();
        let expected: Vec<_> = text.lines().filter_map(|l| l.strip_prefix("# expect: ")).collect();
        assert!(!expected.is_empty(), "{} has no `# expect:` line", path.display());
        let out = kubectl(&["create", "-n", &ns, "-f", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = path.file_name().unwrap().to_string_lossy();
        if out.status.success() {
            failures.push(format!("{name}: was accepted"));
        } else if let Some(missing) = expected.iter().find(|e| !stderr.contains(**e)) {
            failures.push(format!("{name}: error lacks {missing:?}: {stderr}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} invalid manifests misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn channel_id_cannot_change_after_creation() {
    cluster::install_crd().await;
    let ns = cluster::namespace("immutable");
    let streams: Api<LiveStream> = Api::namespaced(cluster::client().await, &ns);
    let spec: LiveStreamSpec = serde_json::from_value(json!({"channelId": "keynote"})).unwrap();
    streams
        .create(&PostParams::default(), &LiveStream::new("keynote", spec))
        .await
        .unwrap();

    let renamed = kubectl(&[
        "patch",
        "lvs",
        "keynote",
        "-n",
        &ns,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"channelId":"other"}}"#,
    ]);
    assert!(!renamed.status.success());
    assert!(String::from_utf8_lossy(&renamed.stderr).contains("spec.channelId: Invalid value"));
    assert!(String::from_utf8_lossy(&renamed.stderr).contains("spec.channelId is immutable"));

    let removed = kubectl(&[
        "patch",
        "lvs",
        "keynote",
        "-n",
        &ns,
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/spec/channelId"}]"#,
    ]);
    assert!(!removed.status.success());
    assert!(String::from_utf8_lossy(&removed.stderr).contains("cannot be added or removed"));

    // Everything else stays editable.
    patch(&ns, "keynote", r#"{"running":true}"#);
    assert!(streams.get("keynote").await.unwrap().spec.running);
}

#[tokio::test]
async fn status_is_a_subresource_users_cannot_write_through_the_spec() {
    cluster::install_crd().await;
    let ns = cluster::namespace("status");
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    // A write of status through the main resource is ignored ...
    kubectl_ok(&[
        "patch",
        "lvs",
        "minimal",
        "-n",
        &ns,
        "--type",
        "merge",
        "-p",
        r#"{"status":{"state":"RUNNING"}}"#,
    ]);
    let streams: Api<LiveStream> = Api::namespaced(cluster::client().await, &ns);
    assert_eq!(streams.get("minimal").await.unwrap().status, None);
    // ... and lands through the status subresource, where the operator writes it.
    kubectl_ok(&[
        "patch",
        "lvs",
        "minimal",
        "-n",
        &ns,
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"state":"IDLE"}}"#,
    ]);
    let status = streams.get("minimal").await.unwrap().status.unwrap();
    assert_eq!(status.state.as_deref(), Some("IDLE"));
}
