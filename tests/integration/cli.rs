//! The `livestream-operator` binary as a user runs it: `crd`, `run`, and the README's demo command.

use std::time::Duration;

use crate::{
    support::cloud::LocalCloud,
    support::cluster::{self, kubectl_ok},
    support::operator::Operator,
};

const OPERATOR: &str = env!("CARGO_BIN_EXE_livestream-operator");

#[test]
fn crd_subcommand_prints_the_committed_crd() {
    let out = std::process::Command::new(OPERATOR).arg("crd").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        cluster::read("crds/livestream.yaml")
    );
}

#[tokio::test]
async fn run_logs_json_lines_with_the_livestream_in_the_span() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = cluster::namespace("logs");
    let operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    crate::support::operator::kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
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
    cluster::install_crd().await;
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

/// `hack/demo.sh ARGS` with its state in `dir`, the built binaries and free ports.
fn demo(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(cluster::repo_root().join("hack/demo.sh"))
        .args(args)
        .env("LIVESTREAM_DEMO_DIR", dir)
        .env("LIVESTREAM_OPERATOR_BIN", OPERATOR)
        .env("LIVESTREAM_LOCAL_BIN", crate::support::cloud::binary())
        .env("LIVESTREAM_LOCAL_LISTEN", "127.0.0.1:0")
        .env("LIVESTREAM_LOCAL_RTMP_PORT", "0")
        .output()
        .unwrap()
}

#[test]
fn readme_demo_brings_the_stack_up_and_down() {
    let dir = std::env::temp_dir().join(format!("livestream-demo-test-{}", std::process::id()));
    let demo = |arg: &str| demo(&dir, &[arg]);
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

/// `hack/demo.sh --obs` prints what to paste into OBS; publishing with exactly that Server and
/// Stream Key, split as OBS splits them (librtmp gets the Server as its URL and the key as its
/// playpath), plays.
#[tokio::test]
async fn demo_obs_settings_publish_through_librtmp() {
    let dir = std::env::temp_dir().join(format!("livestream-demo-obs-test-{}", std::process::id()));
    let up = demo(&dir, &["up", "--obs"]);
    let stdout = String::from_utf8_lossy(&up.stdout).into_owned();
    let quoted = |label: &str| {
        let start = stdout.find(&format!("{label} \"")).map(|i| i + label.len() + 2)?;
        Some(stdout[start..start + stdout[start..].find('"')?].to_owned())
    };
    let settings = quoted("Server").zip(quoted("Stream Key"));
    let playback = stdout
        .split_whitespace()
        .find(|w| w.contains("/out/v1/") && w.ends_with(".m3u8"))
        .map(str::to_owned);
    let played = async {
        let (server, key) = settings.clone()?;
        let mut obs = crate::support::tools::push(
            crate::support::tools::Encoder::GstLibrtmp,
            &format!("{server} playpath={key} live=1"),
        );
        let playback = playback.clone()?;
        let probe = crate::support::cloud::eventually("the stream to play", Duration::from_secs(40), || async {
            let out = tokio::process::Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-of",
                    "csv=p=0",
                    "-show_entries",
                    "stream=codec_name,width",
                ])
                .arg(&playback)
                .output()
                .await
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            (out.status.success() && text.contains("h264,1920") && text.contains("h264,1280")).then_some(text)
        })
        .await;
        let _ = obs.kill().await;
        Some(probe)
    }
    .await;
    let down = demo(&dir, &["down"]);
    assert!(
        up.status.success(),
        "demo up --obs failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let (server, key) = settings.unwrap_or_else(|| panic!("no Server and Stream Key in: {stdout}"));
    assert!(
        server.starts_with("rtmp://127.0.0.1:") && server.ends_with("/live"),
        "{server}"
    );
    assert_eq!(key, "launch-event");
    assert!(
        !dir.join("publisher.pid").exists(),
        "--obs starts no test pattern of its own"
    );
    let probe = played.unwrap_or_else(|| panic!("no playback URL in: {stdout}"));
    assert!(probe.contains("aac"), "{probe}");
    assert!(
        down.status.success(),
        "demo down failed: {}",
        String::from_utf8_lossy(&down.stderr)
    );
}
