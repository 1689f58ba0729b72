//! deploy/: the manifests a platform team applies, and the least privilege they grant.

use crate::support::{checks::can_i, cluster::kubectl_ok};

#[tokio::test]
async fn deploy_applies_server_side_and_grants_exactly_what_the_operator_uses() {
    crate::support::cluster::install_crd().await;
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
    let policy: serde_json::Value =
        serde_json::from_str(&crate::support::cluster::read("deploy/iam-policy.json")).unwrap();
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
    // An operation whose IAM actions are named otherwise (AWS's service authorization reference).
    let actions = |call: &String| match call.as_str() {
        "cloudfront:CreateDistributionWithTags" => {
            vec![
                "cloudfront:CreateDistribution".to_owned(),
                "cloudfront:TagResource".to_owned(),
            ]
        }
        "s3:HeadBucket" | "s3:ListObjectsV2" => vec!["s3:ListBucket".to_owned()],
        _ => vec![call.clone()],
    };
    let missing: Vec<_> = (called.iter().flat_map(actions))
        .filter(|a| !granted.contains(a))
        .collect();
    assert!(missing.is_empty(), "deploy/iam-policy.json lacks {missing:?}");
}

/// Objects of a multi-document YAML stream by `Kind/namespace/name`.
fn objects(yaml: &str) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut docs = vec![String::new()];
    for line in yaml.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            docs.last_mut().unwrap().push_str(&format!("{line}\n"));
        }
    }
    docs.iter()
        .filter_map(|doc| serde_saphyr::from_str::<Option<serde_json::Value>>(doc).unwrap())
        .map(numbers_as_floats)
        .map(|object| {
            let meta = &object["metadata"];
            let id = format!(
                "{}/{}/{}",
                object["kind"].as_str().unwrap(),
                meta["namespace"].as_str().unwrap_or(""),
                meta["name"].as_str().unwrap()
            );
            (id, object)
        })
        .collect()
}

/// `minimum: 1.0` (the generated CRD) and `1` (kustomize's rewrite of it) are the same bound.
fn numbers_as_floats(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, numbers_as_floats(v))).collect()),
        other => other,
    }
}

fn helm(args: &[&str]) -> String {
    let helm = std::env::var("HELM").expect("HELM is set by `hack/control-plane.sh env` (built by its `build`)");
    let out = std::process::Command::new(helm)
        .args(args)
        .env("KUBECONFIG", crate::support::cluster::admin_kubeconfig())
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const CHART: &str = "deploy/helm/livestream-operator";

#[test]
fn the_helm_chart_with_default_values_is_deploy_base() {
    helm(&["lint", "--strict", CHART]);
    let chart = objects(&helm(&[
        "template",
        "livestream-operator",
        CHART,
        "--namespace",
        "livestream-system",
        "--include-crds",
    ]));
    let mut base = objects(&kubectl_ok(&["kustomize", "deploy/base"]));
    // Helm installs into an existing namespace (or --create-namespace) rather than owning it.
    assert!(base.remove("Namespace//livestream-system").is_some());
    assert_eq!(
        chart.keys().collect::<Vec<_>>(),
        base.keys().collect::<Vec<_>>(),
        "the same objects"
    );
    for (id, object) in &base {
        assert_eq!(&chart[id], object, "{id} differs between the chart and deploy/base");
    }
}

#[tokio::test]
async fn the_helm_chart_knobs_render_objects_the_api_server_accepts() {
    crate::support::cluster::install_crd().await;
    let ns = crate::support::cluster::namespace("helm");
    let rendered = helm(&[
        "template",
        "livestream-operator",
        CHART,
        "--namespace",
        &ns,
        "--set",
        "replicas=1,leaderElection=false,podDisruptionBudget.enabled=false,watchNamespace=events,aws.endpointUrl=http://livestream-local:4580",
        "--set-json",
        r#"extraArgs=["--resync-seconds","120"]"#,
    ]);
    let objects = objects(&rendered);
    let deployment = &objects[&format!("Deployment/{ns}/livestream-operator")];
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["args"],
        serde_json::json!([
            "run",
            "--log-format",
            "json",
            "--http-addr",
            "0.0.0.0:8080",
            "--namespace",
            "events",
            "--resync-seconds",
            "120"
        ])
    );
    assert!(container["env"].to_string().contains("http://livestream-local:4580"));
    for absent in ["Role/", "RoleBinding/", "PodDisruptionBudget/"] {
        assert!(
            !objects.keys().any(|k| k.starts_with(absent)),
            "no {absent} when turned off"
        );
    }
    assert!(objects.contains_key(&format!("Service/{ns}/livestream-operator-metrics")));
    // Two replicas without a Lease would both reconcile: the chart refuses to render that.
    let refused = std::process::Command::new(std::env::var("HELM").unwrap())
        .args(["template", "x", CHART, "--set", "leaderElection=false"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("replicas > 1 needs leaderElection"));
    let path = std::env::temp_dir().join(format!("{ns}.yaml"));
    std::fs::write(&path, &rendered).unwrap();
    kubectl_ok(&["apply", "--dry-run=server", "-f", path.to_str().unwrap()]);
    std::fs::remove_file(path).unwrap();
}
