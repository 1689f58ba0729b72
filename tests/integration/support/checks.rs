//! Checks several stories make: what AWS resources exist (and whose), what RBAC allows.

use std::collections::HashMap;

use aws_sdk_medialive::types::{ChannelState, InputState};
use livestream_operator::aws::AwsClients;

use super::cluster::kubectl;

const OPERATOR: &str = "system:serviceaccount:livestream-system:livestream-operator";

/// `kubectl auth can-i VERB RESOURCE --as` the operator's ServiceAccount, in `scope` (-n NS or -A).
pub fn can_i(verb: &str, resource: &str, scope: &[&str]) -> bool {
    let mut args = vec!["auth", "can-i", verb, resource, "--as", OPERATOR];
    args.extend_from_slice(scope);
    let out = kubectl(&args);
    String::from_utf8_lossy(&out.stdout).trim() == "yes"
}

/// Every live MediaLive and MediaPackage resource, by kind, with its owner uid.
pub async fn inventory(aws: &AwsClients) -> HashMap<&'static str, Vec<String>> {
    let uid = |tags: Option<&HashMap<String, String>>| {
        tags.and_then(|t| t.get(livestream_operator::desired::tag::UID))
            .cloned()
            .unwrap_or_default()
    };
    let mut all: HashMap<&'static str, Vec<String>> = HashMap::new();
    let groups = aws.medialive.list_input_security_groups().send().await.unwrap();
    all.insert(
        "security groups",
        groups
            .input_security_groups()
            .iter()
            .map(|g| uid(g.tags.as_ref()))
            .collect(),
    );
    let inputs = aws.medialive.list_inputs().send().await.unwrap();
    all.insert(
        "inputs",
        inputs
            .inputs()
            .iter()
            .filter(|i| i.state != Some(InputState::Deleted))
            .map(|i| uid(i.tags.as_ref()))
            .collect(),
    );
    let channels = aws.medialive.list_channels().send().await.unwrap();
    all.insert(
        "channels",
        channels
            .channels()
            .iter()
            .filter(|c| c.state != Some(ChannelState::Deleted))
            .map(|c| uid(c.tags.as_ref()))
            .collect(),
    );
    let packages = aws.mediapackage.list_channels().send().await.unwrap();
    all.insert(
        "package channels",
        packages.channels().iter().map(|c| uid(c.tags.as_ref())).collect(),
    );
    let endpoints = aws.mediapackage.list_origin_endpoints().send().await.unwrap();
    all.insert(
        "endpoints",
        endpoints
            .origin_endpoints()
            .iter()
            .map(|e| uid(e.tags.as_ref()))
            .collect(),
    );
    all
}

/// Asserts that each kind holds exactly one resource per uid in `uids` and nothing else.
pub async fn assert_exactly_one_each(aws: &AwsClients, uids: &[String]) {
    for (kind, owners) in inventory(aws).await {
        let mut owners = owners;
        owners.sort();
        let mut want = uids.to_vec();
        want.sort();
        assert_eq!(owners, want, "{kind}: exactly one per LiveStream");
    }
}
