//! deploy/: the manifests a platform team applies, and the least privilege they grant.

use crate::harness::{kubectl, kubectl_ok};

const OPERATOR: &str = "system:serviceaccount:livestream-system:livestream-operator";

fn can_i(verb: &str, resource: &str, scope: &[&str]) -> bool {
    let mut args = vec!["auth", "can-i", verb, resource, "--as", OPERATOR];
    args.extend_from_slice(scope);
    let out = kubectl(&args);
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

#[tokio::test]
async fn deploy_applies_server_side_and_grants_exactly_what_the_operator_uses() {
    crate::harness::install_crd().await;
    kubectl_ok(&["apply", "--server-side", "-k", "deploy/base"]);
    for object in [
        "deployment/livestream-operator",
        "poddisruptionbudget/livestream-operator",
        "service/livestream-operator-metrics",
        "serviceaccount/livestream-operator",
    ] {
        kubectl_ok(&["get", object, "-n", "livestream-system"]);
    }
    // The pod names its own ServiceAccount in the stream-key hints it gives namespaces.
    let deployment = kubectl_ok(&[
        "get",
        "deployment/livestream-operator",
        "-n",
        "livestream-system",
        "-o",
        "json",
    ]);
    assert!(
        deployment.contains("$(POD_NAMESPACE):$(SERVICE_ACCOUNT_NAME)"),
        "{deployment}"
    );
    let rendered = kubectl_ok(&["kustomize", "deploy/overlays/local"]);
    assert!(
        rendered.contains("AWS_ENDPOINT_URL"),
        "the local overlay points the operator at livestream-local"
    );

    let all = ["--all-namespaces"];
    for (verb, resource) in [
        ("get", "livestreams.media.livestream.io"),
        ("list", "livestreams.media.livestream.io"),
        ("watch", "livestreams.media.livestream.io"),
        ("patch", "livestreams.media.livestream.io"),
        ("patch", "livestreams.media.livestream.io/status"),
        ("create", "events.events.k8s.io"),
        ("patch", "events.events.k8s.io"),
    ] {
        assert!(can_i(verb, resource, &all), "the operator needs {verb} {resource}");
    }
    let own = ["-n", "livestream-system"];
    for verb in ["get", "create", "patch"] {
        assert!(
            can_i(verb, "leases.coordination.k8s.io", &own),
            "leader election needs {verb} leases"
        );
    }
    assert!(
        !can_i("get", "leases.coordination.k8s.io", &["-n", "kube-system"]),
        "only its own namespace's leases"
    );
    assert!(!can_i("delete", "leases.coordination.k8s.io", &own));
    for (verb, resource) in [
        ("create", "livestreams.media.livestream.io"),
        ("delete", "livestreams.media.livestream.io"),
        ("update", "livestreams.media.livestream.io"),
        ("get", "secrets"),
        ("list", "secrets"),
        ("list", "pods"),
        ("create", "customresourcedefinitions.apiextensions.k8s.io"),
        ("*", "*"),
    ] {
        assert!(!can_i(verb, resource, &all), "the operator must not {verb} {resource}");
    }
}

/// Every AWS operation the operator called (from its own /metrics) is granted by
/// deploy/iam-policy.json, so the least-privilege policy cannot fall behind the code.
pub fn assert_policy_grants(metrics: &str) {
    let policy: serde_json::Value = serde_json::from_str(&crate::harness::read("deploy/iam-policy.json")).unwrap();
    let granted: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            actions => actions
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect();
    let called: std::collections::BTreeSet<String> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("livestream_operator_aws_calls_total{"))
        .map(|labels| {
            let value = |key: &str| {
                labels
                    .split(&format!("{key}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned()
            };
            format!("{}:{}", value("service"), value("operation"))
        })
        .collect();
    assert!(called.len() >= 10, "the operator's calls were counted: {called:?}");
    let missing: Vec<_> = called.iter().filter(|a| !granted.contains(a)).collect();
    assert!(missing.is_empty(), "deploy/iam-policy.json lacks {missing:?}");
}
