//! deploy/iam-policy.json is least privilege, shown by taking it apart: with each of its actions
//! removed in turn, the operator meets the refusal where its story needs the action and reports
//! it (a Degraded condition and a Warning event with AWS's refusal and the grant to make),
//! without a retry storm; with the action restored, the story carries on.

use std::time::Duration;

use serde_json::Value;

use crate::support::cloud::{LocalCloud, eventually, shipped_policy};
use crate::support::cluster::{kubectl, kubectl_apply, kubectl_ok, namespace};
use crate::support::operator::{Operator, patch, status};
use crate::website::{BUCKET, allow_public_pages};

/// Where in a stream's life an action is needed.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// Applying a new LiveStream (observe, create, tag, pass the role, publish the page).
    Create,
    Start,
    Stop,
    /// A spec change, as a merge patch of the spec.
    Update(&'static str),
    /// The SRT passphrase's Secret gets a new value.
    Rotate,
    Delete,
}

fn stage(action: &str) -> Stage {
    match action {
        // Read once the channel runs: its alerts.
        "medialive:StartChannel" | "medialive:ListAlerts" => Stage::Start,
        "medialive:StopChannel" => Stage::Stop,
        "medialive:UpdateInputSecurityGroup" => Stage::Update(r#"{"input":{"allowedCidrs":["10.0.0.0/8"]}}"#),
        "medialive:UpdateInput" => Stage::Update(r#"{"input":{"streamName":"live/renamed"}}"#),
        "medialive:UpdateChannel" => Stage::Update(r#"{"encoding":{"audio":{"bitsPerSecond":128000}}}"#),
        "medialive:UpdateChannelClass" => Stage::Update(r#"{"redundancy":"Standard"}"#),
        "mediapackage:UpdateOriginEndpoint" => Stage::Update(r#"{"packaging":{"hls":{"playlistWindowSeconds":30}}}"#),
        "secretsmanager:PutSecretValue" => Stage::Rotate,
        a if a.contains(":Delete") => Stage::Delete,
        _ => Stage::Create,
    }
}

/// The shipped policy without `action`.
fn without(action: &str) -> Value {
    let mut policy = shipped_policy();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        if let Some(actions) = statement["Action"].as_array_mut() {
            actions.retain(|a| a != action);
        } else if statement["Action"] == action {
            statement["Action"] = Value::Array(Vec::new());
        }
    }
    policy
}

fn actions() -> Vec<String> {
    let mut all = Vec::new();
    for statement in shipped_policy()["Statement"].as_array().unwrap() {
        match &statement["Action"] {
            Value::String(a) => all.push(a.clone()),
            Value::Array(list) => all.extend(list.iter().map(|a| a.as_str().unwrap().to_owned())),
            _ => {}
        }
    }
    // An action granted in two statements (the pages' and the recordings' buckets) is taken
    // out once; the bucket is created once, by the first story.
    let mut seen = std::collections::HashSet::new();
    all.retain(|a| seen.insert(a.clone()));
    all.sort_by_key(|a| a != "s3:CreateBucket");
    all
}

/// Needed only off these stories' paths: a Describe after a listing missed a resource the
/// operator knows (AWS's lists lag behind), which a running operator meets but a story cannot
/// provoke on demand; the engine versions, listed only when a channel's version expires within
/// four weeks (the overrides story's engine part).
const RARE: [&str; 5] = [
    "medialive:ListVersions",
    "medialive:DescribeInputSecurityGroup",
    "medialive:DescribeInput",
    "mediapackage:DescribeChannel",
    "mediapackage:DescribeOriginEndpoint",
];

/// The SRT stories' passphrase Secret, set to `value`, which the operator may read.
pub(crate) fn passphrase(ns: &str, value: &str) {
    let role = "livestream-srt-srt-passphrase";
    let grant = [
        vec![
            "create",
            "role",
            role,
            "--verb=get",
            "--resource=secrets",
            "--resource-name=srt-passphrase",
        ],
        vec![
            "create",
            "rolebinding",
            role,
            "--role",
            role,
            "--serviceaccount=livestream-system:livestream-operator",
        ],
    ];
    for command in grant {
        // Made once per namespace; later stories find it there.
        let _ = kubectl(&[&["-n", ns][..], &command].concat());
    }
    kubectl_apply(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: srt-passphrase\n  namespace: {ns}\nstringData:\n  passphrase: {value}\n"
    ));
}

/// The Degraded condition that carries AWS's refusal, if the stage meets one within `wait` (the
/// stream converged, or is gone, without it: None).
async fn reported(ns: &str, name: &str, refusal: &str, wait: Duration) -> Option<Value> {
    let deadline = std::time::Instant::now() + wait;
    while std::time::Instant::now() < deadline {
        let out = kubectl(&["get", "lvs", name, "-n", ns, "-o", "json"]);
        if !out.status.success() {
            return None;
        }
        let object: Value = serde_json::from_slice(&out.stdout).unwrap();
        let conditions = object["status"]["conditions"].as_array().cloned().unwrap_or_default();
        let find = |kind: &str| conditions.iter().find(|c| c["type"] == kind).cloned();
        if let Some(degraded) = find("Degraded")
            && degraded["status"] == "True"
            && degraded["message"].as_str().is_some_and(|m| m.contains(refusal))
        {
            return Some(degraded);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

fn condition(ns: &str, name: &str, kind: &str) -> Option<Value> {
    let conditions = status(ns, name)["conditions"].clone();
    conditions.as_array()?.iter().find(|c| c["type"] == kind).cloned()
}

async fn converged(ns: &str, name: &str) {
    eventually(&format!("{name} to converge"), Duration::from_secs(60), || async {
        let ready = condition(ns, name, "Ready")?;
        let degraded = condition(ns, name, "Degraded")?;
        (ready["status"] == "True" && degraded["status"] == "False").then_some(())
    })
    .await;
}

/// AWS calls the operator has had refused so far, by its own metrics: 403s of any operation, and
/// CreateChannel's 422 (MediaLive's answer to a role the operator may not pass).
async fn refused(operator: &Operator) -> u64 {
    let refusal = |l: &str| {
        l.contains("outcome=\"denied\"")
            || (l.contains("operation=\"CreateChannel\"") && l.contains("outcome=\"client_error\""))
    };
    (operator.metrics().await.lines())
        .filter(|l| !l.starts_with('#') && l.contains("aws_calls") && refusal(l))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test]
async fn each_action_the_policy_lacks_is_reported_with_the_grant_to_make() {
    let cloud = LocalCloud::start(&[]).await;
    let ns = namespace("least-privilege");
    let operator = Operator::start_with(&cloud, &ns, &["--website-bucket", BUCKET]).await;
    let full = shipped_policy();
    let mut table = Vec::new();
    let mut unneeded = Vec::new();
    for (i, action) in actions().iter().enumerate() {
        // These stories are v1 streams read directly; the MediaPackage v2 and CloudFront actions
        // are shown sufficient by the v2, clip and CloudFront stories, which run under the whole
        // shipped policy.
        if RARE.contains(&action.as_str()) || action.starts_with("mediapackagev2:") || action.starts_with("cloudfront:")
        {
            continue;
        }
        let name = format!("story-{i}");
        let stage = stage(action);
        // One story at a time: the refusals counted below are this story's alone.
        eventually("the previous story to be gone", Duration::from_secs(60), || async {
            let left = kubectl_ok(&["get", "lvs", "-n", &ns, "-o", "name"]);
            left.trim().is_empty().then_some(())
        })
        .await;
        // The Secrets Manager actions are an SRT stream's: its passphrase lives there.
        let srt = action.starts_with("secretsmanager:");
        let input = if srt {
            passphrase(&ns, "least-privilege-1");
            "  input: {protocol: SRT, srt: {passphraseSecretRef: {name: srt-passphrase}}}\n"
        } else {
            ""
        };
        let manifest = format!(
            "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  running: false\n{input}"
        );
        if !matches!(stage, Stage::Create) {
            kubectl_apply(&manifest);
            converged(&ns, &name).await;
        }
        if matches!(stage, Stage::Stop) {
            patch(&ns, &name, r#"{"running":true}"#);
            eventually("RUNNING", Duration::from_secs(30), || async {
                (status(&ns, &name)["state"] == "RUNNING").then_some(())
            })
            .await;
        }
        cloud.set_operator_policy(&without(action)).await;
        match stage {
            Stage::Create => kubectl_apply(&manifest),
            Stage::Start => patch(&ns, &name, r#"{"running":true}"#),
            Stage::Stop => patch(&ns, &name, r#"{"running":false}"#),
            Stage::Update(spec) => patch(&ns, &name, spec),
            Stage::Rotate => passphrase(&ns, "least-privilege-2"),
            Stage::Delete => {
                kubectl_ok(&["delete", "lvs", &name, "-n", &ns, "--wait=false"]);
            }
        }
        // MediaLive words a role it may not receive its own way (422, the permissions it needs).
        let refusal = match action.as_str() {
            "iam:PassRole" => "\"iam:PassRole\"".to_owned(),
            _ => format!("is not authorized to perform: {action}"),
        };
        // A 422 from CreateChannel may be MediaLive not seeing a new MediaPackage channel yet: it
        // is reported after a few quiet retries.
        let wait = Duration::from_secs(if action == "iam:PassRole" { 75 } else { 20 });
        let reported = reported(&ns, &name, &refusal, wait).await;
        println!(
            "{action} ({stage:?}): {}",
            reported.as_ref().map_or("not needed", |_| "reported")
        );
        let Some(degraded) = reported else {
            // This story never needed the action: it must then have gone through without it.
            match stage {
                Stage::Delete => assert!(
                    !kubectl(&["get", "lvs", &name, "-n", &ns]).status.success(),
                    "{action}: {name} is still there: {}",
                    status(&ns, &name)
                ),
                _ => converged(&ns, &name).await,
            }
            unneeded.push(action.clone());
            cloud.set_operator_policy(&full).await;
            if !matches!(stage, Stage::Delete) {
                kubectl_ok(&["delete", "lvs", &name, "-n", &ns, "--wait=false"]);
            }
            continue;
        };
        // The event follows the status write: give it a moment.
        let warned = || async {
            let events = kubectl_ok(&[
                "get",
                "events",
                "-n",
                &ns,
                "--field-selector",
                &format!("involvedObject.name={name},type=Warning"),
                "-o",
                "json",
            ]);
            let events: Value = serde_json::from_str(&events).unwrap();
            (events["items"].as_array().unwrap().iter())
                .any(|e| e["message"].as_str().is_some_and(|m| m.contains(&refusal)))
                .then_some(())
        };
        eventually(
            &format!("a Warning event for {action}"),
            Duration::from_secs(10),
            warned,
        )
        .await;
        // Backoff, not a storm: a few more refusals at most while nothing changes.
        let before = refused(&operator).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let more = refused(&operator).await - before;
        assert!(more <= 3, "{action} refused {more} more times in 4 s");
        table.push(format!(
            "| `{action}` | {stage:?} | {} | {} |",
            degraded["reason"].as_str().unwrap(),
            degraded["message"].as_str().unwrap().replace('|', "\\|")
        ));

        cloud.set_operator_policy(&full).await;
        if matches!(stage, Stage::Delete) {
            eventually(&format!("{name} to be gone"), Duration::from_secs(60), || async {
                let out = kubectl(&["get", "lvs", &name, "-n", &ns]);
                (!out.status.success()).then_some(())
            })
            .await;
        } else {
            if i == 0 {
                // The bucket the operator created blocks public policies until its owner allows them.
                allow_public_pages(&cloud.aws.s3, BUCKET).await;
            }
            converged(&ns, &name).await;
            kubectl_ok(&["delete", "lvs", &name, "-n", &ns, "--wait=false"]);
        }
    }
    println!(
        "| removed action | where | reason | condition message |\n|---|---|---|---|\n{}",
        table.join("\n")
    );
    println!("not needed by these stories: {unneeded:?}");
    for i in 0..actions().len() {
        let name = format!("story-{i}");
        eventually(&format!("{name} to be gone"), Duration::from_secs(90), || async {
            (!kubectl(&["get", "lvs", &name, "-n", &ns]).status.success()).then_some(())
        })
        .await;
    }
    // Least privilege: every action the policy grants is needed by some story.
    assert!(unneeded.is_empty(), "no story needed {unneeded:?}");
}
