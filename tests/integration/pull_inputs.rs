//! Every input type MediaLive offers is accepted and described back as sent; an MP4 file input
//! streams from S3 as users keep their files (`s3ssl://bucket/key`, uploaded with the AWS CLI;
//! livestream-local's ffmpeg reads it into the channel's ladder); a type that
//! cannot stream here runs with an alert saying so; AWS's default quotas hold unless raised.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::cloud::{LocalCloud, eventually, http_get};
use crate::support::tools::{Cli, ffprobe, raw};

/// The catalogue's valid channel (tests/fixtures/aws-refusals.json) on `input`, looping its file.
fn channel(name: &str, input: &str, package: &str) -> Value {
    let fixture = crate::support::files::read("tests/fixtures/aws-refusals.json")
        .replace("{input}", input)
        .replace("{packageChannel}", package);
    let fixture: Value = serde_json::from_str(&fixture).unwrap();
    let mut channel = fixture["bases"]["channel"].clone();
    channel["name"] = json!(name);
    channel["inputAttachments"][0]["inputSettings"]["sourceEndBehavior"] = json!("LOOP");
    channel
}

async fn create_input(cloud: &LocalCloud, body: Value) -> Value {
    let (status, kind, answer) = raw(cloud, "medialive", "POST", "/prod/inputs", Some(&body)).await;
    assert_eq!(status, 201, "{body}: {kind} {answer}");
    answer["input"].clone()
}

async fn start(cloud: &LocalCloud, id: &str) {
    let path = format!("/prod/channels/{id}");
    eventually("the channel to be IDLE", Duration::from_secs(20), || async {
        let (_, _, c) = raw(cloud, "medialive", "GET", &path, None).await;
        (c["state"] == "IDLE").then_some(())
    })
    .await;
    let (status, _, answer) = raw(cloud, "medialive", "POST", &format!("{path}/start"), Some(&json!({}))).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn every_input_type_is_described_as_sent_and_an_mp4_file_input_streams() {
    let cloud = LocalCloud::start(&[]).await;
    let file = cloud.data_dir.join("source.mp4");
    let made = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=30",
        ])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "4"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac"])
        .arg(&file)
        .status()
        .await
        .unwrap();
    assert!(made.success());

    let cli = Cli { cloud: &cloud };
    cli.ok(&["s3", "mb", "s3://event-sources"]).await;
    let upload = [
        "s3",
        "cp",
        file.to_str().unwrap(),
        "s3://event-sources/opening/source.mp4",
    ];
    cli.ok(&upload).await;

    // Pull inputs need no input security group (an RTMP_PULL input created so on AWS:
    // https://github.com/aws/aws-sdk-php/issues/2087).
    let url = "s3ssl://event-sources/opening/source.mp4";
    let sources = json!([{"url": url, "username": "", "passwordParam": ""}]);
    let mp4 = create_input(&cloud, json!({"name": "file", "type": "MP4_FILE", "sources": sources})).await;
    assert_eq!(mp4["type"], "MP4_FILE");
    assert_eq!(mp4["sources"], sources);
    assert_eq!(mp4["inputClass"], "SINGLE_PIPELINE");
    assert_eq!(mp4["inputSourceType"], "STATIC");
    let others = [
        json!({"name": "flows", "type": "MEDIACONNECT", "roleArn": "arn:aws:iam::123456789012:role/MediaLiveAccessRole",
               "mediaConnectFlows": [{"flowArn": "arn:aws:mediaconnect:us-east-1:123456789012:flow:1-a:a"},
                                     {"flowArn": "arn:aws:mediaconnect:us-east-1:123456789012:flow:1-b:b"}]}),
        json!({"name": "srt", "type": "SRT_CALLER", "srtSettings": {"srtCallerSources": [
               {"srtListenerAddress": "203.0.113.7", "srtListenerPort": "5000", "streamId": "s", "minimumLatency": 2000}]}}),
        json!({"name": "link", "type": "INPUT_DEVICE", "inputDevices": [{"id": "hd-0123456789abcdef01234567"}]}),
        json!({"name": "multicast", "type": "MULTICAST", "multicastSettings": {"sources": [{"url": "udp://239.0.0.1:5000", "sourceIp": "10.0.0.1"}]}}),
        json!({"name": "hls", "type": "URL_PULL", "sources": [{"url": "https://example.com/a/index.m3u8"}, {"url": "https://example.com/b/index.m3u8"}]}),
        json!({"name": "ts", "type": "TS_FILE", "sources": [{"url": "s3ssl://bucket/$urlPath$"}]}),
    ];
    let mut flows = String::new();
    for body in others {
        let input = create_input(&cloud, body.clone()).await;
        let (_, _, described) = raw(
            &cloud,
            "medialive",
            "GET",
            &format!("/prod/inputs/{}", input["id"].as_str().unwrap()),
            None,
        )
        .await;
        for (key, sent) in body.as_object().unwrap() {
            assert_eq!(&described[key], sent, "{key} of {body}");
        }
        if body["type"] == "MEDIACONNECT" {
            assert_eq!(described["inputClass"], "STANDARD", "two flows: one per pipeline");
            flows = input["id"].as_str().unwrap().to_owned();
        }
        if body["type"] == "TS_FILE" {
            assert_eq!(described["inputSourceType"], "DYNAMIC");
        }
    }
    // A push stream name without an application part is taken (a public deployment's notes:
    // "StreamName: stream-<id>" gave "rtmp://ip:1935/stream-<id>" on AWS).
    let group = json!({"whitelistRules": [{"cidr": "127.0.0.0/8"}]});
    let (_, _, group) = raw(&cloud, "medialive", "POST", "/prod/inputSecurityGroups", Some(&group)).await;
    let push = json!({"name": "bare", "type": "RTMP_PUSH", "inputSecurityGroups": [group["securityGroup"]["id"]],
                      "destinations": [{"streamName": "stream-0d6f"}]});
    let push = create_input(&cloud, push).await;
    assert!(
        push["destinations"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/stream-0d6f"),
        "{push}"
    );

    // A URL pull input without a URL: AWS's words (awslabs/live-streaming-with-automated-multi-language-subtitling#16).
    let (status, kind, answer) = raw(
        &cloud,
        "medialive",
        "POST",
        "/prod/inputs",
        Some(&json!({"type": "URL_PULL", "sources": [{"url": ""}]})),
    )
    .await;
    assert_eq!((status, kind.as_str()), (400, "BadRequestException"), "{answer}");
    assert_eq!(answer["message"], "Invalid URL () specified for inputSource");

    let (status, _, package) = raw(
        &cloud,
        "mediapackage",
        "POST",
        "/channels",
        Some(&json!({"id": "pulled"})),
    )
    .await;
    assert_eq!(status, 200, "{package}");
    let endpoint = json!({"id": "pulled-hls", "channelId": "pulled", "manifestName": "index",
                          "hlsPackage": {"segmentDurationSeconds": 2, "playlistWindowSeconds": 30}});
    let (status, _, endpoint) = raw(&cloud, "mediapackage", "POST", "/origin_endpoints", Some(&endpoint)).await;
    assert_eq!(status, 200, "{endpoint}");
    let (status, _, created) = raw(
        &cloud,
        "medialive",
        "POST",
        "/prod/channels",
        Some(&channel("pulled", mp4["id"].as_str().unwrap(), "pulled")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let pulled = created["channel"]["id"].as_str().unwrap().to_owned();
    start(&cloud, &pulled).await;
    // Longer than the 4 s file: the looping file keeps the playlist growing.
    let url = endpoint["url"].as_str().unwrap().to_owned();
    eventually(
        "the pulled file's ladder on the endpoint",
        Duration::from_secs(60),
        || {
            let url = url.clone();
            async move {
                let (status, master) = http_get(&url).await;
                let media = master
                    .lines()
                    .find(|l| !l.starts_with('#') && !l.is_empty())?
                    .to_owned();
                let (_, playlist) = http_get(&url.replace("index.m3u8", &media)).await;
                (status == 200 && playlist.matches("#EXTINF").count() >= 4).then_some(())
            }
        },
    )
    .await;
    let probe = ffprobe(&["-show_entries", "stream=codec_name,width,height", &url]).await;
    assert!(probe.to_string().contains("\"width\":1280"), "{probe}");

    // MediaConnect cannot stream here: the channel runs, and an alert says why.
    let (status, _, created) = raw(&cloud, "medialive", "POST", "/prod/channels",
        Some(&json!({"name": "flows", "inputAttachments": [{"inputId": flows}],
            "destinations": channel("x", "x", "pulled")["destinations"], "encoderSettings": channel("x", "x", "pulled")["encoderSettings"]}))).await;
    assert_eq!(status, 201, "{created}");
    let flowing = created["channel"]["id"].as_str().unwrap().to_owned();
    start(&cloud, &flowing).await;
    let alerts = format!("/prod/channels/{flowing}/alerts?stateFilter=SET");
    eventually("an alert naming the input type", Duration::from_secs(20), || async {
        let (_, _, listed) = raw(&cloud, "medialive", "GET", &alerts, None).await;
        listed
            .to_string()
            .contains("cannot receive MEDIACONNECT inputs")
            .then_some(())
    })
    .await;
    for id in [&pulled, &flowing] {
        raw(
            &cloud,
            "medialive",
            "POST",
            &format!("/prod/channels/{id}/stop"),
            Some(&json!({})),
        )
        .await;
    }
}

/// "Quotas in AWS Elemental MediaLive" (https://docs.aws.amazon.com/medialive/latest/ug/limits.html):
/// 5 input security groups by default; `--medialive-quotas` raises them.
#[tokio::test]
async fn quotas_hold_at_aws_defaults_unless_raised() {
    let group = json!({"whitelistRules": [{"cidr": "127.0.0.0/8"}]});
    let cloud = LocalCloud::start(&[]).await;
    for _ in 0..5 {
        let (status, _, answer) = raw(&cloud, "medialive", "POST", "/prod/inputSecurityGroups", Some(&group)).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, kind, answer) = raw(&cloud, "medialive", "POST", "/prod/inputSecurityGroups", Some(&group)).await;
    assert_eq!((status, kind.as_str()), (429, "TooManyRequestsException"), "{answer}");
    drop(cloud);
    let raised = LocalCloud::start(&["--medialive-quotas", "inputSecurityGroups=6"]).await;
    for _ in 0..6 {
        let (status, _, answer) = raw(&raised, "medialive", "POST", "/prod/inputSecurityGroups", Some(&group)).await;
        assert_eq!(status, 200, "{answer}");
    }
}
