//! The `livestream-operator` binary as a user runs it: `crd`, `run`, and the README's demo command.

use std::time::Duration;

use crate::{
    harness::{self, kubectl_ok},
    local_cloud::LocalCloud,
    operator::Operator,
};

const OPERATOR: &str = env!("CARGO_BIN_EXE_livestream-operator");

#[test]
fn crd_subcommand_prints_the_committed_crd() {
    let out = std::process::Command::new(OPERATOR).arg("crd").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        harness::read("crds/livestream.yaml")
    );
}

#[tokio::test]
async fn run_logs_json_lines_with_the_livestream_in_the_span() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = harness::namespace("logs");
    let operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    crate::operator::kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
    let log = operator.log_text();
    let entries: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}")))
        .collect();
    let wanted = format!("{ns}/minimal");
    let created = entries
        .iter()
        .find(|e| {
            e["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Created MediaLive channel"))
        })
        .unwrap_or_else(|| panic!("no channel creation logged:\n{log}"));
    assert_eq!(created["span"]["livestream"], wanted.as_str());
    assert_eq!(created["fields"]["reason"], "CreatedChannel");
}

#[tokio::test]
async fn run_without_rbac_says_what_is_missing() {
    harness::install_crd().await;
    // An identity no RBAC rule names, as the operator's ServiceAccount is before deploy/ is applied.
    let kubeconfig = std::env::var("LIVESTREAM_UNPRIVILEGED_KUBECONFIG").expect("set by hack/control-plane.sh env");
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new(OPERATOR)
            .arg("run")
            .env("KUBECONFIG", kubeconfig)
            .output(),
    )
    .await
    .expect("the operator gives up promptly")
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot list LiveStreams"), "{stderr}");
    assert!(stderr.contains("forbidden"), "{stderr}");
}

#[test]
fn readme_demo_brings_the_stack_up_and_down() {
    let dir = std::env::temp_dir().join(format!("livestream-demo-test-{}", std::process::id()));
    let demo = |arg: &str| {
        std::process::Command::new(harness::repo_root().join("hack/demo.sh"))
            .arg(arg)
            .env("LIVESTREAM_DEMO_DIR", &dir)
            .env("LIVESTREAM_OPERATOR_BIN", OPERATOR)
            .env("LIVESTREAM_LOCAL_BIN", crate::local_cloud::binary())
            .env("LIVESTREAM_LOCAL_LISTEN", "127.0.0.1:0")
            .env("LIVESTREAM_LOCAL_RTMP_PORT", "0")
            .output()
            .unwrap()
    };
    let up = demo("up");
    let stdout = String::from_utf8_lossy(&up.stdout);
    let pids: Vec<String> = [
        "operator.pid",
        "local.pid",
        "publisher.pid",
        "control-plane/etcd.pid",
        "control-plane/kube-apiserver.pid",
    ]
    .iter()
    .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
    .map(|p| p.trim().to_owned())
    .collect();
    let down = demo("down");
    assert!(
        up.status.success(),
        "demo up failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(stdout.contains("NAME") && stdout.contains("INGEST URL"), "{stdout}");
    assert!(
        stdout.contains("launch-event") && stdout.contains("RUNNING"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Player:   http://"),
        "prints the player page's URL: {stdout}"
    );
    assert!(
        down.status.success(),
        "demo down failed: {}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert!(!dir.exists(), "demo down removes its state");
    assert_eq!(pids.len(), 5, "demo up records the processes it started: {pids:?}");
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} still runs after demo down"
        );
    }
}
