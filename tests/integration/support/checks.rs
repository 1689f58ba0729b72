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
    inventory_v2(aws, &mut all, uid).await;
    inventory_cloudfront(aws, &mut all).await;
    // Secrets scheduled for deletion count: a recovery window keeps the passphrase.
    let secrets = aws
        .secretsmanager
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .unwrap();
    let owner = |tags: &[aws_sdk_secretsmanager::types::Tag]| {
        (tags
            .iter()
            .find(|t| t.key() == Some(livestream_operator::desired::tag::UID)))
        .and_then(|t| t.value().map(str::to_owned))
        .unwrap_or_default()
    };
    all.insert(
        "secrets",
        secrets.secret_list().iter().map(|s| owner(s.tags())).collect(),
    );
    all
}

/// CloudFront: distributions by their owner tag, and the operator's origin access controls by name.
async fn inventory_cloudfront(aws: &AwsClients, all: &mut HashMap<&'static str, Vec<String>>) {
    let listed = aws.cloudfront.list_distributions().send().await.unwrap();
    let mut owners = Vec::new();
    for d in listed.distribution_list.iter().flat_map(|l| l.items.iter().flatten()) {
        let tags = aws
            .cloudfront
            .list_tags_for_resource()
            .resource(&d.arn)
            .send()
            .await
            .unwrap();
        let uid = (tags.tags.iter().flat_map(|t| t.items.iter().flatten()))
            .find(|t| t.key == livestream_operator::desired::tag::UID)
            .and_then(|t| t.value.clone());
        owners.push(uid.unwrap_or_default());
    }
    all.insert("distributions", owners);
    let oacs = aws.cloudfront.list_origin_access_controls().send().await.unwrap();
    let names = (oacs
        .origin_access_control_list
        .iter()
        .flat_map(|l| l.items.iter().flatten()))
    .map(|o| o.name.clone())
    .collect();
    all.insert("origin access controls", names);
}

/// MediaPackage v2 in the operator's default group: channels, and endpoints by name.
async fn inventory_v2(
    aws: &AwsClients,
    all: &mut HashMap<&'static str, Vec<String>>,
    uid: impl Fn(Option<&HashMap<String, String>>) -> String,
) {
    for kind in V2_KINDS {
        all.insert(kind, Vec::new());
    }
    let v2 = &aws.mediapackagev2;
    let Ok(listed) = v2.list_channels().channel_group_name(GROUP).send().await else {
        return; // no group: nothing in it
    };
    for channel in listed.items() {
        let name = &channel.channel_name;
        let got = v2
            .get_channel()
            .channel_group_name(GROUP)
            .channel_name(name)
            .send()
            .await
            .unwrap();
        all.get_mut("v2 channels").unwrap().push(uid(got.tags.as_ref()));
        let endpoints = v2
            .list_origin_endpoints()
            .channel_group_name(GROUP)
            .channel_name(name)
            .send()
            .await
            .unwrap();
        for e in endpoints.items() {
            let got = v2
                .get_origin_endpoint()
                .channel_group_name(GROUP)
                .channel_name(name)
                .origin_endpoint_name(&e.origin_endpoint_name)
                .send()
                .await
                .unwrap();
            let kind = V2_KINDS[1..]
                .iter()
                .find(|k| k.starts_with(&format!("v2 {} ", e.origin_endpoint_name)))
                .unwrap_or(&"v2 other endpoints");
            all.entry(kind).or_default().push(uid(got.tags.as_ref()));
        }
    }
}

/// The operator's default channel group.
const GROUP: &str = "livestream";
const V2_KINDS: [&str; 4] = [
    "v2 channels",
    "v2 hls endpoints",
    "v2 llhls endpoints",
    "v2 dash endpoints",
];
const V1_KINDS: [&str; 2] = ["package channels", "endpoints"];
const CLOUDFRONT_KINDS: [&str; 2] = ["distributions", "origin access controls"];
/// An SRT stream's passphrase secret.
const SRT_KINDS: [&str; 1] = ["secrets"];

/// Asserts that each kind of a v1 stream holds exactly one resource per uid in `uids`, and that
/// nothing else exists (no v2 resources either).
pub async fn assert_exactly_one_each(aws: &AwsClients, uids: &[String]) {
    assert_each(aws, uids, &[&V2_KINDS[..], &CLOUDFRONT_KINDS, &SRT_KINDS].concat()).await;
}

/// The same for v1 SRT streams: one passphrase secret each besides.
pub async fn assert_exactly_one_each_srt(aws: &AwsClients, uids: &[String]) {
    assert_each(aws, uids, &[&V2_KINDS[..], &CLOUDFRONT_KINDS].concat()).await;
}

/// The same for v1 streams delivered through CloudFront with a player page: one distribution
/// each, and the shared origin access controls their uids spread over.
pub async fn assert_exactly_one_each_cloudfront(aws: &AwsClients, uids: &[String]) {
    assert_each(aws, uids, &[&V2_KINDS[..], &SRT_KINDS].concat()).await;
}

/// The same for v2 streams: no MediaPackage v1 resources, one v2 channel and one endpoint of each
/// manifest kind per stream.
pub async fn assert_exactly_one_each_v2(aws: &AwsClients, uids: &[String]) {
    assert_each(aws, uids, &[&V1_KINDS[..], &CLOUDFRONT_KINDS, &SRT_KINDS].concat()).await;
}

async fn assert_each(aws: &AwsClients, uids: &[String], absent: &[&str]) {
    for (kind, owners) in inventory(aws).await {
        let mut owners = owners;
        owners.sort();
        let mut want = match kind {
            _ if absent.contains(&kind) => vec![],
            "origin access controls" => uids
                .iter()
                .map(|u| livestream_operator::desired::cloudfront::oac_name(u))
                .collect(),
            _ => uids.to_vec(),
        };
        want.sort();
        want.dedup();
        assert_eq!(owners, want, "{kind}: exactly one per LiveStream");
    }
}
