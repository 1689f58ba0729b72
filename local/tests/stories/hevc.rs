//! A ladder that mixes codecs: an H.264 rendition beside an H.265 one (QVBR), streamed through a
//! MediaPackage (v1) HLS endpoint. ffprobe finds HEVC in the H.265 rendition's segments and the
//! master playlist tells players `hvc1.…`; the channel also carries caption selectors and
//! descriptions, a second audio selector and description, SCTE-35 avail settings, an input-loss
//! colour and an engine version, and describes back every member exactly as sent.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::cloud::{LocalCloud, ROLE, eventually, http_get, publish};
use crate::support::files;
use crate::support::tools::{Cli, ffprobe, probe_streams, raw};

/// The channel request, camelCase as on the wire.
fn channel(input: &str, version: &str) -> Value {
    let h264 = json!({"bitrate": 800000, "rateControlMode": "CBR", "profile": "MAIN", "framerateControl": "SPECIFIED",
        "framerateNumerator": 30, "framerateDenominator": 1, "gopSize": 2, "gopSizeUnits": "SECONDS"});
    let h265 = json!({"rateControlMode": "QVBR", "qvbrQualityLevel": 7, "maxBitrate": 600000, "profile": "MAIN",
        "tier": "MAIN", "level": "H265_LEVEL_AUTO", "framerateNumerator": 30, "framerateDenominator": 1,
        "gopSize": 2, "gopSizeUnits": "SECONDS", "sceneChangeDetect": "DISABLED"});
    let output = |name: &str, video: &str, audio: Value| {
        json!({"outputName": name, "videoDescriptionName": video, "audioDescriptionNames": audio,
            "captionDescriptionNames": ["captions_en"], "outputSettings": {"mediaPackageOutputSettings": {}}})
    };
    json!({
        "name": "hevc",
        "channelClass": "SINGLE_PIPELINE",
        "roleArn": ROLE,
        "channelEngineVersion": {"version": version},
        "inputSpecification": {"codec": "AVC", "maximumBitrate": "MAX_20_MBPS", "resolution": "HD"},
        "inputAttachments": [{"inputId": input, "inputAttachmentName": "hevc-input", "inputSettings": {
            "sourceEndBehavior": "CONTINUE",
            "audioSelectors": [
                {"name": "main"},
                {"name": "commentary", "selectorSettings": {"audioTrackSelection": {"tracks": [{"track": 2}]}}}
            ],
            "captionSelectors": [{"name": "cc", "languageCode": "eng", "selectorSettings": {"embeddedSourceSettings": {
                "convert608To708": "DISABLED", "scte20Detection": "OFF", "source608ChannelNumber": 1}}}]
        }}],
        "destinations": [{"id": "mp", "mediaPackageSettings": [{"channelId": "hevc-mp"}]}],
        "encoderSettings": {
            "timecodeConfig": {"source": "SYSTEMCLOCK"},
            "globalConfiguration": {"inputLossBehavior": {"blackFrameMsec": 1000, "repeatFrameMsec": 1000,
                "inputLossImageType": "COLOR", "inputLossImageColor": "1E90FF"}},
            "availConfiguration": {"availSettings": {"scte35SpliceInsert": {"adAvailOffset": 0,
                "noRegionalBlackoutFlag": "FOLLOW", "webDeliveryAllowedFlag": "FOLLOW"}}},
            "videoDescriptions": [
                {"name": "avc_360p", "width": 640, "height": 360, "codecSettings": {"h264Settings": h264}},
                {"name": "hevc_360p", "width": 640, "height": 360, "codecSettings": {"h265Settings": h265}}
            ],
            "audioDescriptions": [
                {"name": "audio_main", "audioSelectorName": "main",
                    "codecSettings": {"aacSettings": {"bitrate": 96000, "sampleRate": 48000, "codingMode": "CODING_MODE_2_0"}}},
                {"name": "audio_commentary", "audioSelectorName": "commentary", "languageCode": "eng",
                    "codecSettings": {"aacSettings": {"bitrate": 64000, "sampleRate": 48000}}}
            ],
            "captionDescriptions": [{"name": "captions_en", "captionSelectorName": "cc", "languageCode": "eng",
                "languageDescription": "English", "destinationSettings": {"embeddedDestinationSettings": {}}}],
            "outputGroups": [{"name": "mp",
                "outputGroupSettings": {"mediaPackageGroupSettings": {"destination": {"destinationRefId": "mp"}}},
                "outputs": [
                    output("avc", "avc_360p", json!(["audio_main"])),
                    output("hevc", "hevc_360p", json!(["audio_main", "audio_commentary"]))
                ]}]
        }
    })
}

/// Attribute `name` of an `#EXT-X-STREAM-INF` line.
fn attribute<'a>(line: &'a str, name: &str) -> &'a str {
    let rest = line.split_once(&format!("{name}=")).unwrap().1;
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap(),
        None => rest.split(',').next().unwrap(),
    }
}

#[tokio::test]
async fn an_h265_rendition_streams_hevc_beside_h264_and_every_member_is_described_back() {
    let cloud = LocalCloud::start(&[]).await;
    let aws = Cli { cloud: &cloud };
    let (_, input, ingest) = aws.rtmp_input("hevc").await;
    aws.ok(&["mediapackage", "create-channel", "--id", "hevc-mp"]).await;
    let endpoint = aws
        .ok(&[
            "mediapackage",
            "create-origin-endpoint",
            "--channel-id",
            "hevc-mp",
            "--id",
            "hevc-hls",
            "--hls-package",
            "SegmentDurationSeconds=2,PlaylistWindowSeconds=12",
        ])
        .await;
    let playback = endpoint["Url"].as_str().unwrap().to_owned();

    let (status, _, versions) = raw(&cloud, "medialive", "GET", "/prod/versions", None).await;
    assert_eq!(status, 200, "{versions}");
    let older = versions["versions"][0].clone();
    let sent = channel(&input, older["version"].as_str().unwrap());
    let (status, _, created) = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&sent)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["channel"]["id"].as_str().unwrap().to_owned();
    let describe = || async {
        let (status, _, described) = raw(&cloud, "medialive", "GET", &format!("/prod/channels/{id}"), None).await;
        assert_eq!(status, 200, "{described}");
        described
    };
    let described = describe().await;
    for member in [
        "encoderSettings",
        "inputAttachments",
        "destinations",
        "inputSpecification",
        "roleArn",
        "name",
    ] {
        assert_eq!(described[member], sent[member], "{member} described back as sent");
    }
    assert_eq!(
        described["channelEngineVersion"], older,
        "the version asked for, with its expiry"
    );

    aws.ok(&["medialive", "start-channel", "--channel-id", &id]).await;
    aws.ok(&["medialive", "wait", "channel-running", "--channel-id", &id])
        .await;
    let mut publisher = publish(&ingest, 40);
    let media_url = playback.replace("index.m3u8", "");
    let master = eventually("both renditions with segments", Duration::from_secs(60), || async {
        let (status, master) = http_get(&playback).await;
        let variants: Vec<&str> = master.lines().filter(|l| l.ends_with(".m3u8")).collect();
        if status != 200 || variants.len() != 2 {
            return None;
        }
        for variant in &variants {
            let (_, media) = http_get(&format!("{media_url}{variant}")).await;
            if media.matches("#EXTINF").count() < 2 {
                return None;
            }
        }
        Some(master)
    })
    .await;

    // The master playlist tells players each rendition's codec; ffprobe finds it in the segments.
    let lines: Vec<&str> = master.lines().collect();
    let mut codecs = Vec::new();
    for pair in lines.windows(2).filter(|p| p[0].starts_with("#EXT-X-STREAM-INF")) {
        let (_, media) = http_get(&format!("{media_url}{}", pair[1])).await;
        let segment = media.lines().rfind(|l| l.ends_with(".ts")).unwrap();
        let dir = pair[1].rsplit_once('/').unwrap().0;
        let probe = ffprobe(&[
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,codec_tag_string,width",
            &format!("{media_url}{dir}/{segment}"),
        ])
        .await;
        let stream = &probe["streams"][0];
        codecs.push((
            attribute(pair[0], "CODECS").to_owned(),
            stream["codec_name"].as_str().unwrap().to_owned(),
        ));
        assert_eq!(stream["width"], 640);
    }
    codecs.sort();
    let [(avc, h264), (hvc, hevc)] = &codecs[..] else {
        panic!("{codecs:?}")
    };
    assert!(avc.starts_with("avc1.") && h264 == "h264", "{master}");
    // 640x360 at 30 fps fits level 2.1, Main profile, main tier.
    assert_eq!(
        (hvc.as_str(), hevc.as_str()),
        ("hvc1.1.6.L63.90,mp4a.40.2", "hevc"),
        "{master}"
    );
    assert_eq!(
        probe_streams(&playback).await,
        ["aac nullxnull", "h264 640x360", "hevc 640x360"]
    );

    // Running: still every member as sent, and each pipeline's engine version.
    let described = describe().await;
    assert_eq!(described["state"], "RUNNING");
    assert_eq!(described["encoderSettings"], sent["encoderSettings"]);
    assert_eq!(described["inputAttachments"], sent["inputAttachments"]);
    assert_eq!(described["pipelineDetails"][0]["channelEngineVersion"], older);
    aws.ok(&["medialive", "stop-channel", "--channel-id", &id]).await;
    let _ = publisher.kill().await;
}

/// Public configurations that ran on AWS (terraform-provider-aws's acceptance tests: an H.265
/// MAIN_10BIT high-tier encode with tiles, HDR10 and timecode burn-in; teletext and embedded
/// caption selectors with DVB-Sub and teletext caption descriptions) are accepted, dry or not,
/// and described back exactly as sent.
#[tokio::test]
async fn public_configurations_that_ran_on_aws_are_accepted_and_described_back() {
    let cloud = LocalCloud::start(&[]).await;
    let fixture: Value = serde_json::from_str(&files::read("local/tests/fixtures/terraform-accepted.json")).unwrap();
    let (_, _, group) = raw(
        &cloud,
        "medialive",
        "POST",
        "/prod/inputSecurityGroups",
        Some(&json!({"whitelistRules": [{"cidr": "10.0.0.8/32"}]})),
    )
    .await;
    let group = group["securityGroup"]["id"].clone();
    for case in ["h265", "captions"] {
        let (status, _, input) = raw(&cloud, "medialive", "POST", "/prod/inputs", Some(&json!({"name": case,
            "type": "RTMP_PUSH", "inputSecurityGroups": [group], "destinations": [{"streamName": format!("live/{case}")}]}))).await;
        assert_eq!(status, 201, "{input}");
        let mut sent = json!({
            "name": case, "channelClass": "SINGLE_PIPELINE", "roleArn": ROLE,
            "inputSpecification": {"codec": "AVC", "maximumBitrate": "MAX_20_MBPS", "resolution": "HD"},
            "inputAttachments": [{"inputId": input["input"]["id"], "inputAttachmentName": "example-input1",
                "inputSettings": fixture[case]["inputSettings"]}],
            "destinations": [{"id": "archive", "settings": [{"url": "s3://tf-test-1/test1"}]}],
            "encoderSettings": fixture[case]["encoderSettings"]
        });
        sent["dryRun"] = json!(true);
        let (status, _, dry) = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&sent)).await;
        assert_eq!(status, 201, "{case} dry run: {dry}");
        assert_eq!(dry["channel"]["encoderSettings"], sent["encoderSettings"], "{case}");
        sent.as_object_mut().unwrap().remove("dryRun");
        let (status, _, created) = raw(&cloud, "medialive", "POST", "/prod/channels", Some(&sent)).await;
        assert_eq!(status, 201, "{case}: {created}");
        let id = created["channel"]["id"].as_str().unwrap();
        let (_, _, described) = raw(&cloud, "medialive", "GET", &format!("/prod/channels/{id}"), None).await;
        for member in ["encoderSettings", "inputAttachments", "destinations"] {
            assert_eq!(described[member], sent[member], "{case}: {member}");
        }
    }
}
