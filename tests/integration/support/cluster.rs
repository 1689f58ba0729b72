//! Shared test plumbing: the control plane's kubeconfig, kubectl, namespaces, the installed CRD.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{
        Once,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client,
    runtime::wait::{await_condition, conditions},
};

pub use super::files::{read, repo_root};

pub const CRD_NAME: &str = "livestreams.media.livestream.io";

/// The admin kubeconfig written by `hack/control-plane.sh up`.
pub fn admin_kubeconfig() -> PathBuf {
    let path = std::env::var_os("KUBECONFIG").map(PathBuf::from).expect(
        "KUBECONFIG is not set: run the suite with hack/test.sh, or \
         `hack/control-plane.sh up && eval \"$(hack/control-plane.sh env)\"` first",
    );
    assert!(path.exists(), "KUBECONFIG {} does not exist", path.display());
    path
}

/// Runs kubectl as the cluster admin, the way a user at a terminal would.
pub fn kubectl(args: &[&str]) -> Output {
    kubectl_in(&admin_kubeconfig(), args)
}

/// Runs kubectl against the cluster of `kubeconfig` (the pods story's node has its own).
pub fn kubectl_in(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("kubectl runs")
}

/// Runs kubectl and returns stdout, failing the test with kubectl's stderr when it fails.
pub fn kubectl_ok(args: &[&str]) -> String {
    succeeded("kubectl", args, kubectl(args))
}

/// The stdout of `program args`, which must have succeeded (the test fails with its stderr).
pub fn succeeded(program: &str, args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "{program} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `kubectl apply -f -` of a manifest written in the test.
fn apply(manifest: &str) -> Output {
    apply_in(&admin_kubeconfig(), manifest)
}

/// [`apply`] against the cluster of `kubeconfig`.
pub fn apply_in(kubeconfig: &Path, manifest: &str) -> Output {
    let mut apply = Command::new("kubectl")
        .args(["apply", "-f", "-"])
        .env("KUBECONFIG", kubeconfig)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    std::io::Write::write_all(&mut apply.stdin.take().unwrap(), manifest.as_bytes()).unwrap();
    apply.wait_with_output().unwrap()
}

/// Applies a manifest written in the test, which must be accepted.
pub fn kubectl_apply(manifest: &str) {
    let out = apply(manifest);
    assert!(
        out.status.success(),
        "kubectl apply of\n{manifest}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Applies a manifest the API server must refuse; its error output.
pub fn kubectl_apply_refused(manifest: &str) -> String {
    let out = apply(manifest);
    assert!(
        !out.status.success(),
        "kubectl apply unexpectedly succeeded:\n{manifest}"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The admin client, as the tests' own view of the cluster.
pub async fn client() -> Client {
    let _ = admin_kubeconfig();
    Client::try_default().await.expect("kube client from KUBECONFIG")
}

/// A fresh namespace per test (no controller-manager runs, so namespaces are never deleted: names
/// must not repeat between runs against the same control plane).
pub fn namespace(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() % 1_000_000_000;
    let name = format!("{prefix}-{stamp}-{}", COUNTER.fetch_add(1, Ordering::Relaxed));
    kubectl_ok(&["create", "namespace", &name]);
    name
}

/// Installs `crds/livestream.yaml` once per test binary, as a user would, and waits until it serves.
pub async fn install_crd() {
    static APPLY: Once = Once::new();
    APPLY.call_once(|| {
        let crd = repo_root().join("crds/livestream.yaml");
        kubectl_ok(&["apply", "--server-side", "-f", crd.to_str().unwrap()]);
    });
    let crds: Api<CustomResourceDefinition> = Api::all(client().await);
    tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(crds, CRD_NAME, conditions::is_crd_established()),
    )
    .await
    .expect("CRD established within 30 s")
    .expect("watching the CRD");
}
