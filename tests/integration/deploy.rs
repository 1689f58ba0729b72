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
    kubectl_ok(&["get", "deployment", "livestream-operator", "-n", "livestream-system"]);
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
