//! livestream-local through the operator's own SDK clients: every operation the operator uses, each
//! refusal the real services make, states moved by time, tags, pagination, faults and call counts.

use std::time::Duration;

use aws_sdk_medialive::config::retry::RetryConfig;
use aws_sdk_medialive::{
    error::ProvideErrorMetadata,
    types::{ChannelState, InputSecurityGroupState, InputState, InputType, InputWhitelistRuleCidr},
};
use livestream_operator::{
    api::LiveStreamSpec,
    aws::Role,
    desired::{
        Names,
        ingest::RtmpTarget,
        medialive::{PackageTarget, channel_settings, whitelist_rules},
        mediapackage::hls_package,
    },
};
use serde_json::json;

use crate::support::cloud::{LocalCloud, eventually};

use crate::support::cloud::ROLE;
const WAIT: Duration = Duration::from_secs(10);

fn spec() -> LiveStreamSpec {
    serde_json::from_value(json!({"input": {"allowedCidrs": ["127.0.0.0/8"], "streamName": "live/launch"}})).unwrap()
}

async fn channel_state(cloud: &LocalCloud, id: &str) -> Option<ChannelState> {
    cloud
        .aws
        .medialive
        .describe_channel()
        .channel_id(id)
        .send()
        .await
        .ok()
        .and_then(|c| c.state)
}

async fn input_state(cloud: &LocalCloud, id: &str) -> Option<InputState> {
    cloud
        .aws
        .medialive
        .describe_input()
        .input_id(id)
        .send()
        .await
        .ok()
        .and_then(|i| i.state)
}

async fn wait_channel(cloud: &LocalCloud, id: &str, want: ChannelState) {
    eventually(&format!("channel {id} {want:?}"), WAIT, || async {
        (channel_state(cloud, id).await == Some(want.clone())).then_some(())
    })
    .await;
}

#[tokio::test]
async fn medialive_and_mediapackage_lifecycle_with_every_refusal() {
    let cloud = LocalCloud::start(&[]).await;
    let (ml, mp) = (&cloud.aws.medialive, &cloud.aws.mediapackage);
    let spec = spec();
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "launch".into(),
        endpoint: "launch-hls".into(),
    };

    // Input security group: a bad CIDR is refused, a good one stored.
    let bad = ml
        .create_input_security_group()
        .whitelist_rules(InputWhitelistRuleCidr::builder().cidr("10.0.0.0/33").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Some("BadRequestException"));
    let sg = ml
        .create_input_security_group()
        .set_whitelist_rules(Some(whitelist_rules(&spec.input)))
        .tags("livestream.io/name", "launch")
        .send()
        .await
        .unwrap()
        .security_group
        .unwrap();
    let sg_id = sg.id.clone().unwrap();
    assert_eq!(sg.state, Some(InputSecurityGroupState::Idle));
    assert_eq!(sg.whitelist_rules.unwrap()[0].cidr.as_deref(), Some("127.0.0.0/8"));

    // RTMP input: CREATING, then DETACHED; its URL is a real RTMP port with the stream name.
    let input = ml
        .create_input()
        .name(names.input(Role::Primary))
        .r#type(InputType::RtmpPush)
        .input_security_groups(&sg_id)
        .set_destinations(Some(RtmpTarget::public(&spec.input).destinations(1)))
        .send()
        .await
        .unwrap()
        .input
        .unwrap();
    let input_id = input.id.clone().unwrap();
    assert_eq!(input.state, Some(InputState::Creating));
    let url = input.destinations.unwrap()[0].url.clone().unwrap();
    assert!(
        url.starts_with("rtmp://127.0.0.1:") && url.ends_with("/live/launch"),
        "{url}"
    );
    eventually("input DETACHED", WAIT, || async {
        (input_state(&cloud, &input_id).await == Some(InputState::Detached)).then_some(())
    })
    .await;

    // MediaPackage channel (a duplicate id is refused) and its HLS endpoint.
    mp.create_channel()
        .id(&names.channel)
        .tags("livestream.io/name", "launch")
        .send()
        .await
        .unwrap();
    let duplicate = mp.create_channel().id(&names.channel).send().await.unwrap_err();
    assert_eq!(duplicate.code(), Some("UnprocessableEntityException"));
    let endpoint = mp
        .create_origin_endpoint()
        .channel_id(&names.channel)
        .id(&names.endpoint)
        .hls_package(hls_package(&spec.packaging.hls))
        .send()
        .await
        .unwrap();
    assert!(
        endpoint
            .url
            .as_deref()
            .unwrap()
            .ends_with("/out/v1/launch-hls/index.m3u8")
    );
    assert_eq!(endpoint.hls_package.unwrap().segment_duration_seconds, Some(5));

    // A channel pointing at a MediaPackage channel that does not exist is refused.
    let request_for = |names: &Names| {
        let inputs = [(Role::Primary, input_id.as_str())];
        channel_settings(&spec, names, &inputs, ROLE, PackageTarget::V1).request
    };
    let mut dangling = request_for(&names);
    dangling["Destinations"] = request_for(&Names {
        channel: "nope".into(),
        ..names.clone()
    })["Destinations"]
        .clone();
    let refused = cloud.send_channel(&dangling).await.unwrap_err();
    assert!(refused.contains("UnprocessableEntityException"), "{refused}");
    assert!(
        refused.contains("MediaPackage channel nope does not exist"),
        "{refused}"
    );

    // The channel: CREATING (cannot start yet), then IDLE; the input is ATTACHED, the group IN_USE.
    let mut request = request_for(&names);
    request["Tags"] = json!({"livestream.io/name": "launch"});
    let channel = cloud.send_channel(&request).await.unwrap()["channel"].clone();
    let channel_id = channel["id"].as_str().unwrap().to_owned();
    let channel_arn = channel["arn"].as_str().unwrap().to_owned();
    assert_eq!(channel["state"], "CREATING");
    let early = ml.start_channel().channel_id(&channel_id).send().await.unwrap_err();
    assert_eq!(early.code(), Some("BadRequestException"));
    wait_channel(&cloud, &channel_id, ChannelState::Idle).await;
    assert_eq!(input_state(&cloud, &input_id).await, Some(InputState::Attached));
    let in_use = ml
        .describe_input_security_group()
        .input_security_group_id(&sg_id)
        .send()
        .await
        .unwrap();
    assert_eq!(in_use.state, Some(InputSecurityGroupState::InUse));
    assert_eq!(in_use.inputs.unwrap(), std::slice::from_ref(&input_id));

    // Start: STARTING, then RUNNING; while running nothing may be updated or deleted.
    let started = ml.start_channel().channel_id(&channel_id).send().await.unwrap();
    assert_eq!(started.state, Some(ChannelState::Starting));
    wait_channel(&cloud, &channel_id, ChannelState::Running).await;
    let again = ml.start_channel().channel_id(&channel_id).send().await.unwrap_err();
    assert_eq!(again.code(), Some("ConflictException"));
    let update = ml
        .update_channel()
        .channel_id(&channel_id)
        .name("renamed")
        .send()
        .await
        .unwrap_err();
    assert_eq!(update.code(), Some("ConflictException"));
    let delete = ml.delete_channel().channel_id(&channel_id).send().await.unwrap_err();
    assert_eq!(delete.code(), Some("ConflictException"));
    assert!(
        delete
            .message()
            .unwrap()
            .contains("Cannot delete a channel that has not been stopped yet")
    );
    let delete_input = ml.delete_input().input_id(&input_id).send().await.unwrap_err();
    assert_eq!(delete_input.code(), Some("ConflictException"));
    let delete_sg = ml
        .delete_input_security_group()
        .input_security_group_id(&sg_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(delete_sg.code(), Some("BadRequestException"));
    let delete_mp = mp.delete_channel().id(&names.channel).send().await.unwrap_err();
    assert_eq!(delete_mp.code(), Some("UnprocessableEntityException"));

    // Stop, then update the ladder (UPDATING, then IDLE) and read it back.
    let stopped = ml.stop_channel().channel_id(&channel_id).send().await.unwrap();
    assert_eq!(stopped.state, Some(ChannelState::Stopping));
    wait_channel(&cloud, &channel_id, ChannelState::Idle).await;
    let mut smaller = spec.clone();
    smaller.encoding.renditions.truncate(1);
    let encoder = channel_settings(
        &smaller,
        &names,
        &[(Role::Primary, input_id.as_str())],
        ROLE,
        PackageTarget::V1,
    )
    .request["EncoderSettings"]
        .to_string();
    let cli = crate::support::tools::Cli { cloud: &cloud };
    let updated = (cli.ok(&[
        "medialive",
        "update-channel",
        "--channel-id",
        &channel_id,
        "--encoder-settings",
        &encoder,
    ]))
    .await;
    assert_eq!(updated["Channel"]["State"], "UPDATING");
    wait_channel(&cloud, &channel_id, ChannelState::Idle).await;
    let described = ml.describe_channel().channel_id(&channel_id).send().await.unwrap();
    assert_eq!(described.encoder_settings.unwrap().video_descriptions.unwrap().len(), 1);

    // Tags by ARN.
    ml.create_tags()
        .resource_arn(&channel_arn)
        .tags("team", "events")
        .send()
        .await
        .unwrap();
    ml.delete_tags()
        .resource_arn(&channel_arn)
        .tag_keys("livestream.io/name")
        .send()
        .await
        .unwrap();
    let tags = ml
        .list_tags_for_resource()
        .resource_arn(&channel_arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        [("team".to_owned(), "events".to_owned())]
    );

    // Pagination: two groups, one per page.
    let second = ml
        .create_input_security_group()
        .whitelist_rules(InputWhitelistRuleCidr::builder().cidr("10.0.0.0/8").build())
        .send()
        .await
        .unwrap()
        .security_group
        .unwrap()
        .id
        .unwrap();
    let page = ml.list_input_security_groups().max_results(1).send().await.unwrap();
    assert_eq!(page.input_security_groups.unwrap().len(), 1);
    let next = ml
        .list_input_security_groups()
        .max_results(1)
        .next_token(page.next_token.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(next.input_security_groups.unwrap().len(), 1);
    assert!(next.next_token.is_none());
    ml.delete_input_security_group()
        .input_security_group_id(&second)
        .send()
        .await
        .unwrap();

    // Teardown in dependency order; each resource is gone afterwards.
    let deleting = ml.delete_channel().channel_id(&channel_id).send().await.unwrap();
    assert_eq!(deleting.state, Some(ChannelState::Deleting));
    wait_channel(&cloud, &channel_id, ChannelState::Deleted).await;
    let listed = ml.list_channels().send().await.unwrap().channels.unwrap();
    assert!(listed.is_empty(), "deleted channels are not listed");
    assert_eq!(input_state(&cloud, &input_id).await, Some(InputState::Detached));
    ml.delete_input().input_id(&input_id).send().await.unwrap();
    eventually("input DELETED", WAIT, || async {
        (input_state(&cloud, &input_id).await == Some(InputState::Deleted)).then_some(())
    })
    .await;
    ml.delete_input_security_group()
        .input_security_group_id(&sg_id)
        .send()
        .await
        .unwrap();
    let gone = ml
        .describe_input_security_group()
        .input_security_group_id(&sg_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Some("NotFoundException"));
    mp.delete_origin_endpoint().id(&names.endpoint).send().await.unwrap();
    mp.delete_channel().id(&names.channel).send().await.unwrap();
    let gone = mp.describe_channel().id(&names.channel).send().await.unwrap_err();
    assert_eq!(gone.code(), Some("NotFoundException"));

    // Every call was counted, refusals by their error type.
    let (status, metrics) = cloud.get("/metrics").await;
    assert_eq!(status, 200);
    for line in [
        r#"{service="medialive",operation="StartChannel",outcome="ok"} 1"#,
        r#"{service="medialive",operation="DeleteChannel",outcome="ConflictException"} 1"#,
        r#"{service="mediapackage",operation="CreateChannel",outcome="UnprocessableEntityException"} 1"#,
    ] {
        assert!(metrics.contains(line), "metrics lack {line}:\n{metrics}");
    }
}

#[tokio::test]
async fn throttling_and_injected_errors_reach_the_sdk_as_aws_errors() {
    let cloud = LocalCloud::start(&["--throttle", "ListChannels=2"]).await;
    // Without SDK retries, to see each answer as the server gave it.
    let config = cloud
        .aws
        .medialive
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    let medialive = aws_sdk_medialive::Client::from_conf(config);
    let mut throttled = 0;
    for _ in 0..10 {
        if let Err(e) = medialive.list_channels().send().await {
            assert_eq!(e.code(), Some("TooManyRequestsException"));
            throttled += 1;
        }
    }
    assert!(
        (5..=9).contains(&throttled),
        "a burst of 10 against 2 calls/s: {throttled} throttled"
    );
    assert!(
        medialive.list_input_security_groups().send().await.is_ok(),
        "other operations are not throttled"
    );

    // Faults can be changed at run time through the admin API.
    let (status, body) = cloud
        .admin("PUT", "/_local/faults", &serde_json::json!({"errorRate": 1.0}))
        .await;
    assert_eq!(status, 200, "{body}");
    let failed = medialive.list_inputs().send().await.unwrap_err();
    assert_eq!(failed.code(), Some("InternalServerErrorException"));
    let (_, calls) = cloud.get("/_local/calls").await;
    let calls: serde_json::Value = serde_json::from_str(&calls).unwrap();
    let throttled_calls = calls
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["operation"] == "ListChannels" && c["outcome"] == "TooManyRequestsException")
        .map(|c| c["count"].as_u64().unwrap());
    assert_eq!(throttled_calls, Some(throttled));
}
