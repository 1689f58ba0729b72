//! AWS's quotas as a team meets them: an account whose MediaPackage v2 channel groups hold few
//! channels. The operator fills its channel group, opens the next one, and when the account may have
//! no more groups the next stream says which quota stopped it and how to raise it; deleting a stream
//! makes room and the waiting stream takes it. livestream-local enforces the quotas as AWS does.

use std::time::Duration;

use serde_json::Value;

use crate::{
    support::cloud::{LocalCloud, eventually, shipped_policy},
    support::cluster::{kubectl_apply, kubectl_ok, namespace},
    support::operator::{Operator, kubectl_wait, status},
    support::tools::Cli,
};

const PLACED: &str = "media.livestream.io/channel-group";

fn stream(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: media.livestream.io/v1alpha1\nkind: LiveStream\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  input:\n    streamName: live/{name}\n"
    )
}

/// The v2 channels of `group`, by name, through the AWS CLI.
async fn channels_in(cli: &Cli<'_>, group: &str) -> Vec<String> {
    let listed = cli
        .ok(&["mediapackagev2", "list-channels", "--channel-group-name", group])
        .await;
    let mut names: Vec<String> = (listed["Items"].as_array().into_iter().flatten())
        .map(|c| c["ChannelName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn degraded(ns: &str, name: &str) -> Option<Value> {
    let conditions = status(ns, name)["conditions"].clone();
    (conditions.as_array().into_iter().flatten())
        .find(|c| c["type"] == "Degraded" && c["status"] == "True")
        .cloned()
}

#[tokio::test]
async fn full_channel_groups_spread_streams_until_the_account_quota_names_itself() {
    // Two channels per group and two groups: an account's defaults (10 and 3) made small.
    let quotas = ["--mediapackagev2-quotas", "channels=2,channelGroups=2"];
    let cloud = LocalCloud::start_with_policy(&quotas, &shipped_policy()).await;
    let cli = Cli { cloud: &cloud };
    let ns = namespace("quotas");
    let _operator = Operator::start_with(&cloud, &ns, &["--packaging-version", "v2"]).await;

    // Four streams fill the operator's group and the next one it opens.
    for name in ["a", "b", "c", "d"] {
        kubectl_apply(&stream(&ns, name));
    }
    for name in ["a", "b", "c", "d"] {
        kubectl_wait(&ns, "condition=Ready", name, Duration::from_secs(120));
    }
    let (first, second) = (
        channels_in(&cli, "livestream").await,
        channels_in(&cli, "livestream-2").await,
    );
    assert_eq!((first.len(), second.len()), (2, 2), "{first:?} {second:?}");
    for name in &second {
        let placed = kubectl_ok(&[
            "get",
            "lvs",
            name,
            "-n",
            &ns,
            "-o",
            &format!("jsonpath={{.metadata.annotations.{}}}", PLACED.replace('.', "\\.")),
        ]);
        assert_eq!(placed, "livestream-2", "{name} records the group it was placed in");
        assert_eq!(status(&ns, name)["aws"]["channelGroup"], "livestream-2");
    }
    let events = kubectl_ok(&["get", "events", "-n", &ns, "-o", "jsonpath={.items[*].reason}"]);
    assert!(events.contains("ChannelGroupFull"), "{events}");

    // A fifth: no room in either group, and the account may have no third.
    kubectl_apply(&stream(&ns, "e"));
    let condition = eventually("e to say which quota stopped it", Duration::from_secs(90), || async {
        degraded(&ns, "e").filter(|c| c["reason"] == "AwsQuotaExceeded")
    })
    .await;
    let message = condition["message"].as_str().unwrap();
    for part in [
        "CreateChannelGroup: ServiceQuotaExceededException",
        "quota of channel groups per account is reached",
        "aws service-quotas request-service-quota-increase --service-code mediapackagev2",
    ] {
        assert!(message.contains(part), "{part:?} in {message}");
    }

    // One stream leaves; within a minute (a full group is tried again) the fifth takes its place.
    let leaving = first[0].clone();
    kubectl_ok(&["delete", "lvs", &leaving, "-n", &ns, "--wait=true", "--timeout=90s"]);
    kubectl_wait(&ns, "condition=Ready", "e", Duration::from_secs(200));
    assert_eq!(status(&ns, "e")["aws"]["channelGroup"], "livestream");
    assert!(channels_in(&cli, "livestream").await.contains(&"e".to_owned()));

    // Everything goes; so do both groups.
    kubectl_ok(&["delete", "lvs", "--all", "-n", &ns, "--wait=true", "--timeout=120s"]);
    for group in ["livestream", "livestream-2"] {
        let gone = cli
            .fails(&["mediapackagev2", "get-channel-group", "--channel-group-name", group])
            .await;
        assert!(gone.contains("ResourceNotFoundException"), "{group}: {gone}");
    }
    let channels = cli.ok(&["medialive", "list-channels"]).await;
    assert_eq!(channels["Channels"].as_array().map_or(0, Vec::len), 0, "{channels}");
}
