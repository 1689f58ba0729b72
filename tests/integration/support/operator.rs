//! The operator as it runs in a cluster: the real binary, with the ServiceAccount's identity (so
//! missing RBAC fails here), against a live livestream-local, watching one test namespace.

use std::{path::PathBuf, process::Stdio, sync::Once, time::Duration};

use kube::Api;
use livestream_operator::api::LiveStream;
use tokio::process::{Child, Command};

use crate::support::{
    cloud::{LocalCloud, OPERATOR_KEY},
    cluster,
};

pub const BINARY: &str = env!("CARGO_BIN_EXE_livestream-operator");
pub use super::cloud::ROLE;

pub struct Operator {
    process: Child,
    pub log: PathBuf,
}

/// Installs the CRD and the operator's RBAC (deploy/base) once per test binary.
pub async fn install() {
    cluster::install_crd().await;
    static RBAC: Once = Once::new();
    RBAC.call_once(|| {
        cluster::kubectl_ok(&[
            "apply",
            "-f",
            "deploy/base/namespace.yaml",
            "-f",
            "deploy/base/rbac.yaml",
        ]);
    });
}

impl Operator {
    pub async fn start(cloud: &LocalCloud, namespace: &str) -> Self {
        Self::start_with(cloud, namespace, &[]).await
    }

    /// Starts with extra `run` flags.
    pub async fn start_with(cloud: &LocalCloud, namespace: &str, extra: &[&str]) -> Self {
        Self::spawn(cloud, namespace, extra, "info,livestream_operator=debug").await
    }

    /// Starts with every log line enabled, dependencies' included (RUST_LOG=trace).
    pub async fn start_tracing(cloud: &LocalCloud, namespace: &str) -> Self {
        Self::spawn(cloud, namespace, &[], "trace").await
    }

    /// Starts with these AWS credentials instead of the operator's key.
    pub async fn start_with_credentials(cloud: &LocalCloud, namespace: &str, key: (&str, &str), region: &str) -> Self {
        Self::spawn_as(cloud, namespace, &[], "info,livestream_operator=debug", key, region).await
    }

    async fn spawn(cloud: &LocalCloud, namespace: &str, extra: &[&str], rust_log: &str) -> Self {
        Self::spawn_as(cloud, namespace, extra, rust_log, OPERATOR_KEY, "us-east-1").await
    }

    async fn spawn_as(
        cloud: &LocalCloud,
        namespace: &str,
        extra: &[&str],
        rust_log: &str,
        key: (&str, &str),
        region: &str,
    ) -> Self {
        install().await;
        let kubeconfig = std::env::var("LIVESTREAM_OPERATOR_KUBECONFIG").expect("set by hack/control-plane.sh env");
        let log = cloud.data_dir.with_extension(format!(
            "operator-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
        ));
        let process = Command::new(BINARY)
            .args(["run", "--log-format", "json", "--namespace", namespace])
            .args([
                "--resync-seconds",
                "3",
                "--transition-requeue-seconds",
                "0.3",
                "--http-addr",
                "127.0.0.1:0",
            ])
            .args(extra)
            .env("KUBECONFIG", kubeconfig)
            .env("AWS_ENDPOINT_URL", &cloud.endpoint)
            .env("AWS_ACCESS_KEY_ID", key.0)
            .env("AWS_SECRET_ACCESS_KEY", key.1)
            .env("AWS_REGION", region)
            .env("LIVESTREAM_MEDIALIVE_ROLE_ARN", ROLE)
            // The stories written before MediaPackage v2 are v1 stories; a v2 story says so in its
            // spec (or passes --packaging-version v2, which overrides this).
            .env("LIVESTREAM_PACKAGING_VERSION", "v1")
            // Likewise the stories written before CloudFront read the origin directly; the
            // CloudFront story passes --delivery CloudFront.
            .env("LIVESTREAM_DELIVERY", "Direct")
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("operator starts");
        Self { process, log }
    }

    /// SIGKILL, as a node failure or OOM kill would.
    pub async fn kill(&mut self) {
        let _ = self.process.kill().await;
    }

    /// Where the operator serves /metrics, from its log.
    pub async fn http_addr(&self) -> String {
        crate::support::cloud::eventually("the operator's HTTP address", Duration::from_secs(10), || async {
            self.log_text().lines().find_map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).ok()?;
                entry["fields"]["bound"].as_str().map(str::to_owned)
            })
        })
        .await
    }

    /// SIGTERM, as Kubernetes stops a pod; waits for the exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.process.id().expect("running").to_string();
        Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        tokio::time::timeout(Duration::from_secs(20), self.process.wait())
            .await
            .expect("exits within 20 s")
            .unwrap()
    }

    /// The Prometheus text the operator serves on /metrics.
    pub async fn metrics(&self) -> String {
        let (code, body) = crate::support::cloud::http_get(&format!("http://{}/metrics", self.http_addr().await)).await;
        assert_eq!(code, 200, "/metrics answers");
        body
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A LiveStream's status as `kubectl get -o json` shows it.
pub fn status(namespace: &str, name: &str) -> serde_json::Value {
    let object: serde_json::Value = serde_json::from_str(&cluster::kubectl_ok(&[
        "get", "lvs", name, "-n", namespace, "-o", "json",
    ]))
    .unwrap();
    object["status"].clone()
}

/// The condition `kind` of a LiveStream's status; null when it has none.
pub fn condition(namespace: &str, name: &str, kind: &str) -> serde_json::Value {
    let conditions = status(namespace, name)["conditions"].clone();
    (conditions.as_array().into_iter().flatten())
        .find(|c| c["type"] == kind)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// `kubectl patch lvs NAME --type merge -p '{"spec":SPEC}'`.
pub fn patch(namespace: &str, name: &str, spec: &str) {
    cluster::kubectl_ok(&[
        "patch",
        "lvs",
        name,
        "-n",
        namespace,
        "--type",
        "merge",
        "-p",
        &format!(r#"{{"spec":{spec}}}"#),
    ]);
}

/// Goes live as a user does: `running: true`, waits for RUNNING, then pushes a test pattern to the
/// stream's ingest URL for `seconds`.
pub fn go_live(namespace: &str, name: &str, seconds: u32) -> Child {
    patch(namespace, name, r#"{"running":true}"#);
    kubectl_wait(
        namespace,
        "jsonpath={.status.state}=RUNNING",
        name,
        Duration::from_secs(30),
    );
    let ingest = status(namespace, name)["ingestUrl"].as_str().unwrap().to_owned();
    crate::support::cloud::publish(&ingest, seconds)
}

pub async fn streams(namespace: &str) -> Api<LiveStream> {
    Api::namespaced(cluster::client().await, namespace)
}

/// Waits with kubectl, as a user would, for a condition or a JSONPath value.
pub fn kubectl_wait(namespace: &str, what: &str, name: &str, timeout: Duration) {
    let timeout = format!("{}s", timeout.as_secs());
    cluster::kubectl_ok(&[
        "wait",
        "-n",
        namespace,
        &format!("--for={what}"),
        &format!("lvs/{name}"),
        "--timeout",
        &timeout,
    ]);
}
