//! Redundancy for real: a STANDARD channel's two pipelines each ingest their own destination of a
//! standard-class input and MediaPackage switches to the live one when the served pipeline loses
//! its encoder; automatic input failover switches a pipeline to the backup input and back
//! (PRIMARY_INPUT_PREFERRED); the refusals come with AWS's error types. Each encoder burns in
//! its own colour, read back from the newest segment the endpoint serves.

use std::time::Duration;

use aws_sdk_medialive::types::{
    AutomaticInputFailoverSettings, ChannelClass, ChannelState, FailoverCondition, FailoverConditionSettings,
    InputDestinationRequest, InputLossFailoverSettings, InputPreference, InputType, InputWhitelistRuleCidr,
};
use livestream_operator::aws::Role;
use livestream_operator::desired::medialive::{ChannelSettings, PackageTarget, channel_settings};
use livestream_operator::{api::LiveStreamSpec, desired::Names};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::support::cloud::{LocalCloud, ROLE, TestChannel, eventually, http_get};
use crate::support::tools::{colour_encoder, colour_of};

const RED: u32 = 0xFF0000;
const BLUE: u32 = 0x0000FF;

async fn stop(mut child: Child) {
    let _ = child.kill().await;
    let _ = child.wait().await;
}

fn spec() -> LiveStreamSpec {
    serde_json::from_value(json!({
        "input": {"allowedCidrs": ["127.0.0.0/8"], "streamName": "live/colour"},
        "encoding": {"renditions": [{"name": "sd", "width": 640, "height": 360, "bitsPerSecond": 800000}]},
        "packaging": {"hls": {"segmentDurationSeconds": 2, "playlistWindowSeconds": 30}}
    }))
    .unwrap()
}

/// The endpoint's media playlist: (its text, the newest segment's URL, its sequence number).
async fn newest(playback: &str) -> Option<(String, String, u64)> {
    let base = playback.replace("index.m3u8", "");
    let (status, master) = http_get(playback).await;
    if status != 200 {
        return None;
    }
    let variant = master
        .lines()
        .find(|l| !l.starts_with('#') && !l.is_empty())?
        .to_owned();
    let (_, media) = http_get(&format!("{base}{variant}")).await;
    let first: u64 = media
        .lines()
        .find_map(|l| l.strip_prefix("#EXT-X-MEDIA-SEQUENCE:")?.parse().ok())?;
    let count = media.matches("#EXTINF").count() as u64;
    let segment = media.lines().rfind(|l| l.ends_with(".ts"))?.to_owned();
    let dir = variant.rsplit_once('/').map_or("", |(dir, _)| dir);
    Some((media.clone(), format!("{base}{dir}/{segment}"), first + count))
}

/// Waits until the newest segment shows `colour`; returns the media playlist then.
async fn on_air(playback: &str, colour: u32, within: Duration) -> (String, u64) {
    eventually(&format!("colour {colour:06X} on air"), within, || async {
        let (media, url, next) = newest(playback).await?;
        (colour_of(&url, &[RED, BLUE]).await? == colour).then_some((media, next))
    })
    .await
}

type Described = aws_sdk_medialive::operation::describe_channel::DescribeChannelOutput;

async fn describe(cloud: &LocalCloud, channel_id: &str) -> Described {
    let ml = &cloud.aws.medialive;
    ml.describe_channel().channel_id(channel_id).send().await.unwrap()
}

/// Each pipeline's active input attachment.
fn active_inputs(described: &Described) -> Vec<Option<String>> {
    (described.pipeline_details.iter().flatten())
        .map(|d| d.active_input_attachment_name.clone())
        .collect()
}

/// The SET alerts of a channel: (pipelineId, alertType).
async fn set_alerts(cloud: &LocalCloud, channel_id: &str) -> Vec<(String, String)> {
    let alerts = cloud
        .aws
        .medialive
        .list_alerts()
        .channel_id(channel_id)
        .state_filter("SET")
        .send()
        .await
        .unwrap();
    (alerts.alerts.unwrap_or_default().into_iter())
        .map(|a| (a.pipeline_id.unwrap_or_default(), a.alert_type.unwrap_or_default()))
        .collect()
}

/// A security group, `destinations` RTMP push inputs (each with that many destinations of the
/// same stream name), a MediaPackage channel with an HLS endpoint; returns the inputs' ids and
/// destination URLs, the playback URL and the channel's desired settings.
async fn setup(
    cloud: &LocalCloud,
    names: &Names,
    destinations: &[usize],
) -> (String, Vec<(String, Vec<String>)>, String, ChannelSettings) {
    let ml = &cloud.aws.medialive;
    let spec = spec();
    let sg = ml
        .create_input_security_group()
        .whitelist_rules(InputWhitelistRuleCidr::builder().cidr("127.0.0.0/8").build())
        .send()
        .await
        .unwrap();
    let sg = sg.security_group.unwrap().id.unwrap();
    let mut inputs = Vec::new();
    for (n, count) in destinations.iter().enumerate() {
        let destination = InputDestinationRequest::builder()
            .stream_name(format!("live/colour{n}"))
            .build();
        let input = ml
            .create_input()
            .r#type(InputType::RtmpPush)
            .input_security_groups(&sg)
            .set_destinations(Some(vec![destination; *count]))
            .send()
            .await
            .unwrap()
            .input
            .unwrap();
        let urls = (input.destinations.unwrap().into_iter())
            .map(|d| d.url.unwrap())
            .collect();
        inputs.push((input.id.unwrap(), urls));
    }
    let playback = cloud.hls_endpoint(&spec, names).await;
    let roles = [Role::Primary, Role::Backup];
    let attached: Vec<(Role, &str)> = (inputs.iter().zip(roles))
        .map(|((id, _), role)| (role, id.as_str()))
        .collect();
    let settings = channel_settings(&spec, names, &attached, ROLE, PackageTarget::V1);
    (sg, inputs, playback, settings)
}

async fn create(cloud: &LocalCloud, settings: ChannelSettings, sg: &str, playback: &str) -> TestChannel {
    let channel_id = cloud.create_channel(&settings).await;
    let channel = TestChannel {
        security_group_id: sg.to_owned(),
        channel_id,
        ingest: String::new(),
        playback: playback.to_owned(),
    };
    cloud.channel_state(&channel, ChannelState::Idle).await;
    channel
}

/// The ffmpeg transcoders livestream-local runs under its data directory.
async fn transcoders(cloud: &LocalCloud) -> usize {
    let pattern = format!("^ffmpeg .*{}", cloud.data_dir.display());
    let out = Command::new("pgrep").args(["-f", &pattern]).output().await.unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

async fn stop_channel(cloud: &LocalCloud, channel: &TestChannel) {
    let ml = &cloud.aws.medialive;
    ml.stop_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(channel, ChannelState::Idle).await;
    eventually("no ffmpeg left for the channel", Duration::from_secs(15), || async {
        (transcoders(cloud).await == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_standard_channel_keeps_serving_from_the_other_pipeline_when_one_encoder_dies() {
    let cloud = LocalCloud::start(&[]).await;
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "standard".into(),
        endpoint: "standard-hls".into(),
    };
    let (sg, inputs, playback, mut settings) = setup(&cloud, &names, &[2]).await;
    let urls = &inputs[0].1;
    let port = |url: &str| url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
    assert_ne!(
        port(&urls[0]),
        port(&urls[1]),
        "each destination has its own listener: {urls:?}"
    );
    settings.request["ChannelClass"] = json!("STANDARD");
    let channel = create(&cloud, settings, &sg, &playback).await;
    let ml = &cloud.aws.medialive;
    ml.start_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Running).await;

    let red = colour_encoder(&urls[0], RED);
    on_air(&playback, RED, Duration::from_secs(40)).await;
    let mut blue = colour_encoder(&urls[1], BLUE);
    let attachment = names.input(Role::Primary);
    eventually("both pipelines healthy", Duration::from_secs(20), || async {
        let described = describe(&cloud, &channel.channel_id).await;
        let both = active_inputs(&described) == [Some(attachment.clone()), Some(attachment.clone())];
        (described.pipelines_running_count == Some(2) && both).then_some(())
    })
    .await;
    // The standby pipeline really encodes, into a folder MediaPackage does not serve.
    let scratch = cloud
        .data_dir
        .join(format!("medialive/{}/pipeline-1", channel.channel_id));
    eventually("the standby pipeline's segments", Duration::from_secs(20), || async {
        let renditions = std::fs::read_dir(&scratch)
            .ok()?
            .flatten()
            .filter(|e| e.path().is_dir());
        let segments = renditions
            .flat_map(|r| std::fs::read_dir(r.path()).into_iter().flatten().flatten())
            .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
            .count();
        (segments > 0).then_some(())
    })
    .await;
    assert_eq!(transcoders(&cloud).await, 2, "one ffmpeg per pipeline");
    let (_, before) = on_air(&playback, RED, Duration::from_secs(10)).await;

    // The encoder on air dies: the endpoint goes on with the other pipeline's picture.
    stop(red).await;
    let (media, after) = on_air(&playback, BLUE, Duration::from_secs(30)).await;
    assert!(after > before, "sequence numbers continue: {before} then {after}");
    assert!(media.contains("#EXT-X-DISCONTINUITY"), "{media}");
    eventually("pipeline 0 lost, its alert raised", Duration::from_secs(15), || async {
        let described = describe(&cloud, &channel.channel_id).await;
        let alerts = set_alerts(&cloud, &channel.channel_id).await;
        let lost = alerts.iter().any(|(p, t)| p == "0" && t == "RTMP Has No Audio/Video");
        let healthy_one = alerts.iter().all(|(p, _)| p == "0");
        (described.pipelines_running_count == Some(1) && lost && healthy_one).then_some(())
    })
    .await;

    // The encoder comes back: both pipelines healthy, the alert cleared, the endpoint stays.
    let red = colour_encoder(&urls[0], RED);
    eventually("pipeline 0 back", Duration::from_secs(20), || async {
        let described = describe(&cloud, &channel.channel_id).await;
        let alerts = set_alerts(&cloud, &channel.channel_id).await;
        (described.pipelines_running_count == Some(2) && alerts.is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    on_air(&playback, BLUE, Duration::from_secs(10)).await;

    stop_channel(&cloud, &channel).await;
    stop(red).await;
    let _ = blue.kill().await;
}

#[tokio::test]
async fn automatic_input_failover_goes_to_the_backup_and_back_to_the_preferred_primary() {
    let cloud = LocalCloud::start(&[]).await;
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "failover".into(),
        endpoint: "failover-hls".into(),
    };
    let (sg, inputs, playback, mut settings) = setup(&cloud, &names, &[1, 1]).await;
    let failover = AutomaticInputFailoverSettings::builder()
        .secondary_input_id(&inputs[1].0)
        .input_preference(InputPreference::PrimaryInputPreferred)
        .error_clear_time_msec(3000)
        .failover_conditions(
            FailoverCondition::builder()
                .failover_condition_settings(
                    FailoverConditionSettings::builder()
                        .input_loss_settings(
                            InputLossFailoverSettings::builder()
                                .input_loss_threshold_msec(1000)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build();
    settings.request["InputAttachments"][0]["AutomaticInputFailoverSettings"] = json!({
        "SecondaryInputId": inputs[1].0,
        "InputPreference": "PRIMARY_INPUT_PREFERRED",
        "ErrorClearTimeMsec": 3000,
        "FailoverConditions": [{"FailoverConditionSettings": {"InputLossSettings": {"InputLossThresholdMsec": 1000}}}],
    });
    let channel = create(&cloud, settings, &sg, &playback).await;
    let described = describe(&cloud, &channel.channel_id).await;
    let attachments = described.input_attachments.unwrap_or_default();
    assert_eq!(
        attachments[0].automatic_input_failover_settings,
        Some(failover),
        "described back as sent"
    );
    let ml = &cloud.aws.medialive;
    ml.start_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Running).await;
    let active = || async {
        let described = describe(&cloud, &channel.channel_id).await;
        active_inputs(&described).first().cloned().flatten()
    };

    let red = colour_encoder(&inputs[0].1[0], RED);
    let mut blue = colour_encoder(&inputs[1].1[0], BLUE);
    on_air(&playback, RED, Duration::from_secs(40)).await;
    assert_eq!(active().await, Some(names.input(Role::Primary)));

    stop(red).await;
    on_air(&playback, BLUE, Duration::from_secs(20)).await;
    assert_eq!(active().await, Some(names.input(Role::Backup)));
    let alerts = set_alerts(&cloud, &channel.channel_id).await;
    assert!(
        alerts.iter().any(|(p, t)| p == "0" && t == "Input Failed Over"),
        "{alerts:?}"
    );

    // The primary is back: after the clear time (3 s) the channel returns to it.
    let red = colour_encoder(&inputs[0].1[0], RED);
    on_air(&playback, RED, Duration::from_secs(30)).await;
    assert_eq!(active().await, Some(names.input(Role::Primary)));
    eventually("the failover alert cleared", Duration::from_secs(5), || async {
        let alerts = set_alerts(&cloud, &channel.channel_id).await;
        (!alerts.iter().any(|(_, t)| t == "Input Failed Over")).then_some(())
    })
    .await;

    stop_channel(&cloud, &channel).await;
    stop(red).await;
    let _ = blue.kill().await;
}

#[tokio::test]
async fn redundancy_refusals_carry_aws_error_types() {
    let cloud = LocalCloud::start(&[]).await;
    let names = Names {
        protocol: "rtmp",
        passphrase_secret: String::new(),
        channel: "refusals".into(),
        endpoint: "refusals-hls".into(),
    };
    let (sg, inputs, playback, settings) = setup(&cloud, &names, &[1, 1]).await;
    let ml = &cloud.aws.medialive;
    let code = |e: &dyn aws_sdk_medialive::error::ProvideErrorMetadata| e.code().unwrap_or_default().to_owned();

    // Failover to an input that is not attached to the channel.
    let stray = ml
        .create_input()
        .r#type(InputType::RtmpPush)
        .input_security_groups(&sg)
        .destinations(InputDestinationRequest::builder().stream_name("live/stray").build())
        .send()
        .await
        .unwrap()
        .input
        .unwrap()
        .id
        .unwrap();
    let mut not_attached = settings.request.clone();
    not_attached["InputAttachments"].as_array_mut().unwrap().truncate(1);
    not_attached["InputAttachments"][0]["AutomaticInputFailoverSettings"] = json!({"SecondaryInputId": stray});
    let err = cloud.send_channel(&not_attached).await.unwrap_err();
    assert!(err.contains("UnprocessableEntityException"), "{err}");
    assert!(err.contains("not attached to this channel"), "{err}");

    // A threshold under the model's minimum (`__integerMin100`).
    let mut too_short = settings.request.clone();
    too_short["InputAttachments"][0]["AutomaticInputFailoverSettings"] = json!({
        "SecondaryInputId": inputs[1].0,
        "FailoverConditions": [{"FailoverConditionSettings": {"InputLossSettings": {"InputLossThresholdMsec": 50}}}],
    });
    let err = cloud.send_channel(&too_short).await.unwrap_err();
    assert!(err.contains("UnprocessableEntityException"), "{err}");

    // A STANDARD channel on single-pipeline inputs.
    let mut standard = settings.request.clone();
    standard["ChannelClass"] = json!("STANDARD");
    let err = cloud.send_channel(&standard).await.unwrap_err();
    assert!(err.contains("UnprocessableEntityException"), "{err}");

    // UpdateChannelClass: to STANDARD refused (single-pipeline inputs), refused while running.
    let channel = create(&cloud, settings, &sg, &playback).await;
    let err = ml
        .update_channel_class()
        .channel_id(&channel.channel_id)
        .channel_class(ChannelClass::Standard)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "UnprocessableEntityException", "{err:?}");
    ml.start_channel().channel_id(&channel.channel_id).send().await.unwrap();
    cloud.channel_state(&channel, ChannelState::Running).await;
    let err = ml
        .update_channel_class()
        .channel_id(&channel.channel_id)
        .channel_class(ChannelClass::SinglePipeline)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ConflictException", "{err:?}");
    stop_channel(&cloud, &channel).await;
    // While IDLE the class changes: UPDATING, then IDLE with the new class.
    let updated = ml
        .update_channel_class()
        .channel_id(&channel.channel_id)
        .channel_class(ChannelClass::SinglePipeline)
        .send()
        .await
        .unwrap()
        .channel
        .unwrap();
    assert_eq!(updated.state, Some(ChannelState::Updating));
    cloud.channel_state(&channel, ChannelState::Idle).await;
}
