//! GitOps tools tell a healthy LiveStream from a broken one: Argo CD's health check
//! (deploy/argocd, Lua) run by Debian's Lua 5.4 over its tests in Argo CD's layout
//! (`health_test.yaml` + `testdata/`) and over live objects in the operator's stories; and kstatus
//! (Flux's health library, built from sigs.k8s.io/cli-utils) over a live stream in every phase.

use std::path::Path;

use serde_json::Value;

const CHECK: &str = "deploy/argocd/media.livestream.io/LiveStream";

/// A JSON value as a Lua table constructor (null members left out, as Argo CD's conversion does).
fn lua(value: &Value) -> String {
    match value {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => format!("{{{}}}", items.iter().map(lua).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let fields: Vec<String> = (map.iter())
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("[{k:?}] = {}", lua(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

/// Argo CD's verdict on `object` (a LiveStream as the API server returns it): (status, message).
pub fn argocd_health(object: &Value) -> (String, String) {
    let root = crate::support::cluster::repo_root();
    let script = std::fs::read_to_string(root.join(CHECK).join("health.lua")).unwrap();
    let program = format!(
        "obj = {}\nlocal function health()\n{script}\nend\nlocal hs = health()\nio.write(hs.status, \"\\n\", hs.message or \"\")\n",
        lua(object)
    );
    let out = std::process::Command::new("lua5.4")
        .args(["-e", &program])
        .output()
        .expect("lua5.4 runs (hack/setup.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (status, message) = text.split_once('\n').unwrap_or((&text, ""));
    (status.to_owned(), message.to_owned())
}

fn yaml(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_argocd_health_check_passes_its_tests_in_argo_cds_layout() {
    let dir = crate::support::cluster::repo_root().join(CHECK);
    let tests = yaml(&dir.join("health_test.yaml"));
    let mut seen = Vec::new();
    for test in tests["tests"].as_array().unwrap() {
        let input = yaml(&dir.join(test["inputPath"].as_str().unwrap()));
        let want = &test["healthStatus"];
        let (status, message) = argocd_health(&input);
        assert_eq!(
            (status.as_str(), message.as_str()),
            (want["status"].as_str().unwrap(), want["message"].as_str().unwrap()),
            "{}",
            test["inputPath"]
        );
        seen.push(status);
    }
    for status in ["Healthy", "Progressing", "Degraded", "Suspended"] {
        assert!(seen.iter().any(|s| s == status), "no test for {status}");
    }
    // The ConfigMap entry users apply carries this very script.
    let config =
        std::fs::read_to_string(crate::support::cluster::repo_root().join("deploy/argocd/argocd-cm.yaml")).unwrap();
    let config: Value = serde_saphyr::from_str(&config).unwrap();
    let embedded = config["data"]["resource.customizations.health.media.livestream.io_LiveStream"]
        .as_str()
        .unwrap();
    let script = std::fs::read_to_string(dir.join("health.lua")).unwrap();
    assert_eq!(embedded.trim(), script.trim(), "deploy/argocd/argocd-cm.yaml is stale");
}

/// kstatus (sigs.k8s.io/cli-utils, what Flux and `kubectl`-style tools wait on) of a live
/// LiveStream: (status, message), by hack/kstatus.
fn kstatus(ns: &str, name: &str) -> (String, String) {
    let tool =
        std::env::var("KSTATUS").expect("KSTATUS is set by `hack/control-plane.sh env` (built by build-kstatus)");
    let kubeconfig = crate::support::cluster::admin_kubeconfig();
    let out = std::process::Command::new(tool)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args([
            "--namespace",
            ns,
            "--resource",
            "livestreams.v1alpha1.media.livestream.io",
            name,
        ])
        .output()
        .expect("kstatus runs");
    assert!(
        out.status.success(),
        "kstatus: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        verdict["status"].as_str().unwrap().to_owned(),
        verdict["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn kstatus_follows_a_live_stream_through_every_phase() {
    use std::time::Duration;

    use crate::support::cloud::{LocalCloud, eventually};
    use crate::support::cluster::{kubectl_ok, namespace};
    use crate::support::operator::{Operator, kubectl_wait, patch};

    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("kstatus");
    let mut operator = Operator::start(&cloud, &ns).await;
    kubectl_ok(&["apply", "-n", &ns, "-f", "examples/minimal.yaml"]);
    kubectl_wait(&ns, "condition=Ready", "minimal", Duration::from_secs(60));
    assert_eq!(kstatus(&ns, "minimal"), ("Current".into(), "Resource is Ready".into()));
    patch(&ns, "minimal", r#"{"running":true}"#);
    kubectl_wait(
        &ns,
        "jsonpath={.status.state}=RUNNING",
        "minimal",
        Duration::from_secs(60),
    );
    eventually("Current while running", Duration::from_secs(20), || async {
        (kstatus(&ns, "minimal").0 == "Current").then_some(())
    })
    .await;

    // A spec the operator has not seen yet (it is down): InProgress, naming the generations.
    operator.terminate().await;
    patch(&ns, "minimal", r#"{"running":false}"#);
    let (state, message) = kstatus(&ns, "minimal");
    assert_eq!(state, "InProgress");
    assert!(message.contains("latest observed generation"), "{message}");
    let mut operator = Operator::start(&cloud, &ns).await;
    kubectl_wait(&ns, "jsonpath={.status.state}=IDLE", "minimal", Duration::from_secs(60));
    eventually("Current once stopped", Duration::from_secs(20), || async {
        (kstatus(&ns, "minimal").0 == "Current").then_some(())
    })
    .await;

    // Only the user can fix it (Stalled): Failed, with the operator's message naming the field.
    patch(
        &ns,
        "minimal",
        r#"{"schedule":{"timeZone":"Mars/Olympus","windows":[{"cron":"0 19 * * FRI","duration":"2h"}]}}"#,
    );
    let (state, message) = eventually("Failed", Duration::from_secs(30), || async {
        let verdict = kstatus(&ns, "minimal");
        (verdict.0 == "Failed").then_some(verdict)
    })
    .await;
    assert!(message.contains("spec.schedule.timeZone"), "{state}: {message}");
    kubectl_ok(&[
        "patch",
        "lvs",
        "minimal",
        "-n",
        &ns,
        "--type",
        "json",
        "-p",
        r#"[{"op":"remove","path":"/spec/schedule"}]"#,
    ]);
    eventually("Current again", Duration::from_secs(30), || async {
        (kstatus(&ns, "minimal").0 == "Current").then_some(())
    })
    .await;

    // Deleted while the operator is down: Terminating until its finalizer has cleaned up.
    operator.terminate().await;
    kubectl_ok(&["delete", "lvs", "minimal", "-n", &ns, "--wait=false"]);
    assert_eq!(kstatus(&ns, "minimal").0, "Terminating");
    let _operator = Operator::start(&cloud, &ns).await;
    eventually("NotFound", Duration::from_secs(60), || async {
        (kstatus(&ns, "minimal").0 == "NotFound").then_some(())
    })
    .await;
}
